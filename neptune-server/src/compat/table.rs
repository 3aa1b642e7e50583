//! Table fetches: `fetch_runs_table(...)`, `fetch_models_table(...)` and a model's
//! `fetch_model_versions_table(...)` (`.to_pandas()`), as
//! the client calls them: `searchLeaderboardAttributes` for the type of the sort column, then
//! `searchLeaderboardEntries` page by page (`pagination` limit and offset), with the filters
//! as an NQL text (`query.query`), `sorting`, and `attributeFilters` for the columns. Served
//! by the store's table ([`neptune_core::Reader::fetch_table`]) with our table query: the NQL
//! the client writes, `(`sys/tags`:stringSet CONTAINS "a")`, is our query language already;
//! only its run states (`"running"`, `"idle"`) are ours (`Active`, `Inactive`).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use neptune_core::rules::sys;
use neptune_core::{Cell, Column, FieldType, Reader, Table, TableQuery, TableScope};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::bearer_grant;
use super::reply::type_name;
use super::{blocking, CompatError, CompatResult, St};
use crate::extract::Query;
use crate::tokens::{Grant, Scope};

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    #[serde(rename = "projectIdentifier")]
    project: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    search: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SearchParams {
    query: Option<NqlText>,
    sorting: Option<Sorting>,
    pagination: Option<Pagination>,
    attribute_filters: Option<Vec<AttributeFilter>>,
}

#[derive(Deserialize)]
struct NqlText {
    query: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sorting {
    dir: String,
    sort_by: SortBy,
}

#[derive(Deserialize)]
struct SortBy {
    name: String,
}

#[derive(Deserialize)]
struct Pagination {
    limit: usize,
    offset: usize,
}

#[derive(Deserialize)]
struct AttributeFilter {
    path: String,
}

/// The model whose versions a model-version query is about: the client ends its NQL with
/// `` (`sys/model_id`:string = "ID") ``.
fn model_of(nql: &str) -> Option<&str> {
    const MARK: &str = "(`sys/model_id`:string = \"";
    let start = nql.rfind(MARK)? + MARK.len();
    let len = nql[start..].find('"')?;
    Some(&nql[start..start + len])
}

/// The table of the token's project that `kind` (`run`, `model`, `modelVersion` with the
/// model the query names) is of.
fn scope(grant: &Grant, q: &SearchQuery, nql: &str) -> CompatResult<TableScope> {
    if q.project != grant.project {
        return Err(CompatError::not_found(format!(
            "no project \"{}\" for this API token; its project is \"{}\"",
            q.project, grant.project
        )));
    }
    match q.kind.as_deref() {
        None | Some("run") => Ok(TableScope::runs(&grant.project)),
        Some("model") => Ok(TableScope::models(&grant.project)),
        Some("modelVersion") => match model_of(nql) {
            Some(model) => Ok(TableScope::model_versions(&grant.project, model)),
            None => Err(CompatError::bad_request(
                "a table of model versions needs the model in its query: \
                 (`sys/model_id`:string = \"ID\")",
            )),
        },
        Some(other) => Err(CompatError::bad_request(format!(
            "no table of objects of type {other:?}: use run, model or modelVersion"
        ))),
    }
}

/// The NQL types the client writes after a back-quoted path (`` `sys/tags`:stringSet ``).
const NQL_TYPES: &[&str] = &[
    "experimentState",
    "stringSet",
    "datetime",
    "integer",
    "string",
    "float",
    "bool",
];

/// The client's NQL as our table query text: the type after a back-quoted path is dropped
/// (our query knows each field's type), and its run states are ours. Quoted text is kept
/// as it is.
fn our_query(nql: &str) -> String {
    let mut out = String::with_capacity(nql.len());
    let mut rest = nql;
    while let Some(c) = rest.chars().next() {
        let len = match c {
            '"' | '\'' | '`' => quoted_len(rest, c),
            _ => c.len_utf8(),
        };
        out.push_str(&rest[..len]);
        rest = &rest[len..];
        if c == '`' {
            if let Some(after) = rest.strip_prefix(':') {
                let word = after
                    .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .map_or(after, |end| &after[..end]);
                if let Some(t) = NQL_TYPES.iter().find(|t| **t == word) {
                    rest = &after[t.len()..];
                }
            }
        }
    }
    out.replace("`sys/state` = \"running\"", "`sys/state` = \"Active\"")
        .replace("`sys/state` = \"idle\"", "`sys/state` = \"Inactive\"")
}

/// The length of the quoted text at the start of `s` (quotes included; a backslash escapes
/// the next character; unclosed: the rest).
fn quoted_len(s: &str, quote: char) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == quote => return i + c.len_utf8(),
            _ => {}
        }
    }
    s.len()
}

