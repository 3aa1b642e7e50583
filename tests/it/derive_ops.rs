//! The exact operation stream typed handles and whole-value assigns produce, read back from
//! the Memory backend.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use neptune::plumbing::operation::{FloatPoint, StringPoint};
use neptune::plumbing::{MemoryBackend, Operation};
use neptune::{FieldPath, FloatSeries, LogOptions, Loggable, Run, StringSeries};

#[derive(Loggable)]
struct Params {
    lr: f64,
    epochs: u16,
    optimizer: Option<String>,
    decay: Option<f64>,
}

#[derive(Loggable)]
struct Train {
    loss: FloatSeries,
    notes: StringSeries,
}

#[derive(Loggable)]
struct Experiment {
    params: Params,
    train: Train,
}

fn p(s: &str) -> FieldPath {
    FieldPath::parse(s).unwrap()
}

/// The run's operations, without the `sys/` fields the library writes itself.
fn user_ops(mb: &MemoryBackend, run: &Run) -> Vec<Operation> {
    run.wait().unwrap();
    mb.operations(run.id())
        .into_iter()
        .filter(|op| !op.path().as_str().starts_with("sys/"))
        .collect()
}

fn open() -> (Arc<MemoryBackend>, Run) {
    let mb = Arc::new(MemoryBackend::new());
    let run = Run::builder()
        .backend(mb.clone())
        .capture_hardware_metrics(false)
        .open()
        .unwrap();
    (mb, run)
}

#[test]
fn binding_writes_nothing() {
    let (mb, run) = open();
    let _h = run.bind::<Experiment>("exp").unwrap();
    assert_eq!(user_ops(&mb, &run), vec![]);
}

#[test]
fn typed_handles() {
    let (mb, run) = open();
    let h = run.bind::<Experiment>("exp").unwrap();
    h.params.lr.assign(0.5).unwrap();
    h.params.epochs.assign(7).unwrap();
    h.params.optimizer.assign("sgd".to_owned()).unwrap();
    let t = |s: f64| LogOptions::new().timestamp(s);
    h.train.loss.append_with(1.0, t(100.0)).unwrap();
    h.train.loss.append_with(0.5, t(101.0)).unwrap();
    h.train.notes.append_with("start", t(102.0)).unwrap();
    assert_eq!(
        user_ops(&mb, &run),
        vec![
            Operation::AssignFloat {
                path: p("exp/params/lr"),
                value: 0.5
            },
            Operation::AssignInt {
                path: p("exp/params/epochs"),
                value: 7
            },
            Operation::AssignString {
                path: p("exp/params/optimizer"),
                value: "sgd".into()
            },
            Operation::LogFloats {
                path: p("exp/train/loss"),
                points: vec![
                    FloatPoint {
                        step: None,
                        value: 1.0,
                        timestamp_ms: 100_000
                    },
                    FloatPoint {
                        step: None,
                        value: 0.5,
                        timestamp_ms: 101_000
                    },
                ],
            },
            Operation::LogStrings {
                path: p("exp/train/notes"),
                points: vec![StringPoint {
                    step: None,
                    value: "start".into(),
                    timestamp_ms: 102_000
                }],
            },
        ]
    );
}

#[test]
fn whole_value_assign_is_one_write_in_field_order() {
    let (mb, run) = open();
    let v = Experiment {
        params: Params {
            lr: 0.1,
            epochs: 3,
            optimizer: None,
            decay: Some(0.01),
        },
        train: Train {
            loss: FloatSeries,
            notes: StringSeries,
        },
    };
    run.field("exp").assign_value(&v).unwrap();
    assert_eq!(
        user_ops(&mb, &run),
        vec![
            Operation::AssignFloat {
                path: p("exp/params/lr"),
                value: 0.1
            },
            Operation::AssignInt {
                path: p("exp/params/epochs"),
                value: 3
            },
            // optimizer: None writes nothing; series markers write nothing.
            Operation::AssignFloat {
                path: p("exp/params/decay"),
                value: 0.01
            },
        ]
    );
}

#[test]
fn datetimes_and_enums() {
    #[derive(Loggable)]
    enum Stage {
        Warmup,
        #[loggable(rename = "main")]
        Main,
    }
    #[derive(Loggable)]
    struct Status {
        stage: Stage,
        since: chrono::DateTime<Utc>,
    }
    let (mb, run) = open();
    let when = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    run.field("s")
        .assign_value(&Status {
            stage: Stage::Warmup,
            since: when,
        })
        .unwrap();
    let h = run.bind::<Status>("s").unwrap();
    h.stage.assign(Stage::Main).unwrap();
    assert_eq!(
        user_ops(&mb, &run),
        vec![
            Operation::AssignString {
                path: p("s/stage"),
                value: "Warmup".into()
            },
            Operation::AssignDatetime {
                path: p("s/since"),
                value_ms: when.timestamp_millis()
            },
            Operation::AssignString {
                path: p("s/stage"),
                value: "main".into()
            },
        ]
    );
}
