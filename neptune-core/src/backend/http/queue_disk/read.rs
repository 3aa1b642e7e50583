//! Reading the queue in order from a cursor; damaged records are kept aside and reported.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};

use super::record::Line;
use super::*;

impl DiskQueue {
    /// Reads the records after the cursor, up to about `max_bytes` (at least one record).
    /// A damaged record is kept aside (see [`aside`]), reported through [`Self::take_notes`]
    /// and skipped; at the end of what is written, the cursor is past every record.
    pub fn read(&self, cur: &mut Cursor, max_bytes: usize) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        loop {
            let seg = {
                let st = self.lock();
                if st.put <= cur.seq {
                    return Ok(out);
                }
                let idx = match cur.seg {
                    Some(first) => st.segments.iter().position(|s| s.first == first),
                    None => None,
                };
                let idx = match idx {
                    Some(i) => i,
                    None => {
                        // Fresh cursor (or its segment is gone): the last segment starting at
                        // or before the next record.
                        let i = st
                            .segments
                            .iter()
                            .rposition(|s| s.first <= cur.seq + 1)
                            .unwrap_or(0);
                        cur.seg = st.segments.get(i).map(|s| s.first);
                        cur.offset = 0;
                        i
                    }
                };
                let Some(s) = st.segments.get(idx) else {
                    return Ok(out);
                };
                if cur.offset >= s.len {
                    match st.segments.get(idx + 1) {
                        Some(next) => {
                            cur.seg = Some(next.first);
                            cur.offset = 0;
                            continue;
                        }
                        None => {
                            // Everything written was read: what is left was kept aside.
                            cur.seq = cur.seq.max(st.put);
                            return Ok(out);
                        }
                    }
                }
                (s.path.clone(), s.len)
            };
            let (path, len) = seg;
            let mut f = File::open(&path).map_err(io(format!("cannot open {}", path.display())))?;
            f.seek(SeekFrom::Start(cur.offset))
                .map_err(io(format!("cannot read {}", path.display())))?;
            let mut r = BufReader::with_capacity(1 << 20, f.take(len - cur.offset));
            loop {
                if bytes >= max_bytes && !out.is_empty() {
                    return Ok(out);
                }
                let mut line = Vec::new();
                let n = r
                    .read_until(b'\n', &mut line)
                    .map_err(io(format!("cannot read {}", path.display())))?;
                if n == 0 || line.last() != Some(&b'\n') {
                    // End of what is written (the segment's length only covers whole lines).
                    cur.offset = len;
                    break;
                }
                let at = cur.offset;
                cur.offset += n as u64;
                line.pop();
                let rec = match record::parse(&line) {
                    Line::Record(r) => r,
                    Line::Blank => continue,
                    Line::Damaged { reason, seq } => {
                        self.keep_damaged(&path, at, &line, &reason, seq)?;
                        continue;
                    }
                };
                if rec.seq() <= cur.seq {
                    continue;
                }
                cur.seq = rec.seq();
                bytes += n;
                out.push(rec);
            }
        }
    }

    /// Keeps a damaged line aside: its bytes in `damaged.log`, an entry in `rejected.jsonl`,
    /// and blanks in its place so that it is reported once.
    fn keep_damaged(
        &self,
        path: &Path,
        offset: u64,
        bytes: &[u8],
        reason: &str,
        seq: Option<u64>,
    ) -> Result<()> {
        let at = aside::keep_damaged(&self.dir, bytes)?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let entry = AsideEntry {
            kind: AsideKind::Damaged,
            seq,
            path: format!("record at byte {offset} of {name}"),
            reason: format!(
                "a damaged record ({reason}); its {} bytes are kept in {} at byte {at}",
                bytes.len(),
                aside::DAMAGED_FILE
            ),
            op: None,
            batch: None,
            damaged_at: Some((at, bytes.len() as u64)),
        };
        aside::append(&self.dir, std::slice::from_ref(&entry))?;
        tracing::warn!(
            "the upload queue {} holds a damaged record at byte {offset} of {name} ({reason}); \
             it was kept aside in {} and the other records go on",
            self.dir.display(),
            aside::DAMAGED_FILE
        );
        let blanked = OpenOptions::new().write(true).open(path).and_then(|mut f| {
            f.seek(SeekFrom::Start(offset))?;
            f.write_all(&vec![b' '; bytes.len()])?;
            f.sync_data()
        });
        if let Err(e) = blanked {
            tracing::debug!("cannot blank the damaged record in {}: {e}", path.display());
        }
        self.lock().notes.push(entry.to_rejected(&self.dir));
        Ok(())
    }

    /// The damaged records kept aside since the last call, as refusals to report.
    pub fn take_notes(&self) -> Vec<Rejected> {
        std::mem::take(&mut self.lock().notes)
    }
}
