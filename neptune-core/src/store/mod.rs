//! The store: embedded (SQLite), or a server's on PostgreSQL (feature `postgres`,
//! [`Store::open_postgres`]; module `pg`). The SQL is written once over a small connection
//! layer (module `sql`) with the two engines behind it; what follows describes SQLite.
//!
//! One database file, `<home>/store.db`, in write-ahead-log mode: several processes may open the
//! same store, write to it (even to the same run) and read from it while another writes. Every
//! write is a `BEGIN IMMEDIATE` transaction, so ids, steps and counters are allocated without
//! races; a killed writer leaves nothing half-written (SQLite rolls the WAL back on reopen).
//!
//! Layout (module `schema`): `projects`, `objects`, `fields` (one row per field, holding single
//! values and the summaries of series) and one table per kind of content. FloatSeries points are
//! stored in chunks of up to 4096 points per row (module `chunk`).
//!
//! Durability: commits run with `synchronous=NORMAL` (the WAL is written, not flushed), so the
//! background worker's batches cost no disk flush. What is acknowledged is flushed first:
//! [`Store::sync_to_disk`] flushes the WAL (and once, the store's directory) before `wait()`,
//! a sync-mode call, `stop()`, an object's creation or a server's answer to a batch returns.
//! Concurrent acknowledgements share one flush. File content is flushed before it is renamed
//! to its digest name, and its directory after (module `files`).

mod apply;
mod chunk;
mod codec;
mod dedup;
mod downsample;
mod fetch;
mod fields;
pub(crate) mod files;
mod files_gc;
pub use files_gc::GcReport;
#[cfg(feature = "object-store")]
pub(crate) mod files_object;
mod ids;
mod m4;
#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "postgres")]
pub use pg::connection_lost;
mod project_files;
mod schema;
pub(crate) mod sql;
mod table;
mod table_page;
#[cfg(test)]
pub(crate) mod testdb;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_disk;
#[cfg(test)]
mod tests_fields;
#[cfg(test)]
mod tests_files;
#[cfg(test)]
mod tests_series;
#[cfg(test)]
mod tests_sys;
#[cfg(test)]
mod tests_table_page;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, TransactionBehavior};

use crate::backend::{
    ObjectInfo, ObjectKind, OpenRequest, Reader, Rejected, SeriesInfo, SeriesPage, Writer,
};
use crate::error::{Error, Result};
use crate::model::operation::{ArtifactFile, FilePoint, FileRef, FileSetEntry, Operation};
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};

pub use dedup::{BatchOutcome, QueuedBatch};
pub use downsample::{DownsampleQuery, Downsampled, XAxis, EXACT_FACTOR, MAX_WIDTH};
pub use fetch::SeriesConfig;

/// A project of the store, as [`Store::projects`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectSummary {
    /// The project's name, e.g. `"ml-team/nli"`.
    pub name: String,
    /// The key of its object ids (`"NLI"` for `NLI-3`).
    pub key: String,
    /// Its runs (trashed ones included).
    pub runs: u64,
    /// When it was created.
    pub created: chrono::DateTime<chrono::Utc>,
    /// The last write to any of its objects (its creation when it has none).
    pub last_activity: chrono::DateTime<chrono::Utc>,
}

/// Failure inside the store: the database engine's error (given its location at the boundary)
/// or a library error. Lets the internals use `?` on both.
#[derive(Debug)]
pub(crate) enum Fail {
    Sql(sql::SqlError),
    Core(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Core(e)
    }
}

fn is_busy(e: &sql::SqlError) -> bool {
    match e {
        sql::SqlError::Sqlite(e) => matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        ),
        _ => false,
    }
}

impl Fail {
    fn into_error(self, location: &str) -> Error {
        match self {
            Fail::Sql(source) => Error::Store {
                location: location.to_owned(),
                source: crate::error::StoreError::new(source),
            },
            Fail::Core(e) => e,
        }
    }
}

/// Result of the store's internals.
pub(crate) type R<T> = std::result::Result<T, Fail>;

