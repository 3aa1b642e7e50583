//! The background worker: one thread per object that drains the queue into the backend.
//!
//! Data and control travel apart: data through the [`Queue`], control (flush, stop) as
//! requests with a reply on a channel of their own. The worker writes on every tick of the flush
//! interval, when a buffer fills, and when asked; a batch is one call of `Writer::execute`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{select, Receiver, Sender};

use crate::backend::Backend;
use crate::engine::queue::{merge, Queue};
use crate::error::{Error, Result};
use crate::model::operation::Operation;

/// Most operations in one backend call.
const MAX_BATCH_OPS: usize = 1000;
/// Most series values in one backend call (one op may exceed it alone).
const MAX_BATCH_VALUES: usize = 200_000;
/// Attempts of a batch whose backend call fails as a whole.
const ATTEMPTS: u32 = 5;

/// Failures printed on stderr at most, per object, when no tracing subscriber is installed.
const MAX_PRINTED: usize = 20;

/// Writes that were not kept.
#[derive(Default)]
struct Failures {
    /// Since the last report by `wait()`.
    count: usize,
    first: Option<String>,
    /// Since the object opened.
    total: usize,
    first_ever: Option<String>,
}

/// What the object and its worker share.
pub(crate) struct Shared {
    pub queue: Queue,
    pub backend: Backend,
    pub object_id: String,
    /// Whether every call waits for its write (failures then reach the caller at once).
    sync_mode: bool,
    failures: Mutex<Failures>,
    /// Operations not written since the object opened (read without the lock).
    failed_total: AtomicU64,
    pub values_written: AtomicU64,
}

/// Whether diagnostics would go nowhere: no tracing subscriber for this thread, and none global.
pub(crate) fn no_subscriber() -> bool {
    tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>())
}

impl Shared {
    pub(crate) fn new(queue: Queue, backend: Backend, object_id: String, sync_mode: bool) -> Self {
        Shared {
            queue,
            backend,
            object_id,
            sync_mode,
            failures: Mutex::new(Failures::default()),
            failed_total: AtomicU64::new(0),
            values_written: AtomicU64::new(0),
        }
    }

    /// Records `count` operations that were not written, and says so now: a tracing warning,
    /// and on stderr when no subscriber would show it (in async mode, where no call returns
    /// the error until `wait()` or `stop()`).
    fn fail(&self, count: usize, reason: String) {
        tracing::warn!(object = %self.object_id, "{reason}");
        let total = {
            let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            f.count += count;
            f.first.get_or_insert_with(|| reason.clone());
            f.total += count;
            f.first_ever.get_or_insert_with(|| reason.clone());
            f.total
        };
        let before = total - count;
        if !self.sync_mode && before < MAX_PRINTED && no_subscriber() {
            eprintln!(
                "neptune: {}: {reason} ({total} operation(s) not written so far)",
                self.object_id
            );
            if before + count >= MAX_PRINTED {
                eprintln!(
                    "neptune: {}: further failures are counted, not printed; \
                     failures(), wait() and stop() report them",
                    self.object_id
                );
            }
        }
        // Counted after it was said: whoever sees the count can rely on the message.
        self.failed_total.fetch_add(count as u64, Ordering::Release);
    }

    /// Operations not written since the object opened.
    pub(crate) fn failed_total(&self) -> u64 {
        self.failed_total.load(Ordering::Acquire)
    }

    fn error(&self, count: usize, first: Option<String>) -> Result<()> {
        match (count, first) {
            (0, _) => Ok(()),
            (count, first) if self.sync_mode => Err(Error::NotWritten {
                count,
                first: first.unwrap_or_default(),
            }),
            (count, first) => Err(Error::Background {
                count,
                first: first.unwrap_or_default(),
            }),
        }
    }

    /// The failures since the last call, as one error.
    pub(crate) fn take_failures(&self) -> Result<()> {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let count = std::mem::take(&mut f.count);
        let first = f.first.take();
        drop(f);
        self.error(count, first)
    }

    /// Every failure since the object opened, as one error (for `stop()`: anything lost is
    /// reported there, whether or not a `wait()` reported it before).
    pub(crate) fn all_failures(&self) -> Result<()> {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        f.count = 0;
        f.first = None;
        let (count, first) = (f.total, f.first_ever.clone());
        drop(f);
        self.error(count, first)
    }

    /// Drains the queue and writes everything to the backend. Returns the values written.
    pub(crate) fn write_pending(&self) -> usize {
        let ops = merge(self.queue.take_all());
        let mut written = 0;
        for batch in batches(ops) {
            written += batch.iter().map(Operation::weight).sum::<usize>();
            self.execute(&batch);
        }
        self.values_written
            .fetch_add(written as u64, Ordering::Relaxed);
        written
    }

    /// Records what a forwarding backend reported: refused operations, or why it failed.
    fn record(&self, r: Result<Vec<crate::backend::Rejected>>) {
        match r {
            Ok(rejected) => {
                for r in rejected {
                    self.fail(1, format!("\"{}\" was not written: {}", r.path, r.reason));
                }
            }
            Err(e) => self.fail(1, e.to_string()),
        }
    }

    fn execute(&self, batch: &[Operation]) {
        let mut delay = Duration::from_millis(50);
        for attempt in 1..=ATTEMPTS {
            match self.backend.writer().execute(&self.object_id, batch) {
                Ok(rejected) => {
                    self.record(Ok(rejected));
                    return;
                }
                Err(e) if attempt == ATTEMPTS => {
                    self.fail(
                        batch.len(),
                        format!(
                            "a batch of {} operation(s) could not be written to {} after \
                             {ATTEMPTS} attempts: {e}",
                            batch.len(),
                            self.backend.writer().location()
                        ),
                    );
                }
                Err(e) => {
                    tracing::debug!(attempt, "write failed, retrying: {e}");
                    std::thread::sleep(delay);
                    delay *= 2;
                }
            }
        }
    }
}

