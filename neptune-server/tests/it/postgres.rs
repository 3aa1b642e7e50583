//! The server on PostgreSQL (`--database`): PostgreSQL restarted while a client streams, and
//! two servers on one database serving one run. Needs `NEPTUNE_TEST_POSTGRES` and
//! `NEPTUNE_TEST_PG_CTL` (`scripts/test` starts PostgreSQL and sets both); in CI their absence
//! is a failure, elsewhere the tests are skipped with a message.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{self, contiguous, engine, reader, steps_of, Server};
use neptune_core::sync::status;
use neptune_core::{GitRef, LogOptions, Run};

/// The command that controls the test PostgreSQL (`pg_ctl -D DIR`, maybe as another user).
fn pg_ctl() -> Option<Vec<String>> {
    match (
        std::env::var("NEPTUNE_TEST_POSTGRES"),
        std::env::var("NEPTUNE_TEST_PG_CTL"),
    ) {
        (Ok(url), Ok(ctl)) if !url.is_empty() && !ctl.is_empty() => {
            Some(ctl.split_whitespace().map(str::to_owned).collect())
        }
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "NEPTUNE_TEST_POSTGRES is not set in CI: run the tests through scripts/test"
            );
            eprintln!(
                "skipping: NEPTUNE_TEST_POSTGRES is not set (scripts/test starts PostgreSQL)"
            );
            None
        }
    }
}

/// A server on a fresh database, its data directory holding only the file area.
fn start(data: &Path, database: &str) -> Server {
    Server::start_on(data, "127.0.0.1:0", &["--database", database])
}

