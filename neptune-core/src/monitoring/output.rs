//! `capture_stdout` / `capture_stderr`: what the program prints still reaches the terminal and
//! is appended, line by line, to the StringSeries `monitoring/<id>/stdout` / `stderr`.
//!
//! How (Unix): the file descriptor (1 or 2) is duplicated to keep the terminal, replaced by a
//! pipe, and a reader thread copies every byte to the kept terminal as it comes and cuts the
//! text into lines: a line longer than [`MAX_SERIES_STRING_LEN`] characters becomes several
//! entries, nothing is lost; text without an end of line is sent at the stop. `stop()` puts the
//! terminal back. Child processes started meanwhile inherit the pipe: their output is captured
//! too, and a child that outlives the stop keeps reaching the terminal, not the run.
//!
//! The descriptors belong to the process, so one run per process captures each stream: another
//! run asking for it gets an `Err` at `open()` until the first stops. Lines on stderr that begin
//! with `neptune: ` are the library's own reports: they reach the terminal but are not logged
//! (a report about a failed write must not cause another write). On other systems the flags
//! are refused with an `Err`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::rules::MAX_SERIES_STRING_LEN;
use crate::objects::inner::ObjectInner;

use super::Stopper;

/// Which stream is captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    /// File descriptor 1.
    Stdout,
    /// File descriptor 2.
    Stderr,
}

static STDOUT_TAKEN: AtomicBool = AtomicBool::new(false);
static STDERR_TAKEN: AtomicBool = AtomicBool::new(false);

impl Stream {
    fn leaf(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    fn taken(self) -> &'static AtomicBool {
        match self {
            Stream::Stdout => &STDOUT_TAKEN,
            Stream::Stderr => &STDERR_TAKEN,
        }
    }
}

/// Starts capturing `stream` into `run`; an `Err` when another run of this process captures it.
pub(crate) fn start(run: &Arc<ObjectInner>, stream: Stream) -> Result<Stopper> {
    let leaf = stream.leaf();
    if stream.taken().swap(true, Ordering::AcqRel) {
        return Err(Error::Config(format!(
            "capture_{leaf}: another run of this process already captures {leaf}, and only one \
             run per process can; stop that run first, or open this one with \
             capture_{leaf}(false)"
        )));
    }
    let started = imp::start(run, stream);
    if started.is_err() {
        stream.taken().store(false, Ordering::Release);
    }
    started
}

/// Cuts finished lines into entries of at most [`MAX_SERIES_STRING_LEN`] characters.
pub(crate) fn entries(line: &str) -> Vec<String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() {
        return vec![String::new()];
    }
    let chars: Vec<char> = line.chars().collect();
    chars
        .chunks(MAX_SERIES_STRING_LEN)
        .map(|c| c.iter().collect())
        .collect()
}

/// Bytes of a line without an end kept before they are logged as entries of their own.
const MAX_OPEN_LINE: usize = 64 * 1024;
/// Entries waiting for the run (while it is being dropped) before more are left out.
const MAX_PENDING: usize = 100_000;

/// Splits a byte stream into lines; what a line is missing of UTF-8 waits for the next bytes.
#[derive(Default)]
pub(crate) struct LineSplitter {
    open: Vec<u8>,
}

