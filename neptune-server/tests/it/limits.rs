//! The server under hostile load (issue 9): every limit answered with a 4xx or 5xx naming it,
//! and the server still answering afterwards. Deep and huge table queries, deep JSON, half-open
//! connections, slow bodies, and large bodies at once, on the real binary over loopback.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{open_body, raw, Answer, Server};
use serde_json::json;

const PROJECT: &str = "team/limits";

fn table_body(query: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "scope": {"project": PROJECT, "kind": "Run", "model": null},
        "query": query,
    }))
    .unwrap()
}

fn table(addr: &str, token: &str, query: serde_json::Value) -> Answer {
    raw(
        addr,
        "POST",
        "/api/v1/tables",
        Some(token),
        &table_body(query),
    )
}

fn healthy(addr: &str) {
    let a = raw(addr, "GET", "/health", None, b"");
    assert_eq!(a.status, 200, "{}", a.body);
}

/// An error answer names no server path and no SQL.
fn discreet(a: &Answer, data: &std::path::Path) {
    let body = a.body.to_ascii_lowercase();
    let dir = data.to_string_lossy().to_ascii_lowercase();
    assert!(!body.contains(&dir), "the data directory leaks: {}", a.body);
    for word in [
        "sqlite",
        "from objects",
        "from fields",
        "store.db",
        "sql variables",
        "/tmp",
    ] {
        assert!(!body.contains(word), "{word:?} leaks: {}", a.body);
    }
}

#[test]
fn deep_wide_and_huge_table_queries_are_refused_with_the_limit() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let write = common::token(data.path(), PROJECT, "write");
    let read = common::token(data.path(), PROJECT, "read");
    let r = raw(
        a,
        "POST",
        "/api/v1/objects",
        Some(&write),
        &open_body(PROJECT),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let run = r.json()["id"].as_str().unwrap().to_owned();

    let n = 10_000;
    let cases = [
        (
            json!({"query": format!("{}x = 1", "NOT ".repeat(n))}),
            "deeper than 64 levels",
        ),
        (
            json!({"query": format!("{}x = 1{}", "(".repeat(n), ")".repeat(n))}),
            "deeper than 64 levels",
        ),
        (json!({"query": "(".repeat(n)}), "deeper than 64 levels"),
        (
            json!({"query": vec!["x = 1"; 10_000].join(" AND ")}),
            "more than 1000 conditions",
        ),
        (
            json!({"query": vec!["x = 1"; 10_000].join(" OR ")}),
            "more than 1000 conditions",
        ),
        (
            json!({"columns": (0..20_000).map(|i| format!("c{i}")).collect::<Vec<_>>()}),
            "20000 columns asked for, more than the limit of 10000",
        ),
        (
            json!({"ids": (0..40_000).map(|i| format!("LIM-{i}")).collect::<Vec<_>>()}),
            "40000 ids asked for, more than the limit of 10000",
        ),
        (
            json!({"tags": (0..5_000).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "5000 tags asked for",
        ),
        (
            json!({"owners": (0..5_000).map(|i| format!("o{i}")).collect::<Vec<_>>()}),
            "5000 owners asked for",
        ),
    ];
    for (query, want) in cases {
        let r = table(a, &read, query);
        assert_eq!(r.status, 422, "{want}: {}", r.body);
        assert!(r.message().contains(want), "{want}: {}", r.message());
        discreet(&r, data.path());
        healthy(a);
    }

    // Within the limits, wide queries work (past the paths selected in SQL, and many ids).
    let columns: Vec<String> = (0..5_000).map(|i| format!("c{i}")).collect();
    let mut ids: Vec<String> = (0..9_999).map(|i| format!("LIM-{i}")).collect();
    ids.push(run.clone());
    let query = vec!["NOT x = 1"; 1_000].join(" AND ");
    let deep = format!("{}EXISTS sys/id{}", "(".repeat(63), ")".repeat(63));
    for q in [
        json!({"columns": columns, "ids": ids, "query": query}),
        json!({"query": deep}),
    ] {
        let r = table(a, &read, q);
        assert_eq!(r.status, 200, "{}", r.body);
        let rows = r.json()["rows"].as_array().unwrap().len();
        assert_eq!(rows, 1, "{}", r.body);
    }
}

#[test]
fn deep_json_bodies_are_refused_and_the_server_lives() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let write = common::token(data.path(), PROJECT, "write");
    let r = raw(
        a,
        "POST",
        "/api/v1/objects",
        Some(&write),
        &open_body(PROJECT),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let batches = format!(
        "/api/v1/objects/{}/batches",
        r.json()["id"].as_str().unwrap()
    );
    let n = 500_000;
    let deep = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    for body in [&deep, &deep_obj] {
        for path in ["/api/v1/tables", "/api/v1/objects"] {
            let r = raw(a, "POST", path, Some(&write), body.as_bytes());
            assert_eq!(r.status, 400, "{path}: {}", r.body);
            healthy(a);
        }
        let r = raw(a, "POST", &batches, Some(&write), body.as_bytes());
        assert_eq!(r.status, 400, "{}", r.body);
        healthy(a);
    }
}

/// Opens `n` connections that each send part of a request head and then nothing.
fn half_open(addr: &str, n: usize) -> Vec<TcpStream> {
    (0..n)
        .filter_map(|_| {
            let mut s = TcpStream::connect(addr).ok()?;
            let _ = s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            Some(s)
        })
        .collect()
}

/// The soft limit of open files of this process, raised to the hard limit.
fn open_files() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read and write only the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        let want = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
            lim.rlim_cur = lim.rlim_max;
        }
    }
    lim.rlim_cur as usize
}

