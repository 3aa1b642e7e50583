//! What a run records about the process that logs to it, under `monitoring/<id>/`, where `<id>`
//! names the process so that several processes of one run do not collide.

pub(crate) mod traceback;

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// The id of this process under `monitoring/`: 8 hex digits of a hash of the host name, the
/// process id and the time this process first asked (the same for the whole process).
pub(crate) fn process_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let mut h = Sha256::new();
        h.update(crate::config::hostname().as_bytes());
        h.update(std::process::id().to_le_bytes());
        h.update(nanos.to_le_bytes());
        let digest = h.finalize();
        digest[..4].iter().map(|b| format!("{b:02x}")).collect()
    })
}

/// `monitoring/<id>/<leaf>` for this process.
pub(crate) fn path(leaf: &str) -> String {
    format!("monitoring/{}/{leaf}", process_id())
}
