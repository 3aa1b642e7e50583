//! One object of the Python client's folder, replayed into a run through [`RunImport`] (the
//! same writes, idempotence and report as the Parquet import).
//!
//! The queue is read twice, streamed. The first pass folds every operation into what each
//! field holds at the end, as the original service would have applied them: an assign keeps
//! the last value; tags and string sets add and remove; a clear or a delete drops what came
//! before it on that path; a copy of a value of the same run is an assign of that value; an operation of another type than the field already has is refused
//! (the service refused it too) and reported. The second pass writes the series points that
//! survive, with the step the service would have given (the last step + 1 when the client
//! sent none: [`neptune_core::rules::assigned_step`]), so that a second import finds them;
//! then the single values, files, file sets and artifacts are written.
//!
//! The run is found by its custom run id: the client's container id (a UUID, also in the run
//! folder's name). The queue does not hold the custom run id the script may have given (the
//! client sends it to the service only), nor a project: runs go to `--project`. The folder's
//! creation time is kept as `imported/sys/creation_time`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use indicatif::ProgressBar;
use neptune_core::rules::assigned_step;
use neptune_core::{File, FileLogOptions, Value};
use serde_json::Value as J;

use super::folder::{self, ClientOp, Image, RunFolder};
use super::report::Report;
use super::run::{target_path, PointValue, RunImport, Target};
use crate::CliResult;

/// The field type an operation writes (named as in the exporter's `attribute_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Float,
    Int,
    Bool,
    String,
    Datetime,
    FloatSeries,
    StringSeries,
    FileSeries,
    StringSet,
    File,
    FileSet,
    Artifact,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Float => "float",
            Kind::Int => "int",
            Kind::Bool => "bool",
            Kind::String => "string",
            Kind::Datetime => "datetime",
            Kind::FloatSeries => "float_series",
            Kind::StringSeries => "string_series",
            Kind::FileSeries => "file_series",
            Kind::StringSet => "string_set",
            Kind::File => "file",
            Kind::FileSet => "file_set",
            Kind::Artifact => "artifact",
        }
    }

    /// The type `op` writes; `None` for a delete (and a copy, which is not replayed).
    fn of(op: &ClientOp) -> Option<Kind> {
        use ClientOp as O;
        Some(match op {
            O::AssignFloat { .. } => Kind::Float,
            O::AssignInt { .. } => Kind::Int,
            O::AssignBool { .. } => Kind::Bool,
            O::AssignString { .. } => Kind::String,
            O::AssignDatetime { .. } => Kind::Datetime,
            O::AssignArtifact { .. } | O::TrackFilesToArtifact { .. } | O::ClearArtifact {} => {
                Kind::Artifact
            }
            O::UploadFile { .. } | O::UploadFileContent { .. } => Kind::File,
            O::UploadFileSet { .. } | O::DeleteFiles { .. } => Kind::FileSet,
            O::LogFloats { .. } | O::ClearFloatLog {} | O::ConfigFloatSeries { .. } => {
                Kind::FloatSeries
            }
            O::LogStrings { .. } | O::ClearStringLog {} => Kind::StringSeries,
            O::LogImages { .. } | O::ClearImageLog {} => Kind::FileSeries,
            O::AddStrings { .. } | O::RemoveStrings { .. } | O::ClearStringSet {} => {
                Kind::StringSet
            }
            O::DeleteAttribute {} | O::CopyAttribute { .. } => return None,
        })
    }
}

/// A File's content: a path (the user's file, or the copy in the folder's `upload_path/`),
/// the content itself (older clients), or why it is missing.
enum Upload {
    Path(PathBuf, String),
    Content(Vec<u8>, String),
    Missing(String),
}

/// A file set's operations since it was last reset.
enum SetOp {
    Upload(Vec<String>),
    Delete(Vec<String>),
}

