//! Artifacts, as the client tracks them: it lists and hashes the files itself, then
//! `getArtifactAttribute` (the field's hash, or 404), and for a new artifact
//! `createNewArtifact` and `uploadArtifactFilesMetadata` (the file list), for a new version
//! `createArtifactVersion` (the files added; the server answers the new hash); then an
//! `assignArtifact` of the hash in `executeOperations`. `fetch_files_list()` and `download()`
//! ask `listArtifactFiles` by hash.
//!
//! The file lists between those calls are kept by hash, per project, in memory
//! ([`remember`], [`files_of`]): what is durable is the field, written by `assignArtifact`
//! with its files as our `AssignArtifact`. A list lost to a restart makes that assign fail
//! with the reason (track the files again), never a field without its files; and reading a
//! field's hash (`getArtifactAttribute`) brings its files back from the store.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDateTime;
use neptune_core::operation::ArtifactFile;
use neptune_core::{FieldPath, FieldType, Reader, Value as FieldValue};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::auth::bearer_grant;
use super::objects::check_object;
use super::{blocking, CompatError, CompatResult, St};
use crate::extract::Query;
use crate::tokens::{Grant, Scope};

/// Most artifacts whose file lists are kept between calls (past it, all are forgotten).
const MAX_KEPT: usize = 4096;

/// How the client writes a file's last modification (`last_modified` in its metadata).
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

type Lists = HashMap<(String, String), Vec<ArtifactFile>>;

fn lists() -> std::sync::MutexGuard<'static, Lists> {
    static LISTS: OnceLock<Mutex<Lists>> = OnceLock::new();
    LISTS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Keeps the files of the artifact `hash` of `project`.
fn remember(project: &str, hash: &str, files: Vec<ArtifactFile>) {
    let mut l = lists();
    if l.len() >= MAX_KEPT {
        l.clear();
    }
    l.insert((project.to_owned(), hash.to_owned()), files);
}

/// The files of the artifact `hash` of `project`, when kept.
pub(super) fn files_of(project: &str, hash: &str) -> Option<Vec<ArtifactFile>> {
    lists().get(&(project.to_owned(), hash.to_owned())).cloned()
}

/// A hash as the client makes them: hex, at most 128 characters.
fn check_hash(hash: &str) -> CompatResult<()> {
    if hash.is_empty() || hash.len() > 128 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CompatError::bad_request(format!(
            "artifact hash {hash:?} is not hexadecimal (at most 128 digits)"
        )));
    }
    Ok(())
}