/// Splits operations into backend calls of bounded size, keeping their order.
fn batches(ops: Vec<Operation>) -> Vec<Vec<Operation>> {
    let mut out = Vec::new();
    let mut cur: Vec<Operation> = Vec::new();
    let mut values = 0;
    for op in ops {
        let w = op.weight();
        if !cur.is_empty() && (cur.len() >= MAX_BATCH_OPS || values + w > MAX_BATCH_VALUES) {
            out.push(std::mem::take(&mut cur));
            values = 0;
        }
        values += w;
        cur.push(op);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

enum Control {
    Flush(Sender<()>),
    /// Flush, then wait until a forwarding backend's destination acknowledged everything.
    Wait(Sender<()>),
    /// Flush, close the backend (waiting at most until the deadline), end the thread; the
    /// reply carries what the backend's close said is left.
    Stop(Sender<Result<()>>, Instant),
}

/// Handle to the worker thread of one object.
pub(crate) struct Worker {
    ctrl: Sender<Control>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Worker {
    pub(crate) fn spawn(
        shared: Arc<Shared>,
        wake: Receiver<()>,
        interval: Duration,
    ) -> Result<Worker> {
        let (ctrl, ctrl_rx) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name(format!("neptune-{}", shared.object_id))
            .spawn(move || run(&shared, &ctrl_rx, &wake, interval))
            .map_err(|e| Error::io("starting the background worker thread", e))?;
        Ok(Worker {
            ctrl,
            thread: Mutex::new(Some(thread)),
        })
    }

    fn request<T>(
        &self,
        msg: Control,
        rx: Receiver<T>,
        timeout: Option<Duration>,
    ) -> Result<Option<T>> {
        self.ctrl
            .send(msg)
            .map_err(|_| Error::Worker("the worker has stopped".into()))?;
        match timeout {
            None => rx
                .recv()
                .map(Some)
                .map_err(|_| Error::Worker("the worker ended without answering".into())),
            Some(t) => match rx.recv_timeout(t) {
                Ok(v) => Ok(Some(v)),
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => Ok(None),
                Err(_) => Err(Error::Worker("the worker ended without answering".into())),
            },
        }
    }

    /// Writes everything queued before the call; `Ok(false)` when `timeout` passed first.
    pub(crate) fn flush(&self, timeout: Option<Duration>) -> Result<bool> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        Ok(self.request(Control::Flush(tx), rx, timeout)?.is_some())
    }

    /// Writes everything queued before the call and waits until the backend's destination
    /// acknowledged it (a server behind the HTTP backend's queue); refusals are recorded.
    pub(crate) fn wait_acknowledged(&self) -> Result<()> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.request(Control::Wait(tx), rx, None).map(|_| ())
    }

    /// Writes what is queued and ends the thread, waiting at most `timeout`.
    pub(crate) fn stop(&self, timeout: Duration) -> Result<bool> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let deadline = Instant::now() + timeout;
        // The backend's close keeps to the deadline; a little more for the reply itself.
        let reply = self.request(
            Control::Stop(tx, deadline),
            rx,
            Some(timeout + Duration::from_secs(1)),
        )?;
        let Some(outcome) = reply else {
            return Ok(false);
        };
        if let Some(t) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = t.join();
        }
        outcome.map(|()| true)
    }
}

fn run(shared: &Shared, ctrl: &Receiver<Control>, wake: &Receiver<()>, interval: Duration) {
    let mut next_tick = Instant::now() + interval;
    loop {
        let msg = select! {
            recv(ctrl) -> m => Some(m.unwrap_or_else(|_| {
                let (tx, _) = crossbeam_channel::bounded(1);
                Control::Stop(tx, Instant::now() + crate::config::DEFAULT_STOP_TIMEOUT)
            })),
            recv(wake) -> _ => None,
            default(next_tick.saturating_duration_since(Instant::now())) => None,
        };
        shared.write_pending();
        next_tick = Instant::now() + interval;
        match msg {
            Some(Control::Flush(reply)) => {
                let _ = reply.send(());
            }
            Some(Control::Wait(reply)) => {
                shared.record(shared.backend.writer().wait_acknowledged());
                let _ = reply.send(());
            }
            Some(Control::Stop(reply, deadline)) => {
                let outcome = match shared.backend.writer().close(deadline) {
                    Ok(rejected) => {
                        shared.record(Ok(rejected));
                        Ok(())
                    }
                    Err(e) => Err(e),
                };
                let _ = reply.send(outcome);
                return;
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::operation::FloatPoint;
    use crate::FieldPath;

    #[test]
    fn batches_are_bounded_and_ordered() {
        let path = FieldPath::parse("a").unwrap();
        let mut ops: Vec<Operation> = (0..2500)
            .map(|i| Operation::AssignInt {
                path: path.clone(),
                value: i,
            })
            .collect();
        ops.push(Operation::LogFloats {
            path: path.clone(),
            points: vec![
                FloatPoint {
                    step: Some(0.0),
                    value: 0.0,
                    timestamp_ms: 0
                };
                MAX_BATCH_VALUES + 5
            ],
        });
        let b = batches(ops);
        assert_eq!(
            b.iter().map(Vec::len).collect::<Vec<_>>(),
            [1000, 1000, 500, 1]
        );
        assert!(matches!(b[0][0], Operation::AssignInt { value: 0, .. }));
    }
}
