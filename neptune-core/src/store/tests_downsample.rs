//! Downsampled reads: peaks kept, summaries by step and by wall time, zoomed ranges exact.

use super::*;
use crate::backend::{ObjectKind, OpenRequest, Writer};
use crate::model::operation::{FloatPoint, Operation};

fn store_with(points: &[(f64, f64, i64)]) -> (crate::store::testdb::TestStore, String) {
    let store = crate::store::testdb::store();
    let run = store
        .open_object(&OpenRequest {
            kind: ObjectKind::Run,
            project: "team/p".into(),
            with_id: None,
            custom_run_id: None,
            model: None,
            owner: "me".into(),
            read_only: false,
        })
        .unwrap();
    let ops: Vec<Operation> = points
        .chunks(50_000)
        .map(|part| Operation::LogFloats {
            path: path(),
            points: part
                .iter()
                .map(|(s, v, t)| FloatPoint {
                    step: Some(*s),
                    value: *v,
                    timestamp_ms: *t,
                })
                .collect(),
        })
        .collect();
    let rejected = store.execute(&run.id, &ops).unwrap();
    assert!(rejected.is_empty(), "{rejected:?}");
    (store, run.id)
}

fn q(x: XAxis, from: Option<f64>, to: Option<f64>, width: usize) -> DownsampleQuery {
    DownsampleQuery { x, from, to, width }
}

fn path() -> FieldPath {
    FieldPath::parse("m/loss").unwrap()
}

#[test]
fn a_million_points_keep_every_peak() {
    let n = 1_000_000usize;
    let peaks = [1234usize, 500_001, 999_998];
    let pts: Vec<(f64, f64, i64)> = (0..n)
        .map(|i| {
            let v = if peaks.contains(&i) {
                100.0 + i as f64
            } else if i == 777_777 {
                -50.0
            } else {
                (i as f64 * 0.01).sin()
            };
            (i as f64, v, 1_000 + i as i64)
        })
        .collect();
    let (store, id) = store_with(&pts);
    let got = store
        .downsample(&[(id.clone(), path())], &q(XAxis::Step, None, None, 1000))
        .unwrap();
    let s = &got[0];
    assert!(s.found && !s.exact);
    assert_eq!(s.points, n as u64);
    assert!(
        s.x.len() <= 4000 && s.x.len() >= 1000,
        "{} points",
        s.x.len()
    );
    for p in peaks {
        assert!(s.x.contains(&(p as f64)), "peak at step {p} was lost");
    }
    assert!(s.y.contains(&-50.0), "the dip was lost");
    assert!(s.x.windows(2).all(|w| w[0] < w[1]), "x is not increasing");
    // Again, from the cached block summaries: the same answer.
    let again = store
        .downsample(&[(id.clone(), path())], &q(XAxis::Step, None, None, 1000))
        .unwrap();
    assert_eq!(again, got);
    // The same by wall time.
    let t = store
        .downsample(&[(id, path())], &q(XAxis::Time, None, None, 1000))
        .unwrap();
    assert!(t[0].x.contains(&(1_000.0 + 500_001.0)));
    assert!(t[0].y.contains(&-50.0));
}

#[test]
fn a_grown_chunk_is_summarised_again() {
    let pts: Vec<(f64, f64, i64)> = (0..300_000).map(|i| (i as f64, 0.0, i as i64)).collect();
    let (store, id) = store_with(&pts);
    let wide = q(XAxis::Step, None, None, 100);
    let before = store.downsample(&[(id.clone(), path())], &wide).unwrap();
    assert!(!before[0].y.contains(&9.0));
    // A peak inside the last (partly filled) chunk, and one past it.
    let more = Operation::LogFloats {
        path: path(),
        points: vec![
            FloatPoint {
                step: Some(300_000.0),
                value: 9.0,
                timestamp_ms: 1,
            },
            FloatPoint {
                step: Some(300_001.0),
                value: 0.0,
                timestamp_ms: 2,
            },
        ],
    };
    assert!(store.execute(&id, &[more]).unwrap().is_empty());
    let after = store.downsample(&[(id, path())], &wide).unwrap();
    assert_eq!(after[0].points, 300_002);
    assert!(after[0].x.contains(&300_000.0) && after[0].y.contains(&9.0));
}

#[test]
fn a_zoomed_range_is_exact() {
    let pts: Vec<(f64, f64, i64)> = (0..100_000)
        .map(|i| (i as f64, (i * 7 % 13) as f64, i as i64))
        .collect();
    let (store, id) = store_with(&pts);
    let got = store
        .downsample(
            &[(id, path())],
            &q(XAxis::Step, Some(50_000.0), Some(50_999.0), 800),
        )
        .unwrap();
    let s = &got[0];
    assert!(s.exact);
    assert_eq!(s.points, 1000);
    let want_x: Vec<f64> = (50_000..51_000).map(|i| i as f64).collect();
    let want_y: Vec<f64> = (50_000..51_000).map(|i| (i * 7 % 13) as f64).collect();
    assert_eq!(s.x, want_x);
    assert_eq!(s.y, want_y);
}

