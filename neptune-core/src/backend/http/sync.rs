//! `neptune status` and `neptune sync`: what runs left in the local upload queue
//! (`NEPTUNE_HOME/queue`), and uploading it (feature `http`).
//!
//! A run leaves data there when it was logged offline, when it stopped before the server
//! acknowledged everything (a server down longer than the stop timeout), or when its process
//! was killed. Syncing registers offline runs on the server (idempotently: the queue id goes
//! with the registration, so a sync interrupted after it finds the same run), then uploads
//! every record after the last acknowledged one; the server applies each batch once however
//! often it is sent. One failing run does not stop the others. A queue whose writer is still
//! running is locked, and syncing it is refused. What the server refuses for good, and damaged
//! records, are kept aside in the queue's folder (see [`crate::backend::http::queue_disk::aside`]), which then
//! stays, listed by [`status`]: a sync is complete ([`SyncReport::is_complete`]) only when
//! nothing was refused, set aside or left behind.
//!
//! ```no_run
//! use neptune_core::sync::{status, sync_all, SyncOptions};
//! let home = neptune_core::home_from_env();
//! for run in status(&home) {
//!     println!("{} {}: {} values to upload", run.meta.request.project, run.meta.object_id, run.pending_values);
//! }
//! let report = sync_all(&home, &SyncOptions::from_env());
//! assert!(report.is_complete());
//! ```

use std::path::{Path, PathBuf};

use crate::backend::http::queue_disk::{self, aside, Cursor, DiskQueue, Inspection, OpenError};
use crate::backend::http::{nap, Backoff, Fail, HttpBackend, Sent, Uploader, MAX_REQUEST_BYTES};
use crate::backend::Rejected;
use crate::error::{Error, Result};

/// Settings of a sync.
#[derive(Clone, Debug, Default)]
pub struct SyncOptions {
    /// Server to upload to; `None`: the URL each run was logged with.
    pub url: Option<String>,
    /// API token (write scope on the runs' projects).
    pub token: String,
    /// Attempts per request before a run is given up (for now) on connection errors.
    pub attempts: u32,
    /// Show a progress bar per run (on a terminal).
    pub progress: bool,
}

impl SyncOptions {
    /// `NEPTUNE_URL` (if set) and `NEPTUNE_API_TOKEN`, 8 attempts, progress bars.
    pub fn from_env() -> SyncOptions {
        SyncOptions {
            url: crate::backend::http_choice::url_from_env(),
            token: crate::backend::http_choice::token_from_env().unwrap_or_default(),
            attempts: 8,
            progress: true,
        }
    }
}

/// A run that was synced.
#[derive(Clone, Debug)]
pub struct Synced {
    /// The queue's folder (now removed).
    pub dir: PathBuf,
    /// The id the run had locally, and its id on the server.
    pub local_id: String,
    /// The id the server gave the object.
    pub server_id: String,
    /// Values uploaded by this sync.
    pub values: u64,
    /// What this sync kept aside: operations and batches the server refused, damaged
    /// records (the rest was applied).
    pub rejected: Vec<Rejected>,
    /// Entries kept aside in the queue's folder in all (this sync's and earlier ones'); when
    /// there are any, the folder stays (`neptune status` lists it).
    pub set_aside: usize,
}

/// What a sync did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// The queues uploaded.
    pub synced: Vec<Synced>,
    /// Runs that could not be synced, with the reason (their data stays on disk).
    pub failed: Vec<(PathBuf, String)>,
}

impl SyncReport {
    /// Everything was uploaded and applied: nothing failed, was refused or kept aside.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty()
            && self
                .synced
                .iter()
                .all(|s| s.rejected.is_empty() && s.set_aside == 0)
    }
}

/// Every queue under `home` that holds data, with what it holds.
pub fn status(home: &Path) -> Vec<Inspection> {
    queue_disk::list(&home.join(queue_disk::QUEUE_DIR))
        .into_iter()
        .filter_map(|d| match queue_disk::inspect(&d) {
            Ok(i) => Some(i),
            Err(e) => {
                tracing::warn!("cannot read the queue {}: {e}", d.display());
                None
            }
        })
        .collect()
}

