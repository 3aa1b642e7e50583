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
