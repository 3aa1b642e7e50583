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
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::{OpenRequest, Rejected};
use crate::error::{Error, Result};
use crate::model::operation::{FileRef, Operation};
use crate::model::rules::clock::now_ms;
use crate::model::wire::batch;

pub mod aside;
mod inspect;
pub mod record;

pub use aside::{AsideEntry, AsideKind};
pub use inspect::{inspect, Inspection};
use record::Line;
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

pub(crate) fn segment_name(first: u64) -> String {
    format!("data-{first:020}.log")
}

/// A fresh random-looking id (time, process, counter and address, hashed): 32 hex characters.
pub fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let local = 0u8;
    let mut h = Sha256::new();
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(N.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    h.update((&local as *const u8 as usize).to_le_bytes());
    crate::store::files::hex(&h.finalize()[..16])
}

fn write_atomic(dir: &Path, name: &str, bytes: &[u8], sync: bool) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let target = dir.join(name);
    let mut f = File::create(&tmp).map_err(io(format!("cannot write {}", tmp.display())))?;
    f.write_all(bytes)
        .map_err(io(format!("cannot write {}", tmp.display())))?;
    if sync {
        f.sync_all()
            .map_err(io(format!("cannot sync {}", tmp.display())))?;
    }
    fs::rename(&tmp, &target).map_err(io(format!("cannot replace {}", target.display())))?;
    if sync {
        sync_dir(dir);
    }
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
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

    /// Appends a batch of operations, durably; returns its sequence number.
    pub fn append_ops(&self, ops: &[Operation]) -> Result<u64> {
        let body = batch::encode_ops(ops)?;
        self.append(batch::values(ops), batch::OPS, body.as_bytes())
    }

    /// Appends a batch already serialized as a JSON array of operations, carrying `values`.
    pub fn append_ops_raw(&self, body: &[u8], values: u64) -> Result<u64> {
        self.append(values, batch::OPS, body)
    }

    /// Streams `content` into the queue's file area and appends a record to upload it.
    pub fn append_file(&self, content: &mut dyn Read, extension: &str) -> Result<FileRef> {
        let files = self.dir.join("files");
        let tmp = files.join(format!("tmp-{}", new_id()));
        let mut out = File::create(&tmp).map_err(io(format!("cannot create {}", tmp.display())))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = match content.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(Error::io("cannot read the file content to upload", e));
                }
            };
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(io(format!("cannot write {}", tmp.display())))?;
            size += n as u64;
        }
        out.sync_all()
            .map_err(io(format!("cannot sync {}", tmp.display())))?;
        drop(out);
        let digest = crate::store::files::hex(&hasher.finalize());
        let target = files.join(&digest);
        fs::rename(&tmp, &target).map_err(io(format!("cannot store {}", target.display())))?;
        sync_dir(&files);
        let file = FileRef {
            digest,
            size,
            extension: extension.to_owned(),
        };
        let body = serde_json::to_vec(&file).map_err(|e| Error::Serialization {
            path: "file".into(),
            reason: e.to_string(),
        })?;
        self.append(0, record::FILE, &body)?;
        Ok(file)
    }

    fn append(&self, values: u64, key: &str, body: &[u8]) -> Result<u64> {
        self.append_lines(&[(values, key, body)])
    }

    /// Appends batches already serialized (JSON arrays of operations, with their values) as
    /// consecutive records, with one fsync: all are written, or none (a failed write takes
    /// its partial lines back and numbers nothing). Returns the last sequence number.
    pub fn append_batches(&self, bodies: &[(Vec<u8>, u64)]) -> Result<u64> {
        let items: Vec<(u64, &str, &[u8])> = bodies
            .iter()
            .map(|(b, v)| (*v, batch::OPS, b.as_slice()))
            .collect();
        self.append_lines(&items)
    }

    fn append_lines(&self, items: &[(u64, &str, &[u8])]) -> Result<u64> {
        let mut st = self.lock();
        if items.is_empty() {
            return Ok(st.put);
        }
        let first = st.put + 1;
        let mut lines = Vec::new();
        let mut values = 0;
        for (i, (v, key, body)) in items.iter().enumerate() {
            lines.extend_from_slice(&record::encode(first + i as u64, *v, key, body));
            values += v;
        }
        let last = first + items.len().saturating_sub(1) as u64;
        let rotate = st.out.is_none() || st.segments.last().is_none_or(|s| s.len >= SEGMENT_BYTES);
        if rotate {
            let path = self.dir.join(segment_name(first));
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| {
                    st.starved = true;
                    Error::io(format!("cannot create {}", path.display()), e)
                })?;
            sync_dir(&self.dir);
            st.out = Some(f);
            // A segment left empty by a failed write is replaced, not kept beside.
            if st.segments.last().is_some_and(|s| s.first == first) {
                st.segments.pop();
            }
            st.segments.push(Segment {
                first,
                path,
                len: 0,
            });
        }
        let (seg, seg_len) = st
            .segments
            .last()
            .map(|s| (s.path.display().to_string(), s.len))
            .unwrap_or_default();
        let Some(out) = st.out.as_mut() else {
            return Err(Error::Worker(format!("the upload queue {seg} is not open")));
        };
        let written = out.write_all(&lines).and_then(|()| out.sync_data());
        if let Err(e) = written {
            // Take back a partial line, so that the next record starts on a line of its own;
            // if that fails too, the next record goes to a new segment.
            if out.set_len(seg_len).is_err() {
                st.out = None;
            }
            st.starved = true;
            return Err(Error::io(format!("cannot write the upload queue {seg}"), e));
        }
        st.put = last;
        st.put_values += values;
        st.starved = false;
        if let Some(s) = st.segments.last_mut() {
            s.len += lines.len() as u64;
        }
        drop(st);
        self.changed.notify_all();
        Ok(last)
    }

    /// Reads the records after the cursor, up to about `max_bytes` (at least one record).
    /// A damaged record is kept aside (see [`aside`]), reported through [`Self::take_notes`]
    /// and skipped; at the end of what is written, the cursor is past every record.
    pub fn read(&self, cur: &mut Cursor, max_bytes: usize) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        loop {
            let seg = {
                let st = self.lock();
                if st.put <= cur.seq {
                    return Ok(out);
                }
                let idx = match cur.seg {
                    Some(first) => st.segments.iter().position(|s| s.first == first),
                    None => None,
                };
                let idx = match idx {
                    Some(i) => i,
                    None => {
                        // Fresh cursor (or its segment is gone): the last segment starting at
                        // or before the next record.
                        let i = st
                            .segments
                            .iter()
                            .rposition(|s| s.first <= cur.seq + 1)
                            .unwrap_or(0);
                        cur.seg = st.segments.get(i).map(|s| s.first);
                        cur.offset = 0;
                        i
                    }
                };
                let Some(s) = st.segments.get(idx) else {
                    return Ok(out);
                };
                if cur.offset >= s.len {
                    match st.segments.get(idx + 1) {
                        Some(next) => {
                            cur.seg = Some(next.first);
                            cur.offset = 0;
                            continue;
                        }
                        None => {
                            // Everything written was read: what is left was kept aside.
                            cur.seq = cur.seq.max(st.put);
                            return Ok(out);
                        }
                    }
                }
                (s.path.clone(), s.len)
            };
            let (path, len) = seg;
            let mut f = File::open(&path).map_err(io(format!("cannot open {}", path.display())))?;
            f.seek(SeekFrom::Start(cur.offset))
                .map_err(io(format!("cannot read {}", path.display())))?;
            let mut r = BufReader::with_capacity(1 << 20, f.take(len - cur.offset));
            loop {
                if bytes >= max_bytes && !out.is_empty() {
                    return Ok(out);
                }
                let mut line = Vec::new();
                let n = r
                    .read_until(b'\n', &mut line)
                    .map_err(io(format!("cannot read {}", path.display())))?;
                if n == 0 || line.last() != Some(&b'\n') {
                    // End of what is written (the segment's length only covers whole lines).
                    cur.offset = len;
                    break;
                }
                let at = cur.offset;
                cur.offset += n as u64;
                line.pop();
                let rec = match record::parse(&line) {
                    Line::Record(r) => r,
                    Line::Blank => continue,
                    Line::Damaged { reason, seq } => {
                        self.keep_damaged(&path, at, &line, &reason, seq)?;
                        continue;
                    }
                };
                if rec.seq() <= cur.seq {
                    continue;
                }
                cur.seq = rec.seq();
                bytes += n;
                out.push(rec);
            }
        }
    }

    /// Keeps a damaged line aside: its bytes in `damaged.log`, an entry in `rejected.jsonl`,
    /// and blanks in its place so that it is reported once.
    fn keep_damaged(
        &self,
        path: &Path,
        offset: u64,
        bytes: &[u8],
        reason: &str,
        seq: Option<u64>,
    ) -> Result<()> {
        let at = aside::keep_damaged(&self.dir, bytes)?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let entry = AsideEntry {
            kind: AsideKind::Damaged,
            seq,
            path: format!("record at byte {offset} of {name}"),
            reason: format!(
                "a damaged record ({reason}); its {} bytes are kept in {} at byte {at}",
                bytes.len(),
                aside::DAMAGED_FILE
            ),
            op: None,
            batch: None,
            damaged_at: Some((at, bytes.len() as u64)),
        };
        aside::append(&self.dir, std::slice::from_ref(&entry))?;
        tracing::warn!(
            "the upload queue {} holds a damaged record at byte {offset} of {name} ({reason}); \
             it was kept aside in {} and the other records go on",
            self.dir.display(),
            aside::DAMAGED_FILE
        );
        let blanked = OpenOptions::new().write(true).open(path).and_then(|mut f| {
            f.seek(SeekFrom::Start(offset))?;
            f.write_all(&vec![b' '; bytes.len()])?;
            f.sync_data()
        });
        if let Err(e) = blanked {
            tracing::debug!("cannot blank the damaged record in {}: {e}", path.display());
        }
        self.lock().notes.push(entry.to_rejected(&self.dir));
        Ok(())
    }

    /// The damaged records kept aside since the last call, as refusals to report.
    pub fn take_notes(&self) -> Vec<Rejected> {
        std::mem::take(&mut self.lock().notes)
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

pub(crate) fn lock_file(dir: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(dir.join("lock"))
        .map_err(io(format!("cannot open the lock of {}", dir.display())))
}

/// Reads `meta.json` of a queue folder.
pub fn read_meta(dir: &Path) -> Result<QueueMeta> {
    let p = dir.join("meta.json");
    let bytes = fs::read(&p).map_err(io(format!("cannot read {}", p.display())))?;
    let meta: QueueMeta = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Corrupt(format!("{}: {e}", p.display())))?;
    if meta.version > META_VERSION {
        return Err(Error::Corrupt(format!(
            "{} was written by a newer version (format {}); upgrade neptune",
            p.display(),
            meta.version
        )));
    }
    Ok(meta)
}

