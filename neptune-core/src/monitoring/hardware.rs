//! `capture_hardware_metrics`: one background thread samples the machine and this process with
//! sysinfo (and GPUs through NVML with the `gpu` feature) every interval, and appends each
//! figure to a FloatSeries `monitoring/<id>/<name>`:
//!
//! | name | what |
//! | --- | --- |
//! | `cpu` | CPU use of the machine, % of all cores |
//! | `memory` | memory in use on the machine, GB |
//! | `disk` | space used on the disk that holds the working directory, % |
//! | `network_sent`, `network_received` | traffic of the machine's interfaces but loopback, MB/s |
//! | `process_cpu` | CPU use of this process, % of one core |
//! | `process_memory` | resident memory of this process, GB |
//! | `process_disk_read`, `process_disk_write` | this process's disk reads and writes, MB/s |
//! | `gpu_<i>`, `gpu_memory_<i>`, `gpu_temperature_<i>`, `gpu_power_<i>` | per GPU: use %, memory GB, °C, W |
//!
//! The first points come one interval after the run opens (CPU use is a difference between two
//! readings). The thread appends; the training loop never waits for it.

use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use sysinfo::{
    DiskRefreshKind, Disks, MemoryRefreshKind, Networks, Pid, ProcessRefreshKind,
    ProcessesToUpdate, System,
};

use super::Stopper;
use crate::error::{Error, Result};
use crate::objects::inner::ObjectInner;
use crate::objects::Object;

const GB: f64 = 1e9;
const MB: f64 = 1e6;

/// Reads the machine's and this process's figures; keeps what differences need.
pub(crate) struct Sampler {
    sys: System,
    disks: Disks,
    networks: Networks,
    pid: Option<Pid>,
    cwd: Option<PathBuf>,
    last: Instant,
    #[cfg(feature = "gpu")]
    gpu: Option<super::gpu::Gpus>,
}

impl Sampler {
    /// Takes the first readings (the baseline of the first sample).
    pub(crate) fn new() -> Option<Sampler> {
        let sys = match System::new() {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("no hardware metrics: sysinfo cannot read this system: {e}");
                return None;
            }
        };
        let disks =
            Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage())
                .ok()?;
        let networks = Networks::new_with_refreshed_list().ok()?;
        let mut s = Sampler {
            sys,
            disks,
            networks,
            pid: sysinfo::get_current_pid().ok(),
            cwd: std::env::current_dir().ok(),
            last: Instant::now(),
            #[cfg(feature = "gpu")]
            gpu: super::gpu::Gpus::open(),
        };
        s.refresh();
        Some(s)
    }

    fn refresh(&mut self) -> f64 {
        self.sys.refresh_cpu_usage();
        self.sys
            .refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        if let Some(pid) = self.pid {
            self.sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                false,
                ProcessRefreshKind::nothing()
                    .with_cpu()
                    .with_memory()
                    .with_disk_usage(),
            );
        }
        self.disks
            .refresh_specifics(false, DiskRefreshKind::nothing().with_storage());
        self.networks.refresh(false);
        let now = Instant::now();
        let secs = now.duration_since(self.last).as_secs_f64().max(1e-3);
        self.last = now;
        secs
    }

    /// The figures since the last call, by field name.
    pub(crate) fn sample(&mut self) -> Vec<(String, f64)> {
        let secs = self.refresh();
        let mut out = vec![
            ("cpu".to_owned(), f64::from(self.sys.global_cpu_usage())),
            ("memory".to_owned(), self.sys.used_memory() as f64 / GB),
        ];
        if let Some(disk) = self.working_disk() {
            let total = disk.total_space() as f64;
            if total > 0.0 {
                let used = total - disk.available_space() as f64;
                out.push(("disk".to_owned(), 100.0 * used / total));
            }
        }
        let (sent, received) = self
            .networks
            .iter()
            .filter(|(name, _)| name.to_str() != Some("lo"))
            .fold((0u64, 0u64), |(s, r), (_, n)| {
                (s + n.transmitted(), r + n.received())
            });
        out.push(("network_sent".to_owned(), sent as f64 / MB / secs));
        out.push(("network_received".to_owned(), received as f64 / MB / secs));
        if let Some(p) = self.pid.and_then(|pid| self.sys.process(pid)) {
            let io = p.disk_usage();
            out.push(("process_cpu".to_owned(), f64::from(p.cpu_usage())));
            out.push(("process_memory".to_owned(), p.memory() as f64 / GB));
            out.push((
                "process_disk_read".to_owned(),
                io.read_bytes as f64 / MB / secs,
            ));
            out.push((
                "process_disk_write".to_owned(),
                io.written_bytes as f64 / MB / secs,
            ));
        }
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &self.gpu {
            gpu.sample(&mut out);
        }
        out.retain(|(_, v)| v.is_finite());
        out
    }

    /// The disk whose mount point is the longest prefix of the working directory.
    fn working_disk(&self) -> Option<&sysinfo::Disk> {
        let cwd = self.cwd.as_deref()?;
        self.disks
            .iter()
            .filter(|d| cwd.starts_with(d.mount_point()))
            .max_by_key(|d| d.mount_point().as_os_str().len())
    }
}

/// Starts the sampling thread of `run`; it ends at the run's stop (or when the run is gone).
pub(crate) fn start(run: &Arc<ObjectInner>, interval: Duration) -> Result<Stopper> {
    if interval.is_zero() {
        return Err(Error::Config(
            "monitoring_interval must be longer than zero (default 10 s)".into(),
        ));
    }
    let weak: Weak<ObjectInner> = Arc::downgrade(run);
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let (done_tx, done_rx) = crossbeam_channel::bounded::<()>(1);
    let handle = thread::Builder::new()
        .name("neptune-monitor".into())
        .spawn(move || {
            let _done = super::Done(done_tx);
            let Some(mut sampler) = Sampler::new() else {
                return;
            };
            loop {
                match stop_rx.recv_timeout(interval) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                let figures = sampler.sample();
                let Some(inner) = weak.upgrade() else { return };
                if inner.is_closed() {
                    return;
                }
                let run = Object::from_inner(inner);
                for (name, value) in figures {
                    let series = run.field(&super::path(&name)).float_series();
                    if let Err(e) = series.and_then(|s| s.append(value)) {
                        tracing::debug!("hardware metric {name} not logged: {e}");
                    }
                }
            }
        })
        .map_err(|e| Error::Worker(format!("cannot start the hardware monitor thread: {e}")))?;
    let thread_id = handle.thread().id();
    Ok(Box::new(move |_inner: &ObjectInner| {
        let _ = stop_tx.try_send(());
        super::finish(handle, thread_id, &done_rx);
    }))
}
