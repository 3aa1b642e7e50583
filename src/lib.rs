#![doc = include_str!("../README.md")]

pub use neptune_core::*;
/// The derive as this facade re-exports it: generated code names `::neptune::__private`.
#[cfg(feature = "derive")]
pub use neptune_derive::LoggableFacade as Loggable;
