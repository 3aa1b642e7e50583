//! One exported run written through the library: the exporter's attribute types mapped to
//! our field types, idempotently.
//!
//! - The run is opened with `custom_run_id` = the exported `run_id`, so a second import (or one
//!   resumed after a crash) finds the same run.
//! - Single values are written only when the stored value differs; series points only past the
//!   series' last stored step (the store keeps a prefix of each series, whatever the crash);
//!   files only when the stored file's content differs.
//! - `sys/name`, `sys/description`, `sys/tags` and `sys/failed` are written as they are; the
//!   other `sys/` fields belong to our store (ids, times, owner, state), so their exported
//!   values are kept under `imported/sys/…` (e.g. `imported/sys/creation_time`,
//!   `imported/sys/id`).
//! - Our StringSet is `sys/tags` alone: other string sets become a String holding their items
//!   as a sorted JSON list, and the report counts them as converted.
//! - A FileSet already stored is left as it is (its content is not compared).
//! - What has no field type here (histograms, artifacts whose files are not in the export,
//!   Git and notebook references, run states) and unknown types are reported, never dropped
//!   silently.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use chrono::DateTime;
use neptune_core::{
    Backend, FieldPath, FieldType, File, FileLogOptions, FileSeriesHandle, FloatSeriesHandle,
    GitRef, LogOptions, Mode, Operation, Run, StringSeriesHandle, Value,
};
use sha2::{Digest, Sha256};

use super::parquet::Batch;
use super::report::Report;
use crate::CliResult;

/// Where files are looked for, and the store or server written to.
pub(crate) struct Target {
    pub backend: Backend,
    /// Folders that `file_value.path` may be relative to, tried in order.
    pub file_roots: Vec<PathBuf>,
    /// Every run goes to this project instead of its exported `project_id`.
    pub project: Option<String>,
}

impl Target {
    /// The file a `file_value.path` names, in the first files folder that has it.
    fn resolve(&self, rel: &str) -> Result<PathBuf, &'static str> {
        let p = Path::new(rel);
        if !p.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err("file path is not relative to the export's files folder");
        }
        self.file_roots
            .iter()
            .map(|root| root.join(p))
            .find(|c| c.exists())
            .ok_or("file not found in the files folder (give --files DIR)")
    }
}

/// Writable `sys/` fields: written as they are.
const OWN_SYS: [&str; 4] = ["sys/name", "sys/description", "sys/tags", "sys/failed"];

/// How a string_set other than sys/tags is kept.
const STRING_SET_AS_STRING: &str =
    "string_set as a String holding a sorted JSON list (only sys/tags is a StringSet here)";

/// The path an exported attribute is written to.
pub(crate) fn target_path(exported: &str) -> String {
    if exported.starts_with("sys/") && !OWN_SYS.contains(&exported) {
        format!("imported/{exported}")
    } else {
        exported.to_owned()
    }
}

enum Series {
    Float(FloatSeriesHandle),
    String(StringSeriesHandle),
    /// The field could not be bound (type conflict, bad path): the message.
    Refused(String),
}

/// A series being imported: its handle, the last step stored before this import, and the
/// last step written by it.
struct SeriesState {
    exported: String,
    handle: Series,
    stored: Option<f64>,
    written: Option<f64>,
}

/// A FileSeries entry, kept until the run ends: the exporter lists them in directory order.
struct FileEntry {
    step: f64,
    timestamp: Option<i64>,
    file: PathBuf,
}

/// The run being imported.
pub(crate) struct RunImport {
    pub project: String,
    pub run_id: String,
    exported_project: String,
    pub(super) run: Run,
    pub(super) backend: Backend,
    values: HashMap<String, Value>,
    pub(super) types: HashMap<String, FieldType>,
    series: Vec<SeriesState>,
    series_index: HashMap<String, usize>,
    /// The series of the previous row: points of one series come in long runs of rows.
    current: Option<usize>,
    files: HashMap<String, Vec<FileEntry>>,
    /// FileSeries written: the handle (or why not), the last step stored before this import,
    /// and the last step written by it.
    pub(super) file_series: HashMap<String, FileSeriesState>,
}

/// A FileSeries being written: its handle (or why not), the last step stored before this
/// import, and the last step written by it.
pub(super) type FileSeriesState = (Result<FileSeriesHandle, String>, Option<f64>, Option<f64>);

/// A series point's value: its type says the series' type.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PointValue<'a> {
    Float(f64),
    String(&'a str),
}

impl PointValue<'_> {
    fn kind(self) -> &'static str {
        match self {
            PointValue::Float(_) => "float_series",
            PointValue::String(_) => "string_series",
        }
    }
}

