//! [`QueuedBackend`]: the HTTP backend of a run, behind its durable queue.
//!
//! `execute` and `put_file` write to the queue on disk (fsynced) and return: the network is
//! never on the worker's path, let alone the caller's. An uploader thread sends what the queue
//! holds, in order, one request at a time, and retries connection errors, timeouts, 5xx and 429
//! (after its Retry-After) with capped exponential backoff and jitter for as long as the run
//! lives. `wait_acknowledged` (the object's `wait()`) waits for the server's answer; `close`
//! (its `stop()`) waits a bounded time and leaves the rest on disk for `neptune sync`. On a
//! full disk `execute` waits for room (nothing is dropped) until `stop()` reaches its end
//! (`stopping`); what it could not write then is reported, and counted in `close`'s error.

use std::io::{ErrorKind, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::client::{Fail, HttpBackend};
use super::upload::{Sent, Uploader, MAX_REQUEST_BYTES};
use crate::backend::http::queue_disk::{self, Cursor, DiskQueue, Record};
use crate::backend::{
    Backend, ObjectInfo, ObjectKind, OpenRequest, Rejected, SeriesInfo, SeriesPage,
};
use crate::error::{Error, Result};
use crate::model::operation::{ArtifactFile, FilePoint, FileRef, FileSetEntry, Operation};
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};

/// Largest record the queue writes: bigger batches are split (a log's points in pieces). Under
/// the 1 MiB body limit of common reverse proxies, and small enough for a small disk.
const MAX_RECORD_BYTES: usize = 960 << 10;
/// Longest pause between two attempts to write the queue on a full disk.
const MAX_FULL_PAUSE: Duration = Duration::from_secs(2);
/// Attempts to write the queue on other errors before the batch is reported as not kept.
const WRITE_ATTEMPTS: u32 = 5;
/// Longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long a read waits for earlier writes to reach the server.
const READ_WAIT: Duration = Duration::from_secs(60);

/// Where the run's writes go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueMode {
    /// Uploaded in the background; `wait()` waits for the server.
    Async,
    /// Every call waits for the server (the object's sync mode waits after each write).
    Sync,
    /// Kept on disk only, for `neptune sync`.
    Offline,
}

impl QueueMode {
    fn as_str(self) -> &'static str {
        match self {
            QueueMode::Async => "async",
            QueueMode::Sync => "sync",
            QueueMode::Offline => "offline",
        }
    }
}

/// What the uploader tells the others.
#[derive(Default)]
pub(crate) struct Status {
    /// Operations the server refused, not yet reported.
    pub rejected: Vec<Rejected>,
    /// The server refuses the token: waiting is pointless until that changes.
    pub auth_error: Option<String>,
    /// The queue cannot be read or written.
    pub fatal: Option<String>,
    /// The last transient failure, while the connection is down.
    pub down: Option<String>,
    /// The queue's disk is full: the worker waits for room (and appends, once the buffers
    /// are full, wait for the worker).
    pub disk_full: Option<String>,
    /// When `stop()` ends: writing to a full disk is given up then.
    pub stop_by: Option<Instant>,
    /// Values `execute` could not write to the queue (reported as refused), for `stop()`.
    pub not_kept: u64,
}

pub(crate) struct Shared {
    pub status: Mutex<Status>,
    pub stop: AtomicBool,
}

