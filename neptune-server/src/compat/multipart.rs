//! Uploads in parts: a file larger than the client config's `maxSinglePartSize` goes as
//! `…MultipartUploadStart` (its `totalLength`), parts in order (`uploadId`, `uploadPartIdx`,
//! `X-Range: bytes=START-END/TOTAL`), then `…MultipartUploadFinish`, for a File field
//! (`fileAtom…`) or one file of a FileSet (`fileSetFile…`).
//!
//! Each part is stored as file content of the token's project as it arrives (streamed,
//! counted against the upload limit); the finish joins the parts into the file's content and
//! writes the field, as a single upload does. Parts nothing refers to are collected by the
//! store's garbage collection. An upload's progress is kept in memory: after a restart its
//! parts and finish answer that the upload is unknown, and the client reports it.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Mutex, OnceLock};

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use neptune_core::operation::{FileRef, FileSetEntry, Operation};
use neptune_core::rules::clock::now_ms;
use neptune_core::{wire, FieldPath, Reader};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::bearer_grant;
use super::objects::check_object;
use super::upload::{apply, extension_of};
use super::{blocking, CompatError, CompatResult, St};
use crate::extract::{Query, WriteToken};
use crate::tokens::Scope;

/// The environment variable that sets `maxSinglePartSize`, in bytes: files above it are
/// sent in parts (at most the server's upload limit).
pub const PART_VAR: &str = "NEPTUNE_PY_CLIENT_UPLOAD_PART";

/// Files above this go in parts unless [`PART_VAR`] says otherwise: a request that proxies
/// in front of a server usually let through.
const DEFAULT_PART: u64 = 64 << 20;

/// Most uploads in progress at once (past it, the oldest is forgotten).
const MAX_UPLOADS: usize = 1024;

/// `maxSinglePartSize` (and the smallest part): [`PART_VAR`], else the default, never above
/// the upload limit.
pub(super) fn part_size(max_upload: u64) -> u64 {
    let asked = std::env::var(PART_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_PART);
    asked.min(max_upload).max(1)
}

/// An upload in progress.
#[derive(Clone)]
struct Upload {
    project: String,
    object: String,
    attribute: String,
    /// The File's extension, or the FileSet entry's path.
    target: Target,
    total: u64,
    parts: Vec<FileRef>,
    received: u64,
    started_ms: i64,
}

#[derive(Clone, PartialEq)]
enum Target {
    File { ext: String },
    SetEntry { sub_path: String },
}

type Uploads = HashMap<String, Upload>;

fn uploads() -> std::sync::MutexGuard<'static, Uploads> {
    static UPLOADS: OnceLock<Mutex<Uploads>> = OnceLock::new();
    UPLOADS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

#[derive(Deserialize)]
pub(super) struct PartQuery {
    #[serde(rename = "experimentIdentifier", alias = "experimentId")]
    id: String,
    attribute: String,
    ext: Option<String>,
    #[serde(rename = "subPath")]
    sub_path: Option<String>,
    #[serde(rename = "totalLength")]
    total: Option<u64>,
    #[serde(rename = "uploadId")]
    upload_id: Option<String>,
    #[serde(rename = "uploadPartIdx")]
    part: Option<usize>,
}

fn errors(list: &[String]) -> Value {
    Value::Array(
        list.iter()
            .map(|e| json!({"errorDescription": e}))
            .collect(),
    )
}

/// `fileAtomMultipartUploadStart`, `fileSetFileMultipartUploadStart`.
pub(super) async fn start(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<PartQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    FieldPath::parse(&q.attribute)?;
    let target = match (&q.sub_path, &q.ext) {
        (Some(p), _) if !p.is_empty() => Target::SetEntry {
            sub_path: p.clone(),
        },
        (None, ext) => Target::File {
            ext: ext.clone().unwrap_or_default(),
        },
        _ => {
            return Err(CompatError::bad_request(
                "a file of a file set needs its subPath",
            ))
        }
    };
    let total = q
        .total
        .ok_or_else(|| CompatError::bad_request("an upload in parts needs its totalLength"))?;
    let limit = s.limits.max_upload;
    if total > limit {
        return Ok(Json(json!({
            "uploadId": "",
            "errors": errors(&[format!(
                "{}: the file's {total} bytes are more than the server's upload limit of \
                 {limit} bytes",
                q.attribute
            )]),
        })));
    }
    let (st, g, raw) = (s.clone(), grant.clone(), q.id.clone());
    let (object, _) = blocking(move || check_object(&st, &g, &raw)).await?;
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|e| {
        CompatError::from(crate::error::ApiError::internal(format!(
            "no randomness for an upload id: {e}"
        )))
    })?;
    let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let mut all = uploads();
    if all.len() >= MAX_UPLOADS {
        if let Some(oldest) = all
            .iter()
            .min_by_key(|(_, u)| u.started_ms)
            .map(|(k, _)| k.clone())
        {
            all.remove(&oldest);
        }
    }
    all.insert(
        id.clone(),
        Upload {
            project: grant.project.clone(),
            object,
            attribute: q.attribute,
            target,
            total,
            parts: Vec::new(),
            received: 0,
            started_ms: now_ms(),
        },
    );
    Ok(Json(json!({"uploadId": id, "errors": []})))
}