/// Shorthand for a corrupt-data failure.
pub(crate) fn corrupt(what: impl Into<String>) -> Fail {
    Fail::Core(Error::Corrupt(what.into()))
}

/// The embedded store: a SQLite database on disk ([`Store::open`]) or in memory
/// ([`Store::in_memory`]).
///
/// ```
/// use neptune_core::store::Store;
/// use neptune_core::{ObjectKind, OpenRequest, Writer};
/// let store = Store::in_memory().unwrap();
/// let run = store
///     .open_object(&OpenRequest {
///         kind: ObjectKind::Run,
///         project: "ml-team/nli".into(),
///         with_id: None,
///         custom_run_id: None,
///         model: None,
///         owner: "me".into(),
///         read_only: false,
///     })
///     .unwrap();
/// assert_eq!(run.id, "NLI-1");
/// ```
pub struct Store {
    home: Option<PathBuf>,
    location: String,
    db: Db,
    /// The content-addressed file area (`home/files/`, or in memory).
    files: files::FileArea,
    /// Write transactions committed through this store.
    committed: AtomicU64,
    /// How many of them [`Store::sync_to_disk`] has flushed; its lock orders the flushes.
    synced: Mutex<u64>,
    /// Whether the store's directory (the entries of the database and its WAL) was flushed.
    dir_synced: AtomicBool,
    /// Block summaries of float chunks, for downsampled reads (module `downsample`).
    summaries: m4::Summaries,
}

/// The database of a store.
enum Db {
    Sqlite {
        writer: Mutex<Connection>,
        /// A second connection for reads, so that they do not wait on a long write.
        /// `None` in memory, where reads go through `writer`.
        reader: Option<Mutex<Connection>>,
    },
    #[cfg(feature = "postgres")]
    Postgres(pg::Pool),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("location", &self.location)
            .finish()
    }
}

