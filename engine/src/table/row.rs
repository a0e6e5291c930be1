//! The stored form of a row: its column count, a null bitmap, then each non-null value
//! in column order.
//!
//! ```text
//! [column count n: varint]          (only in tables whose schema has `counted_rows`)
//! [null bitmap: ceil(n / 8) bytes, bit i set = column i is NULL]
//! then per non-null column, by type:
//!   Bool       1 byte (0 or 1)
//!   Int        zigzag varint          Timestamp  zigzag varint
//!   Date       zigzag varint          Float      8 bytes, little-endian IEEE 754
//!   Text/Bytes varint length + bytes
//!   Interval   zigzag varints of months, days, microseconds (all three fields, which
//!              the key encoding does not keep apart: `keycode`'s header)
//!   Numeric    varint scale, then varint length + the mantissa's two's-complement
//!              bytes, little-endian (exact: the scale is kept)
//! ```
//!
//! Rows carry no type tags: the table's schema says what each column holds, which keeps
//! small rows small (a row of two short strings and an integer is about a dozen bytes).
//!
//! **Rows shorter than the table.** A row holds as many columns as its table had when
//! it was written: ADD COLUMN writes no row (`alter.rs`). A row whose count `n` is below
//! the schema's column count reads each column from `n` on as the schema's missing value
//! for it ([`TableSchema::missing_value`]: the added column's DEFAULT as evaluated when
//! it was added, else NULL). A count above the schema's column count is corrupt data: a
//! transaction reads rows through the schema its own snapshot sees, and no row written
//! under a newer, wider schema is visible to it (the tree lock of every ALTER TABLE, see
//! `alter.rs`). Tables created before counts existed (schema format 1) store no count,
//! and every row holds every column; ADD COLUMN rewrites such a table once.

use crate::error::{Error, Result};
use std::borrow::Cow;

use num_bigint::BigInt;

use crate::keycode::{KeyValue, Numeric};
use crate::table::codec::{Reader, put_bytes, put_signed, put_varint};
use crate::table::schema::{ColumnType, TableSchema};

/// Encodes `row` for `schema`'s columns, at full length. Every value must be NULL or of
/// its column's type.
pub fn encode_row(schema: &TableSchema, row: &[KeyValue]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded_room(schema, row));
    encode_row_into(&mut out, schema, row)?;
    Ok(out)
}

/// Room for `row`'s encoding with every value at its largest fixed size: a buffer of
/// this much more capacity takes [`encode_row_into`] without growing.
pub fn encoded_room(schema: &TableSchema, row: &[KeyValue]) -> usize {
    let columns = schema.columns.len();
    let variable: usize = row
        .iter()
        .map(|value| match value {
            KeyValue::Text(s) => s.len(),
            KeyValue::Bytes(b) => b.len(),
            _ => 0,
        })
        .sum();
    10 + columns.div_ceil(8) + 10 * columns + variable
}

/// [`encode_row`], appended to `out` (so a caller can hold the row's key and its
/// encoding in one buffer). On an error, `out` may hold part of the row.
pub fn encode_row_into(out: &mut Vec<u8>, schema: &TableSchema, row: &[KeyValue]) -> Result<()> {
    let columns = &schema.columns;
    if row.len() != columns.len() {
        return Err(Error::InvalidArgument(format!(
            "row has {} values for {} columns",
            row.len(),
            columns.len()
        )));
    }
    let bitmap_len = columns.len().div_ceil(8);
    out.reserve(encoded_room(schema, row));
    if schema.counted_rows {
        put_varint(out, columns.len() as u64);
    }
    let bitmap_at = out.len();
    out.resize(bitmap_at + bitmap_len, 0);
    for (i, (column, value)) in columns.iter().zip(row).enumerate() {
        match (column.ty, value) {
            (_, KeyValue::Null) => out[bitmap_at + i / 8] |= 1 << (i % 8),
            (ColumnType::Bool, KeyValue::Bool(b)) => out.push(u8::from(*b)),
            (ColumnType::Int, KeyValue::Int(v))
            | (ColumnType::Timestamp, KeyValue::Timestamp(v)) => {
                put_signed(out, *v);
            }
            (ColumnType::Date, KeyValue::Date(d)) => put_signed(out, i64::from(*d)),
            (ColumnType::Float, KeyValue::Float(f)) => out.extend_from_slice(&f.to_le_bytes()),
            (ColumnType::Text, KeyValue::Text(s)) => put_bytes(out, s.as_bytes()),
            (ColumnType::Bytes, KeyValue::Bytes(b)) => put_bytes(out, b),
            (
                ColumnType::Interval,
                KeyValue::Interval {
                    months,
                    days,
                    micros,
                },
            ) => {
                put_signed(out, i64::from(*months));
                put_signed(out, i64::from(*days));
                put_signed(out, *micros);
            }
            (ColumnType::Numeric, KeyValue::Numeric(n)) => {
                put_varint(out, u64::from(n.scale()));
                put_bytes(out, &n.mantissa().to_signed_bytes_le());
            }
            (ty, value) => {
                return Err(Error::TypeMismatch(format!(
                    "column {:?} is {ty:?}, but the value is {value:?}",
                    column.name
                )));
            }
        }
    }
    Ok(())
}

