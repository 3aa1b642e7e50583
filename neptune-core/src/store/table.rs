//! Tables of runs, models and model versions, read in one pass.
//!
//! One query lists the objects in scope; one query over `fields` reads every cell of them (the
//! single values and the series summaries kept in the field rows, so no series point is read):
//! a sequential scan when the scope is most of the store (split in two halves by row id, read
//! on two connections at once, when it is big), else `fields` joined to the scope's `objects`.
//! One more query reads the members of their string sets (`sys/tags`). The filter rules, the
//! sort and the column rules then run in memory (module `table::build`), the same for every
//! backend. With `columns`, only the needed paths are read.

use std::collections::HashMap;

use super::sql::{params, Optional, Tx};
use super::sql::{Val, Value as Sql};

use super::fields::{below_bounds, find_object, float_from_sql, text_from_sql};
use super::{corrupt, Fail, R};
use crate::backend::ObjectKind;
use crate::error::Error;
use crate::model::types::{FieldType, GitInfo, RunState};
use crate::options::Progress;
use crate::table::{build, RawRow, RawTable, RawValue, Table, TableQuery, TableScope};

/// Below this many objects no progress bar is shown.
const PROGRESS_MIN_OBJECTS: u64 = 5_000;

/// Maps an object's internal id to its row: a direct array when ids are dense, else a hash map.
enum RowIndex {
    Dense { min: i64, rows: Vec<u32> },
    Sparse(HashMap<i64, u32>),
}

impl RowIndex {
    fn new(ids: &[i64]) -> RowIndex {
        let (Some(&min), Some(&max)) = (ids.iter().min(), ids.iter().max()) else {
            return RowIndex::Sparse(HashMap::new());
        };
        let span = (max - min + 1) as u64;
        if span <= 4 * ids.len() as u64 + 1024 {
            let mut rows = vec![u32::MAX; span as usize];
            for (i, id) in ids.iter().enumerate() {
                rows[(id - min) as usize] = i as u32;
            }
            RowIndex::Dense { min, rows }
        } else {
            RowIndex::Sparse(
                ids.iter()
                    .enumerate()
                    .map(|(i, id)| (*id, i as u32))
                    .collect(),
            )
        }
    }

    fn get(&self, id: i64) -> Option<usize> {
        match self {
            RowIndex::Dense { min, rows } => {
                let i = usize::try_from(id - min).ok()?;
                rows.get(i).filter(|r| **r != u32::MAX).map(|r| *r as usize)
            }
            RowIndex::Sparse(m) => m.get(&id).map(|r| *r as usize),
        }
    }
}

/// The SQL condition and parameters selecting the objects in scope (`o` is `objects`).
fn scope_sql(c: &Tx<'_>, scope: &TableScope, q: &TableQuery) -> R<(String, Vec<Sql>)> {
    let project: Option<i64> = c
        .prepare_cached("SELECT id FROM projects WHERE name = ?1")?
        .query_row([&scope.project], |r| r.get(0))
        .optional()?;
    let project = project.ok_or_else(|| {
        Fail::Core(Error::ObjectNotFound {
            kind: "project",
            id: scope.project.clone(),
            location: "this store".to_owned(),
        })
    })?;
    let mut sql = "o.project_id = ? AND o.kind = ?".to_owned();
    let mut params = vec![Sql::Int(project), Sql::Text(scope.kind.name().to_owned())];
    if scope.kind == ObjectKind::ModelVersion {
        let model_id = scope.model.as_deref().unwrap_or_default();
        let model = match find_object(c, model_id)? {
            Some(m) if m.kind == ObjectKind::Model && m.project_id == project => m,
            _ => {
                return Err(Fail::Core(Error::ObjectNotFound {
                    kind: "model",
                    id: model_id.to_owned(),
                    location: format!("project \"{}\"", scope.project),
                }))
            }
        };
        sql.push_str(" AND o.parent_id = ?");
        params.push(Sql::Int(model.id));
    }
    if !q.id_filter().is_empty() {
        sql.push_str(" AND o.sys_id IN (");
        for (i, id) in q.id_filter().iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ", ?" });
            params.push(Sql::Text(id.clone()));
        }
        sql.push(')');
    }
    Ok((sql, params))
}

/// Up to this many paths to load are selected in SQL; past it every field row is read and
/// `scan` keeps the wanted ones, so the statement stays small and shallow (SQLite bounds the
/// depth of an expression and the number of parameters).
const MAX_SQL_PATHS: usize = 32;

