//! `neptune ui`: the web UI on the embedded store, on 127.0.0.1, read-only, no token.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use crate::CliResult;

/// Serves the pages until Ctrl-C; `port` 0 takes any free port (the URL is printed).
pub(crate) fn run(home: &Path, port: u16) -> CliResult {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    Ok(neptune_server::ui::run_local(home, addr)?)
}
