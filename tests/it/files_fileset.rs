//! FileSet: upload_files with globs (`**`, several globs, folders keeping their tree, the common
//! root rule), assign resetting the set, delete_files, download as a zip (its contents read
//! back byte for byte), list_fileset_files one level at a time, and the bad inputs.

use crate::common::{open_run, write_file};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use neptune::{Error, FileEntry, FileType};

/// The tree of the reference's example: data/sample.csv, data/datasets/dataset_v{2,3}.csv.
fn tree(root: &Path) -> PathBuf {
    let data = root.join("data");
    write_file(&data.join("sample.csv"), b"sample\n");
    write_file(&data.join("datasets/dataset_v2.csv"), b"v2,v2\n");
    write_file(&data.join("datasets/dataset_v3.csv"), b"v3,v3,v3\n");
    write_file(&data.join("datasets/deeper/notes.txt"), b"notes");
    data
}

fn zip_contents(p: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(p).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        let name = f.name().unwrap().to_string();
        out.insert(name, bytes);
    }
    out
}

fn names(entries: &[FileEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.name.as_str()).collect()
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

#[test]
fn upload_list_delete_and_zip() {
    let dir = tempfile::tempdir().unwrap();
    let data = tree(dir.path());
    let run = open_run(&dir.path().join("home"), "team/files");
    let set = run.field("data").file_set().unwrap();

    // A folder outside the working directory: paths relative to the folder itself.
    set.upload_files(s(&data)).unwrap();
    let top = set.list_fileset_files(None).unwrap();
    assert_eq!(names(&top), ["datasets", "sample.csv"]);
    assert_eq!(top[0].file_type, FileType::Directory);
    assert_eq!(top[0].size, None);
    assert_eq!(top[1].file_type, FileType::File);
    assert_eq!(top[1].size, Some(7));
    let meta = std::fs::metadata(data.join("sample.csv")).unwrap();
    let mtime: chrono::DateTime<chrono::Utc> = meta.modified().unwrap().into();
    assert_eq!(top[1].mtime.timestamp_millis(), mtime.timestamp_millis());
    let sub = set.list_fileset_files(Some("datasets")).unwrap();
    assert_eq!(names(&sub), ["dataset_v2.csv", "dataset_v3.csv", "deeper"]);
    assert_eq!(sub[1].size, Some(9));
    assert_eq!(sub[2].file_type, FileType::Directory);
    assert_eq!(
        names(&set.list_fileset_files(Some("./datasets/deeper/")).unwrap()),
        ["notes.txt"]
    );
    // A file path lists that file.
    let one = set
        .list_fileset_files(Some("datasets/dataset_v2.csv"))
        .unwrap();
    assert_eq!((one.len(), one[0].size), (1, Some(6)));
    assert_eq!(FileType::Directory.as_str(), "directory");

    // The zip holds every file at its path, byte for byte.
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let zip_path = set.download_to(&out).unwrap();
    assert_eq!(zip_path, out.join("data.zip"));
    let z = zip_contents(&zip_path);
    assert_eq!(
        z.keys().collect::<Vec<_>>(),
        [
            "datasets/dataset_v2.csv",
            "datasets/dataset_v3.csv",
            "datasets/deeper/notes.txt",
            "sample.csv"
        ]
    );
    assert_eq!(z["datasets/deeper/notes.txt"], b"notes");
    assert_eq!(z["sample.csv"], b"sample\n");

    // Deleting a folder deletes its contents; a file deletes itself.
    set.delete_files("datasets/deeper").unwrap();
    set.delete_files(vec!["sample.csv"]).unwrap();
    let z = zip_contents(&set.download_to(out.join("after.zip")).unwrap());
    assert_eq!(
        z.keys().collect::<Vec<_>>(),
        ["datasets/dataset_v2.csv", "datasets/dataset_v3.csv"]
    );

    // upload_files adds; assign resets.
    let extra = dir.path().join("extra/model.pt");
    write_file(&extra, b"weights");
    set.upload_files(s(&extra)).unwrap();
    assert_eq!(
        names(&set.list_fileset_files(None).unwrap()),
        ["datasets", "model.pt"]
    );
    set.assign(s(&extra)).unwrap();
    assert_eq!(names(&set.list_fileset_files(None).unwrap()), ["model.pt"]);
    // "." deletes everything.
    set.delete_files(".").unwrap();
    assert!(set.list_fileset_files(None).unwrap().is_empty());
    run.stop().unwrap();
}

#[test]
fn globs_recursive_and_several() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("proj");
    write_file(&root.join("a.py"), b"a");
    write_file(&root.join("b.py"), b"b");
    write_file(&root.join(".hidden.py"), b"h");
    write_file(&root.join("readme.md"), b"r");
    write_file(&root.join("pkg/c.py"), b"c");
    write_file(&root.join("pkg/sub/d.py"), b"d");
    write_file(&root.join("pkg/sub/e.txt"), b"e");
    let run = open_run(&dir.path().join("home"), "team/files");

    run.field("top")
        .upload_files(format!("{}/*.py", s(&root)))
        .unwrap();
    let top = run.field("top").list_fileset_files(None).unwrap();
    assert_eq!(
        names(&top),
        ["a.py", "b.py"],
        "* matches no hidden file and stays in its folder"
    );

    run.field("all")
        .upload_files(format!("{}/**/*.py", s(&root)))
        .unwrap();
    let z = zip_contents(
        &run.field("all")
            .file_set()
            .unwrap()
            .download_to(dir.path().join("all.zip"))
            .unwrap(),
    );
    assert_eq!(
        z.keys().collect::<Vec<_>>(),
        ["a.py", "b.py", "pkg/c.py", "pkg/sub/d.py"]
    );

    // Several globs: paths relative to their common root.
    run.field("mixed")
        .upload_files([
            format!("{}/pkg/sub/*.txt", s(&root)),
            format!("{}/readme.md", s(&root)),
        ])
        .unwrap();
    let z = zip_contents(
        &run.field("mixed")
            .file_set()
            .unwrap()
            .download_to(dir.path().join("m.zip"))
            .unwrap(),
    );
    assert_eq!(z.keys().collect::<Vec<_>>(), ["pkg/sub/e.txt", "readme.md"]);
    assert_eq!(z["readme.md"], b"r");
    run.stop().unwrap();
}

