//! `neptune import parquet` on Parquet files that pyarrow writes in the official exporter's
//! layout and schema (`tests/fixtures/make_export.py`), read back through the library and the
//! `neptune` command; a second import, and an import killed with SIGKILL and run again.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{TimeZone, Utc};
use neptune_core::{FieldPath, GitRef, Run, Value};
use serde_json::Value as J;

use crate::common::{neptune, ok};

/// Writes an export with `make_export.py` into `dir`; `false` (the test is skipped) when
/// Python or pyarrow is missing outside CI (scripts/test installs pyarrow).
fn make_export(dir: &Path, args: &[&str]) -> bool {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make_export.py");
    let has_pyarrow = Command::new("python3")
        .args(["-c", "import pyarrow"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_pyarrow {
        assert!(
            std::env::var_os("CI").is_none(),
            "pyarrow is missing in CI: run the tests through scripts/test, which installs it"
        );
        eprintln!(
            "skipping the import test: python3 with pyarrow is missing (scripts/test installs it)"
        );
        return false;
    }
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make_export.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

fn import_json(home: &Path, data: &Path) -> J {
    let out = ok(
        home,
        &["import", "parquet", data.to_str().unwrap(), "--json"],
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The run the import made for an exported run (joined by its custom run id; writes nothing).
pub(crate) fn joined(home: &Path, project: &str, run_id: &str) -> Run {
    Run::builder()
        .home(home)
        .project(project)
        .custom_run_id(run_id)
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap()
}

pub(crate) fn skipped_reasons(report: &J) -> Vec<String> {
    report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap().to_owned())
        .collect()
}

/// Every single-value field of the run, except the times and state the store keeps.
pub(crate) fn values(home: &Path, run: &Run) -> Vec<(String, Value)> {
    run.wait().unwrap();
    let store = neptune_core::store::Store::open(home).unwrap();
    let backend: &dyn neptune_core::Reader = &store;
    backend
        .fetch_values_below(run.id(), None)
        .unwrap()
        .into_iter()
        .map(|(p, v)| (p.to_string(), v))
        .filter(|(p, _)| p != "sys/modification_time" && p != "sys/state")
        .collect()
}

#[test]
fn every_type_imports_exactly_and_a_second_import_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    if !make_export(&dir.path().join("export"), &[]) {
        return;
    }
    let data = dir.path().join("export/data");
    let home = dir.path().join("home");
    let report = import_json(&home, &data);
    assert_eq!(report["runs_created"], 2, "{report:#}");
    assert_eq!(
        report["points"], 19,
        "6 + 3 points of RUN-1, 10 of RUN-2: {report:#}"
    );
    assert_eq!(
        report["uploads"], 5,
        "a File, 3 FileSeries entries, a FileSet: {report:#}"
    );
    assert_eq!(report["fields"], 13, "{report:#}");
    let reasons = skipped_reasons(&report);
    for expected in [
        "histogram_series: no Histogram field type here yet",
        "artifact: the export holds only its file list, not the tracked files",
        "run_state: the exporter writes no value for it",
        "unknown attribute type \"mystery_type\"",
        "file not found in the files folder (give --files DIR)",
    ] {
        assert!(
            reasons.iter().any(|r| r == expected),
            "{expected:?} not in {reasons:?}"
        );
    }
    assert_eq!(report["skipped_rows"], 5, "{report:#}");
    assert_eq!(report["converted"][0]["rows"], 1, "{report:#}");

    let run = joined(&home, "ws/proj", "RUN-1");
    let f = |p: &str| run.field(p).fetch().unwrap();
    assert_eq!(f("sys/name"), Value::String("first run".into()));
    assert_eq!(
        f("sys/description"),
        Value::String("imported from the exporter".into())
    );
    assert_eq!(f("sys/failed"), Value::Boolean(false));
    assert_eq!(
        run.tags().fetch().unwrap(),
        BTreeSet::from(["baseline".to_owned(), "imported".to_owned()])
    );
    let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    assert_eq!(f("imported/sys/creation_time"), Value::Datetime(t0));
    assert_eq!(f("imported/sys/id"), Value::String("PROJ-1".into()));
    assert_eq!(f("params/lr"), Value::Float(0.001));
    assert_eq!(f("params/epochs"), Value::Integer(10));
    assert_eq!(f("params/optimizer"), Value::String("adam".into()));
    assert_eq!(f("params/shuffle"), Value::Boolean(true));
    assert_eq!(
        f("params/started"),
        Value::Datetime(t0 + chrono::Duration::milliseconds(1500))
    );
    assert_eq!(
        f("params/datasets"),
        Value::String(r#"["mnli","snli"]"#.into())
    );
    assert!(!run.exists("hist") && !run.exists("model") && !run.exists("future/thing"));

    let loss = run
        .field("train/loss")
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    // Each decimal step is the f64 nearest to it: printed with 6 decimals it is the decimal.
    let steps: Vec<String> = loss.steps().iter().map(|s| format!("{s:.6}")).collect();
    assert_eq!(
        steps,
        [
            "0.100000",
            "0.200000",
            "0.300000",
            "1.000001",
            "2.500000",
            "123456789.123456"
        ]
    );
    assert_eq!(loss.steps()[0], 0.1);
    assert_eq!(loss.values(), [1.0, 0.5, 1.0 / 3.0, 0.25, 0.2, 1.0 / 6.0]);
    let ts: Vec<i64> = (0..6).map(|i| t0.timestamp_millis() + i * 1000).collect();
    assert_eq!(loss.timestamps_ms().unwrap(), ts.as_slice());
    let log = run
        .field("train/log")
        .string_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    assert_eq!(
        log.values(),
        ["epoch 0 done", "epoch 1 done", "epoch 2 done"]
    );

    let got = dir.path().join("got");
    std::fs::create_dir_all(&got).unwrap();
    let cfg = run
        .field("files/config")
        .download_to(got.join("config"))
        .unwrap();
    assert_eq!(std::fs::read(&cfg[0]).unwrap(), b"lr: 0.001\n");
    let images = run
        .field("images")
        .file_series()
        .unwrap()
        .fetch_entries()
        .unwrap();
    let steps: Vec<Option<f64>> = images.iter().map(|e| e.step).collect();
    assert_eq!(steps, [Some(0.0), Some(1.0), Some(2.0)], "sorted by step");
    assert_eq!(images[1].file.size, 11);
    let set = run.field("data").list_fileset_files(None).unwrap();
    assert!(!set.is_empty());
    let before = values(&home, &run);
    run.stop().unwrap();

    // Through the command: the series of the run split over two files.
    let acc = ok(&home, &["fetch", "OTH-1", "m/acc"]);
    assert_eq!(acc.lines().count(), 11, "a header and 10 points: {acc}");
    assert!(acc.lines().nth(10).unwrap().starts_with("9,0.9,"), "{acc}");

    let again = import_json(&home, &data);
    assert_eq!(again["runs_created"], 0, "{again:#}");
    assert_eq!(again["runs_resumed"], 2, "{again:#}");
    assert_eq!(again["points"], 0, "{again:#}");
    assert_eq!(again["points_present"], 19, "{again:#}");
    assert_eq!(again["fields"], 0, "{again:#}");
    assert_eq!(again["fields_unchanged"], 13, "{again:#}");
    assert_eq!(again["uploads"], 0, "{again:#}");
    assert_eq!(again["uploads_present"], 5, "{again:#}");
    let run = joined(&home, "ws/proj", "RUN-1");
    assert_eq!(values(&home, &run), before);
    assert_eq!(
        run.field("train/loss")
            .float_series()
            .unwrap()
            .fetch_values()
            .unwrap()
            .len(),
        6
    );
    run.stop().unwrap();

    let text = ok(&home, &["import", "parquet", data.to_str().unwrap()]);
    assert!(
        text.contains("points: 0 imported, 19 already stored"),
        "{text}"
    );
    assert!(
        text.contains("1 × unknown attribute type \"mystery_type\""),
        "{text}"
    );
}

#[test]
fn a_killed_import_resumes_with_every_point_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let (runs, points) = (3usize, 400_000usize);
    let p = points.to_string();
    if !make_export(&dir.path().join("export"), &["--runs", "3", "--points", &p]) {
        return;
    }
    let data = dir.path().join("export/data");
    let home = dir.path().join("home");
    let mut child = Command::new(env!("CARGO_BIN_EXE_neptune"))
        .arg("--home")
        .arg(&home)
        .args(["import", "parquet"])
        .arg(&data)
        .env_remove("NEPTUNE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the first run holds points (a bounded wait).
    let mut stored = 0;
    for _ in 0..6000 {
        std::thread::sleep(std::time::Duration::from_millis(10));
        stored = stored_points(&home, runs);
        if stored > 0 {
            break;
        }
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(stored > 0, "no point was stored before the kill");
    assert!(
        !status.success(),
        "the import ended before the kill: make the fixture bigger"
    );
    let before = stored_points(&home, runs);
    assert!(
        before < (runs * points) as u64,
        "the kill came after the last point"
    );

    let report = import_json(&home, &data);
    let total = (runs * points) as u64;
    assert_eq!(
        report["points"].as_u64().unwrap() + report["points_present"].as_u64().unwrap(),
        total,
        "{report:#}"
    );
    assert!(
        report["points_present"].as_u64().unwrap() >= before,
        "{report:#}"
    );
    assert_eq!(report["skipped_rows"], 0, "{report:#}");
    for r in 0..runs {
        let run = joined(&home, "bench/import", &format!("BENCH-{r}"));
        let v = run
            .field("train/loss")
            .float_series()
            .unwrap()
            .fetch_values()
            .unwrap();
        assert_eq!(v.len(), points, "BENCH-{r}");
        assert!(
            v.steps().iter().enumerate().all(|(i, s)| *s == i as f64),
            "BENCH-{r}: every step once, in order"
        );
        assert_eq!(
            run.field("params/seed").fetch().unwrap(),
            Value::Integer(r as i64)
        );
        run.stop().unwrap();
    }
}

/// Points stored in the benchmark export's runs (0 while the store does not exist yet).
fn stored_points(home: &Path, runs: usize) -> u64 {
    if !home.join("store.db").exists() {
        return 0;
    }
    let Ok(store) = neptune_core::store::Store::open(home) else {
        return 0;
    };
    let backend: &dyn neptune_core::Reader = &store;
    let loss = FieldPath::parse("train/loss").unwrap();
    let mut n = 0;
    for r in 1..=runs {
        let id = format!("IMP-{r}");
        if let Ok(Some(info)) = backend.fetch_series_info(&id, &loss) {
            n += info.count;
        }
    }
    n
}

#[test]
fn paths_without_parquet_files_are_an_error_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = neptune(
        &dir.path().join("home"),
        &["import", "parquet", dir.path().to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no .parquet files under"), "{err}");
}

#[test]
fn an_export_imports_into_a_team_server_once() {
    let dir = tempfile::tempdir().unwrap();
    if !make_export(&dir.path().join("export"), &[]) {
        return;
    }
    let data = dir.path().join("export/data");
    let server_data = dir.path().join("server");
    std::fs::create_dir_all(&server_data).unwrap();
    let (_, token) = neptune_server::Tokens::open(&server_data)
        .unwrap()
        .create("team/imported", neptune_server::Scope::Write)
        .unwrap();
    let (_server, url) = crate::sync::serve(&server_data);
    let home = dir.path().join("home");
    let import = || {
        let out = Command::new(env!("CARGO_BIN_EXE_neptune"))
            .arg("--home")
            .arg(&home)
            .args(["import", "parquet", "--json", "--project", "team/imported"])
            .arg(&data)
            .env("NEPTUNE_URL", &url)
            .env("NEPTUNE_API_TOKEN", &token)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str::<J>(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    };
    let first = import();
    assert_eq!(first["runs_created"], 2, "{first:#}");
    assert_eq!(first["points"], 19, "{first:#}");
    assert_eq!(first["uploads"], 5, "{first:#}");
    let second = import();
    assert_eq!(second["points"], 0, "{second:#}");
    assert_eq!(second["fields"], 0, "{second:#}");
    assert_eq!(second["uploads"], 0, "{second:#}");
    assert_eq!(second["points_present"], 19, "{second:#}");

    let run = Run::builder()
        .home(dir.path().join("reader"))
        .url(&url)
        .api_token(&token)
        .project("team/imported")
        .custom_run_id("RUN-1")
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let loss = run
        .field("train/loss")
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    assert_eq!(loss.len(), 6);
    assert_eq!(loss.steps()[5], 123456789.123456);
    assert_eq!(
        run.field("imported/sys/id").fetch().unwrap(),
        Value::String("PROJ-1".into())
    );
    run.stop().unwrap();
}

#[test]
fn a_column_of_another_type_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    if !make_export(&dir.path().join("export"), &["--float-steps"]) {
        return;
    }
    let data = dir.path().join("export/data");
    let out = neptune(
        &dir.path().join("home"),
        &["import", "parquet", data.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("column step is Float64, expected decimal(18,6)"),
        "{err}"
    );
    assert!(err.contains("RUN-9"), "the file is named: {err}");
}
