//! Operations: the one contract between handles (the front) and backends (the back).
//!
//! Every write becomes one [`Operation`] on a path. The worker carries them in batches to the
//! backend; tests assert exact operation streams through the memory backend; the server's wire
//! format is batches of these.

use serde::{Deserialize, Deserializer, Serialize};

use crate::model::tag_first;

use crate::model::path::FieldPath;
use crate::model::types::{GitInfo, RunState};

/// One point of a FloatSeries.
///
/// `step: None` asks for the next step (the series' last step + 1, or 0), assigned where the
/// writes meet (the store, or the server's store) inside the transaction that applies the point,
/// so that several writers appending to one series keep every point. On the wire the step is
/// then left out; batches written by older clients, with a step on every point, read the same.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FloatPoint {
    /// The step; `None` asks the store for the next one.
    #[serde(
        default,
        with = "float::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub step: Option<f64>,
    /// The value.
    #[serde(with = "float")]
    pub value: f64,
    /// Unix time in milliseconds.
    pub timestamp_ms: i64,
}

/// One entry of a StringSeries; `step: None` as in [`FloatPoint`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StringPoint {
    /// The step; `None` asks the store for the next one.
    #[serde(
        default,
        with = "float::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub step: Option<f64>,
    /// The entry.
    pub value: String,
    /// Unix time in milliseconds.
    pub timestamp_ms: i64,
}

/// File content held in the content-addressed file area.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// SHA-256 of the content, lowercase hex.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Extension without the dot (`"png"`), possibly empty.
    pub extension: String,
}

/// One entry of a FileSeries; `step: None` as in [`FloatPoint`]. Entries read back from a
/// store always carry their step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilePoint {
    /// The step; `None` asks the store for the next one.
    #[serde(
        default,
        with = "float::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub step: Option<f64>,
    /// Unix time in milliseconds.
    pub timestamp_ms: i64,
    /// The file content.
    pub file: FileRef,
    /// An optional name of the entry.
    pub name: Option<String>,
    /// An optional description of the entry.
    pub description: Option<String>,
}

/// One file of a FileSet, at its path inside the set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSetEntry {
    /// Path inside the set, `/`-separated, relative.
    pub path: String,
    /// The file content.
    pub file: FileRef,
    /// Modification time of the source, Unix milliseconds.
    pub mtime_ms: i64,
}

/// One file referenced by an Artifact (hashed at the call, never uploaded).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactFile {
    /// Path inside the artifact.
    pub file_path: String,
    /// SHA-256 of the file (or its ETag for S3), hex.
    pub file_hash: String,
    /// Size in bytes.
    pub size: u64,
    /// "Local" or "S3".
    pub storage_type: String,
    /// `file://…` or `s3://…`.
    pub location: String,
    /// Last modification, Unix milliseconds.
    pub last_modified_ms: i64,
}

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

/// Serde for `f64` that keeps NaN and infinities (JSON has no literal for them):
/// they travel as the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
pub mod float {
    use serde::de::{self, Deserializer, Visitor};
    use serde::Serializer;
    use std::fmt;

    /// Writes the float; NaN and the infinities as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_str(name(*v))
        }
    }

    fn name(v: f64) -> &'static str {
        if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
    }

    /// The JSON form of a float under the same rule.
    pub fn to_json(v: f64) -> serde_json::Value {
        if v.is_finite() {
            serde_json::Value::from(v)
        } else {
            serde_json::Value::from(name(v))
        }
    }

    struct F64Visitor;

    impl Visitor<'_> for F64Visitor {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number, \"NaN\", \"Infinity\" or \"-Infinity\"")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            match v {
                "NaN" => Ok(f64::NAN),
                "Infinity" => Ok(f64::INFINITY),
                "-Infinity" => Ok(f64::NEG_INFINITY),
                _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
            }
        }
    }

    /// Reads a float as `serialize` writes it.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        d.deserialize_any(F64Visitor)
    }

    /// The same rule for `Option<f64>`.
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        /// Writes the float or null, as `float::serialize`.
        pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => super::serialize(v, s),
                None => s.serialize_none(),
            }
        }

        /// Reads a float or null, as `serialize` writes it.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
            #[derive(Deserialize)]
            struct W(#[serde(with = "super")] f64);
            Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> FieldPath {
        FieldPath::parse(s).unwrap()
    }

    #[test]
    fn non_finite_floats_round_trip() {
        let op = Operation::LogFloats {
            path: p("a"),
            points: vec![
                FloatPoint {
                    step: Some(0.0),
                    value: f64::NAN,
                    timestamp_ms: 1,
                },
                FloatPoint {
                    step: Some(1.0),
                    value: f64::INFINITY,
                    timestamp_ms: 2,
                },
                FloatPoint {
                    step: Some(2.0),
                    value: f64::NEG_INFINITY,
                    timestamp_ms: 3,
                },
            ],
        };
        let json = serde_json::to_string(&op).unwrap();
        assert!(
            json.contains("\"NaN\"") && json.contains("\"-Infinity\""),
            "{json}"
        );
        let back: Operation = serde_json::from_str(&json).unwrap();
        let Operation::LogFloats { points, .. } = back else {
            panic!("{back:?}")
        };
        assert!(points[0].value.is_nan());
        assert_eq!(points[1].value, f64::INFINITY);
        assert_eq!(points[2].value, f64::NEG_INFINITY);
    }

    #[test]
    fn steps_left_to_the_store_travel_without_a_step() {
        let op = Operation::LogFloats {
            path: p("a"),
            points: vec![FloatPoint {
                step: None,
                value: 1.5,
                timestamp_ms: 7,
            }],
        };
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(
            json,
            r#"{"type":"LogFloats","path":"a","points":[{"value":1.5,"timestamp_ms":7}]}"#
        );
        assert_eq!(serde_json::from_str::<Operation>(&json).unwrap(), op);
        // What older clients wrote: a step on every point, null read as no step.
        let old = r#"{"type":"LogStrings","path":"s","points":[{"step":3,"value":"x","timestamp_ms":1},{"step":null,"value":"y","timestamp_ms":2}]}"#;
        let Operation::LogStrings { points, .. } = serde_json::from_str(old).unwrap() else {
            panic!("not a LogStrings")
        };
        assert_eq!(points[0].step, Some(3.0));
        assert_eq!(points[1].step, None);
    }

    #[test]
    fn merge_concatenates_logs_on_one_path_only() {
        let pt = |s| FloatPoint {
            step: Some(s),
            value: s,
            timestamp_ms: 0,
        };
        let mut a = Operation::LogFloats {
            path: p("x"),
            points: vec![pt(0.0)],
        };
        assert!(a
            .merge(Operation::LogFloats {
                path: p("x"),
                points: vec![pt(1.0)]
            })
            .is_none());
        assert_eq!(a.weight(), 2);
        let other = Operation::LogFloats {
            path: p("y"),
            points: vec![pt(2.0)],
        };
        assert_eq!(a.merge(other.clone()), Some(other));
        let cfg = Operation::ConfigFloatSeries {
            path: p("x"),
            min: None,
            max: Some(1.0),
            unit: None,
        };
        let json = serde_json::to_string(&cfg).unwrap();
        assert_eq!(serde_json::from_str::<Operation>(&json).unwrap(), cfg);
    }
}