/// The last acknowledged position of a queue folder (0 when none is recorded).
pub(crate) fn read_acked(dir: &Path) -> u64 {
    fs::read_to_string(dir.join("acked"))
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0)
}

/// The names of the segments of a queue folder, by first sequence number.
pub(crate) fn segment_firsts(dir: &Path) -> Result<Vec<u64>> {
    let mut firsts: Vec<u64> = fs::read_dir(dir)
        .map_err(io(format!("cannot list {}", dir.display())))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("data-")?
                .strip_suffix(".log")?
                .parse::<u64>()
                .ok()
        })
        .collect();
    firsts.sort_unstable();
    Ok(firsts)
}

/// The queue folders under `root` (`<home>/queue`).
pub fn list(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = match fs::read_dir(root) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("meta.json").is_file())
            .collect(),
        Err(_) => Vec::new(),
    };
    dirs.sort();
    dirs
}

/// A new queue's metadata.
pub fn new_meta(url: &str, mode: &str, request: OpenRequest, object_id: &str) -> QueueMeta {
    QueueMeta {
        version: META_VERSION,
        queue_id: new_id(),
        url: url.to_owned(),
        mode: mode.to_owned(),
        request,
        object_id: object_id.to_owned(),
        server_id: None,
        created_ms: now_ms(),
        pid: std::process::id(),
    }
}

