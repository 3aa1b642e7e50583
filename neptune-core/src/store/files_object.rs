//! The file area on an object store (feature `object-store`): S3-compatible storage
//! (`s3://bucket/prefix`) or a local folder through `object_store` (`file:///abs/path`).
//!
//! Content `d` is the object `<prefix>/<d[0..2]>/<d[2..]>`, as on disk. A write streams the
//! content while hashing it: content smaller than one part is held in memory and put under its
//! digest in one request once the digest is known; larger content goes up as a multipart
//! upload to `<prefix>/tmp/<unique>` (parts of [`PART`] bytes, at most [`PARTS_IN_FLIGHT`] in
//! flight, so memory stays bounded whatever the size), then is copied under its digest and
//! the temporary object removed. A reader therefore never finds incomplete content under a
//! digest name: S3 makes an object visible only when its put or upload completes.
//!
//! Calls are blocking, like the rest of the store: the async client runs on a small runtime of
//! its own, shared by every area of the process. They must not be made from inside an async
//! task (a server calls them from `spawn_blocking`).

use std::future::Future;
use std::io::{self, Read};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

use super::files::hex;
use crate::error::{Error, Result};

/// Size of one part of a multipart upload (S3 wants at least 5 MiB but the last).
pub(crate) const PART: usize = 8 << 20;
/// Parts uploaded at once: with [`PART`], at most 32 MiB of an upload is in memory.
pub(crate) const PARTS_IN_FLIGHT: usize = 3;

/// The runtime of the object-store clients (never dropped: it outlives every store).
fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(rt) = RT.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("neptune-objects")
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the runtime of the object-store client", e))?;
    Ok(RT.get_or_init(|| rt))
}

/// Installs ring as rustls' provider for object_store's HTTPS (once; an application that
/// installed one first keeps it).
fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Runs `f` to completion on the object-store runtime.
pub(crate) fn block_on<F: Future>(f: F) -> Result<F::Output> {
    Ok(runtime()?.block_on(f))
}

/// An `object_store` error as the store's, naming what was being done.
pub(crate) fn obj_err(context: impl Into<String>, e: object_store::Error) -> Error {
    Error::io(context.into(), io::Error::other(e.to_string()))
}

/// An S3 store of `bucket` configured from the environment: the whole AWS credential chain
/// (`AWS_ACCESS_KEY_ID`…, web identity, container and instance metadata), the region, and the
/// endpoint override `AWS_ENDPOINT_URL` (or `endpoint`, e.g. `NEPTUNE_S3_ENDPOINT`), where
/// plain `http://` is allowed.
pub(crate) fn s3_from_env(bucket: &str, endpoint: Option<String>) -> Result<Arc<dyn ObjectStore>> {
    install_tls_provider();
    let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
    let endpoint = endpoint.or_else(|| {
        ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    });
    if let Some(e) = endpoint {
        b = b
            .with_allow_http(e.starts_with("http://"))
            .with_endpoint(e.trim_end_matches('/'));
    }
    if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
        b = b.with_region("us-east-1");
    } else if let Ok(r) = std::env::var("AWS_DEFAULT_REGION") {
        if std::env::var("AWS_REGION").is_err() {
            b = b.with_region(r);
        }
    }
    // Few, quick retries: a store that does not answer is reported (and `/ready` fails)
    // within seconds rather than after minutes of backoff.
    b = b.with_retry(object_store::RetryConfig {
        max_retries: 4,
        retry_timeout: std::time::Duration::from_secs(20),
        ..Default::default()
    });
    let store = b.build().map_err(|e| {
        Error::Config(format!(
            "cannot configure S3 for bucket {bucket:?}: {e}; set the AWS credentials \
             (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile's web identity, or \
             instance metadata) and AWS_ENDPOINT_URL for S3-compatible storage"
        ))
    })?;
    Ok(Arc::new(store))
}

/// An area on an object store.
pub(crate) struct ObjectArea {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    url: String,
}

