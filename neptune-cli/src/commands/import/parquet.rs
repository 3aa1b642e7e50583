//! Reading the exporter's Parquet files: one long table, a row per value, streamed as Arrow
//! record batches so that memory stays bounded whatever the file's size.
//!
//! Columns (`neptune-exporter`'s schema): `project_id`, `run_id`, `attribute_path`,
//! `attribute_type` (strings), `step` (decimal 18,6), `timestamp` (ms, UTC), `int_value`,
//! `float_value`, `string_value`, `bool_value`, `datetime_value` (ms, UTC), `string_set_value`
//! (list of strings), `file_value` (struct with a relative `path`), `histogram_value` (struct with
//! `type`, `edges`, `values`). The four string columns are required; a value column that is
//! missing reads as nulls.

use std::fs;
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use arrow_array::{
    Array, BooleanArray, Decimal128Array, Float64Array, Int64Array, ListArray, PrimitiveArray,
    RecordBatch, StringArray, StructArray,
};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;

use crate::CliResult;

/// Rows per record batch: the batch's buffers stay in the CPU caches and on the heap; 64 Ki
/// rows took twice the system time (fresh pages zeroed for every batch).
const BATCH_ROWS: usize = 8 * 1024;

/// The Parquet files below the given paths (files as given, folders searched recursively), in
/// the order to import them: by run file prefix, then part number (`<run>_part_<n>.parquet`).
/// Unfinished exporter output (`*.parquet.tmp`) is listed apart.
pub(crate) fn discover(inputs: &[PathBuf]) -> CliResult<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut files = Vec::new();
    let mut unfinished = Vec::new();
    for input in inputs {
        let meta = fs::metadata(input).map_err(|e| {
            format!(
                "cannot read {}: {e} (give export folders or .parquet files)",
                input.display()
            )
        })?;
        if meta.is_file() {
            files.push(input.clone());
        } else {
            walk(input, &mut files, &mut unfinished)?;
        }
    }
    files.sort_by_key(|p| part_key(p));
    files.dedup();
    unfinished.sort();
    Ok((files, unfinished))
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, unfinished: &mut Vec<PathBuf>) -> CliResult {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_dir() {
            walk(&path, files, unfinished)?;
        } else if name.ends_with(".parquet") {
            files.push(path);
        } else if name.ends_with(".parquet.tmp") {
            unfinished.push(path);
        }
    }
    Ok(())
}

/// (folder, run prefix, part number, name): `x_part_10` sorts after `x_part_2`.
fn part_key(p: &Path) -> (PathBuf, String, u64, String) {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.trim_end_matches(".parquet");
    let (prefix, part) = match stem.rsplit_once("_part_") {
        Some((prefix, n)) => match n.parse::<u64>() {
            Ok(n) => (prefix.to_owned(), n),
            Err(_) => (stem.to_owned(), 0),
        },
        None => (stem.to_owned(), 0),
    };
    (
        p.parent().map(Path::to_path_buf).unwrap_or_default(),
        prefix,
        part,
        name,
    )
}

/// The rows a file holds (from its footer, without reading the data).
pub(crate) fn row_count(path: &Path) -> CliResult<u64> {
    let builder = builder(path)?;
    Ok(u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0))
}

fn builder(path: &Path) -> CliResult<ParquetRecordBatchReaderBuilder<fs::File>> {
    let file = fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| format!("{} is not a readable Parquet file: {e}", path.display()).into())
}

/// Columns read in every row group; the value columns are read only where they hold a value.
const KEYS: [&str; 4] = ["project_id", "run_id", "attribute_path", "attribute_type"];

/// The record batches of one file, in order, one row group after another. A row group reads
/// only the value columns that its statistics say are not all null: each row of the export has
/// one value, so most columns of a row group are empty, and skipping them halves the decoding.
pub(crate) struct Batches {
    path: PathBuf,
    file: fs::File,
    meta: ArrowReaderMetadata,
    next_group: usize,
    reader: Option<ParquetRecordBatchReader>,
}

/// The batches of the file at `path`.
pub(crate) fn batches(path: &Path) -> CliResult<Batches> {
    let file = fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| format!("{} is not a readable Parquet file: {e}", path.display()))?;
    Ok(Batches {
        path: path.to_path_buf(),
        file,
        meta,
        next_group: 0,
        reader: None,
    })
}

