//! A faster parse of batch bodies: the same JSON as [`BatchesBody`], read without serde's
//! buffering of internally tagged enums for the operations that carry the bulk of the data.
//!
//! `Operation` is tagged by a `type` field; serde's derive reads such an object into an
//! in-memory tree before choosing the variant, which costs more than everything else the
//! server does with a series point. Clients write `type` first, so this parser reads it, then
//! reads a `LogFloats` or `LogStrings` operation straight into its points. Any other operation,
//! or an object whose first key is not `type`, is gathered into a `serde_json::Value` and read
//! by the derived implementation, with the same result and the same errors.

use std::borrow::Cow;
use std::fmt;

use neptune_core::backend::http::wire::BatchesBody;
use neptune_core::operation::{FloatPoint, Operation, StringPoint};
use neptune_core::FieldPath;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A batch body, as [`BatchesBody`].
#[derive(Deserialize)]
pub struct FastBody {
    pub queue: String,
    pub batches: Vec<FastBatch>,
}

#[derive(Deserialize)]
pub struct FastBatch {
    pub seq: u64,
    #[serde(default)]
    #[allow(dead_code)]
    pub n: u64,
    pub ops: Vec<FastOp>,
}

impl FastBody {
    pub fn into_body(self) -> BatchesBody {
        BatchesBody {
            queue: self.queue,
            batches: self
                .batches
                .into_iter()
                .map(|b| neptune_core::backend::http::wire::Batch {
                    seq: b.seq,
                    n: b.n,
                    ops: b.ops.into_iter().map(|o| o.0).collect(),
                })
                .collect(),
        }
    }
}

/// An operation.
pub struct FastOp(pub Operation);

/// A key, borrowed from the input when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads the rest of a log operation after its `type`.
fn log<'de, A, P, F>(mut map: A, make: F) -> Result<Operation, A::Error>
where
    A: MapAccess<'de>,
    P: Deserialize<'de>,
    F: FnOnce(FieldPath, Vec<P>) -> Operation,
{
    let mut path = None;
    let mut points = None;
    while let Some(k) = map.next_key::<Key<'de>>()? {
        match &*k.0 {
            "path" if path.is_none() => path = Some(map.next_value::<FieldPath>()?),
            "points" if points.is_none() => points = Some(map.next_value::<Vec<P>>()?),
            "path" | "points" => {
                return Err(de::Error::custom(format!("duplicate field `{}`", k.0)))
            }
            // Unknown fields are ignored, as the derived implementation does.
            _ => {
                map.next_value::<de::IgnoredAny>()?;
            }
        }
    }
    Ok(make(
        path.ok_or_else(|| de::Error::missing_field("path"))?,
        points.ok_or_else(|| de::Error::missing_field("points"))?,
    ))
}

/// Reads the remaining entries into a JSON object (with `first` already read) and hands it to
/// the derived implementation.
fn buffered<'de, A: MapAccess<'de>>(
    mut map: A,
    first: Option<(String, serde_json::Value)>,
) -> Result<Operation, A::Error> {
    let mut obj = serde_json::Map::new();
    if let Some((k, v)) = first {
        obj.insert(k, v);
    }
    while let Some((k, v)) = map.next_entry::<String, serde_json::Value>()? {
        obj.insert(k, v);
    }
    Operation::deserialize(serde_json::Value::Object(obj)).map_err(de::Error::custom)
}

impl<'de> Deserialize<'de> for FastOp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FastOp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an operation object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FastOp, A::Error> {
                let Some(first) = map.next_key::<Key<'de>>()? else {
                    return buffered(map, None).map(FastOp);
                };
                if first.0 != "type" {
                    let v = map.next_value::<serde_json::Value>()?;
                    return buffered(map, Some((first.0.into_owned(), v))).map(FastOp);
                }
                let tag = map.next_value::<Key<'de>>()?;
                let op = match &*tag.0 {
                    "LogFloats" => log::<_, FloatPoint, _>(map, |path, points| {
                        Operation::LogFloats { path, points }
                    })?,
                    "LogStrings" => log::<_, StringPoint, _>(map, |path, points| {
                        Operation::LogStrings { path, points }
                    })?,
                    other => buffered(
                        map,
                        Some(("type".to_owned(), serde_json::Value::from(other))),
                    )?,
                };
                Ok(FastOp(op))
            }
        }
        d.deserialize_map(V)
    }
}

