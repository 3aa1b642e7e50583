//! [`HttpBackend`]: the `Backend` trait over the server's JSON API, one request per call.
//!
//! reqwest runs on a thread of its own with a single-threaded tokio runtime; a call sends its
//! request to that thread through a channel and blocks until the reply comes back. User code
//! needs no runtime, and a call made from inside a user's tokio runtime blocks that task like
//! any blocking I/O but never panics.

use std::future::Future;
use std::io::Read;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::pipe::{Pipe, PipeReader, PipeStream};
use crate::backend::{
    Backend, ObjectInfo, ObjectKind, OpenRequest, Rejected, SeriesInfo, SeriesPage,
};
use crate::error::{Error, Result};
use crate::model::operation::{ArtifactFile, FilePoint, FileRef, FileSetEntry, Operation};
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};
use crate::model::wire::{self, API_PREFIX};

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

/// Why a request failed, as the retry logic needs it.
#[derive(Clone, Debug)]
pub enum Fail {
    /// Worth retrying: no connection, a timeout, a 5xx or a 429 (with its Retry-After).
    Transient {
        /// What went wrong.
        reason: String,
        /// The server's Retry-After, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The token was refused (401) or does not allow this (403).
    Auth {
        /// The HTTP status (401 or 403).
        status: u16,
        /// The server's message.
        message: String,
    },
    /// 413: the body is larger than the server (or a proxy before it) takes; smaller ones may go.
    TooLarge {
        /// The server's message.
        message: String,
    },
    /// Any other 4xx: the request itself is refused.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's error code.
        code: String,
        /// The server's message.
        message: String,
    },
}

impl Fail {
    /// The library error for a caller: [`Error::Server`] for the server's refusals (with the
    /// fix), [`Error::Io`] for a server that cannot be reached.
    pub fn into_error(self, url: &str) -> Error {
        match self {
            Fail::Transient { reason, .. } => Error::io(
                format!("cannot reach the neptune server at {url}"),
                std::io::Error::other(reason),
            ),
            // A refusal remembered without its status (the uploader keeps it as text).
            Fail::Auth { status: 0, message } => Error::Config(format!(
                "the neptune server at {url} refused the request ({message}); {AUTH_FIX}"
            )),
            Fail::Auth { status, message } => Error::Server {
                status,
                code: if status == 401 {
                    "unauthorized"
                } else {
                    "forbidden"
                }
                .into(),
                message: format!(
                    "the neptune server at {url} refused the request: {message}; {AUTH_FIX}"
                ),
            },
            Fail::TooLarge { message } => Error::Server {
                status: 413,
                code: "too_large".into(),
                message: format!(
                    "the neptune server at {url} refused the request: {}; raise the limit of \
                     the server, or of the proxy before it",
                    message.strip_prefix("HTTP 413: ").unwrap_or(&message)
                ),
            },
            // Not an answer of the server: a request that could not be made.
            Fail::Refused {
                status: 0, message, ..
            } => Error::invalid(url, message),
            Fail::Refused {
                status,
                code,
                message,
            } => Error::Server {
                status,
                code,
                message: format!("the neptune server at {url} refused the request: {message}"),
            },
        }
    }

    /// The server's message.
    pub fn message(&self) -> String {
        match self {
            Fail::Transient { reason, .. } => reason.clone(),
            Fail::Auth { message, .. }
            | Fail::TooLarge { message }
            | Fail::Refused { message, .. } => message.clone(),
        }
    }
}

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The HTTP thread: a runtime that runs the jobs sent to it.
struct Runtime {
    jobs: tokio::sync::mpsc::UnboundedSender<Job>,
}

impl Runtime {
    fn start() -> Result<Runtime> {
        let (jobs, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("cannot start the HTTP runtime", e))?;
        std::thread::Builder::new()
            .name("neptune-http".into())
            .spawn(move || {
                rt.block_on(async move {
                    while let Some(job) = rx.recv().await {
                        tokio::spawn(job);
                    }
                });
            })
            .map_err(|e| Error::io("cannot start the HTTP thread", e))?;
        Ok(Runtime { jobs })
    }

    /// Runs `fut` on the HTTP thread and waits for its output.
    fn run<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> Result<T> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.jobs
            .send(Box::pin(async move {
                let _ = tx.send(fut.await);
            }))
            .map_err(|_| Error::Worker("the HTTP thread has stopped".into()))?;
        rx.recv()
            .map_err(|_| Error::Worker("the HTTP thread ended without answering".into()))
    }
}

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

