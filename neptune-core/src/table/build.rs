//! From the cells a backend loaded to a [`Table`]: the filter rules, the sort, the limit, the
//! column rules and the reference's cell conversions. Backends load (module `store::table`);
//! this module decides, so every backend behaves the same.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use super::query::{self, Expr};
use super::{
    bad_query, Cell, Column, Row, Table, TableQuery, MAX_TABLE_COLUMNS, MAX_TABLE_IDS,
    MAX_TABLE_VALUES,
};
use crate::error::{Error, Result};
use crate::model::path::FieldPath;
use crate::model::rules::sys::{self, ID, OWNER, STATE, TAGS, TRASHED};
use crate::model::types::{FieldType, RunState};

/// A loaded cell, before the conversions of `to_pandas()`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RawValue {
    /// Float, or a FloatSeries' last value.
    Float(f64),
    Int(i64),
    Bool(bool),
    /// String, a StringSeries' last entry, a GitRef's commit id, an Artifact's hash.
    Str(String),
    /// Datetime, Unix ms.
    Time(i64),
    State(RunState),
    /// The members of a StringSet, sorted.
    Set(Vec<String>),
}

impl RawValue {
    fn into_cell(self) -> Cell {
        match self {
            RawValue::Float(v) => Cell::Float(v),
            RawValue::Int(v) => Cell::Integer(v),
            RawValue::Bool(v) => Cell::Boolean(v),
            RawValue::Str(s) => Cell::String(s),
            RawValue::Time(ms) => Cell::Datetime(crate::model::values::datetime_ms(ms)),
            RawValue::State(s) => Cell::String(s.as_str().to_owned()),
            RawValue::Set(m) => Cell::String(m.join(",")),
        }
    }
}

/// One loaded object: its `sys/id`, its creation order, and its cells by column index.
#[derive(Debug, Default)]
pub(crate) struct RawRow {
    /// Creation order (ties of the sort keep it, in the sort's direction).
    pub order: i64,
    pub id: String,
    pub cells: Vec<(u32, RawValue)>,
}

impl RawRow {
    /// The cell of column `col` (the cells are sorted by column in [`finish`]).
    fn get(&self, col: Option<u32>) -> Option<&RawValue> {
        let col = col?;
        let i = self.cells.binary_search_by_key(&col, |(c, _)| *c).ok()?;
        Some(&self.cells[i].1)
    }
}

/// What a backend loaded: the columns (paths with their type) and the rows.
#[derive(Debug, Default)]
pub(crate) struct RawTable {
    /// Path, type of the first cell seen, whether another type was seen too.
    columns: Vec<(String, FieldType, bool)>,
    pub rows: Vec<RawRow>,
}

impl RawTable {
    /// Adds a column; the caller keeps the index (paths are unique).
    pub(crate) fn add_column(&mut self, path: String, t: FieldType) -> u32 {
        self.columns.push((path, t, false));
        (self.columns.len() - 1) as u32
    }

    /// Number of columns so far.
    pub(crate) fn columns_len(&self) -> usize {
        self.columns.len()
    }

    /// Records the type of a cell of column `col`.
    pub(crate) fn note_type(&mut self, col: u32, t: FieldType) {
        let c = &mut self.columns[col as usize];
        if c.1 != t {
            c.2 = true;
        }
    }

    /// Records that column `col` holds cells of different types.
    pub(crate) fn mark_mixed(&mut self, col: u32) {
        self.columns[col as usize].2 = true;
    }

    fn find(&self, path: &str) -> Option<u32> {
        self.columns
            .iter()
            .position(|c| c.0 == path)
            .map(|i| i as u32)
    }
}

/// Paths given as exact fields or as namespaces (everything below them).
#[derive(Clone, Debug, Default)]
pub(crate) struct PathSet {
    paths: Vec<String>,
    set: HashSet<String>,
}

impl PathSet {
    /// Whether `path` is one of the paths or lies below one (a look-up per segment).
    pub(crate) fn matches(&self, path: &str) -> bool {
        self.set.contains(path)
            || path
                .match_indices('/')
                .any(|(i, _)| self.set.contains(&path[..i]))
    }

