//! Serving connections: HTTP/1.1 with a header read timeout ([`Limits::header_timeout`], which
//! also closes idle connections) and at most [`Limits::max_connections`] open at once.
//!
//! A connection is busy while a request of it is handled or its answer is sent. When a new
//! connection would pass the cap, the oldest connection that is not busy (idle, or still
//! sending its headers, as a slow or half-open client does) is closed to make room, so clients
//! that open connections and send nothing cannot lock others out; when every connection is
//! busy, new ones wait in the listen queue until one ends. Busy connections are bounded by the
//! body timeouts and the memory for bodies ([`crate::body`]).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::Request;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

use crate::api::Limits;

/// How long a shutdown waits for busy connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// An open connection, as the accept loop sees it.
struct Slot {
    /// Requests (and answers being sent) in progress.
    busy: Arc<AtomicUsize>,
    /// Asks the connection to close (at once when not busy, else after its request).
    evict: Arc<Notify>,
    leaving: bool,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    /// By id, so the first is the oldest.
    live: BTreeMap<u64, Slot>,
    leaving: usize,
}

/// The open connections.
#[derive(Default)]
struct Conns {
    table: Mutex<Table>,
    /// Signalled whenever a connection ends.
    ended: Notify,
}

impl Conns {
    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the lock leaves a consistent table (each change is one step).
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether one more connection fits under `max`, closing the oldest idle one if needed.
    fn make_room(&self, max: usize) -> bool {
        let mut t = self.table();
        if t.live.len() - t.leaving < max {
            return true;
        }
        let victim = t
            .live
            .values_mut()
            .find(|s| !s.leaving && s.busy.load(Ordering::Acquire) == 0);
        match victim {
            Some(s) => {
                s.leaving = true;
                s.evict.notify_one();
                t.leaving += 1;
                true
            }
            None => false,
        }
    }

    fn add(&self) -> (u64, Arc<AtomicUsize>, Arc<Notify>) {
        let mut t = self.table();
        let id = t.next_id;
        t.next_id += 1;
        let busy = Arc::new(AtomicUsize::new(0));
        let evict = Arc::new(Notify::new());
        t.live.insert(
            id,
            Slot {
                busy: busy.clone(),
                evict: evict.clone(),
                leaving: false,
            },
        );
        (id, busy, evict)
    }

    fn remove(&self, id: u64) {
        let mut t = self.table();
        if let Some(s) = t.live.remove(&id) {
            if s.leaving {
                t.leaving -= 1;
            }
        }
        drop(t);
        self.ended.notify_waiters();
    }

    fn is_empty(&self) -> bool {
        self.table().live.is_empty()
    }
}

/// Removes a connection from the table when its task ends, however it ends.
struct Registration {
    conns: Arc<Conns>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.conns.remove(self.id);
    }
}

/// Counts a request as in progress until dropped.
struct BusyGuard(Arc<AtomicUsize>);

impl BusyGuard {
    fn new(busy: &Arc<AtomicUsize>) -> Self {
        busy.fetch_add(1, Ordering::AcqRel);
        BusyGuard(busy.clone())
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An answer's body that keeps its connection busy until it is sent (or dropped).
struct Tracked {
    inner: Body,
    _busy: BusyGuard,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Serves `app` on `listener` under `limits` until `shutdown` completes, then lets busy
/// connections finish (for up to 30 s).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let conns = Arc::new(Conns::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let max = limits.max_connections.max(1);
    tokio::pin!(shutdown);
    'accept: loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            _ = &mut shutdown => break 'accept,
        };
        loop {
            let ended = conns.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if conns.make_room(max) {
                break;
            }
            tokio::select! {
                _ = ended => {}
                _ = &mut shutdown => break 'accept,
            }
        }
        let (id, busy, evict) = conns.add();
        let registration = Registration {
            conns: conns.clone(),
            id,
        };
        tokio::spawn(connection(
            stream,
            app.clone(),
            limits,
            busy,
            evict,
            stop_rx.clone(),
            registration,
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = async {
        loop {
            let ended = conns.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if conns.is_empty() {
                return;
            }
            ended.await;
        }
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
        tracing::warn!("shutting down with connections still open");
    }
    Ok(())
}

/// An accept error: out of file descriptors (wait a little for some to close), or a
/// connection that failed before it was accepted (go on).
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
    ) {
        return;
    }
    tracing::warn!("accepting a connection failed: {e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn connection(
    stream: TcpStream,
    app: Router,
    limits: Limits,
    busy: Arc<AtomicUsize>,
    evict: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
    _registration: Registration,
) {
    let _ = stream.set_nodelay(true);
    let counter = busy.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let guard = BusyGuard::new(&counter);
        let app = app.clone();
        async move {
            let resp = match app.oneshot(req.map(Body::new)).await {
                Ok(r) => r,
                Err(e) => match e {},
            };
            Ok::<_, Infallible>(resp.map(|inner| {
                Body::new(Tracked {
                    inner,
                    _busy: guard,
                })
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!("connection ended: {e}");
                }
                return;
            }
            _ = evict.notified(), if !closing => {
                if busy.load(Ordering::Acquire) == 0 {
                    return;
                }
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = stop.changed(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}