/// Parses a batch body the fast way.
pub fn parse(bytes: &[u8]) -> serde_json::Result<BatchesBody> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let body = FastBody::deserialize(&mut de)?;
    de.end()?;
    Ok(body.into_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FieldPath {
        FieldPath::parse(s).unwrap()
    }

    #[test]
    fn parses_as_the_derived_implementation_does() {
        let ops = vec![
            Operation::LogFloats {
                path: p("a"),
                points: vec![
                    FloatPoint {
                        step: Some(1.0),
                        value: f64::NAN,
                        timestamp_ms: 5,
                    },
                    FloatPoint {
                        step: None,
                        value: 0.1 + 0.2,
                        timestamp_ms: 6,
                    },
                ],
            },
            Operation::LogStrings {
                path: p("s"),
                points: vec![StringPoint {
                    step: Some(0.0),
                    value: "x\"y".into(),
                    timestamp_ms: 1,
                }],
            },
            Operation::AssignInt {
                path: p("n"),
                value: 3,
            },
            Operation::ConfigFloatSeries {
                path: p("a"),
                min: Some(f64::NEG_INFINITY),
                max: None,
                unit: Some("s".into()),
            },
        ];
        let body = serde_json::json!({"queue": "q", "batches": [{"seq": 1, "n": 3, "ops": ops}]});
        let text = serde_json::to_vec(&body).unwrap();
        let fast = parse(&text).unwrap();
        let derived: BatchesBody = serde_json::from_slice(&text).unwrap();
        assert_eq!(format!("{:?}", fast), format!("{:?}", derived));
        // The type not first, and garbage, go the slow way with the same outcome.
        let late = br#"{"queue":"q","batches":[{"seq":1,"ops":[{"path":"a","points":[],"type":"LogFloats"}]}]}"#;
        assert_eq!(
            format!("{:?}", parse(late).unwrap()),
            format!("{:?}", serde_json::from_slice::<BatchesBody>(late).unwrap())
        );
        for bad in [
            &br#"{"queue":"q","batches":[{"seq":1,"ops":[{"type":"LogFloats","path":"a//b","points":[]}]}]}"#[..],
            br#"{"queue":"q","batches":[{"seq":1,"ops":[{"type":"LogFloats","path":"a","points":[{"step":"x","value":1,"timestamp_ms":1}]}]}]}"#,
            br#"{"queue":"q","batches":[{"seq":1,"ops":[{"type":"Nope","path":"a"}]}]}"#,
            br#"{"queue":"q","batches":[{"seq":1,"ops":[{"type":"LogFloats","path":"a","path":"b","points":[]}]}]}"#,
            br#"{"queue":"q","batches":[{"seq":1,"ops":[{"type":"LogFloats","path":"a"}]}]} trailing"#,
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
            assert!(serde_json::from_slice::<BatchesBody>(bad).is_err());
        }
    }
}

#[cfg(test)]
mod proptests {
    //! Arbitrary and mutated batch bodies: the fast parser never panics or recurses without
    //! bound, and agrees with the derived one on everything it accepts.
    use super::*;
    use proptest::prelude::*;

    fn path() -> impl Strategy<Value = FieldPath> {
        "[a-z]{1,6}(/[a-z0-9_]{1,6}){0,2}".prop_map(|p| FieldPath::parse(&p).unwrap())
    }

    fn op() -> impl Strategy<Value = Operation> {
        let float = prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY)];
        prop_oneof![
            (path(), any::<i64>()).prop_map(|(path, value)| Operation::AssignInt { path, value }),
            (path(), ".{0,20}").prop_map(|(path, value)| Operation::AssignString { path, value }),
            (
                path(),
                prop::collection::vec((-1e9..1e9f64, float, any::<i64>()), 0..10)
            )
                .prop_map(|(path, pts)| Operation::LogFloats {
                    path,
                    points: pts
                        .into_iter()
                        .map(|(step, value, timestamp_ms)| FloatPoint {
                            step: Some(step),
                            value,
                            timestamp_ms,
                        })
                        .collect(),
                }),
            (
                path(),
                prop::collection::vec((-1e9..1e9f64, ".{0,8}", any::<i64>()), 0..5)
            )
                .prop_map(|(path, pts)| Operation::LogStrings {
                    path,
                    points: pts
                        .into_iter()
                        .map(|(step, value, timestamp_ms)| StringPoint {
                            step: Some(step),
                            value,
                            timestamp_ms,
                        })
                        .collect(),
                }),
        ]
    }

    /// A body as the client writes it: batch lines (with their checksum key) in a request.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::collection::vec(op(), 0..4), 0..4).prop_map(|batches| {
            let mut out = br#"{"queue":"q-1","batches":["#.to_vec();
            for (i, ops) in batches.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let n: usize = ops.iter().map(Operation::weight).sum();
                out.extend_from_slice(
                    format!(
                        r#"{{"seq":{},"n":{n},"ops":{},"crc":"0badc0de"}}"#,
                        i + 1,
                        serde_json::to_string(ops).unwrap()
                    )
                    .as_bytes(),
                );
            }
            out.extend_from_slice(b"]}");
            out
        })
    }

    fn same(bytes: &[u8]) -> Result<(), TestCaseError> {
        let fast = parse(bytes);
        let derived = serde_json::from_slice::<BatchesBody>(bytes);
        if let Ok(f) = &fast {
            let d = derived
                .as_ref()
                .map_err(|e| TestCaseError::fail(format!("fast accepted, derived refused: {e}")))?;
            prop_assert_eq!(format!("{f:?}"), format!("{d:?}"));
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn generated_bodies_parse_as_derived(b in body()) {
            prop_assert!(parse(&b).is_ok());
            same(&b)?;
        }

        #[test]
        fn mutated_bodies_never_panic(
            b in body(),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            cut in any::<bool>(),
        ) {
            let mut b = b;
            let i = at.index(b.len());
            if cut {
                b.truncate(i);
            } else {
                b[i] = byte;
            }
            same(&b)?;
        }

        #[test]
        fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&b);
        }

        #[test]
        fn deep_nesting_is_an_error(depth in 1usize..50_000, inside_log in any::<bool>()) {
            let open = "[".repeat(depth);
            let close = "]".repeat(depth);
            let op = if inside_log {
                format!(r#"{{"type":"LogFloats","path":"a","points":{open}{close}}}"#)
            } else {
                format!(r#"{{"type":"AssignInt","path":"a","value":{open}{close}}}"#)
            };
            let b = format!(r#"{{"queue":"q","batches":[{{"seq":1,"ops":[{op}]}}]}}"#);
            prop_assert!(parse(b.as_bytes()).is_err());
        }
    }
}
