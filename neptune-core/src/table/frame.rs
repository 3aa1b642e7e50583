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
        DataFrame::new(self.rows.len(), cols)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Cell, Column, Row, Table};
    use crate::model::types::FieldType;

    fn row(id: &str, cells: Vec<Option<Cell>>) -> Row {
        Row {
            id: id.to_owned(),
            cells,
        }
    }

    #[test]
    fn columns_typed_by_their_cells_and_missing_fields_null() {
        let when = chrono::DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let columns = vec![
            Column::new("loss".into(), Some(FieldType::FloatSeries)),
            Column::new("epochs".into(), Some(FieldType::Integer)),
            Column::new("ok".into(), Some(FieldType::Boolean)),
            Column::new("at".into(), Some(FieldType::Datetime)),
            Column::new("mixed".into(), None),
        ];
        let rows = vec![
            row(
                "R-1",
                vec![
                    Some(Cell::Float(0.5)),
                    Some(Cell::Integer(3)),
                    Some(Cell::Boolean(true)),
                    Some(Cell::Datetime(when)),
                    Some(Cell::Integer(7)),
                ],
            ),
            row(
                "R-2",
                vec![None, None, None, None, Some(Cell::String("x".into()))],
            ),
        ];
        let df = Table::with_total(columns, rows, 2).to_dataframe().unwrap();
        assert_eq!(df.shape(), (2, 5));
        let loss = df.column("loss").unwrap().f64().unwrap();
        assert_eq!((loss.get(0), loss.get(1)), (Some(0.5), None));
        let epochs = df.column("epochs").unwrap().i64().unwrap();
        assert_eq!((epochs.get(0), epochs.get(1)), (Some(3), None));
        assert_eq!(df.column("ok").unwrap().bool().unwrap().get(0), Some(true));
        let at = df.column("at").unwrap().i64().unwrap();
        assert_eq!(at.get(0), Some(1_700_000_000_123));
        let mixed = df.column("mixed").unwrap().str().unwrap();
        assert_eq!((mixed.get(0), mixed.get(1)), (Some("7"), Some("x")));
    }

    #[test]
    fn a_table_without_columns_keeps_its_height() {
        let rows = vec![row("R-1", vec![]), row("R-2", vec![])];
        let df = Table::with_total(Vec::new(), rows, 2)
            .to_dataframe()
            .unwrap();
        assert_eq!(df.shape(), (2, 0));
    }
}
