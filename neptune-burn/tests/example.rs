//! Runs the crate's example (`examples/regression.rs`): a real burn training on the CPU, logged
//! through `NeptuneMetricLogger` into an embedded store, then read back from the store by a
//! second object of the same run.

#[path = "../examples/regression.rs"]
#[allow(dead_code)] // its `main`
mod regression;

use burn::optim::AdamConfig;
use burn::train::checkpoint::MetricCheckpointingStrategy;
use burn::train::metric::store::{Aggregate, Direction, Split};
use burn::train::metric::LossMetric;
use neptune_core::{GitRef, Mode, Run};

use regression::{ExampleConfig, MlpConfig};

fn float_series(run: &Run, path: &str) -> (Vec<f64>, Vec<f64>) {
    let s = run
        .field(path)
        .float_series()
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .fetch_values()
        .unwrap();
    (s.steps().to_vec(), s.values().to_vec())
}

fn open_run(store: &std::path::Path) -> Run {
    Run::builder()
        .home(store)
        .project("burn/example")
        .git_ref(GitRef::Disabled)
        .capture_dependencies(false)
        .capture_hardware_metrics(false)
        .open()
        .unwrap()
}

/// The same run, opened again from the store, read-only.
fn reopen(store: &std::path::Path, run: &Run) -> Run {
    Run::builder()
        .home(store)
        .project("burn/example")
        .with_id(run.id())
        .mode(Mode::ReadOnly)
        .open()
        .unwrap()
}

#[test]
fn the_example_logs_train_and_valid_metrics_per_iteration_and_epoch_and_its_config() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let run = open_run(&store);
    // 100 train items in batches of 25: 4 iterations an epoch; 40 valid items: 25 + 15.
    let config = ExampleConfig::new(MlpConfig::new().with_hidden(8), AdamConfig::new())
        .with_num_epochs(2)
        .with_batch_size(25)
        .with_train_items(100)
        .with_valid_items(40);
    let artifacts = dir.path().join("artifacts");
    regression::train(&run, &artifacts, &config).unwrap();
    run.stop().unwrap();

    let run = reopen(&store, &run);

    let (steps, losses) = float_series(&run, "train/loss");
    assert_eq!(steps, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    assert!(
        losses.iter().all(|l| l.is_finite() && *l >= 0.0),
        "{losses:?}"
    );
    let (steps, valid) = float_series(&run, "valid/loss");
    assert_eq!(steps, [1.0, 2.0, 3.0, 4.0]);

    // An epoch's value is burn's: the mean of the batch losses, weighted by the count burn
    // gives each (a mean-reduced loss has one element, so every batch counts once).
    let (steps, epochs) = float_series(&run, "train/epoch/loss");
    assert_eq!(steps, [1.0, 2.0]);
    for (e, batches) in epochs.iter().zip(losses.chunks(4)) {
        let mean = batches.iter().sum::<f64>() / 4.0;
        assert!(
            (e - mean).abs() <= 1e-9 * mean.abs().max(1.0),
            "{e} vs {mean}"
        );
    }
    let (steps, valid_epochs) = float_series(&run, "valid/epoch/loss");
    assert_eq!(steps, [1.0, 2.0]);
    for (e, b) in valid_epochs.iter().zip(valid.chunks(2)) {
        let mean = (b[0] + b[1]) / 2.0;
        assert!(
            (e - mean).abs() <= 1e-9 * mean.abs().max(1.0),
            "{e} vs {mean}"
        );
    }

    // A metric name with a space; constant learning rate.
    let (steps, lr) = float_series(&run, "train/learning_rate");
    assert_eq!(steps.len(), 8);
    assert!(lr.iter().all(|v| (v - 1e-2).abs() < 1e-12), "{lr:?}");
    assert!(!run.exists("valid/learning_rate"));

    // The config, nested configs as namespaces; Adam's `None`s skipped.
    let get = |p: &str| run.field(p).fetch().unwrap_or_else(|e| panic!("{p}: {e}"));
    assert_eq!(get("config/num_epochs").as_i64(), Some(2));
    assert_eq!(get("config/batch_size").as_i64(), Some(25));
    assert_eq!(get("config/learning_rate").as_f64(), Some(1e-2));
    assert_eq!(get("config/model/hidden").as_i64(), Some(8));
    assert_eq!(get("config/optimizer/beta_1").as_f64(), Some(0.9f32 as f64));
    assert!(!run.exists("config/optimizer/weight_decay"));

    // burn's default checkpointing kept some epochs (which ones: the test below).
    assert!(artifacts.join("checkpoint/model-2.bpk").exists());
}

/// burn's checkpointing strategies read the metrics back through the logger
/// (`read_numeric`): keeping the checkpoint of the epoch with the *highest* valid loss keeps
/// an early epoch, where a logger that read nothing back would make burn keep the last one.
#[test]
fn burn_keeps_the_checkpoint_it_chooses_from_the_values_read_back_from_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let run = open_run(&store);
    let config = ExampleConfig::new(MlpConfig::new(), AdamConfig::new())
        .with_num_epochs(3)
        .with_train_items(256)
        .with_valid_items(64);
    let artifacts = dir.path().join("artifacts");
    let training = regression::setup(&run, &artifacts, &config)
        .unwrap()
        .with_checkpointing_strategy(MetricCheckpointingStrategy::new(
            &LossMetric::new(),
            Aggregate::Mean,
            Direction::Highest,
            Split::Valid,
        ));
    regression::launch(training, &config);
    run.stop().unwrap();

    let run = reopen(&store, &run);
    let (epochs, losses) = float_series(&run, "valid/epoch/loss");
    assert_eq!(epochs, [1.0, 2.0, 3.0]);
    let highest = losses
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i + 1)
        .unwrap();
    assert_ne!(
        highest, 3,
        "the valid loss rose in the last epoch: {losses:?}"
    );
    let kept: Vec<String> = std::fs::read_dir(artifacts.join("checkpoint"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("model-"))
        .collect();
    assert_eq!(
        kept,
        [format!("model-{highest}.bpk")],
        "valid losses {losses:?}"
    );
}
