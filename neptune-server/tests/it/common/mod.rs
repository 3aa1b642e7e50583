//! Helpers of the server tests: the real `neptune-server` binary on a loopback port, tokens,
//! raw HTTP requests, and child processes (this test binary run again with a role).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod client;
pub mod engine;
mod logs;

#[allow(unused_imports)]
pub use client::{contiguous, reader, steps_of, sync_opts};
#[allow(unused_imports)]
pub use logs::{capture_logs, count_logs, logs};

pub const BIN: &str = env!("CARGO_BIN_EXE_neptune-server");

/// A running server; killed when dropped.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub addr: String,
    pub data: PathBuf,
}

impl Server {
    /// Starts a server on `data`, on any free port.
    pub fn start(data: &Path) -> Server {
        Server::start_on(data, "127.0.0.1:0", &[])
    }

    /// Starts a server on `data` listening on `listen`, with extra arguments.
    pub fn start_on(data: &Path, listen: &str, extra: &[&str]) -> Server {
        Server::start_with_env(data, listen, extra, &[])
    }

    /// [`Server::start_on`] with environment variables set for the server. Its store is on the
    /// tests' engine unless `extra` names a `--database`.
    pub fn start_with_env(
        data: &Path,
        listen: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut child = Command::new(BIN)
            .arg("--data")
            .arg(data)
            .args(if extra.contains(&"--database") {
                Vec::new()
            } else {
                engine::database_args(data)
            })
            .args(["--listen", listen])
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start neptune-server");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).expect("server's first line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        let addr = url.trim_start_matches("http://").to_owned();
        Server {
            child,
            url,
            addr,
            data: data.to_path_buf(),
        }
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.addr.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Creates a token with the binary (as an admin would).
pub fn token(data: &Path, project: &str, scope: &str) -> String {
    let out = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(engine::database_args(data))
        .args(["token", "create", "--project", project, "--scope", scope])
        .output()
        .expect("token create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Revokes a token by its id (the part after `nep_`).
pub fn revoke(data: &Path, token: &str) {
    let id = token.split('_').nth(1).unwrap();
    let out = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(engine::database_args(data))
        .args(["token", "revoke", id])
        .output()
        .expect("token revoke");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The body of `POST /api/v1/objects`: a run of `project`, registered with the upload queue
/// `queue`, resuming `with_id`.
pub fn open_req(
    project: &str,
    queue: Option<&str>,
    with_id: Option<&str>,
    read_only: bool,
) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "request": {"kind": "Run", "project": project, "with_id": with_id,
            "custom_run_id": null, "model": null, "owner": "tester", "read_only": read_only},
        "queue": queue}))
    .unwrap()
}

/// The body that opens a new run of `project`.
pub fn open_body(project: &str) -> Vec<u8> {
    open_req(project, None, None, false)
}

/// Creates a run of `project` with raw HTTP; its id.
pub fn create_run(addr: &str, token: &str, project: &str) -> String {
    let a = raw(
        addr,
        "POST",
        "/api/v1/objects",
        Some(token),
        &open_body(project),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["id"].as_str().unwrap().to_owned()
}

/// A raw HTTP/1.1 answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The message of a JSON error answer.
    pub fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {}", self.body))
            .to_owned()
    }
}

/// Sends one request on a fresh connection and reads the whole answer.
pub fn raw(addr: &str, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> Answer {
    raw_with(addr, method, path, token, body, &[])
}

pub fn raw_with(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
    headers: &[(&str, &str)],
) -> Answer {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let mut has_length = false;
    for (k, v) in headers {
        has_length |= k.eq_ignore_ascii_case("content-length");
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_length {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("Content-Type: application/json\r\n\r\n");
    s.write_all(req.as_bytes()).unwrap();
    // The server may answer (413) before reading everything: ignore a broken pipe.
    let _ = s.write_all(body);
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Answer { status, body }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Runs this test binary again as a child doing `role` (see each file's `child_entry`).
pub fn spawn_child(role: &str, envs: &[(&str, &str)]) -> Child {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env("NEPTUNE_TEST_ROLE", role)
        .env_remove("NEPTUNE_URL")
        .env_remove("NEPTUNE_API_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Reads a child's stdout until a line starting with `@@key `, returning the rest of it.
pub fn read_marker(out: &mut impl BufRead, key: &str) -> String {
    let prefix = format!("@@{key} ");
    let mut line = String::new();
    loop {
        line.clear();
        let n = out.read_line(&mut line).unwrap();
        assert!(n > 0, "the child ended before printing @@{key}");
        if let Some(rest) = line.trim().strip_prefix(&prefix) {
            return rest.to_owned();
        }
    }
}

/// The role of this process when it was started by [`spawn_child`].
pub fn role() -> Option<String> {
    std::env::var("NEPTUNE_TEST_ROLE").ok()
}
