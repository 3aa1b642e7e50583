//! Reads: structure, values, series and file metadata.

use super::sql::{params, Optional, Tx, Val};
use serde::{Deserialize, Serialize};

use super::fields::{
    self, decode_file_ref, find_field, float_from_sql, parse_type, text_from_sql, Field,
};
use super::{chunk, corrupt, Fail, R};
use crate::backend::{SeriesInfo, SeriesPage};
use crate::error::Error;
use crate::model::operation::{ArtifactFile, FilePoint, FileRef, FileSetEntry};
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};

/// The display settings of a FloatSeries (`ConfigFloatSeries`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesConfig {
    /// The lower end of the y axis, if set.
    #[serde(with = "crate::model::operation::float::option", default)]
    pub min: Option<f64>,
    /// The upper end of the y axis, if set.
    #[serde(with = "crate::model::operation::float::option", default)]
    pub max: Option<f64>,
    /// The unit of the values, if set.
    pub unit: Option<String>,
}

/// Every field of the object with internal id `obj`, sorted by path.
pub(crate) fn structure_of(c: &Tx<'_>, obj: i64) -> R<Vec<(FieldPath, FieldType)>> {
    let rows: Vec<(String, String)> = c
        .prepare_cached("SELECT path, type FROM fields WHERE object_id = ?1 ORDER BY path")?
        .query_map([obj], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(p, t)| Ok((stored_path(&p)?, parse_type(&t)?)))
        .collect()
}

fn stored_path(p: &str) -> R<FieldPath> {
    FieldPath::stored(p).map_err(|e| corrupt(format!("stored path: {e}")))
}

pub(crate) fn structure(c: &Tx<'_>, object: &str) -> R<Vec<(FieldPath, FieldType)>> {
    let obj = fields::object(c, object)?;
    structure_of(c, obj.id)
}

/// What to call instead of `fetch()` on a field that holds more than one value.
fn fetch_hint(t: FieldType) -> &'static str {
    match t {
        FieldType::FloatSeries | FieldType::StringSeries => {
            "use fetch_last() for the last value or fetch_values() for all of them"
        }
        FieldType::FileSeries => "use download() or download_last() to get its files",
        FieldType::File => "use download() to get the file",
        FieldType::FileSet => "use download() to get the files",
        _ => "use fetch() on a single-value field",
    }
}

/// The field at `path` of `object`, when it exists.
fn field_at(c: &Tx<'_>, object: &str, path: &FieldPath) -> R<Option<Field>> {
    let obj = fields::object(c, object)?;
    find_field(c, obj.id, path.as_str())
}

pub(crate) fn value(c: &Tx<'_>, object: &str, path: &FieldPath) -> R<Option<Value>> {
    let Some(f) = field_at(c, object, path)? else {
        return Ok(None);
    };
    if !f.ftype.is_single_value() {
        return Err(Fail::Core(Error::NoSuchMethod {
            path: path.to_string(),
            field_type: f.ftype,
            method: "fetch",
            hint: fetch_hint(f.ftype),
        }));
    }
    fields::read_value(c, f.id, f.ftype).map(Some)
}

