//! Request bodies under the server's limits: a body must keep arriving (no gap longer than
//! [`Limits::body_timeout`], and on average at least [`Limits::min_body_rate`] bytes a second
//! once that grace has passed), else 408; and the bytes of bodies held in memory across all
//! requests stay under [`Limits::body_memory`]: a request waits up to
//! [`Limits::body_memory_wait`] for room, then gets 503 with `Retry-After`.
//!
//! The size of a JSON body is limited by the route's
//! [`DefaultBodyLimit`](axum::extract::DefaultBodyLimit) (the router sets
//! [`Limits::max_body`]); uploads stream under [`Limits::max_upload`].
//!
//! Room is counted in KiB permits of one semaphore. A JSON body reserves its declared length
//! before its first byte is read and keeps the room until the body's bytes are dropped (the
//! [`Bytes`] own the permit); an upload holds room for each chunk until it is written.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, BodyDataStream, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::RequestExt;
use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::api::Limits;
use crate::error::{ApiError, ApiResult};

/// The room for request bodies in memory, shared by every request.
#[derive(Clone, Debug)]
pub struct BodyBudget {
    permits: Arc<Semaphore>,
    kib: usize,
}

impl BodyBudget {
    /// The budget of `limits` (never less than one largest JSON body and a MiB).
    pub fn new(limits: &Limits) -> Self {
        let bytes = limits
            .body_memory
            .max(limits.max_body.saturating_add(1 << 20));
        let kib = (bytes / 1024).min(Semaphore::MAX_PERMITS);
        BodyBudget {
            permits: Arc::new(Semaphore::new(kib)),
            kib,
        }
    }

    /// KiB of room free now.
    pub fn available_kib(&self) -> usize {
        self.permits.available_permits()
    }
}

/// Room held for body bytes; given back when dropped.
pub(crate) type Room = Option<OwnedSemaphorePermit>;

/// A request body read under the limits.
pub(crate) struct BodyReader {
    stream: BodyDataStream,
    budget: BodyBudget,
    limits: Limits,
    started: Instant,
    received: u64,
    /// Bytes of room held beyond the bytes read so far.
    credit: u64,
    /// What a body limit (a route's `DefaultBodyLimit`) lets this body be: its declared length
    /// when that fits, else the limit; `None` when neither is known.
    allowed: Option<u64>,
}

impl BodyReader {
    pub(crate) fn new(body: Body, budget: &BodyBudget, limits: &Limits) -> Self {
        BodyReader {
            allowed: body.size_hint().upper(),
            stream: body.into_data_stream(),
            budget: budget.clone(),
            limits: *limits,
            started: Instant::now(),
            received: 0,
            credit: 0,
        }
    }

    /// Holds room for `bytes` bytes still to come (a declared length), waiting a little for it.
    pub(crate) async fn reserve_ahead(&mut self, bytes: u64) -> ApiResult<Room> {
        if bytes == 0 {
            return Ok(None);
        }
        let kib = bytes.div_ceil(1024);
        let permit = self.acquire(kib).await?;
        self.credit += kib * 1024;
        Ok(Some(permit))
    }

    /// Holds room for `bytes` bytes just read: from the credit, else from the budget.
    async fn reserve(&mut self, bytes: u64) -> ApiResult<Room> {
        if bytes <= self.credit {
            self.credit -= bytes;
            return Ok(None);
        }
        let kib = (bytes - self.credit).div_ceil(1024);
        let permit = self.acquire(kib).await?;
        self.credit = self.credit + kib * 1024 - bytes;
        Ok(Some(permit))
    }

