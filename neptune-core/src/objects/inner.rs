//! An open object (run, model, model version or project): its schema, queue and worker.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::backend::{Backend, ObjectInfo, ObjectKind};
use crate::config::Mode;
use crate::engine::queue::{Drain, Point, Queue, SeriesBuffer};
use crate::engine::worker::{Shared, Worker};
use crate::error::{Error, Result};
use crate::model::operation::{FilePoint, FloatPoint, Operation, StringPoint};
use crate::model::path::FieldPath;
use crate::model::rules::{sys, truncate_chars};
use crate::model::structure::{Schema, Structure};
use crate::model::types::{FieldType, RunState, Value};

/// Series buffers by path, whatever their point type.
#[derive(Clone)]
#[doc(hidden)]
pub enum AnyBuffer {
    Float(Arc<SeriesBuffer<FloatPoint>>),
    String(Arc<SeriesBuffer<StringPoint>>),
    File(Arc<SeriesBuffer<FilePoint>>),
}

/// Gives the typed buffer of a series type.
#[doc(hidden)]
pub trait SeriesKind: Point + Sized {
    const TYPE: FieldType;
    fn wrap(b: Arc<SeriesBuffer<Self>>) -> AnyBuffer;
    fn unwrap(b: &AnyBuffer) -> Option<Arc<SeriesBuffer<Self>>>;
}

macro_rules! series_kind {
    ($point:ty, $variant:ident, $ty:ident) => {
        impl SeriesKind for $point {
            const TYPE: FieldType = FieldType::$ty;
            fn wrap(b: Arc<SeriesBuffer<Self>>) -> AnyBuffer {
                AnyBuffer::$variant(b)
            }
            fn unwrap(b: &AnyBuffer) -> Option<Arc<SeriesBuffer<Self>>> {
                match b {
                    AnyBuffer::$variant(b) => Some(b.clone()),
                    _ => None,
                }
            }
        }
    };
}
series_kind!(FloatPoint, Float, FloatSeries);
series_kind!(StringPoint, String, StringSeries);
series_kind!(FilePoint, File, FileSeries);

#[doc(hidden)]
pub struct ObjectInner {
    pub(crate) id: String,
    pub(crate) kind: ObjectKind,
    pub(crate) project: String,
    pub(crate) mode: Mode,
    pub(crate) shared: Arc<Shared>,
    schema: Mutex<Schema>,
    series: Mutex<HashMap<FieldPath, AnyBuffer>>,
    worker: Option<Worker>,
    /// Set once writes are refused: read-only mode, or after `stop()`.
    closed: AtomicBool,
    stopped: AtomicBool,
    stop_timeout: Duration,
    warned: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ObjectInner {
    pub(crate) fn start(
        info: ObjectInfo,
        backend: Backend,
        mode: Mode,
        flush_interval: Duration,
        stop_timeout: Duration,
        queue_capacity: usize,
    ) -> Result<ObjectInner> {
        let (queue, wake_rx) = Queue::new(queue_capacity);
        let shared = Arc::new(Shared::new(
            queue,
            backend,
            info.id.clone(),
            mode == Mode::Sync,
        ));
        let worker = match mode {
            Mode::ReadOnly => None,
            _ => Some(Worker::spawn(shared.clone(), wake_rx, flush_interval)?),
        };
        Ok(ObjectInner {
            id: info.id,
            kind: info.kind,
            project: info.project,
            mode,
            shared,
            schema: Mutex::new(Schema::from_fields(info.fields)),
            series: Mutex::new(HashMap::new()),
            worker,
            closed: AtomicBool::new(mode == Mode::ReadOnly),
            stopped: AtomicBool::new(false),
            stop_timeout,
            warned: Mutex::new(HashSet::new()),
        })
    }

    pub(crate) fn backend(&self) -> &Backend {
        &self.shared.backend
    }

    /// Whether writes are refused (cheap; the full reason comes from [`check_writable`]).
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Refuses writes in read-only mode, after stop, and to the store's own `sys/` fields.
    pub(crate) fn check_writable(&self, path: &FieldPath) -> Result<()> {
        if self.mode == Mode::ReadOnly {
            return Err(Error::ReadOnlyMode {
                object: self.id.clone(),
                path: path.to_string(),
            });
        }
        if self.is_closed() {
            return Err(Error::Stopped {
                object: self.id.clone(),
                path: path.to_string(),
            });
        }
        if !sys::user_may_write(path.as_str()) {
            return Err(Error::ReadOnlyField {
                path: path.to_string(),
            });
        }
        Ok(())
    }

    pub(crate) fn schema(&self) -> MutexGuard<'_, Schema> {
        lock(&self.schema)
    }

