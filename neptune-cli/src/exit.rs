//! Exit codes: what kind of failure ended a command, decided here and nowhere else.
//!
//! A script tells "that run is not there" from "that query is wrong" from "the disk or the
//! server failed" by the code alone. Errors of the library are sorted by their variant
//! ([`of_core`]); the CLI's own messages say their kind when they are made ([`not_found`],
//! [`invalid`]); anything else is a plain failure.

use std::error::Error as StdError;
use std::fmt;

/// The exit codes, as `neptune --help` and the README list them.
pub(crate) const HELP: &str = "\
Exit codes:
  0  success
  1  failure: reading or writing files, the store, or anything else that went wrong
  2  invalid input: a bad query, path, argument value or setting (also clap's usage errors)
  3  not found: no store, project, run, model, model version or field of that name
  4  server: the server could not be reached, refused the token, or failed";

/// Why a command failed; each kind has its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// I/O, the store, or anything not sorted below.
    Failed,
    /// A bad query, path, argument value or setting.
    Invalid,
    /// A store, project, object or field that is not there.
    NotFound,
    /// The server could not be reached, or refused or failed the request.
    Server,
}

impl Failure {
    /// The process's exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Failure::Failed => 1,
            Failure::Invalid => 2,
            Failure::NotFound => 3,
            Failure::Server => 4,
        }
    }
}

/// A message of the CLI's own that knows its kind.
#[derive(Debug)]
pub(crate) struct CliError {
    kind: Failure,
    message: String,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for CliError {}

/// Something the user named is not there (exit code 3).
pub(crate) fn not_found(message: impl Into<String>) -> Box<dyn StdError> {
    Box::new(CliError {
        kind: Failure::NotFound,
        message: message.into(),
    })
}

/// Input that cannot be accepted (exit code 2).
pub(crate) fn invalid(message: impl Into<String>) -> Box<dyn StdError> {
    Box::new(CliError {
        kind: Failure::Invalid,
        message: message.into(),
    })
}

/// The kind of any error a command returned: the first error in its chain (sources, and the
/// error inside an I/O error) that has a kind decides; otherwise it is a plain failure.
pub(crate) fn classify(e: &(dyn StdError + 'static)) -> Failure {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(c) = e.downcast_ref::<CliError>() {
            return c.kind;
        }
        if let Some(c) = e.downcast_ref::<neptune_core::Error>() {
            return of_core(c);
        }
        // An I/O error that wraps another gives it as `get_ref`, not as its source.
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    Failure::Failed
}

/// The kind of each of the library's errors.
pub(crate) fn of_core(e: &neptune_core::Error) -> Failure {
    use neptune_core::Error as E;
    match e {
        E::MissingField { .. } | E::ObjectNotFound { .. } => Failure::NotFound,
        E::InvalidPath { .. }
        | E::TypeMismatch { .. }
        | E::NoSuchMethod { .. }
        | E::FieldAsNamespace { .. }
        | E::NamespaceAsField { .. }
        | E::NonIncreasingStep { .. }
        | E::InvalidStep { .. }
        | E::LengthMismatch { .. }
        | E::ReadOnlyField { .. }
        | E::ReadOnlyMode { .. }
        | E::Stopped { .. }
        | E::InvalidValue { .. }
        | E::Config(_)
        | E::Serialization { .. }
        | E::LoggableMismatch { .. } => Failure::Invalid,
        E::Server { status: 404, .. } => Failure::NotFound,
        E::Server {
            status: 400 | 409 | 413 | 422,
            ..
        } => Failure::Invalid,
        E::Server { .. } | E::Unavailable { .. } => Failure::Server,
        E::Store { .. }
        | E::Corrupt(_)
        | E::Io { .. }
        | E::Background { .. }
        | E::NotWritten { .. }
        | E::Worker(_) => Failure::Failed,
        // A variant added to the library later: a failure until it is sorted here.
        _ => Failure::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_own_code_and_the_help_lists_it() {
        let kinds = [
            Failure::Failed,
            Failure::Invalid,
            Failure::NotFound,
            Failure::Server,
        ];
        for (i, k) in kinds.iter().enumerate() {
            assert!(
                HELP.contains(&format!("\n  {}  ", k.code())),
                "{k:?} is listed"
            );
            assert!(kinds[..i].iter().all(|o| o.code() != k.code()));
        }
    }

    #[test]
    fn errors_are_sorted_through_their_source_chain() {
        let missing = neptune_core::Error::MissingField {
            object: "A-1".into(),
            path: "x".into(),
        };
        assert_eq!(classify(&missing), Failure::NotFound);
        let wrapped = std::io::Error::other(missing);
        assert_eq!(classify(&wrapped), Failure::NotFound);
        assert_eq!(classify(invalid("bad").as_ref()), Failure::Invalid);
        assert_eq!(classify(not_found("gone").as_ref()), Failure::NotFound);
        let boxed: Box<dyn StdError> = "plain".into();
        assert_eq!(classify(boxed.as_ref()), Failure::Failed);
        let refused = neptune_core::Error::Server {
            status: 401,
            code: "unauthorized".into(),
            message: "no".into(),
        };
        assert_eq!(classify(&refused), Failure::Server);
    }
}