impl Shared {
    pub(crate) fn new() -> Arc<Shared> {
        Arc::new(Shared {
            status: Mutex::new(Status::default()),
            stop: AtomicBool::new(false),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Capped exponential backoff with jitter.
pub(crate) struct Backoff {
    next: Duration,
    seed: u64,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        Backoff {
            next: Duration::from_millis(100),
            seed,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.next = Duration::from_millis(100);
    }

    /// The pause before the next attempt: half to all of the current step (or the server's
    /// Retry-After), doubling up to [`MAX_BACKOFF`].
    pub(crate) fn pause(&mut self, retry_after: Option<Duration>) -> Duration {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let frac = 0.5 + (self.seed % 1000) as f64 / 2000.0;
        let d = self.next.mul_f64(frac);
        self.next = (self.next * 2).min(MAX_BACKOFF);
        retry_after.map_or(d, |r| r.max(d))
    }
}

/// Sleeps `d`, or less when `stop` is raised.
pub(crate) fn nap(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::Acquire) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// The uploader: sends the queue's records in order until `stop`.
fn upload_loop(http: Arc<HttpBackend>, q: Arc<DiskQueue>, shared: Arc<Shared>, object: String) {
    let (_, acked) = q.positions();
    let mut cur = Cursor::after(acked);
    let mut recs: Vec<Record> = Vec::new();
    let mut backoff = Backoff::new();
    let url = http.url().to_owned();
    let mut up = Uploader::new(&http, &q, &object);
    let fatal = |message: String| {
        tracing::error!("the upload of {} stopped: {message}", q.dir().display());
        shared.lock().fatal = Some(message);
        q.notify();
    };
    while !shared.stop.load(Ordering::Acquire) {
        if recs.is_empty() {
            let read = q.read(&mut cur, MAX_REQUEST_BYTES);
            let damaged = q.take_notes();
            if !damaged.is_empty() {
                shared.lock().rejected.extend(damaged);
            }
            match read {
                Ok(r) => recs = r,
                Err(e) => return fatal(format!("the queue cannot be read: {e}")),
            }
            if recs.is_empty() {
                // Everything before the cursor was sent or kept aside (damaged records).
                if cur.seq > q.positions().1 {
                    if let Err(e) = q.ack(cur.seq, 0, &[]) {
                        return fatal(e.to_string());
                    }
                    q.notify();
                }
                q.wait_put(cur.seq, Duration::from_millis(200));
                continue;
            }
        }
        // Refusals are shared as they are kept aside, before their records are acknowledged.
        let sent = up.send_head(&recs, &mut |r| shared.lock().rejected.push(r));
        let mut st = shared.lock();
        match sent {
            Sent::Acked(n) => {
                recs.drain(..n.min(recs.len()));
                backoff.reset();
                st.auth_error = None;
                if st.down.take().is_some() {
                    tracing::warn!("the connection to {url} is back; uploading what was queued");
                }
            }
            Sent::Failed(Fail::Auth { status, message }) => {
                if st.auth_error.is_none() {
                    tracing::error!(
                        "{url} refused the upload ({status}): {message}; the data waits in {}",
                        q.dir().display()
                    );
                }
                st.auth_error = Some(format!("{status}: {message}"));
                drop(st);
                q.notify();
                nap(
                    backoff.pause(None).max(Duration::from_secs(5)),
                    &shared.stop,
                );
            }
            Sent::Failed(f) => {
                let (reason, retry_after) = match f {
                    Fail::Transient {
                        reason,
                        retry_after,
                    } => (reason, retry_after),
                    other => (other.message(), None),
                };
                if st.down.is_none() {
                    tracing::warn!(
                        "lost the connection to {url} ({reason}); retrying in the background, \
                         nothing is lost: the data waits in {}",
                        q.dir().display()
                    );
                }
                st.down = Some(reason);
                drop(st);
                nap(backoff.pause(retry_after), &shared.stop);
            }
            Sent::Fatal(message) => {
                drop(st);
                return fatal(message);
            }
        }
        q.notify();
    }
}

/// Whether a write failed for want of room (a full disk or quota).
fn is_full(e: &Error) -> bool {
    match e {
        Error::Io { source, .. } => {
            matches!(
                source.kind(),
                ErrorKind::StorageFull | ErrorKind::QuotaExceeded
            )
        }
        _ => false,
    }
}

/// The distinct paths of `ops` past their first `kept` values (for the report of what was
/// not kept; record bodies hold the operations' values in order).
fn paths_after(ops: &[Operation], kept: u64) -> String {
    let mut seen = 0u64;
    let mut paths: Vec<String> = Vec::new();
    for op in ops {
        seen += op.weight() as u64;
        let p = op.path().to_string();
        if seen > kept && !paths.contains(&p) {
            paths.push(p);
        }
    }
    paths.join(", ")
}

/// Splits a batch into record bodies of at most about [`MAX_RECORD_BYTES`] of JSON each (a
/// log whose points alone are larger goes in pieces); each body is a JSON array of operations.
/// Operations are serialized once, straight into the bodies.
fn record_bodies(ops: &[Operation]) -> Result<Vec<(Vec<u8>, u64)>> {
    fn ser(out: &mut Vec<u8>, op: &Operation) -> Result<()> {
        serde_json::to_writer(out, op).map_err(|e| Error::Serialization {
            path: op.path().to_string(),
            reason: e.to_string(),
        })
    }
    let mut out: Vec<(Vec<u8>, u64)> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut values = 0u64;
    let close = |cur: &mut Vec<u8>, values: &mut u64, out: &mut Vec<(Vec<u8>, u64)>| {
        if !cur.is_empty() {
            cur.push(b']');
            out.push((std::mem::take(cur), std::mem::take(values)));
        }
    };
    for op in ops {
        let mark = cur.len();
        cur.push(if mark == 0 { b'[' } else { b',' });
        ser(&mut cur, op)?;
        let size = cur.len() - mark;
        if size > MAX_RECORD_BYTES && op.weight() >= 2 {
            // Too big alone: in pieces, each a record of its own.
            cur.truncate(mark);
            close(&mut cur, &mut values, &mut out);
            let per = op.weight().div_ceil(size.div_ceil(MAX_RECORD_BYTES) + 1);
            for part in split_log(op, per) {
                let mut body = vec![b'['];
                ser(&mut body, &part)?;
                body.push(b']');
                out.push((body, part.weight() as u64));
            }
            continue;
        }
        if mark > 0 && cur.len() > MAX_RECORD_BYTES {
            // The record is full: this operation starts the next one.
            let tail = cur.split_off(mark + 1);
            cur.truncate(mark);
            close(&mut cur, &mut values, &mut out);
            cur.reserve(tail.len() + 1);
            cur.push(b'[');
            cur.extend_from_slice(&tail);
        }
        values += op.weight() as u64;
    }
    close(&mut cur, &mut values, &mut out);
    Ok(out)
}

/// A log operation as several of at most `per` points each (other operations unchanged).
fn split_log(op: &Operation, per: usize) -> Vec<Operation> {
    let per = per.max(1);
    match op {
        Operation::LogFloats { path, points } => points
            .chunks(per)
            .map(|c| Operation::LogFloats {
                path: path.clone(),
                points: c.to_vec(),
            })
            .collect(),
        Operation::LogStrings { path, points } => points
            .chunks(per)
            .map(|c| Operation::LogStrings {
                path: path.clone(),
                points: c.to_vec(),
            })
            .collect(),
        Operation::LogImages { path, points } => points
            .chunks(per)
            .map(|c| Operation::LogImages {
                path: path.clone(),
                points: c.to_vec(),
            })
            .collect(),
        other => vec![other.clone()],
    }
}

/// The backend of one object logged to a server through a durable queue.
pub struct QueuedBackend {
    http: Arc<HttpBackend>,
    /// `<home>/queue`.
    root: PathBuf,
    mode: QueueMode,
    /// The object's queue, from `open_object` until `close`.
    queue: Mutex<Option<Arc<DiskQueue>>>,
    shared: Arc<Shared>,
    uploader: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for QueuedBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedBackend")
            .field("url", &self.http.url())
            .field("mode", &self.mode)
            .finish()
    }
}

impl QueuedBackend {
    /// A backend for one object, queueing in `<home>/queue`.
    pub fn new(http: HttpBackend, home: &std::path::Path, mode: QueueMode) -> QueuedBackend {
        QueuedBackend {
            http: Arc::new(http),
            root: home.join(queue_disk::QUEUE_DIR),
            mode,
            queue: Mutex::new(None),
            shared: Shared::new(),
            uploader: Mutex::new(None),
        }
    }

    fn queue(&self) -> Result<Arc<DiskQueue>> {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| Error::Worker("the object's upload queue is closed".into()))
    }

    fn online(&self) -> Result<()> {
        if self.mode == QueueMode::Offline {
            return Err(Error::Config(format!(
                "offline mode keeps everything in the local queue under {}; reading needs the \
                 server: run `neptune sync`, then open the run with with_id in another mode",
                self.root.display()
            )));
        }
        Ok(())
    }

    /// Before a read: waits (bounded) until this process's writes are on the server.
    fn settle_for_read(&self) -> Result<()> {
        self.online()?;
        let Ok(q) = self.queue() else { return Ok(()) };
        let (put, _) = q.positions();
        let shared = self.shared.clone();
        let give_up = move || {
            let st = shared.lock();
            st.auth_error.is_some() || st.fatal.is_some()
        };
        if q.wait_acked(put, Some(Instant::now() + READ_WAIT), &give_up) {
            return Ok(());
        }
        Err(self.not_acked_error(&q, "before this read"))
    }

    fn not_acked_error(&self, q: &DiskQueue, when: &str) -> Error {
        let st = self.shared.lock();
        if let Some(a) = &st.auth_error {
            return Fail::Auth {
                status: 0,
                message: a.clone(),
            }
            .into_error(self.http.url());
        }
        let why = st
            .fatal
            .clone()
            .or_else(|| st.disk_full.clone())
            .or_else(|| st.down.clone())
            .unwrap_or_else(|| "no answer yet".into());
        Error::io(
            format!(
                "{} value(s) logged {when} are not yet on the server at {} (they wait in {})",
                q.pending_values(),
                self.http.url(),
                q.dir().display()
            ),
            std::io::Error::other(why),
        )
    }

    /// Writes one record to the queue; on a full disk, again and again until there is room
    /// (warning once), on other errors a few times.
    fn append_retrying(&self, q: &DiskQueue, body: &[u8], values: u64) -> Result<u64> {
        let mut pause = Duration::from_millis(50);
        let mut attempts = 0;
        loop {
            let e = match q.append_ops_raw(body, values) {
                Ok(seq) => {
                    if self.shared.lock().disk_full.take().is_some() {
                        tracing::warn!(
                            "there is room again for the upload queue {}: logging goes on, \
                             nothing was dropped",
                            q.dir().display()
                        );
                    }
                    return Ok(seq);
                }
                Err(e) => e,
            };
            attempts += 1;
            let full = is_full(&e);
            if !full && attempts >= WRITE_ATTEMPTS {
                tracing::warn!(
                    "the upload queue {} cannot be written: {e}",
                    q.dir().display()
                );
                return Err(e);
            }
            let mut stop_by = None;
            if full {
                let mut st = self.shared.lock();
                if st.disk_full.is_none() {
                    tracing::warn!(
                        "the disk of the upload queue {} is full ({e}); logging waits for room \
                         (appends block once the buffers are full) and nothing is dropped: \
                         free space there, or let the server take what waits",
                        q.dir().display()
                    );
                }
                st.disk_full = Some(e.to_string());
                stop_by = st.stop_by;
            }
            if self.shared.stop.load(Ordering::Acquire) {
                return Err(e);
            }
            if let Some(end) = stop_by {
                if Instant::now() >= end {
                    return Err(Error::io(
                        format!(
                            "stop() gave up waiting for room on the full disk of {}",
                            q.dir().display()
                        ),
                        std::io::Error::new(ErrorKind::StorageFull, e.to_string()),
                    ));
                }
            }
            self.nap_until_room(pause);
            pause = (pause * 2).min(MAX_FULL_PAUSE);
        }
    }

    /// Why nothing more is written: `stop()` reached its end while the disk was full.
    fn gave_up_on_room(&self) -> Option<String> {
        let st = self.shared.lock();
        let full = st.disk_full.as_ref()?;
        st.stop_by.filter(|end| Instant::now() >= *end)?;
        Some(format!(
            "stop() ended while the disk of {} was full: {full}",
            self.root.display()
        ))
    }

    /// Reports `lost` values of `paths` that were not written to the queue.
    fn not_kept(&self, paths: String, lost: u64, why: &str) -> Vec<Rejected> {
        self.shared.lock().not_kept += lost;
        vec![Rejected {
            index: 0,
            path: paths,
            reason: format!("{lost} value(s) were not kept: {why}"),
        }]
    }

    /// Sleeps `pause` before writing to a full disk again; less when `stop()` begins or ends.
    fn nap_until_room(&self, pause: Duration) {
        let end = Instant::now() + pause;
        loop {
            let until = self.shared.lock().stop_by.map_or(end, |s| s.min(end));
            let now = Instant::now();
            if now >= until || self.shared.stop.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(50)));
        }
    }

