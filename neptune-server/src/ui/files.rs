//! File content and StringSeries entries for the pages.
//!
//! `GET /ui/file/{id}?path=P[&step=S][&entry=E][&download=1]` sends the content of a File, a
//! FileSeries point or a FileSet entry. Every answer carries `Content-Security-Policy: sandbox`
//! (plus `default-src 'none'`, images and inline styles allowed), so stored HTML or SVG opened
//! in a frame or on its own runs no script and reaches nothing of the pages; the run page
//! frames HTML in an `<iframe sandbox>` as well. `nosniff` keeps browsers from guessing types.

use std::io::Read;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use neptune_core::operation::FileRef;
use neptune_core::{FieldPath, FieldType, Reader};
use serde::{Deserialize, Serialize};

use super::auth::Viewer;
use super::layout::{blocking, UiError};
use super::Ui;

/// The policy of stored content: no scripts, nothing fetched but images, an opaque origin.
pub const FILE_CSP: &str =
    "sandbox; default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'";

/// Largest preview of a text file, in bytes.
pub const PREVIEW_BYTES: usize = 64 << 10;

/// The MIME type of an extension (without the dot).
pub fn mime(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "html" | "htm" => "text/html; charset=utf-8",
        "json" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "txt" | "log" | "md" | "py" | "rs" | "yaml" | "yml" | "toml" | "diff" | "patch" => {
            "text/plain; charset=utf-8"
        }
        _ => "application/octet-stream",
    }
}

/// How a file is previewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preview {
    Image,
    Text,
    Html,
    None,
}

pub fn preview_kind(ext: &str) -> Preview {
    match ext.to_ascii_lowercase().as_str() {
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "svg" => Preview::Image,
        "html" | "htm" => Preview::Html,
        "json" | "csv" | "txt" | "log" | "md" | "py" | "rs" | "yaml" | "yml" | "toml" | "diff"
        | "patch" => Preview::Text,
        _ => Preview::None,
    }
}

/// The first [`PREVIEW_BYTES`] of a file as text (lossy UTF-8), and whether there is more.
pub fn text_head(
    store: &neptune_core::store::Store,
    f: &FileRef,
) -> Result<(String, bool), UiError> {
    let mut r = store.open_file(&f.digest)?;
    let mut buf = Vec::with_capacity(PREVIEW_BYTES.min(f.size as usize));
    r.by_ref()
        .take(PREVIEW_BYTES as u64)
        .read_to_end(&mut buf)
        .map_err(|e| UiError::internal(format!("reading file {}: {e}", f.digest)))?;
    Ok((
        String::from_utf8_lossy(&buf).into_owned(),
        f.size as usize > buf.len(),
    ))
}

#[derive(Deserialize)]
struct FileQ {
    path: String,
    step: Option<f64>,
    entry: Option<String>,
    download: Option<String>,
}

/// The file a query names.
fn locate(
    store: &neptune_core::store::Store,
    id: &str,
    path: &FieldPath,
    q: &FileQ,
) -> Result<Option<(FileRef, String)>, UiError> {
    let leaf = path
        .as_str()
        .rsplit('/')
        .next()
        .unwrap_or("file")
        .to_owned();
    let types = store.fetch_structure(id)?;
    let t = types.iter().find(|(p, _)| p == path).map(|(_, t)| *t);
    Ok(match t {
        Some(FieldType::File) => store.file_ref(id, path)?.map(|f| {
            let name = format!("{leaf}.{}", f.extension);
            (f, name)
        }),
        Some(FieldType::FileSeries) => {
            let points = store.file_points(id, path)?;
            let p = match q.step {
                Some(s) => points.into_iter().find(|p| p.step == Some(s)),
                None => points.into_iter().last(),
            };
            p.map(|p| {
                let name = format!("{leaf}-{}.{}", p.step.unwrap_or(0.0), p.file.extension);
                (p.file, name)
            })
        }
        Some(FieldType::FileSet) => {
            let want = q.entry.as_deref().unwrap_or("");
            store
                .fileset_entries(id, path)?
                .into_iter()
                .find(|e| e.path == want)
                .map(|e| {
                    let name = e.path.rsplit('/').next().unwrap_or("file").to_owned();
                    (e.file, name)
                })
        }
        _ => None,
    })
}

/// `GET /ui/file/{id}`.
pub async fn file(
    State(st): Ui,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let q: FileQ = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| UiError::bad_request(format!("invalid query: {e}")))?;
    let (f, name, bytes) = blocking(move || {
        viewer.object_project(&st, &id)?;
        let path = FieldPath::parse(&q.path)?;
        let Some((f, name)) = locate(&st.store, &id, &path, &q)? else {
            return Err(UiError::new(
                StatusCode::NOT_FOUND,
                format!("no file at \"{}\" of {id}", q.path),
            ));
        };
        let mut bytes = Vec::new();
        st.store
            .open_file(&f.digest)?
            .read_to_end(&mut bytes)
            .map_err(|e| UiError::internal(format!("reading file {}: {e}", f.digest)))?;
        Ok((f, (name, q.download.is_some()), bytes))
    })
    .await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    let mime = if name.1 {
        "application/octet-stream"
    } else {
        mime(&f.extension)
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(FILE_CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    let safe: String = name
        .0
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = if name.1 { "attachment" } else { "inline" };
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

#[derive(Deserialize)]
struct StringsQ {
    path: String,
    #[serde(default)]
    tail: Option<usize>,
    #[serde(default)]
    q: String,
}

/// StringSeries entries for the log view.
#[derive(Serialize)]
pub struct StringsReply {
    pub steps: Vec<f64>,
    pub values: Vec<String>,
    /// Entries in the series.
    pub count: u64,
}

/// Most entries a log view shows.
const MAX_TAIL: usize = 5_000;
/// Most entries a search looks through.
const MAX_SCAN: usize = 200_000;

/// `GET /ui/data/strings/{id}?path=P&tail=N&q=TEXT`: the last N entries, or with `q` the
/// last N that contain it (case-insensitive).
pub async fn strings(
    State(st): Ui,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Json<StringsReply>, UiError> {
    let q: StringsQ = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| UiError::bad_request(format!("invalid query: {e}")))?;
    blocking(move || {
        viewer.object_project(&st, &id)?;
        let path = FieldPath::parse(&q.path)?;
        let tail = q.tail.unwrap_or(500).clamp(1, MAX_TAIL);
        let info = st.store.fetch_series_info(&id, &path)?;
        let count = info.as_ref().map(|i| i.count).unwrap_or(0);
        let scan = if q.q.is_empty() { tail } else { MAX_SCAN };
        // Steps are mostly whole and increasing: start a little before the last `scan`.
        let after = match info.and_then(|i| i.last_step) {
            Some(last) if count as usize > scan => Some(last - scan as f64 - 1.0),
            _ => None,
        };
        let page = st.store.fetch_string_points(&id, &path, after, MAX_SCAN)?;
        let needle = q.q.to_lowercase();
        let keep: Vec<usize> = (0..page.values.len())
            .filter(|i| needle.is_empty() || page.values[*i].to_lowercase().contains(&needle))
            .collect();
        let from = keep.len().saturating_sub(tail);
        Ok(Json(StringsReply {
            steps: keep[from..].iter().map(|i| page.steps[*i]).collect(),
            values: keep[from..]
                .iter()
                .map(|i| page.values[*i].clone())
                .collect(),
            count,
        }))
    })
    .await
}
