//! What a new user ran into (issue 9): wide integers and local datetimes in `assign`,
//! `assign_serde` of a struct holding lists, project names, out-of-range timestamps and file
//! set paths too long for a zip. Each on a real store in a temporary folder.

use crate::common::open_run;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, FixedOffset, Local, TimeZone, Utc};
use neptune::limits::MAX_FILESET_PATH;
use neptune::{Error, FileSeries, GitRef, LogOptions, Loggable, Run, SerdeOptions, Value};

#[test]
fn wide_integers_are_assigned_when_they_fit_and_refused_by_name_when_not() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(dir.path(), "team/newcomer");
    let batch_size: usize = 64;
    run.field("params/bs").assign(batch_size).unwrap();
    run.field("params/u64").assign(7_u64).unwrap();
    run.field("params/i128").assign(-5_i128).unwrap();
    run.field("params/u128").assign(9_u128).unwrap();
    run.field("params/isize").assign(-1_isize).unwrap();
    run.field("params/max").assign(i64::MAX as u64).unwrap();
    for (path, err) in [
        ("params/seed", run.field("params/seed").assign(u64::MAX)),
        ("params/big", run.field("params/big").assign(u128::MAX)),
        ("params/neg", run.field("params/neg").assign(i128::MIN)),
    ] {
        let e = err.unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::InvalidValue { .. }), "{e:?}");
        assert!(
            text.contains(path) && text.contains("Integer range"),
            "{text}"
        );
    }
    let e = run
        .field("params/seed")
        .assign(u64::MAX)
        .unwrap_err()
        .to_string();
    assert!(e.contains("18446744073709551615 (u64)"), "{e}");
    run.wait().unwrap();
    let get = |p: &str| run.field(p).fetch().unwrap();
    assert_eq!(get("params/bs"), Value::Integer(64));
    assert_eq!(get("params/u64"), Value::Integer(7));
    assert_eq!(get("params/i128"), Value::Integer(-5));
    assert_eq!(get("params/u128"), Value::Integer(9));
    assert_eq!(get("params/isize"), Value::Integer(-1));
    assert_eq!(get("params/max"), Value::Integer(i64::MAX));
    assert!(
        !run.exists("params/seed"),
        "nothing written for a refused value"
    );
    run.stop().unwrap();
}

#[derive(Loggable)]
struct Times {
    local: DateTime<Local>,
    fixed: DateTime<FixedOffset>,
    maybe: Option<DateTime<FixedOffset>>,
}

#[test]
fn local_and_fixed_offset_datetimes_are_datetimes() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(dir.path(), "team/newcomer");
    let instant = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
    let plus2 = FixedOffset::east_opt(2 * 3600).unwrap();
    let local = instant.with_timezone(&Local);
    let fixed = instant.with_timezone(&plus2);
    run.field("t/local").assign(local).unwrap();
    run.field("t/fixed").assign(fixed).unwrap();
    run.field("t/utc")
        .datetime()
        .unwrap()
        .assign(fixed)
        .unwrap();
    let typed = run.bind::<Times>("typed").unwrap();
    typed.local.assign(local).unwrap();
    typed.fixed.assign(fixed).unwrap();
    run.field("whole")
        .assign_value(&Times {
            local,
            fixed,
            maybe: Some(fixed),
        })
        .unwrap();
    run.wait().unwrap();
    for p in ["t/local", "t/fixed", "t/utc", "whole/maybe"] {
        assert_eq!(
            run.field(p).fetch().unwrap(),
            Value::Datetime(instant),
            "{p}"
        );
    }
    assert_eq!(typed.local.fetch().unwrap(), local);
    assert_eq!(typed.fixed.fetch().unwrap(), instant.fixed_offset());
    let back: Times = run.field("whole").fetch_as().unwrap();
    assert_eq!((back.local, back.fixed), (local, fixed));
    run.stop().unwrap();
}

#[derive(serde::Serialize)]
struct Config {
    lr: f64,
    layers: Vec<u32>,
    seed: Option<u64>,
    nested: Nested,
}

#[derive(serde::Serialize)]
struct Nested {
    names: Vec<String>,
    dropout: f64,
}

/// Collects the messages of `tracing` warnings (a minimal subscriber).
struct Warnings(Arc<Mutex<Vec<String>>>);

