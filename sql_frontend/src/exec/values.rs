//! Values: literal rows (`VALUES`, or the one empty row of a SELECT without FROM),
//! evaluated when the operator is built.

use super::buffered::Buffered;
use super::eval::eval;
use super::operator::{BoxedOperator, ExecContext};
use crate::error::Result;
use crate::expr::Expr;

/// The rows of a Values node.
pub(super) fn values<'p>(
    rows: &[Vec<Expr>],
    ctx: &mut ExecContext<'_>,
) -> Result<BoxedOperator<'p>> {
    let mut evaluated = Vec::with_capacity(rows.len());
    for row in rows {
        let values = row
            .iter()
            .map(|e| eval(e, &[], ctx))
            .collect::<Result<Vec<_>>>()?;
        evaluated.push((Vec::new(), values));
    }
    Ok(Box::new(Buffered::new(evaluated)))
}