/// The upload `q` names, when it is this token's project's and this field's.
fn upload_of(project: &str, q: &PartQuery) -> CompatResult<(String, Upload)> {
    let id = q
        .upload_id
        .clone()
        .ok_or_else(|| CompatError::bad_request("a part of an upload needs its uploadId"))?;
    let u = uploads().get(&id).cloned();
    match u {
        Some(u) if u.project == project && u.attribute == q.attribute => Ok((id, u)),
        _ => Err(CompatError::not_found(format!(
            "no upload {id:?} of \"{}\" in progress (it finished, or the server restarted); \
             upload the file again",
            q.attribute
        ))),
    }
}

/// `bytes=START-END/TOTAL` of `X-Range`.
fn range(headers: &HeaderMap) -> CompatResult<(u64, u64, u64)> {
    let bad = || CompatError::bad_request("a part needs X-Range: bytes=START-END/TOTAL");
    let text = headers
        .get("x-range")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes="))
        .ok_or_else(bad)?;
    let (span, total) = text.split_once('/').ok_or_else(bad)?;
    let (start, end) = span.split_once('-').ok_or_else(bad)?;
    let n = |t: &str| t.trim().parse::<u64>().map_err(|_| bad());
    let (start, end, total) = (n(start)?, n(end)?, n(total)?);
    if end < start {
        return Err(bad());
    }
    Ok((start, end, total))
}

/// `…MultipartUploadPart`: the next part (or the last one again, when the client retries).
pub(super) async fn part(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<PartQuery>,
    body: Body,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    let (id, u) = upload_of(&grant.project, &q)?;
    let (start, end, total) = range(&headers)?;
    let idx = q
        .part
        .ok_or_else(|| CompatError::bad_request("a part needs its uploadPartIdx"))?;
    let retry = idx + 1 == u.parts.len();
    let expected_start = if retry {
        u.received - u.parts.last().map_or(0, |p| p.size)
    } else {
        u.received
    };
    if total != u.total || (idx != u.parts.len() && !retry) || start != expected_start {
        return Err(CompatError::bad_request(format!(
            "part {idx} (bytes {start}-{end}/{total}) is not the next of upload {id:?}: part \
             {} from byte {} of {} is",
            u.parts.len(),
            u.received,
            u.total
        )));
    }
    if end >= u.total {
        return Err(CompatError::bad_request(format!(
            "part {idx} ends at byte {end}, past the file's {} bytes",
            u.total
        )));
    }
    let Json(file) = crate::files::upload(
        State(s.clone()),
        WriteToken(grant.clone()),
        crate::extract::Query(wire::UploadQuery {
            extension: String::new(),
        }),
        headers,
        body,
    )
    .await?;
    if file.size != end - start + 1 {
        return Err(CompatError::bad_request(format!(
            "part {idx} says bytes {start}-{end} ({} bytes) but sent {}",
            end - start + 1,
            file.size
        )));
    }
    let mut all = uploads();
    let Some(now) = all.get_mut(&id) else {
        return Err(CompatError::not_found(format!(
            "upload {id:?} ended while its part {idx} arrived"
        )));
    };
    if retry {
        if let Some(last) = now.parts.pop() {
            now.received -= last.size;
        }
    }
    now.received += file.size;
    now.parts.push(file);
    Ok(Json(json!({"errors": []})))
}

/// `…MultipartUploadFinish`: the parts joined into the file's content, and the field written.
pub(super) async fn finish(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<PartQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    let (id, u) = upload_of(&grant.project, &q)?;
    if u.received != u.total {
        return Ok(Json(json!({"errors": errors(&[format!(
            "{}: upload {id:?} has {} of its {} bytes",
            q.attribute, u.received, u.total
        )])})));
    }
    uploads().remove(&id);
    blocking(move || {
        check_object(&s, &grant, &u.object)?;
        let path = FieldPath::parse(&u.attribute)?;
        let ext = match &u.target {
            Target::File { ext } => ext.clone(),
            Target::SetEntry { sub_path } => extension_of(sub_path),
        };
        let mut joined: Box<dyn Read> = Box::new(std::io::empty());
        for p in &u.parts {
            joined = Box::new(joined.chain(s.store.open_file(&p.digest)?));
        }
        let file = s.store.put_file_for(&grant.project, &mut joined, &ext)?;
        let op = match u.target {
            Target::File { .. } => Operation::UploadFile { path, file },
            Target::SetEntry { sub_path } => Operation::UploadFileSet {
                path,
                files: vec![FileSetEntry {
                    path: sub_path,
                    file,
                    mtime_ms: now_ms(),
                }],
                reset: false,
            },
        };
        apply(&s, &grant, &u.object, op).map(Json)
    })
    .await
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    #[test]
    fn x_range_is_read_strictly() {
        let mut h = HeaderMap::new();
        h.insert("x-range", HeaderValue::from_static("bytes=5-9/20"));
        assert_eq!(super::range(&h).unwrap(), (5, 9, 20));
        for bad in ["bytes=9-5/20", "5-9/20", "bytes=a-9/20", "bytes=5-9"] {
            h.insert("x-range", HeaderValue::from_static(bad));
            assert!(super::range(&h).is_err(), "{bad}");
        }
    }
}