/// What a field holds once the whole queue is applied.
enum Final {
    /// Series points (written in the second pass) or nothing (deleted).
    Streamed,
    Value(Value),
    Set(BTreeSet<String>),
    File(Upload),
    FileSet(Vec<SetOp>),
    Artifact(Vec<(String, Option<String>)>),
    ArtifactHash(String),
}

struct PathPlan {
    kind: Option<Kind>,
    /// Operations on the path up to this one (a clear or a delete) are dropped.
    since: u64,
    fin: Final,
    /// A FloatSeries' display range and unit (`ConfigFloatSeries`), kept through a clear.
    config: Option<Config>,
}

type Config = (Option<f64>, Option<f64>, Option<String>);

/// The first pass: the final state of every path, in path order.
struct Plan {
    paths: BTreeMap<String, PathPlan>,
}

/// Imports the folders of one object of the client's.
pub(crate) fn import_object(
    target: &Target,
    project: &str,
    folders: &[RunFolder],
    report: &mut Report,
    bar: &ProgressBar,
) -> CliResult {
    let Some(first) = folders.first() else {
        return Ok(());
    };
    report.files += folders.len() as u64;
    if first.container_type != "run" {
        let bytes: u64 = folders.iter().map(folder::queue_bytes).sum();
        report.skip(
            format!(
                "{} folders: only runs are imported (the client writes models, model versions \
                 and projects offline only in async mode)",
                first.container_type
            ),
            || first.dir.display().to_string(),
        );
        bar.inc(2 * bytes);
        return Ok(());
    }
    let rows_before = report.rows;
    let plan = scan(folders, report, bar)?;
    let mut run = match RunImport::open(target, project, &first.container_id, report) {
        Ok(r) => r,
        Err(e) => {
            let n = report.rows - rows_before;
            report.skip_n("run cannot be opened", n, || e.to_string());
            bar.inc(folders.iter().map(folder::queue_bytes).sum());
            return Ok(());
        }
    };
    // Before any point, so that a series stored by an earlier import has its settings.
    for (path, p) in &plan.paths {
        if let (Some(Kind::FloatSeries), Some((min, max, unit))) = (p.kind, &p.config) {
            if min.is_some() || max.is_some() || unit.is_some() {
                run.configure_float_series(path, *min, *max, unit.clone(), report)?;
            }
        }
    }
    stream(&mut run, folders, &plan, report, bar)?;
    for (path, p) in plan.paths {
        if let Some(kind) = p.kind {
            write(&mut run, &path, kind, p.fin, report)?;
        }
    }
    // Datetimes are kept to the millisecond: compare as the store holds them.
    let created = first
        .created_at
        .and_then(|t| chrono::DateTime::from_timestamp_millis(t.timestamp_millis()));
    if let Some(t) = created {
        run.assign("sys/creation_time", "datetime", Value::Datetime(t), report)?;
    }
    run.finish(report)?.join()
}

/// Every operation of the object's folders, in order, numbered from 1.
fn each_op(
    folders: &[RunFolder],
    bar: &ProgressBar,
    mut f: impl FnMut(u64, &RunFolder, &str, Result<J, String>) -> CliResult,
) -> CliResult {
    let mut seq = 0;
    for folder in folders {
        for line in folder::lines(folder) {
            let line = line?;
            bar.inc(line.bytes);
            if matches!(line.op, Ok(J::Null)) {
                continue;
            }
            seq += 1;
            f(seq, folder, &line.at, line.op)?;
        }
    }
    Ok(())
}

fn scan(folders: &[RunFolder], report: &mut Report, bar: &ProgressBar) -> CliResult<Plan> {
    let mut paths: BTreeMap<String, PathPlan> = BTreeMap::new();
    each_op(folders, bar, |seq, folder, at, op| {
        report.rows += 1;
        let op = match op {
            Ok(op) => op,
            Err(why) => {
                report.skip(format!("queue line unreadable: {why}"), || {
                    format!("{} {at}", folder.dir.display())
                });
                return Ok(());
            }
        };
        let (path, op) = match folder::decode(op) {
            Ok(x) => x,
            Err((reason, detail)) => {
                report.skip(reason, || format!("{detail} ({at})"));
                return Ok(());
            }
        };
        fold(&mut paths, seq, folder, path, op, report);
        Ok(())
    })?;
    Ok(Plan { paths })
}

