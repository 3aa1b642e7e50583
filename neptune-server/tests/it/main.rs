//! The server's tests, in one binary: the real `neptune-server` binary on loopback ports, real
//! clients, and child processes (this binary run again with `NEPTUNE_TEST_ROLE`).

mod api;
mod behaviour;
mod common;
mod concurrent;
mod crash;
mod deploy;
mod limits;
mod loss;
mod object_files;
mod postgres;
mod py_client;
mod scope;
mod ui_browser;
mod ui_data;
mod ui_seed;
mod unavailable;

/// The work of a child process, chosen by `NEPTUNE_TEST_ROLE`; nothing in a normal run.
#[test]
fn child_entry() {
    let Some(role) = common::role() else { return };
    if !(concurrent::child(&role) || crash::child(&role)) {
        panic!("unknown child role {role}");
    }
}
