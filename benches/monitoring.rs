//! What `capture_hardware_metrics` costs: an append with the monitor thread on (sampling every
//! 10 ms, a thousand times its default rate) and off, then the monitor thread's CPU use.
//!
//! `cargo bench --bench monitoring`

// criterion_group! defines a public fn; a benchmark binary has no API to document.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use neptune::{GitRef, Mode, Run};

fn open(dir: &std::path::Path, monitoring: bool, interval: Duration) -> Run {
    Run::builder()
        .home(dir)
        .mode(Mode::Async)
        .git_ref(GitRef::Disabled)
        .capture_hardware_metrics(monitoring)
        .monitoring_interval(interval)
        .open()
        .expect("run")
}

fn append(c: &mut Criterion) {
    for monitoring in [false, true] {
        let dir = tempfile::tempdir().expect("temp dir");
        let run = open(dir.path(), monitoring, Duration::from_millis(10));
        let s = run.field("bench/loss").float_series().expect("series");
        let mut x = 0.0;
        let name = if monitoring { "on" } else { "off" };
        c.bench_function(&format!("monitoring/append_{name}"), |b| {
            b.iter(|| {
                x += 1.0;
                s.append(std::hint::black_box(x))
            })
        });
        run.stop().expect("stop");
    }
}

/// CPU time of this process (user + system), from /proc/self/stat.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// The process sleeps while the monitor samples every 10 ms: the CPU used is the monitor's.
fn monitor_cpu() {
    let dir = tempfile::tempdir().expect("temp dir");
    let interval = Duration::from_millis(10);
    let run = open(dir.path(), true, interval);
    run.wait().expect("wait");
    let (wall0, cpu0) = (Instant::now(), cpu_time());
    std::thread::sleep(Duration::from_secs(10));
    let (wall, cpu1) = (wall0.elapsed(), cpu_time());
    run.stop().expect("stop");
    let (Some(cpu0), Some(cpu1)) = (cpu0, cpu1) else {
        println!("monitor_cpu: no /proc/self/stat");
        return;
    };
    let samples = wall.as_secs_f64() / interval.as_secs_f64();
    let per_sample = (cpu1 - cpu0).as_secs_f64() / samples;
    println!(
        "monitor_cpu: {:.1} % of a core at a 10 ms interval; {:.0} µs per sample (worker \
         included); at the default 10 s: {:.4} % of a core",
        100.0 * (cpu1 - cpu0).as_secs_f64() / wall.as_secs_f64(),
        per_sample * 1e6,
        100.0 * per_sample / 10.0
    );
}

criterion_group!(benches, append);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    monitor_cpu();
}
