//! Integrations with the crates a Rust ML program already uses, each behind its feature.

#[cfg(feature = "tracing")]
pub mod tracing;
