//! A page chosen in SQL (module `table_page`) is the page the whole read gives: same rows, same
//! order, same columns and cells, same total, for every sort, filter and page tried.

use super::table_page::switch;
use super::tests::{p, req};
use super::*;
use crate::model::operation::{FloatPoint, Operation};
use crate::model::types::RunState;
use crate::table::{Table, TableQuery, TableScope};

const PROJECT: &str = "t/pages";

fn float_points(values: &[f64]) -> Vec<FloatPoint> {
    values
        .iter()
        .enumerate()
        .map(|(s, v)| FloatPoint {
            step: Some(s as f64),
            value: *v,
            timestamp_ms: 1_700_000_000_000 + s as i64,
        })
        .collect()
}

/// 40 runs with ties, NaN, infinities, missing fields, mixed types, tags, states, owners and
/// trashed runs; a run of another project and a model, which no runs table shows.
fn store() -> (crate::store::testdb::TestStore, Vec<String>) {
    let s = crate::store::testdb::store();
    let mut ids = Vec::new();
    for i in 0..40usize {
        let mut r = req(ObjectKind::Run, PROJECT);
        if i % 4 == 1 {
            r.owner = "other".into();
        }
        let id = s.open_object(&r).unwrap().id;
        let mut tags = vec![format!("t{}", i % 3)];
        if i % 5 == 0 {
            tags.push("x".into());
        }
        let f = match i {
            8 => f64::NAN,
            9 => f64::INFINITY,
            10 => f64::NEG_INFINITY,
            _ => (i % 4) as f64 * 0.5,
        };
        let mut ops = vec![
            Operation::AddStrings {
                path: p("sys/tags"),
                values: tags,
            },
            Operation::AssignFloat {
                path: p("f"),
                value: f,
            },
            Operation::AssignString {
                path: p("s"),
                value: format!("s{}", i % 4),
            },
            Operation::AssignBool {
                path: p("b"),
                value: i % 3 == 0,
            },
        ];
        if i % 3 != 2 {
            ops.push(Operation::AssignInt {
                path: p("n"),
                value: (i % 5) as i64,
            });
        }
        if i % 6 != 5 {
            let last = if i == 12 {
                f64::NAN
            } else {
                (i * 7 % 11) as f64 / 10.0
            };
            ops.push(Operation::LogFloats {
                path: p("m"),
                points: float_points(&[1.0, last]),
            });
        }
        ops.push(if i % 2 == 0 {
            Operation::AssignFloat {
                path: p("mixed"),
                value: i as f64,
            }
        } else {
            Operation::AssignString {
                path: p("mixed"),
                value: format!("v{i}"),
            }
        });
        if i % 2 == 0 {
            ops.push(Operation::AssignRunState {
                path: p("sys/state"),
                value: RunState::Inactive,
            });
        }
        s.execute(&id, &ops).unwrap();
        if i % 7 == 3 {
            s.set_trashed(&id, true).unwrap();
        }
        ids.push(id);
    }
    let other = s.open_object(&req(ObjectKind::Run, "t/other")).unwrap().id;
    s.execute(
        &other,
        &[Operation::AssignFloat {
            path: p("f"),
            value: 1.0,
        }],
    )
    .unwrap();
    s.open_object(&OpenRequest {
        model: Some("M".into()),
        ..req(ObjectKind::Model, PROJECT)
    })
    .unwrap();
    (s, ids)
}

/// A table as JSON: equal tables give equal texts (NaN cells included, which `==` refuses).
fn json(t: &Table) -> String {
    serde_json::to_string(t).unwrap()
}

fn fetch(s: &Store, q: &TableQuery, sql: bool) -> crate::Result<Table> {
    switch::OFF.with(|o| o.set(!sql));
    let t = s.fetch_table(&TableScope::runs(PROJECT), q);
    switch::OFF.with(|o| o.set(false));
    t
}

