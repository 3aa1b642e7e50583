//! Tests of the field rules: types, namespaces, single values, sets, copies, deletes,
//! atomicity of batches and the memory backend.

use super::apply::artifact_hash;
use super::tests::{floats, get, new_run, p, req};
use super::*;
use crate::model::operation::{FloatPoint, StringPoint};
use crate::model::types::{GitInfo, RunState};
use crate::MemoryBackend;

pub(super) fn fref(c: char, ext: &str) -> FileRef {
    FileRef {
        digest: c.to_string().repeat(64),
        size: 10,
        extension: ext.into(),
    }
}

pub(super) fn afile(path: &str) -> ArtifactFile {
    ArtifactFile {
        file_path: path.into(),
        file_hash: "h".repeat(40),
        size: 3,
        storage_type: "Local".into(),
        location: format!("file:///data/{path}"),
        last_modified_ms: 1_000,
    }
}

pub(super) fn setup() -> (crate::store::testdb::TestStore, String) {
    let s = crate::store::testdb::store();
    let id = new_run(&s);
    (s, id)
}

#[test]
fn single_values_round_trip() {
    let (s, id) = setup();
    let git = GitInfo {
        commit_id: "abc".into(),
        message: "msg".into(),
        author_name: "A".into(),
        author_email: "a@x".into(),
        commit_date: chrono::DateTime::from_timestamp_millis(1_600_000_000_123).unwrap(),
        branch: None,
        dirty: true,
        remotes: vec!["origin".into()],
    };
    let ops = [
        Operation::AssignFloat {
            path: p("f"),
            value: 0.25,
        },
        Operation::AssignInt {
            path: p("i"),
            value: i64::MIN,
        },
        Operation::AssignBool {
            path: p("b"),
            value: true,
        },
        Operation::AssignString {
            path: p("s"),
            value: "ünï".into(),
        },
        Operation::AssignDatetime {
            path: p("d"),
            value_ms: 1_700_000_000_123,
        },
        Operation::AssignRunState {
            path: p("st"),
            value: RunState::Inactive,
        },
        Operation::AssignGitRef {
            path: p("source_code/git"),
            value: Box::new(git.clone()),
        },
        Operation::AssignDatetime {
            path: p("bad"),
            value_ms: i64::MAX,
        },
    ];
    let rej = s.execute(&id, &ops).unwrap();
    assert_eq!(rej.len(), 1);
    assert_eq!(rej[0].index, 7);
    assert_eq!(get(&s, &id, "f"), Some(Value::Float(0.25)));
    assert_eq!(get(&s, &id, "i"), Some(Value::Integer(i64::MIN)));
    assert_eq!(get(&s, &id, "b"), Some(Value::Boolean(true)));
    assert_eq!(get(&s, &id, "s"), Some(Value::String("ünï".into())));
    let d = get(&s, &id, "d").unwrap().as_datetime().unwrap();
    assert_eq!(d.timestamp_millis(), 1_700_000_000_123);
    assert_eq!(
        get(&s, &id, "st"),
        Some(Value::RunState(RunState::Inactive))
    );
    assert_eq!(
        get(&s, &id, "source_code/git"),
        Some(Value::GitRef(Box::new(git)))
    );
    // Assigning again replaces.
    s.execute(
        &id,
        &[Operation::AssignInt {
            path: p("i"),
            value: 7,
        }],
    )
    .unwrap();
    assert_eq!(get(&s, &id, "i"), Some(Value::Integer(7)));
    assert_eq!(get(&s, &id, "missing"), None);
}

#[test]
fn long_strings_are_truncated_by_characters() {
    let (s, id) = setup();
    let long = format!("{}{}", "a".repeat(16383), "€€€");
    s.execute(
        &id,
        &[Operation::AssignString {
            path: p("s"),
            value: long,
        }],
    )
    .unwrap();
    let got = get(&s, &id, "s").unwrap();
    let got = got.as_str().unwrap();
    assert_eq!(got.chars().count(), 16384);
    assert!(got.ends_with("a€"));
    let exact = "€".repeat(16384);
    s.execute(
        &id,
        &[Operation::AssignString {
            path: p("t"),
            value: exact.clone(),
        }],
    )
    .unwrap();
    assert_eq!(get(&s, &id, "t"), Some(Value::String(exact)));
}

