//! Limit: skips OFFSET rows, then returns at most LIMIT rows, and stops pulling its input
//! once it has.

use super::eval::eval;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::value::Value;

pub(super) struct Limit<'p> {
    source: BoxedOperator<'p>,
    offset: usize,
    remaining: Option<usize>,
}

impl Operator for Limit<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if self.remaining == Some(0) {
            return Ok(None);
        }
        while self.offset > 0 {
            if self.source.next(ctx)?.is_none() {
                return Ok(None);
            }
            self.offset -= 1;
        }
        let row = self.source.next(ctx)?;
        if row.is_some()
            && let Some(remaining) = &mut self.remaining
        {
            *remaining -= 1;
        }
        Ok(row)
    }
}

impl<'p> Limit<'p> {
    /// Limits `source` by the LIMIT and OFFSET expressions, evaluated now.
    pub(super) fn new(
        source: BoxedOperator<'p>,
        limit: Option<&Expr>,
        offset: Option<&Expr>,
        ctx: &mut ExecContext<'_>,
    ) -> Result<Limit<'p>> {
        Ok(Limit {
            source,
            offset: count(offset, ctx, "OFFSET")?.unwrap_or(0),
            remaining: count(limit, ctx, "LIMIT")?,
        })
    }
}

/// A LIMIT or OFFSET value: `None` for no limit (absent or NULL).
pub(super) fn count(
    e: Option<&Expr>,
    ctx: &mut ExecContext<'_>,
    clause: &str,
) -> Result<Option<usize>> {
    let Some(e) = e else {
        return Ok(None);
    };
    match eval(e, &[], ctx)? {
        Value::Null => Ok(None),
        Value::Int(n) if n >= 0 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        Value::Int(_) => Err(Error::Data(format!("{clause} must not be negative"))),
        other => Err(Error::Type(format!(
            "argument of {clause} must be an integer, not {}",
            other.kind()
        ))),
    }
}