#[test]
fn sql_pages_are_the_pages_of_the_whole_read() {
    let (s, ids) = store();
    let filters: Vec<(&str, TableQuery)> = vec![
        ("none", TableQuery::new()),
        ("a tag", TableQuery::new().tag("t1")),
        ("two tags", TableQuery::new().tag("t0").tag("x")),
        ("a state", TableQuery::new().state(RunState::Inactive)),
        (
            "states",
            TableQuery::new()
                .state(RunState::Inactive)
                .state(RunState::Active),
        ),
        ("an owner", TableQuery::new().owner("other")),
        ("with trashed", TableQuery::new().trashed(None)),
        ("trashed only", TableQuery::new().trashed(Some(true))),
        ("ids", TableQuery::new().ids(ids[5..20].iter().cloned())),
        ("a number", TableQuery::new().query("f > 0.5")),
        ("numbers", TableQuery::new().query("m <= 0.5 AND n >= 2")),
        ("an or", TableQuery::new().query("s = s1 OR f < 0.5")),
        (
            "exists",
            TableQuery::new().query("EXISTS n AND NOT b = true"),
        ),
        ("a mixed field", TableQuery::new().query("mixed > 10")),
        (
            "a set",
            TableQuery::new().query("sys/tags CONTAINS x").tag("t0"),
        ),
        ("nothing", TableQuery::new().query("f > 100")),
        // Several sets at once: one intersection in SQL.
        (
            "a tag, a state and an owner",
            TableQuery::new()
                .tag("t1")
                .state(RunState::Active)
                .owner("other"),
        ),
        (
            "tags, a state and numbers",
            TableQuery::new()
                .tag("t0")
                .tag("x")
                .state(RunState::Inactive)
                .query("m <= 0.5 AND n >= 0"),
        ),
        (
            "trashed, a tag and a number",
            TableQuery::new()
                .trashed(Some(true))
                .tag("t0")
                .query("f >= 0"),
        ),
        (
            "not trashed, an owner and exists",
            TableQuery::new().owner("other").query("EXISTS n AND f > 0"),
        ),
    ];
    let sorts = [
        "sys/creation_time",
        "f",
        "n",
        "s",
        "m",
        "b",
        "sys/state",
        "sys/owner",
        "mixed",
        "sys/tags",
    ];
    let pages = [(0, 5), (3, 4), (0, 100), (30, 5), (200, 5)];
    let before = switch::USED.with(std::cell::Cell::get);
    let mut tried = 0;
    for (name, base) in &filters {
        for sort in sorts {
            for asc in [false, true] {
                let q = base
                    .clone()
                    .sort_by(sort)
                    .ascending(asc)
                    .columns(["sys/id", "f", "s", "m", "sys/tags"]);
                let whole = fetch(&s, &q, true).unwrap();
                assert_eq!(whole.total(), whole.len());
                for (offset, limit) in pages {
                    let paged = q.clone().offset(offset).limit(limit);
                    let want = fetch(&s, &paged, false).unwrap();
                    let got = fetch(&s, &paged, true).unwrap();
                    let what = format!("{name}, sort {sort} asc {asc}, page {offset}+{limit}");
                    assert_eq!(json(&got), json(&want), "{what}");
                    assert_eq!(got.total(), want.total(), "{what}");
                    assert_eq!(got.total(), whole.len(), "{what}");
                    let page: Vec<&str> =
                        whole.ids().into_iter().skip(offset).take(limit).collect();
                    assert_eq!(got.ids(), page, "{what}");
                    tried += 1;
                }
            }
        }
    }
    let used = switch::USED.with(std::cell::Cell::get) - before;
    // Every sort but the mixed column and the tags is chosen in SQL.
    assert!(
        used * 10 >= tried * 7,
        "only {used} of {tried} pages were chosen in SQL"
    );
}

#[test]
fn a_sort_field_no_run_has_is_refused_by_both() {
    let (s, _) = store();
    let q = TableQuery::new().sort_by("nowhere").limit(5);
    let a = fetch(&s, &q, true).unwrap_err().to_string();
    let b = fetch(&s, &q, false).unwrap_err().to_string();
    assert_eq!(a, b);
    assert!(a.contains("cannot be sorted"), "{a}");
    // A page past the runs with the field: rows without it, not an error.
    let q = TableQuery::new().sort_by("n").offset(25).limit(10);
    let (got, want) = (fetch(&s, &q, true).unwrap(), fetch(&s, &q, false).unwrap());
    assert_eq!(json(&got), json(&want));
    assert_eq!(got.len(), 9);
}
