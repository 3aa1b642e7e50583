//! Fills a store with demo runs for the web UI, then `neptune ui --home DIR` shows them.
//!
//! ```text
//! cargo run -p neptune-server --example ui_demo -- /tmp/demo-store
//! neptune ui --home /tmp/demo-store
//! ```

#[path = "../tests/it/ui_seed/mod.rs"]
mod ui_seed;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./.neptune".into());
    let ids = ui_seed::seed(std::path::Path::new(&dir), 8, 20_000);
    println!("{} runs in {dir}: {}", ids.len(), ids.join(", "));
}
