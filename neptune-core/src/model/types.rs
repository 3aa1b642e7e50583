//! Field types, run states and the values that fetches return.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The type of a field, named as in the field-types reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FieldType {
    /// A 64-bit float.
    Float,
    /// A 64-bit signed integer.
    Integer,
    /// A boolean.
    Boolean,
    /// A string of at most 16,384 characters.
    String,
    /// A point in time, UTC, millisecond precision.
    Datetime,
    /// A series of floats with steps and timestamps.
    FloatSeries,
    /// A series of strings (each at most 1,000 characters) with steps and timestamps.
    StringSeries,
    /// A series of files (images and others) with steps and timestamps.
    FileSeries,
    /// One file.
    File,
    /// A set of files by their paths.
    FileSet,
    /// A set of strings (`sys/tags`).
    StringSet,
    /// Files tracked by hash and metadata, local or in S3.
    Artifact,
    /// The git commit of the code (`source_code/git`).
    GitRef,
    /// Active or Inactive (`sys/state`).
    RunState,
}

impl FieldType {
    /// Every field type, in the order the reference lists them.
    pub const ALL: [FieldType; 14] = [
        FieldType::Float,
        FieldType::Integer,
        FieldType::Boolean,
        FieldType::String,
        FieldType::Datetime,
        FieldType::FloatSeries,
        FieldType::StringSeries,
        FieldType::FileSeries,
        FieldType::File,
        FieldType::FileSet,
        FieldType::StringSet,
        FieldType::Artifact,
        FieldType::GitRef,
        FieldType::RunState,
    ];

