//! `GET /ui/zip/{id}?path=P`: a FileSet of a run as one zip archive, streamed as it is made
//! (a blocking task writes the archive into a bounded channel that the response body reads),
//! so a big FileSet costs the server a few buffers, not its size.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use neptune_core::{FieldPath, FieldType, Reader};
use serde::Deserialize;

use super::auth::Viewer;
use super::layout::{blocking, UiError};
use super::Ui;

/// Bytes sent to the body at a time.
const PIECE: usize = 256 * 1024;

/// A `Write` into the response body's channel; fails once the client has gone.
struct ToBody {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ToBody {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE)));
        self.tx
            .blocking_send(Ok(piece))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left"))
    }
}

impl Write for ToBody {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

#[derive(Deserialize)]
struct ZipQ {
    path: String,
}

/// The file name of the archive: the FileSet's last path segment, in safe characters.
fn archive_name(path: &str) -> String {
    let leaf: String = path
        .rsplit('/')
        .next()
        .unwrap_or("files")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{leaf}.zip")
}

pub async fn fileset(
    State(st): Ui,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let q: ZipQ = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| UiError::bad_request(format!("invalid query: {e}")))?;
    let name = archive_name(&q.path);
    let store = st.store.clone();
    let entries = blocking(move || {
        viewer.object_project(&st, &id)?;
        let path = FieldPath::parse(&q.path)?;
        let is_set = st
            .store
            .fetch_structure(&id)?
            .iter()
            .any(|(p, t)| *p == path && *t == FieldType::FileSet);
        if !is_set {
            return Err(UiError::new(
                StatusCode::NOT_FOUND,
                format!("no FileSet at \"{}\" of {id}", q.path),
            ));
        }
        Ok(st.store.fileset_entries(&id, &path)?)
    })
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = ToBody {
            tx: tx.clone(),
            buf: Vec::with_capacity(PIECE),
        };
        let done =
            neptune_core::write_fileset_zip(&neptune_core::Backend::of(store), &entries, &mut out)
                .map_err(|e| std::io::Error::other(e.to_string()))
                .and_then(|()| out.flush());
        if let Err(e) = done {
            // The body ends in an error: the client sees a cut download, never a whole one.
            let _ = tx.blocking_send(Err(e));
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut r = Body::from_stream(stream).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}