impl Batches {
    /// The reader of row group `g`, with the columns it needs.
    fn group(&self, g: usize) -> CliResult<ParquetRecordBatchReader> {
        let md = self.meta.metadata();
        let rg = md.row_group(g);
        let schema = md.file_metadata().schema_descr();
        let rows = u64::try_from(rg.num_rows()).unwrap_or(0);
        let roots = schema.root_schema().get_fields();
        let mut empty = vec![true; roots.len()];
        for leaf in 0..schema.num_columns() {
            let root = schema.get_column_root_idx(leaf);
            let all_null = rg
                .column(leaf)
                .statistics()
                .and_then(|st| st.null_count_opt())
                .is_some_and(|n| n >= rows);
            if !all_null || KEYS.contains(&roots[root].name()) {
                empty[root] = false;
            }
        }
        let keep = (0..roots.len()).filter(|r| !empty[*r]);
        let mask = ProjectionMask::roots(schema, keep);
        let file = self
            .file
            .try_clone()
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
        Ok(
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
                .with_row_groups(vec![g])
                .with_projection(mask)
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?,
        )
    }
}

impl Iterator for Batches {
    type Item = CliResult<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.reader.as_mut() {
                match r.next() {
                    Some(b) => {
                        return Some(b.map_err(|e| {
                            format!("cannot read {}: {e}", self.path.display()).into()
                        }))
                    }
                    None => self.reader = None,
                }
            }
            if self.next_group >= self.meta.metadata().num_row_groups() {
                return None;
            }
            let g = self.next_group;
            self.next_group += 1;
            match self.group(g) {
                Ok(r) => self.reader = Some(r),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// The files in groups that one thread imports in order: the parts of one exported run
/// (same folder and run prefix), so that a run's rows are read in their order.
pub(crate) fn groups(files: Vec<PathBuf>) -> Vec<Vec<PathBuf>> {
    let mut groups: Vec<Vec<PathBuf>> = Vec::new();
    let mut last: Option<(PathBuf, String)> = None;
    for f in files {
        let (dir, prefix, _, _) = part_key(&f);
        if last.as_ref() == Some(&(dir.clone(), prefix.clone())) {
            if let Some(g) = groups.last_mut() {
                g.push(f);
                continue;
            }
        }
        last = Some((dir, prefix));
        groups.push(vec![f]);
    }
    groups
}

/// A timestamp column of any unit, read as Unix milliseconds.
enum Times<'a> {
    S(&'a PrimitiveArray<TimestampSecondType>),
    Ms(&'a PrimitiveArray<TimestampMillisecondType>),
    Us(&'a PrimitiveArray<TimestampMicrosecondType>),
    Ns(&'a PrimitiveArray<TimestampNanosecondType>),
}

impl Times<'_> {
    fn get(&self, i: usize) -> Option<i64> {
        match self {
            Times::S(a) => a.is_valid(i).then(|| a.value(i).saturating_mul(1000)),
            Times::Ms(a) => a.is_valid(i).then(|| a.value(i)),
            Times::Us(a) => a.is_valid(i).then(|| a.value(i).div_euclid(1000)),
            Times::Ns(a) => a.is_valid(i).then(|| a.value(i).div_euclid(1_000_000)),
        }
    }
}

/// A step as the export holds it: the decimal's unscaled integer and its scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Step {
    pub unscaled: i128,
    pub scale: i8,
}

impl Step {
    /// The step as our f64 step, or `None` when no f64 holds the decimal exactly enough to give
    /// the same decimal back (more than 15 significant digits).
    pub(crate) fn exact_f64(self) -> Option<f64> {
        let scale = f64::from(10u32).powi(i32::from(self.scale));
        // i128 → f64 and one division: each correctly rounded, so the nearest f64 for
        // |unscaled| < 2^53.
        let f = self.unscaled as f64 / scale;
        let back = (f * scale).round();
        (f.is_finite() && back == self.unscaled as f64 && self.unscaled.unsigned_abs() < 1 << 53)
            .then_some(f)
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.scale <= 0 {
            return write!(f, "{}", self.unscaled);
        }
        let s = usize::try_from(self.scale).unwrap_or(0);
        let digits = format!("{:0>width$}", self.unscaled.unsigned_abs(), width = s + 1);
        let (int, frac) = digits.split_at(digits.len() - s);
        let sign = if self.unscaled < 0 { "-" } else { "" };
        write!(f, "{sign}{int}.{frac}")
    }
}

/// One record batch with its columns resolved; rows are read by index.
pub(crate) struct Batch<'a> {
    pub project: &'a StringArray,
    pub run: &'a StringArray,
    pub path: &'a StringArray,
    pub kind: &'a StringArray,
    step: Option<(&'a Decimal128Array, i8)>,
    timestamp: Option<Times<'a>>,
    int: Option<&'a Int64Array>,
    float: Option<&'a Float64Array>,
    string: Option<&'a StringArray>,
    boolean: Option<&'a BooleanArray>,
    datetime: Option<Times<'a>>,
    string_set: Option<&'a ListArray>,
    file: Option<&'a StringArray>,
    histogram: Option<&'a StructArray>,
}

fn wrong(
    file: &Path,
    column: &str,
    expected: &str,
    found: &DataType,
) -> Box<dyn std::error::Error> {
    format!(
        "{}: column {column} is {found}, expected {expected} (is this an export of \
         neptune-exporter? its schema is in the README's \"Coming from the original client\")",
        file.display()
    )
    .into()
}

impl<'a> Batch<'a> {
    /// Resolves the columns of `batch`; an error names the file, the column and the type
    /// expected.
    pub(crate) fn new(file: &Path, batch: &'a RecordBatch) -> CliResult<Batch<'a>> {
        let col = |name: &str| batch.column_by_name(name);
        let required = |name: &str| -> CliResult<&'a StringArray> {
            let c = batch.column_by_name(name).ok_or_else(|| {
                format!(
                    "{}: no column {name}; the exporter's files have project_id, run_id, \
                     attribute_path, attribute_type and value columns",
                    file.display()
                )
            })?;
            c.as_string_opt::<i32>()
                .ok_or_else(|| wrong(file, name, "string", c.data_type()))
        };
        macro_rules! optional {
            ($name:literal, $conv:ident, $expected:literal) => {
                match col($name) {
                    None => None,
                    Some(c) => Some(
                        c.$conv()
                            .ok_or_else(|| wrong(file, $name, $expected, c.data_type()))?,
                    ),
                }
            };
        }
        let times = |name: &str| -> CliResult<Option<Times<'a>>> {
            let Some(c) = batch.column_by_name(name) else {
                return Ok(None);
            };
            Ok(Some(match c.data_type() {
                DataType::Timestamp(TimeUnit::Second, _) => Times::S(c.as_primitive()),
                DataType::Timestamp(TimeUnit::Millisecond, _) => Times::Ms(c.as_primitive()),
                DataType::Timestamp(TimeUnit::Microsecond, _) => Times::Us(c.as_primitive()),
                DataType::Timestamp(TimeUnit::Nanosecond, _) => Times::Ns(c.as_primitive()),
                other => return Err(wrong(file, name, "timestamp", other)),
            }))
        };
        let step = match col("step") {
            None => None,
            Some(c) => match c.data_type() {
                DataType::Decimal128(_, scale) => {
                    Some((c.as_primitive::<Decimal128Type>(), *scale))
                }
                other => return Err(wrong(file, "step", "decimal(18,6)", other)),
            },
        };
        let file_col = match col("file_value") {
            None => None,
            Some(c) => {
                let s = c.as_struct_opt().ok_or_else(|| {
                    wrong(file, "file_value", "struct<path: string>", c.data_type())
                })?;
                let p = s.column_by_name("path").ok_or_else(|| {
                    wrong(file, "file_value", "struct<path: string>", c.data_type())
                })?;
                Some(
                    p.as_string_opt::<i32>()
                        .ok_or_else(|| wrong(file, "file_value.path", "string", p.data_type()))?,
                )
            }
        };
        let string_set: Option<&ListArray> =
            optional!("string_set_value", as_list_opt, "list<string>");
        if let Some(l) = string_set {
            if l.values().as_string_opt::<i32>().is_none() {
                return Err(wrong(
                    file,
                    "string_set_value",
                    "list<string>",
                    l.data_type(),
                ));
            }
        }
        Ok(Batch {
            project: required("project_id")?,
            run: required("run_id")?,
            path: required("attribute_path")?,
            kind: required("attribute_type")?,
            step,
            timestamp: times("timestamp")?,
            int: optional!("int_value", as_primitive_opt, "int64"),
            float: optional!("float_value", as_primitive_opt, "double"),
            string: optional!("string_value", as_string_opt, "string"),
            boolean: optional!("bool_value", as_boolean_opt, "bool"),
            datetime: times("datetime_value")?,
            string_set,
            file: file_col,
            histogram: optional!("histogram_value", as_struct_opt, "struct"),
        })
    }

    /// Rows in the batch.
    pub(crate) fn len(&self) -> usize {
        self.path.len()
    }

    /// A required string cell (null reads as "").
    pub(crate) fn text(col: &'a StringArray, i: usize) -> &'a str {
        if col.is_valid(i) {
            col.value(i)
        } else {
            ""
        }
    }

    pub(crate) fn step(&self, i: usize) -> Option<Step> {
        let (a, scale) = self.step?;
        a.is_valid(i).then(|| Step {
            unscaled: a.value(i),
            scale,
        })
    }

    /// The row's timestamp in Unix milliseconds.
    pub(crate) fn timestamp(&self, i: usize) -> Option<i64> {
        self.timestamp.as_ref()?.get(i)
    }

    pub(crate) fn int(&self, i: usize) -> Option<i64> {
        self.int.and_then(|a| a.is_valid(i).then(|| a.value(i)))
    }

    pub(crate) fn float(&self, i: usize) -> Option<f64> {
        self.float.and_then(|a| a.is_valid(i).then(|| a.value(i)))
    }

    pub(crate) fn string(&self, i: usize) -> Option<&'a str> {
        self.string.and_then(|a| a.is_valid(i).then(|| a.value(i)))
    }

    pub(crate) fn boolean(&self, i: usize) -> Option<bool> {
        self.boolean.and_then(|a| a.is_valid(i).then(|| a.value(i)))
    }

    /// The row's Datetime value in Unix milliseconds.
    pub(crate) fn datetime(&self, i: usize) -> Option<i64> {
        self.datetime.as_ref()?.get(i)
    }

    pub(crate) fn string_set(&self, i: usize) -> Option<Vec<String>> {
        let l = self.string_set?;
        if !l.is_valid(i) {
            return None;
        }
        let items = l.value(i);
        let items = items.as_string_opt::<i32>()?;
        Some(
            (0..items.len())
                .filter(|j| items.is_valid(*j))
                .map(|j| items.value(j).to_owned())
                .collect(),
        )
    }

    /// The file's path relative to the export's files folder.
    pub(crate) fn file(&self, i: usize) -> Option<&'a str> {
        self.file.and_then(|a| a.is_valid(i).then(|| a.value(i)))
    }

    pub(crate) fn has_histogram(&self, i: usize) -> bool {
        self.histogram.is_some_and(|a| a.is_valid(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_read_back_as_the_same_decimal() {
        for (unscaled, text) in [
            (0i128, "0.000000"),
            (1, "0.000001"),
            (1_500_000, "1.500000"),
            (-2_250_000, "-2.250000"),
            (123_456_789_012_345, "123456789.012345"),
        ] {
            let s = Step { unscaled, scale: 6 };
            assert_eq!(s.to_string(), text);
            let f = s.exact_f64().expect("fits an f64");
            assert_eq!(format!("{f:.6}"), text);
        }
        // 18 significant digits: no f64 gives this decimal back.
        let big = Step {
            unscaled: 999_999_999_999_999_999,
            scale: 6,
        };
        assert_eq!(big.exact_f64(), None);
    }

    #[test]
    fn parts_sort_by_run_then_number() {
        let ps = [
            "d/p/b_part_0.parquet",
            "d/p/a_part_10.parquet",
            "d/p/a_part_2.parquet",
            "d/p/a_part_0.parquet",
        ];
        let mut v: Vec<PathBuf> = ps.iter().map(PathBuf::from).collect();
        v.sort_by_key(|p| part_key(p));
        let names: Vec<String> = v.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "d/p/a_part_0.parquet",
                "d/p/a_part_2.parquet",
                "d/p/a_part_10.parquet",
                "d/p/b_part_0.parquet"
            ]
        );
        assert_eq!(groups(v).iter().map(Vec::len).collect::<Vec<_>>(), [3, 1]);
    }
}
