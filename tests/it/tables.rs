//! Tables of runs, models and model versions: every filter, sort and column rule of the
//! reference, the to_pandas cell rules, CSV and JSON, on the embedded store and in memory.

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

#[test]
fn filters_are_ored_within_a_group_and_anded_across() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let [r1, r2, r3, r4] = four_runs(&store);
    let q = TableQuery::new;

    // Default: trashed runs left out, newest first (creation ties broken by creation order).
    assert_eq!(runs(&store, q()), ord(&[&r3, &r2, &r1]));
    // ids ORed.
    assert_eq!(sorted(runs(&store, q().id(&r1).id(&r3))), ids(&[&r1, &r3]));
    // states ORed.
    assert_eq!(runs(&store, q().state(RunState::Active)), ord(&[&r2]));
    assert_eq!(
        sorted(runs(
            &store,
            q().state(RunState::Active).state(RunState::Inactive)
        )),
        ids(&[&r1, &r2, &r3])
    );
    // owners ORed.
    assert_eq!(
        sorted(runs(&store, q().owner("alice").owner("bob"))),
        ids(&[&r1, &r2])
    );
    // tags ANDed.
    assert_eq!(
        sorted(runs(&store, q().tag("a").tag("b"))),
        ids(&[&r1, &r3])
    );
    assert_eq!(runs(&store, q().tags(["c", "a"])), ord(&[&r3]));
    assert!(runs(&store, q().tag("a").tag("zzz")).is_empty());
    // Groups ANDed together, and with the query.
    assert_eq!(runs(&store, q().owner("alice").tag("a")), ord(&[&r1]));
    assert_eq!(
        runs(&store, q().ids(ord(&[&r1, &r2])).state(RunState::Inactive)),
        ord(&[&r1])
    );
    assert_eq!(
        runs(&store, q().tag("a").query("params/lr < 0.05")),
        ord(&[&r2])
    );
    assert!(runs(&store, q().owner("carol").tag("zzz")).is_empty());
    // Trashed: excluded by default, only them with Some(true), everything with None.
    assert_eq!(runs(&store, q().trashed(Some(true))), ord(&[&r4]));
    assert_eq!(
        sorted(runs(&store, q().trashed(None))),
        ids(&[&r1, &r2, &r3, &r4])
    );
    assert_eq!(
        runs(&store, q().trashed(None).owner("alice").tag("b")),
        ord(&[&r4, &r1])
    );
}

#[test]
fn the_query_language_filters_on_the_cells() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let [r1, r2, r3, _] = four_runs(&store);
    let q = |s: &str| sorted(runs(&store, TableQuery::new().query(s)));
    assert_eq!(
        q("params/lr >= 0.01 AND params/lr <= 0.1"),
        ids(&[&r1, &r2])
    );
    assert_eq!(
        q("params/lr:float = 0.1 OR sys/owner = carol"),
        ids(&[&r1, &r3])
    );
    assert_eq!(q("NOT EXISTS params/lr"), ids(&[&r3]));
    assert_eq!(q("sys/tags:stringSet CONTAINS \"c\""), ids(&[&r3]));
    assert_eq!(q("sys/state = active"), ids(&[&r2]));
    assert_eq!(q("sys/owner CONTAINS aro"), ids(&[&r3]));
    assert_eq!(
        q("(sys/owner = bob OR sys/owner = alice) AND NOT sys/state = Active"),
        ids(&[&r1])
    );
    assert_eq!(q("sys/creation_time > 2001-01-01"), ids(&[&r1, &r2, &r3]));
    assert!(q("sys/creation_time < '2001-01-01T00:00:00Z'").is_empty());
    assert_eq!(q(""), ids(&[&r1, &r2, &r3]));
    for (bad, says) in [
        ("params/lr <", "expected a value"),
        ("params/lr 0.1", "expected an operator"),
        ("(params/lr > 1", "not closed"),
    ] {
        let err = store
            .fetch_table(&TableScope::runs(PROJECT), &TableQuery::new().query(bad))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidValue { .. }) && err.to_string().contains(says),
            "{bad}: {err}"
        );
    }
}

