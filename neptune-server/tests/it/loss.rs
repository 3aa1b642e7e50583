//! The client never throws data away: behind a body limit (413) every point is stored after
//! splitting; a batch the server refuses, or an operation it refuses, is kept aside in the
//! queue's folder and reported, never acknowledged as stored; a full disk makes logging wait
//! and lose nothing. Each test prints what was logged and what was stored.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::{capture_logs, contiguous, logs, reader, steps_of, sync_opts, Server};
use neptune_core::backend::{ObjectKind, OpenRequest};
use neptune_core::operation::{FloatPoint, Operation};
use neptune_core::queue_disk::{self, aside, DiskQueue};
use neptune_core::sync::{status, sync_all};
use neptune_core::{FieldPath, GitRef, LogOptions, Run};

#[test]
fn behind_a_1_mib_body_limit_every_point_is_stored() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_on(data.path(), "127.0.0.1:0", &["--max-body-mib", "1"]);
    let token = common::token(data.path(), "team/limit", "write");
    let home = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(home.path())
        .url(&server.url)
        .api_token(&token)
        .project("team/limit")
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let s = run.field("train/loss").float_series().unwrap();
    let n = 1_000_000usize;
    for i in 0..n {
        s.append_with(i as f64 * 0.5, LogOptions::new().step(i as f64))
            .unwrap();
    }
    run.wait().unwrap();
    let id = run.id().to_owned();
    run.stop().unwrap();
    let steps = steps_of(&reader(&server, &token, &id, home.path()), "train/loss");
    println!(
        "1 MiB body limit: logged {n} points, stored {}",
        steps.len()
    );
    assert!(contiguous(&steps, n), "{} stored", steps.len());
    assert!(status(home.path()).is_empty());
}

fn request(project: &str) -> OpenRequest {
    OpenRequest {
        kind: ObjectKind::Run,
        project: project.into(),
        with_id: None,
        custom_run_id: None,
        model: None,
        owner: "me".into(),
        read_only: false,
    }
}

fn points(path: &str, steps: std::ops::Range<u32>) -> Operation {
    Operation::LogFloats {
        path: FieldPath::parse(path).unwrap(),
        points: steps
            .map(|s| FloatPoint {
                step: Some(f64::from(s)),
                value: f64::from(s) / 3.0,
                timestamp_ms: 1,
            })
            .collect(),
    }
}

/// A queue left by a client that wrote big batches (as older versions did), with a batch the
/// server cannot read among them.
#[test]
fn a_batch_too_large_is_sent_in_parts_once_and_a_refused_batch_is_kept_aside() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_on(data.path(), "127.0.0.1:0", &["--max-body-mib", "1"]);
    let token = common::token(data.path(), "team/parts", "write");
    let home = tempfile::tempdir().unwrap();
    let root = home.path().join(queue_disk::QUEUE_DIR);
    let meta = queue_disk::new_meta(&server.url, "offline", request("team/parts"), "OFFLINE-P");
    let q = DiskQueue::create(&root, meta).unwrap();
    let dir = q.dir().to_path_buf();
    q.append_ops(&[points("a", 0..10)]).unwrap();
    q.append_ops_raw(br#"[{"type":"NoSuchOperation","path":"x"}]"#, 1)
        .unwrap();
    // About 5 MB in one batch: five times the limit.
    q.append_ops(&[points("a", 10..100_000)]).unwrap();
    q.append_ops(&[points("a", 100_000..100_010)]).unwrap();
    drop(q);
    // A copy, to sync again as if the first sync died before recording anything.
    let copy = home.path().join("copy");
    copy_dir(&dir, &copy);

    let report = sync_all(home.path(), &sync_opts(&token));
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(!report.is_complete());
    let synced = &report.synced[0];
    assert_eq!(synced.rejected.len(), 1, "{:?}", synced.rejected);
    assert!(
        synced.rejected[0].path.contains("batch #2"),
        "{:?}",
        synced.rejected
    );
    let entries = aside::read(&dir);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].kind, queue_disk::AsideKind::RefusedBatch);
    assert_eq!(
        entries[0].batch.as_ref().unwrap()[0]["type"],
        "NoSuchOperation"
    );
    let id = synced.server_id.clone();
    let r = reader(&server, &token, &id, home.path());
    let steps = steps_of(&r, "a");
    println!(
        "one 5 MB batch behind a 1 MiB limit: logged 100010 points, stored {}",
        steps.len()
    );
    assert!(contiguous(&steps, 100_010), "{} stored", steps.len());
    // The folder stays for what was kept aside; status lists it.
    let st = status(home.path());
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].set_aside.len(), 1);
    assert_eq!(st[0].pending_values, 0);

    // Everything sent again: applied once.
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::rename(&copy, &dir).unwrap();
    let report = sync_all(home.path(), &sync_opts(&token));
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.synced[0].server_id, id);
    assert_eq!(steps_of(&r, "a").len(), 100_010, "parts applied twice");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// Refusals met while `wait()` waits (the uploader acknowledges the record as it keeps the
