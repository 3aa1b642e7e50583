//! Tests of the store on disk: schema versions, several stores and processes on one directory,
//! a killed writer, and the release-mode performance check of FloatSeries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::tests::{all_floats, floats, get, new_run, p, req};
use super::*;
use crate::model::operation::FloatPoint;

// ---------------------------------------------------------------- files on disk, concurrency

#[test]
fn schema_version_is_stored_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("nested/home");
    let s = Store::open(&home).unwrap();
    assert_eq!(s.home(), Some(home.as_path()));
    assert!(home.join("store.db").exists());
    assert_eq!(
        schema::stored_version(&s.sqlite_writer()).unwrap(),
        schema::SCHEMA_VERSION
    );
    let id = new_run(&s);
    drop(s);
    let s = Store::open(&home).unwrap();
    assert!(get(&s, &id, "sys/id").is_some());
    s.sqlite_writer()
        .execute("UPDATE schema_version SET version = 99", [])
        .unwrap();
    drop(s);
    let e = Store::open(&home).unwrap_err();
    assert!(matches!(e, Error::Config(ref m) if m.contains("99")), "{e}");
    assert_eq!(Store::in_memory().unwrap().home(), None);
}

#[test]
fn acknowledged_writes_are_flushed_once_for_many_callers() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(Store::open(dir.path()).unwrap());
    let id = new_run(&s);
    let flushed = |s: &Store| *s.synced.lock().unwrap();
    // Creating the object was acknowledged: flushed already.
    assert_eq!(flushed(&s), s.committed.load(Ordering::Acquire));
    s.execute(&id, &[floats("x", [0.0, 1.0])]).unwrap();
    assert!(
        flushed(&s) < s.committed.load(Ordering::Acquire),
        "execute alone does not flush"
    );
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let s = s.clone();
            scope.spawn(move || s.wait_acknowledged().unwrap());
        }
    });
    assert_eq!(flushed(&s), s.committed.load(Ordering::Acquire));
    assert!(s.wait_acknowledged().unwrap().is_empty());
    assert!(dir.path().join("store.db-wal").exists());
    assert_eq!(all_floats(&s, &id, "x", 10).steps, [0.0, 1.0]);
}

#[test]
fn two_stores_write_into_one_run_through_custom_run_id() {
    let dir = tempfile::tempdir().unwrap();
    let a = Arc::new(Store::open(dir.path()).unwrap());
    let b = Arc::new(Store::open(dir.path()).unwrap());
    let mut r = req(ObjectKind::Run, "ml-team/nli");
    r.custom_run_id = Some("shared".into());
    let ra = a.open_object(&r).unwrap();
    let rb = b.open_object(&r).unwrap();
    assert_eq!(ra.id, rb.id);
    assert!(ra.created && !rb.created);
    let id = ra.id;
    let writers: Vec<_> = [("a", a.clone()), ("b", b.clone())]
        .into_iter()
        .map(|(name, s)| {
            let id = id.clone();
            std::thread::spawn(move || {
                for i in 0..50 {
                    let steps = (i * 100..(i + 1) * 100).map(f64::from);
                    let ops = [
                        floats(&format!("by/{name}"), steps),
                        Operation::AddStrings {
                            path: p("sys/tags"),
                            values: vec![name.into()],
                        },
                        Operation::AssignInt {
                            path: p(&format!("last/{name}")),
                            value: i.into(),
                        },
                    ];
                    assert!(s.execute(&id, &ops).unwrap().is_empty());
                }
            })
        })
        .collect();
    // Reads go on while the writers write.
    for _ in 0..20 {
        a.fetch_structure(&id).unwrap();
        b.fetch_series_info(&id, &p("sys/tags")).ok();
    }
    for w in writers {
        w.join().unwrap();
    }
    for (s, other) in [(&a, "b"), (&b, "a")] {
        let info = s
            .fetch_series_info(&id, &p(&format!("by/{other}")))
            .unwrap()
            .unwrap();
        assert_eq!(info.count, 5000);
        assert_eq!(info.last_step, Some(4999.0));
        assert_eq!(all_floats(s, &id, &format!("by/{other}"), 1000).len(), 5000);
        let tags = get(s, &id, "sys/tags").unwrap();
        assert_eq!(
            tags,
            Value::StringSet(["a".to_string(), "b".to_string()].into())
        );
        assert_eq!(
            get(s, &id, &format!("last/{other}")),
            Some(Value::Integer(49))
        );
    }
}

