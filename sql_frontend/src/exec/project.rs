//! Project: one output row per input row, computed by the projection's expressions.

use super::eval::eval;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::Result;
use crate::expr::Expr;

pub(super) struct Project<'p> {
    pub(super) source: BoxedOperator<'p>,
    pub(super) exprs: &'p [Expr],
}

impl Operator for Project<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        let Some((_, values)) = self.source.next(ctx)? else {
            return Ok(None);
        };
        let projected = self
            .exprs
            .iter()
            .map(|e| eval(e, &values, ctx))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((Vec::new(), projected)))
    }
}
