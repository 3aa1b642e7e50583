//! A team's data stays its own: every piece of server state a request can touch (upload-queue
//! records, queue registrations, file content) is scoped to the token's project. Each test
//! plays the attack of a client holding a token of another project, on a real server.

use crate::common;

use std::path::Path;

use common::{create_run, open_req, raw, reader, Answer, Server};
use neptune_core::{FetchOptions, File, GitRef, Run};
use serde_json::{json, Value as J};

fn open(addr: &str, token: &str, body: &[u8]) -> Answer {
    raw(addr, "POST", "/api/v1/objects", Some(token), body)
}

fn post_batch(addr: &str, token: &str, run: &str, queue: &str, seq: u64, ops: J) -> Answer {
    let body = serde_json::to_vec(&json!({"queue": queue, "batches": [{"seq": seq, "ops": ops}]}))
        .unwrap();
    raw(
        addr,
        "POST",
        &format!("/api/v1/objects/{run}/batches"),
        Some(token),
        &body,
    )
}

/// The id of the one upload queue under `home` (the name of its folder).
fn queue_id(home: &Path) -> String {
    let dirs: Vec<String> = std::fs::read_dir(home.join("queue"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("meta.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

#[test]
fn another_projects_client_cannot_make_a_run_drop_its_batches() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let write_a = common::token(data.path(), "team/a", "write");
    let write_b = common::token(data.path(), "team/b", "write");

    // The victim: a real client logging to team/a.
    let home = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(home.path())
        .url(&server.url)
        .api_token(&write_a)
        .project("team/a")
        .git_ref(GitRef::Disabled)
        .open()
        .unwrap();
    let loss = run.field("train/loss").float_series().unwrap();
    let before = 5_000u32;
    let total = 40_000u32;
    loss.extend((0..before).map(f64::from)).unwrap();
    run.wait().unwrap();
    let queue = queue_id(home.path());

    // The attacker: a write token of team/b posts the victim's queue id with a huge sequence
    // number, to its own run (accepted: it is its run) and to the victim's (not found).
    let own = create_run(a, &write_b, "team/b");
    let hostile = json!([{"type": "AssignInt", "path": "x", "value": 1}]);
    let r = post_batch(
        a,
        &write_b,
        &own,
        &queue,
        1_000_000_000_000,
        hostile.clone(),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["results"][0]["duplicate"], false, "{}", r.body);
    let r = post_batch(a, &write_b, run.id(), &queue, 2_000_000_000_000, hostile);
    assert_eq!(r.status, 404, "{}", r.body);

    // The victim goes on; every point is stored.
    loss.extend((before..total).map(f64::from)).unwrap();
    run.wait().unwrap();
    let id = run.id().to_owned();
    run.stop().unwrap();
    let other = tempfile::tempdir().unwrap();
    let r = reader(&server, &write_a, &id, other.path());
    let got = r
        .field("train/loss")
        .fetch_values_with(FetchOptions::new())
        .unwrap();
    let steps = got.floats().unwrap().steps().to_vec();
    assert_eq!(steps.len(), total as usize, "points were dropped");
    assert!(steps.iter().enumerate().all(|(i, s)| *s == i as f64));
}

#[test]
fn a_queue_registration_is_unknown_in_another_project() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let write_a = common::token(data.path(), "team/a", "write");
    let read_a = common::token(data.path(), "team/a", "read");
    let write_b = common::token(data.path(), "team/b", "write");
    let read_b = common::token(data.path(), "team/b", "read");

    // team/a registers a queue (as `neptune sync` does) and logs a secret.
    let q = "registered-queue-1";
    let r = open(a, &write_a, &open_req("team/a", Some(q), None, false));
    assert_eq!(r.status, 200, "{}", r.body);
    let victim = r.json()["id"].as_str().unwrap().to_owned();
    let secret = json!([{"type": "AssignString", "path": "secret/key", "value": "hunter2"}]);
    assert_eq!(post_batch(a, &write_a, &victim, q, 1, secret).status, 200);
    // An error may repeat the id the request named; an answer must not be the victim's run.
    let leaks = |r: &Answer| {
        r.body.contains("secret") || (r.status == 200 && r.json()["id"] == victim.as_str())
    };

    // team/b with the same queue id: an object of its own.
    let r = open(a, &write_b, &open_req("team/b", Some(q), None, false));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!leaks(&r), "{}", r.body);
    let j = r.json();
    assert_eq!(j["project"], "team/b");
    assert_eq!(j["created"], true);
    let own = j["id"].as_str().unwrap().to_owned();
    // Naming team/a in the request is refused; naming its own run by id with team/a as the
    // project resumes its own run, never the victim's.
    let r = open(a, &write_b, &open_req("team/a", Some("q-2"), None, false));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(!leaks(&r));
    let r = open(a, &write_b, &open_req("team/a", Some(q), Some(&own), false));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["id"], own.as_str());
    assert!(!leaks(&r), "{}", r.body);
    let r = open(
        a,
        &write_b,
        &open_req("team/b", Some(q), Some(&victim), false),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(!r.body.contains("secret"));

    // Read tokens never register, resume or create, whatever the project.
    for (token, project) in [(&read_b, "team/b"), (&read_a, "team/a")] {
        for body in [
            open_req(project, Some(q), None, true),
            open_req(project, Some(q), None, false),
            open_req(project, Some("fresh-queue"), None, true),
            open_req(project, None, None, true),
        ] {
            let r = open(a, token, &body);
            assert_eq!(r.status, 403, "{}", r.body);
            assert!(!leaks(&r), "{}", r.body);
        }
    }
    let r = open(a, &read_b, &open_req("team/b", None, Some(&victim), true));
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(!leaks(&r), "{}", r.body);
    // The read token of team/a still opens its run read-only, by id.
    let r = open(a, &read_a, &open_req("team/a", None, Some(&victim), true));
    assert_eq!(r.status, 200, "{}", r.body);

    // team/a's registration is intact: registering again finds the same run.
    let r = open(a, &write_a, &open_req("team/a", Some(q), None, false));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["id"], victim.as_str());
    assert_eq!(r.json()["created"], false);
    // And the list of team/a's runs is only the victim's.
    let r = raw(
        a,
        "GET",
        "/api/v1/objects?project=team/a&kind=run",
        Some(&write_a),
        b"",
    );
    assert_eq!(r.json()["ids"], json!([victim]));
}

