//! A FileSet as a zip archive in a response body, streamed as it is made: a blocking task
//! writes the archive into a bounded channel that the body reads, so a big FileSet costs the
//! server a few buffers, not its size. A failure cuts the body, so a client never keeps a
//! partial archive as whole. Used by the web UI and the Python client's download.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use neptune_core::operation::FileSetEntry;
use neptune_core::Backend;

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

/// The file name of the archive of the FileSet at `path`: its last segment, in safe
/// characters.
pub(crate) fn archive_name(path: &str) -> String {
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

/// The response streaming `entries` (read through `backend`) as the zip archive of the FileSet
/// at `path`, as an attachment.
pub(crate) fn fileset_zip(backend: Backend, entries: Vec<FileSetEntry>, path: &str) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut out = ToBody {
            tx: tx.clone(),
            buf: Vec::with_capacity(PIECE),
        };
        let done = neptune_core::write_fileset_zip(&backend, &entries, &mut out)
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
    let name = archive_name(path);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
