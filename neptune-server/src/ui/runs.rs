//! `GET /runs?project=P`: the runs table of a project.
//!
//! `sys/` columns plus the fields the user adds (`cols`), sorted by any column (`sort`, `asc`),
//! filtered by the table query language (`q`), tags (all of them), state and owner, paged on
//! the server (`page`, `size`): the store chooses the page in SQL and reads only its rows. Every setting is in the URL. Checked rows go to Compare.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use maud::{html, Markup};
use neptune_core::ProgressBar;
use neptune_core::{Reader, RunState, Table, TableQuery, TableScope};

use super::auth::Viewer;
use super::layout::{self, blocking, UiError};
use super::Ui;

/// The `sys/` columns every runs table shows.
pub const SYS_COLUMNS: &[&str] = &[
    "sys/id",
    "sys/name",
    "sys/state",
    "sys/owner",
    "sys/tags",
    "sys/creation_time",
];

/// Largest page.
pub const MAX_PAGE_SIZE: usize = 500;

/// The settings of a runs table, as in its URL.
#[derive(Clone, Debug, Default)]
pub struct RunsView {
    pub project: String,
    pub q: String,
    pub tags: String,
    pub state: String,
    pub owner: String,
    pub cols: String,
    pub sort: String,
    pub asc: bool,
    pub page: usize,
    pub size: usize,
}

impl RunsView {
    pub fn parse(q: Option<&str>) -> Result<RunsView, UiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.unwrap_or(""))
            .map_err(|e| UiError::bad_request(format!("invalid query string: {e}")))?;
        let mut v = RunsView {
            sort: "sys/creation_time".into(),
            size: 50,
            ..RunsView::default()
        };
        for (k, val) in pairs {
            match k.as_str() {
                "project" => v.project = val,
                "q" => v.q = val,
                "tags" => v.tags = val,
                "state" => v.state = val,
                "owner" => v.owner = val,
                "cols" => v.cols = val,
                "sort" if !val.is_empty() => v.sort = val,
                "asc" => v.asc = val == "1",
                "page" => v.page = val.parse().unwrap_or(0),
                "size" => v.size = val.parse().unwrap_or(50).clamp(1, MAX_PAGE_SIZE),
                _ => {}
            }
        }
        if v.project.is_empty() {
            return Err(UiError::bad_request(
                "no project: open a project from the projects page",
            ));
        }
        Ok(v)
    }

    /// The user's columns.
    pub fn user_columns(&self) -> Vec<String> {
        split_list(&self.cols)
    }

    /// This view's URL with some settings changed.
    pub fn url(&self, change: impl FnOnce(&mut RunsView)) -> String {
        let mut v = self.clone();
        change(&mut v);
        let page = v.page.to_string();
        let size = v.size.to_string();
        format!(
            "/runs?{}",
            layout::query(&[
                ("project", &v.project),
                ("q", &v.q),
                ("tags", &v.tags),
                ("state", &v.state),
                ("owner", &v.owner),
                ("cols", &v.cols),
                ("sort", &v.sort),
                ("asc", if v.asc { "1" } else { "" }),
                ("page", if v.page == 0 { "" } else { &page }),
                ("size", if v.size == 50 { "" } else { &size }),
            ])
        )
    }

    /// The table query of this view (without the paging limit).
    pub fn table_query(&self) -> Result<TableQuery, UiError> {
        let mut q = TableQuery::new()
            .progress_bar(ProgressBar::Off)
            .sort_by(self.sort.clone())
            .ascending(self.asc);
        if !self.q.trim().is_empty() {
            q = q.query(self.q.clone());
        }
        q = q.tags(split_list(&self.tags));
        if !self.state.is_empty() {
            let s = RunState::parse(&self.state).ok_or_else(|| {
                UiError::bad_request(format!(
                    "unknown state {:?}: use Active or Inactive",
                    self.state
                ))
            })?;
            q = q.state(s);
        }
        if !self.owner.is_empty() {
            q = q.owner(self.owner.clone());
        }
        q.validate()?;
        Ok(q)
    }
}

