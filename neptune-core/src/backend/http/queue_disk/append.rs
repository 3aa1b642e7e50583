//! Appending to the queue: records of operations, and file content before the records that
//! refer to it.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};

use sha2::{Digest, Sha256};

use super::*;

impl DiskQueue {
    /// Appends a batch of operations, durably; returns its sequence number.
    pub fn append_ops(&self, ops: &[Operation]) -> Result<u64> {
        let body = batch::encode_ops(ops)?;
        self.append(batch::values(ops), batch::OPS, body.as_bytes())
    }

    /// Appends a batch already serialized as a JSON array of operations, carrying `values`.
    pub fn append_ops_raw(&self, body: &[u8], values: u64) -> Result<u64> {
        self.append(values, batch::OPS, body)
    }

    /// Streams `content` into the queue's file area and appends a record to upload it.
    pub fn append_file(&self, content: &mut dyn Read, extension: &str) -> Result<FileRef> {
        let files = self.dir.join("files");
        let tmp = files.join(format!("tmp-{}", new_id()));
        let mut out = File::create(&tmp).map_err(io(format!("cannot create {}", tmp.display())))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = match content.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    return Err(Error::io("cannot read the file content to upload", e));
                }
            };
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(io(format!("cannot write {}", tmp.display())))?;
            size += n as u64;
        }
        out.sync_all()
            .map_err(io(format!("cannot sync {}", tmp.display())))?;
        drop(out);
        let digest = crate::store::files::hex(&hasher.finalize());
        let target = files.join(&digest);
        fs::rename(&tmp, &target).map_err(io(format!("cannot store {}", target.display())))?;
        sync_dir(&files);
        let file = FileRef {
            digest,
            size,
            extension: extension.to_owned(),
        };
        let body = serde_json::to_vec(&file).map_err(|e| Error::Serialization {
            path: "file".into(),
            reason: e.to_string(),
        })?;
        self.append(0, record::FILE, &body)?;
        Ok(file)
    }

    fn append(&self, values: u64, key: &str, body: &[u8]) -> Result<u64> {
        self.append_lines(&[(values, key, body)])
    }

    /// Appends batches already serialized (JSON arrays of operations, with their values) as
    /// consecutive records, with one fsync: all are written, or none (a failed write takes
    /// its partial lines back and numbers nothing). Returns the last sequence number.
    pub fn append_batches(&self, bodies: &[(Vec<u8>, u64)]) -> Result<u64> {
        let items: Vec<(u64, &str, &[u8])> = bodies
            .iter()
            .map(|(b, v)| (*v, batch::OPS, b.as_slice()))
            .collect();
        self.append_lines(&items)
    }

    fn append_lines(&self, items: &[(u64, &str, &[u8])]) -> Result<u64> {
        let mut st = self.lock();
        if items.is_empty() {
            return Ok(st.put);
        }
        let first = st.put + 1;
        let mut lines = Vec::new();
        let mut values = 0;
        for (i, (v, key, body)) in items.iter().enumerate() {
            lines.extend_from_slice(&record::encode(first + i as u64, *v, key, body));
            values += v;
        }
        let last = first + items.len().saturating_sub(1) as u64;
        let rotate = st.out.is_none() || st.segments.last().is_none_or(|s| s.len >= SEGMENT_BYTES);
        if rotate {
            let path = self.dir.join(segment_name(first));
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| {
                    st.starved = true;
                    Error::io(format!("cannot create {}", path.display()), e)
                })?;
            sync_dir(&self.dir);
            st.out = Some(f);
            // A segment left empty by a failed write is replaced, not kept beside.
            if st.segments.last().is_some_and(|s| s.first == first) {
                st.segments.pop();
            }
            st.segments.push(Segment {
                first,
                path,
                len: 0,
            });
        }
        let (seg, seg_len) = st
            .segments
            .last()
            .map(|s| (s.path.display().to_string(), s.len))
            .unwrap_or_default();
        let Some(out) = st.out.as_mut() else {
            return Err(Error::Worker(format!("the upload queue {seg} is not open")));
        };
        let written = out.write_all(&lines).and_then(|()| out.sync_data());
        if let Err(e) = written {
            // Take back a partial line, so that the next record starts on a line of its own;
            // if that fails too, the next record goes to a new segment.
            if out.set_len(seg_len).is_err() {
                st.out = None;
            }
            st.starved = true;
            return Err(Error::io(format!("cannot write the upload queue {seg}"), e));
        }
        st.put = last;
        st.put_values += values;
        st.starved = false;
        if let Some(s) = st.segments.last_mut() {
            s.len += lines.len() as u64;
        }
        drop(st);
        self.changed.notify_all();
        Ok(last)
    }
}
