//! [`QueuedBackend`] as a [`Writer`]: writes go to the queue on disk; reads wait for them to
//! reach the server ([`Writer::settle`]) and find files not yet uploaded in the queue.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::records::{paths_after, record_bodies};
use super::{QueueMode, QueuedBackend};
use crate::backend::http::queue_disk::{self, DiskQueue};
use crate::backend::{ObjectInfo, OpenRequest, Rejected, Writer};
use crate::error::{Error, Result};
use crate::model::operation::{FileRef, Operation};

impl Writer for QueuedBackend {
    fn location(&self) -> String {
        self.http.url().to_owned()
    }

    fn open_object(&self, req: &OpenRequest) -> Result<ObjectInfo> {
        if self
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            return Err(Error::Config(
                "a queued HTTP backend serves one object; open another object with a new builder"
                    .into(),
            ));
        }
        let info = if self.mode == QueueMode::Offline {
            let id = req.with_id.clone().unwrap_or_else(|| {
                format!(
                    "OFFLINE-{}",
                    &queue_disk::new_id()[..8].to_ascii_uppercase()
                )
            });
            ObjectInfo {
                id,
                kind: req.kind,
                project: req.project.clone(),
                created: req.with_id.is_none(),
                fields: Vec::new(),
            }
        } else {
            self.http.open_object(req)?
        };
        if req.read_only {
            return Ok(info);
        }
        let meta = queue_disk::new_meta(self.http.url(), self.mode.as_str(), req.clone(), &info.id);
        let q = Arc::new(DiskQueue::create(&self.root, meta)?);
        if self.mode != QueueMode::Offline {
            q.set_server_id(&info.id)?;
            self.start_uploader(q.clone(), info.id.clone())?;
        }
        *self.queue.lock().unwrap_or_else(|e| e.into_inner()) = Some(q);
        Ok(info)
    }

    fn execute(&self, _object: &str, ops: &[Operation]) -> Result<Vec<Rejected>> {
        let q = self.queue()?;
        if let Some(why) = self.gave_up_on_room() {
            let lost = ops.iter().map(|o| o.weight() as u64).sum();
            return Ok(self.not_kept(paths_after(ops, 0), lost, &why));
        }
        let bodies = record_bodies(ops)?;
        if q.append_batches(&bodies).is_ok() {
            return Ok(Vec::new());
        }
        // One record at a time, each written again until it is kept: nothing is numbered or
        // dropped while the disk is full (until stop() ends).
        for (i, (body, values)) in bodies.iter().enumerate() {
            if let Err(e) = self.append_retrying(&q, body, *values) {
                let kept: u64 = bodies[..i].iter().map(|b| b.1).sum();
                let lost: u64 = bodies[i..].iter().map(|b| b.1).sum();
                let paths = paths_after(ops, kept);
                return Ok(self.not_kept(paths, lost, &e.to_string()));
            }
        }
        Ok(Vec::new())
    }

    fn stopping(&self, deadline: Instant) {
        self.shared.lock().stop_by = Some(deadline);
    }

    fn wait_acknowledged(&self) -> Result<Vec<Rejected>> {
        if self.mode == QueueMode::Offline {
            return Ok(Vec::new());
        }
        let q = self.queue()?;
        let (put, _) = q.positions();
        let shared = self.shared.clone();
        let give_up = move || {
            let st = shared.lock();
            st.auth_error.is_some() || st.fatal.is_some()
        };
        if !q.wait_acked(put, None, &give_up) {
            return Err(self.not_acked_error(&q, "before wait()"));
        }
        Ok(self.take_rejected())
    }

    fn close(&self, deadline: Instant) -> Result<Vec<Rejected>> {
        let Ok(q) = self.queue() else {
            return Ok(Vec::new());
        };
        let meta = q.meta();
        if self.mode == QueueMode::Offline {
            let pending = q.pending_values();
            eprintln!(
                "neptune: offline {} {}: {pending} value(s) kept in {}; upload them with \
                 `neptune sync` (NEPTUNE_URL and NEPTUNE_API_TOKEN set)",
                meta.request.kind,
                meta.object_id,
                q.dir().display()
            );
            self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
            return Ok(Vec::new());
        }
        let (put, acked) = q.positions();
        let shared = self.shared.clone();
        let give_up = move || {
            let st = shared.lock();
            st.auth_error.is_some() || st.fatal.is_some()
        };
        let done = acked >= put || {
            let bar = crate::backend::http::progress::StopProgress::start(&q, self.http.url());
            let done = q.wait_acked(put, Some(deadline), &give_up);
            bar.finish();
            done
        };
        if done {
            self.stop_uploader(None);
            let q = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
            let mut rejected = self.take_rejected();
            if let Some(q) = q {
                rejected.extend(q.take_notes());
                if !q.remove()? {
                    tracing::warn!(
                        "{} keeps what the server refused, or damaged records, in {}: \
                         `neptune status` lists them",
                        meta.object_id,
                        q.dir().display()
                    );
                }
            }
            return Ok(rejected);
        }
        self.stop_uploader(Some(Duration::from_secs(1)));
        // What is left belongs to `neptune sync` from now on, even while this process lives.
        q.unlock();
        let why = {
            let st = self.shared.lock();
            st.auth_error
                .clone()
                .or_else(|| st.fatal.clone())
                .or_else(|| st.disk_full.clone())
                .or_else(|| st.down.clone())
                .unwrap_or_else(|| "no answer in time".into())
        };
        let rejected = self.take_rejected();
        let mut refused = match rejected.first() {
            Some(r) => format!(
                "; {} operation(s) were refused by the server, first \"{}\": {}",
                rejected.len(),
                r.path,
                r.reason
            ),
            None => String::new(),
        };
        let not_kept = self.shared.lock().not_kept;
        if not_kept > 0 {
            refused.push_str(&format!(
                "; {not_kept} value(s) could not be written to the queue and are lost"
            ));
        }
        let context = format!(
            "stop(): {} value(s) of {} are not yet on the server at {}; they are safe in {}: \
             run `neptune sync` to upload them (`neptune status` lists what waits){refused}",
            q.pending_values(),
            meta.object_id,
            self.http.url(),
            q.dir().display()
        );
        let err = Error::io(context, std::io::Error::other(format!("last error: {why}")));
        eprintln!("neptune: {err}");
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        Err(err)
    }

    fn put_file(&self, content: &mut dyn Read, extension: &str) -> Result<FileRef> {
        self.queue()?.append_file(content, extension)
    }

    fn settle(&self) -> Result<()> {
        self.settle_for_read()
    }

    fn reachable(&self) -> Result<()> {
        self.online()
    }

    fn pending_file(&self, digest: &str) -> Option<Box<dyn Read + Send>> {
        let q = self.queue().ok()?;
        if !crate::store::files::is_digest(digest) {
            return None;
        }
        let f = std::fs::File::open(q.file_path(digest)).ok()?;
        Some(Box::new(f))
    }
}
