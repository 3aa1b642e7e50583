//! Tables of runs, models and model versions: every filter, sort and column rule of the
//! reference, the to_pandas cell rules, CSV and JSON, on the embedded store and in memory.

mod columns;
mod filters;
mod kinds;
mod limits;

use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use neptune::plumbing::store::Store;
use neptune::plumbing::{MemoryBackend, OpenRequest, Operation, Reader, TableScope, Writer};
use neptune::{
    Cell, Error, FieldPath, FieldType, File, GitInfo, GitRef, Mode, Model, ModelVersion,
    ObjectKind, ProgressBar, Project, Run, RunState, Table, TableQuery,
};

const PROJECT: &str = "team/tables";

fn p(s: &str) -> FieldPath {
    FieldPath::parse(s).unwrap()
}

/// A run made through the backend, with the owner, tags, state and trashed flag given.
fn make(
    b: &Store,
    owner: &str,
    tags: &[&str],
    state: RunState,
    trashed: bool,
    ops: Vec<Operation>,
) -> String {
    let info = b
        .open_object(&OpenRequest {
            kind: ObjectKind::Run,
            project: PROJECT.into(),
            with_id: None,
            custom_run_id: None,
            model: None,
            owner: owner.into(),
            read_only: false,
        })
        .unwrap();
    let mut all = vec![
        Operation::AddStrings {
            path: p("sys/tags"),
            values: tags.iter().map(|t| t.to_string()).collect(),
        },
        Operation::AssignRunState {
            path: p("sys/state"),
            value: state,
        },
    ];
    all.extend(ops);
    let rejected = b.execute(&info.id, &all).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    b.set_trashed(&info.id, trashed).unwrap();
    info.id
}

fn lr(v: f64) -> Operation {
    Operation::AssignFloat {
        path: p("params/lr"),
        value: v,
    }
}

/// R1 (alice; a,b; Inactive; lr 0.1), R2 (bob; a; Active; lr 0.01), R3 (carol; a,b,c;
/// Inactive; no lr), R4 (alice; b; trashed).
fn four_runs(b: &Store) -> [String; 4] {
    [
        make(
            b,
            "alice",
            &["a", "b"],
            RunState::Inactive,
            false,
            vec![lr(0.1)],
        ),
        make(b, "bob", &["a"], RunState::Active, false, vec![lr(0.01)]),
        make(
            b,
            "carol",
            &["a", "b", "c"],
            RunState::Inactive,
            false,
            vec![],
        ),
        make(b, "alice", &["b"], RunState::Inactive, true, vec![lr(0.5)]),
    ]
}

fn runs(b: &dyn Reader, q: TableQuery) -> Vec<String> {
    let t = b.fetch_table(&TableScope::runs(PROJECT), &q).unwrap();
    t.ids().into_iter().map(str::to_owned).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn ord(v: &[&String]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn ids(v: &[&String]) -> Vec<String> {
    sorted(v.iter().map(|s| s.to_string()).collect())
}

/// The column paths of a table, in order.
fn paths(t: &Table) -> Vec<&str> {
    t.columns().iter().map(|c| c.path()).collect()
}
