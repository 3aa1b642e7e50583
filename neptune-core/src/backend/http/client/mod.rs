//! [`HttpBackend`]: a `Writer` and a `Reader` over the server's JSON API, one request per call.
//!
//! reqwest runs on a thread of its own with a single-threaded tokio runtime; a call sends its
//! request to that thread through a channel and blocks until the reply comes back. User code
//! needs no runtime, and a call made from inside a user's tokio runtime blocks that task like
//! any blocking I/O but never panics.

mod contract;
mod fail;
mod runtime;
mod stream;

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::backend::{ObjectInfo, OpenRequest};
use crate::error::{Error, Result};
use crate::model::path::FieldPath;
use crate::model::wire::{self, API_PREFIX};

pub use fail::Fail;
use fail::{json_of, send};
use runtime::Runtime;

/// What to do about a refused token.
const AUTH_FIX: &str = "check NEPTUNE_API_TOKEN (a token of this project, with write scope to log)";

/// Longest wait for the answer to one JSON request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest wait for a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a direct `execute` retries a batch whose request failed in transit.
const EXECUTE_RETRY_FOR: Duration = Duration::from_secs(30);
/// Chunk size of uploads.
const UPLOAD_CHUNK: usize = 256 * 1024;

/// The client of a `neptune-server`: every call is one request, answered before it returns.
///
/// Runs normally use it behind the durable queue (see [`super::QueuedBackend`]); on its own it
/// suits tools that read, and `neptune sync`.
pub struct HttpBackend {
    base: String,
    token: String,
    client: reqwest::Client,
    rt: Runtime,
    /// Queue id and sequence numbers of direct `execute` calls.
    queue_id: String,
    seq: AtomicU64,
}

impl std::fmt::Debug for HttpBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpBackend")
            .field("url", &self.base)
            .finish()
    }
}

impl HttpBackend {
    /// A client of the server at `url` (`http://host:port`), sending `token`.
    pub fn new(url: &str, token: &str) -> Result<HttpBackend> {
        let base = url.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Config(format!(
                "NEPTUNE_URL {url:?} is not an http:// or https:// address"
            )));
        }
        reqwest::Url::parse(&base)
            .map_err(|e| Error::Config(format!("NEPTUNE_URL {url:?} is not a URL: {e}")))?;
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(REQUEST_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpBackend {
            base,
            token: token.trim().to_owned(),
            client,
            rt: Runtime::start()?,
            queue_id: crate::backend::http::queue_disk::new_id(),
            seq: AtomicU64::new(0),
        })
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn url_of(
        &self,
        route: &str,
        query: &[(&str, String)],
    ) -> std::result::Result<reqwest::Url, Fail> {
        let full = format!("{}{API_PREFIX}{route}", self.base);
        let url = if query.is_empty() {
            reqwest::Url::parse(&full)
        } else {
            reqwest::Url::parse_with_params(&full, query)
        };
        url.map_err(|e| Fail::Refused {
            status: 0,
            code: "bad_request".into(),
            message: format!("{full}: {e}"),
        })
    }

    fn req(&self, method: reqwest::Method, url: reqwest::Url) -> reqwest::RequestBuilder {
        self.client
            .request(method, url)
            .bearer_auth(&self.token)
            .timeout(REQUEST_TIMEOUT)
    }

    /// A GET returning JSON.
    pub fn get<T: DeserializeOwned + Send + 'static>(
        &self,
        route: &str,
        query: &[(&str, String)],
    ) -> std::result::Result<T, Fail> {
        let req = self.req(reqwest::Method::GET, self.url_of(route, query)?);
        self.rt
            .run(async move { json_of(send(req).await?).await })
            .map_err(|e| Fail::unreachable(e.to_string()))?
    }

    /// A POST of a JSON body returning JSON.
    pub fn post<T: DeserializeOwned + Send + 'static>(
        &self,
        route: &str,
        body: Vec<u8>,
    ) -> std::result::Result<T, Fail> {
        let req = self
            .req(reqwest::Method::POST, self.url_of(route, &[])?)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.rt
            .run(async move { json_of(send(req).await?).await })
            .map_err(|e| Fail::unreachable(e.to_string()))?
    }

    /// Creates or resumes an object; `queue` makes a registration idempotent.
    pub fn open(
        &self,
        req: &OpenRequest,
        queue: Option<&str>,
    ) -> std::result::Result<ObjectInfo, Fail> {
        let body = serde_json::to_vec(&wire::OpenBody {
            request: req.clone(),
            queue: queue.map(str::to_owned),
        })
        .map_err(|e| Fail::Refused {
            status: 0,
            code: "bad_request".into(),
            message: e.to_string(),
        })?;
        self.post("/objects", body)
    }

    /// Sends batches of a queue, given as their lines ([`wire::batch`]).
    pub fn send_batches(
        &self,
        object: &str,
        queue: &str,
        lines: &[&str],
    ) -> std::result::Result<wire::BatchesReply, Fail> {
        let body = wire::batch::body(queue, lines);
        self.post(&format!("/objects/{}/batches", enc(object)), body)
    }

    fn err(&self, f: Fail) -> Error {
        f.into_error(&self.base)
    }

    fn object_get<T: DeserializeOwned + Send + 'static>(
        &self,
        object: &str,
        what: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        self.get(&format!("/objects/{}/{what}", enc(object)), query)
            .map_err(|f| match f {
                Fail::Refused {
                    status: 404, code, ..
                } if code == "object_not_found" => Error::ObjectNotFound {
                    kind: "object",
                    id: object.to_owned(),
                    location: self.base.clone(),
                },
                f => self.err(f),
            })
    }
}

/// Percent-encodes a path segment.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query of a series page: the path, `after` (exact, `{:?}` keeps every bit) and `limit`.
fn page_q(path: &FieldPath, after_step: Option<f64>, limit: usize) -> Vec<(&'static str, String)> {
    let mut q = path_q(path);
    q.push(("limit", limit.to_string()));
    if let Some(a) = after_step {
        q.push(("after", format!("{a:?}")));
    }
    q
}

fn path_q(path: &FieldPath) -> Vec<(&'static str, String)> {
    vec![("path", path.to_string())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_segments_encoded() {
        assert!(HttpBackend::new("ftp://x", "t").is_err());
        assert!(HttpBackend::new("http://", "t").is_err());
        assert_eq!(enc("NLI-3"), "NLI-3");
        assert_eq!(enc("a/b c"), "a%2Fb%20c");
    }
}
