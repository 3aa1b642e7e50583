//! Reads back: the attribute listing, single values, series by offset and limit, and file
//! downloads, from the store, for objects of the token's project.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use neptune_core::backend::SeriesPage;
use neptune_core::rules::SERIES_PAGE;
use neptune_core::{FieldPath, FieldType, Reader, Value as FieldValue};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::bearer_grant;
use super::objects::{check_object, IdQuery};
use super::reply::{self, type_name};
use super::{blocking, CompatError, CompatResult, St};
use crate::extract::{Path, Query, ReadToken};
use crate::tokens::{Grant, Scope};

/// `getExperimentAttributes`: every field with its type and, for values, sets and value
/// series, what the client shows of it.
pub(super) async fn attributes(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<IdQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    blocking(move || {
        let (id, _) = check_object(&s, &grant, &q.id)?;
        let values: HashMap<String, FieldValue> = s
            .store
            .fetch_values_below(&id, None)?
            .into_iter()
            .map(|(p, v)| (p.to_string(), v))
            .collect();
        let mut out = Vec::new();
        for (path, t) in s.store.fetch_structure(&id)? {
            let name = path.to_string();
            let series = match t {
                FieldType::FloatSeries | FieldType::StringSeries => {
                    s.store.fetch_series_info(&id, &path)?
                }
                _ => None,
            };
            out.push(reply::listed_attribute(
                &name,
                t,
                values.get(&name),
                series.as_ref(),
            ));
        }
        Ok(Json(json!({"attributes": out})))
    })
    .await
}

#[derive(Deserialize)]
pub(super) struct AttrQuery {
    #[serde(rename = "experimentId")]
    id: String,
    attribute: String,
    limit: Option<usize>,
    offset: Option<u64>,
}

fn field(path: &str) -> CompatResult<FieldPath> {
    FieldPath::parse(path).map_err(|e| CompatError::bad_request(e.to_string()))
}

fn missing(path: &str, want: &str) -> CompatError {
    CompatError::not_found(format!("no {want} field at \"{path}\""))
}

/// `get{Float,Int,Bool,String,Datetime,File,FloatSeries,StringSeries,StringSet}Attribute`.
pub(super) async fn attribute(
    State(s): St,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(q): Query<AttrQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let want = match kind.as_str() {
        "float" => FieldType::Float,
        "int" => FieldType::Integer,
        "bool" => FieldType::Boolean,
        "string" => FieldType::String,
        "datetime" => FieldType::Datetime,
        "file" => FieldType::File,
        "floatSeries" => FieldType::FloatSeries,
        "stringSeries" => FieldType::StringSeries,
        "stringSet" => FieldType::StringSet,
        _ => {
            return Err(super::not_served_path(&format!(
                "/api/leaderboard/v1/attributes/{kind}"
            )))
        }
    };
    let path = field(&q.attribute)?;
    blocking(move || {
        let (id, _) = check_object(&s, &grant, &q.id)?;
        let name = path.to_string();
        let out = match want {
            FieldType::File => {
                let f = s
                    .store
                    .file_ref(&id, &path)?
                    .ok_or_else(|| missing(&name, "File"))?;
                let leaf = name.rsplit('/').next().unwrap_or(&name);
                json!({"name": leaf, "type": type_name(want), "ext": f.extension, "size": f.size})
            }
            FieldType::FloatSeries | FieldType::StringSeries => {
                let info = s
                    .store
                    .fetch_series_info(&id, &path)?
                    .filter(|i| i.field_type == want)
                    .ok_or_else(|| missing(&name, type_name(want)))?;
                let mut out = reply::attribute(&name, want, None, Some(&info));
                out["lastStep"] = json!(info.last_step);
                out
            }
            _ => {
                let v = s
                    .store
                    .fetch_value(&id, &path)?
                    .filter(|v| v.field_type() == Some(want))
                    .ok_or_else(|| missing(&name, type_name(want)))?;
                reply::attribute(&name, want, Some(&v), None)
            }
        };
        Ok(Json(out))
    })
    .await
}

/// Where the page at an offset of a series starts (the step before it), remembered from the
/// page before, so that reading a series page by page does not read it again from the start.
/// Keyed by project, object, path, offset and the series' length (a changed series misses).
type Cursors = Mutex<HashMap<(String, String, String, u64, u64), f64>>;

