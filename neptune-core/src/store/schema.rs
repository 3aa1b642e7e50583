//! Connection settings, the tables and their migrations.
//!
//! The schema version lives in the one-row table `schema_version`. Opening a store runs every
//! migration above the stored version, in order, inside one `BEGIN IMMEDIATE` transaction, so
//! several processes opening the same store at once migrate it exactly once.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::{Fail, R};
use crate::error::Error;

/// The schema version this library writes and understands.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a connection waits for another writer (another thread or process) before failing.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Migration `i` takes the schema from version `i` to version `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// Version 1: projects, objects, fields and the tables of the fields' contents.
///
/// Single values live in `fields.value` (Float as REAL, NaN as the text 'NaN'; Integer, Boolean
/// and Datetime (Unix ms) as INTEGER; String, RunState, Artifact hash as TEXT; GitRef and File as
/// JSON text). Series keep their count, last step and last value in the field row.
pub(crate) const V1: &str = r#"
CREATE TABLE projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    key         TEXT NOT NULL UNIQUE,
    next_run    INTEGER NOT NULL DEFAULT 1,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE objects (
    id            INTEGER PRIMARY KEY,
    sys_id        TEXT NOT NULL UNIQUE,
    kind          TEXT NOT NULL,
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    custom_run_id TEXT,
    parent_id     INTEGER REFERENCES objects(id),
    next_version  INTEGER NOT NULL DEFAULT 1,
    created_ms    INTEGER NOT NULL
);
CREATE INDEX objects_by_project ON objects(project_id, kind, id);
CREATE UNIQUE INDEX objects_by_custom_run_id ON objects(project_id, custom_run_id)
    WHERE custom_run_id IS NOT NULL;

CREATE TABLE fields (
    id          INTEGER PRIMARY KEY,
    object_id   INTEGER NOT NULL REFERENCES objects(id),
    path        TEXT NOT NULL,
    type        TEXT NOT NULL,
    value,
    count       INTEGER NOT NULL DEFAULT 0,
    last_step   REAL,
    last_value,
    config      TEXT,
    UNIQUE (object_id, path)
);

CREATE TABLE float_chunks (
    id          INTEGER PRIMARY KEY,
    field_id    INTEGER NOT NULL,
    first_step  REAL NOT NULL,
    last_step   REAL NOT NULL,
    n           INTEGER NOT NULL,
    data        BLOB NOT NULL
);
CREATE INDEX float_chunks_by_field ON float_chunks(field_id, last_step);

CREATE TABLE string_points (
    field_id    INTEGER NOT NULL,
    step        REAL NOT NULL,
    ts          INTEGER NOT NULL,
    value       TEXT NOT NULL,
    UNIQUE (field_id, step)
);

CREATE TABLE file_points (
    field_id    INTEGER NOT NULL,
    step        REAL NOT NULL,
    ts          INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    extension   TEXT NOT NULL,
    name        TEXT,
    description TEXT,
    UNIQUE (field_id, step)
);

CREATE TABLE string_set_members (
    field_id    INTEGER NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (field_id, value)
) WITHOUT ROWID;

CREATE TABLE fileset_entries (
    field_id    INTEGER NOT NULL,
    path        TEXT NOT NULL,
    digest      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    extension   TEXT NOT NULL,
    mtime_ms    INTEGER NOT NULL,
    PRIMARY KEY (field_id, path)
);

CREATE TABLE artifact_files (
    field_id         INTEGER NOT NULL,
    file_path        TEXT NOT NULL,
    file_hash        TEXT NOT NULL,
    size             INTEGER NOT NULL,
    storage_type     TEXT NOT NULL,
    location         TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    PRIMARY KEY (field_id, file_path)
);
"#;

/// Version 2: what a server keeps per client upload queue and per file content is scoped to a
/// project, so that one project's clients cannot reach another's state by naming its ids.
///
/// - `queue_objects`: the object a queue registered (`neptune sync`), per project.
/// - `queue_batches`: the last batch applied, per project, object and queue.
/// - `legacy_queue_batches`: rows of version 1's `upload_queues` whose object was never
///   recorded; a queue that has no row of its own yet starts from its legacy row, so a batch
///   resent across the upgrade is still applied once. No new rows are written there.
/// - `project_files`: content uploaded through a project (by name: content may come before
///   the project's first object). With the digest indexes it answers "may this project read
///   or refer to this content?".
///
/// Version 1 created `upload_queues` on first use only, hence the `IF NOT EXISTS` before
/// reading it.
const V2: &str = r#"
CREATE TABLE IF NOT EXISTS upload_queues (
    queue_id    TEXT PRIMARY KEY,
    object_id   TEXT,
    last_seq    INTEGER NOT NULL DEFAULT 0,
    last_reply  TEXT
);