#[test]
fn reads_do_not_wait_for_a_long_write() {
    let dir = tempfile::tempdir().unwrap();
    let a = Store::open(dir.path()).unwrap();
    let b = Store::open(dir.path()).unwrap();
    let id = new_run(&a);
    a.execute(
        &id,
        &[Operation::AssignInt {
            path: p("n"),
            value: 1,
        }],
    )
    .unwrap();
    // A write transaction of store `a` is open (and holds `a`'s writer)...
    let conn = a.sqlite_writer();
    conn.execute_batch("BEGIN IMMEDIATE; UPDATE fields SET value = 2 WHERE path = 'n';")
        .unwrap();
    let t = Instant::now();
    // ...yet `a`'s reader and another store read the last committed state at once.
    assert_eq!(get(&a, &id, "n"), Some(Value::Integer(1)));
    assert_eq!(get(&b, &id, "n"), Some(Value::Integer(1)));
    assert!(t.elapsed() < Duration::from_secs(2));
    conn.execute_batch("COMMIT").unwrap();
    drop(conn);
    assert_eq!(get(&b, &id, "n"), Some(Value::Integer(2)));
}

/// Run by `cross_process_writers_and_kill_9` in child processes: writes into the shared run.
#[test]
#[ignore = "helper: run in a child process by cross_process_writers_and_kill_9"]
fn child_writer() {
    let (Ok(home), Ok(name), Ok(batches)) = (
        std::env::var("NEPTUNE_STORE_TEST_HOME"),
        std::env::var("NEPTUNE_STORE_TEST_NAME"),
        std::env::var("NEPTUNE_STORE_TEST_BATCHES"),
    ) else {
        return;
    };
    let batches: u32 = batches.parse().unwrap();
    let s = Store::open(std::path::Path::new(&home)).unwrap();
    let mut r = req(ObjectKind::Run, "ml-team/nli");
    r.custom_run_id = Some("shared".into());
    let id = s.open_object(&r).unwrap().id;
    for i in 0..batches {
        let steps = (i * 1000..(i + 1) * 1000).map(f64::from);
        let ops = [
            floats(&format!("by/{name}"), steps),
            Operation::AddStrings {
                path: p("sys/tags"),
                values: vec![name.clone()],
            },
        ];
        assert!(s.execute(&id, &ops).unwrap().is_empty());
    }
}

