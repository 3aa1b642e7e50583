//! Reading a queue folder's state: the scan of a segment (which also cuts a torn last line
//! when the queue is opened), and [`inspect`] for `neptune status`.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::record::{self, Line};
use super::{aside, lock_file, read_acked, read_meta, segment_firsts, segment_name, QueueMeta};
use crate::error::{Error, Result};

/// What a scan of a segment found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Bytes of whole lines.
    pub len: u64,
    /// The highest sequence number seen (damaged records included when their header reads).
    pub last: u64,
    /// Values of the records after the acknowledged position.
    pub values: u64,
    /// Damaged lines (not yet kept aside).
    pub damaged: usize,
}

/// Scans a segment. With `cut`, a torn last line (no newline: a writer killed mid-write) is
/// cut off, unless it is a whole record whose newline alone was damaged, which is mended.
pub(crate) fn scan_segment(path: &Path, acked: u64, cut: bool) -> Result<Scan> {
    let io = |what: &str| {
        let context = format!("cannot {what} {}", path.display());
        move |e| Error::io(context, e)
    };
    let f = File::open(path).map_err(io("open"))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut scan = Scan::default();
    loop {
        let mut line = Vec::new();
        let n = r.read_until(b'\n', &mut line).map_err(io("read"))?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            if !cut {
                break;
            }
            let mut f = OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io("open"))?;
            // A whole record whose newline is missing, or was damaged into another byte.
            let whole = match record::parse(&line) {
                Line::Record(rec) => Some((rec, n as u64)),
                _ => match record::parse(&line[..n - 1]) {
                    Line::Record(rec) => Some((rec, n as u64 - 1)),
                    _ => None,
                },
            };
            if let Some((rec, end)) = whole {
                tracing::warn!(
                    "mending the end of line of the last record of {}",
                    path.display()
                );
                f.seek(SeekFrom::Start(scan.len + end))
                    .and_then(|_| f.write_all(b"\n"))
                    .map_err(io("mend"))?;
                count(&mut scan, rec.seq(), rec.values(), acked);
                scan.len += end + 1;
            } else {
                tracing::warn!(
                    "cutting a torn record at byte {} of {} (left by a killed writer)",
                    scan.len,
                    path.display()
                );
                f.set_len(scan.len).map_err(io("cut"))?;
            }
            let _ = f.sync_all();
            break;
        }
        scan.len += n as u64;
        line.pop();
        match record::parse(&line) {
            Line::Record(rec) => count(&mut scan, rec.seq(), rec.values(), acked),
            Line::Blank => {}
            Line::Damaged { seq, .. } => {
                scan.damaged += 1;
                if let Some(seq) = seq {
                    scan.last = scan.last.max(seq);
                }
            }
        }
    }
    Ok(scan)
}

fn count(scan: &mut Scan, seq: u64, values: u64, acked: u64) {
    scan.last = scan.last.max(seq);
    if seq > acked {
        scan.values += values;
    }
}

/// What a queue holds, read without taking it over (its writer may be running).
#[derive(Clone, Debug)]
pub struct Inspection {
    /// The queue's folder.
    pub dir: PathBuf,
    /// Its metadata.
    pub meta: QueueMeta,
    /// Last sequence number written, and last acknowledged by the server.
    pub put: u64,
    /// The last sequence number the server acknowledged.
    pub acked: u64,
    /// Values not yet acknowledged.
    pub pending_values: u64,
    /// A live process holds the queue (writing it, or syncing it).
    pub live: bool,
    /// What was kept aside (`rejected.jsonl`): operations and batches the server refused,
    /// damaged records.
    pub set_aside: Vec<aside::AsideEntry>,
    /// Damaged records still among the records (kept aside when the queue is next read).
    pub damaged: usize,
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
    let acked = read_acked(dir);
    let (mut put, mut pending_values, mut damaged) = (acked, 0, 0);
    for first in segment_firsts(dir)? {
        let scan = scan_segment(&dir.join(segment_name(first)), acked, false)?;
        put = put.max(scan.last);
        pending_values += scan.values;
        damaged += scan.damaged;
    }
    Ok(Inspection {
        dir: dir.to_path_buf(),
        meta,
        put,
        acked,
        pending_values,
        live,
        set_aside: aside::read(dir),
        damaged,
    })
}
