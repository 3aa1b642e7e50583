//! Artifacts: track_files for a file and a folder (with destination; S3 objects on a real
//! S3-compatible server are neptune-core's `s3` test); the hash rules (each component changes the hash; adding files makes a
//! new version); fetch_hash, fetch_files_list, fetch and assign to copy to another field and
//! run; download, refused when a tracked file is gone or changed.

use crate::common::{open_run, write_file};
use std::path::Path;
use std::time::{Duration, SystemTime};

use neptune::plumbing::operation::ArtifactFile;
use neptune::plumbing::store::Store;
use neptune::plumbing::{OpenRequest, Operation, Reader, Writer};
use neptune::{Error, FieldPath, Mode, ObjectKind, Run, Value};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn track_fetch_copy_and_download() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let images = dir.path().join("images");
    write_file(&images.join("a.png"), b"png a");
    write_file(&images.join("sub/b.png"), b"png bb");
    let csv = dir.path().join("train.csv");
    write_file(&csv, b"x,y\n1,2\n");

    let run = open_run(&home, "team/files");
    let art = run.field("datasets/train").artifact().unwrap();
    art.track_files(s(&csv), None).unwrap();
    let files = art.fetch_files_list().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_path, "train.csv");
    // SHA-1 of "x,y\n1,2\n"
    assert_eq!(
        files[0].file_hash,
        "e2e9c03d2496ad0a4e3f8d5fbc692dc5369e4a9d"
    );
    assert_eq!(files[0].file_hash.len(), 40);
    assert_eq!(files[0].size, 8);
    assert_eq!(files[0].storage_type, "Local");
    let canonical = std::fs::canonicalize(&csv).unwrap();
    assert_eq!(
        files[0].location(),
        format!("file://{}", canonical.display())
    );
    assert_eq!(files[0].metadata["file_path"], files[0].location());
    assert_eq!(
        files[0].metadata["last_modified"].len(),
        "2022-04-22 09:53:53".len()
    );
    let v1 = art.fetch_hash().unwrap();
    assert_eq!(v1.len(), 64);

    // A folder under a destination: paths relative to the folder. A new version.
    art.track_files(s(&images), Some("images/")).unwrap();
    let paths: Vec<String> = art
        .fetch_files_list()
        .unwrap()
        .into_iter()
        .map(|f| f.file_path)
        .collect();
    assert_eq!(paths, ["images/a.png", "images/sub/b.png", "train.csv"]);
    let v2 = art.fetch_hash().unwrap();
    assert_ne!(v1, v2);
    assert_eq!(
        run.field("datasets/train").fetch().unwrap(),
        Value::Artifact(v2.clone())
    );
    assert_eq!(run.field("datasets/train").fetch_hash().unwrap(), v2);

    // Copy to another field of this run and to another run.
    let value = art.fetch().unwrap();
    run.field("datasets/copy")
        .artifact()
        .unwrap()
        .assign(value.clone())
        .unwrap();
    assert_eq!(run.field("datasets/copy").fetch_hash().unwrap(), v2);
    run.stop().unwrap();
    let old = Run::builder()
        .home(&home)
        .with_id(run.id())
        .mode(Mode::ReadOnly)
        .open()
        .unwrap();
    let new = open_run(&home, "team/files");
    new.field("inherited")
        .artifact()
        .unwrap()
        .assign(
            old.field("datasets/train")
                .artifact()
                .unwrap()
                .fetch()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(new.field("inherited").fetch_hash().unwrap(), v2);
    assert_eq!(new.field("inherited").fetch_files_list().unwrap().len(), 3);

    // Download: every file at its path inside the artifact, byte for byte.
    let out = dir.path().join("out");
    let written = old
        .field("datasets/train")
        .artifact()
        .unwrap()
        .download_to(&out)
        .unwrap();
    assert_eq!(written.len(), 3);
    assert_eq!(
        std::fs::read(out.join("images/sub/b.png")).unwrap(),
        b"png bb"
    );
    assert_eq!(std::fs::read(out.join("train.csv")).unwrap(), b"x,y\n1,2\n");
    let via_handler = new
        .field("inherited")
        .download_to(dir.path().join("out2"))
        .unwrap();
    assert_eq!(via_handler.len(), 3);

    // A changed file: the download fails and writes nothing.
    write_file(&images.join("a.png"), b"png A!");
    let fresh = dir.path().join("fresh");
    let err = new
        .field("inherited")
        .artifact()
        .unwrap()
        .download_to(&fresh)
        .unwrap_err();
    assert!(
        err.to_string().contains("changed since it was tracked"),
        "{err}"
    );
    assert!(err.to_string().contains("a.png"), "{err}");
    let leftovers: Vec<_> = walk(&fresh);
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A file that is gone.
    write_file(&images.join("a.png"), b"png a");
    std::fs::remove_file(&csv).unwrap();
    let err = new
        .field("inherited")
        .artifact()
        .unwrap()
        .download_to(&fresh)
        .unwrap_err();
    assert!(err.to_string().contains("is gone"), "{err}");
    assert!(walk(&fresh).is_empty());
    new.stop().unwrap();
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn local_changes_change_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(&dir.path().join("home"), "team/files");
    let f = dir.path().join("model.bin");
    write_file(&f, b"weights v1");
    let track = |field: &str| {
        run.field(field).track_files(s(&f), None).unwrap();
        run.field(field).fetch_hash().unwrap()
    };
    let h1 = track("a");
    assert_eq!(track("b"), h1, "same files, same hash");
    // Content (same size).
    write_file(&f, b"weights v2");
    let t = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(t)
        .unwrap();
    let h2 = track("c");
    assert_ne!(h2, h1);
    // Modification time alone.
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(t + Duration::from_secs(5))
        .unwrap();
    let h3 = track("d");
    assert_ne!(h3, h2);
    // Path inside the artifact.
    run.field("e").track_files(s(&f), Some("models")).unwrap();
    assert_ne!(run.field("e").fetch_hash().unwrap(), h3);
    run.stop().unwrap();
}