#[cfg(test)]
mod prop_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::ObjectKind;
    use crate::model::operation::FloatPoint;
    use crate::model::path::FieldPath;

    fn req() -> OpenRequest {
        OpenRequest {
            kind: ObjectKind::Run,
            project: "t/q".into(),
            with_id: None,
            custom_run_id: None,
            model: None,
            owner: "me".into(),
            read_only: false,
        }
    }

    fn op(i: u64) -> Operation {
        Operation::LogFloats {
            path: FieldPath::parse("a").unwrap(),
            points: vec![FloatPoint {
                step: Some(i as f64),
                value: f64::NAN,
                timestamp_ms: 1,
            }],
        }
    }

    /// A child process forked while the writer held the queue shares its lock (one open file
    /// description); the lock must go when the writer drops the queue, not when the child
    /// execs or exits (`neptune sync` saw a stopped run as still being written).
    #[test]
    fn the_lock_goes_with_the_queue_even_when_a_forked_child_shares_it() {
        let root = tempfile::tempdir().unwrap();
        let q =
            DiskQueue::create(root.path(), new_meta("http://x", "async", req(), "T-2")).unwrap();
        let dir = q.dir().to_path_buf();
        let inherited = q._lock.try_clone().unwrap();
        drop(q);
        let again = DiskQueue::open_existing(&dir);
        assert!(again.is_ok(), "{:?}", again.err().map(|e| format!("{e:?}")));
        drop(again);
        drop(inherited);
    }

    #[test]
    fn records_survive_reopen_and_torn_tails_are_cut() {
        let root = tempfile::tempdir().unwrap();
        let q =
            DiskQueue::create(root.path(), new_meta("http://x", "async", req(), "T-1")).unwrap();
        let dir = q.dir().to_path_buf();
        for i in 1..=5 {
            assert_eq!(q.append_ops(&[op(i)]).unwrap(), i);
        }
        let f = q.append_file(&mut &b"hello"[..], "txt").unwrap();
        assert_eq!(f.size, 5);
        assert!(q.file_path(&f.digest).is_file());
        let mut cur = Cursor::after(0);
        let recs = q.read(&mut cur, 1).unwrap();
        assert_eq!(recs.len(), 1);
        let rest = q.read(&mut cur, usize::MAX).unwrap();
        assert_eq!(
            rest.iter().map(Record::seq).collect::<Vec<_>>(),
            [2, 3, 4, 5, 6]
        );
        assert!(matches!(&rest[4], Record::File { file, .. } if file.digest == f.digest));
        q.ack(2, 2, &[]).unwrap();
        assert_eq!(q.pending_values(), 3);
        // A second opener is refused while the first holds the lock.
        assert!(matches!(
            DiskQueue::open_existing(&dir),
            Err(OpenError::Busy { .. })
        ));
        drop(q);
        // A torn record at the end (a writer killed mid-line).
        let seg = dir.join(segment_name(1));
        let mut f2 = OpenOptions::new().append(true).open(&seg).unwrap();
        f2.write_all(b"{\"seq\":7,\"n\":1,\"ops\":[{\"ty").unwrap();
        drop(f2);
        let q = DiskQueue::open_existing(&dir).unwrap();
        assert_eq!(q.positions(), (6, 2));
        assert_eq!(q.pending_values(), 3);
        let mut cur = Cursor::after(2);
        let recs = q.read(&mut cur, usize::MAX).unwrap();
        assert_eq!(
            recs.iter().map(Record::seq).collect::<Vec<_>>(),
            [3, 4, 5, 6]
        );
        let Record::Ops { raw, .. } = &recs[0] else {
            panic!()
        };
        let b = batch::decode(raw.as_bytes()).unwrap();
        assert_eq!(b.seq, 3);
        assert_eq!(b.ops.len(), 1);
        assert!(
            matches!(&b.ops[0], Operation::LogFloats { points, .. } if points[0].step == Some(3.0) && points[0].value.is_nan())
        );
        // Appending continues after the cut.
        assert_eq!(q.append_ops(&[op(7)]).unwrap(), 7);
        q.remove().unwrap();
        assert!(!dir.exists());
    }
}
