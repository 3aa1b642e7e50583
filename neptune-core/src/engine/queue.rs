//! The queue between callers and the background worker.
//!
//! Two shapes, for two costs. Series points go into a per-series [`SeriesBuffer`] under its own
//! lock (no allocation, no path lookup, no channel message per append); the worker drains the
//! buffers on its tick, on a wake-up when a buffer fills, and on `wait()`. Every other operation
//! goes into the shared pending list, and before it does, every buffer is drained into that list
//! too, so operations reach the backend in the order they were made.
//!
//! Lock order: `pending` before any buffer. An appender holds only its buffer's lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::model::operation::{FilePoint, FloatPoint, Operation, StringPoint};
use crate::model::path::FieldPath;

/// A point of some series, and how a run of them becomes an operation.
#[doc(hidden)]
pub trait Point: Send + 'static {
    fn into_op(path: FieldPath, points: Vec<Self>) -> Operation
    where
        Self: Sized;
}

impl Point for FloatPoint {
    fn into_op(path: FieldPath, points: Vec<Self>) -> Operation {
        Operation::LogFloats { path, points }
    }
}

impl Point for StringPoint {
    fn into_op(path: FieldPath, points: Vec<Self>) -> Operation {
        Operation::LogStrings { path, points }
    }
}

impl Point for FilePoint {
    fn into_op(path: FieldPath, points: Vec<Self>) -> Operation {
        Operation::LogImages { path, points }
    }
}

/// Points a buffer gathers before it wakes the worker.
pub(crate) const CHUNK: usize = 8192;
/// Points a buffer may hold before an appender waits for the worker (backpressure).
pub(crate) const BUFFER_LIMIT: usize = 16 * CHUNK;

/// State of one series under its lock.
pub(crate) struct SeriesState<P> {
    /// Whether the field is recorded in the object's schema (set by the first append).
    pub registered: bool,
    /// The last step of the series as this writer knows it: what the store had when the buffer
    /// was made, then each explicit step, or the last one + 1 for a point without a step.
    /// Explicit steps are checked against it at the call; the store checks them again against
    /// every writer's points, and assigns the steps that were not given.
    pub last_step: Option<f64>,
    pub points: Vec<P>,
}

/// Points of one series waiting for the worker.
#[doc(hidden)]
pub struct SeriesBuffer<P> {
    pub path: FieldPath,
    state: Mutex<SeriesState<P>>,
    drained: Condvar,
}

