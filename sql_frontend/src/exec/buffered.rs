//! Rows already computed (key lookups, sorted input, ...), handed out in order, and
//! [`collect`], which pulls every row of an operator.

use super::batch::RowBatch;
use super::operator::{ExecContext, KeyedRow, Operator};
use crate::error::Result;

/// Rows already computed (key lookups, sorted input, ...), handed out in order.
pub struct Buffered {
    rows: std::vec::IntoIter<KeyedRow>,
}

impl Buffered {
    pub fn new(rows: Vec<KeyedRow>) -> Buffered {
        Buffered {
            rows: rows.into_iter(),
        }
    }
}

impl Operator for Buffered {
    fn next(&mut self, _ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        Ok(self.rows.next())
    }
}

/// Pulls every row of `op`.
pub fn collect(op: &mut dyn Operator, ctx: &mut ExecContext<'_>) -> Result<Vec<KeyedRow>> {
    let mut rows = Vec::new();
    let mut batch = RowBatch::new();
    loop {
        op.next_batch(ctx, &mut batch)?;
        if batch.is_empty() {
            return Ok(rows);
        }
        rows.extend((0..batch.len()).map(|i| batch.take(i)));
    }
}
