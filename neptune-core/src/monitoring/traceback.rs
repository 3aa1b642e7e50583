//! `capture_traceback`: a panic on the thread that opened a run writes its message, location
//! and backtrace, a line per entry, to the StringSeries `monitoring/<id>/traceback` and sets
//! `sys/failed`; then the panic goes on as before (the hook that was installed runs too).
//!
//! Only panics on the opening thread count: in Rust a panic elsewhere ends that thread, not the
//! program, and a run must not be marked failed by a worker thread's handled panic.

use std::panic::{self, PanicHookInfo};
use std::sync::{Arc, Mutex, Once, Weak};
use std::thread::{self, ThreadId};

use crate::objects::inner::ObjectInner;
use crate::objects::Object;

/// Runs watched for panics, each with the thread that opened it.
static WATCHED: Mutex<Vec<(ThreadId, Weak<ObjectInner>)>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

/// Watches `run` for panics on this thread until it is stopped or dropped.
pub(crate) fn watch(run: &Arc<ObjectInner>) {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            record(info);
            previous(info);
        }));
    });
    if let Ok(mut watched) = WATCHED.lock() {
        watched.retain(|(_, w)| w.strong_count() > 0);
        watched.push((thread::current().id(), Arc::downgrade(run)));
    }
}

fn record(info: &PanicHookInfo<'_>) {
    let me = thread::current().id();
    // try_lock: a panic while the list is held (it never is for long) must not deadlock.
    let runs: Vec<Arc<ObjectInner>> = match WATCHED.try_lock() {
        Ok(watched) => watched
            .iter()
            .filter(|(t, _)| *t == me)
            .filter_map(|(_, w)| w.upgrade())
            .filter(|r| !r.is_closed())
            .collect(),
        Err(_) => return,
    };
    if runs.is_empty() {
        return;
    }
    let text = describe(info);
    for inner in runs {
        let run = Object::from_inner(inner);
        let series = run.field(&super::path("traceback"));
        for line in text.lines() {
            let _ = series.append(line);
        }
        run.inner().mark_failed();
        let _ = run.inner().after_write(cfg!(panic = "abort"));
    }
}

/// `thread 'main' panicked at src/main.rs:3:5:`, the message, then the backtrace.
fn describe(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".to_owned());
    let thread = thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    let place = info
        .location()
        .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    let backtrace = std::backtrace::Backtrace::force_capture();
    format!("thread '{name}' panicked{place}:\n{message}\nstack backtrace:\n{backtrace}")
}

#[cfg(test)]
mod tests {
    use crate::{GitRef, Mode, Run, Value};

    fn open(dir: &std::path::Path, capture: bool) -> Run {
        Run::builder()
            .home(dir)
            .git_ref(GitRef::Disabled)
            .capture_traceback(capture)
            .open()
            .unwrap()
    }

    #[test]
    fn a_panic_on_the_opening_thread_is_written_and_marks_the_run_failed() {
        let dir = tempfile::tempdir().unwrap();
        let run = open(dir.path(), true);
        let id = run.id().to_owned();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            panic!("the loss is NaN at step {}", 7);
        }));
        assert!(caught.is_err());
        run.stop().unwrap();
        let read = Run::builder()
            .home(dir.path())
            .with_id(&id)
            .mode(Mode::ReadOnly)
            .open()
            .unwrap();
        assert_eq!(
            read.field("sys/failed").fetch().unwrap(),
            Value::Boolean(true)
        );
        let path = super::super::path("traceback");
        let lines = read
            .field(&path)
            .string_series()
            .unwrap()
            .fetch_values()
            .unwrap();
        let lines = lines.values();
        assert!(
            lines[0].contains("panicked at neptune-core/src/monitoring/traceback.rs:"),
            "{lines:?}"
        );
        assert_eq!(lines[1], "the loss is NaN at step 7");
        assert_eq!(lines[2], "stack backtrace:");
        assert!(lines.len() > 3, "a backtrace follows: {lines:?}");
    }

    #[test]
    fn other_threads_and_runs_without_capture_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let watched = open(dir.path(), true);
        let unwatched = open(dir.path(), false);
        let worker = std::thread::spawn(|| panic!("a worker's own panic"));
        assert!(worker.join().is_err());
        let caught = std::panic::catch_unwind(|| panic!("on this thread"));
        assert!(caught.is_err());
        watched.wait().unwrap();
        unwatched.wait().unwrap();
        let path = super::super::path("traceback");
        let lines = watched
            .field(&path)
            .string_series()
            .unwrap()
            .fetch_values()
            .unwrap();
        assert_eq!(
            lines.values()[1],
            "on this thread",
            "only this thread's panic"
        );
        assert!(!lines.values().iter().any(|l| l.contains("worker's own")));
        assert!(!unwatched.exists(&path));
        assert_eq!(
            unwatched.field("sys/failed").fetch().unwrap(),
            Value::Boolean(false)
        );
    }
}