impl tracing::Subscriber for Warnings {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        *m.level() <= tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    self.0 = format!("{v:?}");
                }
            }
        }
        let mut m = Message(String::new());
        e.record(&mut m);
        self.0.lock().unwrap().push(m.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn assign_serde_can_stringify_what_no_field_type_holds() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(dir.path(), "team/newcomer");
    let cfg = Config {
        lr: 0.1,
        layers: vec![64, 32],
        seed: None,
        nested: Nested {
            names: vec!["a".into(), "b".into()],
            dropout: 0.5,
        },
    };
    let e = run
        .field("strict")
        .assign_serde(&cfg)
        .unwrap_err()
        .to_string();
    assert!(e.contains("strict/layers") && e.contains("list"), "{e}");
    assert!(!run.exists("strict/lr"), "the default still fails whole");

    let warnings = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::with_default(Warnings(warnings.clone()), || {
        run.field("params")
            .assign_serde_with(&cfg, SerdeOptions::stringify_unsupported().wait(true))
            .unwrap();
    });
    let get = |p: &str| run.field(p).fetch().unwrap();
    assert_eq!(get("params/lr"), Value::Float(0.1));
    assert_eq!(get("params/layers"), Value::String("[64,32]".into()));
    assert_eq!(get("params/seed"), Value::String("null".into()));
    assert_eq!(
        get("params/nested/names"),
        Value::String(r#"["a","b"]"#.into())
    );
    assert_eq!(get("params/nested/dropout"), Value::Float(0.5));
    let warnings = warnings.lock().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    for p in ["params/layers", "params/nested/names", "params/seed"] {
        assert!(warnings[0].contains(p), "{}", warnings[0]);
    }
    run.stop().unwrap();
}

#[test]
fn project_names_are_checked_where_a_project_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [
        "bad project name!",
        "team/bad name",
        "a/b/c",
        "team/",
        "team/ünï",
    ] {
        let e = Run::builder()
            .home(dir.path())
            .project(bad)
            .git_ref(GitRef::Disabled)
            .open()
            .err()
            .unwrap_or_else(|| panic!("{bad:?} was accepted"));
        let text = e.to_string();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        assert!(
            text.contains(&format!("{bad:?}")) && text.contains("workspace/project"),
            "{text}"
        );
    }
    assert!(
        !dir.path().join("store.db").exists(),
        "refused before a store is created"
    );
    let run = open_run(dir.path(), "team/newcomer");
    assert_eq!(run.project(), "team/newcomer");
    run.stop().unwrap();
}

#[derive(Loggable)]
struct Media {
    frames: FileSeries,
}

#[test]
fn timestamps_outside_the_datetime_range_are_refused_at_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(dir.path(), "team/newcomer");
    let loss = run.field("loss").float_series().unwrap();
    // 1e13 s is the year 318857: beyond what a Datetime holds, it used to read back as 1970.
    for t in [1e13, -1e13, 1e20, f64::NAN, f64::INFINITY] {
        let e = loss
            .append_with(1.0, LogOptions::new().timestamp(t))
            .unwrap_err()
            .to_string();
        assert!(e.contains("loss") && e.contains("timestamp"), "{e}");
    }
    let e = loss
        .extend_with(
            [1.0, 2.0],
            neptune::ExtendOptions::new().timestamps([1.7e9, 1e13]),
        )
        .unwrap_err();
    assert!(e.to_string().contains("timestamp"), "{e}");
    let media = run.bind::<Media>("media").unwrap();
    let e = media
        .frames
        .append_with(
            neptune::File::from_content("x"),
            neptune::FileLogOptions::new().timestamp(1e13),
        )
        .unwrap_err();
    assert!(e.to_string().contains("timestamp"), "{e}");
    // Far but representable times keep their value.
    let far = 8.0e12; // the year 255479
    loss.append_with(2.0, LogOptions::new().timestamp(far))
        .unwrap();
    run.wait().unwrap();
    let values = loss.fetch_values().unwrap();
    assert_eq!(values.len(), 1, "nothing of the refused calls was written");
    let ts = values.iter().next().unwrap().timestamp.unwrap();
    assert_eq!(ts.timestamp(), 8_000_000_000_000);
    run.stop().unwrap();
}

#[test]
fn file_set_paths_longer_than_the_bound_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(&dir.path().join("store"), "team/newcomer");
    let data = dir.path().join("data");
    // Five folders of 240 characters: a path inside the set of about 1,210 characters.
    let mut deep = data.clone();
    for c in ['a', 'b', 'c', 'd', 'e'] {
        deep = deep.join(c.to_string().repeat(240));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("deep.txt"), "deep").unwrap();
    std::fs::write(data.join("short.txt"), "short").unwrap();
    let files = run.field("files").file_set().unwrap();
    let glob = format!("{}/**/*.txt", data.display());
    let e = files.upload_files([glob.as_str()]).unwrap_err().to_string();
    assert!(
        e.contains("files") && e.contains("deep.txt") && e.contains(&MAX_FILESET_PATH.to_string()),
        "{e}"
    );
    assert!(e.len() < 600, "the message stays short: {e}");
    assert!(!run.exists("files"), "nothing was uploaded");
    files
        .upload_files([data.join("short.txt").to_string_lossy().as_ref()])
        .unwrap();
    run.wait().unwrap();
    assert_eq!(files.list_fileset_files(None).unwrap().len(), 1);
    run.stop().unwrap();
}
