//! One module per command (`neptune plot` lives in its own module, `plot`).

pub(crate) mod diff;
pub(crate) mod download;
pub(crate) mod export;
pub(crate) mod fetch;
pub(crate) mod import;
pub(crate) mod projects;
pub(crate) mod runs;
pub(crate) mod show;
pub(crate) mod status;
pub(crate) mod sync;
pub(crate) mod ui;