    /// The reference's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Float => "Float",
            FieldType::Integer => "Integer",
            FieldType::Boolean => "Boolean",
            FieldType::String => "String",
            FieldType::Datetime => "Datetime",
            FieldType::FloatSeries => "FloatSeries",
            FieldType::StringSeries => "StringSeries",
            FieldType::FileSeries => "FileSeries",
            FieldType::File => "File",
            FieldType::FileSet => "FileSet",
            FieldType::StringSet => "StringSet",
            FieldType::Artifact => "Artifact",
            FieldType::GitRef => "GitRef",
            FieldType::RunState => "RunState",
        }
    }

    /// Parses a name given by [`FieldType::name`].
    pub fn from_name(name: &str) -> Option<FieldType> {
        FieldType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether the type holds one value that `fetch()` returns.
    pub fn is_single_value(self) -> bool {
        matches!(
            self,
            FieldType::Float
                | FieldType::Integer
                | FieldType::Boolean
                | FieldType::String
                | FieldType::Datetime
                | FieldType::StringSet
                | FieldType::RunState
                | FieldType::GitRef
                | FieldType::Artifact
        )
    }

    /// Whether the type is a series (appended to).
    pub fn is_series(self) -> bool {
        matches!(
            self,
            FieldType::FloatSeries | FieldType::StringSeries | FieldType::FileSeries
        )
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether an object is running: the `sys/state` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RunState {
    /// The object is open for writing somewhere.
    Active,
    /// The object was stopped (or its writer is gone).
    Inactive,
}

impl RunState {
    /// "Active" or "Inactive", as the reference shows them.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Active => "Active",
            RunState::Inactive => "Inactive",
        }
    }

    /// Parses "Active" or "Inactive" (any case).
    pub fn parse(s: &str) -> Option<RunState> {
        match s.to_ascii_lowercase().as_str() {
            "active" => Some(RunState::Active),
            "inactive" => Some(RunState::Inactive),
            _ => None,
        }
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Git information recorded in a GitRef field (`source_code/git`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitInfo {
    /// Full commit id (hex).
    pub commit_id: String,
    /// The commit's message.
    pub message: String,
    /// The commit author's name.
    pub author_name: String,
    /// The commit author's e-mail.
    pub author_email: String,
    /// When the commit was made.
    pub commit_date: DateTime<Utc>,
    /// The branch, or `None` on a detached HEAD.
    pub branch: Option<String>,
    /// Whether the working tree had uncommitted changes.
    pub dirty: bool,
    /// The repository's remote URLs.
    pub remotes: Vec<String>,
}

/// A value read back with an untyped `fetch()`.
///
/// Namespaces come back as nested maps of their single-value fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Value {
    /// A Float.
    Float(#[serde(with = "crate::model::operation::float")] f64),
    /// An Integer.
    Integer(i64),
    /// A Boolean.
    Boolean(bool),
    /// A String.
    String(String),
    /// A Datetime.
    Datetime(DateTime<Utc>),
    /// A StringSet.
    StringSet(BTreeSet<String>),
    /// A RunState.
    RunState(RunState),
    /// A GitRef.
    GitRef(Box<GitInfo>),
    /// The hash of an Artifact field.
    Artifact(String),
    /// A namespace: the values of its fields by relative path.
    Namespace(BTreeMap<String, Value>),
}

impl Value {
    /// The field type the value belongs to (`None` for a namespace).
    pub fn field_type(&self) -> Option<FieldType> {
        Some(match self {
            Value::Float(_) => FieldType::Float,
            Value::Integer(_) => FieldType::Integer,
            Value::Boolean(_) => FieldType::Boolean,
            Value::String(_) => FieldType::String,
            Value::Datetime(_) => FieldType::Datetime,
            Value::StringSet(_) => FieldType::StringSet,
            Value::RunState(_) => FieldType::RunState,
            Value::GitRef(_) => FieldType::GitRef,
            Value::Artifact(_) => FieldType::Artifact,
            Value::Namespace(_) => return None,
        })
    }

    /// The value as `f64`, from a Float or an Integer.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(v) => Some(v),
            Value::Integer(v) => Some(v as f64),
            _ => None,
        }
    }

    /// The value as `i64`, from an Integer.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Integer(v) => Some(v),
            _ => None,
        }
    }

    /// The value as `bool`, from a Boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Boolean(v) => Some(v),
            _ => None,
        }
    }

    /// The text of a String (or the name of a RunState, or an Artifact's hash).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Artifact(s) => Some(s),
            Value::RunState(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The value of a Datetime.
    pub fn as_datetime(&self) -> Option<DateTime<Utc>> {
        match *self {
            Value::Datetime(v) => Some(v),
            _ => None,
        }
    }

    /// The fields of a namespace.
    pub fn as_namespace(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Namespace(m) => Some(m),
            _ => None,
        }
    }

    /// The field at the relative path `rel` of a namespace value.
    pub fn get(&self, rel: &str) -> Option<&Value> {
        rel.split('/')
            .try_fold(self, |v, seg| v.as_namespace()?.get(seg))
    }

    /// The value as JSON (NaN and infinities as the strings "NaN", "Infinity", "-Infinity").
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Float(v) => crate::model::operation::float::to_json(*v),
            Value::Integer(v) => J::from(*v),
            Value::Boolean(v) => J::from(*v),
            Value::String(s) | Value::Artifact(s) => J::from(s.as_str()),
            Value::Datetime(d) => J::from(d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            Value::StringSet(s) => J::from(s.iter().cloned().collect::<Vec<_>>()),
            Value::RunState(s) => J::from(s.as_str()),
            Value::GitRef(g) => serde_json::to_value(g).unwrap_or(J::Null),
            Value::Namespace(m) => {
                J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Float(v) => write!(f, "{v}"),
            Value::Integer(v) => write!(f, "{v}"),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::String(s) | Value::Artifact(s) => f.write_str(s),
            Value::Datetime(d) => write!(
                f,
                "{}",
                d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ),
            Value::StringSet(s) => {
                let v: Vec<&str> = s.iter().map(String::as_str).collect();
                f.write_str(&v.join(","))
            }
            Value::RunState(s) => f.write_str(s.as_str()),
            Value::GitRef(g) => f.write_str(&g.commit_id),
            Value::Namespace(_) => write!(f, "{}", self.to_json()),
        }
    }
}