fn token(data: &Path, database: &str, project: &str) -> String {
    let out = Command::new(common::BIN)
        .arg("--data")
        .arg(data)
        .args(["--database", database])
        .args(["token", "create", "--project", project, "--scope", "write"])
        .output()
        .expect("token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn open_run(home: &Path, server: &Server, token: &str, custom: &str) -> Run {
    Run::builder()
        .home(home)
        .url(&server.url)
        .api_token(token)
        .project("team/pg")
        .custom_run_id(custom)
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap()
}

#[test]
fn postgres_restarted_during_a_stream_loses_nothing() {
    let Some(ctl) = pg_ctl() else { return };
    let database = engine::fresh_database();
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path(), &database);
    let token = token(data.path(), &database, "team/pg");
    let home = tempfile::tempdir().unwrap();
    let run = open_run(home.path(), &server, &token, "restart");
    let s = run.field("train/loss").float_series().unwrap();
    let n = 200_000usize;
    for i in 0..n {
        s.append_with(i as f64, LogOptions::new().step(i as f64))
            .unwrap();
        if i == n / 2 {
            run.wait().unwrap();
            // Fast shutdown ends every connection of the server, then PostgreSQL comes back.
            // (Not `output()`: the restarted postmaster keeps the pipes open.)
            let ok = Command::new(&ctl[0])
                .args(&ctl[1..])
                .args(["-m", "fast", "-w", "restart"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("pg_ctl restart");
            assert!(ok.success(), "pg_ctl restart failed");
        }
    }
    run.wait().unwrap();
    let id = run.id().to_owned();
    run.stop().unwrap();
    let steps = steps_of(&reader(&server, &token, &id, home.path()), "train/loss");
    assert!(contiguous(&steps, n), "{} stored", steps.len());
    assert!(status(home.path()).is_empty());
}

#[test]
fn two_servers_on_one_database_write_one_run() {
    if pg_ctl().is_none() {
        return;
    }
    let database = engine::fresh_database();
    let (a_data, b_data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(a_data.path(), &database);
    let b = start(b_data.path(), &database);
    // A token made through one server's database works on both.
    let token = token(a_data.path(), &database, "team/pg");
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ra = open_run(home_a.path(), &a, &token, "shared");
    let rb = open_run(home_b.path(), &b, &token, "shared");
    assert_eq!(ra.id(), rb.id(), "one custom run id, one run");
    let n = 20_000usize;
    // Steps the server assigns: both clients' points are kept, numbered in one sequence.
    let (sa, sb) = (
        ra.field("both").float_series().unwrap(),
        rb.field("both").float_series().unwrap(),
    );
    for i in 0..n {
        sa.append(i as f64).unwrap();
        sb.append(i as f64).unwrap();
    }
    ra.wait().unwrap();
    rb.wait().unwrap();
    let id = ra.id().to_owned();
    ra.stop().unwrap();
    rb.stop().unwrap();
    let steps = steps_of(&reader(&b, &token, &id, home_b.path()), "both");
    assert!(contiguous(&steps, 2 * n), "{} stored", steps.len());
}

#[test]
fn a_replica_sigkilled_mid_stream_loses_and_doubles_nothing() {
    if pg_ctl().is_none() {
        return;
    }
    common::capture_logs();
    let database = engine::fresh_database();
    // Two replicas on one database and one file folder.
    let files = tempfile::tempdir().unwrap();
    let mut a = start(files.path(), &database);
    let b = start(files.path(), &database);
    let (port_a, url_a) = (a.port(), a.url.clone());
    let token = token(files.path(), &database, "team/pg");
    let (home_a, home_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ra = open_run(home_a.path(), &a, &token, "replica-kill");
    let rb = open_run(home_b.path(), &b, &token, "replica-kill");
    assert_eq!(ra.id(), rb.id(), "one custom run id, one run");
    // Each client's own series (its steps) and one series both append to (steps the server
    // assigns, in one sequence: a batch stored twice shows there as extra steps).
    let (own_a, own_b) = (
        ra.field("a/loss").float_series().unwrap(),
        rb.field("b/loss").float_series().unwrap(),
    );
    let (both_a, both_b) = (
        ra.field("both").float_series().unwrap(),
        rb.field("both").float_series().unwrap(),
    );
    let log = |i: usize| {
        let step = LogOptions::new().step(i as f64);
        own_a.append_with(i as f64, step).unwrap();
        own_b.append_with(i as f64, step).unwrap();
        both_a.append(i as f64).unwrap();
        both_b.append(i as f64).unwrap();
    };
    let lost = format!("lost the connection to {url_a}");
    let back = format!("the connection to {url_a} is back");
    let mut i = 0usize;
    // Both streams reach their replicas; then more points, so that A's client is sending
    // when its replica dies.
    while i < 10_000 {
        log(i);
        i += 1;
    }
    ra.wait().unwrap();
    rb.wait().unwrap();
    while i < 12_000 {
        log(i);
        i += 1;
    }
    a.kill(); // SIGKILL
              // Both clients keep logging until A's client has found its replica gone (bounded).
    let t0 = std::time::Instant::now();
    while i < 20_000 || common::count_logs(&lost) == 0 {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(120),
            "A's client never noticed its replica died: {}",
            common::logs()
        );
        for _ in 0..100 {
            log(i);
            i += 1;
        }
    }
    // Replica B serves its client alone meanwhile.
    rb.wait().unwrap();
    // Our client has one URL: the replacement replica takes the killed one's port.
    a = Server::start_on(
        files.path(),
        &format!("127.0.0.1:{port_a}"),
        &["--database", &database],
    );
    let n = i + 10_000;
    while i < n {
        log(i);
        i += 1;
    }
    ra.wait().unwrap();
    rb.wait().unwrap();
    let id = ra.id().to_owned();
    ra.stop().unwrap();
    rb.stop().unwrap();
    assert!(status(home_a.path()).is_empty());
    assert!(status(home_b.path()).is_empty());
    assert_eq!(common::count_logs(&lost), 1, "{}", common::logs());
    assert_eq!(common::count_logs(&back), 1, "{}", common::logs());
    // Read through a replica that never saw a write: the state is all in the database.
    let home_c = tempfile::tempdir().unwrap();
    let c = start(files.path(), &database);
    let r = reader(&c, &token, &id, home_c.path());
    let (steps_a, steps_b, both) = (
        steps_of(&r, "a/loss"),
        steps_of(&r, "b/loss"),
        steps_of(&r, "both"),
    );
    assert!(
        contiguous(&steps_a, n),
        "a/loss: {} of {n} stored",
        steps_a.len()
    );
    assert!(
        contiguous(&steps_b, n),
        "b/loss: {} of {n} stored",
        steps_b.len()
    );
    assert!(
        contiguous(&both, 2 * n),
        "both: {} of {} stored",
        both.len(),
        2 * n
    );
    drop(a);
}