/// `searchLeaderboardEntries`: a page of the table, with `matchingItemCount`.
pub(super) async fn entries(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
    body: axum::body::Bytes,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    let p: SearchParams = crate::api::parse_json(&body)?;
    let nql = p.query.as_ref().map_or("", |t| t.query.as_str());
    let scope = scope(&grant, &q, nql)?;
    // The client's query says whether trashed objects are in (`sys/trashed:bool = false`).
    let mut tq = TableQuery::new().trashed(None).progress_bar(false);
    if let Some(text) = p.query.map(|t| t.query).filter(|t| !t.trim().is_empty()) {
        tq = tq.query(our_query(&text));
    }
    if let Some(sort) = p.sorting {
        tq = match sort.dir.as_str() {
            "ascending" => tq.ascending(true),
            "descending" => tq.ascending(false),
            other => {
                return Err(CompatError::bad_request(format!(
                    "sorting.dir {other:?}: use ascending or descending"
                )))
            }
        }
        .sort_by(sort.sort_by.name);
    }
    // The client asks a page of 0 rows for the count alone.
    let mut count_only = false;
    if let Some(page) = p.pagination {
        count_only = page.limit == 0;
        tq = tq.offset(page.offset).limit(page.limit.max(1));
    }
    if let Some(filters) = p.attribute_filters {
        tq = tq.columns(filters.into_iter().map(|f| f.path));
    }
    blocking(move || {
        let table = s.store.fetch_table(&scope, &tq)?;
        Ok(Json(json!({
            "matchingItemCount": table.total(),
            "entries": if count_only { Vec::new() } else { page(&table) },
        })))
    })
    .await
}

/// The rows as the client's entries: `experimentId` and the attributes of the cells there.
fn page(table: &Table) -> Vec<Value> {
    table
        .rows()
        .iter()
        .map(|row| {
            let attributes: Vec<Value> = table
                .columns()
                .iter()
                .zip(row.cells())
                .filter_map(|(c, cell)| cell.as_ref().map(|cell| attribute(c, cell)))
                .collect();
            json!({"experimentId": row.id(), "attributes": attributes})
        })
        .collect()
}

/// The type of a column: its field's, or (rows differ) the cell's own.
fn column_type(c: &Column, cell: &Cell) -> FieldType {
    c.field_type().unwrap_or(match cell {
        Cell::Float(_) => FieldType::Float,
        Cell::Integer(_) => FieldType::Integer,
        Cell::Boolean(_) => FieldType::Boolean,
        Cell::Datetime(_) => FieldType::Datetime,
        _ => FieldType::String,
    })
}

/// A cell as an attribute of an entry: `name`, `type`, and `<type>Properties` with what
/// `to_pandas()` reads of that type.
fn attribute(c: &Column, cell: &Cell) -> Value {
    let t = column_type(c, cell);
    let v = cell.to_json();
    let props = match t {
        FieldType::FloatSeries | FieldType::StringSeries => json!({"last": v}),
        FieldType::StringSet => json!({
            "values": cell.as_str().map_or_else(Vec::new, |s| {
                s.split(',').filter(|t| !t.is_empty()).collect::<Vec<_>>()
            })
        }),
        FieldType::RunState => json!({"value": match cell.as_str() {
            Some("Active") => "running",
            _ => "idle",
        }}),
        FieldType::GitRef => json!({"commit": {"commitId": v}}),
        FieldType::Artifact => json!({"hash": v}),
        _ => json!({"value": v}),
    };
    let name = type_name(t);
    let mut a = json!({"name": c.path(), "type": name});
    a[format!("{name}Properties")] = props;
    a
}

