//! The integration tests of the `neptune` crate, in one binary (one link instead of eighteen).
//! `tests/files_cwd.rs` stays a binary of its own: it changes the process's working directory.

// A renamed dependency, for derive_attrs: `crate = "::nep"` points generated code at it.
extern crate neptune as nep;

mod common;
mod compile_errors;
mod derive_attrs;
mod derive_basic;
mod derive_files;
mod derive_ops;
mod derive_resume;
mod derive_warnings;
mod fields;
mod files_artifact;
mod files_file;
mod files_fileset;
mod files_git;
mod files_series;
mod modes;
mod monitoring;
mod newcomer;
mod processes;
mod tables;
mod writers;
