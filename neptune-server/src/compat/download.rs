//! Downloads of file sets and file series, as the client asks for them:
//!
//! - `run["set"].download()`: `prepareForDownloadFileSetAttributeZip` (a download id), then
//!   `getDownloadPrepareRequest` until it has a `downloadUrl` (ours at once), then a `GET` of
//!   that address: the FileSet as one zip archive, made as it is sent. The download id names
//!   the object and the field; the archive's `GET` carries the client's token and is checked
//!   again, so the id grants nothing by itself.
//! - `run["set"].list_fileset_files(path)`: `lsFileSetAttribute`, the files and folders
//!   directly under `path`.
//! - `run["images"].download()`: `getImageSeriesValue` by index; the client names each file
//!   by the index and the subtype of the answer's `Content-Type` (`0.png`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use neptune_core::operation::FileSetEntry;
use neptune_core::{FieldPath, FieldType, Reader};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::auth::{bearer_grant, origin};
use super::objects::check_object;
use super::{blocking, CompatError, CompatResult, St};
use crate::extract::{Path, Query, ReadToken};
use crate::tokens::{Grant, Scope};

#[derive(Deserialize)]
pub(super) struct FieldQuery {
    #[serde(rename = "experimentId")]
    id: String,
    attribute: String,
    path: Option<String>,
    index: Option<usize>,
}

/// What a download id names.
#[derive(Serialize, Deserialize)]
struct Download {
    object: String,
    path: String,
}

fn download_id(d: &Download) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(d).unwrap_or_default())
}

fn parse_download_id(id: &str) -> CompatResult<Download> {
    URL_SAFE_NO_PAD
        .decode(id)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            CompatError::not_found(format!(
                "no download {id:?}; ask for one with prepareForDownloadFileSetAttributeZip"
            ))
        })
}

/// The entries of the FileSet at `attribute` of object `id` of the token's project.
fn fileset(
    s: &super::AppState,
    grant: &Grant,
    id: &str,
    attribute: &str,
) -> CompatResult<(String, Vec<FileSetEntry>)> {
    let (object, _) = check_object(s, grant, id)?;
    let path = FieldPath::parse(attribute)?;
    let is_set = s
        .store
        .fetch_structure(&object)?
        .iter()
        .any(|(p, t)| *p == path && *t == FieldType::FileSet);
    if !is_set {
        return Err(CompatError::not_found(format!(
            "no FileSet field at \"{attribute}\" of {object}"
        )));
    }
    let entries = s.store.fileset_entries(&object, &path)?;
    Ok((object, entries))
}

/// `prepareForDownloadFileSetAttributeZip`: the download id of a FileSet.
pub(super) async fn prepare(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<FieldQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let url = origin(&headers);
    blocking(move || {
        let (object, _) = fileset(&s, &grant, &q.id, &q.attribute)?;
        let id = download_id(&Download {
            object,
            path: q.attribute,
        });
        Ok(Json(request_json(&url, &id)))
    })
    .await
}

fn request_json(origin: &str, id: &str) -> Value {
    json!({
        "id": id,
        "downloadUrl": format!("{origin}/api/leaderboard/v1/storage/fileset/zip?id={id}"),
    })
}

#[derive(Deserialize)]
pub(super) struct IdOnly {
    id: String,
}

/// `getDownloadPrepareRequest`: the archive is made as it is sent, so it is ready at once.
pub(super) async fn request(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<IdOnly>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let d = parse_download_id(&q.id)?;
    let url = origin(&headers);
    blocking(move || {
        fileset(&s, &grant, &d.object, &d.path)?;
        Ok(Json(request_json(&url, &q.id)))
    })
    .await
}

/// The FileSet of a download id as a zip archive, streamed as it is made (a failure cuts the
/// body, so the client never keeps a partial archive as whole).
pub(super) async fn zip(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<IdOnly>,
) -> CompatResult<Response> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let d = parse_download_id(&q.id)?;
    let st = s.clone();
    let path = d.path.clone();
    let (_, entries) = blocking(move || fileset(&st, &grant, &d.object, &d.path)).await?;
    Ok(crate::zip_body::fileset_zip(
        neptune_core::Backend::of(s.store.clone()),
        entries,
        &path,
    ))
}

/// `lsFileSetAttribute`: the files and folders directly under `path` of a FileSet (a
/// folder's size is the sum of its files', its time the latest of theirs).
pub(super) async fn ls(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<FieldQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    blocking(move || {
        let (_, entries) = fileset(&s, &grant, &q.id, &q.attribute)?;
        let dir = q.path.as_deref().unwrap_or("").trim_matches('/');
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        // name -> (is a folder, size, mtime)
        let mut listed: BTreeMap<String, (bool, u64, i64)> = BTreeMap::new();
        for e in &entries {
            let Some(rest) = e.path.strip_prefix(&prefix) else {
                continue;
            };
            let (name, folder) = match rest.split_once('/') {
                Some((first, _)) => (first, true),
                None => (rest, false),
            };
            let slot = listed.entry(name.to_owned()).or_insert((folder, 0, 0));
            slot.1 += e.file.size;
            slot.2 = slot.2.max(e.mtime_ms);
        }
        if listed.is_empty() && !dir.is_empty() {
            return Err(CompatError::not_found(format!(
                "no file or folder \"{dir}\" in the FileSet \"{}\"",
                q.attribute
            )));
        }
        let out: Vec<Value> = listed
            .into_iter()
            .map(|(name, (folder, size, mtime))| {
                json!({
                    "name": name,
                    "size": size,
                    "mtime": chrono::DateTime::from_timestamp_millis(mtime)
                        .unwrap_or_default()
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "fileType": if folder { "directory" } else { "file" },
                })
            })
            .collect();
        Ok(Json(Value::Array(out)))
    })
    .await
}

/// `getImageSeriesValue`: the file at `index` (in step order) of a FileSeries, typed by its
/// extension (`image/png`) so that the client names it `INDEX.png`.
pub(super) async fn series_file(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<FieldQuery>,
) -> CompatResult<Response> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let Some(index) = q.index else {
        return Err(CompatError::bad_request(
            "getImageSeriesValue needs the \"index\" of the file",
        ));
    };
    let path = FieldPath::parse(&q.attribute)?;
    let (st, g) = (s.clone(), grant.clone());
    let file = blocking(move || {
        let (object, _) = check_object(&st, &g, &q.id)?;
        let points = st.store.file_points(&object, &path)?;
        let count = points.len();
        points
            .into_iter()
            .nth(index)
            .map(|p| p.file)
            .ok_or_else(|| {
                CompatError::not_found(format!(
                    "no file {index} in the FileSeries \"{}\" of {object} ({count} files)",
                    q.attribute
                ))
            })
    })
    .await?;
    let ext: String = file
        .extension
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let ext = if ext.is_empty() { "bin".into() } else { ext };
    let mut r = crate::files::download(State(s), ReadToken(grant), Path(file.digest)).await?;
    if let Ok(v) = HeaderValue::from_str(&format!("image/{ext}")) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    Ok(r)
}