fn cursors() -> &'static Cursors {
    static C: OnceLock<Cursors> = OnceLock::new();
    C.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A page of a series by offset and limit, with the series' length.
fn page<T>(
    s: &super::AppState,
    grant: &Grant,
    q: &AttrQuery,
    want: FieldType,
    read: impl Fn(&str, &FieldPath, Option<f64>, usize) -> neptune_core::Result<SeriesPage<T>>,
) -> CompatResult<(u64, SeriesPage<T>)> {
    let path = field(&q.attribute)?;
    let (id, _) = check_object(s, grant, &q.id)?;
    let project = grant.project.as_str();
    let name = path.to_string();
    let Some(info) = s.store.fetch_series_info(&id, &path)? else {
        return Err(missing(&name, type_name(want)));
    };
    if info.field_type != want {
        return Err(missing(&name, type_name(want)));
    }
    let limit = q.limit.unwrap_or(100).clamp(1, SERIES_PAGE);
    let offset = q.offset.unwrap_or(0);
    let key = |o: u64| (project.to_owned(), id.clone(), name.clone(), o, info.count);
    let remembered = cursors()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key(offset))
        .copied();
    let mut after = remembered;
    if remembered.is_none() && offset > 0 {
        let mut skipped = 0u64;
        while skipped < offset {
            let n = (offset - skipped).min(SERIES_PAGE as u64) as usize;
            let p = read(&id, &path, after, n)?;
            if p.is_empty() {
                return Ok((
                    info.count,
                    SeriesPage {
                        steps: Vec::new(),
                        values: Vec::new(),
                        timestamps: Vec::new(),
                    },
                ));
            }
            skipped += p.len() as u64;
            after = p.steps.last().copied();
        }
    }
    let p = read(&id, &path, after, limit)?;
    if let Some(last) = p.steps.last() {
        let mut c = cursors().lock().unwrap_or_else(|e| e.into_inner());
        if c.len() > 4096 {
            c.clear();
        }
        c.insert(key(offset + p.len() as u64), *last);
    }
    Ok((info.count, p))
}

fn values_json<T: serde::Serialize>(count: u64, p: SeriesPage<T>) -> Value {
    let values: Vec<Value> = p
        .steps
        .iter()
        .zip(p.values)
        .zip(p.timestamps)
        .map(|((step, value), ts)| json!({"step": step, "value": value, "timestampMillis": ts}))
        .collect();
    json!({"totalItemCount": count, "values": values})
}

/// `getFloatSeriesValues`.
pub(super) async fn float_values(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<AttrQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    blocking(move || {
        let (count, p) = page(
            &s,
            &grant,
            &q,
            FieldType::FloatSeries,
            |id, path, after, n| s.store.fetch_float_points(id, path, after, n),
        )?;
        Ok(Json(values_json(count, p)))
    })
    .await
}

/// `getStringSeriesValues`.
pub(super) async fn string_values(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<AttrQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    blocking(move || {
        let (count, p) = page(
            &s,
            &grant,
            &q,
            FieldType::StringSeries,
            |id, path, after, n| s.store.fetch_string_points(id, path, after, n),
        )?;
        Ok(Json(values_json(count, p)))
    })
    .await
}

/// `getImageSeriesValues`: how many images.
pub(super) async fn image_values(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<AttrQuery>,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let path = field(&q.attribute)?;
    blocking(move || {
        let (id, _) = check_object(&s, &grant, &q.id)?;
        let info = s
            .store
            .fetch_series_info(&id, &path)?
            .filter(|i| i.field_type == FieldType::FileSeries)
            .ok_or_else(|| missing(&q.attribute, "FileSeries"))?;
        Ok(Json(json!({"totalItemCount": info.count})))
    })
    .await
}

/// `downloadAttribute`: the content of a File field, streamed as our own download.
pub(super) async fn download(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<AttrQuery>,
) -> CompatResult<Response> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let path = field(&q.attribute)?;
    let (st, g) = (s.clone(), grant.clone());
    let file = blocking(move || {
        let (id, _) = check_object(&st, &g, &q.id)?;
        st.store
            .file_ref(&id, &path)?
            .ok_or_else(|| missing(&q.attribute, "File"))
    })
    .await?;
    Ok(crate::files::download(State(s), ReadToken(grant), Path(file.digest)).await?)
}
