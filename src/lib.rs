pub use neptune_core::*;
