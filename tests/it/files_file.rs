//! File fields: upload (paths and File values), assign, download with the reference's naming
//! rules, fetch_extension, the File constructors and conversions, content captured at the call,
//! content stored once, and every bad input named in the issue.

use crate::common::{open_run, write_file};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use neptune::{
    DownloadOptions, Error, File, GitRef, LineChart, Mode, ProgressBar, Run, UploadOptions,
};

/// Every regular file below `dir`, excluding the area's temporary directory.
fn area_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().unwrap() != "tmp" {
                out.extend(area_files(&p));
            }
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn upload_download_and_naming_rules() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let run = open_run(&home, "team/files");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let src = write_file(&dir.path().join("src/model.pt"), &content);

    run.field("model/last").upload(&src).unwrap();
    let model = run.field("model/last").file().unwrap();
    assert_eq!(model.fetch_extension().unwrap(), "pt");
    assert_eq!(model.fetch_size().unwrap(), content.len() as u64);
    assert_eq!(run.field("model/last").fetch_extension().unwrap(), "pt");

    // An existing directory: <field name>.<extension> inside it.
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let p = model.download_to(&out).unwrap();
    assert_eq!(p, out.join("last.pt"));
    assert_eq!(std::fs::read(&p).unwrap(), content);
    // Any other path: exactly that file (parents created).
    let exact = out.join("deep/dir/weights.bin");
    assert_eq!(model.download_to(&exact).unwrap(), exact);
    assert_eq!(std::fs::read(&exact).unwrap(), content);
    // Through the untyped handler too, with a callback progress bar.
    let seen = Arc::new(AtomicU64::new(0));
    let s = seen.clone();
    let opts = DownloadOptions::new()
        .destination(out.join("cb.pt"))
        .progress_bar(ProgressBar::Callback(Arc::new(move |done, total| {
            assert!(done <= total);
            s.store(done, Ordering::SeqCst);
        })));
    let written = run.field("model/last").download_with(opts).unwrap();
    assert_eq!(written, vec![out.join("cb.pt")]);
    assert_eq!(seen.load(Ordering::SeqCst), content.len() as u64);
    // No temporary file is left beside downloads.
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("neptune-part")),
        "{names:?}"
    );

    // What was logged is what the file held at the call.
    std::fs::write(&src, b"changed later").unwrap();
    assert_eq!(model.fetch_bytes().unwrap(), content);
    std::fs::remove_file(&src).unwrap();
    assert_eq!(model.fetch_bytes().unwrap(), content);

    // assign replaces the file, with another extension.
    model.assign(File::from_content("now text")).unwrap();
    assert_eq!(model.fetch_extension().unwrap(), "txt");
    assert_eq!(model.fetch_bytes().unwrap(), b"now text");
    run.stop().unwrap();

    // Read back by another (read-only) open of the store.
    let id = run.id().to_owned();
    let again = Run::builder()
        .home(&home)
        .with_id(&id)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let p = again
        .field("model/last")
        .file()
        .unwrap()
        .download_to(&out)
        .unwrap();
    assert_eq!(p, out.join("last.txt"));
    assert_eq!(std::fs::read(p).unwrap(), b"now text");
}