#[test]
fn missing_fields_are_empty_and_bad_queries_are_refused() {
    let (store, id) = store_with(&[(1.0, 2.0, 3)]);
    let got = store
        .downsample(
            &[
                (id.clone(), FieldPath::parse("m/other").unwrap()),
                (id.clone(), path()),
            ],
            &q(XAxis::Step, None, None, 10),
        )
        .unwrap();
    assert!(!got[0].found && got[0].x.is_empty());
    assert_eq!((got[1].x.clone(), got[1].y.clone()), (vec![1.0], vec![2.0]));
    let e = store
        .downsample(&[(id.clone(), path())], &q(XAxis::Step, None, None, 0))
        .unwrap_err();
    assert!(e.to_string().contains("width"), "{e}");
    assert!(store
        .downsample(
            &[("NOPE-9".into(), path())],
            &q(XAxis::Step, None, None, 10)
        )
        .is_err());
}

#[test]
fn m4_keeps_first_min_max_last_in_order() {
    let x: Vec<f64> = (0..8).map(f64::from).collect();
    let y = vec![5.0, 9.0, 1.0, 4.0, 3.0, f64::NAN, 2.0, 8.0];
    let (ox, oy) = m4_of(&x, &y, 2);
    assert_eq!(ox, vec![0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 7.0]);
    assert_eq!(oy[..5], [5.0, 9.0, 1.0, 4.0, 3.0]);
    assert_eq!(oy[5..], [2.0, 8.0]);
}

/// Wall times with uneven gaps, and peaks at known points.
fn timed(n: usize, peaks: &[usize]) -> Vec<(f64, f64, i64)> {
    let mut t = 1_700_000_000_000i64;
    (0..n)
        .map(|i| {
            t += 1 + (i % 7) as i64 * 3;
            let v = if peaks.contains(&i) {
                1_000.0 + i as f64
            } else {
                (i as f64 * 0.003).cos()
            };
            (i as f64, v, t)
        })
        .collect()
}

#[test]
fn by_wall_time_the_block_summaries_keep_every_peak() {
    let peaks = [17usize, 300_000, 599_990];
    let pts = timed(600_000, &peaks);
    let (store, id) = store_with(&pts);
    let real: std::collections::HashMap<u64, f64> = pts
        .iter()
        .map(|(_, v, t)| ((*t as f64).to_bits(), *v))
        .collect();
    let by_time = q(XAxis::Time, None, None, 500);
    let cold = store.downsample(&[(id.clone(), path())], &by_time).unwrap();
    let warm = store.downsample(&[(id.clone(), path())], &by_time).unwrap();
    assert_eq!(
        cold, warm,
        "the cached summaries give the answer decoding gave"
    );
    let s = &warm[0];
    assert!(s.found && !s.exact);
    assert_eq!(s.points, 600_000);
    assert!(s.x.len() <= 2_000, "{} points", s.x.len());
    assert!(s.x.windows(2).all(|w| w[0] < w[1]), "x is not increasing");
    for (x, y) in s.x.iter().zip(&s.y) {
        assert_eq!(real.get(&x.to_bits()), Some(y), "({x}, {y}) is not a point");
    }
    for p in peaks {
        assert!(
            s.x.contains(&(pts[p].2 as f64)),
            "the peak at point {p} was lost"
        );
    }
    // Part of the range: the chunks at its ends point by point, the ones inside by blocks.
    let (lo, hi) = (pts[100_000].2 as f64, pts[450_000].2 as f64);
    let part = store
        .downsample(
            &[(id.clone(), path())],
            &q(XAxis::Time, Some(lo), Some(hi), 500),
        )
        .unwrap();
    assert_eq!(part[0].points, 350_001);
    assert!(part[0].x.contains(&(pts[300_000].2 as f64)));
    assert!(part[0].x.iter().all(|x| *x >= lo && *x <= hi));
    // Zoomed in: every point of the range, exactly.
    let (lo, hi) = (pts[200_000].2 as f64, pts[200_399].2 as f64);
    let zoom = store
        .downsample(&[(id, path())], &q(XAxis::Time, Some(lo), Some(hi), 500))
        .unwrap();
    assert!(zoom[0].exact);
    let want: Vec<f64> = pts[200_000..200_400].iter().map(|p| p.2 as f64).collect();
    assert_eq!(zoom[0].x, want);
    assert_eq!(zoom[0].points, 400);
}

#[test]
fn by_wall_time_a_clock_that_went_back_is_sorted() {
    let mut pts = timed(400_000, &[250_000]);
    // Wall times of the second half start before the first half ended.
    for p in &mut pts[200_000..] {
        p.2 -= 1_000_000;
    }
    let (store, id) = store_with(&pts);
    let got = store
        .downsample(&[(id, path())], &q(XAxis::Time, None, None, 400))
        .unwrap();
    let s = &got[0];
    assert_eq!(s.points, 400_000);
    assert!(s.x.windows(2).all(|w| w[0] <= w[1]), "x is not sorted");
    assert!(s.x.contains(&(pts[250_000].2 as f64)), "the peak was lost");
}
