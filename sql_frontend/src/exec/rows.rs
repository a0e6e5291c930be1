//! The single-table operators: scans, Filter, Project, Sort, Limit, Values — and
//! [`open`], which turns any row-producing plan node into its operator.

use std::ops::Bound;

use engine::keycode::KeyValue;
use engine::table::{IndexSchema, ops};

use super::operator::{BoxedOperator, Buffered, KeyedRow, Operator};
use super::{aggregate, join, set_operation};
use crate::catalog::TableInfo;
use crate::error::{Error, Result};
use crate::exec::ExecContext;
use crate::expr::Expr;
use crate::plan::{Node, ScanRange, SortKey};
use crate::value::Value;

pub(super) fn convert(entry: engine::Result<(Vec<KeyValue>, Vec<KeyValue>)>) -> Result<KeyedRow> {
    let (key, row) = entry?;
    let values = row
        .into_iter()
        .map(Value::from_key)
        .collect::<Result<_>>()?;
    Ok((key, values))
}

/// Opens the operator tree rooted at `plan`.
pub fn open<'p>(plan: &'p Node, ctx: &mut ExecContext<'_>) -> Result<BoxedOperator<'p>> {
    Ok(match plan {
        Node::SeqScan { table } => Box::new(SeqScan {
            scan: ops::scan(
                ctx.txn()?,
                &table.schema,
                Bound::Unbounded,
                Bound::Unbounded,
                false,
            )?,
        }),
        Node::KeyLookup { table, keys } => {
            let mut rows = Vec::with_capacity(keys.len());
            let mut seen = std::collections::HashSet::new();
            for key in keys {
                let Some(key) = key_values(table, &table.schema.primary_key, key, ctx)? else {
                    continue;
                };
                // `IN (1, 1)` names a key twice; the row is returned once.
                if !seen.insert(key.clone()) {
                    continue;
                }
                if let Some(row) = ops::get(ctx.txn()?, &table.schema, &key)? {
                    rows.push(convert(Ok((key, row)))?);
                }
            }
            Box::new(Buffered::new(rows))
        }
        Node::IndexScan {
            table,
            index,
            columns,
            ranges,
        } => Box::new(IndexScan::open(
            table,
            index.as_deref(),
            columns,
            ranges,
            ctx,
        )?),
        Node::Filter { source, predicate } => Box::new(Filter {
            source: open(source, ctx)?,
            predicate: freeze(predicate, ctx),
        }),
        Node::Project { source, exprs, .. } => Box::new(Project {
            source: open(source, ctx)?,
            exprs,
        }),
        Node::Sort { source, keys } => Box::new(Sort {
            source: Some(open(source, ctx)?),
            keys,
            sorted: Buffered::new(Vec::new()),
        }),
        Node::Limit {
            source,
            limit,
            offset,
        } => {
            let limit = count(limit.as_ref(), ctx, "LIMIT")?;
            let offset = count(offset.as_ref(), ctx, "OFFSET")?.unwrap_or(0);
            Box::new(Limit {
                source: open(source, ctx)?,
                offset,
                remaining: limit,
            })
        }
        Node::Values { rows, .. } => {
            let mut evaluated = Vec::with_capacity(rows.len());
            for row in rows {
                let values = row
                    .iter()
                    .map(|e| e.eval(&[], ctx))
                    .collect::<Result<Vec<_>>>()?;
                evaluated.push((Vec::new(), values));
            }
            Box::new(Buffered::new(evaluated))
        }
        Node::NestedLoopJoin { .. } | Node::HashJoin { .. } | Node::IndexNestedLoopJoin { .. } => {
            join::open(plan, ctx)?
        }
        Node::Aggregate { .. } | Node::Distinct { .. } => aggregate::open(plan, ctx)?,
        Node::SetOperation { .. } => set_operation::open(plan, ctx)?,
    })
}

struct SeqScan {
    scan: ops::RowScan,
}

impl Operator for SeqScan {
    fn next(&mut self, _ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        self.scan.next().map(convert).transpose()
    }
}

/// Ranges of the primary key (`index: None`, streamed) or of a secondary index (each
/// range read into memory when reached, since the engine's index cursor borrows the
/// transaction), one after another.
pub(super) struct IndexScan<'p> {
    table: &'p TableInfo,
    index: Option<IndexSchema>,
    ranges: std::vec::IntoIter<KeyBounds>,
    current: Option<RangeRows>,
}

enum RangeRows {
    Streamed(Box<ops::RowScan>),
    Buffered(Buffered),
}

impl<'p> IndexScan<'p> {
    pub(super) fn open(
        table: &'p TableInfo,
        index: Option<&str>,
        columns: &[usize],
        ranges: &[ScanRange],
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
        Ok(IndexScan {
            table,
            index,
            ranges: bounds.into_iter(),
            current: None,
        })
    }
}

