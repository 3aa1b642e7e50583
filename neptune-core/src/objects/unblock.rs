//! Waiting without blocking an async runtime: [`unblock`] runs a blocking call on a thread of
//! its own and gives a future of its result, for any executor (tokio, async-std, smol, …).
//! [`Object::wait_async`](crate::Object::wait_async) and its siblings are built on it, and so
//! can any fetch:
//!
//! ```
//! # fn main() -> neptune_core::Result<()> {
//! use neptune_core::{unblock, Mode, Run};
//!
//! async fn last_loss(run: &Run) -> neptune_core::Result<f64> {
//!     let loss = run.field("train/loss").float_series()?;
//!     run.wait_async().await?;
//!     unblock(move || loss.fetch_last()).await
//! }
//!
//! let run = Run::builder().mode(Mode::Debug).open()?;
//! run.field("train/loss").append(0.25)?;
//! # let last = neptune_core::unblock_for_doc(last_loss(&run))?;
//! # assert_eq!(last, 0.25);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

enum State<T> {
    Running(Option<Waker>),
    Done(std::thread::Result<T>),
    Taken,
}

/// The future of a blocking call running on a thread of its own; see [`unblock`].
#[must_use = "a future does nothing unless awaited"]
pub struct Unblock<T> {
    state: Arc<Mutex<State<T>>>,
}

/// Runs `f` on a new thread and returns a future of its result, so that an async task waits for
/// it without holding up its executor's thread. A panic in `f` resumes in the task that awaits.
/// If no thread can be started, `f` runs on the caller's thread.
pub fn unblock<T, F>(f: F) -> Unblock<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let state = Arc::new(Mutex::new(State::Running(None)));
    let shared = state.clone();
    let job = Arc::new(Mutex::new(Some(f)));
    let job_in_thread = job.clone();
    let run = move || {
        let f = job_in_thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(f) = f else { return };
        let out = panic::catch_unwind(AssertUnwindSafe(f));
        let mut st = shared.lock().unwrap_or_else(PoisonError::into_inner);
        if let State::Running(Some(waker)) = std::mem::replace(&mut *st, State::Done(out)) {
            waker.wake();
        }
    };
    let spawned = std::thread::Builder::new()
        .name("neptune-unblock".into())
        .spawn(run);
    if spawned.is_err() {
        let f = job.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(f) = f {
            let out = panic::catch_unwind(AssertUnwindSafe(f));
            *state.lock().unwrap_or_else(PoisonError::into_inner) = State::Done(out);
        }
    }
    Unblock { state }
}

impl<T> Future for Unblock<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *st, State::Taken) {
            State::Running(_) => {
                *st = State::Running(Some(cx.waker().clone()));
                Poll::Pending
            }
            State::Done(Ok(v)) => Poll::Ready(v),
            State::Done(Err(panic)) => {
                drop(st);
                panic::resume_unwind(panic)
            }
            State::Taken => panic!("an Unblock future was polled after it completed"),
        }
    }
}

/// Drives a future to completion on this thread (doctests and tests; no executor needed).
#[doc(hidden)]
pub fn unblock_for_doc<T>(fut: impl Future<Output = T>) -> T {
    use std::task::Wake;
    struct Thread(std::thread::Thread);
    impl Wake for Thread {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Thread(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = std::pin::pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::mpsc;
    use std::task::{Context, Waker};

    use super::{unblock, unblock_for_doc};
    use crate::{GitRef, Mode, Run};

    #[test]
    fn polling_returns_at_once_while_the_call_blocks() {
        let (go, wait) = mpsc::channel::<u32>();
        let mut fut = std::pin::pin!(unblock(move || wait.recv().map(|v| v * 2)));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        go.send(21).unwrap();
        assert_eq!(unblock_for_doc(fut), Ok(42));
    }

    #[test]
    fn a_panic_reaches_the_awaiting_task() {
        let fut = unblock(|| -> u8 { panic!("inside") });
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unblock_for_doc(fut)));
        let msg = caught.unwrap_err();
        assert_eq!(msg.downcast_ref::<&str>(), Some(&"inside"));
    }

    #[test]
    fn wait_and_stop_async_make_the_writes_durable() {
        let dir = tempfile::tempdir().unwrap();
        let run = Run::builder()
            .home(dir.path())
            .git_ref(GitRef::Disabled)
            .open()
            .unwrap();
        let loss = run.field("loss").float_series().unwrap();
        loss.extend([1.0, 2.0, 3.0]).unwrap();
        unblock_for_doc(run.wait_async()).unwrap();
        let reader = Run::builder()
            .home(dir.path())
            .with_id(run.id())
            .mode(Mode::ReadOnly)
            .open()
            .unwrap();
        let read = reader.field("loss").float_series().unwrap();
        assert_eq!(read.fetch_values().unwrap().values(), [1.0, 2.0, 3.0]);
        unblock_for_doc(run.stop_async()).unwrap();
        assert!(loss.append(4.0).is_err(), "stopped");
    }
}
