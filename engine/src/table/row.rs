//! The stored form of a row: a null bitmap, then each non-null value in column order.
//!
//! ```text
//! [null bitmap: ceil(columns / 8) bytes, bit i set = column i is NULL]
//! then per non-null column, by type:
//!   Bool       1 byte (0 or 1)
//!   Int        zigzag varint          Timestamp  zigzag varint
//!   Date       zigzag varint          Float      8 bytes, little-endian IEEE 754
//!   Text/Bytes varint length + bytes
//! ```
//!
//! Rows carry no type tags: the table's schema says what each column holds, which keeps
//! small rows small (a row of two short strings and an integer is about a dozen bytes).

use crate::error::{Error, Result};
use crate::keycode::KeyValue;
use crate::table::codec::{Reader, put_bytes, put_signed};
use crate::table::schema::{Column, ColumnType};

/// Encodes `row` for `columns`. Every value must be NULL or of its column's type.
pub fn encode_row(columns: &[Column], row: &[KeyValue]) -> Result<Vec<u8>> {
    if row.len() != columns.len() {
        return Err(Error::InvalidArgument(format!(
            "row has {} values for {} columns",
            row.len(),
            columns.len()
        )));
    }
    let bitmap_len = columns.len().div_ceil(8);
    // Room for every value at its largest fixed size, so the row is built without growing.
    let variable: usize = row
        .iter()
        .map(|value| match value {
            KeyValue::Text(s) => s.len(),
            KeyValue::Bytes(b) => b.len(),
            _ => 0,
        })
        .sum();
    let mut out = Vec::with_capacity(bitmap_len + 10 * columns.len() + variable);
    out.resize(bitmap_len, 0);
    for (i, (column, value)) in columns.iter().zip(row).enumerate() {
        match (column.ty, value) {
            (_, KeyValue::Null) => out[i / 8] |= 1 << (i % 8),
            (ColumnType::Bool, KeyValue::Bool(b)) => out.push(u8::from(*b)),
            (ColumnType::Int, KeyValue::Int(v))
            | (ColumnType::Timestamp, KeyValue::Timestamp(v)) => {
                put_signed(&mut out, *v);
            }
            (ColumnType::Date, KeyValue::Date(d)) => put_signed(&mut out, i64::from(*d)),
            (ColumnType::Float, KeyValue::Float(f)) => out.extend_from_slice(&f.to_le_bytes()),
            (ColumnType::Text, KeyValue::Text(s)) => put_bytes(&mut out, s.as_bytes()),
            (ColumnType::Bytes, KeyValue::Bytes(b)) => put_bytes(&mut out, b),
            (ty, value) => {
                return Err(Error::TypeMismatch(format!(
                    "column {:?} is {ty:?}, but the value is {value:?}",
                    column.name
                )));
            }
        }
    }
    Ok(out)
}

/// Decodes a row stored by [`encode_row`] with the same `columns`.
pub fn decode_row(columns: &[Column], bytes: &[u8]) -> Result<Vec<KeyValue>> {
    decode_columns(columns, bytes, |_| true)
}

/// A value of a stored row, borrowed from the row's bytes: what [`decode_row_with`]
/// hands its visitor, so a caller can copy it into a buffer it reuses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ColumnValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Date(i32),
    Timestamp(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl ColumnValue<'_> {
    /// The value, owned.
    pub fn to_key_value(self) -> KeyValue {
        match self {
            ColumnValue::Null => KeyValue::Null,
            ColumnValue::Bool(b) => KeyValue::Bool(b),
            ColumnValue::Int(v) => KeyValue::Int(v),
            ColumnValue::Float(f) => KeyValue::Float(f),
            ColumnValue::Date(d) => KeyValue::Date(d),
            ColumnValue::Timestamp(t) => KeyValue::Timestamp(t),
            ColumnValue::Text(s) => KeyValue::Text(s.to_string()),
            ColumnValue::Bytes(b) => KeyValue::Bytes(b.to_vec()),
        }
    }
}