#[test]
fn a_path_holds_one_type() {
    let (s, id) = setup();
    let ops = [
        Operation::AssignFloat {
            path: p("x"),
            value: 1.0,
        },
        Operation::AssignInt {
            path: p("x"),
            value: 2,
        },
        floats("x", [1.0]),
        Operation::AddStrings {
            path: p("x"),
            values: vec!["a".into()],
        },
        Operation::AssignFloat {
            path: p("x"),
            value: 3.0,
        },
    ];
    let rej = s.execute(&id, &ops).unwrap();
    assert_eq!(rej.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(rej.iter().all(|r| r.path == "x"));
    assert!(rej[1].reason.contains("is a Float") && rej[1].reason.contains("FloatSeries"));
    assert_eq!(get(&s, &id, "x"), Some(Value::Float(3.0)));
}

#[test]
fn a_path_is_a_field_or_a_namespace() {
    let (s, id) = setup();
    s.execute(
        &id,
        &[Operation::AssignInt {
            path: p("a/b"),
            value: 1,
        }],
    )
    .unwrap();
    let ops = [
        Operation::AssignInt {
            path: p("a/b/c"),
            value: 2,
        },
        Operation::AssignInt {
            path: p("a"),
            value: 3,
        },
        floats("a", [0.0]),
        Operation::AssignInt {
            path: p("a/bc"),
            value: 4,
        },
        Operation::AssignInt {
            path: p("a/b0"),
            value: 5,
        },
        Operation::AssignInt {
            path: p("sys"),
            value: 6,
        },
    ];
    let rej = s.execute(&id, &ops).unwrap();
    assert_eq!(
        rej.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 1, 2, 5]
    );
    assert!(
        rej[0].reason.contains("not a namespace"),
        "{}",
        rej[0].reason
    );
    assert!(
        rej[1].reason.contains("is a namespace"),
        "{}",
        rej[1].reason
    );
    assert_eq!(get(&s, &id, "a/bc"), Some(Value::Integer(4)));
    assert_eq!(get(&s, &id, "a/b0"), Some(Value::Integer(5)));
    // A namespace is not a value.
    assert_eq!(get(&s, &id, "a"), None);
}

#[test]
fn delete_removes_a_field_or_a_whole_namespace() {
    let (s, id) = setup();
    let ops = [
        Operation::AssignInt {
            path: p("ns/a"),
            value: 1,
        },
        floats("ns/deep/loss", (0..5000).map(f64::from)),
        Operation::LogStrings {
            path: p("ns/log"),
            points: vec![StringPoint {
                step: Some(0.0),
                value: "x".into(),
                timestamp_ms: 0,
            }],
        },
        Operation::AddStrings {
            path: p("ns/set"),
            values: vec!["t".into()],
        },
        Operation::AssignInt {
            path: p("nsx"),
            value: 2,
        },
        Operation::AssignInt {
            path: p("keep"),
            value: 3,
        },
    ];
    assert!(s.execute(&id, &ops).unwrap().is_empty());
    let ops = [
        Operation::DeleteAttribute { path: p("ns") },
        Operation::DeleteAttribute { path: p("keep") },
        Operation::DeleteAttribute {
            path: p("never/was"),
        },
    ];
    assert!(s.execute(&id, &ops).unwrap().is_empty());
    let paths: Vec<String> = s
        .fetch_structure(&id)
        .unwrap()
        .into_iter()
        .map(|(p, _)| p.to_string())
        .filter(|p| !p.starts_with("sys/"))
        .collect();
    assert_eq!(paths, ["nsx"]);
    for table in ["float_chunks", "string_points", "string_set_members"] {
        let n = s.test_ints(&format!("SELECT COUNT(*) FROM {table}"));
        assert_eq!(n, [0], "{table}");
    }
    // The paths are free again, for any type.
    assert!(s
        .execute(
            &id,
            &[Operation::AssignString {
                path: p("ns"),
                value: "v".into()
            }]
        )
        .unwrap()
        .is_empty());
    assert!(s.execute(&id, &[floats("keep", [0.0])]).unwrap().is_empty());
    assert_eq!(
        s.fetch_series_info(&id, &p("keep")).unwrap().unwrap().count,
        1
    );
}

#[test]
fn fetch_value_names_the_right_method_for_other_types() {
    let (s, id) = setup();
    let ops = [
        floats("loss", [0.0]),
        Operation::UploadFile {
            path: p("f"),
            file: fref('a', "png"),
        },
        Operation::UploadFileSet {
            path: p("fs"),
            files: vec![],
            reset: false,
        },
    ];
    s.execute(&id, &ops).unwrap();
    match s.fetch_value(&id, &p("loss")).unwrap_err() {
        Error::NoSuchMethod {
            method,
            hint,
            field_type,
            ..
        } => {
            assert_eq!((method, field_type), ("fetch", FieldType::FloatSeries));
            assert!(hint.contains("fetch_last") && hint.contains("fetch_values"));
        }
        e => panic!("{e}"),
    }
    for path in ["f", "fs"] {
        match s.fetch_value(&id, &p(path)).unwrap_err() {
            Error::NoSuchMethod { hint, .. } => assert!(hint.contains("download")),
            e => panic!("{e}"),
        }
    }
    let e = s.fetch_series_info(&id, &p("f")).unwrap_err();
    assert!(matches!(e, Error::NoSuchMethod { .. }), "{e}");
    assert_eq!(s.fetch_series_info(&id, &p("nope")).unwrap(), None);
}

