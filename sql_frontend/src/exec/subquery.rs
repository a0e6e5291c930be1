//! Evaluating a subquery expression: its plan runs in the statement's transaction with
//! the current row pushed as the innermost outer row (so its correlated references
//! read it), once per evaluation. An uncorrelated subquery (see
//! [`Subquery::correlated`]) runs once per statement: its rows' first values are kept
//! in the context.
//!
//! - scalar: the single value of the single row; NULL without rows; an error with more
//!   than one row (as in PostgreSQL);
//! - EXISTS: whether there is a row (only the first is pulled);
//! - IN: true if some row equals the value, else NULL if the value or some row is NULL,
//!   else false — and NOT IN the negation of that (so `x NOT IN (subquery with a NULL)`
//!   is never true).

use std::cmp::Ordering;

use super::rows::open;
use crate::error::{Error, Result};
use crate::exec::ExecContext;
use crate::expr::{Subquery, SubqueryKind};
use crate::value::{Value, not, or, truth_value};

/// Evaluates `subquery` for `row`.
pub fn eval(subquery: &Subquery, row: &[Value], ctx: &mut ExecContext<'_>) -> Result<Value> {
    let probe = match &subquery.kind {
        SubqueryKind::In { expr, .. } => Some(expr.eval(row, ctx)?),
        _ => None,
    };
    if !subquery.correlated {
        return uncorrelated(subquery, probe, ctx);
    }
    ctx.push_outer(row.to_vec());
    let result = run(subquery, probe, ctx);
    ctx.pop_outer();
    result
}

fn run(subquery: &Subquery, probe: Option<Value>, ctx: &mut ExecContext<'_>) -> Result<Value> {
    let plan = ctx.subquery(subquery.id)?;
    let mut rows = open(plan, ctx)?;
    match &subquery.kind {
        SubqueryKind::Scalar { .. } => {
            let Some((_, first)) = rows.next(ctx)? else {
                return Ok(Value::Null);
            };
            if rows.next(ctx)?.is_some() {
                return Err(Error::Data(
                    "more than one row returned by a subquery used as an expression".into(),
                ));
            }
            Ok(first.into_iter().next().unwrap_or(Value::Null))
        }
        SubqueryKind::Exists { negated } => Ok(Value::Bool(rows.next(ctx)?.is_some() != *negated)),
        SubqueryKind::In { negated, .. } => {
            let value = probe.unwrap_or(Value::Null);
            let mut found = Some(false);
            while let Some((_, candidate)) = rows.next(ctx)? {
                let item = candidate.first().unwrap_or(&Value::Null);
                let equal = value.sql_cmp(item)?.map(|o| o == Ordering::Equal);
                found = or(found, equal);
                if found == Some(true) {
                    break;
                }
            }
            Ok(truth_value(if *negated { not(found) } else { found }))
        }
    }
}

/// An uncorrelated subquery: its rows' first values are computed on first use and kept
/// in the context for the rest of the statement.
fn uncorrelated(
    subquery: &Subquery,
    probe: Option<Value>,
    ctx: &mut ExecContext<'_>,
) -> Result<Value> {
    let key = subquery.id;
    if ctx.cached_subquery(key).is_none() {
        let plan = ctx.subquery(key)?;
        let mut rows = open(plan, ctx)?;
        let mut values = Vec::new();
        while let Some((_, row)) = rows.next(ctx)? {
            values.push(row.into_iter().next().unwrap_or(Value::Null));
            if matches!(subquery.kind, SubqueryKind::Exists { .. }) {
                break;
            }
        }
        ctx.cache_subquery(key, values);
    }
    let values = ctx.cached_subquery(key).unwrap_or(&[]);
    match &subquery.kind {
        SubqueryKind::Scalar { .. } => match values {
            [] => Ok(Value::Null),
            [one] => Ok(one.clone()),
            _ => Err(Error::Data(
                "more than one row returned by a subquery used as an expression".into(),
            )),
        },
        SubqueryKind::Exists { negated } => Ok(Value::Bool(values.is_empty() == *negated)),
        SubqueryKind::In { negated, .. } => {
            let value = probe.unwrap_or(Value::Null);
            let mut found = Some(false);
            for item in values {
                let equal = value.sql_cmp(item)?.map(|o| o == Ordering::Equal);
                found = or(found, equal);
                if found == Some(true) {
                    break;
                }
            }
            Ok(truth_value(if *negated { not(found) } else { found }))
        }
    }
}
