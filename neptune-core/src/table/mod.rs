//! Tables of runs, models and model versions: the reference's `fetch_runs_table`,
//! `fetch_models_table` and `fetch_model_versions_table`, and the `Table` they return.
//!
//! A [`Table`] has a row per object and a column per field path, with the cells of the
//! reference's `to_pandas()`: series show their last value, string sets (`sys/tags`) a
//! comma-joined string, GitRef its commit id, Artifact its hash, RunState `"Active"` or
//! `"Inactive"`; File, FileSet and FileSeries fields are left out. Columns come `sys/*` first,
//! then the rest, `monitoring/*` last, alphabetical inside each group.
//!
//! ```
//! # fn main() -> neptune_core::Result<()> {
//! use neptune_core::{Cell, Project, Run, TableQuery};
//! let dir = tempfile::tempdir().unwrap();
//! for (lr, tags) in [(0.1, ["a", "b"]), (0.01, ["a", "c"])] {
//!     let run = Run::builder().home(dir.path()).project("team/p").tags(tags).open()?;
//!     run.field("params/lr").assign(lr)?;
//!     run.field("loss").float_series()?.extend([0.5, 0.25])?;
//!     run.stop()?;
//! }
//! let project = Project::builder().home(dir.path()).project("team/p").open()?;
//! let table = project.fetch_runs_table(TableQuery::new().tag("c"))?;
//! assert_eq!(table.len(), 1);
//! assert_eq!(table.cell(0, "params/lr"), Some(&Cell::Float(0.01)));
//! assert_eq!(table.cell(0, "loss"), Some(&Cell::Float(0.25)));
//! assert_eq!(table.cell(0, "sys/tags"), Some(&Cell::String("a,c".into())));
//! assert_eq!(table.columns()[0].path(), "sys/creation_time");
//! # Ok(()) }
//! ```
//!
//! # The query language
//!
//! [`TableQuery::query`] takes a filter, ANDed with the other arguments:
//!
//! ```text
//! expr    := and ("OR" and)*
//! and     := unary ("AND" unary)*
//! unary   := "NOT" unary | "(" expr ")" | "EXISTS" path | path "EXISTS" | path op value
//! op      := "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "CONTAINS"
//! value   := a number | "double" or 'single' quoted text | a bare word (true, false, Active …)
//! path    := a field path such as params/lr; `back-quoted` when it holds spaces or operators;
//!            an NQL type suffix (params/lr:float, sys/tags:stringSet) is accepted and ignored
//! ```
//!
//! Keywords are case-insensitive. A condition compares the cell the table would show: numbers
//! (Float, Integer, the last value of a FloatSeries) numerically; texts (String, the last entry of
//! a StringSeries, GitRef commit, Artifact hash) as text, `CONTAINS` meaning substring; Boolean
//! against `true`/`false`; Datetime against an RFC 3339 time or a `YYYY-MM-DD` date; RunState
//! case-insensitively (`sys/state = active`); StringSet with `CONTAINS` for membership
//! (`sys/tags CONTAINS "best"`). A condition on a missing field, or of a value that does not fit
//! the field's type, is false (so `NOT (x > 1)` holds where `x` is missing).
//!
//! ```text
//! params/lr < 0.01 AND (sys/tags CONTAINS best OR train/acc >= 0.9) AND NOT EXISTS sys/failed_at
//! ```
//!
//! # Limits
//!
//! A table query is checked before anything is read, the same on every backend (a server
//! answers 422): at most [`MAX_QUERY_LEN`] bytes of query text, [`MAX_QUERY_CONDITIONS`]
//! conditions and [`MAX_QUERY_DEPTH`] levels of parentheses and `NOT` inside one another;
//! at most [`MAX_TABLE_COLUMNS`] columns, [`MAX_TABLE_IDS`] ids, and [`MAX_TABLE_VALUES`] each
//! of states, owners and tags. Past a limit the error names it.
//!
//! ```
//! use neptune_core::{TableQuery, MAX_QUERY_DEPTH};
//! let deep = format!("{}x = 1{}", "(".repeat(100), ")".repeat(100));
//! let err = TableQuery::new().query(deep).validate().unwrap_err();
//! assert!(err.to_string().contains(&format!("deeper than {MAX_QUERY_DEPTH} levels")));
//! ```

