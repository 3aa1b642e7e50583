//! Backends: where operations go and where fetches come from.
//!
//! One trait, implemented by the embedded [`Store`](crate::store::Store) (SQLite), the
//! [`MemoryBackend`] (debug mode and tests; records every operation) and, later, the HTTP client
//! of `neptune-server`. Every method takes the object's `sys/id`.

#[cfg(feature = "http")]
pub mod http;
pub(crate) mod http_choice;
mod memory;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::operation::{ArtifactFile, FilePoint, FileRef, FileSetEntry, Operation};
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};

pub use memory::MemoryBackend;

/// The kinds of objects that hold fields (their names: `rules/kinds.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    /// A run.
    Run,
    /// A model.
    Model,
    /// A model version.
    ModelVersion,
    /// A project (its own fields).
    Project,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to open: a new object, an existing one (`with_id`), or a shared run (`custom_run_id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest {
    /// The kind of object.
    pub kind: ObjectKind,
    /// Project name, e.g. `"ml-team/nli"`.
    pub project: String,
    /// `sys/id` of an existing object to resume; it must exist.
    pub with_id: Option<String>,
    /// Runs only: processes opening the same custom run id share one run (created by the first).
    pub custom_run_id: Option<String>,
    /// Models: the model key (`"FOREST"` gives id `NLI-FOREST`).
    /// Model versions: the `sys/id` of the model (`"NLI-FOREST"` gives `NLI-FOREST-1`, `-2`, …).
    pub model: Option<String>,
    /// Written to `sys/owner` when the object is created.
    pub owner: String,
    /// Opened for reading only: the backend changes nothing (not even `sys/state`).
    #[serde(default)]
    pub read_only: bool,
}

/// An opened object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// `sys/id`, e.g. `"NLI-2"`.
    pub id: String,
    /// The kind of object.
    pub kind: ObjectKind,
    /// Its project.
    pub project: String,
    /// Whether this open created the object (false when resumed or joined).
    pub created: bool,
    /// Every field the object already has, with its type.
    pub fields: Vec<(FieldPath, FieldType)>,
}

/// An operation of a batch that the backend refused; the rest of the batch was applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    /// Index of the operation in the batch.
    pub index: usize,
    /// Path of the operation.
    pub path: String,
    /// Why, in words that name the fix.
    pub reason: String,
}

/// Summary of a series field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesInfo {
    /// FloatSeries, StringSeries or FileSeries.
    pub field_type: FieldType,
    /// The number of points.
    pub count: u64,
    /// The last step, if any.
    #[serde(with = "crate::model::operation::float::option")]
    pub last_step: Option<f64>,
    /// The last value, as a Value::Float or Value::String (None when empty or for files).
    pub last: Option<Value>,
}

/// One page of a series, as columns, in step order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesPage<T> {
    /// Steps, in order.
    pub steps: Vec<f64>,
    /// Values, one per step.
    pub values: Vec<T>,
    /// Unix milliseconds.
    pub timestamps: Vec<i64>,
}

impl<T> SeriesPage<T> {
    /// Number of points in the page.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the page holds no point.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Appends another page.
    pub fn append(&mut self, mut other: SeriesPage<T>) {
        self.steps.append(&mut other.steps);
        self.values.append(&mut other.values);
        self.timestamps.append(&mut other.timestamps);
    }
}

/// The storage contract. Implementations validate every operation again (types, paths, steps):
/// a batch's invalid operations are rejected one by one and reported, the rest applied.
pub trait Backend: Send + Sync + 'static {
    /// Where the data lives, for messages (`"/home/me/.neptune"`, `"memory"`).
    fn location(&self) -> String;

    /// Creates or resumes an object. Fails with `ObjectNotFound` for an unknown `with_id`.
    fn open_object(&self, req: &OpenRequest) -> Result<ObjectInfo>;

    /// Applies a batch of operations to an object in one transaction, in order.
    /// `Err` means nothing of the batch was applied (the caller may retry it).
    fn execute(&self, object: &str, ops: &[Operation]) -> Result<Vec<Rejected>>;

    /// Every field of the object with its type.
    fn fetch_structure(&self, object: &str) -> Result<Vec<(FieldPath, FieldType)>>;

    /// The value of a single-value field (Float … RunState, GitRef, Artifact hash);
    /// `None` when the path holds no field.
    fn fetch_value(&self, object: &str, path: &FieldPath) -> Result<Option<Value>>;

    /// Every single-value field at or below `prefix` (the whole object for `None`).
    fn fetch_values_below(
        &self,
        object: &str,
        prefix: Option<&FieldPath>,
    ) -> Result<Vec<(FieldPath, Value)>>;

    /// Summary of a series field; `None` when the path holds no field.
    fn fetch_series_info(&self, object: &str, path: &FieldPath) -> Result<Option<SeriesInfo>>;

    /// Points of a FloatSeries with step greater than `after_step`, at most `limit`, in step order.
    fn fetch_float_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<f64>>;

    /// Entries of a StringSeries with step greater than `after_step`, at most `limit`.
    fn fetch_string_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<String>>;

    /// Ids of the objects of a kind in a project, oldest first.
    fn list_objects(&self, project: &str, kind: ObjectKind) -> Result<Vec<String>>;

    /// The table of the objects in `scope` that `query` selects (filters, sort, limit,
    /// columns and cells as the reference's `fetch_runs_table(...).to_pandas()`).
    fn fetch_table(
        &self,
        scope: &crate::TableScope,
        query: &crate::TableQuery,
    ) -> Result<crate::Table>;

    // ---- files ----------------------------------------------------------------------------

    /// Streams `content` into the content-addressed file area and returns its reference
    /// (SHA-256 digest, size, and the given `extension`). Content is stored once however many
    /// fields or objects log it; it never sits whole in memory on the way (except in memory
    /// backends), and no partial content is ever visible under a digest. Operations that
    /// refer to the content ([`Operation::UploadFile`], `UploadFileSet`, `LogImages`) are sent
    /// after it.
    fn put_file(&self, content: &mut dyn std::io::Read, extension: &str) -> Result<FileRef>;

    /// Whether the file area holds the content with this digest.
    fn has_file(&self, digest: &str) -> Result<bool>;

    /// Opens the content with this digest for reading (streamed).
    fn open_file(&self, digest: &str) -> Result<Box<dyn std::io::Read + Send>>;

    /// The file of a File field; `None` when the path holds no File.
    fn file_ref(&self, object: &str, path: &FieldPath) -> Result<Option<FileRef>>;

    /// The entries of a FileSet field, sorted by path (empty when the field is missing).
    fn fileset_entries(&self, object: &str, path: &FieldPath) -> Result<Vec<FileSetEntry>>;

    /// The entries of a FileSeries field, in step order (empty when the field is missing).
    fn file_points(&self, object: &str, path: &FieldPath) -> Result<Vec<FilePoint>>;

    /// The files of an Artifact field, sorted by path (empty when the field is missing).
    fn artifact_files(&self, object: &str, path: &FieldPath) -> Result<Vec<ArtifactFile>>;

    // ---- backends that forward writes (the HTTP backend's durable queue) -------------------

    /// Waits until every batch `execute` accepted has reached where this backend forwards it
    /// (the server, for the HTTP backend's queue on disk) and returns the operations refused
    /// there since the last call. Backends that store during `execute` return at once.
    fn wait_acknowledged(&self) -> Result<Vec<Rejected>> {
        Ok(Vec::new())
    }

    /// Called when the object begins to stop, before its last `execute`: a backend whose writes
    /// may wait (for room on a full disk) stops waiting at `deadline` and reports what it did
    /// not keep, so that `stop()` keeps to its timeout.
    fn stopping(&self, deadline: std::time::Instant) {
        let _ = deadline;
    }

    /// Called once when the object stops, after its last `execute`: waits at most until
    /// `deadline` for the forwarding to finish, then releases what the backend holds for the
    /// object. `Err` says what is left and how to send it (`neptune sync`).
    fn close(&self, deadline: std::time::Instant) -> Result<Vec<Rejected>> {
        let _ = deadline;
        Ok(Vec::new())
    }
}
