//! Join operators. Every join streams its left input and emits, per left row, the
//! joined rows `left ++ right` for which the predicate is true; a LEFT join emits the
//! left row padded with NULLs when none is. A FULL join does that too, marks each
//! stored right row that joined some left row (a bitmap beside the stored rows), and
//! when the left input ends emits every unmarked right row, in stored order, after
//! NULLs for the left columns. It needs the right rows stored (nested-loop or hash
//! join, never an index lookup), and its hash table keeps the right rows whose key has
//! a NULL too, outside the chains, so that they are emitted unmatched.
//!
//! - **NestedLoopJoin** reads the right input into memory once, on the first pull.
//! - **HashJoin** reads the right input into a hash table keyed on its join keys
//!   ([`HashedRows`], `hashed_rows.rs`), compared as [`KeyRef`](super::keys::KeyRef)s
//!   so that values SQL calls equal hash equal; a key with a NULL is never inserted or
//!   probed (NULL = NULL is not true). Each left row probes with its key values hashed
//!   in place. The table may also be lent, built already: a Gather's threads share one.
//! - **IndexNestedLoopJoin** looks the right rows up per left row through the primary
//!   key (a point `get` when the whole key is bound) or a secondary index prefix.
//!
//! A joined row is written into a reused row, and only the columns read above the join
//! or by its predicate are copied into it (`filled`, from `plan/needs.rs`); the others
//! are NULL, so a join under an aggregate copies only what the aggregate reads.

use std::ops::Bound;

use engine::table::{IndexSchema, ops};

use super::batch::{RowBatch, assign_row_filled};
use super::buffered::collect;
use super::eval::eval;
use super::hashed_rows::{END, HashedRows, key_columns};
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use super::scan::{as_ref, convert};
use crate::catalog::TableInfo;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{JoinKind, Node};
use crate::value::Value;

/// What a join needs besides its left input: how it finds the right rows, which rows
/// it keeps, and how wide a right row is (for LEFT join padding).
pub(super) struct JoinSpec<'p> {
    pub(super) kind: JoinKind,
    pub(super) predicate: Option<&'p Expr>,
    pub(super) inner: Inner<'p>,
    pub(super) right_width: usize,
    /// How wide a left row is (for FULL join padding).
    pub(super) left_width: usize,
    /// Which columns of a joined row to fill in (the others are NULL).
    pub(super) filled: Vec<bool>,
}

/// The spec of the join `node` (a nested-loop, hash or index nested-loop join) whose
/// right rows `inner` finds, `needed` of its output columns read above: its kind and
/// predicate, and its sides' widths, are the node's.
pub(super) fn spec<'p>(node: &'p Node, inner: Inner<'p>, needed: &[bool]) -> Result<JoinSpec<'p>> {
    let (left, kind, predicate) = match node {
        Node::NestedLoopJoin {
            left,
            kind,
            predicate,
            ..
        }
        | Node::HashJoin {
            left,
            kind,
            predicate,
            ..
        }
        | Node::IndexNestedLoopJoin {
            left,
            kind,
            predicate,
            ..
        } => (left, *kind, predicate.as_ref()),
        _ => return Err(Error::unsupported("a join spec of a node that is no join")),
    };
    Ok(JoinSpec {
        kind,
        predicate,
        inner,
        right_width: node.width() - left.width(),
        left_width: left.width(),
        filled: node.join_output_needs(needed),
    })
}

/// A join of `left` by `spec`.
pub(super) fn join<'p>(left: BoxedOperator<'p>, spec: JoinSpec<'p>) -> Result<BoxedOperator<'p>> {
    if spec.kind == JoinKind::Full && matches!(spec.inner, Inner::Index { .. }) {
        return Err(Error::unsupported("FULL JOIN through an index lookup"));
    }
    Ok(Box::new(Join {
        left,
        kind: spec.kind,
        predicate: spec.predicate,
        inner: spec.inner,
        right_width: spec.right_width,
        null_left: vec![Value::Null; spec.left_width],
        filled: spec.filled,
        lefts: RowBatch::without_keys(),
        at: 0,
        active: false,
        candidates: Candidates::Stored(0..0),
        matched: false,
        right_matched: Vec::new(),
        unmatched_at: None,
    }))
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
        left_columns: key_columns(left_keys),
        rows: Hashed::Own(HashedRows::new(right_keys)),
    }
}

/// The right side of a hash join whose table `rows` is built already (from
/// `right_keys`), probed by `left_keys`.
pub(super) fn hashed_lent<'p>(
    rows: &'p HashedRows,
    left_keys: &'p [Expr],
    right_keys: &'p [Expr],
) -> Inner<'p> {
    Inner::Hash {
        source: None,
        left_keys,
        right_keys,
        left_columns: key_columns(left_keys),
        rows: Hashed::Lent(rows),
    }
}

/// A hash join's table: its own, built on the first pull, or lent, built already.
pub(super) enum Hashed<'p> {
    Own(HashedRows),
    Lent(&'p HashedRows),
}

impl Hashed<'_> {
    fn get(&self) -> &HashedRows {
        match self {
            Hashed::Own(rows) => rows,
            Hashed::Lent(rows) => rows,
        }
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
        /// The positions of the left key columns, when every key is a column.
        left_columns: Option<Vec<usize>>,
        rows: Hashed<'p>,
    },
    Index {
        table: &'p TableInfo,
        index: Option<IndexSchema>,
        columns: &'p [usize],
        keys: &'p [Expr],
    },
}

