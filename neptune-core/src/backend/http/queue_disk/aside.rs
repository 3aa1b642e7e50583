//! What a queue keeps aside instead of sending: operations and batches the server refused, and
//! damaged records. Nothing is deleted: each is a line of `rejected.jsonl` in the queue's
//! folder (kind, path, reason, and the operation or batch), written and fsynced before the
//! record is acknowledged; the bytes of a damaged record are copied to `damaged.log` as they
//! were. A queue that holds any is kept when its run stops or is synced, and `neptune status`
//! lists it.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::Rejected;
use crate::error::{Error, Result};

/// The file of the entries.
pub const REJECTED_FILE: &str = "rejected.jsonl";
/// The bytes of damaged records, one after the other.
pub const DAMAGED_FILE: &str = "damaged.log";

/// Why something was kept aside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AsideKind {
    /// The server refused the operation (the rest of its batch was applied).
    Refused,
    /// The server refused the batch as a whole, for good (its operations are in `batch`).
    RefusedBatch,
    /// The record failed its check; its bytes are in `damaged.log`.
    Damaged,
}

/// One line of `rejected.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AsideEntry {
    /// Refused by the server, or damaged on disk.
    pub kind: AsideKind,
    /// Sequence number of the record, when known.
    #[serde(default)]
    pub seq: Option<u64>,
    /// The field path (or what stands for it: `batch #N`, a segment and offset).
    pub path: String,
    /// Why.
    pub reason: String,
    /// The refused operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<serde_json::Value>,
    /// The refused batch (a JSON array of operations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<serde_json::Value>,
    /// Where the bytes of a damaged record are: offset and length in `damaged.log`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub damaged_at: Option<(u64, u64)>,
}

impl AsideEntry {
    /// The entry as the library reports a refusal.
    pub fn to_rejected(&self, dir: &Path) -> Rejected {
        Rejected {
            index: 0,
            path: self.path.clone(),
            reason: format!(
                "{} (kept in {})",
                self.reason,
                dir.join(REJECTED_FILE).display()
            ),
        }
    }
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::io(context, e)
}

/// Appends entries to `rejected.jsonl`, durably.
pub(crate) fn append(dir: &Path, entries: &[AsideEntry]) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let path = dir.join(REJECTED_FILE);
    let mut text = Vec::new();
    for e in entries {
        serde_json::to_writer(&mut text, e).map_err(|e| Error::Serialization {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        text.push(b'\n');
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io(format!("cannot open {}", path.display())))?;
    f.write_all(&text)
        .and_then(|()| f.sync_data())
        .map_err(io(format!("cannot write {}", path.display())))?;
    Ok(())
}

/// Copies the bytes of a damaged record to `damaged.log`; returns their offset there.
pub(crate) fn keep_damaged(dir: &Path, bytes: &[u8]) -> Result<u64> {
    let path = dir.join(DAMAGED_FILE);
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io(format!("cannot open {}", path.display())))?;
    let at = f
        .metadata()
        .map_err(io(format!("cannot read {}", path.display())))?
        .len();
    f.write_all(bytes)
        .and_then(|()| f.write_all(b"\n"))
        .and_then(|()| f.sync_data())
        .map_err(io(format!("cannot write {}", path.display())))?;
    Ok(at)
}

/// The entries of a queue folder (unreadable lines are skipped with a warning).
pub fn read(dir: &Path) -> Vec<AsideEntry> {
    let path = dir.join(REJECTED_FILE);
    let Ok(f) = File::open(&path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in BufReader::new(f).lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<AsideEntry>(&line) {
            Ok(e) => out.push(e),
            Err(e) => tracing::warn!("a line of {} cannot be read: {e}", path.display()),
        }
    }
    out
}

/// Whether a queue folder keeps anything aside.
pub fn any(dir: &Path) -> bool {
    fs::metadata(dir.join(REJECTED_FILE)).is_ok_and(|m| m.len() > 0)
}
