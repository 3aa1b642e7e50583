//! S3-compatible storage (AWS S3, MinIO, moto, …) for Artifact tracking, through the
//! `object_store` crate: list objects with their ETags and sizes, get, put. Enabled by the `s3`
//! feature.
//!
//! Settings from the environment ([`S3Client::from_env`]): the whole AWS credential chain
//! (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, web identity, container
//! and instance metadata), the region (`AWS_REGION`, else `AWS_DEFAULT_REGION`, else
//! `us-east-1`), and the endpoint from `NEPTUNE_S3_ENDPOINT`, else `AWS_ENDPOINT_URL_S3`,
//! else `AWS_ENDPOINT_URL` (path-style addressing, `http://` allowed); without one, AWS
//! itself.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use object_store::path::Path as ObjPath;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};

use super::artifact::S3;
use super::transfer::Bytes;
use crate::error::{Error, Result};
use crate::model::operation::ArtifactFile;
use crate::model::path::FieldPath;
use crate::store::files::BUF;
use crate::store::files_object::{block_on, obj_err, s3_from_env, ObjectReader};

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

impl From<ObjectMeta> for S3Object {
    fn from(m: ObjectMeta) -> Self {
        S3Object {
            key: m.location.to_string(),
            etag: m.e_tag.unwrap_or_default().trim_matches('"').to_owned(),
            size: m.size,
            last_modified_ms: m.last_modified.timestamp_millis(),
        }
    }
}

/// A client for one endpoint and account (a store per bucket, made on first use).
pub struct S3Client {
    endpoint: Option<String>,
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl std::fmt::Debug for S3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Client")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl S3Client {
    /// A client configured from the environment (see the module documentation).
    pub fn from_env() -> Result<S3Client> {
        let endpoint = env("NEPTUNE_S3_ENDPOINT");
        if let Some(e) = &endpoint {
            let ok = e
                .split_once("://")
                .is_some_and(|(s, a)| (s == "http" || s == "https") && !a.is_empty());
            if !ok {
                return Err(Error::Config(format!(
                    "S3 endpoint {e:?} must be scheme://host[:port], e.g. http://127.0.0.1:9000"
                )));
            }
        }
        Ok(S3Client {
            endpoint,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    fn bucket(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        let mut map = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = map.get(bucket) {
            return Ok(s.clone());
        }
        let store = s3_from_env(bucket, self.endpoint.clone())?;
        map.insert(bucket.to_owned(), store.clone());
        Ok(store)
    }

    /// The object whose key is `key`; `None` when there is none.
    pub fn head_object(&self, bucket: &str, key: &str) -> Result<Option<S3Object>> {
        let store = self.bucket(bucket)?;
        match block_on(store.head(&ObjPath::from(key)))? {
            Ok(m) => Ok(Some(m.into())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(obj_err(format!("S3 HEAD s3://{bucket}/{key}"), e)),
        }
    }

    /// Every object below the folder `prefix` (all of the bucket when empty), in key order.
    pub fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<S3Object>> {
        let store = self.bucket(bucket)?;
        let folder = ObjPath::from(prefix);
        let mut out = Vec::new();
        block_on(async {
            let mut list = store.list((!prefix.is_empty()).then_some(&folder));
            while let Some(m) = list.next().await {
                out.push(S3Object::from(m?));
            }
            Ok::<(), object_store::Error>(())
        })?
        .map_err(|e| obj_err(format!("S3 list s3://{bucket}/{prefix}"), e))?;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// Opens an object for reading (streamed); its ETag without quotes.
    pub fn get_object(&self, bucket: &str, key: &str) -> Result<(Box<dyn Read + Send>, String)> {
        let store = self.bucket(bucket)?;
        let what = format!("S3 GET s3://{bucket}/{key}");
        let got = block_on(store.get(&ObjPath::from(key)))?.map_err(|e| obj_err(&what, e))?;
        let etag = got
            .meta
            .e_tag
            .clone()
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        Ok((Box::new(ObjectReader::new(got.into_stream(), what)), etag))
    }

    /// Stores an object.
    pub fn put_object(&self, bucket: &str, key: &str, body: &[u8]) -> Result<()> {
        let store = self.bucket(bucket)?;
        let payload = PutPayload::from(body.to_vec());
        block_on(store.put(&ObjPath::from(key), payload))?
            .map_err(|e| obj_err(format!("S3 PUT s3://{bucket}/{key}"), e))
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
    let with_field = |e: Error| match e {
        Error::Io { context, source } => Error::Io {
            context: format!("\"{field}\": {context}"),
            source,
        },
        e => e,
    };
    // One object whose key is `prefix`, else the folder `prefix/`.
    let single = if prefix.is_empty() || prefix.ends_with('/') {
        None
    } else {
        client.head_object(bucket, prefix).map_err(with_field)?
    };
    let chosen: Vec<(String, S3Object)> = match single {
        Some(o) => vec![(prefix.rsplit('/').next().unwrap_or(prefix).to_owned(), o)],
        None => {
            let folder = if prefix.is_empty() || prefix.ends_with('/') {
                prefix.to_owned()
            } else {
                format!("{prefix}/")
            };
            client
                .list_objects(bucket, prefix)
                .map_err(with_field)?
                .into_iter()
                .filter(|o| o.key.starts_with(&folder) && !o.key.ends_with('/'))
                .map(|o| (o.key[folder.len()..].to_owned(), o))
                .collect()
        }
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
