//! The routes of `/api/v1`: objects, batches, fetches, paged series, tables.
//!
//! Every request but `/health` and the OpenAPI document carries `Authorization: Bearer TOKEN`.
//! Reads need a token of the object's project (read or write scope); writes a write token.
//! Tokens, bodies, queries and URL paths are taken by the extractors of [`crate::extract`],
//! which answer a bad one with the API's error shape; bodies are limited by the router's
//! `DefaultBodyLimit` ([`Limits::max_body`]). Batches are screened (see [`crate::screen`]) and
//! applied by the store, which validates every operation again.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use neptune_core::backend::{ObjectInfo, ObjectKind};
use neptune_core::rules::SERIES_PAGE;
use neptune_core::store::{QueuedBatch, Store};
use neptune_core::wire::{self, BatchResult, BatchesBody, BatchesReply, OpenBody};
use neptune_core::{FieldPath, Reader, Writer};

use crate::body::BodyBudget;
use crate::error::{ApiError, ApiResult};
pub(crate) use crate::extract::parse_json;
use crate::extract::{BodyBytes, JsonBody, Path, Query, ReadToken, WriteToken};
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
    /// The store every request reads and writes.
    pub store: Arc<Store>,
    /// The API tokens.
    pub tokens: Arc<Tokens>,
    /// The limits requests are held to.
    pub limits: Limits,
    /// Room for request bodies in memory, shared by every request.
    pub bodies: BodyBudget,
}

type St = State<Arc<AppState>>;

/// Every route of the server.
pub fn router(state: Arc<AppState>) -> Router {
    let ui = crate::ui::UiState::team(state.store.clone(), state.tokens.clone());
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(crate::ops::ready))
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
        .route(
            "/api/v1/series/downsample",
            post(crate::ui::data::api_downsample),
        )
        .route("/api/v1/files", put(crate::files::upload))
        .route(
            "/api/v1/files/{digest}",
            get(crate::files::download).head(crate::files::has),
        )
        .merge(crate::compat::router())
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .layer(DefaultBodyLimit::max(state.limits.max_body))
        .with_state(state)
        .merge(crate::ui::router(ui))
}

async fn no_route() -> ApiError {
    ApiError::not_found(
        "no_route",
        "no such route; the API is under /api/v1 (see /api/v1/openapi.json)",
    )
}

async fn no_method() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "no_method",
        "this route does not take this method (see /api/v1/openapi.json)",
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

fn field_path(p: &str) -> ApiResult<FieldPath> {
    FieldPath::parse(p).map_err(|e| ApiError::bad_request(e.to_string()))
}

async fn open_object(
    State(s): St,
    ReadToken(grant): ReadToken,
    JsonBody(body): JsonBody<OpenBody>,
) -> ApiResult<Json<ObjectInfo>> {
    blocking(move || {
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
    ReadToken(grant): ReadToken,
    Query(q): Query<wire::ListQuery>,
) -> ApiResult<Json<wire::ObjectsReply>> {
    check_project(&grant, &q.project)?;
    let kind = ObjectKind::from_wire_name(&q.kind).ok_or_else(|| {
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
    WriteToken(grant): WriteToken,
    Path(id): Path<String>,
    BodyBytes(bytes): BodyBytes,
) -> ApiResult<Json<BatchesReply>> {
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

/// A read of one object: the object must be of the token's project; then `f` on the store.
async fn read_object<T: Send + 'static>(
    s: Arc<AppState>,
    grant: Grant,
    id: String,
    f: impl FnOnce(&Store, &str) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    blocking(move || {
        check_object(&s.store, &grant, &id)?;
        f(&s.store, &id)
    })
    .await
}

async fn structure(
    State(s): St,
    ReadToken(grant): ReadToken,
    Path(id): Path<String>,
) -> ApiResult<Json<wire::StructureReply>> {
    read_object(s, grant, id, |store, id| {
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
    ReadToken(grant): ReadToken,
    Path(id): Path<String>,
    Query(q): Query<wire::PathQuery>,
) -> ApiResult<Json<wire::ValueReply>> {
    let path = field_path(&q.path)?;
    read_object(s, grant, id, move |store, id| {
        Ok(Json(wire::ValueReply {
            value: store.fetch_value(id, &path)?,
        }))
    })
    .await
}

async fn values(
    State(s): St,
    ReadToken(grant): ReadToken,
    Path(id): Path<String>,
    Query(q): Query<wire::PrefixQuery>,
) -> ApiResult<Json<wire::ValuesReply>> {
    let prefix = q.prefix.as_deref().map(field_path).transpose()?;
    read_object(s, grant, id, move |store, id| {
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
    ReadToken(grant): ReadToken,
    Path(id): Path<String>,
    Query(q): Query<wire::PathQuery>,
) -> ApiResult<Json<wire::SeriesReply>> {
    let path = field_path(&q.path)?;
    read_object(s, grant, id, move |store, id| {
        Ok(Json(wire::SeriesReply {
            series: store.fetch_series_info(id, &path)?,
        }))
    })
    .await
}

fn page_args(q: wire::PageQuery) -> ApiResult<(FieldPath, Option<f64>, usize)> {
    let path = field_path(&q.path)?;
    if q.after.is_some_and(|a| !a.is_finite()) {
        return Err(ApiError::bad_request("`after` must be a finite step"));
    }
    Ok((
        path,
        q.after,
        q.limit.unwrap_or(SERIES_PAGE).clamp(1, SERIES_PAGE),
    ))
}

async fn floats(
    State(s): St,
    ReadToken(grant): ReadToken,
    Path(id): Path<String>,
    Query(q): Query<wire::PageQuery>,
) -> ApiResult<Json<wire::FloatPageWire>> {
    let (path, after, limit) = page_args(q)?;
    read_object(s, grant, id, move |store, id| {
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
    ReadToken(grant): ReadToken,
    Path(id): Path<String>,
    Query(q): Query<wire::PageQuery>,
) -> ApiResult<Json<wire::StringPageWire>> {
    let (path, after, limit) = page_args(q)?;
    read_object(s, grant, id, move |store, id| {
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
            ReadToken(grant): ReadToken,
            Path(id): Path<String>,
            Query(q): Query<wire::PathQuery>,
        ) -> ApiResult<Json<$t>> {
            let path = field_path(&q.path)?;
            read_object(s, grant, id, move |store, id| {
                Ok(Json(Reader::$method(store, id, &path)?))
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
    ReadToken(grant): ReadToken,
    JsonBody(body): JsonBody<wire::TableBody>,
) -> ApiResult<Json<neptune_core::Table>> {
    blocking(move || {
        check_project(&grant, &body.scope.project)?;
        if let Some(model) = &body.scope.model {
            check_object(&s.store, &grant, model)?;
        }
        Ok(Json(s.store.fetch_table(&body.scope, &body.query)?))
    })
    .await
}
