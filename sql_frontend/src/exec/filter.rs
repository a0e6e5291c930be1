//! Filter: the rows for which the predicate is true (not false, not unknown). A batch
//! is filtered in place: the rows kept move to its front, keeping the others' buffers.

use std::borrow::Cow;

use super::batch::RowBatch;
use super::eval::{eval, freeze};
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::Result;
use crate::expr::Expr;

pub(super) struct Filter<'p> {
    source: BoxedOperator<'p>,
    predicate: Cow<'p, Expr>,
}

impl<'p> Filter<'p> {
    /// Filters `source` by `predicate`, its row-independent parts evaluated once, now.
    pub(super) fn new(
        source: BoxedOperator<'p>,
        predicate: &'p Expr,
        ctx: &mut ExecContext<'_>,
    ) -> Filter<'p> {
        Filter {
            source,
            predicate: freeze(predicate, ctx),
        }
    }
}

impl Operator for Filter<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        while let Some(row) = self.source.next(ctx)? {
            if eval(&self.predicate, &row.1, ctx)?.truth()? == Some(true) {
                return Ok(Some(row));
            }
        }
        Ok(None)
    }

    fn next_batch(&mut self, ctx: &mut ExecContext<'_>, batch: &mut RowBatch) -> Result<()> {
        loop {
            self.source.next_batch(ctx, batch)?;
            if batch.is_empty() {
                return Ok(());
            }
            let predicate = &self.predicate;
            batch.retain(|(_, row)| Ok(eval(predicate, row, ctx)?.truth()? == Some(true)))?;
            if !batch.is_empty() {
                return Ok(());
            }
        }
    }
}