/// Decodes a row stored by [`encode_row`] under `schema` or an older, narrower schema
/// of the same table (see the module header).
pub fn decode_row(schema: &TableSchema, bytes: &[u8]) -> Result<Vec<KeyValue>> {
    decode_columns(schema, bytes, |_| true)
}

/// A value of a stored row, borrowed from the row's bytes: what [`decode_row_with`]
/// hands its visitor, so a caller can copy it into a buffer it reuses.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Date(i32),
    Timestamp(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
    Interval {
        months: i32,
        days: i32,
        micros: i64,
    },
    /// A NUMERIC: decoded from the row (owned), or borrowed from a value.
    Numeric(Cow<'a, Numeric>),
}

impl<'a> ColumnValue<'a> {
    /// A stored value, borrowed.
    pub fn of(value: &'a KeyValue) -> ColumnValue<'a> {
        match value {
            KeyValue::Null => ColumnValue::Null,
            KeyValue::Bool(b) => ColumnValue::Bool(*b),
            KeyValue::Int(v) => ColumnValue::Int(*v),
            KeyValue::Float(f) => ColumnValue::Float(*f),
            KeyValue::Date(d) => ColumnValue::Date(*d),
            KeyValue::Timestamp(t) => ColumnValue::Timestamp(*t),
            KeyValue::Text(s) => ColumnValue::Text(s),
            KeyValue::Bytes(b) => ColumnValue::Bytes(b),
            KeyValue::Interval {
                months,
                days,
                micros,
            } => ColumnValue::Interval {
                months: *months,
                days: *days,
                micros: *micros,
            },
            KeyValue::Numeric(n) => ColumnValue::Numeric(Cow::Borrowed(n)),
        }
    }

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
            ColumnValue::Interval {
                months,
                days,
                micros,
            } => KeyValue::Interval {
                months,
                days,
                micros,
            },
            ColumnValue::Numeric(n) => KeyValue::Numeric(Box::new(n.into_owned())),
        }
    }
}

/// Decodes the columns of a stored row that `wanted` picks (by position); the others
/// are stepped over without copying and come back as NULL. The row is checked as
/// [`decode_row`] checks it, but for the UTF-8 of text that is not wanted.
pub fn decode_columns(
    schema: &TableSchema,
    bytes: &[u8],
    wanted: impl Fn(usize) -> bool,
) -> Result<Vec<KeyValue>> {
    let mut row = Vec::with_capacity(schema.columns.len());
    decode_row_with(schema, bytes, wanted, |_, value| {
        row.push(value.to_key_value());
        Ok(())
    })?;
    Ok(row)
}

/// Decodes a stored row without copying it: calls `visit` with each column's position
/// and value, in column order, borrowing text and bytes from `bytes`. Columns `wanted`
/// does not pick are stepped over and visited as NULL. Checks the row as
/// [`decode_columns`] does; if it fails, some columns may have been visited. Columns
/// past the row's end are visited with the schema's missing values (module header).
pub fn decode_row_with<'b>(
    schema: &'b TableSchema,
    bytes: &'b [u8],
    wanted: impl Fn(usize) -> bool,
    mut visit: impl FnMut(usize, ColumnValue<'b>) -> Result<()>,
) -> Result<()> {
    let columns = &schema.columns;
    let mut reader = Reader::new(bytes, "row");
    let stored = stored_columns(schema, &mut reader)?;
    let bitmap = reader.take(stored.div_ceil(8))?;
    for (i, column) in columns[..stored].iter().enumerate() {
        if is_null(bitmap, i) {
            visit(i, ColumnValue::Null)?;
            continue;
        }
        if !wanted(i) {
            skip_value(&mut reader, column.ty)?;
            visit(i, ColumnValue::Null)?;
            continue;
        }
        visit(i, read_value(&mut reader, column.ty)?)?;
    }
    reader.finish()?;
    for i in stored..columns.len() {
        match wanted(i) {
            true => visit(i, ColumnValue::of(schema.missing_value(i)))?,
            false => visit(i, ColumnValue::Null)?,
        }
    }
    Ok(())
}