impl Operator for IndexScan<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        loop {
            let row = match &mut self.current {
                Some(RangeRows::Streamed(scan)) => scan.next().map(convert).transpose()?,
                Some(RangeRows::Buffered(rows)) => rows.next(ctx)?,
                None => None,
            };
            if row.is_some() {
                return Ok(row);
            }
            let Some((lower, upper)) = self.ranges.next() else {
                return Ok(None);
            };
            let schema = &self.table.schema;
            self.current = Some(match &self.index {
                None => RangeRows::Streamed(Box::new(ops::scan(
                    ctx.txn()?,
                    schema,
                    as_ref(&lower),
                    as_ref(&upper),
                    false,
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
                    .map(convert)
                    .collect::<Result<Vec<_>>>()?;
                    RangeRows::Buffered(Buffered::new(rows))
                }
            });
        }
    }
}

struct Filter<'p> {
    source: BoxedOperator<'p>,
    predicate: std::borrow::Cow<'p, Expr>,
}

/// `e` with its row-independent parts that the planner could not fold (they read
/// parameters or the clock, like `CURRENT_DATE - INTERVAL '7 days'`) evaluated once,
/// here, instead of once per row. Borrowed unchanged when there is nothing to evaluate.
fn freeze<'p>(e: &'p Expr, ctx: &mut ExecContext<'_>) -> std::borrow::Cow<'p, Expr> {
    let foldable = |e: &Expr| {
        !matches!(
            e,
            Expr::Literal(_) | Expr::Param(_) | Expr::OuterColumn { .. }
        ) && e.is_constant()
            && !e.reads_outer()
    };
    if !e.any(&foldable) {
        return std::borrow::Cow::Borrowed(e);
    }
    let mut frozen = e.clone();
    freeze_in_place(&mut frozen, &foldable, ctx);
    std::borrow::Cow::Owned(frozen)
}

fn freeze_in_place(e: &mut Expr, foldable: &dyn Fn(&Expr) -> bool, ctx: &mut ExecContext<'_>) {
    if foldable(e) {
        if let Ok(value) = e.eval(&[], ctx) {
            *e = Expr::Literal(value);
        }
        return;
    }
    let taken = std::mem::replace(e, Expr::Literal(Value::Null));
    *e = taken.map_children(&mut |mut child| {
        freeze_in_place(&mut child, foldable, ctx);
        child
    });
}

impl Operator for Filter<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        while let Some(row) = self.source.next(ctx)? {
            if self.predicate.eval(&row.1, ctx)?.truth()? == Some(true) {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }
}

struct Project<'p> {
    source: BoxedOperator<'p>,
    exprs: &'p [Expr],
}

impl Operator for Project<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        let Some((_, values)) = self.source.next(ctx)? else {
            return Ok(None);
        };
        let projected = self
            .exprs
            .iter()
            .map(|e| e.eval(&values, ctx))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((Vec::new(), projected)))
    }
}

/// Sorts its whole input on the first pull.
struct Sort<'p> {
    source: Option<BoxedOperator<'p>>,
    keys: &'p [SortKey],
    sorted: Buffered,
}

impl Operator for Sort<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if let Some(mut source) = self.source.take() {
            let mut decorated = Vec::new();
            while let Some(row) = source.next(ctx)? {
                let sort_values = self
                    .keys
                    .iter()
                    .map(|k| k.expr.eval(&row.1, ctx))
                    .collect::<Result<Vec<_>>>()?;
                decorated.push((sort_values, row));
            }
            let keys = self.keys;
            decorated.sort_by(|(a, _), (b, _)| compare_sort_values(a, b, keys));
            self.sorted = Buffered::new(decorated.into_iter().map(|(_, row)| row).collect());
        }
        self.sorted.next(ctx)
    }
}

/// Orders two rows' sort-key values by `keys` (direction and NULL placement).
pub(super) fn compare_sort_values(
    a: &[Value],
    b: &[Value],
    keys: &[SortKey],
) -> std::cmp::Ordering {
    for ((x, y), key) in a.iter().zip(b).zip(keys) {
        let ordering = x.sort_cmp(y, key.nulls_first);
        let ordering = match key.descending && !x.is_null() && !y.is_null() {
            true => ordering.reverse(),
            false => ordering,
        };
        if ordering.is_ne() {
            return ordering;
        }
    }
    std::cmp::Ordering::Equal
}

struct Limit<'p> {
    source: BoxedOperator<'p>,
    offset: usize,
    remaining: Option<usize>,
}

impl Operator for Limit<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if self.remaining == Some(0) {
            return Ok(None);
        }
        while self.offset > 0 {
            if self.source.next(ctx)?.is_none() {
                return Ok(None);
            }
            self.offset -= 1;
        }
        let row = self.source.next(ctx)?;
        if row.is_some()
            && let Some(remaining) = &mut self.remaining
        {
            *remaining -= 1;
        }
        Ok(row)
    }
}

/// A LIMIT or OFFSET value: `None` for no limit (absent or NULL).
pub(super) fn count(
    e: Option<&Expr>,
    ctx: &mut ExecContext<'_>,
    clause: &str,
) -> Result<Option<usize>> {
    let Some(e) = e else {
        return Ok(None);
    };
    match e.eval(&[], ctx)? {
        Value::Null => Ok(None),
        Value::Int(n) if n >= 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        Value::Int(_) => Err(Error::Data(format!("{clause} must not be negative"))),
        other => Err(Error::Type(format!(
            "argument of {clause} must be an integer, not {}",
            other.kind()
        ))),
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
        let value = e.eval(&[], ctx)?;
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
