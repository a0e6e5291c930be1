//! Values: literal rows (`VALUES`, or the one empty row of a SELECT without FROM),
//! evaluated when the operator is built.

use super::buffered::Buffered;
use super::eval::eval;
use super::operator::{BoxedOperator, ExecContext};
use crate::error::Result;
use crate::expr::Expr;
use crate::value::Value;

/// The rows of a Values node.
pub(super) fn values<'p>(
    rows: &[Vec<Expr>],
    ctx: &mut ExecContext<'_>,
) -> Result<BoxedOperator<'p>> {
    let evaluated = evaluate(rows, ctx)?
        .into_iter()
        .map(|values| (Vec::new(), values))
        .collect();
    Ok(Box::new(Buffered::new(evaluated)))
}

/// The rows of a Values node, evaluated in order (INSERT ... VALUES takes them so,
/// without an operator in between).
pub(super) fn evaluate(rows: &[Vec<Expr>], ctx: &mut ExecContext<'_>) -> Result<Vec<Vec<Value>>> {
    rows.iter()
        .map(|row| row.iter().map(|e| eval(e, &[], ctx)).collect())
        .collect()
}
