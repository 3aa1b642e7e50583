//! File content: `PUT /api/v1/files` (upload, streamed into the store's content-addressed
//! area) and `GET`/`HEAD /api/v1/files/{digest}` (download, streamed).
//!
//! Content is named by its SHA-256 and nothing else: the only name a client gives is the
//! digest of a download, which must be 64 lowercase hex digits, so no request can name a file
//! outside the data directory. Uploads are counted as they stream in and cut off past the
//! size limit (413), leaving nothing behind. Writing needs a write token.
//!
//! Content is stored once whatever project uploads it, but reached per project: an upload is
//! recorded for the token's project, and a token reads (`GET`, `HEAD`) only content its
//! project uploaded or refers to in a field (see
//! [`Store::project_has_file`](neptune_core::store::Store::project_has_file)). Any other
//! digest is answered 404, as content that does not exist, so a token cannot learn what other
//! projects hold.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use neptune_core::operation::FileRef;
use neptune_core::wire;
use neptune_core::Reader;

use crate::api::{blocking, AppState};
use crate::body::{BodyReader, Room};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query, ReadToken, WriteToken};

type St = State<std::sync::Arc<AppState>>;

/// Chunk size of downloads.
const CHUNK: usize = 256 * 1024;

/// A chunk of an upload with the room it holds in the server's memory for bodies.
type Chunk = Result<(Bytes, Room), String>;

/// The blocking reading end of an upload's chunks.
struct ChunkReader {
    rx: tokio::sync::mpsc::Receiver<Chunk>,
    current: Bytes,
    _room: Room,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok((c, room))) => {
                    self.current = c;
                    self._room = room;
                }
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

fn check_extension(e: &str) -> ApiResult<()> {
    let ok = e.len() <= 32
        && !e.starts_with('.')
        && !e.contains("..")
        && e.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "file extension {e:?} is not a plain extension (up to 32 letters, digits, '.', '_', '-')"
        )))
    }
}

pub(crate) fn check_digest(d: &str) -> ApiResult<()> {
    let ok = d.len() == 64
        && d.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{d:?} is not a file digest (64 lowercase hex digits of SHA-256)"
        )))
    }
}

pub(crate) async fn upload(
    State(s): St,
    WriteToken(grant): WriteToken,
    Query(q): Query<wire::UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<FileRef>> {
    check_extension(&q.extension)?;
    let limit = s.limits.max_upload;
    let too_large = || {
        ApiError::too_large(format!(
            "the file is larger than the server's upload limit of {limit} bytes"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(8);
    let store = s.store.clone();
    let ext = q.extension.clone();
    let project = grant.project.clone();
    // Streamed in, recorded for the project, then put under its digest (the order `gc`
    // relies on): one blocking task, answered when the content is in place.
    let task = tokio::task::spawn_blocking(move || {
        let mut r = ChunkReader {
            rx,
            current: Bytes::new(),
            _room: None,
        };
        store.put_file_for(&project, &mut r, &ext)
    });
    let mut reader = BodyReader::new(body, &s.bodies, &s.limits);
    let mut total = 0u64;
    // What the client did wrong (too large, too slow, cut off): the answer, not the store's.
    let mut refused = None;
    loop {
        match reader.next().await {
            Ok(Some((c, room))) => {
                total += c.len() as u64;
                if total > limit {
                    refused = Some(too_large());
                    let _ = tx.send(Err("over the upload limit".into())).await;
                    break;
                }
                if tx.send(Ok((c, room))).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx
                    .send(Err(format!("the upload was cut: {}", e.message)))
                    .await;
                refused = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let stored = task
        .await
        .map_err(|e| ApiError::internal(format!("the upload failed: {e}")))?;
    if let Some(e) = refused {
        return Err(e);
    }
    Ok(Json(stored?))
}

pub(crate) async fn has(
    State(s): St,
    ReadToken(grant): ReadToken,
    Path(digest): Path<String>,
) -> ApiResult<StatusCode> {
    check_digest(&digest)?;
    let store = s.store.clone();
    let present = blocking(move || Ok(store.project_has_file(&grant.project, &digest)?)).await?;
    Ok(if present {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    })
}

pub(crate) async fn download(
    State(s): St,
    ReadToken(grant): ReadToken,
    Path(digest): Path<String>,
) -> ApiResult<Response> {
    check_digest(&digest)?;
    let store = s.store.clone();
    let d = digest.clone();
    let reader = blocking(move || {
        if !store.project_has_file(&grant.project, &d)? {
            return Err(ApiError::not_found(
                "file_not_found",
                format!(
                    "no file content {d} in project \"{}\" of the token",
                    grant.project
                ),
            ));
        }
        Ok(store.open_file(&d)?)
    })
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let mut buf = vec![0u8; CHUNK];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx
                        .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from_stream(stream),
    )
        .into_response())
}
