//! The durable upload queue of the HTTP backend: what a run logs is on disk before it is sent.
//!
//! One directory per writing process and object, `<NEPTUNE_HOME>/queue/<queue id>/`:
//! - `meta.json`: the server URL, the open request, the local and the server's object id;
//! - `lock`: locked (exclusive `flock`) by the process writing the queue, and by `neptune sync`
//!   while it uploads it, so a live run is never synced behind its back;
//! - `data-<first seq>.log`: append-only segments of JSON lines, one record per line, each
//!   written whole and fsynced before the writer goes on, each with its own checksum (see
//!   [`record`]): `{"seq":N,"n":V,"ops":[…],"crc":…}` (a batch of operations carrying V values)
//!   or `{"seq":N,"n":0,"file":{…},"crc":…}` (file content to upload first, kept in
//!   `files/<digest>`);
//! - `acked`: the last sequence number the server acknowledged;
//! - `rejected.jsonl` and `damaged.log`: what was kept aside instead of sent (see [`aside`]).
//!
//! A batch line is sent as it is (the server's batch body is these lines), so uploading
//! serializes nothing again. A process killed mid-write leaves at most a torn last line, cut
//! off when the queue is opened again. A line that fails its check (a damaged disk, a stray
//! write) costs only itself: the reader copies it aside, reports it, and goes on with the next.
//! A write that fails (a full disk) takes its partial line back and changes nothing: the same
//! record can be written again once there is room. A queue whose every record is acknowledged
//! is removed when its run stops, unless it keeps something aside.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::backend::{OpenRequest, Rejected};
use crate::error::{Error, Result};
use crate::model::operation::{FileRef, Operation};
use crate::model::wire::batch;

mod append;
pub mod aside;
mod inspect;
mod layout;
mod read;
pub mod record;

pub use aside::{AsideEntry, AsideKind};
pub use inspect::{inspect, Inspection};
pub use layout::{list, new_id, new_meta, read_meta};
pub(crate) use layout::{lock_file, read_acked, segment_firsts, segment_name};
use layout::{sync_dir, write_atomic};
pub use record::Record;

/// Folder of the queues under `NEPTUNE_HOME`.
pub const QUEUE_DIR: &str = "queue";
/// A segment is closed and a new one started past this size.
const SEGMENT_BYTES: u64 = 64 << 20;
/// Format version of `meta.json`.
const META_VERSION: u32 = 1;

/// What a queue knows about its run (`meta.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueMeta {
    /// The version of the queue format.
    pub version: u32,
    /// The queue's id (sent with every batch for dedup).
    pub queue_id: String,
    /// Base URL of the server (`http://host:port`).
    pub url: String,
    /// "async", "sync" or "offline".
    pub mode: String,
    /// How the run was opened; `neptune sync` registers an offline run with it.
    pub request: OpenRequest,
    /// The id the writing process used: the server's for online runs, a local one offline.
    pub object_id: String,
    /// The server's id, once the object exists there.
    pub server_id: Option<String>,
    /// When it was created, Unix ms.
    pub created_ms: i64,
    /// Process that created the queue.
    pub pid: u32,
}

/// Where a reader of the queue is.
#[derive(Clone, Debug, Default)]
pub struct Cursor {
    /// The last sequence number read.
    pub seq: u64,
    /// First sequence number of the segment being read, and the offset in it.
    seg: Option<u64>,
    offset: u64,
}

impl Cursor {
    /// A cursor after `seq`.
    pub fn after(seq: u64) -> Cursor {
        Cursor {
            seq,
            seg: None,
            offset: 0,
        }
    }
}

#[derive(Debug)]
struct Segment {
    first: u64,
    path: PathBuf,
    /// Bytes of whole records.
    len: u64,
}

#[derive(Debug)]
struct State {
    segments: Vec<Segment>,
    out: Option<File>,
    /// Last sequence number written, and last acknowledged.
    put: u64,
    acked: u64,
    put_values: u64,
    acked_values: u64,
    /// A write failed (a full disk, most likely): free the space of acknowledged records as
    /// soon as possible.
    starved: bool,
    /// Damaged records the reader kept aside, not yet reported.
    notes: Vec<Rejected>,
}

impl State {
    fn new(acked: u64) -> State {
        State {
            segments: Vec::new(),
            out: None,
            put: acked,
            acked,
            put_values: 0,
            acked_values: 0,
            starved: false,
            notes: Vec::new(),
        }
    }
}