/// Splits a comma-separated list, trimmed, without empty entries.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One page of the table and the number of matching runs: the store chooses and counts the
/// page in SQL, and reads the cells of its rows only.
pub fn fetch_page(
    store: &neptune_core::store::Store,
    v: &RunsView,
) -> Result<(Table, usize), UiError> {
    let scope = TableScope::runs(v.project.clone());
    let base = v.table_query()?;
    let mut cols: Vec<String> = SYS_COLUMNS.iter().map(|s| s.to_string()).collect();
    cols.extend(v.user_columns());
    let q = base
        .columns(cols)
        .offset(v.page.saturating_mul(v.size))
        .limit(v.size);
    let table = store.fetch_table(&scope, &q)?;
    let total = table.total();
    Ok((table, total))
}

pub async fn page(
    State(st): Ui,
    viewer: Viewer,
    RawQuery(q): RawQuery,
) -> Result<Response, UiError> {
    let v = RunsView::parse(q.as_deref())?;
    if !viewer.sees(&v.project) {
        return Err(UiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("no project \"{}\" that you can see", v.project),
        ));
    }
    let view = v.clone();
    let (table, total) = blocking(move || fetch_page(&st.store, &view)).await?;
    let body = render(&v, &table, total);
    Ok(layout::respond(layout::page(
        &v.project,
        Some(&viewer),
        body,
    )))
}

