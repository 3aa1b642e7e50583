//! Objects and fields: lookups (the type and namespace rule runs over them: `rules::fields`), and
//! the encoding of single values.

use super::sql::{params, Optional, Tx};
use super::sql::{Val, Value as Sql};

use super::{corrupt, Fail, R};
use crate::backend::ObjectKind;
use crate::error::Error;
use crate::model::operation::FileRef;
use crate::model::path::FieldPath;
use crate::model::rules::fields::{place, FieldLookup, FoundField, Place};
use crate::model::types::{FieldType, GitInfo, RunState, Value};

/// An object row.
#[derive(Clone, Debug)]
pub(crate) struct Obj {
    pub id: i64,
    pub sys_id: String,
    pub kind: ObjectKind,
    pub project_id: i64,
}

/// A field row: its id and type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field {
    pub id: i64,
    pub ftype: FieldType,
}

/// Parses a stored object kind.
pub(crate) fn parse_kind(s: &str) -> R<ObjectKind> {
    ObjectKind::from_name(s).ok_or_else(|| corrupt(format!("unknown object kind {s:?}")))
}

/// Parses a stored field type.
pub(crate) fn parse_type(s: &str) -> R<FieldType> {
    FieldType::from_name(s).ok_or_else(|| corrupt(format!("unknown field type {s:?}")))
}

