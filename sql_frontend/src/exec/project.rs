//! Project: one output row per input row, computed by the projection's expressions. A
//! batch is projected into the caller's batch, whose rows' buffers (strings included)
//! are reused; a column is copied into them, anything else evaluated.

use super::batch::{RowBatch, assign, assign_owned};
use super::eval::eval;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::Result;
use crate::expr::Expr;

pub(super) struct Project<'p> {
    source: BoxedOperator<'p>,
    exprs: &'p [Expr],
    /// The input's current batch, when pulled by batches.
    input: RowBatch,
}

impl<'p> Project<'p> {
    pub(super) fn new(source: BoxedOperator<'p>, exprs: &'p [Expr]) -> Project<'p> {
        Project {
            source,
            exprs,
            input: RowBatch::without_keys(),
        }
    }
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

    fn next_batch(&mut self, ctx: &mut ExecContext<'_>, batch: &mut RowBatch) -> Result<()> {
        self.source.next_batch(ctx, &mut self.input)?;
        batch.clear();
        for (_, row) in self.input.rows() {
            let (key, out) = batch.push_slot();
            key.clear();
            out.truncate(self.exprs.len());
            let reused = out.len();
            for (i, e) in self.exprs.iter().enumerate() {
                match (e, i < reused) {
                    (Expr::Column { index, .. }, true) if *index < row.len() => {
                        assign(&mut out[i], &row[*index]);
                    }
                    (_, true) => assign_owned(&mut out[i], eval(e, row, ctx)?),
                    (_, false) => out.push(eval(e, row, ctx)?),
                }
            }
        }
        Ok(())
    }
}
