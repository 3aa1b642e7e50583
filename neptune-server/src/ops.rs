//! Operations: the readiness endpoint and the logging set-up of the binaries.
//!
//! `/health` says the process answers; `/ready` says it can serve: the database answers a
//! query and the file store can be reached (503 with the reason otherwise), so that a load
//! balancer sends no requests to a replica whose storage is gone.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::api::AppState;

/// The answer of `/ready`.
#[derive(serde::Serialize)]
pub struct Ready {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    /// What is unreachable, when unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `GET /ready`: 200 when the database and the file store answer, else 503.
pub async fn ready(State(s): State<Arc<AppState>>) -> (StatusCode, Json<Ready>) {
    let store = s.store.clone();
    let checked = tokio::task::spawn_blocking(move || store.check_ready()).await;
    let error = match checked {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(format!("the readiness check failed: {e}")),
    };
    match error {
        None => (
            StatusCode::OK,
            Json(Ready {
                status: "ready",
                error: None,
            }),
        ),
        Some(e) => {
            tracing::warn!("not ready: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Ready {
                    status: "unavailable",
                    error: Some(e),
                }),
            )
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (e.g. `RUST_LOG=info,tower_http=debug`); `info`
/// when it is unset or unreadable. Does nothing when a subscriber is already set.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .try_init();
}
