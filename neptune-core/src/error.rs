//! The one error type of the library: each message names the path, the type and what to do.

use crate::model::types::FieldType;

/// Shorthand for `Result<T, neptune_core::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, with the path and the fix in the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A path broke the path rules.
    #[error("invalid field path {path:?}: {reason}")]
    InvalidPath {
        /// The field path.
        path: String,
        /// Why.
        reason: String,
    },

    /// A method the field's type does not have, or a value of another type.
    #[error("field \"{path}\" is a {existing}; {attempted} would make it a {wanted}. Use another path, or delete the field first (pop)")]
    TypeMismatch {
        /// The field path.
        path: String,
        /// The type the field holds.
        existing: FieldType,
        /// The type the call needs.
        wanted: FieldType,
        /// The method that was called.
        attempted: &'static str,
    },

    /// A method that the field's type does not offer (e.g. `fetch_last` on a Float).
    #[error("field \"{path}\" is a {field_type}, which has no {method}(); {hint}")]
    NoSuchMethod {
        /// The field path.
        path: String,
        /// The type of the field.
        field_type: FieldType,
        /// The method that was called.
        method: &'static str,
        /// What to call instead.
        hint: &'static str,
    },

    /// A field used as a namespace: `a` is a field, `a/b` was written.
    #[error("\"{path}\" cannot be written: \"{field}\" is a {field_type} field, not a namespace")]
    FieldAsNamespace {
        /// The field path.
        path: String,
        /// The field on the way.
        field: String,
        /// The type of the field.
        field_type: FieldType,
    },

    /// A namespace used as a field: `a/b` exists, `a` was written.
    #[error("\"{path}\" is a namespace holding other fields, not a field; write to a path below it, or delete it first (pop)")]
    NamespaceAsField {
        /// The field path.
        path: String,
    },

    /// A step that is not greater than the series' last step.
    #[error("series \"{path}\": step {step} is not greater than the previous step {last}; steps must be strictly increasing (nothing was written)")]
    NonIncreasingStep {
        /// The field path.
        path: String,
        /// The step given.
        step: f64,
        /// The last step of the series.
        last: f64,
    },

    /// A step that is NaN or infinite.
    #[error("series \"{path}\": step {step} is not a finite number")]
    InvalidStep {
        /// The field path.
        path: String,
        /// The step given.
        step: f64,
    },

    /// `steps` or `timestamps` of another length than `values`.
    #[error("series \"{path}\": {what} has {got} entries but there are {values} values; give one per value (nothing was written)")]
    LengthMismatch {
        /// The field path.
        path: String,
        /// What has the wrong length.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The number of values.
        values: usize,
    },

    /// A write to a system field that only the store maintains.
    #[error("\"{path}\" is a read-only system field; only sys/name, sys/description, sys/tags and sys/failed can be written")]
    ReadOnlyField {
        /// The field path.
        path: String,
    },

    /// A write to an object opened in read-only mode.
    #[error("{object} is open in read-only mode; cannot write \"{path}\". Open it in another mode to write")]
    ReadOnlyMode {
        /// The object's id.
        object: String,
        /// The field path.
        path: String,
    },

    /// A write after `stop()`.
    #[error("{object} has been stopped; cannot write \"{path}\". Resume it with with_id(\"{object}\") to write more")]
    Stopped {
        /// The object's id.
        object: String,
        /// The field path.
        path: String,
    },

    /// A read of a field that does not exist.
    #[error("{object} has no field \"{path}\"")]
    MissingField {
        /// The object's id.
        object: String,
        /// The field path.
        path: String,
    },

    /// `with_id` of an object that does not exist.
    #[error("no {kind} with id \"{id}\" in {location}; check the id (e.g. `neptune runs`) or create a new one")]
    ObjectNotFound {
        /// The kind of object.
        kind: &'static str,
        /// The id looked for.
        id: String,
        /// Where it was looked for.
        location: String,
    },

    /// A value or argument that cannot be accepted, with the reason.
    #[error("\"{path}\": {reason}")]
    InvalidValue {
        /// The field path.
        path: String,
        /// Why.
        reason: String,
    },

    /// Settings that do not fit together (e.g. read-only mode without `with_id`).
    #[error("invalid settings: {0}")]
    Config(String),

    /// The embedded store failed.
    #[error("embedded store at {location}: {source}")]
    Store {
        /// The store's directory (or `memory`).
        location: String,
        /// What SQLite said.
        #[source]
        source: StoreError,
    },

    /// The neptune server refused a request. `status` is the HTTP status, `code` the API's
    /// error code (for example `unauthorized`, `forbidden`, `invalid`, `invalid_request`,
    /// `too_large`), `message` what the server said, with the server's address and what to do.
    #[error("{message} (HTTP {status}, {code})")]
    Server {
        /// The HTTP status of the answer.
        status: u16,
        /// The API's error code.
        code: String,
        /// The server's message, with the server's address and what to do.
        message: String,
    },

    /// The neptune server could not be reached (`status` is `None`), or answered that it
    /// cannot serve the request now (a 5xx, 429, 408, …): worth trying again later.
    #[error("{}", unavailable(.url, .status, .reason))]
    Unavailable {
        /// The server's address.
        url: String,
        /// The HTTP status of its answer; `None` when it did not answer.
        status: Option<u16>,
        /// What went wrong (the server's message, or why there was no answer).
        reason: String,
    },

    /// Data in the store is not what this version expects.
    #[error("corrupt data in the store: {0}")]
    Corrupt(String),

    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A value could not be turned into fields, or fields into a value.
    #[error("\"{path}\": {reason}")]
    Serialization {
        /// The field path.
        path: String,
        /// Why.
        reason: String,
    },

    /// A `Loggable` type that does not fit the fields at its path, found when binding it (the
    /// resume check), assigning a whole value or reading one back with `fetch_as`. Every
    /// problem is listed; binding and assigning write nothing when this is returned.
    #[error("cannot {action} {type_name} at {} of {object}{}: {} problem(s){}", at_label(.namespace), nothing_written(.action), .problems.len(), list(.problems))]
    LoggableMismatch {
        /// `sys/id` of the object.
        object: String,
        /// The namespace path (empty for the object's root).
        namespace: String,
        /// The Rust type, as `std::any::type_name` gives it.
        type_name: &'static str,
        /// "bind", "assign" or "read".
        action: &'static str,
        /// One error per field that does not fit, in declaration order.
        problems: Vec<Error>,
    },

    /// Writes that failed in the background (async mode), reported by `wait()` or `stop()`
    /// (each was also reported when it happened: a tracing warning, or a line on stderr when no
    /// tracing subscriber is installed).
    #[error("{count} operation(s) failed in the background and were not written; first: {first}")]
    Background {
        /// How many operations.
        count: usize,
        /// The first of them, described.
        first: String,
    },

    /// Writes that the store or server refused in sync mode (or with `wait`), returned by the
    /// call that made them, and by `stop()`.
    #[error("{}", not_written(*.count, .first))]
    NotWritten {
        /// How many operations.
        count: usize,
        /// The first of them, described.
        first: String,
    },

    /// The background worker is gone or did not answer in time.
    #[error("background worker: {0}")]
    Worker(String),
}

