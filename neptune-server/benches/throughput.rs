//! End-to-end figures of the team server, on loopback with the real binary:
//!
//! 1. one client to the server: float points per second from the first append until the
//!    server acknowledged the last (`wait()`);
//! 2. the server's memory (RSS) after 10, 25 and 50 million points;
//! 3. the client's cost per append with the HTTP backend, next to the embedded store's.
//!
//! `cargo bench -p neptune-server --bench throughput` (release). `NEPTUNE_BENCH_POINTS`
//! scales the memory run (default 50 million).

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use neptune_core::{GitRef, Run};

const BIN: &str = env!("CARGO_BIN_EXE_neptune-server");

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data: &std::path::Path) -> Server {
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start neptune-server (built by cargo bench)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("address")
        .to_owned();
    Server { child, url }
}

fn token(data: &std::path::Path) -> String {
    let out = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args([
            "token",
            "create",
            "--project",
            "bench/server",
            "--scope",
            "write",
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn rss_mib(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn open(server: &Server, token: &str, home: &std::path::Path) -> Run {
    Run::builder()
        .home(home)
        .url(&server.url)
        .api_token(token)
        .project("bench/server")
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap()
}

fn throughput(server: &Server, token: &str) {
    let home = tempfile::tempdir().unwrap();
    let run = open(server, token, home.path());
    let loss = run.field("train/loss").float_series().unwrap();
    let n = 5_000_000u64;
    let t = Instant::now();
    let mut x = 0.0f64;
    for _ in 0..n {
        x += 1.0;
        loss.append(x).unwrap();
    }
    let appended = t.elapsed();
    run.wait().unwrap();
    let total = t.elapsed();
    println!(
        "end to end: {n} float points acknowledged in {:.2} s = {:.2} M points/s \
         (appends alone {:.2} s)",
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64() / 1e6,
        appended.as_secs_f64()
    );
    run.stop().unwrap();
}

fn memory(server: &Server, token: &str) {
    let total: u64 = std::env::var("NEPTUNE_BENCH_POINTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000_000);
    let home = tempfile::tempdir().unwrap();
    let run = open(server, token, home.path());
    let s = run.field("long/series").float_series().unwrap();
    let pid = server.child.id();
    println!("server RSS at start of the run: {:.1} MiB", rss_mib(pid));
    let marks = [total / 5, total / 2, total];
    let t = Instant::now();
    let mut i = 0u64;
    for m in marks {
        while i < m {
            s.append(i as f64).unwrap();
            i += 1;
        }
        run.wait().unwrap();
        println!(
            "server RSS after {:>3} M points: {:.1} MiB ({:.1} s)",
            m / 1_000_000,
            rss_mib(pid),
            t.elapsed().as_secs_f64()
        );
    }
    run.stop().unwrap();
}

/// The caller's cost of an append, network or not: bursts of appends (timed) that fit the
/// series buffer, each followed by an untimed `wait()`, so that what is timed is the append
/// itself and not the backpressure of a loop producing faster than any backend stores.
fn append_cost(server: &Server, token: &str) {
    const BURST: u64 = 50_000;
    const BURSTS: u64 = 100;
    let measure = |run: &Run| {
        let s = run.field("cost/x").float_series().unwrap();
        let mut x = 0.0;
        let mut timed = Duration::ZERO;
        for b in 0..BURSTS + 5 {
            let t = Instant::now();
            for _ in 0..BURST {
                x += 1.0;
                s.append(std::hint::black_box(x)).unwrap();
            }
            if b >= 5 {
                timed += t.elapsed(); // the first bursts warm up
            }
            run.wait().unwrap();
        }
        timed.as_nanos() as f64 / (BURST * BURSTS) as f64
    };
    let local = tempfile::tempdir().unwrap();
    let store_run = Run::builder()
        .home(local.path())
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let store_ns = measure(&store_run);
    store_run.stop().unwrap();
    let home = tempfile::tempdir().unwrap();
    let http_run = open(server, token, home.path());
    let http_ns = measure(&http_run);
    http_run.stop().unwrap();
    println!(
        "client append (typed FloatSeries, async, {} bursts of {BURST}): embedded store \
         {store_ns:.1} ns, HTTP backend {http_ns:.1} ns",
        BURSTS
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run a smoke check.
    let bench = std::env::args().any(|a| a == "--bench");
    let data = tempfile::tempdir().unwrap();
    let server = start(data.path());
    let token = token(data.path());
    if !bench {
        let home = tempfile::tempdir().unwrap();
        let run = open(&server, &token, home.path());
        run.field("x").append(1.0).unwrap();
        run.wait().unwrap();
        run.stop().unwrap();
        return;
    }
    std::thread::sleep(Duration::from_millis(100));
    throughput(&server, &token);
    append_cost(&server, &token);
    memory(&server, &token);
}
