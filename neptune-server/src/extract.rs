//! The extractors of the API's handlers, each refusing a request with the API's error shape
//! (`{"error": {"code", "message"}}`, see [`ApiError`]) rather than axum's plain-text
//! rejections:
//!
//! - [`ReadToken`] and [`WriteToken`]: the request's API token, checked (401 without a valid
//!   one; 403 for a read token where writing is asked). They run before the body is read.
//! - [`JsonBody`]: a JSON body, read under the route's
//!   [`DefaultBodyLimit`](axum::extract::DefaultBodyLimit) (413), the body timeouts (408) and
//!   the server's memory for bodies (503), then parsed off the async threads (400 naming the
//!   place and the problem). [`BodyBytes`] is the same body unparsed.
//! - [`Query`] and [`Path`]: the query string and the URL's path segments (400).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;

use crate::api::{blocking, AppState};
use crate::body;
use crate::error::{ApiError, ApiResult};
use crate::tokens::{Grant, Scope, Tokens};

/// The request's token, of any scope: its project and scope. Reads need no more.
#[derive(Clone, Debug)]
pub struct ReadToken(pub Grant);

/// The request's token, with write scope (a read token is answered 403).
#[derive(Clone, Debug)]
pub struct WriteToken(pub Grant);

/// The grant of the token in `headers`, with at least `scope`.
fn authorize(headers: &HeaderMap, tokens: &Tokens, scope: Scope) -> ApiResult<Grant> {
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
    let grant = tokens
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

impl FromRequestParts<Arc<AppState>> for ReadToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<AppState>) -> ApiResult<Self> {
        authorize(&parts.headers, &s.tokens, Scope::Read).map(ReadToken)
    }
}

impl FromRequestParts<Arc<AppState>> for WriteToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<AppState>) -> ApiResult<Self> {
        authorize(&parts.headers, &s.tokens, Scope::Write).map(WriteToken)
    }
}

/// A request body's bytes, read whole under the limits (see the module's documentation). The
/// room they take in the server's memory for bodies is given back when they are dropped.
pub struct BodyBytes(pub Bytes);

impl FromRequest<Arc<AppState>> for BodyBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &Arc<AppState>) -> ApiResult<Self> {
        body::read_all(req, &s.bodies, &s.limits)
            .await
            .map(BodyBytes)
    }
}

/// A JSON body, parsed into `T`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + Send + 'static> FromRequest<Arc<AppState>> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, s: &Arc<AppState>) -> ApiResult<Self> {
        let BodyBytes(bytes) = BodyBytes::from_request(req, s).await?;
        blocking(move || parse_json(&bytes)).await.map(JsonBody)
    }
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

/// The query string, parsed into `T` (an absent query parses as an empty one).
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map(Query)
            .map_err(|e| ApiError::bad_request(format!("invalid query: {e}")))
    }
}

/// The URL's path parameters, parsed into `T`.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> ApiResult<Self> {
        match axum::extract::Path::<T>::from_request_parts(parts, s).await {
            Ok(axum::extract::Path(t)) => Ok(Path(t)),
            // A route whose parameters do not fit its handler: the server's bug.
            Err(r) if r.status().is_server_error() => Err(ApiError::internal(r.body_text())),
            Err(r) => Err(ApiError::bad_request(format!(
                "invalid URL path: {}",
                r.body_text()
            ))),
        }
    }
}
