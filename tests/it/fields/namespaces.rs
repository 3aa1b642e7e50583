//! Namespaces, maps and structs assigned whole, and the system fields.

use std::collections::BTreeMap;

use neptune::{Error, FieldType, Mode, Run, Structure, Value};

use super::open;

#[test]
fn namespaces_maps_and_structs() {
    #[derive(serde::Serialize)]
    struct Optim {
        name: String,
        momentum: f64,
    }
    #[derive(serde::Serialize)]
    struct Params {
        lr: f64,
        epochs: u32,
        optim: Optim,
        seed: Option<i64>,
    }
    let dir = tempfile::tempdir().unwrap();
    let run = open(&dir);
    let p = Params {
        lr: 0.1,
        epochs: 3,
        optim: Optim {
            name: "sgd".into(),
            momentum: 0.9,
        },
        seed: None,
    };
    run.field("params").assign_serde(&p).unwrap();
    assert_eq!(
        run.field("params/optim/momentum").fetch().unwrap(),
        Value::Float(0.9)
    );
    assert_eq!(
        run.field("params/epochs").fetch().unwrap(),
        Value::Integer(3)
    );
    assert!(!run.exists("params/seed"));

    // Assigning a map keeps keys not in it.
    run.field("params")
        .assign(BTreeMap::from([("lr", 0.2), ("wd", 0.01)]))
        .unwrap();
    assert_eq!(run.field("params/lr").fetch().unwrap(), Value::Float(0.2));
    assert!(run.exists("params/epochs") && run.exists("params/wd"));

    // A map appended on a namespace goes to one series per key.
    let train = run.field("train");
    for i in 0..3 {
        train
            .append([
                ("acc", 0.5 + i as f64 / 10.0),
                ("loss", 1.0 / (i + 1) as f64),
            ])
            .unwrap();
    }
    assert_eq!(
        run.field("train/acc")
            .float_series()
            .unwrap()
            .fetch_values()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        run.field("train/loss").field_type(),
        Some(FieldType::FloatSeries)
    );

    // Relative fields, structure, root object, pop.
    let nested = run.field("train").field("extra");
    nested.field("k").assign(1).unwrap();
    assert!(run.exists("train/extra/k"));
    assert!(train.exists("extra/k"));
    assert_eq!(nested.get_root_object().id(), run.id());
    let st = run.get_structure();
    assert_eq!(
        st.get("train/acc"),
        Some(&Structure::Field(FieldType::FloatSeries))
    );
    assert_eq!(
        st.get("sys/state"),
        Some(&Structure::Field(FieldType::RunState))
    );
    assert!(train.get_structure().get("extra/k").is_some());
    assert!(st.render().contains("'acc': FloatSeries"));
    train.pop("extra").unwrap();
    assert!(!run.exists("train/extra/k"));
    run.pop("train/acc").unwrap();
    assert!(!run.exists("train/acc"));
    assert!(matches!(
        run.field("train/acc").fetch_last(),
        Err(Error::MissingField { .. })
    ));
    // A popped series can be recreated with another type.
    run.field("train/acc").assign("gone").unwrap();
    run.wait().unwrap();
    assert_eq!(
        run.field("train/acc").fetch().unwrap().as_str(),
        Some("gone")
    );
    assert!(run.pop("nothing/here").is_err());
}

#[test]
fn system_fields() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .project("team/sysf")
        .name("baseline")
        .description("first try")
        .custom_run_id("sys-fields")
        .open()
        .unwrap();
    let sys = run.field("sys").fetch().unwrap();
    assert_eq!(sys.get("id").and_then(Value::as_str), Some(run.id()));
    assert_eq!(sys.get("name").and_then(Value::as_str), Some("baseline"));
    assert_eq!(
        sys.get("description").and_then(Value::as_str),
        Some("first try")
    );
    assert_eq!(sys.get("failed"), Some(&Value::Boolean(false)));
    assert_eq!(
        sys.get("state"),
        Some(&Value::RunState(neptune::RunState::Active))
    );
    assert_eq!(
        sys.get("custom_run_id").and_then(Value::as_str),
        Some("sys-fields")
    );
    for f in ["hostname", "owner", "creation_time", "modification_time"] {
        assert!(sys.get(f).is_some(), "sys/{f} missing: {sys:?}");
    }
    assert!(run.id().starts_with("SYS-"));

    // Only name, description, tags and failed are writable.
    run.field("sys/name").assign("renamed").unwrap();
    run.field("sys/failed").assign(true).unwrap();
    for p in [
        "sys/id",
        "sys/state",
        "sys/owner",
        "sys/hostname",
        "sys/creation_time",
        "sys/new",
    ] {
        let e = run.field(p).assign("x").unwrap_err();
        assert!(matches!(e, Error::ReadOnlyField { .. }), "{p}: {e}");
    }
    assert!(matches!(
        run.field("sys/series").float_series().unwrap().append(1.0),
        Err(Error::ReadOnlyField { .. })
    ));
    assert!(matches!(
        run.field("sys/id").float_series(),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        run.pop("sys/name"),
        Err(Error::ReadOnlyField { .. })
    ));
    assert_eq!(
        run.field("sys/name").fetch().unwrap().as_str(),
        Some("renamed")
    );
    let id = run.id().to_owned();
    run.stop().unwrap();

    let again = Run::builder()
        .home(dir.path())
        .with_id(&id)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    assert_eq!(
        again.field("sys/state").fetch().unwrap(),
        Value::RunState(neptune::RunState::Inactive)
    );
}