    /// Checks and queues operations: all are accepted or none is.
    pub(crate) fn write(
        &self,
        ops: Vec<Operation>,
        attempted: &'static str,
        wait: bool,
    ) -> Result<()> {
        for op in &ops {
            self.check_writable(op.path())?;
        }
        {
            let mut schema = self.schema();
            let typed: Vec<(&FieldPath, FieldType)> = ops
                .iter()
                .filter_map(|op| op.field_type().map(|t| (op.path(), t)))
                .collect();
            schema.register_all(typed, attempted)?;
        }
        self.shared.queue.submit(ops);
        self.after_write(wait)
    }

    /// In sync mode, or when asked, waits until the write is stored.
    #[inline]
    pub(crate) fn after_write(&self, wait: bool) -> Result<()> {
        if wait || self.mode == Mode::Sync {
            self.wait()
        } else {
            Ok(())
        }
    }

    /// Queues an operation of the library's own, bypassing the user rules.
    pub(crate) fn write_internal(&self, op: Operation) {
        if let Some(t) = op.field_type() {
            let _ = self.schema().register(op.path(), t, "write");
        }
        self.shared.queue.submit([op]);
    }

    /// The buffer of the series at `path`, created on first use; checks the type.
    pub(crate) fn series<P: SeriesKind>(
        &self,
        path: &FieldPath,
        attempted: &'static str,
    ) -> Result<Arc<SeriesBuffer<P>>> {
        // Fast path: a series already written to is in the schema with this type for as long
        // as its buffer says so (pop resets it).
        let known = lock(&self.series).get(path).and_then(P::unwrap);
        if let Some(b) = known {
            if b.lock().registered {
                return Ok(b);
            }
        }
        let existing = {
            let schema = self.schema();
            schema.check(path, P::TYPE, attempted)?;
            schema.type_of(path.as_str())
        };
        if let Some(b) = lock(&self.series).get(path) {
            return P::unwrap(b).ok_or_else(|| Error::TypeMismatch {
                path: path.to_string(),
                existing: existing.unwrap_or(P::TYPE),
                wanted: P::TYPE,
                attempted,
            });
        }
        let last_step = match existing {
            Some(_) => self
                .backend()
                .read()?
                .fetch_series_info(&self.id, path)?
                .and_then(|i| i.last_step),
            None => None,
        };
        let mut map = lock(&self.series);
        if let Some(b) = map.get(path) {
            return P::unwrap(b).ok_or_else(|| Error::Worker("series buffer type changed".into()));
        }
        let buf = Arc::new(SeriesBuffer::<P>::new(path.clone(), last_step));
        map.insert(path.clone(), P::wrap(buf.clone()));
        drop(map);
        self.shared.queue.add_buffer(buf.clone() as Arc<dyn Drain>);
        Ok(buf)
    }

    /// Records a series in the schema at its first append.
    pub(crate) fn register_series(
        &self,
        path: &FieldPath,
        t: FieldType,
        attempted: &'static str,
    ) -> Result<()> {
        self.check_writable(path)?;
        self.schema().register(path, t, attempted).map(|_| ())
    }

    /// Logs one warning per field for a value cut to `limit` characters.
    pub(crate) fn truncate(
        &self,
        path: &FieldPath,
        mut s: String,
        limit: usize,
        what: &str,
    ) -> String {
        let cut = truncate_chars(&s, limit).len();
        if cut < s.len() {
            s.truncate(cut);
            if lock(&self.warned).insert(path.to_string()) {
                tracing::warn!(
                    path = %path,
                    "{what} longer than {limit} characters were truncated to {limit} (warned once per field)"
                );
            }
        }
        s
    }

    /// Waits until everything queued so far is stored; reports background failures.
    pub(crate) fn wait(&self) -> Result<()> {
        if let Some(w) = &self.worker {
            if !self.stopped.load(Ordering::Acquire) {
                w.wait_acknowledged()?;
            }
        }
        self.shared.take_failures()
    }

