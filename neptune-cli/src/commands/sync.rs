//! `neptune sync`: uploads what `neptune status` lists. Every stored text (ids, paths, reasons)
//! is escaped for the terminal.

use std::path::Path;

use neptune_core::sync::{sync_all, SyncOptions};

use crate::format::{escape, quoted};
use crate::{exit, CliResult};

/// `neptune sync`: uploads every stopped run's queue under `home`. Fails (exits non-zero) when
/// anything was not uploaded, or was refused, or is kept aside.
pub(crate) fn run(home: &Path, url: Option<String>, token: Option<String>) -> CliResult {
    let mut opts = SyncOptions::from_env();
    if url.is_some() {
        opts.url = url;
    }
    if let Some(t) = token {
        opts.token = t;
    }
    if opts.token.is_empty() {
        return Err(exit::invalid(
            "no API token: set NEPTUNE_API_TOKEN or pass --api-token (create one with \
             `neptune-server token create --project P --scope write`)",
        ));
    }
    let report = sync_all(home, &opts);
    for s in &report.synced {
        let same = s.local_id == s.server_id;
        println!(
            "synced {}{} ({} values)",
            escape(&s.server_id),
            if same {
                String::new()
            } else {
                format!(" (offline {})", escape(&s.local_id))
            },
            s.values
        );
        for r in &s.rejected {
            eprintln!("  kept aside: {}: {}", quoted(&r.path), escape(&r.reason));
        }
        if s.set_aside > 0 {
            eprintln!(
                "  {} entr{} kept aside in {} (`neptune status` lists them)",
                s.set_aside,
                if s.set_aside == 1 { "y" } else { "ies" },
                s.dir.display()
            );
        }
    }
    for (dir, e) in &report.failed {
        eprintln!("not synced: {}: {}", dir.display(), escape(&e.to_string()));
    }
    if report.synced.is_empty() && report.failed.is_empty() {
        println!("nothing to sync in {}", home.display());
    }
    if report.is_complete() {
        return Ok(());
    }
    let aside = report.synced.iter().filter(|s| s.set_aside > 0).count();
    let mut problems = Vec::new();
    if !report.failed.is_empty() {
        problems.push(format!(
            "{} run(s) not synced (their data stays on disk; run `neptune sync` again)",
            report.failed.len()
        ));
    }
    if aside > 0 {
        problems.push(format!(
            "{aside} run(s) keep refused operations or damaged records aside (`neptune status` \
             lists them)"
        ));
    }
    Err(problems.join("; ").into())
}