impl LineSplitter {
    /// Takes `bytes`, returns the lines they finish (without the end of line).
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for part in bytes.split_inclusive(|b| *b == b'\n') {
            if let Some(body) = part.strip_suffix(b"\n") {
                self.open.extend_from_slice(body);
                lines.push(String::from_utf8_lossy(&self.open).into_owned());
                self.open.clear();
            } else {
                self.open.extend_from_slice(part);
            }
        }
        if self.open.len() > MAX_OPEN_LINE {
            // Keep an unfinished UTF-8 sequence at the end for the next bytes.
            let cut = match std::str::from_utf8(&self.open) {
                Err(e) if e.error_len().is_none() => e.valid_up_to(),
                _ => self.open.len(),
            };
            let rest = self.open.split_off(cut);
            lines.push(String::from_utf8_lossy(&self.open).into_owned());
            self.open = rest;
        }
        lines
    }

    /// What is left without an end of line, at the end of the stream.
    pub(crate) fn finish(&mut self) -> Option<String> {
        if self.open.is_empty() {
            return None;
        }
        let line = String::from_utf8_lossy(&self.open).into_owned();
        self.open.clear();
        Some(line)
    }
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::{Arc, Mutex, Weak};
    use std::thread;

    use super::{entries, LineSplitter, Stream, MAX_PENDING};
    use crate::error::{Error, Result};
    use crate::model::operation::{Operation, StringPoint};
    use crate::model::path::FieldPath;
    use crate::model::rules::clock::now_ms;
    use crate::monitoring::Stopper;
    use crate::objects::inner::ObjectInner;

    /// Entries read but not yet written to the run.
    struct Pending {
        points: Vec<StringPoint>,
        /// Set by the stop: nothing is written after it.
        finished: bool,
    }

    struct Shared {
        path: FieldPath,
        pending: Mutex<Pending>,
        library_reports: bool,
    }

    impl Shared {
        fn add(&self, line: &str) {
            if self.library_reports && line.starts_with("neptune: ") {
                return;
            }
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if p.finished {
                return;
            }
            let ts = now_ms();
            for value in entries(line) {
                if p.points.len() >= MAX_PENDING {
                    return;
                }
                p.points.push(StringPoint {
                    step: None,
                    value,
                    timestamp_ms: ts,
                });
            }
        }

        /// Writes what is pending to `run`; `last` ends the writing.
        fn write(&self, run: &ObjectInner, last: bool) {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if p.finished {
                return;
            }
            p.finished = last;
            let points = std::mem::take(&mut p.points);
            if points.is_empty() || run.is_closed() {
                return;
            }
            run.write_internal(Operation::LogStrings {
                path: self.path.clone(),
                points,
            });
        }
    }

    fn os_error(what: &str) -> Error {
        Error::Config(format!(
            "capturing the output: {what} failed: {}",
            std::io::Error::last_os_error()
        ))
    }

    fn flush(stream: Stream) {
        let _ = match stream {
            Stream::Stdout => std::io::stdout().flush(),
            Stream::Stderr => std::io::stderr().flush(),
        };
    }

    pub(super) fn start(run: &Arc<ObjectInner>, stream: Stream) -> Result<Stopper> {
        let fd = match stream {
            Stream::Stdout => libc::STDOUT_FILENO,
            Stream::Stderr => libc::STDERR_FILENO,
        };
        let path = FieldPath::parse(&crate::monitoring::path(stream.leaf()))?;
        flush(stream);
        // SAFETY: dup and pipe only create descriptors, each owned right away.
        let saved = unsafe {
            let s = libc::dup(fd);
            if s < 0 {
                return Err(os_error("dup"));
            }
            OwnedFd::from_raw_fd(s)
        };
        let mut ends = [0i32; 2];
        // SAFETY: `ends` has room for the two descriptors pipe writes.
        if unsafe { libc::pipe(ends.as_mut_ptr()) } != 0 {
            return Err(os_error("pipe"));
        }
        // SAFETY: pipe succeeded: both are open descriptors that nothing else owns.
        let (read_end, write_end) =
            unsafe { (OwnedFd::from_raw_fd(ends[0]), OwnedFd::from_raw_fd(ends[1])) };
        for end in [&read_end, &saved] {
            // SAFETY: fcntl on a descriptor we own; the kept ones are not for child processes.
            unsafe { libc::fcntl(end.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        let terminal = File::from(
            saved
                .try_clone()
                .map_err(|e| Error::Config(format!("capturing the output: dup failed: {e}")))?,
        );
        // SAFETY: both descriptors are open; dup2 replaces `fd` atomically.
        if unsafe { libc::dup2(write_end.as_raw_fd(), fd) } < 0 {
            return Err(os_error("dup2"));
        }
        drop(write_end);
        let shared = Arc::new(Shared {
            path,
            pending: Mutex::new(Pending {
                points: Vec::new(),
                finished: false,
            }),
            library_reports: stream == Stream::Stderr,
        });
        let weak = Arc::downgrade(run);
        let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(1);
        let reader_shared = shared.clone();
        let spawned = thread::Builder::new()
            .name(format!("neptune-{}", stream.leaf()))
            .spawn(move || {
                let _done = crate::monitoring::Done(done_tx);
                read(File::from(read_end), terminal, &reader_shared, &weak);
            });
        let restore = move || {
            flush(stream);
            // SAFETY: `saved` is open and ours; this puts the terminal back at `fd`.
            unsafe { libc::dup2(saved.as_raw_fd(), fd) };
            drop(saved);
        };
        let handle = match spawned {
            Ok(h) => h,
            Err(e) => {
                restore();
                return Err(Error::Worker(format!(
                    "cannot start the {} reader thread: {e}",
                    stream.leaf()
                )));
            }
        };
        let thread_id = handle.thread().id();
        Ok(Box::new(move |run: &ObjectInner| {
            // Putting the terminal back closes the pipe's last write end (unless a child
            // process holds one): the reader reads what is left, then ends.
            restore();
            crate::monitoring::finish(handle, thread_id, &done_rx);
            shared.write(run, true);
            stream
                .taken()
                .store(false, std::sync::atomic::Ordering::Release);
        }))
    }

    fn read(mut pipe: File, mut terminal: File, shared: &Shared, run: &Weak<ObjectInner>) {
        let mut buf = vec![0u8; 8192];
        let mut lines = LineSplitter::default();
        loop {
            let n = match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            let _ = terminal.write_all(&buf[..n]);
            let finished = lines.push(&buf[..n]);
            if finished.is_empty() {
                continue;
            }
            for line in &finished {
                shared.add(line);
            }
            // The run may be mid-drop (no upgrade): the stop writes what is pending then.
            if let Some(inner) = run.upgrade() {
                shared.write(&inner, false);
                drop(inner);
            }
        }
        if let Some(line) = lines.finish() {
            shared.add(&line);
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use std::sync::Arc;

    use super::Stream;
    use crate::error::{Error, Result};
    use crate::monitoring::Stopper;
    use crate::objects::inner::ObjectInner;

    pub(super) fn start(_run: &Arc<ObjectInner>, stream: Stream) -> Result<Stopper> {
        Err(Error::Config(format!(
            "capture_{}: capturing the output needs a Unix system",
            stream.leaf()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::{entries, LineSplitter};

    #[test]
    fn lines_are_cut_at_the_end_of_line_and_long_ones_into_entries() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"a\r\nb"), vec!["a\r"]);
        assert_eq!(s.push("c\u{e9}\n\n".as_bytes()), vec!["bc\u{e9}", ""]);
        assert_eq!(entries("a\r"), vec!["a"]);
        let long = "\u{20ac}".repeat(2500);
        let parts = entries(&long);
        assert_eq!(
            parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            [1000, 1000, 500]
        );
        assert_eq!(parts.concat(), long);
        assert_eq!(s.push(b"tail"), Vec::<String>::new());
        assert_eq!(s.finish().as_deref(), Some("tail"));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn a_line_without_end_is_sent_in_parts_without_breaking_a_character() {
        let mut s = LineSplitter::default();
        let mut text = vec![b'x'; super::MAX_OPEN_LINE];
        text.extend_from_slice(&"\u{20ac}".as_bytes()[..2]);
        let out = s.push(&text);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].len(), super::MAX_OPEN_LINE);
        assert_eq!(s.push(&"\u{20ac}".as_bytes()[2..]), Vec::<String>::new());
        assert_eq!(s.finish().as_deref(), Some("\u{20ac}"));
    }
}
