//! Encoding, decoding, merging and the rules of operations.

use super::*;

fn p(s: &str) -> FieldPath {
    FieldPath::parse(s).unwrap()
}

#[test]
fn non_finite_floats_round_trip() {
    let op = Operation::LogFloats {
        path: p("a"),
        points: vec![
            FloatPoint {
                step: Some(0.0),
                value: f64::NAN,
                timestamp_ms: 1,
            },
            FloatPoint {
                step: Some(1.0),
                value: f64::INFINITY,
                timestamp_ms: 2,
            },
            FloatPoint {
                step: Some(2.0),
                value: f64::NEG_INFINITY,
                timestamp_ms: 3,
            },
        ],
    };
    let json = serde_json::to_string(&op).unwrap();
    assert!(
        json.contains("\"NaN\"") && json.contains("\"-Infinity\""),
        "{json}"
    );
    let back: Operation = serde_json::from_str(&json).unwrap();
    let Operation::LogFloats { points, .. } = back else {
        panic!("{back:?}")
    };
    assert!(points[0].value.is_nan());
    assert_eq!(points[1].value, f64::INFINITY);
    assert_eq!(points[2].value, f64::NEG_INFINITY);
}

#[test]
fn steps_left_to_the_store_travel_without_a_step() {
    let op = Operation::LogFloats {
        path: p("a"),
        points: vec![FloatPoint {
            step: None,
            value: 1.5,
            timestamp_ms: 7,
        }],
    };
    let json = serde_json::to_string(&op).unwrap();
    assert_eq!(
        json,
        r#"{"type":"LogFloats","path":"a","points":[{"value":1.5,"timestamp_ms":7}]}"#
    );
    assert_eq!(serde_json::from_str::<Operation>(&json).unwrap(), op);
    // What older clients wrote: a step on every point, null read as no step.
    let old = r#"{"type":"LogStrings","path":"s","points":[{"step":3,"value":"x","timestamp_ms":1},{"step":null,"value":"y","timestamp_ms":2}]}"#;
    let Operation::LogStrings { points, .. } = serde_json::from_str(old).unwrap() else {
        panic!("not a LogStrings")
    };
    assert_eq!(points[0].step, Some(3.0));
    assert_eq!(points[1].step, None);
}

#[test]
fn merge_concatenates_logs_on_one_path_only() {
    let pt = |s| FloatPoint {
        step: Some(s),
        value: s,
        timestamp_ms: 0,
    };
    let mut a = Operation::LogFloats {
        path: p("x"),
        points: vec![pt(0.0)],
    };
    assert!(a
        .merge(Operation::LogFloats {
            path: p("x"),
            points: vec![pt(1.0)]
        })
        .is_none());
    assert_eq!(a.weight(), 2);
    let other = Operation::LogFloats {
        path: p("y"),
        points: vec![pt(2.0)],
    };
    assert_eq!(a.merge(other.clone()), Some(other));
    let cfg = Operation::ConfigFloatSeries {
        path: p("x"),
        min: None,
        max: Some(1.0),
        unit: None,
    };
    let json = serde_json::to_string(&cfg).unwrap();
    assert_eq!(serde_json::from_str::<Operation>(&json).unwrap(), cfg);
}
