//! Join operators. Every join streams its left input and emits, per left row, the
//! joined rows `left ++ right` for which the predicate is true; a LEFT join emits the
//! left row padded with NULLs when none is.
//!
//! - **NestedLoopJoin** reads the right input into memory once, on the first pull.
//! - **HashJoin** reads the right input into a hash table keyed on its join keys,
//!   compared as [`KeyRef`](super::keys::KeyRef)s so that values SQL calls equal hash equal; a key with a
//!   NULL is never inserted or probed (NULL = NULL is not true). Right rows with one
//!   key form a bucket (the key's values and the rows' positions); the table holds
//!   bucket numbers, probed with the left row's key values hashed in place, so a probe
//!   allocates nothing when the keys are columns.
//! - **IndexNestedLoopJoin** looks the right rows up per left row through the primary
//!   key (a point `get` when the whole key is bound) or a secondary index prefix.

use std::ops::Bound;

use engine::table::{IndexSchema, ops};

use super::batch::{RowBatch, assign_row};
use super::buffered::collect;
use super::eval::eval;
use super::keys::{HashTable, KeyHasher, same_key};
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use super::scan::{as_ref, convert};
use crate::catalog::TableInfo;
use crate::error::Result;
use crate::expr::Expr;
use crate::plan::JoinKind;
use crate::value::Value;

/// What a join needs besides its left input: how it finds the right rows, which rows
/// it keeps, and how wide a right row is (for LEFT join padding).
pub(super) struct JoinSpec<'p> {
    pub(super) kind: JoinKind,
    pub(super) predicate: Option<&'p Expr>,
    pub(super) inner: Inner<'p>,
    pub(super) right_width: usize,
}

/// A join of `left` by `spec`.
pub(super) fn join<'p>(left: BoxedOperator<'p>, spec: JoinSpec<'p>) -> BoxedOperator<'p> {
    Box::new(Join {
        left,
        kind: spec.kind,
        predicate: spec.predicate,
        inner: spec.inner,
        right_width: spec.right_width,
        lefts: RowBatch::without_keys(),
        at: 0,
        active: false,
        candidates: Candidates::Stored(0..0),
        matched: false,
    })
}

/// The right side of a nested-loop join: every row of `right`.
pub(super) fn all_rows(right: BoxedOperator<'_>) -> Inner<'_> {
    Inner::All {
        source: Some(right),
        rows: Vec::new(),
    }
}

/// The right side of a hash join: `right`'s rows by `right_keys`, probed by `left_keys`.
pub(super) fn hashed<'p>(
    right: BoxedOperator<'p>,
    left_keys: &'p [Expr],
    right_keys: &'p [Expr],
) -> Inner<'p> {
    Inner::Hash {
        source: Some(right),
        left_keys,
        right_keys,
        rows: Vec::new(),
        buckets: Vec::new(),
        table: HashTable::new(),
        hasher: KeyHasher::default(),
    }
}

/// The right side of an index nested-loop join: rows of `table` looked up by `keys`.
pub(super) fn looked_up<'p>(
    table: &'p TableInfo,
    index: Option<&str>,
    columns: &'p [usize],
    keys: &'p [Expr],
) -> Result<Inner<'p>> {
    let index = match index {
        Some(name) => Some(table.schema.index(name)?.clone()),
        None => None,
    };
    Ok(Inner::Index {
        table,
        index,
        columns,
        keys,
    })
}

/// How the right rows for a left row are found.
pub(super) enum Inner<'p> {
    All {
        source: Option<BoxedOperator<'p>>,
        rows: Vec<Vec<Value>>,
    },
    Hash {
        source: Option<BoxedOperator<'p>>,
        left_keys: &'p [Expr],
        right_keys: &'p [Expr],
        rows: Vec<Vec<Value>>,
        /// Each join key's values and its rows' positions in `rows`.
        buckets: Vec<(Vec<Value>, Vec<usize>)>,
        /// Positions in `buckets`, by the hash of their keys.
        table: HashTable<usize>,
        hasher: KeyHasher,
    },
    Index {
        table: &'p TableInfo,
        index: Option<IndexSchema>,
        columns: &'p [usize],
        keys: &'p [Expr],
    },
}