fn check_project(grant: &Grant, project: &str) -> CompatResult<()> {
    if project != grant.project {
        return Err(CompatError::not_found(format!(
            "no project \"{project}\" for this API token; its project is \"{}\"",
            grant.project
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
struct MetadataDto {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileDto {
    file_path: String,
    file_hash: String,
    #[serde(rename = "type")]
    storage_type: String,
    size: Option<u64>,
    #[serde(default)]
    metadata: Vec<MetadataDto>,
}

#[derive(Deserialize)]
struct FilesDto {
    files: Vec<FileDto>,
}

/// A file of the client's list as ours: its location is `file_path` (local files) or
/// `location` (S3) of its metadata.
fn file(d: FileDto) -> CompatResult<ArtifactFile> {
    let meta = |k: &str| {
        d.metadata
            .iter()
            .find(|m| m.key == k)
            .map(|m| m.value.clone())
    };
    let location = meta("file_path")
        .or_else(|| meta("location"))
        .ok_or_else(|| {
            CompatError::bad_request(format!(
                "artifact file {:?} has no file_path or location in its metadata",
                d.file_path
            ))
        })?;
    let last_modified_ms = match meta("last_modified") {
        Some(t) => NaiveDateTime::parse_from_str(&t, TIME_FORMAT)
            .map_err(|e| {
                CompatError::bad_request(format!(
                    "artifact file {:?}: last_modified {t:?} is not {TIME_FORMAT}: {e}",
                    d.file_path
                ))
            })?
            .and_utc()
            .timestamp_millis(),
        None => 0,
    };
    let size = d.size.ok_or_else(|| {
        CompatError::bad_request(format!("artifact file {:?} has no size", d.file_path))
    })?;
    Ok(ArtifactFile {
        file_path: d.file_path,
        file_hash: d.file_hash,
        size,
        storage_type: d.storage_type,
        location,
        last_modified_ms,
    })
}

fn files(body: &[u8]) -> CompatResult<Vec<ArtifactFile>> {
    let dto: FilesDto = crate::api::parse_json(body)?;
    dto.files.into_iter().map(file).collect()
}

/// Our file as the client's, metadata as its drivers write it.
fn dto(f: &ArtifactFile) -> Value {
    let key = if f.storage_type == "S3" {
        "location"
    } else {
        "file_path"
    };
    let time = chrono::DateTime::from_timestamp_millis(f.last_modified_ms)
        .unwrap_or_default()
        .format(TIME_FORMAT)
        .to_string();
    json!({
        "filePath": f.file_path,
        "fileHash": f.file_hash,
        "type": f.storage_type,
        "size": f.size,
        "metadata": [{"key": key, "value": f.location}, {"key": "last_modified", "value": time}],
    })
}

fn model(hash: &str, files: Option<&[ArtifactFile]>) -> Value {
    json!({
        "artifactHash": hash,
        "receivedMetadata": files.is_some(),
        "size": files.map(|f| f.iter().map(|f| f.size).sum::<u64>()),
    })
}

#[derive(Deserialize)]
pub(super) struct ArtifactQuery {
    #[serde(rename = "projectIdentifier")]
    project: String,
    hash: String,
    #[serde(rename = "parentIdentifier")]
    parent: Option<String>,
}

/// `createNewArtifact`: whether the server has the artifact's file list already.
pub(super) async fn create(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<ArtifactQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    check_project(&grant, &q.project)?;
    check_hash(&q.hash)?;
    blocking(move || {
        if let Some(p) = &q.parent {
            check_object(&s, &grant, p)?;
        }
        let kept = files_of(&grant.project, &q.hash);
        Ok(Json(model(&q.hash, kept.as_deref())))
    })
    .await
}

/// `uploadArtifactFilesMetadata`: the file list of a new artifact.
pub(super) async fn upload_files(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<ArtifactQuery>,
    body: axum::body::Bytes,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    check_project(&grant, &q.project)?;
    check_hash(&q.hash)?;
    let files = files(&body)?;
    let out = model(&q.hash, Some(&files));
    remember(&grant.project, &q.hash, files);
    Ok(Json(out))
}

/// The hash of a new version: SHA-256 over its files in path order, each field length-prefixed.
fn version_hash(files: &[ArtifactFile]) -> String {
    let mut h = Sha256::new();
    for f in files {
        for part in [
            f.file_path.as_bytes(),
            f.file_hash.as_bytes(),
            &f.size.to_le_bytes(),
            f.storage_type.as_bytes(),
            f.location.as_bytes(),
            &f.last_modified_ms.to_le_bytes(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// `createArtifactVersion`: the files of artifact `hash` with the ones sent added (a file of
/// the same path replaced), under a new hash.
pub(super) async fn create_version(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<ArtifactQuery>,
    body: axum::body::Bytes,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    check_project(&grant, &q.project)?;
    check_hash(&q.hash)?;
    let added = files(&body)?;
    blocking(move || {
        if let Some(p) = &q.parent {
            check_object(&s, &grant, p)?;
        }
        let mut all = files_of(&grant.project, &q.hash).ok_or_else(|| {
            CompatError::not_found(format!(
                "artifact {} is not known to this server; fetch its field's hash first",
                q.hash
            ))
        })?;
        for f in added {
            all.retain(|g| g.file_path != f.file_path);
            all.push(f);
        }
        all.sort_by(|a, b| a.file_path.cmp(&b.file_path));
        let hash = version_hash(&all);
        let out = model(&hash, Some(&all));
        remember(&grant.project, &hash, all);
        Ok(Json(out))
    })
    .await
}

/// `listArtifactFiles`.
pub(super) async fn list_files(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<ArtifactQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    check_project(&grant, &q.project)?;
    let files = files_of(&grant.project, &q.hash).ok_or_else(|| {
        CompatError::not_found(format!(
            "artifact {} is not known to this server; fetch its field's hash first",
            q.hash
        ))
    })?;
    Ok(Json(
        json!({"files": files.iter().map(dto).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
pub(super) struct FieldQuery {
    #[serde(rename = "experimentId")]
    id: String,
    attribute: String,
}

/// `getArtifactAttribute`: the field's hash (its files kept for the calls that follow). A
/// missing field is the client's way to learn the artifact is new: its 404 carries no
/// `X-Server-Error`, which the client would print as an error.
pub(super) async fn attribute(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<FieldQuery>,
) -> CompatResult<Response> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let path = FieldPath::parse(&q.attribute)?;
    blocking(move || {
        let (id, _) = check_object(&s, &grant, &q.id)?;
        let hash = match s.store.fetch_value(&id, &path)? {
            Some(FieldValue::Artifact(h)) => h,
            _ => {
                let why = format!(
                    "no {} field at \"{}\" of {id}",
                    FieldType::Artifact,
                    q.attribute
                );
                let body =
                    json!({"code": 404, "errorType": "NOT_FOUND", "title": why, "message": why});
                return Ok((StatusCode::NOT_FOUND, Json(body)).into_response());
            }
        };
        remember(&grant.project, &hash, s.store.artifact_files(&id, &path)?);
        Ok(Json(json!({"hash": hash})).into_response())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_file_goes_both_ways() {
        let d: FileDto = serde_json::from_value(json!({
            "filePath": "a/b.txt", "fileHash": "ab12", "type": "Local", "size": 5,
            "metadata": [{"key": "file_path", "value": "file:///tmp/b.txt"},
                         {"key": "last_modified", "value": "2024-01-02 03:04:05"}]
        }))
        .unwrap();
        let f = file(d).unwrap();
        assert_eq!(f.location, "file:///tmp/b.txt");
        assert_eq!(f.last_modified_ms, 1_704_164_645_000);
        let back = dto(&f);
        assert_eq!(back["metadata"][1]["value"], "2024-01-02 03:04:05");
        assert_eq!(back["metadata"][0]["key"], "file_path");
    }

    #[test]
    fn hashes_are_hex() {
        assert!(check_hash("00ff").is_ok());
        assert!(check_hash("../x").is_err());
        assert!(check_hash("").is_err());
    }
}
