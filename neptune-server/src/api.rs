//! The routes of `/api/v1`: objects, batches, fetches, paged series, tables.
//!
//! Every request but `/health` and the OpenAPI document carries `Authorization: Bearer TOKEN`.
//! Reads need a token of the object's project (read or write scope); writes a write token.
//! Bodies are read under the configured size limit, parsed (a malformed body is a 400 naming
//! the place and the problem), screened (see [`crate::screen`]) and applied by the store, which
//! validates every operation again.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use neptune_core::backend::{ObjectInfo, ObjectKind};
use neptune_core::store::{QueuedBatch, Store};
use neptune_core::wire::{self, BatchResult, BatchesBody, BatchesReply, OpenBody};
use neptune_core::{Backend, FieldPath};
use serde::de::DeserializeOwned;

use crate::body::{self, BodyBudget, BodyReader};
use crate::error::{ApiError, ApiResult};
use crate::tokens::{Grant, Scope, Tokens};

/// Limits on requests and connections: sizes, timeouts, concurrency and memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest JSON body, in bytes.
    pub max_body: usize,
    /// Largest file upload, in bytes.
    pub max_upload: u64,
    /// Most connections open at once. Past it, the oldest connection that is not in the middle
    /// of a request (idle, or still sending its headers) is closed to make room; when every
    /// connection is busy, new ones wait.
    pub max_connections: usize,
    /// Longest time to send a request's headers; also how long an idle connection stays open.
    pub header_timeout: Duration,
    /// Longest gap while a request body arrives.
    pub body_timeout: Duration,
    /// Slowest average rate of a body, in bytes a second, once `body_timeout` has passed
    /// (0: no minimum).
    pub min_body_rate: u64,
    /// Most bytes of request bodies held in memory at once, across all requests (at least
    /// `max_body` and a MiB).
    pub body_memory: usize,
    /// How long a request waits for room in `body_memory` before a 503 with `Retry-After`.
    pub body_memory_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 64 << 20,
            max_upload: 4 << 30,
            max_connections: 1024,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            min_body_rate: 1024,
            body_memory: 256 << 20,
            body_memory_wait: Duration::from_secs(5),
        }
    }
}

/// What every handler shares.
pub struct AppState {
    pub store: Arc<Store>,
    pub tokens: Arc<Tokens>,
    pub limits: Limits,
    /// Room for request bodies in memory, shared by every request.
    pub bodies: BodyBudget,
}

type St = State<Arc<AppState>>;

/// Every route of the server.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/objects", post(open_object).get(list_objects))
        .route("/api/v1/objects/{id}/batches", post(batches))
        .route("/api/v1/objects/{id}/structure", get(structure))
        .route("/api/v1/objects/{id}/value", get(value))
        .route("/api/v1/objects/{id}/values", get(values))
        .route("/api/v1/objects/{id}/series", get(series))
        .route("/api/v1/objects/{id}/series/floats", get(floats))
        .route("/api/v1/objects/{id}/series/strings", get(strings))
        .route("/api/v1/objects/{id}/file", get(file_ref))
        .route("/api/v1/objects/{id}/fileset", get(fileset))
        .route("/api/v1/objects/{id}/file-series", get(file_series))
        .route("/api/v1/objects/{id}/artifact", get(artifact))
        .route("/api/v1/tables", post(table))
        .route("/api/v1/files", put(crate::files::upload))
        .route(
            "/api/v1/files/{digest}",
            get(crate::files::download).head(crate::files::has),
        )
        .fallback(no_route)
        .with_state(state)
}

async fn no_route() -> ApiError {
    ApiError::not_found(
        "no_route",
        "no such route; the API is under /api/v1 (see /api/v1/openapi.json)",
    )
}

async fn health() -> Json<wire::Health> {
    Json(wire::Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

impl AppState {
    /// The grant of the request's token, with at least `scope`.
    pub(crate) fn auth(&self, headers: &HeaderMap, scope: Scope) -> ApiResult<Grant> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "missing API token: send `Authorization: Bearer <token>` (create one with \
                 `neptune-server token create --project P --scope write`)",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header is not `Bearer <token>`")
            })?;
        let grant = self
            .tokens
            .verify(token)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::unauthorized("unknown or revoked API token"))?;
        if scope == Scope::Write && grant.scope == Scope::Read {
            return Err(ApiError::forbidden(format!(
                "the token has read scope on \"{}\"; writing needs a write token",
                grant.project
            )));
        }
        Ok(grant)
    }
}

/// The project must be the token's.
pub(crate) fn check_project(grant: &Grant, project: &str) -> ApiResult<()> {
    if grant.project == project {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "the token is for project \"{}\", not \"{project}\"",
            grant.project
        )))
    }
}

/// The object must exist and belong to the token's project. An object of another project is
/// answered as a missing one (404), so a token cannot learn which ids exist elsewhere.
pub(crate) fn check_object(store: &Store, grant: &Grant, id: &str) -> ApiResult<ObjectKind> {
    match store.object_project(id)? {
        Some((kind, project)) if project == grant.project => Ok(kind),
        _ => Err(ApiError::not_found(
            "object_not_found",
            format!(
                "no object with id \"{id}\" in project \"{}\" of the token",
                grant.project
            ),
        )),
    }
}

