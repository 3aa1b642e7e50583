//! Every non-file field type and its methods, read back through the embedded store, and every
//! bad-input rule of the core issue: a clear `Err` at the call, nothing half-written.

mod namespaces;
mod refusals;
mod values;

use neptune::Run;

fn open(dir: &tempfile::TempDir) -> Run {
    Run::builder()
        .home(dir.path())
        .project("team/fields")
        .open()
        .unwrap()
}