    /// Before a read: makes this process's own writes visible.
    pub(crate) fn flush_for_read(&self) -> Result<()> {
        match &self.worker {
            Some(w) if !self.stopped.load(Ordering::Acquire) => w.flush(None).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// Reloads the schema from the backend (fields written by other processes appear).
    pub(crate) fn sync(&self) -> Result<()> {
        self.flush_for_read()?;
        let fields = self.backend().read()?.fetch_structure(&self.id)?;
        *self.schema() = Schema::from_fields(fields);
        Ok(())
    }

    pub(crate) fn structure(&self, ns: Option<&FieldPath>) -> Structure {
        self.schema().structure(ns.map(FieldPath::as_str))
    }

    /// Deletes the field or namespace at `path`.
    pub(crate) fn pop(&self, path: &FieldPath, wait: bool) -> Result<()> {
        self.check_writable(path)?;
        let gone = {
            let mut schema = self.schema();
            if schema.type_of(path.as_str()).is_none() && !schema.is_namespace(path.as_str()) {
                return Err(Error::MissingField {
                    object: self.id.clone(),
                    path: path.to_string(),
                });
            }
            if sys::is_system(path.as_str()) {
                return Err(Error::ReadOnlyField {
                    path: path.to_string(),
                });
            }
            let gone = schema.remove(path.as_str());
            self.shared
                .queue
                .submit([Operation::DeleteAttribute { path: path.clone() }]);
            gone
        };
        for b in self.shared.queue.buffers_under(path.as_str()) {
            b.reset();
        }
        tracing::trace!(count = gone.len(), "deleted fields");
        self.after_write(wait)
    }

    /// Every single value at or below `ns`, as a nested map (relative to `ns`).
    pub(crate) fn fetch_namespace(&self, ns: Option<&FieldPath>) -> Result<Value> {
        self.flush_for_read()?;
        let items = self.backend().read()?.fetch_values_below(&self.id, ns)?;
        let mut root = BTreeMap::new();
        for (path, value) in items {
            let rel = match ns {
                Some(n) => match path.relative_to(n.as_str()) {
                    Some(r) => r.to_owned(),
                    None => continue,
                },
                None => path.to_string(),
            };
            insert_nested(&mut root, &rel, value);
        }
        Ok(Value::Namespace(root))
    }

    /// Writes what is queued (bounded by the stop timeout), marks the object Inactive, ends the
    /// worker. `Err` when anything this object wrote since it opened was not kept.
    pub(crate) fn stop(&self) -> Result<()> {
        if self.stopped.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        // Before writes are refused: the monitors' last lines are kept.
        crate::monitoring::stop(self);
        self.closed.store(true, Ordering::Release);
        let Some(w) = &self.worker else { return Ok(()) };
        self.write_internal(Operation::AssignRunState {
            path: sys::path(sys::STATE),
            value: RunState::Inactive,
        });
        self.shared
            .backend
            .writer()
            .stopping(std::time::Instant::now() + self.stop_timeout);
        if !w.stop(self.stop_timeout)? {
            return Err(Error::Worker(format!(
                "{} did not finish writing within {:?} ({} values still queued); \
                 they are written if the process keeps running, lost if it exits",
                self.id,
                self.stop_timeout,
                self.shared.queue.pending_values()
            )));
        }
        self.shared.all_failures()
    }
}

fn insert_nested(map: &mut BTreeMap<String, Value>, rel: &str, value: Value) {
    match rel.split_once('/') {
        None => {
            map.insert(rel.to_owned(), value);
        }
        Some((head, rest)) => {
            let entry = map
                .entry(head.to_owned())
                .or_insert_with(|| Value::Namespace(BTreeMap::new()));
            if let Value::Namespace(inner) = entry {
                insert_nested(inner, rest, value);
            }
        }
    }
}

impl ObjectInner {
    /// Sets `sys/failed` (a panic ended the object's work).
    pub(crate) fn mark_failed(&self) {
        self.write_internal(Operation::AssignBool {
            path: sys::path(sys::FAILED),
            value: true,
        });
    }
}

impl Drop for ObjectInner {
    fn drop(&mut self) {
        if self.stopped.load(Ordering::Acquire) || self.worker.is_none() {
            return;
        }
        if std::thread::panicking() {
            self.mark_failed();
        }
        if let Err(e) = self.stop() {
            tracing::warn!(object = %self.id, "stopping on drop: {e}");
            if crate::engine::worker::no_subscriber() {
                eprintln!("neptune: {}: stopping on drop: {e}", self.id);
            }
        }
    }
}
