#![doc = include_str!("../README.md")]

pub use neptune_core::*;
