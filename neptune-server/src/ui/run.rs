//! `GET /run/{id}`: one run: its id, name, state (live badge), tags, description, the field
//! tree with values, a chart per FloatSeries, a log view per StringSeries, file previews,
//! FileSeries galleries, FileSet and Artifact listings, and its git information.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use neptune_core::operation::{ArtifactFile, FilePoint, FileRef, FileSetEntry};
use neptune_core::{FieldPath, FieldType, Reader, Value};
use serde_json::json;

use super::auth::Viewer;
use super::files::{preview_kind, text_head, Preview};
use super::layout::{self, blocking, UiError};
use super::Ui;

/// What a field shows on the run page.
enum Shown {
    Value(Value),
    Series { count: u64, last: Option<Value> },
    File(Option<FileRef>, Option<(String, bool)>),
    Gallery(Vec<FilePoint>),
    Set(Vec<FileSetEntry>),
    Artifact(Option<Value>, Vec<ArtifactFile>),
    Empty,
}

struct RunData {
    project: String,
    fields: Vec<(FieldPath, FieldType, Shown)>,
}

fn load(st: &super::UiState, viewer: &Viewer, id: &str) -> Result<RunData, UiError> {
    let project = viewer.object_project(st, id)?;
    let s = &st.store;
    let values: BTreeMap<FieldPath, Value> = s.fetch_values_below(id, None)?.into_iter().collect();
    let mut fields = Vec::new();
    for (path, t) in s.fetch_structure(id)? {
        let shown = match t {
            FieldType::FloatSeries | FieldType::StringSeries => {
                match s.fetch_series_info(id, &path)? {
                    Some(i) => Shown::Series {
                        count: i.count,
                        last: i.last,
                    },
                    None => Shown::Empty,
                }
            }
            FieldType::FileSeries => Shown::Gallery(s.file_points(id, &path)?),
            FieldType::File => {
                let f = s.file_ref(id, &path)?;
                let head = match &f {
                    Some(f) if preview_kind(&f.extension) == Preview::Text => {
                        Some(text_head(s, f)?)
                    }
                    _ => None,
                };
                Shown::File(f, head)
            }
            FieldType::FileSet => Shown::Set(s.fileset_entries(id, &path)?),
            FieldType::Artifact => {
                Shown::Artifact(values.get(&path).cloned(), s.artifact_files(id, &path)?)
            }
            _ => values
                .get(&path)
                .cloned()
                .map(Shown::Value)
                .unwrap_or(Shown::Empty),
        };
        fields.push((path, t, shown));
    }
    Ok(RunData { project, fields })
}

pub async fn page(
    State(st): Ui,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, UiError> {
    let (v, i) = (viewer.clone(), id.clone());
    let data = blocking(move || load(&st, &v, &i)).await?;
    let body = render(&viewer, &id, &data);
    Ok(layout::respond(layout::page(&id, Some(&viewer), body)))
}

fn text_of(data: &RunData, path: &str) -> String {
    data.fields
        .iter()
        .find(|(p, _, _)| p.as_str() == path)
        .and_then(|(_, _, s)| match s {
            Shown::Value(v) => Some(layout::value(v)),
            _ => None,
        })
        .unwrap_or_default()
}

fn file_url(id: &str, path: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("path", path)];
    pairs.extend_from_slice(extra);
    format!("/ui/file/{id}?{}", layout::query(&pairs))
}

fn render(viewer: &Viewer, id: &str, data: &RunData) -> Markup {
    let name = text_of(data, "sys/name");
    let state = text_of(data, "sys/state");
    let tags = text_of(data, "sys/tags");
    let description = text_of(data, "sys/description");
    let floats: Vec<&str> = data
        .fields
        .iter()
        .filter(|(_, t, _)| *t == FieldType::FloatSeries)
        .map(|(p, _, _)| p.as_str())
        .collect();
    let page_data = json!({
        "mode": "run",
        "runs": [{"id": id, "name": if name.is_empty() { id } else { &name }}],
        "metrics": floats,
        "state": {"x": "step"},
    });
    html! {
        (layout::json_script("page-data", &page_data))
        p.crumbs { a href={ "/runs?" (layout::query(&[("project", &data.project)])) } { (data.project) } " / " (id) }
        h1 { span #run-id { (id) } " " span #run-name { (name) } " " span #run-state { (layout::state_badge(&state)) } }
        p #run-tags { @for t in tags.split(", ").filter(|t| !t.is_empty()) { span.tag { (t) } " " } }
        p #run-description { (description) }
        @if viewer.write {
            details.edit {
                summary { "Edit name, description, tags" }
                form #edit-form method="post" action={ "/run/" (id) "/edit" } {
                    label { "Name " input name="name" value=(name); }
                    label { "Description " textarea name="description" { (description) } }
                    label { "Tags (comma-separated) " input #edit-tags name="tags" value=(tags); }
                    button #save type="submit" { "Save" }
                }
            }
        }
        @if !floats.is_empty() {
            h2 { "Charts" }
            div.controls #chart-controls {}
            div.charts #charts {}
        }
        @for (path, t, shown) in &data.fields {
            @if let (FieldType::StringSeries, Shown::Series { count, .. }) = (t, shown) {
                h2 { "Log " (path.as_str()) " " small { "(" (count) " entries)" } }
                div.log data-run=(id) data-path=(path.as_str()) {
                    input.log-search type="search" placeholder="search";
                    pre.log-lines {}
                }
            }
        }
        (source_code(id, data))
        (files(id, data))
        h2 { "Fields" }
        table.grid.fields #fields {
            thead { tr { th { "Path" } th { "Type" } th { "Value" } } }
            tbody {
                @for (path, t, shown) in &data.fields {
                    tr data-path=(path.as_str()) {
                        td { (path.as_str()) }
                        td { (t.to_string()) }
                        td.value { (value_cell(shown)) }
                    }
                }
            }
        }
    }
}

