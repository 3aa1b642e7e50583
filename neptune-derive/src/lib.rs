//! `#[derive(Loggable)]` for neptune (work in progress).