impl Inner<'_> {
    /// Reads the right input, the first time.
    fn build(&mut self, ctx: &mut ExecContext<'_>) -> Result<()> {
        match self {
            Inner::All { source, rows } => {
                if let Some(mut op) = source.take() {
                    *rows = collect(op.as_mut(), ctx)?
                        .into_iter()
                        .map(|(_, values)| values)
                        .collect();
                }
            }
            Inner::Hash {
                source,
                right_keys,
                rows,
                buckets,
                table,
                hasher,
                ..
            } => {
                if let Some(mut op) = source.take() {
                    let mut batch = RowBatch::without_keys();
                    loop {
                        op.next_batch(ctx, &mut batch)?;
                        if batch.is_empty() {
                            break;
                        }
                        for i in 0..batch.len() {
                            let (_, values) = batch.take(i);
                            let Some(key) = join_key(right_keys, &values, ctx)? else {
                                continue;
                            };
                            let hash = hasher.hash(&key);
                            let found = table
                                .find(hash, |&b| same_keys(&buckets[b].0, &key))
                                .copied();
                            let bucket = match found {
                                Some(bucket) => bucket,
                                None => {
                                    buckets.push((key, Vec::new()));
                                    let bucket = buckets.len() - 1;
                                    table.insert_unique(hash, bucket, |&b| {
                                        hasher.hash(&buckets[b].0)
                                    });
                                    bucket
                                }
                            };
                            buckets[bucket].1.push(rows.len());
                            rows.push(values);
                        }
                    }
                }
            }
            Inner::Index { .. } => {}
        }
        Ok(())
    }

    /// The right rows that may join `left`.
    fn candidates(&self, left: &[Value], ctx: &mut ExecContext<'_>) -> Result<Candidates> {
        match self {
            Inner::All { rows, .. } => Ok(Candidates::Stored(0..rows.len())),
            Inner::Hash {
                left_keys,
                buckets,
                table,
                hasher,
                ..
            } => {
                let Some(key) = probe_key(left_keys, left, ctx)? else {
                    return Ok(Candidates::Stored(0..0));
                };
                let hash = hasher.hash(key.iter().map(|v| v.as_ref()));
                let found = table.find(hash, |&b| {
                    buckets[b].0.len() == key.len()
                        && buckets[b].0.iter().zip(&key).all(|(a, b)| same_key(a, b))
                });
                Ok(match found {
                    Some(&bucket) => Candidates::Bucket { bucket, next: 0 },
                    None => Candidates::Stored(0..0),
                })
            }
            Inner::Index {
                table,
                index,
                columns,
                keys,
            } => {
                let mut prefix = Vec::with_capacity(keys.len());
                for (key, column) in keys.iter().zip(columns.iter()) {
                    let value = eval(key, left, ctx)?;
                    if value.is_null() {
                        return Ok(Candidates::Stored(0..0));
                    }
                    let kv = value.to_key();
                    if !table.schema.columns[*column].ty.admits(&kv) {
                        // A value of another type equals no stored key.
                        return Ok(Candidates::Stored(0..0));
                    }
                    prefix.push(kv);
                }
                let schema = &table.schema;
                let rows = match index {
                    None if prefix.len() == schema.primary_key.len() => {
                        match ops::get(ctx.txn()?, schema, &prefix)? {
                            Some(row) => vec![convert(Ok((prefix, row)))?],
                            None => Vec::new(),
                        }
                    }
                    None => {
                        let bound = Bound::Included(prefix);
                        ops::scan(ctx.txn()?, schema, as_ref(&bound), as_ref(&bound), false)?
                            .map(convert)
                            .collect::<Result<Vec<_>>>()?
                    }
                    Some(index) => {
                        let bound = Bound::Included(prefix);
                        ops::index_scan(
                            ctx.txn()?,
                            schema,
                            index,
                            as_ref(&bound),
                            as_ref(&bound),
                            false,
                        )?
                        .map(convert)
                        .collect::<Result<Vec<_>>>()?
                    }
                };
                let rows: Vec<Vec<Value>> = rows.into_iter().map(|(_, values)| values).collect();
                Ok(Candidates::Owned(rows.into_iter()))
            }
        }
    }

    /// The position of the `n`th row of a hash join's `bucket`.
    fn bucket_row(&self, bucket: usize, n: usize) -> Option<usize> {
        match self {
            Inner::Hash { buckets, .. } => buckets.get(bucket)?.1.get(n).copied(),
            Inner::All { .. } | Inner::Index { .. } => None,
        }
    }

    /// The stored right row at `position` (nested-loop and hash joins).
    fn stored(&self, position: usize) -> Option<&[Value]> {
        match self {
            Inner::All { rows, .. } | Inner::Hash { rows, .. } => {
                rows.get(position).map(Vec::as_slice)
            }
            Inner::Index { .. } => None,
        }
    }
}

