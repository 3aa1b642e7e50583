//! Several writers on one run in one process (two objects with one custom run id): points
//! appended without steps are all kept, in sync and async mode; what the store refuses is
//! counted, returned by `wait()` and by `stop()`, and named for the mode it happened in.

use neptune::{LogOptions, Mode, Run};

fn open(home: &std::path::Path, mode: Mode) -> Run {
    Run::builder()
        .home(home)
        .custom_run_id("shared")
        .mode(mode)
        .open()
        .unwrap()
}

fn two_objects_append_to_one_series(mode: Mode, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (open(dir.path(), mode), open(dir.path(), mode));
    assert_eq!(a.id(), b.id());
    // Both bind before either writes: each starts from an empty series.
    let sa = a.field("loss").float_series().unwrap();
    let sb = b.field("loss").float_series().unwrap();
    for i in 0..n {
        sa.append(i as f64).unwrap();
        sb.append(1e6 + i as f64).unwrap();
        if i % 300 == 0 {
            a.wait().unwrap();
            b.wait().unwrap();
        }
    }
    a.wait().unwrap();
    b.wait().unwrap();
    // Read back at once through either object.
    assert_eq!(sb.fetch_last().unwrap(), 1e6 + (n - 1) as f64);
    let v = sa.fetch_values().unwrap();
    assert_eq!(v.len(), 2 * n, "every point of both writers kept ({mode})");
    assert!(v.steps().windows(2).all(|w| w[0] < w[1]));
    assert_eq!(v.steps()[v.len() - 1], (2 * n - 1) as f64);
    for base in [0.0, 1e6] {
        let own: Vec<f64> = v
            .values()
            .iter()
            .copied()
            .filter(|x| (base..base + 1e6).contains(x))
            .collect();
        assert_eq!(own, (0..n).map(|i| base + i as f64).collect::<Vec<_>>());
    }
    assert_eq!((a.failures(), b.failures()), (0, 0));
    a.stop().unwrap();
    b.stop().unwrap();
}

#[test]
fn two_objects_append_to_one_series_in_sync_mode() {
    two_objects_append_to_one_series(Mode::Sync, 1000);
}

#[test]
fn two_objects_append_to_one_series_in_async_mode() {
    two_objects_append_to_one_series(Mode::Async, 3000);
}

#[test]
fn explicit_steps_stay_checked_and_mix_with_assigned_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (open(dir.path(), Mode::Async), open(dir.path(), Mode::Async));
    let sa = a.field("acc").float_series().unwrap();
    let sb = b.field("acc").float_series().unwrap();
    sa.append_with(0.1, LogOptions::new().step(10)).unwrap();
    let err = sa.append_with(0.2, LogOptions::new().step(10)).unwrap_err();
    assert!(err.to_string().contains("not greater"), "{err}");
    a.wait().unwrap();
    sb.append(0.3).unwrap(); // after the other writer's step 10
    b.wait().unwrap();
    sa.append(0.4).unwrap();
    a.wait().unwrap();
    let v = sa.fetch_values().unwrap();
    assert_eq!(v.steps(), &[10.0, 11.0, 12.0]);
    assert_eq!(v.values(), &[0.1, 0.3, 0.4]);
}

#[test]
fn a_refusal_in_async_mode_is_counted_and_stop_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (open(dir.path(), Mode::Async), open(dir.path(), Mode::Sync));
    // `b` makes "x" a Float after `a` loaded the run's fields.
    b.field("x").assign(1.0).unwrap();
    a.field("x").float_series().unwrap().append(2.0).unwrap();
    a.field("ok").assign(1).unwrap();
    let err = a.wait().unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, neptune::Error::Background { count: 1, .. }),
        "{err:?}"
    );
    assert!(
        text.contains("in the background") && text.contains("\"x\""),
        "{text}"
    );
    assert_eq!(a.failures(), 1);
    // Reported once by wait(); stop() still says that something was lost.
    a.wait().unwrap();
    let err = a.stop().unwrap_err();
    assert!(err.to_string().contains("\"x\""), "{err}");
    b.stop().unwrap();
}

#[test]
fn a_refusal_in_sync_mode_is_returned_by_the_call_without_background() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (open(dir.path(), Mode::Sync), open(dir.path(), Mode::Sync));
    b.field("x").assign(1.0).unwrap();
    let err = a
        .field("x")
        .float_series()
        .unwrap()
        .append(2.0)
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, neptune::Error::NotWritten { count: 1, .. }),
        "{err:?}"
    );
    assert!(!text.contains("background"), "{text}");
    assert!(text.contains("\"x\" was not written"), "{text}");
    assert_eq!(a.failures(), 1);
    assert!(a.stop().is_err());
    b.stop().unwrap();
}
