//! Single values, FloatSeries, StringSeries and the StringSet, written and read back.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use neptune::{ExtendOptions, FetchOptions, LogOptions, ProgressBar, Run, Value};

use super::open;

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
