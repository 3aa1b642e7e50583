//! Handle of a FileSeries: `append`, `extend`, `download`, `download_last`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::transfer::{self, Bytes, DownloadOptions};
use super::value::Uploadable;
use crate::engine::queue::SeriesBuffer;
use crate::error::{Error, Result};
use crate::handles::typed::{missing, next_step};
use crate::model::operation::{FilePoint, FileRef, Operation};
use crate::model::path::FieldPath;
use crate::model::rules::clock::now_ms_fast;
use crate::model::types::FieldType;
use crate::objects::inner::ObjectInner;
use crate::options::{ExtendOptions, LogOptions, ProgressBar};

/// Options of a FileSeries `append`: the reference's `step`, `timestamp`, `name`,
/// `description` and `wait`.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{File, FileLogOptions, Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let samples = run.field("data/samples").file_series()?;
/// let img = File::as_image_array(&[0u8, 255, 255, 0], &[2, 2], true)?;
/// samples.append_with(img, FileLogOptions::new().step(3).name("checker").description("2x2"))?;
/// let entries = samples.fetch_entries()?;
/// assert_eq!(entries[0].step, Some(3.0));
/// assert_eq!(entries[0].name.as_deref(), Some("checker"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileLogOptions {
    pub(crate) step: Option<f64>,
    pub(crate) timestamp: Option<f64>,
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) wait: bool,
}

impl FileLogOptions {
    /// Options with nothing set: the next step, the time of the call, no name or description.
    pub fn new() -> Self {
        Self::default()
    }

    /// The step; must be greater than the series' last step (default: last step + 1, or 0).
    pub fn step(mut self, step: impl Into<f64>) -> Self {
        self.step = Some(step.into());
        self
    }

    /// Time of the entry in Unix seconds (default: the time of the call).
    pub fn timestamp(mut self, unix_seconds: impl Into<f64>) -> Self {
        self.timestamp = Some(unix_seconds.into());
        self
    }

    /// Name of the logged file.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Short description of the logged file.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Return only once the entry is stored.
    pub fn wait(mut self, wait: bool) -> Self {
        self.wait = wait;
        self
    }
}

impl From<LogOptions> for FileLogOptions {
    fn from(o: LogOptions) -> Self {
        FileLogOptions {
            step: o.step,
            timestamp: o.timestamp,
            name: None,
            description: None,
            wait: o.wait,
        }
    }
}

/// Options of a FileSeries `extend`: the reference's `steps`, `timestamps` and `wait`, and a
/// name and description per file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileExtendOptions {
    pub(crate) base: ExtendOptions,
    pub(crate) names: Option<Vec<String>>,
    pub(crate) descriptions: Option<Vec<String>>,
}

impl FileExtendOptions {
    /// Options with nothing set: steps follow the last one, the time of the call.
    pub fn new() -> Self {
        Self::default()
    }

    /// One step per file, strictly increasing.
    pub fn steps<I: IntoIterator<Item = S>, S: Into<f64>>(mut self, steps: I) -> Self {
        self.base = self.base.steps(steps);
        self
    }

    /// One Unix time in seconds per file (default: the time of the call for all).
    pub fn timestamps<I: IntoIterator<Item = S>, S: Into<f64>>(mut self, timestamps: I) -> Self {
        self.base = self.base.timestamps(timestamps);
        self
    }

    /// One name per file.
    pub fn names<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.names = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// One description per file.
    pub fn descriptions<I: IntoIterator<Item = S>, S: Into<String>>(mut self, d: I) -> Self {
        self.descriptions = Some(d.into_iter().map(Into::into).collect());
        self
    }

    /// Return only once the files are stored.
    pub fn wait(mut self, wait: bool) -> Self {
        self.base = self.base.wait(wait);
        self
    }
}

impl From<ExtendOptions> for FileExtendOptions {
    fn from(base: ExtendOptions) -> Self {
        FileExtendOptions {
            base,
            names: None,
            descriptions: None,
        }
    }
}

/// Handle of a FileSeries: a series of files (images, predictions, any file).
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{File, Mode, Run};
/// let run = Run::builder().mode(Mode::Debug).open()?;
/// let preds = run.field("train/predictions").file_series()?;
/// for epoch in 0..3u8 {
///     preds.append(File::as_image_array(&[epoch * 50; 4], &[2, 2], true)?)?;
/// }
/// let dir = tempfile::tempdir().unwrap();
/// let files = preds.download_to(dir.path())?;
/// assert_eq!(files.len(), 3);
/// assert!(files[0].ends_with("000000.png") && files[2].ends_with("000002.png"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FileSeriesHandle {
    obj: Arc<ObjectInner>,
    buf: Arc<SeriesBuffer<FilePoint>>,
}