fn transient(e: reqwest::Error) -> Fail {
    if e.is_builder() {
        return Fail::Refused {
            status: 0,
            code: "bad_request".into(),
            message: e.to_string(),
        };
    }
    let mut reason = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        reason = format!("{reason}: {s}");
        src = s.source();
    }
    Fail::Transient {
        reason,
        retry_after: None,
    }
}

/// Sends a request and classifies the answer.
async fn send(req: reqwest::RequestBuilder) -> std::result::Result<reqwest::Response, Fail> {
    let resp = req.send().await.map_err(transient)?;
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.bytes().await.unwrap_or_default();
    Err(classify(status.as_u16(), retry_after.as_deref(), &body))
}

/// What a failed answer means for the caller: retry (429 after its Retry-After in seconds,
/// 408, 409, 423, 425, 5xx), fix the token (401, 403), send less (413), or give up on this
/// request (any other 4xx).
pub(crate) fn classify(status: u16, retry_after: Option<&str>, body: &[u8]) -> Fail {
    let retry_after = retry_after
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(600)));
    let (code, message) = match serde_json::from_slice::<wire::ErrorBody>(body) {
        Ok(b) => (b.error.code, b.error.message),
        Err(_) => (
            "http".to_owned(),
            format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(500)])
            ),
        ),
    };
    match status {
        401 | 403 => Fail::Auth { status, message },
        413 => Fail::TooLarge {
            message: format!("HTTP 413: {message}"),
        },
        408 | 409 | 423 | 425 | 429 | 500..=599 => Fail::Transient {
            reason: format!("HTTP {status}: {message}"),
            retry_after,
        },
        _ => Fail::Refused {
            status,
            code,
            message,
        },
    }
}

