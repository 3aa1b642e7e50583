//! [`QueuedBackend`]: the HTTP backend of a run, behind its durable queue.
//!
//! `execute` and `put_file` write to the queue on disk (fsynced) and return: the network is
//! never on the worker's path, let alone the caller's. An uploader thread sends what the queue
//! holds, in order, one request at a time, and retries connection errors, timeouts, 5xx and 429
//! (after its Retry-After) with capped exponential backoff and jitter for as long as the run
//! lives. `wait_acknowledged` (the object's `wait()`) waits for the server's answer; `close`
//! (its `stop()`) waits a bounded time and leaves the rest on disk for `neptune sync`.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::client::{Fail, HttpBackend};
use crate::backend::{
    Backend, ObjectInfo, ObjectKind, OpenRequest, Rejected, SeriesInfo, SeriesPage,
};
use crate::error::{Error, Result};
use crate::operation::{ArtifactFile, FilePoint, FileRef, FileSetEntry, Operation};
use crate::path::FieldPath;
use crate::queue_disk::{self, Cursor, DiskQueue, Record};
use crate::types::{FieldType, Value};

/// Largest request body the uploader builds (a single bigger record goes alone).
pub(crate) const MAX_REQUEST_BYTES: usize = 16 << 20;
/// Largest record the queue writes: bigger batches are split (a log's points in pieces).
const MAX_RECORD_BYTES: usize = 8 << 20;
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

/// The outcome of one attempt to send the records at the head of the queue.
pub(crate) enum Sent {
    /// The first `n` records are acknowledged.
    Acked(usize),
    Failed(Fail),
}

/// Sends the first records of `recs` (all leading batches, or one file) to `object`.
pub(crate) fn send_head(
    http: &HttpBackend,
    q: &DiskQueue,
    object: &str,
    queue_id: &str,
    recs: &[Record],
    rejected: &mut Vec<Rejected>,
) -> Sent {
    match &recs[0] {
        Record::File { seq, file } => {
            let r = (|| -> std::result::Result<(), Fail> {
                if http.has(&file.digest)? {
                    return Ok(());
                }
                let path = q.file_path(&file.digest);
                let mut f = match std::fs::File::open(&path) {
                    Ok(f) => f,
                    Err(e) => {
                        rejected.push(Rejected {
                            index: 0,
                            path: format!("file {}", file.digest),
                            reason: format!("the local copy {} is gone: {e}", path.display()),
                        });
                        return Ok(());
                    }
                };
                let got = http.upload(&mut f as &mut dyn Read, &file.extension)?;
                if got.digest != file.digest {
                    rejected.push(Rejected {
                        index: 0,
                        path: format!("file {}", file.digest),
                        reason: format!("the server stored digest {}", got.digest),
                    });
                }
                Ok(())
            })();
            match r {
                Ok(()) => match q.ack(*seq, 0, std::slice::from_ref(&file.digest)) {
                    Ok(()) => Sent::Acked(1),
                    Err(e) => Sent::Failed(fatal(e)),
                },
                Err(f) => Sent::Failed(f),
            }
        }
        Record::Ops { .. } => {
            let mut lines = Vec::new();
            let mut values = 0;
            let mut last = 0;
            for r in recs {
                match r {
                    Record::Ops {
                        seq,
                        values: v,
                        raw,
                    } => {
                        lines.push(raw.as_str());
                        values += v;
                        last = *seq;
                    }
                    Record::File { .. } => break,
                }
            }
            match http.send_batches(object, queue_id, &lines) {
                Ok(reply) => {
                    for r in reply.results {
                        rejected.extend(r.rejected);
                    }
                    match q.ack(last, values, &[]) {
                        Ok(()) => Sent::Acked(lines.len()),
                        Err(e) => Sent::Failed(fatal(e)),
                    }
                }
                Err(Fail::Refused {
                    status, message, ..
                }) => {
                    // The server refuses the batches as a whole (a bug or a version mismatch,
                    // never a network problem): report them and go on with the rest.
                    rejected.push(Rejected {
                        index: 0,
                        path: format!("batches up to #{last}"),
                        reason: format!("refused by the server ({status}): {message}"),
                    });
                    match q.ack(last, values, &[]) {
                        Ok(()) => Sent::Acked(lines.len()),
                        Err(e) => Sent::Failed(fatal(e)),
                    }
                }
                Err(f) => Sent::Failed(f),
            }
        }
    }
}

fn fatal(e: Error) -> Fail {
    Fail::Refused {
        status: 0,
        code: "queue".into(),
        message: e.to_string(),
    }
}

/// The uploader: sends the queue's records in order until `stop`.
fn upload_loop(http: Arc<HttpBackend>, q: Arc<DiskQueue>, shared: Arc<Shared>, object: String) {
    let queue_id = q.meta().queue_id;
    let (_, acked) = q.positions();
    let mut cur = Cursor::after(acked);
    let mut recs: Vec<Record> = Vec::new();
    let mut backoff = Backoff::new();
    let url = http.url().to_owned();
    while !shared.stop.load(Ordering::Acquire) {
        if recs.is_empty() {
            match q.read(&mut cur, MAX_REQUEST_BYTES) {
                Ok(r) => recs = r,
                Err(e) => {
                    tracing::error!("the upload queue {} cannot be read: {e}", q.dir().display());
                    shared.lock().fatal = Some(e.to_string());
                    q.notify();
                    return;
                }
            }
            if recs.is_empty() {
                q.wait_put(cur.seq, Duration::from_millis(200));
                continue;
            }
        }
        let mut rejected = Vec::new();
        let sent = send_head(&http, &q, &object, &queue_id, &recs, &mut rejected);
        let mut st = shared.lock();
        st.rejected.extend(rejected);
        match sent {
            Sent::Acked(n) => {
                recs.drain(..n);
                backoff.reset();
                st.auth_error = None;
                if st.down.take().is_some() {
                    tracing::warn!("the connection to {url} is back; uploading what was queued");
                }
            }
            Sent::Failed(Fail::Transient {
                reason,
                retry_after,
            }) => {
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
            Sent::Failed(Fail::Refused { message, .. }) => {
                tracing::error!("the upload queue {} failed: {message}", q.dir().display());
                st.fatal = Some(message);
                drop(st);
                q.notify();
                return;
            }
        }
        q.notify();
    }
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
        for (body, values) in record_bodies(ops)? {
            q.append_ops_raw(&body, values)?;
        }
        Ok(Vec::new())
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
            if let Some(q) = q {
                q.remove()?;
            }
            return Ok(self.take_rejected());
        }
        self.stop_uploader(Some(Duration::from_secs(1)));
        // What is left belongs to `neptune sync` from now on, even while this process lives.
        q.unlock();
        let why = {
            let st = self.shared.lock();
            st.auth_error
                .clone()
                .or_else(|| st.fatal.clone())
                .or_else(|| st.down.clone())
                .unwrap_or_else(|| "no answer in time".into())
        };
        let rejected = self.take_rejected();
        let refused = match rejected.first() {
            Some(r) => format!(
                "; {} operation(s) were refused by the server, first \"{}\": {}",
                rejected.len(),
                r.path,
                r.reason
            ),
            None => String::new(),
        };
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
    use crate::operation::{FloatPoint, StringPoint};

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
        let merged = crate::queue::merge(back);
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
