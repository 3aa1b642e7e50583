//! Active while the Python client pings, Inactive after it stops or after a server restart;
//! the git info it sends.

use std::process::Command;

use super::*;
use crate::common::{self, raw, Server};

#[test]
fn python_client_run_is_active_while_it_pings_inactive_after_stop_and_keeps_its_git() {
    use std::io::{BufRead, Write};
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_ping_timeout(&dir.path().join("data"), "5");
    let (token, nep) = python_token(&server, "team/live");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Ada"]);
    git(&repo, &["config", "user.email", "ada@example.com"]);
    std::fs::write(repo.join("train.py"), "print(1)\n").unwrap();
    git(&repo, &["add", "train.py"]);
    git(&repo, &["commit", "-q", "-m", "first model"]);
    git(
        &repo,
        &["remote", "add", "origin", "https://example.com/ada/m.git"],
    );
    std::fs::write(repo.join("untracked.txt"), "x").unwrap();
    let commit = git(&repo, &["rev-parse", "HEAD"]);

    // The run pings every 0.2 s and lives 8 s, past the server's 5 s ping timeout (a margin
    // for a loaded machine: pings 25 times as often as the timeout).
    let mut child = Command::new(&py)
        .arg(fixture())
        .args(["alive", "team/live", repo.to_str().unwrap(), "8"])
        .current_dir(&repo)
        .env("NEPTUNE_API_TOKEN", &token)
        .env("OAUTHLIB_INSECURE_TRANSPORT", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run python");
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    // The client's own log lines come first.
    let mut line = String::new();
    while !line.starts_with('{') {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "python ended early");
    }
    let first: serde_json::Value =
        serde_json::from_str(line.trim()).unwrap_or_else(|_| panic!("not JSON: {line:?}"));
    let id = first["id"].as_str().expect("the run's id").to_owned();
    let state = || {
        raw(
            &server.addr,
            "GET",
            &format!("/api/v1/objects/{id}/value?path=sys/state"),
            Some(&nep),
            b"",
        )
        .json()["value"]
            .clone()
    };
    assert_eq!(
        state(),
        serde_json::json!({"RunState": "Active"}),
        "kept Active by its pings past the timeout"
    );

    // stop(): no more pings, and the run turns Inactive once the timeout has passed.
    child.stdin.take().unwrap().write_all(b"stop\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    assert!(rest.contains("\"stopped\": true"), "{rest}");
    let mut seen = state();
    for _ in 0..600 {
        if seen == serde_json::json!({"RunState": "Inactive"}) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        seen = state();
    }
    assert_eq!(seen, serde_json::json!({"RunState": "Inactive"}));

    // The git info the client sent at creation, as our GitRef.
    let r = common::reader(&server, &nep, &id, &dir.path().join("home"));
    let git_ref = r.field("source_code/git").fetch().unwrap();
    let neptune_core::Value::GitRef(g) = git_ref else {
        panic!("not a GitRef: {git_ref:?}")
    };
    assert_eq!(g.commit_id, commit);
    assert_eq!(g.message.trim(), "first model");
    assert_eq!(g.author_name, "Ada");
    assert_eq!(g.author_email, "ada@example.com");
    assert_eq!(g.commit_date.timestamp(), 1_709_528_767);
    assert_eq!(g.branch.as_deref(), Some("main"));
    assert!(g.dirty, "an untracked file makes the tree dirty");
    assert_eq!(g.remotes, ["https://example.com/ada/m.git"]);
}

#[test]
fn a_python_client_run_left_active_by_a_stopped_server_turns_inactive_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The first server never times out; the run is Active when it stops.
    let server = start_with_ping_timeout(&data, "3600");
    let (token, nep) = python_token(&server, "team/restart");
    let (_, id) = python_run(&server, &token, "team/restart");
    // A run of our own client, Active too: not the Python client's, so left alone.
    let ours_id = common::create_run(&server.addr, &nep, "team/restart");
    let state = |server: &Server, id: &str| {
        raw(
            &server.addr,
            "GET",
            &format!("/api/v1/objects/{id}/value?path=sys/state"),
            Some(&nep),
            b"",
        )
        .json()["value"]
            .clone()
    };
    assert_eq!(
        state(&server, &id),
        serde_json::json!({"RunState": "Active"})
    );
    drop(server);

    // Restarted with a short timeout: no ping comes, so the run turns Inactive.
    let server = start_with_ping_timeout(&data, "0.5");
    let mut seen = state(&server, &id);
    for _ in 0..600 {
        if seen == serde_json::json!({"RunState": "Inactive"}) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        seen = state(&server, &id);
    }
    assert_eq!(seen, serde_json::json!({"RunState": "Inactive"}));
    assert_eq!(
        state(&server, &ours_id),
        serde_json::json!({"RunState": "Active"})
    );
}