/// Runs blocking work (SQLite, files, big parses) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("a request's work failed: {e}")))?
}

/// Reads a body of at most `limit` bytes (413 past it), under the server's body timeouts (408)
/// and memory for bodies (503): the room stays held while the returned bytes live.
pub(crate) async fn read_body(
    s: &AppState,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> ApiResult<Bytes> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let reader = BodyReader::new(body, &s.bodies, &s.limits);
    body::read_all(declared, reader, limit).await
}

/// Parses a JSON body; the error names where and what is wrong.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(|first| {
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        match serde_path_to_error::deserialize::<_, T>(de) {
            Err(e) if e.path().to_string() != "." => {
                ApiError::bad_request(format!("invalid JSON body at {}: {}", e.path(), e.inner()))
            }
            _ => ApiError::bad_request(format!("invalid JSON body: {first}")),
        }
    })
}

/// Parses a query string.
pub(crate) fn parse_query<T: DeserializeOwned>(q: Option<String>) -> ApiResult<T> {
    serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))
}

fn field_path(p: &str) -> ApiResult<FieldPath> {
    FieldPath::parse(p).map_err(|e| ApiError::bad_request(e.to_string()))
}

async fn open_object(State(s): St, headers: HeaderMap, body: Body) -> ApiResult<Json<ObjectInfo>> {
    let grant = s.auth(&headers, Scope::Read)?;
    let bytes = read_body(&s, &headers, body, s.limits.max_body).await?;
    blocking(move || {
        let body: OpenBody = parse_json(&bytes)?;
        let req = body.request;
        if grant.scope == Scope::Read {
            let why = if body.queue.is_some() {
                Some("registering an upload queue")
            } else if !req.read_only {
                Some("creating or resuming an object to write")
            } else if req.with_id.is_none() && req.kind != ObjectKind::Project {
                Some("opening an object without its id (which creates one when none is found)")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(ApiError::forbidden(format!(
                    "the token has read scope on \"{}\"; {why} needs a write token (or open an \
                     existing object read-only, by its id)",
                    grant.project
                )));
            }
        }
        match &req.with_id {
            Some(id) => {
                check_object(&s.store, &grant, id)?;
            }
            None => check_project(&grant, &req.project)?,
        }
        if let (ObjectKind::ModelVersion, Some(model)) = (req.kind, &req.model) {
            check_object(&s.store, &grant, model)?;
        }
        let info = match &body.queue {
            Some(q) if !wire::is_queue_id(q) => {
                return Err(ApiError::bad_request(format!(
                    "queue id {q:?} is not 1 to 64 letters, digits, '-' or '_'"
                )))
            }
            Some(q) => s.store.open_for_queue(&grant.project, &req, q)?,
            None => s.store.open_object(&req)?,
        };
        Ok(Json(info))
    })
    .await
}

