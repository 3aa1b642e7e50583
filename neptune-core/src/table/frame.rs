//! A table as a polars DataFrame (feature `polars`).

use polars::prelude::*;

use super::{Cell, Table};

impl Table {
    /// A DataFrame with a column per table column, in the table's order: Float64, Int64,
    /// Boolean or String by the cells' type; Datetime columns as Int64 Unix milliseconds; a
    /// column whose rows hold values of different types as String. Missing fields are nulls.
    pub fn to_dataframe(&self) -> PolarsResult<DataFrame> {
        let mut cols = Vec::with_capacity(self.columns.len());
        for (i, c) in self.columns.iter().enumerate() {
            let cells = self.rows.iter().map(|r| r.cells[i].as_ref());
            let all = |f: fn(&Cell) -> bool| cells.clone().flatten().all(f);
            let name: PlSmallStr = c.path().into();
            let col = if all(|c| matches!(c, Cell::Float(_))) {
                let v: Vec<Option<f64>> = cells.map(|c| c.and_then(Cell::as_f64)).collect();
                Column::new(name, v)
            } else if all(|c| matches!(c, Cell::Integer(_))) {
                let v: Vec<Option<i64>> = cells
                    .map(|c| match c {
                        Some(Cell::Integer(v)) => Some(*v),
                        _ => None,
                    })
                    .collect();
                Column::new(name, v)
            } else if all(|c| matches!(c, Cell::Boolean(_))) {
                let v: Vec<Option<bool>> = cells
                    .map(|c| match c {
                        Some(Cell::Boolean(v)) => Some(*v),
                        _ => None,
                    })
                    .collect();
                Column::new(name, v)
            } else if all(|c| matches!(c, Cell::Datetime(_))) {
                let v: Vec<Option<i64>> = cells
                    .map(|c| match c {
                        Some(Cell::Datetime(d)) => Some(d.timestamp_millis()),
                        _ => None,
                    })
                    .collect();
                Column::new(name, v)
            } else {
                let v: Vec<Option<String>> = cells.map(|c| c.map(|c| c.to_string())).collect();
                Column::new(name, v)
            };
            cols.push(col);
        }
        DataFrame::new(cols)
    }
}
