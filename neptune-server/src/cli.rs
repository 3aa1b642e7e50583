//! `neptune serve`, as a function the `neptune` command line calls (`Err` is the message for a
//! failing exit).

use std::path::Path;

use crate::{Limits, ServerConfig};

/// `neptune serve`: runs a server (as `neptune-server` does).
pub fn serve_command(
    data: &Path,
    listen: std::net::SocketAddr,
    max_body_mib: usize,
    max_upload_mib: u64,
) -> Result<(), String> {
    crate::ops::init_logging();
    crate::run(ServerConfig {
        data: data.to_path_buf(),
        files: None,
        database: None,
        database_connections: crate::DEFAULT_DATABASE_CONNECTIONS,
        listen,
        limits: Limits {
            max_body: max_body_mib.saturating_mul(1 << 20),
            max_upload: max_upload_mib.saturating_mul(1 << 20),
            ..Limits::default()
        },
    })
}