async fn list_objects(
    State(s): St,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<wire::ObjectsReply>> {
    let grant = s.auth(&headers, Scope::Read)?;
    let q: wire::ListQuery = parse_query(q)?;
    check_project(&grant, &q.project)?;
    let kind = wire::kind_from_wire(&q.kind).ok_or_else(|| {
        ApiError::bad_request(format!(
            "unknown kind {:?}; use run, model, model-version or project",
            q.kind
        ))
    })?;
    blocking(move || {
        Ok(Json(wire::ObjectsReply {
            ids: s.store.list_objects(&q.project, kind)?,
        }))
    })
    .await
}

async fn batches(
    State(s): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<BatchesReply>> {
    let grant = s.auth(&headers, Scope::Write)?;
    let bytes = read_body(&s, &headers, body, s.limits.max_body).await?;
    blocking(move || {
        check_object(&s.store, &grant, &id)?;
        let body: BatchesBody = parse_json(&bytes)?;
        drop(bytes);
        if !wire::is_queue_id(&body.queue) {
            return Err(ApiError::bad_request(format!(
                "queue id {:?} is not 1 to 64 letters, digits, '-' or '_'",
                body.queue
            )));
        }
        let mut last = 0;
        for b in &body.batches {
            if b.seq <= last {
                return Err(ApiError::bad_request(format!(
                    "batch sequence numbers must start at 1 and increase; got {} after {last}",
                    b.seq
                )));
            }
            last = b.seq;
        }
        let mut queued = Vec::with_capacity(body.batches.len());
        for b in body.batches {
            let screened = crate::screen::screen(&s.store, &grant, b.ops)?;
            queued.push(QueuedBatch {
                seq: b.seq,
                ops: screened.ops,
                index: screened.index,
                refused: screened.refused,
            });
        }
        let outcomes = s
            .store
            .execute_queued(&grant.project, &id, &body.queue, &queued)?;
        Ok(Json(BatchesReply {
            results: outcomes
                .into_iter()
                .map(|o| BatchResult {
                    seq: o.seq,
                    duplicate: o.duplicate,
                    rejected: o.rejected,
                })
                .collect(),
        }))
    })
    .await
}

/// A read of one object: auth, the object's project, then `f` on the store.
async fn read_object<T: Send + 'static>(
    s: Arc<AppState>,
    headers: HeaderMap,
    id: String,
    f: impl FnOnce(&Store, &str) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let grant = s.auth(&headers, Scope::Read)?;
    blocking(move || {
        check_object(&s.store, &grant, &id)?;
        f(&s.store, &id)
    })
    .await
}

async fn structure(
    State(s): St,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<wire::StructureReply>> {
    read_object(s, headers, id, |store, id| {
        let fields = store.fetch_structure(id)?;
        Ok(Json(wire::StructureReply {
            fields: fields
                .into_iter()
                .map(|(path, field_type)| wire::FieldEntry { path, field_type })
                .collect(),
        }))
    })
    .await
}

async fn value(
    State(s): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<wire::ValueReply>> {
    let q: wire::PathQuery = parse_query(q)?;
    let path = field_path(&q.path)?;
    read_object(s, headers, id, move |store, id| {
        Ok(Json(wire::ValueReply {
            value: store.fetch_value(id, &path)?,
        }))
    })
    .await
}

async fn values(
    State(s): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<wire::ValuesReply>> {
    let q: wire::PrefixQuery = parse_query(q)?;
    let prefix = q.prefix.as_deref().map(field_path).transpose()?;
    read_object(s, headers, id, move |store, id| {
        let values = store.fetch_values_below(id, prefix.as_ref())?;
        Ok(Json(wire::ValuesReply {
            values: values
                .into_iter()
                .map(|(path, value)| wire::PathValue { path, value })
                .collect(),
        }))
    })
    .await
}

async fn series(
    State(s): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<wire::SeriesReply>> {
    let q: wire::PathQuery = parse_query(q)?;
    let path = field_path(&q.path)?;
    read_object(s, headers, id, move |store, id| {
        Ok(Json(wire::SeriesReply {
            series: store.fetch_series_info(id, &path)?,
        }))
    })
    .await
}

/// Largest page of a series.
const MAX_PAGE: usize = 100_000;

fn page_args(q: Option<String>) -> ApiResult<(FieldPath, Option<f64>, usize)> {
    let q: wire::PageQuery = parse_query(q)?;
    let path = field_path(&q.path)?;
    if q.after.is_some_and(|a| !a.is_finite()) {
        return Err(ApiError::bad_request("`after` must be a finite step"));
    }
    Ok((
        path,
        q.after,
        q.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE),
    ))
}

async fn floats(
    State(s): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<wire::FloatPageWire>> {
    let (path, after, limit) = page_args(q)?;
    read_object(s, headers, id, move |store, id| {
        let p = store.fetch_float_points(id, &path, after, limit)?;
        Ok(Json(wire::FloatPageWire {
            steps: p.steps,
            values: p.values,
            timestamps: p.timestamps,
        }))
    })
    .await
}

async fn strings(
    State(s): St,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<wire::StringPageWire>> {
    let (path, after, limit) = page_args(q)?;
    read_object(s, headers, id, move |store, id| {
        let p = store.fetch_string_points(id, &path, after, limit)?;
        Ok(Json(wire::StringPageWire {
            steps: p.steps,
            values: p.values,
            timestamps: p.timestamps,
        }))
    })
    .await
}

macro_rules! path_read {
    ($name:ident, $method:ident, $t:ty) => {
        async fn $name(
            State(s): St,
            headers: HeaderMap,
            Path(id): Path<String>,
            RawQuery(q): RawQuery,
        ) -> ApiResult<Json<$t>> {
            let q: wire::PathQuery = parse_query(q)?;
            let path = field_path(&q.path)?;
            read_object(s, headers, id, move |store, id| {
                Ok(Json(Backend::$method(store, id, &path)?))
            })
            .await
        }
    };
}

path_read!(file_ref, file_ref, Option<neptune_core::operation::FileRef>);
path_read!(
    fileset,
    fileset_entries,
    Vec<neptune_core::operation::FileSetEntry>
);
path_read!(
    file_series,
    file_points,
    Vec<neptune_core::operation::FilePoint>
);
path_read!(
    artifact,
    artifact_files,
    Vec<neptune_core::operation::ArtifactFile>
);

async fn table(
    State(s): St,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<neptune_core::Table>> {
    let grant = s.auth(&headers, Scope::Read)?;
    let bytes = read_body(&s, &headers, body, s.limits.max_body).await?;
    blocking(move || {
        let body: wire::TableBody = parse_json(&bytes)?;
        check_project(&grant, &body.scope.project)?;
        if let Some(model) = &body.scope.model {
            check_object(&s.store, &grant, model)?;
        }
        Ok(Json(s.store.fetch_table(&body.scope, &body.query)?))
    })
    .await
}
