//! Concurrency and crashes with real threads and real processes: eight threads on one run, two
//! processes on one store and one run, and a writer killed with SIGKILL.
//!
//! Child processes are this test binary run again with `NEPTUNE_TEST_ROLE` set; the
//! `child_entry` test does the child's work and does nothing in a normal run.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use neptune::{LogOptions, Mode, Run, Value};

const ROLE: &str = "NEPTUNE_TEST_ROLE";

fn spawn_child(role: &str, home: &Path, extra: &[(&str, &str)]) -> Child {
    spawn(role, home, extra, Stdio::inherit())
}

fn spawn(role: &str, home: &Path, extra: &[(&str, &str)], stderr: Stdio) -> Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "processes::child_entry",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(ROLE, role)
    .env("NEPTUNE_HOME", home)
    .stdout(Stdio::piped())
    .stderr(stderr);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// The work of a child process, chosen by `NEPTUNE_TEST_ROLE`.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let tag = std::env::var("CHILD_TAG").unwrap_or_default();
    match role.as_str() {
        "shared-writer" => {
            let run = Run::builder()
                .custom_run_id("two-processes")
                .open()
                .unwrap();
            let s = run.field(&format!("by/{tag}")).float_series().unwrap();
            for i in 0..20_000 {
                s.append(i as f64).unwrap();
            }
            run.field(&format!("done/{tag}")).assign(true).unwrap();
            run.stop().unwrap();
            println!("\n@@id {}", run.id());
        }
        "same-series-writer" => {
            // Both children append to one series without steps, at the same time.
            let run = Run::builder().custom_run_id("one-series").open().unwrap();
            let s = run.field("shared/loss").float_series().unwrap();
            let base = if tag == "a" { 0.0 } else { 1e6 };
            s.append(base).unwrap();
            run.wait().unwrap();
            // Go on only once the other child has written too: the two overlap for sure.
            let started = std::time::Instant::now();
            while s.fetch_values().unwrap().len() < 2 {
                assert!(
                    started.elapsed() < Duration::from_secs(300),
                    "no other writer"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            for i in 1..SAME_SERIES_POINTS {
                s.append(base + i as f64).unwrap();
                if i % 1000 == 0 {
                    run.wait().unwrap();
                }
            }
            let failures = run.failures();
            run.stop().unwrap();
            println!("\n@@id {} {failures}", run.id());
        }
        "async-failure" => {
            // Another writer makes "x" a Float after this object loaded its field list: the
            // store refuses this object's series at "x" in the background.
            let run = Run::builder()
                .custom_run_id("conflict")
                .mode(Mode::Async)
                .open()
                .unwrap();
            let other = Run::builder()
                .custom_run_id("conflict")
                .mode(Mode::Sync)
                .open()
                .unwrap();
            other.field("x").assign(1.0).unwrap();
            other.stop().unwrap();
            run.field("x").float_series().unwrap().append(2.0).unwrap();
            // Writes what is queued (no wait(): nothing reports the failure to this call).
            run.sync().unwrap();
            eprintln!("@@after-sync failures={}", run.failures());
            match run.stop() {
                Ok(()) => eprintln!("@@stop Ok"),
                Err(e) => eprintln!("@@stop Err({e})"),
            }
        }
        "killed-writer" => {
            let run = Run::builder()
                .flush_interval(Duration::from_millis(100))
                .open()
                .unwrap();
            println!("\n@@id {}", run.id());
            let s = run.field("metrics/loss").float_series().unwrap();
            let mut i: u64 = 0;
            loop {
                for _ in 0..1000 {
                    s.append_with(i as f64, LogOptions::new().step(i as f64))
                        .unwrap();
                    i += 1;
                }
                run.wait().unwrap();
                // Everything up to i is stored: the parent may kill us from here on.
                println!("\n@@acked {i}");
            }
        }
        "interval-writer" => {
            // Default flush interval; no wait(): only the background worker writes.
            let run = Run::builder().open().unwrap();
            println!("\n@@id {}", run.id());
            let s = run.field("metrics/acc").float_series().unwrap();
            for i in 0..5000 {
                s.append(i as f64).unwrap();
            }
            run.field("params/batch").assign(64).unwrap();
            println!("\n@@appended 5000");
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        "from-env" => {
            // Everything from NEPTUNE_PROJECT / NEPTUNE_MODE / NEPTUNE_HOME / NEPTUNE_CUSTOM_RUN_ID.
            let run = neptune::init_run().unwrap();
            run.field("x").assign(1).unwrap();
            println!("\n@@id {} {} {}", run.id(), run.project(), run.mode());
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn eight_threads_write_to_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder().home(dir.path()).open().unwrap();
    let shared = run.field("shared").float_series().unwrap();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let run = run.clone();
            let shared = shared.clone();
            scope.spawn(move || {
                let own = run.field(&format!("thread/{t}")).float_series().unwrap();
                for i in 0..5000 {
                    own.append(i as f64).unwrap();
                    shared.append(t as f64).unwrap();
                    if i % 1000 == 0 {
                        run.field(&format!("params/{t}")).assign(i).unwrap();
                    }
                }
            });
        }
    });
    run.wait().unwrap();
    for t in 0..8 {
        let v = run
            .field(&format!("thread/{t}"))
            .float_series()
            .unwrap()
            .fetch_values()
            .unwrap();
        assert_eq!(v.len(), 5000);
        assert!(v.values().iter().enumerate().all(|(i, x)| *x == i as f64));
        assert_eq!(
            run.field(&format!("params/{t}")).fetch().unwrap(),
            Value::Integer(4000)
        );
    }
    let all = shared.fetch_values().unwrap();
    assert_eq!(all.len(), 40_000);
    assert!(all.steps().windows(2).all(|w| w[0] < w[1]));
    for t in 0..8 {
        assert_eq!(
            all.values().iter().filter(|v| **v == t as f64).count(),
            5000
        );
    }
}

#[test]
fn two_processes_write_to_one_store_and_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<Child> = ["a", "b"]
        .iter()
        .map(|tag| spawn_child("shared-writer", dir.path(), &[("CHILD_TAG", tag)]))
        .collect();
    let mut ids = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "child failed: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("@@id "))
            .unwrap()
            .to_owned();
        ids.push(id);
    }
    assert_eq!(ids[0], ids[1], "both processes joined one run");
    let run = Run::builder()
        .home(dir.path())
        .with_id(&ids[0])
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    for tag in ["a", "b"] {
        let v = run
            .field(&format!("by/{tag}"))
            .float_series()
            .unwrap()
            .fetch_values()
            .unwrap();
        assert_eq!(v.len(), 20_000, "series of {tag}");
        assert_eq!(
            run.field(&format!("done/{tag}")).fetch().unwrap(),
            Value::Boolean(true)
        );
    }
}

