//! Streamed transfers of file content: uploads read from the caller while they are sent,
//! downloads are read by the caller while they arrive.

use std::io::Read;

use bytes::Bytes;

use super::fail::{json_of, send};
use super::{enc, Fail, HttpBackend, UPLOAD_CHUNK};
use crate::backend::http::pipe::{Pipe, PipeReader, PipeStream};
use crate::model::operation::FileRef;

impl HttpBackend {
    /// Uploads file content, streamed from `content`.
    pub fn upload(
        &self,
        content: &mut dyn Read,
        extension: &str,
    ) -> std::result::Result<FileRef, Fail> {
        let url = self.url_of("/files", &[("extension", extension.to_owned())])?;
        let pipe = Pipe::new();
        let body = reqwest::Body::wrap_stream(PipeStream::new(pipe.clone()));
        let req = self
            .client
            .request(reqwest::Method::PUT, url)
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(body);
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.rt
            .jobs
            .send(Box::pin(async move {
                let r = match send(req).await {
                    Ok(resp) => json_of::<FileRef>(resp).await,
                    Err(e) => Err(e),
                };
                let _ = tx.send(r);
            }))
            .map_err(|_| Fail::unreachable("the HTTP thread has stopped"))?;
        let mut buf = vec![0u8; UPLOAD_CHUNK];
        loop {
            match content.read(&mut buf) {
                Ok(0) => {
                    pipe.finish(Ok(()));
                    break;
                }
                Ok(n) => {
                    if !pipe.push_blocking(Bytes::copy_from_slice(&buf[..n])) {
                        break; // the request ended early; its answer says why
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    pipe.finish(Err(format!("cannot read the content to upload: {e}")));
                    break;
                }
            }
        }
        rx.recv()
            .map_err(|_| Fail::unreachable("the HTTP thread ended without answering"))?
    }

    /// Whether the server holds the content.
    pub fn has(&self, digest: &str) -> std::result::Result<bool, Fail> {
        let req = self.req(
            reqwest::Method::HEAD,
            self.url_of(&format!("/files/{}", enc(digest)), &[])?,
        );
        let r = self
            .rt
            .run(async move { send(req).await.map(|_| ()) })
            .map_err(|e| Fail::unreachable(e.to_string()))?;
        match r {
            Ok(()) => Ok(true),
            Err(Fail::Refused { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Downloads content, streamed.
    pub fn download(&self, digest: &str) -> std::result::Result<Box<dyn Read + Send>, Fail> {
        let req = self
            .client
            .request(
                reqwest::Method::GET,
                self.url_of(&format!("/files/{}", enc(digest)), &[])?,
            )
            .bearer_auth(&self.token);
        let pipe = Pipe::new();
        let producer = pipe.clone();
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.rt
            .jobs
            .send(Box::pin(async move {
                let mut resp = match send(req).await {
                    Ok(r) => {
                        let _ = tx.send(Ok(()));
                        r
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                loop {
                    match resp.chunk().await {
                        Ok(Some(c)) => {
                            if !producer.push(c).await {
                                return;
                            }
                        }
                        Ok(None) => {
                            producer.finish(Ok(()));
                            return;
                        }
                        Err(e) => {
                            producer.finish(Err(format!("download interrupted: {e}")));
                            return;
                        }
                    }
                }
            }))
            .map_err(|_| Fail::unreachable("the HTTP thread has stopped"))?;
        rx.recv()
            .map_err(|_| Fail::unreachable("the HTTP thread ended without answering"))??;
        Ok(Box::new(PipeReader::new(pipe)))
    }
}
