//! The original Python client (`neptune` 1.x from PyPI, in the virtual environment that
//! `scripts/test` makes and names in `NEPTUNE_PY_CLIENT_PYTHON`) against the real server
//! binary: a run with every field type it logs, read back by the client and by our Rust API;
//! `neptune sync` of an offline run (`fields`); tables and uploads in parts
//! (`files_and_tables`); Active and Inactive by pings, and git info (`liveness`); and, without
//! Python, the answers of the original API to a bad token, another project, a request it does
//! not serve, and parts out of order (`api`).

mod api;
mod fields;
mod files_and_tables;
mod liveness;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;

use crate::common::{self, raw, raw_with, Server, BIN};

/// The Python with `neptune<2`, or `None` (the test is skipped, saying why).
pub(super) fn python() -> Option<String> {
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

pub(super) fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/py_client_run.py")
}

/// A write token for the Python client, made by the binary as an admin would, and the
/// `nep_` token inside it.
pub(super) fn python_token(server: &Server, project: &str) -> (String, String) {
    let out = Command::new(BIN)
        .arg("--data")
        .arg(&server.data)
        .args(common::engine::database_args(&server.data))
        .args([
            "token",
            "create",
            "--project",
            project,
            "--python-client",
            "--url",
        ])
        .arg(&server.url)
        .output()
        .expect("token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(&token)
        .expect("the Python client's token is base64");
    let v: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(v["api_address"], server.url.as_str());
    (token, v["api_key"].as_str().unwrap().to_owned())
}

/// Runs the fixture with `args` in `cwd`; its last line of output, as JSON when it is.
pub(super) fn run_py(py: &str, token: &str, cwd: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(py)
        .arg(fixture())
        .args(args)
        .current_dir(cwd)
        .env("NEPTUNE_API_TOKEN", token)
        // The client's OAuth library refuses plain http unless told; the test server is on
        // loopback (see the README's "Coming from the original client").
        .env("OAUTHLIB_INSECURE_TRANSPORT", "1")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python failed:\n{stdout}\n{stderr}");
    let last = stdout.lines().last().unwrap_or("null");
    serde_json::from_str(last).unwrap_or(serde_json::Value::Null)
}

pub(super) fn exchange(server: &Server, api_token: &str) -> common::Answer {
    raw_with(
        &server.addr,
        "GET",
        "/api/backend/v1/authorization/oauth-token",
        None,
        b"",
        &[("X-Neptune-Api-Token", api_token)],
    )
}

pub(super) fn start_with_ping_timeout(data: &Path, timeout: &str) -> Server {
    start_with_env(data, &[("NEPTUNE_PY_CLIENT_PING_TIMEOUT", timeout)])
}

/// A run created through the original API as the Python client creates one: the access token
/// `token` exchanges for, and the run's id.
pub(super) fn python_run(server: &Server, token: &str, project: &str) -> (String, String) {
    let access = exchange(server, token).json()["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let body =
        serde_json::json!({"projectIdentifier": project, "parentId": project, "type": "run"});
    let created = raw(
        &server.addr,
        "POST",
        "/api/leaderboard/v1/experiments",
        Some(&access),
        body.to_string().as_bytes(),
    );
    let id = created.json()["id"].as_str().unwrap().to_owned();
    (access, id)
}

/// A server started with `env`.
pub(super) fn start_with_env(data: &Path, env: &[(&str, &str)]) -> Server {
    Server::start_with_env(data, "127.0.0.1:0", &[], env)
}

pub(super) fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_DATE", "2024-03-04T05:06:07+00:00")
        .env("GIT_COMMITTER_DATE", "2024-03-04T05:06:07+00:00")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
