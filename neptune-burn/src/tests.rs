//! The logger's mapping from burn's events to fields, driven as burn's event store drives it:
//! definitions, then per split the updates of each iteration, the epoch's final update and the
//! epoch summary.

use std::sync::Arc;

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, NumericMetricUpdate, Split};
use burn::train::metric::{
    MetricAttributes, MetricDefinition, MetricEntry, MetricId, NumericAttributes, NumericEntry,
    SerializedEntry,
};
use neptune_core::{Mode, Run};

use crate::NeptuneMetricLogger;

fn debug_run() -> Run {
    Run::builder().mode(Mode::Debug).open().unwrap()
}

fn id(name: &str) -> MetricId {
    MetricId::new(Arc::new(name.to_owned()))
}

fn define(logger: &mut NeptuneMetricLogger, name: &str, numeric: bool) {
    let attributes = if numeric {
        MetricAttributes::Numeric(NumericAttributes {
            unit: None,
            higher_is_better: false,
        })
    } else {
        MetricAttributes::None
    };
    logger.log_metric_definition(MetricDefinition {
        metric_id: id(name),
        name: Arc::new(name.to_owned()),
        description: None,
        attributes,
    });
}

/// A numeric metric's entry as burn serializes it (`NumericEntry::serialize`).
fn numeric(name: &str, entry: NumericEntry) -> NumericMetricUpdate {
    let serialized = entry.serialize();
    NumericMetricUpdate::new(
        MetricEntry::new(
            id(name),
            SerializedEntry::new(format!("{name}: {serialized}"), serialized),
        ),
        Some(entry),
        None,
    )
}

/// A batch of `count` items whose metric value is `v`.
fn batch(name: &str, v: f64, count: usize) -> NumericMetricUpdate {
    numeric(
        name,
        NumericEntry::Aggregated {
            aggregated_value: v,
            count,
        },
    )
}

fn text(name: &str, formatted: &str) -> MetricEntry {
    MetricEntry::new(
        id(name),
        SerializedEntry::new(formatted.to_owned(), formatted.to_owned()),
    )
}

fn update(numeric: Vec<NumericMetricUpdate>) -> MetricsUpdate {
    MetricsUpdate::new(Vec::new(), numeric)
}

fn steps_and_values(run: &Run, path: &str) -> (Vec<f64>, Vec<f64>) {
    let s = run
        .field(path)
        .float_series()
        .unwrap()
        .fetch_values()
        .unwrap();
    (s.steps().to_vec(), s.values().to_vec())
}

/// One epoch of `split`: an update per batch value (batches of 10 items), then the final one
/// (the mean) and the summary.
fn epoch(logger: &mut NeptuneMetricLogger, split: Split, epoch: usize, losses: &[f64]) {
    for &l in losses {
        logger.log(update(vec![batch("Loss", l, 10)]), epoch, &split);
    }
    let mean = losses.iter().sum::<f64>() / losses.len() as f64;
    logger.log(
        update(vec![numeric("Loss", NumericEntry::Final(mean))]),
        epoch,
        &split,
    );
    logger.log_epoch_summary(EpochSummary::new(epoch, split));
}

#[test]
fn iterations_and_epochs_go_to_their_series_with_their_steps() {
    let run = debug_run();
    let mut logger = NeptuneMetricLogger::new(&run);
    define(&mut logger, "Loss", true);
    epoch(&mut logger, Split::Train, 1, &[4.0, 3.0, 2.0]);
    epoch(&mut logger, Split::Valid, 1, &[2.5, 1.5]);
    epoch(&mut logger, Split::Train, 2, &[1.0, 0.5]);
    epoch(&mut logger, Split::Valid, 2, &[0.75, 0.25]);

    // Iteration steps count on across epochs, per split.
    assert_eq!(
        steps_and_values(&run, "train/loss"),
        (vec![1.0, 2.0, 3.0, 4.0, 5.0], vec![4.0, 3.0, 2.0, 1.0, 0.5])
    );
    assert_eq!(
        steps_and_values(&run, "valid/loss"),
        (vec![1.0, 2.0, 3.0, 4.0], vec![2.5, 1.5, 0.75, 0.25])
    );
    // The final update is an epoch's value, at the epoch's step, not one more iteration.
    assert_eq!(
        steps_and_values(&run, "train/epoch/loss"),
        (vec![1.0, 2.0], vec![3.0, 0.75])
    );
    assert_eq!(
        steps_and_values(&run, "valid/epoch/loss"),
        (vec![1.0, 2.0], vec![2.0, 0.5])
    );
}

