//! The page shell, error pages and small formatting helpers shared by the pages.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use neptune_core::Cell;
use neptune_core::Value;

use super::assets;
use super::auth::Viewer;

/// The policy of every page: scripts and styles only from this server's `/assets/`, frames
/// only from this server (previews of stored HTML, sandboxed), no plugins, no form posts
/// elsewhere.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; frame-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// A whole page: head with the assets, the top bar, then `body`.
pub fn page(title: &str, viewer: Option<&Viewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · neptune" }
                link rel="stylesheet" href=(assets::url("uPlot.min.css"));
                link rel="stylesheet" href=(assets::url("ui.css"));
                script src=(assets::url("uPlot.iife.min.js")) defer {}
                script src=(assets::url("ui.js")) defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "neptune" }
                    span.crumb { (title) }
                    @if let Some(v) = viewer {
                        @if v.team {
                            span.who {
                                @if let Some(p) = &v.project { (p) } " · " (if v.write { "write" } else { "read" })
                            }
                            form method="post" action="/signout" { button.link type="submit" { "Sign out" } }
                        } @else {
                            span.who { "local store · read-only" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// An HTML response with the page policy and no caching.
pub fn respond(markup: Markup) -> Response {
    let mut r = maud::Markup::into_string(markup).into_response();
    let h = r.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(PAGE_CSP),
    );
    h.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    h.insert(
        axum::http::header::X_CONTENT_TYPE_OPTIONS,
        axum::http::HeaderValue::from_static("nosniff"),
    );
    r
}

/// A failed page: a status and a message shown as text, or a redirect to the sign-in page.
#[derive(Debug)]
pub struct UiError {
    pub status: StatusCode,
    pub message: String,
    sign_in: bool,
}

impl UiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        UiError {
            status,
            message: message.into(),
            sign_in: false,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// Not signed in (or the session ended): to the sign-in page.
    pub fn sign_in() -> Self {
        UiError {
            status: StatusCode::UNAUTHORIZED,
            message: "sign in with an API token first".into(),
            sign_in: true,
        }
    }

    /// An internal error: details to the log, a reference to the page.
    pub fn internal(details: impl Into<String>) -> Self {
        let e = crate::error::ApiError::internal(details);
        Self::new(e.status, e.message)
    }
}

impl From<neptune_core::Error> for UiError {
    fn from(e: neptune_core::Error) -> Self {
        let a = crate::error::ApiError::from(e);
        Self::new(a.status, a.message)
    }
}

impl From<crate::error::ApiError> for UiError {
    fn from(a: crate::error::ApiError) -> Self {
        Self::new(a.status, a.message)
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        if self.sign_in {
            return Redirect::to("/signin").into_response();
        }
        let body = page(
            "Error",
            None,
            html! { h1 { (self.status.as_u16()) " " (self.status.canonical_reason().unwrap_or("")) } p.error { (self.message) } p { a href="/" { "Back to the projects" } } },
        );
        let mut r = respond(body);
        *r.status_mut() = self.status;
        r
    }
}

/// Runs blocking store work off the async threads.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, UiError> + Send + 'static,
) -> Result<T, UiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| UiError::internal(format!("a page's work failed: {e}")))?
}

/// A float as people read it: up to 6 significant digits.
pub fn float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    if v == 0.0 || (v.abs() >= 1e-4 && v.abs() < 1e7) {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_owned()
    } else {
        format!("{v:.4e}")
    }
}

/// A table cell as text.
pub fn cell(c: &Cell) -> String {
    match c {
        Cell::Float(v) => float(*v),
        Cell::Datetime(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
        other => other.to_string(),
    }
}

/// A field value as text (namespaces as their JSON).
pub fn value(v: &Value) -> String {
    match v {
        Value::Float(f) => float(*f),
        Value::Integer(i) => i.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Datetime(d) => d.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Value::StringSet(s) => s.iter().cloned().collect::<Vec<_>>().join(", "),
        Value::RunState(s) => s.to_string(),
        Value::GitRef(g) => format!(
            "{} on {}{} — {}",
            g.commit_id,
            g.branch.as_deref().unwrap_or("(detached)"),
            if g.dirty { " (dirty)" } else { "" },
            g.message.lines().next().unwrap_or("")
        ),
        Value::Artifact(h) => h.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// A query string from pairs (values percent-encoded).
pub fn query(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .copied()
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// A state badge: "live" while Active.
pub fn state_badge(state: &str) -> Markup {
    html! {
        @if state.eq_ignore_ascii_case("active") {
            span.badge.live data-state="Active" { "● live" }
        } @else {
            span.badge data-state=(state) { (state) }
        }
    }
}

/// JSON embedded in a page for its script (escaped so it cannot close the script element).
pub fn json_script(id: &str, v: &serde_json::Value) -> Markup {
    let s = serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    html! { script type="application/json" id=(id) { (PreEscaped(s)) } }
}
