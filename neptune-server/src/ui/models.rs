//! `GET /models?project=P`: the models of a project, each with its number of versions and the
//! versions in production; `GET /model/{id}`: a model and its versions with their stages
//! (`none`, `staging`, `production`, `archived`), newest first.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};
use neptune_core::{ProgressBar, Reader, Table, TableQuery, TableScope};
use serde::Deserialize;

use super::auth::Viewer;
use super::layout::{self, blocking, UiError};
use super::Ui;

/// Most models listed on one page.
const MAX_MODELS: usize = 500;

/// The `sys/` columns of the models and versions tables.
const COLUMNS: &[&str] = &[
    "sys/id",
    "sys/name",
    "sys/stage",
    "sys/owner",
    "sys/creation_time",
];

fn text(t: &Table, row: usize, path: &str) -> String {
    t.cell(row, path).map(layout::cell).unwrap_or_default()
}

/// A stage as a badge (`stage-production` …).
fn stage_badge(stage: &str) -> Markup {
    html! { span class={ "badge stage stage-" (stage) } data-stage=(stage) { (stage) } }
}

/// A model: its number of versions and the ids of those in production.
struct ModelRow {
    id: String,
    name: String,
    created: String,
    versions: usize,
    production: Vec<String>,
}

#[derive(Deserialize)]
struct ProjectQ {
    project: String,
}

pub async fn list(
    State(st): Ui,
    viewer: Viewer,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let q: ProjectQ = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| UiError::bad_request(format!("invalid query: {e}")))?;
    if !viewer.sees(&q.project) {
        return Err(UiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("no project \"{}\" that you can see", q.project),
        ));
    }
    let project = q.project.clone();
    let (models, total) = blocking(move || {
        let base = TableQuery::new()
            .progress_bar(ProgressBar::Off)
            .columns(COLUMNS.iter().copied());
        let models = st.store.fetch_table(
            &TableScope::models(&project),
            &base.clone().limit(MAX_MODELS),
        )?;
        let mut rows = Vec::with_capacity(models.len());
        for (i, m) in models.rows().iter().enumerate() {
            let scope = TableScope::model_versions(&project, m.id());
            let one = TableQuery::new()
                .progress_bar(ProgressBar::Off)
                .columns(["sys/id"])
                .limit(1);
            let versions = st.store.fetch_table(&scope, &one)?.total();
            let production = st
                .store
                .fetch_table(
                    &scope,
                    &base.clone().query("sys/stage = production").limit(20),
                )?
                .ids()
                .into_iter()
                .map(str::to_owned)
                .collect();
            rows.push(ModelRow {
                id: m.id().to_owned(),
                name: text(&models, i, "sys/name"),
                created: text(&models, i, "sys/creation_time"),
                versions,
                production,
            });
        }
        Ok((rows, models.total()))
    })
    .await?;
    let body = html! {
        p.crumbs { a href={ "/runs?" (layout::query(&[("project", &q.project)])) } { (q.project) } " / models" }
        h1 { "Models of " (q.project) }
        @if models.is_empty() {
            p.empty { "No model in this project yet." }
        } @else {
            p.summary { span #total { (total) } " models" @if total > models.len() { " (the newest " (models.len()) " shown)" } }
            table.grid #models {
                thead { tr { th { "Model" } th { "Name" } th.num { "Versions" } th { "In production" } th { "Created" } } }
                tbody {
                    @for m in &models {
                        tr data-id=(m.id) {
                            td { a href={ "/model/" (m.id) } { (m.id) } }
                            td { (m.name) }
                            td.num { (m.versions) }
                            td { @for v in &m.production { a href={ "/run/" (v) } { (v) } " " } }
                            td { (m.created) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::respond(layout::page("Models", Some(&viewer), body)))
}

pub async fn page(
    State(st): Ui,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let (v, i) = (viewer.clone(), id.clone());
    let (project, model, versions) = blocking(move || {
        let project = v.object_project(&st, &i)?;
        let q = TableQuery::new()
            .progress_bar(ProgressBar::Off)
            .columns(COLUMNS.iter().copied());
        let model = st
            .store
            .fetch_table(&TableScope::models(&project), &q.clone().id(i.clone()))?;
        if model.is_empty() {
            return Err(UiError::new(
                axum::http::StatusCode::NOT_FOUND,
                format!("{i} is not a model of project \"{project}\""),
            ));
        }
        let versions = st
            .store
            .fetch_table(&TableScope::model_versions(&project, &i), &q)?;
        Ok((project, model, versions))
    })
    .await?;
    let name = text(&model, 0, "sys/name");
    let body = html! {
        p.crumbs {
            a href={ "/runs?" (layout::query(&[("project", &project)])) } { (project) } " / "
            a href={ "/models?" (layout::query(&[("project", &project)])) } { "models" } " / " (id)
        }
        h1 { span #model-id { (id) } " " span #model-name { (name) } }
        p.muted { "Created " (text(&model, 0, "sys/creation_time")) " by " (text(&model, 0, "sys/owner")) " · " a href={ "/run/" (id) } { "fields and files" } }
        h2 { span #versions-total { (versions.len()) } " versions" }
        @if versions.is_empty() {
            p.empty { "No version of this model yet." }
        } @else {
            table.grid #versions {
                thead { tr { th { "Version" } th { "Name" } th { "Stage" } th { "Owner" } th { "Created" } } }
                tbody {
                    @for (i, r) in versions.rows().iter().enumerate() {
                        tr data-id=(r.id()) {
                            td { a href={ "/run/" (r.id()) } { (r.id()) } }
                            td { (text(&versions, i, "sys/name")) }
                            td { (stage_badge(&text(&versions, i, "sys/stage"))) }
                            td { (text(&versions, i, "sys/owner")) }
                            td { (text(&versions, i, "sys/creation_time")) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::respond(layout::page(&id, Some(&viewer), body)))
}