fn render(v: &RunsView, table: &Table, total: usize) -> Markup {
    let skip = v.page.saturating_mul(v.size);
    let rows = table.rows().iter();
    let pages = total.div_ceil(v.size).max(1);
    html! {
        h1 { (v.project) " " small { a #models-link href={ "/models?" (layout::query(&[("project", &v.project)])) } { "models" } } }
        form.filters method="get" action="/runs" {
            input type="hidden" name="project" value=(v.project);
            input type="hidden" name="sort" value=(v.sort);
            @if v.asc { input type="hidden" name="asc" value="1"; }
            label { "Query " input #q type="search" name="q" value=(v.q) size="40" placeholder="e.g. train/acc > 0.9 and params/lr <= 0.01"; }
            label { "Tags " input #tags type="text" name="tags" value=(v.tags) size="14" placeholder="a, b"; }
            label { "State "
                select #state name="state" {
                    option value="" selected[v.state.is_empty()] { "any" }
                    option value="Active" selected[v.state == "Active"] { "Active" }
                    option value="Inactive" selected[v.state == "Inactive"] { "Inactive" }
                }
            }
            label { "Owner " input #owner type="text" name="owner" value=(v.owner) size="10"; }
            label { "Columns " input #cols type="text" name="cols" value=(v.cols) size="30" placeholder="train/loss, params/lr"; }
            button #apply type="submit" { "Apply" }
        }
        @if !v.tags.is_empty() {
            p.chips #tag-filter { "Tags: "
                @for t in split_list(&v.tags) {
                    a.chip.on href=(v.url(|n| { n.tags = without(&n.tags, &t); n.page = 0; })) title="Remove this tag filter" { (t) " ×" }
                    " "
                }
            }
        }
        form #compare-form method="get" action="/compare" data-live=(live_url(v)) {
            input type="hidden" name="project" value=(v.project);
            p.summary {
                span { span #total { (total) } " runs · page " (v.page + 1) " of " (pages) }
                @if v.page > 0 { a #prev href=(v.url(|n| n.page -= 1)) { "‹ previous" } " " }
                @if skip + v.size < total { a #next href=(v.url(|n| n.page += 1)) { "next ›" } " " }
                button #compare type="submit" { "Compare selected" }
            }
            div.scroll {
                table.grid #runs {
                    thead { tr {
                        th { input type="checkbox" #all title="Select all on this page"; }
                        @for c in table.columns() {
                            @let path = c.path();
                            th data-path=(path) {
                                a.sort href=(v.url(|n| { n.asc = if n.sort == path { !n.asc } else { false }; n.sort = path.to_owned(); n.page = 0; })) {
                                    (path)
                                    @if v.sort == path { (if v.asc { " ▲" } else { " ▼" }) }
                                }
                            }
                        }
                    } }
                    tbody {
                        @for r in rows {
                            tr data-id=(r.id()) data-state=(row_state(table, r)) {
                                td { input type="checkbox" name="ids" value=(r.id()); }
                                @for (c, cell) in table.columns().iter().zip(r.cells()) {
                                    @let text = cell.as_ref().map(layout::cell).unwrap_or_default();
                                    @match c.path() {
                                        "sys/id" => td { a href={ "/run/" (r.id()) } { (text) } },
                                        "sys/state" => td data-state=(text) { (layout::state_badge(&text)) },
                                        "sys/tags" => td { (tag_chips(v, &text)) },
                                        _ => td.num[cell.as_ref().is_some_and(|c| c.as_f64().is_some())] { (text) },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The state of a row, for the live updates of Active rows.
fn row_state(table: &Table, r: &neptune_core::Row) -> String {
    table
        .column_index("sys/state")
        .and_then(|c| r.cells().get(c)?.as_ref())
        .map(layout::cell)
        .unwrap_or_default()
}

/// `list` (comma-separated) without `item`.
fn without(list: &str, item: &str) -> String {
    split_list(list)
        .into_iter()
        .filter(|t| t != item)
        .collect::<Vec<_>>()
        .join(",")
}

/// A runs table's tags (comma-joined) as chips: a click adds the tag to the filter.
pub fn tag_chips(v: &RunsView, tags: &str) -> Markup {
    let on = split_list(&v.tags);
    html! {
        @for t in split_list(tags) {
            @let active = on.contains(&t);
            a.chip.on[active] href=(v.url(|n| {
                n.tags = if active { without(&n.tags, &t) } else if n.tags.trim().is_empty() { t.clone() } else { format!("{},{t}", n.tags) };
                n.page = 0;
            })) title=(if active { "Remove this tag filter" } else { "Show only runs with this tag" }) { (t) }
            " "
        }
    }
}

/// The URL of this view's rows as data, for the live updates (`ids` added by the page).
fn live_url(v: &RunsView) -> String {
    format!(
        "/ui/data/rows?{}",
        layout::query(&[("project", &v.project), ("cols", &v.cols)])
    )
}

/// One row of [`rows`]: a run's id and its cells as the table shows them.
#[derive(serde::Serialize)]
pub struct LiveRow {
    id: String,
    state: String,
    cells: Vec<(String, String)>,
}

/// Largest number of rows [`rows`] answers for.
const MAX_LIVE_ROWS: usize = MAX_PAGE_SIZE;

/// `GET /ui/data/rows?project=P&cols=C&ids=A,B`: the cells of some runs of a runs table, so a
/// page updates its Active rows in place.
pub async fn rows(
    State(st): Ui,
    viewer: Viewer,
    RawQuery(q): RawQuery,
) -> Result<axum::Json<Vec<LiveRow>>, UiError> {
    let v = RunsView::parse(q.as_deref())?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| UiError::bad_request(format!("invalid query string: {e}")))?;
    let ids = pairs
        .iter()
        .find(|(k, _)| k == "ids")
        .map(|(_, ids)| split_list(ids))
        .unwrap_or_default();
    if ids.len() > MAX_LIVE_ROWS {
        return Err(UiError::bad_request(format!(
            "{} runs asked for, more than {MAX_LIVE_ROWS}: ask for the rows of one page",
            ids.len()
        )));
    }
    if !viewer.sees(&v.project) {
        return Err(UiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("no project \"{}\" that you can see", v.project),
        ));
    }
    if ids.is_empty() {
        return Ok(axum::Json(Vec::new()));
    }
    blocking(move || {
        let mut cols: Vec<String> = SYS_COLUMNS.iter().map(|s| s.to_string()).collect();
        cols.extend(v.user_columns());
        let q = TableQuery::new()
            .progress_bar(ProgressBar::Off)
            .ids(ids)
            .trashed(None)
            .columns(cols);
        let table = st
            .store
            .fetch_table(&TableScope::runs(v.project.clone()), &q)?;
        let out = table
            .rows()
            .iter()
            .map(|r| LiveRow {
                id: r.id().to_owned(),
                state: row_state(&table, r),
                cells: table
                    .columns()
                    .iter()
                    .zip(r.cells())
                    .map(|(c, cell)| {
                        (
                            c.path().to_owned(),
                            cell.as_ref().map(layout::cell).unwrap_or_default(),
                        )
                    })
                    .collect(),
            })
            .collect();
        Ok(axum::Json(out))
    })
    .await
}