/// The right rows left to try for the current left row: positions of stored rows, or
/// rows looked up for it.
enum Candidates {
    Stored(std::ops::Range<usize>),
    /// The rows of a hash join's bucket, from its `next`th.
    Bucket {
        bucket: usize,
        next: usize,
    },
    Owned(std::vec::IntoIter<Vec<Value>>),
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

/// A probing row's join key, its columns borrowed from the row (the usual case) and
/// anything else evaluated; `None` when a part is NULL.
fn probe_key<'r>(
    exprs: &[Expr],
    row: &'r [Value],
    ctx: &mut ExecContext<'_>,
) -> Result<Option<Vec<std::borrow::Cow<'r, Value>>>> {
    let mut key = Vec::with_capacity(exprs.len());
    for e in exprs {
        let value = match e {
            Expr::Column { index, .. } if *index < row.len() => {
                std::borrow::Cow::Borrowed(&row[*index])
            }
            _ => std::borrow::Cow::Owned(eval(e, row, ctx)?),
        };
        if value.is_null() {
            return Ok(None);
        }
        key.push(value);
    }
    Ok(Some(key))
}

/// Whether two join keys are equal.
fn same_keys(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_key(a, b))
}

enum Candidate {
    Stored(usize),
    Owned(Vec<Value>),
}

struct Join<'p> {
    left: BoxedOperator<'p>,
    kind: JoinKind,
    predicate: Option<&'p Expr>,
    inner: Inner<'p>,
    right_width: usize,
    /// Left rows read: one when pulled a row at a time, a batch when pulled by batches.
    lefts: RowBatch,
    /// The left row being joined (or next to be), in `lefts`.
    at: usize,
    /// Whether `lefts[at]` is being joined (its candidates are set).
    active: bool,
    /// Its remaining right candidates.
    candidates: Candidates,
    /// Whether it has joined a row yet.
    matched: bool,
}

impl Join<'_> {
    /// Writes the next joined row into `out` (reusing its buffers); `false` at the end.
    /// `batched`: read the left input by batches rather than a row at a time.
    fn step(
        &mut self,
        ctx: &mut ExecContext<'_>,
        batched: bool,
        out: &mut Vec<Value>,
    ) -> Result<bool> {
        self.inner.build(ctx)?;
        loop {
            if !self.active {
                if self.at >= self.lefts.len() {
                    match batched {
                        true => self.left.next_batch(ctx, &mut self.lefts)?,
                        false => {
                            self.lefts.clear();
                            if let Some(row) = self.left.next(ctx)? {
                                self.lefts.push(row);
                            }
                        }
                    }
                    self.at = 0;
                    if self.lefts.is_empty() {
                        return Ok(false);
                    }
                }
                let left = &self.lefts.rows()[self.at].1;
                self.candidates = self.inner.candidates(left, ctx)?;
                self.active = true;
                self.matched = false;
                continue;
            }
            let left = &self.lefts.rows()[self.at].1;
            let next = match &mut self.candidates {
                Candidates::Stored(range) => range.next().map(Candidate::Stored),
                Candidates::Bucket { bucket, next } => {
                    let position = self.inner.bucket_row(*bucket, *next);
                    *next += 1;
                    position.map(Candidate::Stored)
                }
                Candidates::Owned(rows) => rows.next().map(Candidate::Owned),
            };
            ctx.tick()?;
            match next {
                Some(candidate) => {
                    let right = match &candidate {
                        Candidate::Stored(position) => self.inner.stored(*position).unwrap_or(&[]),
                        Candidate::Owned(row) => row.as_slice(),
                    };
                    assign_row(out, &[left, right]);
                    let keep = match self.predicate {
                        Some(p) => eval(p, out, ctx)?.truth()? == Some(true),
                        None => true,
                    };
                    if keep {
                        self.matched = true;
                        return Ok(true);
                    }
                }
                None => {
                    let unmatched = !self.matched && self.kind == JoinKind::Left;
                    self.active = false;
                    self.at += 1;
                    if unmatched {
                        assign_row(out, &[left]);
                        out.resize(left.len() + self.right_width, Value::Null);
                        return Ok(true);
                    }
                }
            }
        }
    }
}

impl Operator for Join<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        let mut row = Vec::new();
        Ok(self.step(ctx, false, &mut row)?.then(|| (Vec::new(), row)))
    }

    fn next_batch(&mut self, ctx: &mut ExecContext<'_>, batch: &mut RowBatch) -> Result<()> {
        batch.clear();
        while !batch.is_full() {
            let (key, row) = batch.push_slot();
            key.clear();
            if !self.step(ctx, true, row)? {
                batch.pop();
                break;
            }
        }
        Ok(())
    }
}
