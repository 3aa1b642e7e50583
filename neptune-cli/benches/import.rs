//! `neptune import parquet` of an exporter-shaped export into the embedded store
//! (target: 1,000 runs × 100,000 points at ≥ 5 M points/s, memory flat).
//!
//! ```text
//! cargo bench -p neptune-tracker-cli --bench import                   # 100 runs × 100,000
//! NEPTUNE_BENCH_RUNS=1000 cargo bench -p neptune-tracker-cli --bench import   # the full size
//! ```
//!
//! Needs python3 with pyarrow (`tests/fixtures/make_export.py` writes the export once under
//! the target directory, `neptune-bench-import-<runs>x<points>/`, and reuses it). Each timed
//! import goes into a fresh store; the figure is the whole command (reading, mapping, writing,
//! and the final wait for the store), with the child's peak memory (VmHWM) sampled from /proc.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn export(runs: usize, points: usize) -> PathBuf {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target");
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or(target);
    let dir = base.join(format!("neptune-bench-import-{runs}x{points}"));
    if dir.join("done").exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let started = Instant::now();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make_export.py");
    let status = Command::new("python3")
        .arg(script)
        .arg(&dir)
        .args(["--runs", &runs.to_string(), "--points", &points.to_string()])
        .status()
        .expect("python3 (with pyarrow) runs make_export.py");
    assert!(status.success(), "make_export.py failed");
    std::fs::write(dir.join("done"), b"").unwrap();
    eprintln!("export written in {:.1?}", started.elapsed());
    dir
}

/// The peak resident memory of a process, in MiB, while it runs.
fn vm_hwm_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs = env_usize("NEPTUNE_BENCH_RUNS", 100);
    let points = env_usize("NEPTUNE_BENCH_POINTS", 100_000);
    let dir = export(runs, points);
    let data = dir.join("data");
    let bytes: u64 = walk_size(&data);
    let total = (runs * points) as f64;
    let mut rates = Vec::new();
    for round in 0..3 {
        let home = dir.join(format!("home-{round}"));
        let _ = std::fs::remove_dir_all(&home);
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_neptune"))
            .arg("--home")
            .arg(&home)
            .args(["import", "parquet"])
            .arg(&data)
            .env_remove("NEPTUNE_URL")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut peak: f64 = 0.0;
        let mut samples = Vec::new();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if let Some(m) = vm_hwm_mib(child.id()) {
                peak = peak.max(m);
                samples.push(m);
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let secs = started.elapsed().as_secs_f64();
        assert!(status.success(), "the import failed");
        let mid = samples.get(samples.len() / 2).copied().unwrap_or(0.0);
        let rate = total / secs;
        rates.push(rate);
        eprintln!(
            "import {runs} runs × {points} points ({:.0} MiB of Parquet): {secs:.2} s, \
             {:.2} M points/s; peak memory {peak:.1} MiB (at half time {mid:.1} MiB)",
            bytes as f64 / (1 << 20) as f64,
            rate / 1e6
        );
        let _ = std::fs::remove_dir_all(&home);
    }
    rates.sort_by(f64::total_cmp);
    eprintln!("median: {:.2} M points/s", rates[1] / 1e6);
}

fn walk_size(p: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(p) else {
        return 0;
    };
    if meta.is_file() {
        return meta.len();
    }
    std::fs::read_dir(p)
        .map(|rd| rd.flatten().map(|e| walk_size(&e.path())).sum())
        .unwrap_or(0)
}
