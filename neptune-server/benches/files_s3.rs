//! A 1 GiB file uploaded through the server to S3-compatible storage on loopback (moto, at
//! `NEPTUNE_S3_ENDPOINT`, as `scripts/test` starts it): MB/s from the first byte sent until
//! the server's answer (content hashed, in the bucket under its digest), and the server's peak
//! memory above idle (VmHWM minus VmRSS before the upload).
//!
//! `NEPTUNE_S3_ENDPOINT=http://127.0.0.1:PORT cargo bench -p neptune-server --bench files_s3`
//! (`NEPTUNE_BENCH_MIB` changes the size, default 1024; 3 runs, median printed).

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_neptune-server");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_kib(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn http(addr: &str, head: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut r = String::new();
    let _ = s.read_to_string(&mut r);
    r
}

fn main() {
    let Ok(endpoint) = std::env::var("NEPTUNE_S3_ENDPOINT") else {
        eprintln!("files_s3: set NEPTUNE_S3_ENDPOINT (an S3-compatible server such as moto)");
        return;
    };
    let mib: u64 = std::env::var("NEPTUNE_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let s3 = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let bucket = format!("neptune-bench-{}", std::process::id());
    let made = http(
        s3,
        &format!("PUT /{bucket} HTTP/1.1\r\nHost: {s3}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        b"",
    );
    assert!(made.starts_with("HTTP/1.1 200"), "{made}");
    let files = format!("s3://{bucket}/bench");
    let data = tempfile::tempdir().unwrap();
    let envs = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_REGION", "us-east-1"),
    ];
    let out = Command::new(BIN)
        .arg("--data")
        .arg(data.path())
        .args(["token", "create", "--project", "bench/files"])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data.path())
        .args(["--listen", "127.0.0.1:0", "--files", &files])
        .envs(envs)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let server = Server(child);
    let pid = server.0.id();
    let addr = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .trim_start_matches("http://")
        .to_owned();
    let put = |body_len: u64| {
        format!(
            "PUT /api/v1/files?extension=bin HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Length: {body_len}\r\nConnection: close\r\n\r\n"
        )
    };
    // Warm: one small upload, then idle memory.
    let r = http(&addr, &put(5), b"warm!");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let idle = status_kib(pid, "VmRSS:") / 1024.0;
    let mut block: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut rates = Vec::new();
    for run in 0..3u8 {
        block[0] = run; // new content each run: no dedup
        let mut s = TcpStream::connect(&addr).unwrap();
        let started = Instant::now();
        s.write_all(put(mib << 20).as_bytes()).unwrap();
        for i in 0..mib {
            block[1] = i as u8;
            s.write_all(&block).unwrap();
        }
        let mut r = String::new();
        let _ = s.read_to_string(&mut r);
        let secs = started.elapsed().as_secs_f64();
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        let rate = (mib << 20) as f64 / 1e6 / secs;
        println!("run {run}: {mib} MiB in {secs:.2} s = {rate:.0} MB/s");
        rates.push(rate);
        // Free the bucket's memory for the next run.
        let gc = Command::new(BIN)
            .arg("--data")
            .arg(data.path())
            .args(["--files", &files, "gc", "--grace-hours", "0"])
            .envs(envs)
            .output()
            .unwrap();
        assert!(gc.status.success());
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    let peak = status_kib(pid, "VmHWM:") / 1024.0;
    println!(
        "median {:.0} MB/s; server RSS idle {idle:.1} MiB, peak {peak:.1} MiB, {:.1} MiB above idle",
        rates[1],
        peak - idle
    );
}
