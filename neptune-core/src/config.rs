//! Connection modes and the settings read from the environment.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};

/// How an object talks to its backend; the reference's connection modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Calls return at once; a background worker writes in batches (default).
    #[default]
    Async,
    /// Each call returns once its data is durable, and reports storage errors.
    Sync,
    /// Nothing leaves this machine: data goes to the local embedded store, or, when a server
    /// URL is set, to the local upload queue that `neptune sync` sends later.
    Offline,
    /// Nothing is written anywhere: an in-memory store that lives as long as the object.
    Debug,
    /// Reads only; needs `with_id`; every write is refused.
    ReadOnly,
}

impl Mode {
    /// The mode's name as `NEPTUNE_MODE` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Async => "async",
            Mode::Sync => "sync",
            Mode::Offline => "offline",
            Mode::Debug => "debug",
            Mode::ReadOnly => "read-only",
        }
    }
}

impl FromStr for Mode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Mode> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "async" => Mode::Async,
            "sync" => Mode::Sync,
            "offline" => Mode::Offline,
            "debug" => Mode::Debug,
            "read-only" | "read_only" | "readonly" => Mode::ReadOnly,
            other => {
                return Err(Error::Config(format!(
                    "unknown mode {other:?}; use async, sync, offline, debug or read-only"
                )))
            }
        })
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The project used when neither the builder nor `NEPTUNE_PROJECT` names one.
pub const DEFAULT_PROJECT: &str = "local/sandbox";
/// Default interval between background writes: at most this much is lost on a crash.
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_millis(500);
/// Default bound on how long `stop()` waits for queued data.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(60);

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// `NEPTUNE_PROJECT`, else [`DEFAULT_PROJECT`].
pub(crate) fn project_from_env() -> String {
    env("NEPTUNE_PROJECT").unwrap_or_else(|| DEFAULT_PROJECT.to_owned())
}

/// `NEPTUNE_MODE`, else async.
pub(crate) fn mode_from_env() -> Result<Mode> {
    env("NEPTUNE_MODE").map_or(Ok(Mode::Async), |m| m.parse())
}

/// `NEPTUNE_HOME`, else `./.neptune`.
pub fn home_from_env() -> PathBuf {
    env("NEPTUNE_HOME").map_or_else(|| PathBuf::from(".neptune"), PathBuf::from)
}

/// `NEPTUNE_CUSTOM_RUN_ID`, if set.
pub(crate) fn custom_run_id_from_env() -> Option<String> {
    env("NEPTUNE_CUSTOM_RUN_ID")
}

/// The user name written to `sys/owner`.
pub(crate) fn owner() -> String {
    env("USER")
        .or_else(|| env("USERNAME"))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The machine's host name, written to `sys/hostname`.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| env("HOSTNAME"))
        .or_else(|| env("COMPUTERNAME"))
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_mode() {
        for m in [
            Mode::Async,
            Mode::Sync,
            Mode::Offline,
            Mode::Debug,
            Mode::ReadOnly,
        ] {
            assert_eq!(m.as_str().parse::<Mode>().unwrap(), m);
        }
        assert_eq!(" READ-ONLY ".parse::<Mode>().unwrap(), Mode::ReadOnly);
        let err = "fast".parse::<Mode>().unwrap_err().to_string();
        assert!(
            err.contains("\"fast\"") && err.contains("read-only"),
            "{err}"
        );
    }
}
