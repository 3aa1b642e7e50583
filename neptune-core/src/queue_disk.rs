//! The durable upload queue of the HTTP backend: what a run logs is on disk before it is sent.
//!
//! One directory per writing process and object, `<NEPTUNE_HOME>/queue/<queue id>/`:
//! - `meta.json`: the server URL, the open request, the local and the server's object id;
//! - `lock`: locked (exclusive `flock`) by the process writing the queue, and by `neptune sync`
//!   while it uploads it, so a live run is never synced behind its back;
//! - `data-<first seq>.log`: append-only segments of JSON lines, one record per line, each
//!   written whole and fsynced before the writer goes on: `{"seq":N,"n":V,"ops":[…]}` (a batch
//!   of operations carrying V values) or `{"seq":N,"n":0,"file":{…}}` (file content to upload
//!   first, kept in `files/<digest>`);
//! - `acked`: the last sequence number the server acknowledged.
//!
//! A batch line is sent as it is (the server's batch body is these lines), so uploading
//! serializes nothing again. A process killed mid-write leaves at most a torn last line, cut
//! off when the queue is opened again. A queue whose every record is acknowledged is removed
//! when its run stops.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::backend::OpenRequest;
use crate::error::{Error, Result};
use crate::operation::{FileRef, Operation};

/// Folder of the queues under `NEPTUNE_HOME`.
pub const QUEUE_DIR: &str = "queue";
/// A segment is closed and a new one started past this size.
const SEGMENT_BYTES: u64 = 64 << 20;
/// Format version of `meta.json`.
const META_VERSION: u32 = 1;

/// What a queue knows about its run (`meta.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueMeta {
    pub version: u32,
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
    pub created_ms: i64,
    /// Process that created the queue.
    pub pid: u32,
}

/// One record of the queue.
#[derive(Clone, Debug)]
pub enum Record {
    /// A batch of operations: `raw` is the whole JSON line (a wire batch).
    Ops { seq: u64, values: u64, raw: String },
    /// File content (in `files/<digest>`) to upload before the batches after it.
    File { seq: u64, file: FileRef },
}

impl Record {
    pub fn seq(&self) -> u64 {
        match self {
            Record::Ops { seq, .. } | Record::File { seq, .. } => *seq,
        }
    }
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
}

