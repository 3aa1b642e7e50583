//! A small blocking client for S3-compatible storage (AWS S3, MinIO, moto, …): list objects
//! with their ETags and sizes, get, put, create a bucket. SigV4-signed with hmac and sha2,
//! over ureq with rustls. Enabled by the `s3` feature.
//!
//! Settings from the environment ([`S3Client::from_env`]): the endpoint from
//! `NEPTUNE_S3_ENDPOINT`, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL` (path-style
//! addressing, `http://` allowed); without one, AWS itself (virtual-hosted addressing). The
//! region from `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`. Credentials from
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, when set, `AWS_SESSION_TOKEN`.

use std::io::{Read, Write};
use std::time::Duration;

use super::artifact::S3;
use super::sigv4::{uri_encode, Credentials, Request, EMPTY_SHA256};
use super::transfer::Bytes;
use crate::error::{Error, Result};
use crate::model::operation::ArtifactFile;
use crate::model::path::FieldPath;
use crate::store::files::{hex, BUF};

/// One listed object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Object {
    /// The object's key in its bucket.
    pub key: String,
    /// The ETag, without quotes.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// Unix milliseconds.
    pub last_modified_ms: i64,
}

/// A client for one endpoint and account.
pub struct S3Client {
    /// `scheme://host[:port]` of a custom endpoint; `None` for AWS.
    endpoint: Option<(String, String)>,
    region: String,
    creds: Credentials,
    agent: ureq::Agent,
}

impl std::fmt::Debug for S3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Client")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

fn s3_error(context: String, reason: impl Into<String>) -> Error {
    Error::io(context, std::io::Error::other(reason.into()))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The text of the first `<name>…</name>` in `xml`.
fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(&xml[start..end])
}