#[test]
fn sort_limit_and_missing_values() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let [r1, r2, r3, _] = four_runs(&store);
    let q = || TableQuery::new().sort_by("params/lr");
    // Descending by default; runs without the sort field come last in both directions.
    assert_eq!(runs(&store, q()), ord(&[&r1, &r2, &r3]));
    assert_eq!(runs(&store, q().ascending(true)), ord(&[&r2, &r1, &r3]));
    assert_eq!(runs(&store, q().ascending(true).limit(1)), ord(&[&r2]));
    assert_eq!(
        runs(&store, TableQuery::new().ascending(true)),
        ord(&[&r1, &r2, &r3])
    );
    assert_eq!(runs(&store, TableQuery::new().limit(2)), ord(&[&r3, &r2]));
    // Sorting by text.
    assert_eq!(
        runs(
            &store,
            TableQuery::new().sort_by("sys/owner").ascending(true)
        ),
        ord(&[&r1, &r2, &r3])
    );
    let err = store
        .fetch_table(
            &TableScope::runs(PROJECT),
            &TableQuery::new().sort_by("params/nope"),
        )
        .unwrap_err();
    assert!(err.to_string().contains("params/nope"), "{err}");
    let err = store
        .fetch_table(&TableScope::runs(PROJECT), &TableQuery::new().limit(0))
        .unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
}

fn paths(t: &Table) -> Vec<&str> {
    t.columns().iter().map(|c| c.path()).collect()
}

#[test]
fn columns_are_grouped_and_limited() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let fields = vec![
        Operation::AssignFloat {
            path: p("monitoring/cpu"),
            value: 3.0,
        },
        Operation::AssignInt {
            path: p("zeta"),
            value: 1,
        },
        Operation::AssignFloat {
            path: p("alpha/beta"),
            value: 2.0,
        },
        Operation::AssignString {
            path: p("alpha/gamma"),
            value: "g".into(),
        },
        Operation::AssignFloat {
            path: p("monitoring/a"),
            value: 1.0,
        },
        Operation::AssignString {
            path: p("sys/name"),
            value: "n".into(),
        },
        lr(0.3),
    ];
    make(&store, "me", &["x"], RunState::Inactive, false, fields);
    let scope = TableScope::runs(PROJECT);
    let t = store.fetch_table(&scope, &TableQuery::new()).unwrap();
    assert_eq!(
        paths(&t),
        [
            "sys/creation_time",
            "sys/id",
            "sys/modification_time",
            "sys/name",
            "sys/owner",
            "sys/state",
            "sys/tags",
            "sys/trashed",
            "alpha/beta",
            "alpha/gamma",
            "params/lr",
            "zeta",
            "monitoring/a",
            "monitoring/cpu",
        ]
    );
    // Exact paths and namespaces; sys/id and the sort column are always there.
    let t = store
        .fetch_table(&scope, &TableQuery::new().columns(["zeta", "alpha"]))
        .unwrap();
    assert_eq!(
        paths(&t),
        [
            "sys/creation_time",
            "sys/id",
            "alpha/beta",
            "alpha/gamma",
            "zeta"
        ]
    );
    let t = store
        .fetch_table(
            &scope,
            &TableQuery::new()
                .columns(["monitoring/cpu"])
                .sort_by("params/lr")
                .tag("x")
                .query("alpha/gamma = g"),
        )
        .unwrap();
    assert_eq!(paths(&t), ["sys/id", "params/lr", "monitoring/cpu"]);
    assert_eq!(t.len(), 1);
    // A column with a namespace prefix does not take fields that only share its first letters.
    let t = store
        .fetch_table(&scope, &TableQuery::new().columns(["alpha/b", "zet"]))
        .unwrap();
    assert_eq!(paths(&t), ["sys/creation_time", "sys/id"]);
}