impl Inner<'_> {
    /// Reads the right input, the first time; `keep_unkeyed`: store the rows whose
    /// hash key has a NULL too (outside the chains), for a FULL join.
    fn build(&mut self, ctx: &mut ExecContext<'_>, keep_unkeyed: bool) -> Result<()> {
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
                ..
            } => {
                if let (Some(mut op), Hashed::Own(rows)) = (source.take(), rows) {
                    rows.build(op.as_mut(), right_keys, keep_unkeyed, ctx)?;
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
                left_columns,
                rows,
                ..
            } => {
                let rows = rows.get();
                let found = match left_columns {
                    // The usual case: the keys are the left row's columns, read in place.
                    Some(cols) if cols.iter().all(|&c| c < left.len()) => {
                        if cols.iter().any(|&c| left[c].is_null()) {
                            return Ok(Candidates::Stored(0..0));
                        }
                        rows.first_match(cols.iter().map(|&c| &left[c]), cols.len())
                    }
                    _ => {
                        let Some(key) = probe_key(left_keys, left, ctx)? else {
                            return Ok(Candidates::Stored(0..0));
                        };
                        rows.first_match(key.iter().map(|v| v.as_ref()), key.len())
                    }
                };
                Ok(match found {
                    Some(first) => Candidates::Chain(first),
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
                            Some(row) => vec![convert(table, Ok((prefix, row)))?],
                            None => Vec::new(),
                        }
                    }
                    None => {
                        let bound = Bound::Included(prefix);
                        ops::scan(ctx.txn()?, schema, as_ref(&bound), as_ref(&bound), false)?
                            .map(|entry| convert(table, entry))
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
                        .map(|entry| convert(table, entry))
                        .collect::<Result<Vec<_>>>()?
                    }
                };
                let rows: Vec<Vec<Value>> = rows.into_iter().map(|(_, values)| values).collect();
                Ok(Candidates::Owned(rows.into_iter()))
            }
        }
    }

    /// The position of the row after `position` in its hash join chain ([`END`]: none).
    fn chained(&self, position: usize) -> usize {
        match self {
            Inner::Hash { rows, .. } => rows.get().chained(position),
            Inner::All { .. } | Inner::Index { .. } => END,
        }
    }

    /// How many right rows are stored (nested-loop and hash joins).
    fn stored_len(&self) -> usize {
        match self {
            Inner::All { rows, .. } => rows.len(),
            Inner::Hash { rows, .. } => rows.get().len(),
            Inner::Index { .. } => 0,
        }
    }

    /// The stored right row at `position` (nested-loop and hash joins).
    fn stored(&self, position: usize) -> Option<&[Value]> {
        match self {
            Inner::All { rows, .. } => rows.get(position).map(Vec::as_slice),
            Inner::Hash { rows, .. } => rows.get().row(position),
            Inner::Index { .. } => None,
        }
    }
}

/// The right rows left to try for the current left row: positions of stored rows, or
/// rows looked up for it.
enum Candidates {
    Stored(std::ops::Range<usize>),
    /// The rows of a hash join's chain, from this position on ([`END`]: none left).
    Chain(usize),
    Owned(std::vec::IntoIter<Vec<Value>>),
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
    /// NULLs as wide as a left row (a FULL join's unmatched right rows follow them).
    null_left: Vec<Value>,
    /// Which columns of a joined row to fill in (the others are NULL).
    filled: Vec<bool>,
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
    /// FULL join: per stored right row, whether it has joined a left row.
    right_matched: Vec<bool>,
    /// FULL join, once the left input has ended: the next stored right row to
    /// consider emitting unmatched.
    unmatched_at: Option<usize>,
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
        let full = self.kind == JoinKind::Full;
        self.inner.build(ctx, full)?;
        if full && self.right_matched.len() != self.inner.stored_len() {
            self.right_matched = vec![false; self.inner.stored_len()];
        }
        loop {
            if let Some(position) = self.unmatched_at {
                return self.unmatched_right(position, out);
            }
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
                        if full {
                            self.unmatched_at = Some(0);
                            continue;
                        }
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
                Candidates::Chain(next) => match *next {
                    END => None,
                    position => {
                        *next = self.inner.chained(position);
                        Some(Candidate::Stored(position))
                    }
                },
                Candidates::Owned(rows) => rows.next().map(Candidate::Owned),
            };
            ctx.tick()?;
            match next {
                Some(candidate) => {
                    let right = match &candidate {
                        Candidate::Stored(position) => self.inner.stored(*position).unwrap_or(&[]),
                        Candidate::Owned(row) => row.as_slice(),
                    };
                    assign_row_filled(out, &[left, right], &self.filled);
                    let keep = match self.predicate {
                        Some(p) => eval(p, out, ctx)?.truth()? == Some(true),
                        None => true,
                    };
                    if keep {
                        self.matched = true;
                        if let (true, Candidate::Stored(position)) = (full, &candidate) {
                            self.right_matched[*position] = true;
                        }
                        return Ok(true);
                    }
                }
                None => {
                    let unmatched = !self.matched && self.kind != JoinKind::Inner;
                    self.active = false;
                    self.at += 1;
                    if unmatched {
                        assign_row_filled(out, &[left], &self.filled);
                        out.resize(left.len() + self.right_width, Value::Null);
                        return Ok(true);
                    }
                }
            }
        }
    }
}

impl Join<'_> {
    /// A FULL join after its left input: writes the first stored right row from
    /// `position` on that joined no left row, after NULLs for the left columns.
    fn unmatched_right(&mut self, position: usize, out: &mut Vec<Value>) -> Result<bool> {
        let next = (position..self.right_matched.len()).find(|&p| !self.right_matched[p]);
        let Some(p) = next else {
            self.unmatched_at = Some(self.right_matched.len());
            return Ok(false);
        };
        self.unmatched_at = Some(p + 1);
        let right = self.inner.stored(p).unwrap_or(&[]);
        assign_row_filled(out, &[&self.null_left, right], &self.filled);
        Ok(true)
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
