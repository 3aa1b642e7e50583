//! Chart data: downsampled FloatSeries for many runs × paths in one request, shared by the
//! JSON API (`POST /api/v1/series/downsample`, bearer token) and the pages (session cookie).

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use neptune_core::store::{DownsampleQuery, Downsampled, Store, MAX_WIDTH};
use neptune_core::FieldPath;
use serde::{Deserialize, Serialize};

use crate::api::{blocking, AppState};
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_json, JsonBody, ReadToken};

/// Most series in one request.
pub const MAX_SERIES: usize = 400;

/// One series to downsample: an object id and the path of a FloatSeries.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct SeriesRef {
    /// The run's id.
    pub id: String,
    /// The path of a FloatSeries.
    pub path: String,
}

/// The body of a downsampling request.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct DownsampleBody {
    /// The series, in the order asked.
    pub series: Vec<SeriesRef>,
    /// The x axis, range and width.
    #[serde(flatten)]
    pub query: DownsampleQuery,
}

/// The answer: one entry per requested series, in order.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct DownsampleReply {
    /// The series, in the order asked.
    pub series: Vec<Downsampled>,
}

/// Checks the limits and that every object is in `project` (any project when `None`), then
/// downsamples. An object of another project is answered as a missing one (404).
pub(crate) fn downsample_in(
    store: &Store,
    project: Option<&str>,
    body: DownsampleBody,
) -> ApiResult<DownsampleReply> {
    if body.series.is_empty() || body.series.len() > MAX_SERIES {
        return Err(ApiError::bad_request(format!(
            "ask for 1 to {MAX_SERIES} series at once, not {}",
            body.series.len()
        )));
    }
    if body.query.width == 0 || body.query.width > MAX_WIDTH {
        return Err(ApiError::bad_request(format!(
            "`width` is {}; use 1 to {MAX_WIDTH} (the chart's width in pixels)",
            body.query.width
        )));
    }
    let mut pairs = Vec::with_capacity(body.series.len());
    let mut checked: Vec<&str> = Vec::new();
    for s in &body.series {
        if !checked.contains(&s.id.as_str()) {
            match store.object_project(&s.id)? {
                Some((_, p)) if project.is_none_or(|want| want == p) => {}
                _ => {
                    return Err(ApiError::not_found(
                        "object_not_found",
                        format!(
                            "no object with id \"{}\" in project \"{}\"",
                            s.id,
                            project.unwrap_or("(any)")
                        ),
                    ))
                }
            }
            checked.push(&s.id);
        }
        let path = FieldPath::parse(&s.path).map_err(|e| ApiError::bad_request(e.to_string()))?;
        pairs.push((s.id.clone(), path));
    }
    Ok(DownsampleReply {
        series: store.downsample(&pairs, &body.query)?,
    })
}

/// `POST /api/v1/series/downsample`: read scope, the token's project only.
pub async fn api_downsample(
    State(s): State<Arc<AppState>>,
    ReadToken(grant): ReadToken,
    JsonBody(body): JsonBody<DownsampleBody>,
) -> ApiResult<Json<DownsampleReply>> {
    blocking(move || downsample_in(&s.store, Some(&grant.project), body).map(Json)).await
}

/// `POST /ui/data/downsample`: the same for the pages (the session's project; any project in
/// the local UI).
pub(crate) async fn ui_downsample(
    State(st): State<Arc<super::UiState>>,
    viewer: super::auth::Viewer,
    body: axum::body::Bytes,
) -> Result<Json<DownsampleReply>, ApiError> {
    if body.len() > 1 << 20 {
        return Err(ApiError::too_large("a downsampling request over 1 MiB"));
    }
    blocking(move || {
        let body: DownsampleBody = parse_json(&body)?;
        downsample_in(&st.store, viewer.project.as_deref(), body).map(Json)
    })
    .await
}

/// The state of a run, for polling.
#[derive(Clone, Debug, Serialize)]
pub struct RunStatus {
    /// The run's id.
    pub id: String,
    /// `Active` or `Inactive`.
    pub state: String,
    /// Unix ms of the run's last write.
    pub modified: Option<i64>,
}

/// `GET /ui/data/status?ids=A,B`: the state and last write of each run, so a page knows
/// whether to fetch its charts again.
pub(crate) async fn status(
    State(st): State<Arc<super::UiState>>,
    viewer: super::auth::Viewer,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Result<Json<Vec<RunStatus>>, super::layout::UiError> {
    #[derive(Deserialize)]
    struct Q {
        ids: String,
    }
    let q: Q = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| super::layout::UiError::bad_request(format!("invalid query: {e}")))?;
    let ids = super::runs::split_list(&q.ids);
    if ids.len() > MAX_SERIES {
        return Err(super::layout::UiError::bad_request("too many runs"));
    }
    super::layout::blocking(move || {
        let state_path = FieldPath::parse("sys/state")?;
        let mod_path = FieldPath::parse("sys/modification_time")?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            viewer.object_project(&st, &id)?;
            use neptune_core::Reader;
            let state = st
                .store
                .fetch_value(&id, &state_path)?
                .map(|v| super::layout::value(&v))
                .unwrap_or_default();
            let modified = match st.store.fetch_value(&id, &mod_path)? {
                Some(neptune_core::Value::Datetime(d)) => Some(d.timestamp_millis()),
                _ => None,
            };
            out.push(RunStatus {
                id,
                state,
                modified,
            });
        }
        Ok(Json(out))
    })
    .await
}
