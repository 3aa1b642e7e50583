//! A [`tracing`](https://docs.rs/tracing) layer that logs to a run (feature `tracing`).
//!
//! [`RunLayer`] turns the numeric fields of chosen events into FloatSeries points: those of an
//! event whose target is the metrics target (`metrics` by default), and any event's fields named
//! with the metrics prefix; a `step` field gives the points' step. Every other event at or above
//! a level (INFO by default) is appended, formatted as one line, to a StringSeries (`logs`).
//!
//! ```
//! # fn main() -> neptune_core::Result<()> {
//! use neptune_core::{tracing::RunLayer, Mode, Run};
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let run = Run::builder().mode(Mode::Debug).open()?;
//! let subscriber = tracing_subscriber::registry().with(RunLayer::new(&run));
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::info!(target: "train", "epoch {} done", 1);
//!     tracing::info!(target: "metrics", step = 10, train.loss = 0.25, accuracy = 0.9);
//! });
//! run.wait()?;
//! assert_eq!(run.field("train/loss").float_series()?.fetch_last()?, 0.25);
//! let logs = run.field("logs").string_series()?.fetch_values()?;
//! assert_eq!(logs.values()[0], "INFO train: epoch 1 done");
//! # Ok(()) }
//! ```
//!
//! `log` records reach the layer through `tracing-log` (`tracing_log::LogTracer::init()`).
//!
//! The layer never logs itself: it skips events of this library (targets `neptune_core…`) and
//! events emitted while it writes (a truncation warning, say). It holds the
//! run weakly, so dropping the last handle still stops the run; after that, and after
//! [`stop`](crate::Object::stop), events are ignored. A write the run refuses (a path already
//! holding another type) is reported once per path on stderr (a tracing event emitted inside a
//! scoped subscriber's callback reaches no one), then ignored.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, Weak};

use ::tracing::field::{Field, Visit};
use ::tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::objects::inner::ObjectInner;
use crate::objects::Object;
use crate::options::LogOptions;

thread_local! {
    /// True while this thread is inside [`RunLayer::on_event`]: what the run emits while the
    /// layer writes must not come back into the layer.
    static WRITING: Cell<bool> = const { Cell::new(false) };
}

/// The `tracing` layer of a run; see the [module](self) docs.
pub struct RunLayer {
    run: Weak<ObjectInner>,
    log_path: Option<String>,
    level: Level,
    metrics_target: Option<String>,
    metrics_prefix: Option<String>,
    refused: Arc<Mutex<HashSet<String>>>,
}

impl RunLayer {
    /// A layer writing INFO and more severe events to `logs`, and the numeric fields of events
    /// with target `metrics` to FloatSeries named by the fields (`train.loss` → `train/loss`).
    pub fn new(run: &Object) -> RunLayer {
        RunLayer {
            run: Arc::downgrade(run.inner()),
            log_path: Some("logs".to_owned()),
            level: Level::INFO,
            metrics_target: Some("metrics".to_owned()),
            metrics_prefix: None,
            refused: Arc::default(),
        }
    }

    /// The StringSeries the formatted events go to.
    pub fn log_path(mut self, path: impl Into<String>) -> RunLayer {
        self.log_path = Some(path.into());
        self
    }

    /// Formatted events go nowhere; only metrics are written.
    pub fn without_log(mut self) -> RunLayer {
        self.log_path = None;
        self
    }

    /// The least severe level written to the log (INFO by default): `Level::DEBUG` adds debug
    /// events, `Level::WARN` keeps only warnings and errors. Metrics are written at any level.
    pub fn level(mut self, level: Level) -> RunLayer {
        self.level = level;
        self
    }

    /// Events with this target (or a target below it, `metrics::train`) are metrics: each numeric
    /// field but `step` is appended to the FloatSeries its name gives. `None` turns this off.
    pub fn metrics_target(mut self, target: Option<&str>) -> RunLayer {
        self.metrics_target = target.map(str::to_owned);
        self
    }

    /// Numeric fields whose names start with `prefix` (`"metric."`) are metrics in any event,
    /// named by the rest of the name (`metric.train.loss` → `train/loss`).
    pub fn metrics_prefix(mut self, prefix: impl Into<String>) -> RunLayer {
        self.metrics_prefix = Some(prefix.into());
        self
    }

    fn is_metrics_target(&self, target: &str) -> bool {
        self.metrics_target.as_deref().is_some_and(|t| {
            target == t || (target.starts_with(t) && target[t.len()..].starts_with("::"))
        })
    }

    /// The FloatSeries path of a numeric field of an event, if it is a metric.
    fn metric_path(&self, name: &str, metrics_event: bool) -> Option<String> {
        if name == "step" {
            return None;
        }
        let rest = match &self.metrics_prefix {
            Some(p) if name.starts_with(p.as_str()) && name.len() > p.len() => &name[p.len()..],
            _ if metrics_event => name,
            _ => return None,
        };
        Some(rest.replace('.', "/"))
    }