/// Some columns of a table, by position, strictly increasing: what
/// [`decode_wanted`] reads of each row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedColumns(Vec<usize>);

impl WantedColumns {
    /// The columns at `positions` (in any order, repeats allowed) of `schema`'s table;
    /// an error if one is not a column of it.
    pub fn new(
        schema: &TableSchema,
        positions: impl IntoIterator<Item = usize>,
    ) -> Result<WantedColumns> {
        let mut wanted: Vec<usize> = positions.into_iter().collect();
        wanted.sort_unstable();
        wanted.dedup();
        match wanted.last() {
            Some(&last) if last >= schema.columns.len() => Err(Error::InvalidArgument(format!(
                "table {:?} has no column {last}",
                schema.name
            ))),
            _ => Ok(WantedColumns(wanted)),
        }
    }

    /// The positions, increasing.
    pub fn positions(&self) -> &[usize] {
        &self.0
    }
}

/// Decodes only the `wanted` columns of a stored row, for a caller that needs a few
/// columns of every row (CREATE INDEX): calls `visit` with each wanted column's
/// position and value, in column order, borrowing text and bytes from `bytes`. The
/// columns before the last wanted one are stepped over without building a value (as
/// [`decode_row_with`] steps over those it does not want) and are not visited; the
/// bytes after the last wanted column are not read, so, unlike [`decode_row_with`],
/// this does not check that the row ends where its last column does. Wanted columns
/// past the row's end are visited with the schema's missing values (module header).
/// Each value is the one [`decode_row`] gives for that column.
pub fn decode_wanted<'b>(
    schema: &'b TableSchema,
    bytes: &'b [u8],
    wanted: &WantedColumns,
    mut visit: impl FnMut(usize, ColumnValue<'b>) -> Result<()>,
) -> Result<()> {
    let columns = &schema.columns;
    let mut reader = Reader::new(bytes, "row");
    let stored = stored_columns(schema, &mut reader)?;
    let bitmap = reader.take(stored.div_ceil(8))?;
    let mut next = 0;
    for &want in &wanted.0 {
        if want >= stored {
            visit(want, ColumnValue::of(schema.missing_value(want)))?;
            continue;
        }
        // Step over the columns between the last wanted one and this one.
        for (i, column) in columns.iter().enumerate().take(want).skip(next) {
            if !is_null(bitmap, i) {
                skip_value(&mut reader, column.ty)?;
            }
        }
        next = want + 1;
        match is_null(bitmap, want) {
            true => visit(want, ColumnValue::Null)?,
            false => visit(want, read_value(&mut reader, columns[want].ty)?)?,
        }
    }
    Ok(())
}

/// Reads a row's column count (see the module header): how many columns it stores.
fn stored_columns(schema: &TableSchema, reader: &mut Reader<'_>) -> Result<usize> {
    let columns = schema.columns.len();
    if !schema.counted_rows {
        return Ok(columns);
    }
    let count = reader.len()?;
    if count > columns {
        return Err(Error::CorruptData(format!(
            "row of table {:?} holds {count} columns, the table has {columns}",
            schema.name
        )));
    }
    Ok(count)
}

/// Whether the null bitmap marks column `i` NULL.
fn is_null(bitmap: &[u8], i: usize) -> bool {
    bitmap[i / 8] & (1 << (i % 8)) != 0
}

/// Steps over a stored value of type `ty`.
fn skip_value(reader: &mut Reader<'_>, ty: ColumnType) -> Result<()> {
    match ty {
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
        ColumnType::Interval => {
            read_interval(reader)?;
        }
        ColumnType::Numeric => {
            reader.varint()?;
            reader.bytes()?;
        }
    }
    Ok(())
}