/// The object with `sys_id`, if any.
pub(crate) fn find_object(c: &Tx<'_>, sys_id: &str) -> R<Option<Obj>> {
    let row = c
        .prepare_cached("SELECT id, kind, project_id FROM objects WHERE sys_id = ?1")?
        .query_row([sys_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?;
    match row {
        None => Ok(None),
        Some((id, kind, project_id)) => Ok(Some(Obj {
            id,
            sys_id: sys_id.to_owned(),
            kind: parse_kind(&kind)?,
            project_id,
        })),
    }
}

/// Locks the row of object `id` until the transaction ends, so that writers on other
/// connections (other server replicas on PostgreSQL) apply their batches to it one after
/// another: step rules, deduplication and counters see every earlier write. Nothing to do on
/// SQLite, where a write transaction (`BEGIN IMMEDIATE`) already excludes every other.
pub(crate) fn lock_object(c: &Tx<'_>, id: i64) -> R<()> {
    #[cfg(feature = "postgres")]
    if c.engine() == super::sql::Engine::Postgres {
        c.query_row(
            "SELECT id FROM objects WHERE id = ?1 FOR UPDATE",
            [id],
            |_| Ok(()),
        )?;
    }
    let _ = (c, id);
    Ok(())
}

/// Takes a lock named `name` until the transaction ends (PostgreSQL's advisory locks), for
/// writes that create rows no existing row can stand for; nothing to do on SQLite.
pub(crate) fn lock_name(c: &Tx<'_>, name: &str) -> R<()> {
    #[cfg(feature = "postgres")]
    if c.engine() == super::sql::Engine::Postgres {
        c.query_row(
            "SELECT 1 FROM pg_advisory_xact_lock(hashtextextended(?1, 0))",
            [name],
            |_| Ok(()),
        )?;
    }
    let _ = (c, name);
    Ok(())
}

/// The object with `sys_id`, or `ObjectNotFound`.
pub(crate) fn object(c: &Tx<'_>, sys_id: &str) -> R<Obj> {
    find_object(c, sys_id)?.ok_or_else(|| {
        Fail::Core(Error::ObjectNotFound {
            kind: "object",
            id: sys_id.to_owned(),
            location: "this store".to_owned(),
        })
    })
}

/// The field at `path` of object `obj`, if any.
pub(crate) fn find_field(c: &Tx<'_>, obj: i64, path: &str) -> R<Option<Field>> {
    let row = c
        .prepare_cached("SELECT id, type FROM fields WHERE object_id = ?1 AND path = ?2")?
        .query_row(params![obj, path], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    match row {
        None => Ok(None),
        Some((id, t)) => Ok(Some(Field {
            id,
            ftype: parse_type(&t)?,
        })),
    }
}

/// The bounds of the paths strictly below `ns`: `ns/` ≤ path < `ns0` (`'0'` follows `'/'`).
pub(crate) fn below_bounds(ns: &str) -> (String, String) {
    (format!("{ns}/"), format!("{ns}0"))
}

/// Whether some field lies strictly below `ns`.
fn has_fields_below(c: &Tx<'_>, obj: i64, ns: &str) -> R<bool> {
    let (lo, hi) = below_bounds(ns);
    let found = c
        .prepare_cached(
            "SELECT 1 FROM fields WHERE object_id = ?1 AND path >= ?2 AND path < ?3 LIMIT 1",
        )?
        .query_row(params![obj, lo, hi], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

impl FoundField for Field {
    fn field_type(&self) -> FieldType {
        self.ftype
    }
}

/// The fields of one object, for the rules.
struct Lookup<'a> {
    c: &'a Tx<'a>,
    obj: i64,
}

impl FieldLookup for Lookup<'_> {
    type Found = Field;
    type Fail = Fail;

    fn field(&self, path: &str) -> R<Option<Field>> {
        find_field(self.c, self.obj, path)
    }

    fn has_fields_below(&self, ns: &str) -> R<bool> {
        has_fields_below(self.c, self.obj, ns)
    }
}

/// The field at `path` if it has type `t`, or the field id to create: `Ok(Err(reason))` when the
/// path cannot hold a `t` (see [`place`]).
pub(crate) fn ensure(
    c: &Tx<'_>,
    obj: i64,
    path: &FieldPath,
    t: FieldType,
    attempted: &'static str,
) -> R<Result<i64, Error>> {
    match place(&Lookup { c, obj }, path, t, attempted)? {
        Ok(Place::Existing(f)) => return Ok(Ok(f.id)),
        Ok(Place::New) => {}
        Err(e) => return Ok(Err(e)),
    }
    let id = c
        .prepare_cached(
            "INSERT INTO fields (object_id, path, type) VALUES (?1, ?2, ?3) RETURNING id",
        )?
        .query_row(params![obj, path.as_str(), t.name()], |r| r.get(0))?;
    Ok(Ok(id))
}

/// Deletes the contents of a field (series points, set members, files), keeping its row.
pub(crate) fn clear_contents(c: &Tx<'_>, field: i64) -> R<()> {
    for sql in [
        "DELETE FROM float_chunks WHERE field_id = ?1",
        "DELETE FROM string_points WHERE field_id = ?1",
        "DELETE FROM file_points WHERE field_id = ?1",
        "DELETE FROM string_set_members WHERE field_id = ?1",
        "DELETE FROM fileset_entries WHERE field_id = ?1",
        "DELETE FROM artifact_files WHERE field_id = ?1",
    ] {
        c.prepare_cached(sql)?.execute([field])?;
    }
    Ok(())
}

/// Deletes the field at `path` and every field below it, with their contents.
pub(crate) fn delete_at_or_below(c: &Tx<'_>, obj: i64, path: &str) -> R<()> {
    let (lo, hi) = below_bounds(path);
    let ids: Vec<i64> = c
        .prepare_cached(
            "SELECT id FROM fields WHERE object_id = ?1 AND (path = ?2 OR (path >= ?3 AND path < ?4))",
        )?
        .query_map(params![obj, path, lo, hi], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for id in ids {
        clear_contents(c, id)?;
        c.prepare_cached("DELETE FROM fields WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(())
}

/// Sets the single value of a field row.
pub(crate) fn set_value(c: &Tx<'_>, field: i64, value: Sql) -> R<()> {
    c.prepare_cached("UPDATE fields SET value = ?2 WHERE id = ?1")?
        .execute(params![field, value])?;
    Ok(())
}

/// A float as SQL: REAL, except NaN (which SQLite would turn into NULL) as the text 'NaN'.
/// (On PostgreSQL, module `pg` also writes ±infinity and negative zero as texts.)
pub(crate) fn float_to_sql(v: f64) -> Sql {
    if v.is_nan() {
        Sql::Text("NaN".to_owned())
    } else {
        Sql::Real(v)
    }
}

/// Reads a float written by [`float_to_sql`].
pub(crate) fn float_from_sql(v: Val<'_>) -> R<f64> {
    match v {
        Val::Real(f) => Ok(f),
        Val::Int(i) => Ok(i as f64),
        Val::Text(s) if s == "NaN" => Ok(f64::NAN),
        // PostgreSQL keeps what JSON numbers cannot hold as texts (module `pg`).
        Val::Text(s) if s == "inf" => Ok(f64::INFINITY),
        Val::Text(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
        Val::Text(s) if s == "-0" => Ok(-0.0),
        other => Err(corrupt(format!("expected a float, found {}", other.kind()))),
    }
}

fn int_from_sql(v: Val<'_>, what: &str) -> R<i64> {
    match v {
        Val::Int(i) => Ok(i),
        other => Err(corrupt(format!("expected {what}, found {}", other.kind()))),
    }
}

pub(crate) fn text_from_sql(v: Val<'_>, what: &str) -> R<String> {
    match v {
        Val::Text(s) => Ok(s.into_owned()),
        other => Err(corrupt(format!("expected {what}, found {}", other.kind()))),
    }
}

/// A Datetime from Unix milliseconds.
pub(crate) fn datetime(ms: i64) -> R<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| corrupt(format!("datetime {ms} ms is out of range")))
}

/// Decodes the stored single value of a field of type `t` (not StringSet, whose members live in
/// their own table).
pub(crate) fn decode_value(t: FieldType, v: Val<'_>) -> R<Value> {
    Ok(match t {
        FieldType::Float => Value::Float(float_from_sql(v)?),
        FieldType::Integer => Value::Integer(int_from_sql(v, "an integer")?),
        FieldType::Boolean => Value::Boolean(int_from_sql(v, "a boolean")? != 0),
        FieldType::String => Value::String(text_from_sql(v, "a string")?),
        FieldType::Datetime => Value::Datetime(datetime(int_from_sql(v, "a datetime")?)?),
        FieldType::RunState => {
            let s = text_from_sql(v, "a run state")?;
            Value::RunState(RunState::parse(&s).ok_or_else(|| corrupt(format!("run state {s:?}")))?)
        }
        FieldType::GitRef => {
            let s = text_from_sql(v, "git information")?;
            let g: GitInfo =
                serde_json::from_str(&s).map_err(|e| corrupt(format!("git information: {e}")))?;
            Value::GitRef(Box::new(g))
        }
        FieldType::Artifact => Value::Artifact(match v {
            Val::Null => String::new(),
            v => text_from_sql(v, "an artifact hash")?,
        }),
        other => return Err(corrupt(format!("{other} has no single stored value"))),
    })
}

/// Decodes the FileRef stored in a File field.
pub(crate) fn decode_file_ref(v: Val<'_>) -> R<Option<FileRef>> {
    match v {
        Val::Null => Ok(None),
        v => {
            let s = text_from_sql(v, "a file reference")?;
            serde_json::from_str(&s)
                .map(Some)
                .map_err(|e| corrupt(format!("file reference: {e}")))
        }
    }
}

/// The members of a StringSet field, sorted.
pub(crate) fn set_members(c: &Tx<'_>, field: i64) -> R<std::collections::BTreeSet<String>> {
    let members = c
        .prepare_cached("SELECT value FROM string_set_members WHERE field_id = ?1")?
        .query_map([field], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    Ok(members)
}

/// The value of a single-value field with id `field` and type `t`.
pub(crate) fn read_value(c: &Tx<'_>, field: i64, t: FieldType) -> R<Value> {
    if t == FieldType::StringSet {
        return Ok(Value::StringSet(set_members(c, field)?));
    }
    let mut stmt = c.prepare_cached("SELECT value FROM fields WHERE id = ?1")?;
    let mut rows = stmt.query([field])?;
    let row = rows
        .next()?
        .ok_or_else(|| corrupt(format!("field {field} vanished")))?;
    decode_value(t, row.get_ref(0)?)
}

/// Checks a FileRef from an operation: a SHA-256 digest and a harmless extension (it names a
/// file in the content area, so a hostile writer must not smuggle a path into it).
pub(crate) fn check_file_ref(f: &FileRef) -> Result<(), String> {
    let hex = f.digest.len() == 64
        && f.digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !hex {
        return Err(format!(
            "file digest {:?} is not a lowercase hex SHA-256",
            f.digest
        ));
    }
    let e = &f.extension;
    let ok_ext = e.len() <= 32
        && !e.starts_with('.')
        && !e.contains("..")
        && e.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if !ok_ext {
        return Err(format!("file extension {e:?} is not a plain extension"));
    }
    if f.size > i64::MAX as u64 {
        return Err(format!("file size {} is too large", f.size));
    }
    Ok(())
}

/// Checks a relative path inside a FileSet: non-empty `/`-separated segments, none `.` or `..`.
pub(crate) fn check_set_path(p: &str) -> Result<(), String> {
    let ok = !p.is_empty()
        && !p.contains('\\')
        && !p.chars().any(char::is_control)
        && p.split('/').all(|s| !s.is_empty() && s != "." && s != "..");
    if ok {
        Ok(())
    } else {
        Err(format!("{p:?} is not a relative path inside the file set"))
    }
}

/// A u64 for an INTEGER column.
pub(crate) fn u64_to_sql(v: u64) -> R<i64> {
    i64::try_from(v).map_err(|_| Fail::Core(Error::invalid("size", format!("{v} is too large"))))
}

/// A stored size back.
pub(crate) fn u64_from_sql(v: i64) -> R<u64> {
    u64::try_from(v).map_err(|_| corrupt(format!("negative size {v}")))
}