/// The assign that gives a field `v` (what a `CopyAttribute` of a value of the same run
/// becomes, as the client resolves it when sending).
fn assign_of(v: Value) -> Option<ClientOp> {
    Some(match v {
        Value::Float(value) => ClientOp::AssignFloat { value },
        Value::Integer(value) => ClientOp::AssignInt { value },
        Value::Boolean(value) => ClientOp::AssignBool { value },
        Value::String(value) => ClientOp::AssignString { value },
        Value::Datetime(t) => ClientOp::AssignDatetime {
            value: t.timestamp_millis(),
        },
        _ => return None,
    })
}

/// Applies one operation to the plan of its path.
fn fold(
    paths: &mut BTreeMap<String, PathPlan>,
    seq: u64,
    folder: &RunFolder,
    path: String,
    op: ClientOp,
    report: &mut Report,
) {
    use ClientOp as O;
    let op = match op {
        O::CopyAttribute {
            container_id,
            source_path,
        } => {
            let source = source_path.join("/");
            let value = (container_id == folder.container_id)
                .then(|| paths.get(&source))
                .flatten()
                .and_then(|p| match &p.fin {
                    Final::Value(v) => Some(v.clone()),
                    _ => None,
                });
            match value.and_then(assign_of) {
                Some(assign) => assign,
                None => {
                    report.skip(
                        "CopyAttribute: the value to copy is not in the folder (another \
                         object's, or not a single value)",
                        || format!("{path} from {container_id}/{source}"),
                    );
                    return;
                }
            }
        }
        op => op,
    };
    let kind = Kind::of(&op);
    let plan = paths.entry(path.clone()).or_insert(PathPlan {
        kind: None,
        since: 0,
        fin: Final::Streamed,
        config: None,
    });
    match (plan.kind, kind) {
        (_, None) => {
            *plan = PathPlan {
                kind: None,
                since: seq,
                fin: Final::Streamed,
                config: None,
            };
            return;
        }
        (Some(had), Some(k)) if had != k => {
            report.skip(
                "an operation of another type than its field has (the original service \
                 refused it too)",
                || format!("{path}: {} on a {}", k.name(), had.name()),
            );
            return;
        }
        (None, Some(k)) => {
            plan.kind = Some(k);
            plan.fin = match k {
                Kind::StringSet => Final::Set(BTreeSet::new()),
                Kind::FileSet => Final::FileSet(Vec::new()),
                Kind::Artifact => Final::Artifact(Vec::new()),
                _ => Final::Streamed,
            };
        }
        _ => {}
    }
    match op {
        O::AssignFloat { value } => plan.fin = Final::Value(Value::Float(value)),
        O::AssignInt { value } => plan.fin = Final::Value(Value::Integer(value)),
        O::AssignBool { value } => plan.fin = Final::Value(Value::Boolean(value)),
        O::AssignString { value } => plan.fin = Final::Value(Value::String(value)),
        O::AssignDatetime { value } => {
            plan.fin = match chrono::DateTime::from_timestamp_millis(value) {
                Some(t) => Final::Value(Value::Datetime(t)),
                None => {
                    report.skip("AssignDatetime out of range", || format!("{path}: {value}"));
                    Final::Streamed
                }
            }
        }
        O::ClearFloatLog {} | O::ClearStringLog {} | O::ClearImageLog {} => plan.since = seq,
        O::LogFloats { .. } | O::LogStrings { .. } | O::LogImages { .. } => {}
        O::ConfigFloatSeries { min, max, unit } => plan.config = Some((min, max, unit)),
        O::AddStrings { values } => {
            if let Final::Set(s) = &mut plan.fin {
                s.extend(values);
            }
        }
        O::RemoveStrings { values } => {
            if let Final::Set(s) = &mut plan.fin {
                for v in &values {
                    s.remove(v);
                }
            }
        }
        O::ClearStringSet {} => plan.fin = Final::Set(BTreeSet::new()),
        O::UploadFile {
            ext,
            file_path,
            tmp_file_name,
        } => {
            let source = match (tmp_file_name, file_path) {
                (Some(tmp), _) if !tmp.contains(['/', '\\']) => {
                    folder.dir.join("upload_path").join(tmp)
                }
                (_, Some(p)) => PathBuf::from(p),
                _ => PathBuf::new(),
            };
            plan.fin = Final::File(if source.is_file() {
                Upload::Path(source, ext)
            } else {
                Upload::Missing(format!("{path}: {}", source.display()))
            });
        }
        O::UploadFileContent { ext, file_content } => {
            plan.fin = Final::File(match STANDARD.decode(file_content.as_bytes()) {
                Ok(bytes) => Upload::Content(bytes, ext),
                Err(e) => Upload::Missing(format!("{path}: the content is not base64: {e}")),
            })
        }
        O::UploadFileSet { file_globs, reset } => {
            if reset.get() {
                plan.fin = Final::FileSet(Vec::new());
            }
            if let Final::FileSet(ops) = &mut plan.fin {
                ops.push(SetOp::Upload(file_globs));
            }
        }
        O::DeleteFiles { file_paths } => {
            if let Final::FileSet(ops) = &mut plan.fin {
                ops.push(SetOp::Delete(file_paths));
            }
        }
        O::TrackFilesToArtifact { entries } => match &mut plan.fin {
            Final::Artifact(e) => e.extend(entries),
            _ => plan.fin = Final::Artifact(entries),
        },
        O::ClearArtifact {} => plan.fin = Final::Artifact(Vec::new()),
        O::AssignArtifact { hash } => plan.fin = Final::ArtifactHash(hash),
        O::DeleteAttribute {} | O::CopyAttribute { .. } => {}
    }
}