#[test]
fn values_below_a_prefix() {
    let (s, id) = setup();
    let ops = [
        Operation::AssignInt {
            path: p("params/a"),
            value: 1,
        },
        Operation::AssignFloat {
            path: p("params/opt/lr"),
            value: 0.1,
        },
        Operation::AddStrings {
            path: p("params/tags"),
            values: vec!["x".into()],
        },
        Operation::TrackFilesToArtifact {
            path: p("params/data"),
            files: vec![afile("a")],
        },
        floats("params/loss", [0.0]),
        Operation::AssignInt {
            path: p("paramsx"),
            value: 2,
        },
    ];
    assert!(s.execute(&id, &ops).unwrap().is_empty());
    let got = s.fetch_values_below(&id, Some(&p("params"))).unwrap();
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["params/a", "params/data", "params/opt/lr", "params/tags"]
    );
    assert_eq!(got[1].1, Value::Artifact(artifact_hash(&[afile("a")])));
    assert_eq!(got[3].1, Value::StringSet(["x".to_string()].into()));
    let one = s.fetch_values_below(&id, Some(&p("params/a"))).unwrap();
    assert_eq!(one, vec![(p("params/a"), Value::Integer(1))]);
    let all = s.fetch_values_below(&id, None).unwrap();
    assert!(all.iter().any(|(p, _)| p.as_str() == "sys/id"));
    assert!(all.iter().any(|(p, _)| p.as_str() == "paramsx"));
    assert!(!all.iter().any(|(p, _)| p.as_str() == "params/loss"));
}

#[test]
fn string_sets() {
    let (s, id) = setup();
    let tags = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let ops = [
        Operation::AddStrings {
            path: p("sys/tags"),
            values: tags(&["a", "b", "c", "a"]),
        },
        Operation::RemoveStrings {
            path: p("sys/tags"),
            values: tags(&["b", "zz"]),
        },
    ];
    assert!(s.execute(&id, &ops).unwrap().is_empty());
    assert_eq!(
        get(&s, &id, "sys/tags"),
        Some(Value::StringSet(["a".into(), "c".into()].into()))
    );
    s.execute(
        &id,
        &[Operation::ClearStringSet {
            path: p("sys/tags"),
        }],
    )
    .unwrap();
    assert_eq!(
        get(&s, &id, "sys/tags"),
        Some(Value::StringSet(Default::default()))
    );
}

#[test]
fn copy_attribute_assigns_the_source_value() {
    let (s, src) = setup();
    let dst = new_run(&s);
    let ops = [
        Operation::AssignFloat {
            path: p("lr"),
            value: f64::NAN,
        },
        Operation::AssignDatetime {
            path: p("when"),
            value_ms: 1_234,
        },
        Operation::AddStrings {
            path: p("tags"),
            values: vec!["a".into(), "b".into()],
        },
        Operation::TrackFilesToArtifact {
            path: p("data"),
            files: vec![afile("a")],
        },
        floats("loss", [0.0]),
    ];
    s.execute(&src, &ops).unwrap();
    s.execute(
        &dst,
        &[Operation::AddStrings {
            path: p("t"),
            values: vec!["old".into()],
        }],
    )
    .unwrap();
    let copy = |path: &str, from: &str, source: &str| Operation::CopyAttribute {
        path: p(path),
        source_object: from.into(),
        source_path: p(source),
    };
    let ops = [
        copy("lr", &src, "lr"),
        copy("w", &src, "when"),
        copy("t", &src, "tags"),
        copy("d", &src, "data"),
        copy("x", &src, "missing"),
        copy("y", "NLI-99", "lr"),
        copy("z", &src, "loss"),
        copy("t2", &src, "when"),
        copy("t", &src, "lr"),
    ];
    let rej = s.execute(&dst, &ops).unwrap();
    assert_eq!(
        rej.iter().map(|r| r.index).collect::<Vec<_>>(),
        [4, 5, 6, 8],
        "{rej:?}"
    );
    assert!(matches!(get(&s, &dst, "lr"), Some(Value::Float(v)) if v.is_nan()));
    assert_eq!(
        get(&s, &dst, "w")
            .unwrap()
            .as_datetime()
            .unwrap()
            .timestamp_millis(),
        1_234
    );
    assert_eq!(
        get(&s, &dst, "t"),
        Some(Value::StringSet(["a".into(), "b".into()].into()))
    );
    assert_eq!(get(&s, &dst, "d"), get(&s, &src, "data"));
    assert_eq!(s.artifact_files(&dst, &p("d")).unwrap(), vec![afile("a")]);
    assert_eq!(
        get(&s, &dst, "t2")
            .unwrap()
            .as_datetime()
            .unwrap()
            .timestamp_millis(),
        1_234
    );
}

