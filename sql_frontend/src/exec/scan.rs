//! The scans: a table's rows in primary-key order (SeqScan), the rows of given primary
//! keys (KeyLookup), and ranges of the primary key or of a secondary index (IndexScan).
//!
//! Scans read through the transaction, so they see its snapshot and its own writes.
//! Each row carries the primary key it was read under, which is how UPDATE and DELETE
//! find the rows to change.

use std::collections::HashSet;
use std::ops::Bound;

use engine::keycode::KeyValue;
use engine::table::{IndexSchema, ops};

use super::batch::RowBatch;
use super::buffered::Buffered;
use super::eval::eval;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use super::table_rows::TableRows;
use crate::catalog::TableInfo;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::ScanRange;

/// An engine row of `table` and its key as a row of SQL values.
pub(super) fn convert(
    table: &TableInfo,
    entry: engine::Result<(Vec<KeyValue>, Vec<KeyValue>)>,
) -> Result<KeyedRow> {
    let (key, row) = entry?;
    Ok((key, table.values(row)?))
}

/// A SeqScan of `table`, decoding the columns `wanted` marks, and the primary keys
/// when `keys`.
pub(super) fn seq_scan<'p>(
    table: &'p TableInfo,
    wanted: &[bool],
    keys: bool,
    ctx: &mut ExecContext<'_>,
) -> Result<BoxedOperator<'p>> {
    Ok(Box::new(SeqScan {
        rows: TableRows::open(
            ctx.txn()?,
            table,
            wanted,
            keys,
            Bound::Unbounded,
            Bound::Unbounded,
        )?,
    }))
}

/// A KeyLookup: the rows of `keys` (each evaluated, a key named twice read once), read
/// when the operator is built.
pub(super) fn key_lookup<'p>(
    table: &TableInfo,
    keys: &[Vec<Expr>],
    ctx: &mut ExecContext<'_>,
) -> Result<BoxedOperator<'p>> {
    let mut rows = Vec::with_capacity(keys.len());
    let mut seen = HashSet::new();
    for key in keys {
        let Some(key) = key_values(table, &table.schema.primary_key, key, ctx)? else {
            continue;
        };
        // `IN (1, 1)` names a key twice; the row is returned once. (One key, as in a
        // point SELECT, cannot repeat: nothing to remember.)
        if keys.len() > 1 && !seen.insert(key.clone()) {
            continue;
        }
        if let Some(row) = ops::get(ctx.txn()?, &table.schema, &key)? {
            ctx.note_row_read()?;
            rows.push(convert(table, Ok((key, row)))?);
        }
    }
    Ok(Box::new(Buffered::new(rows)))
}

struct SeqScan<'p> {
    rows: TableRows<'p>,
}

impl Operator for SeqScan<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        let mut row = KeyedRow::default();
        if !self.rows.next_into(&mut row)? {
            return Ok(None);
        }
        ctx.note_row_read()?;
        Ok(Some(row))
    }

    fn next_batch(&mut self, ctx: &mut ExecContext<'_>, batch: &mut RowBatch) -> Result<()> {
        batch.clear();
        let read = self.rows.fill(batch)?;
        ctx.note_rows_read(read)
    }
}

/// Ranges of the primary key (`index: None`, streamed) or of a secondary index (each
/// range read into memory when reached, since the engine's index cursor borrows the
/// transaction; an index-only scan's entries are streamed, since they need no row
/// lookup through the transaction), one after another.
pub(super) struct IndexScan<'p> {
    table: &'p TableInfo,
    index: Option<IndexSchema>,
    ranges: std::vec::IntoIter<KeyBounds>,
    current: Option<RangeRows<'p>>,
    /// The columns a primary-key range decodes (a secondary index's rows are decoded
    /// whole).
    wanted: Vec<bool>,
    /// Whether a primary-key range decodes the rows' keys.
    keys: bool,
    /// Whether rows are made from the index's entries alone (`Node::IndexScan`'s
    /// `index_only`, where the entries hold every column read above).
    index_only: bool,
}

enum RangeRows<'p> {
    Streamed(Box<TableRows<'p>>),
    Buffered(Buffered),
    Entries(Box<ops::IndexEntries>),
}

impl<'p> IndexScan<'p> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn open(
        table: &'p TableInfo,
        index: Option<&str>,
        columns: &[usize],
        ranges: &[ScanRange],
        index_only: bool,
        wanted: &[bool],
        keys: bool,
        ctx: &mut ExecContext<'_>,
    ) -> Result<IndexScan<'p>> {
        let mut bounds = Vec::with_capacity(ranges.len());
        for range in ranges {
            // Equal ranges (from `IN (1, 1)`) are scanned once.
            if let Some(b) = range_bounds(table, columns, range, ctx)?
                && !bounds.contains(&b)
            {
                bounds.push(b);
            }
        }
        let index = match index {
            Some(name) => Some(table.schema.index(name)?.clone()),
            None => None,
        };
        // The planner marks a scan index-only from the same column needs the builder
        // passes here; should they ever differ, the scan reads the table instead,
        // which is slower but never wrong.
        let index_only = index_only
            && index
                .as_ref()
                .is_some_and(|index| ops::index_covers(&table.schema, index, wanted));
        Ok(IndexScan {
            table,
            index,
            ranges: bounds.into_iter(),
            current: None,
            wanted: wanted.to_vec(),
            keys,
            index_only,
        })
    }
}

