//! A server that answers it cannot serve now (5xx), or does not answer: the client's error names
//! the server and the status, as [`Error::Unavailable`], and the read is not taken for a refusal.

use std::io::{Read, Write};
use std::net::TcpListener;

use neptune_core::backend::http::HttpBackend;
use neptune_core::{Error, FieldPath, Reader};

/// A loopback server that answers each of `n` requests with `status` and an API error body.
fn answering(status: u16, n: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(n) {
            let Ok(mut c) = conn else { continue };
            let mut buf = [0u8; 8192];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match c.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => got.extend_from_slice(&buf[..k]),
                }
            }
            let body = r#"{"error":{"code":"internal","message":"the database is busy"}}"#;
            let _ = write!(
                c,
                "HTTP/1.1 {status} Unavailable\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_5xx_names_the_server_and_its_status() {
    let url = answering(503, 4);
    let http = HttpBackend::new(&url, "any").unwrap();
    let path = FieldPath::parse("loss").unwrap();
    let e = http.fetch_value("RUN-1", &path).unwrap_err();
    match &e {
        Error::Unavailable {
            url: u,
            status: Some(503),
            reason,
        } => {
            assert_eq!(u, &url);
            assert_eq!(reason, "the database is busy");
        }
        e => panic!("{e:?}"),
    }
    let text = e.to_string();
    assert!(
        text.contains(&url) && text.contains("HTTP 503") && text.contains("try again later"),
        "{text}"
    );
}

#[test]
fn no_answer_names_the_server_without_a_status() {
    // A port that was just free: nothing listens there.
    let url = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let http = HttpBackend::new(&url, "any").unwrap();
    let e = http
        .list_objects("team/p", neptune_core::ObjectKind::Run)
        .unwrap_err();
    match &e {
        Error::Unavailable {
            url: u,
            status: None,
            ..
        } => assert_eq!(u, &url),
        e => panic!("{e:?}"),
    }
    assert!(
        e.to_string()
            .starts_with(&format!("cannot reach the neptune server at {url}: ")),
        "{e}"
    );
}
