//! The stores the web UI's benchmarks read (`ui`, `ui_browser`): a project of many runs × 50
//! fields, and 10 runs with one long FloatSeries, written straight into a [`Store`].
#![allow(dead_code)]

use neptune_core::operation::{FloatPoint, Operation};
use neptune_core::store::Store;
use neptune_core::{FieldPath, ObjectKind, OpenRequest, Writer};

/// The project of every seeded run.
pub const PROJECT: &str = "bench/ui";

/// `NAME` from the environment as a number, else `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn path(p: &str) -> FieldPath {
    FieldPath::parse(p).expect("path")
}

/// A new run of [`PROJECT`]; its id.
pub fn open_run(store: &Store) -> String {
    store
        .open_object(&OpenRequest {
            kind: ObjectKind::Run,
            project: PROJECT.into(),
            with_id: None,
            custom_run_id: None,
            model: None,
            owner: "bench".into(),
            read_only: false,
        })
        .expect("open a run")
        .id
}

/// `runs` runs, each with 40 parameters and 10 metrics (10 points each): 50 user fields, and
/// one of ten tags (`t0` … `t9`).
pub fn table(store: &Store, runs: usize) {
    for r in 0..runs {
        let id = open_run(store);
        let mut ops = Vec::with_capacity(51);
        ops.push(Operation::AddStrings {
            path: path("sys/tags"),
            values: vec![format!("t{}", r % 10)],
        });
        for p in 0..40 {
            ops.push(Operation::AssignFloat {
                path: path(&format!("params/p{p:02}")),
                value: (r * 31 + p) as f64 * 0.001,
            });
        }
        for m in 0..10 {
            ops.push(Operation::LogFloats {
                path: path(&format!("metrics/m{m}")),
                points: (0..10)
                    .map(|s| FloatPoint {
                        step: Some(s as f64),
                        value: ((r * 7 + m * 13 + s) % 1000) as f64 / 1000.0,
                        timestamp_ms: 1_700_000_000_000 + s as i64,
                    })
                    .collect(),
            });
        }
        store.execute(&id, &ops).expect("fields");
    }
}

/// `runs` runs with a FloatSeries `train/loss` of `points` points; their ids.
pub fn series(store: &Store, runs: usize, points: usize) -> Vec<String> {
    (0..runs)
        .map(|r| {
            let id = open_run(store);
            for start in (0..points).step_by(200_000) {
                let pts = (start..(start + 200_000).min(points))
                    .map(|i| FloatPoint {
                        step: Some(i as f64),
                        value: (i as f64 * 0.001 + r as f64).sin()
                            + ((i * 7919) % 101) as f64 * 1e-3,
                        timestamp_ms: 1_700_000_000_000 + i as i64,
                    })
                    .collect();
                let log = Operation::LogFloats {
                    path: path("train/loss"),
                    points: pts,
                };
                store.execute(&id, &[log]).expect("points");
            }
            id
        })
        .collect()
}