CREATE TABLE queue_objects (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    queue_id    TEXT NOT NULL,
    object_id   INTEGER NOT NULL REFERENCES objects(id),
    PRIMARY KEY (project_id, queue_id)
) WITHOUT ROWID;

CREATE TABLE queue_batches (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    object_id   INTEGER NOT NULL REFERENCES objects(id),
    queue_id    TEXT NOT NULL,
    last_seq    INTEGER NOT NULL,
    last_reply  TEXT,
    PRIMARY KEY (project_id, object_id, queue_id)
) WITHOUT ROWID;

CREATE TABLE legacy_queue_batches (
    queue_id    TEXT PRIMARY KEY,
    last_seq    INTEGER NOT NULL,
    last_reply  TEXT
) WITHOUT ROWID;

INSERT INTO queue_objects (project_id, queue_id, object_id)
    SELECT o.project_id, u.queue_id, o.id
    FROM upload_queues u JOIN objects o ON o.sys_id = u.object_id;
INSERT INTO queue_batches (project_id, object_id, queue_id, last_seq, last_reply)
    SELECT o.project_id, o.id, u.queue_id, u.last_seq, u.last_reply
    FROM upload_queues u JOIN objects o ON o.sys_id = u.object_id
    WHERE u.last_seq > 0;
INSERT INTO legacy_queue_batches (queue_id, last_seq, last_reply)
    SELECT u.queue_id, u.last_seq, u.last_reply FROM upload_queues u
    WHERE u.last_seq > 0
      AND NOT EXISTS (SELECT 1 FROM objects o WHERE o.sys_id = u.object_id);
DROP TABLE upload_queues;

CREATE TABLE project_files (
    project     TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (project, digest)
) WITHOUT ROWID;
CREATE INDEX file_points_by_digest ON file_points(digest);
CREATE INDEX fileset_entries_by_digest ON fileset_entries(digest);
CREATE INDEX file_fields_by_digest
    ON fields(CASE WHEN json_valid(value) THEN json_extract(value, '$.digest') END)
    WHERE type = 'File';
"#;

/// Version 3: when each upload was last recorded (Unix ms; 0 for uploads before version 3),
/// so that `gc` keeps content recorded within its grace period (module `files_gc`); and the
/// indexes that let a table page be chosen in SQL (module `store::table_page`): the objects
/// with a field of a path, by type and value (sort keys, `sys/state`, `sys/owner`,
/// `sys/trashed`, a field compared to a number), and the sets holding a member (`sys/tags`).
const V3: &str = r#"
ALTER TABLE project_files ADD COLUMN uploaded_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX project_files_by_digest ON project_files(digest, uploaded_ms);
CREATE INDEX fields_by_path ON fields(path, type, value);
CREATE INDEX string_set_members_by_value ON string_set_members(value);
"#;

/// Settings of every connection; `file` for connections to a file on disk.
pub(crate) fn configure(conn: &Connection, file: bool, reader: bool) -> R<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if file {
        // journal_mode answers with a row: read it rather than expecting none.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Fail::Core(Error::Config(format!(
                "the store could not switch to write-ahead logging (journal mode is {mode}); \
                 is the directory on a network file system?"
            ))));
        }
        // Commits are not flushed one by one; what is acknowledged is, by Store::sync_to_disk.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Keep the WAL file from staying large after a big batch has been checkpointed.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    }
    // Negative: KiB. 8 MiB of page cache per connection: series are written and read in
    // sequence, so a bigger cache mostly costs client memory.
    conn.pragma_update(None, "cache_size", -8 * 1024)?;
    if reader {
        conn.pragma_update(None, "query_only", true)?;
    }
    Ok(())
}

/// Creates the tables, or migrates them to [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> R<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let stored: Option<i64> = tx
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .optional()?
        .flatten();
    let stored = stored.unwrap_or(0);
    if stored > SCHEMA_VERSION {
        return Err(Fail::Core(Error::Config(format!(
            "the store has schema version {stored}, newer than this library understands \
             ({SCHEMA_VERSION}); upgrade the library"
        ))));
    }
    if stored < 0 {
        return Err(Fail::Core(Error::Corrupt(format!(
            "schema version {stored} is negative"
        ))));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(stored as usize) {
        tx.execute_batch(sql)?;
        tx.execute("DELETE FROM schema_version", [])?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [i as i64 + 1],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// The schema version stored in the database.
#[cfg(test)]
pub(crate) fn stored_version(conn: &Connection) -> R<i64> {
    Ok(conn.query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))?)
}