pub(crate) mod build;
#[cfg(feature = "polars")]
mod frame;
mod output;
pub(crate) mod query;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backend::ObjectKind;
use crate::error::{Error, Result};
use crate::model::rules::sys;
use crate::model::types::{FieldType, RunState};
use crate::objects::{Model, Project};
use crate::options::ProgressBar;

pub(crate) use build::{RawRow, RawTable, RawValue};

/// The default sort column of every table.
pub const DEFAULT_SORT_BY: &str = sys::CREATION_TIME;

/// Longest table query text, in bytes.
pub const MAX_QUERY_LEN: usize = 256 * 1024;
/// Most levels of parentheses and `NOT` inside one another in a table query.
pub const MAX_QUERY_DEPTH: usize = 64;
/// Most conditions (comparisons and `EXISTS`) in a table query.
pub const MAX_QUERY_CONDITIONS: usize = 1_000;
/// Most entries of [`TableQuery::columns`].
pub const MAX_TABLE_COLUMNS: usize = 10_000;
/// Most ids of [`TableQuery::ids`].
pub const MAX_TABLE_IDS: usize = 10_000;
/// Most states, owners and tags (each) of a [`TableQuery`].
pub const MAX_TABLE_VALUES: usize = 1_000;

/// Which objects a table holds: runs, models, or the versions of one model, of a project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableScope {
    /// The project name, e.g. `"ml-team/nli"`.
    pub project: String,
    /// Runs, models or model versions.
    pub kind: ObjectKind,
    /// Model versions only: the `sys/id` of their model.
    pub model: Option<String>,
}

impl TableScope {
    /// The runs of a project.
    pub fn runs(project: impl Into<String>) -> Self {
        TableScope {
            project: project.into(),
            kind: ObjectKind::Run,
            model: None,
        }
    }

    /// The models of a project.
    pub fn models(project: impl Into<String>) -> Self {
        TableScope {
            project: project.into(),
            kind: ObjectKind::Model,
            model: None,
        }
    }

    /// The versions of the model with `sys/id` `model` in a project.
    pub fn model_versions(project: impl Into<String>, model: impl Into<String>) -> Self {
        TableScope {
            project: project.into(),
            kind: ObjectKind::ModelVersion,
            model: Some(model.into()),
        }
    }
}

/// The arguments of the table-fetching methods: `query`, `id`, `state`, `owner`, `tag`,
/// `columns`, `trashed`, `limit`, `sort_by`, `ascending` and `progress_bar`, and `offset` for
/// paging.
///
/// Ids, states and owners are each ORed (a run matches any of the given ids); tags are ANDed (a
/// run must have all of them); the groups and the query are ANDed together. Trashed objects are
/// left out unless asked for. `sys/id` and the sort column are always in the table.
///
/// ```
/// use neptune_core::{RunState, TableQuery};
/// let q = TableQuery::new()
///     .state(RunState::Inactive)
///     .tag("baseline")
///     .tag("bert")
///     .columns(["params", "train/acc"])
///     .sort_by("train/acc")
///     .limit(10)
///     .query("params/lr <= 0.01");
/// assert_eq!(q.sort_column(), "train/acc");
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct TableQuery {
    query: Option<String>,
    ids: Vec<String>,
    states: Vec<RunState>,
    owners: Vec<String>,
    tags: Vec<String>,
    columns: Option<Vec<String>>,
    trashed: Option<bool>,
    limit: Option<usize>,
    offset: usize,
    sort_by: String,
    ascending: bool,
    #[serde(skip)]
    progress: ProgressBar,
}

impl Default for TableQuery {
    fn default() -> Self {
        TableQuery {
            query: None,
            ids: Vec::new(),
            states: Vec::new(),
            owners: Vec::new(),
            tags: Vec::new(),
            columns: None,
            trashed: Some(false),
            limit: None,
            offset: 0,
            sort_by: DEFAULT_SORT_BY.to_owned(),
            ascending: false,
            progress: ProgressBar::Auto,
        }
    }
}

impl TableQuery {
    /// Every object that is not trashed, every column, newest first.
    pub fn new() -> Self {
        Self::default()
    }