/// Why an existing queue cannot be opened.
#[derive(Debug)]
pub enum OpenError {
    /// Another process holds the lock: the run is still being written (or synced).
    Busy {
        pid: Option<u32>,
    },
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

fn segment_name(first: u64) -> String {
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

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
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

/// Parses the header of a record line, `{"seq":N,"n":V,"` then `ops` or `file`:
/// the sequence number, the values, and whether it is a batch.
fn parse_header(line: &str) -> Option<(u64, u64, bool)> {
    let rest = line.strip_prefix("{\"seq\":")?;
    let end = rest.find(',')?;
    let seq: u64 = rest[..end].parse().ok()?;
    let rest = rest[end..].strip_prefix(",\"n\":")?;
    let end = rest.find(',')?;
    let n: u64 = rest[..end].parse().ok()?;
    let rest = &rest[end..];
    if rest.starts_with(",\"ops\":") {
        Some((seq, n, true))
    } else if rest.starts_with(",\"file\":") {
        Some((seq, n, false))
    } else {
        None
    }
}

fn parse_record(line: String) -> Option<Record> {
    let (seq, values, ops) = parse_header(&line)?;
    if !line.ends_with('}') {
        return None;
    }
    if ops {
        return Some(Record::Ops {
            seq,
            values,
            raw: line,
        });
    }
    #[derive(Deserialize)]
    struct FileLine {
        file: FileRef,
    }
    let f: FileLine = serde_json::from_str(&line).ok()?;
    Some(Record::File { seq, file: f.file })
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
            state: Mutex::new(State {
                segments: Vec::new(),
                out: None,
                put: 0,
                acked: 0,
                put_values: 0,
                acked_values: 0,
            }),
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
        let acked = fs::read_to_string(dir.join("acked"))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0);
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
        let mut state = State {
            segments: Vec::new(),
            out: None,
            put: acked,
            acked,
            put_values: 0,
            acked_values: 0,
        };
        for first in firsts {
            let path = dir.join(segment_name(first));
            let (len, last, values) = scan_segment(&path, acked, true)?;
            state.put = state.put.max(last);
            state.put_values += values;
            state.segments.push(Segment { first, path, len });
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
        let body = serde_json::to_vec(ops).map_err(|e| Error::Serialization {
            path: "batch".into(),
            reason: e.to_string(),
        })?;
        let values: u64 = ops.iter().map(|o| o.weight() as u64).sum();
        self.append(values, b"ops", &body)
    }

    /// Appends a batch already serialized as a JSON array of operations, carrying `values`.
    pub fn append_ops_raw(&self, body: &[u8], values: u64) -> Result<u64> {
        self.append(values, b"ops", body)
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
        self.append(0, b"file", &body)?;
        Ok(file)
    }

    fn append(&self, values: u64, key: &[u8], body: &[u8]) -> Result<u64> {
        let mut st = self.lock();
        let seq = st.put + 1;
        let rotate = st.out.is_none() || st.segments.last().is_none_or(|s| s.len >= SEGMENT_BYTES);
        if rotate {
            let path = self.dir.join(segment_name(seq));
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io(format!("cannot create {}", path.display())))?;
            sync_dir(&self.dir);
            st.out = Some(f);
            st.segments.push(Segment {
                first: seq,
                path,
                len: 0,
            });
        }
        let mut head = Vec::with_capacity(48);
        write!(head, "{{\"seq\":{seq},\"n\":{values},\"").expect("write to a Vec");
        head.extend_from_slice(key);
        head.extend_from_slice(b"\":");
        let line_len = (head.len() + body.len() + 2) as u64;
        let (seg, seg_len) = st
            .segments
            .last()
            .map(|s| (s.path.display().to_string(), s.len))
            .unwrap_or_default();
        let out = st.out.as_mut().expect("segment open");
        let written = out
            .write_all(&head)
            .and_then(|()| out.write_all(body))
            .and_then(|()| out.write_all(b"}\n"))
            .and_then(|()| out.sync_data());
        if let Err(e) = written {
            // Take back a partial line, so that the next record starts on a line of its own.
            let _ = out.set_len(seg_len);
            return Err(Error::io(format!("cannot write the upload queue {seg}"), e));
        }
        st.put = seq;
        st.put_values += values;
        if let Some(s) = st.segments.last_mut() {
            s.len += line_len;
        }
        drop(st);
        self.changed.notify_all();
        Ok(seq)
    }

    /// Reads the records after the cursor, up to about `max_bytes` (at least one record).
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
                        None => return Ok(out),
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
                cur.offset += n as u64;
                line.pop();
                let text = String::from_utf8(line).map_err(|_| {
                    Error::Corrupt(format!("a record of {} is not UTF-8", path.display()))
                })?;
                let rec = parse_record(text).ok_or_else(|| {
                    Error::Corrupt(format!("a record of {} cannot be read", path.display()))
                })?;
                if rec.seq() <= cur.seq {
                    continue;
                }
                cur.seq = rec.seq();
                bytes += n;
                out.push(rec);
            }
        }
    }

    /// Records that the server acknowledged everything up to `seq` (`values` more values);
    /// removes segments and file copies no longer needed.
    pub fn ack(&self, seq: u64, values: u64, files: &[String]) -> Result<()> {
        let mut st = self.lock();
        if seq <= st.acked {
            return Ok(());
        }
        st.acked = seq;
        st.acked_values += values;
        write_atomic(&self.dir, "acked", format!("{seq}\n").as_bytes(), false)?;
        // Segments whose every record is acknowledged, except the one being written.
        while st.segments.len() > 1 && st.segments[1].first <= seq + 1 {
            let s = st.segments.remove(0);
            let _ = fs::remove_file(&s.path);
        }
        drop(st);
        for d in files {
            let _ = fs::remove_file(self.dir.join("files").join(d));
        }
        self.changed.notify_all();
        Ok(())
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

    /// Removes the queue's folder (everything was acknowledged). The lock is held until
    /// the folder is gone, so no other process can take the queue in between.
    pub fn remove(&self) -> Result<()> {
        fs::remove_dir_all(&self.dir).map_err(io(format!("cannot remove {}", self.dir.display())))
    }
}