#[test]
fn cross_process_writers_and_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let spawn = |name: &str, batches: u32| {
        std::process::Command::new(&exe)
            .args([
                "--exact",
                "store::tests_disk::child_writer",
                "--ignored",
                "--quiet",
            ])
            .env("NEPTUNE_STORE_TEST_HOME", dir.path())
            .env("NEPTUNE_STORE_TEST_NAME", name)
            .env("NEPTUNE_STORE_TEST_BATCHES", batches.to_string())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // Two processes write into one run at once.
    let children = [spawn("p1", 40), spawn("p2", 40)];
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let s = Store::open(dir.path()).unwrap();
    let id = s.list_objects("ml-team/nli", ObjectKind::Run).unwrap();
    assert_eq!(id.len(), 1, "both processes joined one run");
    let id = &id[0];
    for name in ["by/p1", "by/p2"] {
        assert_eq!(
            s.fetch_series_info(id, &p(name)).unwrap().unwrap().count,
            40_000
        );
    }

    // A writer killed with SIGKILL in the middle of its writes: reopening just works.
    let mut child = spawn("p3", 1_000_000);
    let t = Instant::now();
    loop {
        let n = s
            .fetch_series_info(id, &p("by/p3"))
            .ok()
            .flatten()
            .map_or(0, |i| i.count);
        if n >= 20_000 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "child wrote nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    let ok: String = s
        .sqlite_writer()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let info = s.fetch_series_info(id, &p("by/p3")).unwrap().unwrap();
    let pts = all_floats(&s, id, "by/p3", 100_000);
    assert_eq!(pts.len() as u64, info.count);
    assert_eq!(pts.steps.last().copied(), info.last_step);
    assert_eq!(info.count % 1000, 0, "only whole batches");
    let next = info.last_step.unwrap() + 1.0;
    assert!(s
        .execute(id, &[floats("by/p3", [next])])
        .unwrap()
        .is_empty());
}

// ---------------------------------------------------------------- performance

/// Release-mode check of the FloatSeries targets:
/// `cargo test -p neptune-core --release -- --ignored --nocapture float_series_performance`
/// (`NEPTUNE_PERF_BATCH` sets the points per batch, 50 000 by default).
#[test]
#[ignore = "performance check; run in release mode"]
fn float_series_performance() {
    const TOTAL: usize = 10_000_000;
    let batch: usize = std::env::var("NEPTUNE_PERF_BATCH")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(50_000);
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let id = new_run(&s);
    let path = p("train/loss");
    let batches: Vec<Operation> = (0..TOTAL / batch)
        .map(|b| Operation::LogFloats {
            path: path.clone(),
            points: (b * batch..(b + 1) * batch)
                .map(|i| FloatPoint {
                    step: Some(i as f64),
                    value: (i as f64 * 1e-3).sin(),
                    timestamp_ms: 1_700_000_000_000 + i as i64 / 10,
                })
                .collect(),
        })
        .collect();
    let t = Instant::now();
    for op in &batches {
        assert!(s.execute(&id, std::slice::from_ref(op)).unwrap().is_empty());
    }
    let write = t.elapsed();
    drop(batches);
    s.sqlite_writer()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let db = std::fs::metadata(dir.path().join("store.db"))
        .unwrap()
        .len();
    let wal = std::fs::metadata(dir.path().join("store.db-wal")).map_or(0, |m| m.len());

    let t = Instant::now();
    let info = s.fetch_series_info(&id, &path).unwrap().unwrap();
    let info_time = t.elapsed();
    assert_eq!(info.count, TOTAL as u64);

    let fetch_million = || {
        let t = Instant::now();
        let mut after = None;
        let mut n = 0;
        while n < 1_000_000 {
            let pg = s.fetch_float_points(&id, &path, after, 100_000).unwrap();
            n += pg.len();
            after = pg.steps.last().copied();
        }
        assert_eq!(n, 1_000_000);
        t.elapsed()
    };
    let cold = fetch_million();
    let warm = fetch_million();
    let t = Instant::now();
    let one = s
        .fetch_float_points(&id, &path, Some(5_000_000.0), 1_000_000)
        .unwrap();
    let mid = t.elapsed();
    assert_eq!(one.len(), 1_000_000);
    assert_eq!(one.steps[0], 5_000_001.0);

    let rate = TOTAL as f64 / write.as_secs_f64();
    let per_point = (db + wal) as f64 / TOTAL as f64;
    println!(
        "write {TOTAL} points in batches of {batch}: {write:.2?} ({:.2} M points/s)\n\
         db file {db} bytes + wal {wal} bytes = {per_point:.2} bytes/point\n\
         fetch_series_info: {info_time:.2?}\n\
         fetch 1M points (10 pages of 100k): first {cold:.2?}, again {warm:.2?}\n\
         fetch 1M points in one call from step 5M: {mid:.2?}",
        rate / 1e6
    );
    assert!(rate >= 2e6, "{rate} points/s");
    assert!(per_point <= 32.0, "{per_point} bytes/point");
    assert!(warm <= Duration::from_millis(150), "{warm:?}");
}
