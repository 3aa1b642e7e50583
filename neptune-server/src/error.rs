//! Error answers: a status and `{"error": {"code", "message"}}` naming the problem.
//!
//! An internal error (the store, the disk, a failed task) is answered with a generic message
//! and a reference; its details, which may name server paths or SQL, go only to the server's
//! log (`tracing`), under the same reference.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use neptune_core::wire::{ErrorBody, ErrorDetail};
use neptune_core::Error;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable machine-readable code (`bad_request`, `not_found`, …).
    pub code: &'static str,
    /// What went wrong and how to fix it.
    pub message: String,
    /// Seconds for a `Retry-After` header (503 answers).
    pub retry_after: Option<u32>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401: no token, or an unknown or revoked one.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: the token may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 with the given code.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 413: the request is over a limit.
    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// An internal error: `details` go to the log only; the answer names a reference to them.
    pub fn internal(details: impl Into<String>) -> Self {
        let reference = incident();
        tracing::error!(reference = %reference, "internal error: {}", details.into());
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!(
                "internal server error (reference {reference}); the details are in the \
                 server's log; retry, or tell the server's operator the reference"
            ),
        )
    }

    /// 503: the server is busy; retry after `seconds`.
    pub fn busy(message: impl Into<String>, seconds: u32) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", message);
        e.retry_after = Some(seconds);
        e
    }
}

/// A short reference for an internal error, shared by its answer and its log line.
fn incident() -> String {
    let mut b = [0u8; 6];
    if getrandom::fill(&mut b).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        b.copy_from_slice(&n.to_le_bytes()[..6]);
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::ObjectNotFound { .. } => ApiError::not_found("object_not_found", message),
            // Not raised by the store the server runs on; a peer's refusal is not ours to pass on.
            Error::Server { .. } => ApiError::internal(message),
            Error::Store { .. }
            | Error::Io { .. }
            | Error::Unavailable { .. }
            | Error::Corrupt(_)
            | Error::Worker(_)
            | Error::Config(_)
            | Error::Background { .. } => ApiError::internal(message),
            _ => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_keep_their_details_in_the_log() {
        let e = Error::Io {
            context: "cannot write /srv/secret-data/store.db".into(),
            source: std::io::Error::other("disk full"),
        };
        let a = ApiError::from(e);
        assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!a.message.contains("secret"), "{}", a.message);
        assert!(a.message.contains("reference "), "{}", a.message);
        let b = ApiError::internal("x");
        assert_ne!(a.message, b.message, "each error has its own reference");
    }
}