/// The placeholders of an `IN (…)` list of `n` values; `NULL` (matching nothing) for none,
/// as PostgreSQL refuses an empty list.
fn in_list(n: usize) -> String {
    if n == 0 {
        "NULL".to_owned()
    } else {
        vec!["?"; n].join(", ")
    }
}

/// The SQL condition on `f.path` for the paths a plan loads (empty: every path).
fn paths_sql(plan: &build::Plan, params: &mut Vec<Sql>) -> String {
    let Some(load) = &plan.load else {
        return String::new();
    };
    if load.paths().len() > MAX_SQL_PATHS {
        return String::new();
    }
    let mut sql = " AND (".to_owned();
    for (i, p) in load.paths().iter().enumerate() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        let (lo, hi) = below_bounds(p);
        sql.push_str("f.path = ? OR (f.path >= ? AND f.path < ?)");
        params.extend([Sql::Text(p.clone()), Sql::Text(lo), Sql::Text(hi)]);
    }
    sql.push(')');
    sql
}

fn parse_type_bytes(b: &[u8]) -> R<FieldType> {
    Ok(match b {
        b"Float" => FieldType::Float,
        b"Integer" => FieldType::Integer,
        b"Boolean" => FieldType::Boolean,
        b"String" => FieldType::String,
        b"Datetime" => FieldType::Datetime,
        b"FloatSeries" => FieldType::FloatSeries,
        b"StringSeries" => FieldType::StringSeries,
        b"StringSet" => FieldType::StringSet,
        b"RunState" => FieldType::RunState,
        b"GitRef" => FieldType::GitRef,
        b"Artifact" => FieldType::Artifact,
        other => std::str::from_utf8(other)
            .ok()
            .and_then(FieldType::from_name)
            .ok_or_else(|| {
                corrupt(format!(
                    "unknown field type {:?}",
                    String::from_utf8_lossy(other)
                ))
            })?,
    })
}

/// A small, fast hasher for the paths of the columns (FxHash's word step).
#[derive(Default)]
struct PathHasher(u64);

impl std::hash::Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type PathMap = HashMap<Vec<u8>, u32, std::hash::BuildHasherDefault<PathHasher>>;

fn int(v: Val<'_>, what: &str) -> R<i64> {
    match v {
        Val::Int(i) => Ok(i),
        other => Err(corrupt(format!("expected {what}, found {}", other.kind()))),
    }
}

/// The cell of a field row: its type, its `value` and its `last_value`.
fn decode(t: FieldType, value: Val<'_>, last: Val<'_>) -> R<Option<RawValue>> {
    Ok(Some(match t {
        FieldType::Float => RawValue::Float(float_from_sql(value)?),
        FieldType::Integer => RawValue::Int(int(value, "an integer")?),
        FieldType::Boolean => RawValue::Bool(int(value, "a boolean")? != 0),
        FieldType::String => RawValue::Str(text_from_sql(value, "a string")?),
        FieldType::Datetime => RawValue::Time(int(value, "a datetime")?),
        FieldType::RunState => {
            let s = text_from_sql(value, "a run state")?;
            RawValue::State(RunState::parse(&s).ok_or_else(|| corrupt(format!("run state {s:?}")))?)
        }
        FieldType::GitRef => {
            let s = text_from_sql(value, "git information")?;
            let g: GitInfo =
                serde_json::from_str(&s).map_err(|e| corrupt(format!("git information: {e}")))?;
            RawValue::Str(g.commit_id)
        }
        FieldType::Artifact => match value {
            Val::Null => RawValue::Str(String::new()),
            v => RawValue::Str(text_from_sql(v, "an artifact hash")?),
        },
        FieldType::FloatSeries => match last {
            Val::Null => return Ok(None),
            v => RawValue::Float(float_from_sql(v)?),
        },
        FieldType::StringSeries => match last {
            Val::Null => return Ok(None),
            v => RawValue::Str(text_from_sql(v, "a series entry")?),
        },
        FieldType::StringSet => RawValue::Set(Vec::new()),
        // Files are left out of tables.
        _ => return Ok(None),
    }))
}

