//! Tests of the store's FloatSeries and StringSeries: special values, steps (assigned and
//! checked), chunks, pages, clearing and display settings.

use super::tests::{all_floats, floats, fp, get, new_run, p};
use super::*;
use crate::model::operation::{FloatPoint, StringPoint};

#[test]
fn nan_and_infinities_round_trip() {
    let s = crate::store::testdb::store();
    let id = new_run(&s);
    let special = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        f64::MIN_POSITIVE,
    ];
    let points: Vec<FloatPoint> = special
        .iter()
        .enumerate()
        .map(|(i, v)| fp(i as f64, *v))
        .collect();
    let mut ops = vec![Operation::LogFloats {
        path: p("s"),
        points,
    }];
    for (i, v) in special.iter().enumerate() {
        ops.push(Operation::AssignFloat {
            path: p(&format!("f/{i}")),
            value: *v,
        });
    }
    assert!(s.execute(&id, &ops).unwrap().is_empty());
    let page = s.fetch_float_points(&id, &p("s"), None, 100).unwrap();
    for (i, v) in special.iter().enumerate() {
        assert_eq!(page.values[i].to_bits(), v.to_bits(), "series point {i}");
        let got = get(&s, &id, &format!("f/{i}")).unwrap().as_f64().unwrap();
        assert!(
            got.to_bits() == v.to_bits() || (v.is_nan() && got.is_nan()),
            "field {i}: {got}"
        );
    }
    // The last value of a series is kept as is, NaN included.
    let ops = [
        floats("t", [1.0]),
        Operation::LogFloats {
            path: p("t"),
            points: vec![fp(2.0, f64::NAN)],
        },
    ];
    s.execute(&id, &ops).unwrap();
    let info = s.fetch_series_info(&id, &p("t")).unwrap().unwrap();
    assert!(matches!(info.last, Some(Value::Float(v)) if v.is_nan()));
    s.execute(
        &id,
        &[Operation::LogFloats {
            path: p("t"),
            points: vec![fp(3.0, f64::NEG_INFINITY)],
        }],
    )
    .unwrap();
    let info = s.fetch_series_info(&id, &p("t")).unwrap().unwrap();
    assert_eq!(info.last, Some(Value::Float(f64::NEG_INFINITY)));
}

#[test]
fn steps_not_given_are_assigned_where_writes_meet() {
    let s = crate::store::testdb::store();
    let id = new_run(&s);
    let auto = |v: f64| FloatPoint {
        step: None,
        value: v,
        timestamp_ms: 1,
    };
    let log = |points: Vec<FloatPoint>| Operation::LogFloats {
        path: p("loss"),
        points,
    };
    // Two writers that each think the series is empty, then an explicit step, then more.
    assert!(s
        .execute(&id, &[log(vec![auto(1.0), auto(2.0)])])
        .unwrap()
        .is_empty());
    assert!(s.execute(&id, &[log(vec![auto(3.0)])]).unwrap().is_empty());
    assert!(s
        .execute(&id, &[log(vec![fp(10.5, 4.0), auto(5.0)])])
        .unwrap()
        .is_empty());
    // A given step behind the series is still refused, the assigned one after it kept.
    let rej = s
        .execute(&id, &[log(vec![fp(3.0, 6.0), auto(7.0)])])
        .unwrap();
    assert!(rej[0].reason.contains("1 of 2"), "{rej:?}");
    let page = s.fetch_float_points(&id, &p("loss"), None, 100).unwrap();
    assert_eq!(page.steps, [0.0, 1.0, 2.0, 10.5, 11.5, 12.5]);
    assert_eq!(page.values, [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]);
    // StringSeries likewise.
    let sp = |step: Option<f64>, v: &str| StringPoint {
        step,
        value: v.into(),
        timestamp_ms: 1,
    };
    let strings = |points| Operation::LogStrings {
        path: p("notes"),
        points,
    };
    s.execute(&id, &[strings(vec![sp(Some(4.0), "a")])])
        .unwrap();
    s.execute(&id, &[strings(vec![sp(None, "b"), sp(None, "c")])])
        .unwrap();
    let page = s.fetch_string_points(&id, &p("notes"), None, 10).unwrap();
    assert_eq!(page.steps, [4.0, 5.0, 6.0]);
    let info = s.fetch_series_info(&id, &p("notes")).unwrap().unwrap();
    assert_eq!((info.count, info.last_step), (3, Some(6.0)));
}

