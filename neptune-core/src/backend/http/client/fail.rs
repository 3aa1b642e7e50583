//! Why a request failed ([`Fail`]), from a sent request's answer, and what it means for the
//! caller ([`Fail::into_error`]).

use std::time::Duration;

use serde::de::DeserializeOwned;

use super::AUTH_FIX;
use crate::error::Error;
use crate::model::wire;

/// Why a request failed, as the retry logic needs it.
#[derive(Clone, Debug)]
pub enum Fail {
    /// Worth retrying: no connection, a timeout, a 5xx or a 429 (with its Retry-After).
    Transient {
        /// The HTTP status of the server's answer; `None` when there was no answer.
        status: Option<u16>,
        /// What went wrong.
        reason: String,
        /// The server's Retry-After, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The token was refused (401) or does not allow this (403).
    Auth {
        /// The HTTP status (401 or 403).
        status: u16,
        /// The server's message.
        message: String,
    },
    /// 413: the body is larger than the server (or a proxy before it) takes; smaller ones may go.
    TooLarge {
        /// The server's message.
        message: String,
    },
    /// Any other 4xx: the request itself is refused.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's error code.
        code: String,
        /// The server's message.
        message: String,
    },
}

impl Fail {
    /// A failure without an answer of the server (no connection, a timeout, a stopped thread).
    pub(crate) fn unreachable(reason: impl Into<String>) -> Fail {
        Fail::Transient {
            status: None,
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// The library error for a caller: [`Error::Server`] for the server's refusals (with the
    /// fix), [`Error::Unavailable`] for a server that cannot be reached or cannot serve now.
    pub fn into_error(self, url: &str) -> Error {
        match self {
            Fail::Transient { status, reason, .. } => {
                let reason = match status {
                    Some(s) => reason
                        .strip_prefix(&format!("HTTP {s}: "))
                        .map_or(reason.clone(), str::to_owned),
                    None => reason,
                };
                Error::Unavailable {
                    url: url.to_owned(),
                    status,
                    reason,
                }
            }
            // A refusal remembered without its status (the uploader keeps it as text).
            Fail::Auth { status: 0, message } => Error::Config(format!(
                "the neptune server at {url} refused the request ({message}); {AUTH_FIX}"
            )),
            Fail::Auth { status, message } => Error::Server {
                status,
                code: if status == 401 {
                    "unauthorized"
                } else {
                    "forbidden"
                }
                .into(),
                message: format!(
                    "the neptune server at {url} refused the request: {message}; {AUTH_FIX}"
                ),
            },
            Fail::TooLarge { message } => Error::Server {
                status: 413,
                code: "too_large".into(),
                message: format!(
                    "the neptune server at {url} refused the request: {}; raise the limit of \
                     the server, or of the proxy before it",
                    message.strip_prefix("HTTP 413: ").unwrap_or(&message)
                ),
            },
            // Not an answer of the server: a request that could not be made.
            Fail::Refused {
                status: 0, message, ..
            } => Error::invalid(url, message),
            Fail::Refused {
                status,
                code,
                message,
            } => Error::Server {
                status,
                code,
                message: format!("the neptune server at {url} refused the request: {message}"),
            },
        }
    }

    /// The server's message.
    pub fn message(&self) -> String {
        match self {
            Fail::Transient { reason, .. } => reason.clone(),
            Fail::Auth { message, .. }
            | Fail::TooLarge { message }
            | Fail::Refused { message, .. } => message.clone(),
        }
    }
}

fn transient(e: reqwest::Error) -> Fail {
    if e.is_builder() {
        return Fail::Refused {
            status: 0,
            code: "bad_request".into(),
            message: e.to_string(),
        };
    }
    let mut reason = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        reason = format!("{reason}: {s}");
        src = s.source();
    }
    Fail::unreachable(reason)
}

/// Sends a request and classifies the answer.
pub(super) async fn send(
    req: reqwest::RequestBuilder,
) -> std::result::Result<reqwest::Response, Fail> {
    let resp = req.send().await.map_err(transient)?;
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.bytes().await.unwrap_or_default();
    Err(classify(status.as_u16(), retry_after.as_deref(), &body))
}

/// What a failed answer means for the caller: retry (429 after its Retry-After in seconds,
/// 408, 409, 423, 425, 5xx), fix the token (401, 403), send less (413), or give up on this
/// request (any other 4xx).
pub(crate) fn classify(status: u16, retry_after: Option<&str>, body: &[u8]) -> Fail {
    let retry_after = retry_after
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(600)));
    let (code, message) = match serde_json::from_slice::<wire::ErrorBody>(body) {
        Ok(b) => (b.error.code, b.error.message),
        Err(_) => (
            "http".to_owned(),
            format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(500)])
            ),
        ),
    };
    match status {
        401 | 403 => Fail::Auth { status, message },
        413 => Fail::TooLarge {
            message: format!("HTTP 413: {message}"),
        },
        408 | 409 | 423 | 425 | 429 | 500..=599 => Fail::Transient {
            status: Some(status),
            reason: format!("HTTP {status}: {message}"),
            retry_after,
        },
        _ => Fail::Refused {
            status,
            code,
            message,
        },
    }
}

