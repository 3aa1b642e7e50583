//! Helpers shared by the `neptune` command's tests: the binary run on a store, and runs to show.

use std::path::Path;
use std::process::{Command, Output};

use neptune_core::{GitRef, Run};

/// `neptune --home <home> <args…>`, with no project or server from the environment.
pub fn neptune(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_neptune"))
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("NEPTUNE_PROJECT")
        .env_remove("NEPTUNE_URL")
        .output()
        .unwrap()
}

/// Runs a command that must succeed; its stdout.
pub fn ok(home: &Path, args: &[&str]) -> String {
    let out = neptune(home, args);
    assert!(
        out.status.success(),
        "neptune {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail; its stderr.
pub fn fails(home: &Path, args: &[&str]) -> String {
    let out = neptune(home, args);
    assert!(!out.status.success(), "neptune {args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

/// A run of `project` in the store at `home`, without git tracking and the dependency list.
pub fn open_run(home: &Path, project: &str) -> Run {
    Run::builder()
        .home(home)
        .project(project)
        .git_ref(GitRef::Disabled)
        .capture_dependencies(false)
        .open()
        .unwrap()
}