#[test]
fn cells_follow_the_to_pandas_rules_and_files_are_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.txt");
    std::fs::write(&data, "some data").unwrap();
    let run = Run::builder()
        .home(dir.path())
        .project(PROJECT)
        .git_ref(GitRef::Disabled)
        .tags(["b", "a"])
        .open()
        .unwrap();
    let when = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
    run.field("params/lr").assign(0.25).unwrap();
    run.field("params/epochs").assign(7).unwrap();
    run.field("params/ok").assign(true).unwrap();
    run.field("params/opt").assign("Adam, beta").unwrap();
    run.field("end").assign(when).unwrap();
    run.field("loss")
        .float_series()
        .unwrap()
        .extend([0.9, 0.5, 0.125])
        .unwrap();
    run.field("notes")
        .string_series()
        .unwrap()
        .extend(["one", "two"])
        .unwrap();
    run.field("empty").float_series().unwrap();
    run.field("model")
        .upload(File::from_content("weights"))
        .unwrap();
    run.field("files")
        .upload_files([data.to_str().unwrap()])
        .unwrap();
    run.field("data")
        .track_files(data.to_str().unwrap(), None)
        .unwrap();
    run.wait().unwrap();
    let hash = run.field("data").fetch_hash().unwrap();
    let id = run.id().to_owned();
    let store = Store::open(dir.path()).unwrap();
    let commit = "0123456789abcdef0123456789abcdef01234567";
    store
        .execute(
            &id,
            &[Operation::AssignGitRef {
                path: p("source_code/git"),
                value: Box::new(GitInfo {
                    commit_id: commit.into(),
                    message: "m".into(),
                    author_name: "a".into(),
                    author_email: "a@b".into(),
                    commit_date: when,
                    branch: Some("main".into()),
                    dirty: false,
                    remotes: vec![],
                }),
            }],
        )
        .unwrap();

    let project = Project::builder()
        .home(dir.path())
        .project(PROJECT)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let t = project.fetch_runs_table(TableQuery::new()).unwrap();
    assert_eq!(t.len(), 1);
    let cell = |path: &str| t.cell(0, path).cloned();
    assert_eq!(cell("sys/id"), Some(Cell::String(id.clone())));
    assert_eq!(cell("sys/state"), Some(Cell::String("Active".into())));
    assert_eq!(cell("sys/tags"), Some(Cell::String("a,b".into())));
    assert_eq!(cell("params/lr"), Some(Cell::Float(0.25)));
    assert_eq!(cell("params/epochs"), Some(Cell::Integer(7)));
    assert_eq!(cell("params/ok"), Some(Cell::Boolean(true)));
    assert_eq!(cell("end"), Some(Cell::Datetime(when)));
    assert_eq!(cell("loss"), Some(Cell::Float(0.125)));
    assert_eq!(cell("notes"), Some(Cell::String("two".into())));
    assert_eq!(cell("data"), Some(Cell::String(hash)));
    assert_eq!(cell("source_code/git"), Some(Cell::String(commit.into())));
    assert!(matches!(cell("sys/creation_time"), Some(Cell::Datetime(_))));
    // An empty series has no last value; files are not columns.
    for absent in ["empty", "model", "files"] {
        assert!(t.column_index(absent).is_none(), "{absent}");
    }
    let col = |path: &str| t.columns()[t.column_index(path).unwrap()].field_type();
    assert_eq!(col("loss"), Some(FieldType::FloatSeries));
    assert_eq!(col("sys/tags"), Some(FieldType::StringSet));
    assert_eq!(col("sys/state"), Some(FieldType::RunState));

    // After stop, the state reads Inactive.
    run.stop().unwrap();
    let t = project.fetch_runs_table(TableQuery::new()).unwrap();
    assert_eq!(
        t.cell(0, "sys/state"),
        Some(&Cell::String("Inactive".into()))
    );

    // CSV: a header of paths, quoted texts, empty cells for missing fields.
    let t = project
        .fetch_runs_table(TableQuery::new().columns(["params", "loss", "end"]))
        .unwrap();
    let csv = t.to_csv();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("sys/creation_time,sys/id,end,loss,params/epochs,params/lr,params/ok,params/opt")
    );
    let row = lines.next().unwrap();
    assert!(
        row.ends_with(&format!(
            ",{id},2024-05-06T07:08:09.000Z,0.125,7,0.25,true,\"Adam, beta\""
        )),
        "{row}"
    );
    // JSON: objects keyed by path, parsed back; write_json keeps the column order.
    let json = t.to_json();
    assert_eq!(json[0]["params/lr"], 0.25);
    assert_eq!(json[0]["sys/id"], id.as_str());
    assert_eq!(json[0]["end"], "2024-05-06T07:08:09.000Z");
    let mut out = Vec::new();
    t.write_json(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let back: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, json);
    assert!(text.find("sys/id").unwrap() < text.find("params/lr").unwrap());
    // A table goes through serde (the server's wire format) unchanged.
    let wire = serde_json::to_string(&t).unwrap();
    let back: Table = serde_json::from_str(&wire).unwrap();
    assert_eq!(back, t);
    assert_eq!(back.cell(0, "params/lr"), Some(&Cell::Float(0.25)));
}

