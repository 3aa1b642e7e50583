//! The store on PostgreSQL: connections, their pool, the schema and the conversion of values.
//!
//! Statements are written once for both engines with `?N` (or `?`) placeholders, translated to
//! `$N` once per connection and kept prepared there. `fields.value` and `fields.last_value`
//! are `JSONB`, which holds the dynamic values SQLite keeps in an untyped column: an integer
//! is a JSON integer, a float a JSON number with a fraction or exponent (NaN and ±infinity as
//! the strings `"NaN"`, `"inf"` and `"-inf"`, and negative zero as `"-0"`), a text a JSON string. JSONB compares numbers by
//! value and sorts numbers before strings, as SQLite does, so `f.value > ?1` and the index
//! `fields_by_path (path, type, value)` serve both engines.
//!
//! Every write transaction first locks the row of the object it writes (`SELECT … FOR
//! UPDATE`, module `apply`), so step rules, deduplication and counters hold across server
//! replicas. A transaction that fails on a broken connection (PostgreSQL restarted), a
//! serialization failure, a deadlock or a lost race on a unique key is run again on a fresh
//! connection for a bounded time.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};

use super::sql::{Param, SqlError, Tx, Val};
use super::{corrupt, Fail, R};
use crate::error::Error;

/// How long a transaction is retried while PostgreSQL cannot serve it.
pub(crate) const RETRY_FOR: Duration = Duration::from_secs(60);

/// Translates `?N` and `?` placeholders to PostgreSQL's `$N` (outside quoted text).
pub(crate) fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 0usize;
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            '?' if !quoted => {
                out.push('$');
                if chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                    while let Some(d) = chars.next_if(|c| c.is_ascii_digit()) {
                        out.push(d);
                    }
                } else {
                    next += 1;
                    out.push_str(&next.to_string());
                }
            }
            _ => out.push(ch),
        }
    }
    out
}

/// A dynamic value as JSONB text.
fn json_text(p: &Param<'_>, out: &mut Vec<u8>) -> Result<(), Box<dyn StdError + Sync + Send>> {
    match *p {
        Param::Null => out.extend_from_slice(b"null"),
        Param::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Param::Real(f) if f.is_nan() => out.extend_from_slice(b"\"NaN\""),
        // NUMERIC has no negative zero.
        Param::Real(f) if f == 0.0 && f.is_sign_negative() => out.extend_from_slice(b"\"-0\""),
        Param::Real(f) if f.is_infinite() => {
            out.extend_from_slice(if f > 0.0 { b"\"inf\"" } else { b"\"-inf\"" })
        }
        // serde_json writes a fraction or an exponent, so the value reads back as a float.
        Param::Real(f) => serde_json::to_writer(&mut *out, &f)?,
        Param::Text(s) => serde_json::to_writer(&mut *out, s)?,
        Param::Blob(_) => return Err("a blob cannot be stored in a JSONB column".into()),
    }
    Ok(())
}

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        if let Param::Null = self {
            return Ok(IsNull::Yes);
        }
        match (self, ty) {
            (_, &Type::JSONB) => {
                let mut text = Vec::with_capacity(24);
                json_text(self, &mut text)?;
                out.extend_from_slice(&[1]);
                out.extend_from_slice(&text);
                Ok(IsNull::No)
            }
            (_, &Type::JSON) => {
                let mut text = Vec::with_capacity(24);
                json_text(self, &mut text)?;
                out.extend_from_slice(&text);
                Ok(IsNull::No)
            }
            (Param::Int(i), &Type::INT8) => i.to_sql(ty, out),
            (Param::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Param::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Param::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            (Param::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Param::Real(f), &Type::FLOAT8) => f.to_sql(ty, out),
            (Param::Text(s), _) => s.to_sql(ty, out),
            (Param::Blob(b), &Type::BYTEA) => b.to_sql(ty, out),
            (p, ty) => Err(format!("cannot bind {p:?} as a {ty}").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// The raw text of a JSON or JSONB column.
struct RawJson<'a>(&'a [u8]);

impl<'a> FromSql<'a> for RawJson<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        if *ty == Type::JSONB {
            match raw.split_first() {
                Some((1, rest)) => Ok(RawJson(rest)),
                _ => Err("unsupported JSONB encoding".into()),
            }
        } else {
            Ok(RawJson(raw))
        }
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSON || *ty == Type::JSONB
    }
}

