//! One page of a big table (a [`TableQuery`] with an offset or a limit), chosen and counted in
//! SQL so that only the page's rows are read.
//!
//! The scope, the ids, `trashed`, the states, the owners and the tags become conditions on
//! `objects` answered by the indexes `fields_by_path` and `string_set_members_by_value`; the
//! sort becomes an `ORDER BY` on the sort field's value (or a series' last value), objects
//! without it last, ties by creation order as in [`build`]. A filter text is narrowed in SQL
//! where a top-level condition compares a number, then decided exactly by the rule of
//! [`build::filter_matches`] on the cells of its paths. Where SQL's order is not the table's (a
//! sort column of mixed kinds of values, a set, a git ref, an artifact), or the sort field is
//! missing from the scope, [`select`] declines and the whole table is read.

use super::sql::Value as Sql;
use super::sql::{params, Engine, Optional, Tx};

use super::R;
use crate::model::rules::sys::{OWNER, STATE, TAGS, TRASHED};
use crate::table::build::{self, Plan};
use crate::table::query::{Expr, Op};
use crate::table::{RawRow, RawTable, TableQuery};

/// The rows of a page (internal id as `order`, no cells yet) and the number of matching rows.
pub(super) struct Page {
    pub rows: Vec<RawRow>,
    pub total: usize,
}

/// The sort key of the field row `s`: a series' last value, else its value.
const KEY: &str = "(CASE s.type WHEN 'FloatSeries' THEN s.last_value \
                   WHEN 'StringSeries' THEN s.last_value ELSE s.value END)";

/// The sort key of a rank of types, as the engine orders it. PostgreSQL's JSONB sorts texts
/// before numbers, and holds NaN and ±infinity as texts (module `pg`): its numbers are
/// ordered as NUMERIC, where NaN follows every number as SQLite's text 'NaN' does.
fn sort_key(engine: Engine, rank: u8) -> String {
    match (engine, rank) {
        #[cfg(feature = "postgres")]
        (Engine::Postgres, r) if r != 3 => format!(
            "(CASE jsonb_typeof({KEY}) WHEN 'string' THEN ({KEY} #>> '{{}}')::numeric \
             ELSE ({KEY})::numeric END)"
        ),
        _ => KEY.to_owned(),
    }
}

/// The kind of sort key of a field type whose SQL order is the table's order (numbers apart
/// from times, booleans and texts, as `build` ranks them); `None` for the others.
fn rank(t: &str) -> Option<u8> {
    match t {
        // Numbers; NaN is stored as the text 'NaN', after every number as in `total_cmp`.
        "Float" | "Integer" | "FloatSeries" => Some(0),
        "Datetime" => Some(1),
        "Boolean" => Some(2),
        // Texts: SQLite's BINARY order is Rust's byte order.
        "String" | "StringSeries" | "RunState" => Some(3),
        _ => None,
    }
}

