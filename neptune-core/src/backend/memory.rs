//! The memory backend: an in-memory [`Store`] that also records every operation it is given.
//!
//! Used by debug mode and by tests that assert the exact operation stream of a handle.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Backend, ObjectInfo, ObjectKind, OpenRequest, Rejected, SeriesInfo, SeriesPage};
use crate::error::Result;
use crate::model::operation::{ArtifactFile, FilePoint, FileRef, FileSetEntry, Operation};
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};
use crate::store::Store;

/// An in-memory store plus a recorder of every operation passed to [`Backend::execute`],
/// per object, in order (rejected ones included).
///
/// ```
/// use neptune_core::{Backend, FieldPath, MemoryBackend, ObjectKind, OpenRequest, Operation};
/// let b = MemoryBackend::new();
/// let run = b.open_object(&OpenRequest {
///     kind: ObjectKind::Run, project: "p".into(), with_id: None,
///     custom_run_id: None, model: None, owner: "me".into(), read_only: false,
/// }).unwrap();
/// let op = Operation::AssignInt { path: FieldPath::parse("epochs").unwrap(), value: 3 };
/// b.execute(&run.id, &[op.clone()]).unwrap();
/// assert_eq!(b.operations(&run.id), vec![op]);
/// ```
#[derive(Debug)]
pub struct MemoryBackend {
    store: Store,
    recorded: Mutex<HashMap<String, Vec<Operation>>>,
}

impl MemoryBackend {
    /// A new, empty memory backend.
    ///
    /// # Panics
    /// Only if SQLite cannot open an in-memory database (out of memory).
    pub fn new() -> Self {
        let store = Store::in_memory().expect("SQLite could not open an in-memory database");
        MemoryBackend {
            store,
            recorded: Mutex::new(HashMap::new()),
        }
    }

    /// Every operation given to `execute` for `object`, in order.
    pub fn operations(&self, object: &str) -> Vec<Operation> {
        self.lock().get(object).cloned().unwrap_or_default()
    }

    /// Forgets the recorded operations (the stored data stays).
    pub fn clear_operations(&self) {
        self.lock().clear();
    }

    /// The store underneath, for reads that the trait does not offer.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Operation>>> {
        self.recorded.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for MemoryBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl Backend for MemoryBackend {
    fn location(&self) -> String {
        self.store.location()
    }

    fn open_object(&self, req: &OpenRequest) -> Result<ObjectInfo> {
        self.store.open_object(req)
    }

    fn execute(&self, object: &str, ops: &[Operation]) -> Result<Vec<Rejected>> {
        self.lock()
            .entry(object.to_owned())
            .or_default()
            .extend_from_slice(ops);
        self.store.execute(object, ops)
    }

    fn fetch_structure(&self, object: &str) -> Result<Vec<(FieldPath, FieldType)>> {
        self.store.fetch_structure(object)
    }

    fn fetch_value(&self, object: &str, path: &FieldPath) -> Result<Option<Value>> {
        self.store.fetch_value(object, path)
    }

    fn fetch_values_below(
        &self,
        object: &str,
        prefix: Option<&FieldPath>,
    ) -> Result<Vec<(FieldPath, Value)>> {
        self.store.fetch_values_below(object, prefix)
    }

    fn fetch_series_info(&self, object: &str, path: &FieldPath) -> Result<Option<SeriesInfo>> {
        self.store.fetch_series_info(object, path)
    }

    fn fetch_float_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<f64>> {
        self.store
            .fetch_float_points(object, path, after_step, limit)
    }

    fn fetch_string_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<String>> {
        self.store
            .fetch_string_points(object, path, after_step, limit)
    }

    fn list_objects(&self, project: &str, kind: ObjectKind) -> Result<Vec<String>> {
        self.store.list_objects(project, kind)
    }

    fn fetch_table(
        &self,
        scope: &crate::TableScope,
        q: &crate::TableQuery,
    ) -> Result<crate::Table> {
        self.store.fetch_table(scope, q)
    }

    fn put_file(&self, content: &mut dyn std::io::Read, extension: &str) -> Result<FileRef> {
        self.store.put_file(content, extension)
    }

    fn has_file(&self, digest: &str) -> Result<bool> {
        self.store.has_file(digest)
    }

    fn open_file(&self, digest: &str) -> Result<Box<dyn std::io::Read + Send>> {
        self.store.open_file(digest)
    }

    fn file_ref(&self, object: &str, path: &FieldPath) -> Result<Option<FileRef>> {
        self.store.file_ref(object, path)
    }

    fn fileset_entries(&self, object: &str, path: &FieldPath) -> Result<Vec<FileSetEntry>> {
        self.store.fileset_entries(object, path)
    }

    fn file_points(&self, object: &str, path: &FieldPath) -> Result<Vec<FilePoint>> {
        self.store.file_points(object, path)
    }

    fn artifact_files(&self, object: &str, path: &FieldPath) -> Result<Vec<ArtifactFile>> {
        self.store.artifact_files(object, path)
    }
}