/// The second pass: the series points that survive the first, in order.
fn stream(
    run: &mut RunImport,
    folders: &[RunFolder],
    plan: &Plan,
    report: &mut Report,
    bar: &ProgressBar,
) -> CliResult {
    let mut last: HashMap<String, Option<f64>> = HashMap::new();
    each_op(folders, bar, |seq, _, _, op| {
        let Ok((path, op)) = op
            .map_err(drop)
            .and_then(|op| folder::decode(op).map_err(drop))
        else {
            return Ok(());
        };
        let Some(p) = plan.paths.get(&path) else {
            return Ok(());
        };
        if seq <= p.since || p.kind != Kind::of(&op) {
            return Ok(());
        }
        let last = last.entry(path.clone()).or_default();
        let mut next = |given: Option<f64>, report: &mut Report| {
            let s = assigned_step(*last, given);
            match s {
                Some(s) => *last = Some(s),
                None => report.skip(
                    "step not after the previous point of its series (the original service \
                     dropped it too)",
                    || format!("{path} at step {given:?}"),
                ),
            }
            s
        };
        match op {
            ClientOp::LogFloats { values } => {
                for e in values {
                    if let Some(step) = next(e.step, report) {
                        run.append(&path, step, e.ts, PointValue::Float(e.value), report)?;
                    }
                }
            }
            ClientOp::LogStrings { values } => {
                for e in values {
                    if let Some(step) = next(e.step, report) {
                        let v = PointValue::String(&e.value);
                        run.append(&path, step, e.ts, v, report)?;
                    }
                }
            }
            ClientOp::LogImages { values } => {
                let target = target_path(&path);
                for e in values {
                    let Some(step) = next(e.step, report) else {
                        continue;
                    };
                    let Some((file, opts)) = image(&path, e.value, report) else {
                        continue;
                    };
                    let opts = match e.ts {
                        Some(t) => opts.timestamp(t),
                        None => opts,
                    };
                    run.file_point(&target, file, opts, step, report)?;
                }
            }
            _ => {}
        }
        Ok(())
    })
}