/// The cells one scan of `fields` read: the columns it met (its own indexes: path, first type,
/// whether another type was seen), `(row, column, value)` triples, and its string sets
/// `(field id, row, column)`.
#[derive(Default)]
struct Part {
    columns: Vec<(Vec<u8>, FieldType, bool)>,
    cells: Vec<(u32, u32, RawValue)>,
    sets: Vec<(i64, u32, u32)>,
}

/// Runs the cells query `sql` and collects the cells of the objects in `index`.
fn scan(c: &Tx<'_>, sql: &str, params: &[Sql], index: &RowIndex, plan: &build::Plan) -> R<Part> {
    let mut part = Part::default();
    let mut columns = PathMap::default();
    let mut stmt = c.prepare(sql)?;
    let mut rows = stmt.query(params)?;
    while let Some(r) = rows.next()? {
        let Some(row) = index.get(r.get(0)?) else {
            continue;
        };
        let path = match r.get_ref(1)? {
            Val::Text(s) => s,
            _ => return Err(corrupt("a field path is not text")),
        };
        let path = path.as_bytes();
        let t = match r.get_ref(2)? {
            Val::Text(s) => parse_type_bytes(s.as_bytes())?,
            _ => return Err(corrupt("a field type is not text")),
        };
        if plan.load.is_some() && !plan.loads(std::str::from_utf8(path).unwrap_or_default()) {
            continue;
        }
        let Some(v) = decode(t, r.get_ref(3)?, r.get_ref(4)?)? else {
            continue;
        };
        let col = match columns.get(path) {
            Some(&col) => {
                let c = &mut part.columns[col as usize];
                c.2 |= c.1 != t;
                col
            }
            None => {
                let col = part.columns.len() as u32;
                part.columns.push((path.to_vec(), t, false));
                columns.insert(path.to_vec(), col);
                col
            }
        };
        if t == FieldType::StringSet {
            part.sets.push((r.get(5)?, row as u32, col));
        }
        part.cells.push((row as u32, col, v));
    }
    Ok(part)
}

/// Scans above this many field rows use both cores: a second connection reads half the rows.
const PARALLEL_MIN_ROWS: i64 = 100_000;

/// A second connection to the store's database, for reading only.
fn second_connection(home: &std::path::Path) -> R<rusqlite::Connection> {
    let c = rusqlite::Connection::open(home.join("store.db"))?;
    c.busy_timeout(super::schema::BUSY_TIMEOUT)?;
    c.pragma_update(None, "query_only", true)?;
    Ok(c)
}

/// Reads the table of `scope` that `q` asks for.
pub(crate) fn fetch(
    store: &super::Store,
    scope: &TableScope,
    q: &TableQuery,
) -> crate::Result<Table> {
    store.read(|tx| fetch_table(store.home(), PARALLEL_MIN_ROWS, tx, scope, q))
}

/// Reads the table on the connection `c` (in a read transaction); with `home`, a scan of at
/// least `parallel_rows` field rows is split with a second connection.
fn fetch_table(
    home: Option<&std::path::Path>,
    parallel_rows: i64,
    c: &Tx<'_>,
    scope: &TableScope,
    q: &TableQuery,
) -> R<Table> {
    let plan = q.plan()?;
    let (scope_cond, scope_params) = scope_sql(c, scope, q)?;
    let off = crate::options::ProgressBar::Off;

    // A page of a big table: chosen (and counted) in SQL, then only its rows are read.
    let filter_load = |candidates: Vec<RawRow>, paths: &[String]| {
        load(
            home,
            parallel_rows,
            c,
            candidates,
            Cells::Paths(paths),
            &plan,
            &off,
        )
    };
    if let Some(page) =
        super::table_page::select(c, &scope_cond, &scope_params, q, &plan, filter_load)?
    {
        let ids: Vec<i64> = page.rows.iter().map(|r| r.order).collect();
        let raw = load(
            home,
            parallel_rows,
            c,
            page.rows,
            Cells::Objects(&ids),
            &plan,
            &off,
        )?;
        return Ok(build::finish_page(raw, q, &plan, page.total)?);
    }

    let mut rows = Vec::new();
    {
        let sql = format!("SELECT o.id, o.sys_id FROM objects o WHERE {scope_cond} ORDER BY o.id");
        let mut stmt = c.prepare(&sql)?;
        let mut r = stmt.query(&scope_params)?;
        while let Some(r) = r.next()? {
            rows.push(RawRow {
                order: r.get(0)?,
                id: r.get(1)?,
                cells: Vec::new(),
            });
        }
    }
    // When the scope holds most of the store's objects, a sequential scan of `fields` (rows of
    // other objects skipped by the row index) beats an index lookup per object.
    let total: i64 = c
        .prepare_cached("SELECT count(*) FROM objects")?
        .query_row(params![], |r| r.get(0))?;
    let cells = if q.id_filter().is_empty() && rows.len() as i64 * 4 >= total {
        Cells::Everything
    } else {
        Cells::Scope(&scope_cond, scope_params)
    };
    let raw = load(home, parallel_rows, c, rows, cells, &plan, q.progress())?;
    Ok(build::finish(raw, q, &plan)?)
}

