//! Bad input refused at the call, writes after stop or in read-only mode, the wait option
//! and truncation warnings.

use std::collections::BTreeMap;

use neptune::{Error, ExtendOptions, LogOptions, Mode, Run, Value, WriteOptions};

use super::open;

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
