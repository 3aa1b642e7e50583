//! Operations: the one contract between handles (the front) and backends (the back).
//!
//! Every write becomes one [`Operation`] on a path. The worker carries them in batches to the
//! backend; tests assert exact operation streams through the memory backend; the server's wire
//! format is batches of these.

pub mod float;
mod points;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Deserializer, Serialize};

use crate::model::tag_first;

use crate::model::path::FieldPath;
use crate::model::types::{GitInfo, RunState};

pub use points::{ArtifactFile, FilePoint, FileRef, FileSetEntry, FloatPoint, StringPoint};

/// Declares [`Operation`] once and derives from that one list of variants the decoder that
/// reads an operation whose `type` comes first without buffering it (see [`tag_first`]).
///
/// `Operation` is internally tagged; serde's derived decoding of such an enum reads the whole
/// object into memory before it looks at the tag. [`OperationByTag`] is the same list as an
/// externally tagged `remote` definition, which [`tag_first`] drives straight from the input.
macro_rules! operation_enum {
    ($(#[$attr:meta])* pub enum Operation { $($variants:tt)* }) => {
        $(#[$attr])*
        pub enum Operation { $($variants)* }

        /// [`Operation`] decoded once its tag is known.
        #[derive(Deserialize)]
        #[serde(remote = "Operation")]
        #[allow(dead_code)]
        enum OperationByTag { $($variants)* }

        /// serde's derived decoding, the reference the tests hold the tag-first decoder to.
        #[cfg(test)]
        #[derive(Deserialize)]
        #[serde(remote = "Operation", tag = "type")]
        #[allow(dead_code)]
        pub(crate) enum OperationDerived { $($variants)* }
    };
}

operation_enum! {
    /// A write to one field path.
    ///
    /// Serialized with a `type` tag:
    /// ```
    /// use neptune_core::{FieldPath, Operation};
    /// let op = Operation::AssignFloat { path: FieldPath::parse("params/lr").unwrap(), value: 0.3 };
    /// assert_eq!(
    ///     serde_json::to_string(&op).unwrap(),
    ///     r#"{"type":"AssignFloat","path":"params/lr","value":0.3}"#
    /// );
    /// ```
    ///
    /// Decoding reads the `type` first when it comes first, as the encoder always writes it, and
    /// otherwise accepts what serde's derived decoding of an internally tagged enum accepts.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(tag = "type")]
    #[non_exhaustive]
    pub enum Operation {
        /// Assigns a Float.
        AssignFloat {
            /// The field written.
            path: FieldPath,
            /// The value.
            #[serde(with = "float")]
            value: f64,
        },
        /// Assigns an Integer.
        AssignInt {
            /// The field written.
            path: FieldPath,
            /// The value.
            value: i64,
        },
        /// Assigns a Boolean.
        AssignBool {
            /// The field written.
            path: FieldPath,
            /// The value.
            value: bool,
        },
        /// Assigns a String.
        AssignString {
            /// The field written.
            path: FieldPath,
            /// The value.
            value: String,
        },
        /// A Datetime, as Unix milliseconds.
        AssignDatetime {
            /// The field written.
            path: FieldPath,
            /// Unix milliseconds.
            value_ms: i64,
        },
        /// Sets `sys/state`; only the library itself writes it.
        AssignRunState {
            /// The field written.
            path: FieldPath,
            /// The value.
            value: RunState,
        },
        /// Assigns the GitRef of `source_code/git`.
        AssignGitRef {
            /// The field written.
            path: FieldPath,
            /// The value.
            value: Box<GitInfo>,
        },
        /// An artifact copied from another field: its hash and files.
        AssignArtifact {
            /// The field written.
            path: FieldPath,
            /// The artifact's hash.
            hash: String,
            /// The files.
            files: Vec<ArtifactFile>,
        },
        /// Assigns a File (content already in the file area).
        UploadFile {
            /// The field written.
            path: FieldPath,
            /// The file content.
            file: FileRef,
        },
        /// Adds files to a FileSet, or replaces its files.
        UploadFileSet {
            /// The field written.
            path: FieldPath,
            /// The files.
            files: Vec<FileSetEntry>,
            /// Whether the set is emptied first (`assign`) or added to (`upload_files`).
            reset: bool,
        },
        /// Appends points to a FloatSeries.
        LogFloats {
            /// The field written.
            path: FieldPath,
            /// The points, in order.
            points: Vec<FloatPoint>,
        },
        /// Appends entries to a StringSeries.
        LogStrings {
            /// The field written.
            path: FieldPath,
            /// The points, in order.
            points: Vec<StringPoint>,
        },
        /// Appends entries to a FileSeries.
        LogImages {
            /// The field written.
            path: FieldPath,
            /// The points, in order.
            points: Vec<FilePoint>,
        },
        /// Empties a FloatSeries.
        ClearFloatLog {
            /// The field written.
            path: FieldPath,
        },
        /// Empties a StringSeries.
        ClearStringLog {
            /// The field written.
            path: FieldPath,
        },
        /// Empties a FileSeries.
        ClearImageLog {
            /// The field written.
            path: FieldPath,
        },
        /// Sets the display settings of a FloatSeries.
        ConfigFloatSeries {
            /// The field written.
            path: FieldPath,
            /// Lower end of the y axis.
            #[serde(with = "float::option")]
            min: Option<f64>,
            /// Upper end of the y axis.
            #[serde(with = "float::option")]
            max: Option<f64>,
            /// Unit of the values.
            unit: Option<String>,
        },
        /// Adds strings to a StringSet.
        AddStrings {
            /// The field written.
            path: FieldPath,
            /// The strings.
            values: Vec<String>,
        },
        /// Removes strings from a StringSet.
        RemoveStrings {
            /// The field written.
            path: FieldPath,
            /// The strings.
            values: Vec<String>,
        },
        /// Empties a StringSet.
        ClearStringSet {
            /// The field written.
            path: FieldPath,
        },
        /// Removes files (or folders) from a FileSet.
        DeleteFiles {
            /// The field written.
            path: FieldPath,
            /// Paths inside the set.
            paths: Vec<String>,
        },
        /// Deletes a field or namespace.
        DeleteAttribute {
            /// The field written.
            path: FieldPath,
        },
        /// Adds tracked files to an Artifact.
        TrackFilesToArtifact {
            /// The field written.
            path: FieldPath,
            /// The files.
            files: Vec<ArtifactFile>,
        },
        /// Empties an Artifact.
        ClearArtifact {
            /// The field written.
            path: FieldPath,
        },
        /// Copy of another object's field; resolved by the backend into an assign of its value.
        CopyAttribute {
            /// The field written.
            path: FieldPath,
            /// The id of the object copied from.
            source_object: String,
            /// The path copied from.
            source_path: FieldPath,
        },
    }
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        tag_first::deserialize(d)
    }
}

impl tag_first::Tagged for Operation {
    const TAG: &'static str = "type";
    const EXPECTING: &'static str = "an operation (an object with a `type`)";

    fn by_tag<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        OperationByTag::deserialize(d)
    }
}

