//! AWS Signature Version 4 for S3 requests (header form), with hmac and sha2.

#![cfg_attr(not(feature = "s3"), allow(dead_code))]

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::store::files::hex;

type HmacSha256 = Hmac<Sha256>;

/// SHA-256 of an empty payload.
pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Access key, secret key and optional session token.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

/// URI-encodes per SigV4: unreserved characters stay, everything else is `%XX`; `/` stays
/// unless `encode_slash`.
pub(crate) fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b'/' if !encode_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// A request to sign.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    /// The path, not yet encoded (`/bucket/key`).
    pub path: &'a str,
    /// Query parameters, not yet encoded.
    pub query: &'a [(String, String)],
    /// Headers to sign besides `host`, `x-amz-date` and `x-amz-content-sha256`
    /// (lowercase names).
    pub headers: &'a [(String, String)],
    pub host: &'a str,
    pub payload_sha256: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
    pub region: &'a str,
}

impl Request<'_> {
    /// The encoded query string, sorted as SigV4 requires (also what goes on the wire).
    pub fn canonical_query(&self) -> String {
        let mut q: Vec<(String, String)> = self
            .query
            .iter()
            .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
            .collect();
        q.sort();
        q.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Every signed header, sorted by name: `(name, value)`.
    pub fn signed_headers(&self, creds: &Credentials) -> Vec<(String, String)> {
        let mut h: Vec<(String, String)> = vec![
            ("host".into(), self.host.to_owned()),
            (
                "x-amz-content-sha256".into(),
                self.payload_sha256.to_owned(),
            ),
            ("x-amz-date".into(), self.amz_date.to_owned()),
        ];
        if let Some(t) = &creds.session_token {
            h.push(("x-amz-security-token".into(), t.clone()));
        }
        h.extend(
            self.headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned())),
        );
        h.sort();
        h
    }

    /// The `Authorization` header's value.
    pub fn authorization(&self, creds: &Credentials) -> String {
        let headers = self.signed_headers(creds);
        let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        let signed = signed.join(";");
        let canonical = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            uri_encode(self.path, false),
            self.canonical_query(),
            canonical_headers,
            signed,
            self.payload_sha256
        );
        let date = &self.amz_date[..8.min(self.amz_date.len())];
        let scope = format!("{date}/{}/s3/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
            self.amz_date,
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let k_date = hmac(
            format!("AWS4{}", creds.secret_key).as_bytes(),
            date.as_bytes(),
        );
        let k_region = hmac(&k_date, self.region.as_bytes());
        let k_service = hmac(&k_region, b"s3");
        let k_signing = hmac(&k_service, b"aws4_request");
        let signature = hex(&hmac(&k_signing, to_sign.as_bytes()));
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
            creds.access_key
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_key: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    /// The "GET Object" example of the AWS SigV4 documentation for S3.
    #[test]
    fn aws_get_object_example() {
        let req = Request {
            method: "GET",
            path: "/test.txt",
            query: &[],
            headers: &[("range".into(), "bytes=0-9".into())],
            host: "examplebucket.s3.amazonaws.com",
            payload_sha256: EMPTY_SHA256,
            amz_date: "20130524T000000Z",
            region: "us-east-1",
        };
        assert_eq!(
            req.authorization(&creds()),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    /// The "GET Bucket (List Objects)" example of the same documentation.
    #[test]
    fn aws_list_objects_example() {
        let query = [
            ("max-keys".to_owned(), "2".to_owned()),
            ("prefix".to_owned(), "J".to_owned()),
        ];
        let req = Request {
            method: "GET",
            path: "/",
            query: &query,
            headers: &[],
            host: "examplebucket.s3.amazonaws.com",
            payload_sha256: EMPTY_SHA256,
            amz_date: "20130524T000000Z",
            region: "us-east-1",
        };
        assert!(req.authorization(&creds()).ends_with(
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        ));
    }

    #[test]
    fn encoding() {
        assert_eq!(uri_encode("a b/c~d", false), "a%20b/c~d");
        assert_eq!(uri_encode("a b/c", true), "a%20b%2Fc");
        assert_eq!(uri_encode("é", true), "%C3%A9");
    }
}