    fn take_rejected(&self) -> Vec<Rejected> {
        std::mem::take(&mut self.shared.lock().rejected)
    }

    fn start_uploader(&self, q: Arc<DiskQueue>, object: String) -> Result<()> {
        let (http, shared) = (self.http.clone(), self.shared.clone());
        let t = std::thread::Builder::new()
            .name(format!("neptune-upload-{object}"))
            .spawn(move || upload_loop(http, q, shared, object))
            .map_err(|e| Error::io("cannot start the upload thread", e))?;
        *self.uploader.lock().unwrap_or_else(|e| e.into_inner()) = Some(t);
        Ok(())
    }

    /// Stops the uploader; waits for it to end (at most `bound` when given: it may be in the
    /// middle of a request to a server that does not answer).
    fn stop_uploader(&self, bound: Option<Duration>) {
        self.shared.stop.store(true, Ordering::Release);
        if let Ok(q) = self.queue() {
            q.notify();
        }
        let Some(t) = self
            .uploader
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        else {
            return;
        };
        match bound {
            None => {
                let _ = t.join();
            }
            Some(b) => {
                let end = Instant::now() + b;
                while !t.is_finished() && Instant::now() < end {
                    std::thread::sleep(Duration::from_millis(10));
                }
                if t.is_finished() {
                    let _ = t.join();
                }
            }
        }
    }
}

