//! Writing to the queue on a full disk: waiting for room (nothing is dropped) until `stop()`
//! reaches its end, and reporting what could not be kept then.

use std::io::ErrorKind;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::QueuedBackend;
use crate::backend::http::queue_disk::DiskQueue;
use crate::backend::Rejected;
use crate::error::{Error, Result};

/// Longest pause between two attempts to write the queue on a full disk.
pub(super) const MAX_FULL_PAUSE: Duration = Duration::from_secs(2);
/// Attempts to write the queue on other errors before the batch is reported as not kept.
const WRITE_ATTEMPTS: u32 = 5;

/// Whether a write failed for want of room (a full disk or quota).
fn is_full(e: &Error) -> bool {
    match e {
        Error::Io { source, .. } => {
            matches!(
                source.kind(),
                ErrorKind::StorageFull | ErrorKind::QuotaExceeded
            )
        }
        _ => false,
    }
}

impl QueuedBackend {
    /// (warning once), on other errors a few times.
    pub(super) fn append_retrying(&self, q: &DiskQueue, body: &[u8], values: u64) -> Result<u64> {
        let mut pause = Duration::from_millis(50);
        let mut attempts = 0;
        loop {
            let e = match q.append_ops_raw(body, values) {
                Ok(seq) => {
                    if self.shared.lock().disk_full.take().is_some() {
                        tracing::warn!(
                            "there is room again for the upload queue {}: logging goes on, \
                             nothing was dropped",
                            q.dir().display()
                        );
                    }
                    return Ok(seq);
                }
                Err(e) => e,
            };
            attempts += 1;
            let full = is_full(&e);
            if !full && attempts >= WRITE_ATTEMPTS {
                tracing::warn!(
                    "the upload queue {} cannot be written: {e}",
                    q.dir().display()
                );
                return Err(e);
            }
            let mut stop_by = None;
            if full {
                let mut st = self.shared.lock();
                if st.disk_full.is_none() {
                    tracing::warn!(
                        "the disk of the upload queue {} is full ({e}); logging waits for room \
                         (appends block once the buffers are full) and nothing is dropped: \
                         free space there, or let the server take what waits",
                        q.dir().display()
                    );
                }
                st.disk_full = Some(e.to_string());
                stop_by = st.stop_by;
            }
            if self.shared.stop.load(Ordering::Acquire) {
                return Err(e);
            }
            if let Some(end) = stop_by {
                if Instant::now() >= end {
                    return Err(Error::io(
                        format!(
                            "stop() gave up waiting for room on the full disk of {}",
                            q.dir().display()
                        ),
                        std::io::Error::new(ErrorKind::StorageFull, e.to_string()),
                    ));
                }
            }
            self.nap_until_room(pause);
            pause = (pause * 2).min(MAX_FULL_PAUSE);
        }
    }

    /// Why nothing more is written: `stop()` reached its end while the disk was full.
    pub(super) fn gave_up_on_room(&self) -> Option<String> {
        let st = self.shared.lock();
        let full = st.disk_full.as_ref()?;
        st.stop_by.filter(|end| Instant::now() >= *end)?;
        Some(format!(
            "stop() ended while the disk of {} was full: {full}",
            self.root.display()
        ))
    }

    /// Reports `lost` values of `paths` that were not written to the queue.
    pub(super) fn not_kept(&self, paths: String, lost: u64, why: &str) -> Vec<Rejected> {
        self.shared.lock().not_kept += lost;
        vec![Rejected {
            index: 0,
            path: paths,
            reason: format!("{lost} value(s) were not kept: {why}"),
        }]
    }

    /// Sleeps `pause` before writing to a full disk again; less when `stop()` begins or ends.
    fn nap_until_room(&self, pause: Duration) {
        let end = Instant::now() + pause;
        loop {
            let until = self.shared.lock().stop_by.map_or(end, |s| s.min(end));
            let now = Instant::now();
            if now >= until || self.shared.stop.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(50)));
        }
    }
}
