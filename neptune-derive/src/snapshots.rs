//! Expansion snapshots: each `tests/expand/NAME.rs` holds derive inputs; their expansion,
//! formatted with prettyplease, must equal `tests/expand/NAME.expanded.rs`. After a deliberate
//! change, regenerate with `UPDATE_EXPAND=1 cargo test -p neptune-derive snapshots`.

use std::path::{Path, PathBuf};

use crate::expand::{derive, DefaultCrate};

/// The expansion of every `#[derive(Loggable)]` item of `source`, formatted.
fn expand_source(source: &str) -> String {
    let file: syn::File = syn::parse_str(source).expect("fixture parses");
    let mut items = Vec::new();
    for item in file.items {
        let input: syn::DeriveInput = match item {
            syn::Item::Struct(s) => s.into(),
            syn::Item::Enum(e) => e.into(),
            syn::Item::Union(u) => u.into(),
            _ => continue,
        };
        let tokens = derive(&input, DefaultCrate::Core);
        let expanded: syn::File = syn::parse2(tokens).expect("expansion parses as items");
        items.extend(expanded.items);
    }
    prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: Vec::new(),
        items,
    })
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/expand exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "rs")
                && !p.to_string_lossy().ends_with(".expanded.rs")
        })
        .collect();
    out.sort();
    out
}

#[test]
fn snapshots() {
    let update = std::env::var_os("UPDATE_EXPAND").is_some();
    let fixtures = fixtures();
    assert!(!fixtures.is_empty(), "no fixture in tests/expand");
    let mut stale = Vec::new();
    for input in fixtures {
        let source = std::fs::read_to_string(&input).expect("fixture readable");
        let got = expand_source(&source);
        let snapshot = input.with_extension("expanded.rs");
        let want = std::fs::read_to_string(&snapshot).unwrap_or_default();
        if got != want {
            if update {
                std::fs::write(&snapshot, &got).expect("snapshot writable");
            } else {
                stale.push(format!(
                    "{}:\n--- want\n{want}\n--- got\n{got}",
                    snapshot.display()
                ));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "expansion differs from the snapshot (UPDATE_EXPAND=1 regenerates):\n{}",
        stale.join("\n")
    );
}

/// Prints the expansion of `EXPAND_SOURCE` (a file path), for debugging.
#[test]
fn print_expansion() {
    if let Some(path) = std::env::var_os("EXPAND_SOURCE") {
        let source = std::fs::read_to_string(path).expect("readable");
        println!("{}", expand_source(&source));
    }
}
