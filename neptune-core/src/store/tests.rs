//! Tests of the store: objects and ids, and the helpers of the other test modules. Series are
//! in `tests_series.rs`, field rules in `tests_fields.rs`; files on disk, concurrency and
//! performance in `tests_disk.rs`.

use super::*;
use crate::model::operation::FloatPoint;
use crate::model::types::RunState;

pub(super) fn p(s: &str) -> FieldPath {
    FieldPath::parse(s).unwrap()
}

pub(super) fn req(kind: ObjectKind, project: &str) -> OpenRequest {
    OpenRequest {
        kind,
        project: project.into(),
        with_id: None,
        custom_run_id: None,
        model: None,
        owner: "tester".into(),
        read_only: false,
    }
}

pub(super) fn new_run(s: &Store) -> String {
    s.open_object(&req(ObjectKind::Run, "ml-team/nli"))
        .unwrap()
        .id
}

pub(super) fn fp(step: f64, value: f64) -> FloatPoint {
    FloatPoint {
        step: Some(step),
        value,
        // A time a Datetime holds, whatever the step (the store refuses others).
        timestamp_ms: 1_700_000_000_000 + step.clamp(-1e12, 1e12) as i64,
    }
}

pub(super) fn floats(path: &str, steps: impl IntoIterator<Item = f64>) -> Operation {
    Operation::LogFloats {
        path: p(path),
        points: steps.into_iter().map(|s| fp(s, s * 2.0)).collect(),
    }
}

pub(super) fn get(s: &Store, obj: &str, path: &str) -> Option<Value> {
    s.fetch_value(obj, &p(path)).unwrap()
}

pub(super) fn all_floats(s: &Store, obj: &str, path: &str, page: usize) -> SeriesPage<f64> {
    let mut out = SeriesPage::default();
    let mut after = None;
    loop {
        let pg = s.fetch_float_points(obj, &p(path), after, page).unwrap();
        if pg.is_empty() {
            return out;
        }
        after = pg.steps.last().copied();
        out.append(pg);
    }
}

// ---------------------------------------------------------------- objects and ids

#[test]
fn project_keys() {
    use super::ids::project_key as k;
    assert_eq!(k("ml-team/nli"), "NLI");
    assert_eq!(k("local/sandbox"), "SAN");
    assert_eq!(k("my-project"), "MP");
    assert_eq!(k("ws/deep.learning_v2 test"), "DLVT");
    assert_eq!(
        k("ws/x-1"),
        "X1",
        "initials with one letter fall back to 3 alphanumerics"
    );
    assert_eq!(k("ab"), "AB");
    assert_eq!(k("ws/ünï"), "N", "only ASCII alphanumerics");
    assert_eq!(k("ws/日本"), "PRJ");
}

#[test]
fn keys_are_unique_and_run_ids_sequential() {
    let s = crate::store::testdb::store();
    let a: Vec<String> = (0..3)
        .map(|_| {
            s.open_object(&req(ObjectKind::Run, "a/sandbox"))
                .unwrap()
                .id
        })
        .collect();
    assert_eq!(a, ["SAN-1", "SAN-2", "SAN-3"]);
    assert_eq!(
        s.open_object(&req(ObjectKind::Run, "b/sandbox"))
            .unwrap()
            .id,
        "SAN2-1"
    );
    assert_eq!(
        s.open_object(&req(ObjectKind::Run, "c/sandbox"))
            .unwrap()
            .id,
        "SAN3-1"
    );
    assert_eq!(
        s.open_object(&req(ObjectKind::Run, "a/sandbox"))
            .unwrap()
            .id,
        "SAN-4"
    );
    assert_eq!(
        s.list_objects("a/sandbox", ObjectKind::Run).unwrap(),
        ["SAN-1", "SAN-2", "SAN-3", "SAN-4"]
    );
    assert!(s.list_objects("nope", ObjectKind::Run).unwrap().is_empty());
    assert!(s
        .list_objects("a/sandbox", ObjectKind::Model)
        .unwrap()
        .is_empty());
    let e = s.open_object(&req(ObjectKind::Run, "  ")).unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
}

