//! The same behaviour suite against both backends: every field type logged to the embedded
//! store and, through the HTTP backend, to a real `neptune-server`, reads back identical.

use crate::common;

use chrono::{TimeZone, Utc};
use common::Server;
use neptune_core::{Error, ExtendOptions, FetchOptions, File, GitRef, LogOptions, Mode, Run};
use serde_json::{json, Value as J};

/// Logs every non-file field type and method.
fn scenario(run: &Run, n: usize) {
    let when =
        Utc.with_ymd_and_hms(1998, 11, 1, 12, 30, 5).unwrap() + chrono::Duration::milliseconds(123);
    run.field("params/lr").assign(0.25).unwrap();
    run.field("params/max_epochs").assign(10).unwrap();
    run.field("params/big").assign(i64::MAX).unwrap();
    run.field("params/use_preprocessing").assign(true).unwrap();
    run.field("params/optimizer").assign("Adam").unwrap();
    run.field("train/end").assign(when).unwrap();
    run.field("nan").assign(f64::NAN).unwrap();
    run.field("inf").assign(f64::NEG_INFINITY).unwrap();
    run.field("long").assign("é".repeat(20_000)).unwrap();
    run.assign_serde(
        &json!({"config": {"batch": 64, "name": "bert", "dropout": 0.1,
        "layers": {"n": 12}}}),
    )
    .unwrap();
    run.field("params/lr").assign(0.5).unwrap(); // reassigned

    let loss = run.field("train/loss").float_series().unwrap();
    for i in 0..n {
        loss.append(1.0 / (i as f64 + 1.0)).unwrap();
    }
    loss.append_with(f64::NAN, LogOptions::new().step(10_000.0))
        .unwrap();
    loss.append_with(
        f64::INFINITY,
        LogOptions::new().step(10_001.5).timestamp(1_700_000_000.25),
    )
    .unwrap();
    loss.extend_with(
        [0.5, 0.25],
        ExtendOptions::new()
            .steps([20_000.0, 20_001.0])
            .timestamps([1.0, 2.0]),
    )
    .unwrap();
    let acc = run.field("eval/acc");
    acc.append(0.5).unwrap();
    acc.extend([0.6, 0.7]).unwrap();
    let cleared = run.field("eval/cleared").float_series().unwrap();
    cleared.extend([1.0, 2.0, 3.0]).unwrap();
    cleared.clear().unwrap();
    cleared.append(4.0).unwrap();

    let notes = run.field("log/notes").string_series().unwrap();
    notes.append("first").unwrap();
    notes.append("x".repeat(3000)).unwrap(); // cut to 1000
    notes
        .append_with("third", LogOptions::new().step(7.0))
        .unwrap();
    run.field("metrics")
        .append(neptune_core::Appendable::Map(vec![
            ("a".to_owned(), 1.0.into()),
            ("b".to_owned(), 2.0.into()),
        ]))
        .unwrap();

    run.tags().add(["a", "b", "c"]).unwrap();
    run.tags().remove("b").unwrap();
    run.tags().add("d").unwrap();
    run.tags().clear().unwrap();
    run.tags().add(["e", "f"]).unwrap();

    run.field("to_delete/x").assign(1).unwrap();
    run.field("to_delete/y").append(1.0).unwrap();
    run.pop("to_delete").unwrap();
    run.field("to_delete/x").assign("reborn").unwrap();

    // Refused at the call, whatever the backend: nothing is written.
    assert!(matches!(
        run.field("params/lr").append(1.0),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        loss.append_with(1.0, LogOptions::new().step(5.0)),
        Err(Error::NonIncreasingStep { .. })
    ));
    assert!(run.field("sys/id").assign("X").is_err());
    run.wait().unwrap();
}