impl Operation {
    /// The path the operation writes.
    pub fn path(&self) -> &FieldPath {
        use Operation::*;
        match self {
            AssignFloat { path, .. }
            | AssignInt { path, .. }
            | AssignBool { path, .. }
            | AssignString { path, .. }
            | AssignDatetime { path, .. }
            | AssignRunState { path, .. }
            | AssignGitRef { path, .. }
            | AssignArtifact { path, .. }
            | UploadFile { path, .. }
            | UploadFileSet { path, .. }
            | LogFloats { path, .. }
            | LogStrings { path, .. }
            | LogImages { path, .. }
            | ClearFloatLog { path }
            | ClearStringLog { path }
            | ClearImageLog { path }
            | ConfigFloatSeries { path, .. }
            | AddStrings { path, .. }
            | RemoveStrings { path, .. }
            | ClearStringSet { path }
            | DeleteFiles { path, .. }
            | DeleteAttribute { path }
            | TrackFilesToArtifact { path, .. }
            | ClearArtifact { path }
            | CopyAttribute { path, .. } => path,
        }
    }

    /// The field type the operation gives its path (`None` for deletes and copies).
    pub fn field_type(&self) -> Option<crate::FieldType> {
        use crate::FieldType as T;
        use Operation::*;
        Some(match self {
            AssignFloat { .. } => T::Float,
            AssignInt { .. } => T::Integer,
            AssignBool { .. } => T::Boolean,
            AssignString { .. } => T::String,
            AssignDatetime { .. } => T::Datetime,
            AssignRunState { .. } => T::RunState,
            AssignGitRef { .. } => T::GitRef,
            AssignArtifact { .. } | TrackFilesToArtifact { .. } | ClearArtifact { .. } => {
                T::Artifact
            }
            UploadFile { .. } => T::File,
            UploadFileSet { .. } | DeleteFiles { .. } => T::FileSet,
            LogFloats { .. } | ClearFloatLog { .. } | ConfigFloatSeries { .. } => T::FloatSeries,
            LogStrings { .. } | ClearStringLog { .. } => T::StringSeries,
            LogImages { .. } | ClearImageLog { .. } => T::FileSeries,
            AddStrings { .. } | RemoveStrings { .. } | ClearStringSet { .. } => T::StringSet,
            DeleteAttribute { .. } | CopyAttribute { .. } => return None,
        })
    }

