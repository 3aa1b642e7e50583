//! `#[derive(Loggable)]` with the file-holding leaves: File (a value stored whole and read back
//! whole), FileSeries, FileSet and Artifact (markers whose files go through their handles).

use neptune::{Artifact, Error, FieldType, File, FileSeries, FileSet, Loggable, Mode, Run};

#[derive(Loggable)]
struct Outputs {
    model: File,
    samples: FileSeries,
    sources: FileSet,
    dataset: Artifact,
}

#[derive(Loggable)]
struct Report {
    summary: File,
    note: String,
}

#[test]
fn file_leaves_bind_to_their_handles() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("a.csv"), "x,y\n1,2\n").unwrap();
    let run = Run::builder()
        .home(dir.path().join("store"))
        .open()
        .unwrap();
    let out = run.bind::<Outputs>("outputs").unwrap();

    out.model
        .upload(File::from_content(b"weights".to_vec()))
        .unwrap();
    out.samples.append(File::from_content("first")).unwrap();
    out.samples.append(File::from_content("second")).unwrap();
    out.sources
        .upload_files(data.join("*.csv").to_str().unwrap())
        .unwrap();
    out.dataset
        .track_files(data.to_str().unwrap(), None)
        .unwrap();
    run.wait().unwrap();

    let st = run.get_structure();
    for (path, t) in [
        ("outputs/model", FieldType::File),
        ("outputs/samples", FieldType::FileSeries),
        ("outputs/sources", FieldType::FileSet),
        ("outputs/dataset", FieldType::Artifact),
    ] {
        assert_eq!(st.get(path), Some(&neptune::Structure::Field(t)), "{path}");
    }
    assert_eq!(out.model.fetch_extension().unwrap(), "bin");
    assert_eq!(out.dataset.fetch_files_list().unwrap().len(), 1);
    assert_eq!(out.sources.list_fileset_files(None).unwrap().len(), 1);

    // The markers read back as markers; the File reads back with its content.
    let back: Outputs = run.field("outputs").fetch_as().unwrap();
    assert_eq!(back.model.read_all().unwrap(), b"weights");
    assert_eq!(back.model.extension(), "bin");

    // Binding the same namespace with other types reports every mismatch at once.
    #[derive(Loggable)]
    struct Wrong {
        model: f64,
        samples: File,
    }
    let e = run.bind::<Wrong>("outputs").err().expect("mismatch");
    let msg = e.to_string();
    assert!(matches!(e, Error::LoggableMismatch { .. }), "{msg}");
    assert!(
        msg.contains("outputs/model") && msg.contains("outputs/samples"),
        "{msg}"
    );
}

#[test]
fn a_file_value_is_assigned_and_read_back_whole() {
    let run = Run::builder().mode(Mode::Debug).open().unwrap();
    let report = Report {
        summary: File::from_content("all good").with_extension("md"),
        note: "v1".into(),
    };
    run.field("report").assign_value(&report).unwrap();
    let back: Report = run.field("report").fetch_as().unwrap();
    assert_eq!(back.note, "v1");
    assert_eq!(back.summary.read_all().unwrap(), b"all good");
    assert_eq!(back.summary.extension(), "md");

    // A missing file is named in the error, nothing is written.
    let bad = Report {
        summary: File::new("/no/such/file.txt"),
        note: "v2".into(),
    };
    let e = run.field("report2").assign_value(&bad).unwrap_err();
    assert!(e.to_string().contains("/no/such/file.txt"), "{e}");
    assert!(!run.exists("report2/note"));
}
