//! `executeOperations`: the client's batch, as our operations, through the same checks as our
//! own API (the server's screen, then the store's `execute`, which validates every operation
//! again). The answer lists `{"errorDescription"}` for each operation refused, by its path and
//! the reason; the others are applied.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use neptune_core::operation::{FilePoint, FloatPoint, Operation, StringPoint};
use neptune_core::{FieldPath, Writer};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::auth::bearer_grant;
use super::objects::{check_object, IdQuery};
use super::{blocking, CompatResult, St};
use crate::extract::{BodyBytes, Query};
use crate::tokens::Scope;

/// Most bytes of one image of a `logImages` (after base64).
const MAX_IMAGE: usize = 64 << 20;

#[derive(Deserialize)]
struct Entry<T> {
    value: T,
    step: Option<f64>,
    #[serde(rename = "timestampMilliseconds")]
    timestamp_ms: i64,
}

#[derive(Deserialize)]
struct Entries<T> {
    entries: Vec<Entry<T>>,
}

#[derive(Deserialize)]
struct Image {
    data: String,
    name: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct One<T> {
    value: T,
}

#[derive(Deserialize)]
struct Strings {
    values: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Config {
    min: Option<f64>,
    max: Option<f64>,
    unit: Option<String>,
}

/// What a step of the client's is as ours: the client sends `null` for "next".
fn points<T, U>(e: Entries<T>, f: impl Fn(Option<f64>, T, i64) -> U) -> Vec<U> {
    e.entries
        .into_iter()
        .map(|p| f(p.step, p.value, p.timestamp_ms))
        .collect()
}

fn arg<T: serde::de::DeserializeOwned>(name: &str, v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("{name}: {e}"))
}

/// One of the client's operations as ours; `Err` says why it is refused.
fn convert(
    s: &super::AppState,
    project: &str,
    op: Map<String, Value>,
) -> Result<Operation, (String, String)> {
    let mut op = op;
    let path_text = match op.remove("path") {
        Some(Value::String(p)) => p,
        _ => return Err((String::new(), "an operation without a \"path\"".into())),
    };
    let fail = |why: String| (path_text.clone(), why);
    let path = FieldPath::parse(&path_text).map_err(|e| fail(e.to_string()))?;
    let mut it = op.into_iter();
    let (name, v) = match (it.next(), it.next()) {
        (Some(nv), None) => nv,
        _ => {
            return Err(fail(
                "an operation needs exactly one operation name besides \"path\"".into(),
            ))
        }
    };
    let out = match name.as_str() {
        "assignFloat" => Operation::AssignFloat {
            path,
            value: arg::<One<f64>>(&name, v).map_err(fail)?.value,
        },
        "assignInt" => Operation::AssignInt {
            path,
            value: arg::<One<i64>>(&name, v).map_err(fail)?.value,
        },
        "assignBool" => Operation::AssignBool {
            path,
            value: arg::<One<bool>>(&name, v).map_err(fail)?.value,
        },
        "assignString" => Operation::AssignString {
            path,
            value: arg::<One<String>>(&name, v).map_err(fail)?.value,
        },
        "assignDatetime" => {
            #[derive(Deserialize)]
            struct Ms {
                #[serde(rename = "valueMilliseconds")]
                value: i64,
            }
            Operation::AssignDatetime {
                path,
                value_ms: arg::<Ms>(&name, v).map_err(fail)?.value,
            }
        }
        "logFloats" => Operation::LogFloats {
            path,
            points: points(arg(&name, v).map_err(fail)?, |step, value, timestamp_ms| {
                FloatPoint {
                    step,
                    value,
                    timestamp_ms,
                }
            }),
        },
        "logStrings" => Operation::LogStrings {
            path,
            points: points(arg(&name, v).map_err(fail)?, |step, value, timestamp_ms| {
                StringPoint {
                    step,
                    value,
                    timestamp_ms,
                }
            }),
        },
        "logImages" => {
            let e: Entries<Image> = arg(&name, v).map_err(fail)?;
            let mut out = Vec::with_capacity(e.entries.len());
            for p in e.entries {
                if p.value.data.len() > MAX_IMAGE / 3 * 4 + 4 {
                    return Err(fail(format!(
                        "an image of more than {MAX_IMAGE} bytes; upload it as a File"
                    )));
                }
                let bytes = STANDARD
                    .decode(p.value.data.as_bytes())
                    .map_err(|e| fail(format!("logImages: the image is not base64: {e}")))?;
                let file = s
                    .store
                    .put_file(&mut bytes.as_slice(), "png")
                    .and_then(|f| s.store.record_upload(project, &f.digest).map(|()| f))
                    .map_err(|e| fail(format!("the image could not be stored: {e}")))?;
                out.push(FilePoint {
                    step: p.step,
                    timestamp_ms: p.timestamp_ms,
                    file,
                    name: p.value.name.filter(|n| !n.is_empty()),
                    description: p.value.description.filter(|d| !d.is_empty()),
                });
            }
            Operation::LogImages { path, points: out }
        }
        "clearFloatSeries" => Operation::ClearFloatLog { path },
        "clearStringSeries" => Operation::ClearStringLog { path },
        "clearImageSeries" => Operation::ClearImageLog { path },
        "configFloatSeries" => {
            let c: Config = arg(&name, v).map_err(fail)?;
            Operation::ConfigFloatSeries {
                path,
                min: c.min,
                max: c.max,
                unit: c.unit,
            }
        }
        "insertStrings" => Operation::AddStrings {
            path,
            values: arg::<Strings>(&name, v).map_err(fail)?.values,
        },
        "removeStrings" => Operation::RemoveStrings {
            path,
            values: arg::<Strings>(&name, v).map_err(fail)?.values,
        },
        "clearStringSet" => Operation::ClearStringSet { path },
        "deleteAttribute" => Operation::DeleteAttribute { path },
        "deleteFiles" => {
            #[derive(Deserialize)]
            struct Paths {
                #[serde(rename = "filePaths")]
                paths: Vec<String>,
            }
            Operation::DeleteFiles {
                path,
                paths: arg::<Paths>(&name, v).map_err(fail)?.paths,
            }
        }
        "clearArtifact" => Operation::ClearArtifact { path },
        "assignArtifact" => {
            #[derive(Deserialize)]
            struct Hash {
                hash: String,
            }
            let hash = arg::<Hash>(&name, v).map_err(fail)?.hash;
            let files = super::artifacts::files_of(project, &hash).ok_or_else(|| {
                fail(format!(
                    "artifact {hash} is not known to this server (its file list was not \
                     sent, or the server restarted since); track the files again"
                ))
            })?;
            Operation::AssignArtifact { path, hash, files }
        }
        other => {
            return Err(fail(format!(
                "operation {other:?} is not served by this server"
            )))
        }
    };
    Ok(out)
}

/// `executeOperations`.
pub(super) async fn execute_operations(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<IdQuery>,
    BodyBytes(bytes): BodyBytes,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Write)?;
    blocking(move || {
        let (id, _) = check_object(&s, &grant, &q.id)?;
        let sent: Vec<Map<String, Value>> = crate::api::parse_json(&bytes)?;
        drop(bytes);
        let mut errors = Vec::new();
        let mut ops = Vec::with_capacity(sent.len());
        for op in sent {
            match convert(&s, &grant.project, op) {
                Ok(op) => ops.push(op),
                Err((path, why)) => errors.push(description(&path, &why)),
            }
        }
        let screened = crate::screen::screen(&s.store, &grant, ops)?;
        for r in &screened.refused {
            errors.push(description(&r.path, &r.reason));
        }
        for r in s.store.execute(&id, &screened.ops)? {
            errors.push(description(&r.path, &r.reason));
        }
        Ok(Json(Value::Array(errors)))
    })
    .await
}

fn description(path: &str, why: &str) -> Value {
    json!({"errorDescription": format!("{path}: {why}")})
}