impl<P: Point> SeriesBuffer<P> {
    pub(crate) fn new(path: FieldPath, last_step: Option<f64>) -> Self {
        SeriesBuffer {
            path,
            state: Mutex::new(SeriesState {
                registered: false,
                last_step,
                points: Vec::new(),
            }),
            drained: Condvar::new(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SeriesState<P>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After a push under `guard`: wakes the worker at each full chunk, and waits while the
    /// buffer is over its limit.
    pub(crate) fn after_push<'a>(
        &'a self,
        mut guard: MutexGuard<'a, SeriesState<P>>,
        queue: &Queue,
    ) -> MutexGuard<'a, SeriesState<P>> {
        let n = guard.points.len();
        if n.is_multiple_of(CHUNK) {
            queue.wake();
        }
        while guard.points.len() >= BUFFER_LIMIT {
            queue
                .stats
                .backpressure_waits
                .fetch_add(1, Ordering::Relaxed);
            queue.wake();
            guard = match self.drained.wait_timeout(guard, Duration::from_millis(50)) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        guard
    }
}

/// What the worker and `submit` need of any series buffer.
pub(crate) trait Drain: Send + Sync {
    /// Moves the buffered points into `out` as one log operation.
    fn drain_into(&self, out: &mut Vec<Operation>);
    fn path(&self) -> &FieldPath;
    /// Points waiting in the buffer.
    fn len(&self) -> usize;
    /// Forgets the series after its field was deleted: next append starts afresh.
    fn reset(&self);
}

impl<P: Point> Drain for SeriesBuffer<P> {
    fn drain_into(&self, out: &mut Vec<Operation>) {
        let mut g = self.lock();
        if g.points.is_empty() {
            return;
        }
        let points = std::mem::take(&mut g.points);
        drop(g);
        self.drained.notify_all();
        out.push(P::into_op(self.path.clone(), points));
    }

    fn path(&self) -> &FieldPath {
        &self.path
    }

    fn len(&self) -> usize {
        self.lock().points.len()
    }

    fn reset(&self) {
        let mut g = self.lock();
        g.registered = false;
        g.last_step = None;
    }
}

/// Counters a user can read to see what the queue did.
#[derive(Debug, Default)]
pub(crate) struct QueueStats {
    pub backpressure_waits: AtomicU64,
    pub operations_submitted: AtomicU64,
}

struct Pending {
    ops: Vec<Operation>,
    weight: usize,
}

/// The queue of one object: the pending list, the registry of series buffers, the wake signal.
pub(crate) struct Queue {
    pending: Mutex<Pending>,
    space: Condvar,
    buffers: Mutex<Vec<Arc<dyn Drain>>>,
    wake_tx: Sender<()>,
    /// Values the pending list may hold before `submit` waits for the worker.
    capacity: usize,
    pub stats: QueueStats,
}

impl Queue {
    pub(crate) fn new(capacity: usize) -> (Queue, Receiver<()>) {
        let (wake_tx, wake_rx) = crossbeam_channel::bounded(1);
        let q = Queue {
            pending: Mutex::new(Pending {
                ops: Vec::new(),
                weight: 0,
            }),
            space: Condvar::new(),
            buffers: Mutex::new(Vec::new()),
            wake_tx,
            capacity: capacity.max(1),
            stats: QueueStats::default(),
        };
        (q, wake_rx)
    }

    fn lock_pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_buffers(&self) -> MutexGuard<'_, Vec<Arc<dyn Drain>>> {
        self.buffers.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn wake(&self) {
        let _ = self.wake_tx.try_send(());
    }

    pub(crate) fn add_buffer(&self, b: Arc<dyn Drain>) {
        self.lock_buffers().push(b);
    }

    /// Buffers at or below `path`.
    pub(crate) fn buffers_under(&self, path: &str) -> Vec<Arc<dyn Drain>> {
        self.lock_buffers()
            .iter()
            .filter(|b| b.path().as_str() == path || b.path().is_below(path))
            .cloned()
            .collect()
    }

    fn drain_buffers(&self, out: &mut Vec<Operation>) {
        for b in self.lock_buffers().iter() {
            b.drain_into(out);
        }
    }

    /// Queues operations after everything buffered so far; waits while the queue is full.
    pub(crate) fn submit(&self, ops: impl IntoIterator<Item = Operation>) {
        let mut p = self.lock_pending();
        while p.weight >= self.capacity {
            self.stats
                .backpressure_waits
                .fetch_add(1, Ordering::Relaxed);
            self.wake();
            p = match self.space.wait_timeout(p, Duration::from_millis(50)) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        let before = p.ops.len();
        self.drain_buffers(&mut p.ops);
        for op in ops {
            self.stats
                .operations_submitted
                .fetch_add(1, Ordering::Relaxed);
            p.ops.push(op);
        }
        let added: usize = p.ops[before..].iter().map(Operation::weight).sum();
        p.weight += added;
        let full = p.weight >= self.capacity / 2;
        drop(p);
        if full {
            self.wake();
        }
    }

    /// Values waiting for the worker (pending operations and buffered points).
    pub(crate) fn pending_values(&self) -> usize {
        let p = self.lock_pending().weight;
        p + self.lock_buffers().iter().map(|b| b.len()).sum::<usize>()
    }

    /// Everything queued, in order: the pending list, then what the buffers hold.
    pub(crate) fn take_all(&self) -> Vec<Operation> {
        let mut p = self.lock_pending();
        let mut ops = std::mem::take(&mut p.ops);
        p.weight = 0;
        self.drain_buffers(&mut ops);
        drop(p);
        self.space.notify_all();
        ops
    }
}

/// Merges consecutive logs to one series into one operation.
pub(crate) fn merge(ops: Vec<Operation>) -> Vec<Operation> {
    let mut out: Vec<Operation> = Vec::with_capacity(ops.len());
    for op in ops {
        match out.last_mut() {
            Some(last) => {
                if let Some(op) = last.merge(op) {
                    out.push(op);
                }
            }
            None => out.push(op),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FieldPath {
        FieldPath::parse(s).unwrap()
    }

    fn pt(step: f64) -> FloatPoint {
        FloatPoint {
            step: Some(step),
            value: step,
            timestamp_ms: 0,
        }
    }

    #[test]
    fn submit_keeps_order_with_buffered_points() {
        let (q, _rx) = Queue::new(1000);
        let buf = Arc::new(SeriesBuffer::<FloatPoint>::new(p("loss"), None));
        q.add_buffer(buf.clone());
        buf.lock().points.push(pt(0.0));
        q.submit([Operation::ClearFloatLog { path: p("loss") }]);
        buf.lock().points.push(pt(1.0));
        let ops = q.take_all();
        assert_eq!(
            ops,
            vec![
                Operation::LogFloats {
                    path: p("loss"),
                    points: vec![pt(0.0)]
                },
                Operation::ClearFloatLog { path: p("loss") },
                Operation::LogFloats {
                    path: p("loss"),
                    points: vec![pt(1.0)]
                },
            ]
        );
        assert!(q.take_all().is_empty());
    }

    #[test]
    fn merge_joins_neighbours_only() {
        let ops = vec![
            Operation::LogFloats {
                path: p("a"),
                points: vec![pt(0.0)],
            },
            Operation::LogFloats {
                path: p("a"),
                points: vec![pt(1.0)],
            },
            Operation::AssignInt {
                path: p("n"),
                value: 1,
            },
            Operation::LogFloats {
                path: p("a"),
                points: vec![pt(2.0)],
            },
        ];
        let merged = merge(ops);
        assert_eq!(merged.len(), 3);
        assert_eq!(merged[0].weight(), 2);
    }
}