/// The types of the fields at `path` in the store (one index look-up per type).
fn types_at(c: &Tx<'_>, path: &str) -> R<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT type FROM fields WHERE path = ?1 AND type > ?2 ORDER BY type LIMIT 1",
    )?;
    let mut out: Vec<String> = Vec::new();
    loop {
        let after = out.last().cloned().unwrap_or_default();
        let next: Option<String> = stmt
            .query_row(params![path, after], |r| r.get(0))
            .optional()?;
        match next {
            Some(t) => out.push(t),
            None => return Ok(out),
        }
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// Sets of object ids a page's objects must all be in, each a `SELECT` of one column, joined as
/// one `o.id IN (a INTERSECT b …)`. One `IN` per condition instead would let SQLite's planner
/// probe the index of `o.id` with every pair of members of two lists (a tag, a state and an
/// owner on 10,000 runs took over a minute); the intersection is computed once.
#[derive(Default)]
struct IdSets {
    selects: Vec<String>,
    params: Vec<Sql>,
}

impl IdSets {
    fn push(&mut self, select: String, params: impl IntoIterator<Item = Sql>) {
        self.selects.push(select);
        self.params.extend(params);
    }

    /// Appends the condition (nothing when there is no set) to `sql` and its parameters.
    fn finish(self, sql: &mut String, params: &mut Vec<Sql>) {
        if self.selects.is_empty() {
            return;
        }
        sql.push_str(" AND o.id IN (");
        sql.push_str(&self.selects.join(" INTERSECT "));
        sql.push(')');
        params.extend(self.params);
    }
}

/// The conditions on `o` of the ids-free arguments: trashed, states, owners, tags.
fn arguments_sql(
    q: &TableQuery,
    engine: Engine,
    sql: &mut String,
    params: &mut Vec<Sql>,
    sets: &mut IdSets,
) {
    if let Some(trashed) = q.trashed_filter() {
        let select =
            "SELECT object_id FROM fields WHERE path = ? AND type = 'Boolean' AND value = ?";
        let select_params = [Sql::Text(TRASHED.to_owned()), Sql::Int(1)];
        if trashed {
            sets.push(select.to_owned(), select_params);
        } else {
            sql.push_str(&format!(" AND o.id NOT IN ({select})"));
            params.extend(select_params);
        }
    }
    if !q.state_filter().is_empty() {
        let n = q.state_filter().len();
        // The text of a String value, to compare without case.
        let text = match engine {
            Engine::Sqlite => "value",
            #[cfg(feature = "postgres")]
            Engine::Postgres => "(value #>> '{}')",
        };
        let select = format!(
            "SELECT object_id FROM fields WHERE path = ? AND \
             ((type = 'RunState' AND value IN ({0})) OR (type = 'String' AND lower({text}) IN ({0})))",
            placeholders(n)
        );
        let states = q.state_filter().iter();
        let exact = states.clone().map(|s| Sql::Text(s.as_str().to_owned()));
        let lower = states.map(|s| Sql::Text(s.as_str().to_ascii_lowercase()));
        sets.push(
            select,
            std::iter::once(Sql::Text(STATE.to_owned()))
                .chain(exact)
                .chain(lower),
        );
    }
    if !q.owner_filter().is_empty() {
        let select = format!(
            "SELECT object_id FROM fields WHERE path = ? AND type = 'String' AND value IN ({})",
            placeholders(q.owner_filter().len())
        );
        let owners = q.owner_filter().iter().map(|o| Sql::Text(o.clone()));
        sets.push(
            select,
            std::iter::once(Sql::Text(OWNER.to_owned())).chain(owners),
        );
    }
    for tag in q.tag_filter() {
        sets.push(
            "SELECT f.object_id FROM string_set_members m \
             JOIN fields f ON f.id = m.field_id \
             WHERE m.value = ? AND f.path = ? AND f.type = 'StringSet'"
                .to_owned(),
            [Sql::Text(tag.clone()), Sql::Text(TAGS.to_owned())],
        );
    }
}

/// Conditions that every object the filter keeps meets (a superset: the filter still decides):
/// for each top-level `path op number`, a Float or Integer at `path` must compare so (fields of
/// other types pass, the exact rule judges them); for `EXISTS path`, a field at `path`.
fn narrowing_sql(filter: &Expr, engine: Engine, sets: &mut IdSets) {
    // PostgreSQL keeps ±infinity as texts (module `pg`): texts pass, the filter judges them.
    let texts = match engine {
        Engine::Sqlite => "",
        #[cfg(feature = "postgres")]
        Engine::Postgres => " OR jsonb_typeof(value) = 'string'",
    };
    let terms = match filter {
        Expr::And(terms) => terms.as_slice(),
        single => std::slice::from_ref(single),
    };
    for t in terms {
        match t {
            Expr::Cmp { path, op, lit } => {
                let sym = match op {
                    Op::Eq => "=",
                    Op::Lt => "<",
                    Op::Le => "<=",
                    Op::Gt => ">",
                    Op::Ge => ">=",
                    Op::Ne | Op::Contains => continue,
                };
                let Some(n) = lit.num() else { continue };
                if n.is_nan() {
                    continue;
                }
                // A compound inside the intersection: a derived table of its own.
                sets.push(
                    format!(
                        "SELECT object_id FROM (SELECT object_id FROM fields WHERE path = ? \
                         AND type IN ('Float', 'Integer') AND (value {sym} ?{texts}) \
                         UNION ALL SELECT object_id FROM fields WHERE path = ? \
                         AND type NOT IN ('Float', 'Integer')) AS u"
                    ),
                    [
                        Sql::Text(path.clone()),
                        Sql::Real(n),
                        Sql::Text(path.clone()),
                    ],
                );
            }
            Expr::Exists(path) => {
                sets.push(
                    "SELECT object_id FROM fields WHERE path = ?".to_owned(),
                    [Sql::Text(path.clone())],
                );
            }
            _ => {}
        }
    }
}

/// Chooses the page `q` asks for among the objects of `o` matching `scope_cond`; `None` when
/// the query asks for no page or SQL cannot order it as the table does. `filter_load` reads
/// the cells at the filter's paths of the candidates.
pub(super) fn select(
    c: &Tx<'_>,
    scope_cond: &str,
    scope_params: &[Sql],
    q: &TableQuery,
    plan: &Plan,
    filter_load: impl FnOnce(Vec<RawRow>, &[String]) -> R<RawTable>,
) -> R<Option<Page>> {
    if q.row_limit().is_none() && q.row_offset() == 0 {
        return Ok(None);
    }
    #[cfg(test)]
    if switch::OFF.with(std::cell::Cell::get) {
        return Ok(None);
    }
    let sort = q.sort_column();
    let ranks: Vec<Option<u8>> = types_at(c, sort)?.iter().map(|t| rank(t)).collect();
    let rank = match ranks.first() {
        Some(Some(r)) if ranks.iter().all(|x| *x == Some(*r)) => *r,
        _ => return Ok(None),
    };
    let key = sort_key(c.engine(), rank);
    // The table refuses a sort field none of its objects has: let the whole read say so.
    let mut params = vec![Sql::Text(sort.to_owned())];
    params.extend(scope_params.iter().cloned());
    let has_key = c
        .prepare(&format!(
            "SELECT 1 FROM objects o JOIN fields s ON s.object_id = o.id AND s.path = ? \
             WHERE {scope_cond} AND {key} IS NOT NULL LIMIT 1"
        ))?
        .query_row(&params, |_| Ok(()))
        .optional()?;
    if has_key.is_none() {
        return Ok(None);
    }

    let mut cond = scope_cond.to_owned();
    let mut cond_params = scope_params.to_vec();
    let mut sets = IdSets::default();
    arguments_sql(q, c.engine(), &mut cond, &mut cond_params, &mut sets);
    if let Some(f) = plan.filter() {
        narrowing_sql(f, c.engine(), &mut sets);
    }
    sets.finish(&mut cond, &mut cond_params);
    let dir = if q.is_ascending() { "ASC" } else { "DESC" };
    let mut sql = format!(
        "SELECT o.id, o.sys_id FROM objects o \
         LEFT JOIN fields s ON s.object_id = o.id AND s.path = ? \
         WHERE {cond} ORDER BY {key} IS NULL, {key} {dir}, o.id {dir}"
    );
    let mut params = vec![Sql::Text(sort.to_owned())];
    params.extend(cond_params.iter().cloned());
    let limit = q
        .row_limit()
        .map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let offset = i64::try_from(q.row_offset()).unwrap_or(i64::MAX);
    let exact = plan.filter().is_none();
    if exact {
        sql.push_str(" LIMIT ? OFFSET ?");
        params.extend([Sql::Int(limit), Sql::Int(offset)]);
    }
    let mut rows = Vec::new();
    {
        let mut stmt = c.prepare(&sql)?;
        let mut r = stmt.query(&params)?;
        while let Some(r) = r.next()? {
            rows.push(RawRow {
                order: r.get(0)?,
                id: r.get(1)?,
                cells: Vec::new(),
            });
        }
    }
    #[cfg(test)]
    switch::USED.with(|u| u.set(u.get() + 1));
    if exact {
        let total: i64 = c
            .prepare(&format!("SELECT count(*) FROM objects o WHERE {cond}"))?
            .query_row(&cond_params, |r| r.get(0))?;
        return Ok(Some(Page {
            rows,
            total: usize::try_from(total).unwrap_or_default(),
        }));
    }

    // The filter text decides on the cells of its paths, in the order SQL chose.
    let mut paths = Vec::new();
    if let Some(f) = plan.filter() {
        f.paths(&mut paths);
    }
    paths.sort();
    paths.dedup();
    let mut raw = filter_load(rows, &paths)?;
    let keep = build::filter_matches(&mut raw, plan);
    let total = keep.iter().filter(|k| **k).count();
    let take = q.row_limit().unwrap_or(usize::MAX);
    let rows = raw
        .rows
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .skip(q.row_offset())
        .take(take)
        .map(|(mut r, _)| {
            r.cells.clear();
            r
        })
        .collect();
    Ok(Some(Page { rows, total }))
}

/// Tests turn the SQL pages off on their thread to compare them with the whole read's pages.
#[cfg(test)]
pub(super) mod switch {
    use std::cell::Cell;

    thread_local! {
        /// Whether [`super::select`] declines every query.
        pub(in crate::store) static OFF: Cell<bool> = const { Cell::new(false) };
        /// How many pages [`super::select`] chose.
        pub(in crate::store) static USED: Cell<usize> = const { Cell::new(0) };
    }
}
