//! Optional arguments of the reference's methods: `step`, `timestamp`, `wait`, `progress_bar`.

use std::fmt;
use std::sync::Arc;

/// Options of an `assign` (and other single writes): the reference's `wait`.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{Mode, Run, WriteOptions};
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// run.field("params/lr").assign_with(0.1, WriteOptions::new().wait(true))?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WriteOptions {
    pub(crate) wait: bool,
}

impl WriteOptions {
    /// Options with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Return only once the write is stored (as the whole object's `wait()`).
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }
}

/// Options of [`assign_serde_with`](crate::Handler::assign_serde_with): the reference's
/// `stringify_unsupported`, and `wait`.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{Mode, Run, SerdeOptions, Value};
/// #[derive(serde::Serialize)]
/// struct Params { lr: f64, layers: Vec<u32> }
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let p = Params { lr: 0.1, layers: vec![64, 32] };
/// assert!(run.field("params").assign_serde(&p).is_err()); // a list is no field type
/// run.field("params").assign_serde_with(&p, SerdeOptions::stringify_unsupported())?;
/// assert_eq!(run.field("params/layers").fetch()?, Value::String("[64,32]".into()));
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SerdeOptions {
    pub(crate) stringify_unsupported: bool,
    pub(crate) wait: bool,
}

impl SerdeOptions {
    /// Refuse what no field type holds, as `assign_serde` does.
    pub fn new() -> Self {
        Self::default()
    }

    /// Store what no field type holds (lists, nulls and `None`s, maps whose keys are not
    /// text or integers, integers beyond `i64`) as a String of its JSON text, with one
    /// `tracing` warning naming those paths; NaN and infinite floats stay Floats.
    pub fn stringify_unsupported() -> Self {
        SerdeOptions {
            stringify_unsupported: true,
            wait: false,
        }
    }

    /// Return only once the write is stored (as the whole object's `wait()`).
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }
}

/// Options of an `append`: the reference's `step`, `timestamp` and `wait`.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{LogOptions, Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// run.field("acc").append_with(0.5, LogOptions::new().step(10).timestamp(1.7e9))?;
/// assert_eq!(run.field("acc").float_series()?.fetch_values()?.steps(), &[10.0]);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LogOptions {
    pub(crate) step: Option<f64>,
    pub(crate) timestamp: Option<f64>,
    pub(crate) wait: bool,
}

impl LogOptions {
    /// Options with nothing set: the next step, the time of the call.
    pub fn new() -> Self {
        Self::default()
    }

    /// The step of the point; must be greater than the series' last step.
    /// Without it, the step is the last step plus one (0 for the first point).
    pub fn step(mut self, step: impl Into<f64>) -> Self {
        self.step = Some(step.into());
        self
    }

    /// Time of the point in Unix seconds; the time of the call when absent.
    pub fn timestamp(mut self, unix_seconds: impl Into<f64>) -> Self {
        self.timestamp = Some(unix_seconds.into());
        self
    }

    /// Return only once the point is stored.
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }
}

/// Options of an `extend`: the reference's `steps`, `timestamps` and `wait`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExtendOptions {
    pub(crate) steps: Option<Vec<f64>>,
    pub(crate) timestamps: Option<Vec<f64>>,
    pub(crate) wait: bool,
}

impl ExtendOptions {
    /// Options with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// One step per value, strictly increasing.
    pub fn steps<I: IntoIterator<Item = S>, S: Into<f64>>(mut self, steps: I) -> Self {
        self.steps = Some(steps.into_iter().map(Into::into).collect());
        self
    }

    /// One Unix time in seconds per value; all values share the time of the call when absent.
    pub fn timestamps<I: IntoIterator<Item = S>, S: Into<f64>>(mut self, timestamps: I) -> Self {
        self.timestamps = Some(timestamps.into_iter().map(Into::into).collect());
        self
    }

    /// Return only once the values are stored.
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }
}

/// The reference's `progress_bar` argument for long fetches, uploads and downloads.
#[derive(Clone, Default)]
pub enum ProgressBar {
    /// A progress bar on a terminal when the work is long; nothing otherwise.
    #[default]
    Auto,
    /// No progress bar.
    Off,
    /// Called with (done, total) as the work advances.
    Callback(Arc<dyn Fn(u64, u64) + Send + Sync>),
}

impl fmt::Debug for ProgressBar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProgressBar::Auto => "Auto",
            ProgressBar::Off => "Off",
            ProgressBar::Callback(_) => "Callback",
        })
    }
}

impl From<bool> for ProgressBar {
    fn from(on: bool) -> Self {
        if on {
            ProgressBar::Auto
        } else {
            ProgressBar::Off
        }
    }
}

/// Options of `fetch_values`: the reference's `include_timestamp` and `progress_bar`.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    pub(crate) include_timestamp: bool,
    pub(crate) progress: ProgressBar,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            include_timestamp: true,
            progress: ProgressBar::Auto,
        }
    }
}

impl FetchOptions {
    /// Options with nothing set: every entry, with timestamps.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to fetch the timestamp column (default true).
    pub fn include_timestamp(mut self, on: bool) -> Self {
        self.include_timestamp = on;
        self
    }

    /// Progress reporting (default: a bar on a terminal for long fetches).
    pub fn progress_bar(mut self, p: impl Into<ProgressBar>) -> Self {
        self.progress = p.into();
        self
    }
}

/// A running progress report: an indicatif bar on a terminal, or the user's callback.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    callback: Option<Arc<dyn Fn(u64, u64) + Send + Sync>>,
    total: u64,
    done: std::sync::atomic::AtomicU64,
}

/// Bytes a transfer must reach before it shows a terminal bar.
pub(crate) const BAR_MIN_BYTES: u64 = 8 << 20;

impl Progress {
    /// Starts counting items; a terminal bar only when `total` reaches `min_total`.
    pub(crate) fn start(p: &ProgressBar, total: u64, min_total: u64, what: &str) -> Progress {
        Progress::with_template(
            p,
            total,
            min_total,
            what,
            "{msg} [{bar:30}] {pos}/{len} ({eta})",
        )
    }

    /// Starts counting bytes of a transfer; a terminal bar from [`BAR_MIN_BYTES`] on.
    pub(crate) fn bytes(p: &ProgressBar, total: u64, what: &str) -> Progress {
        Progress::with_template(
            p,
            total,
            BAR_MIN_BYTES,
            what,
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
    }

    fn with_template(
        p: &ProgressBar,
        total: u64,
        min_total: u64,
        what: &str,
        template: &str,
    ) -> Progress {
        use std::io::IsTerminal;
        let bar = match p {
            ProgressBar::Auto if total >= min_total && std::io::stderr().is_terminal() => {
                let bar = indicatif::ProgressBar::new(total);
                if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar.set_message(what.to_owned());
                Some(bar)
            }
            _ => None,
        };
        let callback = match p {
            ProgressBar::Callback(f) => Some(f.clone()),
            _ => None,
        };
        Progress {
            bar,
            callback,
            total,
            done: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Adds `n` to what is done.
    pub(crate) fn add(&self, n: u64) {
        let done = self.done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        self.set(done);
    }

    pub(crate) fn set(&self, done: u64) {
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
        if let Some(f) = &self.callback {
            f(done, self.total);
        }
    }

    pub(crate) fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
