//! `GET /compare?project=P&ids=A&ids=B…`: selected runs × their FloatSeries, one chart per
//! metric (filter box), one colour per run across all charts, and a parameters table with the
//! differing values highlighted. Chart options (`filter`, `x`, `log`, `ema`) and the
//! parameters' `diff` switch are in the URL; the charts themselves are drawn by `ui.js`.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};
use neptune_core::{FieldPath, FieldType, Reader, Value};
use serde_json::json;

use super::auth::Viewer;
use super::layout::{self, blocking, UiError};
use super::runs::split_list;
use super::Ui;

/// One colour per run, in selection order (Tableau 10, then darker variants).
pub const PALETTE: &[&str] = &[
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#0b3d91", "#a64d00", "#1b5e20", "#7b1010", "#4a2a6a", "#4e342e",
];

/// Most runs compared at once.
pub const MAX_RUNS: usize = 50;

#[derive(Clone, Debug, Default)]
struct View {
    project: String,
    ids: Vec<String>,
    filter: String,
    x: String,
    log: bool,
    ema: String,
    diff: bool,
}

fn parse(q: Option<&str>) -> Result<View, UiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.unwrap_or(""))
        .map_err(|e| UiError::bad_request(format!("invalid query string: {e}")))?;
    let mut v = View {
        x: "step".into(),
        ..View::default()
    };
    for (k, val) in pairs {
        match k.as_str() {
            "project" => v.project = val,
            "ids" => v.ids.extend(split_list(&val)),
            "filter" => v.filter = val,
            "x" if ["step", "time", "rel"].contains(&val.as_str()) => v.x = val,
            "log" => v.log = val == "1",
            "ema" => v.ema = val,
            "diff" => v.diff = val == "1",
            _ => {}
        }
    }
    let mut seen = BTreeSet::new();
    v.ids.retain(|i| seen.insert(i.clone()));
    if v.ids.is_empty() {
        return Err(UiError::bad_request(
            "select runs to compare (check them in the runs table)",
        ));
    }
    if v.ids.len() > MAX_RUNS {
        return Err(UiError::bad_request(format!(
            "compare at most {MAX_RUNS} runs at once"
        )));
    }
    Ok(v)
}

struct RunInfo {
    id: String,
    name: String,
    values: BTreeMap<FieldPath, Value>,
}

pub async fn page(
    State(st): Ui,
    viewer: Viewer,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let v = parse(q.as_deref())?;
    let (view, who) = (v.clone(), viewer.clone());
    let (runs, metrics, project) = blocking(move || {
        let mut runs = Vec::new();
        let mut metrics = BTreeSet::new();
        let mut project = view.project.clone();
        for id in &view.ids {
            project = who.object_project(&st, id)?;
            for (p, t) in st.store.fetch_structure(id)? {
                if t == FieldType::FloatSeries {
                    metrics.insert(p.as_str().to_owned());
                }
            }
            let values: BTreeMap<FieldPath, Value> =
                st.store.fetch_values_below(id, None)?.into_iter().collect();
            let name = values
                .iter()
                .find(|(p, _)| p.as_str() == "sys/name")
                .map(|(_, v)| layout::value(v))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| id.clone());
            runs.push(RunInfo {
                id: id.clone(),
                name,
                values,
            });
        }
        Ok((runs, metrics.into_iter().collect::<Vec<_>>(), project))
    })
    .await?;
    let body = render(&v, &project, &runs, &metrics);
    Ok(layout::respond(layout::page(
        "Compare",
        Some(&viewer),
        body,
    )))
}

fn render(v: &View, project: &str, runs: &[RunInfo], metrics: &[String]) -> Markup {
    let page_data = json!({
        "mode": "compare",
        "runs": runs.iter().enumerate().map(|(i, r)| json!({
            "id": r.id, "name": r.name, "color": PALETTE[i % PALETTE.len()]
        })).collect::<Vec<_>>(),
        "metrics": metrics,
        "state": {"filter": v.filter, "x": v.x, "log": v.log, "ema": v.ema, "diff": v.diff},
    });
    let paths: BTreeSet<&FieldPath> = runs.iter().flat_map(|r| r.values.keys()).collect();
    html! {
        (layout::json_script("page-data", &page_data))
        p.crumbs { a href={ "/runs?" (layout::query(&[("project", project)])) } { (project) } " / compare" }
        h1 { "Compare " (runs.len()) " runs" }
        ul.legend #run-legend {
            @for (i, r) in runs.iter().enumerate() {
                li { span.swatch data-color=(PALETTE[i % PALETTE.len()]) {} " " a href={ "/run/" (r.id) } { (r.id) } " " (r.name) }
            }
        }
        div.controls #chart-controls {}
        div.charts #charts {}
        h2 { "Parameters" }
        label { input #only-diff type="checkbox" checked[v.diff]; " only differences" }
        div.scroll {
            table.grid.params #params {
                thead { tr { th { "Field" } @for r in runs { th { (r.id) } } } }
                tbody {
                    @for p in paths {
                        @let cells: Vec<String> = runs.iter().map(|r| r.values.get(p).map(layout::value).unwrap_or_default()).collect();
                        @let differs = cells.iter().any(|c| c != &cells[0]);
                        tr.differs[differs].same[!differs] {
                            td { (p.as_str()) }
                            @for c in &cells { td { (c) } }
                        }
                    }
                }
            }
        }
    }
}