/// An image entry as a file with its name and description.
fn image(path: &str, value: Option<Image>, report: &mut Report) -> Option<(File, FileLogOptions)> {
    let (data, name, description) = match value {
        Some(Image::Full {
            data,
            name,
            description,
        }) => (data.unwrap_or_default(), name, description),
        Some(Image::Bare(data)) => (data, None, None),
        None => (String::new(), None, None),
    };
    if data.is_empty() {
        report.skip(
            "an empty image (the client logs one in place of an image over its size limit)",
            || path.to_owned(),
        );
        return None;
    }
    let bytes = match STANDARD.decode(data.as_bytes()) {
        Ok(b) => b,
        Err(e) => {
            report.skip("an image that is not base64", || format!("{path}: {e}"));
            return None;
        }
    };
    let ext = image_extension(&bytes);
    let mut opts = FileLogOptions::new();
    if let Some(n) = name.filter(|n| !n.is_empty()) {
        opts = opts.name(n);
    }
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        opts = opts.description(d);
    }
    Some((File::from_content(bytes).with_extension(ext), opts))
}

/// The extension of an image's bytes, by their signature (the client sends any format
/// Pillow reads).
fn image_extension(b: &[u8]) -> &'static str {
    if b.starts_with(b"\xff\xd8\xff") {
        "jpeg"
    } else if b.starts_with(b"GIF8") {
        "gif"
    } else if b.starts_with(b"BM") {
        "bmp"
    } else if b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        "webp"
    } else {
        "png"
    }
}

/// Writes the final state of a field that is not a series.
fn write(
    run: &mut RunImport,
    path: &str,
    kind: Kind,
    fin: Final,
    report: &mut Report,
) -> CliResult {
    match fin {
        Final::Streamed => Ok(()),
        Final::Value(v) => run.assign(path, kind.name(), v, report),
        Final::Set(s) if s.is_empty() => Ok(()),
        Final::Set(s) => run.assign(path, kind.name(), Value::StringSet(s), report),
        Final::File(Upload::Path(p, ext)) => {
            run.upload(path, File::from_path(&p, Some(&ext)), report)
        }
        Final::File(Upload::Content(bytes, ext)) => {
            run.upload(path, File::from_content(bytes).with_extension(&ext), report)
        }
        Final::File(Upload::Missing(what)) => {
            report.skip(
                "UploadFile: the file is no longer where the client read it (it copies only \
                 in-memory files into the folder)",
                || what,
            );
            Ok(())
        }
        Final::FileSet(ops) => file_set(run, path, ops, report),
        Final::Artifact(entries) => {
            let missing: Vec<&String> = entries
                .iter()
                .map(|(src, _)| src)
                .filter(|src| !src.starts_with("s3://") && !Path::new(src).exists())
                .collect();
            if let Some(m) = missing.first() {
                report.skip(
                    "TrackFilesToArtifact: the tracked files are no longer where the client \
                     found them",
                    || format!("{path}: {m}"),
                );
                return Ok(());
            }
            run.track(path, &entries, report)
        }
        Final::ArtifactHash(hash) => {
            report.skip(
                "AssignArtifact: the queue holds only the artifact's hash, not its files",
                || format!("{path}: {hash}"),
            );
            Ok(())
        }
    }
}

fn file_set(run: &mut RunImport, path: &str, ops: Vec<SetOp>, report: &mut Report) -> CliResult {
    let mut any = false;
    for op in ops {
        match op {
            SetOp::Upload(globs) if globs.is_empty() => {}
            SetOp::Upload(globs) => {
                // The first upload makes the set; later ones add to it.
                run.upload_set_with(path, &globs, !any, report)?;
                any = true;
            }
            SetOp::Delete(files) if any => run.delete_set_files(path, &files, report)?,
            SetOp::Delete(_) => {}
        }
    }
    if !any {
        report.skip(
            "UploadFileSet without files (e.g. the source files of a run given none)",
            || path.to_owned(),
        );
    }
    Ok(())
}
