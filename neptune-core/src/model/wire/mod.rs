//! The JSON bodies of the `neptune-server` API (`/api/v1`), shared by the client and the server.
//!
//! Operations travel as [`Operation`] serializes them (NaN and infinities as strings). A batch
//! carries the id of the client's upload queue and its sequence number: the server applies a
//! batch at most once per `(queue, seq)`, so a batch resent after a lost response is not
//! applied twice. The batch line itself, as the disk queue keeps it and the client sends it,
//! is written and read by [`batch`].

pub mod batch;
#[cfg(test)]
mod prop_tests;
#[cfg(test)]
pub(crate) mod strategy;

use serde::{Deserialize, Serialize};

use crate::backend::{OpenRequest, Rejected, SeriesInfo};
use crate::model::operation::Operation;
use crate::model::path::FieldPath;
use crate::model::types::{FieldType, Value};

/// Prefix of every versioned route.
pub const API_PREFIX: &str = "/api/v1";

/// Longest queue id the server accepts.
pub const MAX_QUEUE_ID: usize = 64;

/// Whether `id` is an acceptable queue id: 1 to 64 ASCII letters, digits, `-` or `_`.
pub fn is_queue_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_QUEUE_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `POST /api/v1/objects`: create or resume an object.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpenBody {
    /// What to open.
    pub request: OpenRequest,
    /// The client's upload queue. An offline run registered by `neptune sync` sends it so
    /// that registering again (after a lost response) finds the same object.
    #[serde(default)]
    pub queue: Option<String>,
}

/// `POST /api/v1/objects/{id}/batches`: batches of one upload queue, in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BatchesBody {
    /// The id of the client queue the batches come from (for dedup).
    pub queue: String,
    /// The batches, in queue order.
    pub batches: Vec<Batch>,
}

/// One batch: applied in one transaction, at most once per `(queue, seq)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Batch {
    /// Sequence number in the queue (from 1, increasing).
    pub seq: u64,
    /// Values the batch carries (informative).
    #[serde(default)]
    pub n: u64,
    /// Its operations.
    pub ops: Vec<Operation>,
}

/// The answer to [`BatchesBody`], one result per batch in order.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BatchesReply {
    /// One result per batch, in order.
    pub results: Vec<BatchResult>,
}

/// What became of one batch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BatchResult {
    /// The sequence number of the batch.
    pub seq: u64,
    /// The batch had been applied before (a resend); nothing was applied again.
    pub duplicate: bool,
    /// Operations refused one by one (the others were applied).
    pub rejected: Vec<Rejected>,
}

/// A field and its type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldEntry {
    /// The path.
    pub path: FieldPath,
    /// Its type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
}

/// `GET …/structure`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StructureReply {
    /// Every field, sorted by path.
    pub fields: Vec<FieldEntry>,
}

/// `GET …/value`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ValueReply {
    /// The value, or none.
    pub value: Option<Value>,
}

/// A path and its value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathValue {
    /// The path.
    pub path: FieldPath,
    /// Its value.
    pub value: Value,
}

/// `GET …/values`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ValuesReply {
    /// The values, sorted by path.
    pub values: Vec<PathValue>,
}

/// `GET …/series`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SeriesReply {
    /// The series, or none when the field is missing.
    pub series: Option<SeriesInfo>,
}

/// `GET …/series/floats`: a page of a FloatSeries as columns.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FloatPageWire {
    /// Steps, in order.
    pub steps: Vec<f64>,
    /// Values, one per step.
    #[serde(with = "float_vec")]
    pub values: Vec<f64>,
    /// Unix ms, one per step.
    pub timestamps: Vec<i64>,
}

/// `GET …/series/strings`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StringPageWire {
    /// Steps, in order.
    pub steps: Vec<f64>,
    /// Values, one per step.
    pub values: Vec<String>,
    /// Unix ms, one per step.
    pub timestamps: Vec<i64>,
}

/// `GET /api/v1/objects?project=…&kind=…`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ObjectsReply {
    /// The ids.
    pub ids: Vec<String>,
}

/// Query of the paged series routes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PageQuery {
    /// The series.
    pub path: String,
    /// Only steps after this one.
    #[serde(default)]
    pub after: Option<f64>,
    /// At most this many points.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Query naming a field.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PathQuery {
    /// The field.
    pub path: String,
}

/// Query of `…/values` (all single values at or below `prefix`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PrefixQuery {
    /// Only fields below this namespace.
    #[serde(default)]
    pub prefix: Option<String>,
}

/// Query of the object list.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ListQuery {
    /// The project.
    pub project: String,
    /// `run`, `model`, `model-version` or `project`.
    pub kind: String,
}

/// Query of a file upload.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UploadQuery {
    /// Extension of the file, without the dot.
    #[serde(default)]
    pub extension: String,
}

/// `POST /api/v1/tables`: the table of the objects of a scope that a query selects.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TableBody {
    /// Whose table.
    pub scope: crate::TableScope,
    /// The filter, columns, sort and limit.
    pub query: crate::TableQuery,
}

/// The answer to [`TableBody`] (a [`crate::Table`] as it serializes).
#[derive(Clone, Debug, Deserialize)]
pub struct TableReply {
    /// The columns.
    pub columns: Vec<crate::Column>,
    /// The rows.
    pub rows: Vec<crate::Row>,
    /// Rows that matched before the offset and limit (absent from older servers).
    #[serde(default)]
    pub total: usize,
}

impl TableReply {
    /// The table the reply carries.
    pub fn into_table(self) -> crate::Table {
        crate::Table::with_total(self.columns, self.rows, self.total)
    }
}

/// Every error answer: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// A machine-readable code and a message naming the problem.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable machine-readable code.
    pub code: String,
    /// What went wrong and how to fix it.
    pub message: String,
}

/// `GET /health`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// Serde for `Vec<f64>` keeping NaN and infinities (as [`crate::model::operation::float`] does).
pub mod float_vec {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes the floats, NaN and the infinities as strings.
    pub fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct W(#[serde(with = "crate::model::operation::float")] f64);
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            seq.serialize_element(&W(*x))?;
        }
        seq.end()
    }

    /// Reads the floats as `serialize` writes them.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "crate::model::operation::float")] f64);
        Ok(Vec::<W>::deserialize(d)?.into_iter().map(|w| w.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_pages_keep_non_finite_values() {
        let page = FloatPageWire {
            steps: vec![0.0, 1.0],
            values: vec![f64::NAN, f64::NEG_INFINITY],
            timestamps: vec![1, 2],
        };
        let json = serde_json::to_string(&page).unwrap();
        assert!(json.contains("\"NaN\""), "{json}");
        let back: FloatPageWire = serde_json::from_str(&json).unwrap();
        assert!(back.values[0].is_nan());
        assert_eq!(back.values[1], f64::NEG_INFINITY);
    }

    #[test]
    fn queue_ids_are_plain() {
        assert!(is_queue_id("a1-B_2"));
        assert!(!is_queue_id(""));
        assert!(!is_queue_id("../x"));
        assert!(!is_queue_id(&"x".repeat(65)));
    }
}
