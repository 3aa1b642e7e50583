//! Tests of the disk queue: the lock, reopening, torn tails.

use super::*;
use crate::backend::ObjectKind;
use crate::model::operation::FloatPoint;
use crate::model::path::FieldPath;

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

fn op(i: u64) -> Operation {
    Operation::LogFloats {
        path: FieldPath::parse("a").unwrap(),
        points: vec![FloatPoint {
            step: Some(i as f64),
            value: f64::NAN,
            timestamp_ms: 1,
        }],
    }
}

/// A child process forked while the writer held the queue shares its lock (one open file
/// description); the lock must go when the writer drops the queue, not when the child
/// execs or exits (`neptune sync` saw a stopped run as still being written).
#[test]
fn the_lock_goes_with_the_queue_even_when_a_forked_child_shares_it() {
    let root = tempfile::tempdir().unwrap();
    let q = DiskQueue::create(root.path(), new_meta("http://x", "async", req(), "T-2")).unwrap();
    let dir = q.dir().to_path_buf();
    let inherited = q._lock.try_clone().unwrap();
    drop(q);
    let again = DiskQueue::open_existing(&dir);
    assert!(again.is_ok(), "{:?}", again.err().map(|e| format!("{e:?}")));
    drop(again);
    drop(inherited);
}

#[test]
fn records_survive_reopen_and_torn_tails_are_cut() {
    let root = tempfile::tempdir().unwrap();
    let q = DiskQueue::create(root.path(), new_meta("http://x", "async", req(), "T-1")).unwrap();
    let dir = q.dir().to_path_buf();
    for i in 1..=5 {
        assert_eq!(q.append_ops(&[op(i)]).unwrap(), i);
    }
    let f = q.append_file(&mut &b"hello"[..], "txt").unwrap();
    assert_eq!(f.size, 5);
    assert!(q.file_path(&f.digest).is_file());
    let mut cur = Cursor::after(0);
    let recs = q.read(&mut cur, 1).unwrap();
    assert_eq!(recs.len(), 1);
    let rest = q.read(&mut cur, usize::MAX).unwrap();
    assert_eq!(
        rest.iter().map(Record::seq).collect::<Vec<_>>(),
        [2, 3, 4, 5, 6]
    );
    assert!(matches!(&rest[4], Record::File { file, .. } if file.digest == f.digest));
    q.ack(2, 2, &[]).unwrap();
    assert_eq!(q.pending_values(), 3);
    // A second opener is refused while the first holds the lock.
    assert!(matches!(
        DiskQueue::open_existing(&dir),
        Err(OpenError::Busy { .. })
    ));
    drop(q);
    // A torn record at the end (a writer killed mid-line).
    let seg = dir.join(segment_name(1));
    let mut f2 = OpenOptions::new().append(true).open(&seg).unwrap();
    f2.write_all(b"{\"seq\":7,\"n\":1,\"ops\":[{\"ty").unwrap();
    drop(f2);
    let q = DiskQueue::open_existing(&dir).unwrap();
    assert_eq!(q.positions(), (6, 2));
    assert_eq!(q.pending_values(), 3);
    let mut cur = Cursor::after(2);
    let recs = q.read(&mut cur, usize::MAX).unwrap();
    assert_eq!(
        recs.iter().map(Record::seq).collect::<Vec<_>>(),
        [3, 4, 5, 6]
    );
    let Record::Ops { raw, .. } = &recs[0] else {
        panic!()
    };
    let b = batch::decode(raw.as_bytes()).unwrap();
    assert_eq!(b.seq, 3);
    assert_eq!(b.ops.len(), 1);
    assert!(
        matches!(&b.ops[0], Operation::LogFloats { points, .. } if points[0].step == Some(3.0) && points[0].value.is_nan())
    );
    // Appending continues after the cut.
    assert_eq!(q.append_ops(&[op(7)]).unwrap(), 7);
    q.remove().unwrap();
    assert!(!dir.exists());
}
