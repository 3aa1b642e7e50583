//! Where a run's process ran: `monitoring/<id>/hostname`, `pid` and `rust_version` (the
//! compiler that built this library), and the dependency list: the `Cargo.lock` found from the
//! working directory upward, as the File `source_code/dependencies` (extension `lock`).

use std::path::{Path, PathBuf};

use crate::model::operation::Operation;
use crate::model::path::FieldPath;
use crate::objects::inner::ObjectInner;

/// `rustc --version` of the compiler that built this library (set by the build script).
pub(crate) const RUST_VERSION: &str = env!("NEPTUNE_RUSTC_VERSION");

/// The File field that holds the dependency list.
pub(crate) const DEPENDENCIES: &str = "source_code/dependencies";

/// Writes `hostname`, `pid` and `rust_version` under `monitoring/<id>/`.
pub(crate) fn record_process(run: &ObjectInner) {
    let fields = [
        ("hostname", Some(crate::config::hostname())),
        ("rust_version", Some(RUST_VERSION.to_owned())),
        ("pid", None),
    ];
    for (leaf, text) in fields {
        let Ok(path) = FieldPath::parse(&super::path(leaf)) else {
            continue;
        };
        run.write_internal(match text {
            Some(value) => Operation::AssignString { path, value },
            None => Operation::AssignInt {
                path,
                value: i64::from(std::process::id()),
            },
        });
    }
}

/// Uploads the `Cargo.lock` nearest above the working directory, if any. `choice` is the
/// builder's `capture_dependencies`: by default runs whose data stays in memory (debug mode, a
/// memory backend), which tests use, are left without, as with `source_code/git`.
pub(crate) fn record_dependencies(run: &ObjectInner, choice: Option<bool>) {
    let in_memory =
        run.mode == crate::config::Mode::Debug || run.backend().writer().location() == "memory";
    if !choice.unwrap_or(!in_memory) {
        return;
    }
    let Some(lock) = std::env::current_dir().ok().and_then(|d| find_lock(&d)) else {
        tracing::debug!("no Cargo.lock from the working directory up: no {DEPENDENCIES}");
        return;
    };
    let file = std::fs::File::open(&lock)
        .map_err(|e| e.to_string())
        .and_then(|mut f| {
            run.backend()
                .writer()
                .put_file(&mut f, "lock")
                .map_err(|e| e.to_string())
        });
    match (file, FieldPath::parse(DEPENDENCIES)) {
        (Ok(file), Ok(path)) => run.write_internal(Operation::UploadFile { path, file }),
        (Err(e), _) => tracing::debug!(path = %lock.display(), "{DEPENDENCIES} not recorded: {e}"),
        _ => {}
    }
}

/// The nearest `Cargo.lock` in `start` or a folder above it.
pub(crate) fn find_lock(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file())
}