#[test]
fn steps_are_checked_inside_one_batch() {
    let s = crate::store::testdb::store();
    let id = new_run(&s);
    s.execute(&id, &[floats("loss", [0.0])]).unwrap();
    let ops = [
        floats(
            "loss",
            [1.0, 2.0, 2.0, 3.0, 1.5, f64::NAN, f64::INFINITY, 4.0, 0.0],
        ),
        floats("loss", [4.0, 3.5]),
        floats("loss", [5.0]),
        Operation::AssignInt {
            path: p("after"),
            value: 1,
        },
    ];
    let rej = s.execute(&id, &ops).unwrap();
    assert_eq!(rej.len(), 2, "{rej:?}");
    assert_eq!((rej[0].index, rej[0].path.as_str()), (0, "loss"));
    let r0 = &rej[0].reason;
    assert!(
        r0.contains("5 of 9") && r0.contains("3 with a step not greater"),
        "{r0}"
    );
    assert!(r0.contains("2 with a non-finite step"), "{r0}");
    assert_eq!(rej[1].index, 1);
    assert!(rej[1].reason.contains("2 of 2"), "{}", rej[1].reason);
    let page = s.fetch_float_points(&id, &p("loss"), None, 100).unwrap();
    assert_eq!(page.steps, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(page.values, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    assert_eq!(page.timestamps[3], 1_700_000_000_003);
    let info = s.fetch_series_info(&id, &p("loss")).unwrap().unwrap();
    assert_eq!((info.count, info.last_step), (6, Some(5.0)));
    assert_eq!(info.last, Some(Value::Float(10.0)));
    assert_eq!(info.field_type, FieldType::FloatSeries);
    assert_eq!(get(&s, &id, "after"), Some(Value::Integer(1)));
}

#[test]
fn chunks_are_filled_before_new_ones_start() {
    let s = crate::store::testdb::store();
    let id = new_run(&s);
    for b in 0..4 {
        let steps = (b * 2500..(b + 1) * 2500).map(f64::from);
        assert!(s.execute(&id, &[floats("x", steps)]).unwrap().is_empty());
    }
    let sizes = s.test_ints("SELECT n FROM float_chunks ORDER BY last_step");
    assert_eq!(sizes, [4096, 4096, 1808]);
    let all = all_floats(&s, &id, "x", 10_000);
    assert_eq!(all.steps, (0..10_000).map(f64::from).collect::<Vec<_>>());
}

#[test]
fn float_points_are_paged_by_step() {
    let s = crate::store::testdb::store();
    let id = new_run(&s);
    // Steps 0, 0.5, 1, ... over several chunks.
    let steps: Vec<f64> = (0..20_000).map(|i| f64::from(i) / 2.0).collect();
    for part in steps.chunks(3000) {
        s.execute(&id, &[floats("x", part.iter().copied())])
            .unwrap();
    }
    for page in [1, 7, 4096, 4097, 100_000] {
        let all = all_floats(&s, &id, "x", page);
        assert_eq!(all.steps, steps, "page {page}");
        assert_eq!(all.values.len(), steps.len());
    }
    let pg = s.fetch_float_points(&id, &p("x"), Some(2047.7), 3).unwrap();
    assert_eq!(pg.steps, [2048.0, 2048.5, 2049.0]);
    let pg = s.fetch_float_points(&id, &p("x"), Some(-5.0), 2).unwrap();
    assert_eq!(pg.steps, [0.0, 0.5]);
    // Across a chunk boundary (4096 points = steps up to 2047.5 in the first chunk).
    let pg = s.fetch_float_points(&id, &p("x"), Some(2047.0), 3).unwrap();
    assert_eq!(pg.steps, [2047.5, 2048.0, 2048.5]);
    assert!(s
        .fetch_float_points(&id, &p("x"), Some(1e9), 10)
        .unwrap()
        .is_empty());
    assert!(s
        .fetch_float_points(&id, &p("x"), None, 0)
        .unwrap()
        .is_empty());
    assert!(s
        .fetch_float_points(&id, &p("x"), Some(f64::NAN), 10)
        .unwrap()
        .is_empty());
    let e = s.fetch_float_points(&id, &p("nope"), None, 10).unwrap_err();
    assert!(matches!(e, Error::MissingField { .. }), "{e}");
    let e = s
        .fetch_float_points(&id, &p("sys/id"), None, 10)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidValue { .. }), "{e}");
}