    /// The paths, in the order they were added.
    pub(crate) fn paths(&self) -> &[String] {
        &self.paths
    }

    fn add(&mut self, p: &str) {
        if self.set.insert(p.to_owned()) {
            self.paths.push(p.to_owned());
        }
    }
}

/// Refuses more than `max` entries of `what`.
fn at_most(what: &str, n: usize, max: usize, fix: &str) -> Result<()> {
    if n > max {
        return Err(bad_query(format!(
            "{n} {what} asked for, more than the limit of {max} per table query; {fix}"
        )));
    }
    Ok(())
}

/// A checked query: the parsed filter, and the paths to load.
#[derive(Debug)]
pub(crate) struct Plan {
    filter: Option<Expr>,
    /// The paths a backend must load (`None`: every field).
    pub load: Option<PathSet>,
    /// The columns of the result (`None`: every loaded field).
    output: Option<PathSet>,
}

impl Plan {
    pub(crate) fn new(q: &TableQuery) -> Result<Plan> {
        let columns = q.columns.as_ref().map_or(0, Vec::len);
        at_most(
            "columns",
            columns,
            MAX_TABLE_COLUMNS,
            "ask for namespaces (\"params\" is every field below params/) or for every column",
        )?;
        at_most(
            "ids",
            q.ids.len(),
            MAX_TABLE_IDS,
            "fetch the table in parts",
        )?;
        let split = "fetch the table in parts or select with the query";
        at_most("states", q.states.len(), MAX_TABLE_VALUES, split)?;
        at_most("owners", q.owners.len(), MAX_TABLE_VALUES, split)?;
        at_most("tags", q.tags.len(), MAX_TABLE_VALUES, split)?;
        let filter = match &q.query {
            Some(text) => query::parse(text)?,
            None => None,
        };
        FieldPath::parse(&q.sort_by).map_err(|e| bad_query(format!("sort_by: {e}")))?;
        if q.limit == Some(0) {
            return Err(bad_query("limit must be at least 1"));
        }
        let (load, output) = match &q.columns {
            None => (None, None),
            Some(cols) => {
                let mut output = PathSet::default();
                for c in cols {
                    let c = c.trim().trim_end_matches('/');
                    FieldPath::parse(c).map_err(|e| bad_query(format!("columns: {e}")))?;
                    output.add(c);
                }
                output.add(ID);
                output.add(&q.sort_by);
                let mut load = output.clone();
                let mut fp = Vec::new();
                if let Some(f) = &filter {
                    f.paths(&mut fp);
                }
                for p in &fp {
                    load.add(p);
                }
                for (on, p) in [
                    (!q.states.is_empty(), STATE),
                    (!q.owners.is_empty(), OWNER),
                    (!q.tags.is_empty(), TAGS),
                    (q.trashed.is_some(), TRASHED),
                ] {
                    if on {
                        load.add(p);
                    }
                }
                (Some(load), Some(output))
            }
        };
        Ok(Plan {
            filter,
            load,
            output,
        })
    }

    /// The parsed filter text, if any.
    pub(crate) fn filter(&self) -> Option<&Expr> {
        self.filter.as_ref()
    }

    /// Whether a backend must load the field at `path`.
    pub(crate) fn loads(&self, path: &str) -> bool {
        self.load.as_ref().is_none_or(|l| l.matches(path))
    }
}