/// Decodes the columns of a stored row that `wanted` picks (by position); the others
/// are stepped over without copying and come back as NULL. The row is checked as
/// [`decode_row`] checks it, but for the UTF-8 of text that is not wanted.
pub fn decode_columns(
    columns: &[Column],
    bytes: &[u8],
    wanted: impl Fn(usize) -> bool,
) -> Result<Vec<KeyValue>> {
    let mut row = Vec::with_capacity(columns.len());
    decode_row_with(columns, bytes, wanted, |_, value| {
        row.push(value.to_key_value());
        Ok(())
    })?;
    Ok(row)
}

/// Decodes a stored row without copying it: calls `visit` with each column's position
/// and value, in column order, borrowing text and bytes from `bytes`. Columns `wanted`
/// does not pick are stepped over and visited as NULL. Checks the row as
/// [`decode_columns`] does; if it fails, some columns may have been visited.
pub fn decode_row_with<'b>(
    columns: &[Column],
    bytes: &'b [u8],
    wanted: impl Fn(usize) -> bool,
    mut visit: impl FnMut(usize, ColumnValue<'b>) -> Result<()>,
) -> Result<()> {
    let bitmap_len = columns.len().div_ceil(8);
    let mut reader = Reader::new(bytes, "row");
    let bitmap = reader.take(bitmap_len)?;
    for (i, column) in columns.iter().enumerate() {
        if bitmap[i / 8] & (1 << (i % 8)) != 0 {
            visit(i, ColumnValue::Null)?;
            continue;
        }
        if !wanted(i) {
            match column.ty {
                ColumnType::Bool => {
                    reader.u8()?;
                }
                ColumnType::Int | ColumnType::Timestamp | ColumnType::Date => {
                    reader.signed()?;
                }
                ColumnType::Float => {
                    reader.f64()?;
                }
                ColumnType::Text | ColumnType::Bytes => {
                    reader.bytes()?;
                }
            }
            visit(i, ColumnValue::Null)?;
            continue;
        }
        let value =
            match column.ty {
                ColumnType::Bool => match reader.u8()? {
                    0 => ColumnValue::Bool(false),
                    1 => ColumnValue::Bool(true),
                    other => return Err(Error::CorruptData(format!("row: bad boolean {other}"))),
                },
                ColumnType::Int => ColumnValue::Int(reader.signed()?),
                ColumnType::Timestamp => ColumnValue::Timestamp(reader.signed()?),
                ColumnType::Date => {
                    let days = reader.signed()?;
                    ColumnValue::Date(i32::try_from(days).map_err(|_| {
                        Error::CorruptData(format!("row: date {days} out of range"))
                    })?)
                }
                ColumnType::Float => ColumnValue::Float(reader.f64()?),
                ColumnType::Text => ColumnValue::Text(reader.str()?),
                ColumnType::Bytes => ColumnValue::Bytes(reader.bytes()?),
            };
        visit(i, value)?;
    }
    reader.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<Column> {
        [
            ColumnType::Text,
            ColumnType::Int,
            ColumnType::Float,
            ColumnType::Bool,
            ColumnType::Date,
        ]
        .into_iter()
        .enumerate()
        .map(|(i, ty)| Column {
            name: format!("c{i}"),
            ty,
            nullable: true,
        })
        .collect()
    }

    #[test]
    fn rows_round_trip_with_nulls() {
        let row = vec![
            KeyValue::Text("Alice".into()),
            KeyValue::Null,
            KeyValue::Float(-2.5),
            KeyValue::Bool(true),
            KeyValue::Date(-3),
        ];
        let bytes = encode_row(&columns(), &row).unwrap();
        assert_eq!(decode_row(&columns(), &bytes).unwrap(), row);
        for cut in 0..bytes.len() {
            assert!(decode_row(&columns(), &bytes[..cut]).is_err());
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused() {
        let row = vec![
            KeyValue::Int(1),
            KeyValue::Null,
            KeyValue::Null,
            KeyValue::Null,
            KeyValue::Null,
        ];
        assert!(matches!(
            encode_row(&columns(), &row),
            Err(Error::TypeMismatch(_))
        ));
    }
}
