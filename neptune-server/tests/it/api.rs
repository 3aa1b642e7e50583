//! The API as a hostile or careless client sees it: the auth matrix, the OpenAPI document, and
//! malformed and hostile requests (raw HTTP on a real server, no client library in between).

use crate::common;

use common::{create_run, open_body, raw, raw_with, Server};
use neptune_core::{GitRef, Mode, Run};
use serde_json::json;

fn batch(ops: serde_json::Value, seq: u64) -> Vec<u8> {
    serde_json::to_vec(&json!({"queue": "q-test", "batches": [{"seq": seq, "ops": ops}]})).unwrap()
}

#[test]
fn auth_matrix() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let write_a = common::token(data.path(), "team/a", "write");
    let read_a = common::token(data.path(), "team/a", "read");
    let write_b = common::token(data.path(), "team/b", "write");
    let revoked = common::token(data.path(), "team/a", "write");
    let run = create_run(a, &write_a, "team/a");
    let add = batch(json!([{"type": "AssignInt", "path": "x", "value": 1}]), 1);
    let value = format!("/api/v1/objects/{run}/value?path=x");

    // Open routes.
    assert_eq!(raw(a, "GET", "/health", None, b"").status, 200);
    assert_eq!(raw(a, "GET", "/api/v1/openapi.json", None, b"").status, 200);

    // No token, a malformed header, an unknown token: 401.
    for token in [
        None,
        Some("garbage"),
        Some(&*format!("nep_{}_{}", "0".repeat(16), "0".repeat(64))),
    ] {
        let r = raw(a, "GET", &value, token, b"");
        assert_eq!(r.status, 401, "{token:?}: {}", r.body);
        assert!(!r.message().is_empty());
        assert_eq!(
            raw(
                a,
                "POST",
                &format!("/api/v1/objects/{run}/batches"),
                token,
                &add
            )
            .status,
            401
        );
    }
    let r = raw_with(
        a,
        "GET",
        &value,
        None,
        b"",
        &[("Authorization", "Basic abc")],
    );
    assert_eq!(r.status, 401);

    // Another project's token: its objects read as missing (404, so a token cannot learn
    // which ids exist elsewhere), for reads and writes; opens and lists naming the project 403.
    let r = raw(a, "GET", &value, Some(&write_b), b"");
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.message().contains("team/b"), "{}", r.message());
    assert_eq!(
        raw(
            a,
            "POST",
            &format!("/api/v1/objects/{run}/batches"),
            Some(&write_b),
            &add
        )
        .status,
        404
    );
    assert_eq!(
        raw(
            a,
            "POST",
            "/api/v1/objects",
            Some(&write_b),
            &open_body("team/a")
        )
        .status,
        403
    );
    assert_eq!(
        raw(
            a,
            "GET",
            "/api/v1/objects?project=team/a&kind=run",
            Some(&write_b),
            b""
        )
        .status,
        403
    );
    let resume = serde_json::to_vec(&json!({"request": {"kind": "Run", "project": "team/b",
        "with_id": run, "owner": "x", "read_only": false}}))
    .unwrap();
    assert_eq!(
        raw(a, "POST", "/api/v1/objects", Some(&write_b), &resume).status,
        404
    );

    // A read token reads but does not write.
    assert_eq!(raw(a, "GET", &value, Some(&read_a), b"").status, 200);
    let r = raw(
        a,
        "POST",
        &format!("/api/v1/objects/{run}/batches"),
        Some(&read_a),
        &add,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.message().contains("read scope"), "{}", r.message());
    assert_eq!(
        raw(
            a,
            "POST",
            "/api/v1/objects",
            Some(&read_a),
            &open_body("team/a")
        )
        .status,
        403
    );
    assert_eq!(
        raw(
            a,
            "PUT",
            "/api/v1/files?extension=txt",
            Some(&read_a),
            b"hello"
        )
        .status,
        403
    );
    let ro = serde_json::to_vec(&json!({"request": {"kind": "Run", "project": "team/a",
        "with_id": run, "owner": "x", "read_only": true}}))
    .unwrap();
    assert_eq!(
        raw(a, "POST", "/api/v1/objects", Some(&read_a), &ro).status,
        200
    );

    // The write token writes; once revoked, it is refused.
    assert_eq!(
        raw(
            a,
            "POST",
            &format!("/api/v1/objects/{run}/batches"),
            Some(&revoked),
            &add
        )
        .status,
        200
    );
    common::revoke(data.path(), &revoked);
    assert_eq!(raw(a, "GET", &value, Some(&revoked), b"").status, 401);
    assert_eq!(
        raw(
            a,
            "POST",
            "/api/v1/objects",
            Some(&revoked),
            &open_body("team/a")
        )
        .status,
        401
    );

    // Through the client library: the errors name the token.
    let home = tempfile::tempdir().unwrap();
    let open = |token: &str| {
        Run::builder()
            .home(home.path())
            .url(&server.url)
            .api_token(token)
            .project("team/a")
            .git_ref(GitRef::Disabled)
            .open()
    };
    let e = open(&read_a).unwrap_err().to_string();
    assert!(e.contains("403") && e.contains("NEPTUNE_API_TOKEN"), "{e}");
    let e = open(&revoked).unwrap_err().to_string();
    assert!(e.contains("401"), "{e}");
    let e = Run::builder()
        .home(home.path())
        .url(&server.url)
        .project("team/a")
        .mode(Mode::Async)
        .open();
    if std::env::var("NEPTUNE_API_TOKEN").is_err() {
        assert!(e.unwrap_err().to_string().contains("NEPTUNE_API_TOKEN"));
    }
    drop(write_a);
}