/// A JSONB value as the dynamic value SQLite would hold.
fn from_json(raw: &[u8]) -> R<Val<'static>> {
    use serde_json::Value as J;
    let v: J = serde_json::from_slice(raw).map_err(|e| corrupt(format!("a JSONB value: {e}")))?;
    Ok(match v {
        J::Null => Val::Null,
        J::Bool(b) => Val::Int(b as i64),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Val::Int(i),
            (None, Some(f)) => Val::Real(f),
            _ => return Err(corrupt(format!("number {n} out of range"))),
        },
        // "inf", "-inf" and "-0" stay texts: a Float field reads them (fields::float_from_sql).
        J::String(s) => Val::Text(s.into()),
        other => Val::Text(other.to_string().into()),
    })
}

/// Column `i` of a row as a dynamic value.
pub(crate) fn column(r: &postgres::Row, i: usize) -> R<Val<'_>> {
    let ty = r
        .columns()
        .get(i)
        .ok_or_else(|| corrupt(format!("no column {i}")))?
        .type_();
    fn or_null<T>(v: Option<T>, f: impl FnOnce(T) -> Val<'static>) -> Val<'static> {
        v.map_or(Val::Null, f)
    }
    Ok(match *ty {
        Type::INT8 => or_null(r.try_get::<_, Option<i64>>(i)?, Val::Int),
        Type::INT4 => or_null(r.try_get::<_, Option<i32>>(i)?, |v| Val::Int(v.into())),
        Type::INT2 => or_null(r.try_get::<_, Option<i16>>(i)?, |v| Val::Int(v.into())),
        Type::BOOL => or_null(r.try_get::<_, Option<bool>>(i)?, |v| Val::Int(v.into())),
        Type::FLOAT8 => or_null(r.try_get::<_, Option<f64>>(i)?, Val::Real),
        Type::FLOAT4 => or_null(r.try_get::<_, Option<f32>>(i)?, |v| Val::Real(v.into())),
        Type::BYTEA => match r.try_get::<_, Option<&[u8]>>(i)? {
            Some(b) => Val::Blob(b.into()),
            None => Val::Null,
        },
        Type::JSON | Type::JSONB => match r.try_get::<_, Option<RawJson<'_>>>(i)? {
            Some(j) => from_json(j.0)?,
            None => Val::Null,
        },
        _ => match r.try_get::<_, Option<&str>>(i)? {
            Some(s) => Val::Text(s.into()),
            None => Val::Null,
        },
    })
}

/// One connection, with its prepared statements (by the text they were written with).
pub(crate) struct Conn {
    client: RefCell<Client>,
    stmts: RefCell<HashMap<String, Statement>>,
}

impl Conn {
    fn connect(config: &postgres::Config) -> R<Conn> {
        Ok(Conn {
            client: RefCell::new(config.connect(NoTls)?),
            stmts: RefCell::new(HashMap::new()),
        })
    }

    fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }

    /// The statement written as `sql`, prepared once on this connection.
    pub(crate) fn prepare(&self, sql: &str) -> R<Statement> {
        if let Some(s) = self.stmts.borrow().get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.borrow_mut().prepare(&translate(sql))?;
        self.stmts.borrow_mut().insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// A statement for one use.
    pub(crate) fn prepare_once(&self, sql: &str) -> R<Statement> {
        Ok(self.client.borrow_mut().prepare(&translate(sql))?)
    }

    pub(crate) fn execute(&self, s: &Statement, p: &[Param<'_>]) -> R<usize> {
        let mut client = self.client.borrow_mut();
        let mut rows = client.query_raw(s, p.iter())?;
        while rows.next()?.is_some() {}
        let n = rows.rows_affected().unwrap_or(0) as usize;
        Ok(n)
    }

    pub(crate) fn query(&self, s: &Statement, p: &[Param<'_>]) -> R<Vec<postgres::Row>> {
        let mut client = self.client.borrow_mut();
        let rows = client.query_raw(s, p.iter())?.collect()?;
        Ok(rows)
    }

    pub(crate) fn batch(&self, sql: &str) -> R<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }
}

/// Whether `e` means the connection is gone or PostgreSQL cannot answer yet (refused, reset,
/// closed, shut down by an administrator or a crash, starting up): a new connection may
/// succeed. The one rule for every PostgreSQL client of the workspace (the store's pool, the
/// server's tokens).
pub fn connection_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(c) => {
            *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || c.code().starts_with("08")
        }
        // No SQL state: the connection failed.
        None => true,
    }
}