    fn refused(&self, path: &str, err: &crate::Error) {
        let first = match self.refused.lock() {
            Ok(mut seen) => seen.insert(path.to_owned()),
            Err(_) => false,
        };
        // Not a tracing event: one emitted inside a scoped subscriber's callback is dropped by
        // the dispatcher, so it would reach no one.
        if first {
            eprintln!(
                "neptune: the tracing layer cannot write {path:?}; later events for it are \
                 ignored: {err}"
            );
        }
    }

    fn write(&self, run: &Object, event: &Event<'_>, fields: &Fields) {
        let meta = event.metadata();
        let metrics_event = self.is_metrics_target(meta.target());
        let mut opts = LogOptions::new();
        if let Some(step) = fields.step {
            opts = opts.step(step);
        }
        for (name, value) in &fields.numbers {
            if let Some(path) = self.metric_path(name, metrics_event) {
                if self.is_refused(&path) {
                    continue;
                }
                if let Err(e) = run.field(&path).append_with(*value, opts) {
                    if !run.inner().is_closed() {
                        self.refused(&path, &e);
                    }
                }
            }
        }
        let Some(log) = &self.log_path else { return };
        if *meta.level() > self.level || metrics_event || self.is_refused(log) {
            return;
        }
        let line = fields.line(meta.level(), meta.target());
        if let Err(e) = run.field(log).append(line) {
            if !run.inner().is_closed() {
                self.refused(log, &e);
            }
        }
    }

    fn is_refused(&self, path: &str) -> bool {
        self.refused
            .lock()
            .map(|s| s.contains(path))
            .unwrap_or(true)
    }
}

impl<S: Subscriber> Layer<S> for RunLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target().starts_with("neptune_core") || WRITING.with(Cell::get) {
            return;
        }
        let Some(inner) = self.run.upgrade() else {
            return;
        };
        let _writing = Writing::enter();
        let run = Object::from_inner(inner);
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.write(&run, event, &fields);
    }
}

/// Marks this thread as inside the layer until dropped (also when a write panics).
struct Writing;

impl Writing {
    fn enter() -> Writing {
        WRITING.with(|w| w.set(true));
        Writing
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        WRITING.with(|w| w.set(false));
    }
}

/// An event's fields: the message, the numbers (metric candidates) and the rest as text.
#[derive(Default)]
struct Fields {
    message: String,
    step: Option<f64>,
    numbers: Vec<(&'static str, f64)>,
    rest: String,
}

impl Fields {
    fn number(&mut self, field: &Field, v: f64) {
        if field.name() == "step" {
            self.step = Some(v);
        } else {
            self.numbers.push((field.name(), v));
        }
        let _ = write!(self.rest, " {}={v}", field.name());
    }

