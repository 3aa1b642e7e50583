//! The one generator of operations for property tests (the wire's, the disk queue's): every
//! variant of [`Operation`], with the values that are hard to carry (NaN and infinities,
//! steps left out, escapes in strings).

use chrono::TimeZone;
use proptest::prelude::*;

use crate::model::operation::{
    ArtifactFile, FilePoint, FileRef, FileSetEntry, FloatPoint, Operation, StringPoint,
};
use crate::model::path::FieldPath;
use crate::model::types::{GitInfo, RunState};

/// A valid field path of one to three parts.
pub(crate) fn path() -> impl Strategy<Value = FieldPath> {
    "[a-z]{1,6}(/[a-z0-9_]{1,6}){0,2}".prop_map(|p| FieldPath::parse(&p).expect("a valid path"))
}

/// Any float, non-finite ones often.
pub(crate) fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        -1e6..1e6f64,
    ]
}

fn step() -> impl Strategy<Value = Option<f64>> {
    prop::option::of(-1e9..1e9f64)
}

fn text() -> impl Strategy<Value = String> {
    ".{0,12}"
}

fn file_ref() -> impl Strategy<Value = FileRef> {
    ("[0-9a-f]{64}", any::<u64>(), "[a-z]{0,4}").prop_map(|(digest, size, extension)| FileRef {
        digest,
        size,
        extension,
    })
}

fn artifact_file() -> impl Strategy<Value = ArtifactFile> {
    (text(), "[0-9a-f]{8}", any::<u64>(), text(), any::<i64>()).prop_map(
        |(file_path, file_hash, size, location, last_modified_ms)| ArtifactFile {
            file_path,
            file_hash,
            size,
            storage_type: "Local".into(),
            location,
            last_modified_ms,
        },
    )
}

fn git_info() -> impl Strategy<Value = GitInfo> {
    (
        "[0-9a-f]{40}",
        text(),
        prop::option::of(text()),
        any::<bool>(),
        prop::collection::vec(text(), 0..3),
        0i64..4_000_000_000_000,
    )
        .prop_map(|(commit_id, message, branch, dirty, remotes, ms)| GitInfo {
            commit_id,
            message,
            author_name: "a".into(),
            author_email: "a@b.c".into(),
            commit_date: chrono::Utc
                .timestamp_millis_opt(ms)
                .single()
                .unwrap_or_default(),
            branch,
            dirty,
            remotes,
        })
}

fn float_points() -> impl Strategy<Value = Vec<FloatPoint>> {
    prop::collection::vec((step(), float(), any::<i64>()), 0..20).prop_map(|pts| {
        pts.into_iter()
            .map(|(step, value, timestamp_ms)| FloatPoint {
                step,
                value,
                timestamp_ms,
            })
            .collect()
    })
}

fn string_points() -> impl Strategy<Value = Vec<StringPoint>> {
    prop::collection::vec((step(), text(), any::<i64>()), 0..10).prop_map(|pts| {
        pts.into_iter()
            .map(|(step, value, timestamp_ms)| StringPoint {
                step,
                value,
                timestamp_ms,
            })
            .collect()
    })
}

fn file_points() -> impl Strategy<Value = Vec<FilePoint>> {
    let point = (
        step(),
        any::<i64>(),
        file_ref(),
        prop::option::of(text()),
        prop::option::of(text()),
    );
    prop::collection::vec(point, 0..3).prop_map(|pts| {
        pts.into_iter()
            .map(|(step, timestamp_ms, file, name, description)| FilePoint {
                step,
                timestamp_ms,
                file,
                name,
                description,
            })
            .collect()
    })
}

/// Any operation; series points often, as in real batches.
pub(crate) fn op() -> impl Strategy<Value = Operation> {
    use Operation::*;
    let strings = || prop::collection::vec(text(), 0..4);
    let artifact_files = || prop::collection::vec(artifact_file(), 0..3);
    prop_oneof![
        4 => (path(), float_points()).prop_map(|(path, points)| LogFloats { path, points }),
        2 => (path(), string_points()).prop_map(|(path, points)| LogStrings { path, points }),
        1 => (path(), file_points()).prop_map(|(path, points)| LogImages { path, points }),
        1 => (path(), float()).prop_map(|(path, value)| AssignFloat { path, value }),
        1 => (path(), any::<i64>()).prop_map(|(path, value)| AssignInt { path, value }),
        1 => (path(), any::<bool>()).prop_map(|(path, value)| AssignBool { path, value }),
        1 => (path(), ".{0,40}").prop_map(|(path, value)| AssignString { path, value }),
        1 => (path(), any::<i64>()).prop_map(|(path, value_ms)| AssignDatetime { path, value_ms }),
        1 => (path(), any::<bool>()).prop_map(|(path, a)| AssignRunState {
            path,
            value: if a { RunState::Active } else { RunState::Inactive },
        }),
        1 => (path(), git_info()).prop_map(|(path, g)| AssignGitRef { path, value: Box::new(g) }),
        1 => (path(), "[0-9a-f]{8}", artifact_files())
            .prop_map(|(path, hash, files)| AssignArtifact { path, hash, files }),
        1 => (path(), file_ref()).prop_map(|(path, file)| UploadFile { path, file }),
        1 => (
            path(),
            prop::collection::vec((text(), file_ref(), any::<i64>()), 0..3),
            any::<bool>()
        )
            .prop_map(|(path, files, reset)| UploadFileSet {
                path,
                files: files
                    .into_iter()
                    .map(|(path, file, mtime_ms)| FileSetEntry { path, file, mtime_ms })
                    .collect(),
                reset,
            }),
        1 => path().prop_map(|path| ClearFloatLog { path }),
        1 => path().prop_map(|path| ClearStringLog { path }),
        1 => path().prop_map(|path| ClearImageLog { path }),
        1 => (path(), prop::option::of(float()), prop::option::of(float()), prop::option::of(text()))
            .prop_map(|(path, min, max, unit)| ConfigFloatSeries { path, min, max, unit }),
        1 => (path(), strings()).prop_map(|(path, values)| AddStrings { path, values }),
        1 => (path(), strings()).prop_map(|(path, values)| RemoveStrings { path, values }),
        1 => path().prop_map(|path| ClearStringSet { path }),
        1 => (path(), strings()).prop_map(|(path, paths)| DeleteFiles { path, paths }),
        1 => path().prop_map(|path| DeleteAttribute { path }),
        1 => (path(), artifact_files()).prop_map(|(path, files)| TrackFilesToArtifact { path, files }),
        1 => path().prop_map(|path| ClearArtifact { path }),
        1 => (path(), "[A-Z]{2,4}-[0-9]{1,3}", path()).prop_map(|(path, source_object, source_path)| {
            CopyAttribute { path, source_object, source_path }
        }),
    ]
}

/// A batch's operations.
pub(crate) fn ops() -> impl Strategy<Value = Vec<Operation>> {
    prop::collection::vec(op(), 0..6)
}