/// The JSON of a successful answer. One that cannot be read (a proxy's page, a cut answer) is
/// worth retrying: what it answered is applied once however often it is sent.
pub(super) async fn json_of<T: DeserializeOwned>(
    resp: reqwest::Response,
) -> std::result::Result<T, Fail> {
    let bytes = resp.bytes().await.map_err(transient)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Fail::unreachable(format!(
            "the server's answer cannot be read ({e}): {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_for_retries() {
        let err = br#"{"error":{"code":"too_large","message":"over the limit"}}"#;
        match classify(429, Some("7"), b"slow down") {
            Fail::Transient {
                status,
                retry_after,
                reason,
            } => {
                assert_eq!(status, Some(429));
                assert_eq!(retry_after, Some(Duration::from_secs(7)));
                assert!(reason.contains("429") && reason.contains("slow down"));
            }
            f => panic!("{f:?}"),
        }
        assert!(matches!(
            classify(503, None, b""),
            Fail::Transient {
                retry_after: None,
                ..
            }
        ));
        assert!(matches!(
            classify(403, None, err),
            Fail::Auth { status: 403, .. }
        ));
        match classify(413, None, err) {
            Fail::TooLarge { message } => assert_eq!(message, "HTTP 413: over the limit"),
            f => panic!("{f:?}"),
        }
        assert!(matches!(
            classify(400, None, err),
            Fail::Refused { status: 400, .. }
        ));
        assert!(matches!(classify(409, None, b""), Fail::Transient { .. }));
        assert!(matches!(
            classify(429, Some("soon"), b""),
            Fail::Transient {
                retry_after: None,
                ..
            }
        ));
    }

    #[test]
    fn refusals_are_server_errors_with_status_code_and_fix() {
        let url = "http://srv:8080";
        let body = |code: &str, m: &str| {
            format!(r#"{{"error": {{"code": "{code}", "message": "{m}"}}}}"#).into_bytes()
        };
        let cases = [
            (403, "forbidden", "read scope", "NEPTUNE_API_TOKEN"),
            (401, "unauthorized", "unknown token", "NEPTUNE_API_TOKEN"),
            (413, "too_large", "over the limit", "raise the limit"),
            (422, "invalid", "a bad value", "a bad value"),
        ];
        for (status, code, said, fix) in cases {
            let e = classify(status, None, &body(code, said)).into_error(url);
            let text = e.to_string();
            match e {
                Error::Server {
                    status: s,
                    code: c,
                    message,
                } => {
                    assert_eq!((s, c.as_str()), (status, code), "{text}");
                    assert!(message.contains(url) && message.contains(said), "{text}");
                    assert!(
                        text.contains(fix) && text.contains(&status.to_string()),
                        "{text}"
                    );
                    assert!(!text.contains("HTTP 413: "), "{text}");
                }
                e => panic!("{status}: {e:?}"),
            }
        }
        // No answer at all is not the server's refusal.
        let e = Fail::unreachable("connection refused").into_error(url);
        assert!(
            matches!(&e, Error::Unavailable { status: None, url: u, .. } if u == url),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "cannot reach the neptune server at http://srv:8080: connection refused"
        );
        // A server that answers it cannot serve now names itself and its status.
        let e = classify(503, None, &body("internal", "database is busy")).into_error(url);
        match &e {
            Error::Unavailable {
                status: Some(503),
                reason,
                ..
            } => assert_eq!(reason, "database is busy"),
            e => panic!("{e:?}"),
        }
        let text = e.to_string();
        assert!(
            text.contains(url) && text.contains("HTTP 503") && text.contains("database is busy"),
            "{text}"
        );
        assert!(!text.contains("HTTP 503: "), "{text}");
    }
}