fn timestamp_ms(path: &FieldPath, unix_seconds: Option<f64>, now: i64) -> Result<i64> {
    match unix_seconds {
        None => Ok(now),
        Some(t) => crate::handles::typed::timestamp_ms(path, t),
    }
}

/// What one entry of a file series will be, before its content is stored.
struct Pending {
    step: Option<f64>,
    timestamp_ms: i64,
    name: Option<String>,
    description: Option<String>,
}

impl FileSeriesHandle {
    pub(crate) fn bind(obj: Arc<ObjectInner>, path: &FieldPath) -> Result<Self> {
        let buf = obj.series::<FilePoint>(path, "append")?;
        Ok(FileSeriesHandle { obj, buf })
    }

    /// The field's path.
    pub fn path(&self) -> &FieldPath {
        &self.buf.path
    }

    /// Appends a file (any file: an image is shown as one, others are kept as files) at the
    /// next step, timestamped now.
    pub fn append(&self, file: impl Uploadable) -> Result<()> {
        self.append_with(file, FileLogOptions::default())
    }

    /// Appends a file with the reference's `step`, `timestamp`, `name`, `description`, `wait`.
    pub fn append_with(&self, file: impl Uploadable, opts: FileLogOptions) -> Result<()> {
        let pending = Pending {
            step: opts.step,
            timestamp_ms: timestamp_ms(self.path(), opts.timestamp, now_ms_fast())?,
            name: opts.name,
            description: opts.description,
        };
        self.push(vec![(file.into_file(), pending)], opts.wait, "append")
    }

    /// Appends several files; all share the time of the call.
    pub fn extend<I: IntoIterator<Item = T>, T: Uploadable>(&self, files: I) -> Result<()> {
        self.extend_with(files, FileExtendOptions::default())
    }

    /// Appends several files with `steps`, `timestamps`, `names`, `descriptions` and `wait`.
    /// Checked whole before anything is logged: on `Err` nothing was appended.
    pub fn extend_with<I: IntoIterator<Item = T>, T: Uploadable>(
        &self,
        files: I,
        opts: FileExtendOptions,
    ) -> Result<()> {
        let path = self.path().clone();
        let files: Vec<_> = files.into_iter().map(Uploadable::into_file).collect();
        let n = files.len();
        let check_len = |what, got: Option<usize>| match got {
            Some(got) if got != n => Err(Error::LengthMismatch {
                path: path.to_string(),
                what,
                got,
                values: n,
            }),
            _ => Ok(()),
        };
        check_len("steps", opts.base.steps.as_ref().map(Vec::len))?;
        check_len("timestamps", opts.base.timestamps.as_ref().map(Vec::len))?;
        check_len("names", opts.names.as_ref().map(Vec::len))?;
        check_len("descriptions", opts.descriptions.as_ref().map(Vec::len))?;
        let now = now_ms_fast();
        let mut entries = Vec::with_capacity(n);
        for (i, file) in files.into_iter().enumerate() {
            let ts = opts.base.timestamps.as_ref().map(|t| t[i]);
            entries.push((
                file,
                Pending {
                    step: opts.base.steps.as_ref().map(|s| s[i]),
                    timestamp_ms: timestamp_ms(&path, ts, now)?,
                    name: opts.names.as_ref().map(|v| v[i].clone()),
                    description: opts.descriptions.as_ref().map(|v| v[i].clone()),
                },
            ));
        }
        self.push(entries, opts.base.wait, "extend")
    }

    /// Checks the given steps after `last`; returns the writer's new last step. The first bad
    /// step is an error.
    fn check_steps(&self, last: Option<f64>, entries: &[Option<f64>]) -> Result<Option<f64>> {
        let mut last = last;
        for given in entries {
            last = Some(next_step(self.path(), last, *given)?);
        }
        Ok(last)
    }

