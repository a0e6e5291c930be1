//! LateralJoin: `left JOIN LATERAL (subquery)` as a dependent nested loop.
//!
//! For each left row, the right side — a subquery whose plan reads the left row as its
//! outer row ([`crate::expr::Expr::OuterColumn`], as a correlated subquery in an
//! expression does) — is built and run afresh with the left row pushed on the
//! context's outer rows, its rows read whole, and the outer row popped again before
//! anything else runs. Then each right row joined to the left row is emitted where the
//! predicate holds; a LEFT join emits the left row padded with NULLs when none does.
//! Nothing is cached between left rows: each may give the subquery different rows.

use super::eval::eval;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::Result;
use crate::expr::{Expr, SubqueryId};
use crate::plan::JoinKind;
use crate::value::Value;

pub(super) struct LateralJoin<'p> {
    left: BoxedOperator<'p>,
    right: SubqueryId,
    right_width: usize,
    kind: JoinKind,
    predicate: Option<&'p Expr>,
    /// The left row being joined, and the right side's rows for it.
    current: Option<(Vec<Value>, std::vec::IntoIter<Vec<Value>>)>,
    /// Whether the current left row has joined a row yet.
    matched: bool,
}

impl<'p> LateralJoin<'p> {
    pub(super) fn new(
        left: BoxedOperator<'p>,
        right: SubqueryId,
        right_width: usize,
        kind: JoinKind,
        predicate: Option<&'p Expr>,
    ) -> LateralJoin<'p> {
        LateralJoin {
            left,
            right,
            right_width,
            kind,
            predicate,
            current: None,
            matched: false,
        }
    }
}

/// The right side's rows for `left`, the subquery run with `left` as its outer row.
fn right_rows(
    right: SubqueryId,
    left: &[Value],
    ctx: &mut ExecContext<'_>,
) -> Result<Vec<Vec<Value>>> {
    let plan = ctx.subquery(right)?;
    ctx.push_outer(left.to_vec());
    let rows = (|| {
        let mut op = ctx.open(plan)?;
        let mut rows = Vec::new();
        while let Some((_, row)) = op.next(ctx)? {
            rows.push(row);
        }
        Ok(rows)
    })();
    ctx.pop_outer();
    rows
}

impl Operator for LateralJoin<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        loop {
            ctx.tick()?;
            let Some((left, rights)) = &mut self.current else {
                let Some((_, left)) = self.left.next(ctx)? else {
                    return Ok(None);
                };
                let rights = right_rows(self.right, &left, ctx)?;
                self.current = Some((left, rights.into_iter()));
                self.matched = false;
                continue;
            };
            match rights.next() {
                Some(right) => {
                    let mut row = left.clone();
                    row.extend(right);
                    let keep = match self.predicate {
                        Some(p) => eval(p, &row, ctx)?.truth()? == Some(true),
                        None => true,
                    };
                    if keep {
                        self.matched = true;
                        return Ok(Some((Vec::new(), row)));
                    }
                }
                None => {
                    let unmatched = !self.matched && self.kind == JoinKind::Left;
                    let left = self.current.take().map(|(left, _)| left);
                    if let (true, Some(mut row)) = (unmatched, left) {
                        row.resize(row.len() + self.right_width, Value::Null);
                        return Ok(Some((Vec::new(), row)));
                    }
                }
            }
        }
    }
}