impl Backend for QueuedBackend {
    fn location(&self) -> String {
        self.http.url().to_owned()
    }

    fn open_object(&self, req: &OpenRequest) -> Result<ObjectInfo> {
        if self
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            return Err(Error::Config(
                "a queued HTTP backend serves one object; open another object with a new builder"
                    .into(),
            ));
        }
        let info = if self.mode == QueueMode::Offline {
            let id = req.with_id.clone().unwrap_or_else(|| {
                format!(
                    "OFFLINE-{}",
                    &queue_disk::new_id()[..8].to_ascii_uppercase()
                )
            });
            ObjectInfo {
                id,
                kind: req.kind,
                project: req.project.clone(),
                created: req.with_id.is_none(),
                fields: Vec::new(),
            }
        } else {
            self.http.open_object(req)?
        };
        if req.read_only {
            return Ok(info);
        }
        let meta = queue_disk::new_meta(self.http.url(), self.mode.as_str(), req.clone(), &info.id);
        let q = Arc::new(DiskQueue::create(&self.root, meta)?);
        if self.mode != QueueMode::Offline {
            q.set_server_id(&info.id)?;
            self.start_uploader(q.clone(), info.id.clone())?;
        }
        *self.queue.lock().unwrap_or_else(|e| e.into_inner()) = Some(q);
        Ok(info)
    }

    fn execute(&self, _object: &str, ops: &[Operation]) -> Result<Vec<Rejected>> {
        let q = self.queue()?;
        if let Some(why) = self.gave_up_on_room() {
            let lost = ops.iter().map(|o| o.weight() as u64).sum();
            return Ok(self.not_kept(paths_after(ops, 0), lost, &why));
        }
        let bodies = record_bodies(ops)?;
        if q.append_batches(&bodies).is_ok() {
            return Ok(Vec::new());
        }
        // One record at a time, each written again until it is kept: nothing is numbered or
        // dropped while the disk is full (until stop() ends).
        for (i, (body, values)) in bodies.iter().enumerate() {
            if let Err(e) = self.append_retrying(&q, body, *values) {
                let kept: u64 = bodies[..i].iter().map(|b| b.1).sum();
                let lost: u64 = bodies[i..].iter().map(|b| b.1).sum();
                let paths = paths_after(ops, kept);
                return Ok(self.not_kept(paths, lost, &e.to_string()));
            }
        }
        Ok(Vec::new())
    }

    fn stopping(&self, deadline: Instant) {
        self.shared.lock().stop_by = Some(deadline);
    }

    fn wait_acknowledged(&self) -> Result<Vec<Rejected>> {
        if self.mode == QueueMode::Offline {
            return Ok(Vec::new());
        }
        let q = self.queue()?;
        let (put, _) = q.positions();
        let shared = self.shared.clone();
        let give_up = move || {
            let st = shared.lock();
            st.auth_error.is_some() || st.fatal.is_some()
        };
        if !q.wait_acked(put, None, &give_up) {
            return Err(self.not_acked_error(&q, "before wait()"));
        }
        Ok(self.take_rejected())
    }

    fn close(&self, deadline: Instant) -> Result<Vec<Rejected>> {
        let Ok(q) = self.queue() else {
            return Ok(Vec::new());
        };
        let meta = q.meta();
        if self.mode == QueueMode::Offline {
            let pending = q.pending_values();
            eprintln!(
                "neptune: offline {} {}: {pending} value(s) kept in {}; upload them with \
                 `neptune sync` (NEPTUNE_URL and NEPTUNE_API_TOKEN set)",
                meta.request.kind,
                meta.object_id,
                q.dir().display()
            );
            self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
            return Ok(Vec::new());
        }
        let (put, acked) = q.positions();
        let shared = self.shared.clone();
        let give_up = move || {
            let st = shared.lock();
            st.auth_error.is_some() || st.fatal.is_some()
        };
        let done = acked >= put || {
            let bar = super::progress::StopProgress::start(&q, self.http.url());
            let done = q.wait_acked(put, Some(deadline), &give_up);
            bar.finish();
            done
        };
        if done {
            self.stop_uploader(None);
            let q = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
            let mut rejected = self.take_rejected();
            if let Some(q) = q {
                rejected.extend(q.take_notes());
                if !q.remove()? {
                    tracing::warn!(
                        "{} keeps what the server refused, or damaged records, in {}: \
                         `neptune status` lists them",
                        meta.object_id,
                        q.dir().display()
                    );
                }
            }
            return Ok(rejected);
        }
        self.stop_uploader(Some(Duration::from_secs(1)));
        // What is left belongs to `neptune sync` from now on, even while this process lives.
        q.unlock();
        let why = {
            let st = self.shared.lock();
            st.auth_error
                .clone()
                .or_else(|| st.fatal.clone())
                .or_else(|| st.disk_full.clone())
                .or_else(|| st.down.clone())
                .unwrap_or_else(|| "no answer in time".into())
        };
        let rejected = self.take_rejected();
        let mut refused = match rejected.first() {
            Some(r) => format!(
                "; {} operation(s) were refused by the server, first \"{}\": {}",
                rejected.len(),
                r.path,
                r.reason
            ),
            None => String::new(),
        };
        let not_kept = self.shared.lock().not_kept;
        if not_kept > 0 {
            refused.push_str(&format!(
                "; {not_kept} value(s) could not be written to the queue and are lost"
            ));
        }
        let context = format!(
            "stop(): {} value(s) of {} are not yet on the server at {}; they are safe in {}: \
             run `neptune sync` to upload them (`neptune status` lists what waits){refused}",
            q.pending_values(),
            meta.object_id,
            self.http.url(),
            q.dir().display()
        );
        let err = Error::io(context, std::io::Error::other(format!("last error: {why}")));
        eprintln!("neptune: {err}");
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        Err(err)
    }

    fn fetch_structure(&self, object: &str) -> Result<Vec<(FieldPath, FieldType)>> {
        self.settle_for_read()?;
        self.http.fetch_structure(object)
    }

    fn fetch_value(&self, object: &str, path: &FieldPath) -> Result<Option<Value>> {
        self.settle_for_read()?;
        self.http.fetch_value(object, path)
    }

    fn fetch_values_below(
        &self,
        object: &str,
        prefix: Option<&FieldPath>,
    ) -> Result<Vec<(FieldPath, Value)>> {
        self.settle_for_read()?;
        self.http.fetch_values_below(object, prefix)
    }

    fn fetch_series_info(&self, object: &str, path: &FieldPath) -> Result<Option<SeriesInfo>> {
        self.settle_for_read()?;
        self.http.fetch_series_info(object, path)
    }

    fn fetch_float_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<f64>> {
        self.settle_for_read()?;
        self.http
            .fetch_float_points(object, path, after_step, limit)
    }

    fn fetch_string_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<String>> {
        self.settle_for_read()?;
        self.http
            .fetch_string_points(object, path, after_step, limit)
    }

    fn list_objects(&self, project: &str, kind: ObjectKind) -> Result<Vec<String>> {
        self.online()?;
        self.http.list_objects(project, kind)
    }

    fn fetch_table(
        &self,
        scope: &crate::TableScope,
        query: &crate::TableQuery,
    ) -> Result<crate::Table> {
        self.settle_for_read()?;
        self.http.fetch_table(scope, query)
    }

    fn put_file(&self, content: &mut dyn Read, extension: &str) -> Result<FileRef> {
        self.queue()?.append_file(content, extension)
    }

    fn has_file(&self, digest: &str) -> Result<bool> {
        if let Ok(q) = self.queue() {
            if q.file_path(digest).is_file() {
                return Ok(true);
            }
        }
        self.online()?;
        self.http.has_file(digest)
    }

    fn open_file(&self, digest: &str) -> Result<Box<dyn Read + Send>> {
        if let Ok(q) = self.queue() {
            if crate::store::files::is_digest(digest) {
                if let Ok(f) = std::fs::File::open(q.file_path(digest)) {
                    return Ok(Box::new(f));
                }
            }
        }
        self.settle_for_read()?;
        self.http.open_file(digest)
    }

    fn file_ref(&self, object: &str, path: &FieldPath) -> Result<Option<FileRef>> {
        self.settle_for_read()?;
        self.http.file_ref(object, path)
    }

    fn fileset_entries(&self, object: &str, path: &FieldPath) -> Result<Vec<FileSetEntry>> {
        self.settle_for_read()?;
        self.http.fileset_entries(object, path)
    }

    fn file_points(&self, object: &str, path: &FieldPath) -> Result<Vec<FilePoint>> {
        self.settle_for_read()?;
        self.http.file_points(object, path)
    }

    fn artifact_files(&self, object: &str, path: &FieldPath) -> Result<Vec<ArtifactFile>> {
        self.settle_for_read()?;
        self.http.artifact_files(object, path)
    }
}