/// Each component of an entry, changed alone, changes the artifact hash (checked on the store,
/// with entries that only an S3 object or a moved file would give).
#[test]
fn every_hash_component_counts() {
    let store = Store::in_memory().unwrap();
    let req = OpenRequest {
        kind: ObjectKind::Run,
        project: "team/hash".into(),
        with_id: None,
        custom_run_id: None,
        model: None,
        owner: "me".into(),
        read_only: false,
    };
    let base = ArtifactFile {
        file_path: "data/a.csv".into(),
        file_hash: "aaaa".into(),
        size: 10,
        storage_type: "Local".into(),
        location: "file:///data/a.csv".into(),
        last_modified_ms: 1000,
    };
    let mut variants = vec![base.clone()];
    let mut v = base.clone();
    v.file_hash = "bbbb".into();
    variants.push(v);
    let mut v = base.clone();
    v.last_modified_ms = 2000;
    variants.push(v);
    let mut v = base.clone();
    v.size = 11;
    variants.push(v);
    let mut v = base.clone();
    v.storage_type = "S3".into();
    variants.push(v);
    let mut v = base.clone();
    v.file_path = "data/b.csv".into();
    variants.push(v);
    let mut v = base.clone();
    v.location = "file:///elsewhere/a.csv".into();
    variants.push(v);
    let run = store.open_object(&req).unwrap();
    let mut hashes = Vec::new();
    for (i, v) in variants.into_iter().enumerate() {
        let path = FieldPath::parse(&format!("art/{i}")).unwrap();
        let rejected = store
            .execute(
                &run.id,
                &[Operation::TrackFilesToArtifact {
                    path: path.clone(),
                    files: vec![v],
                }],
            )
            .unwrap();
        assert!(rejected.is_empty(), "{rejected:?}");
        match store.fetch_value(&run.id, &path).unwrap() {
            Some(Value::Artifact(h)) => hashes.push(h),
            other => panic!("{other:?}"),
        }
    }
    let distinct: std::collections::BTreeSet<_> = hashes.iter().collect();
    assert_eq!(distinct.len(), hashes.len(), "{hashes:?}");
    // Adding a file to an artifact makes a new version.
    let path = FieldPath::parse("art/0").unwrap();
    let mut more = base.clone();
    more.file_path = "data/z.csv".into();
    store
        .execute(
            &run.id,
            &[Operation::TrackFilesToArtifact {
                path: path.clone(),
                files: vec![more],
            }],
        )
        .unwrap();
    assert_ne!(
        store.fetch_value(&run.id, &path).unwrap(),
        Some(Value::Artifact(hashes[0].clone()))
    );
}

#[test]
fn bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = open_run(&dir.path().join("home"), "team/files");
    let err = run
        .field("a")
        .track_files(s(&dir.path().join("missing.csv")), None)
        .unwrap_err();
    assert!(err.to_string().contains("missing.csv"), "{err}");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(run.field("a").track_files(s(&empty), None).is_err());
    assert!(run
        .field("a")
        .track_files(&format!("{}/*.csv", s(dir.path())), None)
        .is_err());
    let f = dir.path().join("x.csv");
    write_file(&f, b"x");
    assert!(run.field("a").track_files(s(&f), Some("../up")).is_err());
    assert!(run.field("a").track_files(s(&f), Some("/abs")).is_err());
    run.wait().unwrap();
    assert!(!run.exists("a"));
    assert!(matches!(
        run.field("a").fetch_hash(),
        Err(Error::MissingField { .. })
    ));
    // file:// locations are accepted.
    run.field("b")
        .track_files(&format!("file://{}", s(&f)), None)
        .unwrap();
    assert_eq!(
        run.field("b").fetch_files_list().unwrap()[0].file_path,
        "x.csv"
    );
    run.stop().unwrap();
}
