//! The content-addressed file area: file content named by its SHA-256, stored once however many
//! fields, objects or processes log it.
//!
//! On disk (`<home>/files/`), content `d` lives at `files/<d[0..2]>/<d[2..]>`. A write streams
//! into a temporary file under `files/tmp/` while hashing, then renames it to its digest name:
//! a reader never sees a half-written file under a digest name, and a process killed mid-write
//! leaves at most a stray temporary file (removed the next time the store opens). The content is
//! flushed to disk before the rename and the directory after it, so content whose reference a
//! store acknowledged survives a crash of the operating system. Content that is already present
//! is not written again. In memory ([`Store::in_memory`](super::Store)), the
//! area is a map from digest to bytes. With the `object-store` feature, the area may be an
//! object store instead (module `files_object`: S3-compatible storage for a team server).
//!
//! A write is two steps, [`FileArea::stage`] (stream in and hash, invisible) and
//! [`FileArea::place`] (visible under the digest), so that a server can record an upload in
//! between (module `files_gc`).

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Read and write buffer of the area: large enough for full-speed copies, small enough that a
/// 1 GiB upload stays far under 64 MB of memory.
pub(crate) const BUF: usize = 1 << 20;

/// Where file content lives.
pub(crate) enum FileArea {
    Disk {
        dir: PathBuf,
    },
    Memory(Mutex<HashMap<String, Arc<[u8]>>>),
    /// On an object store (S3-compatible storage, or a folder through `object_store`).
    #[cfg(feature = "object-store")]
    Object(super::files_object::ObjectArea),
}

/// Content streamed into the area and hashed, not yet visible under its digest: see
/// [`FileArea::stage`] and [`FileArea::place`]. Dropped unplaced, it leaves at most a
/// temporary file or object behind (removed when the store opens, or by `gc`).
pub(crate) struct Staged {
    /// The SHA-256 of the content.
    pub(crate) digest: String,
    /// Its size in bytes.
    pub(crate) size: u64,
    pending: Pending,
}

