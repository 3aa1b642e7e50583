//! Signing in to the team UI, and who is looking at a page.
//!
//! A browser signs in with an API token (`POST /signin`); the server checks it with
//! [`Tokens::verify`](crate::tokens::Tokens::verify) and answers with a random session id in
//! an `HttpOnly`, `SameSite=Strict` cookie. The server keeps only the SHA-256 of that id, with
//! the token's id, project and scope, for [`SESSION_HOURS`]; the raw token is never stored or
//! sent back. Each request checks that the token was not revoked since. Every POST must come
//! from a page of this server: its `Origin` must match its `Host` (with the SameSite cookie,
//! the defence against cross-site request forgery).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use sha2::{Digest, Sha256};

use super::layout::{self, UiError};
use super::{Ui, UiState};
use crate::tokens::Scope;

/// How long a session lasts.
pub const SESSION_HOURS: u64 = 12;
const COOKIE: &str = "neptune_session";
const MAX_SESSIONS: usize = 10_000;

struct Session {
    token_id: String,
    project: String,
    scope: Scope,
    expires: Instant,
}

/// The live sessions of a team UI, by the SHA-256 of their id.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

fn digest(id: &str) -> String {
    let h = Sha256::digest(id.as_bytes());
    h.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn create(&self, token_id: String, project: String, scope: Scope) -> Result<String, UiError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw)
            .map_err(|e| UiError::internal(format!("no randomness for a session id: {e}")))?;
        let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let mut map = self.lock();
        let now = Instant::now();
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS {
            return Err(UiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many open sessions on this server; try again later",
            ));
        }
        map.insert(
            digest(&id),
            Session {
                token_id,
                project,
                scope,
                expires: now + Duration::from_secs(SESSION_HOURS * 3600),
            },
        );
        Ok(id)
    }

    fn remove(&self, id: &str) {
        self.lock().remove(&digest(id));
    }
}

/// Who is looking: the project they may see (`None`: every project, the local UI) and
/// whether they may edit.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// The project the session may see (`None`: any, in the local UI).
    pub project: Option<String>,
    /// Whether the session may edit runs' names, descriptions and tags.
    pub write: bool,
    /// Signed in on a team server (shows the sign-out button).
    pub team: bool,
}

impl Viewer {
    /// Whether the viewer may see `project`.
    pub fn sees(&self, project: &str) -> bool {
        self.project.as_deref().is_none_or(|p| p == project)
    }

    /// The project of object `id`, when the viewer may see it; else a 404 naming the id.
    pub fn object_project(&self, st: &UiState, id: &str) -> Result<String, UiError> {
        match st.store.object_project(id).map_err(UiError::from)? {
            Some((_, p)) if self.sees(&p) => Ok(p),
            _ => Err(UiError::new(
                StatusCode::NOT_FOUND,
                format!("no run or object \"{id}\" that you can see"),
            )),
        }
    }
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
}

impl FromRequestParts<std::sync::Arc<UiState>> for Viewer {
    type Rejection = UiError;

    async fn from_request_parts(
        parts: &mut Parts,
        st: &std::sync::Arc<UiState>,
    ) -> Result<Self, Self::Rejection> {
        let Some(tokens) = &st.tokens else {
            return Ok(Viewer {
                project: None,
                write: false,
                team: false,
            });
        };
        let session = cookie_value(&parts.headers).and_then(|id| {
            let map = st.sessions.lock();
            map.get(&digest(&id))
                .filter(|s| s.expires > Instant::now())
                .map(|s| (s.token_id.clone(), s.project.clone(), s.scope))
        });
        let Some((token_id, project, scope)) = session else {
            return Err(UiError::sign_in());
        };
        let tokens = tokens.clone();
        let tid = token_id.clone();
        let live = tokio::task::spawn_blocking(move || tokens.list())
            .await
            .map_err(|e| UiError::internal(e.to_string()))?
            .map_err(UiError::internal)?
            .into_iter()
            .any(|t| t.id == tid && t.revoked_ms.is_none());
        if !live {
            return Err(UiError::sign_in());
        }
        Ok(Viewer {
            project: Some(project),
            write: scope == Scope::Write,
            team: true,
        })
    }
}

/// Refuses a POST that does not come from a page of this server (its `Origin` must be this
/// server's own).
pub fn same_origin(headers: &HeaderMap) -> Result<(), UiError> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let ok = match (host, origin) {
        (Some(h), Some(o)) => {
            o.strip_prefix("http://")
                .or_else(|| o.strip_prefix("https://"))
                == Some(h)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(UiError::new(
            StatusCode::FORBIDDEN,
            "this form must be sent from a page of this server (its Origin header did not match)",
        ))
    }
}

/// `GET /signin`.
pub async fn signin_page(State(st): Ui) -> Response {
    if st.tokens.is_none() {
        return Redirect::to("/").into_response();
    }
    layout::respond(signin_form(None))
}

fn signin_form(problem: Option<&str>) -> maud::Markup {
    layout::page(
        "Sign in",
        None,
        html! {
            h1 { "Sign in" }
            p { "Paste an API token of your project (" code { "neptune-server token create --project P --scope read" } ")." }
            @if let Some(p) = problem { p.error { (p) } }
            form method="post" action="/signin" class="signin" {
                input type="password" name="token" id="token" autocomplete="off" placeholder="nep_…" required;
                button type="submit" id="signin" { "Sign in" }
            }
        },
    )
}

#[derive(serde::Deserialize)]
struct SigninForm {
    token: String,
}

/// `POST /signin`: checks the token and sets the session cookie.
pub async fn signin(State(st): Ui, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let Some(tokens) = st.tokens.clone() else {
        return Redirect::to("/").into_response();
    };
    if let Err(e) = same_origin(&headers) {
        return e.into_response();
    }
    let Ok(form) = serde_urlencoded::from_bytes::<SigninForm>(&body) else {
        return with_status(
            StatusCode::BAD_REQUEST,
            signin_form(Some("The form had no token.")),
        );
    };
    let grant = match tokio::task::spawn_blocking(move || tokens.verify(&form.token)).await {
        Ok(Ok(Some(g))) => g,
        Ok(Ok(None)) => {
            return with_status(
                StatusCode::UNAUTHORIZED,
                signin_form(Some("Unknown or revoked API token.")),
            )
        }
        Ok(Err(e)) => return UiError::internal(e).into_response(),
        Err(e) => return UiError::internal(e.to_string()).into_response(),
    };
    let id = match st
        .sessions
        .create(grant.token_id, grant.project, grant.scope)
    {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let cookie = format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_HOURS * 3600
    );
    let mut r = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `POST /signout`: ends the session.
pub async fn signout(State(st): Ui, headers: HeaderMap) -> Response {
    if let Err(e) = same_origin(&headers) {
        return e.into_response();
    }
    if let Some(id) = cookie_value(&headers) {
        st.sessions.remove(&id);
    }
    let mut r = Redirect::to("/signin").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("neptune_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

fn with_status(status: StatusCode, m: maud::Markup) -> Response {
    let mut r = layout::respond(m);
    *r.status_mut() = status;
    r
}
