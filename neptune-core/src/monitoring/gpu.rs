//! GPU figures through NVML, loaded at run time (feature `gpu`). Without an NVIDIA driver:
//! one debug message and no GPU fields.

use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::Nvml;

/// The NVML library, opened once per sampler.
pub(crate) struct Gpus {
    nvml: Nvml,
    count: u32,
}

impl Gpus {
    /// `None` (and a debug message) when there is no driver or no GPU.
    pub(crate) fn open() -> Option<Gpus> {
        let nvml = match Nvml::init() {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!("no GPU metrics: NVML could not be loaded ({e})");
                return None;
            }
        };
        match nvml.device_count() {
            Ok(count) if count > 0 => Some(Gpus { nvml, count }),
            Ok(_) => {
                tracing::debug!("no GPU metrics: NVML found no device");
                None
            }
            Err(e) => {
                tracing::debug!("no GPU metrics: NVML could not count devices ({e})");
                None
            }
        }
    }

    /// `gpu_<i>` (%), `gpu_memory_<i>` (GB), `gpu_temperature_<i>` (°C), `gpu_power_<i>` (W).
    pub(crate) fn sample(&self, out: &mut Vec<(String, f64)>) {
        for i in 0..self.count {
            let Ok(d) = self.nvml.device_by_index(i) else {
                continue;
            };
            if let Ok(u) = d.utilization_rates() {
                out.push((format!("gpu_{i}"), f64::from(u.gpu)));
            }
            if let Ok(m) = d.memory_info() {
                out.push((format!("gpu_memory_{i}"), m.used as f64 / 1e9));
            }
            if let Ok(t) = d.temperature(TemperatureSensor::Gpu) {
                out.push((format!("gpu_temperature_{i}"), f64::from(t)));
            }
            if let Ok(p) = d.power_usage() {
                out.push((format!("gpu_power_{i}"), f64::from(p) / 1000.0));
            }
        }
    }
}