enum Pending {
    Disk(PathBuf, fs::File),
    Memory(Vec<u8>),
    #[cfg(feature = "object-store")]
    Object(super::files_object::Pending),
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Whether `d` is a lowercase hex SHA-256 (so it is safe as a file name).
pub(crate) fn is_digest(d: &str) -> bool {
    d.len() == 64
        && d.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check_digest(d: &str) -> Result<()> {
    if is_digest(d) {
        Ok(())
    } else {
        Err(Error::Corrupt(format!(
            "file digest {d:?} is not a lowercase hex SHA-256"
        )))
    }
}

/// Flushes a directory's entries (files created, renamed or removed in it) to disk. Nothing to
/// do where directories cannot be opened as files (Windows, whose file system journals them).
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("cannot flush the directory {}", dir.display()), e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A unique temporary name in this process.
pub(crate) fn temp_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{}-{n}-{nanos:08x}.part", std::process::id())
}

impl FileArea {
    /// The area of an on-disk store in `home`: creates `home/files/tmp` and removes temporary
    /// files that a killed writer left behind (only those older than an hour, as another
    /// process may be writing the others right now).
    pub(crate) fn open(home: &Path) -> Result<FileArea> {
        let dir = home.join("files");
        let tmp = dir.join("tmp");
        fs::create_dir_all(&tmp)
            .map_err(|e| Error::io(format!("cannot create the file area {}", tmp.display()), e))?;
        sync_dir(home)?;
        sync_dir(&dir)?;
        if let Ok(entries) = fs::read_dir(&tmp) {
            let hour = std::time::Duration::from_secs(3600);
            for e in entries.flatten() {
                let old = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > hour);
                if old {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        Ok(FileArea::Disk { dir })
    }

    pub(crate) fn memory() -> FileArea {
        FileArea::Memory(Mutex::new(HashMap::new()))
    }

    fn path_of(dir: &Path, digest: &str) -> PathBuf {
        dir.join(&digest[..2]).join(&digest[2..])
    }

    /// Streams `content` into the area; returns its digest and size.
    pub(crate) fn put(&self, content: &mut dyn Read) -> Result<(String, u64)> {
        let staged = self.stage(content)?;
        let out = (staged.digest.clone(), staged.size);
        self.place(staged)?;
        Ok(out)
    }

    /// Streams `content` in while hashing it, without making it visible under its digest
    /// yet: [`FileArea::place`] does that. Between the two, a server records the upload (see
    /// `gc` in module `files_gc`).
    pub(crate) fn stage(&self, content: &mut dyn Read) -> Result<Staged> {
        match self {
            FileArea::Disk { dir } => stage_disk(dir, content),
            FileArea::Memory(_) => {
                let mut bytes = Vec::new();
                content
                    .read_to_end(&mut bytes)
                    .map_err(|e| Error::io("cannot read the content to store", e))?;
                Ok(Staged {
                    digest: hex(&Sha256::digest(&bytes)),
                    size: bytes.len() as u64,
                    pending: Pending::Memory(bytes),
                })
            }
            #[cfg(feature = "object-store")]
            FileArea::Object(area) => {
                let (digest, size, pending) = area.stage(content)?;
                Ok(Staged {
                    digest,
                    size,
                    pending: Pending::Object(pending),
                })
            }
        }
    }

    /// Makes staged content visible under its digest; content already there stays as it is.
    pub(crate) fn place(&self, staged: Staged) -> Result<()> {
        let Staged {
            digest, pending, ..
        } = staged;
        match (self, pending) {
            (FileArea::Disk { dir }, Pending::Disk(tmp, out)) => place_disk(dir, &digest, tmp, out),
            (FileArea::Memory(map), Pending::Memory(bytes)) => {
                map.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(digest)
                    .or_insert_with(|| bytes.into());
                Ok(())
            }
            #[cfg(feature = "object-store")]
            (FileArea::Object(area), Pending::Object(p)) => area.place(&digest, p),
            (_, pending) => {
                discard(pending);
                Err(Error::Corrupt(
                    "staged content placed in another file area".into(),
                ))
            }
        }
    }

    /// Drops staged content that will not be placed.
    pub(crate) fn discard(&self, staged: Staged) {
        match (self, staged.pending) {
            #[cfg(feature = "object-store")]
            (FileArea::Object(area), Pending::Object(p)) => area.discard(p),
            (_, p) => discard(p),
        }
    }

    /// Whether the area holds `digest`.
    pub(crate) fn has(&self, digest: &str) -> Result<bool> {
        check_digest(digest)?;
        Ok(match self {
            FileArea::Disk { dir } => Self::path_of(dir, digest).is_file(),
            FileArea::Memory(map) => map
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains_key(digest),
            #[cfg(feature = "object-store")]
            FileArea::Object(area) => area.has(digest)?,
        })
    }

    /// Opens the content named `digest`.
    pub(crate) fn open_content(&self, digest: &str) -> Result<Box<dyn Read + Send>> {
        check_digest(digest)?;
        let missing = || {
            Error::Corrupt(format!(
                "file content {digest} is missing from the file area"
            ))
        };
        match self {
            FileArea::Disk { dir } => {
                let p = Self::path_of(dir, digest);
                match fs::File::open(&p) {
                    Ok(f) => Ok(Box::new(f)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Err(missing()),
                    Err(e) => Err(Error::io(format!("cannot open {}", p.display()), e)),
                }
            }
            FileArea::Memory(map) => {
                let bytes = map
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(digest)
                    .cloned()
                    .ok_or_else(missing)?;
                Ok(Box::new(io::Cursor::new(bytes)))
            }
            #[cfg(feature = "object-store")]
            FileArea::Object(area) => area.open_content(digest),
        }
    }
}

/// Removes what staged content left (a temporary file; nothing in memory or on an object
/// store, where [`FileArea::discard`] is needed).
fn discard(pending: Pending) {
    if let Pending::Disk(tmp, out) = pending {
        drop(out);
        let _ = fs::remove_file(tmp);
    }
}

fn stage_disk(dir: &Path, content: &mut dyn Read) -> Result<Staged> {
    let tmp = dir.join("tmp").join(temp_name());
    let io_err = |what: &str, e| Error::io(format!("{what} {}", tmp.display()), e);
    let mut out = fs::File::create(&tmp).map_err(|e| io_err("cannot create", e))?;
    let written = (|| -> Result<(String, u64)> {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; BUF];
        let mut size = 0u64;
        loop {
            let n = match content.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("cannot read the content to store", e)),
            };
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| io_err("cannot write", e))?;
            size += n as u64;
        }
        Ok((hex(&hasher.finalize()), size))
    })();
    match written {
        Ok((digest, size)) => Ok(Staged {
            digest,
            size,
            pending: Pending::Disk(tmp, out),
        }),
        Err(e) => {
            drop(out);
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn place_disk(dir: &Path, digest: &str, tmp: PathBuf, out: fs::File) -> Result<()> {
    let dest = FileArea::path_of(dir, digest);
    if dest.is_file() {
        // Stored before (by this or another field, object or process): keep one copy, and
        // flush nothing.
        drop(out);
        let _ = fs::remove_file(&tmp);
        return Ok(());
    }
    let parent = dir.join(&digest[..2]);
    let new_parent = !parent.is_dir();
    // Content, then its name, then the name's directory: what a rename made visible has its
    // bytes on disk, and the name survives a crash.
    let flushed = out.sync_data();
    drop(out);
    let placed = flushed
        .and_then(|_| fs::create_dir_all(&parent))
        .and_then(|_| fs::rename(&tmp, &dest));
    if let Err(e) = placed {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(
            format!("cannot move content into {}", dest.display()),
            e,
        ));
    }
    sync_dir(&parent)?;
    if new_parent {
        sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_files(dir: &Path) -> usize {
        walk(dir)
            .into_iter()
            .filter(|p| !p.starts_with(dir.join("tmp")))
            .count()
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    #[test]
    fn disk_area_stores_content_once_under_its_digest() {
        let home = tempfile::tempdir().unwrap();
        let area = FileArea::open(home.path()).unwrap();
        let (d1, n1) = area.put(&mut &b"hello"[..]).unwrap();
        let (d2, _) = area.put(&mut &b"hello"[..]).unwrap();
        assert_eq!(d1, d2);
        assert_eq!(n1, 5);
        assert_eq!(
            d1,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(area.has(&d1).unwrap());
        let mut back = String::new();
        area.open_content(&d1)
            .unwrap()
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, "hello");
        let files = home.path().join("files");
        assert_eq!(count_files(&files), 1);
        assert!(fs::read_dir(files.join("tmp")).unwrap().next().is_none());
        area.put(&mut &b""[..]).unwrap();
        assert_eq!(count_files(&files), 2);
    }

    #[test]
    fn memory_area_and_bad_digests() {
        let area = FileArea::memory();
        let (d, n) = area.put(&mut &b"abc"[..]).unwrap();
        assert_eq!(n, 3);
        assert!(area.has(&d).unwrap());
        assert!(area.has("../etc/passwd").is_err());
        assert!(area.open_content(&"0".repeat(64)).is_err());
    }

    #[test]
    fn failed_reads_leave_no_file() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk gone"));
                }
                self.0 -= 1;
                buf[0] = 1;
                Ok(1)
            }
        }
        let home = tempfile::tempdir().unwrap();
        let area = FileArea::open(home.path()).unwrap();
        assert!(area.put(&mut Failing(3)).is_err());
        assert_eq!(walk(&home.path().join("files")).len(), 0);
    }
}
