//! Applying a batch of operations to an object, each validated again.

use super::sql::Value as Sql;
use super::sql::{params, Tx};
use sha2::{Digest, Sha256};

use super::codec::Stored;
use super::fields::{self, ensure, find_field, find_object, float_to_sql, Obj};
use super::{chunk, corrupt, Fail, R};
use crate::backend::Rejected;
use crate::error::Error;
use crate::model::operation::{ArtifactFile, FilePoint, FloatPoint, Operation, StringPoint};
use crate::model::path::FieldPath;
use crate::model::rules::steps::StepFilter;
use crate::model::rules::{clock, sys, truncate_chars, MAX_SERIES_STRING_LEN, MAX_STRING_LEN};
use crate::model::types::{FieldType, Value};

/// What became of one operation.
enum Outcome {
    Applied,
    /// Applied in part; the reason tells what was dropped.
    Partial(String),
    Rejected(String),
}

/// The field at the operation's path with the operation's type, or the operation's rejection.
macro_rules! field {
    ($c:expr, $obj:expr, $path:expr, $t:expr, $what:expr) => {
        match ensure($c, $obj, $path, $t, $what)? {
            Ok(id) => id,
            Err(e) => return Ok(Outcome::Rejected(e.to_string())),
        }
    };
}

/// Applies `ops` to `object` in order; returns the rejected ones.
pub(crate) fn execute(c: &Tx<'_>, object: &str, ops: &[Operation]) -> R<Vec<Rejected>> {
    let obj = fields::object(c, object)?;
    fields::lock_object(c, obj.id)?;
    let mut rejected = Vec::new();
    let mut applied = false;
    for (index, op) in ops.iter().enumerate() {
        let mut reject = |reason: String| {
            rejected.push(Rejected {
                index,
                path: op.path().to_string(),
                reason,
            })
        };
        match apply(c, &obj, op)? {
            Outcome::Applied => applied = true,
            Outcome::Partial(reason) => {
                applied = true;
                reject(reason);
            }
            Outcome::Rejected(reason) => reject(reason),
        }
    }
    if applied {
        c.prepare_cached(
            "UPDATE fields SET value = ?3 WHERE object_id = ?1 AND path = ?2 AND type = 'Datetime'",
        )?
        .execute(params![obj.id, sys::MODIFICATION_TIME, clock::now_ms()])?;
    }
    Ok(rejected)
}

fn text(s: &str) -> Sql {
    Sql::Text(s.to_owned())
}

fn json<T: serde::Serialize>(path: &FieldPath, v: &T) -> R<Sql> {
    serde_json::to_string(v).map(Sql::Text).map_err(|e| {
        Error::Serialization {
            path: path.to_string(),
            reason: e.to_string(),
        }
        .into()
    })
}

fn assign(c: &Tx<'_>, obj: i64, path: &FieldPath, t: FieldType, v: Sql) -> R<Outcome> {
    let id = field!(c, obj, path, t, "assign()");
    fields::set_value(c, id, v)?;
    Ok(Outcome::Applied)
}

