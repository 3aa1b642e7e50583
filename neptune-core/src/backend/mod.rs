//! Backends: where operations go and where fetches come from.
//!
//! Two traits: a [`Writer`] (open objects, execute batches, put files, flush, close) and a
//! [`Reader`] (fields, series pages, tables, files). Objects, handles and the worker hold a
//! [`Backend`]: one writer and one reader. The embedded [`Store`](crate::store::Store) (SQLite)
//! is both; the [`MemoryBackend`] (debug mode and tests) is a writer that records every
//! operation and passes it on to a store, which is the reader; with the `http` feature a run
//! writes through the disk queue (`http::QueuedBackend`) and reads from the server
//! (`http::HttpBackend`). Every method takes the object's `sys/id`.

#[cfg(feature = "http")]
pub mod http;
pub(crate) mod http_choice;
mod memory;
mod traits;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};

pub use memory::MemoryBackend;
pub use traits::{Reader, Writer};

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

/// The backend of an object: where its writes go and where its reads come from.
///
/// Cheap to clone (two `Arc`s). [`Backend::read`] is the way to read what the object wrote:
/// it lets the writer make its accepted writes readable first ([`Writer::settle`]).
#[derive(Clone)]
pub struct Backend {
    writer: Arc<dyn Writer>,
    reader: Arc<dyn Reader>,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("location", &self.writer.location())
            .finish()
    }
}

impl Backend {
    /// Writes go to `writer`, reads come from `reader`.
    pub fn new(writer: Arc<dyn Writer>, reader: Arc<dyn Reader>) -> Backend {
        Backend { writer, reader }
    }

    /// One value that is both the writer and the reader (the embedded store).
    pub fn of<T: Writer + Reader>(both: Arc<T>) -> Backend {
        Backend {
            writer: both.clone(),
            reader: both,
        }
    }

    /// The write side.
    pub fn writer(&self) -> &dyn Writer {
        &*self.writer
    }

    /// The read side as it is, without waiting for this process's writes to be readable (for
    /// reads of other objects, and tools that only read).
    pub fn reader(&self) -> &dyn Reader {
        &*self.reader
    }

    /// The read side, once the writes accepted so far are readable ([`Writer::settle`]).
    pub fn read(&self) -> Result<&dyn Reader> {
        self.writer.settle()?;
        Ok(&*self.reader)
    }

    /// Whether the content with this digest can be read: written by this process and not yet
    /// forwarded ([`Writer::pending_file`]), or in the reader's file area.
    pub fn has_file(&self, digest: &str) -> Result<bool> {
        if self.writer.pending_file(digest).is_some() {
            return Ok(true);
        }
        self.writer.reachable()?;
        self.reader.has_file(digest)
    }

    /// Opens the content with this digest: from the writer while it is not yet forwarded,
    /// else from the reader once the writes are readable.
    pub fn open_file(&self, digest: &str) -> Result<Box<dyn std::io::Read + Send>> {
        if let Some(f) = self.writer.pending_file(digest) {
            return Ok(f);
        }
        self.read()?.open_file(digest)
    }

    /// The ids of the objects of a kind in a project, oldest first.
    pub fn list_objects(&self, project: &str, kind: ObjectKind) -> Result<Vec<String>> {
        self.writer.reachable()?;
        self.reader.list_objects(project, kind)
    }
}

impl<T: Writer + Reader> From<Arc<T>> for Backend {
    fn from(both: Arc<T>) -> Backend {
        Backend::of(both)
    }
}

impl From<Arc<MemoryBackend>> for Backend {
    fn from(m: Arc<MemoryBackend>) -> Backend {
        m.backend()
    }
}
