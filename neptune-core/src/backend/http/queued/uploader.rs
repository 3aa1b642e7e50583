//! The uploader thread: sends what the queue holds, in order, and retries.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::retry::{nap, Backoff, Shared};
use crate::backend::http::client::{Fail, HttpBackend};
use crate::backend::http::queue_disk::{Cursor, DiskQueue, Record};
use crate::backend::http::upload::{Sent, Uploader, MAX_REQUEST_BYTES};

/// The uploader: sends the queue's records in order until `stop`.
pub(super) fn upload_loop(
    http: Arc<HttpBackend>,
    q: Arc<DiskQueue>,
    shared: Arc<Shared>,
    object: String,
) {
    let (_, acked) = q.positions();
    let mut cur = Cursor::after(acked);
    let mut recs: Vec<Record> = Vec::new();
    let mut backoff = Backoff::new();
    let url = http.url().to_owned();
    let mut up = Uploader::new(&http, &q, &object);
    let fatal = |message: String| {
        tracing::error!("the upload of {} stopped: {message}", q.dir().display());
        shared.lock().fatal = Some(message);
        q.notify();
    };
    while !shared.stop.load(Ordering::Acquire) {
        if recs.is_empty() {
            let read = q.read(&mut cur, MAX_REQUEST_BYTES);
            let damaged = q.take_notes();
            if !damaged.is_empty() {
                shared.lock().rejected.extend(damaged);
            }
            match read {
                Ok(r) => recs = r,
                Err(e) => return fatal(format!("the queue cannot be read: {e}")),
            }
            if recs.is_empty() {
                // Everything before the cursor was sent or kept aside (damaged records).
                if cur.seq > q.positions().1 {
                    if let Err(e) = q.ack(cur.seq, 0, &[]) {
                        return fatal(e.to_string());
                    }
                    q.notify();
                }
                q.wait_put(cur.seq, Duration::from_millis(200));
                continue;
            }
        }
        // Refusals are shared as they are kept aside, before their records are acknowledged.
        let sent = up.send_head(&recs, &mut |r| shared.lock().rejected.push(r));
        let mut st = shared.lock();
        match sent {
            Sent::Acked(n) => {
                recs.drain(..n.min(recs.len()));
                backoff.reset();
                st.auth_error = None;
                if st.down.take().is_some() {
                    tracing::warn!("the connection to {url} is back; uploading what was queued");
                }
            }
            Sent::Failed(Fail::Auth { status, message }) => {
                if st.auth_error.is_none() {
                    tracing::error!(
                        "{url} refused the upload ({status}): {message}; the data waits in {}",
                        q.dir().display()
                    );
                }
                st.auth_error = Some(format!("{status}: {message}"));
                drop(st);
                q.notify();
                nap(
                    backoff.pause(None).max(Duration::from_secs(5)),
                    &shared.stop,
                );
            }
            Sent::Failed(f) => {
                let (reason, retry_after) = match f {
                    Fail::Transient {
                        reason,
                        retry_after,
                        ..
                    } => (reason, retry_after),
                    other => (other.message(), None),
                };
                if st.down.is_none() {
                    tracing::warn!(
                        "lost the connection to {url} ({reason}); retrying in the background, \
                         nothing is lost: the data waits in {}",
                        q.dir().display()
                    );
                }
                st.down = Some(reason);
                drop(st);
                nap(backoff.pause(retry_after), &shared.stop);
            }
            Sent::Fatal(message) => {
                drop(st);
                return fatal(message);
            }
        }
        q.notify();
    }
}