/// Points each child of `two_processes_append_to_one_series_without_steps` appends.
const SAME_SERIES_POINTS: usize = 20_000;

#[test]
fn two_processes_append_to_one_series_without_steps() {
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<Child> = ["a", "b"]
        .iter()
        .map(|tag| spawn_child("same-series-writer", dir.path(), &[("CHILD_TAG", tag)]))
        .collect();
    let mut ids = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "child failed: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find_map(|l| l.strip_prefix("@@id ")).unwrap();
        let (id, failures) = line.split_once(' ').unwrap();
        assert_eq!(failures, "0", "a child lost points");
        ids.push(id.to_owned());
    }
    assert_eq!(ids[0], ids[1], "both processes joined one run");
    let run = Run::builder()
        .home(dir.path())
        .with_id(&ids[0])
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let v = run
        .field("shared/loss")
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    assert_eq!(v.len(), 2 * SAME_SERIES_POINTS, "every point of both kept");
    assert!(v.steps().windows(2).all(|w| w[0] < w[1]));
    assert_eq!(v.steps()[0], 0.0);
    assert_eq!(v.steps()[v.len() - 1], (v.len() - 1) as f64);
    for base in [0.0, 1e6] {
        let own: Vec<f64> = v
            .values()
            .iter()
            .copied()
            .filter(|x| (base..base + 1e6).contains(x))
            .collect();
        let expected: Vec<f64> = (0..SAME_SERIES_POINTS).map(|i| base + i as f64).collect();
        assert_eq!(own, expected, "the points of one writer, in its order");
    }
}

