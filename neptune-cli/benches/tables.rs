//! Runs table over 10,000 runs × 50 fields from the embedded store (target: ≤ 200 ms).
//!
//! ```text
//! cargo bench -p neptune-tracker-cli --bench tables
//! ```
//!
//! The store is made once under the target directory (`neptune-bench-tables/`) and reused.
//! Each figure is the median of 3 timed calls after one untimed call.

use std::path::Path;
use std::time::{Duration, Instant};

use neptune_core::operation::FloatPoint;
use neptune_core::store::Store;
use neptune_core::{
    FieldPath, ObjectKind, OpenRequest, Operation, ProgressBar, Reader, RunState, TableQuery,
    TableScope, Writer,
};

const RUNS: usize = 10_000;
const PROJECT: &str = "bench/tables";

fn p(s: &str) -> FieldPath {
    FieldPath::parse(s).unwrap()
}

/// 50 fields a run: 11 sys/ fields, 20 Float, 5 Integer, 5 String, 9 FloatSeries of 10 points.
fn populate(home: &Path) {
    let store = Store::open(home).unwrap();
    let started = Instant::now();
    for i in 0..RUNS {
        let info = store
            .open_object(&OpenRequest {
                kind: ObjectKind::Run,
                project: PROJECT.into(),
                with_id: None,
                custom_run_id: None,
                model: None,
                owner: format!("user{}", i % 7),
                read_only: false,
            })
            .unwrap();
        let mut ops = vec![
            Operation::AssignString {
                path: p("sys/name"),
                value: format!("run {i}"),
            },
            Operation::AssignString {
                path: p("sys/description"),
                value: String::new(),
            },
            Operation::AddStrings {
                path: p("sys/tags"),
                values: vec![format!("group{}", i % 10), "bench".into()],
            },
            Operation::AssignBool {
                path: p("sys/failed"),
                value: false,
            },
            Operation::AssignString {
                path: p("sys/hostname"),
                value: "bench-host".into(),
            },
            Operation::AssignRunState {
                path: p("sys/state"),
                value: RunState::Inactive,
            },
        ];
        for j in 0..20 {
            ops.push(Operation::AssignFloat {
                path: p(&format!("params/f{j:02}")),
                value: (i * 31 + j) as f64 / 1000.0,
            });
        }
        for j in 0..5 {
            ops.push(Operation::AssignInt {
                path: p(&format!("params/i{j}")),
                value: (i * j) as i64,
            });
            ops.push(Operation::AssignString {
                path: p(&format!("params/s{j}")),
                value: format!("value-{}", (i + j) % 13),
            });
        }
        for j in 0..9 {
            ops.push(Operation::LogFloats {
                path: p(&format!("metrics/m{j}")),
                points: (0..10)
                    .map(|k| FloatPoint {
                        step: Some(k as f64),
                        value: 1.0 / (k + j + 1) as f64,
                        timestamp_ms: 1_700_000_000_000 + k,
                    })
                    .collect(),
            });
        }
        let rejected = store.execute(&info.id, &ops).unwrap();
        assert!(rejected.is_empty(), "{rejected:?}");
    }
    eprintln!(
        "made {RUNS} runs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// CPU time of this thread so far (Linux), to tell the work from waiting on a busy machine.
fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Medians of 3 timed calls (wall clock and CPU time) after one untimed call.
fn median3(mut f: impl FnMut() -> usize) -> (Duration, Option<Duration>, usize) {
    let rows = f();
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..3 {
        let (t, c) = (Instant::now(), cpu_time());
        let n = f();
        assert_eq!(n, rows);
        wall.push(t.elapsed());
        if let (Some(c0), Some(c1)) = (c, cpu_time()) {
            cpu.push(c1 - c0);
        }
    }
    wall.sort();
    cpu.sort();
    (wall[1], cpu.get(1).copied(), rows)
}

fn main() {
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("neptune-bench-tables");
    let done = home.join("populated");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&home);
        populate(&home);
        std::fs::write(&done, "").unwrap();
    }
    let store = Store::open(&home).unwrap();
    let scope = TableScope::runs(PROJECT);
    let cases: [(&str, TableQuery); 4] = [
        ("all runs, all 50 columns", TableQuery::new()),
        (
            "all runs, sorted by a Float, 3 columns",
            TableQuery::new()
                .sort_by("params/f07")
                .columns(["params/f01", "metrics/m3"]),
        ),
        (
            "tag + owner + query filters",
            TableQuery::new()
                .tag("group3")
                .owner("user2")
                .query("params/f00 > 1 AND metrics/m0 < 1"),
        ),
        ("newest 20 runs", TableQuery::new().limit(20)),
    ];
    for (name, q) in cases {
        let q = q.progress_bar(ProgressBar::Off);
        let (t, cpu, rows) = median3(|| {
            let t = store.fetch_table(&scope, &q).unwrap();
            assert!(t.columns().len() >= 2);
            t.len()
        });
        let cpu = cpu.map_or(String::new(), |c| {
            format!(" (CPU {:.1} ms)", c.as_secs_f64() * 1e3)
        });
        println!(
            "runs table, {name}: {rows} rows, median of 3: {:.1} ms{cpu}",
            t.as_secs_f64() * 1e3
        );
    }
}
