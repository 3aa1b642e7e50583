//! The part of the original service's API that its Python client (`neptune` 1.x on PyPI)
//! calls, so that training code written against it logs to this server by changing only the
//! API token (`neptune-server token create --python-client --url URL --project P`).
//!
//! # What the client calls
//!
//! The client reads the server's address from its API token (base64 JSON with `api_address`,
//! `api_url`, `api_key`; see [`auth`]), then loads three Swagger documents with bravado
//! ([`swagger`]) and calls operations by their `operationId`:
//!
//! | client action | HTTP calls (answered here) |
//! | --- | --- |
//! | any start | `GET /api/backend/swagger.json`, `getClientConfig` (`X-Neptune-Api-Token`; the answer's `apiUrl` is where all else goes, `pyLibVersions` must be present; `multiPartUpload` sets the size above which files go in parts, `artifacts` turns artifacts on), `exchangeApiToken` (a JWT the client decodes unverified for `exp`, and `iss`, whose `/protocol/openid-connect/token` it posts to for a refresh), then `/api/leaderboard/swagger.json` and `/api/artifacts/swagger.json` |
//! | `init_run(project=…)` | `getProject` (404: `listProjects`, `listOrganizations` for suggestions), `createExperiment` (`customId`: the run of that custom id is resumed), then a `ping` every few seconds; `with_run_id=`: `getExperiment` with `workspace/project/ID` and `getExperimentAttributes` |
//! | assign, `append`/`extend`, tags `add`/`remove`, `clear`, `delete` | `executeOperations`: a JSON array of `{"path", "<opName>": {…}}` (`assignFloat`, `assignInt`, `assignBool`, `assignString`, `assignDatetime`, `logFloats`, `logStrings`, `logImages`, `clear*Series`, `configFloatSeries`, `insertStrings`, `removeStrings`, `clearStringSet`, `deleteAttribute`, `deleteFiles`), answered with the list of `{"errorDescription"}` of the operations refused ([`ops`]) |
//! | FileSeries `append(File.as_image(…))` | `logImages`, the image base64 inside the operation |
//! | `upload` | `fileAtomUpload`: the raw bytes, `experimentIdentifier`, `attribute`, `ext` in the query; answer `{"errors": []}` ([`upload`]) |
//! | `upload_files` | one file: `fileSetFileUpload` (`subPath`); several: `uploadFileSetAttributeTar`, a tar.gz; `reset` on assign |
//! | `fetch()`, `fetch_last()`, `fetch_values()`, `download()`, `get_structure()` | `get{Float,Int,Bool,String,Datetime,File,FloatSeries,StringSeries,StringSet}Attribute`, `get{Float,String,Image}SeriesValues` (offset and limit), `getExperimentAttributes`, `downloadAttribute` ([`fetch`]) |
//! | `download()` of a FileSet or FileSeries, `list_fileset_files()` | `prepareForDownloadFileSetAttributeZip`, `getDownloadPrepareRequest`, the zip's address; `getImageSeriesValue` by index; `lsFileSetAttribute` ([`download`]) |
//! | `track_files()`, `fetch_hash()`, `fetch_files_list()`, `download()` of an Artifact | `getArtifactAttribute`, `createNewArtifact`, `uploadArtifactFilesMetadata`, `createArtifactVersion`, `assignArtifact` in `executeOperations`, `listArtifactFiles` ([`artifacts`]) |
//! | `upload()` of a file above the config's `maxSinglePartSize` | `file…MultipartUpload{Start,Part,Finish}` ([`multipart`]) |
//! | `stop()` | nothing of its own: it flushes its queue (`executeOperations`) and stops pinging; the run turns Inactive when no ping came for the ping timeout ([`liveness`]) |
//! | `fetch_runs_table(…)`, `fetch_models_table(…)`, `fetch_model_versions_table(…)` | `searchLeaderboardAttributes` (the sort column's type), `searchLeaderboardEntries` (NQL filter, sorting, pagination, columns), from our table ([`table`]) |
//! | `neptune sync` | the same calls, from the `.neptune/offline` queue: `getProject`, `createExperiment`, `executeOperations`, uploads |
//!
//! Everything the client sends is validated as our own API: operations become
//! [`neptune_core::operation::Operation`]s, go through the server's screen ([`crate::screen`])
//! and the store's `execute`; every request is scoped to the API token's project. An
//! operation of the original API that is not served (notebooks) answers a JSON error that the client shows.

mod artifacts;
pub mod auth;
mod download;
mod fetch;
pub mod liveness;
pub mod multipart;
mod objects;
mod ops;
mod reply;
mod swagger;
mod table;
mod tar;
mod upload;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Json, Router};
use serde_json::json;

use crate::api::AppState;
use crate::error::ApiError;

pub use auth::python_client_token;

type St = State<Arc<AppState>>;

/// An answer in the original API's error shape (`errorType`, `title`), which the client
/// prints; the text is also in `X-Server-Error`, which the client logs as it comes.
#[derive(Debug)]
pub struct CompatError {
    status: StatusCode,
    error_type: &'static str,
    title: String,
}

/// A handler's result.
pub type CompatResult<T> = Result<T, CompatError>;

impl CompatError {
    fn new(status: StatusCode, error_type: &'static str, title: impl Into<String>) -> Self {
        CompatError {
            status,
            error_type,
            title: title.into(),
        }
    }

    fn unauthorized(title: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", title)
    }

    fn forbidden(title: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", title)
    }

    fn bad_request(title: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", title)
    }

    fn not_found(title: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", title)
    }
}