/// Which field rows [`load`] reads.
pub(super) enum Cells<'a> {
    /// Every row of `fields` (the objects not asked for are skipped).
    Everything,
    /// The rows of the objects in scope (`fields` joined to `objects o` on this condition).
    Scope(&'a str, Vec<Sql>),
    /// The rows of these objects (internal ids).
    Objects(&'a [i64]),
    /// The rows at these exact paths (of the objects asked for).
    Paths(&'a [String]),
}

/// Reads the cells of `rows` (each with its internal id as `order`) that `cells` and the plan
/// select, with the members of their string sets.
pub(super) fn load(
    home: Option<&std::path::Path>,
    parallel_rows: i64,
    c: &Tx<'_>,
    rows: Vec<RawRow>,
    cells: Cells<'_>,
    plan: &build::Plan,
    progress: &crate::options::ProgressBar,
) -> R<RawTable> {
    let mut raw = RawTable::default();
    raw.rows = rows;
    let object_ids: Vec<i64> = raw.rows.iter().map(|r| r.order).collect();
    let index = RowIndex::new(&object_ids);
    let progress = Progress::start(
        progress,
        raw.rows.len() as u64,
        PROGRESS_MIN_OBJECTS,
        "fetching table",
    );
    const COLS: &str =
        "SELECT f.object_id, f.path, f.type, f.value, f.last_value, f.id FROM fields f";
    // A page's few sets are looked up one by one, never by a scan of every member.
    let per_set = matches!(cells, Cells::Objects(_));
    let parts = match cells {
        Cells::Everything => {
            let (lo, hi): (Option<i64>, Option<i64>) = c
                .prepare_cached("SELECT min(id), max(id) FROM fields")?
                .query_row(params![], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let (lo, hi) = (lo.unwrap_or(0), hi.unwrap_or(0));
            let mut params = Vec::new();
            let path_cond = paths_sql(plan, &mut params);
            let sql = |range: &str| format!("{COLS} WHERE {range}{path_cond}");
            match home {
                Some(home) if hi - lo >= parallel_rows => {
                    let mid = lo + (hi - lo) / 2;
                    let first = sql(&format!("f.id <= {mid}"));
                    let second = sql(&format!("f.id > {mid}"));
                    let (index, params) = (&index, &params);
                    let (a, b) = std::thread::scope(|s| {
                        let other = s.spawn(move || -> R<Part> {
                            let mut conn = second_connection(home)?;
                            let tx = conn.transaction()?;
                            let part = scan(&Tx::Sqlite(&tx), &second, params, index, plan)?;
                            tx.commit()?;
                            Ok(part)
                        });
                        let mine = scan(c, &first, params, index, plan);
                        let theirs = other
                            .join()
                            .unwrap_or_else(|_| Err(corrupt("the second table scan panicked")));
                        (mine, theirs)
                    });
                    vec![a?, b?]
                }
                _ => vec![scan(c, &sql("TRUE"), &params, &index, plan)?],
            }
        }
        Cells::Scope(cond, mut params) => {
            let path_cond = paths_sql(plan, &mut params);
            let sql =
                format!("{COLS} JOIN objects o ON o.id = f.object_id WHERE {cond}{path_cond}");
            vec![scan(c, &sql, &params, &index, plan)?]
        }
        Cells::Objects(ids) => {
            let mut params: Vec<Sql> = ids.iter().map(|i| Sql::Int(*i)).collect();
            let list = in_list(ids.len());
            let path_cond = paths_sql(plan, &mut params);
            let sql = format!("{COLS} WHERE f.object_id IN ({list}){path_cond}");
            vec![scan(c, &sql, &params, &index, plan)?]
        }
        Cells::Paths(paths) => {
            let params: Vec<Sql> = paths.iter().map(|p| Sql::Text(p.clone())).collect();
            let list = in_list(paths.len());
            let sql = format!("{COLS} WHERE f.path IN ({list})");
            vec![scan(c, &sql, &params, &index, plan)?]
        }
    };

    // Merge the parts: their columns into the table's, their cells into the rows.
    let mut columns = PathMap::default();
    // StringSet fields: field id → (row, column), filled by the members query.
    let mut sets: HashMap<i64, (usize, u32)> = HashMap::new();
    let mut seen = 0u64;
    for part in parts {
        let mut map = Vec::with_capacity(part.columns.len());
        for (path, t, mixed) in part.columns {
            let col = match columns.get(&path) {
                Some(&col) => {
                    raw.note_type(col, t);
                    col
                }
                None => {
                    let p = String::from_utf8(path.clone())
                        .map_err(|_| corrupt("a field path is not UTF-8"))?;
                    let col = raw.add_column(p, t);
                    columns.insert(path, col);
                    col
                }
            };
            if mixed {
                raw.mark_mixed(col);
            }
            map.push(col);
        }
        for (field, row, col) in part.sets {
            sets.insert(field, (row as usize, map[col as usize]));
        }
        let ncols = raw.columns_len();
        for (row, col, v) in part.cells {
            let cells = &mut raw.rows[row as usize].cells;
            if cells.is_empty() {
                // Objects mostly share their fields: room for every column.
                cells.reserve(ncols);
                seen += 1;
                if seen.is_multiple_of(512) {
                    progress.set(seen);
                }
            }
            cells.push((map[col as usize], v));
        }
    }

    // The members of the string sets (tags): a look-up per set for a few, else one scan of
    // the (small) members table.
    let mut add_member = |field: i64, member: String| {
        if let Some(&(row, col)) = sets.get(&field) {
            let cell = raw.rows[row].cells.iter_mut().find(|(c, _)| *c == col);
            if let Some((_, RawValue::Set(m))) = cell {
                m.push(member);
            }
        }
    };
    if sets.len() > 64 && !per_set {
        let mut stmt = c.prepare_cached(
            "SELECT field_id, value FROM string_set_members ORDER BY field_id, value",
        )?;
        let mut rows = stmt.query(params![])?;
        while let Some(r) = rows.next()? {
            add_member(r.get(0)?, r.get(1)?);
        }
    } else {
        let ids: Vec<i64> = sets.keys().copied().collect();
        let mut stmt = c.prepare_cached(
            "SELECT value FROM string_set_members WHERE field_id = ?1 ORDER BY value",
        )?;
        for id in ids {
            let mut rows = stmt.query([id])?;
            while let Some(r) = rows.next()? {
                add_member(id, r.get(0)?);
            }
        }
    }
    progress.set(raw.rows.len() as u64);
    progress.finish();
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{OpenRequest, Writer};
    use crate::model::operation::Operation;
    use crate::model::path::FieldPath;

    /// The scan split over two connections gives the table one connection gives.
    #[test]
    fn the_split_scan_reads_the_same_table() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::Store::open(dir.path()).unwrap();
        for i in 0..30 {
            let info = store
                .open_object(&OpenRequest {
                    kind: ObjectKind::Run,
                    project: "t/split".into(),
                    with_id: None,
                    custom_run_id: None,
                    model: None,
                    owner: "me".into(),
                    read_only: false,
                })
                .unwrap();
            let ops: Vec<Operation> = (0..i % 7)
                .map(|j| Operation::AssignFloat {
                    path: FieldPath::parse(&format!("p/x{j}")).unwrap(),
                    value: (i * j) as f64,
                })
                .chain([Operation::AddStrings {
                    path: FieldPath::parse("sys/tags").unwrap(),
                    values: vec![format!("t{}", i % 3)],
                }])
                .collect();
            store.execute(&info.id, &ops).unwrap();
        }
        let scope = TableScope::runs("t/split");
        for q in [
            TableQuery::new(),
            TableQuery::new()
                .tag("t1")
                .sort_by("p/x3")
                .columns(["p/x1"]),
        ] {
            let read = |parallel_rows| {
                store
                    .read(|tx| fetch_table(store.home(), parallel_rows, tx, &scope, &q))
                    .unwrap()
            };
            let (one, two) = (read(i64::MAX), read(0));
            assert!(!one.is_empty());
            assert_eq!(one, two);
        }
    }
}