/// Reads a stored value of type `ty`.
fn read_value<'b>(reader: &mut Reader<'b>, ty: ColumnType) -> Result<ColumnValue<'b>> {
    Ok(match ty {
        ColumnType::Bool => match reader.u8()? {
            0 => ColumnValue::Bool(false),
            1 => ColumnValue::Bool(true),
            other => return Err(Error::CorruptData(format!("row: bad boolean {other}"))),
        },
        ColumnType::Int => ColumnValue::Int(reader.signed()?),
        ColumnType::Timestamp => ColumnValue::Timestamp(reader.signed()?),
        ColumnType::Date => {
            let days = reader.signed()?;
            ColumnValue::Date(
                i32::try_from(days)
                    .map_err(|_| Error::CorruptData(format!("row: date {days} out of range")))?,
            )
        }
        ColumnType::Float => ColumnValue::Float(reader.f64()?),
        ColumnType::Text => ColumnValue::Text(reader.str()?),
        ColumnType::Bytes => ColumnValue::Bytes(reader.bytes()?),
        ColumnType::Interval => read_interval(reader)?,
        ColumnType::Numeric => {
            let scale = u32::try_from(reader.varint()?).unwrap_or(u32::MAX);
            let mantissa = BigInt::from_signed_bytes_le(reader.bytes()?);
            let numeric = Numeric::new(mantissa, scale)
                .ok_or_else(|| Error::CorruptData("row: numeric past its bounds".into()))?;
            ColumnValue::Numeric(Cow::Owned(numeric))
        }
    })
}