/// Everything a reader sees of the run, minus what differs by nature (ids, times).
fn snapshot(run: &Run) -> J {
    let mut values = run.fetch().unwrap().to_json();
    let sys = values["sys"].as_object_mut().unwrap();
    for k in [
        "id",
        "creation_time",
        "modification_time",
        "ping_time",
        "running_time",
    ] {
        sys.remove(k);
    }
    let mut series = serde_json::Map::new();
    for p in [
        "train/loss",
        "eval/acc",
        "eval/cleared",
        "metrics/a",
        "metrics/b",
        "log/notes",
    ] {
        let f = run
            .field(p)
            .fetch_values_with(FetchOptions::new().include_timestamp(true))
            .unwrap();
        let cols = match (f.floats(), f.strings()) {
            (Some(v), _) => json!({
                "steps": v.steps(),
                "values": v.values().iter().map(|x| neptune_core::operation::float::to_json(*x)).collect::<Vec<_>>(),
                "ts": v.timestamps_ms(),
            }),
            (_, Some(v)) => {
                json!({"steps": v.steps(), "values": v.values(), "ts": v.timestamps_ms()})
            }
            _ => panic!("{p} is no series"),
        };
        series.insert(p.to_owned(), cols);
        series.insert(
            format!("{p}#last"),
            run.field(p).fetch_last().unwrap().to_json(),
        );
    }
    json!({
        "values": values,
        "structure": run.get_structure().render(),
        "series": series,
    })
}

/// Series timestamps of points logged without one are the time of the call: equal in both
/// runs only by chance. Keep the ones given explicitly, blank the rest.
fn blank_call_times(mut s: J) -> J {
    for (_, cols) in s["series"].as_object_mut().unwrap().iter_mut() {
        if let Some(ts) = cols.get_mut("ts").and_then(J::as_array_mut) {
            for t in ts.iter_mut() {
                let given = [1000, 2000, 1_700_000_000_250];
                if !t.as_i64().is_some_and(|v| given.contains(&v)) {
                    *t = J::Null;
                }
            }
        }
    }
    s
}

/// The places where two JSON values differ (values cut short).
fn diff(a: &J, b: &J, at: String, out: &mut Vec<String>) {
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                diff(
                    x.get(k).unwrap_or(&J::Null),
                    y.get(k).unwrap_or(&J::Null),
                    format!("{at}/{k}"),
                    out,
                );
            }
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(p, q, format!("{at}[{i}]"), out);
            }
        }
        _ if a == b => {}
        _ => {
            let cut = |v: &J| v.to_string().chars().take(120).collect::<String>();
            out.push(format!("{at}: http {} vs store {}", cut(a), cut(b)));
        }
    }
}

#[test]
fn every_field_type_reads_back_identical_over_http() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let token = common::token(data.path(), "team/suite", "write");
    let client_home = tempfile::tempdir().unwrap();
    // Sync mode waits for the server at every call: fewer points keep the test short.
    for (mode, n) in [(Mode::Async, 5000), (Mode::Sync, 300)] {
        let local = tempfile::tempdir().unwrap();
        let store_run = Run::builder()
            .home(local.path())
            .project("team/suite")
            .mode(mode)
            .git_ref(GitRef::Disabled)
            .capture_hardware_metrics(false)
            .capture_dependencies(false)
            .open()
            .unwrap();
        scenario(&store_run, n);
        let expected = blank_call_times(snapshot(&store_run));
        store_run.stop().unwrap();
        let started = std::time::Instant::now();
        let run = Run::builder()
            .home(client_home.path())
            .url(&server.url)
            .api_token(&token)
            .project("team/suite")
            .mode(mode)
            .git_ref(GitRef::Disabled)
            .capture_hardware_metrics(false)
            .capture_dependencies(false)
            .open()
            .unwrap();
        assert!(run.id().starts_with("SUI-"), "{}", run.id());
        scenario(&run, n);
        let got = blank_call_times(snapshot(&run));
        let mut diffs = Vec::new();
        diff(&got, &expected, String::new(), &mut diffs);
        assert!(
            diffs.is_empty(),
            "{mode} mode differs from the embedded store:\n{}",
            diffs.join("\n")
        );
        run.stop().unwrap();
        eprintln!("{mode}: {:?}", started.elapsed());
        // Read-only through the server.
        let ro = Run::builder()
            .home(client_home.path())
            .url(&server.url)
            .api_token(&token)
            .with_id(run.id())
            .mode(Mode::ReadOnly)
            .open()
            .unwrap();
        assert_eq!(
            ro.field("sys/state").fetch().unwrap().to_json(),
            json!("Inactive")
        );
        assert!(ro.field("x").assign(1).is_err());
    }
    // Tables through the server: both runs, with their values.
    let project = neptune_core::Project::builder()
        .home(client_home.path())
        .url(&server.url)
        .api_token(&token)
        .project("team/suite")
        .open()
        .unwrap();
    let table = project
        .fetch_runs_table(neptune_core::TableQuery::new().columns(["params/lr"]))
        .unwrap();
    assert_eq!(table.rows().len(), 2);
    assert!(table.to_csv().contains("0.5"), "{}", table.to_csv());
    // A page of it: the second row, and the count of every matching row, over the wire.
    let page = project
        .fetch_runs_table(
            neptune_core::TableQuery::new()
                .columns(["params/lr"])
                .offset(1)
                .limit(1),
        )
        .unwrap();
    assert_eq!((page.ids(), page.total()), (vec![table.ids()[1]], 2));
    project.stop().unwrap();
    // A clean stop leaves no queue behind.
    let queues = client_home.path().join("queue");
    assert_eq!(
        std::fs::read_dir(&queues).map(|d| d.count()).unwrap_or(0),
        0,
        "queues left in {}",
        queues.display()
    );
}

