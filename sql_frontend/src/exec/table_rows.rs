//! A table's rows read a chunk at a time and decoded into reused buffers: what SeqScan
//! and primary-key range scans are built on.
//!
//! The engine lends each chunk (about a leaf's worth of encoded keys and stored rows,
//! `engine::table::RowChunks`); a row is decoded from it only when asked for, straight
//! into the caller's row — a batch slot whose vectors and strings are reused — so a
//! scan allocates nothing per row once its buffers have grown. Rows are decoded one at
//! a time for [`TableRows::next_into`], so a LIMIT above a row-at-a-time pull decodes
//! no more rows than it returns (the engine has read at most the current leaf ahead).
//! Only the columns the plan reads are decoded (column pruning, `plan/needs.rs`); the
//! others are stepped over and left NULL.

use std::ops::Bound;

use engine::Transaction;
use engine::keycode::{KeyDecoder, KeyValue};
use engine::table::row::decode_row_with;
use engine::table::{ColumnValue, EntryChunk, RowChunks, TableSchema, ops};

use super::batch::RowBatch;
use super::operator::KeyedRow;
use crate::catalog::TableInfo;
use crate::error::Result;
use crate::interval::Interval;
use crate::value::{Kind, Value};

/// The rows of one primary-key range of a table, in key order.
pub(super) struct TableRows<'p> {
    schema: &'p TableSchema,
    /// Per column: the kind its values are read as (a stored byte string is a UUID or
    /// a BYTEA by its column's SQL type).
    kinds: Vec<Kind>,
    /// Per column: whether to decode it (else it is NULL).
    wanted: Vec<bool>,
    /// Whether the rows' primary keys are decoded (else the engine lends none).
    keys: bool,
    scan: RowChunks,
    chunk: EntryChunk,
    /// The next row of `chunk` to decode.
    at: usize,
    done: bool,
}

impl<'p> TableRows<'p> {
    /// The rows of `schema`'s table within primary-key prefix bounds, decoding the
    /// columns `wanted` marks (one flag per column; missing flags count as wanted), and
    /// the rows' primary keys when `keys` (else every row's key is empty).
    pub(super) fn open(
        txn: &mut Transaction,
        table: &'p TableInfo,
        wanted: &[bool],
        keys: bool,
        lower: Bound<&[KeyValue]>,
        upper: Bound<&[KeyValue]>,
    ) -> Result<TableRows<'p>> {
        let scan = ops::scan_chunks(txn, &table.schema, lower, upper)?;
        Ok(TableRows::from_chunks(table, wanted, keys, scan))
    }

    /// The rows `scan` lends (a scan of `table`), decoded as [`Self::open`] decodes
    /// them.
    pub(super) fn from_chunks(
        table: &'p TableInfo,
        wanted: &[bool],
        keys: bool,
        scan: RowChunks,
    ) -> TableRows<'p> {
        let schema = &table.schema;
        let wanted = (0..schema.columns.len())
            .map(|i| wanted.get(i).copied().unwrap_or(true))
            .collect();
        TableRows {
            schema,
            kinds: table.kinds(),
            wanted,
            keys,
            scan: match keys {
                true => scan,
                false => scan.without_keys(),
            },
            chunk: EntryChunk::new(),
            at: 0,
            done: false,
        }
    }

    /// Whether a row is ready in `chunk` (fetching the next chunk if needed).
    fn ready(&mut self) -> Result<bool> {
        while self.at >= self.chunk.len() {
            if self.done {
                return Ok(false);
            }
            self.at = 0;
            let more = self.scan.next_chunk(&mut self.chunk);
            if !matches!(more, Ok(true)) {
                self.done = true;
            }
            more?;
        }
        Ok(true)
    }

    /// Decodes the next row into `slot`, reusing its buffers; `false` at the end.
    pub(super) fn next_into(&mut self, slot: &mut KeyedRow) -> Result<bool> {
        if !self.ready()? {
            return Ok(false);
        }
        let (key, row) = self.chunk.get(self.at);
        self.at += 1;
        let key = self.keys.then_some(key);
        decode_into(self.schema, &self.kinds, &self.wanted, key, row, slot)?;
        Ok(true)
    }

    /// Appends rows to `batch` until it is full or the range ends; how many.
    pub(super) fn fill(&mut self, batch: &mut RowBatch) -> Result<usize> {
        let mut added = 0;
        let keys = self.keys && batch.wants_keys();
        while !batch.is_full() && self.ready()? {
            let (key, row) = self.chunk.get(self.at);
            self.at += 1;
            let key = keys.then_some(key);
            let slot = batch.push_slot();
            if let Err(e) = decode_into(self.schema, &self.kinds, &self.wanted, key, row, slot) {
                batch.pop();
                return Err(e);
            }
            added += 1;
        }
        Ok(added)
    }
}

/// Decodes an encoded primary key (`None`: leave the key empty) and a stored row's
/// `wanted` columns (the others NULL), each as its column's kind, into `slot`, reusing
/// its buffers.
fn decode_into(
    schema: &TableSchema,
    kinds: &[Kind],
    wanted: &[bool],
    key: Option<&[u8]>,
    row: &[u8],
    slot: &mut KeyedRow,
) -> Result<()> {
    let (keys, values) = slot;
    keys.clear();
    for value in KeyDecoder::new(key.unwrap_or_default(), &[]) {
        keys.push(value?);
    }
    values.truncate(schema.columns.len());
    let reused = values.len();
    decode_row_with(
        schema,
        row,
        |i| wanted[i],
        |i, value| {
            let value = match value {
                ColumnValue::Text(s) => {
                    if let Some(Value::Text(old)) = values.get_mut(i) {
                        old.clear();
                        old.push_str(s);
                        return Ok(());
                    }
                    Value::Text(s.to_string())
                }
                ColumnValue::Null => Value::Null,
                ColumnValue::Bool(b) => Value::Bool(b),
                ColumnValue::Int(v) => Value::Int(v),
                ColumnValue::Float(f) => Value::Float(f),
                ColumnValue::Date(d) => Value::Date(d),
                ColumnValue::Timestamp(t) => Value::Timestamp(t),
                ColumnValue::Interval {
                    months,
                    days,
                    micros,
                } => Value::Interval(Interval {
                    months,
                    days,
                    micros,
                }),
                ColumnValue::Bytes(b) => match kinds.get(i) {
                    Some(Kind::Uuid) => Value::uuid_of(b)?,
                    _ => Value::Bytea(b.to_vec()),
                },
                ColumnValue::Numeric(n) => Value::numeric(n.into_owned()),
            };
            match i < reused {
                true => values[i] = value,
                false => values.push(value),
            }
            Ok(())
        },
    )?;
    Ok(())
}