    /// A filter in the query language of the [module documentation](self).
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    /// Keeps the object with this `sys/id` (several calls: any of them).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.ids.push(id.into());
        self
    }

    /// Keeps the objects with any of these ids.
    pub fn ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.ids.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Keeps objects in this state (several calls: any of them).
    pub fn state(mut self, state: RunState) -> Self {
        self.states.push(state);
        self
    }

    /// Keeps objects whose `sys/owner` is this user (several calls: any of them).
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owners.push(owner.into());
        self
    }

    /// Keeps objects that have this tag (several calls: all of them).
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Keeps objects that have all these tags.
    pub fn tags<I: IntoIterator<Item = S>, S: Into<String>>(mut self, tags: I) -> Self {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// The columns to return: field paths, or namespaces (every field below them). `sys/id` and
    /// the sort column are added. Default: every field.
    pub fn columns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.columns = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// `Some(false)` (default): objects not trashed; `Some(true)`: trashed ones only;
    /// `None`: both.
    pub fn trashed(mut self, trashed: Option<bool>) -> Self {
        self.trashed = trashed;
        self
    }

    /// At most this many rows (after sorting).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Skips this many rows (after sorting, before the limit): with [`limit`](Self::limit),
    /// one page of a big table. [`Table::total`] still counts every matching row.
    pub fn offset(mut self, offset: usize) -> Self {
        self.offset = offset;
        self
    }

    /// The column to sort by (default `sys/creation_time`). Objects without it come last.
    pub fn sort_by(mut self, path: impl Into<String>) -> Self {
        self.sort_by = path.into();
        self
    }

    /// Sort ascending (default: descending, newest first).
    pub fn ascending(mut self, ascending: bool) -> Self {
        self.ascending = ascending;
        self
    }

    /// Progress reporting while the table is built (default: a bar on a terminal for big
    /// tables).
    pub fn progress_bar(mut self, p: impl Into<ProgressBar>) -> Self {
        self.progress = p.into();
        self
    }

    /// The filter text, if any.
    pub fn query_text(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The ids asked for.
    pub fn id_filter(&self) -> &[String] {
        &self.ids
    }

    /// The states asked for.
    pub fn state_filter(&self) -> &[RunState] {
        &self.states
    }

    /// The owners asked for.
    pub fn owner_filter(&self) -> &[String] {
        &self.owners
    }

    /// The tags asked for.
    pub fn tag_filter(&self) -> &[String] {
        &self.tags
    }

    /// The columns asked for (`None`: all).
    pub fn column_filter(&self) -> Option<&[String]> {
        self.columns.as_deref()
    }

    /// The trashed setting.
    pub fn trashed_filter(&self) -> Option<bool> {
        self.trashed
    }

    /// The row limit.
    pub fn row_limit(&self) -> Option<usize> {
        self.limit
    }

    /// The rows skipped before the limit.
    pub fn row_offset(&self) -> usize {
        self.offset
    }

    /// The sort column.
    pub fn sort_column(&self) -> &str {
        &self.sort_by
    }

    /// Whether the sort is ascending.
    pub fn is_ascending(&self) -> bool {
        self.ascending
    }

    /// The progress setting.
    pub fn progress(&self) -> &ProgressBar {
        &self.progress
    }

    /// Checks the arguments without fetching (the query's syntax, the paths).
    pub fn validate(&self) -> Result<()> {
        self.plan().map(|_| ())
    }

    /// Parses the query and lists the paths a backend must load.
    pub(crate) fn plan(&self) -> Result<build::Plan> {
        build::Plan::new(self)
    }
}

/// A cell of a [`Table`], as the reference's `to_pandas()` shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    /// Float, and the last value of a FloatSeries.
    Float(#[serde(with = "crate::model::operation::float")] f64),
    /// An Integer, or a count.
    Integer(i64),
    /// A Boolean.
    Boolean(bool),
    /// String, the last entry of a StringSeries, comma-joined tags, a RunState, a GitRef's
    /// commit id, an Artifact's hash.
    String(String),
    /// A Datetime.
    Datetime(DateTime<Utc>),
}

impl Cell {
    /// The number in a Float or Integer cell.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Cell::Float(v) => Some(v),
            Cell::Integer(v) => Some(v as f64),
            _ => None,
        }
    }

    /// The text of a String cell.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::String(s) => Some(s),
            _ => None,
        }
    }

    /// The cell as JSON (non-finite floats as "NaN", "Infinity", "-Infinity"; times in
    /// RFC 3339 with milliseconds).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Cell::Float(v) => crate::model::operation::float::to_json(*v),
            Cell::Integer(v) => (*v).into(),
            Cell::Boolean(v) => (*v).into(),
            Cell::String(s) => s.as_str().into(),
            Cell::Datetime(d) => d
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
        }
    }
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Float(v) => write!(f, "{v}"),
            Cell::Integer(v) => write!(f, "{v}"),
            Cell::Boolean(v) => write!(f, "{v}"),
            Cell::String(s) => f.write_str(s),
            Cell::Datetime(d) => {
                f.write_str(&d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            }
        }
    }
}

