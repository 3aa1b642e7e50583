//! Choosing the HTTP backend when a server URL is set (NEPTUNE_URL or the builder's `url`).

use std::path::Path;
#[cfg(feature = "http")]
use std::sync::Arc;

use crate::backend::Backend;
use crate::config::Mode;
use crate::error::{Error, Result};

/// `NEPTUNE_URL`, if set.
pub(crate) fn url_from_env() -> Option<String> {
    std::env::var("NEPTUNE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// `NEPTUNE_API_TOKEN`, if set.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn token_from_env() -> Option<String> {
    std::env::var("NEPTUNE_API_TOKEN")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// The backend of an object logged to the server at `url`: through the durable queue in
/// `home/queue` (async, sync and offline modes), or directly (read-only mode).
#[cfg(feature = "http")]
pub(crate) fn remote(url: &str, token: Option<String>, home: &Path, mode: Mode) -> Result<Backend> {
    use crate::backend::http::{HttpBackend, QueueMode, QueuedBackend};
    let token = match (token.or_else(token_from_env), mode) {
        (Some(t), _) => t,
        (None, Mode::Offline) => String::new(),
        (None, _) => {
            return Err(Error::Config(format!(
                "NEPTUNE_URL is {url} but NEPTUNE_API_TOKEN is not set; create a token on the \
                 server with `neptune-server token create --project PROJECT --scope write`"
            )))
        }
    };
    let http = Arc::new(HttpBackend::new(url, &token)?);
    let mode = match mode {
        Mode::Async => QueueMode::Async,
        Mode::Sync => QueueMode::Sync,
        Mode::Offline => QueueMode::Offline,
        Mode::ReadOnly | Mode::Debug => return Ok(Backend::of(http)),
    };
    let queued = Arc::new(QueuedBackend::new(http.clone(), home, mode));
    Ok(Backend::new(queued, http))
}

/// Without the `http` feature: a clear error.
#[cfg(not(feature = "http"))]
pub(crate) fn remote(
    url: &str,
    _token: Option<String>,
    _home: &Path,
    _mode: Mode,
) -> Result<Backend> {
    Err(Error::Config(format!(
        "a server URL is set ({url}, from NEPTUNE_URL or the builder) but this build has no HTTP \
         backend: enable the `http` feature of neptune, or unset NEPTUNE_URL to log to the \
         embedded store"
    )))
}

#[cfg(all(test, not(feature = "http")))]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_the_http_feature_is_a_clear_error() {
        let Err(e) = remote("http://127.0.0.1:1", None, Path::new("."), Mode::Async) else {
            panic!("a URL without the http feature must be refused");
        };
        let e = e.to_string();
        assert!(
            e.contains("`http` feature") && e.contains("NEPTUNE_URL"),
            "{e}"
        );
    }
}