#[test]
fn a_storage_failure_applies_nothing_of_the_batch() {
    if crate::store::testdb::on_postgres() {
        // The failure is made by a SQLite trigger; the PostgreSQL transaction is the same code.
        return;
    }
    let (s, id) = setup();
    s.sqlite_writer()
        .execute_batch(
            "CREATE TEMP TRIGGER boom BEFORE INSERT ON string_points WHEN NEW.value = 'boom' \
             BEGIN SELECT RAISE(ABORT, 'boom'); END;",
        )
        .unwrap();
    let ops = [
        Operation::AssignInt {
            path: p("a"),
            value: 1,
        },
        floats("loss", [0.0, 1.0]),
        Operation::LogStrings {
            path: p("log"),
            points: vec![StringPoint {
                step: Some(0.0),
                value: "boom".into(),
                timestamp_ms: 0,
            }],
        },
    ];
    let e = s.execute(&id, &ops).unwrap_err();
    assert!(
        matches!(e, Error::Store { ref location, .. } if location == "memory"),
        "{e}"
    );
    assert_eq!(get(&s, &id, "a"), None);
    assert_eq!(s.fetch_series_info(&id, &p("loss")).unwrap(), None);
    assert!(s.execute(&id, &ops[..2]).unwrap().is_empty());
    assert_eq!(get(&s, &id, "a"), Some(Value::Integer(1)));
}

#[test]
fn memory_backend_records_operations_per_object() {
    let b = MemoryBackend::new();
    assert_eq!(b.location(), "memory");
    let r1 = b.open_object(&req(ObjectKind::Run, "p")).unwrap().id;
    let r2 = b.open_object(&req(ObjectKind::Run, "p")).unwrap().id;
    let a = Operation::AssignInt {
        path: p("a"),
        value: 1,
    };
    let bad = Operation::AssignFloat {
        path: p("a"),
        value: 1.0,
    };
    let l = Operation::LogFloats {
        path: p("l"),
        points: vec![FloatPoint {
            step: Some(0.0),
            value: 1.0,
            timestamp_ms: 0,
        }],
    };
    assert!(b.execute(&r1, std::slice::from_ref(&a)).unwrap().is_empty());
    assert_eq!(b.execute(&r1, &[bad.clone(), l.clone()]).unwrap().len(), 1);
    b.execute(&r2, std::slice::from_ref(&l)).unwrap();
    assert_eq!(b.operations(&r1), vec![a, bad, l.clone()]);
    assert_eq!(b.operations(&r2), vec![l]);
    assert!(b.operations("nope").is_empty());
    assert_eq!(
        b.reader().fetch_value(&r1, &p("a")).unwrap(),
        Some(Value::Integer(1))
    );
    assert_eq!(
        b.reader()
            .fetch_float_points(&r1, &p("l"), None, 10)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        b.reader().list_objects("p", ObjectKind::Run).unwrap(),
        [r1.clone(), r2]
    );
    b.clear_operations();
    assert!(b.operations(&r1).is_empty());
    assert_eq!(
        b.reader().fetch_value(&r1, &p("a")).unwrap(),
        Some(Value::Integer(1)),
        "data stays"
    );
}

#[test]
fn a_recorder_wraps_another_writer_and_reads_from_its_reader() {
    let store = std::sync::Arc::new(Store::in_memory().unwrap());
    let b = std::sync::Arc::new(MemoryBackend::recording(store.clone(), store.clone()));
    assert!(b.store().is_none());
    let r = b.open_object(&req(ObjectKind::Run, "p")).unwrap().id;
    let a = Operation::AssignInt {
        path: p("a"),
        value: 7,
    };
    b.execute(&r, std::slice::from_ref(&a)).unwrap();
    assert_eq!(b.operations(&r), vec![a]);
    // The write reached the wrapped store, and the backend reads it there.
    assert_eq!(
        store.fetch_value(&r, &p("a")).unwrap(),
        Some(Value::Integer(7))
    );
    let backend = b.backend();
    assert_eq!(
        backend.read().unwrap().fetch_value(&r, &p("a")).unwrap(),
        Some(Value::Integer(7))
    );
    assert_eq!(backend.writer().location(), "memory");
}