/// Locks a connection; a poisoned lock is taken over (an interrupted transaction was rolled back
/// when its guard dropped, so the connection is usable).
fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Store {
    /// Opens the store in `home` (created if needed): the database `home/store.db`.
    pub fn open(home: &Path) -> Result<Store> {
        Store::open_area(home, None)
    }

    /// [`Store::open`] with file content in `files` rather than `home/files/`.
    fn open_area(home: &Path, files: Option<files::FileArea>) -> Result<Store> {
        std::fs::create_dir_all(home).map_err(|e| {
            Error::io(
                format!("cannot create the store directory {}", home.display()),
                e,
            )
        })?;
        let location = home.display().to_string();
        let db = home.join("store.db");
        let setup = || -> R<(Connection, Connection)> {
            let mut writer = Connection::open(&db)?;
            schema::configure(&writer, true, false)?;
            schema::migrate(&mut writer)?;
            let reader = Connection::open(&db)?;
            schema::configure(&reader, true, true)?;
            Ok((writer, reader))
        };
        // Opening races with other processes opening the same new store (switching it to WAL,
        // creating the tables); SQLite answers some of those races with an immediate BUSY that
        // its busy handler never sees, so retry them here for a bounded time.
        let started = std::time::Instant::now();
        let mut attempt = 0u64;
        let (writer, reader) = loop {
            match setup() {
                Err(Fail::Sql(e)) if is_busy(&e) && started.elapsed() < schema::BUSY_TIMEOUT => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(5 + (attempt * 7) % 40));
                }
                other => break other.map_err(|f| f.into_error(&location))?,
            }
        };
        let files = match files {
            Some(area) => area,
            None => files::FileArea::open(home)?,
        };
        Ok(Store {
            home: Some(home.to_path_buf()),
            location,
            db: Db::Sqlite {
                writer: Mutex::new(writer),
                reader: Some(Mutex::new(reader)),
            },
            files,
            committed: AtomicU64::new(0),
            synced: Mutex::new(0),
            dir_synced: AtomicBool::new(false),
            summaries: m4::Summaries::default(),
        })
    }

    /// A store in memory, on one connection: nothing touches the disk.
    pub fn in_memory() -> Result<Store> {
        let location = "memory".to_owned();
        let setup = || -> R<Connection> {
            let mut conn = Connection::open_in_memory()?;
            schema::configure(&conn, false, false)?;
            schema::migrate(&mut conn)?;
            Ok(conn)
        };
        let conn = setup().map_err(|f| f.into_error(&location))?;
        Ok(Store {
            home: None,
            location,
            db: Db::Sqlite {
                writer: Mutex::new(conn),
                reader: None,
            },
            files: files::FileArea::memory(),
            committed: AtomicU64::new(0),
            synced: Mutex::new(0),
            dir_synced: AtomicBool::new(false),
            summaries: m4::Summaries::default(),
        })
    }

    /// The directory of the store; `None` in memory.
    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    /// Opens a store on the PostgreSQL database at `url` (`postgres://user@host:port/db`),
    /// with at most `connections` connections, and its file content in `files`: `None` for
    /// the folder `data/files`, else as [`Store::open_with_files`]. Migrates the schema
    /// (several processes may open one database at once). Calls on such a store block, and
    /// must not be made from inside an async task.
    ///
    /// ```no_run
    /// # fn main() -> neptune_core::Result<()> {
    /// let data = std::path::Path::new("/var/lib/neptune");
    /// let store = neptune_core::store::Store::open_postgres(
    ///     "postgres://neptune@127.0.0.1/neptune", 8, data, None)?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "postgres")]
    pub fn open_postgres(
        url: &str,
        connections: usize,
        data: &Path,
        files: Option<&str>,
    ) -> Result<Store> {
        let location = format!("database {}", pg::redact(url));
        let pool = pg::Pool::open(url, connections).map_err(|f| f.into_error(&location))?;
        let files = match files {
            #[cfg(feature = "object-store")]
            Some(url) => files::FileArea::Object(files_object::ObjectArea::open(url)?),
            #[cfg(not(feature = "object-store"))]
            Some(url) => {
                return Err(Error::Config(format!(
                    "file storage {url} needs the feature `object-store`"
                )))
            }
            None => {
                std::fs::create_dir_all(data)
                    .map_err(|e| Error::io(format!("cannot create {}", data.display()), e))?;
                files::FileArea::open(data)?
            }
        };
        Ok(Store {
            home: None,
            location,
            db: Db::Postgres(pool),
            files,
            committed: AtomicU64::new(0),
            synced: Mutex::new(0),
            dir_synced: AtomicBool::new(false),
            summaries: m4::Summaries::default(),
        })
    }

    /// The engine of the store: `"sqlite"` or `"postgres"`.
    pub fn engine(&self) -> &'static str {
        match self.db {
            Db::Sqlite { .. } => "sqlite",
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => "postgres",
        }
    }

    /// The SQLite connection that writes (tests look inside the database through it).
    #[cfg(test)]
    fn sqlite_writer(&self) -> MutexGuard<'_, Connection> {
        match &self.db {
            Db::Sqlite { writer, .. } => lock(writer),
            #[cfg(feature = "postgres")]
            Db::Postgres(_) => panic!("this test looks inside a SQLite store"),
        }
    }

    /// Runs a statement in a write transaction, on either engine (tests).
    #[cfg(test)]
    fn test_execute(&self, sql: &str, p: &[sql::Param<'_>]) {
        self.write(|tx| tx.prepare(sql)?.execute(p))
            .expect("the statement runs");
    }

    /// The first column of a query's rows as integers, on either engine (tests).
    #[cfg(test)]
    fn test_ints(&self, sql: &str) -> Vec<i64> {
        self.read(|tx| {
            tx.prepare(sql)?
                .query_map(sql::params![], |r| r.get(0))?
                .collect()
        })
        .expect("the query runs")
    }

    /// Runs `f` in a write (`BEGIN IMMEDIATE`) transaction, committed when `f` succeeds. On
    /// PostgreSQL `f` may run again (see module `pg`): it must not keep state across runs.
    fn write<T>(&self, mut f: impl FnMut(&sql::Tx<'_>) -> R<T>) -> Result<T> {
        let writer = match &self.db {
            Db::Sqlite { writer, .. } => writer,
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                let out = pool
                    .run(true, f)
                    .map_err(|e| e.into_error(&self.location))?;
                self.committed.fetch_add(1, Ordering::Release);
                return Ok(out);
            }
        };
        let mut conn = lock(writer);
        let mut run = || -> R<T> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&sql::Tx::Sqlite(&tx))?;
            tx.commit()?;
            Ok(out)
        };
        let out = run().map_err(|e| e.into_error(&self.location))?;
        self.committed.fetch_add(1, Ordering::Release);
        Ok(out)
    }

    /// Makes every write committed through this store so far survive a crash of the operating
    /// system or a power loss: flushes the write-ahead log (and, the first time, the store's
    /// directory). Returns at once when nothing was committed since the last flush; callers
    /// that arrive while another flush runs are covered by the next one (one flush for many
    /// acknowledgements). Nothing to do in memory.
    pub fn sync_to_disk(&self) -> Result<()> {
        let Some(home) = &self.home else {
            return Ok(());
        };
        let wanted = self.committed.load(Ordering::Acquire);
        let mut synced = self.synced.lock().unwrap_or_else(|e| e.into_inner());
        if *synced >= wanted {
            return Ok(());
        }
        // Every commit counted by now is in the log file: one flush covers them all.
        let covered = self.committed.load(Ordering::Acquire);
        let wal = home.join("store.db-wal");
        let flushed = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&wal)
            .and_then(|f| f.sync_data());
        match flushed {
            Ok(()) => {}
            // No log: SQLite has checkpointed it into the database (flushed) and removed it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::io(
                    format!("cannot flush {} to disk", wal.display()),
                    e,
                ))
            }
        }
        if !self.dir_synced.load(Ordering::Acquire) {
            files::sync_dir(home)?;
            self.dir_synced.store(true, Ordering::Release);
        }
        *synced = covered;
        Ok(())
    }

    /// Runs `f` in a read transaction (one consistent snapshot) on the reading connection.
    fn read<T>(&self, mut f: impl FnMut(&sql::Tx<'_>) -> R<T>) -> Result<T> {
        let conn = match &self.db {
            Db::Sqlite { writer, reader } => reader.as_ref().unwrap_or(writer),
            #[cfg(feature = "postgres")]
            Db::Postgres(pool) => {
                return pool.run(false, f).map_err(|e| e.into_error(&self.location));
            }
        };
        let mut conn = lock(conn);
        let mut run = || -> R<T> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let out = f(&sql::Tx::Sqlite(&tx))?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|e| e.into_error(&self.location))
    }

    /// The files of an Artifact field, sorted by path (empty when the field is missing).
    pub fn artifact_files(&self, object: &str, path: &FieldPath) -> Result<Vec<ArtifactFile>> {
        self.read(|tx| fetch::artifact_files(tx, object, path))
    }

    /// The file of a File field; `None` when the field is missing.
    pub fn file_ref(&self, object: &str, path: &FieldPath) -> Result<Option<FileRef>> {
        self.read(|tx| fetch::file_ref(tx, object, path))
    }

    /// The entries of a FileSet field, sorted by path (empty when the field is missing).
    pub fn fileset_entries(&self, object: &str, path: &FieldPath) -> Result<Vec<FileSetEntry>> {
        self.read(|tx| fetch::fileset_entries(tx, object, path))
    }

    /// The points of a FileSeries field, in step order (empty when the field is missing).
    pub fn file_points(&self, object: &str, path: &FieldPath) -> Result<Vec<FilePoint>> {
        self.read(|tx| fetch::file_points(tx, object, path))
    }

    /// Every project in the store, sorted by name, with its number of runs and the time of
    /// its last write.
    ///
    /// ```
    /// # fn main() -> neptune_core::Result<()> {
    /// let dir = tempfile::tempdir().unwrap();
    /// let run = neptune_core::Run::builder().home(dir.path()).project("team/nli").open()?;
    /// run.stop()?;
    /// let store = neptune_core::store::Store::open(dir.path())?;
    /// let projects = store.projects()?;
    /// assert_eq!((projects[0].name.as_str(), projects[0].runs), ("team/nli", 1));
    /// # Ok(()) }
    /// ```
    pub fn projects(&self) -> Result<Vec<ProjectSummary>> {
        self.read(ids::list_projects)
    }

    /// The min, max and unit of a FloatSeries; `None` when the field is missing.
    pub fn series_config(&self, object: &str, path: &FieldPath) -> Result<Option<SeriesConfig>> {
        self.read(|tx| fetch::series_config(tx, object, path))
    }
}