/// Whether a failed transaction may succeed when run again, and whether its connection is
/// broken.
fn retry_kind(e: &postgres::Error) -> (bool, bool) {
    if connection_lost(e) {
        return (true, true);
    }
    match e.code() {
        Some(c)
            if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
                || *c == SqlState::UNIQUE_VIOLATION
                || *c == SqlState::LOCK_NOT_AVAILABLE =>
        {
            (true, false)
        }
        _ => (false, false),
    }
}

/// A small pool of connections.
pub(crate) struct Pool {
    config: postgres::Config,
    /// Idle connections, and how many are open in all.
    idle: Mutex<(Vec<Conn>, usize)>,
    freed: Condvar,
    size: usize,
}

impl Pool {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<Conn>, usize)> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self) -> R<Conn> {
        let mut g = self.lock();
        loop {
            if let Some(c) = g.0.pop() {
                return Ok(c);
            }
            if g.1 < self.size {
                g.1 += 1;
                drop(g);
                return Conn::connect(&self.config).inspect_err(|_| self.lock().1 -= 1);
            }
            g = self.freed.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn give(&self, c: Conn, broken: bool) {
        let mut g = self.lock();
        if broken || c.is_closed() {
            g.1 -= 1;
        } else {
            g.0.push(c);
        }
        self.freed.notify_one();
    }

    /// Runs `f` in a transaction (`write`: read-write; else a read-only snapshot), committed
    /// when it succeeds, and run again while the failure is one that passes.
    pub(crate) fn run<T>(&self, write: bool, mut f: impl FnMut(&Tx<'_>) -> R<T>) -> R<T> {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let (out, conn) = match self.take() {
                Ok(conn) => (Self::once(&conn, write, &mut f), Some(conn)),
                Err(e) => (Err(e), None),
            };
            let (retry, broken) = match &out {
                Err(Fail::Sql(SqlError::Postgres(e))) => retry_kind(e),
                _ => (false, false),
            };
            if let Some(conn) = conn {
                self.give(conn, broken);
            }
            // A lost race on a unique key passes at once or is a real conflict.
            let unique = matches!(&out, Err(Fail::Sql(SqlError::Postgres(e)))
                if e.code() == Some(&SqlState::UNIQUE_VIOLATION));
            if !retry || started.elapsed() >= RETRY_FOR || (unique && attempt >= 5) {
                return out;
            }
            tracing::warn!(
                attempt,
                "PostgreSQL transaction failed, retrying: {:?}",
                out.err()
            );
            let pause = 10u64 << attempt.min(7);
            std::thread::sleep(Duration::from_millis(pause.min(1000)));
        }
    }

