//! Columns chosen, grouped and limited, and the to_pandas cell rules.

use super::*;

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
