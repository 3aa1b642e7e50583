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

mod records;
mod retry;
mod room;
mod uploader;
mod writer;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::{Fail, HttpBackend};
use crate::backend::http::queue_disk::{self, DiskQueue};
use crate::backend::Rejected;
use crate::error::{Error, Result};

use retry::Shared;
pub(crate) use retry::{nap, Backoff};

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

/// The writer of one object logged to a server through a durable queue; its reader is the
/// [`HttpBackend`] it uploads with.
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
    /// The writer of one object, queueing in `<home>/queue` and uploading with `http`.
    pub fn new(http: Arc<HttpBackend>, home: &std::path::Path, mode: QueueMode) -> QueuedBackend {
        QueuedBackend {
            http,
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
    fn take_rejected(&self) -> Vec<Rejected> {
        std::mem::take(&mut self.shared.lock().rejected)
    }

    fn start_uploader(&self, q: Arc<DiskQueue>, object: String) -> Result<()> {
        let (http, shared) = (self.http.clone(), self.shared.clone());
        let t = std::thread::Builder::new()
            .name(format!("neptune-upload-{object}"))
            .spawn(move || uploader::upload_loop(http, q, shared, object))
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

impl Drop for QueuedBackend {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
    }
}