#[test]
fn read_numeric_gives_burn_the_epoch_value_from_the_run() {
    let run = debug_run();
    let mut logger = NeptuneMetricLogger::new(&run);
    define(&mut logger, "Loss", true);
    epoch(&mut logger, Split::Valid, 1, &[2.5, 1.5]);
    epoch(&mut logger, Split::Valid, 2, &[0.75, 0.25]);

    let read = |logger: &mut NeptuneMetricLogger, epoch, split: &Split| {
        logger
            .read_numeric("Loss", epoch, split)
            .unwrap()
            .iter()
            .map(NumericEntry::serialize)
            .collect::<Vec<_>>()
    };
    assert_eq!(read(&mut logger, 1, &Split::Valid), ["2,final"]);
    assert_eq!(read(&mut logger, 2, &Split::Valid), ["0.5,final"]);
    // burn's strategies walk epochs until one is empty.
    assert!(read(&mut logger, 3, &Split::Valid).is_empty());
    assert!(read(&mut logger, 1, &Split::Train).is_empty());
    assert!(logger
        .read_numeric("Accuracy", 1, &Split::Valid)
        .unwrap()
        .is_empty());

    // Another logger on the same run (a resumed training) reads the same epochs.
    let mut other = NeptuneMetricLogger::new(&run);
    assert_eq!(read(&mut other, 2, &Split::Valid), ["0.5,final"]);
}

#[test]
fn read_numeric_of_an_epoch_in_progress_gives_its_iterations() {
    let run = debug_run();
    let mut logger = NeptuneMetricLogger::new(&run);
    define(&mut logger, "Loss", true);
    epoch(&mut logger, Split::Train, 1, &[9.0]);
    for l in [3.0, 2.0, 1.0] {
        logger.log(update(vec![batch("Loss", l, 10)]), 2, &Split::Train);
    }
    // The last update is held until the next event tells what it was.
    let values: Vec<f64> = logger
        .read_numeric("Loss", 2, &Split::Train)
        .unwrap()
        .iter()
        .map(NumericEntry::current)
        .collect();
    assert_eq!(values, [3.0, 2.0]);
}

#[test]
fn placeholders_are_skipped_and_epoch_only_metrics_get_epoch_points() {
    let run = debug_run();
    let mut logger = NeptuneMetricLogger::new(&run);
    define(&mut logger, "Loss", true);
    define(&mut logger, "AUROC", true);
    let na = || {
        NumericMetricUpdate::new(
            MetricEntry::new(id("AUROC"), SerializedEntry::not_available(None)),
            None,
            None,
        )
    };
    for l in [2.0, 1.0] {
        logger.log(update(vec![batch("Loss", l, 10), na()]), 1, &Split::Valid);
    }
    // AUROC's epoch value is a plain value, not marked final: the summary tells the logger.
    logger.log(
        update(vec![
            numeric("Loss", NumericEntry::Final(1.5)),
            numeric("AUROC", NumericEntry::Value(0.875)),
        ]),
        1,
        &Split::Valid,
    );
    logger.log_epoch_summary(EpochSummary::new(1, Split::Valid));

    assert!(!run.exists("valid/auroc"));
    assert_eq!(
        steps_and_values(&run, "valid/epoch/auroc"),
        (vec![1.0], vec![0.875])
    );
    assert_eq!(
        steps_and_values(&run, "valid/loss"),
        (vec![1.0, 2.0], vec![2.0, 1.0])
    );
}

#[test]
fn text_metrics_go_to_string_series_unless_turned_off() {
    for on in [true, false] {
        let run = debug_run();
        let mut logger = NeptuneMetricLogger::new(&run).text_metrics(on);
        define(&mut logger, "Loss", true);
        define(&mut logger, "Sample Output", false);
        for (l, s) in [(2.0, "a cat"), (1.0, "a dog")] {
            let u = MetricsUpdate::new(vec![text("Sample Output", s)], vec![batch("Loss", l, 4)]);
            logger.log(u, 1, &Split::Train);
        }
        let end = MetricsUpdate::new(
            vec![text("Sample Output", "2 samples")],
            vec![numeric("Loss", NumericEntry::Final(1.5))],
        );
        logger.log(end, 1, &Split::Train);
        logger.log_epoch_summary(EpochSummary::new(1, Split::Train));

        assert_eq!(run.exists("train/sample_output"), on);
        if on {
            let s = run
                .field("train/sample_output")
                .string_series()
                .unwrap()
                .fetch_values()
                .unwrap();
            assert_eq!(s.steps(), [1.0, 2.0]);
            assert_eq!(s.values(), ["a cat", "a dog"]);
            let e = run
                .field("train/epoch/sample_output")
                .string_series()
                .unwrap()
                .fetch_last()
                .unwrap();
            assert_eq!(e, "2 samples");
        }
        assert_eq!(steps_and_values(&run, "train/loss").0, [1.0, 2.0]);
    }
}

#[test]
fn a_text_only_training_still_tells_iterations_from_epochs() {
    let run = debug_run();
    let mut logger = NeptuneMetricLogger::new(&run);
    define(&mut logger, "Sample Output", false);
    for s in ["a", "b", "epoch 1 done"] {
        logger.log(
            MetricsUpdate::new(vec![text("Sample Output", s)], Vec::new()),
            1,
            &Split::Train,
        );
    }
    logger.log_epoch_summary(EpochSummary::new(1, Split::Train));
    let s = run.field("train/sample_output").string_series().unwrap();
    assert_eq!(s.fetch_values().unwrap().values(), ["a", "b"]);
    let e = run
        .field("train/epoch/sample_output")
        .string_series()
        .unwrap();
    assert_eq!(e.fetch_last().unwrap(), "epoch 1 done");
}

