//! The line of one queue record, and its check.
//!
//! `{"seq":N,"n":V,"ops":[…],"crc":"hhhhhhhh"}` is a batch of operations carrying V values,
//! `{"seq":N,"n":0,"file":{…},"crc":"hhhhhhhh"}` file content to upload first. `crc` is the
//! CRC-32 (hex) of the bytes before `,"crc":`, so that every line is checked on its own and one
//! damaged line costs only itself. A batch line is the server's batch as it is (the server
//! ignores `crc`). Lines written before the checksum existed (no `crc`) are checked by parsing
//! them whole as JSON.

use std::io::Write;

use serde::Deserialize;

use crate::model::operation::FileRef;
use crate::model::wire::batch;

/// The member of a file record's line that holds the file.
pub(crate) const FILE: &str = "file";

/// One record of the queue.
#[derive(Clone, Debug)]
pub enum Record {
    /// A batch of operations: `raw` is the whole JSON line (a wire batch).
    Ops {
        /// Sequence number.
        seq: u64,
        /// The number of values it holds.
        values: u64,
        /// The batch line as written.
        raw: String,
    },
    /// File content (in `files/<digest>`) to upload before the batches after it.
    File {
        /// Sequence number.
        seq: u64,
        /// The file staged for upload.
        file: FileRef,
    },
}

impl Record {
    /// The sequence number of the record.
    pub fn seq(&self) -> u64 {
        match self {
            Record::Ops { seq, .. } | Record::File { seq, .. } => *seq,
        }
    }

    /// The values the record carries (0 for a file).
    pub fn values(&self) -> u64 {
        match self {
            Record::Ops { values, .. } => *values,
            Record::File { .. } => 0,
        }
    }
}

/// What a line of a segment holds.
#[derive(Debug)]
pub(crate) enum Line {
    Record(Record),
    /// Only blanks: a damaged line already set aside (overwritten with spaces).
    Blank,
    /// A line that fails its check: why, and its sequence number when the header is readable.
    Damaged {
        reason: String,
        seq: Option<u64>,
    },
}

/// `,"crc":"` + 8 hex digits + `"}`.
const CRC_TAIL: usize = 18;
const CRC_KEY: &[u8] = b",\"crc\":\"";

/// The whole line of a record (with its checksum and the final newline).
pub(crate) fn encode(seq: u64, values: u64, key: &str, body: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(body.len() + 64);
    batch::write_head(&mut line, seq, values, key);
    line.extend_from_slice(body);
    let crc = crc32fast::hash(&line);
    let _ = writeln!(line, ",\"crc\":\"{crc:08x}\"}}");
    line
}

/// Parses the header of a record line, `{"seq":N,"n":V,"` then `ops` or `file`:
/// the sequence number, the values, and whether it is a batch.
pub(crate) fn parse_header(line: &[u8]) -> Option<(u64, u64, bool)> {
    match batch::parse_head(line)? {
        (seq, n, batch::OPS) => Some((seq, n, true)),
        (seq, n, FILE) => Some((seq, n, false)),
        _ => None,
    }
}

/// The checksum a line carries, and the bytes it covers; `None` for a line without one.
fn split_crc(line: &[u8]) -> Option<(&[u8], u32)> {
    if line.len() < CRC_TAIL || !line.ends_with(b"\"}") {
        return None;
    }
    let at = line.len() - CRC_TAIL;
    if &line[at..at + CRC_KEY.len()] != CRC_KEY {
        return None;
    }
    let hex = &line[at + CRC_KEY.len()..line.len() - 2];
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let crc = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
    Some((&line[..at], crc))
}

/// Reads and checks one line (without its newline).
pub(crate) fn parse(line: &[u8]) -> Line {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Line::Blank;
    }
    let Some((seq, values, ops)) = parse_header(line) else {
        return damaged("its header cannot be read", None);
    };
    match split_crc(line) {
        Some((covered, crc)) => {
            if crc32fast::hash(covered) != crc {
                return damaged("its checksum does not match", Some(seq));
            }
        }
        None if line.windows(CRC_KEY.len()).any(|w| w == CRC_KEY) => {
            // The key is only ever written by `encode`: its value or place was damaged.
            return damaged("its checksum cannot be read", Some(seq));
        }
        None => {
            // A line of an older version (no checksum): whole JSON, or damaged.
            if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err() {
                return damaged("it is not valid JSON", Some(seq));
            }
        }
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return damaged("it is not UTF-8", Some(seq));
    };
    if ops {
        return Line::Record(Record::Ops {
            seq,
            values,
            raw: text.to_owned(),
        });
    }
    #[derive(Deserialize)]
    struct FileLine {
        file: FileRef,
    }
    match serde_json::from_str::<FileLine>(text) {
        Ok(f) => Line::Record(Record::File { seq, file: f.file }),
        Err(e) => damaged(&format!("its file entry cannot be read: {e}"), Some(seq)),
    }
}

fn damaged(reason: &str, seq: Option<u64>) -> Line {
    Line::Damaged {
        reason: reason.to_owned(),
        seq,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_any_flipped_byte_is_caught() {
        let body = br#"[{"type":"AssignInt","path":"a","value":1}]"#;
        let line = encode(7, 1, "ops", body);
        assert_eq!(line.last(), Some(&b'\n'));
        let text = &line[..line.len() - 1];
        match parse(text) {
            Line::Record(Record::Ops { seq, values, raw }) => {
                assert_eq!((seq, values), (7, 1));
                assert_eq!(raw.as_bytes(), text);
            }
            other => panic!("{other:?}"),
        }
        for i in 0..text.len() {
            for bit in 0..8 {
                let mut bad = text.to_vec();
                bad[i] ^= 1 << bit;
                if let Line::Record(r) = parse(&bad) {
                    // Only a flip in the name of the checksum's key leaves an unchecked but
                    // intact line (the server ignores unknown keys).
                    let raw = match &r {
                        Record::Ops { raw, .. } => raw.clone(),
                        Record::File { .. } => panic!("a batch read as a file"),
                    };
                    assert!(raw.contains("[{\"type\":\"AssignInt\",\"path\":\"a\",\"value\":1}]"));
                    assert!(i >= text.len() - CRC_TAIL, "flip at {i} accepted: {raw}");
                }
            }
        }
    }

    #[test]
    fn old_lines_without_checksum_are_read() {
        let old = br#"{"seq":3,"n":2,"ops":[]}"#;
        assert!(matches!(
            parse(old),
            Line::Record(Record::Ops {
                seq: 3,
                values: 2,
                ..
            })
        ));
        assert!(matches!(
            parse(br#"{"seq":3,"n":2,"ops":[}"#),
            Line::Damaged { seq: Some(3), .. }
        ));
        assert!(matches!(parse(b"   "), Line::Blank));
        assert!(matches!(
            parse(b"\x00\x00"),
            Line::Damaged { seq: None, .. }
        ));
    }
}
