//! Failures on either side: the server killed and restarted mid-run, a client killed with
//! SIGKILL and completed by `neptune sync`, offline runs, a stop that times out, and syncing a
//! run whose writer still lives.

use crate::common;

use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{capture_logs, count_logs, reader, steps_of, sync_opts, Server};
use neptune_core::sync::{status, sync_all, sync_one};
use neptune_core::{GitRef, LogOptions, Mode, Run};

#[test]
fn server_killed_and_restarted_mid_run_loses_and_doubles_nothing() {
    capture_logs();
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path());
    let port = server.port();
    let token = common::token(data.path(), "team/crash", "write");
    let home = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(home.path())
        .url(&server.url)
        .api_token(&token)
        .project("team/crash")
        .flush_interval(Duration::from_millis(20))
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let loss = run.field("train/loss").float_series().unwrap();
    let n = 60_000u32;
    let mut restarted = false;
    for i in 0..n {
        loss.append_with(i as f64 * 0.5, LogOptions::new().step(i as f64))
            .unwrap();
        if i % 500 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
        if i == 20_000 {
            server.kill(); // mid-upload, mid-request perhaps
        }
        if i == 40_000 {
            // The training loop never waited on the network meanwhile (it got here with the
            // server down): what it logged is in the queue on disk.
            let queued = status(home.path());
            assert!(
                queued.iter().any(|q| q.pending_values > 0),
                "{:?}",
                queued.iter().map(|q| q.pending_values).collect::<Vec<_>>()
            );
            server = Server::start_on(data.path(), &format!("127.0.0.1:{port}"), &[]);
            restarted = true;
        }
    }
    assert!(restarted);
    run.field("done").assign(true).unwrap();
    run.wait().unwrap();
    let steps = steps_of(&run, "train/loss");
    assert_eq!(steps.len(), n as usize, "points lost or doubled");
    assert!(steps.iter().enumerate().all(|(i, s)| *s == i as f64));
    let id = run.id().to_owned();
    run.stop().unwrap();
    let r = reader(&server, &token, &id, home.path());
    assert_eq!(steps_of(&r, "train/loss").len(), n as usize);
    assert_eq!(count_logs("lost the connection"), 1, "{}", common::logs());
    assert_eq!(count_logs("is back"), 1);
}

#[test]
fn a_sigkilled_client_is_completed_by_sync_and_a_live_one_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path());
    let port = server.port();
    let token = common::token(data.path(), "team/kill", "write");
    let home = tempfile::tempdir().unwrap();
    let go = home.path().join("go");
    let home_s = home.path().display().to_string();
    let go_s = go.display().to_string();
    let mut child = common::spawn_child(
        "killed-writer",
        &[
            ("NEPTUNE_URL", &server.url),
            ("NEPTUNE_API_TOKEN", &token),
            ("NEPTUNE_HOME", &home_s),
            ("NEPTUNE_PROJECT", "team/kill"),
            ("GO_FILE", &go_s),
        ],
    );
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let id = common::read_marker(&mut out, "acked");
    // The writer lives: its queue is locked, and sync refuses it without touching it.
    let queues = neptune_core::queue_disk::list(&home.path().join("queue"));
    assert_eq!(queues.len(), 1);
    let e = sync_one(&queues[0], &sync_opts(&token))
        .unwrap_err()
        .to_string();
    assert!(e.contains("still being written"), "{e}");
    let st = status(home.path());
    assert!(st[0].live);
    // The server goes away; the child logs more, durably, then is killed.
    server.kill();
    std::fs::write(&go, b"").unwrap();
    let total: usize = common::read_marker(&mut out, "durable").parse().unwrap();
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();

    let st = status(home.path());
    assert_eq!(st.len(), 1);
    assert!(!st[0].live);
    assert!(st[0].pending_values >= 5000, "{}", st[0].pending_values);
    assert_eq!(st[0].meta.server_id.as_deref(), Some(id.as_str()));

    let server = Server::start_on(data.path(), &format!("127.0.0.1:{port}"), &[]);
    let report = sync_all(home.path(), &sync_opts(&token));
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.synced.len(), 1);
    assert_eq!(report.synced[0].server_id, id);
    assert!(status(home.path()).is_empty());
    let r = reader(&server, &token, &id, home.path());
    let steps = steps_of(&r, "metrics/loss");
    assert_eq!(steps.len(), total, "points lost or doubled");
    assert!(steps.iter().enumerate().all(|(i, s)| *s == i as f64));
    // Syncing again has nothing to do.
    assert!(sync_all(home.path(), &sync_opts(&token)).synced.is_empty());
}

