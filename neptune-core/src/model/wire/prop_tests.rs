//! The batch line and the decoding of operations, held to serde's derived decoding of the
//! internally tagged `Operation` (the decoder before the tag-first one): the same answer on
//! every input, generated, reordered, mutated or arbitrary; never a panic or an unbounded
//! recursion.

use proptest::prelude::*;
use serde::{Deserialize, Deserializer};

use super::batch;
use super::strategy::{op, ops};
use super::BatchesBody;
use crate::model::operation::{Operation, OperationDerived};

/// An operation read by serde's derived decoding.
struct Derived(Operation);

impl<'de> Deserialize<'de> for Derived {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        OperationDerived::deserialize(d).map(Derived)
    }
}

/// [`BatchesBody`] with its operations read by the derived decoding.
#[derive(Deserialize)]
struct DerivedBody {
    queue: String,
    batches: Vec<DerivedBatch>,
}

#[derive(Deserialize)]
struct DerivedBatch {
    seq: u64,
    #[serde(default)]
    n: u64,
    ops: Vec<Derived>,
}

/// A comparable form (NaN is not equal to itself): the JSON the value encodes to.
fn text_of(body: &BatchesBody) -> String {
    let batches: Vec<_> = body
        .batches
        .iter()
        .map(|b| (b.seq, b.n, serde_json::to_string(&b.ops).unwrap()))
        .collect();
    format!("{} {batches:?}", body.queue)
}

fn derived_text(body: DerivedBody) -> String {
    let batches: Vec<_> = body
        .batches
        .into_iter()
        .map(|b| {
            let ops: Vec<Operation> = b.ops.into_iter().map(|d| d.0).collect();
            (b.seq, b.n, serde_json::to_string(&ops).unwrap())
        })
        .collect();
    format!("{} {batches:?}", body.queue)
}

/// Both decoders accept `bytes` with the same result, or both refuse it.
fn same(bytes: &[u8]) -> Result<(), TestCaseError> {
    let ours = batch::decode_body(bytes).map(|b| text_of(&b));
    let derived = serde_json::from_slice::<DerivedBody>(bytes).map(derived_text);
    match (ours, derived) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        (a, b) => {
            return Err(TestCaseError::fail(format!(
                "{} : ours {a:?}, derived {b:?}",
                String::from_utf8_lossy(bytes)
            )))
        }
    }
    Ok(())
}

/// A request body as the client writes it: queue lines (with their checksum key) joined.
fn body_of(batches: &[Vec<Operation>]) -> Vec<u8> {
    let lines: Vec<String> = batches
        .iter()
        .enumerate()
        .map(|(i, ops)| {
            let line = batch::encode(i as u64 + 1, ops).unwrap();
            format!("{},\"crc\":\"0badc0de\"}}", &line[..line.len() - 1])
        })
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    batch::body("q-1", &refs)
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(ops(), 0..4).prop_map(|b| body_of(&b))
}