#[test]
fn openapi_documents_every_route() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let token = common::token(data.path(), "team/doc", "write");
    let doc = raw(&server.addr, "GET", "/api/v1/openapi.json", None, b"").json();
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = neptune_server::openapi::documented_routes();
    assert_eq!(routes.len(), 21, "{routes:?}");
    // Every documented route is served (a missing one would hit the JSON "no_route" 404).
    for (method, path) in &routes {
        let concrete = path
            .replace("{id}", "NOPE-1")
            .replace("{digest}", &"a".repeat(64));
        let r = raw(&server.addr, method, &concrete, Some(&token), b"{}");
        let no_route = r.status == 404 && r.body.contains("no_route");
        assert!(
            !no_route && r.status != 405,
            "{method} {path}: {} {}",
            r.status,
            r.body
        );
    }
    // And a route that is not documented is not served.
    let r = raw(&server.addr, "GET", "/api/v1/nothing", Some(&token), b"");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], "no_route");
}

#[test]
fn malformed_and_hostile_requests_change_nothing() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_on(
        data.path(),
        "127.0.0.1:0",
        &["--max-body-mib", "1", "--max-upload-mib", "1"],
    );
    let a = server.addr.as_str();
    let token = common::token(data.path(), "team/h", "write");
    let run = create_run(a, &token, "team/h");
    let url = format!("/api/v1/objects/{run}/batches");
    let post = |body: &[u8]| raw(a, "POST", &url, Some(&token), body);
    // A little valid content first.
    let ok = post(&batch(
        json!([{"type": "LogFloats", "path": "s", "points": [
            {"step": 1.0, "value": 0.5, "timestamp_ms": 1}]},
            {"type": "AssignInt", "path": "n", "value": 7}]),
        1,
    ));
    assert_eq!(ok.status, 200, "{}", ok.body);
    // (sys/modification_time aside: the store touches it when a batch had a log operation,
    // even one whose every point was refused.)
    let values = || {
        let mut v = raw(
            a,
            "GET",
            &format!("/api/v1/objects/{run}/values"),
            Some(&token),
            b"",
        )
        .json();
        v["values"]
            .as_array_mut()
            .unwrap()
            .retain(|x| x["path"] != "sys/modification_time");
        v
    };
    let snapshot = || {
        (
            values(),
            raw(
                a,
                "GET",
                &format!("/api/v1/objects/{run}/series/floats?path=s"),
                Some(&token),
                b"",
            )
            .body,
            raw(
                a,
                "GET",
                &format!("/api/v1/objects/{run}/structure"),
                Some(&token),
                b"",
            )
            .body,
        )
    };
    let before = snapshot();

    let expect_400 = |body: &[u8], words: &[&str]| {
        let r = post(body);
        assert_eq!(r.status, 400, "{}", r.body);
        let m = r.message();
        for w in words {
            assert!(m.contains(w), "{w:?} not in {m:?}");
        }
    };
    expect_400(b"{not json", &["invalid JSON"]);
    expect_400(b"[]", &["invalid JSON"]);
    expect_400(
        &batch(
            json!([{"type": "AssignFloat", "path": "x", "value": "abc"}]),
            2,
        ),
        &["batches[0].ops[0]"],
    );
    expect_400(
        &batch(
            json!([{"type": "AssignInt", "path": "a//b", "value": 1}]),
            2,
        ),
        &["empty segment"],
    );
    // Paths that would display as other fields.
    for (path, word) in [
        ("train/../sys/name", "'..'"),
        ("./x", "'..'"),
        ("train/lo\u{200b}ss", "invisible"),
        ("eval/\u{202e}ssol", "invisible"),
    ] {
        expect_400(
            &batch(json!([{"type": "AssignInt", "path": path, "value": 1}]), 2),
            &[word],
        );
    }
    expect_400(
        &batch(json!([{"type": "Explode", "path": "x"}]), 2),
        &["Explode"],
    );
    expect_400(
        &batch(json!([{"type": "AssignInt", "value": 1}]), 2),
        &["path"],
    );
    expect_400(&batch(json!([]), 0), &["sequence"]);
    let two = serde_json::to_vec(&json!({"queue": "q-test", "batches": [
        {"seq": 5, "ops": []}, {"seq": 4, "ops": []}]}))
    .unwrap();
    expect_400(&two, &["increase"]);
    let bad_queue =
        serde_json::to_vec(&json!({"queue": "../../etc", "batches": [{"seq": 9, "ops": []}]}))
            .unwrap();
    expect_400(&bad_queue, &["queue id"]);

    // Over the body limit: 413, as JSON.
    let huge = vec![b' '; 2 << 20];
    let r = post(&huge);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.message().contains("limit"));

    // Refused one by one (the batch is well-formed; these operations are not).
    let hostile = json!([
        {"type": "LogFloats", "path": "s", "points": [
            {"step": 1.0, "value": 9.0, "timestamp_ms": 1}]},
        {"type": "AssignString", "path": "sys/id", "value": "HACK-1"},
        {"type": "AssignString", "path": "sys/owner", "value": "mallory"},
        {"type": "DeleteAttribute", "path": "sys/state"},
        {"type": "AssignRunState", "path": "params/state", "value": "Active"},
        {"type": "UploadFile", "path": "f", "file": {
            "digest": "b".repeat(64), "size": 1, "extension": "txt"}},
        {"type": "UploadFile", "path": "g", "file": {
            "digest": "../../../store.db", "size": 1, "extension": "txt"}},
        {"type": "UploadFileSet", "path": "fs", "reset": false, "files": [{"path": "../../etc/passwd",
            "file": {"digest": "c".repeat(64), "size": 1, "extension": ""}, "mtime_ms": 0}]},
        {"type": "CopyAttribute", "path": "c", "source_object": "OTHER-1", "source_path": "x"},
        {"type": "AssignInt", "path": "n/inner", "value": 1},
    ]);
    let r = post(&batch(hostile, 10));
    assert_eq!(r.status, 200, "{}", r.body);
    let rejected = r.json()["results"][0]["rejected"]
        .as_array()
        .unwrap()
        .clone();
    let idx: Vec<u64> = rejected
        .iter()
        .map(|x| x["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, (0..10).collect::<Vec<_>>(), "{rejected:#?}");
    let reason = |i: usize| rejected[i]["reason"].as_str().unwrap().to_owned();
    assert!(reason(0).contains("step"), "{}", reason(0));
    assert!(reason(1).contains("system field"), "{}", reason(1));
    assert!(reason(5).contains("not uploaded"), "{}", reason(5));
    assert!(reason(8).contains("OTHER-1"), "{}", reason(8));

    // File names: digests only, extensions plain, sizes bounded.
    let files = |p: &str| raw(a, "GET", p, Some(&token), b"");
    for p in [
        "/api/v1/files/..%2F..%2Fstore.db",
        "/api/v1/files/../../store.db",
        "/api/v1/files/%2e%2e",
        &format!("/api/v1/files/{}", "A".repeat(64)),
    ] {
        let r = files(p);
        assert!(
            (400..500).contains(&r.status),
            "{p}: {} {}",
            r.status,
            r.body
        );
        assert!(!r.body.contains("SQLite"), "{p} leaked the database");
    }
    let r = raw(
        a,
        "PUT",
        "/api/v1/files?extension=../../x",
        Some(&token),
        b"data",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let big = vec![7u8; (1 << 20) + 10];
    let r = raw(a, "PUT", "/api/v1/files?extension=bin", Some(&token), &big);
    assert_eq!(r.status, 413, "{}", r.body);
    let r = raw_with(
        a,
        "PUT",
        "/api/v1/files?extension=bin",
        Some(&token),
        &big,
        &[("Transfer-Encoding", "chunked"), ("Content-Length", "0")],
    );
    assert!((400..500).contains(&r.status), "{}", r.status);
    let stored: Vec<_> = walk(&data.path().join("files"));
    assert!(stored.is_empty(), "content was stored: {stored:?}");

    // Queries: bad paths and kinds.
    let r = raw(
        a,
        "GET",
        &format!("/api/v1/objects/{run}/value?path=a//b"),
        Some(&token),
        b"",
    );
    assert_eq!(r.status, 400);
    let r = raw(
        a,
        "GET",
        &format!("/api/v1/objects/{run}/value"),
        Some(&token),
        b"",
    );
    assert_eq!(r.status, 400);
    let r = raw(
        a,
        "GET",
        "/api/v1/objects?project=team/h&kind=spaceship",
        Some(&token),
        b"",
    );
    assert_eq!(r.status, 400);
    let r = raw(
        a,
        "GET",
        "/api/v1/objects/NOPE-9/structure",
        Some(&token),
        b"",
    );
    assert_eq!(r.status, 404);

    assert_eq!(snapshot(), before, "a refused request changed the run");
    // The server is still fine.
    assert_eq!(raw(a, "GET", "/health", None, b"").status, 200);
}

/// Every refusal, whatever part of the request is wrong, is the API's JSON error: a status, a
/// code and a message naming the problem (never axum's plain-text rejections).
#[test]
fn malformed_requests_are_answered_with_the_error_shape() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_on(data.path(), "127.0.0.1:0", &["--max-body-mib", "1"]);
    let a = server.addr.as_str();
    let token = common::token(data.path(), "team/e", "write");
    let run = create_run(a, &token, "team/e");
    let expect = |r: common::Answer, status: u16, code: &str, words: &[&str]| {
        assert_eq!(r.status, status, "{}", r.body);
        let body = r.json();
        assert_eq!(body["error"]["code"], code, "{body}");
        let m = r.message();
        for w in words {
            assert!(m.contains(w), "{w:?} not in {m:?}");
        }
    };
    // Malformed JSON bodies: not JSON, and JSON of the wrong shape (the place is named).
    let post = |path: &str, body: &[u8]| raw(a, "POST", path, Some(&token), body);
    expect(
        post("/api/v1/objects", b"{\"request\": "),
        400,
        "invalid_request",
        &["invalid JSON body"],
    );
    expect(
        post("/api/v1/tables", br#"{"scope": 5, "query": {}}"#),
        400,
        "invalid_request",
        &["invalid JSON body at scope"],
    );
    // Bad query strings: a missing parameter, a parameter of the wrong type.
    let get = |path: &str| raw(a, "GET", path, Some(&token), b"");
    expect(
        get("/api/v1/objects?project=team/e"),
        400,
        "invalid_request",
        &["invalid query", "kind"],
    );
    expect(
        get(&format!(
            "/api/v1/objects/{run}/series/floats?path=s&limit=many"
        )),
        400,
        "invalid_request",
        &["invalid query"],
    );
    // A path segment that is not UTF-8.
    expect(
        get("/api/v1/objects/%FF%FE/structure"),
        400,
        "invalid_request",
        &["invalid URL path"],
    );
    // The token is checked before the query: no token, 401 even with a bad query.
    expect(
        raw(a, "GET", "/api/v1/objects?kind=spaceship", None, b""),
        401,
        "unauthorized",
        &["Bearer"],
    );
    // A method a route does not take.
    expect(
        raw(a, "DELETE", "/api/v1/objects", Some(&token), b""),
        405,
        "no_method",
        &["method"],
    );
    // A body over the limit without a declared length (chunked): cut off at the limit.
    let mut s = std::net::TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /api/v1/tables HTTP/1.1\r\nHost: {a}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    use std::io::{Read, Write};
    s.write_all(head.as_bytes()).unwrap();
    let chunk = [b' '; 64 * 1024];
    for _ in 0..40 {
        let sent = s
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .and_then(|_| s.write_all(&chunk))
            .and_then(|_| s.write_all(b"\r\n"));
        if sent.is_err() {
            break; // answered already
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert!(resp.contains("\"too_large\""), "{resp}");
    assert!(resp.contains("limit of 1048576 bytes"), "{resp}");
    assert_eq!(raw(a, "GET", "/health", None, b"").status, 200);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Entry point of child processes (unused here).
/// Times no Datetime holds (they would read back as another time, or fail every read) are
/// refused per operation, naming the path; the rest of the batch is applied.
#[test]
fn times_out_of_range_are_refused_naming_the_path() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path());
    let a = server.addr.as_str();
    let token = common::token(data.path(), "team/time", "write");
    let run = create_run(a, &token, "team/time");
    let point = |step: u32, ts: i64| json!({"step": step, "value": 0.5, "timestamp_ms": ts});
    let ops = json!([
        {"type": "LogFloats", "path": "loss", "points": [point(0, 1), point(1, i64::MAX)]},
        {"type": "LogStrings", "path": "notes", "points": [
            {"step": 0, "value": "ok", "timestamp_ms": i64::MIN}]},
        {"type": "AssignDatetime", "path": "when", "value_ms": -9_000_000_000_000_000i64},
        {"type": "AssignInt", "path": "x", "value": 1},
        {"type": "LogFloats", "path": "acc", "points": [point(0, 1_717_171_717_000)]}
    ]);
    let r = raw(
        a,
        "POST",
        &format!("/api/v1/objects/{run}/batches"),
        Some(&token),
        &batch(ops, 1),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let rejected = r.json()["results"][0]["rejected"].clone();
    let rejected = rejected.as_array().unwrap();
    let paths: Vec<&str> = rejected
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["loss", "notes", "when"], "{rejected:?}");
    for r in rejected {
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains(r["path"].as_str().unwrap()), "{reason}");
        assert!(reason.contains("262142"), "{reason}");
    }
    assert!(rejected[0]["reason"].as_str().unwrap().contains("point #1"));
    // Nothing of a refused operation was written; the others were.
    let r = raw(
        a,
        "GET",
        &format!("/api/v1/objects/{run}/structure"),
        Some(&token),
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let fields: Vec<String> = r.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.to_string())
        .collect();
    let has = |p: &str| fields.iter().any(|f| f.contains(&format!("\"{p}\"")));
    assert!(has("x") && has("acc"), "{fields:?}");
    assert!(!has("loss") && !has("notes") && !has("when"), "{fields:?}");
}
