//! The operator model: every row-producing plan node runs as a state machine that the
//! parent pulls from with [`Operator::next`], passing the [`ExecContext`] down.
//!
//! An operator borrows its plan node (expressions are evaluated in place, never
//! cloned) but not the transaction: scans hold the engine's owned cursors and borrow
//! the transaction only inside `next`. That is what lets an expression in a Filter run a
//! correlated subquery's plan in the same transaction, once per row.

use crate::error::Result;
use crate::exec::ExecContext;
use crate::value::Value;
use engine::keycode::KeyValue;

/// A row with the primary key it was read under (empty when not read from a table).
pub type KeyedRow = (Vec<KeyValue>, Vec<Value>);

/// A pull-based row source.
pub trait Operator {
    /// The next row, or `None` when the source is exhausted (and stays so).
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>>;
}

/// An operator tree borrowing the plan it was opened from.
pub type BoxedOperator<'p> = Box<dyn Operator + 'p>;

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
    while let Some(row) = op.next(ctx)? {
        rows.push(row);
    }
    Ok(rows)
}