    /// `LEVEL target: message key=value …`
    fn line(&self, level: &Level, target: &str) -> String {
        let mut line = format!("{level} {target}:");
        if !self.message.is_empty() {
            line.push(' ');
            line.push_str(&self.message);
        }
        line.push_str(&self.rest);
        line
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, v: f64) {
        self.number(field, v);
    }
    fn record_i64(&mut self, field: &Field, v: i64) {
        self.number(field, v as f64);
    }
    fn record_u64(&mut self, field: &Field, v: u64) {
        self.number(field, v as f64);
    }
    fn record_str(&mut self, field: &Field, v: &str) {
        if field.name() == "message" {
            self.message.push_str(v);
        } else {
            let _ = write!(self.rest, " {}={v:?}", field.name());
        }
    }
    fn record_debug(&mut self, field: &Field, v: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{v:?}");
        } else {
            let _ = write!(self.rest, " {}={v:?}", field.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use ::tracing::{debug, info, warn, Level};
    use tracing_subscriber::layer::SubscriberExt;

    use super::RunLayer;
    use crate::{Run, RunState};

    fn run_in(dir: &std::path::Path) -> Run {
        Run::builder()
            .home(dir)
            .project("team/tracing")
            .git_ref(crate::GitRef::Disabled)
            .open()
            .unwrap()
    }

    fn with_layer(layer: RunLayer, f: impl FnOnce()) {
        let subscriber = tracing_subscriber::registry().with(layer);
        ::tracing::subscriber::with_default(subscriber, f);
    }

    fn lines(run: &Run, path: &str) -> Vec<String> {
        run.wait().unwrap();
        let s = run.field(path).string_series().unwrap();
        s.fetch_values().unwrap().values().to_vec()
    }

    #[test]
    fn events_become_log_lines_and_metrics_with_their_steps() {
        let dir = tempfile::tempdir().unwrap();
        let run = run_in(dir.path());
        with_layer(RunLayer::new(&run), || {
            info!(target: "app", epoch = 1, "epoch done");
            debug!(target: "app", "not at INFO");
            for step in 0..3 {
                info!(target: "metrics", step, train.loss = 1.0 / (step as f64 + 1.0), n = 7_u64);
            }
            info!(target: "metrics::valid", step = 2, acc = 0.5);
            info!(target: "metricsish", acc = 9.0, "not a metrics target");
        });
        assert_eq!(
            lines(&run, "logs"),
            [
                "INFO app: epoch done epoch=1",
                "INFO metricsish: not a metrics target acc=9"
            ]
        );
        let loss = run.field("train/loss").float_series().unwrap();
        let values = loss.fetch_values().unwrap();
        assert_eq!(values.steps(), [0.0, 1.0, 2.0]);
        assert_eq!(values.values(), [1.0, 0.5, 1.0 / 3.0]);
        assert_eq!(
            run.field("n").float_series().unwrap().fetch_last().unwrap(),
            7.0
        );
        let acc = run
            .field("acc")
            .float_series()
            .unwrap()
            .fetch_values()
            .unwrap();
        assert_eq!((acc.steps(), acc.values()), (&[2.0][..], &[0.5][..]));
    }

    #[test]
    fn prefix_level_and_paths_are_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let run = run_in(dir.path());
        let layer = RunLayer::new(&run)
            .log_path("monitoring/log")
            .level(Level::WARN)
            .metrics_target(None)
            .metrics_prefix("metric.");
        with_layer(layer, || {
            info!(target: "app", other = 3, metric.train.acc = 0.75, "an info line");
            warn!(target: "app", step = 4, metric.lr = 0.01, "slow");
            info!(target: "metrics", loss = 1.0);
        });
        let log = lines(&run, "monitoring/log");
        assert_eq!(log.len(), 1, "{log:?}");
        assert!(log[0].starts_with("WARN "), "{log:?}");
        assert_eq!(log[0], "WARN app: slow step=4 metric.lr=0.01");
        assert_eq!(
            run.field("train/acc")
                .float_series()
                .unwrap()
                .fetch_last()
                .unwrap(),
            0.75
        );
        let lr = run
            .field("lr")
            .float_series()
            .unwrap()
            .fetch_values()
            .unwrap();
        assert_eq!(lr.steps(), [4.0]);
        assert!(!run.exists("other") && !run.exists("loss") && !run.exists("logs"));
    }

    #[test]
    fn what_the_run_emits_while_the_layer_writes_is_not_logged_again() {
        let dir = tempfile::tempdir().unwrap();
        let run = run_in(dir.path());
        // A line over the StringSeries limit: the run truncates it and warns (an event of its
        // own, emitted inside the layer's write).
        with_layer(RunLayer::new(&run), || {
            info!(target: "app", "{}", "x".repeat(5_000));
            info!(target: "app", "after");
        });
        let log = lines(&run, "logs");
        assert_eq!(log.len(), 2, "{log:?}");
        assert_eq!(log[0].chars().count(), crate::MAX_SERIES_STRING_LEN);
        assert_eq!(log[1], "INFO app: after");
    }

    #[test]
    fn a_refused_path_is_reported_once_and_the_rest_still_written() {
        let dir = tempfile::tempdir().unwrap();
        let run = run_in(dir.path());
        run.field("logs").assign(1.0).unwrap();
        let layer = RunLayer::new(&run);
        let refused = layer.refused.clone();
        let subscriber = tracing_subscriber::registry().with(layer);
        ::tracing::subscriber::with_default(subscriber, || {
            info!(target: "app", "a");
            info!(target: "metrics", loss = 2.0);
            info!(target: "app", "b");
        });
        run.wait().unwrap();
        let refused = refused.lock().unwrap().clone();
        assert_eq!(
            refused,
            ["logs".to_owned()].into(),
            "reported once, for \"logs\""
        );
        assert_eq!(run.field("logs").float().unwrap().fetch().unwrap(), 1.0);
        assert_eq!(
            run.field("loss")
                .float_series()
                .unwrap()
                .fetch_last()
                .unwrap(),
            2.0
        );
    }

    #[test]
    fn the_layer_does_not_keep_a_dropped_run_open() {
        let dir = tempfile::tempdir().unwrap();
        let run = run_in(dir.path());
        let id = run.id().to_owned();
        let layer = RunLayer::new(&run);
        let subscriber = tracing_subscriber::registry().with(layer);
        ::tracing::subscriber::with_default(subscriber, || {
            info!(target: "app", "while open");
            drop(run);
            info!(target: "app", "after the drop: ignored");
        });
        let again = Run::builder()
            .home(dir.path())
            .project("team/tracing")
            .with_id(&id)
            .mode(crate::Mode::ReadOnly)
            .open()
            .unwrap();
        let state = again.field("sys/state").fetch().unwrap();
        assert_eq!(state, crate::Value::RunState(RunState::Inactive));
        let log = again
            .field("logs")
            .string_series()
            .unwrap()
            .fetch_values()
            .unwrap();
        assert_eq!(log.values().len(), 1);
    }
}
