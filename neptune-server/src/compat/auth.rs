//! The original client's credentials: its API token, the access tokens it exchanges it for,
//! and the refresh of those.
//!
//! - The API token the client is given is base64 of `{"api_address", "api_url", "api_key"}`:
//!   the addresses are this server's, `api_key` is one of our tokens (`nep_…`). The client reads
//!   the addresses itself; the server reads only `api_key` and checks it as any other token.
//! - `exchangeApiToken` answers an access token: a JWT (HS256) whose payload has `exp`, `iss`
//!   (the realm, whose `/protocol/openid-connect/token` refreshes it), `azp` and the API token
//!   under `nep`. The client decodes it without checking the signature and reads `exp`; every
//!   request then sends it as `Authorization: Bearer …`, and the server checks the signature,
//!   `exp`, and the API token inside it again (so revoking the API token ends its access
//!   tokens at once). The access token is as secret as the API token it carries.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use neptune_core::rules::clock::now_ms;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{CompatError, CompatResult, St};
use crate::tokens::{Grant, Scope};

/// How long an access token lives, in seconds; the client refreshes it 30 s before.
const ACCESS_SECS: i64 = 3600;
/// The client id the access token names (`azp`).
const CLIENT_ID: &str = "neptune-client";

/// The API token the original client takes, for `url` (this server as the client reaches it)
/// and one of our tokens.
pub fn python_client_token(url: &str, api_key: &str) -> String {
    let url = url.trim_end_matches('/');
    STANDARD.encode(
        json!({"api_address": url, "api_url": url, "api_key": api_key})
            .to_string()
            .as_bytes(),
    )
}

/// `api_key` of the client's API token: the token as given, or our token alone.
fn api_key_of(presented: &str) -> Option<String> {
    let presented = presented.trim();
    if presented.starts_with("nep_") {
        return Some(presented.to_owned());
    }
    let raw = STANDARD.decode(presented.as_bytes()).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    v.get("api_key")?.as_str().map(str::to_owned)
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[derive(Serialize, Deserialize)]
struct Claims {
    exp: i64,
    iat: i64,
    iss: String,
    azp: String,
    /// The API token (`nep_…`) the access token stands for.
    nep: String,
    /// `access` or `refresh`.
    typ: String,
}

fn jwt(claims: &Claims, key: &str) -> String {
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signed = format!("{head}.{body}");
    let sig = URL_SAFE_NO_PAD.encode(hmac(key.as_bytes(), signed.as_bytes()));
    format!("{signed}.{sig}")
}

/// The claims of a JWT this server issued, when its signature holds and it has not expired.
fn claims_of(token: &str, typ: &str) -> Option<Claims> {
    let (signed, sig) = token.rsplit_once('.')?;
    let (_, body) = signed.split_once('.')?;
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).ok()?).ok()?;
    let want = hmac(claims.nep.as_bytes(), signed.as_bytes());
    let got = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let same =
        got.len() == want.len() && got.iter().zip(want).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0;
    (same && claims.typ == typ && claims.exp * 1000 > now_ms()).then_some(claims)
}

/// This server's address as the client reached it (for the addresses the client is told).
pub(super) fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn tokens_for(api_key: &str, iss: &str) -> (String, String) {
    let now = now_ms() / 1000;
    let make = |typ: &str, secs: i64| {
        jwt(
            &Claims {
                exp: now + secs,
                iat: now,
                iss: iss.to_owned(),
                azp: CLIENT_ID.into(),
                nep: api_key.to_owned(),
                typ: typ.into(),
            },
            api_key,
        )
    };
    (make("access", ACCESS_SECS), make("refresh", 30 * 24 * 3600))
}

/// The grant of the client's API token in `X-Neptune-Api-Token`.
fn api_token_grant(s: &super::AppState, headers: &HeaderMap) -> CompatResult<(Grant, String)> {
    let presented = headers
        .get("x-neptune-api-token")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            CompatError::unauthorized(
                "missing X-Neptune-Api-Token: give the client a token from `neptune-server token \
                 create --python-client --url URL --project P`",
            )
        })?;
    let key = api_key_of(presented).ok_or_else(|| {
        CompatError::unauthorized(
            "the API token is not one this server issued (base64 JSON with api_key); create \
             one with `neptune-server token create --python-client`",
        )
    })?;
    grant_of(s, &key).map(|g| (g, key))
}

fn grant_of(s: &super::AppState, key: &str) -> CompatResult<Grant> {
    s.tokens
        .verify(key)
        .map_err(|e| CompatError::from(crate::error::ApiError::internal(e)))?
        .ok_or_else(|| CompatError::unauthorized("unknown or revoked API token"))
}

