//! Every non-file field type and its methods, read back through the embedded store, and every
//! bad-input rule of the core issue: a clear `Err` at the call, nothing half-written.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{TimeZone, Utc};
use neptune::{
    Error, ExtendOptions, FetchOptions, FieldType, LogOptions, Mode, ProgressBar, Run, Structure,
    Value, WriteOptions,
};

fn open(dir: &tempfile::TempDir) -> Run {
    Run::builder()
        .home(dir.path())
        .project("team/fields")
        .open()
        .unwrap()
}

#[test]
fn single_values_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let run = open(&dir);
    let when =
        Utc.with_ymd_and_hms(1998, 11, 1, 12, 30, 5).unwrap() + chrono::Duration::milliseconds(123);
    run.field("params/lr").assign(0.25).unwrap();
    run.field("params/max_epochs").assign(10).unwrap();
    run.field("params/big").assign(i64::MAX).unwrap();
    run.field("params/use_preprocessing").assign(true).unwrap();
    run.field("params/optimizer").assign("Adam").unwrap();
    run.field("train/end").assign(when).unwrap();
    run.field("nan").assign(f64::NAN).unwrap();
    run.field("inf").assign(f64::NEG_INFINITY).unwrap();

    assert_eq!(run.field("params/lr").fetch().unwrap(), Value::Float(0.25));
    assert_eq!(
        run.field("params/max_epochs").fetch().unwrap(),
        Value::Integer(10)
    );
    assert_eq!(
        run.field("params/big").integer().unwrap().fetch().unwrap(),
        i64::MAX
    );
    assert!(run
        .field("params/use_preprocessing")
        .boolean()
        .unwrap()
        .fetch()
        .unwrap());
    assert_eq!(
        run.field("params/optimizer")
            .string()
            .unwrap()
            .fetch()
            .unwrap(),
        "Adam"
    );
    assert_eq!(
        run.field("train/end").datetime().unwrap().fetch().unwrap(),
        when
    );
    assert!(run.field("nan").float().unwrap().fetch().unwrap().is_nan());
    assert_eq!(
        run.field("inf").fetch().unwrap(),
        Value::Float(f64::NEG_INFINITY)
    );

    // A second assign replaces the value; typed handles assign too.
    run.field("params/lr").float().unwrap().assign(0.5).unwrap();
    assert_eq!(run.field("params/lr").fetch().unwrap(), Value::Float(0.5));

    // Datetimes keep milliseconds, not more.
    let fine = when + chrono::Duration::microseconds(456);
    run.field("train/end").assign(fine).unwrap();
    assert_eq!(
        run.field("train/end").datetime().unwrap().fetch().unwrap(),
        when
    );

    // A namespace fetches as a nested map of its single values.
    let params = run.field("params").fetch().unwrap();
    assert_eq!(params.get("lr"), Some(&Value::Float(0.5)));
    assert_eq!(
        params.get("optimizer").and_then(Value::as_str),
        Some("Adam")
    );
    let all = run.fetch().unwrap();
    assert_eq!(all.get("params/max_epochs"), Some(&Value::Integer(10)));
    assert_eq!(
        all.get("sys/name").and_then(Value::as_str),
        Some("Untitled")
    );
    run.stop().unwrap();
}

