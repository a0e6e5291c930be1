//! Sort: reads its whole input on the first pull (by batches), then returns it ordered by the sort
//! keys (direction and NULL placement per key; a stable sort, so equal rows keep their
//! input order).

use super::batch::RowBatch;
use super::buffered::Buffered;
use super::eval::eval;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::Result;
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
            let mut decorated = Vec::new();
            let mut batch = RowBatch::new();
            loop {
                source.next_batch(ctx, &mut batch)?;
                if batch.is_empty() {
                    break;
                }
                for i in 0..batch.len() {
                    let row = batch.take(i);
                    let sort_values = self
                        .keys
                        .iter()
                        .map(|k| eval(&k.expr, &row.1, ctx))
                        .collect::<Result<Vec<_>>>()?;
                    decorated.push((sort_values, row));
                }
            }
            let keys = self.keys;
            decorated.sort_by(|(a, _), (b, _)| compare_sort_values(a, b, keys));
            // The sort itself is not interruptible: a cancel during it is seen here.
            ctx.interrupt().check()?;
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

impl<'p> Sort<'p> {
    pub(super) fn new(source: BoxedOperator<'p>, keys: &'p [SortKey]) -> Sort<'p> {
        Sort {
            source: Some(source),
            keys,
            sorted: Buffered::new(Vec::new()),
        }
    }
}
