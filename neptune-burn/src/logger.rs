//! [`NeptuneMetricLogger`]: burn-train's `MetricLogger` writing to a neptune run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use burn::train::logger::MetricLogger;
use burn::train::metric::store::{EpochSummary, MetricsUpdate, NumericMetricUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricEntry, MetricId, NumericEntry};
use neptune_core::{
    FloatSeriesHandle, Handler, LogOptions, Object, SeriesValues, StringSeriesHandle,
};

use crate::paths::{epoch_path, iteration_path, metric_segment, split_namespace};

/// burn-train's [`MetricLogger`] for a neptune run: every metric update of a training (or an
/// evaluation) becomes points of FloatSeries (numeric metrics) and StringSeries (text metrics)
/// in the [layout](crate#layout) of the crate docs, and [`read_numeric`] reads the epoch values
/// back from the run, so burn's checkpointing and early-stopping strategies work with this
/// logger alone.
///
/// Register it with `SupervisedTraining::with_metric_logger` (it then replaces burn's file
/// logger). It holds a handle of the run; stop the run yourself after training.
///
/// ```no_run
/// # fn main() -> neptune_core::Result<()> {
/// let run = neptune_core::init_run()?;
/// let logger = neptune_burn::NeptuneMetricLogger::new(&run);
/// // SupervisedTraining::new(dir, train, valid).with_metric_logger(logger) ...
/// # drop(logger);
/// run.stop()?;
/// # Ok(()) }
/// ```
///
/// A write the run refuses (the path holds another type, the run is stopped) cannot be
/// returned through burn's trait: it is reported once per path as a `tracing` warning, and
/// the logger goes on with the other metrics.
///
/// [`read_numeric`]: MetricLogger::read_numeric
pub struct NeptuneMetricLogger {
    ns: Handler,
    text: bool,
    names: HashMap<MetricId, String>,
    splits: HashMap<String, SplitState>,
    floats: HashMap<String, FloatSeriesHandle>,
    strings: HashMap<String, StringSeriesHandle>,
    reported: HashSet<String>,
}

/// What the logger knows of one split (`train`, `valid`, `test/<tag>`).
#[derive(Default)]
struct SplitState {
    /// The step of the last iteration written.
    iteration: u64,
    /// Whether the run was asked for the split's last stored iteration (a resumed run).
    resumed: bool,
    /// The last update, held until the next event says whether it was an iteration (another
    /// update follows) or the end of the epoch (the epoch summary follows).
    pending: Option<(MetricsUpdate, usize)>,
    /// The first and last iteration of each epoch this logger wrote.
    epochs: BTreeMap<usize, (u64, u64)>,
}

impl NeptuneMetricLogger {
    /// A logger writing at the run's root: `train/loss`, `valid/epoch/loss`, …
    pub fn new(run: &Object) -> NeptuneMetricLogger {
        NeptuneMetricLogger::under(run.root())
    }

    /// A logger writing below a namespace: with `run.field("training")`,
    /// `training/train/loss`, `training/valid/epoch/loss`, … (for a second training in one
    /// run, give it a namespace of its own: its steps start again).
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// let run = neptune_core::Run::builder().mode(neptune_core::Mode::Debug).open()?;
    /// let logger = neptune_burn::NeptuneMetricLogger::under(run.field("finetune"));
    /// # drop(logger);
    /// # Ok(()) }
    /// ```
    pub fn under(namespace: Handler) -> NeptuneMetricLogger {
        NeptuneMetricLogger {
            ns: namespace,
            text: true,
            names: HashMap::new(),
            splits: HashMap::new(),
            floats: HashMap::new(),
            strings: HashMap::new(),
            reported: HashSet::new(),
        }
    }

    /// Whether the entries of text (non-numeric) metrics are appended, as burn formats them,
    /// to StringSeries (on by default).
    pub fn text_metrics(mut self, on: bool) -> NeptuneMetricLogger {
        self.text = on;
        self
    }

