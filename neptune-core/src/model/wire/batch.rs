//! The batch line, `{"seq":N,"n":V,"ops":[…]}`: one batch of operations as the disk queue keeps
//! it (followed by its checksum, `,"crc":"…"}`), as the client sends it (lines joined into a
//! [`BatchesBody`]) and as the server reads it. Written and read only here.
//!
//! The line is written by hand around the serialized operations so that a queued line goes to
//! the server byte for byte, without being decoded and encoded again; its head (`seq`, `n` and
//! the name of the member that follows) is written first, in this order, so that the queue can
//! read it without parsing the rest. Decoding is serde's, with [`Operation`]'s tag-first
//! decoder; unknown keys (the queue's `crc`) are ignored.

use std::fmt::Write;

use serde::Deserialize;

use super::{Batch, BatchesBody};
use crate::error::{Error, Result};
use crate::model::operation::Operation;

/// The member of a batch line that holds its operations.
pub const OPS: &str = "ops";

/// The values the operations carry (the batch's `n`).
pub fn values(ops: &[Operation]) -> u64 {
    ops.iter().map(|o| o.weight() as u64).sum()
}

/// The operations as the JSON array of a batch line.
pub fn encode_ops(ops: &[Operation]) -> Result<String> {
    serde_json::to_string(ops).map_err(|e| Error::Serialization {
        path: ops
            .first()
            .map_or_else(|| "batch".to_owned(), |o| o.path().to_string()),
        reason: format!("cannot encode a batch of operations: {e}"),
    })
}

/// Writes the head of a line, `{"seq":N,"n":V,"<member>":`, to `out`. The disk queue's file
/// records share it (member `file`).
pub fn write_head(out: &mut Vec<u8>, seq: u64, values: u64, member: &str) {
    let mut s = String::with_capacity(48);
    head(&mut s, seq, values, member);
    out.extend_from_slice(s.as_bytes());
}

fn head(out: &mut String, seq: u64, values: u64, member: &str) {
    // Writing to a String cannot fail.
    let _ = write!(out, "{{\"seq\":{seq},\"n\":{values},\"{member}\":");
}

/// A whole batch line around operations already encoded by [`encode_ops`].
pub fn line(seq: u64, values: u64, ops_json: &str) -> String {
    let mut out = String::with_capacity(ops_json.len() + 48);
    head(&mut out, seq, values, OPS);
    out.push_str(ops_json);
    out.push('}');
    out
}

/// The batch line of `ops`, numbered `seq`.
pub fn encode(seq: u64, ops: &[Operation]) -> Result<String> {
    Ok(line(seq, values(ops), &encode_ops(ops)?))
}

/// The head of a line as [`write_head`] writes it: the sequence number, the values and the
/// name of the member that follows. `None` when the line does not start that way.
pub fn parse_head(line: &[u8]) -> Option<(u64, u64, &str)> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let (seq, rest) = number(rest)?;
    let rest = rest.strip_prefix(b",\"n\":")?;
    let (n, rest) = number(rest)?;
    let rest = rest.strip_prefix(b",\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    let member = std::str::from_utf8(&rest[..end]).ok()?;
    rest[end..].starts_with(b"\":").then_some((seq, n, member))
}

/// A decimal `u64` (1 to 20 digits) at the start of `s`, and what follows it.
fn number(s: &[u8]) -> Option<(u64, &[u8])> {
    let end = s
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    if end == 0 || end > 20 {
        return None;
    }
    let text = std::str::from_utf8(&s[..end]).ok()?;
    Some((text.parse().ok()?, &s[end..]))
}

/// Decodes a batch line.
pub fn decode(line: &[u8]) -> serde_json::Result<Batch> {
    serde_json::from_slice(line)
}

/// The operations of a batch line as JSON values, to report them when the line cannot be
/// decoded into operations (empty when the line is not JSON).
pub fn ops_values(line: &[u8]) -> Vec<serde_json::Value> {
    #[derive(Deserialize)]
    struct Ops {
        ops: Vec<serde_json::Value>,
    }
    serde_json::from_slice::<Ops>(line)
        .map(|o| o.ops)
        .unwrap_or_default()
}

/// The request body of `POST …/batches`: batch lines of the upload queue `queue`, in order.
pub fn body(queue: &str, lines: &[&str]) -> Vec<u8> {
    let total: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut out = Vec::with_capacity(total + queue.len() + 32);
    out.extend_from_slice(b"{\"queue\":");
    // A string always serializes.
    let _ = serde_json::to_writer(&mut out, queue);
    out.extend_from_slice(b",\"batches\":[");
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(l.as_bytes());
    }
    out.extend_from_slice(b"]}");
    out
}

/// Decodes a request body of `POST …/batches`.
pub fn decode_body(bytes: &[u8]) -> serde_json::Result<BatchesBody> {
    serde_json::from_slice(bytes)
}
