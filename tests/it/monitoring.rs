//! What a run records about its process: hardware metrics sampled at the interval, hostname,
//! pid and Rust version, the Cargo.lock, and stdout/stderr captured in a real child process
//! (this test binary run again with `NEPTUNE_TEST_ROLE`; `child_entry` does the child's work).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use neptune::{GitRef, Mode, Run, Value};

const ROLE: &str = "NEPTUNE_TEST_ROLE";

/// The fields under `monitoring/<id>/` of this run's only process, and the id.
fn monitoring(run: &Run) -> (String, BTreeMap<String, Value>) {
    let Value::Namespace(root) = run.fetch().unwrap() else {
        panic!("a run is a namespace")
    };
    let Some(Value::Namespace(by_process)) = root.get("monitoring") else {
        panic!("no monitoring namespace: {root:?}")
    };
    assert_eq!(by_process.len(), 1, "one process: {by_process:?}");
    let (id, fields) = by_process.iter().next().unwrap();
    let Value::Namespace(fields) = fields else {
        panic!("{fields:?}")
    };
    (id.clone(), fields.clone())
}

fn reopen(home: &Path, id: &str) -> Run {
    Run::builder()
        .home(home)
        .with_id(id)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap()
}

#[test]
fn hardware_metrics_come_every_interval_with_host_pid_and_rust_version() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .git_ref(GitRef::Disabled)
        .monitoring_interval(Duration::from_millis(50))
        .open()
        .unwrap();
    run.wait().unwrap();
    let (id, fields) = monitoring(&run);
    assert_eq!(
        fields.get("pid"),
        Some(&Value::Integer(i64::from(std::process::id())))
    );
    assert_eq!(
        fields.get("hostname"),
        Some(&run.field("sys/hostname").fetch().unwrap())
    );
    let rust = fields.get("rust_version").and_then(|v| v.as_str()).unwrap();
    assert!(rust.starts_with("rustc 1."), "{rust}");
    let cpu = format!("monitoring/{id}/cpu");
    // Points come from the monitor's thread; wait until it has sampled three times.
    let mut polls = 0;
    loop {
        run.wait().unwrap();
        if run.exists(&cpu)
            && run
                .field(&cpu)
                .float_series()
                .unwrap()
                .fetch_values()
                .unwrap()
                .len()
                >= 3
        {
            break;
        }
        polls += 1;
        assert!(polls < 6000, "no cpu points from the monitor thread");
        std::thread::sleep(Duration::from_millis(10));
    }
    run.stop().unwrap();
    let read = reopen(dir.path(), run.id());
    let series = |leaf: &str| -> Vec<f64> {
        read.field(&format!("monitoring/{id}/{leaf}"))
            .float_series()
            .unwrap()
            .fetch_values()
            .unwrap()
            .values()
            .to_vec()
    };
    for v in series("cpu") {
        assert!((0.0..=100.0).contains(&v), "cpu {v}");
    }
    assert!(series("memory").iter().all(|&v| v > 0.0));
    assert!(series("process_memory").iter().all(|&v| v > 0.0));
    assert!(series("process_cpu").iter().all(|&v| v >= 0.0));
    assert!(series("disk").iter().all(|&v| (0.0..=100.0).contains(&v)));
    for leaf in [
        "network_sent",
        "network_received",
        "process_disk_read",
        "process_disk_write",
    ] {
        assert!(series(leaf).iter().all(|&v| v >= 0.0), "{leaf}");
    }
    // This machine has no GPU (and the `gpu` feature is off): no GPU fields.
    assert!(!read.exists(&format!("monitoring/{id}/gpu_0")));
    // The dependency list: the Cargo.lock of this package's checkout.
    let lock = read.field("source_code/dependencies").file().unwrap();
    assert_eq!(
        lock.fetch_bytes().unwrap(),
        std::fs::read("Cargo.lock").unwrap()
    );
    assert_eq!(lock.fetch_extension().unwrap(), "lock");
}

#[test]
fn with_monitoring_off_a_run_has_no_monitoring_fields() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .git_ref(GitRef::Disabled)
        .capture_hardware_metrics(false)
        .capture_dependencies(false)
        .open()
        .unwrap();
    run.wait().unwrap();
    assert!(!run.exists("monitoring"));
    assert!(!run.exists("source_code"));
    let zero = Run::builder()
        .mode(Mode::Debug)
        .monitoring_interval(Duration::ZERO)
        .open()
        .unwrap_err();
    assert!(zero.to_string().contains("monitoring_interval"), "{zero}");
}

/// The work of a child process, chosen by `NEPTUNE_TEST_ROLE`.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    assert_eq!(role, "capture");
    let run = Run::builder()
        .git_ref(GitRef::Disabled)
        .capture_hardware_metrics(false)
        .capture_stdout(true)
        .capture_stderr(true)
        .open()
        .unwrap();
    let second = Run::builder()
        .mode(Mode::Debug)
        .capture_stdout(true)
        .open()
        .map(|_| ())
        .unwrap_err();
    println!("hello from stdout");
    println!("{}", "a".repeat(2500));
    eprintln!("warning on stderr");
    eprintln!("neptune: a report of the library's own");
    let status = Command::new("sh")
        .args(["-c", "echo from a grandchild"])
        .status()
        .unwrap();
    assert!(status.success());
    print!("no newline at the end");
    run.stop().unwrap();
    println!("\nafter stop");
    println!("@@id {}", run.id());
    println!("@@second {second}");
}

#[test]
fn stdout_and_stderr_reach_the_terminal_and_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "monitoring::child_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, "capture")
        .env("NEPTUNE_HOME", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // Everything still reached the real streams.
    for line in [
        "hello from stdout",
        "from a grandchild",
        "no newline at the end",
        "after stop",
    ] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }
    assert!(stdout.contains(&"a".repeat(2500)));
    assert!(
        stderr.contains("warning on stderr\nneptune: a report"),
        "{stderr}"
    );
    let value = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {stdout}"))
            .to_owned()
    };
    let second = value("@@second ");
    assert!(second.contains("only one run per process"), "{second}");
    let run = reopen(dir.path(), &value("@@id "));
    let (id, _) = monitoring(&run);
    let lines = |leaf: &str| -> Vec<String> {
        run.field(&format!("monitoring/{id}/{leaf}"))
            .string_series()
            .unwrap()
            .fetch_values()
            .unwrap()
            .values()
            .to_vec()
    };
    let a1000 = "a".repeat(1000);
    assert_eq!(
        lines("stdout"),
        [
            "hello from stdout".to_owned(),
            a1000.clone(),
            a1000,
            "a".repeat(500),
            "from a grandchild".to_owned(),
            "no newline at the end".to_owned(),
        ]
    );
    assert_eq!(lines("stderr"), ["warning on stderr"]);
}
