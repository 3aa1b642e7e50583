//! The original API without Python: bad tokens, another project, what it does not serve, and
//! uploads in parts taken only in order and whole.

use super::*;
use crate::common::{self, raw, raw_with, Server};

#[test]
fn original_api_refuses_bad_tokens_other_projects_and_what_it_does_not_serve() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let (token_a, nep_a) = python_token(&server, "team/a");
    let (token_b, _) = python_token(&server, "team/b");
    let access = |t: &str| {
        exchange(&server, t).json()["accessToken"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let a = access(&token_a);
    let b = access(&token_b);

    // Garbage and unknown tokens: 401 in the client's error shape.
    let bad = exchange(&server, "bm90IGEgdG9rZW4=");
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["errorType"], "UNAUTHORIZED");
    let forged = format!("{}x", a);
    let r = raw(
        &server.addr,
        "GET",
        "/api/backend/v1/projects/get?projectIdentifier=team/a",
        Some(&forged),
        b"",
    );
    assert_eq!(r.status, 401, "{}", r.body);

    // A run of project a, created through the original API.
    let created = raw(
        &server.addr,
        "POST",
        "/api/leaderboard/v1/experiments",
        Some(&a),
        br#"{"projectIdentifier":"team/a","parentId":"team/a","type":"run"}"#,
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    // Project b's token can neither see it nor write to it, nor create in project a.
    let seen = raw(
        &server.addr,
        "GET",
        &format!("/api/leaderboard/v1/experiments/get?experimentId={id}"),
        Some(&b),
        b"",
    );
    assert_eq!(seen.status, 404, "{}", seen.body);
    let ops = br#"[{"path":"x","assignFloat":{"value":1.0}}]"#;
    let w = raw(
        &server.addr,
        "POST",
        &format!("/api/leaderboard/v1/attributes/operations?experimentId={id}"),
        Some(&b),
        ops,
    );
    assert_eq!(w.status, 404, "{}", w.body);
    let c = raw(
        &server.addr,
        "POST",
        "/api/leaderboard/v1/experiments",
        Some(&b),
        br#"{"projectIdentifier":"team/a","parentId":"team/a","type":"run"}"#,
    );
    assert_eq!(c.status, 404, "{}", c.body);

    // A batch with a good, a malformed and a refused operation: the good one applied, the
    // others each reported with their path.
    let ops = br#"[{"path":"x","assignFloat":{"value":1.5}},
                   {"path":"y","assignInt":{"value":"seven"}},
                   {"path":"sys/id","assignString":{"value":"HACK"}},
                   {"path":"z","trackFilesToArtifact":{}}]"#;
    let w = raw(
        &server.addr,
        "POST",
        &format!("/api/leaderboard/v1/attributes/operations?experimentId={id}"),
        Some(&a),
        ops,
    );
    assert_eq!(w.status, 200, "{}", w.body);
    let errors: Vec<String> = w
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["errorDescription"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].starts_with("y: "), "{errors:?}");
    assert!(
        errors.iter().any(|e| e.starts_with("sys/id: ")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("z: ") && e.contains("not served")),
        "{errors:?}"
    );
    let v = raw(
        &server.addr,
        "GET",
        &format!("/api/v1/objects/{id}/value?path=x"),
        Some(&nep_a),
        b"",
    );
    assert_eq!(v.json()["value"], serde_json::json!({"Float": 1.5}));
    let v = raw(
        &server.addr,
        "GET",
        &format!("/api/v1/objects/{id}/value?path=sys/id"),
        Some(&nep_a),
        b"",
    );
    assert_eq!(v.json()["value"], serde_json::json!({"String": id}));

    // What is not served says so, in the shape the client prints.
    let n = raw(
        &server.addr,
        "POST",
        "/api/leaderboard/v1/notebooks/checkpoints?notebookId=x",
        Some(&a),
        b"",
    );
    assert_eq!(n.status, 501);
    assert_eq!(n.json()["errorType"], "NOT_SERVED");
    assert!(n.json()["title"].as_str().unwrap().contains("not serve"));

    // A revoked API token ends its access tokens at once.
    common::revoke(&server.data, &nep_a);
    let r = raw(
        &server.addr,
        "GET",
        &format!("/api/leaderboard/v1/experiments/get?experimentId={id}"),
        Some(&a),
        b"",
    );
    assert_eq!(r.status, 401, "{}", r.body);
}

/// A server whose Python-client runs turn Inactive `timeout` seconds after their last ping.

#[test]
fn original_api_takes_parts_only_in_order_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_env(
        &dir.path().join("data"),
        &[("NEPTUNE_PY_CLIENT_UPLOAD_PART", "4")],
    );
    let (token, _) = python_token(&server, "team/p");
    let (access, id) = python_run(&server, &token, "team/p");
    let base = "/api/leaderboard/v1/attributes/storage/file/upload";
    let q = format!("experimentIdentifier={id}&attribute=f");
    let start = raw(
        &server.addr,
        "POST",
        &format!("{base}/start?{q}&ext=bin&totalLength=8"),
        Some(&access),
        b"",
    )
    .json();
    let upload = start["uploadId"].as_str().unwrap().to_owned();
    let part = |idx: usize, range: &str, body: &[u8]| {
        raw_with(
            &server.addr,
            "POST",
            &format!("{base}/part?{q}&uploadId={upload}&uploadPartIdx={idx}"),
            Some(&access),
            body,
            &[("X-Range", range)],
        )
    };
    let finish = || {
        raw(
            &server.addr,
            "POST",
            &format!("{base}/finish?{q}&uploadId={upload}"),
            Some(&access),
            b"",
        )
    };
    // Out of order, or a range that does not match the body: refused.
    assert_eq!(part(1, "bytes=4-7/8", b"5678").status, 400);
    assert_eq!(part(0, "bytes=0-3/8", b"12").status, 400);
    assert_eq!(part(0, "bytes=0-3/8", b"1234").status, 200);
    // Not whole yet: the finish says so and writes nothing.
    let early = finish().json();
    assert!(
        early["errors"][0]["errorDescription"]
            .as_str()
            .unwrap()
            .contains("4 of its 8 bytes"),
        "{early}"
    );
    assert_eq!(part(1, "bytes=4-7/8", b"5678").status, 200);
    assert_eq!(finish().json()["errors"], serde_json::json!([]));
    let d = raw(
        &server.addr,
        "GET",
        &format!(
            "/api/leaderboard/v1/attributes/storage/file/download?experimentId={id}&attribute=f"
        ),
        Some(&access),
        b"",
    );
    assert_eq!(d.body, "12345678");
    // Finished: the upload is gone; a file above the upload limit never starts.
    assert_eq!(finish().status, 404);
    let too_big = raw(
        &server.addr,
        "POST",
        &format!("{base}/start?{q}&ext=bin&totalLength=999999999999"),
        Some(&access),
        b"",
    )
    .json();
    assert!(
        too_big["errors"][0]["errorDescription"]
            .as_str()
            .unwrap()
            .contains("upload limit"),
        "{too_big}"
    );
}