/// The sort key of a cell: kinds of values apart, then by value.
fn cmp_values(a: &RawValue, b: &RawValue) -> Ordering {
    fn rank(v: &RawValue) -> u8 {
        match v {
            RawValue::Float(_) | RawValue::Int(_) => 0,
            RawValue::Time(_) => 1,
            RawValue::Bool(_) => 2,
            RawValue::Str(_) | RawValue::State(_) => 3,
            RawValue::Set(_) => 4,
        }
    }
    fn num(v: &RawValue) -> f64 {
        match *v {
            RawValue::Float(x) => x,
            RawValue::Int(x) => x as f64,
            _ => f64::NAN,
        }
    }
    match (a, b) {
        (RawValue::Int(x), RawValue::Int(y)) => x.cmp(y),
        (RawValue::Float(_) | RawValue::Int(_), RawValue::Float(_) | RawValue::Int(_)) => {
            num(a).total_cmp(&num(b))
        }
        (RawValue::Time(x), RawValue::Time(y)) => x.cmp(y),
        (RawValue::Bool(x), RawValue::Bool(y)) => x.cmp(y),
        (RawValue::Str(x), RawValue::Str(y)) => x.cmp(y),
        (RawValue::State(x), RawValue::State(y)) => x.as_str().cmp(y.as_str()),
        (RawValue::Str(x), RawValue::State(y)) => x.as_str().cmp(y.as_str()),
        (RawValue::State(x), RawValue::Str(y)) => x.as_str().cmp(y.as_str()),
        (RawValue::Set(x), RawValue::Set(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// The group of a column: `sys/*` first, then the rest, `monitoring/*` last.
fn group(path: &str) -> u8 {
    if sys::is_system(path) {
        0
    } else if path.starts_with("monitoring/") {
        2
    } else {
        1
    }
}

/// Applies the filter rules, the sort, the offset, the limit and the column rules to what was
/// loaded.
pub(crate) fn finish(raw: RawTable, q: &TableQuery, plan: &Plan) -> Result<Table> {
    finish_rows(raw, q, plan, None)
}

/// The rows of `raw` that the query's filter text keeps (every row without one): the filter
/// rule of [`finish`], for a backend that selects the rest in its own way.
pub(crate) fn filter_matches(raw: &mut RawTable, plan: &Plan) -> Vec<bool> {
    let Some(f) = &plan.filter else {
        return vec![true; raw.rows.len()];
    };
    let cols = filter_columns(raw, f);
    raw.rows
        .iter_mut()
        .map(|row| {
            row.cells.sort_unstable_by_key(|(c, _)| *c);
            let get = |p: &str| -> Option<&RawValue> { row.get(cols.get(p).copied()?) };
            f.eval(&get)
        })
        .collect()
}

/// The column of each path the filter reads.
fn filter_columns(raw: &RawTable, f: &Expr) -> HashMap<String, Option<u32>> {
    let mut paths = Vec::new();
    f.paths(&mut paths);
    let by_path: HashMap<&str, u32> = raw
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.0.as_str(), i as u32))
        .collect();
    paths
        .into_iter()
        .map(|p| {
            let c = by_path.get(p.as_str()).copied();
            (p, c)
        })
        .collect()
}

/// [`finish`] for the rows of one page that a backend selected (and counted: `total` matched)
/// in its own way: the same rules and conversions, without the offset (the rows are the
/// page), and without refusing a page none of whose rows has the sort field.
pub(crate) fn finish_page(
    raw: RawTable,
    q: &TableQuery,
    plan: &Plan,
    total: usize,
) -> Result<Table> {
    finish_rows(raw, q, plan, Some(total))
}

fn finish_rows(
    mut raw: RawTable,
    q: &TableQuery,
    plan: &Plan,
    paged: Option<usize>,
) -> Result<Table> {
    let col_state = raw.find(STATE);
    let col_owner = raw.find(OWNER);
    let col_tags = raw.find(TAGS);
    let col_trashed = raw.find(TRASHED);
    let col_sort = raw.find(&q.sort_by);
    if col_sort.is_none() && !raw.rows.is_empty() && paged.is_none() {
        return Err(Error::InvalidValue {
            path: q.sort_by.clone(),
            reason: "no object of the table has this field, so the table cannot be sorted by \
                     it; check the path (default sort: sys/creation_time)"
                .to_owned(),
        });
    }
    let filter_cols = match &plan.filter {
        Some(f) => filter_columns(&raw, f),
        None => HashMap::new(),
    };
    let ids: HashSet<&str> = q.ids.iter().map(String::as_str).collect();
    // Cells by column, so a look-up is a binary search.
    for row in &mut raw.rows {
        row.cells.sort_unstable_by_key(|(c, _)| *c);
    }

    let keep = |row: &RawRow| -> bool {
        if !ids.is_empty() && !ids.contains(row.id.as_str()) {
            return false;
        }
        if !q.states.is_empty() {
            let state = match row.get(col_state) {
                Some(RawValue::State(s)) => Some(*s),
                Some(RawValue::Str(s)) => RunState::parse(s),
                _ => None,
            };
            if !state.is_some_and(|s| q.states.contains(&s)) {
                return false;
            }
        }
        if !q.owners.is_empty() {
            match row.get(col_owner) {
                Some(RawValue::Str(o)) if q.owners.iter().any(|w| w == o) => {}
                _ => return false,
            }
        }
        if !q.tags.is_empty() {
            let members: &[String] = match row.get(col_tags) {
                Some(RawValue::Set(m)) => m,
                _ => &[],
            };
            if !q.tags.iter().all(|t| members.contains(t)) {
                return false;
            }
        }
        if let Some(want) = q.trashed {
            let trashed = matches!(row.get(col_trashed), Some(RawValue::Bool(true)));
            if trashed != want {
                return false;
            }
        }
        if let Some(f) = &plan.filter {
            let get = |p: &str| -> Option<&RawValue> { row.get(filter_cols.get(p).copied()?) };
            if !f.eval(&get) {
                return false;
            }
        }
        true
    };
    let mut selected: Vec<usize> = (0..raw.rows.len())
        .filter(|&i| keep(&raw.rows[i]))
        .collect();

    let rows = &raw.rows;
    // The sort cell of each row, found once.
    let keys: Vec<Option<&RawValue>> = rows.iter().map(|r| r.get(col_sort)).collect();
    selected.sort_by(|&a, &b| {
        let (ra, rb) = (&rows[a], &rows[b]);
        let by_value = match (keys[a], keys[b]) {
            (Some(x), Some(y)) => {
                let o = cmp_values(x, y);
                if q.ascending {
                    o
                } else {
                    o.reverse()
                }
            }
            // Objects without the sort field come last, whatever the direction.
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_value.then_with(|| {
            let o = ra.order.cmp(&rb.order);
            if q.ascending {
                o
            } else {
                o.reverse()
            }
        })
    });
    let total = paged.unwrap_or(selected.len());
    if paged.is_none() && q.offset > 0 {
        selected.drain(..q.offset.min(selected.len()));
    }
    if let Some(limit) = q.limit {
        selected.truncate(limit);
    }

    // The columns: those wanted that some selected row has.
    let ncols = raw.columns.len();
    let mut present = vec![false; ncols];
    for &i in &selected {
        for (c, _) in &raw.rows[i].cells {
            present[*c as usize] = true;
        }
    }
    let mut out_cols: Vec<usize> = (0..ncols)
        .filter(|&c| {
            present[c]
                && plan
                    .output
                    .as_ref()
                    .is_none_or(|o| o.matches(&raw.columns[c].0))
        })
        .collect();
    out_cols.sort_by(|&a, &b| {
        let (pa, pb) = (&raw.columns[a].0, &raw.columns[b].0);
        group(pa).cmp(&group(pb)).then_with(|| pa.cmp(pb))
    });
    let mut map = vec![u32::MAX; ncols];
    for (new, &old) in out_cols.iter().enumerate() {
        map[old] = new as u32;
    }
    let columns: Vec<Column> = out_cols
        .iter()
        .map(|&c| {
            let (path, t, mixed) = &raw.columns[c];
            Column::new(path.clone(), (!mixed).then_some(*t))
        })
        .collect();

    let mut out_rows = Vec::with_capacity(selected.len());
    for &i in &selected {
        let row = std::mem::take(&mut raw.rows[i]);
        let mut cells: Vec<Option<Cell>> = vec![None; columns.len()];
        for (c, v) in row.cells {
            let new = map[c as usize];
            if new != u32::MAX {
                cells[new as usize] = Some(v.into_cell());
            }
        }
        out_rows.push(Row { id: row.id, cells });
    }
    Ok(Table::with_total(columns, out_rows, total))
}