#[test]
fn files_round_trip_over_http() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let token = common::token(data.path(), "team/files", "write");
    let home = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(src.path().join("weights.bin"), &big).unwrap();
    std::fs::create_dir_all(src.path().join("set/sub")).unwrap();
    std::fs::write(src.path().join("set/a.txt"), "alpha").unwrap();
    std::fs::write(src.path().join("set/sub/b.txt"), "beta").unwrap();

    let run = Run::builder()
        .home(home.path())
        .url(&server.url)
        .api_token(&token)
        .project("team/files")
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let f = run.field("model/weights").file().unwrap();
    f.upload(File::from_path(src.path().join("weights.bin"), None))
        .unwrap();
    run.field("notes/readme")
        .file()
        .unwrap()
        .upload(File::from_content("hello"))
        .unwrap();
    let set = run.field("data/set").file_set().unwrap();
    set.upload_files(src.path().join("set/**").display().to_string())
        .unwrap();
    let imgs = run.field("samples").file_series().unwrap();
    imgs.append(File::from_content("img0")).unwrap();
    imgs.append(File::from_content("img1")).unwrap();
    run.field("art")
        .artifact()
        .unwrap()
        .track_files(&src.path().join("set").display().to_string(), None)
        .unwrap();
    run.wait().unwrap();

    assert_eq!(f.fetch_bytes().unwrap(), big);
    assert_eq!(f.fetch_extension().unwrap(), "bin");
    assert_eq!(
        run.field("notes/readme")
            .file()
            .unwrap()
            .fetch_bytes()
            .unwrap(),
        b"hello"
    );
    let out = tempfile::tempdir().unwrap();
    let p = f.download_to(out.path().join("w.bin")).unwrap();
    assert_eq!(std::fs::read(p).unwrap(), big);
    let listed = set.list_fileset_files(None).unwrap();
    assert!(!listed.is_empty());
    let points = imgs.fetch_values_len();
    assert_eq!(points, 2);
    let hash = run.field("art").artifact().unwrap().fetch_hash().unwrap();
    assert_eq!(hash.len(), 64);
    assert_eq!(
        run.field("art")
            .artifact()
            .unwrap()
            .fetch_files_list()
            .unwrap()
            .len(),
        2
    );
    run.stop().unwrap();
}

#[test]
fn a_run_inside_a_tokio_runtime_never_panics() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let token = common::token(data.path(), "team/rt", "write");
    let home = tempfile::tempdir().unwrap();
    for flavor in ["current_thread", "multi_thread"] {
        let rt = match flavor {
            "current_thread" => tokio::runtime::Builder::new_current_thread(),
            _ => tokio::runtime::Builder::new_multi_thread(),
        }
        .enable_all()
        .build()
        .unwrap();
        let (url, token, home) = (server.url.clone(), token.clone(), home.path().to_owned());
        let values = rt.block_on(async move {
            let run = Run::builder()
                .home(&home)
                .url(&url)
                .api_token(&token)
                .project("team/rt")
                .git_ref(GitRef::Disabled)
                .open()
                .unwrap();
            let s = run.field("x").float_series().unwrap();
            s.extend([1.0, 2.0, 3.0]).unwrap();
            run.wait().unwrap();
            let n = s.fetch_values().unwrap().len();
            run.stop().unwrap();
            drop(run); // the HTTP thread's runtime ends on its own thread
            n
        });
        assert_eq!(values, 3, "{flavor}");
    }
}

trait Len {
    fn fetch_values_len(&self) -> usize;
}

impl Len for neptune_core::FileSeriesHandle {
    fn fetch_values_len(&self) -> usize {
        let dir = tempfile::tempdir().unwrap();
        self.download_to(dir.path()).unwrap();
        std::fs::read_dir(dir.path()).unwrap().count()
    }
}