    /// `kib` permits of the budget, within [`Limits::body_memory_wait`] (else 503).
    fn acquire(
        &self,
        kib: u64,
    ) -> impl std::future::Future<Output = ApiResult<OwnedSemaphorePermit>> {
        let total = self.budget.kib;
        let sem = self.budget.permits.clone();
        let wait = self.limits.body_memory_wait;
        async move {
            let n = match u32::try_from(kib) {
                Ok(n) if kib <= total as u64 => n,
                _ => {
                    return Err(ApiError::too_large(format!(
                        "the request body is larger than the server's memory for bodies \
                         ({total} KiB)"
                    )))
                }
            };
            match tokio::time::timeout(wait, sem.acquire_many_owned(n)).await {
                Ok(Ok(p)) => Ok(p),
                Ok(Err(_)) => Err(ApiError::internal("the body budget is closed")),
                Err(_) => Err(ApiError::busy(
                    format!(
                        "the server holds as many request bodies in memory as it may ({} MiB); \
                         retry shortly",
                        total / 1024
                    ),
                    retry_seconds(wait),
                )),
            }
        }
    }

    /// How long the next piece of the body may take: the idle timeout, or less when the body
    /// is behind the minimum rate.
    fn patience(&self) -> Duration {
        let idle = self.limits.body_timeout;
        if self.limits.min_body_rate == 0 {
            return idle;
        }
        let earned =
            Duration::from_secs_f64(self.received as f64 / self.limits.min_body_rate as f64);
        (idle + earned)
            .saturating_sub(self.started.elapsed())
            .min(idle)
    }

    /// The next chunk and the room held for it (`None` at the end of the body).
    pub(crate) async fn next(&mut self) -> ApiResult<Option<(Bytes, Room)>> {
        let chunk = match tokio::time::timeout(self.patience(), self.stream.next()).await {
            Err(_) => return Err(self.too_slow()),
            Ok(None) => return Ok(None),
            Ok(Some(Err(e))) if over_limit(&e) => return Err(self.too_large()),
            Ok(Some(Err(e))) => {
                return Err(ApiError::bad_request(format!("reading the body: {e}")))
            }
            Ok(Some(Ok(c))) => c,
        };
        self.received += chunk.len() as u64;
        let room = self.reserve(chunk.len() as u64).await?;
        Ok(Some((chunk, room)))
    }

    fn too_large(&self) -> ApiError {
        let limit = match self.allowed {
            Some(n) => format!(" of {n} bytes"),
            None => String::new(),
        };
        ApiError::too_large(format!(
            "the request body is larger than the server's limit{limit}; send less in one request"
        ))
    }

    fn too_slow(&self) -> ApiError {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!(
                "the request body arrived too slowly (a gap of over {} s, or under {} bytes/s \
                 on average); send it again",
                self.limits.body_timeout.as_secs_f64(),
                self.limits.min_body_rate
            ),
        )
    }
}

/// Whether a body's error is its limit's (`DefaultBodyLimit`) being passed.
fn over_limit(e: &axum::Error) -> bool {
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        src = s.source();
    }
    false
}

fn retry_seconds(d: Duration) -> u32 {
    d.as_secs().clamp(1, 60) as u32
}

/// A body's bytes with the room they hold: the room is given back when the bytes are dropped.
struct Held {
    bytes: Vec<u8>,
    _room: Room,
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Reads a whole body under the route's `DefaultBodyLimit` (413 past it: at once when the
/// declared length is over it, else when the bytes are), the budget and the timeouts. The room
/// stays held while the returned bytes (or any slice of them) live.
pub(crate) async fn read_all(
    req: Request,
    budget: &BodyBudget,
    limits: &Limits,
) -> ApiResult<Bytes> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut reader = BodyReader::new(req.into_limited_body(), budget, limits);
    if declared.is_some_and(|n| reader.allowed.is_some_and(|limit| n > limit)) {
        return Err(reader.too_large());
    }
    let mut room = reader.reserve_ahead(declared.unwrap_or(0)).await?;
    let mut buf = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some((chunk, more)) = reader.next().await? {
        buf.extend_from_slice(&chunk);
        match (&mut room, more) {
            (Some(r), Some(m)) => r.merge(m),
            (None, m) => room = m,
            (Some(_), None) => {}
        }
    }
    Ok(Bytes::from_owner(Held {
        bytes: buf,
        _room: room,
    }))
}