/// A column of a [`Table`]: a field path and the type of its field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    path: String,
    field_type: Option<FieldType>,
}

impl Column {
    pub(crate) fn new(path: String, field_type: Option<FieldType>) -> Self {
        Column { path, field_type }
    }

    /// The field path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The type of the field in every row that has it; `None` when rows differ.
    pub fn field_type(&self) -> Option<FieldType> {
        self.field_type
    }
}

/// A row of a [`Table`]: one object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    id: String,
    cells: Vec<Option<Cell>>,
}

impl Row {
    /// The object's `sys/id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The cells, one per column of the table (`None`: the object has no such field).
    pub fn cells(&self) -> &[Option<Cell>] {
        &self.cells
    }
}

/// The objects fetched by a table method: a row per object, a column per field.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Row>,
    /// Rows that matched, before the offset and the limit.
    #[serde(default)]
    total: usize,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.columns == other.columns && self.rows == other.rows
    }
}

impl Table {
    /// A table of `total` matching rows, of which `rows` is the page asked for.
    pub(crate) fn with_total(columns: Vec<Column>, rows: Vec<Row>, total: usize) -> Self {
        let total = total.max(rows.len());
        let index = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.path.clone(), i))
            .collect();
        Table {
            columns,
            rows,
            total,
            index,
        }
    }

    /// The columns, in the reference's order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The rows, in the requested order.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// How many rows matched the query before [`TableQuery::offset`] and
    /// [`TableQuery::limit`] kept a page of them.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Whether the table has no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The `sys/id` of every row, in order.
    pub fn ids(&self) -> Vec<&str> {
        self.rows.iter().map(|r| r.id.as_str()).collect()
    }

    /// The index of the column with this path.
    pub fn column_index(&self, path: &str) -> Option<usize> {
        match self.index.get(path) {
            Some(i) => Some(*i),
            // A deserialized table has no index yet.
            None if self.index.is_empty() => self.columns.iter().position(|c| c.path == path),
            None => None,
        }
    }

    /// The cell of row `row` in the column `path`.
    pub fn cell(&self, row: usize, path: &str) -> Option<&Cell> {
        let c = self.column_index(path)?;
        self.rows.get(row)?.cells.get(c)?.as_ref()
    }

    /// The cells of the column `path`, one per row.
    pub fn column(&self, path: &str) -> Option<Vec<Option<&Cell>>> {
        let c = self.column_index(path)?;
        Some(self.rows.iter().map(|r| r.cells[c].as_ref()).collect())
    }
}

impl Project {
    /// The runs of the project (the reference's `fetch_runs_table`).
    ///
    /// What this process queued for other runs is not flushed: call their `wait()` first.
    pub fn fetch_runs_table(&self, query: TableQuery) -> Result<Table> {
        let scope = TableScope::runs(self.project());
        self.root()
            .object()
            .backend()
            .read()?
            .fetch_table(&scope, &query)
    }

    /// The models of the project (the reference's `fetch_models_table`).
    pub fn fetch_models_table(&self, query: TableQuery) -> Result<Table> {
        let scope = TableScope::models(self.project());
        self.root()
            .object()
            .backend()
            .read()?
            .fetch_table(&scope, &query)
    }
}

impl Model {
    /// The versions of the model (the reference's `fetch_model_versions_table`).
    pub fn fetch_model_versions_table(&self, query: TableQuery) -> Result<Table> {
        let scope = TableScope::model_versions(self.project(), self.id());
        self.root()
            .object()
            .backend()
            .read()?
            .fetch_table(&scope, &query)
    }
}

/// The error for a bad query or argument.
pub(crate) fn bad_query(what: impl Into<String>) -> Error {
    Error::InvalidValue {
        path: "query".to_owned(),
        reason: what.into(),
    }
}
