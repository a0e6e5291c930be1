//! The execution context every operator and every expression evaluation receives.
//!
//! It carries the three things evaluation may need beyond the current row:
//!
//! - the engine **transaction** (absent when folding constants at plan time): operators
//!   open their scans through it, and a subquery inside an expression runs its own plan
//!   through it, once per evaluation;
//! - the statement's **parameter** values (`$1`, ...), already cast to their kinds;
//! - the stack of **outer rows** of correlated subqueries: while a subquery runs for a
//!   row of its enclosing query, that row is on top of the stack, and
//!   [`crate::expr::Expr::OuterColumn`] with depth 0 reads it (depth 1 reads the row of
//!   the query enclosing that one, and so on).
//!
//! It also keeps the rows of uncorrelated subqueries, computed on first use, so such a
//! subquery runs once per statement rather than once per row.
//!
//! Operators never keep the transaction between calls: each `next` borrows it from the
//! context anew, which is what lets an expression evaluated inside one operator run
//! another plan in the same transaction.

use engine::Transaction;

use crate::error::{Error, Result};
use crate::expr::SubqueryId;
use crate::plan::Node;
use crate::value::Value;

/// What running a plan or evaluating an expression needs besides the current row.
#[derive(Debug)]
pub struct ExecContext<'a> {
    txn: Option<&'a mut Transaction>,
    /// The statement's parameter values.
    pub params: &'a [Value],
    /// The statement's subqueries' operator trees, by [`SubqueryId`].
    subqueries: &'a [Node],
    outer: Vec<Vec<Value>>,
    /// First-column values of uncorrelated subqueries already run, by [`SubqueryId`].
    subquery_rows: Vec<Option<Vec<Value>>>,
    /// The statement's time (microseconds since the epoch), read from the clock the
    /// first time `now()` or CURRENT_* asks, so they agree across all rows.
    statement_time: Option<i64>,
}

impl<'a> ExecContext<'a> {
    /// A context for running a statement in `txn`, with its parameter values and the
    /// operator trees of its subqueries.
    pub fn new(
        txn: &'a mut Transaction,
        params: &'a [Value],
        subqueries: &'a [Node],
    ) -> ExecContext<'a> {
        ExecContext {
            txn: Some(txn),
            params,
            subqueries,
            outer: Vec::new(),
            subquery_rows: Vec::new(),
            statement_time: None,
        }
    }

    /// A context without a transaction, for evaluating constants (subqueries fail).
    pub fn constant(params: &'a [Value]) -> ExecContext<'a> {
        ExecContext {
            txn: None,
            params,
            subqueries: &[],
            outer: Vec::new(),
            subquery_rows: Vec::new(),
            statement_time: None,
        }
    }

    /// The statement's time: the clock read once, at the first call.
    pub fn statement_time(&mut self) -> Result<i64> {
        match self.statement_time {
            Some(t) => Ok(t),
            None => {
                let t = crate::functions::now_micros()?;
                self.statement_time = Some(t);
                Ok(t)
            }
        }
    }

    /// The transaction; an error when evaluating at plan time.
    pub fn txn(&mut self) -> Result<&mut Transaction> {
        self.txn
            .as_deref_mut()
            .ok_or_else(|| Error::unsupported("a subquery in a constant expression"))
    }

    /// Makes `row` the innermost outer row while a correlated subquery runs.
    pub fn push_outer(&mut self, row: Vec<Value>) {
        self.outer.push(row);
    }

    /// Removes the innermost outer row.
    pub fn pop_outer(&mut self) {
        self.outer.pop();
    }

    /// The operator tree of subquery `id`.
    pub fn subquery(&self, id: SubqueryId) -> Result<&'a Node> {
        self.subqueries
            .get(id.0)
            .ok_or_else(|| Error::unsupported("a subquery in a constant expression"))
    }

    /// The kept rows of the uncorrelated subquery `id`.
    pub(crate) fn cached_subquery(&self, id: SubqueryId) -> Option<&[Value]> {
        self.subquery_rows.get(id.0)?.as_deref()
    }

    /// Keeps the rows of the uncorrelated subquery `id`.
    pub(crate) fn cache_subquery(&mut self, id: SubqueryId, rows: Vec<Value>) {
        if self.subquery_rows.len() <= id.0 {
            self.subquery_rows.resize(id.0 + 1, None);
        }
        self.subquery_rows[id.0] = Some(rows);
    }

    /// Column `index` of the outer row `depth` levels out (0: the innermost).
    pub fn outer_column(&self, depth: usize, index: usize) -> Option<&Value> {
        let level = self.outer.len().checked_sub(depth + 1)?;
        self.outer.get(level)?.get(index)
    }
}