#[test]
fn create_writes_system_fields() {
    let s = crate::store::testdb::store();
    let mut r = req(ObjectKind::Run, "ml-team/nli");
    r.custom_run_id = Some("exp-1".into());
    let info = s.open_object(&r).unwrap();
    assert!(info.created);
    assert_eq!(info.kind, ObjectKind::Run);
    assert_eq!(info.project, "ml-team/nli");
    let id = info.id.as_str();
    assert_eq!(get(&s, id, "sys/id"), Some(Value::String("NLI-1".into())));
    assert_eq!(
        get(&s, id, "sys/owner"),
        Some(Value::String("tester".into()))
    );
    assert_eq!(
        get(&s, id, "sys/custom_run_id"),
        Some(Value::String("exp-1".into()))
    );
    assert_eq!(
        get(&s, id, "sys/state"),
        Some(Value::RunState(RunState::Active))
    );
    assert_eq!(get(&s, id, "sys/trashed"), Some(Value::Boolean(false)));
    let created = get(&s, id, "sys/creation_time")
        .unwrap()
        .as_datetime()
        .unwrap();
    assert!((chrono::Utc::now() - created).num_seconds().abs() < 60);
    assert!(get(&s, id, "sys/modification_time")
        .unwrap()
        .as_datetime()
        .is_some());
    let expected = [
        ("sys/creation_time", FieldType::Datetime),
        ("sys/custom_run_id", FieldType::String),
        ("sys/id", FieldType::String),
        ("sys/modification_time", FieldType::Datetime),
        ("sys/owner", FieldType::String),
        ("sys/state", FieldType::RunState),
        ("sys/trashed", FieldType::Boolean),
    ];
    let want: Vec<(FieldPath, FieldType)> = expected.iter().map(|(a, t)| (p(a), *t)).collect();
    assert_eq!(info.fields, want);
    assert_eq!(s.fetch_structure(id).unwrap(), want);
}

#[test]
fn with_id_resumes_and_rejects_unknown_ids() {
    let s = crate::store::testdb::store();
    let id = new_run(&s);
    let state = Operation::AssignRunState {
        path: p("sys/state"),
        value: RunState::Inactive,
    };
    let extra = Operation::AssignInt {
        path: p("x"),
        value: 1,
    };
    assert!(s.execute(&id, &[state, extra]).unwrap().is_empty());
    assert_eq!(
        get(&s, &id, "sys/state"),
        Some(Value::RunState(RunState::Inactive))
    );

    // Ids are unique in the store: another project name still finds the run, and says where it is.
    let mut r = req(ObjectKind::Run, "other/project");
    r.with_id = Some(id.clone());
    assert_eq!(s.open_object(&r).unwrap().project, "ml-team/nli");
    // A read-only open changes nothing.
    s.execute(
        &id,
        &[Operation::AssignRunState {
            path: p("sys/state"),
            value: RunState::Inactive,
        }],
    )
    .unwrap();
    r.read_only = true;
    s.open_object(&r).unwrap();
    assert_eq!(
        get(&s, &id, "sys/state"),
        Some(Value::RunState(RunState::Inactive))
    );
    let mut r = req(ObjectKind::Run, "ml-team/nli");
    r.with_id = Some(id.clone());
    let info = s.open_object(&r).unwrap();
    assert!(!info.created);
    assert_eq!(info.id, id);
    assert!(info.fields.contains(&(p("x"), FieldType::Integer)));
    assert_eq!(
        get(&s, &id, "sys/state"),
        Some(Value::RunState(RunState::Active))
    );

    for (kind, project, wid) in [
        (ObjectKind::Run, "ml-team/nli", "NLI-99"),
        (ObjectKind::Model, "ml-team/nli", id.as_str()),
    ] {
        let mut r = req(kind, project);
        r.with_id = Some(wid.into());
        match s.open_object(&r).unwrap_err() {
            Error::ObjectNotFound { kind: k, id: i, .. } => {
                assert_eq!((k, i.as_str()), (kind.name(), wid))
            }
            e => panic!("{e}"),
        }
    }
    let mut r = req(ObjectKind::Run, "ml-team/nli");
    r.with_id = Some(id.clone());
    r.custom_run_id = Some("c".into());
    assert!(matches!(s.open_object(&r).unwrap_err(), Error::Config(_)));
    let e = s.execute("NLI-99", &[]).unwrap_err();
    assert!(matches!(e, Error::ObjectNotFound { .. }), "{e}");
}

#[test]
fn custom_run_id_joins_one_run_per_project() {
    let s = crate::store::testdb::store();
    let mut r = req(ObjectKind::Run, "ml-team/nli");
    r.custom_run_id = Some("shared".into());
    let first = s.open_object(&r).unwrap();
    let second = s.open_object(&r).unwrap();
    assert!(first.created && !second.created);
    assert_eq!(first.id, second.id);
    r.project = "ml-team/other".into();
    let elsewhere = s.open_object(&r).unwrap();
    assert!(elsewhere.created);
    assert_ne!(elsewhere.id, first.id);
    assert_eq!(new_run(&s), "NLI-2");
    let mut m = req(ObjectKind::Model, "ml-team/nli");
    m.custom_run_id = Some("x".into());
    assert!(matches!(s.open_object(&m).unwrap_err(), Error::Config(_)));
}