/// Content streamed into an object area, not yet visible under its digest.
pub(crate) enum Pending {
    /// Smaller than a part: the bytes.
    Small(Bytes),
    /// A completed multipart upload to this temporary key.
    Uploaded(ObjPath),
}

/// A blocking reader over an object's byte stream.
pub(crate) struct ObjectReader {
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    current: Bytes,
    what: String,
}

impl ObjectReader {
    /// Reads `stream`; `what` names the object in errors.
    pub(crate) fn new(
        stream: BoxStream<'static, object_store::Result<Bytes>>,
        what: String,
    ) -> Self {
        ObjectReader {
            stream,
            current: Bytes::new(),
            what,
        }
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            let next = block_on(self.stream.next()).map_err(|e| io::Error::other(e.to_string()))?;
            match next {
                None => return Ok(0),
                Some(Ok(b)) => self.current = b,
                Some(Err(e)) => {
                    return Err(io::Error::other(format!("cannot read {}: {e}", self.what)))
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

impl ObjectArea {
    /// The area at `url`: `s3://bucket[/prefix]` or `file:///absolute/folder` (created).
    pub(crate) fn open(url: &str) -> Result<ObjectArea> {
        let bad = |why: &str| {
            Error::Config(format!(
                "file store {url:?} {why}; use s3://bucket/prefix (S3-compatible storage) or \
                 file:///absolute/folder"
            ))
        };
        let (store, prefix): (Arc<dyn ObjectStore>, String) =
            if let Some(rest) = url.strip_prefix("s3://") {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(bad("names no bucket"));
                }
                (
                    s3_from_env(bucket, None)?,
                    prefix.trim_matches('/').to_owned(),
                )
            } else if let Some(dir) = url.strip_prefix("file://") {
                if !dir.starts_with('/') {
                    return Err(bad("is not an absolute folder"));
                }
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("cannot create the file store {dir}"), e))?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| obj_err(format!("cannot open the file store {dir}"), e))?;
                (Arc::new(fs), String::new())
            } else {
                return Err(bad("is not a URL this server knows"));
            };
        runtime()?;
        Ok(ObjectArea {
            store,
            prefix,
            url: url.trim_end_matches('/').to_owned(),
        })
    }

    fn key(&self, rest: &str) -> ObjPath {
        if self.prefix.is_empty() {
            ObjPath::from(rest)
        } else {
            ObjPath::from(format!("{}/{rest}", self.prefix))
        }
    }

    fn content_key(&self, digest: &str) -> ObjPath {
        self.key(&format!("{}/{}", &digest[..2], &digest[2..]))
    }

