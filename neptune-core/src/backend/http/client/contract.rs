//! [`HttpBackend`] as a [`Writer`] (direct: one request per batch) and a [`Reader`].

use std::io::Read;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{page_q, path_q, Fail, HttpBackend, EXECUTE_RETRY_FOR};
use crate::backend::{
    ObjectInfo, ObjectKind, OpenRequest, Reader, Rejected, SeriesInfo, SeriesPage, Writer,
};
use crate::error::{Error, Result};
use crate::model::operation::{ArtifactFile, FilePoint, FileRef, FileSetEntry, Operation};
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};
use crate::model::wire;

impl Writer for HttpBackend {
    fn location(&self) -> String {
        self.base.clone()
    }

    fn open_object(&self, req: &OpenRequest) -> Result<ObjectInfo> {
        self.open(req, None).map_err(|f| match f {
            Fail::Refused { status: 404, .. } => Error::ObjectNotFound {
                kind: req.kind.name(),
                id: req.with_id.clone().unwrap_or_default(),
                location: self.base.clone(),
            },
            f => self.err(f),
        })
    }

    fn execute(&self, object: &str, ops: &[Operation]) -> Result<Vec<Rejected>> {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let line = wire::batch::encode(seq, ops)?;
        let started = std::time::Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            match self.send_batches(object, &self.queue_id, &[&line]) {
                Ok(mut reply) => {
                    return Ok(reply.results.pop().map(|r| r.rejected).unwrap_or_default())
                }
                Err(Fail::Transient { .. }) if started.elapsed() < EXECUTE_RETRY_FOR => {
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                Err(f) => return Err(self.err(f)),
            }
        }
    }

    fn put_file(&self, content: &mut dyn Read, extension: &str) -> Result<FileRef> {
        self.upload(content, extension).map_err(|f| self.err(f))
    }
}

impl Reader for HttpBackend {
    fn fetch_structure(&self, object: &str) -> Result<Vec<(FieldPath, FieldType)>> {
        let r: wire::StructureReply = self.object_get(object, "structure", &[])?;
        Ok(r.fields
            .into_iter()
            .map(|f| (f.path, f.field_type))
            .collect())
    }

    fn fetch_value(&self, object: &str, path: &FieldPath) -> Result<Option<Value>> {
        let r: wire::ValueReply = self.object_get(object, "value", &path_q(path))?;
        Ok(r.value)
    }

    fn fetch_values_below(
        &self,
        object: &str,
        prefix: Option<&FieldPath>,
    ) -> Result<Vec<(FieldPath, Value)>> {
        let q: Vec<(&str, String)> = prefix
            .map(|p| vec![("prefix", p.to_string())])
            .unwrap_or_default();
        let r: wire::ValuesReply = self.object_get(object, "values", &q)?;
        Ok(r.values.into_iter().map(|v| (v.path, v.value)).collect())
    }

    fn fetch_series_info(&self, object: &str, path: &FieldPath) -> Result<Option<SeriesInfo>> {
        let r: wire::SeriesReply = self.object_get(object, "series", &path_q(path))?;
        Ok(r.series)
    }

    fn fetch_float_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<f64>> {
        let q = page_q(path, after_step, limit);
        let r: wire::FloatPageWire = self.object_get(object, "series/floats", &q)?;
        Ok(SeriesPage {
            steps: r.steps,
            values: r.values,
            timestamps: r.timestamps,
        })
    }

    fn fetch_string_points(
        &self,
        object: &str,
        path: &FieldPath,
        after_step: Option<f64>,
        limit: usize,
    ) -> Result<SeriesPage<String>> {
        let q = page_q(path, after_step, limit);
        let r: wire::StringPageWire = self.object_get(object, "series/strings", &q)?;
        Ok(SeriesPage {
            steps: r.steps,
            values: r.values,
            timestamps: r.timestamps,
        })
    }

    fn list_objects(&self, project: &str, kind: ObjectKind) -> Result<Vec<String>> {
        let r: wire::ObjectsReply = self
            .get(
                "/objects",
                &[
                    ("project", project.to_owned()),
                    ("kind", kind.wire_name().to_owned()),
                ],
            )
            .map_err(|f| self.err(f))?;
        Ok(r.ids)
    }

    fn fetch_table(
        &self,
        scope: &crate::TableScope,
        query: &crate::TableQuery,
    ) -> Result<crate::Table> {
        let body = serde_json::to_vec(&wire::TableBody {
            scope: scope.clone(),
            query: query.clone(),
        })
        .map_err(|e| Error::Serialization {
            path: "table query".into(),
            reason: e.to_string(),
        })?;
        let r: wire::TableReply = self.post("/tables", body).map_err(|f| self.err(f))?;
        Ok(r.into_table())
    }

    fn has_file(&self, digest: &str) -> Result<bool> {
        self.has(digest).map_err(|f| self.err(f))
    }

    fn open_file(&self, digest: &str) -> Result<Box<dyn Read + Send>> {
        match self.download(digest) {
            Ok(r) => Ok(r),
            Err(Fail::Refused { status: 404, .. }) => Err(Error::Corrupt(format!(
                "file content {digest} is missing on the server at {}",
                self.base
            ))),
            Err(f) => Err(self.err(f)),
        }
    }

    fn file_ref(&self, object: &str, path: &FieldPath) -> Result<Option<FileRef>> {
        self.object_get(object, "file", &path_q(path))
    }

    fn fileset_entries(&self, object: &str, path: &FieldPath) -> Result<Vec<FileSetEntry>> {
        self.object_get(object, "fileset", &path_q(path))
    }

    fn file_points(&self, object: &str, path: &FieldPath) -> Result<Vec<FilePoint>> {
        self.object_get(object, "file-series", &path_q(path))
    }

    fn artifact_files(&self, object: &str, path: &FieldPath) -> Result<Vec<ArtifactFile>> {
        self.object_get(object, "artifact", &path_q(path))
    }
}