impl Operator for IndexScan<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        loop {
            let row = match &mut self.current {
                Some(RangeRows::Streamed(rows)) => {
                    let mut row = KeyedRow::default();
                    rows.next_into(&mut row)?.then_some(row)
                }
                Some(RangeRows::Buffered(rows)) => rows.next(ctx)?,
                Some(RangeRows::Entries(entries)) => entries
                    .next()
                    .map(|entry| convert(self.table, entry))
                    .transpose()?,
                None => None,
            };
            if row.is_some() {
                ctx.note_row_read()?;
                return Ok(row);
            }
            let Some((lower, upper)) = self.ranges.next() else {
                return Ok(None);
            };
            let schema = &self.table.schema;
            self.current = Some(match &self.index {
                None => RangeRows::Streamed(Box::new(TableRows::open(
                    ctx.txn()?,
                    self.table,
                    &self.wanted,
                    self.keys,
                    as_ref(&lower),
                    as_ref(&upper),
                )?)),
                Some(index) if self.index_only => RangeRows::Entries(Box::new(ops::index_entries(
                    ctx.txn()?,
                    schema,
                    index,
                    as_ref(&lower),
                    as_ref(&upper),
                )?)),
                Some(index) => {
                    let rows = ops::index_scan(
                        ctx.txn()?,
                        schema,
                        index,
                        as_ref(&lower),
                        as_ref(&upper),
                        false,
                    )?
                    .map(|entry| convert(self.table, entry))
                    .collect::<Result<Vec<_>>>()?;
                    RangeRows::Buffered(Buffered::new(rows))
                }
            });
        }
    }
}

/// Evaluates key expressions for the columns at `positions`; `None` when one is NULL
/// (no row has a NULL there, since comparing with NULL is never true).
pub(super) fn key_values(
    table: &TableInfo,
    positions: &[usize],
    exprs: &[Expr],
    ctx: &mut ExecContext<'_>,
) -> Result<Option<Vec<KeyValue>>> {
    let mut key = Vec::with_capacity(exprs.len());
    for (e, position) in exprs.iter().zip(positions) {
        let value = eval(e, &[], ctx)?;
        if value.is_null() {
            return Ok(None);
        }
        let kv = value.to_key();
        let column = &table.schema.columns[*position];
        if !column.ty.admits(&kv) {
            return Err(Error::Type(format!(
                "key value {value} does not match column {:?}",
                column.name
            )));
        }
        key.push(kv);
    }
    Ok(Some(key))
}

/// The key bounds of one range; `None` when a NULL makes it empty.
pub(super) fn range_bounds(
    table: &TableInfo,
    columns: &[usize],
    range: &ScanRange,
    ctx: &mut ExecContext<'_>,
) -> Result<Option<KeyBounds>> {
    let Some(prefix) = key_values(table, columns, &range.prefix, ctx)? else {
        return Ok(None);
    };
    let next = columns.get(prefix.len()).copied();
    let mut bound = |b: &Bound<Expr>| -> Result<Option<Bound<Vec<KeyValue>>>> {
        let (e, included) = match b {
            Bound::Included(e) => (e, true),
            Bound::Excluded(e) => (e, false),
            Bound::Unbounded => return Ok(Some(Bound::Unbounded)),
        };
        let Some(position) = next else {
            return Ok(Some(Bound::Unbounded));
        };
        let Some(value) = key_values(table, &[position], std::slice::from_ref(e), ctx)? else {
            return Ok(None);
        };
        let mut key = prefix.clone();
        key.extend(value);
        Ok(Some(if included {
            Bound::Included(key)
        } else {
            Bound::Excluded(key)
        }))
    };
    let (Some(lower), Some(upper)) = (bound(&range.lower)?, bound(&range.upper)?) else {
        return Ok(None);
    };
    let ranged = !matches!((&lower, &upper), (Bound::Unbounded, Bound::Unbounded));
    // NULL sorts first in keys, and `col < x` must not return NULLs: start after them.
    let lower = match lower {
        Bound::Unbounded if ranged => {
            let mut after_null = prefix.clone();
            after_null.push(KeyValue::Null);
            Bound::Excluded(after_null)
        }
        Bound::Unbounded => Bound::Included(prefix.clone()),
        other => other,
    };
    let upper = match upper {
        Bound::Unbounded => Bound::Included(prefix),
        other => other,
    };
    Ok(Some((lower, upper)))
}

pub(super) fn as_ref(b: &Bound<Vec<KeyValue>>) -> Bound<&[KeyValue]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

pub(super) type KeyBounds = (Bound<Vec<KeyValue>>, Bound<Vec<KeyValue>>);