#[test]
fn models_and_versions() {
    let s = crate::store::testdb::store();
    let mut m = req(ObjectKind::Model, "ml-team/nli");
    for bad in ["forest", "FOR-EST", "", "123", "ÜBER"] {
        m.model = Some(bad.into());
        assert!(
            matches!(s.open_object(&m).unwrap_err(), Error::Config(_)),
            "{bad}"
        );
    }
    m.model = None;
    assert!(matches!(s.open_object(&m).unwrap_err(), Error::Config(_)));
    m.model = Some("FOREST2".into());
    let model = s.open_object(&m).unwrap();
    assert_eq!(model.id, "NLI-FOREST2");
    assert!(model.created);
    let e = s.open_object(&m).unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
    m.with_id = Some("NLI-FOREST2".into());
    m.model = None;
    assert!(!s.open_object(&m).unwrap().created);

    let mut v = req(ObjectKind::ModelVersion, "ml-team/nli");
    v.model = Some("NLI-FOREST2".into());
    let v1 = s.open_object(&v).unwrap();
    let v2 = s.open_object(&v).unwrap();
    assert_eq!(
        (v1.id.as_str(), v2.id.as_str()),
        ("NLI-FOREST2-1", "NLI-FOREST2-2")
    );
    assert_eq!(
        get(&s, &v2.id, "sys/model_id"),
        Some(Value::String("NLI-FOREST2".into()))
    );
    assert_eq!(
        get(&s, &v2.id, "sys/stage"),
        Some(Value::String("none".into()))
    );
    assert_eq!(
        s.list_objects("ml-team/nli", ObjectKind::ModelVersion)
            .unwrap(),
        ["NLI-FOREST2-1", "NLI-FOREST2-2"]
    );
    assert_eq!(
        s.list_objects("ml-team/nli", ObjectKind::Model).unwrap(),
        ["NLI-FOREST2"]
    );
    v.model = Some("NLI-NOPE".into());
    match s.open_object(&v).unwrap_err() {
        Error::ObjectNotFound { kind, .. } => assert_eq!(kind, "model"),
        e => panic!("{e}"),
    }
    // Runs of the project keep their own numbering.
    assert_eq!(new_run(&s), "NLI-1");
}

#[test]
fn project_object_is_created_once() {
    let s = crate::store::testdb::store();
    new_run(&s);
    let a = s
        .open_object(&req(ObjectKind::Project, "ml-team/nli"))
        .unwrap();
    assert_eq!(a.id, "NLI");
    assert!(a.created);
    let b = s
        .open_object(&req(ObjectKind::Project, "ml-team/nli"))
        .unwrap();
    assert!(!b.created);
    assert_eq!(b.id, "NLI");
    assert_eq!(get(&s, "NLI", "sys/id"), Some(Value::String("NLI".into())));
    assert_eq!(
        s.list_objects("ml-team/nli", ObjectKind::Project).unwrap(),
        ["NLI"]
    );
}

#[test]
fn execute_touches_modification_time_only_when_something_was_applied() {
    let s = crate::store::testdb::store();
    let id = new_run(&s);
    let set_old = |s: &Store| {
        s.test_execute(
            "UPDATE fields SET value = ?1 WHERE path = 'sys/modification_time'",
            crate::store::sql::params![0i64],
        );
    };
    let mtime = |s: &Store| {
        get(s, &id, "sys/modification_time")
            .unwrap()
            .as_datetime()
            .unwrap()
    };
    set_old(&s);
    // Only a rejected op: untouched.
    let rej = s
        .execute(
            &id,
            &[Operation::AssignInt {
                path: p("sys/id"),
                value: 3,
            }],
        )
        .unwrap();
    assert_eq!(rej.len(), 1);
    assert_eq!(mtime(&s).timestamp_millis(), 0);
    s.execute(
        &id,
        &[Operation::AssignInt {
            path: p("n"),
            value: 3,
        }],
    )
    .unwrap();
    assert!(mtime(&s).timestamp_millis() > 0);
    // A log whose every point is refused (steps not after the last one): untouched too.
    let pt = |step: f64| FloatPoint {
        step: Some(step),
        value: 1.0,
        timestamp_ms: 0,
    };
    s.execute(
        &id,
        &[Operation::LogFloats {
            path: p("loss"),
            points: vec![pt(5.0)],
        }],
    )
    .unwrap();
    set_old(&s);
    let rej = s
        .execute(
            &id,
            &[Operation::LogFloats {
                path: p("loss"),
                points: vec![pt(4.0), pt(5.0)],
            }],
        )
        .unwrap();
    assert_eq!(rej.len(), 1);
    assert_eq!(mtime(&s).timestamp_millis(), 0);
}

// ---------------------------------------------------------------- FloatSeries
