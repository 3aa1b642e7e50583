//! The store keeps the system fields' rule on every batch, as the server does: a batch from a
//! disk queue, a sync or a hostile client cannot rewrite what the store maintains.

use super::tests::{get, p, req};
use super::*;
use crate::model::types::RunState;

#[test]
fn a_batch_cannot_write_read_only_system_fields() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(dir.path()).unwrap();
    let run = s
        .open_object(&req(ObjectKind::Run, "ml-team/nli"))
        .unwrap()
        .id;
    let version = {
        let model = s
            .open_object(&OpenRequest {
                model: Some("FOREST".into()),
                ..req(ObjectKind::Model, "ml-team/nli")
            })
            .unwrap()
            .id;
        s.open_object(&OpenRequest {
            model: Some(model),
            ..req(ObjectKind::ModelVersion, "ml-team/nli")
        })
        .unwrap()
        .id
    };
    let string = |path: &str, value: &str| Operation::AssignString {
        path: p(path),
        value: value.into(),
    };
    let ops = [
        string("sys/id", "HACK-1"),
        string("sys/name", "kept"),
        Operation::AssignBool {
            path: p("sys/trashed"),
            value: true,
        },
        Operation::DeleteAttribute {
            path: p("sys/tags"),
        },
        Operation::AssignRunState {
            path: p("sys/state"),
            value: RunState::Inactive,
        },
        Operation::AddStrings {
            path: p("sys/tags"),
            values: vec!["t".into()],
        },
        Operation::CopyAttribute {
            path: p("sys/owner"),
            source_object: run.clone(),
            source_path: p("sys/name"),
        },
        Operation::AssignInt {
            path: p("n"),
            value: 1,
        },
    ];
    let rejected = s.execute(&run, &ops).unwrap();
    let idx: Vec<usize> = rejected.iter().map(|r| r.index).collect();
    assert_eq!(idx, [0, 2, 3, 6], "{rejected:#?}");
    assert!(rejected[0].reason.contains("system field"), "{rejected:#?}");
    let text = |v: &str| Some(Value::String(v.into()));
    assert_ne!(get(&s, &run, "sys/id"), text("HACK-1"));
    assert_eq!(get(&s, &run, "sys/name"), text("kept"));
    assert_eq!(get(&s, &run, "sys/trashed"), Some(Value::Boolean(false)));
    assert_eq!(
        get(&s, &run, "sys/state"),
        Some(Value::RunState(RunState::Inactive))
    );
    assert_eq!(get(&s, &run, "n"), Some(Value::Integer(1)));
    assert_eq!(
        s.fetch_value(&run, &p("sys/tags")).unwrap(),
        Some(Value::StringSet(["t".to_owned()].into()))
    );

    // A model version's stage: only the stages there are.
    let rejected = s
        .execute(
            &version,
            &[string("sys/stage", "x"), string("sys/stage", "staging")],
        )
        .unwrap();
    assert_eq!(rejected.iter().map(|r| r.index).collect::<Vec<_>>(), [0]);
    assert_eq!(get(&s, &version, "sys/stage"), text("staging"));
}
