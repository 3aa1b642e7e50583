//! Property tests of the queue's record lines, its reader and the wire batch: arbitrary and
//! mutated input never panics, a damaged record is never returned as a good one, what is
//! written reads back.

use proptest::prelude::*;

use super::record::{self, Line};
use super::*;
use crate::backend::ObjectKind;
use crate::model::wire::batch;
use crate::model::wire::strategy::ops;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_parse_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = record::parse(&bytes);
        let _ = record::parse_header(&bytes);
        let _ = batch::decode(&bytes);
    }

    #[test]
    fn lines_round_trip_and_one_flip_is_caught(
        seq in 1u64..u64::MAX,
        body in ops(),
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let json = batch::encode_ops(&body).unwrap();
        let values = batch::values(&body);
        let line = record::encode(seq, values, batch::OPS, json.as_bytes());
        let text = &line[..line.len() - 1];
        let raw = match record::parse(text) {
            Line::Record(Record::Ops { seq: s, values: v, raw }) => {
                prop_assert_eq!((s, v), (seq, values));
                raw
            }
            other => return Err(TestCaseError::fail(format!("{other:?}"))),
        };
        // The line is the wire batch, which reads back the same operations.
        let b = batch::decode(raw.as_bytes()).unwrap();
        prop_assert_eq!(b.seq, seq);
        prop_assert_eq!(serde_json::to_string(&b.ops).unwrap(), json);
        // A flip anywhere before the checksum's key is caught.
        let i = at.index(text.len() - 18);
        let mut bad = text.to_vec();
        bad[i] ^= 1 << bit;
        let caught = !matches!(record::parse(&bad), Line::Record(_));
        prop_assert!(caught, "flip at {}", i);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed(depth in 100usize..20_000) {
        let mut s = String::from(r#"{"seq":1,"n":1,"ops":[{"type":"AssignString","path":"a","value":"#);
        s.push_str(&"[".repeat(depth));
        s.push_str(&"]".repeat(depth));
        s.push_str("}]}");
        prop_assert!(batch::decode(s.as_bytes()).is_err());
        let _ = record::parse(s.as_bytes());
    }
}

fn req() -> OpenRequest {
    OpenRequest {
        kind: ObjectKind::Run,
        project: "t/q".into(),
        with_id: None,
        custom_run_id: None,
        model: None,
        owner: "me".into(),
        read_only: false,
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
    Insert(prop::sample::Index, Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Truncate),
        1 => (any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 1..20))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

/// Every record the reader returns, from a fresh open of `dir`.
fn read_all(dir: &Path) -> Vec<String> {
    let q = DiskQueue::open_existing(dir).unwrap_or_else(|_| panic!("open"));
    let mut cur = Cursor::after(0);
    let mut out = Vec::new();
    loop {
        let recs = q.read(&mut cur, 1 << 16).unwrap();
        if recs.is_empty() {
            break;
        }
        for r in recs {
            if let Record::Ops { raw, .. } = r {
                out.push(raw);
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_reader_skips_only_damaged_records(
        batches in prop::collection::vec(ops(), 1..12),
        muts in prop::collection::vec(mutation(), 0..4),
    ) {
        let root = tempfile::tempdir().unwrap();
        let q = DiskQueue::create(root.path(), new_meta("http://x", "offline", req(), "T-1")).unwrap();
        let dir = q.dir().to_path_buf();
        for b in &batches {
            q.append_ops(b).unwrap();
        }
        drop(q);
        let seg = dir.join(segment_name(1));
        let good = read_all_lines(&seg);
        let mut bytes = fs::read(&seg).unwrap();
        let flips = muts.iter().filter(|m| matches!(m, Mutation::Flip(..))).count();
        let only_flips = flips == muts.len();
        for m in &muts {
            match m {
                Mutation::Flip(i, bit) if !bytes.is_empty() => {
                    let i = i.index(bytes.len());
                    bytes[i] ^= 1 << bit;
                }
                Mutation::Truncate(i) if !bytes.is_empty() => {
                    let i = i.index(bytes.len());
                    bytes.truncate(i);
                }
                Mutation::Insert(i, b) => {
                    let i = i.index(bytes.len() + 1);
                    bytes.splice(i..i, b.iter().copied());
                }
                _ => {}
            }
        }
        fs::write(&seg, &bytes).unwrap();
        let got = read_all(&dir);
        // Nothing damaged comes back, nothing comes back twice, the order holds.
        let mut last = 0;
        for raw in &got {
            // Equal, or equal but in the checksum's tail (a flip in the name of its key or in a
            // digit turned into a letter leaves the line unchecked, its content intact).
            let pos = good.iter().position(|g| {
                let (g, r) = (g.as_bytes(), raw.as_bytes());
                g == r || (g.len() == r.len() && g.len() > 18 && g[..g.len() - 18] == r[..r.len() - 18])
            });
            prop_assert!(pos.is_some(), "a record not written: {}", raw);
            let pos = pos.unwrap_or(0) + 1;
            prop_assert!(pos > last);
            last = pos;
        }
        if only_flips {
            // A flip costs at most the two records on either side of a newline.
            prop_assert!(got.len() + 2 * flips >= good.len(), "{} of {}", got.len(), good.len());
        }
        // A second reading finds the same (the damaged ones were set aside once).
        let noted = aside::read(&dir).len();
        prop_assert_eq!(read_all(&dir), got);
        prop_assert_eq!(aside::read(&dir).len(), noted);
    }
}

fn read_all_lines(seg: &Path) -> Vec<String> {
    fs::read_to_string(seg)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}