/// A segment written to the end and wholly acknowledged is closed past this size, so that
/// a small disk gets its space back without waiting for [`SEGMENT_BYTES`].
const ACKED_SEGMENT_BYTES: u64 = 1 << 20;

/// Why an existing queue cannot be opened.
#[derive(Debug)]
pub enum OpenError {
    /// Another process holds the lock: the run is still being written (or synced).
    Busy {
        /// The process holding it, when known.
        pid: Option<u32>,
    },
    /// Any other failure.
    Other(Error),
}

impl From<Error> for OpenError {
    fn from(e: Error) -> Self {
        OpenError::Other(e)
    }
}

/// A queue on disk, locked by this process.
#[derive(Debug)]
pub struct DiskQueue {
    dir: PathBuf,
    _lock: File,
    meta: Mutex<QueueMeta>,
    state: Mutex<State>,
    changed: Condvar,
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |e| Error::io(context, e)
}

impl DiskQueue {
    /// Creates a new queue under `root` (`<home>/queue`) and locks it.
    pub fn create(root: &Path, meta: QueueMeta) -> Result<DiskQueue> {
        let dir = root.join(&meta.queue_id);
        fs::create_dir_all(dir.join("files")).map_err(io(format!(
            "cannot create the upload queue {}",
            dir.display()
        )))?;
        let lock = lock_file(&dir)?;
        lock.lock().map_err(io(format!(
            "cannot lock the upload queue {}",
            dir.display()
        )))?;
        let bytes = serde_json::to_vec_pretty(&meta).map_err(|e| Error::Serialization {
            path: "meta.json".into(),
            reason: e.to_string(),
        })?;
        write_atomic(&dir, "meta.json", &bytes, true)?;
        sync_dir(root);
        Ok(DiskQueue {
            dir,
            _lock: lock,
            meta: Mutex::new(meta),
            state: Mutex::new(State::new(0)),
            changed: Condvar::new(),
        })
    }