fn apply(c: &Tx<'_>, obj: &Obj, op: &Operation) -> R<Outcome> {
    use FieldType as T;
    use Operation::*;
    if let Some(reason) = sys::refusal(op) {
        return Ok(Outcome::Rejected(reason));
    }
    let o = obj.id;
    if let Some(reason) = op.time_problem() {
        return Ok(Outcome::Rejected(reason));
    }
    match op {
        AssignFloat { path, value } => assign(c, o, path, T::Float, float_to_sql(*value)),
        AssignInt { path, value } => assign(c, o, path, T::Integer, Sql::Int(*value)),
        AssignBool { path, value } => assign(c, o, path, T::Boolean, Sql::Int(*value as i64)),
        AssignString { path, value } => {
            let v = truncate_chars(value, MAX_STRING_LEN);
            assign(c, o, path, T::String, text(v))
        }
        AssignDatetime { path, value_ms } => assign(c, o, path, T::Datetime, Sql::Int(*value_ms)),
        AssignRunState { path, value } => assign(c, o, path, T::RunState, text(value.as_str())),
        AssignGitRef { path, value } => {
            let v = json(path, value)?;
            assign(c, o, path, T::GitRef, v)
        }
        AssignArtifact { path, hash, files } => {
            if let Err(reason) = check_artifact_files(files) {
                return Ok(Outcome::Rejected(reason));
            }
            let id = field!(c, o, path, T::Artifact, "assign()");
            fields::clear_contents(c, id)?;
            put_artifact_files(c, id, files)?;
            fields::set_value(c, id, text(hash))?;
            Ok(Outcome::Applied)
        }
        TrackFilesToArtifact { path, files } => {
            if let Err(reason) = check_artifact_files(files) {
                return Ok(Outcome::Rejected(reason));
            }
            let id = field!(c, o, path, T::Artifact, "track_files()");
            put_artifact_files(c, id, files)?;
            let all = super::fetch::artifact_files_of(c, id)?;
            fields::set_value(c, id, text(&artifact_hash(&all)))?;
            Ok(Outcome::Applied)
        }
        ClearArtifact { path } => {
            let id = field!(c, o, path, T::Artifact, "clear()");
            fields::clear_contents(c, id)?;
            fields::set_value(c, id, text(&artifact_hash(&[])))?;
            Ok(Outcome::Applied)
        }
        UploadFile { path, file } => {
            if let Err(reason) = fields::check_file_ref(file) {
                return Ok(Outcome::Rejected(reason));
            }
            let v = json(path, file)?;
            assign(c, o, path, T::File, v)
        }
        UploadFileSet { path, files, reset } => {
            for f in files {
                if let Err(reason) =
                    fields::check_set_path(&f.path).and_then(|_| fields::check_file_ref(&f.file))
                {
                    return Ok(Outcome::Rejected(reason));
                }
            }
            let id = field!(c, o, path, T::FileSet, "upload_files()");
            if *reset {
                fields::clear_contents(c, id)?;
            }
            let mut stmt = c.prepare_cached(
                "INSERT INTO fileset_entries \
                 (field_id, path, digest, size, extension, mtime_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (field_id, path) DO UPDATE SET digest = excluded.digest, \
                 size = excluded.size, extension = excluded.extension, mtime_ms = excluded.mtime_ms",
            )?;
            for f in files {
                stmt.execute(params![
                    id,
                    f.path,
                    f.file.digest,
                    fields::u64_to_sql(f.file.size)?,
                    f.file.extension,
                    f.mtime_ms
                ])?;
            }
            Ok(Outcome::Applied)
        }
        DeleteFiles { path, paths } => {
            let id = field!(c, o, path, T::FileSet, "delete_files()");
            for p in paths {
                delete_set_entries(c, id, p)?;
            }
            Ok(Outcome::Applied)
        }
        LogFloats { path, points } => log_floats(c, o, path, points),
        LogStrings { path, points } => log_strings(c, o, path, points),
        LogImages { path, points } => log_images(c, o, path, points),
        ClearFloatLog { path } => clear_log(c, o, path, T::FloatSeries),
        ClearStringLog { path } => clear_log(c, o, path, T::StringSeries),
        ClearImageLog { path } => clear_log(c, o, path, T::FileSeries),
        ConfigFloatSeries {
            path,
            min,
            max,
            unit,
        } => {
            let id = field!(c, o, path, T::FloatSeries, "config()");
            let cfg = super::SeriesConfig {
                min: *min,
                max: *max,
                unit: unit.clone(),
            };
            let v = json(path, &cfg)?;
            c.prepare_cached("UPDATE fields SET config = ?2 WHERE id = ?1")?
                .execute(params![id, v])?;
            Ok(Outcome::Applied)
        }
        AddStrings { path, values } => {
            let id = field!(c, o, path, T::StringSet, "add()");
            let mut stmt = c.prepare_cached(
                "INSERT INTO string_set_members (field_id, value) VALUES (?1, ?2) \
                 ON CONFLICT DO NOTHING",
            )?;
            for v in values {
                stmt.execute(params![id, v])?;
            }
            Ok(Outcome::Applied)
        }
        RemoveStrings { path, values } => {
            let id = field!(c, o, path, T::StringSet, "remove()");
            let mut stmt = c.prepare_cached(
                "DELETE FROM string_set_members WHERE field_id = ?1 AND value = ?2",
            )?;
            for v in values {
                stmt.execute(params![id, v])?;
            }
            Ok(Outcome::Applied)
        }
        ClearStringSet { path } => {
            let id = field!(c, o, path, T::StringSet, "clear()");
            fields::clear_contents(c, id)?;
            Ok(Outcome::Applied)
        }
        DeleteAttribute { path } => {
            fields::delete_at_or_below(c, o, path.as_str())?;
            Ok(Outcome::Applied)
        }
        CopyAttribute {
            path,
            source_object,
            source_path,
        } => copy(c, obj, path, source_object, source_path),
    }
}

/// Checks the entries of an artifact: a path each, sizes that fit the store.
fn check_artifact_files(files: &[ArtifactFile]) -> Result<(), String> {
    for f in files {
        if f.file_path.is_empty() {
            return Err(format!(
                "artifact entry with hash {:?} has an empty path",
                f.file_hash
            ));
        }
        if f.size > i64::MAX as u64 {
            return Err(format!(
                "artifact entry {:?} has an impossible size {}",
                f.file_path, f.size
            ));
        }
    }
    Ok(())
}

