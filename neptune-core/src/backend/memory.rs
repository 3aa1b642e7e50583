//! The memory backend: a [`Writer`] that records every operation it is given and passes it on
//! to another writer (by default an in-memory [`Store`], which is also the reader).
//!
//! Used by debug mode and by tests that assert the exact operation stream of a handle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Backend, ObjectInfo, OpenRequest, Reader, Rejected, Writer};
use crate::error::Result;
use crate::model::operation::{FileRef, Operation};
use crate::store::Store;

/// A recorder of every operation passed to [`Writer::execute`], per object, in order
/// (rejected ones included), in front of the writer that stores them.
///
/// ```
/// use neptune_core::{FieldPath, MemoryBackend, ObjectKind, OpenRequest, Operation, Writer};
/// let b = MemoryBackend::new();
/// let run = b.open_object(&OpenRequest {
///     kind: ObjectKind::Run, project: "p".into(), with_id: None,
///     custom_run_id: None, model: None, owner: "me".into(), read_only: false,
/// }).unwrap();
/// let op = Operation::AssignInt { path: FieldPath::parse("epochs").unwrap(), value: 3 };
/// b.execute(&run.id, &[op.clone()]).unwrap();
/// assert_eq!(b.operations(&run.id), vec![op]);
/// ```
pub struct MemoryBackend {
    writer: Arc<dyn Writer>,
    reader: Arc<dyn Reader>,
    store: Option<Arc<Store>>,
    recorded: Mutex<HashMap<String, Vec<Operation>>>,
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend")
            .field("location", &self.writer.location())
            .finish()
    }
}

impl MemoryBackend {
    /// A recorder in front of a new, empty in-memory store.
    ///
    /// # Panics
    /// Only if SQLite cannot open an in-memory database (out of memory).
    pub fn new() -> Self {
        let store =
            Arc::new(Store::in_memory().expect("SQLite could not open an in-memory database"));
        MemoryBackend {
            writer: store.clone(),
            reader: store.clone(),
            store: Some(store),
            recorded: Mutex::new(HashMap::new()),
        }
    }

    /// A recorder in front of `writer`, whose writes `reader` reads.
    pub fn recording(writer: Arc<dyn Writer>, reader: Arc<dyn Reader>) -> Self {
        MemoryBackend {
            writer,
            reader,
            store: None,
            recorded: Mutex::new(HashMap::new()),
        }
    }

    /// The backend of objects that write through this recorder.
    pub fn backend(self: &Arc<Self>) -> Backend {
        Backend::new(self.clone(), self.reader.clone())
    }

    /// Every operation given to `execute` for `object`, in order.
    pub fn operations(&self, object: &str) -> Vec<Operation> {
        self.lock().get(object).cloned().unwrap_or_default()
    }

    /// Forgets the recorded operations (the stored data stays).
    pub fn clear_operations(&self) {
        self.lock().clear();
    }

    /// The in-memory store underneath, for reads that the [`Reader`] does not offer (`None`
    /// for a recorder made with [`MemoryBackend::recording`]).
    pub fn store(&self) -> Option<&Store> {
        self.store.as_deref()
    }

    /// The reader of what was written.
    pub fn reader(&self) -> &dyn Reader {
        &*self.reader
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

impl Writer for MemoryBackend {
    fn location(&self) -> String {
        self.writer.location()
    }

    fn open_object(&self, req: &OpenRequest) -> Result<ObjectInfo> {
        self.writer.open_object(req)
    }

    fn execute(&self, object: &str, ops: &[Operation]) -> Result<Vec<Rejected>> {
        self.lock()
            .entry(object.to_owned())
            .or_default()
            .extend_from_slice(ops);
        self.writer.execute(object, ops)
    }

    fn put_file(&self, content: &mut dyn std::io::Read, extension: &str) -> Result<FileRef> {
        self.writer.put_file(content, extension)
    }

    fn wait_acknowledged(&self) -> Result<Vec<Rejected>> {
        self.writer.wait_acknowledged()
    }

    fn stopping(&self, deadline: std::time::Instant) {
        self.writer.stopping(deadline)
    }

    fn close(&self, deadline: std::time::Instant) -> Result<Vec<Rejected>> {
        self.writer.close(deadline)
    }

    fn settle(&self) -> Result<()> {
        self.writer.settle()
    }

    fn reachable(&self) -> Result<()> {
        self.writer.reachable()
    }

    fn pending_file(&self, digest: &str) -> Option<Box<dyn std::io::Read + Send>> {
        self.writer.pending_file(digest)
    }
}
