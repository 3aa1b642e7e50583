//! The queue's files on disk: names, metadata, the lock, and the listing of queues.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{io, QueueMeta, META_VERSION};
use crate::backend::OpenRequest;
use crate::error::{Error, Result};
use crate::model::rules::clock::now_ms;

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

pub(super) fn write_atomic(dir: &Path, name: &str, bytes: &[u8], sync: bool) -> Result<()> {
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

pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
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
