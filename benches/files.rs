//! File benchmarks (issue 4), each the median of 3 runs:
//! - upload of a 1 GiB file into the embedded store (MB/s, and the process's peak RSS,
//!   target: ≥ 300 MB/s under 64 MB);
//! - `upload_files` of 10,000 small files (target: ≤ 5 s);
//! - hashing for `track_files` (target: ≥ 500 MB/s).
//!
//! `cargo bench --bench files` (release). `NEPTUNE_BENCH_FILE_MB` sets the big file's size
//! (default 1024); `NEPTUNE_BENCH_KEEP=1` keeps each run's store instead of deleting it before
//! the next run (the deletion of 10,000 files competes with the next run for the disk).

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use neptune::{GitRef, Run};

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Writes `mb` MiB of pseudo-random bytes, 1 MiB at a time.
fn big_file(path: &Path, mb: usize, seed: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x = seed | 1;
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..mb {
        for chunk in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        f.write_all(&buf).unwrap();
    }
    f.flush().unwrap();
}

/// Writes dirty pages out before a timed run, so that one run does not pay for the
/// write-back of the previous one's files.
fn settle() {
    let _ = std::process::Command::new("sync").status();
}

fn open(home: &Path) -> Run {
    Run::builder()
        .home(home)
        .project("bench/files")
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap()
}

fn main() {
    // `cargo bench` passes --bench; anything else (e.g. `cargo test --benches`) runs a smoke size.
    let real = std::env::args().any(|a| a == "--bench");
    let mb: usize = std::env::var("NEPTUNE_BENCH_FILE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if real { 1024 } else { 8 });
    let small_files = if real { 10_000 } else { 200 };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    big_file(&src, mb, 0x9e3779b97f4a7c15);
    let bytes = (mb << 20) as f64;

    // 1. Upload of one big file, into a fresh store each time (content is stored once).
    let mut rates = Vec::new();
    for i in 0..3 {
        let home = dir.path().join(format!("home-upload-{i}"));
        let run = open(&home);
        let f = run.field("model").file().unwrap();
        settle();
        let t = Instant::now();
        f.upload(&src).unwrap();
        run.wait().unwrap();
        rates.push(bytes / 1e6 / t.elapsed().as_secs_f64());
        run.stop().unwrap();
        drop(run);
        std::fs::remove_dir_all(&home).unwrap();
    }
    println!(
        "upload {mb} MiB file: {:.0} MB/s (median of 3: {:?}), peak RSS {:.1} MB",
        median(rates.clone()),
        rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
        peak_rss_mb()
    );

    // 2. upload_files of many small files (1 KiB each, 100 folders).
    let many = dir.path().join("many");
    for i in 0..small_files {
        let d = many.join(format!("d{:03}", i % 100));
        if i < 100 {
            std::fs::create_dir_all(&d).unwrap();
        }
        let content = format!("{i:>1024}");
        std::fs::write(d.join(format!("f{i:05}.txt")), &content.as_bytes()[..1024]).unwrap();
    }
    let mut times = Vec::new();
    for i in 0..3 {
        let home = dir.path().join(format!("home-many-{i}"));
        let run = open(&home);
        settle();
        let t = Instant::now();
        run.field("many")
            .upload_files(many.to_str().unwrap())
            .unwrap();
        let call = t.elapsed().as_secs_f64();
        run.wait().unwrap();
        times.push(t.elapsed().as_secs_f64());
        eprintln!(
            "  upload_files call {call:.2} s, stored after {:.2} s",
            t.elapsed().as_secs_f64()
        );
        run.stop().unwrap();
        drop(run);
        if std::env::var_os("NEPTUNE_BENCH_KEEP").is_none() {
            std::fs::remove_dir_all(&home).unwrap();
        }
    }
    println!(
        "upload_files of {small_files} small files: {:.2} s (median of 3: {:?})",
        median(times.clone()),
        times
            .iter()
            .map(|t| (t * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );

    // 3. Hashing for track_files (SHA-1 of the content; the file is in the page cache).
    let home = dir.path().join("home-track");
    let run = open(&home);
    let mut rates = Vec::new();
    for i in 0..3 {
        let t = Instant::now();
        run.field(&format!("art{i}"))
            .track_files(src.to_str().unwrap(), None)
            .unwrap();
        rates.push(bytes / 1e6 / t.elapsed().as_secs_f64());
    }
    run.stop().unwrap();
    println!(
        "track_files hashing of a {mb} MiB file: {:.0} MB/s (median of 3: {:?})",
        median(rates.clone()),
        rates.iter().map(|r| r.round()).collect::<Vec<_>>()
    );
}