#[test]
fn float_series_methods() {
    let dir = tempfile::tempdir().unwrap();
    let run = open(&dir);
    let loss = run.field("train/loss");
    loss.append(1.0).unwrap();
    loss.append(0.5).unwrap();
    loss.append_with(0.25, LogOptions::new().step(10).timestamp(1_700_000_000.5))
        .unwrap();
    loss.extend_with(
        [0.125, f64::NAN],
        ExtendOptions::new()
            .steps([11.0, 12.5])
            .timestamps([1.7e9, 1.7e9]),
    )
    .unwrap();
    loss.extend([f64::INFINITY]).unwrap();

    let typed = loss.float_series().unwrap();
    assert_eq!(typed.fetch_last().unwrap(), f64::INFINITY);
    let values = typed.fetch_values().unwrap();
    assert_eq!(values.steps(), &[0.0, 1.0, 10.0, 11.0, 12.5, 13.5]);
    assert_eq!(&values.values()[..4], &[1.0, 0.5, 0.25, 0.125]);
    assert!(values.values()[4].is_nan());
    let ts = values.timestamps_ms().unwrap();
    assert_eq!(ts[2], 1_700_000_000_500);
    assert_eq!(ts[3], 1_700_000_000_000);

    let no_ts = typed
        .fetch_values_with(
            FetchOptions::new()
                .include_timestamp(false)
                .progress_bar(false),
        )
        .unwrap();
    assert!(no_ts.timestamps_ms().is_none());
    assert!(no_ts
        .to_csv()
        .starts_with("step,value\n0,1\n1,0.5\n10,0.25\n"));
    assert!(
        values
            .to_csv()
            .contains("\n10,0.25,2023-11-14T22:13:20.500Z\n"),
        "{}",
        values.to_csv()
    );
    assert_eq!(values.iter().nth(1).map(|e| e.step), Some(1.0));

    // Untyped handler reads the same.
    assert_eq!(loss.fetch_last().unwrap(), Value::Float(f64::INFINITY));
    assert_eq!(loss.fetch_values().unwrap().len(), 6);

    // A progress callback sees the total.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s2 = seen.clone();
    typed
        .fetch_values_with(FetchOptions::new().progress_bar(ProgressBar::Callback(
            std::sync::Arc::new(move |d, t| s2.lock().unwrap().push((d, t))),
        )))
        .unwrap();
    assert_eq!(seen.lock().unwrap().last(), Some(&(6, 6)));

    // clear empties the series; steps may start again.
    typed.clear().unwrap();
    typed.append(3.0).unwrap();
    assert_eq!(typed.fetch_values().unwrap().steps(), &[0.0]);
}

#[test]
fn string_series_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let run = open(&dir);
    let notes = run.field("journal").string_series().unwrap();
    notes.append("first").unwrap();
    notes.append(String::from("a, \"quoted\" line")).unwrap();
    let long = "é".repeat(1500);
    notes.append(long.as_str()).unwrap();
    notes.append(long.as_str()).unwrap();
    let values = notes.fetch_values().unwrap();
    assert_eq!(values.values()[0], "first");
    assert_eq!(values.values()[2].chars().count(), 1000);
    assert_eq!(values.values()[3].chars().count(), 1000);
    assert!(values.to_csv().contains("1,\"a, \"\"quoted\"\" line\","));
    assert_eq!(notes.fetch_last().unwrap().chars().count(), 1000);
    assert_eq!(
        run.field("journal")
            .fetch_last()
            .unwrap()
            .as_str()
            .map(|s| s.len()),
        Some(2000)
    );

    let text = "x".repeat(20_000);
    run.field("text").assign(text.as_str()).unwrap();
    assert_eq!(
        run.field("text").string().unwrap().fetch().unwrap().len(),
        16384
    );
}

#[test]
fn string_set_tags() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .tags(["a", "b"])
        .open()
        .unwrap();
    let tags = run.tags();
    assert_eq!(
        tags.fetch().unwrap(),
        BTreeSet::from(["a".to_owned(), "b".to_owned()])
    );
    tags.add(["c", "d"]).unwrap();
    tags.add("e").unwrap();
    tags.remove(vec!["a", "c"]).unwrap();
    let want: BTreeSet<String> = ["b", "d", "e"].map(String::from).into();
    assert_eq!(tags.fetch().unwrap(), want);
    assert_eq!(
        run.field("sys/tags").fetch().unwrap(),
        Value::StringSet(want)
    );
    run.field("sys/tags").clear().unwrap();
    assert!(tags.fetch().unwrap().is_empty());
    // sys/tags is the only StringSet.
    let e = run.field("params/x").add("no").unwrap_err();
    assert!(e.to_string().contains("sys/tags"), "{e}");
}

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

