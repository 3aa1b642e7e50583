//! `neptune plot` of a 10-million-point FloatSeries from the embedded store (target: ≤ 2 s),
//! timed as a whole command (process start, every point fetched, the reduction, the PNG).
//!
//! ```text
//! cargo bench -p neptune-tracker-cli --bench plot
//! ```
//!
//! The store is made once under the target directory (`neptune-bench-plot/`) and reused.
//! Each figure is the median of 3 timed runs after one untimed run.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use neptune_core::operation::FloatPoint;
use neptune_core::store::Store;
use neptune_core::{FieldPath, ObjectKind, OpenRequest, Operation, Reader, Writer};

const POINTS: usize = 10_000_000;
const BATCH: usize = 1_000_000;

fn populate(home: &Path) -> String {
    let store = Store::open(home).unwrap();
    let info = store
        .open_object(&OpenRequest {
            kind: ObjectKind::Run,
            project: "bench/plot".into(),
            with_id: None,
            custom_run_id: None,
            model: None,
            owner: "bench".into(),
            read_only: false,
        })
        .unwrap();
    let path = FieldPath::parse("train/loss").unwrap();
    let started = Instant::now();
    for b in 0..POINTS / BATCH {
        let points = (b * BATCH..(b + 1) * BATCH)
            .map(|i| {
                let x = i as f64;
                FloatPoint {
                    step: Some(x),
                    // A decaying curve with noise and a few spikes.
                    value: 1.0 / (1.0 + x / 1e5)
                        + 0.05 * ((x * 0.37).sin())
                        + if i % 1_000_003 == 0 { 2.0 } else { 0.0 },
                    timestamp_ms: 1_700_000_000_000 + (i / 10) as i64,
                }
            })
            .collect();
        let rejected = store
            .execute(
                &info.id,
                &[Operation::LogFloats {
                    path: path.clone(),
                    points,
                }],
            )
            .unwrap();
        assert!(rejected.is_empty());
    }
    eprintln!(
        "logged {POINTS} points in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    info.id
}

fn median3(mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[1]
}

fn main() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neptune-bench-plot");
    let home = dir.join("store");
    let id_file = dir.join("run-id");
    let id = match std::fs::read_to_string(&id_file) {
        Ok(id) => id,
        Err(_) => {
            let _ = std::fs::remove_dir_all(&dir);
            let id = populate(&home);
            std::fs::write(&id_file, &id).unwrap();
            id
        }
    };
    let store = Store::open(&home).unwrap();
    let path = FieldPath::parse("train/loss").unwrap();
    let fetch = median3(|| {
        let mut n = 0;
        let mut after = None;
        loop {
            let page = store
                .fetch_float_points(&id, &path, after, 1 << 20)
                .unwrap();
            n += page.len();
            after = page.steps.last().copied();
            if page.len() < 1 << 20 {
                break;
            }
        }
        assert_eq!(n, POINTS);
    });
    println!(
        "fetch of {POINTS} points (backend only), median of 3: {:.0} ms",
        fetch.as_secs_f64() * 1e3
    );
    for (x, out) in [
        ("step", "chart.png"),
        ("time", "chart-time.png"),
        ("step", "chart.svg"),
    ] {
        let out = dir.join(out);
        let t = median3(|| {
            let status = Command::new(env!("CARGO_BIN_EXE_neptune"))
                .args([
                    "--home",
                    home.to_str().unwrap(),
                    "plot",
                    &id,
                    "train/loss",
                    "--x",
                    x,
                    "-o",
                ])
                .arg(&out)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        });
        println!(
            "neptune plot of {POINTS} points (--x {x}, {}), median of 3: {:.0} ms",
            out.extension().unwrap().to_string_lossy(),
            t.as_secs_f64() * 1e3
        );
    }
}
