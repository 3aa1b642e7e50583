//! `GET /`: the projects, each with its number of runs and last activity.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::auth::Viewer;
use super::layout::{self, blocking, UiError};
use super::Ui;

pub async fn page(State(st): Ui, viewer: Viewer) -> Result<Response, UiError> {
    let v = viewer.clone();
    let projects = blocking(move || {
        Ok(st
            .store
            .projects()?
            .into_iter()
            .filter(|p| v.sees(&p.name))
            .collect::<Vec<_>>())
    })
    .await?;
    let body = html! {
        h1 { "Projects" }
        @if projects.is_empty() {
            p.empty { "No project yet: log a run (" code { "neptune::init_run()" } ") and reload." }
        } @else {
            table.grid #projects {
                thead { tr { th { "Project" } th.num { "Runs" } th { "Last activity" } } }
                tbody {
                    @for p in &projects {
                        tr {
                            td { a href={ "/runs?" (layout::query(&[("project", &p.name)])) } { (p.name) } }
                            td.num { (p.runs) }
                            td { (p.last_activity.format("%Y-%m-%d %H:%M:%S UTC")) }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::respond(layout::page(
        "Projects",
        Some(&viewer),
        body,
    )))
}
