//! The `neptune` command's tests, in one binary: the real binary run on real stores, and on a
//! real `neptune-server` for sync.

mod cli;
mod common;
mod import;
mod import_folder;
mod limits;
mod newcomer;
mod scripting;
mod sync;
mod ui;