/// A stored interval's three fields.
fn read_interval<'a>(reader: &mut Reader<'_>) -> Result<ColumnValue<'a>> {
    let field = |value: i64| {
        i32::try_from(value)
            .map_err(|_| Error::CorruptData(format!("row: interval field {value} out of range")))
    };
    Ok(ColumnValue::Interval {
        months: field(reader.signed()?)?,
        days: field(reader.signed()?)?,
        micros: reader.signed()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mvcc::TreeId;
    use crate::table::schema::Column;

    fn schema(counted_rows: bool) -> TableSchema {
        TableSchema {
            name: "t".into(),
            tree: TreeId(16),
            columns: columns(),
            primary_key: Vec::new(),
            indexes: Vec::new(),
            counted_rows,
            missing: Vec::new(),
        }
    }

    fn columns() -> Vec<Column> {
        [
            ColumnType::Text,
            ColumnType::Int,
            ColumnType::Float,
            ColumnType::Bool,
            ColumnType::Date,
            ColumnType::Interval,
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
            KeyValue::Interval {
                months: 1,
                days: -2,
                micros: 3,
            },
        ];
        for counted in [false, true] {
            let schema = schema(counted);
            let bytes = encode_row(&schema, &row).unwrap();
            assert_eq!(decode_row(&schema, &bytes).unwrap(), row);
            for cut in 0..bytes.len() {
                assert!(decode_row(&schema, &bytes[..cut]).is_err());
            }
        }
    }

    #[test]
    fn short_rows_read_the_missing_values_and_long_rows_are_corrupt() {
        let mut narrow = schema(true);
        narrow.columns.truncate(2);
        let bytes = encode_row(&narrow, &[KeyValue::Text("a".into()), KeyValue::Null]).unwrap();
        let mut wide = schema(true);
        wide.missing = vec![
            KeyValue::Null,
            KeyValue::Null,
            KeyValue::Float(1.5),
            KeyValue::Null,
        ];
        let expected = vec![
            KeyValue::Text("a".into()),
            KeyValue::Null,
            KeyValue::Float(1.5),
            KeyValue::Null,
            KeyValue::Null,
            KeyValue::Null,
        ];
        assert_eq!(decode_row(&wide, &bytes).unwrap(), expected);
        let pruned = decode_columns(&wide, &bytes, |i| i != 2).unwrap();
        assert_eq!(pruned[2], KeyValue::Null);
        let wide_row = encode_row(&wide, &expected).unwrap();
        assert!(matches!(
            decode_row(&narrow, &wide_row),
            Err(Error::CorruptData(_))
        ));
    }

    const TYPES: [ColumnType; 9] = ColumnType::ALL;

    /// A value of type `ty` drawn from `seed`, NULL when `null`.
    fn value_of(ty: ColumnType, seed: i64, null: bool) -> KeyValue {
        if null {
            return KeyValue::Null;
        }
        match ty {
            ColumnType::Bool => KeyValue::Bool(seed % 2 == 0),
            ColumnType::Int => KeyValue::Int(seed),
            ColumnType::Float => KeyValue::Float(seed as f64 / 7.0),
            ColumnType::Text => KeyValue::Text("é\0x".repeat((seed % 5).unsigned_abs() as usize)),
            ColumnType::Bytes => {
                KeyValue::Bytes(seed.to_le_bytes()[..(seed % 9).unsigned_abs() as usize].to_vec())
            }
            ColumnType::Timestamp => KeyValue::Timestamp(seed.wrapping_mul(1_000_003)),
            ColumnType::Date => KeyValue::Date(seed as i32),
            ColumnType::Interval => KeyValue::Interval {
                months: seed as i32,
                days: (seed >> 8) as i32,
                micros: seed.wrapping_mul(31),
            },
            ColumnType::Numeric => KeyValue::Numeric(Box::new(
                Numeric::new(BigInt::from(seed), (seed % 7).unsigned_abs() as u32)
                    .expect("a small numeric"),
            )),
        }
    }

    proptest::proptest! {
        /// The column-only decode gives, for each wanted column, what the full decode
        /// gives: every type, NULLs, rows shorter than the table (ADD COLUMN) with and
        /// without a missing value, tables with and without counted rows.
        #[test]
        fn decoding_the_wanted_columns_agrees_with_decoding_the_row(
            columns in proptest::collection::vec(
                (0..TYPES.len(), proptest::num::i64::ANY, proptest::bool::weighted(0.3),
                 proptest::bool::ANY),
                1..20,
            ),
            counted in proptest::bool::ANY,
            stored in 0usize..20,
            wanted in proptest::collection::vec(0usize..20, 0..6),
        ) {
            let mut schema = schema(counted);
            schema.columns = columns
                .iter()
                .enumerate()
                .map(|(i, &(ty, ..))| Column {
                    name: format!("c{i}"),
                    ty: TYPES[ty],
                    nullable: true,
                })
                .collect();
            let row: Vec<KeyValue> = columns
                .iter()
                .map(|&(ty, seed, null, _)| value_of(TYPES[ty], seed, null))
                .collect();
            // Rows of a counted table may hold fewer columns than it has now; the
            // columns added since read as their missing values (here: a DEFAULT
            // where the draw says so, else NULL).
            let stored = match counted {
                true => stored.min(columns.len()),
                false => columns.len(),
            };
            let mut narrow = schema.clone();
            narrow.columns.truncate(stored);
            let bytes = encode_row(&narrow, &row[..stored]).unwrap();
            schema.missing = columns
                .iter()
                .map(|&(ty, seed, _, default)| value_of(TYPES[ty], seed ^ 5, !default))
                .collect();
            let full = decode_row(&schema, &bytes).unwrap();
            let wanted: Vec<usize> = wanted.into_iter().map(|w| w % columns.len()).collect();
            let set = WantedColumns::new(&schema, wanted.iter().copied()).unwrap();
            let mut got = Vec::new();
            decode_wanted(&schema, &bytes, &set, |i, value| {
                got.push((i, value.to_key_value()));
                Ok(())
            })
            .unwrap();
            let mut expected: Vec<(usize, KeyValue)> =
                wanted.iter().map(|&w| (w, full[w].clone())).collect();
            expected.sort_by_key(|&(w, _)| w);
            expected.dedup_by_key(|&mut (w, _)| w);
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn wanted_columns_must_be_columns_of_the_table() {
        let schema = schema(true);
        assert!(matches!(
            WantedColumns::new(&schema, [0, 6]),
            Err(Error::InvalidArgument(_))
        ));
        let set = WantedColumns::new(&schema, [5, 1, 5]).unwrap();
        assert_eq!(set.positions(), &[1, 5]);
        // A row cut inside a wanted column is an error, as the full decode says.
        let row: Vec<KeyValue> = columns().iter().map(|c| value_of(c.ty, 3, false)).collect();
        let bytes = encode_row(&schema, &row).unwrap();
        let visit = |_: usize, _: ColumnValue<'_>| Ok(());
        assert!(decode_wanted(&schema, &bytes, &set, visit).is_ok());
        for cut in [1, bytes.len() - 1] {
            assert!(matches!(
                decode_wanted(&schema, &bytes[..cut], &set, visit),
                Err(Error::CorruptData(_))
            ));
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
            KeyValue::Null,
        ];
        assert!(matches!(
            encode_row(&schema(true), &row),
            Err(Error::TypeMismatch(_))
        ));
    }
}
