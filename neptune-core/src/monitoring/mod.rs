//! What a run records about the process that logs to it, under `monitoring/<id>/`, where `<id>`
//! names the process so that several processes of one run do not collide: hardware use
//! ([`hardware`]), what the program prints ([`output`]), the panic that ended it
//! ([`traceback`]), and where it ran ([`environment`]: host, pid, Rust version, dependencies).
//!
//! Each background part registers a stopper; [`stop`] runs them when the run stops (or drops),
//! before the run refuses writes, so their last lines are kept.

pub(crate) mod environment;
#[cfg(feature = "gpu")]
pub(crate) mod gpu;
pub(crate) mod hardware;
pub(crate) mod output;
pub(crate) mod traceback;

use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{JoinHandle, ThreadId};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::objects::inner::ObjectInner;

/// The default of `monitoring_interval`, as the original client's.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// How long a stop waits for a background thread to finish before leaving it behind.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// The id of this process under `monitoring/`: 8 hex digits of a hash of the host name, the
/// process id and the time this process first asked (the same for the whole process).
pub(crate) fn process_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut h = Sha256::new();
        h.update(crate::config::hostname().as_bytes());
        h.update(std::process::id().to_le_bytes());
        h.update(nanos.to_le_bytes());
        let digest = h.finalize();
        digest[..4].iter().map(|b| format!("{b:02x}")).collect()
    })
}

/// `monitoring/<id>/<leaf>` for this process.
pub(crate) fn path(leaf: &str) -> String {
    format!("monitoring/{}/{leaf}", process_id())
}

/// What a run's builder asked to record (the builder flags of a run).
#[derive(Clone, Debug)]
pub(crate) struct Capture {
    /// `capture_hardware_metrics`.
    pub hardware: bool,
    /// `monitoring_interval`.
    pub interval: Duration,
    /// `capture_stdout` (default off).
    pub stdout: bool,
    /// `capture_stderr` (default off).
    pub stderr: bool,
    /// `capture_dependencies`: `None` is the default.
    pub dependencies: Option<bool>,
}

impl Default for Capture {
    fn default() -> Self {
        Capture {
            hardware: true,
            interval: DEFAULT_INTERVAL,
            stdout: false,
            stderr: false,
            dependencies: None,
        }
    }
}

/// Ends a background part of a run's monitoring; given the run, which may be mid-drop.
pub(crate) type Stopper = Box<dyn FnOnce(&ObjectInner) + Send>;

/// Stoppers of running monitors, by the address of their run.
static ACTIVE: Mutex<Vec<(usize, Stopper)>> = Mutex::new(Vec::new());

fn key(run: &ObjectInner) -> usize {
    run as *const ObjectInner as usize
}

/// Starts what `capture` asks for on a run that was just opened for writing. On an `Err`, what
/// was started is registered already: the run's stop (or drop) ends it.
pub(crate) fn start(run: &Arc<ObjectInner>, capture: &Capture, created: bool) -> Result<()> {
    if capture.hardware || capture.stdout || capture.stderr {
        environment::record_process(run);
    }
    if created {
        environment::record_dependencies(run, capture.dependencies);
    }
    let register = |s: Stopper| {
        let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        active.push((key(run), s));
    };
    if capture.stdout {
        register(output::start(run, output::Stream::Stdout)?);
    }
    if capture.stderr {
        register(output::start(run, output::Stream::Stderr)?);
    }
    if capture.hardware {
        register(hardware::start(run, capture.interval)?);
    }
    Ok(())
}

/// Ends the monitors of `run` (bounded: a thread that does not finish in time is left behind
/// and writes nothing more). Called by the run's stop, before it refuses writes.
pub(crate) fn stop(run: &ObjectInner) {
    let k = key(run);
    let mine: Vec<Stopper> = {
        let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
        let (mine, rest): (Vec<_>, Vec<_>) = active.drain(..).partition(|(r, _)| *r == k);
        *active = rest;
        mine.into_iter().map(|(_, s)| s).collect()
    };
    for s in mine {
        s(run);
    }
}

/// Sends once when a monitor thread ends, however it ends.
pub(crate) struct Done(pub crossbeam_channel::Sender<()>);

impl Drop for Done {
    fn drop(&mut self) {
        let _ = self.0.try_send(());
    }
}

/// Joins a monitor thread that was told to stop, waiting at most [`STOP_WAIT`]; never waits
/// for itself (the run's last handle can drop on the monitor's own thread).
pub(crate) fn finish(handle: JoinHandle<()>, id: ThreadId, done: &crossbeam_channel::Receiver<()>) {
    if std::thread::current().id() == id {
        return;
    }
    if done.recv_timeout(STOP_WAIT).is_ok() {
        let _ = handle.join();
    } else {
        tracing::debug!("a monitoring thread did not stop within {STOP_WAIT:?}; left behind");
    }
}