#[test]
fn models_and_model_versions_tables() {
    let dir = tempfile::tempdir().unwrap();
    let open_model = |key: &str| {
        Model::builder()
            .home(dir.path())
            .project(PROJECT)
            .key(key)
            .open()
            .unwrap()
    };
    let forest = open_model("FOREST");
    let _svm = open_model("SVM");
    forest.field("kind").assign("trees").unwrap();
    forest.wait().unwrap();
    let mut versions = Vec::new();
    for acc in [0.5, 0.9, 0.7] {
        let v = ModelVersion::builder()
            .home(dir.path())
            .project(PROJECT)
            .model(forest.id())
            .open()
            .unwrap();
        v.field("val/acc").assign(acc).unwrap();
        v.stop().unwrap();
        versions.push(v.id().to_owned());
    }
    let project = Project::builder()
        .home(dir.path())
        .project(PROJECT)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let models = project.fetch_models_table(TableQuery::new()).unwrap();
    assert_eq!(models.ids(), ["TAB-SVM", "TAB-FOREST"]);
    assert_eq!(models.cell(1, "kind"), Some(&Cell::String("trees".into())));
    assert!(project
        .fetch_runs_table(TableQuery::new())
        .unwrap()
        .is_empty());

    let t = forest
        .fetch_model_versions_table(TableQuery::new().sort_by("val/acc"))
        .unwrap();
    assert_eq!(t.ids(), [&versions[1], &versions[2], &versions[0]]);
    assert_eq!(t.cell(0, "val/acc"), Some(&Cell::Float(0.9)));
    assert_eq!(
        t.cell(0, "sys/model_id"),
        Some(&Cell::String("TAB-FOREST".into()))
    );
    let store = Store::open(dir.path()).unwrap();
    let err = store
        .fetch_table(
            &TableScope::model_versions(PROJECT, "TAB-NOPE"),
            &TableQuery::new(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("TAB-NOPE"), "{err}");
    let err = store
        .fetch_table(&TableScope::runs("team/none"), &TableQuery::new())
        .unwrap_err();
    assert!(err.to_string().contains("team/none"), "{err}");
}

#[test]
fn the_memory_backend_gives_the_same_table_and_progress_is_reported() {
    let mem = Arc::new(MemoryBackend::new());
    for lr in [0.1, 0.2] {
        let run = Run::builder()
            .backend(mem.clone())
            .project(PROJECT)
            .git_ref(GitRef::Disabled)
            .tags(["t"])
            .open()
            .unwrap();
        run.field("params/lr").assign(lr).unwrap();
        run.stop().unwrap();
    }
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let progress = ProgressBar::Callback(Arc::new(move |done, total| {
        seen.lock().unwrap().push((done, total));
    }));
    let project = Project::builder()
        .backend(mem.clone())
        .project(PROJECT)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let t = project
        .fetch_runs_table(
            TableQuery::new()
                .sort_by("params/lr")
                .ascending(true)
                .progress_bar(progress),
        )
        .unwrap();
    assert_eq!(t.ids(), ["TAB-1", "TAB-2"]);
    assert_eq!(
        t.column("params/lr").unwrap(),
        [Some(&Cell::Float(0.1)), Some(&Cell::Float(0.2))]
    );
    assert_eq!(calls.lock().unwrap().last(), Some(&(2, 2)));
}

/// Issue 9: a query nested thousands of levels deep, or with thousands of terms, columns or
/// ids, is an `Err` naming the limit (checked before anything is read), never a crash; wide
/// queries within the limits give the right table.
#[test]
fn deep_and_huge_queries_are_errors_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let [r1, r2, r3, _] = four_runs(&store);
    let project = Project::builder()
        .home(dir.path())
        .project(PROJECT)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let n = 10_000;
    let refused = |q: TableQuery, want: &str| {
        let e = project.fetch_runs_table(q).unwrap_err().to_string();
        assert!(e.contains(want), "{want}: {e}");
        assert!(!e.contains(&*dir.path().to_string_lossy()), "{e}");
    };
    let deep = "deeper than 64 levels";
    refused(TableQuery::new().query("NOT ".repeat(n) + "x = 1"), deep);
    refused(
        TableQuery::new().query(format!("{}x = 1{}", "(".repeat(n), ")".repeat(n))),
        deep,
    );
    refused(TableQuery::new().query("NOT (".repeat(n)), deep);
    refused(
        TableQuery::new().query(vec!["x = 1"; 10_000].join(" AND ")),
        "more than 1000 conditions",
    );
    refused(
        TableQuery::new().columns((0..20_000).map(|i| format!("c{i}"))),
        "20000 columns asked for, more than the limit of 10000",
    );
    refused(
        TableQuery::new().ids((0..40_000).map(|i| format!("X-{i}"))),
        "40000 ids asked for, more than the limit of 10000",
    );
    refused(
        TableQuery::new().tags((0..2_000).map(|i| format!("t{i}"))),
        "2000 tags asked for",
    );

    // Within the limits: a flat chain of 1,000 terms, 60 levels, thousands of columns and ids.
    let chain = (0..998)
        .map(|i| format!("NOT params/lr = {i}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let q = TableQuery::new().query(format!(
        "params/lr < 0.05 OR ({chain} AND params/lr > 0.05)"
    ));
    assert_eq!(
        sorted(runs(&store, q)),
        ids(&[&r1, &r2]),
        "the chain selects the runs with an lr"
    );
    let nested = format!(
        "{}params/lr < 0.05{}",
        "NOT (NOT (".repeat(15),
        "))".repeat(15)
    );
    assert_eq!(
        runs(&store, TableQuery::new().query(nested)),
        std::slice::from_ref(&r2)
    );
    let mut columns: Vec<String> = (0..5_000).map(|i| format!("c{i}")).collect();
    columns.push("params".into());
    let mut wanted: Vec<String> = (0..9_990).map(|i| format!("X-{i}")).collect();
    wanted.extend([r1.clone(), r3.clone()]);
    let t = store
        .fetch_table(
            &TableScope::runs(PROJECT),
            &TableQuery::new().columns(columns).ids(wanted),
        )
        .unwrap();
    assert_eq!(
        sorted(t.ids().into_iter().map(str::to_owned).collect()),
        ids(&[&r1, &r3])
    );
    assert_eq!(paths(&t), ["sys/creation_time", "sys/id", "params/lr"]);
}
