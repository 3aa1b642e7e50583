//! S3 tracking of Artifacts against a real S3-compatible server (the one `scripts/test` starts,
//! moto), through the library's own client and `track_files("s3://…")`.
//!
//! It lives here, built only with the `s3` feature (`cargo test -p neptune-core --features s3
//! --test s3`), and not in the `neptune` crate's test binary: `s3` links `object_store`'s HTTP
//! stack, whose `tower_http` blanket trait (`PolicyExt`, implemented for every type, with an
//! `and` method) made rustc's compile errors on the typed handles there (`tests/ui`) suggest
//! "a method `and` with a similar name".

use std::path::{Path, PathBuf};

use neptune_core::{GitRef, Run};

/// A run of `project` in the store at `home`, without git tracking or the dependency list.
fn open_run(home: &Path, project: &str) -> Run {
    Run::builder()
        .home(home)
        .project(project)
        .git_ref(GitRef::Disabled)
        .capture_dependencies(false)
        .open()
        .unwrap()
}

/// Every file below `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
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

/// The endpoint of the S3-compatible server `scripts/test` starts. In CI its absence is a
/// failure; elsewhere the test is skipped with a message.
fn s3_endpoint() -> Option<String> {
    match std::env::var("NEPTUNE_S3_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "NEPTUNE_S3_ENDPOINT is not set in CI: run the tests through scripts/test, which starts the S3-compatible server"
            );
            eprintln!("skipping the S3 test: NEPTUNE_S3_ENDPOINT is not set (scripts/test starts a server and sets it)");
            None
        }
    }
}

/// Creates a bucket on the test server (moto takes an unsigned `PUT /bucket`; object_store,
/// which the client uses, does not create buckets).
fn create_bucket(endpoint: &str, bucket: &str) {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the S3 test server");
    write!(
        s,
        "PUT /{bucket} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
}

#[test]
fn s3_objects_on_a_real_server() {
    let Some(endpoint) = s3_endpoint() else {
        return;
    };
    let client = neptune_core::s3::S3Client::from_env().unwrap();
    let bucket = format!("neptune-test-{}", std::process::id());
    create_bucket(&endpoint, &bucket);
    client
        .put_object(&bucket, "data/a.csv", b"a,b\n1,2\n")
        .unwrap();
    client
        .put_object(&bucket, "data/sub/b.bin", &[0u8, 1, 2, 3, 255])
        .unwrap();
    client
        .put_object(&bucket, "data2/other.txt", b"not under data/")
        .unwrap();
    client
        .put_object(&bucket, "models/model.pt", b"weights")
        .unwrap();
    let listed = client.list_objects(&bucket, "data/").unwrap();
    assert_eq!(listed.len(), 2);

    let dir = tempfile::tempdir().unwrap();
    let run = open_run(&dir.path().join("home"), "team/files");
    let art = run.field("s3data").artifact().unwrap();
    art.track_files(&format!("s3://{bucket}/data"), None)
        .unwrap();
    let files = art.fetch_files_list().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.file_path.as_str()).collect();
    assert_eq!(
        paths,
        ["a.csv", "sub/b.bin"],
        "a folder prefix, not a string prefix"
    );
    assert_eq!(files[0].storage_type, "S3");
    assert_eq!(files[0].location(), format!("s3://{bucket}/data/a.csv"));
    assert_eq!(files[0].file_hash, listed[0].etag);
    assert_eq!(files[0].size, 8);
    assert!(files[0].last_modified().timestamp() > 1_600_000_000);
    let h1 = art.fetch_hash().unwrap();

    // One object, under a destination.
    run.field("model")
        .track_files(&format!("s3://{bucket}/models/model.pt"), Some("ckpt"))
        .unwrap();
    assert_eq!(
        run.field("model").fetch_files_list().unwrap()[0].file_path,
        "ckpt/model.pt"
    );

    // Download from the bucket, byte for byte.
    let out = dir.path().join("out");
    art.download_to(&out).unwrap();
    assert_eq!(std::fs::read(out.join("a.csv")).unwrap(), b"a,b\n1,2\n");
    assert_eq!(
        std::fs::read(out.join("sub/b.bin")).unwrap(),
        [0u8, 1, 2, 3, 255]
    );

    // A changed object: a new hash when tracked again; the old version refuses to download.
    client
        .put_object(&bucket, "data/a.csv", b"a,b\n9,9\n")
        .unwrap();
    let err = art.download_to(dir.path().join("fresh")).unwrap_err();
    assert!(
        err.to_string().contains("changed since it was tracked"),
        "{err}"
    );
    assert!(walk(&dir.path().join("fresh")).is_empty());
    run.field("s3data2")
        .track_files(&format!("s3://{bucket}/data/"), None)
        .unwrap();
    assert_ne!(run.field("s3data2").fetch_hash().unwrap(), h1);

    // Nothing there, no bucket: clear errors.
    let err = run
        .field("none")
        .track_files(&format!("s3://{bucket}/nothing"), None)
        .unwrap_err();
    assert!(err.to_string().contains("nothing"), "{err}");
    let err = run
        .field("none")
        .track_files("s3://no-such-bucket-neptune/x", None)
        .unwrap_err();
    assert!(err.to_string().contains("no-such-bucket-neptune"), "{err}");
    run.stop().unwrap();
}