#[test]
fn offline_runs_sync_and_one_failure_does_not_stop_the_others() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let token_x = common::token(data.path(), "team/x", "write");
    let home = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for project in ["team/x", "team/y", "team/x"] {
        // No token needed offline; nothing reaches the server.
        let run = Run::builder()
            .home(home.path())
            .url(&server.url)
            .project(project)
            .mode(Mode::Offline)
            .tags(["offline"])
            .git_ref(GitRef::Disabled)
            .open()
            .unwrap();
        assert!(run.id().starts_with("OFFLINE-"), "{}", run.id());
        let s = run.field("m").float_series().unwrap();
        s.extend((0..1000).map(f64::from)).unwrap();
        run.field("p").assign(project).unwrap();
        run.stop().unwrap();
        ids.push(run.id().to_owned());
    }
    let st = status(home.path());
    assert_eq!(st.len(), 3);
    assert!(st
        .iter()
        .all(|s| s.meta.mode == "offline" && s.pending_values >= 1000 && !s.live));

    let report = sync_all(home.path(), &sync_opts(&token_x));
    assert_eq!(report.synced.len(), 2, "{:?}", report.failed);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].1.contains("403"), "{}", report.failed[0].1);
    for s in &report.synced {
        assert!(s.server_id.starts_with("X-"), "{}", s.server_id);
        let r = reader(&server, &token_x, &s.server_id, home.path());
        assert_eq!(steps_of(&r, "m").len(), 1000);
        assert_eq!(r.field("p").fetch().unwrap().as_str(), Some("team/x"));
        assert!(r.tags().fetch().unwrap().contains("offline"));
        assert_eq!(
            r.field("sys/state").fetch().unwrap().to_json(),
            serde_json::json!("Inactive")
        );
    }
    // The failed one stays, and syncs once a token allows it.
    let left = status(home.path());
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].meta.request.project, "team/y");
    let token_y = common::token(data.path(), "team/y", "write");
    let report = sync_all(home.path(), &sync_opts(&token_y));
    assert_eq!(report.synced.len(), 1, "{:?}", report.failed);
    assert!(status(home.path()).is_empty());
}

#[test]
fn a_stop_that_times_out_leaves_the_rest_for_sync() {
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path());
    let port = server.port();
    let token = common::token(data.path(), "team/stop", "write");
    let home = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(home.path())
        .url(&server.url)
        .api_token(&token)
        .project("team/stop")
        .stop_timeout(Duration::from_secs(2))
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let id = run.id().to_owned();
    run.field("a").assign(1).unwrap();
    run.wait().unwrap();
    server.kill();
    let s = run.field("s").float_series().unwrap();
    s.extend((0..3000).map(f64::from)).unwrap();
    // stop() ends at its timeout with what waits named, not with a worker that did not answer.
    let e = run.stop().unwrap_err().to_string();
    assert!(e.contains("neptune sync"), "{e}");
    assert!(!e.contains("did not finish writing"), "{e}");
    assert!(e.contains("3001 value(s)"), "{e}");
    drop(run);
    let st = status(home.path());
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].pending_values, 3001);
    let server = Server::start_on(data.path(), &format!("127.0.0.1:{port}"), &[]);
    let report = sync_all(home.path(), &sync_opts(&token));
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let r = reader(&server, &token, &id, home.path());
    assert_eq!(steps_of(&r, "s").len(), 3000);
    assert_eq!(
        r.field("sys/state").fetch().unwrap().to_json(),
        serde_json::json!("Inactive")
    );
}

/// The work of a child process, chosen by its role; false for a role that is not crash.rs's.
pub fn child(role: &str) -> bool {
    match role {
        "killed-writer" => {
            let run = Run::builder()
                .flush_interval(Duration::from_millis(20))
                .git_ref(GitRef::Disabled)
                .open()
                .unwrap();
            let s = run.field("metrics/loss").float_series().unwrap();
            let mut i = 0u32;
            for _ in 0..1000 {
                s.append_with(f64::from(i), LogOptions::new().step(f64::from(i)))
                    .unwrap();
                i += 1;
            }
            run.wait().unwrap();
            println!("\n@@acked {}", run.id());
            let go = std::env::var("GO_FILE").unwrap();
            while !Path::new(&go).exists() {
                std::thread::sleep(Duration::from_millis(10));
            }
            for _ in 0..5000 {
                s.append_with(f64::from(i), LogOptions::new().step(f64::from(i)))
                    .unwrap();
                i += 1;
            }
            // Written to the queue on disk by the worker's next ticks.
            std::thread::sleep(Duration::from_millis(500));
            println!("\n@@durable {i}");
            let keep = Arc::new(run);
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let _ = &keep;
            }
        }
        _ => false,
    }
}
