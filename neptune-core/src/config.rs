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

/// Longest workspace part of a project name.
pub const MAX_WORKSPACE_NAME: usize = 64;
/// Longest project part of a project name.
pub const MAX_PROJECT_NAME: usize = 100;

/// Checks a project name: `workspace/project`, each part made of ASCII letters, digits, `-`,
/// `_` and `.` (not `.` or `..` alone), the workspace at most [`MAX_WORKSPACE_NAME`] and the
/// project at most [`MAX_PROJECT_NAME`] characters. The `Err` names the rule broken.
pub(crate) fn check_project_name(name: &str) -> Result<()> {
    let rule = |why: String| {
        Err(Error::Config(format!(
            "project name {name:?} {why}; a project is named `workspace/project` with letters, \
             digits, '-', '_' and '.' (e.g. \"ml-team/nli\"), from project() or NEPTUNE_PROJECT"
        )))
    };
    let Some((workspace, project)) = name.split_once('/') else {
        return rule("has no workspace".into());
    };
    if project.contains('/') {
        return rule("has more than one '/'".into());
    }
    for (part, what, max) in [
        (workspace, "workspace", MAX_WORKSPACE_NAME),
        (project, "project", MAX_PROJECT_NAME),
    ] {
        if part.is_empty() {
            return rule(format!("has an empty {what} part"));
        }
        let n = part.chars().count();
        if n > max {
            return rule(format!(
                "has a {what} part of {n} characters, more than {max}"
            ));
        }
        if part == "." || part == ".." {
            return rule(format!("has {part:?} as its {what} part"));
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return rule(format!("has {c:?} in its {what} part"));
        }
    }
    Ok(())
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

/// The user name written to `sys/owner`: `USER`, `USERNAME` or `LOGNAME`, else the name of
/// the process's user in the password file (containers and services often set no `USER`),
/// else "unknown".
pub(crate) fn owner() -> String {
    env("USER")
        .or_else(|| env("USERNAME"))
        .or_else(|| env("LOGNAME"))
        .or_else(os_user)
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The name of the process's real user, from `/proc/self/status` and `/etc/passwd` (no libc
/// call, so no unsafe code; NSS-only accounts such as LDAP users are not found).
#[cfg(target_os = "linux")]
fn os_user() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    user_of_uid(&passwd, &uid)
}

#[cfg(not(target_os = "linux"))]
fn os_user() -> Option<String> {
    None
}

/// The name of `uid` in the text of a password file (`name:x:uid:gid:…` lines).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn user_of_uid(passwd: &str, uid: &str) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        let _password = f.next()?;
        (f.next()? == uid && !name.is_empty()).then(|| name.to_owned())
    })
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
    fn project_names_follow_one_rule() {
        for ok in [
            "local/sandbox",
            "ml-team/nli",
            "a/b",
            "Team_1/proj.v2",
            "w/p-q_r.s",
        ] {
            assert!(check_project_name(ok).is_ok(), "{ok}");
        }
        let long = format!("w/{}", "p".repeat(MAX_PROJECT_NAME + 1));
        for (bad, says) in [
            ("bad project name!", "has no workspace"),
            ("team/bad project name!", "' '"),
            ("team/x!", "'!'"),
            ("a/b/c", "more than one '/'"),
            ("/nli", "empty workspace"),
            ("team/", "empty project"),
            ("team/..", "\"..\""),
            ("tëam/nli", "'ë'"),
            ("team/a\u{1b}]0;x", "'\\u{1b}'"),
            (long.as_str(), "more than 100"),
        ] {
            let e = check_project_name(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(e.contains("letters, digits, '-', '_' and '.'"), "{e}");
        }
    }

    #[test]
    fn finds_a_user_in_a_password_file() {
        let passwd =
            "root:x:0:0:root:/root:/bin/bash\n# comment\nana:x:1000:1000::/home/ana:/bin/sh\n";
        assert_eq!(user_of_uid(passwd, "1000").as_deref(), Some("ana"));
        assert_eq!(user_of_uid(passwd, "0").as_deref(), Some("root"));
        assert_eq!(user_of_uid(passwd, "7"), None);
    }

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