#[test]
fn an_evaluation_s_last_update_is_written_when_the_logger_is_dropped() {
    let run = debug_run();
    let mut logger = NeptuneMetricLogger::new(&run);
    define(&mut logger, "Loss", true);
    let split = Split::Test(Some(Arc::new("Hold Out".to_owned())));
    for l in [0.5, 0.25] {
        logger.log(update(vec![batch("Loss", l, 10)]), 1, &split);
    }
    drop(logger);
    assert_eq!(
        steps_and_values(&run, "test/hold_out/loss"),
        (vec![1.0, 2.0], vec![0.5, 0.25])
    );
}

#[test]
fn a_resumed_run_continues_the_iteration_steps() {
    let run = debug_run();
    {
        let mut first = NeptuneMetricLogger::new(&run);
        define(&mut first, "Loss", true);
        epoch(&mut first, Split::Train, 1, &[3.0, 2.0, 1.0]);
    }
    let mut resumed = NeptuneMetricLogger::new(&run);
    define(&mut resumed, "Loss", true);
    epoch(&mut resumed, Split::Train, 2, &[0.5, 0.25]);
    assert_eq!(
        steps_and_values(&run, "train/loss").0,
        [1.0, 2.0, 3.0, 4.0, 5.0]
    );
    assert_eq!(steps_and_values(&run, "train/epoch/loss").0, [1.0, 2.0]);
}

#[test]
fn a_refused_path_does_not_stop_the_other_metrics() {
    let run = debug_run();
    run.field("train/loss").assign(1.0).unwrap(); // a Float, not a series
    let mut logger = NeptuneMetricLogger::new(&run);
    define(&mut logger, "Loss", true);
    define(&mut logger, "Learning Rate", true);
    for _ in 0..2 {
        logger.log(
            update(vec![batch("Loss", 1.0, 1), batch("Learning Rate", 0.1, 1)]),
            1,
            &Split::Train,
        );
    }
    logger.log_epoch_summary(EpochSummary::new(1, Split::Train));
    assert_eq!(run.field("train/loss").fetch().unwrap().as_f64(), Some(1.0));
    assert_eq!(steps_and_values(&run, "train/learning_rate").0, [1.0]);
    assert_eq!(
        steps_and_values(&run, "train/epoch/learning_rate"),
        (vec![1.0], vec![0.1])
    );
    // The epoch value has a path of its own, which the Float does not block.
    let read = logger.read_numeric("Loss", 1, &Split::Train).unwrap();
    assert_eq!(
        read.iter().map(NumericEntry::current).collect::<Vec<_>>(),
        [1.0]
    );
}

#[test]
fn under_a_namespace() {
    let run = debug_run();
    let mut logger = NeptuneMetricLogger::under(run.field("finetune"));
    define(&mut logger, "Loss", true);
    epoch(&mut logger, Split::Train, 1, &[1.0]);
    assert_eq!(steps_and_values(&run, "finetune/train/loss").0, [1.0]);
    assert_eq!(steps_and_values(&run, "finetune/train/epoch/loss").0, [1.0]);
    assert!(!run.exists("train"));
}

#[test]
fn a_run_reopened_from_the_store_continues_the_iteration_steps() {
    let dir = tempfile::tempdir().unwrap();
    let open = |id: Option<&str>| {
        let b = Run::builder()
            .home(dir.path())
            .project("burn/resume")
            .git_ref(neptune_core::GitRef::Disabled)
            .capture_dependencies(false)
            .capture_hardware_metrics(false);
        match id {
            Some(id) => b.with_id(id),
            None => b,
        }
        .open()
        .unwrap()
    };
    let run = open(None);
    let mut logger = NeptuneMetricLogger::new(&run);
    define(&mut logger, "Loss", true);
    epoch(&mut logger, Split::Train, 1, &[3.0, 2.0, 1.0]);
    drop(logger);
    run.stop().unwrap();

    // Another process resumes from epoch 1's checkpoint.
    let run = open(Some(run.id()));
    let mut logger = NeptuneMetricLogger::new(&run);
    define(&mut logger, "Loss", true);
    epoch(&mut logger, Split::Train, 2, &[0.5, 0.25]);
    drop(logger);
    run.stop().unwrap();

    let run = open(Some(run.id()));
    assert_eq!(
        steps_and_values(&run, "train/loss"),
        (
            vec![1.0, 2.0, 3.0, 4.0, 5.0],
            vec![3.0, 2.0, 1.0, 0.5, 0.25]
        )
    );
    assert_eq!(
        steps_and_values(&run, "train/epoch/loss"),
        (vec![1.0, 2.0], vec![2.0, 0.375])
    );
}