    /// Streams `content` in while hashing it; returns the digest, the size and what to place.
    pub(crate) fn stage(&self, content: &mut dyn Read) -> Result<(String, u64, Pending)> {
        let mut hasher = Sha256::new();
        let mut first = Vec::with_capacity(256 * 1024);
        let mut buf = vec![0u8; super::files::BUF];
        let read = |content: &mut dyn Read, buf: &mut [u8]| loop {
            match content.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("cannot read the content to store", e)),
            }
        };
        // Up to one part in memory: most files end here and take one request.
        loop {
            let n = read(content, &mut buf)?;
            if n == 0 {
                let size = first.len() as u64;
                hasher.update(&first);
                return Ok((hex(&hasher.finalize()), size, Pending::Small(first.into())));
            }
            first.extend_from_slice(&buf[..n]);
            if first.len() >= PART {
                break;
            }
        }
        let tmp = self.key(&format!("tmp/{}", super::files::temp_name()));
        let what = format!("{}/{tmp}", self.url);
        let upload = block_on(self.store.put_multipart(&tmp))?
            .map_err(|e| obj_err(format!("cannot start the upload of {what}"), e))?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
        let rt = runtime()?;
        let streamed = (|| -> Result<u64> {
            let _in_rt = rt.enter();
            hasher.update(&first);
            let mut size = first.len() as u64;
            w.put(std::mem::take(&mut first).into());
            loop {
                rt.block_on(w.wait_for_capacity(PARTS_IN_FLIGHT))
                    .map_err(|e| obj_err(format!("cannot upload {what}"), e))?;
                let n = read(content, &mut buf)?;
                if n == 0 {
                    return Ok(size);
                }
                hasher.update(&buf[..n]);
                w.write(&buf[..n]);
                size += n as u64;
            }
        })();
        match streamed {
            Ok(size) => {
                rt.block_on(w.finish())
                    .map_err(|e| obj_err(format!("cannot complete the upload of {what}"), e))?;
                Ok((hex(&hasher.finalize()), size, Pending::Uploaded(tmp)))
            }
            Err(e) => {
                let _ = rt.block_on(w.abort());
                Err(e)
            }
        }
    }

    /// Makes staged content visible under `digest` (kept as it is when already there).
    pub(crate) fn place(&self, digest: &str, pending: Pending) -> Result<()> {
        let dest = self.content_key(digest);
        let what = format!("{}/{dest}", self.url);
        let present = self.has(digest)?;
        match pending {
            Pending::Small(bytes) => {
                if !present {
                    block_on(self.store.put(&dest, PutPayload::from_bytes(bytes)))?
                        .map_err(|e| obj_err(format!("cannot store {what}"), e))?;
                }
            }
            Pending::Uploaded(tmp) => {
                if !present {
                    block_on(self.store.copy(&tmp, &dest))?
                        .map_err(|e| obj_err(format!("cannot move content into {what}"), e))?;
                }
                self.discard(Pending::Uploaded(tmp));
            }
        }
        Ok(())
    }

    /// Drops staged content that will not be placed (best effort: `gc` removes what is left).
    pub(crate) fn discard(&self, pending: Pending) {
        if let Pending::Uploaded(tmp) = pending {
            let _ = block_on(self.store.delete(&tmp));
        }
    }

    /// Whether the area holds `digest`.
    pub(crate) fn has(&self, digest: &str) -> Result<bool> {
        let key = self.content_key(digest);
        match block_on(self.store.head(&key))? {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(obj_err(format!("cannot look up {}/{key}", self.url), e)),
        }
    }

    /// Opens the content named `digest`, streamed.
    pub(crate) fn open_content(&self, digest: &str) -> Result<Box<dyn Read + Send>> {
        let key = self.content_key(digest);
        let what = format!("{}/{key}", self.url);
        let got = match block_on(self.store.get(&key))? {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(Error::Corrupt(format!(
                    "file content {digest} is missing from the file store {}",
                    self.url
                )))
            }
            Err(e) => return Err(obj_err(format!("cannot read {what}"), e)),
        };
        Ok(Box::new(ObjectReader::new(got.into_stream(), what)))
    }

    /// Whether the store answers (a lookup of a key that need not exist).
    pub(crate) fn check(&self) -> Result<()> {
        let key = self.key(".ready");
        match block_on(self.store.head(&key))? {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(obj_err(
                format!("the file store {} does not answer", self.url),
                e,
            )),
        }
    }

    /// Calls `f` with every object of the area: its key below the prefix, size and Unix
    /// milliseconds of its last change. Stops at the first error of `f`.
    pub(crate) fn visit(&self, f: &mut dyn FnMut(&str, u64, i64) -> Result<()>) -> Result<()> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjPath::from(self.prefix.as_str()));
        let mut list = self.store.list(prefix.as_ref());
        let skip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        while let Some(item) = block_on(list.next())? {
            let meta = item.map_err(|e| obj_err(format!("cannot list {}", self.url), e))?;
            let key = meta.location.as_ref();
            f(
                key.get(skip..).unwrap_or(key),
                meta.size,
                meta.last_modified.timestamp_millis(),
            )?;
        }
        Ok(())
    }

    /// Removes the object at `rel` (a key below the prefix, as [`ObjectArea::visit`] gives).
    pub(crate) fn remove(&self, rel: &str) -> Result<()> {
        let key = self.key(rel);
        match block_on(self.store.delete(&key))? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(obj_err(format!("cannot remove {}/{key}", self.url), e)),
        }
    }
}
