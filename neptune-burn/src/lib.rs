//! [burn](https://burn.dev) training, logged to a neptune run.
//!
//! - [`NeptuneMetricLogger`]: burn-train's `MetricLogger`. Give it to
//!   `SupervisedTraining::with_metric_logger` and every metric of the training (loss,
//!   accuracy, learning rate, …) is written to the run, for each iteration and each epoch.
//! - [`assign_config`]: a burn `Config` (the training's, the model's, the optimizer's) as
//!   fields of a namespace.
//!
//! ```no_run
//! # fn main() -> neptune_core::Result<()> {
//! # #[derive(burn::config::Config, Debug)] struct TrainingConfig { #[config(default = 2)] num_epochs: usize }
//! let run = neptune_core::init_run()?;
//! let config = TrainingConfig::new();
//! neptune_burn::assign_config(&run.field("config"), &config)?;
//! let logger = neptune_burn::NeptuneMetricLogger::new(&run);
//! // let training = SupervisedTraining::new(dir, loader_train, loader_valid)
//! //     .metric_train_numeric(LossMetric::new())
//! //     .metric_valid_numeric(LossMetric::new())
//! //     .with_metric_logger(logger)
//! //     .num_epochs(config.num_epochs);
//! // training.launch(Learner::new(model, optimizer, 1e-3));
//! # drop(logger);
//! run.stop()?;
//! # Ok(()) }
//! ```
//!
//! The crate's `examples/regression.rs` trains a small model this way.
//!
//! # Layout
//!
//! A metric's name becomes one path segment ([`metric_segment`]: `"Loss"` → `loss`,
//! `"Learning Rate"` → `learning_rate`); each split has a namespace (`train`, `valid`,
//! `test`, or `test/<tag>` for a tagged test split of an evaluation):
//!
//! | field | type | one point per | step |
//! |---|---|---|---|
//! | `train/<metric>`, `valid/<metric>` | FloatSeries | iteration (batch) | the split's iteration, from 1, counted across epochs |
//! | `train/epoch/<metric>`, `valid/epoch/<metric>` | FloatSeries | epoch | the epoch, from 1 |
//! | the same paths, for a text metric | StringSeries | iteration / epoch | as above |
//!
//! An iteration's point is the batch's value as burn computes it for the metric (the loss of
//! that batch); an epoch's point is burn's value for the whole epoch (for the loss, the mean of
//! its batch losses), which is what burn's checkpointing and early-stopping strategies compare.
//! Metrics burn computes only per epoch (AUROC, say) have epoch points only. Text metrics are
//! written as burn formats them for its dashboard; [`NeptuneMetricLogger::text_metrics`]
//! turns them off. With [`NeptuneMetricLogger::under`] every path is below a namespace of your
//! choice.
//!
//! When the run already holds a split's series (a run reopened with `with_id` to resume a
//! training from a checkpoint), iteration steps continue after the stored ones; burn's own
//! epoch numbers continue by themselves.
//!
//! burn's `read_numeric` (how its strategies read metrics back) reads the epoch points from the
//! run; for an epoch without one yet, the iteration points this logger wrote for that epoch.

mod config;
mod logger;
mod paths;

pub use config::assign_config;
pub use logger::NeptuneMetricLogger;
pub use paths::metric_segment;

#[cfg(test)]
mod tests;