fn lock_file(dir: &Path) -> Result<File> {
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

/// Scans a segment: cuts a torn last record; returns the length of whole records, the last
/// sequence number, and the values after `acked`.
fn scan_segment(path: &Path, acked: u64, cut: bool) -> Result<(u64, u64, u64)> {
    let f = File::open(path).map_err(io(format!("cannot open {}", path.display())))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let (mut len, mut last, mut values) = (0u64, 0u64, 0u64);
    loop {
        let mut line = Vec::new();
        let n = r
            .read_until(b'\n', &mut line)
            .map_err(io(format!("cannot read {}", path.display())))?;
        if n == 0 {
            break;
        }
        let whole = line.len() >= 2 && line[line.len() - 2..] == *b"}\n";
        let head = String::from_utf8_lossy(&line[..line.len().min(64)]);
        let header = if whole { parse_header(&head) } else { None };
        match header {
            Some((seq, n_values, _)) => {
                len += n as u64;
                last = seq;
                if seq > acked {
                    values += n_values;
                }
            }
            _ if !cut => break,
            _ => {
                // A torn or unreadable record: nothing after it was acknowledged as written.
                tracing::warn!(
                    "cutting a torn record at byte {len} of {} (left by a killed writer)",
                    path.display()
                );
                let f = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(io(format!("cannot open {}", path.display())))?;
                f.set_len(len)
                    .map_err(io(format!("cannot cut {}", path.display())))?;
                let _ = f.sync_all();
                break;
            }
        }
    }
    Ok((len, last, values))
}

/// What a queue holds, read without taking it over (its writer may be running).
#[derive(Clone, Debug)]
pub struct Inspection {
    pub dir: PathBuf,
    pub meta: QueueMeta,
    /// Last sequence number written, and last acknowledged by the server.
    pub put: u64,
    pub acked: u64,
    /// Values not yet acknowledged.
    pub pending_values: u64,
    /// A live process holds the queue (writing it, or syncing it).
    pub live: bool,
}

/// Reads a queue's state without locking it or changing anything.
pub fn inspect(dir: &Path) -> Result<Inspection> {
    let meta = read_meta(dir)?;
    let live = match lock_file(dir) {
        Ok(f) => match f.try_lock() {
            Ok(()) => false,
            Err(fs::TryLockError::WouldBlock) => true,
            Err(fs::TryLockError::Error(_)) => false,
        },
        Err(_) => false,
    };
    let acked = fs::read_to_string(dir.join("acked"))
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let (mut put, mut pending_values) = (acked, 0);
    let mut segs: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io(format!("cannot list {}", dir.display())))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("data-") && n.ends_with(".log"))
        })
        .collect();
    segs.sort();
    for s in segs {
        let (_, last, values) = scan_segment(&s, acked, false)?;
        put = put.max(last);
        pending_values += values;
    }
    Ok(Inspection {
        dir: dir.to_path_buf(),
        meta,
        put,
        acked,
        pending_values,
        live,
    })
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
mod tests {
    use super::*;
    use crate::backend::ObjectKind;
    use crate::operation::FloatPoint;
    use crate::path::FieldPath;

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
        let b: crate::backend::http::wire::Batch = serde_json::from_str(raw).unwrap();
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