    /// Writes an update as an iteration (`epoch_end == false`) or as the values of a whole
    /// epoch.
    fn write(&mut self, ns: &str, update: MetricsUpdate, epoch: usize, epoch_end: bool) {
        let numeric: Vec<(String, f64)> = update
            .entries_numeric
            .iter()
            .filter_map(|u| Some((self.name(&u.entry.metric_id)?, numeric_value(u)?)))
            .collect();
        let text: Vec<(String, String)> = if self.text {
            update
                .entries
                .iter()
                .filter(|e| !e.serialized_entry.is_not_available())
                .filter_map(|e| Some((self.name(&e.metric_id)?, text_value(e))))
                .collect()
        } else {
            Vec::new()
        };
        let step = if epoch_end {
            epoch as f64
        } else {
            let resumed = self.split(ns).resumed;
            let empty = numeric.is_empty() && text.is_empty();
            if !resumed && !empty {
                self.resume(
                    ns,
                    numeric.iter().map(|(m, _)| m),
                    text.iter().map(|(m, _)| m),
                );
            }
            let split = self.split(ns);
            split.iteration += 1;
            let it = split.iteration;
            split
                .epochs
                .entry(epoch)
                .and_modify(|range| range.1 = it)
                .or_insert((it, it));
            it as f64
        };
        let path = |metric: &str| {
            if epoch_end {
                epoch_path(ns, metric)
            } else {
                iteration_path(ns, metric)
            }
        };
        for (metric, value) in numeric {
            let path = path(&metric);
            if let Some(h) = self.float(&path) {
                let r = h.append_with(value, LogOptions::new().step(step));
                self.check(&path, r);
            }
        }
        for (metric, value) in text {
            let path = path(&metric);
            if let Some(h) = self.string(&path) {
                let r = h.append_with(value, LogOptions::new().step(step));
                self.check(&path, r);
            }
        }
    }

    /// Continues the iteration steps of a run that already holds this split's series (a
    /// resumed training, or a second logger on one run), so appends keep increasing steps.
    fn resume<'a>(
        &mut self,
        ns: &str,
        numeric: impl Iterator<Item = &'a String>,
        text: impl Iterator<Item = &'a String>,
    ) {
        let mut last = 0.0f64;
        for metric in numeric {
            let path = iteration_path(ns, metric);
            if self.ns.exists(&path) {
                let r = self.read_float(&path);
                if let Some(Some(s)) = self.check(&path, r) {
                    last = last.max(s.steps().last().copied().unwrap_or(0.0));
                }
            }
        }
        for metric in text {
            let path = iteration_path(ns, metric);
            if self.ns.exists(&path) {
                let r = self
                    .string(&path)
                    .map(|h| h.fetch_values().map(|s| s.steps().last().copied()));
                if let Some(Some(Some(step))) = r.map(|r| self.check(&path, r)) {
                    last = last.max(step);
                }
            }
        }
        let split = self.split(ns);
        split.resumed = true;
        // Steps are whole iterations; a stored fractional step rounds up past it.
        split.iteration = split.iteration.max(last.ceil() as u64);
    }

    fn split(&mut self, ns: &str) -> &mut SplitState {
        self.splits.entry(ns.to_owned()).or_default()
    }

    /// The path segment of a metric, from its definition.
    fn name(&self, id: &MetricId) -> Option<String> {
        let name = self.names.get(id).cloned();
        if name.is_none() {
            tracing::debug!(?id, "neptune-burn: an entry of a metric with no definition");
        }
        name
    }

    fn float(&mut self, path: &str) -> Option<FloatSeriesHandle> {
        if let Some(h) = self.floats.get(path) {
            return Some(h.clone());
        }
        let r = self.ns.field(path).float_series();
        let h = self.check(path, r)?;
        self.floats.insert(path.to_owned(), h.clone());
        Some(h)
    }

    fn string(&mut self, path: &str) -> Option<StringSeriesHandle> {
        if let Some(h) = self.strings.get(path) {
            return Some(h.clone());
        }
        let r = self.ns.field(path).string_series();
        let h = self.check(path, r)?;
        self.strings.insert(path.to_owned(), h.clone());
        Some(h)
    }

    fn read_float(&mut self, path: &str) -> neptune_core::Result<Option<SeriesValues<f64>>> {
        if !self.ns.exists(path) {
            return Ok(None);
        }
        match self.float(path) {
            Some(h) => h.fetch_values().map(Some),
            None => Ok(None),
        }
    }

    /// The value of a result, or `None` after reporting its error (once per path).
    fn check<T>(&mut self, path: &str, r: neptune_core::Result<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                if self.reported.insert(path.to_owned()) {
                    tracing::warn!(
                        path,
                        "neptune-burn could not write or read a burn metric: {e} (further \
                         errors on this path are not reported)"
                    );
                }
                None
            }
        }
    }

    /// Writes a split's held update as an iteration or as the epoch's values.
    fn settle(&mut self, ns: &str, epoch_end: bool) {
        if let Some((update, epoch)) = self.split(ns).pending.take() {
            self.write(ns, update, epoch, epoch_end);
        }
    }
}

