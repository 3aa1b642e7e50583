//! FileSeries: append and extend with step, timestamp, name and description; download of every
//! file with stable ordered names; download_last; any file accepted; bad steps refused at the
//! call with nothing written.

use crate::common::open_run;

use chrono::TimeZone;
use neptune::{Error, ExtendOptions, File, FileExtendOptions, FileLogOptions, LogOptions};

fn png(v: u8) -> File {
    File::as_image_array(&[v; 12], &[2, 2, 3], false).unwrap()
}

#[test]
fn append_extend_and_download() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(&dir.path().join("home"), "team/files");
    let preds = run.field("train/predictions").file_series().unwrap();
    preds.append(png(10)).unwrap();
    preds
        .append_with(
            png(20),
            FileLogOptions::new()
                .step(5)
                .timestamp(1_700_000_000.5)
                .name("cat")
                .description("class 0: 0.9"),
        )
        .unwrap();
    // A non-image is accepted as a file.
    let csv = dir.path().join("preds.csv");
    std::fs::write(&csv, "id,p\n1,0.5\n").unwrap();
    preds.append(&csv).unwrap();
    preds
        .extend_with(
            [png(30), png(40)],
            FileExtendOptions::new()
                .steps([10, 11])
                .timestamps([1_700_000_100.0, 1_700_000_101.0])
                .names(["dog", "bird"])
                .descriptions(["d1", "d2"]),
        )
        .unwrap();
    preds.extend([File::from_content("plain")]).unwrap();

    let entries = preds.fetch_entries().unwrap();
    let steps: Vec<f64> = entries.iter().filter_map(|e| e.step).collect();
    assert_eq!(steps, [0.0, 5.0, 6.0, 10.0, 11.0, 12.0]);
    assert_eq!(entries[1].name.as_deref(), Some("cat"));
    assert_eq!(entries[1].description.as_deref(), Some("class 0: 0.9"));
    assert_eq!(entries[1].timestamp_ms, 1_700_000_000_500);
    assert_eq!(entries[2].file.extension, "csv");
    assert_eq!(entries[4].name.as_deref(), Some("bird"));
    assert_eq!(entries[4].timestamp_ms, 1_700_000_101_000);
    assert_eq!(entries[5].file.extension, "txt");
    // Timestamps default to the time of the call.
    let now = chrono::Utc::now().timestamp_millis();
    assert!((now - entries[0].timestamp_ms).abs() < 60_000);

    let out = dir.path().join("out");
    let files = preds.download_to(&out).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "000000.png",
            "000001.png",
            "000002.csv",
            "000003.png",
            "000004.png",
            "000005.txt"
        ]
    );
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(sorted, names, "names sort in step order");
    assert_eq!(
        std::fs::read(&files[2]).unwrap(),
        std::fs::read(&csv).unwrap()
    );
    assert_eq!(
        std::fs::read(&files[3]).unwrap(),
        png(30).read_all().unwrap()
    );

    // download_last: single-file rules.
    let last = preds.download_last_to(&out).unwrap();
    assert_eq!(last, out.join("predictions.txt"));
    assert_eq!(std::fs::read(&last).unwrap(), b"plain");
    let exact = run
        .field("train/predictions")
        .download_last_with(neptune::DownloadOptions::new().destination(out.join("last.bin")))
        .unwrap();
    assert_eq!(std::fs::read(exact).unwrap(), b"plain");

    // Downloading again after more appends keeps the earlier names.
    preds.append(png(50)).unwrap();
    let again = preds.download_to(&out).unwrap();
    assert_eq!(again[..6], files[..]);
    assert!(again[6].ends_with("000006.png"));

    // clear empties the series; steps may start again.
    preds.clear().unwrap();
    preds
        .append_with(png(1), FileLogOptions::new().step(0))
        .unwrap();
    assert_eq!(preds.fetch_entries().unwrap().len(), 1);
    run.stop().unwrap();
}

#[test]
fn untyped_append_of_files() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(&dir.path().join("home"), "team/files");
    run.field("samples").append(png(1)).unwrap();
    run.field("samples")
        .append_with(png(2), LogOptions::new().step(7).timestamp(1.0))
        .unwrap();
    run.field("samples")
        .extend_with([png(3), png(4)], ExtendOptions::new().steps([8, 9]))
        .unwrap();
    // A map appends each file to its own series.
    run.field("by_class")
        .append([("cat", png(5)), ("dog", png(6))])
        .unwrap();
    let entries = run
        .field("samples")
        .file_series()
        .unwrap()
        .fetch_entries()
        .unwrap();
    assert_eq!(
        entries.iter().filter_map(|e| e.step).collect::<Vec<_>>(),
        [0.0, 7.0, 8.0, 9.0]
    );
    assert_eq!(entries[1].timestamp_ms, 1000);
    assert_eq!(
        run.field("by_class/dog")
            .file_series()
            .unwrap()
            .fetch_entries()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        run.field("samples").field_type(),
        Some(neptune::FieldType::FileSeries)
    );
    let out = dir.path().join("o");
    let all = run.field("samples").download_to(&out).unwrap();
    assert_eq!(all.len(), 4);
    let last = run
        .field("samples")
        .download_last_with(neptune::DownloadOptions::new().destination(&out))
        .unwrap();
    assert_eq!(last, out.join("samples.png"));
    run.stop().unwrap();
    let when = chrono::Utc
        .timestamp_millis_opt(entries[0].timestamp_ms)
        .unwrap();
    assert!(when.timestamp() > 1_600_000_000);
}

#[test]
fn bad_steps_and_inputs_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(&dir.path().join("home"), "team/files");
    let s = run.field("s").file_series().unwrap();
    s.append_with(png(1), FileLogOptions::new().step(3))
        .unwrap();
    let err = s
        .append_with(png(2), FileLogOptions::new().step(3))
        .unwrap_err();
    assert!(matches!(err, Error::NonIncreasingStep { .. }), "{err}");
    let err = s
        .append_with(png(2), FileLogOptions::new().step(f64::NAN))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidStep { .. }), "{err}");
    let err = s
        .extend_with([png(1), png(2)], FileExtendOptions::new().steps([4, 4]))
        .unwrap_err();
    assert!(matches!(err, Error::NonIncreasingStep { .. }), "{err}");
    let err = s
        .extend_with([png(1), png(2)], FileExtendOptions::new().names(["one"]))
        .unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { .. }), "{err}");
    // A missing file in an extend: nothing of the extend is appended.
    let err = s
        .extend([
            File::from_content("ok"),
            File::new(dir.path().join("missing.png")),
        ])
        .unwrap_err();
    assert!(err.to_string().contains("missing.png"), "{err}");
    let err = s
        .append_with(png(1), FileLogOptions::new().timestamp(f64::INFINITY))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidValue { .. }), "{err}");
    assert_eq!(s.fetch_entries().unwrap().len(), 1);
    // The next default step follows the last stored one.
    s.append(png(9)).unwrap();
    assert_eq!(s.fetch_entries().unwrap()[1].step, Some(4.0));

    // A FileSeries is not a File, and a Float is not a FileSeries.
    assert!(matches!(
        run.field("s").upload(File::from_content("x")),
        Err(Error::TypeMismatch { .. })
    ));
    run.field("lr").assign(0.1).unwrap();
    assert!(matches!(
        run.field("lr").append(png(1)),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        run.field("lr").download_last(),
        Err(Error::NoSuchMethod { .. })
    ));
    let empty = run.field("empty").file_series().unwrap();
    assert!(matches!(
        empty.download_last(),
        Err(Error::MissingField { .. })
    ));
    run.stop().unwrap();
}
