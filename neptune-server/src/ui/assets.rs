//! The UI's assets, inside the binary: vendored uPlot (MIT, `assets/vendor/uplot/`) and the
//! hand-written `ui.js` and `ui.css`. Pages link them as `/assets/NAME?v=HASH`; a response
//! carries an `ETag` (the content's hash) and, when the link names the current hash, a year of
//! `immutable` caching, so a new binary's assets are fetched anew and old ones never are.

use std::sync::LazyLock;

use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    mime: &'static str,
    body: &'static [u8],
    hash: String,
}

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/uplot/uPlot.iife.min.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/vendor/uplot/uPlot.min.css"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/ui.js"),
    ),
    (
        "ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/ui.css"),
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, mime, body)| {
            let h = Sha256::digest(body);
            Asset {
                name,
                mime,
                body,
                hash: h[..8].iter().map(|b| format!("{b:02x}")).collect(),
            }
        })
        .collect()
});

fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// The link to an asset, naming its content hash.
pub fn url(name: &str) -> String {
    match find(name) {
        Some(a) => format!("/assets/{}?v={}", a.name, a.hash),
        None => format!("/assets/{name}"),
    }
}

/// Every asset's name and size in bytes (for the size budget's test and benchmark).
pub fn sizes() -> Vec<(&'static str, usize)> {
    FILES.iter().map(|(n, _, b)| (*n, b.len())).collect()
}

/// `GET /assets/{name}`.
pub async fn serve(
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(a) = find(&name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = format!("\"{}\"", a.hash);
    let versioned = q.as_deref() == Some(&format!("v={}", a.hash));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut r = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        a.body.into_response()
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    r
}
