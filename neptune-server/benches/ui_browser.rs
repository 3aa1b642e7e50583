//! The web UI's timings as a person sees them: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, as in the browser tests) driven through WebDriver against the real
//! `neptune-server` binary on a loopback port.
//!
//! 1. The runs table of a project of 10,000 runs × 50 fields: from the navigation's start to
//!    the table's rows in the page and its scripts run (`DOMContentLoaded` ended), against
//!    a target of 1 s.
//! 2. Compare of 10 runs × 1,000,000 points: from the navigation's start to every chart drawn
//!    (`window.neptune.readyAt`, noted by the page itself), against a target of 1 s.
//! 3. A point appended to an Active run: from `wait()` returning to the point on the run
//!    page's chart, against a target of 3 s.
//!
//! `cargo bench -p neptune-server --bench ui_browser` (release). `NEPTUNE_BENCH_RUNS` and
//! `NEPTUNE_BENCH_POINTS` scale the stores; each figure is the median of 7 loads after 2
//! warm-ups (the live figure: of 7 appends).

#![allow(missing_docs)]

mod seed;
#[path = "../tests/it/ui_browser/webdriver.rs"]
mod webdriver;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use neptune_core::store::Store;
use seed::{env_or, PROJECT};
use serde_json::json;
use webdriver::Browser;

const BIN: &str = env!("CARGO_BIN_EXE_neptune-server");

/// The server binary on `data` (a free loopback port); killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(BIN)
            .arg("--data")
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start neptune-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the server's first line");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("the server's address")
            .to_owned();
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(data: &Path) -> String {
    let out = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(["token", "create", "--project", PROJECT, "--scope", "read"])
        .output()
        .expect("token create");
    assert!(out.status.success(), "token create failed");
    String::from_utf8(out.stdout)
        .expect("token")
        .trim()
        .to_owned()
}

fn sign_in(b: &Browser, server: &Server, token: &str) {
    b.go(&format!("{}/signin", server.url));
    b.type_into("#token", token);
    b.click("#signin");
    b.wait_for("signed in", "document.querySelector('#projects') !== null");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Milliseconds from the navigation's start to `ready` (a JS expression) being true, measured
/// by the page's own clock; the median of 7 loads of `url` after 2 warm-ups.
fn page_ms(b: &Browser, url: &str, what: &str, ready: &str) -> f64 {
    let mut times = Vec::new();
    for i in 0..9 {
        b.go(url);
        b.wait_for(what, ready);
        let ms = b.js(
            "const n = performance.getEntriesByType('navigation')[0]; \
             return (window.neptune && window.neptune.readyAt) || n.domContentLoadedEventEnd",
            json!([]),
        );
        if i >= 2 {
            times.push(ms.as_f64().expect("a time"));
        }
    }
    median(times)
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test --benches` passes nothing: only time
    // when asked to.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runs = env_or("NEPTUNE_BENCH_RUNS", 10_000);
    let points = env_or("NEPTUNE_BENCH_POINTS", 1_000_000);
    let data = tempfile::tempdir().expect("temp dir");
    let t = Instant::now();
    let ids = {
        let store = Store::open(data.path()).expect("store");
        seed::table(&store, runs);
        seed::series(&store, 10, points)
    };
    eprintln!(
        "({runs} runs × 50 fields and 10 runs × {points} points written in {:.1?})",
        t.elapsed()
    );
    let server = Server::start(data.path());
    let b = Browser::start();
    sign_in(&b, &server, &token(data.path()));

    let cols = (0..8)
        .map(|p| format!("params%2Fp{p:02}"))
        .chain(["metrics%2Fm0".into(), "metrics%2Fm1".into()])
        .collect::<Vec<_>>()
        .join("%2C");
    let rows_ready = "document.readyState === 'complete' && \
                      document.querySelectorAll('#runs tbody tr').length > 0";
    for (label, extra) in [
        ("newest first", String::new()),
        ("sorted by a metric", "&sort=metrics%2Fm3".to_owned()),
        ("a tag chip (1 run in 10)", "&tags=t3".to_owned()),
    ] {
        let url = format!("{}/runs?project=bench%2Fui&cols={cols}{extra}", server.url);
        let ms = page_ms(&b, &url, "the runs table", rows_ready);
        println!("runs table in Chromium, {runs} runs × 50 fields, 50 rows, {label}: usable in {ms:.0} ms");
    }
    b.screenshot("bench-runs");

    let compare = format!(
        "{}/compare?project=bench%2Fui{}",
        server.url,
        ids.iter().map(|i| format!("&ids={i}")).collect::<String>()
    );
    // The page notes when every chart has drawn its first data (`readyAt`, its own clock).
    let drawn = "window.neptune && window.neptune.readyAt";
    let ms = page_ms(&b, &compare, "the compare charts", drawn);
    println!("compare in Chromium, 10 runs × {points} points: all charts drawn in {ms:.0} ms");
    b.screenshot("bench-compare");

    // A live run: the time from a point being durable to it being on the chart.
    let run = neptune_core::Run::builder()
        .home(data.path())
        .project(PROJECT)
        .capture_hardware_metrics(false)
        .open()
        .expect("a live run");
    let series = run.field("train/live").float_series().expect("series");
    let log = |step: usize| {
        series.append(step as f64).expect("append");
        run.wait().expect("durable");
    };
    log(0);
    b.go(&format!("{}/run/{}", server.url, run.id()));
    b.wait_for(
        "the live chart",
        "window.neptune && window.neptune.ready && window.neptune.charts['train/live']",
    );
    let mut times = Vec::new();
    for step in 1..=7 {
        // Appends land at any moment of the page's polling period.
        std::thread::sleep(Duration::from_millis(300 * step as u64));
        let t = Instant::now();
        log(step);
        b.wait_for(
            "the appended point",
            &format!(
                "window.neptune.charts['train/live'].points[0] === {}",
                step + 1
            ),
        );
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "a point appended to an Active run on its chart: median {:.0} ms, worst {:.0} ms (of 7)",
        median(times.clone()),
        times.iter().copied().fold(0.0, f64::max)
    );
    run.stop().expect("stop");
}
