//! File uploads: a File field's content (`fileAtomUpload`), one file of a FileSet
//! (`fileSetFileUpload`), or several as a tar.gz (`uploadFileSetAttributeTar`). Content goes
//! into the file area as our own uploads do (streamed, counted against the upload limit, and
//! recorded for the token's project); then the field is written by an operation that passes
//! the same checks as any other. The answer is `{"errors": [{"errorDescription"}]}`.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use neptune_core::operation::{FileRef, FileSetEntry, Operation};
use neptune_core::rules::clock::now_ms;
use neptune_core::{wire, FieldPath, Writer};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::bearer_grant;
use super::objects::check_object;
use super::{blocking, CompatError, CompatResult, St};
use crate::extract::{BodyBytes, Query, WriteToken};
use crate::tokens::{Grant, Scope};

#[derive(Deserialize)]
pub(super) struct UploadQuery {
    #[serde(rename = "experimentIdentifier", alias = "experimentId")]
    id: String,
    attribute: String,
    #[serde(default)]
    ext: String,
    #[serde(rename = "subPath")]
    sub_path: Option<String>,
    reset: Option<String>,
}

/// Screens and applies one operation; the refusals as the client's errors.
pub(super) fn apply(
    s: &super::AppState,
    grant: &Grant,
    id: &str,
    op: Operation,
) -> CompatResult<Value> {
    let screened = crate::screen::screen(&s.store, grant, vec![op])?;
    let mut errors: Vec<Value> = screened
        .refused
        .iter()
        .map(|r| json!({"errorDescription": format!("{}: {}", r.path, r.reason)}))
        .collect();
    for r in s.store.execute(id, &screened.ops)? {
        errors.push(json!({"errorDescription": format!("{}: {}", r.path, r.reason)}));
    }
    Ok(json!({"errors": errors}))
}

fn field(p: &str) -> CompatResult<FieldPath> {
    FieldPath::parse(p).map_err(|e| CompatError::bad_request(e.to_string()))
}

/// Checks the object and field, then stores the body as file content.
async fn store_body(
    s: &std::sync::Arc<super::AppState>,
    grant: &Grant,
    q: &UploadQuery,
    extension: String,
    headers: HeaderMap,
    body: Body,
) -> CompatResult<(String, FieldPath, FileRef)> {
    let path = field(&q.attribute)?;
    let (st, g, raw) = (s.clone(), grant.clone(), q.id.clone());
    let (id, _) = blocking(move || check_object(&st, &g, &raw)).await?;
    let Json(file) = crate::files::upload(
        State(s.clone()),
        WriteToken(grant.clone()),
        crate::extract::Query(wire::UploadQuery { extension }),
        headers,
        body,
    )
    .await?;
    Ok((id, path, file))
}

/// `fileAtomUpload`: the body is the content of a File field.
pub(super) async fn file(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<UploadQuery>,
    body: Body,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    let (id, path, file) = store_body(&s, &grant, &q, q.ext.clone(), headers, body).await?;
    blocking(move || apply(&s, &grant, &id, Operation::UploadFile { path, file }).map(Json)).await
}

pub(super) fn extension_of(p: &str) -> String {
    let leaf = p.rsplit('/').next().unwrap_or(p);
    match leaf.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && !ext.is_empty()
                && ext.len() <= 32
                && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            ext.to_owned()
        }
        _ => String::new(),
    }
}

/// `fileSetFileUpload`: the body is one file of a FileSet, at `subPath`.
pub(super) async fn fileset_file(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<UploadQuery>,
    body: Body,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    let sub = q
        .sub_path
        .clone()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| CompatError::bad_request("a file of a file set needs its subPath"))?;
    let (id, path, file) = store_body(&s, &grant, &q, extension_of(&sub), headers, body).await?;
    let op = Operation::UploadFileSet {
        path,
        files: vec![FileSetEntry {
            path: sub,
            file,
            mtime_ms: now_ms(),
        }],
        reset: false,
    };
    blocking(move || apply(&s, &grant, &id, op).map(Json)).await
}

/// `uploadFileSetAttributeTar`: files of a FileSet as a tar.gz (`reset`: the set's files are
/// replaced).
pub(super) async fn fileset_tar(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<UploadQuery>,
    BodyBytes(bytes): BodyBytes,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    let path = field(&q.attribute)?;
    let reset = q
        .reset
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case("true"));
    blocking(move || {
        let (id, _) = check_object(&s, &grant, &q.id)?;
        let limit = s.limits.max_upload;
        let gz = flate2::read::GzDecoder::new(&bytes[..]);
        let mut files = Vec::new();
        let mut total = 0u64;
        super::tar::each_file(gz, |name, size, mtime_ms, content| {
            total = total.saturating_add(size);
            if total > limit {
                return Err(format!(
                    "the files unpack to more than the server's upload limit of {limit} bytes"
                ));
            }
            let file = s
                .store
                .put_file(content, &extension_of(name))
                .map_err(|e| e.to_string())?;
            s.store
                .record_upload(&grant.project, &file.digest)
                .map_err(|e| e.to_string())?;
            files.push(FileSetEntry {
                path: name.to_owned(),
                file,
                mtime_ms,
            });
            Ok(())
        })
        .map_err(|e| CompatError::bad_request(format!("the file set's tar.gz: {e}")))?;
        apply(
            &s,
            &grant,
            &id,
            Operation::UploadFileSet { path, files, reset },
        )
        .map(Json)
    })
    .await
}