fn seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

pub(super) fn sha256_hex(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl RunImport {
    /// Opens (creates or joins) the run of `run_id`, reading what is already stored.
    pub(crate) fn open(
        target: &Target,
        project: &str,
        run_id: &str,
        report: &mut Report,
    ) -> CliResult<RunImport> {
        let exported_project = project.to_owned();
        let project = target.project.clone().unwrap_or_else(|| project.to_owned());
        let run = Run::builder()
            .backend(target.backend.clone())
            .project(project.clone())
            .custom_run_id(run_id)
            .mode(Mode::Async)
            .git_ref(GitRef::Disabled)
            .capture_hardware_metrics(false)
            .capture_dependencies(false)
            .open()
            .map_err(|e| format!("run {run_id:?} of project {project:?}: {e}"))?;
        let b = target.backend.clone();
        let id = run.id().to_owned();
        let structure = b.reader().fetch_structure(&id)?;
        // A new run holds only what the store and the builder wrote.
        let created = structure
            .iter()
            .all(|(p, _)| p.as_str().starts_with("sys/"));
        if created {
            report.runs_created += 1;
        } else {
            report.runs_resumed += 1;
        }
        let values = b
            .reader()
            .fetch_values_below(&id, None)?
            .into_iter()
            .map(|(p, v)| (p.to_string(), v))
            .collect();
        let types = structure
            .into_iter()
            .map(|(p, t)| (p.to_string(), t))
            .collect();
        Ok(RunImport {
            project,
            run_id: run_id.to_owned(),
            exported_project,
            run,
            backend: b,
            values,
            types,
            series: Vec::new(),
            series_index: HashMap::new(),
            current: None,
            files: HashMap::new(),
            file_series: HashMap::new(),
        })
    }

    /// Whether a row of (`project`, `run_id`) belongs to this run.
    pub(crate) fn is(&self, project: &str, run_id: &str) -> bool {
        self.run_id == run_id && self.exported_project == project
    }

    pub(super) fn example(&self, exported: &str) -> String {
        format!("{} {exported} in {}", self.run_id, self.project)
    }

    /// Writes one row.
    pub(crate) fn row(
        &mut self,
        b: &Batch<'_>,
        i: usize,
        target: &Target,
        report: &mut Report,
    ) -> CliResult {
        let exported = Batch::text(b.path, i);
        let kind = Batch::text(b.kind, i);
        match kind {
            "float_series" | "string_series" => self.point(b, i, exported, kind, report),
            "float" | "int" | "string" | "bool" | "datetime" | "string_set" => {
                self.atom(b, i, exported, kind, report)
            }
            "file" | "file_set" | "file_series" => self.file(b, i, exported, kind, target, report),
            "histogram_series" => {
                let reason = if b.has_histogram(i) {
                    "histogram_series: no Histogram field type here yet"
                } else {
                    "histogram_series row without histogram_value"
                };
                report.skip(reason, || self.example(exported));
                Ok(())
            }
            "artifact" => {
                report.skip(
                    "artifact: the export holds only its file list, not the tracked files",
                    || self.example(exported),
                );
                Ok(())
            }
            "git_ref" | "notebook_ref" | "run_state" => {
                report.skip(
                    format!("{kind}: the exporter writes no value for it"),
                    || self.example(exported),
                );
                Ok(())
            }
            other => {
                report.skip(format!("unknown attribute type {other:?}"), || {
                    self.example(exported)
                });
                Ok(())
            }
        }
    }

    fn series_state(&mut self, exported: &str, kind: &str) -> CliResult<usize> {
        if let Some(c) = self.current {
            if self.series[c].exported == exported {
                return Ok(c);
            }
        }
        let idx = match self.series_index.get(exported) {
            Some(&idx) => idx,
            None => {
                let path = target_path(exported);
                let field = self.run.field(&path);
                let bound = if kind == "float_series" {
                    field.float_series().map(Series::Float)
                } else {
                    field.string_series().map(Series::String)
                };
                let handle = bound.unwrap_or_else(|e| Series::Refused(e.to_string()));
                let stored = match (&handle, self.types.contains_key(&path)) {
                    (Series::Refused(_), _) | (_, false) => None,
                    _ => self
                        .backend
                        .reader()
                        .fetch_series_info(self.run.id(), &FieldPath::parse(&path)?)?
                        .and_then(|info| info.last_step),
                };
                self.series.push(SeriesState {
                    exported: exported.to_owned(),
                    handle,
                    stored,
                    written: None,
                });
                self.series_index
                    .insert(exported.to_owned(), self.series.len() - 1);
                self.series.len() - 1
            }
        };
        self.current = Some(idx);
        Ok(idx)
    }

    fn point(
        &mut self,
        b: &Batch<'_>,
        i: usize,
        exported: &str,
        kind: &str,
        report: &mut Report,
    ) -> CliResult {
        let Some(step) = b.step(i) else {
            report.skip(format!("{kind} row without a step"), || {
                self.example(exported)
            });
            return Ok(());
        };
        let Some(step_f) = step.exact_f64() else {
            report.skip(
                "step with more than 15 significant digits (no f64 step holds it exactly)",
                || format!("{} at step {step}", self.example(exported)),
            );
            return Ok(());
        };
        let value = if kind == "float_series" {
            b.float(i).map(PointValue::Float)
        } else {
            b.string(i).map(PointValue::String)
        };
        let Some(value) = value else {
            report.skip(format!("{kind} row without a value"), || {
                self.example(exported)
            });
            return Ok(());
        };
        let timestamp = b.timestamp(i).map(seconds);
        self.append(exported, step_f, timestamp, value, report)
    }

    /// Appends one point to the FloatSeries or StringSeries at `exported` (its type is the
    /// value's): skipped when the store already holds the step (an earlier import), refused
    /// when the step is not after the previous point written.
    pub(crate) fn append(
        &mut self,
        exported: &str,
        step: f64,
        timestamp: Option<f64>,
        value: PointValue<'_>,
        report: &mut Report,
    ) -> CliResult {
        let kind = value.kind();
        let idx = self.series_state(exported, kind)?;
        let s = &self.series[idx];
        if s.stored.is_some_and(|last| step <= last) {
            report.points_present += 1;
            return Ok(());
        }
        if s.written.is_some_and(|last| step <= last) {
            report.skip("step not after the previous point of its series", || {
                format!("{} at step {step}", self.example(exported))
            });
            return Ok(());
        }
        let mut opts = LogOptions::new().step(step);
        if let Some(t) = timestamp {
            opts = opts.timestamp(t);
        }
        let r = match (&s.handle, value) {
            (Series::Float(h), PointValue::Float(v)) => h.append_with(v, opts),
            (Series::String(h), PointValue::String(v)) => h.append_with(v, opts),
            (Series::Refused(e), _) => {
                let e = e.clone();
                report.skip(format!("{kind}: the field cannot be written"), || e);
                return Ok(());
            }
            _ => {
                report.skip(
                    format!("{kind}: the field holds another series type"),
                    || self.example(exported),
                );
                return Ok(());
            }
        };
        match r {
            Ok(()) => {
                report.points += 1;
                self.series[idx].written = Some(step);
            }
            Err(e) => report.skip(format!("{kind} point refused"), || e.to_string()),
        }
        Ok(())
    }

    /// Sets the display range and unit of the FloatSeries at `exported`, when this import
    /// creates it; a series stored before has them already (they are written before its
    /// first point: [`neptune_core::Reader`] does not return them to compare).
    pub(crate) fn configure_float_series(
        &mut self,
        exported: &str,
        min: Option<f64>,
        max: Option<f64>,
        unit: Option<String>,
        report: &mut Report,
    ) -> CliResult {
        let path = target_path(exported);
        if self.types.get(&path) == Some(&FieldType::FloatSeries) {
            report.fields_unchanged += 1;
            return Ok(());
        }
        let op = Operation::ConfigFloatSeries {
            path: FieldPath::parse(&path)?,
            min,
            max,
            unit,
        };
        match self.backend.writer().execute(self.run.id(), &[op]) {
            Ok(rejected) => match rejected.first() {
                None => report.fields += 1,
                Some(r) => report.skip("float_series display settings refused", || {
                    format!("{path}: {}", r.reason)
                }),
            },
            Err(e) => report.skip("float_series display settings refused", || {
                format!("{path}: {e}")
            }),
        }
        Ok(())
    }

    fn atom(
        &mut self,
        b: &Batch<'_>,
        i: usize,
        exported: &str,
        kind: &str,
        report: &mut Report,
    ) -> CliResult {
        let value = match kind {
            "float" => b.float(i).map(Value::Float),
            "int" => b.int(i).map(Value::Integer),
            "string" => b.string(i).map(|s| Value::String(s.to_owned())),
            "bool" => b.boolean(i).map(Value::Boolean),
            "datetime" => b
                .datetime(i)
                .and_then(DateTime::from_timestamp_millis)
                .map(Value::Datetime),
            _ => b
                .string_set(i)
                .map(|v| Value::StringSet(v.into_iter().collect())),
        };
        let Some(value) = value else {
            report.skip(format!("{kind} row without {kind}_value"), || {
                self.example(exported)
            });
            return Ok(());
        };
        self.assign(exported, kind, value, report)
    }

    /// Assigns a single value (a StringSet adds tags), unless the field already holds it.
    pub(crate) fn assign(
        &mut self,
        exported: &str,
        kind: &str,
        value: Value,
        report: &mut Report,
    ) -> CliResult {
        if matches!(value, Value::Float(f) if !f.is_finite()) {
            report.skip("float value NaN or infinite (no Float holds it)", || {
                self.example(exported)
            });
            return Ok(());
        }
        let path = target_path(exported);
        let value = match value {
            // Our StringSet is sys/tags alone: other sets keep their items as a JSON list.
            Value::StringSet(set) if path != "sys/tags" => {
                report.convert(STRING_SET_AS_STRING, || self.example(exported));
                let items: Vec<&String> = set.iter().collect();
                Value::String(serde_json::to_string(&items)?)
            }
            v => v,
        };
        let stored = self.values.get(&path);
        let unchanged = match (&value, stored) {
            // Tags are added to what the run has.
            (Value::StringSet(new), Some(Value::StringSet(old))) if path == "sys/tags" => {
                new.is_subset(old)
            }
            (v, Some(old)) => v == old,
            _ => false,
        };
        if unchanged {
            report.fields_unchanged += 1;
            return Ok(());
        }
        let field = self.run.field(&path);
        let r = match &value {
            Value::StringSet(set) => self.run.tags().add(set_vec(set)),
            v => field.assign(v.clone()),
        };
        match r {
            Ok(()) => {
                report.fields += 1;
                self.values.insert(path, value);
            }
            Err(e) => report.skip(format!("{kind} value refused"), || e.to_string()),
        }
        Ok(())
    }

    fn file(
        &mut self,
        b: &Batch<'_>,
        i: usize,
        exported: &str,
        kind: &str,
        target: &Target,
        report: &mut Report,
    ) -> CliResult {
        let Some(rel) = b.file(i) else {
            report.skip(format!("{kind} row without file_value"), || {
                self.example(exported)
            });
            return Ok(());
        };
        let file = match target.resolve(rel) {
            Ok(f) => f,
            Err(reason) => {
                report.skip(reason, || format!("{}: {rel}", self.example(exported)));
                return Ok(());
            }
        };
        match kind {
            "file_series" => {
                let step = b.step(i).and_then(|s| s.exact_f64());
                let Some(step) = step else {
                    report.skip("file_series row without an exact step", || {
                        self.example(exported)
                    });
                    return Ok(());
                };
                self.files
                    .entry(target_path(exported))
                    .or_default()
                    .push(FileEntry {
                        step,
                        timestamp: b.timestamp(i),
                        file,
                    });
                Ok(())
            }
            "file" => self.upload(exported, File::new(&file), report),
            _ => self.upload_set(exported, &[file.to_string_lossy().into_owned()], report),
        }
    }

    /// Writes the FileSeries entries (in step order, past the last stored step), then stops
    /// the run on a thread of its own (the next run is read meanwhile): the returned handle
    /// ends once everything is stored.
    pub(crate) fn finish(mut self, report: &mut Report) -> CliResult<Stopping> {
        for (path, mut entries) in std::mem::take(&mut self.files) {
            entries.sort_by(|a, b| a.step.total_cmp(&b.step));
            for e in entries {
                let mut opts = FileLogOptions::new();
                if let Some(ms) = e.timestamp {
                    opts = opts.timestamp(seconds(ms));
                }
                self.file_point(&path, File::new(&e.file), opts, e.step, report)?;
            }
        }
        let (run, run_id, project) = (self.run, self.run_id, self.project);
        Ok(Stopping(std::thread::spawn(move || {
            run.stop()
                .map_err(|e| format!("run {run_id} of {project}: {e}"))
        })))
    }
}

/// A run being stopped in the background.
pub(crate) struct Stopping(std::thread::JoinHandle<Result<(), String>>);

impl Stopping {
    /// Waits until the run is stopped: `Err` when anything written to it was not kept.
    pub(crate) fn join(self) -> CliResult {
        match self.0.join() {
            Ok(r) => Ok(r?),
            Err(_) => Err("the thread stopping a run panicked".into()),
        }
    }
}

fn set_vec(set: &BTreeSet<String>) -> Vec<String> {
    set.iter().cloned().collect()
}