#[test]
fn a_background_failure_is_reported_on_stderr_when_it_happens() {
    let dir = tempfile::tempdir().unwrap();
    let child = spawn("async-failure", dir.path(), &[], Stdio::piped());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed: {stderr}");
    let warning = stderr
        .find("\"x\" was not written")
        .unwrap_or_else(|| panic!("no warning on stderr: {stderr}"));
    let line = stderr[..warning].rsplit('\n').next().unwrap_or_default();
    assert!(line.starts_with("neptune: "), "{stderr}");
    // Said by the worker when the store refused it, before the program looked.
    let seen = stderr.find("@@after-sync failures=1").expect("count");
    assert!(warning < seen, "{stderr}");
    let stop = &stderr[stderr.find("@@stop ").expect("stop")..];
    assert!(stop.starts_with("@@stop Err("), "{stderr}");
    assert!(stop.contains("failed in the background"), "{stderr}");
}

#[test]
fn sigkilled_writer_leaves_a_clean_store_with_everything_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_child("killed-writer", dir.path(), &[]);
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut id = String::new();
    let mut acked = 0u64;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(i) = line.strip_prefix("@@id ") {
            id = i.to_owned();
        }
        if let Some(n) = line.strip_prefix("@@acked ") {
            acked = n.parse().unwrap();
            if acked >= 30_000 {
                break;
            }
        }
    }
    // SIGKILL: no destructor, no stop, no flush.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    drop(lines);

    let run = Run::builder()
        .home(dir.path())
        .with_id(&id)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let v = run
        .field("metrics/loss")
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    assert!(
        v.len() as u64 >= acked,
        "{} points stored, {acked} were acknowledged",
        v.len()
    );
    assert!(
        v.steps().iter().enumerate().all(|(i, s)| *s == i as f64),
        "points are contiguous"
    );

    // The store takes writes again: a new run in the same home.
    let next = Run::builder().home(dir.path()).open().unwrap();
    next.field("after_crash").assign(1).unwrap();
    next.wait().unwrap();
    assert_eq!(
        next.field("after_crash").fetch().unwrap(),
        Value::Integer(1)
    );
}

#[test]
fn settings_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let run_child = |mode: &str| {
        let child = spawn_child(
            "from-env",
            dir.path(),
            &[
                ("NEPTUNE_MODE", mode),
                ("NEPTUNE_PROJECT", "env-team/env-proj"),
                ("NEPTUNE_CUSTOM_RUN_ID", "from-env"),
            ],
        );
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.success(), text)
    };
    let (ok, text) = run_child("offline");
    assert!(ok, "{text}");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("@@id "))
        .unwrap()
        .to_owned();
    assert_eq!(line, "EP-1 env-team/env-proj offline");
    // The custom run id from the environment joins the same run.
    let (ok, text) = run_child("sync");
    assert!(ok, "{text}");
    assert!(text.contains("@@id EP-1 env-team/env-proj sync"), "{text}");
    // Debug mode writes nothing: the store still has one run only.
    let (ok, text) = run_child("debug");
    assert!(ok, "{text}");
    let run = Run::builder()
        .home(dir.path())
        .with_id("EP-1")
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    assert_eq!(run.field("x").fetch().unwrap(), Value::Integer(1));
    assert!(Run::builder()
        .home(dir.path())
        .with_id("EP-2")
        .mode(Mode::ReadOnly)
        .open()
        .is_err());
    // A bad mode is a clear error.
    let (ok, text) = run_child("turbo");
    assert!(!ok, "{text}");
}

#[test]
fn a_killed_writer_loses_at_most_the_flush_interval() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn_child("interval-writer", dir.path(), &[]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut id = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(i) = line.strip_prefix("@@id ") {
            id = i.to_owned();
        }
        if line.starts_with("@@appended") {
            break;
        }
    }
    // Three flush intervals (500 ms by default) later, everything logged is on disk.
    std::thread::sleep(neptune::defaults::DEFAULT_FLUSH_INTERVAL * 3);
    child.kill().unwrap();
    child.wait().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .with_id(&id)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let v = run
        .field("metrics/acc")
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    assert_eq!(v.len(), 5000);
    assert_eq!(
        run.field("params/batch").fetch().unwrap(),
        Value::Integer(64)
    );
    // Killed, not stopped: the run still says Active.
    assert_eq!(
        run.field("sys/state").fetch().unwrap(),
        Value::RunState(neptune::RunState::Active)
    );
}