#[test]
fn constructors_and_conversions() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(&dir.path().join("home"), "team/files");
    let src = write_file(&dir.path().join("data/test/sample"), b"a,b\n1,2\n");

    run.field("text")
        .upload(File::from_content("hello"))
        .unwrap();
    run.field("bytes")
        .upload(File::from_content(vec![0u8, 159, 146, 150]))
        .unwrap();
    run.field("html")
        .upload(File::from_content("<b>x</b>").with_extension("html"))
        .unwrap();
    run.field("sample")
        .upload(File::from_path(&src, Some("csv")))
        .unwrap();
    let stream = File::from_stream(Cursor::new(b"skip:streamed".to_vec()), 5, Some("log")).unwrap();
    run.field("stream").upload(stream).unwrap();
    let piped = File::from_reader(&b"from a pipe"[..], None).unwrap();
    run.field("piped").upload(piped).unwrap();

    let check = |field: &str, ext: &str, bytes: &[u8]| {
        let h = run.field(field).file().unwrap();
        assert_eq!(h.fetch_extension().unwrap(), ext, "{field}");
        assert_eq!(h.fetch_bytes().unwrap(), bytes, "{field}");
    };
    check("text", "txt", b"hello");
    check("bytes", "bin", &[0, 159, 146, 150]);
    check("html", "html", b"<b>x</b>");
    check("sample", "csv", b"a,b\n1,2\n");
    check("stream", "log", b"streamed");
    check("piped", "bin", b"from a pipe");

    // as_image: an image crate buffer and a raw array, as PNG read back by the image crate.
    let img = image::RgbImage::from_fn(5, 4, |x, y| image::Rgb([x as u8 * 50, y as u8 * 60, 7]));
    run.field("img/buffer")
        .upload(File::as_image(img.clone()).unwrap())
        .unwrap();
    let back = image::load_from_memory(
        &run.field("img/buffer")
            .file()
            .unwrap()
            .fetch_bytes()
            .unwrap(),
    )
    .unwrap()
    .to_rgb8();
    assert_eq!(back, img);
    let pixels: Vec<f32> = vec![0.0, 0.5, 1.0, 0.25, 0.75, 1.0];
    run.field("img/array")
        .upload(File::as_image_array(&pixels, &[2, 3], true).unwrap())
        .unwrap();
    let h = run.field("img/array").file().unwrap();
    assert_eq!(h.fetch_extension().unwrap(), "png");
    let gray = image::load_from_memory(&h.fetch_bytes().unwrap())
        .unwrap()
        .to_luma8();
    assert_eq!((gray.width(), gray.height()), (3, 2));
    assert_eq!(gray.into_raw(), vec![0, 128, 255, 64, 191, 255]);

    // as_html: a fetched series as a table, and a chart.
    run.field("loss").extend([1.0, 0.5, 0.25]).unwrap();
    let values = run
        .field("loss")
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    run.field("report/table")
        .upload(File::as_html(&values))
        .unwrap();
    run.field("report/chart")
        .upload(File::as_html(
            &LineChart::new("loss").series("train", &values),
        ))
        .unwrap();
    let table = String::from_utf8(
        run.field("report/table")
            .file()
            .unwrap()
            .fetch_bytes()
            .unwrap(),
    )
    .unwrap();
    assert!(
        table.contains("<th>step</th>") && table.contains("<td>0.25</td>"),
        "{table}"
    );
    let chart = String::from_utf8(
        run.field("report/chart")
            .file()
            .unwrap()
            .fetch_bytes()
            .unwrap(),
    )
    .unwrap();
    assert!(
        chart.contains("<svg") && chart.contains("<polyline"),
        "{chart}"
    );
    assert_eq!(run.field("report/chart").fetch_extension().unwrap(), "html");

    // as_serialized: any serde value, read back into its type.
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Checkpoint {
        epoch: u32,
        weights: Vec<f64>,
        name: String,
    }
    let ckpt = Checkpoint {
        epoch: 3,
        weights: vec![0.5, -2.0],
        name: "mlp".into(),
    };
    run.field("ckpt")
        .upload(File::as_serialized(&ckpt).unwrap())
        .unwrap();
    let back: Checkpoint = run
        .field("ckpt")
        .file()
        .unwrap()
        .fetch_serialized()
        .unwrap();
    assert_eq!(back, ckpt);
    let wrong: Result<Vec<String>, _> = run.field("ckpt").file().unwrap().fetch_serialized();
    assert!(matches!(wrong, Err(Error::Serialization { .. })));
    run.stop().unwrap();
}

