//! A hash join's build side: the right input's rows in a hash table on their join keys.
//!
//! The rows' values are kept flat, one after another in one vector (`width` values a
//! row: no allocation per row, and a probe reaches a stored key's value in one step
//! from the table instead of two); rows with one key form a chain (each row's next row
//! of the same key, in input order), and the table holds each chain's first and last
//! row, found by the hash of the key. Keys that are columns are read from the stored
//! rows themselves (others are computed once per row and kept beside it), so neither
//! building nor probing copies a key, and a probe allocates nothing when the keys are
//! columns. The values are moved out of the input's batches, not copied. A row whose key has a NULL joins nothing: it is left out, or, for a
//! FULL join, stored outside the chains so that it is emitted unmatched.
//!
//! Once built, a [`HashedRows`] is only read: a Gather (`gather.rs`) builds it once and
//! lends it to every thread's join.

use super::batch::RowBatch;
use super::eval::eval;
use super::keys::{HashTable, KeyHasher, same_key};
use super::operator::{ExecContext, Operator};
use crate::error::Result;
use crate::expr::Expr;
use crate::value::Value;

/// The end of a chain.
pub(super) const END: usize = usize::MAX;

/// The stored right rows of a hash join; see the module header.
pub(super) struct HashedRows {
    /// The positions of the key columns, when every key expression is a column.
    key_columns: Option<Vec<usize>>,
    /// How many values a key has.
    key_len: usize,
    /// The rows' values, `width` per row.
    values: Vec<Value>,
    /// Values per row (set by the first row).
    width: usize,
    /// How many rows are stored.
    len: usize,
    /// Per row, its join key's values when the keys are not all columns (else empty:
    /// the key is read from the row).
    computed: Vec<Vec<Value>>,
    /// Per row, the position of the next row with the same key ([`END`]: none).
    chain: Vec<usize>,
    /// Each key's first and last row, by the hash of the key.
    table: HashTable<(usize, usize)>,
    hasher: KeyHasher,
}

impl HashedRows {
    /// No rows yet, for keys `right_keys`.
    pub(super) fn new(right_keys: &[Expr]) -> HashedRows {
        HashedRows {
            key_columns: key_columns(right_keys),
            key_len: right_keys.len(),
            values: Vec::new(),
            width: 0,
            len: 0,
            computed: Vec::new(),
            chain: Vec::new(),
            table: HashTable::new(),
            hasher: KeyHasher::default(),
        }
    }

    /// Reads `source` to its end into the table, keyed by `right_keys`;
    /// `keep_unkeyed`: store the rows whose key has a NULL too (for a FULL join).
    pub(super) fn build(
        &mut self,
        source: &mut dyn Operator,
        right_keys: &[Expr],
        keep_unkeyed: bool,
        ctx: &mut ExecContext<'_>,
    ) -> Result<()> {
        let mut batch = RowBatch::without_keys();
        loop {
            source.next_batch(ctx, &mut batch)?;
            if batch.is_empty() {
                return Ok(());
            }
            for i in 0..batch.len() {
                self.insert(batch.values_mut(i), right_keys, keep_unkeyed, ctx)?;
            }
        }
    }

