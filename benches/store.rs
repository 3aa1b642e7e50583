//! Throughput, size and memory targets of the embedded store (issue 2), run several times and
//! reported as medians:
//! - 10 million points appended then `wait()`ed: points per second;
//! - on-disk size of that series: bytes per point (smooth values, and random values, which
//!   compress least);
//! - `fetch_values` of 1 million points: milliseconds;
//! - peak client memory (VmHWM) while logging the 10 million points.
//!
//! `cargo bench --bench store` (set `STORE_BENCH_POINTS` / `STORE_BENCH_RUNS` to change sizes).

use std::time::Instant;

use neptune::{FetchOptions, Mode, Run};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let points = env_or("STORE_BENCH_POINTS", 10_000_000);
    let runs = env_or("STORE_BENCH_RUNS", 3);
    let fetch_points = 1_000_000.min(points);
    let (mut rates, mut sizes, mut fetches) = (Vec::new(), Vec::new(), Vec::new());
    let mut logging_peak = f64::NAN;
    let mut random_size = f64::NAN;
    for r in 0..runs {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = Run::builder()
            .home(dir.path())
            .mode(Mode::Async)
            .open()
            .expect("run");
        let s = run.field("bench/loss").float_series().expect("series");
        let t = Instant::now();
        for i in 0..points {
            s.append(i as f64 * 0.5).expect("append");
        }
        run.wait().expect("wait");
        let secs = t.elapsed().as_secs_f64();
        rates.push(points as f64 / secs);
        run.stop().expect("stop");
        drop(run);
        if r == 0 {
            logging_peak = peak_rss_mb();
        }
        let bytes = dir_size(dir.path());
        sizes.push(bytes as f64 / points as f64);

        if r == 0 {
            // Random values: the worst case for the value encoding.
            let dir = tempfile::tempdir().expect("temp dir");
            let run = Run::builder().home(dir.path()).open().expect("run");
            let s = run.field("bench/noise").float_series().expect("series");
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            for _ in 0..points.min(2_000_000) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.append((x >> 11) as f64 / (1u64 << 53) as f64)
                    .expect("append");
            }
            run.stop().expect("stop");
            random_size = dir_size(dir.path()) as f64 / points.min(2_000_000) as f64;
        }

        let dir2 = tempfile::tempdir().expect("temp dir");
        let run = Run::builder()
            .home(dir2.path())
            .mode(Mode::Async)
            .open()
            .expect("run");
        let s = run.field("bench/fetch").float_series().expect("series");
        s.extend((0..fetch_points).map(|i| i as f64))
            .expect("extend");
        run.wait().expect("wait");
        let t = Instant::now();
        let v = s
            .fetch_values_with(FetchOptions::new().progress_bar(false))
            .expect("fetch");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(v.len(), fetch_points);
        fetches.push(ms);
        eprintln!(
            "run {r}: {:.2} M points/s, {:.1} B/point, fetch {fetch_points} in {ms:.1} ms",
            rates[r] / 1e6,
            sizes[r]
        );
    }
    println!("points appended and waited: {points}, runs: {runs}");
    println!(
        "append+wait throughput (median): {:.2} M points/s",
        median(rates) / 1e6
    );
    println!(
        "on-disk size (median): {:.1} bytes/point; random values: {random_size:.1} bytes/point",
        median(sizes)
    );
    println!(
        "fetch_values of {fetch_points} points (median): {:.1} ms",
        median(fetches)
    );
    println!("peak client memory while logging {points} points (VmHWM): {logging_peak:.1} MB");
    println!(
        "peak memory of the whole benchmark, fetches included (VmHWM): {:.1} MB",
        peak_rss_mb()
    );
}
