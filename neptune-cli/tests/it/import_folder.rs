//! `neptune import neptune-folder` on `.neptune` folders that the original Python client
//! (`neptune` 1.x, in the virtual environment of `NEPTUNE_PY_CLIENT_PYTHON`, made by
//! scripts/test) writes with `tests/fixtures/py_client_offline.py`: offline runs with every
//! field type, and the folder of an async run whose process was killed. Read back through the
//! library and the `neptune` command; imported twice; and killed with SIGKILL half-way.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::{TimeZone, Utc};
use neptune_core::{FieldPath, Reader, Value};
use serde_json::Value as J;

use crate::common::{neptune, ok};
use crate::import::{joined, skipped_reasons, values};

/// The Python with `neptune<2`, or `None` (the test is skipped, saying why).
fn python() -> Option<String> {
    match std::env::var("NEPTUNE_PY_CLIENT_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            eprintln!(
                "skipped: NEPTUNE_PY_CLIENT_PYTHON is not set (scripts/test sets it to a \
                 virtual environment with neptune<2)"
            );
            None
        }
    }
}

/// Runs the fixture in `work` with `args`; its last line of output, as JSON.
fn client(py: &str, work: &Path, args: &[&str], env: &[(&str, &str)]) -> J {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/py_client_offline.py");
    let out = Command::new(py)
        .arg(&script)
        .arg(work)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("NEPTUNE_PROJECT")
        .env_remove("NEPTUNE_MODE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the Python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or("null");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// `neptune import neptune-folder <work>/.neptune --json`, run in `work` as the client was.
fn import(home: &Path, work: &Path, project: &str) -> J {
    let out = Command::new(env!("CARGO_BIN_EXE_neptune"))
        .arg("--home")
        .arg(home)
        .args([
            "import",
            "neptune-folder",
            ".neptune",
            "--json",
            "-p",
            project,
        ])
        .current_dir(work)
        .env_remove("NEPTUNE_URL")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The run folder of the client's run `id` under `work/.neptune/<mode>`.
fn run_folder(work: &Path, mode: &str, id: &str) -> PathBuf {
    let dir = work.join(".neptune").join(mode);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().contains(id))
        .unwrap_or_else(|| panic!("no folder of {id} in {}", dir.display()))
}

fn content(home: &Path, digest: &str) -> Vec<u8> {
    let store = neptune_core::store::Store::open(home).unwrap();
    let mut bytes = Vec::new();
    store
        .open_file(digest)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    bytes
}

const PNG: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

#[test]
fn every_operation_of_an_offline_run_imports_and_a_second_import_changes_nothing() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let ids = client(&py, &work, &[], &[]);
    let (every, second) = (
        ids["every"].as_str().unwrap().to_owned(),
        ids["second"].as_str().unwrap().to_owned(),
    );
    // A newer client's operation, and a line cut short by a crash, in the second run's queue.
    let log = run_folder(&work, "offline", &second).join("data-1.log");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str(r#"{"obj": {"type": "FutureOp", "path": ["future"]}, "version": 90, "at": 1}"#);
    text.push_str("\n{\"obj\": {\"type\": \"AssignInt\", \"path\": [\"cut\"], \"va");
    std::fs::write(&log, text).unwrap();

    let home = dir.path().join("home");
    let report = import(&home, &work, "team/folder");
    assert_eq!(report["files"], 2, "two run folders: {report:#}");
    assert_eq!(report["runs_created"], 2, "{report:#}");
    assert_eq!(
        report["points"], 20,
        "loss 5, log 5, acc 4, bounded 2, cleared 1; the second run's loss 3: {report:#}"
    );
    assert_eq!(
        report["uploads"], 7,
        "2 images, 2 Files, 2 file-set uploads, an artifact: {report:#}"
    );
    assert_eq!(
        report["fields"], 20,
        "12 of the first run, a copy, a series' settings; 6 of the second: {report:#}"
    );
    let reasons = skipped_reasons(&report);
    for expected in [
        "unknown operation type \"FutureOp\"",
        "UploadFileSet without files (e.g. the source files of a run given none)",
    ] {
        assert!(
            reasons.iter().any(|r| r == expected),
            "{expected:?} not in {reasons:?}"
        );
    }
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("queue line unreadable: an unfinished last line")),
        "{reasons:?}"
    );
    assert_eq!(report["skipped_rows"], 4, "{report:#}");

    let run = joined(&home, "team/folder", &every);
    let f = |p: &str| run.field(p).fetch().unwrap();
    assert_eq!(f("sys/custom_run_id"), Value::String(every.clone()));
    assert_eq!(f("sys/name"), Value::String("offline-run".into()));
    assert_eq!(
        f("sys/description"),
        Value::String("every field type".into())
    );
    assert_eq!(f("sys/failed"), Value::Boolean(false));
    assert_eq!(
        run.tags().fetch().unwrap(),
        BTreeSet::from(["b", "c", "d"].map(String::from)),
        "added at init and later, \"a\" removed"
    );
    let meta: J = serde_json::from_slice(
        &std::fs::read(run_folder(&work, "offline", &every).join("metadata.json")).unwrap(),
    )
    .unwrap();
    let created = chrono::DateTime::parse_from_rfc3339(meta["createdAt"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    assert_eq!(
        f("imported/sys/creation_time"),
        Value::Datetime(Utc.timestamp_millis_opt(created).unwrap())
    );
    assert_eq!(f("params/lr"), Value::Float(0.125));
    assert_eq!(f("params/epochs"), Value::Integer(10));
    assert_eq!(f("params/nesterov"), Value::Boolean(true));
    assert_eq!(
        f("params/optimizer"),
        Value::String("sgd".into()),
        "the last assign"
    );
    assert_eq!(
        f("params/started"),
        Value::Datetime(
            Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap()
                + chrono::Duration::milliseconds(678)
        )
    );
    assert_eq!(f("params/lr_copy"), Value::Float(0.125), "copied");
    assert_eq!(f("labels"), Value::String(r#"["x","y"]"#.into()));
    assert!(!run.exists("gone"), "deleted by the client");
    assert!(!run.exists("future") && !run.exists("cut"));

    let series = |p: &str| run.field(p).float_series().unwrap().fetch_values().unwrap();
    let loss = series("train/loss");
    assert_eq!(
        loss.steps(),
        [0.0, 1.0, 2.0, 3.0, 4.0],
        "assigned as the service did"
    );
    assert_eq!(loss.values(), [1.0, 0.5, 1.0 / 3.0, 0.25, 0.2]);
    let acc = series("train/acc");
    assert_eq!(acc.steps(), [10.0, 11.0, 12.5, 20.0]);
    assert_eq!(acc.timestamps_ms().unwrap()[3], 1_700_000_000_250);
    let bounded = series("train/bounded");
    assert_eq!(
        (bounded.steps(), bounded.values()),
        (&[0.0, 1.0][..], &[0.25, 0.5][..])
    );
    let config = neptune_core::store::Store::open(&home)
        .unwrap()
        .series_config(run.id(), &FieldPath::parse("train/bounded").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        (config.min, config.max, config.unit.as_deref()),
        (Some(0.0), Some(1.0), Some("nats"))
    );
    let cleared = series("cleared");
    assert_eq!(
        (cleared.steps(), cleared.values()),
        (&[7.0][..], &[2.0][..]),
        "the point before the clear is gone"
    );
    let log = run
        .field("train/log")
        .string_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    assert_eq!(log.values()[4], "epoch 4");
    assert_eq!(log.steps(), [0.0, 1.0, 2.0, 3.0, 4.0]);

    let png = base64_png();
    let images = run
        .field("images")
        .file_series()
        .unwrap()
        .fetch_entries()
        .unwrap();
    let steps: Vec<Option<f64>> = images.iter().map(|e| e.step).collect();
    assert_eq!(steps, [Some(0.0), Some(5.0)]);
    assert_eq!(images[0].name.as_deref(), Some("first"));
    assert_eq!(images[0].description.as_deref(), Some("one pixel"));
    assert_eq!(images[0].file.extension, "png");
    assert_eq!(content(&home, &images[1].file.digest), png);

    let weights = run.field("model/weights").file().unwrap();
    assert_eq!(
        weights.fetch_bytes().unwrap(),
        b"\x00\x01weights".repeat(100)
    );
    let notes = run.field("model/notes").file().unwrap();
    assert_eq!(
        notes.fetch_bytes().unwrap(),
        b"staged in the folder",
        "the copy in the folder's upload_path"
    );
    assert_eq!(notes.fetch_extension().unwrap(), "txt");
    let set = run.field("data/files").file_set().unwrap();
    let names = |p: Option<&str>| -> Vec<String> {
        let mut n: Vec<String> = set
            .list_fileset_files(p)
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(None), ["data"], "relative to the client's directory");
    assert_eq!(
        names(Some("data")),
        ["a.txt", "sub"],
        "b.txt deleted by the client"
    );
    assert_eq!(names(Some("data/sub")), ["c.txt"]);
    let artifact = run.field("artifacts/model").artifact().unwrap();
    let files = artifact.fetch_files_list().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_path, "model.ckpt");
    let before = values(&home, &run);
    let id = match f("sys/id") {
        Value::String(id) => id,
        other => panic!("{other:?}"),
    };
    run.stop().unwrap();

    // Through the command.
    let acc = ok(&home, &["fetch", &id, "train/acc"]);
    assert_eq!(acc.lines().count(), 5, "a header and 4 points: {acc}");
    assert!(
        acc.lines().nth(3).unwrap().starts_with("12.5,0.875,"),
        "{acc}"
    );
    let shown = ok(&home, &["show", &id]);
    assert!(
        shown.contains("offline-run") && shown.contains("\"sgd\""),
        "{shown}"
    );
    let other = joined(&home, "team/folder", &second);
    assert_eq!(
        other.field("params/seed").fetch().unwrap(),
        Value::Integer(7)
    );
    assert_eq!(
        other
            .field("train/loss")
            .float_series()
            .unwrap()
            .fetch_values()
            .unwrap()
            .steps(),
        [1.0, 2.0, 3.0]
    );
    other.stop().unwrap();

    let again = import(&home, &work, "team/folder");
    assert_eq!(again["runs_created"], 0, "{again:#}");
    assert_eq!(again["runs_resumed"], 2, "{again:#}");
    assert_eq!(again["points"], 0, "{again:#}");
    assert_eq!(again["points_present"], 20, "{again:#}");
    assert_eq!(again["fields"], 0, "{again:#}");
    assert_eq!(again["fields_unchanged"], 20, "{again:#}");
    assert_eq!(again["uploads"], 0, "{again:#}");
    assert_eq!(again["uploads_present"], 7, "{again:#}");
    let run = joined(&home, "team/folder", &every);
    assert_eq!(values(&home, &run), before);
    run.stop().unwrap();

    let text = ok(
        &home,
        &[
            "import",
            "neptune-folder",
            work.join(".neptune").to_str().unwrap(),
            "-p",
            "team/folder",
        ],
    );
    assert!(
        text.contains("read 53 operations from 2 run folders"),
        "{text}"
    );
    assert!(
        text.contains("1 × unknown operation type \"FutureOp\""),
        "{text}"
    );
}

fn base64_png() -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(PNG)
        .unwrap()
}

#[test]
fn an_async_run_folder_left_by_a_killed_process_imports_from_its_queue() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server_data = dir.path().join("server");
    std::fs::create_dir_all(&server_data).unwrap();
    let (_, nep) = neptune_server::Tokens::open(&server_data)
        .unwrap()
        .create("team/live", neptune_server::Scope::Write)
        .unwrap();
    let (_server, url) = crate::sync::serve(&server_data);
    let token = neptune_server::compat::python_client_token(&url, &nep);
    let work = dir.path().join("work");
    let out = client(
        &py,
        &work,
        &["--async", "team/live"],
        &[
            ("NEPTUNE_API_TOKEN", token.as_str()),
            ("OAUTHLIB_INSECURE_TRANSPORT", "1"),
        ],
    );
    let id = out["crashed"].as_str().unwrap();
    assert!(run_folder(&work, "async", id).join("data-1.log").exists());

    // Our store in the client's `.neptune`, as `neptune` defaults to from that folder.
    let home = work.join(".neptune");
    let report = import(&home, &work, "team/rescued");
    assert_eq!(
        report["files"], 1,
        "only the client's run folder: {report:#}"
    );
    assert_eq!(report["runs_created"], 1, "{report:#}");
    assert_eq!(report["points"], 2, "{report:#}");
    let run = joined(&home, "team/rescued", id);
    assert_eq!(
        run.field("sys/name").fetch().unwrap(),
        Value::String("crashed".into())
    );
    assert_eq!(run.field("params/lr").fetch().unwrap(), Value::Float(0.25));
    let loss = run
        .field("train/loss")
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    assert_eq!(
        (loss.steps(), loss.values()),
        (&[1.0, 2.0][..], &[0.5, 0.25][..])
    );
    run.stop().unwrap();
}

#[test]
fn a_killed_folder_import_resumes_with_every_point_exactly_once() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let points = 300_000usize;
    let out = client(&py, &work, &["--points", &points.to_string()], &[]);
    let id = out["points"].as_str().unwrap().to_owned();
    let home = dir.path().join("home");
    let mut child = Command::new(env!("CARGO_BIN_EXE_neptune"))
        .arg("--home")
        .arg(&home)
        .args(["import", "neptune-folder", ".neptune", "-p", "bench/import"])
        .current_dir(&work)
        .env_remove("NEPTUNE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the run holds points (a bounded wait).
    let mut stored = 0;
    for _ in 0..6000 {
        std::thread::sleep(std::time::Duration::from_millis(10));
        stored = stored_points(&home);
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
    let before = stored_points(&home);
    assert!(before < points as u64, "the kill came after the last point");

    let report = import(&home, &work, "bench/import");
    assert_eq!(report["runs_resumed"], 1, "{report:#}");
    assert_eq!(
        report["points"].as_u64().unwrap() + report["points_present"].as_u64().unwrap(),
        points as u64,
        "{report:#}"
    );
    assert!(
        report["points_present"].as_u64().unwrap() >= before,
        "{report:#}"
    );
    let run = joined(&home, "bench/import", &id);
    let v = run
        .field("train/x")
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    assert_eq!(v.len(), points);
    assert!(
        v.steps().iter().enumerate().all(|(i, s)| *s == i as f64),
        "every step once, in order"
    );
    assert_eq!(
        run.field("params/n").fetch().unwrap(),
        Value::Integer(points as i64)
    );
    run.stop().unwrap();
}

/// Points stored in the run `IMP-1` (0 while the store does not exist yet).
fn stored_points(home: &Path) -> u64 {
    if !home.join("store.db").exists() {
        return 0;
    }
    let Ok(store) = neptune_core::store::Store::open(home) else {
        return 0;
    };
    let x = FieldPath::parse("train/x").unwrap();
    match store.fetch_series_info("IMP-1", &x) {
        Ok(Some(info)) => info.count,
        _ => 0,
    }
}

#[test]
fn a_path_without_run_folders_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = neptune(
        &dir.path().join("home"),
        &["import", "neptune-folder", dir.path().to_str().unwrap()],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no run folders"), "{err}");
    assert!(err.contains(dir.path().to_str().unwrap()), "{err}");
}

#[test]
fn a_folder_imports_into_a_team_server_once() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let ids = client(&py, &work, &[], &[]);
    let every = ids["every"].as_str().unwrap();
    let server_data = dir.path().join("server");
    std::fs::create_dir_all(&server_data).unwrap();
    let (_, token) = neptune_server::Tokens::open(&server_data)
        .unwrap()
        .create("team/imported", neptune_server::Scope::Write)
        .unwrap();
    let (_server, url) = crate::sync::serve(&server_data);
    let import = || {
        let out = Command::new(env!("CARGO_BIN_EXE_neptune"))
            .arg("--home")
            .arg(dir.path().join("home"))
            .args(["import", "neptune-folder", ".neptune", "--json"])
            .current_dir(&work)
            .env("NEPTUNE_PROJECT", "team/imported")
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
    assert_eq!(first["points"], 20, "{first:#}");
    assert_eq!(first["uploads"], 7, "{first:#}");
    let second = import();
    assert_eq!(second["points"], 0, "{second:#}");
    assert_eq!(second["fields"], 0, "{second:#}");
    assert_eq!(second["uploads"], 0, "{second:#}");
    assert_eq!(second["uploads_present"], 7, "{second:#}");

    let run = neptune_core::Run::builder()
        .home(dir.path().join("reader"))
        .url(&url)
        .api_token(&token)
        .project("team/imported")
        .custom_run_id(every)
        .git_ref(neptune_core::GitRef::Disabled)
        .open()
        .unwrap();
    let acc = run
        .field("train/acc")
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    assert_eq!(acc.steps(), [10.0, 11.0, 12.5, 20.0]);
    assert_eq!(
        run.field("model/notes")
            .file()
            .unwrap()
            .fetch_bytes()
            .unwrap(),
        b"staged in the folder"
    );
    assert_eq!(
        run.tags().fetch().unwrap(),
        BTreeSet::from(["b", "c", "d"].map(String::from))
    );
    run.stop().unwrap();
}
