//! What the uploader shares with the writer ([`Shared`]), and the pauses between attempts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::backend::Rejected;

/// Longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What the uploader tells the others.
#[derive(Default)]
pub(crate) struct Status {
    /// Operations the server refused, not yet reported.
    pub rejected: Vec<Rejected>,
    /// The server refuses the token: waiting is pointless until that changes.
    pub auth_error: Option<String>,
    /// The queue cannot be read or written.
    pub fatal: Option<String>,
    /// The last transient failure, while the connection is down.
    pub down: Option<String>,
    /// The queue's disk is full: the worker waits for room (and appends, once the buffers
    /// are full, wait for the worker).
    pub disk_full: Option<String>,
    /// When `stop()` ends: writing to a full disk is given up then.
    pub stop_by: Option<Instant>,
    /// Values `execute` could not write to the queue (reported as refused), for `stop()`.
    pub not_kept: u64,
}

pub(crate) struct Shared {
    pub status: Mutex<Status>,
    pub stop: AtomicBool,
}

impl Shared {
    pub(crate) fn new() -> Arc<Shared> {
        Arc::new(Shared {
            status: Mutex::new(Status::default()),
            stop: AtomicBool::new(false),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Capped exponential backoff with jitter.
pub(crate) struct Backoff {
    next: Duration,
    seed: u64,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1;
        Backoff {
            next: Duration::from_millis(100),
            seed,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.next = Duration::from_millis(100);
    }

    /// The pause before the next attempt: half to all of the current step (or the server's
    /// Retry-After), doubling up to [`MAX_BACKOFF`].
    pub(crate) fn pause(&mut self, retry_after: Option<Duration>) -> Duration {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let frac = 0.5 + (self.seed % 1000) as f64 / 2000.0;
        let d = self.next.mul_f64(frac);
        self.next = (self.next * 2).min(MAX_BACKOFF);
        retry_after.map_or(d, |r| r.max(d))
    }
}

/// Sleeps `d`, or less when `stop` is raised.
pub(crate) fn nap(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::Acquire) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        let mut b = Backoff::new();
        let first = b.pause(None);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        for _ in 0..20 {
            assert!(b.pause(None) <= MAX_BACKOFF);
        }
        assert!(b.pause(Some(Duration::from_secs(100))) >= Duration::from_secs(100));
        b.reset();
        assert!(b.pause(None) <= Duration::from_millis(100));
    }
}
