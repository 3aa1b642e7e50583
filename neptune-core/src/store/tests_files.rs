//! Tests of the file fields: files, file sets, image series and artifacts.

use super::apply::artifact_hash;
use super::tests::{get, p};
use super::tests_fields::{afile, fref, setup};
use super::*;

#[test]
fn files_and_file_sets() {
    let (s, id) = setup();
    let entry = |path: &str, c: char| FileSetEntry {
        path: path.into(),
        file: fref(c, "txt"),
        mtime_ms: 5,
    };
    let ops = [
        Operation::UploadFile {
            path: p("model"),
            file: fref('a', "pkl"),
        },
        Operation::UploadFile {
            path: p("evil"),
            file: fref('a', "../../x"),
        },
        Operation::UploadFile {
            path: p("evil2"),
            file: FileRef {
                digest: "../etc/passwd".into(),
                size: 1,
                extension: "txt".into(),
            },
        },
        Operation::UploadFileSet {
            path: p("src"),
            files: vec![
                entry("a.py", 'a'),
                entry("d/b.py", 'b'),
                entry("d/e/c.py", 'c'),
                entry("db.py", 'd'),
            ],
            reset: false,
        },
        Operation::UploadFileSet {
            path: p("src"),
            files: vec![entry("a.py", 'e')],
            reset: false,
        },
        Operation::UploadFileSet {
            path: p("bad"),
            files: vec![entry("../up", 'a')],
            reset: false,
        },
    ];
    let rej = s.execute(&id, &ops).unwrap();
    assert_eq!(rej.iter().map(|r| r.index).collect::<Vec<_>>(), [1, 2, 5]);
    assert_eq!(
        s.file_ref(&id, &p("model")).unwrap(),
        Some(fref('a', "pkl"))
    );
    assert_eq!(s.file_ref(&id, &p("evil")).unwrap(), None);
    let got = s.fileset_entries(&id, &p("src")).unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0], entry("a.py", 'e'), "same path replaces");
    s.execute(
        &id,
        &[Operation::DeleteFiles {
            path: p("src"),
            paths: vec!["d".into()],
        }],
    )
    .unwrap();
    let names: Vec<String> = s
        .fileset_entries(&id, &p("src"))
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(names, ["a.py", "db.py"]);
    let ops = [Operation::UploadFileSet {
        path: p("src"),
        files: vec![entry("z", 'f')],
        reset: true,
    }];
    s.execute(&id, &ops).unwrap();
    assert_eq!(
        s.fileset_entries(&id, &p("src")).unwrap(),
        vec![entry("z", 'f')]
    );
    s.execute(
        &id,
        &[Operation::DeleteFiles {
            path: p("src"),
            paths: vec!["z/".into()],
        }],
    )
    .unwrap();
    assert!(s.fileset_entries(&id, &p("src")).unwrap().is_empty());
    assert!(s.fileset_entries(&id, &p("none")).unwrap().is_empty());
    assert!(matches!(
        s.file_ref(&id, &p("src")).unwrap_err(),
        Error::InvalidValue { .. }
    ));
}

#[test]
fn image_series() {
    let (s, id) = setup();
    let pt = |step: f64, c: char| FilePoint {
        step: Some(step),
        timestamp_ms: 9,
        file: fref(c, "png"),
        name: Some(format!("n{step}")),
        description: None,
    };
    let mut bad = pt(3.0, 'a');
    bad.file.digest = "nothex".into();
    let ops = [Operation::LogImages {
        path: p("img"),
        points: vec![pt(1.0, 'a'), pt(1.0, 'b'), bad, pt(4.0, 'c')],
    }];
    let rej = s.execute(&id, &ops).unwrap();
    assert_eq!(rej.len(), 1);
    assert!(
        rej[0].reason.contains("2 of 4") && rej[0].reason.contains("invalid file"),
        "{}",
        rej[0].reason
    );
    let got = s.file_points(&id, &p("img")).unwrap();
    assert_eq!(got, vec![pt(1.0, 'a'), pt(4.0, 'c')]);
    let info = s.fetch_series_info(&id, &p("img")).unwrap().unwrap();
    assert_eq!(
        (info.field_type, info.count, info.last_step, info.last),
        (FieldType::FileSeries, 2, Some(4.0), None)
    );
    s.execute(&id, &[Operation::ClearImageLog { path: p("img") }])
        .unwrap();
    assert!(s.file_points(&id, &p("img")).unwrap().is_empty());
    assert!(s
        .execute(
            &id,
            &[Operation::LogImages {
                path: p("img"),
                points: vec![pt(0.0, 'd')]
            }]
        )
        .unwrap()
        .is_empty());
}