/// `searchLeaderboardAttributes`: the type of the field `search` names in the table (the
/// client asks it of the sort column).
pub(super) async fn attributes(
    State(s): St,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
    body: axum::body::Bytes,
) -> CompatResult<Json<Value>> {
    let grant = bearer_grant(&s, &headers, Scope::Read)?;
    // Model versions: the query names no model here, so every model's versions are asked.
    let versions = q.kind.as_deref() == Some("modelVersion");
    let scope = match versions {
        true => TableScope::models(&grant.project),
        false => scope(&grant, &q, "")?,
    };
    // Read whole (an unread body would cost the client its kept-alive connection), and
    // checked: the client sends `{}`.
    let _: serde_json::Map<String, Value> = crate::api::parse_json(&body)?;
    let Some(path) = q.search.filter(|p| !p.is_empty()) else {
        return Err(CompatError::bad_request(
            "searchLeaderboardAttributes needs the field path in \"search\"",
        ));
    };
    blocking(move || {
        let tq = TableQuery::new()
            .trashed(None)
            .progress_bar(false)
            .columns([path.clone()]);
        let mut types: Vec<FieldType> = Vec::new();
        let mut add = |table: &Table| {
            let Some(i) = table.column_index(&path) else {
                return;
            };
            let c = &table.columns()[i];
            for row in table.rows() {
                if let Some(Some(cell)) = row.cells().get(i) {
                    let t = column_type(c, cell);
                    if !types.contains(&t) {
                        types.push(t);
                    }
                }
            }
        };
        let table = s.store.fetch_table(&scope, &tq)?;
        if versions {
            for model in table.ids() {
                let scope = TableScope::model_versions(&grant.project, model);
                add(&s.store.fetch_table(&scope, &tq)?);
            }
        } else {
            add(&table);
        }
        // No row has it (an empty table): a system field still has its type.
        if types.is_empty() {
            types.extend(system_type(&path));
        }
        let entries: Vec<Value> = types
            .into_iter()
            .map(|t| json!({"name": path, "type": type_name(t)}))
            .collect();
        Ok(Json(json!({"entries": entries})))
    })
    .await
}

/// The type of a system field every object has.
fn system_type(path: &str) -> Option<FieldType> {
    Some(match path {
        sys::CREATION_TIME | sys::MODIFICATION_TIME => FieldType::Datetime,
        sys::ID | sys::NAME | sys::DESCRIPTION | sys::OWNER => FieldType::String,
        sys::TRASHED | sys::FAILED => FieldType::Boolean,
        sys::TAGS => FieldType::StringSet,
        sys::STATE => FieldType::RunState,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_clients_nql_is_our_query() {
        assert_eq!(
            super::our_query(
                "((`sys/trashed`:bool = false) AND ((`sys/state`:experimentState = \"running\") \
                 OR (`sys/state`:experimentState = \"idle\")) AND (`a`:string = \"`b`:bool\"))"
            ),
            "((`sys/trashed` = false) AND ((`sys/state` = \"Active\") \
             OR (`sys/state` = \"Inactive\")) AND (`a` = \"`b`:bool\"))"
        );
        assert_eq!(super::our_query("`x`:floaty > 1"), "`x`:floaty > 1");
        assert_eq!(super::our_query("\"open"), "\"open");
    }

    #[test]
    fn the_model_of_a_model_version_query() {
        let nql = "((`a`:float > 1) AND (`sys/model_id`:string = \"P-MOD\"))";
        assert_eq!(super::model_of(nql), Some("P-MOD"));
        assert_eq!(super::model_of("(`x`:string = \"y\")"), None);
    }
}