/// Uploads every queue under `home`; a failing run is reported and the others go on.
pub fn sync_all(home: &Path, opts: &SyncOptions) -> SyncReport {
    let mut report = SyncReport::default();
    for dir in queue_disk::list(&home.join(queue_disk::QUEUE_DIR)) {
        match sync_one(&dir, opts) {
            Ok(s) => report.synced.push(s),
            Err(e) => report.failed.push((dir, e.to_string())),
        }
    }
    report
}

/// Uploads one queue folder, then removes it.
pub fn sync_one(dir: &Path, opts: &SyncOptions) -> Result<Synced> {
    let q = match DiskQueue::open_existing(dir) {
        Ok(q) => q,
        Err(OpenError::Busy { pid }) => {
            let who = pid.map_or_else(|| "another process".to_owned(), |p| format!("process {p}"));
            let id = queue_disk::read_meta(dir)
                .map(|m| m.object_id)
                .unwrap_or_else(|_| "?".into());
            return Err(Error::io(
                format!("cannot sync {id} ({})", dir.display()),
                std::io::Error::other(format!(
                    "it is still being written by {who}; it was not touched. Sync it once \
                     that process has stopped"
                )),
            ));
        }
        Err(OpenError::Other(e)) => return Err(e),
    };
    let meta = q.meta();
    let url = opts.url.clone().unwrap_or_else(|| meta.url.clone());
    let http = HttpBackend::new(&url, &opts.token)?;
    let attempts = opts.attempts.max(1);
    let retry = |what: &str, f: &mut dyn FnMut() -> std::result::Result<(), Fail>| -> Result<()> {
        let mut backoff = Backoff::new();
        let stop = std::sync::atomic::AtomicBool::new(false);
        for attempt in 1..=attempts {
            match f() {
                Ok(()) => return Ok(()),
                Err(Fail::Transient {
                    reason,
                    retry_after,
                    ..
                }) if attempt < attempts => {
                    tracing::warn!("{what}: {reason}; retrying");
                    nap(backoff.pause(retry_after), &stop);
                }
                Err(f) => return Err(f.into_error(&url)),
            }
        }
        Err(Error::Worker(format!("{what}: no attempt left")))
    };
    let server_id = match meta.server_id.clone() {
        Some(id) => id,
        None => {
            let mut req = meta.request.clone();
            req.read_only = false;
            let mut id = String::new();
            retry("registering the run", &mut || {
                id = http.open(&req, Some(&meta.queue_id))?.id;
                Ok(())
            })?;
            q.set_server_id(&id)?;
            id
        }
    };
    let total = q.pending_values();
    let bar = if opts.progress {
        let b = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        b.set_message(format!("{} → {url} {server_id}", meta.object_id));
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let (_, acked) = q.positions();
    let mut cur = Cursor::after(acked);
    let mut rejected = Vec::new();
    let mut up = Uploader::new(&http, &q, &server_id);
    let mut fatal = None;
    loop {
        let read = q.read(&mut cur, MAX_REQUEST_BYTES);
        rejected.extend(q.take_notes());
        let recs = read?;
        if recs.is_empty() {
            break;
        }
        let mut start = 0;
        while start < recs.len() {
            let mut sent = 0;
            let r = retry("uploading", &mut || match up
                .send_head(&recs[start..], &mut |r| rejected.push(r))
            {
                Sent::Acked(n) => {
                    sent = n;
                    Ok(())
                }
                Sent::Failed(f) => Err(f),
                Sent::Fatal(m) => {
                    fatal = Some(m.clone());
                    Err(Fail::Refused {
                        status: 0,
                        code: "fatal".into(),
                        message: m,
                    })
                }
            });
            if let Some(m) = fatal.take() {
                return Err(Error::io(
                    format!("cannot sync {} ({})", meta.object_id, dir.display()),
                    std::io::Error::other(m),
                ));
            }
            r?;
            start += sent;
            bar.set_position(total.saturating_sub(q.pending_values()));
        }
    }
    bar.finish_and_clear();
    q.remove()?;
    Ok(Synced {
        dir: dir.to_path_buf(),
        local_id: meta.object_id.clone(),
        server_id,
        values: total,
        rejected,
        set_aside: aside::read(dir).len(),
    })
}