#[test]
fn clear_and_config_of_float_series() {
    let s = crate::store::testdb::store();
    let id = new_run(&s);
    let cfg = Operation::ConfigFloatSeries {
        path: p("acc"),
        min: Some(0.0),
        max: Some(f64::INFINITY),
        unit: Some("%".into()),
    };
    assert!(s.execute(&id, &[cfg]).unwrap().is_empty());
    assert!(s
        .fetch_structure(&id)
        .unwrap()
        .contains(&(p("acc"), FieldType::FloatSeries)));
    let c = s.series_config(&id, &p("acc")).unwrap().unwrap();
    assert_eq!(
        (c.min, c.max, c.unit.as_deref()),
        (Some(0.0), Some(f64::INFINITY), Some("%"))
    );
    s.execute(&id, &[floats("acc", (0..5000).map(f64::from))])
        .unwrap();
    s.execute(&id, &[Operation::ClearFloatLog { path: p("acc") }])
        .unwrap();
    let info = s.fetch_series_info(&id, &p("acc")).unwrap().unwrap();
    assert_eq!((info.count, info.last_step, info.last), (0, None, None));
    assert!(s
        .fetch_float_points(&id, &p("acc"), None, 10)
        .unwrap()
        .is_empty());
    assert_eq!(s.test_ints("SELECT COUNT(*) FROM float_chunks"), [0]);
    // Steps may start again; the settings stay.
    assert!(s
        .execute(&id, &[floats("acc", [0.0, 1.0])])
        .unwrap()
        .is_empty());
    assert_eq!(
        s.fetch_series_info(&id, &p("acc")).unwrap().unwrap().count,
        2
    );
    assert_eq!(s.series_config(&id, &p("acc")).unwrap().unwrap(), c);
    assert_eq!(s.series_config(&id, &p("nope")).unwrap(), None);
}

// ---------------------------------------------------------------- StringSeries

#[test]
fn string_series_truncate_page_and_clear() {
    let s = crate::store::testdb::store();
    let id = new_run(&s);
    let long = "é".repeat(1500);
    let sp = |step: f64, v: &str| StringPoint {
        step: Some(step),
        value: v.into(),
        timestamp_ms: step as i64,
    };
    let ops = [Operation::LogStrings {
        path: p("log"),
        points: vec![sp(1.0, "a"), sp(2.0, &long), sp(2.0, "dup"), sp(3.0, "c")],
    }];
    let rej = s.execute(&id, &ops).unwrap();
    assert_eq!(rej.len(), 1);
    let all = s.fetch_string_points(&id, &p("log"), None, 100).unwrap();
    assert_eq!(all.steps, [1.0, 2.0, 3.0]);
    assert_eq!(all.values[1], "é".repeat(1000));
    assert_eq!(all.timestamps, [1, 2, 3]);
    let pg = s.fetch_string_points(&id, &p("log"), Some(1.0), 1).unwrap();
    assert_eq!(
        (pg.steps.as_slice(), pg.values.as_slice()),
        (&[2.0][..], &["é".repeat(1000)][..])
    );
    let info = s.fetch_series_info(&id, &p("log")).unwrap().unwrap();
    assert_eq!((info.count, info.last_step), (3, Some(3.0)));
    assert_eq!(info.last, Some(Value::String("c".into())));
    s.execute(&id, &[Operation::ClearStringLog { path: p("log") }])
        .unwrap();
    assert!(s
        .fetch_string_points(&id, &p("log"), None, 100)
        .unwrap()
        .is_empty());
    let rej = s
        .execute(
            &id,
            &[Operation::LogStrings {
                path: p("log"),
                points: vec![sp(0.0, "again")],
            }],
        )
        .unwrap();
    assert!(rej.is_empty());
    let info = s.fetch_series_info(&id, &p("log")).unwrap().unwrap();
    assert_eq!(
        (info.count, info.last),
        (1, Some(Value::String("again".into())))
    );
    assert_eq!(info.field_type, FieldType::StringSeries);
}