/// The text of every `<name>…</name>` in `xml`.
fn blocks<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let start = i + open.len();
        let Some(len) = rest[start..].find(&close) else {
            break;
        };
        out.push(&rest[start..start + len]);
        rest = &rest[start + len + close.len()..];
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(end) = after.find(';') else {
            out.push_str(after);
            return out;
        };
        let entity = &after[1..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => out.push(c),
            None => out.push_str(&after[..=end]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

impl S3Client {
    /// A client configured from the environment (see the module documentation).
    pub fn from_env() -> Result<S3Client> {
        let endpoint = env("NEPTUNE_S3_ENDPOINT")
            .or_else(|| env("AWS_ENDPOINT_URL_S3"))
            .or_else(|| env("AWS_ENDPOINT_URL"));
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let (Some(access_key), Some(secret_key)) =
            (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(Error::Config(
                "S3 credentials are missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                    .into(),
            ));
        };
        S3Client::new(
            endpoint.as_deref(),
            &region,
            &access_key,
            &secret_key,
            env("AWS_SESSION_TOKEN"),
        )
    }

    /// A client for `endpoint` (`http://127.0.0.1:9000`; `None` for AWS) and an account.
    pub fn new(
        endpoint: Option<&str>,
        region: &str,
        access_key: &str,
        secret_key: &str,
        session_token: Option<String>,
    ) -> Result<S3Client> {
        let endpoint = match endpoint {
            None => None,
            Some(e) => {
                let e = e.trim_end_matches('/');
                let (scheme, authority) = e.split_once("://").ok_or_else(|| {
                    Error::Config(format!(
                        "S3 endpoint {e:?} needs a scheme: http:// or https://"
                    ))
                })?;
                if (scheme != "http" && scheme != "https")
                    || authority.is_empty()
                    || authority.contains('/')
                {
                    return Err(Error::Config(format!(
                        "S3 endpoint {e:?} must be scheme://host[:port], e.g. http://127.0.0.1:9000"
                    )));
                }
                Some((scheme.to_owned(), authority.to_owned()))
            }
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .build()
            .into();
        Ok(S3Client {
            endpoint,
            region: region.to_owned(),
            creds: Credentials {
                access_key: access_key.to_owned(),
                secret_key: secret_key.to_owned(),
                session_token,
            },
            agent,
        })
    }

    /// (scheme, host, path) of an object (`key` empty: the bucket).
    fn locate(&self, bucket: &str, key: &str) -> (String, String, String) {
        match &self.endpoint {
            Some((scheme, authority)) => (
                scheme.clone(),
                authority.clone(),
                if key.is_empty() {
                    format!("/{bucket}")
                } else {
                    format!("/{bucket}/{key}")
                },
            ),
            None => (
                "https".into(),
                format!("{bucket}.s3.{}.amazonaws.com", self.region),
                format!("/{key}"),
            ),
        }
    }

    fn request(
        &self,
        method: &str,
        bucket: &str,
        key: &str,
        query: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let (scheme, host, path) = self.locate(bucket, key);
        let payload = match body {
            Some(b) => hex(&<sha2::Sha256 as sha2::Digest>::digest(b)),
            None => EMPTY_SHA256.to_owned(),
        };
        let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let req = Request {
            method,
            path: &path,
            query,
            headers: &[],
            host: &host,
            payload_sha256: &payload,
            amz_date: &amz_date,
            region: &self.region,
        };
        let auth = req.authorization(&self.creds);
        let q = req.canonical_query();
        let url = format!(
            "{scheme}://{host}{}{}{q}",
            uri_encode(&path, false),
            if q.is_empty() { "" } else { "?" }
        );
        let what = format!("S3 {method} s3://{bucket}/{key}");
        let mut headers = req.signed_headers(&self.creds);
        headers.retain(|(k, _)| k != "host");
        let result = match (method, body) {
            ("PUT", b) => {
                let mut r = self.agent.put(&url);
                for (k, v) in &headers {
                    r = r.header(k.as_str(), v.as_str());
                }
                r.header("authorization", &auth).send(b.unwrap_or(&[]))
            }
            _ => {
                let mut r = self.agent.get(&url);
                for (k, v) in &headers {
                    r = r.header(k.as_str(), v.as_str());
                }
                r.header("authorization", &auth).call()
            }
        };
        let resp = result.map_err(|e| s3_error(what.clone(), e.to_string()))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let text = resp
                .into_body()
                .with_config()
                .limit(64 * 1024)
                .read_to_string()
                .unwrap_or_default();
            let code = tag(&text, "Code").unwrap_or("");
            let message = tag(&text, "Message").map(unescape).unwrap_or_default();
            return Err(s3_error(
                what,
                format!("HTTP {status} {code} {message}").trim().to_owned(),
            ));
        }
        Ok(resp)
    }

    /// Every object whose key starts with `prefix`, in key order.
    pub fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<S3Object>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![
                ("list-type".to_owned(), "2".to_owned()),
                ("prefix".to_owned(), prefix.to_owned()),
            ];
            if let Some(t) = &token {
                query.push(("continuation-token".to_owned(), t.clone()));
            }
            let resp = self.request("GET", bucket, "", &query, None)?;
            let xml = resp
                .into_body()
                .with_config()
                .limit(64 << 20)
                .read_to_string()
                .map_err(|e| s3_error(format!("S3 list s3://{bucket}/{prefix}"), e.to_string()))?;
            for c in blocks(&xml, "Contents") {
                let key = unescape(tag(c, "Key").unwrap_or_default());
                let etag = unescape(tag(c, "ETag").unwrap_or_default())
                    .trim_matches('"')
                    .to_owned();
                let size = tag(c, "Size")
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0);
                let last_modified_ms = tag(c, "LastModified")
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t.trim()).ok())
                    .map_or(0, |t| t.timestamp_millis());
                out.push(S3Object {
                    key,
                    etag,
                    size,
                    last_modified_ms,
                });
            }
            let truncated = tag(&xml, "IsTruncated").is_some_and(|t| t.trim() == "true");
            token = tag(&xml, "NextContinuationToken").map(unescape);
            if !truncated || token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// Opens an object for reading (streamed); its ETag without quotes.
    pub fn get_object(&self, bucket: &str, key: &str) -> Result<(Box<dyn Read + Send>, String)> {
        let resp = self.request("GET", bucket, key, &[], None)?;
        let etag = resp
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .trim_matches('"')
            .to_owned();
        Ok((Box::new(resp.into_body().into_reader()), etag))
    }

    /// Stores an object.
    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> Result<()> {
        self.request("PUT", bucket, key, &[], Some(body)).map(drop)
    }

    /// Creates a bucket (in the client's region).
    pub fn create_bucket(&self, bucket: &str) -> Result<()> {
        let body = if self.region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.region
            )
        };
        self.request("PUT", bucket, "", &[], Some(body.as_bytes()))
            .map(drop)
    }
}