impl From<ApiError> for CompatError {
    fn from(e: ApiError) -> Self {
        let error_type = match e.status {
            StatusCode::NOT_FOUND => "NOT_FOUND",
            StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
            StatusCode::FORBIDDEN => "FORBIDDEN",
            StatusCode::PAYLOAD_TOO_LARGE => "TOO_LARGE",
            s if s.is_server_error() => "INTERNAL",
            _ => "BAD_REQUEST",
        };
        CompatError::new(e.status, error_type, e.message)
    }
}

impl From<neptune_core::Error> for CompatError {
    fn from(e: neptune_core::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for CompatError {
    fn into_response(self) -> Response {
        let header = HeaderValue::from_str(
            &self
                .title
                .chars()
                .map(|c| {
                    if c.is_ascii() && !c.is_ascii_control() {
                        c
                    } else {
                        '?'
                    }
                })
                .collect::<String>(),
        )
        .ok();
        let mut r = (
            self.status,
            Json(json!({
                "code": self.status.as_u16(),
                "errorType": self.error_type,
                "title": self.title,
                "message": self.title,
            })),
        )
            .into_response();
        if let Some(h) = header {
            r.headers_mut().insert("x-server-error", h);
        }
        r
    }
}

/// Runs blocking work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CompatResult<T> + Send + 'static,
) -> CompatResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        CompatError::from(ApiError::internal(format!("a request's work failed: {e}")))
    })?
}

async fn not_served(uri: axum::http::Uri) -> CompatError {
    not_served_path(uri.path())
}

/// The answer to a request for a part of the original API that is not served.
fn not_served_path(path: &str) -> CompatError {
    CompatError::new(
        StatusCode::NOT_IMPLEMENTED,
        "NOT_SERVED",
        format!(
            "this neptune-server does not serve {} of the original API (notebooks are \
             not served); use the \
             neptune command or /api/v1 for it",
            path
        ),
    )
}

/// The routes of the original API (merged into [`crate::router`], under its body limit).
pub fn router() -> Router<Arc<AppState>> {
    let lb = |p: &str| format!("/api/leaderboard/v1{p}");
    Router::new()
        .route(
            "/api/backend/swagger.json",
            get(|| async { Json(swagger::backend()) }),
        )
        .route(
            "/api/leaderboard/swagger.json",
            get(|| async { Json(swagger::leaderboard()) }),
        )
        .route(
            "/api/artifacts/swagger.json",
            get(|| async { Json(swagger::artifacts()) }),
        )
        .route("/api/backend/v1/clients/config", get(auth::client_config))
        .route(
            "/api/backend/v1/authorization/oauth-token",
            get(auth::exchange),
        )
        .route(
            "/auth/realms/neptune/protocol/openid-connect/token",
            post(auth::refresh),
        )
        .route("/api/backend/v1/projects/get", get(objects::get_project))
        .route("/api/backend/v1/projects", get(objects::list_projects))
        .route(
            "/api/backend/v1/organizations2",
            get(objects::list_organizations),
        )
        .route(&lb("/experiments"), post(objects::create_experiment))
        .route(&lb("/experiments/get"), get(objects::get_experiment))
        .route(&lb("/experiments/ping"), post(objects::ping))
        .route(&lb("/attributes/operations"), post(ops::execute_operations))
        .route(&lb("/attributes"), get(fetch::attributes))
        .route(&lb("/attributes/{kind}"), get(fetch::attribute))
        .route(&lb("/attributes/series/float"), get(fetch::float_values))
        .route(&lb("/attributes/series/string"), get(fetch::string_values))
        .route(&lb("/attributes/series/image"), get(fetch::image_values))
        .route(
            &lb("/attributes/storage/file/download"),
            get(fetch::download),
        )
        .route(
            &lb("/attributes/series/image/download"),
            get(download::series_file),
        )
        .route(
            &lb("/attributes/storage/fileset/zip"),
            post(download::prepare),
        )
        .route(&lb("/storage/downloadRequest"), get(download::request))
        .route(&lb("/storage/fileset/zip"), get(download::zip))
        .route(&lb("/attributes/storage/fileset/ls"), get(download::ls))
        .route(&lb("/attributes/artifact"), get(artifacts::attribute))
        .route("/api/artifacts/v1/artifacts", post(artifacts::create))
        .route(
            "/api/artifacts/v1/artifacts/files",
            put(artifacts::upload_files).get(artifacts::list_files),
        )
        .route(
            "/api/artifacts/v1/artifacts/version",
            post(artifacts::create_version),
        )
        .route(&lb("/attributes/storage/file/upload"), post(upload::file))
        .route(
            &lb("/attributes/storage/file/upload/start"),
            post(multipart::start),
        )
        .route(
            &lb("/attributes/storage/file/upload/part"),
            post(multipart::part),
        )
        .route(
            &lb("/attributes/storage/file/upload/finish"),
            post(multipart::finish),
        )
        .route(
            &lb("/attributes/storage/fileset/upload/start"),
            post(multipart::start),
        )
        .route(
            &lb("/attributes/storage/fileset/upload/part"),
            post(multipart::part),
        )
        .route(
            &lb("/attributes/storage/fileset/upload/finish"),
            post(multipart::finish),
        )
        .route(
            &lb("/attributes/storage/fileset/upload"),
            post(upload::fileset_file),
        )
        .route(
            &lb("/attributes/storage/fileset/tar"),
            post(upload::fileset_tar),
        )
        .route(&lb("/leaderboard/entries/search"), post(table::entries))
        .route(
            &lb("/leaderboard/attributes/search"),
            post(table::attributes),
        )
        .route("/api/backend/{*rest}", any(not_served))
        .route("/api/leaderboard/{*rest}", any(not_served))
        .route("/api/artifacts/{*rest}", any(not_served))
}
