//! The deployment files of `deploy/`: the systemd unit (checked by `systemd-analyze verify`
//! where it is installed, and by its keys everywhere) and the Dockerfile (every instruction
//! known, a build and a run stage, settings the binary accepts).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use crate::common::BIN;

fn deploy(name: &str) -> (PathBuf, String) {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    (p, text)
}

/// `[Section] key=value` lines of a unit file (comments and blanks skipped).
fn unit_keys(text: &str) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut section = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(s.to_owned());
            continue;
        }
        let s = section
            .clone()
            .unwrap_or_else(|| panic!("line {}: a key before any section", n + 1));
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: not key=value: {line}", n + 1));
        out.entry(s)
            .or_default()
            .push((k.trim().to_owned(), v.trim().to_owned()));
    }
    out
}

#[test]
fn the_systemd_unit_is_valid() {
    let (path, text) = deploy("neptune-server.service");
    let keys = unit_keys(&text);
    let get = |s: &str, k: &str| -> Vec<String> {
        keys.get(s)
            .into_iter()
            .flatten()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(
        get("Service", "ExecStart"),
        ["/usr/local/bin/neptune-server"]
    );
    assert_eq!(get("Service", "KillSignal"), ["SIGTERM"]);
    assert_eq!(get("Install", "WantedBy"), ["multi-user.target"]);
    let env: Vec<String> = get("Service", "Environment");
    for want in [
        "NEPTUNE_SERVER_DATA=",
        "NEPTUNE_SERVER_LISTEN=",
        "RUST_LOG=",
    ] {
        assert!(env.iter().any(|e| e.starts_with(want)), "{want} in {env:?}");
    }
    // The stop timeout leaves the server's own shutdown bound (30 s) room to finish.
    let stop: u64 = get("Service", "TimeoutStopSec")[0].parse().unwrap();
    assert!(stop > 30);

    // systemd's own check, with the unit pointing at the binary under test.
    let verify = Command::new("systemd-analyze").arg("--version").output();
    if verify.is_ok_and(|o| o.status.success()) {
        let dir = tempfile::tempdir().unwrap();
        let unit = dir.path().join("neptune-server.service");
        std::fs::write(&unit, text.replace("/usr/local/bin/neptune-server", BIN)).unwrap();
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&unit)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        // Only complaints about this unit count (the host's other units are not ours).
        let ours: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("neptune-server.service"))
            .collect();
        assert!(ours.is_empty(), "{}: {err}", path.display());
    } else {
        eprintln!("systemd-analyze is not installed: the unit was checked by its keys only");
    }
}

const INSTRUCTIONS: [&str; 18] = [
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
    "MAINTAINER",
];

/// The instructions of a Dockerfile: (keyword, arguments), continuation lines joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if current.is_empty() && (t.is_empty() || t.starts_with('#')) {
            continue;
        }
        if let Some(cont) = t.strip_suffix('\\') {
            current.push_str(cont);
            current.push(' ');
            continue;
        }
        current.push_str(t);
        let (k, rest) = current
            .split_once(char::is_whitespace)
            .unwrap_or((&current, ""));
        out.push((k.to_owned(), rest.trim().to_owned()));
        current.clear();
    }
    assert!(current.is_empty(), "a continuation line ends the file");
    out
}

#[test]
fn the_dockerfile_parses_and_runs_the_server_with_settings_it_accepts() {
    let (_, text) = deploy("Dockerfile");
    let ins = instructions(&text);
    for (k, args) in &ins {
        assert!(
            INSTRUCTIONS.contains(&k.as_str()),
            "unknown instruction {k} {args}"
        );
        assert!(!args.is_empty(), "{k} without arguments");
    }
    assert_eq!(ins[0].0, "FROM");
    let froms: Vec<&String> = ins
        .iter()
        .filter(|(k, _)| k == "FROM")
        .map(|(_, a)| a)
        .collect();
    assert_eq!(froms.len(), 2, "a build stage and a run stage");
    assert!(froms[0].ends_with(" AS build"), "{}", froms[0]);
    let entry = &ins.iter().find(|(k, _)| k == "ENTRYPOINT").unwrap().1;
    let entry: Vec<String> = serde_json::from_str(entry).expect("ENTRYPOINT in exec form");
    assert_eq!(entry, ["/usr/local/bin/neptune-server"]);
    for (k, args) in &ins {
        if k == "HEALTHCHECK" || k == "CMD" {
            let json = args.rsplit_once("CMD ").map_or(args.as_str(), |(_, j)| j);
            let _: Vec<String> = serde_json::from_str(json).expect("exec form");
        }
    }
    // The settings it sets are ones the binary reads: it starts with them.
    let env = &ins.iter().find(|(k, _)| k == "ENV").unwrap().1;
    let data = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    for pair in env.split_whitespace() {
        let (k, v) = pair.split_once('=').expect("ENV key=value");
        let v = match k {
            "NEPTUNE_SERVER_DATA" => data.path().to_str().unwrap().to_owned(),
            "NEPTUNE_SERVER_LISTEN" => {
                assert_eq!(v, "0.0.0.0:8080");
                "127.0.0.1:0".to_owned()
            }
            _ => v.to_owned(),
        };
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("listening on http://127.0.0.1:"), "{line}");
    assert!(data.path().join("store.db").exists());
}