pub(crate) fn values_below(
    c: &Tx<'_>,
    object: &str,
    prefix: Option<&FieldPath>,
) -> R<Vec<(FieldPath, Value)>> {
    let obj = fields::object(c, object)?;
    let rows: Vec<(i64, String, String)> = match prefix {
        None => c
            .prepare_cached("SELECT id, path, type FROM fields WHERE object_id = ?1 ORDER BY path")?
            .query_map([obj.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?,
        Some(p) => {
            let (lo, hi) = fields::below_bounds(p.as_str());
            c.prepare_cached(
                "SELECT id, path, type FROM fields WHERE object_id = ?1 \
                 AND (path = ?2 OR (path >= ?3 AND path < ?4)) ORDER BY path",
            )?
            .query_map(params![obj.id, p.as_str(), lo, hi], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for (id, path, t) in rows {
        let t = parse_type(&t)?;
        if t.is_single_value() {
            out.push((stored_path(&path)?, fields::read_value(c, id, t)?));
        }
    }
    Ok(out)
}

pub(crate) fn series_info(c: &Tx<'_>, object: &str, path: &FieldPath) -> R<Option<SeriesInfo>> {
    let Some(f) = field_at(c, object, path)? else {
        return Ok(None);
    };
    if !f.ftype.is_series() {
        return Err(Fail::Core(Error::NoSuchMethod {
            path: path.to_string(),
            field_type: f.ftype,
            method: "fetch_last",
            hint: "it is not a series; use fetch() to read its value",
        }));
    }
    let mut stmt =
        c.prepare_cached("SELECT count, last_step, last_value FROM fields WHERE id = ?1")?;
    let mut rows = stmt.query([f.id])?;
    let row = rows
        .next()?
        .ok_or_else(|| corrupt("series field vanished"))?;
    let count: i64 = row.get(0)?;
    let last_step: Option<f64> = row.get(1)?;
    let lv = row.get_ref(2)?;
    let last = match (f.ftype, lv) {
        (_, Val::Null) | (FieldType::FileSeries, _) => None,
        (FieldType::FloatSeries, v) => Some(Value::Float(float_from_sql(v)?)),
        (_, v) => Some(Value::String(text_from_sql(v, "a series entry")?)),
    };
    Ok(Some(SeriesInfo {
        field_type: f.ftype,
        count: fields::u64_from_sql(count)?,
        last_step,
        last,
    }))
}

/// The field at `path` with type `t`: `MissingField` when absent, `InvalidValue` for another type.
fn typed_field(c: &Tx<'_>, object: &str, path: &FieldPath, t: FieldType) -> R<Option<i64>> {
    match field_at(c, object, path)? {
        None => Ok(None),
        Some(f) if f.ftype == t => Ok(Some(f.id)),
        Some(f) => Err(Fail::Core(Error::invalid(
            path,
            format!("the field is a {}, not a {t}", f.ftype),
        ))),
    }
}

fn missing(object: &str, path: &FieldPath) -> Fail {
    Fail::Core(Error::MissingField {
        object: object.to_owned(),
        path: path.to_string(),
    })
}

pub(crate) fn float_points(
    c: &Tx<'_>,
    object: &str,
    path: &FieldPath,
    after: Option<f64>,
    limit: usize,
) -> R<SeriesPage<f64>> {
    let id = typed_field(c, object, path, FieldType::FloatSeries)?
        .ok_or_else(|| missing(object, path))?;
    chunk::read(c, id, after, limit)
}

pub(crate) fn string_points(
    c: &Tx<'_>,
    object: &str,
    path: &FieldPath,
    after: Option<f64>,
    limit: usize,
) -> R<SeriesPage<String>> {
    let id = typed_field(c, object, path, FieldType::StringSeries)?
        .ok_or_else(|| missing(object, path))?;
    let mut page = SeriesPage::default();
    if limit == 0 || after.is_some_and(f64::is_nan) {
        return Ok(page);
    }
    let mut stmt = c.prepare_cached(
        "SELECT step, ts, value FROM string_points WHERE field_id = ?1 AND step > ?2 \
         ORDER BY step LIMIT ?3",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut rows = stmt.query(params![id, after.unwrap_or(f64::NEG_INFINITY), limit])?;
    while let Some(r) = rows.next()? {
        page.steps.push(r.get(0)?);
        page.timestamps.push(r.get(1)?);
        page.values.push(r.get(2)?);
    }
    Ok(page)
}

/// The files of the Artifact field with id `field`, sorted by path.
pub(crate) fn artifact_files_of(c: &Tx<'_>, field: i64) -> R<Vec<ArtifactFile>> {
    let rows: Vec<(String, String, i64, String, String, i64)> = c
        .prepare_cached(
            "SELECT file_path, file_hash, size, storage_type, location, last_modified_ms \
             FROM artifact_files WHERE field_id = ?1 ORDER BY file_path",
        )?
        .query_map([field], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(
            |(file_path, file_hash, size, storage_type, location, last_modified_ms)| {
                Ok(ArtifactFile {
                    file_path,
                    file_hash,
                    size: fields::u64_from_sql(size)?,
                    storage_type,
                    location,
                    last_modified_ms,
                })
            },
        )
        .collect()
}

pub(crate) fn artifact_files(c: &Tx<'_>, object: &str, path: &FieldPath) -> R<Vec<ArtifactFile>> {
    match typed_field(c, object, path, FieldType::Artifact)? {
        Some(id) => artifact_files_of(c, id),
        None => Ok(Vec::new()),
    }
}

pub(crate) fn file_ref(c: &Tx<'_>, object: &str, path: &FieldPath) -> R<Option<FileRef>> {
    let Some(id) = typed_field(c, object, path, FieldType::File)? else {
        return Ok(None);
    };
    let mut stmt = c.prepare_cached("SELECT value FROM fields WHERE id = ?1")?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => decode_file_ref(r.get_ref(0)?),
        None => Ok(None),
    }
}

pub(crate) fn fileset_entries(c: &Tx<'_>, object: &str, path: &FieldPath) -> R<Vec<FileSetEntry>> {
    let Some(id) = typed_field(c, object, path, FieldType::FileSet)? else {
        return Ok(Vec::new());
    };
    let rows: Vec<(String, String, i64, String, i64)> = c
        .prepare_cached(
            "SELECT path, digest, size, extension, mtime_ms FROM fileset_entries \
             WHERE field_id = ?1 ORDER BY path",
        )?
        .query_map([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(path, digest, size, extension, mtime_ms)| {
            Ok(FileSetEntry {
                path,
                file: FileRef {
                    digest,
                    size: fields::u64_from_sql(size)?,
                    extension,
                },
                mtime_ms,
            })
        })
        .collect()
}

type FilePointRow = (
    f64,
    i64,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
);

pub(crate) fn file_points(c: &Tx<'_>, object: &str, path: &FieldPath) -> R<Vec<FilePoint>> {
    let Some(id) = typed_field(c, object, path, FieldType::FileSeries)? else {
        return Ok(Vec::new());
    };
    let rows: Vec<FilePointRow> = c
        .prepare_cached(
            "SELECT step, ts, digest, size, extension, name, description FROM file_points \
             WHERE field_id = ?1 ORDER BY step",
        )?
        .query_map([id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(
            |(step, timestamp_ms, digest, size, extension, name, description)| {
                Ok(FilePoint {
                    step: Some(step),
                    timestamp_ms,
                    file: FileRef {
                        digest,
                        size: fields::u64_from_sql(size)?,
                        extension,
                    },
                    name,
                    description,
                })
            },
        )
        .collect()
}

pub(crate) fn series_config(c: &Tx<'_>, object: &str, path: &FieldPath) -> R<Option<SeriesConfig>> {
    let Some(id) = typed_field(c, object, path, FieldType::FloatSeries)? else {
        return Ok(None);
    };
    let cfg: Option<String> = c
        .prepare_cached("SELECT config FROM fields WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .flatten();
    match cfg {
        None => Ok(Some(SeriesConfig::default())),
        Some(s) => serde_json::from_str(&s)
            .map(Some)
            .map_err(|e| corrupt(format!("series settings: {e}"))),
    }
}