/// The grant of a request's `Authorization: Bearer <access token>`, of at least `scope`.
pub(super) fn bearer_grant(
    s: &super::AppState,
    headers: &HeaderMap,
    scope: Scope,
) -> CompatResult<Grant> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            CompatError::unauthorized("missing `Authorization: Bearer <access token>`")
        })?;
    let claims = claims_of(token.trim(), "access").ok_or_else(|| CompatError {
        status: axum::http::StatusCode::UNAUTHORIZED,
        error_type: "AUTHORIZATION_TOKEN_EXPIRED",
        title: "the access token is expired or not one this server issued; it is renewed \
                from the API token"
            .into(),
    })?;
    let grant = grant_of(s, &claims.nep)?;
    if scope == Scope::Write && grant.scope == Scope::Read {
        return Err(CompatError::forbidden(format!(
            "the token has read scope on \"{}\"; writing needs a write token",
            grant.project
        )));
    }
    Ok(grant)
}

/// `getClientConfig`: where the API is, which client versions it takes, and its features:
/// artifacts ([`super::artifacts`]); uploads in parts above [`super::multipart::part_size`]
/// (a file up to the server's upload limit in all).
pub(super) async fn client_config(State(s): St, headers: HeaderMap) -> CompatResult<Response> {
    api_token_grant(&s, &headers)?;
    let url = origin(&headers);
    let part = super::multipart::part_size(s.limits.max_upload);
    Ok(Json(json!({
        "apiUrl": url,
        "applicationUrl": url,
        "pyLibVersions": {"minCompatibleVersion": "1.0.0", "maxCompatibleVersion": "1.99.0"},
        "multiPartUpload": {
            "enabled": true,
            "minChunkSize": part,
            "maxChunkSize": s.limits.max_upload.max(part),
            "maxChunkCount": 1000,
            "maxSinglePartSize": part,
        },
        // Version 1: the client's artifact hash covers each file's metadata (location and
        // modification time), as the reference says.
        "artifacts": {"enabled": true, "apiVersion": 1},
        "sysNameSetByBackend": false
    }))
    .into_response())
}

/// `exchangeApiToken`: an access token and a refresh token for the API token.
pub(super) async fn exchange(State(s): St, headers: HeaderMap) -> CompatResult<Response> {
    let (_, key) = api_token_grant(&s, &headers)?;
    let (access, refresh) = tokens_for(&key, &realm(&headers));
    Ok(
        Json(json!({"accessToken": access, "refreshToken": refresh, "username": "neptune"}))
            .into_response(),
    )
}

fn realm(headers: &HeaderMap) -> String {
    format!("{}/auth/realms/neptune", origin(headers))
}

#[derive(Deserialize)]
struct RefreshForm {
    grant_type: String,
    refresh_token: Option<String>,
}

/// The OAuth refresh (`{iss}/protocol/openid-connect/token`, form-encoded).
pub(super) async fn refresh(State(s): St, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let oauth_error = |code: &str, why: &str| {
        let mut r = (
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({"error": code, "error_description": why})),
        )
            .into_response();
        r.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        r
    };
    let Ok(form) = serde_urlencoded::from_bytes::<RefreshForm>(&body) else {
        return oauth_error(
            "invalid_request",
            "a form with grant_type and refresh_token",
        );
    };
    if form.grant_type != "refresh_token" {
        return oauth_error("unsupported_grant_type", "only refresh_token");
    }
    let Some(claims) = form
        .refresh_token
        .as_deref()
        .and_then(|t| claims_of(t, "refresh"))
    else {
        return oauth_error("invalid_grant", "the refresh token is expired or unknown");
    };
    if grant_of(&s, &claims.nep).is_err() {
        return oauth_error("invalid_grant", "the API token was revoked");
    }
    let (access, refresh) = tokens_for(&claims.nep, &realm(&headers));
    Json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": ACCESS_SECS
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_checks_and_a_changed_one_does_not() {
        let (access, refresh) = tokens_for("nep_x", "http://h/auth/realms/neptune");
        assert_eq!(claims_of(&access, "access").unwrap().nep, "nep_x");
        assert!(claims_of(&access, "refresh").is_none());
        assert!(claims_of(&refresh, "refresh").is_some());
        let mut parts: Vec<&str> = access.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                exp: i64::MAX / 2000,
                iat: 0,
                iss: String::new(),
                azp: String::new(),
                nep: "nep_y".into(),
                typ: "access".into(),
            })
            .unwrap(),
        );
        parts[1] = &forged;
        assert!(claims_of(&parts.join("."), "access").is_none());
        // RFC 4231 test case 2.
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn the_python_token_carries_the_address_and_key() {
        let t = python_client_token("http://127.0.0.1:9/", "nep_k");
        assert_eq!(api_key_of(&t).as_deref(), Some("nep_k"));
        let v: serde_json::Value = serde_json::from_slice(&STANDARD.decode(t).unwrap()).unwrap();
        assert_eq!(v["api_address"], "http://127.0.0.1:9");
    }
}
