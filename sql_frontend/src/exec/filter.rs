//! Filter: the rows for which the predicate is true (not false, not unknown).

use std::borrow::Cow;

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
}
