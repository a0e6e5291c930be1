//! Join operators. Every join streams its left input and emits, per left row, the
//! joined rows `left ++ right` for which the predicate is true; a LEFT join emits the
//! left row padded with NULLs when none is.
//!
//! - **NestedLoopJoin** reads the right input into memory once, on the first pull.
//! - **HashJoin** reads the right input into a hash table keyed on its join keys,
//!   normalised by [`hash_key`] so that values SQL calls equal hash equal; a key with a
//!   NULL is never inserted or probed (NULL = NULL is not true).
//! - **IndexNestedLoopJoin** looks the right rows up per left row through the primary
//!   key (a point `get` when the whole key is bound) or a secondary index prefix.

use std::collections::HashMap;
use std::ops::Bound;

use engine::keycode::KeyValue;
use engine::table::{IndexSchema, ops};

use super::operator::{BoxedOperator, KeyedRow, Operator, collect};
use super::rows::{as_ref, convert, open as open_plan};
use crate::catalog::TableInfo;
use crate::error::Result;
use crate::exec::ExecContext;
use crate::expr::Expr;
use crate::plan::{JoinKind, Node};
use crate::value::Value;

/// The hash-table form of a value: equal (by SQL `=`) values give equal keys, so an
/// integral float is keyed as the integer it equals.
pub(super) fn hash_key(value: &Value) -> KeyValue {
    match value {
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => KeyValue::Int(*f as i64),
        other => other.to_key(),
    }
}

/// Opens a join node.
pub(super) fn open<'p>(plan: &'p Node, ctx: &mut ExecContext<'_>) -> Result<BoxedOperator<'p>> {
    let right_width = match plan {
        Node::NestedLoopJoin { right, .. } | Node::HashJoin { right, .. } => right.columns().len(),
        Node::IndexNestedLoopJoin { table, .. } => table.columns.len(),
        _ => 0,
    };
    let (left, kind, predicate, inner) = match plan {
        Node::NestedLoopJoin {
            left,
            right,
            kind,
            predicate,
        } => (
            left,
            *kind,
            predicate.as_ref(),
            Inner::All {
                source: Some(right),
                rows: Vec::new(),
            },
        ),
        Node::HashJoin {
            left,
            right,
            kind,
            left_keys,
            right_keys,
            predicate,
        } => (
            left,
            *kind,
            predicate.as_ref(),
            Inner::Hash {
                source: Some(right),
                left_keys,
                right_keys,
                rows: Vec::new(),
                table: HashMap::new(),
            },
        ),
        Node::IndexNestedLoopJoin {
            left,
            table,
            index,
            columns,
            keys,
            kind,
            predicate,
        } => {
            let index = match index {
                Some(name) => Some(table.schema.index(name)?.clone()),
                None => None,
            };
            (
                left,
                *kind,
                predicate.as_ref(),
                Inner::Index {
                    table,
                    index,
                    columns,
                    keys,
                },
            )
        }
        other => {
            return Err(crate::error::Error::unsupported(format!(
                "{} as a join",
                other.to_string().lines().next().unwrap_or("node")
            )));
        }
    };
    Ok(Box::new(Join {
        left: open_plan(left, ctx)?,
        kind,
        predicate,
        inner,
        right_width,
        current: None,
        candidates: Candidates::Stored(0..0),
        matched: false,
    }))
}

/// How the right rows for a left row are found.
enum Inner<'p> {
    All {
        source: Option<&'p Node>,
        rows: Vec<Vec<Value>>,
    },
    Hash {
        source: Option<&'p Node>,
        left_keys: &'p [Expr],
        right_keys: &'p [Expr],
        rows: Vec<Vec<Value>>,
        /// Join key -> positions in `rows`.
        table: HashMap<Vec<KeyValue>, Vec<usize>>,
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
                if let Some(plan) = source.take() {
                    let mut op = open_plan(plan, ctx)?;
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
                table,
                ..
            } => {
                if let Some(plan) = source.take() {
                    let mut op = open_plan(plan, ctx)?;
                    while let Some((_, values)) = op.next(ctx)? {
                        if let Some(key) = join_key(right_keys, &values, ctx)? {
                            table.entry(key).or_default().push(rows.len());
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
                left_keys, table, ..
            } => Ok(match join_key(left_keys, left, ctx)? {
                Some(key) => match table.get(&key) {
                    Some(positions) => Candidates::Positions(positions.clone().into_iter()),
                    None => Candidates::Stored(0..0),
                },
                None => Candidates::Stored(0..0),
            }),
            Inner::Index {
                table,
                index,
                columns,
                keys,
            } => {
                let mut prefix = Vec::with_capacity(keys.len());
                for (key, column) in keys.iter().zip(columns.iter()) {
                    let value = key.eval(left, ctx)?;
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
    Positions(std::vec::IntoIter<usize>),
    Owned(std::vec::IntoIter<Vec<Value>>),
}

/// The join key of a row; `None` when a part is NULL (it joins nothing).
fn join_key(
    exprs: &[Expr],
    row: &[Value],
    ctx: &mut ExecContext<'_>,
) -> Result<Option<Vec<KeyValue>>> {
    let mut key = Vec::with_capacity(exprs.len());
    for e in exprs {
        let value = e.eval(row, ctx)?;
        if value.is_null() {
            return Ok(None);
        }
        key.push(hash_key(&value));
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
    /// The left row being joined.
    current: Option<Vec<Value>>,
    /// Its remaining right candidates.
    candidates: Candidates,
    /// Whether it has joined a row yet.
    matched: bool,
}

impl Operator for Join<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        self.inner.build(ctx)?;
        loop {
            let Some(left) = &self.current else {
                let Some((_, left)) = self.left.next(ctx)? else {
                    return Ok(None);
                };
                self.candidates = self.inner.candidates(&left, ctx)?;
                self.current = Some(left);
                self.matched = false;
                continue;
            };
            let next = match &mut self.candidates {
                Candidates::Stored(range) => range.next().map(Candidate::Stored),
                Candidates::Positions(positions) => positions.next().map(Candidate::Stored),
                Candidates::Owned(rows) => rows.next().map(Candidate::Owned),
            };
            match next {
                Some(candidate) => {
                    let right = match &candidate {
                        Candidate::Stored(position) => self.inner.stored(*position).unwrap_or(&[]),
                        Candidate::Owned(row) => row.as_slice(),
                    };
                    let mut joined = Vec::with_capacity(left.len() + right.len());
                    joined.extend_from_slice(left);
                    joined.extend_from_slice(right);
                    let keep = match self.predicate {
                        Some(p) => p.eval(&joined, ctx)?.truth()? == Some(true),
                        None => true,
                    };
                    if keep {
                        self.matched = true;
                        return Ok(Some((Vec::new(), joined)));
                    }
                }
                None => {
                    let unmatched = !self.matched && self.kind == JoinKind::Left;
                    let Some(mut left) = self.current.take() else {
                        continue;
                    };
                    if unmatched {
                        left.extend(std::iter::repeat_n(Value::Null, self.right_width));
                        return Ok(Some((Vec::new(), left)));
                    }
                }
            }
        }
    }
}
