//! A two-layer MLP learns `y = 2·x₀ − x₁ + 0.5` from synthetic data on burn's CPU backend
//! (Flex), with its config and every train and valid metric logged to a neptune run.
//!
//! ```text
//! cargo run -p neptune-burn --example regression      # the run goes to ./.neptune (NEPTUNE_HOME)
//! neptune show <run id>                               # train/loss, valid/epoch/loss, config/…
//! ```
//!
//! The crate's tests run [`train`] and read the run back.

use std::path::Path;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::nn::loss::{MseLoss, Reduction};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::AdamConfig;
use burn::prelude::*;
use burn::train::metric::{LearningRateMetric, LossMetric};
use burn::train::{
    InferenceStep, Learner, RegressionOutput, SupervisedTraining, TrainOutput, TrainStep,
};
use neptune_burn::{assign_config, NeptuneMetricLogger};
use neptune_core::Object;

/// Everything the training depends on; logged to the run's `config` namespace.
#[derive(Config, Debug)]
pub struct ExampleConfig {
    /// The model's sizes.
    pub model: MlpConfig,
    /// Adam's settings.
    pub optimizer: AdamConfig,
    /// Epochs to train.
    #[config(default = 2)]
    pub num_epochs: usize,
    /// Items per batch.
    #[config(default = 32)]
    pub batch_size: usize,
    /// Synthetic items to train on.
    #[config(default = 512)]
    pub train_items: usize,
    /// Synthetic items to validate on.
    #[config(default = 128)]
    pub valid_items: usize,
    /// Adam's (constant) learning rate.
    #[config(default = 1e-2)]
    pub learning_rate: f64,
    /// Seed of the data, the shuffling and the weights.
    #[config(default = 42)]
    pub seed: u64,
}

/// A two-layer perceptron: 2 inputs, a hidden ReLU layer, 1 output.
#[derive(Config, Debug)]
pub struct MlpConfig {
    /// Units of the hidden layer.
    #[config(default = 16)]
    pub hidden: usize,
}

impl MlpConfig {
    /// The model, its weights on `device`.
    pub fn init(&self, device: &Device) -> Mlp {
        Mlp {
            hidden: LinearConfig::new(2, self.hidden).init(device),
            activation: Relu::new(),
            output: LinearConfig::new(self.hidden, 1).init(device),
        }
    }
}

/// The model.
#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Linear,
    activation: Relu,
    output: Linear,
}

impl Mlp {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.output
            .forward(self.activation.forward(self.hidden.forward(x)))
    }

    fn regression(&self, batch: Batch) -> RegressionOutput {
        let output = self.forward(batch.inputs);
        let loss = MseLoss::new().forward(output.clone(), batch.targets.clone(), Reduction::Mean);
        RegressionOutput::new(loss, output, batch.targets)
    }
}

impl TrainStep for Mlp {
    type Input = Batch;
    type Output = RegressionOutput;

    fn step(&self, batch: Batch) -> TrainOutput<RegressionOutput> {
        let out = self.regression(batch);
        TrainOutput::new(self, out.loss.backward(), out)
    }
}

impl InferenceStep for Mlp {
    type Input = Batch;
    type Output = RegressionOutput;

    fn step(&self, batch: Batch) -> RegressionOutput {
        self.regression(batch)
    }
}

/// One synthetic example.
#[derive(Clone, Debug)]
pub struct Item {
    x: [f32; 2],
    y: f32,
}

/// `n` examples of `y = 2·x₀ − x₁ + 0.5` with a little noise, `x` uniform in [-1, 1), the
/// same for the same seed (a 64-bit LCG: no dependency).
pub fn synthetic(n: usize, seed: u64) -> Vec<Item> {
    let mut state = seed
        .wrapping_mul(2862933555777941757)
        .wrapping_add(3037000493);
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    };
    (0..n)
        .map(|_| {
            let x = [uniform(), uniform()];
            let noise = 0.01 * uniform();
            Item {
                x,
                y: 2.0 * x[0] - x[1] + 0.5 + noise,
            }
        })
        .collect()
}

/// A batch: inputs `[n, 2]`, targets `[n, 1]`.
#[derive(Clone, Debug)]
pub struct Batch {
    inputs: Tensor<2>,
    targets: Tensor<2>,
}

/// Stacks items into a batch.
#[derive(Clone, Debug)]
pub struct SyntheticBatcher;

impl Batcher<Item, Batch> for SyntheticBatcher {
    fn batch(&self, items: Vec<Item>, device: &Device) -> Batch {
        let n = items.len();
        let xs: Vec<f32> = items.iter().flat_map(|i| i.x).collect();
        let ys: Vec<f32> = items.iter().map(|i| i.y).collect();
        Batch {
            inputs: Tensor::<1>::from_floats(xs.as_slice(), device).reshape([n, 2]),
            targets: Tensor::<1>::from_floats(ys.as_slice(), device).reshape([n, 1]),
        }
    }
}

/// Trains the model as `config` says, with checkpoints in `artifacts`, logging the config
/// to `config/…` and the metrics (loss, learning rate) through [`NeptuneMetricLogger`].
pub fn train(run: &Object, artifacts: &Path, config: &ExampleConfig) -> neptune_core::Result<()> {
    launch(setup(run, artifacts, config)?, config);
    Ok(())
}

/// Logs the config and prepares the training: data, metrics, the run's metric logger, and
/// burn's default checkpointing (the last two epochs, and the one with the lowest valid loss,
/// which burn finds by reading the valid losses back through the logger).
pub fn setup(
    run: &Object,
    artifacts: &Path,
    config: &ExampleConfig,
) -> neptune_core::Result<SupervisedTraining<Mlp>> {
    assign_config(&run.field("config"), config)?;

    let loader = |items| {
        DataLoaderBuilder::new(SyntheticBatcher)
            .batch_size(config.batch_size)
            .shuffle(config.seed)
            .build(InMemDataset::new(items))
    };
    let loader_train = loader(synthetic(config.train_items, config.seed));
    let loader_valid = loader(synthetic(config.valid_items, config.seed + 1));

    Ok(
        SupervisedTraining::new(artifacts, loader_train, loader_valid)
            .metric_train_numeric(LossMetric::new())
            .metric_valid_numeric(LossMetric::new())
            .metric_train_numeric(LearningRateMetric::new())
            .with_metric_logger(NeptuneMetricLogger::new(run))
            .with_default_checkpointers()
            // No `experiment.log`: burn would install a global tracing subscriber for it,
            // which a program (or a test binary running two trainings) can do only once.
            .with_application_logger(None)
            .num_epochs(config.num_epochs),
    )
}

/// Runs a prepared training: the model on the CPU with gradients, Adam, a constant learning
/// rate.
pub fn launch(training: SupervisedTraining<Mlp>, config: &ExampleConfig) {
    let device = Device::flex();
    device.seed(config.seed);
    let model = config.model.init(&device.autodiff());
    training.launch(Learner::new(
        model,
        config.optimizer.init(),
        config.learning_rate,
    ));
}

fn main() -> neptune_core::Result<()> {
    let run = neptune_core::init_run()?;
    let artifacts = std::env::temp_dir().join(format!("neptune-burn-regression-{}", run.id()));
    train(
        &run,
        &artifacts,
        &ExampleConfig::new(MlpConfig::new(), AdamConfig::new()),
    )?;
    run.stop()?;
    println!(
        "logged to run {} (checkpoints in {})",
        run.id(),
        artifacts.display()
    );
    Ok(())
}