#[test]
fn thousands_of_small_files_in_one_set() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("many");
    for i in 0..2000 {
        write_file(
            &src.join(format!("d{}/f{i:05}.txt", i % 10)),
            format!("file {i}").as_bytes(),
        );
    }
    let run = open_run(&dir.path().join("home"), "team/files");
    run.field("many").upload_files(s(&src)).unwrap();
    let top = run.field("many").list_fileset_files(None).unwrap();
    assert_eq!(top.len(), 10);
    let d3 = run.field("many").list_fileset_files(Some("d3")).unwrap();
    assert_eq!(d3.len(), 200);
    assert_eq!(d3[0].name, "f00003.txt");
    run.stop().unwrap();
}

#[test]
fn bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = tree(dir.path());
    let run = open_run(&dir.path().join("home"), "team/files");
    let set = run.field("set").file_set().unwrap();

    let err = set
        .upload_files(format!("{}/*.nothing", s(&data)))
        .unwrap_err();
    assert!(
        err.to_string().contains("*.nothing") && err.to_string().contains("matches no"),
        "{err}"
    );
    // One glob matching nothing fails the whole call: nothing uploaded.
    let err = set
        .upload_files([
            format!("{}/*.csv", s(&data)),
            format!("{}/missing", s(&data)),
        ])
        .unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(set.upload_files(s(&empty)).is_err());
    assert!(set.upload_files("[").is_err(), "an invalid glob");
    run.wait().unwrap();
    assert!(!run.exists("set"));

    set.upload_files(s(&data)).unwrap();
    for bad in ["../etc", "/etc/passwd", "a/../../b", ""] {
        let err = set.delete_files(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidValue { .. }), "{bad}: {err}");
        assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        assert!(set.list_fileset_files(Some(bad)).is_err(), "{bad}");
    }
    let err = set.list_fileset_files(Some("nope")).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    assert_eq!(
        set.list_fileset_files(None).unwrap().len(),
        2,
        "nothing was deleted"
    );

    // Wrong types.
    run.field("f")
        .upload(neptune::File::from_content("x"))
        .unwrap();
    assert!(matches!(
        run.field("f").upload_files(s(&data)),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        run.field("missing").list_fileset_files(None),
        Err(Error::MissingField { .. })
    ));
    run.stop().unwrap();
}