impl MetricLogger for NeptuneMetricLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        let ns = split_namespace(split);
        // The update before this one was an iteration: an epoch's last update is followed by
        // its summary instead.
        self.settle(&ns, false);
        self.split(&ns).pending = Some((update, epoch));
    }

    fn read_numeric(
        &mut self,
        name: &str,
        epoch: usize,
        split: &Split,
    ) -> Result<Vec<NumericEntry>, String> {
        let ns = split_namespace(split);
        let metric = metric_segment(name);
        let fail = |e: neptune_core::Error| e.to_string();
        let at = |s: &SeriesValues<f64>, step: f64| {
            let i = s.steps().partition_point(|&x| x < step);
            (s.steps().get(i) == Some(&step)).then(|| s.values()[i])
        };
        let epochs = self.read_float(&epoch_path(&ns, &metric)).map_err(fail)?;
        if let Some(v) = epochs.and_then(|s| at(&s, epoch as f64)) {
            return Ok(vec![NumericEntry::Final(v)]);
        }
        // No value for the whole epoch (yet): its iterations, as far as this logger wrote them.
        let Some(&(first, last)) = self.split(&ns).epochs.get(&epoch) else {
            return Ok(Vec::new());
        };
        let Some(points) = self
            .read_float(&iteration_path(&ns, &metric))
            .map_err(fail)?
        else {
            return Ok(Vec::new());
        };
        Ok(points
            .iter()
            .filter(|p| (first as f64..=last as f64).contains(&p.step))
            .map(|p| NumericEntry::Value(*p.value))
            .collect())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id, metric_segment(&definition.name));
    }

    fn log_epoch_summary(&mut self, summary: EpochSummary) {
        self.settle(&split_namespace(&summary.split), true);
    }
}

impl Drop for NeptuneMetricLogger {
    fn drop(&mut self) {
        // An update still held was an iteration (of an evaluation, or of an interrupted epoch).
        let held: Vec<String> = self
            .splits
            .iter()
            .filter(|(_, s)| s.pending.is_some())
            .map(|(ns, _)| ns.clone())
            .collect();
        for ns in held {
            self.settle(&ns, false);
        }
    }
}

impl fmt::Debug for NeptuneMetricLogger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NeptuneMetricLogger")
            .field("namespace", &self.ns.path())
            .field("text_metrics", &self.text)
            .field("metrics", &self.names.len())
            .finish_non_exhaustive()
    }
}

/// The value of a numeric update: the entry burn serializes (a batch's value, or the epoch's
/// final one), else the metric's current value; `None` for a placeholder (a metric with no
/// value per batch).
pub(crate) fn numeric_value(u: &NumericMetricUpdate) -> Option<f64> {
    let s = &u.entry.serialized_entry;
    if s.is_not_available() {
        return None;
    }
    NumericEntry::deserialize(&s.serialized)
        .ok()
        .or_else(|| u.numeric_entry.clone())
        .map(|e| e.current())
}

/// The text of a text metric's entry: what burn shows for it.
pub(crate) fn text_value(e: &MetricEntry) -> String {
    let s = &e.serialized_entry;
    if s.formatted.is_empty() {
        s.serialized.clone()
    } else {
        s.formatted.clone()
    }
}
