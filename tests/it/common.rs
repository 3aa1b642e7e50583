//! Helpers shared by the integration tests of the `neptune` crate.

use std::path::{Path, PathBuf};

use neptune::{GitRef, Mode, Run};

/// A run in debug mode: nothing on disk.
pub fn debug_run() -> Run {
    Run::builder().mode(Mode::Debug).open().unwrap()
}

/// A run of `project` in the store at `home`, without git tracking and without the dependency
/// list (tests run inside a checkout).
pub fn open_run(home: &Path, project: &str) -> Run {
    Run::builder()
        .home(home)
        .project(project)
        .git_ref(GitRef::Disabled)
        .capture_dependencies(false)
        .open()
        .unwrap()
}

/// Writes `bytes` at `p`, creating its folders; returns `p`.
pub fn write_file(p: &Path, bytes: &[u8]) -> PathBuf {
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(p, bytes).unwrap();
    p.to_path_buf()
}
