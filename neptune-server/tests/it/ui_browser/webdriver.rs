//! A small WebDriver client (the W3C JSON protocol over HTTP/1.1) for Debian's `chromedriver`
//! and headless `chromium`: sessions, navigation, scripts, element clicks, pointer drags and
//! screenshots. No browser-automation crate: the protocol is a handful of JSON calls.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The chromedriver and chromium binaries: `CHROMEDRIVER` / `CHROMIUM` (exported by
/// scripts/test), else Debian's paths. Missing ones fail the test with what to do.
fn binaries() -> (PathBuf, PathBuf) {
    let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(p) = std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_file())
        {
            return Some(p);
        }
        names.iter().map(PathBuf::from).find(|p| p.is_file())
    };
    let driver = find(
        "CHROMEDRIVER",
        &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
    );
    let browser = find(
        "CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    );
    match (driver, browser) {
        (Some(d), Some(b)) => (d, b),
        _ => panic!(
            "the browser tests need Chromium and its WebDriver: run them through scripts/test, \
             which installs Debian's `chromium` and `chromium-driver` (apt-get install -y \
             chromium chromium-driver) and exports CHROMIUM and CHROMEDRIVER"
        ),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP request to the driver; the answer's JSON `value`.
fn call(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    // chromedriver may keep the connection open: read the head, then Content-Length bytes.
    let mut resp = Vec::new();
    let mut buf = [0u8; 65536];
    let (head, mut body) = loop {
        let n = match s.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => r.map_err(|e| e.to_string())?,
        };
        if n == 0 {
            return Err("the driver closed the connection".into());
        }
        resp.extend_from_slice(&buf[..n]);
        if let Some(i) = resp.windows(4).position(|w| w == b"\r\n\r\n") {
            break (
                String::from_utf8_lossy(&resp[..i]).to_ascii_lowercase(),
                resp[i + 4..].to_vec(),
            );
        }
    };
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    match len {
        Some(len) => {
            while body.len() < len {
                let n = match s.read(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    r => r.map_err(|e| e.to_string())?,
                };
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&buf[..n]);
            }
        }
        None => {
            let _ = s.read_to_end(&mut body);
        }
    }
    let rest = String::from_utf8_lossy(&body).into_owned();
    let v: Value = serde_json::from_str(&rest).map_err(|e| format!("{e}: {rest}"))?;
    if let Some(err) = v["value"].get("error") {
        return Err(format!("{err}: {}", v["value"]["message"]));
    }
    Ok(v["value"].clone())
}

/// A chromedriver process and one headless Chromium session; both end when dropped.
pub struct Browser {
    driver: Child,
    addr: String,
    session: String,
    shots: PathBuf,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless session (1400×1000).
    pub fn start() -> Browser {
        let (driver_bin, browser_bin) = binaries();
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e} (see scripts/test)",
                    driver_bin.display()
                )
            });
        let addr = format!("127.0.0.1:{port}");
        let start = Instant::now();
        let mut driver = driver;
        while call(&addr, "GET", "/status", None).is_err() {
            if start.elapsed() > Duration::from_secs(30) {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("chromedriver did not start on {addr}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": browser_bin,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1400,1000", "--hide-scrollbars"]
            }
        }}});
        let v = match call(&addr, "POST", "/session", Some(&caps)) {
            Ok(v) => v,
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("no WebDriver session: {e}");
            }
        };
        let session = v["sessionId"].as_str().expect("session id").to_owned();
        let shots = screenshot_dir();
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            driver,
            addr,
            session,
            shots,
        }
    }

    fn cmd(&self, method: &str, what: &str, body: Option<&Value>) -> Value {
        let path = format!("/session/{}/{what}", self.session);
        call(&self.addr, method, &path, body).unwrap_or_else(|e| panic!("WebDriver {what}: {e}"))
    }

    /// Opens `url` and waits for the page to load.
    pub fn go(&self, url: &str) {
        self.cmd("POST", "url", Some(&json!({ "url": url })));
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        self.cmd("GET", "url", None)
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Runs `body` (a function body; `arguments` holds `args`) and returns its value.
    pub fn js(&self, body: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "execute/sync",
            Some(&json!({ "script": body, "args": args })),
        )
    }

    /// Waits until `expr` (a JS expression) is truthy; panics naming `what` after 20 s.
    pub fn wait_for(&self, what: &str, expr: &str) -> Value {
        let start = Instant::now();
        loop {
            let v = self.js(
                &format!("try {{ return ({expr}); }} catch (e) {{ return null; }}"),
                json!([]),
            );
            if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "timed out waiting for {what} ({expr})"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The WebDriver id of the element `css`.
    pub fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "element",
            Some(&json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    /// Clicks the element `css` as a user would.
    pub fn click(&self, css: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("element/{id}/click"), Some(&json!({})));
    }

    /// Types `text` into the element `css` (after clearing it).
    pub fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("element/{id}/clear"), Some(&json!({})));
        self.cmd(
            "POST",
            &format!("element/{id}/value"),
            Some(&json!({ "text": text })),
        );
    }

    /// Drags the mouse across the element `css` from `from` to `to` (fractions of its width,
    /// at half its height).
    pub fn drag(&self, css: &str, from: f64, to: f64) {
        let id = self.find(css);
        let rect = self.cmd("GET", &format!("element/{id}/rect"), None);
        let w = rect["width"].as_f64().unwrap_or(0.0);
        let x = |f: f64| ((f - 0.5) * w).round() as i64;
        let origin = json!({"element-6066-11e4-a52e-4f735466cecf": id});
        let actions = json!({"actions": [{"type": "pointer", "id": "mouse",
        "parameters": {"pointerType": "mouse"},
        "actions": [
            {"type": "pointerMove", "duration": 0, "origin": origin, "x": x(from), "y": 0},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerMove", "duration": 200, "origin": origin, "x": x((from + to) / 2.0), "y": 0},
            {"type": "pointerMove", "duration": 200, "origin": origin, "x": x(to), "y": 0},
            {"type": "pointerUp", "button": 0}
        ]}]});
        self.cmd("POST", "actions", Some(&actions));
    }

    /// Saves a screenshot of the window as `name.png` under the screenshot folder.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let v = self.cmd("GET", "screenshot", None);
        let png = base64(v.as_str().expect("base64 screenshot"));
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = call(
            &self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `target/ui-screenshots/` (of CARGO_TARGET_DIR when set).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("ui-screenshots")
}

fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter_map(val) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