#[test]
fn half_open_connections_do_not_lock_clients_out() {
    let data = tempfile::tempdir().unwrap();
    // A long header timeout: room is made by closing the oldest idle connection, not by time.
    let server = Server::start_on(
        data.path(),
        "127.0.0.1:0",
        &["--max-connections", "100", "--header-timeout-secs", "3600"],
    );
    let a = server.addr.as_str();
    let n = 3_000.min(open_files().saturating_sub(200));
    let held = half_open(a, n);
    assert!(held.len() > 200, "only {} connections opened", held.len());
    for _ in 0..3 {
        healthy(a);
    }
    // The oldest were closed to make room: they read the end of their connection.
    let mut first = held.into_iter().next().unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut buf = Vec::new();
    match first.read_to_end(&mut buf) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    assert!(buf.is_empty(), "{}", String::from_utf8_lossy(&buf));
    healthy(a);

    // With the default cap, as many half-open connections as the machine allows.
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let held = half_open(a, n);
    assert!(held.len() > 200);
    healthy(a);
    let token = common::token(data.path(), PROJECT, "write");
    let r = raw(
        a,
        "POST",
        "/api/v1/objects",
        Some(&token),
        &open_body(PROJECT),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    drop(held);
    healthy(a);
}

#[test]
fn slow_bodies_are_cut_off() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_on(
        data.path(),
        "127.0.0.1:0",
        &["--body-timeout-secs", "1", "--header-timeout-secs", "2"],
    );
    let a = server.addr.as_str();
    let token = common::token(data.path(), PROJECT, "write");
    let answer = |s: &mut TcpStream| -> String {
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    };

    // A body that stops (a JSON body and an upload): 408.
    for (method, path) in [
        ("POST", "/api/v1/tables"),
        ("PUT", "/api/v1/files?extension=bin"),
    ] {
        let mut s = TcpStream::connect(a).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Length: 1000\r\n\r\n{{\"scope\""
        );
        s.write_all(head.as_bytes()).unwrap();
        let text = answer(&mut s);
        assert!(text.starts_with("HTTP/1.1 408"), "{path}: {text}");
        assert!(text.contains("too slowly"), "{text}");
        healthy(a);
    }

    // A body that trickles (a byte every 200 ms, never a gap of a second): 408 once it falls
    // behind the minimum rate.
    let mut s = TcpStream::connect(a).unwrap();
    let head = format!(
        "POST /api/v1/tables HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 100000\r\n\r\n"
    );
    s.write_all(head.as_bytes()).unwrap();
    for _ in 0..300 {
        if s.write_all(b" ").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        s.set_nonblocking(true).unwrap();
        let mut peek = [0u8; 1];
        let answered = matches!(s.peek(&mut peek), Ok(n) if n > 0);
        s.set_nonblocking(false).unwrap();
        if answered {
            break;
        }
    }
    let text = answer(&mut s);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");

    // Headers that never end: the connection is closed.
    let mut s = TcpStream::connect(a).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
    let text = answer(&mut s);
    assert!(!text.starts_with("HTTP/1.1 200"), "{text}");
    healthy(a);
}

/// Sends a request with `Expect: 100-continue`; the body goes only after `100 Continue`.
/// Returns the final answer's status line and the stream, or `Continue` with the stream still
/// open and the body not sent when `hold` is set.
enum Sent {
    Answered(String),
    Continue(TcpStream),
}

fn expecting(addr: &str, token: &str, body: &[u8], hold: bool) -> Sent {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head = format!(
        "POST /api/v1/tables HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut status = String::new();
    r.read_line(&mut status).unwrap();
    if status.starts_with("HTTP/1.1 100") {
        let mut blank = String::new();
        r.read_line(&mut blank).unwrap();
        if hold {
            return Sent::Continue(s);
        }
        s.write_all(body).unwrap();
        status.clear();
        r.read_line(&mut status).unwrap();
    }
    let mut rest = String::new();
    let _ = r.read_to_string(&mut rest);
    Sent::Answered(format!("{}{rest}", status))
}

/// A table request padded with spaces to `len` bytes.
fn padded(len: usize) -> Vec<u8> {
    let mut b = table_body(json!({}));
    b.resize(len, b' ');
    b
}

#[test]
fn bodies_in_flight_share_a_bounded_memory() {
    let data = tempfile::tempdir().unwrap();
    // 4 MiB bodies, 6 MiB for all bodies in memory: one big body at a time.
    let server = Server::start_on(
        data.path(),
        "127.0.0.1:0",
        &["--max-body-mib", "4", "--body-memory-mib", "6"],
    );
    let a = server.addr.as_str();
    let token = common::token(data.path(), PROJECT, "write");
    let r = raw(
        a,
        "POST",
        "/api/v1/objects",
        Some(&token),
        &open_body(PROJECT),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let big = padded(4_000_000);

    // The server sends 100 Continue once it holds room for the whole declared body.
    let Sent::Continue(mut first) = expecting(a, &token, &big, true) else {
        panic!("the first big body was not let in");
    };
    // No room for a second: 503 with Retry-After, before its body is sent.
    match expecting(a, &token, &big, false) {
        Sent::Answered(text) => {
            assert!(text.starts_with("HTTP/1.1 503"), "{text}");
            assert!(
                text.to_ascii_lowercase().contains("retry-after: "),
                "{text}"
            );
            assert!(text.contains("retry shortly"), "{text}");
        }
        Sent::Continue(_) => panic!("a second big body was let in"),
    }
    // Small requests still fit.
    let r = table(a, &token, json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    // The first completes; then there is room again.
    first.write_all(&big).unwrap();
    let mut text = String::new();
    let _ = first.read_to_string(&mut text);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    match expecting(a, &token, &big, false) {
        Sent::Answered(text) => assert!(text.starts_with("HTTP/1.1 200"), "{text}"),
        Sent::Continue(_) => unreachable!(),
    }
    healthy(a);
}

/// The peak resident memory of a process, in bytes.
#[cfg(target_os = "linux")]
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib * 1024
}

#[cfg(target_os = "linux")]
#[test]
fn six_large_bodies_at_once_stay_within_the_memory_for_bodies() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_on(
        data.path(),
        "127.0.0.1:0",
        &["--max-body-mib", "60", "--body-memory-mib", "64"],
    );
    let a = server.addr.clone();
    let token = common::token(data.path(), PROJECT, "write");
    let r = raw(
        &a,
        "POST",
        "/api/v1/objects",
        Some(&token),
        &open_body(PROJECT),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let before = peak_rss(server.child.id());
    let body = std::sync::Arc::new(padded(58 << 20));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (a, token, body) = (a.clone(), token.clone(), body.clone());
            std::thread::spawn(move || match expecting(&a, &token, &body, false) {
                Sent::Answered(t) => t,
                Sent::Continue(_) => unreachable!(),
            })
        })
        .collect();
    let mut ok = 0;
    for t in threads {
        let text = t.join().unwrap();
        let status = text
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        assert!(status == "200" || status == "503", "{text}");
        ok += usize::from(status == "200");
    }
    assert!(ok >= 1, "no body got through");
    let peak = peak_rss(server.child.id());
    // Six bodies at once would be 348 MiB; the server holds at most 64 MiB of them.
    assert!(
        peak < before + (160 << 20),
        "the server's peak memory grew from {} MiB to {} MiB",
        before >> 20,
        peak >> 20
    );
    healthy(&a);
}

#[test]
fn internal_errors_name_no_server_path() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let token = common::token(data.path(), PROJECT, "write");
    let upload = |body: &[u8]| raw(a, "PUT", "/api/v1/files?extension=txt", Some(&token), body);
    assert_eq!(upload(b"before").status, 200);
    // The store's temporary folder turns into a file: the upload fails inside the server.
    let tmp = data.path().join("files").join("tmp");
    assert!(tmp.is_dir(), "no {}", tmp.display());
    std::fs::remove_dir_all(&tmp).unwrap();
    std::fs::write(&tmp, b"in the way").unwrap();
    let r = upload(b"during");
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(
        r.message().contains("internal server error (reference "),
        "{}",
        r.body
    );
    discreet(&r, data.path());
    std::fs::remove_file(&tmp).unwrap();
    std::fs::create_dir(&tmp).unwrap();
    assert_eq!(upload(b"after").status, 200);
}
