//! The field model: paths, field types and values, the operations that change fields, and the
//! structure of an object's fields. Pure data and rules; nothing here does I/O.

pub(crate) mod inputs;
pub mod operation;
pub(crate) mod path;
pub mod rules;
pub(crate) mod serde_tree;
pub(crate) mod structure;
mod tag_first;
pub(crate) mod types;
pub(crate) mod values;
pub mod wire;