/// The JSON of a successful answer. One that cannot be read (a proxy's page, a cut answer) is
/// worth retrying: what it answered is applied once however often it is sent.
async fn json_of<T: DeserializeOwned>(resp: reqwest::Response) -> std::result::Result<T, Fail> {
    let bytes = resp.bytes().await.map_err(transient)?;
    serde_json::from_slice(&bytes).map_err(|e| Fail::Transient {
        reason: format!(
            "the server's answer cannot be read ({e}): {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        ),
        retry_after: None,
    })
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
            .map_err(|e| Fail::Transient {
                reason: e.to_string(),
                retry_after: None,
            })?
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
            .map_err(|e| Fail::Transient {
                reason: e.to_string(),
                retry_after: None,
            })?
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

    /// Uploads file content, streamed from `content`.
    pub fn upload(
        &self,
        content: &mut dyn Read,
        extension: &str,
    ) -> std::result::Result<FileRef, Fail> {
        let url = self.url_of("/files", &[("extension", extension.to_owned())])?;
        let pipe = Pipe::new();
        let body = reqwest::Body::wrap_stream(PipeStream::new(pipe.clone()));
        let req = self
            .client
            .request(reqwest::Method::PUT, url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body);
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.rt
            .jobs
            .send(Box::pin(async move {
                let r = match send(req).await {
                    Ok(resp) => json_of::<FileRef>(resp).await,
                    Err(e) => Err(e),
                };
                let _ = tx.send(r);
            }))
            .map_err(|_| Fail::Transient {
                reason: "the HTTP thread has stopped".into(),
                retry_after: None,
            })?;
        let mut buf = vec![0u8; UPLOAD_CHUNK];
        loop {
            match content.read(&mut buf) {
                Ok(0) => {
                    pipe.finish(Ok(()));
                    break;
                }
                Ok(n) => {
                    if !pipe.push_blocking(Bytes::copy_from_slice(&buf[..n])) {
                        break; // the request ended early; its answer says why
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    pipe.finish(Err(format!("cannot read the content to upload: {e}")));
                    break;
                }
            }
        }
        rx.recv().map_err(|_| Fail::Transient {
            reason: "the HTTP thread ended without answering".into(),
            retry_after: None,
        })?
    }

    /// Whether the server holds the content.
    pub fn has(&self, digest: &str) -> std::result::Result<bool, Fail> {
        let req = self.req(
            reqwest::Method::HEAD,
            self.url_of(&format!("/files/{}", enc(digest)), &[])?,
        );
        let r = self
            .rt
            .run(async move { send(req).await.map(|_| ()) })
            .map_err(|e| Fail::Transient {
                reason: e.to_string(),
                retry_after: None,
            })?;
        match r {
            Ok(()) => Ok(true),
            Err(Fail::Refused { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Downloads content, streamed.
    pub fn download(&self, digest: &str) -> std::result::Result<Box<dyn Read + Send>, Fail> {
        let req = self
            .client
            .request(
                reqwest::Method::GET,
                self.url_of(&format!("/files/{}", enc(digest)), &[])?,
            )
            .bearer_auth(&self.token);
        let pipe = Pipe::new();
        let producer = pipe.clone();
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.rt
            .jobs
            .send(Box::pin(async move {
                let mut resp = match send(req).await {
                    Ok(r) => {
                        let _ = tx.send(Ok(()));
                        r
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                loop {
                    match resp.chunk().await {
                        Ok(Some(c)) => {
                            if !producer.push(c).await {
                                return;
                            }
                        }
                        Ok(None) => {
                            producer.finish(Ok(()));
                            return;
                        }
                        Err(e) => {
                            producer.finish(Err(format!("download interrupted: {e}")));
                            return;
                        }
                    }
                }
            }))
            .map_err(|_| Fail::Transient {
                reason: "the HTTP thread has stopped".into(),
                retry_after: None,
            })?;
        rx.recv().map_err(|_| Fail::Transient {
            reason: "the HTTP thread ended without answering".into(),
            retry_after: None,
        })??;
        Ok(Box::new(PipeReader::new(pipe)))
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

impl Backend for HttpBackend {
    fn location(&self) -> String {
        self.base.clone()
    }

    fn open_object(&self, req: &OpenRequest) -> Result<ObjectInfo> {
        self.open(req, None).map_err(|f| match f {
            Fail::Refused { status: 404, .. } => Error::ObjectNotFound {
                kind: req.kind.name(),
                id: req.with_id.clone().unwrap_or_default(),
                location: self.base.clone(),
            },
            f => self.err(f),
        })
    }

    fn execute(&self, object: &str, ops: &[Operation]) -> Result<Vec<Rejected>> {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let line = wire::batch::encode(seq, ops)?;
        let started = std::time::Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            match self.send_batches(object, &self.queue_id, &[&line]) {
                Ok(mut reply) => {
                    return Ok(reply.results.pop().map(|r| r.rejected).unwrap_or_default())
                }
                Err(Fail::Transient { .. }) if started.elapsed() < EXECUTE_RETRY_FOR => {
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                Err(f) => return Err(self.err(f)),
            }
        }
    }

    fn fetch_structure(&self, object: &str) -> Result<Vec<(FieldPath, FieldType)>> {
        let r: wire::StructureReply = self.object_get(object, "structure", &[])?;
        Ok(r.fields
            .into_iter()
            .map(|f| (f.path, f.field_type))
            .collect())
    }

    fn fetch_value(&self, object: &str, path: &FieldPath) -> Result<Option<Value>> {
        let r: wire::ValueReply = self.object_get(object, "value", &path_q(path))?;
        Ok(r.value)
    }

    fn fetch_values_below(
        &self,
        object: &str,
        prefix: Option<&FieldPath>,
    ) -> Result<Vec<(FieldPath, Value)>> {
        let q: Vec<(&str, String)> = prefix
            .map(|p| vec![("prefix", p.to_string())])
            .unwrap_or_default();
        let r: wire::ValuesReply = self.object_get(object, "values", &q)?;
        Ok(r.values.into_iter().map(|v| (v.path, v.value)).collect())
    }

    fn fetch_series_info(&self, object: &str, path: &FieldPath) -> Result<Option<SeriesInfo>> {
        let r: wire::SeriesReply = self.object_get(object, "series", &path_q(path))?;
        Ok(r.series)
    }

    fn fetch_float_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<f64>> {
        let q = page_q(path, after_step, limit);
        let r: wire::FloatPageWire = self.object_get(object, "series/floats", &q)?;
        Ok(SeriesPage {
            steps: r.steps,
            values: r.values,
            timestamps: r.timestamps,
        })
    }

    fn fetch_string_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<String>> {
        let q = page_q(path, after_step, limit);
        let r: wire::StringPageWire = self.object_get(object, "series/strings", &q)?;
        Ok(SeriesPage {
            steps: r.steps,
            values: r.values,
            timestamps: r.timestamps,
        })
    }

    fn list_objects(&self, project: &str, kind: ObjectKind) -> Result<Vec<String>> {
        let r: wire::ObjectsReply = self
            .get(
                "/objects",
                &[
                    ("project", project.to_owned()),
                    ("kind", kind.wire_name().to_owned()),
                ],
            )
            .map_err(|f| self.err(f))?;
        Ok(r.ids)
    }

    fn fetch_table(
        &self,
        scope: &crate::TableScope,
        query: &crate::TableQuery,
    ) -> Result<crate::Table> {
        let body = serde_json::to_vec(&wire::TableBody {
            scope: scope.clone(),
            query: query.clone(),
        })
        .map_err(|e| Error::Serialization {
            path: "table query".into(),
            reason: e.to_string(),
        })?;
        let r: wire::TableReply = self.post("/tables", body).map_err(|f| self.err(f))?;
        Ok(r.into_table())
    }

    fn put_file(&self, content: &mut dyn Read, extension: &str) -> Result<FileRef> {
        self.upload(content, extension).map_err(|f| self.err(f))
    }

    fn has_file(&self, digest: &str) -> Result<bool> {
        self.has(digest).map_err(|f| self.err(f))
    }

    fn open_file(&self, digest: &str) -> Result<Box<dyn Read + Send>> {
        match self.download(digest) {
            Ok(r) => Ok(r),
            Err(Fail::Refused { status: 404, .. }) => Err(Error::Corrupt(format!(
                "file content {digest} is missing on the server at {}",
                self.base
            ))),
            Err(f) => Err(self.err(f)),
        }
    }

    fn file_ref(&self, object: &str, path: &FieldPath) -> Result<Option<FileRef>> {
        self.object_get(object, "file", &path_q(path))
    }

    fn fileset_entries(&self, object: &str, path: &FieldPath) -> Result<Vec<FileSetEntry>> {
        self.object_get(object, "fileset", &path_q(path))
    }

    fn file_points(&self, object: &str, path: &FieldPath) -> Result<Vec<FilePoint>> {
        self.object_get(object, "file-series", &path_q(path))
    }

    fn artifact_files(&self, object: &str, path: &FieldPath) -> Result<Vec<ArtifactFile>> {
        self.object_get(object, "artifact", &path_q(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_for_retries() {
        let err = br#"{"error":{"code":"too_large","message":"over the limit"}}"#;
        match classify(429, Some("7"), b"slow down") {
            Fail::Transient {
                retry_after,
                reason,
            } => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)));
                assert!(reason.contains("429") && reason.contains("slow down"));
            }
            f => panic!("{f:?}"),
        }
        assert!(matches!(
            classify(503, None, b""),
            Fail::Transient {
                retry_after: None,
                ..
            }
        ));
        assert!(matches!(
            classify(403, None, err),
            Fail::Auth { status: 403, .. }
        ));
        match classify(413, None, err) {
            Fail::TooLarge { message } => assert_eq!(message, "HTTP 413: over the limit"),
            f => panic!("{f:?}"),
        }
        assert!(matches!(
            classify(400, None, err),
            Fail::Refused { status: 400, .. }
        ));
        assert!(matches!(classify(409, None, b""), Fail::Transient { .. }));
        assert!(matches!(
            classify(429, Some("soon"), b""),
            Fail::Transient {
                retry_after: None,
                ..
            }
        ));
    }

    #[test]
    fn refusals_are_server_errors_with_status_code_and_fix() {
        let url = "http://srv:8080";
        let body = |code: &str, m: &str| {
            format!(r#"{{"error": {{"code": "{code}", "message": "{m}"}}}}"#).into_bytes()
        };
        let cases = [
            (403, "forbidden", "read scope", "NEPTUNE_API_TOKEN"),
            (401, "unauthorized", "unknown token", "NEPTUNE_API_TOKEN"),
            (413, "too_large", "over the limit", "raise the limit"),
            (422, "invalid", "a bad value", "a bad value"),
        ];
        for (status, code, said, fix) in cases {
            let e = classify(status, None, &body(code, said)).into_error(url);
            let text = e.to_string();
            match e {
                Error::Server {
                    status: s,
                    code: c,
                    message,
                } => {
                    assert_eq!((s, c.as_str()), (status, code), "{text}");
                    assert!(message.contains(url) && message.contains(said), "{text}");
                    assert!(
                        text.contains(fix) && text.contains(&status.to_string()),
                        "{text}"
                    );
                    assert!(!text.contains("HTTP 413: "), "{text}");
                }
                e => panic!("{status}: {e:?}"),
            }
        }
        // No answer at all is not the server's refusal.
        let e = Fail::Transient {
            reason: "connection refused".into(),
            retry_after: None,
        }
        .into_error(url);
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
    }

    #[test]
    fn urls_are_checked_and_segments_encoded() {
        assert!(HttpBackend::new("ftp://x", "t").is_err());
        assert!(HttpBackend::new("http://", "t").is_err());
        assert_eq!(enc("NLI-3"), "NLI-3");
        assert_eq!(enc("a/b c"), "a%2Fb%20c");
    }
}