    fn push(
        &self,
        entries: Vec<(super::value::File, Pending)>,
        wait: bool,
        attempted: &'static str,
    ) -> Result<()> {
        let obj = &*self.obj;
        let path = self.path();
        obj.check_writable(path)?;
        let given: Vec<Option<f64>> = entries.iter().map(|(_, p)| p.step).collect();
        // Check the steps (and the type) before storing any content.
        {
            let mut g = self.buf.lock();
            if !g.registered {
                drop(g);
                obj.register_series(path, FieldType::FileSeries, attempted)?;
                g = self.buf.lock();
                g.registered = true;
            }
            self.check_steps(g.last_step, &given)?;
        }
        let mut stored: Vec<FileRef> = Vec::with_capacity(entries.len());
        for (file, _) in &entries {
            stored.push(file.store(obj.backend(), path, &ProgressBar::Auto)?);
        }
        let mut g = self.buf.lock();
        // Another thread may have appended meanwhile: check again under the lock.
        g.last_step = self.check_steps(g.last_step, &given)?;
        for ((_, p), file) in entries.into_iter().zip(stored) {
            g.points.push(FilePoint {
                step: p.step,
                timestamp_ms: p.timestamp_ms,
                file,
                name: p.name,
                description: p.description,
            });
        }
        drop(self.buf.after_push(g, &obj.shared.queue));
        obj.after_write(wait)
    }

    /// Every entry (step, timestamp, file reference, name, description), in step order.
    pub fn fetch_entries(&self) -> Result<Vec<FilePoint>> {
        self.obj.flush_for_read()?;
        let points = self
            .obj
            .backend()
            .read()?
            .file_points(&self.obj.id, self.path())?;
        if points.is_empty() && self.obj.schema().type_of(self.path().as_str()).is_none() {
            return Err(missing(&self.obj, self.path()));
        }
        Ok(points)
    }

    /// Empties the series (steps may start again).
    pub fn clear(&self) -> Result<()> {
        let op = Operation::ClearImageLog {
            path: self.path().clone(),
        };
        self.obj.write(vec![op], "clear", false)?;
        self.buf.lock().last_step = None;
        Ok(())
    }

    /// Downloads every file into `neptune/<field name>/` under the working directory, named
    /// by position (`000000.png`, `000001.png`, …: names that sort in step order and stay the
    /// same when more files are appended). Returns the paths written, in step order.
    pub fn download(&self) -> Result<Vec<PathBuf>> {
        self.download_with(DownloadOptions::default())
    }

    /// Downloads every file into the directory `destination` (created if needed).
    pub fn download_to(&self, destination: impl AsRef<Path>) -> Result<Vec<PathBuf>> {
        self.download_with(DownloadOptions::default().destination(destination.as_ref()))
    }

    /// [`download`](Self::download) with the reference's `destination` and `progress_bar`.
    pub fn download_with(&self, opts: DownloadOptions) -> Result<Vec<PathBuf>> {
        let points = self.fetch_entries()?;
        let dir = match opts.destination {
            Some(d) => d,
            None => transfer::cwd()?
                .join("neptune")
                .join(transfer::field_file_name(self.path(), "")?),
        };
        let total = points.iter().map(|p| p.file.size).sum();
        let bar = Bytes::bytes(
            &opts.progress,
            total,
            &format!("downloading {}", self.path()),
        );
        let mut written = Vec::with_capacity(points.len());
        for (i, p) in points.iter().enumerate() {
            let name = if p.file.extension.is_empty() {
                format!("{i:06}")
            } else {
                format!("{i:06}.{}", p.file.extension)
            };
            let dest = dir.join(name);
            transfer::download_one(self.obj.backend(), &p.file, &dest, &bar)?;
            written.push(dest);
        }
        bar.finish();
        Ok(written)
    }

    /// Downloads the last file: to the working directory as `<field name>.<extension>`.
    pub fn download_last(&self) -> Result<PathBuf> {
        self.download_last_with(DownloadOptions::default())
    }

    /// Downloads the last file to `destination` (a directory, or the file to write).
    pub fn download_last_to(&self, destination: impl AsRef<Path>) -> Result<PathBuf> {
        self.download_last_with(DownloadOptions::default().destination(destination.as_ref()))
    }

    /// [`download_last`](Self::download_last) with `destination` and `progress_bar`.
    pub fn download_last_with(&self, opts: DownloadOptions) -> Result<PathBuf> {
        let points = self.fetch_entries()?;
        let last = points
            .last()
            .ok_or_else(|| Error::invalid(self.path(), "the series has no files yet"))?;
        let dest = transfer::single_destination(
            self.path(),
            &last.file.extension,
            opts.destination.as_deref(),
        )?;
        let bar = Bytes::bytes(
            &opts.progress,
            last.file.size,
            &format!("downloading {}", self.path()),
        );
        transfer::download_one(self.obj.backend(), &last.file, &dest, &bar)?;
        bar.finish();
        Ok(dest)
    }
}
