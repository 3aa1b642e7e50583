//! Backends: where operations go and where fetches come from.
//!
//! One trait, implemented by the embedded [`Store`](crate::store::Store) (SQLite), the
//! [`MemoryBackend`] (debug mode and tests; records every operation) and, later, the HTTP client
//! of `neptune-server`. Every method takes the object's `sys/id`.

mod memory;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::operation::Operation;
use crate::path::FieldPath;
use crate::types::{FieldType, Value};

pub use memory::MemoryBackend;

/// The kinds of objects that hold fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ObjectKind {
    Run,
    Model,
    ModelVersion,
    Project,
}

impl ObjectKind {
    /// Lowercase name for messages and storage: "run", "model", "model version", "project".
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Run => "run",
            ObjectKind::Model => "model",
            ObjectKind::ModelVersion => "model version",
            ObjectKind::Project => "project",
        }
    }

    /// Parses a name given by [`ObjectKind::name`].
    pub fn from_name(s: &str) -> Option<ObjectKind> {
        [
            ObjectKind::Run,
            ObjectKind::Model,
            ObjectKind::ModelVersion,
            ObjectKind::Project,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to open: a new object, an existing one (`with_id`), or a shared run (`custom_run_id`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest {
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
    pub kind: ObjectKind,
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
    pub field_type: FieldType,
    pub count: u64,
    #[serde(with = "crate::operation::float::option")]
    pub last_step: Option<f64>,
    /// The last value, as a Value::Float or Value::String (None when empty or for files).
    pub last: Option<Value>,
}

/// One page of a series, as columns, in step order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesPage<T> {
    pub steps: Vec<f64>,
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
}