#[test]
fn content_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let data = vec![42u8; 100_000];
    let src = write_file(&dir.path().join("a.bin"), &data);
    let run1 = open_run(&home, "team/files");
    let run2 = open_run(&home, "team/files");
    run1.field("a").upload(&src).unwrap();
    run1.field("b")
        .upload(File::from_content(data.clone()))
        .unwrap();
    run2.field("c").upload(&src).unwrap();
    run2.field("s").file_series().unwrap().append(&src).unwrap();
    run1.stop().unwrap();
    run2.stop().unwrap();
    let files = area_files(&home.join("files"));
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::read(&files[0]).unwrap(), data);
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(&dir.path().join("home"), "team/files");
    let missing = dir.path().join("nowhere/model.pt");
    let err = run.field("m").upload(&missing).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("nowhere/model.pt"), "{err}");
    assert!(err.to_string().contains("\"m\""), "{err}");

    let folder = dir.path().join("folder");
    std::fs::create_dir_all(&folder).unwrap();
    let err = run.field("m").upload(&folder).unwrap_err().to_string();
    assert!(err.contains("upload_files"), "{err}");
    assert!(err.contains("folder"), "{err}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = write_file(&dir.path().join("locked.txt"), b"secret");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        // root reads anything: only check when the file is really unreadable.
        if std::fs::read(&locked).is_err() {
            let err = run.field("m").upload(&locked).unwrap_err().to_string();
            assert!(err.contains("locked.txt"), "{err}");
        }
    }

    let err = run
        .field("m")
        .upload(File::from_content("x").with_extension("bad ext/"))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidValue { .. }), "{err}");
    run.wait().unwrap();
    assert!(!run.exists("m"), "nothing was written");

    // A field name that is no file name (`..`) is refused before anything is written.
    assert!(matches!(
        run.field("odd/..").upload(File::from_content("x")),
        Err(Error::InvalidPath { .. })
    ));
    run.wait().unwrap();
    assert!(!run.exists("odd"), "nothing was written");

    // Type conflicts and missing fields.
    run.field("lr").assign(0.1).unwrap();
    assert!(matches!(
        run.field("lr").upload(File::from_content("x")),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        run.field("lr").fetch_extension(),
        Err(Error::NoSuchMethod { .. })
    ));
    assert!(matches!(
        run.field("lr").download(),
        Err(Error::NoSuchMethod { .. })
    ));
    assert!(matches!(
        run.field("none").download(),
        Err(Error::MissingField { .. })
    ));
    assert!(matches!(
        run.field("none").file().unwrap().fetch_extension(),
        Err(Error::MissingField { .. })
    ));
    run.stop().unwrap();
    // After stop, uploads are refused.
    assert!(matches!(
        run.field("late").upload(File::from_content("x")),
        Err(Error::Stopped { .. })
    ));
}

#[test]
fn uploads_report_progress_to_a_callback() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(&dir.path().join("home"), "team/files");
    let data = vec![1u8; 3 << 20];
    let src = write_file(&dir.path().join("big.bin"), &data);
    let calls = Arc::new(AtomicU64::new(0));
    let last = Arc::new(AtomicU64::new(0));
    let (c, l) = (calls.clone(), last.clone());
    let opts = UploadOptions::new()
        .wait(true)
        .progress_bar(ProgressBar::Callback(Arc::new(move |done, total| {
            assert_eq!(total, 3 << 20);
            c.fetch_add(1, Ordering::SeqCst);
            l.store(done, Ordering::SeqCst);
        })));
    run.field("big")
        .file()
        .unwrap()
        .upload_with(&src, opts)
        .unwrap();
    assert!(calls.load(Ordering::SeqCst) >= 3);
    assert_eq!(last.load(Ordering::SeqCst), 3 << 20);
    assert_eq!(
        run.field("big")
            .file()
            .unwrap()
            .fetch_bytes()
            .unwrap()
            .len(),
        3 << 20
    );
    // ProgressBar::Off is accepted too.
    run.field("quiet")
        .file()
        .unwrap()
        .upload_with(&src, UploadOptions::new().progress_bar(false))
        .unwrap();
    run.stop().unwrap();
}

#[test]
fn debug_mode_keeps_files_in_memory() {
    let run = Run::builder()
        .mode(Mode::Debug)
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    run.field("f")
        .upload(File::from_content("in memory"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = run
        .field("f")
        .file()
        .unwrap()
        .download_to(dir.path())
        .unwrap();
    assert_eq!(std::fs::read_to_string(p).unwrap(), "in memory");
}