#[test]
fn bad_input_is_refused_at_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let run = open(&dir);
    let loss = run.field("loss").float_series().unwrap();
    loss.append_with(1.0, LogOptions::new().step(5)).unwrap();

    // Non-increasing steps, also inside one extend: nothing written.
    assert!(matches!(
        loss.append_with(2.0, LogOptions::new().step(5)),
        Err(Error::NonIncreasingStep { .. })
    ));
    assert!(matches!(
        loss.extend_with([1.0, 2.0, 3.0], ExtendOptions::new().steps([6.0, 8.0, 7.0])),
        Err(Error::NonIncreasingStep { .. })
    ));
    assert!(matches!(
        loss.append_with(2.0, LogOptions::new().step(f64::NAN)),
        Err(Error::InvalidStep { .. })
    ));
    // Lengths of steps / timestamps must match.
    assert!(matches!(
        loss.extend_with([1.0, 2.0], ExtendOptions::new().steps([9.0])),
        Err(Error::LengthMismatch { what: "steps", .. })
    ));
    assert!(matches!(
        loss.extend_with([1.0], ExtendOptions::new().timestamps([1.0, 2.0])),
        Err(Error::LengthMismatch {
            what: "timestamps",
            ..
        })
    ));
    assert_eq!(loss.fetch_values().unwrap().steps(), &[5.0]);
    loss.append(2.0).unwrap(); // the run keeps working: step 6
    assert_eq!(loss.fetch_values().unwrap().steps(), &[5.0, 6.0]);

    // Type conflicts.
    assert!(matches!(
        run.field("loss").append("text"),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        run.field("loss").assign(1.0),
        Err(Error::TypeMismatch { .. })
    ));
    run.field("lr").assign(0.1).unwrap();
    assert!(matches!(
        run.field("lr").append(1.0),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        run.field("lr").assign("x"),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        run.field("lr").fetch_last(),
        Err(Error::NoSuchMethod { .. })
    ));
    assert!(matches!(
        run.field("loss").fetch(),
        Err(Error::NoSuchMethod { .. })
    ));
    assert!(run.field("lr").string_series().is_err());

    // Field as namespace, namespace as field.
    assert!(matches!(
        run.field("lr/x").assign(1),
        Err(Error::FieldAsNamespace { .. })
    ));
    run.field("ns/a").assign(1).unwrap();
    assert!(matches!(
        run.field("ns").assign(1),
        Err(Error::NamespaceAsField { .. })
    ));
    assert!(matches!(
        run.field("ns").append(1.0),
        Err(Error::NamespaceAsField { .. })
    ));

    // A map assign with one bad entry writes none of it.
    let bad = BTreeMap::from([
        ("fresh", Value::Float(1.0)),
        ("lr", Value::String("x".into())),
    ]);
    assert!(run.root().assign(bad).is_err());
    assert!(!run.exists("fresh"));

    // Invalid paths.
    let long = "a".repeat(1025);
    // `.`/`..` segments and invisible characters would display as other fields.
    for p in [
        "",
        "a//b",
        "/a",
        "a/",
        "a\u{0}b",
        long.as_str(),
        "train/../sys/name",
        "./loss",
        "train/lo\u{200b}ss",
        "train/\u{202e}ssol",
    ] {
        assert!(
            matches!(run.field(p).assign(1), Err(Error::InvalidPath { .. })),
            "{p:?}"
        );
    }
    assert!(matches!(
        run.field("ok").field("").assign(1),
        Err(Error::InvalidPath { .. })
    ));
    assert!(matches!(
        run.field("ok").field("..").assign(1),
        Err(Error::InvalidPath { .. })
    ));

    // Fetch of a missing field.
    assert!(matches!(
        run.field("missing").fetch(),
        Err(Error::MissingField { .. })
    ));
    assert!(matches!(
        run.field("missing").float().unwrap().fetch(),
        Err(Error::MissingField { .. })
    ));

    // Timestamps must be Unix seconds.
    assert!(loss
        .append_with(1.0, LogOptions::new().timestamp(f64::INFINITY))
        .is_err());

    // Messages name the path and the fix.
    let msg = run.field("lr").append(1.0).unwrap_err().to_string();
    assert!(
        msg.contains("\"lr\"") && msg.contains("Float") && msg.contains("FloatSeries"),
        "{msg}"
    );
    run.wait().unwrap();
}

