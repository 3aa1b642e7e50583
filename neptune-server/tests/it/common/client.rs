//! The library's side of the server tests: a run that reads what the server holds, the
//! settings of `neptune sync`, and the checks on stored series.

use std::path::Path;

use neptune_core::sync::SyncOptions;
use neptune_core::{FetchOptions, Mode, Run};

use super::Server;

/// Opens object `id` on `server` read-only (its reads go to the server).
pub fn reader(server: &Server, token: &str, id: &str, home: &Path) -> Run {
    Run::builder()
        .home(home)
        .url(&server.url)
        .api_token(token)
        .with_id(id)
        .mode(Mode::ReadOnly)
        .open()
        .unwrap()
}

/// The steps of the FloatSeries at `path`.
pub fn steps_of(run: &Run, path: &str) -> Vec<f64> {
    let f = run
        .field(path)
        .fetch_values_with(FetchOptions::new())
        .unwrap();
    f.floats().unwrap().steps().to_vec()
}

/// Whether `steps` are exactly 0, 1, … n-1 (nothing lost, doubled or out of order).
pub fn contiguous(steps: &[f64], n: usize) -> bool {
    steps.len() == n && steps.iter().enumerate().all(|(i, s)| *s == i as f64)
}

/// `neptune sync` settings: the URL each run was logged with, 3 attempts, no progress bars.
pub fn sync_opts(token: &str) -> SyncOptions {
    SyncOptions {
        url: None,
        token: token.to_owned(),
        attempts: 3,
        progress: false,
    }
}