fn upload(addr: &str, token: &str, bytes: &[u8]) -> String {
    let r = raw(
        addr,
        "PUT",
        "/api/v1/files?extension=txt",
        Some(token),
        bytes,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["digest"].as_str().unwrap().to_owned()
}

fn file_op(kind: &str, path: &str, digest: &str) -> J {
    let file = json!({"digest": digest, "size": 1, "extension": "txt"});
    match kind {
        "UploadFile" => json!({"type": "UploadFile", "path": path, "file": file}),
        "LogImages" => json!({"type": "LogImages", "path": path, "points": [
            {"step": 0.0, "timestamp_ms": 1, "file": file, "name": null, "description": null}]}),
        _ => json!({"type": "UploadFileSet", "path": path, "reset": false,
            "files": [{"path": "a.txt", "file": file, "mtime_ms": 0}]}),
    }
}

fn content_files(data: &Path) -> usize {
    fn walk(dir: &Path, out: &mut usize) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "tmp") {
                    walk(&p, out);
                }
            } else {
                *out += 1;
            }
        }
    }
    let mut n = 0;
    walk(&data.join("files"), &mut n);
    n
}

#[test]
fn file_content_is_reachable_only_through_a_project_that_holds_it() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let write_a = common::token(data.path(), "team/a", "write");
    let read_a = common::token(data.path(), "team/a", "read");
    let write_b = common::token(data.path(), "team/b", "write");
    let read_b = common::token(data.path(), "team/b", "read");

    // team/a: content referred to by a field, and content uploaded but not referred to yet.
    let run_a = create_run(a, &write_a, "team/a");
    let logged = upload(a, &write_a, b"team a's weights");
    let pending = upload(a, &write_a, b"team a's next checkpoint");
    let r = post_batch(
        a,
        &write_a,
        &run_a,
        "qa",
        1,
        json!([file_op("UploadFile", "w", &logged)]),
    );
    assert_eq!(r.json()["results"][0]["rejected"], json!([]), "{}", r.body);
    let absent = "e".repeat(64);

    // team/a reads both.
    for token in [&write_a, &read_a] {
        for d in [&logged, &pending] {
            let path = format!("/api/v1/files/{d}");
            assert_eq!(raw(a, "HEAD", &path, Some(token), b"").status, 200);
            assert_eq!(raw(a, "GET", &path, Some(token), b"").status, 200);
        }
    }
    let got = raw(
        a,
        "GET",
        &format!("/api/v1/files/{logged}"),
        Some(&read_a),
        b"",
    );
    assert_eq!(got.body, "team a's weights");

    // team/b knows the digests: 404 as for content that does not exist, never 403.
    let missing = raw(
        a,
        "GET",
        &format!("/api/v1/files/{absent}"),
        Some(&read_b),
        b"",
    );
    assert_eq!(missing.status, 404);
    for token in [&write_b, &read_b] {
        for d in [&logged, &pending] {
            let path = format!("/api/v1/files/{d}");
            assert_eq!(raw(a, "HEAD", &path, Some(token), b"").status, 404);
            let r = raw(a, "GET", &path, Some(token), b"");
            assert_eq!(r.status, 404, "{}", r.body);
            assert!(!r.body.contains("weights") && !r.body.contains("checkpoint"));
            assert_eq!(r.json()["error"]["code"], missing.json()["error"]["code"]);
        }
    }

    // Nor can team/b attach that content to its own run: refused operation by operation.
    let run_b = create_run(a, &write_b, "team/b");
    let ops = json!([
        file_op("UploadFile", "stolen", &logged),
        file_op("LogImages", "imgs", &logged),
        file_op("UploadFileSet", "set", &pending),
        {"type": "AssignInt", "path": "fine", "value": 1},
    ]);
    let r = post_batch(a, &write_b, &run_b, "qb", 1, ops);
    assert_eq!(r.status, 200, "{}", r.body);
    let rejected = r.json()["results"][0]["rejected"]
        .as_array()
        .unwrap()
        .clone();
    let idx: Vec<u64> = rejected
        .iter()
        .map(|x| x["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, [0, 1, 2], "{rejected:#?}");
    for x in &rejected {
        let reason = x["reason"].as_str().unwrap();
        assert!(
            reason.contains("not uploaded to project \"team/b\""),
            "{reason}"
        );
    }
    let structure = raw(
        a,
        "GET",
        &format!("/api/v1/objects/{run_b}/structure"),
        Some(&write_b),
        b"",
    );
    assert!(structure.body.contains("fine"));
    assert!(!structure.body.contains("stolen") && !structure.body.contains("imgs"));

    // Uploading the same bytes through team/b is fine: its own reference, one copy on disk.
    let stored = content_files(data.path());
    assert_eq!(stored, 2);
    assert_eq!(upload(a, &write_b, b"team a's weights"), logged);
    assert_eq!(content_files(data.path()), stored);
    let r = post_batch(
        a,
        &write_b,
        &run_b,
        "qb",
        2,
        json!([file_op("UploadFile", "w", &logged)]),
    );
    assert_eq!(r.json()["results"][0]["rejected"], json!([]), "{}", r.body);
    let path = format!("/api/v1/files/{logged}");
    assert_eq!(
        raw(a, "GET", &path, Some(&read_b), b"").body,
        "team a's weights"
    );
    // What team/a uploaded and team/b did not stays out of reach.
    let path = format!("/api/v1/files/{pending}");
    assert_eq!(raw(a, "GET", &path, Some(&read_b), b"").status, 404);

    // Through the client library: team/b's client finds nothing to reuse, uploads the same
    // bytes itself, and reads them back from the server.
    let home = tempfile::tempdir().unwrap();
    let run = Run::builder()
        .home(home.path())
        .url(&server.url)
        .api_token(&write_b)
        .project("team/b")
        .git_ref(GitRef::Disabled)
        .capture_dependencies(false)
        .open()
        .unwrap();
    run.field("ckpt")
        .file()
        .unwrap()
        .upload(File::from_content("team a's next checkpoint"))
        .unwrap();
    let id = run.id().to_owned();
    run.stop().unwrap();
    let other = tempfile::tempdir().unwrap();
    let r = reader(&server, &read_b, &id, other.path());
    assert_eq!(
        r.field("ckpt").file().unwrap().fetch_bytes().unwrap(),
        b"team a's next checkpoint"
    );
    assert_eq!(content_files(data.path()), stored);
}

#[test]
fn another_projects_object_ids_read_as_missing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let write_a = common::token(data.path(), "team/a", "write");
    let write_b = common::token(data.path(), "team/b", "write");
    let run_a = create_run(a, &write_a, "team/a");
    let r = post_batch(
        a,
        &write_a,
        &run_a,
        "qa",
        1,
        json!([{"type": "AssignInt", "path": "x", "value": 1}]),
    );
    assert_eq!(r.status, 200);
    let nope = "NOPE-1";
    for route in [
        "structure",
        "value?path=x",
        "values",
        "series?path=x",
        "series/floats?path=x",
        "series/strings?path=x",
        "file?path=x",
        "fileset?path=x",
        "file-series?path=x",
        "artifact?path=x",
    ] {
        let theirs = raw(
            a,
            "GET",
            &format!("/api/v1/objects/{run_a}/{route}"),
            Some(&write_b),
            b"",
        );
        let none = raw(
            a,
            "GET",
            &format!("/api/v1/objects/{nope}/{route}"),
            Some(&write_b),
            b"",
        );
        assert_eq!(theirs.status, 404, "{route}: {}", theirs.body);
        assert_eq!(none.status, 404, "{route}: {}", none.body);
        assert_eq!(theirs.json()["error"]["code"], none.json()["error"]["code"]);
    }
    let r = post_batch(
        a,
        &write_b,
        &run_a,
        "qb",
        1,
        json!([{"type": "AssignInt", "path": "x", "value": 2}]),
    );
    assert_eq!(r.status, 404, "{}", r.body);
    // A table of team/a's model versions, through team/a's model id: refused too.
    let table = serde_json::to_vec(&json!({
        "scope": {"project": "team/b", "kind": "ModelVersion", "model": run_a},
        "query": {}}))
    .unwrap();
    let r = raw(a, "POST", "/api/v1/tables", Some(&write_b), &table);
    assert_eq!(r.status, 404, "{}", r.body);
    let value = raw(
        a,
        "GET",
        &format!("/api/v1/objects/{run_a}/value?path=x"),
        Some(&write_a),
        b"",
    );
    assert_eq!(
        value.json()["value"],
        json!({"Integer": 1}),
        "{}",
        value.body
    );
}
