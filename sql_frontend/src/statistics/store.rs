//! Statistics in the catalog: one engine table, read and written through the
//! statement's transaction.
//!
//! ```text
//! __hdb_sql_statistics (table_name TEXT, position INT, data BYTES,
//!                       PRIMARY KEY (table_name, position))
//! ```
//!
//! Position [`TABLE_ROW`] (-1) holds the table's row and page counts; position `p >= 0`
//! the statistics of column `p`. `data` is the keycode encoding of a flat tuple:
//!
//! ```text
//! table row:  (rows FLOAT, pages FLOAT)
//! column row: (null_fraction FLOAT, distinct FLOAT, average_width FLOAT,
//!              mcv_count INT, value_1, fraction_1 FLOAT, ..., histogram_count INT,
//!              bound_1, ...)
//! ```
//!
//! The table is created by the first ANALYZE, in its transaction. A row that does not
//! decode is reported as corrupt data naming the table, never a panic.

use std::ops::Bound;

use engine::Transaction;
use engine::keycode::{KeyValue, decode, encode};
use engine::table::{Column, ColumnType, TableDef, TableSchema, catalog, ops};

use super::{ColumnStats, TableStats};
use crate::error::{Error, Result};

/// The engine table holding statistics.
pub const SQL_STATISTICS_TABLE: &str = "__hdb_sql_statistics";

/// The position of a table's own row (row and page counts).
const TABLE_ROW: i64 = -1;

fn statistics_def() -> TableDef {
    let column = |name: &str, ty| Column {
        name: name.to_string(),
        ty,
        nullable: false,
    };
    TableDef {
        name: SQL_STATISTICS_TABLE.to_string(),
        columns: vec![
            column("table_name", ColumnType::Text),
            column("position", ColumnType::Int),
            column("data", ColumnType::Bytes),
        ],
        primary_key: vec!["table_name".to_string(), "position".to_string()],
    }
}

fn corrupt(table: &str) -> Error {
    Error::Engine(engine::Error::CorruptData(format!(
        "{SQL_STATISTICS_TABLE}: bad statistics for {table:?}"
    )))
}

/// The statistics of table `name`, if it was analysed, as `txn` sees the catalog.
pub fn load(txn: &mut Transaction, name: &str) -> Result<Option<TableStats>> {
    let Some(meta) = catalog::find_table(txn, SQL_STATISTICS_TABLE)? else {
        return Ok(None);
    };
    let prefix = [KeyValue::Text(name.to_string())];
    let rows: Vec<_> = ops::scan(
        txn,
        &meta,
        Bound::Included(&prefix),
        Bound::Included(&prefix),
        false,
    )?
    .collect::<engine::Result<_>>()?;
    let mut stats: Option<TableStats> = None;
    let mut columns = Vec::new();
    for (_, row) in rows {
        let [_, KeyValue::Int(position), KeyValue::Bytes(data)] = row.as_slice() else {
            return Err(corrupt(name));
        };
        let mut fields = Fields {
            values: decode(data)?.into_iter(),
            table: name,
        };
        if *position == TABLE_ROW {
            stats = Some(TableStats {
                rows: fields.float()?,
                pages: fields.float()?,
                columns: Vec::new(),
            });
        } else {
            let position = usize::try_from(*position).map_err(|_| corrupt(name))?;
            columns.push(decode_column(position, &mut fields)?);
        }
        fields.finish()?;
    }
    Ok(stats.map(|mut s| {
        s.columns = columns;
        s
    }))
}

/// Records `stats` for table `name` in `txn`: the table's row, and each analysed
/// column's, replacing what was there; columns not analysed now keep their statistics.
pub fn save(txn: &mut Transaction, name: &str, stats: &TableStats) -> Result<()> {
    let meta = match catalog::find_table(txn, SQL_STATISTICS_TABLE)? {
        Some(meta) => meta,
        None => catalog::create_table(txn, statistics_def())?,
    };
    let table = encode(&[KeyValue::Float(stats.rows), KeyValue::Float(stats.pages)]);
    put(txn, &meta, name, TABLE_ROW, table)?;
    for column in &stats.columns {
        let position = i64::try_from(column.position).map_err(|_| corrupt(name))?;
        put(txn, &meta, name, position, encode_column(column))?;
    }
    Ok(())
}

fn put(
    txn: &mut Transaction,
    meta: &TableSchema,
    name: &str,
    position: i64,
    data: Vec<u8>,
) -> Result<()> {
    let key = [KeyValue::Text(name.to_string()), KeyValue::Int(position)];
    ops::delete(txn, meta, &key)?;
    let [table, position] = key;
    ops::insert(txn, meta, vec![table, position, KeyValue::Bytes(data)])?;
    Ok(())
}

fn encode_column(column: &ColumnStats) -> Vec<u8> {
    let mut tuple = vec![
        KeyValue::Float(column.null_fraction),
        KeyValue::Float(column.distinct),
        KeyValue::Float(column.average_width),
        KeyValue::Int(column.mcv.len() as i64),
    ];
    for (value, fraction) in &column.mcv {
        tuple.push(value.clone());
        tuple.push(KeyValue::Float(*fraction));
    }
    tuple.push(KeyValue::Int(column.histogram.len() as i64));
    tuple.extend(column.histogram.iter().cloned());
    encode(&tuple)
}

fn decode_column(position: usize, fields: &mut Fields) -> Result<ColumnStats> {
    let null_fraction = fields.float()?;
    let distinct = fields.float()?;
    let average_width = fields.float()?;
    let mcv_count = fields.count()?;
    let mut mcv = Vec::with_capacity(mcv_count);
    for _ in 0..mcv_count {
        let value = fields.value()?;
        mcv.push((value, fields.float()?));
    }
    let histogram_count = fields.count()?;
    let mut histogram = Vec::with_capacity(histogram_count);
    for _ in 0..histogram_count {
        histogram.push(fields.value()?);
    }
    Ok(ColumnStats {
        position,
        null_fraction,
        distinct,
        average_width,
        mcv,
        histogram,
    })
}

/// The fields of one stored tuple, read in order.
struct Fields<'a> {
    values: std::vec::IntoIter<KeyValue>,
    table: &'a str,
}

impl Fields<'_> {
    fn value(&mut self) -> Result<KeyValue> {
        self.values.next().ok_or_else(|| corrupt(self.table))
    }

    fn float(&mut self) -> Result<f64> {
        match self.value()? {
            KeyValue::Float(f) if f.is_finite() && f >= 0.0 => Ok(f),
            _ => Err(corrupt(self.table)),
        }
    }

    fn count(&mut self) -> Result<usize> {
        match self.value()? {
            // A count can never exceed the values left (each takes at least one).
            KeyValue::Int(n) if n >= 0 && (n as u64) <= self.values.len() as u64 => Ok(n as usize),
            _ => Err(corrupt(self.table)),
        }
    }

    fn finish(&self) -> Result<()> {
        match self.values.len() {
            0 => Ok(()),
            _ => Err(corrupt(self.table)),
        }
    }
}
