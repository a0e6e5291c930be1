//! Sort: reads its whole input on the first pull (by batches), then returns it ordered by the sort
//! keys (direction and NULL placement per key; a stable sort, so equal rows keep their
//! input order). Keys that are columns of the row (the usual case) are compared in
//! place; otherwise each row's key values are computed once and sorted beside it.

use super::batch::RowBatch;
use super::buffered::Buffered;
use super::eval::eval;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::Result;
use crate::expr::Expr;
use crate::plan::SortKey;
use crate::value::Value;

/// Sorts its whole input on the first pull.
pub(super) struct Sort<'p> {
    source: Option<BoxedOperator<'p>>,
    keys: &'p [SortKey],
    sorted: Buffered,
}

impl Operator for Sort<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if let Some(mut source) = self.source.take() {
            let mut rows = Vec::new();
            let mut batch = RowBatch::new();
            loop {
                source.next_batch(ctx, &mut batch)?;
                if batch.is_empty() {
                    break;
                }
                rows.extend((0..batch.len()).map(|i| batch.take(i)));
            }
            let keys = self.keys;
            // Keys that are columns are compared in place; others are computed once
            // per row, beside it.
            let columns: Option<Vec<usize>> = keys
                .iter()
                .map(|k| match &k.expr {
                    Expr::Column { index, .. } if rows.iter().all(|r| *index < r.1.len()) => {
                        Some(*index)
                    }
                    _ => None,
                })
                .collect();
            let sorted = match columns {
                Some(columns) => {
                    rows.sort_by(|(_, a), (_, b)| compare_columns(a, b, &columns, keys));
                    rows
                }
                None => {
                    let mut decorated = Vec::with_capacity(rows.len());
                    for row in rows {
                        let sort_values = keys
                            .iter()
                            .map(|k| eval(&k.expr, &row.1, ctx))
                            .collect::<Result<Vec<_>>>()?;
                        decorated.push((sort_values, row));
                    }
                    decorated.sort_by(|(a, _), (b, _)| compare_sort_values(a, b, keys));
                    decorated.into_iter().map(|(_, row)| row).collect()
                }
            };
            // The sort itself is not interruptible: a cancel during it is seen here.
            ctx.interrupt().check()?;
            self.sorted = Buffered::new(sorted);
        }
        self.sorted.next(ctx)
    }
}

/// Orders two rows by the sort keys, which are their columns `columns`.
fn compare_columns(
    a: &[Value],
    b: &[Value],
    columns: &[usize],
    keys: &[SortKey],
) -> std::cmp::Ordering {
    for (&i, key) in columns.iter().zip(keys) {
        let ordering = compare_key(&a[i], &b[i], key);
        if ordering.is_ne() {
            return ordering;
        }
    }
    std::cmp::Ordering::Equal
}

/// Orders two values of one sort key (direction and NULL placement).
fn compare_key(x: &Value, y: &Value, key: &SortKey) -> std::cmp::Ordering {
    let ordering = x.sort_cmp(y, key.nulls_first);
    match key.descending && !x.is_null() && !y.is_null() {
        true => ordering.reverse(),
        false => ordering,
    }
}

/// Orders two rows' sort-key values by `keys` (direction and NULL placement).
pub(super) fn compare_sort_values(
    a: &[Value],
    b: &[Value],
    keys: &[SortKey],
) -> std::cmp::Ordering {
    for ((x, y), key) in a.iter().zip(b).zip(keys) {
        let ordering = compare_key(x, y, key);
        if ordering.is_ne() {
            return ordering;
        }
    }
    std::cmp::Ordering::Equal
}

impl<'p> Sort<'p> {
    pub(super) fn new(source: BoxedOperator<'p>, keys: &'p [SortKey]) -> Sort<'p> {
        Sort {
            source: Some(source),
            keys,
            sorted: Buffered::new(Vec::new()),
        }
    }
}