impl Writer for Store {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn open_object(&self, req: &OpenRequest) -> Result<ObjectInfo> {
        let info = self.write(|tx| ids::open_object(tx, req))?;
        self.sync_to_disk()?;
        Ok(info)
    }

    fn execute(&self, object: &str, ops: &[Operation]) -> Result<Vec<Rejected>> {
        self.write(|tx| apply::execute(tx, object, ops))
    }

    fn put_file(&self, content: &mut dyn std::io::Read, extension: &str) -> Result<FileRef> {
        let (digest, size) = self.files.put(content)?;
        Ok(FileRef {
            digest,
            size,
            extension: extension.to_owned(),
        })
    }

    /// Everything `execute` applied is in the database; this makes it durable.
    fn wait_acknowledged(&self) -> Result<Vec<Rejected>> {
        self.sync_to_disk()?;
        Ok(Vec::new())
    }

    fn close(&self, _deadline: std::time::Instant) -> Result<Vec<Rejected>> {
        self.sync_to_disk()?;
        Ok(Vec::new())
    }
}

impl Reader for Store {
    fn fetch_structure(&self, object: &str) -> Result<Vec<(FieldPath, FieldType)>> {
        self.read(|tx| fetch::structure(tx, object))
    }

    fn fetch_value(&self, object: &str, path: &FieldPath) -> Result<Option<Value>> {
        self.read(|tx| fetch::value(tx, object, path))
    }

