//! Compile-time errors of `#[derive(Loggable)]` and of typed handles: one mistake per file,
//! each with the exact diagnostic (`tests/ui/*.stderr`, toolchain pinned by
//! rust-toolchain.toml). Regenerate after a deliberate change with `TRYBUILD=overwrite`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