    fn once<T>(conn: &Conn, write: bool, f: &mut impl FnMut(&Tx<'_>) -> R<T>) -> R<T> {
        conn.batch(if write {
            "BEGIN"
        } else {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        })?;
        match f(&Tx::Postgres(conn)) {
            Ok(v) => {
                conn.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                // A broken connection rolls back by itself.
                let _ = conn.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Opens a pool of `size` connections to `url` and migrates the schema.
    pub(crate) fn open(url: &str, size: usize) -> R<Pool> {
        let config: postgres::Config = url.parse().map_err(|e| {
            Fail::Core(Error::Config(format!(
                "the database URL {:?} is not a PostgreSQL URL: {e}",
                redact(url)
            )))
        })?;
        let pool = Pool {
            config,
            idle: Mutex::new((Vec::new(), 0)),
            freed: Condvar::new(),
            size: size.max(1),
        };
        let conn = pool.take()?;
        let migrated = migrate(&conn);
        pool.give(conn, migrated.is_err());
        migrated?;
        Ok(pool)
    }
}

/// A database URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let auth = &url[s + 3..at];
            match auth.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The key of the advisory lock that orders migrations of several server processes.
const MIGRATION_LOCK: i64 = 0x6e65_7074_756e_6531;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1];

/// Version 1: the shape of the SQLite schema's version 3, typed for PostgreSQL.
const V1: &str = r#"
CREATE TABLE projects (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    key         TEXT NOT NULL UNIQUE,
    next_run    BIGINT NOT NULL DEFAULT 1,
    created_ms  BIGINT NOT NULL
);
CREATE TABLE objects (
    id            BIGSERIAL PRIMARY KEY,
    sys_id        TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    project_id    BIGINT NOT NULL REFERENCES projects(id),
    custom_run_id TEXT,
    parent_id     BIGINT REFERENCES objects(id),
    next_version  BIGINT NOT NULL DEFAULT 1,
    created_ms    BIGINT NOT NULL
);
CREATE INDEX objects_by_project ON objects(project_id, kind, id);
CREATE UNIQUE INDEX objects_by_custom_run_id ON objects(project_id, custom_run_id)
    WHERE custom_run_id IS NOT NULL;
CREATE TABLE fields (
    id          BIGSERIAL PRIMARY KEY,
    object_id   BIGINT NOT NULL REFERENCES objects(id),
    path        TEXT NOT NULL,
    type        TEXT NOT NULL,
    value       JSONB,
    count       BIGINT NOT NULL DEFAULT 0,
    last_step   DOUBLE PRECISION,
    last_value  JSONB,
    config      TEXT,
    UNIQUE (object_id, path)
);
CREATE TABLE float_chunks (
    id          BIGSERIAL PRIMARY KEY,
    field_id    BIGINT NOT NULL,
    first_step  DOUBLE PRECISION NOT NULL,
    last_step   DOUBLE PRECISION NOT NULL,
    n           BIGINT NOT NULL,
    data        BYTEA NOT NULL
);
CREATE INDEX float_chunks_by_field ON float_chunks(field_id, last_step);
CREATE TABLE string_points (
    field_id    BIGINT NOT NULL,
    step        DOUBLE PRECISION NOT NULL,
    ts          BIGINT NOT NULL,
    value       TEXT NOT NULL,
    UNIQUE (field_id, step)
);
CREATE TABLE file_points (
    field_id    BIGINT NOT NULL,
    step        DOUBLE PRECISION NOT NULL,
    ts          BIGINT NOT NULL,
    digest      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    extension   TEXT NOT NULL,
    name        TEXT,
    description TEXT,
    UNIQUE (field_id, step)
);
CREATE TABLE string_set_members (
    field_id    BIGINT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (field_id, value)
);
CREATE TABLE fileset_entries (
    field_id    BIGINT NOT NULL,
    path        TEXT NOT NULL,
    digest      TEXT NOT NULL,
    size        BIGINT NOT NULL,
    extension   TEXT NOT NULL,
    mtime_ms    BIGINT NOT NULL,
    PRIMARY KEY (field_id, path)
);
CREATE TABLE artifact_files (
    field_id         BIGINT NOT NULL,
    file_path        TEXT NOT NULL,
    file_hash        TEXT NOT NULL,
    size             BIGINT NOT NULL,
    storage_type     TEXT NOT NULL,
    location         TEXT NOT NULL,
    last_modified_ms BIGINT NOT NULL,
    PRIMARY KEY (field_id, file_path)
);
CREATE TABLE queue_objects (
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    queue_id    TEXT NOT NULL,
    object_id   BIGINT NOT NULL REFERENCES objects(id),
    PRIMARY KEY (project_id, queue_id)
);
CREATE TABLE queue_batches (
    project_id  BIGINT NOT NULL REFERENCES projects(id),
    object_id   BIGINT NOT NULL REFERENCES objects(id),
    queue_id    TEXT NOT NULL,
    last_seq    BIGINT NOT NULL,
    last_reply  TEXT,
    PRIMARY KEY (project_id, object_id, queue_id)
);
CREATE TABLE legacy_queue_batches (
    queue_id    TEXT PRIMARY KEY,
    last_seq    BIGINT NOT NULL,
    last_reply  TEXT
);
CREATE TABLE project_files (
    project     TEXT NOT NULL,
    digest      TEXT NOT NULL,
    uploaded_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (project, digest)
);
CREATE INDEX project_files_by_digest ON project_files(digest, uploaded_ms);
CREATE INDEX file_points_by_digest ON file_points(digest);
CREATE INDEX fileset_entries_by_digest ON fileset_entries(digest);
CREATE INDEX file_fields_by_digest ON fields (((value #>> '{}')::jsonb ->> 'digest'))
    WHERE type = 'File';
CREATE INDEX fields_by_path ON fields(path, type, value);
CREATE INDEX string_set_members_by_value ON string_set_members(value);
-- The server's API tokens (neptune-server creates the same table when it runs first).
CREATE TABLE IF NOT EXISTS tokens (
    id          TEXT PRIMARY KEY,
    project     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    salt        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    revoked_ms  BIGINT
);
"#;

/// The schema version this library writes and understands on PostgreSQL.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Creates the tables or migrates them, under an advisory lock (several servers may start at
/// once), each version in its own transaction.
fn migrate(conn: &Conn) -> R<()> {
    conn.batch(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    let out = migrate_locked(conn);
    let unlocked = conn.batch(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    out?;
    unlocked
}

fn migrate_locked(conn: &Conn) -> R<()> {
    conn.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let tx = Tx::Postgres(conn);
    let stored: Option<i64> = tx.query_row(
        "SELECT MAX(version) FROM schema_version",
        super::sql::params![],
        |r| r.get(0),
    )?;
    let stored = stored.unwrap_or(0);
    if stored > SCHEMA_VERSION {
        return Err(Fail::Core(Error::Config(format!(
            "the database has schema version {stored}, newer than this library understands \
             ({SCHEMA_VERSION}); upgrade the server"
        ))));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(stored.max(0) as usize) {
        conn.batch("BEGIN")?;
        let step = (|| -> R<()> {
            conn.batch(sql)?;
            tx.prepare("DELETE FROM schema_version")?
                .execute(super::sql::params![])?;
            tx.prepare("INSERT INTO schema_version (version) VALUES (?1)")?
                .execute([i as i64 + 1])?;
            conn.batch("COMMIT")
        })();
        if step.is_err() {
            let _ = conn.batch("ROLLBACK");
        }
        step?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            translate("SELECT '?' FROM t WHERE a = ?2 AND b IN (?, ?) AND c = ?10"),
            "SELECT '?' FROM t WHERE a = $2 AND b IN ($1, $2) AND c = $10"
        );
    }

    #[test]
    fn a_url_is_shown_without_its_password() {
        assert_eq!(
            redact("postgres://me:secret@db:5432/x"),
            "postgres://me:***@db:5432/x"
        );
        assert_eq!(redact("postgres://me@db/x"), "postgres://me@db/x");
    }

    #[test]
    fn dynamic_values_become_json_that_reads_back_the_same() {
        for (p, back) in [
            (Param::Int(-7), Val::Int(-7)),
            (Param::Real(1.0), Val::Real(1.0)),
            (Param::Real(0.1), Val::Real(0.1)),
            (Param::Real(f64::INFINITY), Val::Text("inf".into())),
            (Param::Real(-0.0), Val::Text("-0".into())),
            (Param::Text("a\"b"), Val::Text("a\"b".into())),
            (Param::Text("NaN"), Val::Text("NaN".into())),
        ] {
            let mut text = Vec::new();
            json_text(&p, &mut text).unwrap();
            assert_eq!(from_json(&text).unwrap(), back, "{p:?}");
        }
        let mut text = Vec::new();
        json_text(&Param::Real(f64::NAN), &mut text).unwrap();
        assert_eq!(text, b"\"NaN\"");
    }
}