    fn fetch_values_below(
        &self,
        object: &str,
        prefix: Option<&FieldPath>,
    ) -> Result<Vec<(FieldPath, Value)>> {
        self.read(|tx| fetch::values_below(tx, object, prefix))
    }

    fn fetch_series_info(&self, object: &str, path: &FieldPath) -> Result<Option<SeriesInfo>> {
        self.read(|tx| fetch::series_info(tx, object, path))
    }

    fn fetch_float_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<f64>> {
        self.read(|tx| fetch::float_points(tx, object, path, after_step, limit))
    }

    fn fetch_string_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<String>> {
        self.read(|tx| fetch::string_points(tx, object, path, after_step, limit))
    }

    fn list_objects(&self, project: &str, kind: ObjectKind) -> Result<Vec<String>> {
        self.read(|tx| ids::list_objects(tx, project, kind))
    }

    fn fetch_table(
        &self,
        scope: &crate::TableScope,
        q: &crate::TableQuery,
    ) -> Result<crate::Table> {
        table::fetch(self, scope, q)
    }

    fn has_file(&self, digest: &str) -> Result<bool> {
        self.files.has(digest)
    }

    fn open_file(&self, digest: &str) -> Result<Box<dyn std::io::Read + Send>> {
        self.files.open_content(digest)
    }

    fn file_ref(&self, object: &str, path: &FieldPath) -> Result<Option<FileRef>> {
        Store::file_ref(self, object, path)
    }

    fn fileset_entries(&self, object: &str, path: &FieldPath) -> Result<Vec<FileSetEntry>> {
        Store::fileset_entries(self, object, path)
    }

    fn file_points(&self, object: &str, path: &FieldPath) -> Result<Vec<FilePoint>> {
        Store::file_points(self, object, path)
    }

    fn artifact_files(&self, object: &str, path: &FieldPath) -> Result<Vec<ArtifactFile>> {
        Store::artifact_files(self, object, path)
    }
}