/// operation aside: the report must be there first).
const REFUSALS: usize = 20;

#[test]
fn an_operation_the_server_refuses_is_kept_aside_and_reported() {
    capture_logs();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let token = common::token(data.path(), "team/refuse", "write");
    let home = tempfile::tempdir().unwrap();
    let open = |with_id: Option<&str>| {
        let mut b = Run::builder()
            .home(home.path())
            .url(&server.url)
            .api_token(&token)
            .project("team/refuse")
            .git_ref(GitRef::Disabled);
        if let Some(id) = with_id {
            b = b.with_id(id);
        }
        b.open().unwrap()
    };
    let a = open(None);
    let b = open(Some(a.id()));
    // `b` does not know that `a` made "x" a Float: the server refuses its String.
    a.field("x").assign(1.5).unwrap();
    a.wait().unwrap();
    b.field("x").assign("text").unwrap();
    b.field("y").assign(2).unwrap();
    // A read waits until the server answered b's writes: the uploader has met the refusal
    // before wait() is called, and wait() reports it all the same.
    assert_eq!(
        b.field("y").fetch().unwrap().to_json(),
        serde_json::json!(2)
    );
    assert!(logs().contains("refused \"x\""), "{}", logs());
    let e = b.wait().unwrap_err().to_string();
    assert!(e.contains("\"x\""), "{e}");
    assert!(e.contains("rejected.jsonl"), "{e}");
    // Reported once per wait().
    b.wait().unwrap();
    // The uploader meets each refusal while wait() waits: every wait() reports its own.
    for i in 0..REFUSALS {
        b.field("x").assign(format!("text {i}")).unwrap();
        let e = b.wait().unwrap_err().to_string();
        assert!(e.contains("\"x\""), "refusal {i}: {e}");
    }
    // stop() reports every loss since b opened.
    let e = b.stop().unwrap_err().to_string();
    assert!(e.contains("\"x\""), "{e}");
    assert!(e.contains(&format!("{} operation(s)", REFUSALS + 1)), "{e}");
    a.stop().unwrap();
    let st = status(home.path());
    assert_eq!(
        st.len(),
        1,
        "only the queue with the refused operation stays"
    );
    let kept = &st[0].set_aside;
    assert_eq!(kept.len(), REFUSALS + 1);
    assert_eq!(kept[0].path, "x");
    assert_eq!(kept[0].op.as_ref().unwrap()["value"], "text");
    assert_eq!(kept[REFUSALS].op.as_ref().unwrap()["value"], "text 19");
    let r = reader(&server, &token, a.id(), home.path());
    assert_eq!(
        r.field("y").fetch().unwrap().to_json(),
        serde_json::json!(2)
    );
    assert_eq!(
        r.field("x").fetch().unwrap().to_json(),
        serde_json::json!(1.5)
    );
}

/// Unmounts the small disk when the test ends.
struct Tmpfs(std::path::PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// A 2 MiB tmpfs at `<tempdir>/small`: `None` (with a note) when it cannot be mounted here
/// (it needs root).
fn small_disk() -> Option<(tempfile::TempDir, std::path::PathBuf, Tmpfs)> {
    let base = tempfile::tempdir().unwrap();
    let home = base.path().join("small");
    std::fs::create_dir_all(&home).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&home)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a 2 MiB tmpfs here (needs root)");
        return None;
    }
    let guard = Tmpfs(home.clone());
    Some((base, home, guard))
}