#[test]
fn writes_after_stop_and_in_read_only_mode_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = open(&dir);
    let loss = run.field("loss").float_series().unwrap();
    loss.append(1.0).unwrap();
    let id = run.id().to_owned();
    run.stop().unwrap();
    assert!(matches!(loss.append(2.0), Err(Error::Stopped { .. })));
    assert!(matches!(
        run.field("x").assign(1),
        Err(Error::Stopped { .. })
    ));
    assert!(matches!(run.tags().add("t"), Err(Error::Stopped { .. })));
    // Reads still work after stop.
    assert_eq!(loss.fetch_last().unwrap(), 1.0);

    let ro = Run::builder()
        .home(dir.path())
        .project("team/fields")
        .with_id(&id)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    assert_eq!(ro.field("loss").fetch_last().unwrap(), Value::Float(1.0));
    assert!(matches!(
        ro.field("x").assign(1),
        Err(Error::ReadOnlyMode { .. })
    ));
    assert!(matches!(
        ro.field("loss").append(2.0),
        Err(Error::ReadOnlyMode { .. })
    ));
    assert!(matches!(ro.pop("loss"), Err(Error::ReadOnlyMode { .. })));
    assert!(matches!(ro.tags().clear(), Err(Error::ReadOnlyMode { .. })));
    let e = Run::builder()
        .home(dir.path())
        .mode(Mode::ReadOnly)
        .open()
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e}");
}

#[test]
fn wait_option_on_each_call() {
    let dir = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(dir.path())
        .flush_interval(std::time::Duration::from_secs(3600))
        .open()
        .unwrap();
    run.field("a")
        .assign_with(1, WriteOptions::new().wait(true))
        .unwrap();
    run.field("s")
        .append_with(1.0, LogOptions::new().wait(true))
        .unwrap();
    // Visible to another reader at once, although the worker's tick is an hour away.
    let ro = Run::builder()
        .home(dir.path())
        .with_id(run.id())
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    assert_eq!(ro.field("a").fetch().unwrap(), Value::Integer(1));
    assert_eq!(ro.field("s").fetch_last().unwrap(), Value::Float(1.0));
}

/// Counts the warnings that mention truncation (a minimal `tracing` subscriber).
struct TruncationWarnings(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl tracing::Subscriber for TruncationWarnings {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        *m.level() <= tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        struct Message(bool);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" && format!("{v:?}").contains("truncated") {
                    self.0 = true;
                }
            }
        }
        let mut m = Message(false);
        e.record(&mut m);
        if m.0 {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn truncation_warns_once_per_field() {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let run = Run::builder().mode(Mode::Debug).open().unwrap();
    tracing::subscriber::with_default(TruncationWarnings(count.clone()), || {
        let long = "x".repeat(1200);
        let notes = run.field("notes").string_series().unwrap();
        for _ in 0..5 {
            notes.append(long.as_str()).unwrap();
        }
        run.field("other").append(long.as_str()).unwrap();
        run.field("text").assign("y".repeat(20_000)).unwrap();
        run.field("text").assign("y".repeat(20_000)).unwrap();
        notes.append("short").unwrap();
    });
    // notes, other and text: one warning each, however often they were cut.
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
}