#[test]
fn artifact_hash_changes_with_every_component() {
    let base = vec![afile("a"), afile("b")];
    let h = artifact_hash(&base);
    assert_eq!(h.len(), 64);
    assert!(h
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    assert_eq!(
        h,
        artifact_hash(&[afile("b"), afile("a")]),
        "order does not matter"
    );
    let changes: [fn(&mut ArtifactFile); 6] = [
        |f| f.file_path.push('x'),
        |f| f.file_hash.push('x'),
        |f| f.size += 1,
        |f| f.storage_type = "S3".into(),
        |f| f.location.push('x'),
        |f| f.last_modified_ms += 1,
    ];
    for (i, change) in changes.iter().enumerate() {
        let mut v = base.clone();
        change(&mut v[1]);
        assert_ne!(artifact_hash(&v), h, "component {i}");
    }
    // Length prefixes: moving a character between fields changes the hash.
    let mut a = afile("a");
    let mut b = afile("a");
    a.file_hash = "xy".into();
    a.storage_type = "z".into();
    b.file_hash = "x".into();
    b.storage_type = "yz".into();
    assert_ne!(artifact_hash(&[a]), artifact_hash(&[b]));
    assert_ne!(artifact_hash(&base), artifact_hash(&base[..1]));
}

#[test]
fn artifacts_track_assign_and_clear() {
    let (s, id) = setup();
    let ops = [Operation::TrackFilesToArtifact {
        path: p("data"),
        files: vec![afile("b"), afile("a")],
    }];
    assert!(s.execute(&id, &ops).unwrap().is_empty());
    let h1 = get(&s, &id, "data").unwrap();
    assert_eq!(
        h1,
        Value::Artifact(artifact_hash(&[afile("a"), afile("b")]))
    );
    assert_eq!(
        s.artifact_files(&id, &p("data")).unwrap(),
        vec![afile("a"), afile("b")]
    );
    // Tracking again adds or replaces by path, and makes a new hash.
    let mut newer = afile("b");
    newer.last_modified_ms = 2_000;
    let ops = [Operation::TrackFilesToArtifact {
        path: p("data"),
        files: vec![newer.clone(), afile("c")],
    }];
    s.execute(&id, &ops).unwrap();
    let want = vec![afile("a"), newer, afile("c")];
    assert_eq!(s.artifact_files(&id, &p("data")).unwrap(), want);
    assert_eq!(
        get(&s, &id, "data"),
        Some(Value::Artifact(artifact_hash(&want)))
    );
    // Assign sets the hash and files as given.
    let ops = [Operation::AssignArtifact {
        path: p("data"),
        hash: "given".into(),
        files: vec![afile("z")],
    }];
    s.execute(&id, &ops).unwrap();
    assert_eq!(get(&s, &id, "data"), Some(Value::Artifact("given".into())));
    assert_eq!(s.artifact_files(&id, &p("data")).unwrap(), vec![afile("z")]);
    s.execute(&id, &[Operation::ClearArtifact { path: p("data") }])
        .unwrap();
    assert!(s.artifact_files(&id, &p("data")).unwrap().is_empty());
    assert_eq!(
        get(&s, &id, "data"),
        Some(Value::Artifact(artifact_hash(&[])))
    );
    let mut huge = afile("h");
    huge.size = u64::MAX;
    let rej = s
        .execute(
            &id,
            &[Operation::TrackFilesToArtifact {
                path: p("data"),
                files: vec![huge],
            }],
        )
        .unwrap();
    assert_eq!(rej.len(), 1);
}
