//! `neptune ui`: the web UI on the embedded store, as a subprocess on a loopback port: pages,
//! escaping, chart data, read-only, and a clear error without a store.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use neptune_core::{GitRef, Run};

const BIN: &str = env!("CARGO_BIN_EXE_neptune");
const NAME: &str = "<script>alert(1)</script>";

struct Ui(Child, String);

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(home: &std::path::Path) -> Ui {
    let mut child = Command::new(BIN)
        .arg("--home")
        .arg(home)
        .args(["ui", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start neptune ui");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    Ui(child, addr)
}

/// (status, headers, body) of one request.
fn http(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

#[test]
fn neptune_ui_serves_the_store_read_only() {
    let home = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(home.path())
        .project("team/ui")
        .name(NAME)
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let loss = run.field("train/loss").float_series().unwrap();
    for i in 0..10_000 {
        loss.append(if i == 4321 {
            50.0
        } else {
            1.0 / (1.0 + i as f64)
        })
        .unwrap();
    }
    let id = run.id().to_owned();
    run.stop().unwrap();
    let ui = start(home.path());
    let a = ui.1.as_str();

    let (status, head, body) = http(a, "GET", "/", "", "");
    assert_eq!(status, 200);
    assert!(
        head.contains("content-security-policy: default-src 'self'"),
        "{head}"
    );
    assert!(
        body.contains("team/ui") && body.contains("read-only"),
        "{body}"
    );

    let (status, _, body) = http(a, "GET", "/runs?project=team%2Fui", "", "");
    assert_eq!(status, 200);
    assert!(body.contains(&format!("data-id=\"{id}\"")), "{body}");
    assert!(!body.contains(NAME), "the name is not escaped");
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );

    let (status, _, body) = http(a, "GET", &format!("/run/{id}"), "", "");
    assert_eq!(status, 200);
    assert!(
        !body.contains(NAME) && !body.contains("id=\"edit-form\""),
        "{body}"
    );

    let req =
        format!("{{\"series\": [{{\"id\": \"{id}\", \"path\": \"train/loss\"}}], \"width\": 200}}");
    let (status, _, body) = http(a, "POST", "/ui/data/downsample", "", &req);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let s = &v["series"][0];
    assert_eq!(s["points"], 10_000);
    let i = s["x"].as_array().unwrap().iter().position(|x| x == 4321.0);
    assert_eq!(s["y"][i.expect("the peak is kept")], 50.0);

    // Read-only: no edits, even from its own pages; no sign-in.
    let origin =
        format!("Origin: http://{a}\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    let (status, _, _) = http(
        a,
        "POST",
        &format!("/run/{id}/edit"),
        &origin,
        "name=x&description=&tags=",
    );
    assert_eq!(status, 403);
    let (status, head, _) = http(a, "GET", "/signin", "", "");
    assert!(
        status == 303 && head.contains("location: /"),
        "{status} {head}"
    );
    let (status, _, _) = http(a, "GET", "/run/NOPE-1", "", "");
    assert_eq!(status, 404);
    let (status, head, _) = http(a, "GET", "/assets/ui.js", "", "");
    assert!(status == 200 && head.contains("etag"), "{head}");
}

#[test]
fn neptune_ui_without_a_store_says_where_it_looked() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("--home")
        .arg(home.path().join("nothing"))
        .args(["ui", "--port", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no store in") && err.contains("--home"),
        "{err}"
    );
}