impl Drop for QueuedBackend {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::operation::{FloatPoint, StringPoint};

    #[test]
    fn big_batches_are_split_into_bounded_records() {
        let p = FieldPath::parse("s").unwrap();
        let long = "x".repeat(1000);
        let ops = vec![
            Operation::AssignInt {
                path: p.clone(),
                value: 1,
            },
            Operation::LogStrings {
                path: p.clone(),
                points: (0..20_000)
                    .map(|i| StringPoint {
                        step: Some(i as f64),
                        value: long.clone(),
                        timestamp_ms: 0,
                    })
                    .collect(),
            },
            Operation::LogFloats {
                path: p.clone(),
                points: vec![
                    FloatPoint {
                        step: Some(0.0),
                        value: 0.0,
                        timestamp_ms: 0
                    };
                    10
                ],
            },
        ];
        let bodies = record_bodies(&ops).unwrap();
        assert!(bodies.len() >= 3, "{}", bodies.len());
        let mut back: Vec<Operation> = Vec::new();
        for (b, _) in &bodies {
            assert!(b.len() <= MAX_RECORD_BYTES + 2_000_000, "{}", b.len());
            back.extend(serde_json::from_slice::<Vec<Operation>>(b).unwrap());
        }
        let merged = crate::engine::queue::merge(back);
        assert_eq!(merged, ops);
        assert_eq!(bodies.iter().map(|b| b.1).sum::<u64>(), 20_011);
    }

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        let mut b = Backoff::new();
        let first = b.pause(None);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        for _ in 0..20 {
            assert!(b.pause(None) <= MAX_BACKOFF);
        }
        assert!(b.pause(Some(Duration::from_secs(100))) >= Duration::from_secs(100));
        b.reset();
        assert!(b.pause(None) <= Duration::from_millis(100));
    }
}