fn put_artifact_files(c: &Tx<'_>, field: i64, files: &[ArtifactFile]) -> R<()> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO artifact_files \
         (field_id, file_path, file_hash, size, storage_type, location, last_modified_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (field_id, file_path) DO UPDATE SET file_hash = excluded.file_hash, \
         size = excluded.size, storage_type = excluded.storage_type, \
         location = excluded.location, last_modified_ms = excluded.last_modified_ms",
    )?;
    for f in files {
        stmt.execute(params![
            field,
            f.file_path,
            f.file_hash,
            fields::u64_to_sql(f.size)?,
            f.storage_type,
            f.location,
            f.last_modified_ms
        ])?;
    }
    Ok(())
}

/// The hash of an artifact: SHA-256 (lowercase hex) over its entries sorted by path, each entry
/// fed as its fields with length prefixes, so that any change of any field changes the hash.
pub(crate) fn artifact_hash(files: &[ArtifactFile]) -> String {
    let mut sorted: Vec<&ArtifactFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.file_path.cmp(&b.file_path));
    let mut h = Sha256::new();
    let mut feed = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    feed(&(sorted.len() as u64).to_le_bytes());
    for f in sorted {
        feed(f.file_path.as_bytes());
        feed(f.file_hash.as_bytes());
        feed(&f.size.to_le_bytes());
        feed(f.storage_type.as_bytes());
        feed(f.location.as_bytes());
        feed(&f.last_modified_ms.to_le_bytes());
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

/// Deletes the entries of a file set at `p` or below it (`""` or `"."`: all of them).
fn delete_set_entries(c: &Tx<'_>, field: i64, p: &str) -> R<()> {
    let mut p = p.trim_end_matches('/');
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    if p.is_empty() || p == "." {
        c.prepare_cached("DELETE FROM fileset_entries WHERE field_id = ?1")?
            .execute([field])?;
        return Ok(());
    }
    let (lo, hi) = fields::below_bounds(p);
    c.prepare_cached(
        "DELETE FROM fileset_entries WHERE field_id = ?1 \
         AND (path = ?2 OR (path >= ?3 AND path < ?4))",
    )?
    .execute(params![field, p, lo, hi])?;
    Ok(())
}

fn clear_log(c: &Tx<'_>, obj: i64, path: &FieldPath, t: FieldType) -> R<Outcome> {
    let id = field!(c, obj, path, t, "clear()");
    fields::clear_contents(c, id)?;
    c.prepare_cached(
        "UPDATE fields SET count = 0, last_step = NULL, last_value = NULL WHERE id = ?1",
    )?
    .execute([id])?;
    Ok(Outcome::Applied)
}

/// The stored last step of a series field. Points without a step are numbered after it here,
/// inside the transaction, so several writers appending to one series keep every point.
fn last_step(c: &Tx<'_>, field: i64) -> R<Option<f64>> {
    c.prepare_cached("SELECT last_step FROM fields WHERE id = ?1")?
        .query_row([field], |r| r.get::<_, Option<f64>>(0))
}

/// The outcome of a log: refused points make it partial, or rejected when none was kept (then
/// the object's modification time stays as it was).
fn outcome(reason: Option<String>, kept_any: bool) -> Outcome {
    match reason {
        Some(r) if kept_any => Outcome::Partial(r),
        Some(r) => Outcome::Rejected(r),
        None => Outcome::Applied,
    }
}

fn log_floats(c: &Tx<'_>, obj: i64, path: &FieldPath, points: &[FloatPoint]) -> R<Outcome> {
    let id = field!(c, obj, path, FieldType::FloatSeries, "append()");
    let mut kept: Vec<Stored> = Vec::with_capacity(points.len());
    let steps = points.iter().map(|p| p.step);
    let filter = StepFilter::run::<Fail>(steps, last_step(c, id)?, |i, step| {
        let p = &points[i];
        kept.push(Stored {
            step,
            value: p.value,
            timestamp_ms: p.timestamp_ms,
        });
        Ok(true)
    })?;
    if let Some(last) = kept.last() {
        chunk::append(c, id, &kept)?;
        c.prepare_cached(
            "UPDATE fields SET count = count + ?2, last_step = ?3, last_value = ?4 WHERE id = ?1",
        )?
        .execute(params![
            id,
            kept.len() as i64,
            last.step,
            float_to_sql(last.value)
        ])?;
    }
    Ok(outcome(filter.reason(path, 0), !kept.is_empty()))
}

fn log_strings(c: &Tx<'_>, obj: i64, path: &FieldPath, points: &[StringPoint]) -> R<Outcome> {
    let id = field!(c, obj, path, FieldType::StringSeries, "append()");
    let mut stmt = c.prepare_cached(
        "INSERT INTO string_points (field_id, step, ts, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut last: Option<(f64, &str)> = None;
    let steps = points.iter().map(|p| p.step);
    let filter = StepFilter::run::<Fail>(steps, last_step(c, id)?, |i, step| {
        let p = &points[i];
        let v = truncate_chars(&p.value, MAX_SERIES_STRING_LEN);
        stmt.execute(params![id, step, p.timestamp_ms, v])?;
        last = Some((step, v));
        Ok(true)
    })?;
    if let Some((step, v)) = last {
        c.prepare_cached(
            "UPDATE fields SET count = count + ?2, last_step = ?3, last_value = ?4 WHERE id = ?1",
        )?
        .execute(params![id, filter.kept as i64, step, v])?;
    }
    Ok(outcome(filter.reason(path, 0), filter.kept > 0))
}

fn log_images(c: &Tx<'_>, obj: i64, path: &FieldPath, points: &[FilePoint]) -> R<Outcome> {
    let id = field!(c, obj, path, FieldType::FileSeries, "append()");
    let mut invalid_files = 0;
    let mut stmt = c.prepare_cached(
        "INSERT INTO file_points (field_id, step, ts, digest, size, extension, name, description) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut last = None;
    let steps = points.iter().map(|p| p.step);
    let filter = StepFilter::run::<Fail>(steps, last_step(c, id)?, |i, step| {
        let p = &points[i];
        if fields::check_file_ref(&p.file).is_err() {
            invalid_files += 1;
            return Ok(false);
        }
        stmt.execute(params![
            id,
            step,
            p.timestamp_ms,
            p.file.digest,
            fields::u64_to_sql(p.file.size)?,
            p.file.extension,
            p.name,
            p.description
        ])?;
        last = Some(step);
        Ok(true)
    })?;
    if let Some(step) = last {
        c.prepare_cached("UPDATE fields SET count = count + ?2, last_step = ?3 WHERE id = ?1")?
            .execute(params![id, filter.kept as i64, step])?;
    }
    Ok(outcome(filter.reason(path, invalid_files), filter.kept > 0))
}

/// Resolves a copy into the assign of the source field's value.
fn copy(
    c: &Tx<'_>,
    obj: &Obj,
    path: &FieldPath,
    source_object: &str,
    source_path: &FieldPath,
) -> R<Outcome> {
    let Some(src) = find_object(c, source_object)? else {
        return Ok(Outcome::Rejected(format!(
            "cannot copy from {source_object}: no such object"
        )));
    };
    let Some(f) = find_field(c, src.id, source_path.as_str())? else {
        return Ok(Outcome::Rejected(
            Error::MissingField {
                object: source_object.to_owned(),
                path: source_path.to_string(),
            }
            .to_string(),
        ));
    };
    if !f.ftype.is_single_value() {
        return Ok(Outcome::Rejected(format!(
            "cannot copy \"{source_path}\" of {source_object}: it is a {}, and only single-value \
             fields and artifacts can be copied",
            f.ftype
        )));
    }
    let path = path.clone();
    let ops = match fields::read_value(c, f.id, f.ftype)? {
        Value::Float(value) => vec![Operation::AssignFloat { path, value }],
        Value::Integer(value) => vec![Operation::AssignInt { path, value }],
        Value::Boolean(value) => vec![Operation::AssignBool { path, value }],
        Value::String(value) => vec![Operation::AssignString { path, value }],
        Value::Datetime(d) => vec![Operation::AssignDatetime {
            path,
            value_ms: d.timestamp_millis(),
        }],
        Value::RunState(value) => vec![Operation::AssignRunState { path, value }],
        Value::GitRef(value) => vec![Operation::AssignGitRef { path, value }],
        Value::StringSet(set) => vec![
            Operation::ClearStringSet { path: path.clone() },
            Operation::AddStrings {
                path,
                values: set.into_iter().collect(),
            },
        ],
        Value::Artifact(hash) => vec![Operation::AssignArtifact {
            path,
            hash,
            files: super::fetch::artifact_files_of(c, f.id)?,
        }],
        other => return Err(corrupt(format!("unexpected copied value {other:?}"))),
    };
    for op in &ops {
        if let Outcome::Rejected(r) = apply(c, obj, op)? {
            return Ok(Outcome::Rejected(r));
        }
    }
    Ok(Outcome::Applied)
}