/// The artifact entries of `s3://bucket/prefix`: the one object whose key is `prefix`, else
/// every object below the folder `prefix/`. Paths are relative to that folder, under `dest`.
pub(crate) fn artifact_files(
    client: &S3Client,
    field: &FieldPath,
    bucket: &str,
    prefix: &str,
    dest: &str,
) -> Result<Vec<ArtifactFile>> {
    if bucket.is_empty() {
        return Err(Error::invalid(
            field,
            "an S3 path is s3://bucket/prefix; the bucket is missing",
        ));
    }
    let listed = client.list_objects(bucket, prefix).map_err(|e| match e {
        Error::Io { context, source } => Error::Io {
            context: format!("\"{field}\": {context}"),
            source,
        },
        e => e,
    })?;
    let folder = if prefix.is_empty() || prefix.ends_with('/') {
        prefix.to_owned()
    } else {
        format!("{prefix}/")
    };
    let chosen: Vec<(String, &S3Object)> = match listed
        .iter()
        .find(|o| o.key == prefix && !prefix.is_empty())
    {
        Some(o) => vec![(prefix.rsplit('/').next().unwrap_or(prefix).to_owned(), o)],
        None => listed
            .iter()
            .filter(|o| o.key.starts_with(&folder) && !o.key.ends_with('/'))
            .map(|o| (o.key[folder.len()..].to_owned(), o))
            .collect(),
    };
    if chosen.is_empty() {
        return Err(Error::invalid(
            field,
            format!("no S3 object at s3://{bucket}/{prefix}"),
        ));
    }
    chosen
        .into_iter()
        .map(|(rel, o)| {
            if rel
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
            {
                return Err(Error::invalid(
                    field,
                    format!("S3 key {:?} cannot be a path inside an artifact", o.key),
                ));
            }
            Ok(ArtifactFile {
                file_path: if dest.is_empty() {
                    rel
                } else {
                    format!("{dest}/{rel}")
                },
                file_hash: o.etag.clone(),
                size: o.size,
                storage_type: S3.to_owned(),
                location: format!("s3://{bucket}/{}", o.key),
                last_modified_ms: o.last_modified_ms,
            })
        })
        .collect()
}

/// Fetches a tracked S3 object into `out`, refusing it when its ETag or size changed.
pub(crate) fn download_checked(
    client: &S3Client,
    field: &FieldPath,
    f: &ArtifactFile,
    out: &mut dyn Write,
    bar: &Bytes,
) -> Result<()> {
    let rest = f.location.strip_prefix("s3://").unwrap_or(&f.location);
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    let (mut body, etag) = client.get_object(bucket, key).map_err(|e| {
        Error::invalid(
            field,
            format!("{} ({}) cannot be fetched: {e}", f.file_path, f.location),
        )
    })?;
    if !etag.is_empty() && etag != f.file_hash {
        return Err(Error::invalid(
            field,
            format!(
                "{} ({}) changed since it was tracked (ETag {etag}, tracked {}); track it again",
                f.file_path, f.location, f.file_hash
            ),
        ));
    }
    let mut buf = vec![0u8; BUF];
    let mut size = 0u64;
    loop {
        let n = body
            .read(&mut buf)
            .map_err(|e| Error::io(format!("cannot read {}", f.location), e))?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])
            .map_err(|e| Error::io("cannot write the download", e))?;
        size += n as u64;
        bar.add(n as u64);
    }
    if size != f.size {
        return Err(Error::invalid(
            field,
            format!(
                "{} ({}) changed since it was tracked ({size} bytes, tracked {})",
                f.file_path, f.location, f.size
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_helpers() {
        let xml = "<R><IsTruncated>false</IsTruncated><Contents><Key>a&amp;b</Key><ETag>&quot;x&quot;</ETag>\
                   <Size>3</Size></Contents><Contents><Key>c</Key></Contents></R>";
        let c = blocks(xml, "Contents");
        assert_eq!(c.len(), 2);
        assert_eq!(unescape(tag(c[0], "Key").unwrap()), "a&b");
        assert_eq!(unescape(tag(c[0], "ETag").unwrap()), "\"x\"");
        assert_eq!(unescape("&#65;&#x42;&bogus;"), "AB&bogus;");
        assert!(S3Client::new(Some("127.0.0.1:9000"), "us-east-1", "a", "b", None).is_err());
    }
}
