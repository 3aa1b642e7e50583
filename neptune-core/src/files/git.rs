//! GitRef: the state of the Git repository around a run, captured when the run is created
//! (`source_code/git`, and `source_code/diff` with the uncommitted changes as a `.patch`).
//!
//! The `git` command does the work (`rev-parse`, `log`, `status`, `diff`): it is what the
//! repository's own configuration and hooks agree with, it streams the diff, and it costs no
//! build time. Without `git`, outside a repository, in a repository without commits, or when a
//! command fails or takes longer than 10 s, the run simply has no git fields: a repository
//! never fails a run.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::operation::Operation;
use crate::model::path::FieldPath;
use crate::model::types::GitInfo;
use crate::objects::inner::ObjectInner;

/// Longest time one git command may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a run looks for its Git repository: the reference's `GitRef(repository_path=…)`
/// and `GitRef.DISABLED`.
///
/// ```
/// # fn main() -> neptune_core::Result<()> {
/// use neptune_core::{GitRef, Mode, Run};
/// // The default looks in the working directory and its parents.
/// let run = Run::builder().mode(Mode::Debug).git_ref(GitRef::Disabled).open()?;
/// assert!(!run.exists("source_code/git"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum GitRef {
    /// The repository around the working directory (the default; not for runs whose data
    /// stays in memory, debug mode or a memory backend, which are thrown away).
    #[default]
    WorkingDirectory,
    /// The repository at or above this path.
    Path(PathBuf),
    /// No git information.
    Disabled,
}

impl GitRef {
    /// The repository at or above `repository_path`.
    pub fn new(repository_path: impl Into<PathBuf>) -> GitRef {
        GitRef::Path(repository_path.into())
    }
}

/// Runs `git -C dir args…`, handing its output to `consume`; `None` when git is missing,
/// fails, or runs out of time (it is then killed).
fn run_git<T>(dir: &Path, args: &[&str], consume: impl FnOnce(&mut dyn Read) -> T) -> Option<T> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| tracing::debug!("git not available: {e}"))
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let child = Arc::new(Mutex::new(child));
    let (done, stop) = mpsc::channel::<()>();
    let watchdog = {
        let child = child.clone();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(GIT_TIMEOUT) {
                tracing::warn!(
                    "a git command took longer than {GIT_TIMEOUT:?}; no git information recorded"
                );
                let _ = child.lock().unwrap_or_else(|e| e.into_inner()).kill();
            }
        })
    };
    let out = consume(&mut stdout);
    drop(stdout);
    let _ = done.send(());
    let _ = watchdog.join();
    let status = child
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .wait()
        .ok()?;
    status.success().then_some(out)
}

fn git_text(dir: &Path, args: &[&str]) -> Option<String> {
    run_git(dir, args, |r| {
        let mut s = Vec::new();
        r.read_to_end(&mut s)
            .ok()
            .map(|_| String::from_utf8_lossy(&s).into_owned())
    })
    .flatten()
}

/// Reads the repository at or above `start`; `None` when there is none (or no commit).
pub(crate) fn read_git(start: &Path) -> Option<(PathBuf, GitInfo)> {
    let root = PathBuf::from(git_text(start, &["rev-parse", "--show-toplevel"])?.trim_end());
    let log = git_text(
        &root,
        &[
            "log",
            "-1",
            "--no-color",
            "--format=%H%x00%an%x00%ae%x00%cI%x00%B",
        ],
    )?;
    let mut parts = log.splitn(5, '\0');
    let commit_id = parts.next()?.trim().to_owned();
    let author_name = parts.next()?.to_owned();
    let author_email = parts.next()?.to_owned();
    let commit_date: DateTime<Utc> = DateTime::parse_from_rfc3339(parts.next()?.trim())
        .ok()?
        .with_timezone(&Utc);
    let message = parts.next().unwrap_or("").trim_end().to_owned();
    if commit_id.is_empty() {
        return None;
    }
    let branch = git_text(&root, &["symbolic-ref", "--short", "-q", "HEAD"])
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty());
    let dirty = git_text(
        &root,
        &["status", "--porcelain", "--untracked-files=normal"],
    )
    .is_some_and(|s| !s.trim().is_empty());
    // Exit status 1 means "no remote": no URLs.
    let remotes = git_text(&root, &["config", "--get-regexp", r"^remote\..*\.url$"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, url)| url.trim().to_owned()))
        .collect();
    Some((
        root,
        GitInfo {
            commit_id,
            message,
            author_name,
            author_email,
            commit_date,
            branch,
            dirty,
            remotes,
        },
    ))
}

/// Records `source_code/git` and, when there are uncommitted changes, `source_code/diff`.
/// Never fails: problems are logged at debug level.
pub(crate) fn capture(obj: &ObjectInner, git_ref: &GitRef) {
    let start = match git_ref {
        GitRef::Disabled => return,
        GitRef::Path(p) => p.clone(),
        // Runs whose data stays in memory (debug mode, a memory backend) are thrown away, and
        // are what tests use: the default looks for no repository there; an explicit
        // GitRef::new(path) still does.
        GitRef::WorkingDirectory
            if obj.mode == crate::config::Mode::Debug
                || obj.backend().writer().location() == "memory" =>
        {
            return
        }
        GitRef::WorkingDirectory => match std::env::current_dir() {
            Ok(d) => d,
            Err(_) => return,
        },
    };
    let Some((root, info)) = read_git(&start) else {
        tracing::debug!(path = %start.display(), "no git repository: no source_code/git");
        return;
    };
    let (Ok(git_path), Ok(diff_path)) = (
        FieldPath::parse("source_code/git"),
        FieldPath::parse("source_code/diff"),
    ) else {
        return;
    };
    let dirty = info.dirty;
    obj.write_internal(Operation::AssignGitRef {
        path: git_path,
        value: Box::new(info),
    });
    if !dirty {
        return;
    }
    let backend = obj.backend();
    let diff = run_git(
        &root,
        &["diff", "HEAD", "--no-color", "--no-ext-diff", "--binary"],
        |r| backend.writer().put_file(r, "patch"),
    );
    match diff {
        Some(Ok(file)) if file.size > 0 => obj.write_internal(Operation::UploadFile {
            path: diff_path,
            file,
        }),
        Some(Err(e)) => tracing::debug!("git diff not recorded: {e}"),
        _ => {}
    }
}