    /// Moves the values of one input row (leaving `values` empty) into the table.
    fn insert(
        &mut self,
        values: &mut Vec<Value>,
        right_keys: &[Expr],
        keep_unkeyed: bool,
        ctx: &mut ExecContext<'_>,
    ) -> Result<()> {
        if self.len == 0 {
            self.width = values.len();
        } else if values.len() != self.width {
            return Err(crate::error::Error::unsupported(
                "rows of different widths on a hash join's build side",
            ));
        }
        let key = match &self.key_columns {
            Some(columns) if columns.iter().all(|&c| c < values.len()) => {
                match columns.iter().any(|&c| values[c].is_null()) {
                    true => None,
                    false => Some(Vec::new()),
                }
            }
            _ => join_key(right_keys, values, ctx)?,
        };
        let HashedRows {
            key_columns,
            key_len: _,
            values: stored_values,
            width,
            len,
            computed,
            chain,
            table,
            hasher,
        } = self;
        let Some(key) = key else {
            if keep_unkeyed {
                stored_values.append(values);
                *len += 1;
                computed.push(Vec::new());
                chain.push(END);
            }
            return Ok(());
        };
        let position = *len;
        stored_values.append(values);
        *len += 1;
        computed.push(key);
        chain.push(END);
        let stored = StoredKeys {
            values: stored_values,
            width: *width,
            computed,
            columns: key_columns.as_deref(),
        };
        let hash = hasher.hash(stored.key(position));
        let found = table.find_mut(hash, |&(first, _)| {
            stored
                .key(first)
                .zip(stored.key(position))
                .all(|(a, b)| same_key(a, b))
        });
        match found {
            Some((_, last)) => {
                chain[*last] = position;
                *last = position;
            }
            None => {
                table.insert_unique(hash, (position, position), |&(first, _)| {
                    hasher.hash(stored.key(first))
                });
            }
        }
        Ok(())
    }

    fn stored_keys(&self) -> StoredKeys<'_> {
        StoredKeys {
            values: &self.values,
            width: self.width,
            computed: &self.computed,
            columns: self.key_columns.as_deref(),
        }
    }

    /// The first row of the chain whose key equals the key made of `key` (already free
    /// of NULLs), if any.
    pub(super) fn first_match<'v>(
        &self,
        key: impl Iterator<Item = &'v Value> + Clone,
        key_len: usize,
    ) -> Option<usize> {
        let stored = self.stored_keys();
        let hash = self.hasher.hash(key.clone());
        self.table
            .find(hash, |&(first, _)| {
                key_len == self.key_len
                    && stored
                        .key(first)
                        .zip(key.clone())
                        .all(|(a, b)| same_key(a, b))
            })
            .map(|&(first, _)| first)
    }

    /// The row after `position` in its chain ([`END`]: none).
    pub(super) fn chained(&self, position: usize) -> usize {
        self.chain.get(position).copied().unwrap_or(END)
    }

    /// How many rows are stored.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The stored row at `position`.
    pub(super) fn row(&self, position: usize) -> Option<&[Value]> {
        let start = position.checked_mul(self.width)?;
        self.values.get(start..start.checked_add(self.width)?)
    }
}

/// The join key of a row; `None` when a part is NULL (it joins nothing).
fn join_key(
    exprs: &[Expr],
    row: &[Value],
    ctx: &mut ExecContext<'_>,
) -> Result<Option<Vec<Value>>> {
    let mut key = Vec::with_capacity(exprs.len());
    for e in exprs {
        let value = eval(e, row, ctx)?;
        if value.is_null() {
            return Ok(None);
        }
        key.push(value);
    }
    Ok(Some(key))
}

/// The positions of the key columns, when every key expression is a column.
pub(super) fn key_columns(exprs: &[Expr]) -> Option<Vec<usize>> {
    exprs
        .iter()
        .map(|e| match e {
            Expr::Column { index, .. } => Some(*index),
            _ => None,
        })
        .collect()
}

/// The join keys of the stored rows: read from the rows' `columns`, or kept in
/// `computed` (a row whose computed key is empty has its key in columns).
struct StoredKeys<'a> {
    values: &'a [Value],
    width: usize,
    computed: &'a [Vec<Value>],
    columns: Option<&'a [usize]>,
}

impl<'a> StoredKeys<'a> {
    /// The key values of stored row `n`.
    fn key(&self, n: usize) -> impl Iterator<Item = &'a Value> + use<'a> {
        let row = &self.values[n * self.width..(n + 1) * self.width];
        let computed = &self.computed[n];
        let columns = match self.columns {
            Some(columns) if computed.is_empty() => columns,
            _ => &[],
        };
        columns.iter().map(move |&c| &row[c]).chain(computed.iter())
    }
}