/// A failure of the store's database. Its message is the database engine's (SQLite's or
/// PostgreSQL's); the underlying error stays reachable through [`std::error::Error::source`]
/// for logs and debugging, and is not part of the API.
pub struct StoreError(Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    pub(crate) fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError(Box::new(e))
    }
}

impl std::fmt::Debug for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

fn not_written(count: usize, first: &str) -> String {
    if count == 1 {
        first.to_owned()
    } else {
        format!("{count} operation(s) were not written; first: {first}")
    }
}

fn unavailable(url: &str, status: &Option<u16>, reason: &str) -> String {
    match status {
        None => format!("cannot reach the neptune server at {url}: {reason}"),
        Some(s) => format!(
            "the neptune server at {url} cannot serve the request now (HTTP {s}): {reason}; \
             try again later"
        ),
    }
}

fn at_label(namespace: &str) -> String {
    if namespace.is_empty() {
        "the root".to_owned()
    } else {
        format!("\"{namespace}\"")
    }
}

fn nothing_written(action: &str) -> &'static str {
    if action == "read" {
        ""
    } else {
        " (nothing was written)"
    }
}

fn list(problems: &[Error]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn invalid(path: impl ToString, reason: impl Into<String>) -> Self {
        Error::InvalidValue {
            path: path.to_string(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_error_says_what_sqlite_said_and_keeps_it_as_its_source() {
        let e = Error::Store {
            location: "/data/.neptune".into(),
            source: StoreError::new(rusqlite::Error::InvalidQuery),
        };
        let sqlite = rusqlite::Error::InvalidQuery.to_string();
        assert_eq!(
            e.to_string(),
            format!("embedded store at /data/.neptune: {sqlite}")
        );
        let wrapped = std::error::Error::source(&e).expect("the StoreError");
        let inner = wrapped.source().expect("SQLite's error");
        assert!(inner.downcast_ref::<rusqlite::Error>().is_some());
    }
}