/// `op` as JSON with its keys in the order `order` gives (a permutation seed).
fn reordered(op: &Operation, order: &[usize]) -> String {
    let serde_json::Value::Object(map) = serde_json::to_value(op).unwrap() else {
        unreachable!("an operation encodes to an object")
    };
    let mut entries: Vec<_> = map.into_iter().collect();
    for (i, &j) in order.iter().enumerate() {
        let n = entries.len();
        entries.swap(i % n, j % n);
    }
    let parts: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), v))
        .collect();
    format!("{{{}}}", parts.join(","))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn operations_round_trip(op in op()) {
        let json = serde_json::to_string(&op).unwrap();
        prop_assert!(json.starts_with("{\"type\":"), "{}", json);
        let back: Operation = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }

    #[test]
    fn keys_in_any_order_read_as_the_derived_decoding_does(
        op in op(),
        order in prop::collection::vec(any::<usize>(), 0..6),
    ) {
        let json = reordered(&op, &order);
        let ours: Operation = serde_json::from_str(&json).unwrap();
        let derived = serde_json::from_str::<Derived>(&json).unwrap().0;
        let expected = serde_json::to_string(&op).unwrap();
        prop_assert_eq!(serde_json::to_string(&ours).unwrap(), expected.clone());
        prop_assert_eq!(serde_json::to_string(&derived).unwrap(), expected);
    }

    #[test]
    fn batch_lines_round_trip(seq in 1u64..u64::MAX, ops in ops()) {
        let line = batch::encode(seq, &ops).unwrap();
        let n = batch::values(&ops);
        prop_assert_eq!(batch::parse_head(line.as_bytes()), Some((seq, n, batch::OPS)));
        let b = batch::decode(line.as_bytes()).unwrap();
        prop_assert_eq!((b.seq, b.n), (seq, n));
        prop_assert_eq!(serde_json::to_string(&b.ops).unwrap(), batch::encode_ops(&ops).unwrap());
        prop_assert_eq!(batch::ops_values(line.as_bytes()).len(), ops.len());
    }

    #[test]
    fn generated_bodies_read_as_derived(b in body()) {
        prop_assert!(batch::decode_body(&b).is_ok());
        same(&b)?;
    }

    #[test]
    fn mutated_bodies_read_as_derived(
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
        same(&b)?;
        let _ = batch::parse_head(&b);
        let _ = batch::decode(&b);
        let _ = batch::ops_values(&b);
    }

    #[test]
    fn deep_nesting_is_an_error(depth in 1usize..50_000, inside_log in any::<bool>(), late in any::<bool>()) {
        let open = "[".repeat(depth);
        let close = "]".repeat(depth);
        let op = match (inside_log, late) {
            (true, false) => format!(r#"{{"type":"LogFloats","path":"a","points":{open}{close}}}"#),
            (true, true) => format!(r#"{{"path":"a","points":{open}{close},"type":"LogFloats"}}"#),
            (false, false) => format!(r#"{{"type":"AssignInt","path":"a","value":{open}{close}}}"#),
            (false, true) => format!(r#"{{"path":"a","value":{open}{close},"type":"AssignInt"}}"#),
        };
        let b = format!(r#"{{"queue":"q","batches":[{{"seq":1,"ops":[{op}]}}]}}"#);
        prop_assert!(batch::decode_body(b.as_bytes()).is_err());
    }
}

#[test]
fn odd_operations_read_as_the_derived_decoding_does() {
    for (json, ok) in [
        // The tag late, or repeated, or missing; unknown keys.
        (r#"{"path":"a","points":[],"type":"LogFloats"}"#, true),
        (
            r#"{"path":"a","type":"AssignInt","value":3,"extra":[1]}"#,
            true,
        ),
        (
            r#"{"type":"AssignInt","path":"a","value":3,"extra":{"type":1}}"#,
            true,
        ),
        (
            r#"{"type":"AssignInt","path":"a","value":3,"type":"AssignInt"}"#,
            false,
        ),
        (
            r#"{"path":"a","type":"AssignInt","value":3,"type":"AssignInt"}"#,
            false,
        ),
        (r#"{"path":"a","value":3}"#, false),
        (r#"{}"#, false),
        // A repeated field, in either path.
        (
            r#"{"type":"LogFloats","path":"a","path":"b","points":[]}"#,
            false,
        ),
        (
            r#"{"path":"a","path":"b","points":[],"type":"LogFloats"}"#,
            false,
        ),
        // The sequence form: the tag, then the fields in order.
        (r#"["AssignInt","a",3]"#, true),
        (r#"["AssignInt","a"]"#, false),
        // Wrong tags and values.
        (r#"{"type":"Nope","path":"a"}"#, false),
        (r#"{"type":0,"path":"a","value":1.0}"#, false),
        (r#"{"type":"LogFloats","path":"a//b","points":[]}"#, false),
        (
            r#"{"type":"LogFloats","path":"a","points":[{"step":"x","value":1,"timestamp_ms":1}]}"#,
            false,
        ),
        (r#"{"type":"LogFloats","path":"a"}"#, false),
        (r#"3"#, false),
    ] {
        let ours = serde_json::from_str::<Operation>(json);
        let derived = serde_json::from_str::<Derived>(json);
        assert_eq!(ours.is_ok(), ok, "{json}: {ours:?}");
        assert_eq!(derived.is_ok(), ok, "{json}: derived");
        if let (Ok(a), Ok(b)) = (ours, derived) {
            assert_eq!(a, b.0, "{json}");
        }
    }
}

#[test]
fn errors_name_the_problem() {
    let e = serde_json::from_str::<Operation>(r#"{"type":"Nope","path":"a"}"#).unwrap_err();
    assert!(e.to_string().contains("unknown variant `Nope`"), "{e}");
    let e = serde_json::from_str::<Operation>(r#"{"type":"AssignInt","path":"a"}"#).unwrap_err();
    assert!(e.to_string().contains("missing field `value`"), "{e}");
    let e = serde_json::from_str::<Operation>(r#"{"path":"a"}"#).unwrap_err();
    assert!(e.to_string().contains("missing field `type`"), "{e}");
    let e = serde_json::from_str::<Operation>(
        r#"{"type":"AssignInt","path":"a","value":1,"type":"x"}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("duplicate field `type`"), "{e}");
}

#[test]
fn lines_written_by_older_versions_still_decode() {
    // A queue line of the version before (a step on every point, NaN as a string, its
    // checksum key), and one from before the checksum existed.
    let old = br#"{"seq":12,"n":3,"ops":[{"type":"LogFloats","path":"train/loss","points":[{"step":0.0,"value":0.5,"timestamp_ms":1700000000000},{"step":1.0,"value":"NaN","timestamp_ms":1700000000001}]},{"type":"AssignInt","path":"epoch","value":2}],"crc":"0badc0de"}"#;
    assert_eq!(batch::parse_head(old), Some((12, 3, batch::OPS)));
    let b = batch::decode(old).unwrap();
    assert_eq!((b.seq, b.n, b.ops.len()), (12, 3, 2));
    let Operation::LogFloats { path, points } = &b.ops[0] else {
        panic!("{:?}", b.ops[0])
    };
    assert_eq!(path.to_string(), "train/loss");
    assert_eq!(points[1].step, Some(1.0));
    assert!(points[1].value.is_nan());
    assert_eq!(
        b.ops[1],
        Operation::AssignInt {
            path: crate::FieldPath::parse("epoch").unwrap(),
            value: 2
        }
    );
    let older = br#"{"seq":1,"n":0,"ops":[]}"#;
    assert_eq!(batch::decode(older).unwrap().seq, 1);
}