    /// Opens an existing queue (after its writer stopped or died) and locks it; cuts a torn
    /// last record. `Busy` when another process holds it.
    pub fn open_existing(dir: &Path) -> std::result::Result<DiskQueue, OpenError> {
        let lock = lock_file(dir)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let pid = read_meta(dir).ok().map(|m| m.pid);
                return Err(OpenError::Busy { pid });
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot lock {}", dir.display()), e).into())
            }
        }
        let meta = read_meta(dir)?;
        let acked = read_acked(dir);
        let firsts = segment_firsts(dir)?;
        let mut state = State::new(acked);
        for first in firsts {
            let path = dir.join(segment_name(first));
            let scan = inspect::scan_segment(&path, acked, true)?;
            state.put = state.put.max(scan.last);
            state.put_values += scan.values;
            state.segments.push(Segment {
                first,
                path,
                len: scan.len,
            });
        }
        Ok(DiskQueue {
            dir: dir.to_path_buf(),
            _lock: lock,
            meta: Mutex::new(meta),
            state: Mutex::new(state),
            changed: Condvar::new(),
        })
    }

    /// The queue's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A copy of `meta.json`.
    pub fn meta(&self) -> QueueMeta {
        self.meta.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records the server's id of the object (durably, before anything is uploaded to it).
    pub fn set_server_id(&self, id: &str) -> Result<()> {
        let mut m = self.meta.lock().unwrap_or_else(|e| e.into_inner());
        m.server_id = Some(id.to_owned());
        let bytes = serde_json::to_vec_pretty(&*m).map_err(|e| Error::Serialization {
            path: "meta.json".into(),
            reason: e.to_string(),
        })?;
        write_atomic(&self.dir, "meta.json", &bytes, true)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps entries aside (durably) in `rejected.jsonl`.
    pub fn set_aside(&self, entries: &[AsideEntry]) -> Result<()> {
        aside::append(&self.dir, entries)
    }

    /// Records that the server acknowledged everything up to `seq` (`values` more values);
    /// removes segments and file copies no longer needed. The space goes back before the
    /// position is written: on a full disk, a position not written only means records sent
    /// again, which the server recognizes.
    pub fn ack(&self, seq: u64, values: u64, files: &[String]) -> Result<()> {
        let mut st = self.lock();
        if seq <= st.acked {
            return Ok(());
        }
        st.acked = seq;
        st.acked_values += values;
        // Segments whose every record is acknowledged, except the one being written.
        while st.segments.len() > 1 && st.segments[1].first <= seq + 1 {
            let s = st.segments.remove(0);
            let _ = fs::remove_file(&s.path);
        }
        // The one being written too, when it is wholly acknowledged and big (or the disk full).
        let close_last = seq >= st.put
            && st
                .segments
                .last()
                .is_some_and(|s| st.starved || s.len >= ACKED_SEGMENT_BYTES);
        if close_last {
            if let Some(s) = st.segments.pop() {
                st.out = None;
                let _ = fs::remove_file(&s.path);
            }
        }
        if let Err(e) = write_atomic(&self.dir, "acked", format!("{seq}\n").as_bytes(), false) {
            let _ = fs::remove_file(self.dir.join("acked.tmp"));
            tracing::debug!("cannot record the acknowledged position {seq}: {e}");
        }
        drop(st);
        for d in files {
            let _ = fs::remove_file(self.dir.join("files").join(d));
        }
        self.changed.notify_all();
        Ok(())
    }

    /// Moves the copy of file content the server refused out of the way of cleaning up
    /// (`aside-files/<digest>`); returns where it is.
    pub fn keep_file_aside(&self, digest: &str) -> PathBuf {
        let from = self.file_path(digest);
        let dir = self.dir.join("aside-files");
        let to = dir.join(digest);
        let moved = fs::create_dir_all(&dir).and_then(|()| fs::rename(&from, &to));
        if moved.is_ok() {
            to
        } else {
            from
        }
    }

    /// Path of a file copy kept for upload.
    pub fn file_path(&self, digest: &str) -> PathBuf {
        self.dir.join("files").join(digest)
    }

    /// Last sequence number written and last acknowledged.
    pub fn positions(&self) -> (u64, u64) {
        let st = self.lock();
        (st.put, st.acked)
    }

    /// Values written but not yet acknowledged (operations count as one each).
    pub fn pending_values(&self) -> u64 {
        let st = self.lock();
        st.put_values.saturating_sub(st.acked_values)
    }

    /// Waits until everything up to `seq` is acknowledged, or `deadline`, or `give_up()`.
    pub fn wait_acked(
        &self,
        seq: u64,
        deadline: Option<Instant>,
        give_up: &dyn Fn() -> bool,
    ) -> bool {
        let mut st = self.lock();
        loop {
            if st.acked >= seq {
                return true;
            }
            if give_up() {
                return false;
            }
            let step = std::time::Duration::from_millis(100);
            let wait = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    left.min(step)
                }
                None => step,
            };
            st = match self.changed.wait_timeout(st, wait) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// Wakes whoever waits on the queue (after a change of the uploader's state).
    pub fn notify(&self) {
        self.changed.notify_all();
    }

    /// Waits until a record after `seq` is written or `timeout` passes.
    pub fn wait_put(&self, seq: u64, timeout: std::time::Duration) {
        let st = self.lock();
        if st.put > seq {
            return;
        }
        let _ = self.changed.wait_timeout(st, timeout);
    }

    /// Lets other processes take the queue (`neptune sync`) while this handle still exists.
    pub fn unlock(&self) {
        let _ = self._lock.unlock();
    }

    /// Removes the queue's folder (everything was acknowledged); `Ok(false)` when it keeps
    /// something aside: then only the records and file copies go, and the folder stays for
    /// `neptune status`. The lock is held until the folder is gone, so no other process can
    /// take the queue in between.
    pub fn remove(&self) -> Result<bool> {
        if !aside::any(&self.dir) {
            fs::remove_dir_all(&self.dir)
                .map_err(io(format!("cannot remove {}", self.dir.display())))?;
            return Ok(true);
        }
        let mut st = self.lock();
        st.out = None;
        for s in st.segments.drain(..) {
            let _ = fs::remove_file(&s.path);
        }
        let _ = fs::remove_dir_all(self.dir.join("files"));
        Ok(false)
    }
}

impl Drop for DiskQueue {
    /// Unlocks explicitly: closing the file is not enough when a child process forked in the
    /// meantime holds a copy of it (the lock belongs to the shared open file), and the queue
    /// would look busy to `neptune sync` until that child execs or exits.
    fn drop(&mut self) {
        let _ = self._lock.unlock();
    }
}

#[cfg(test)]
mod prop_tests;
#[cfg(test)]
mod tests;
