//! Core of the neptune experiment tracker: field model, operations, typed handles, background
//! worker and the embedded store.

pub mod backend;
mod error;
pub mod operation;
mod path;
pub mod store;
mod types;

pub use backend::{Backend, ObjectInfo, ObjectKind, OpenRequest};
pub use error::{Error, Result};
pub use operation::Operation;
pub use path::{FieldPath, MAX_PATH_LEN};
pub use types::{FieldType, GitInfo, RunState, Value};