/// Whether a log line about the queue under `home` says `what`.
fn logged(home: &Path, what: &str) -> bool {
    let home = home.display().to_string();
    logs()
        .lines()
        .any(|l| l.contains(&home) && l.contains(what))
}

#[test]
fn a_full_disk_makes_logging_wait_and_loses_nothing() {
    capture_logs();
    let Some((base, home, _guard)) = small_disk() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path());
    let port = server.port();
    let token = common::token(data.path(), "team/full", "write");
    let run = Run::builder()
        .home(&home)
        .url(&server.url)
        .api_token(&token)
        .project("team/full")
        .flush_interval(Duration::from_millis(20))
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let id = run.id().to_owned();
    server.kill();
    let n = 1_500_000usize;
    let s = run.field("m").float_series().unwrap();
    let appender = std::thread::spawn(move || {
        for i in 0..n {
            s.append_with(i as f64, LogOptions::new().step(i as f64))
                .unwrap();
        }
    });
    // The disk fills up (the server is down): logging waits, and says so.
    while !logged(&home, "is full") {
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            !appender.is_finished(),
            "every append returned with a full disk"
        );
    }
    let server = Server::start_on(data.path(), &format!("127.0.0.1:{port}"), &[]);
    appender.join().unwrap();
    run.wait().unwrap();
    run.stop().unwrap();
    let steps = steps_of(&reader(&server, &token, &id, base.path()), "m");
    println!(
        "2 MiB disk, server down: logged {n} points, stored {}",
        steps.len()
    );
    assert!(contiguous(&steps, n), "{} stored", steps.len());
    assert!(logged(&home, "room again"), "{}", logs());
}

/// A training loop blocks on a full disk (the server down); `stop()` from another thread still
/// ends at its timeout: what reached the queue waits there for `neptune sync`, what could not
/// be written is counted in the error, and the points kept have no gap.
#[test]
fn stop_on_a_full_disk_keeps_its_timeout_and_names_neptune_sync() {
    capture_logs();
    let Some((_base, home, _guard)) = small_disk() else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path());
    let token = common::token(data.path(), "team/stopfull", "write");
    let run = Run::builder()
        .home(&home)
        .url(&server.url)
        .api_token(&token)
        .project("team/stopfull")
        .flush_interval(Duration::from_millis(20))
        .stop_timeout(Duration::from_secs(2))
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let id = run.id().to_owned();
    server.kill();
    let s = run.field("m").float_series().unwrap();
    let appender = std::thread::spawn(move || {
        let mut n = 0u64;
        loop {
            if let Err(e) = s.append_with(n as f64, LogOptions::new().step(n as f64)) {
                return (n, e.to_string());
            }
            n += 1;
        }
    });
    while !logged(&home, "is full") {
        std::thread::sleep(Duration::from_millis(50));
        assert!(!appender.is_finished(), "an append failed on a full disk");
    }
    let e = run.stop().unwrap_err().to_string();
    assert!(e.contains("neptune sync"), "{e}");
    let (appended, after) = appender.join().unwrap();
    assert!(after.contains("stopped"), "{after}");
    let at = e
        .find(" value(s) could not be written to the queue and are lost")
        .unwrap_or_else(|| panic!("no count of values lost in: {e}"));
    let lost: u64 = e[..at].rsplit(' ').next().unwrap().parse().unwrap();

    let server = Server::start(data.path());
    let mut o = sync_opts(&token);
    o.url = Some(server.url.clone());
    let report = sync_all(&home, &o);
    assert!(report.is_complete(), "{report:?}");
    let steps = steps_of(&reader(&server, &token, &id, &home), "m");
    println!(
        "2 MiB disk, server down, stop(): appended {appended}, kept {}, reported lost {lost}",
        steps.len()
    );
    assert!(contiguous(&steps, steps.len()), "a gap in what was kept");
    // The values lost are the last points appended, and sys/state written by stop().
    let accounted = steps.len() as u64 + lost;
    assert!(
        (appended..=appended + 1).contains(&accounted),
        "appended {appended}, kept {}, lost {lost}",
        steps.len()
    );
}
