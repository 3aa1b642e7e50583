//! A bounded pipe of byte chunks between a blocking thread and the HTTP thread's runtime:
//! file content streams through it in both directions, never whole in memory, and neither
//! side needs the other's kind of context (no `blocking_send`, which panics inside a runtime).

use std::collections::VecDeque;
use std::io::{self, Read};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};

use std::task::Waker;

use bytes::Bytes;

/// Chunks in flight at most.
const CAPACITY: usize = 8;

#[derive(Default)]
struct State {
    chunks: VecDeque<Bytes>,
    /// The writer finished (`Ok`) or failed (`Err`).
    end: Option<Result<(), String>>,
    /// The reader went away: the writer stops.
    reader_gone: bool,
    /// The async side, waiting for a chunk or for room.
    waker: Option<Waker>,
}

/// Both ends share this.
#[derive(Default)]
pub(crate) struct Pipe {
    state: Mutex<State>,
    /// Wakes the blocking side.
    cv: Condvar,
}

impl Pipe {
    pub(crate) fn new() -> Arc<Pipe> {
        Arc::new(Pipe::default())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes both sides; called after every change, with the state unlocked.
    fn wake(&self) {
        self.cv.notify_all();
        let w = self.lock().waker.take();
        if let Some(w) = w {
            w.wake();
        }
    }

    /// Blocking write of a chunk; `false` when the reader is gone.
    pub(crate) fn push_blocking(&self, chunk: Bytes) -> bool {
        let mut st = self.lock();
        while st.chunks.len() >= CAPACITY && !st.reader_gone {
            st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        if st.reader_gone {
            return false;
        }
        st.chunks.push_back(chunk);
        drop(st);
        self.wake();
        true
    }

    /// Async write of a chunk; `false` when the reader is gone.
    pub(crate) async fn push(&self, chunk: Bytes) -> bool {
        let mut chunk = Some(chunk);
        std::future::poll_fn(|cx| {
            let mut st = self.lock();
            if st.reader_gone {
                return Poll::Ready(false);
            }
            if st.chunks.len() < CAPACITY {
                if let Some(c) = chunk.take() {
                    st.chunks.push_back(c);
                }
                drop(st);
                self.cv.notify_all();
                return Poll::Ready(true);
            }
            st.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Ends the stream (`Err` makes the reader fail with the message).
    pub(crate) fn finish(&self, end: Result<(), String>) {
        let mut st = self.lock();
        st.end.get_or_insert(end);
        drop(st);
        self.wake();
    }

    /// The reader is done (or dropped).
    pub(crate) fn close_reader(&self) {
        self.lock().reader_gone = true;
        self.wake();
    }

    /// Blocking read of the next chunk: `Ok(None)` at the end.
    fn pop_blocking(&self) -> io::Result<Option<Bytes>> {
        let mut st = self.lock();
        loop {
            if let Some(c) = st.chunks.pop_front() {
                drop(st);
                self.wake();
                return Ok(Some(c));
            }
            match &st.end {
                Some(Ok(())) => return Ok(None),
                Some(Err(e)) => return Err(io::Error::other(e.clone())),
                None => st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }
}

/// The blocking reading end, as `Read`.
pub(crate) struct PipeReader {
    pipe: Arc<Pipe>,
    current: Bytes,
    done: bool,
}

impl PipeReader {
    pub(crate) fn new(pipe: Arc<Pipe>) -> Self {
        PipeReader {
            pipe,
            current: Bytes::new(),
            done: false,
        }
    }
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.pipe.pop_blocking()? {
                Some(c) => self.current = c,
                None => self.done = true,
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        self.pipe.close_reader();
    }
}

/// The async reading end, as a `Stream` for a request body.
pub(crate) struct PipeStream {
    pipe: Arc<Pipe>,
}

impl PipeStream {
    pub(crate) fn new(pipe: Arc<Pipe>) -> Self {
        PipeStream { pipe }
    }
}

impl futures_core::Stream for PipeStream {
    type Item = Result<Bytes, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let pipe = &self.pipe;
        let mut st = pipe.lock();
        if let Some(c) = st.chunks.pop_front() {
            drop(st);
            pipe.cv.notify_all();
            return Poll::Ready(Some(Ok(c)));
        }
        match &st.end {
            Some(Ok(())) => Poll::Ready(None),
            Some(Err(e)) => Poll::Ready(Some(Err(io::Error::other(e.clone())))),
            None => {
                st.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for PipeStream {
    fn drop(&mut self) {
        self.pipe.close_reader();
    }
}