    /// How many values the operation carries (points of a log, 1 otherwise); the queue's measure.
    pub fn weight(&self) -> usize {
        match self {
            Operation::LogFloats { points, .. } => points.len(),
            Operation::LogStrings { points, .. } => points.len(),
            Operation::LogImages { points, .. } => points.len(),
            _ => 1,
        }
    }

    /// Why the operation's times cannot be stored: a point's timestamp or a Datetime (Unix
    /// milliseconds) outside the dates a Datetime holds, which would read back as another
    /// time. `None` when every time is in range. The store refuses such operations (a
    /// hostile or broken client sends them; the library refuses them at the call).
    pub fn time_problem(&self) -> Option<String> {
        fn first_bad(ts: impl Iterator<Item = i64>) -> Option<(usize, i64)> {
            ts.enumerate()
                .find(|(_, ms)| !crate::model::rules::datetime_in_range(*ms))
        }
        let (what, ms) = match self {
            Operation::AssignDatetime { value_ms, .. }
                if !crate::model::rules::datetime_in_range(*value_ms) =>
            {
                ("the datetime".to_owned(), *value_ms)
            }
            Operation::LogFloats { points, .. } => first_bad(points.iter().map(|p| p.timestamp_ms))
                .map(|(i, ms)| (format!("the timestamp of point #{i}"), ms))?,
            Operation::LogStrings { points, .. } => {
                first_bad(points.iter().map(|p| p.timestamp_ms))
                    .map(|(i, ms)| (format!("the timestamp of point #{i}"), ms))?
            }
            Operation::LogImages { points, .. } => first_bad(points.iter().map(|p| p.timestamp_ms))
                .map(|(i, ms)| (format!("the timestamp of point #{i}"), ms))?,
            _ => return None,
        };
        Some(format!(
            "\"{}\": {what} ({ms} ms) is not between the years -262143 and 262142; nothing \
             of this operation was written",
            self.path()
        ))
    }

    /// Appends `next` to `self` when both log to the same series (the worker's merge).
    /// Returns `next` back when they cannot be merged.
    pub fn merge(&mut self, next: Operation) -> Option<Operation> {
        match (self, next) {
            (
                Operation::LogFloats {
                    path: a,
                    points: pa,
                },
                Operation::LogFloats {
                    path: b,
                    points: pb,
                },
            ) if *a == b => {
                pa.extend(pb);
                None
            }
            (
                Operation::LogStrings {
                    path: a,
                    points: pa,
                },
                Operation::LogStrings {
                    path: b,
                    points: pb,
                },
            ) if *a == b => {
                pa.extend(pb);
                None
            }
            (_, next) => Some(next),
        }
    }
}