fn value_cell(s: &Shown) -> Markup {
    html! {
        @match s {
            Shown::Value(v) => (layout::value(v)),
            Shown::Series { count, last } => {
                (count) " points" @if let Some(l) = last { ", last " (layout::value(l)) }
            },
            Shown::File(Some(f), _) => { (f.size) " bytes ." (f.extension) },
            Shown::Gallery(p) => { (p.len()) " files" },
            Shown::Set(e) => { (e.len()) " files" },
            Shown::Artifact(h, f) => { @if let Some(h) = h { (layout::value(h)) } " · " (f.len()) " files" },
            _ => {},
        }
    }
}

fn files(id: &str, data: &RunData) -> Markup {
    html! {
        @for (path, _, shown) in &data.fields {
            @let p = path.as_str();
            @match shown {
                _ if p == DIFF => {},
                Shown::File(Some(f), head) => {
                    section.file data-path=(p) {
                        h2 { "File " (p) " " a.download href=(file_url(id, p, &[("download", "1")])) { "download" } }
                        @match preview_kind(&f.extension) {
                            Preview::Image => img.preview src=(file_url(id, p, &[])) alt=(p);,
                            Preview::Html => iframe.preview sandbox="" src=(file_url(id, p, &[])) title=(p) {},
                            Preview::Text => {
                                @if let Some((text, more)) = head {
                                    pre.text-preview { (text) }
                                    @if *more { p.muted { "(first 64 KiB)" } }
                                }
                            },
                            Preview::None => p.muted { "No preview for ." (f.extension) " files." },
                        }
                    }
                },
                Shown::Gallery(points) if !points.is_empty() => {
                    @let steps: Vec<String> = points.iter().map(|q| q.step.unwrap_or(0.0).to_string()).collect();
                    section.gallery data-run=(id) data-path=(p) data-steps=(steps.join(",")) {
                        h2 { "Images " (p) }
                        input.step-slider type="range" min="0" max=(points.len() - 1) value=(points.len() - 1);
                        span.step-label { "step " (steps[steps.len() - 1]) }
                        @let last = &steps[steps.len() - 1];
                        div { img.preview src=(file_url(id, p, &[("step", last)])) alt=(p); }
                    }
                },
                Shown::Set(entries) if !entries.is_empty() => {
                    section.fileset {
                        h2 { "Files " (p) " " a.download.zip href={ "/ui/zip/" (id) "?" (layout::query(&[("path", p)])) } { "download as zip" } }
                        ul { @for e in entries { li { a href=(file_url(id, p, &[("entry", &e.path), ("download", "1")])) { (e.path) } " " small { (e.file.size) " bytes" } } } }
                    }
                },
                Shown::Artifact(hash, list) => {
                    section.artifact {
                        h2 { "Artifact " (p) }
                        @if let Some(h) = hash { p { "hash " code { (layout::value(h)) } } }
                        ul { @for f in list { li { (f.file_path) " " small { (f.size) " bytes, " (f.location) } } } }
                    }
                },
                _ => {},
            }
        }
    }
}

/// Where a run keeps its git commit and its uncommitted changes.
const GIT: &str = "source_code/git";
const DIFF: &str = "source_code/diff";

/// The class of a line of a unified diff.
fn diff_class(line: &str) -> &'static str {
    if line.starts_with("+++") || line.starts_with("---") || line.starts_with("diff ") {
        "file"
    } else if line.starts_with("@@") {
        "hunk"
    } else if line.starts_with('+') {
        "add"
    } else if line.starts_with('-') {
        "del"
    } else {
        "ctx"
    }
}

/// `source_code/git` (commit, branch, dirty, message, author) and the `source_code/diff`.
fn source_code(id: &str, data: &RunData) -> Markup {
    let find = |want: &str| data.fields.iter().find(|(p, _, _)| p.as_str() == want);
    let git = match find(GIT) {
        Some((_, _, Shown::Value(Value::GitRef(g)))) => Some(g),
        _ => None,
    };
    let diff = match find(DIFF) {
        Some((_, _, Shown::File(Some(_), head))) => Some(head),
        _ => None,
    };
    html! {
        @if git.is_some() || diff.is_some() {
            section #source-code {
                h2 { "Source code" }
                @if let Some(g) = git {
                    dl.git {
                        dt { "Commit" } dd #git-commit { code { (g.commit_id) } }
                        dt { "Branch" } dd #git-branch { (g.branch.as_deref().unwrap_or("(detached HEAD)")) }
                        dt { "Uncommitted changes" } dd #git-dirty { (if g.dirty { "yes" } else { "no" }) }
                        dt { "Message" } dd #git-message { pre { (g.message) } }
                        dt { "Author" } dd { (g.author_name) " <" (g.author_email) ">, " (g.commit_date.format("%Y-%m-%d %H:%M:%S UTC")) }
                        @if !g.remotes.is_empty() { dt { "Remotes" } dd { (g.remotes.join(", ")) } }
                    }
                }
                @if let Some(head) = diff {
                    h3 { "Diff " a.download href=(file_url(id, DIFF, &[("download", "1")])) { "download" } }
                    @if let Some((text, more)) = head {
                        pre.diff #git-diff {
                            @for line in text.lines() {
                                span class=(diff_class(line)) { (line) } "\n"
                            }
                        }
                        @if *more { p.muted { "(first 64 KiB)" } }
                    }
                }
            }
        }
    }
}
