//! Evaluating expressions: [`eval`] computes an expression's value for one row.
//!
//! Expressions are data (`expr.rs`); this is where they run. Operators evaluate their
//! expressions here, against their input row, with the [`ExecContext`] supplying what a
//! row does not hold: the statement's parameters, the rows of the queries enclosing a
//! correlated subquery, the statement's time, and the transaction in which a subquery's
//! plan runs.
//!
//! AND, OR, CASE and COALESCE evaluate lazily, so a branch not taken cannot fail; every
//! other operator evaluates its operands and applies `operators.rs`. CASE, CAST, LIKE
//! and function calls go through `cast.rs`, `like.rs` and `functions/`.
//!
//! ## Subqueries
//!
//! A subquery expression names one of the statement's subquery plans by id. Its plan
//! runs in the statement's transaction through the context's builder
//! ([`ExecContext::open`]), with the current row pushed as the innermost outer row (so
//! its correlated references read it), once per evaluation. An uncorrelated subquery (see
//! [`Subquery::correlated`]) runs once per statement: its rows' first values are kept in
//! the context.
//!
//! - scalar: the single value of the single row; NULL without rows; an error with more
//!   than one row (as in PostgreSQL);
//! - EXISTS: whether there is a row (only the first is pulled);
//! - IN: true if some row equals the value, else NULL if the value or some row is NULL,
//!   else false — and NOT IN the negation of that (so `x NOT IN (subquery with a NULL)`
//!   is never true).

use std::borrow::Cow;
use std::cmp::Ordering;

use super::operator::ExecContext;
use crate::cast::{cast, exact_double};
use crate::error::{Error, Result};
use crate::expr::{BinaryOp, Expr, Subquery, SubqueryKind};
use crate::functions::Function;
use crate::like::{DEFAULT_ESCAPE, escape_char, like};
use crate::operators;
use crate::value::{Value, and, not, or, truth_value};

/// Evaluates an expression that reads no row, no parameter and no subquery (a
/// constant folded at plan time, a DEFAULT).
pub fn eval_constant(expr: &Expr) -> Result<Value> {
    eval(expr, &[], &mut ExecContext::constant(&[]))
}

/// [`eval`], borrowing the value from `row` when `expr` is one of its columns.
pub fn eval_ref<'r>(
    expr: &Expr,
    row: &'r [Value],
    ctx: &mut ExecContext<'_>,
) -> Result<std::borrow::Cow<'r, Value>> {
    match expr {
        Expr::Column { index, .. } if *index < row.len() => {
            Ok(std::borrow::Cow::Borrowed(&row[*index]))
        }
        _ => eval(expr, row, ctx).map(std::borrow::Cow::Owned),
    }
}

/// Evaluates `expr` against `row` in `ctx` (parameters, transaction, outer rows).
pub fn eval(expr: &Expr, row: &[Value], ctx: &mut ExecContext<'_>) -> Result<Value> {
    match expr {
        Expr::Column { index, name } => row
            .get(*index)
            .cloned()
            .ok_or_else(|| Error::UnknownColumn(name.clone())),
        Expr::OuterColumn {
            depth, index, name, ..
        } => ctx
            .outer_column(*depth, *index)
            .cloned()
            .ok_or_else(|| Error::UnknownColumn(name.clone())),
        Expr::Subquery(subquery) => run_subquery(subquery, row, ctx),
        Expr::Literal(v) => Ok(v.clone()),
        Expr::Param(i) => ctx
            .param(*i)
            .cloned()
            .ok_or_else(|| Error::Parameter(format!("no value for parameter ${}", i + 1))),
        Expr::Unary(op, e) => operators::unary(*op, eval(e, row, ctx)?),
        Expr::Binary(BinaryOp::And, l, r) => {
            let left = eval(l, row, ctx)?.truth()?;
            if left == Some(false) {
                return Ok(Value::Bool(false));
            }
            Ok(truth_value(and(left, eval(r, row, ctx)?.truth()?)))
        }
        Expr::Binary(BinaryOp::Or, l, r) => {
            let left = eval(l, row, ctx)?.truth()?;
            if left == Some(true) {
                return Ok(Value::Bool(true));
            }
            Ok(truth_value(or(left, eval(r, row, ctx)?.truth()?)))
        }
        Expr::Binary(op, l, r) => operators::binary(*op, eval(l, row, ctx)?, eval(r, row, ctx)?),
        Expr::IsNull { expr, negated } => {
            Ok(Value::Bool(eval(expr, row, ctx)?.is_null() != *negated))
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let value = eval(expr, row, ctx)?;
            let mut found = Some(false);
            for item in list {
                let equal = value.sql_cmp(&eval(item, row, ctx)?)?;
                found = or(found, equal.map(|o| o == Ordering::Equal));
                if found == Some(true) {
                    break;
                }
            }
            Ok(truth_value(if *negated { not(found) } else { found }))
        }
        Expr::Case {
            operand,
            branches,
            otherwise,
        } => {
            let operand = match operand {
                Some(e) => Some(eval(e, row, ctx)?),
                None => None,
            };
            for (when, then) in branches {
                let when = eval(when, row, ctx)?;
                let chosen = match &operand {
                    Some(value) => value.sql_cmp(&when)? == Some(Ordering::Equal),
                    None => when.truth()? == Some(true),
                };
                if chosen {
                    return eval(then, row, ctx);
                }
            }
            match otherwise {
                Some(e) => eval(e, row, ctx),
                None => Ok(Value::Null),
            }
        }
        Expr::Cast { expr, to } => cast(eval(expr, row, ctx)?, *to),
        Expr::ExactDouble(expr) => exact_double(eval(expr, row, ctx)?),
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
            case_insensitive,
        } => {
            let text = eval(expr, row, ctx)?;
            let pattern = eval(pattern, row, ctx)?;
            let escape = match escape {
                Some(e) => match eval(e, row, ctx)? {
                    Value::Null => return Ok(Value::Null),
                    Value::Text(s) => escape_char(&s)?,
                    other => return Err(like_type_error(&other)),
                },
                None => Some(DEFAULT_ESCAPE),
            };
            match (text, pattern) {
                (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
                (Value::Text(t), Value::Text(p)) => Ok(Value::Bool(
                    like(&t, &p, escape, *case_insensitive)? != *negated,
                )),
                (Value::Text(_), other) | (other, _) => Err(like_type_error(&other)),
            }
        }
        Expr::Call {
            function: Function::Coalesce,
            args,
        } => {
            for arg in args {
                let value = eval(arg, row, ctx)?;
                if !value.is_null() {
                    return Ok(value);
                }
            }
            Ok(Value::Null)
        }
        Expr::Call { function, .. } if function.reads_clock() => {
            function.at_time(ctx.statement_time()?)
        }
        Expr::Call { function, args } => function.call(
            args.iter()
                .map(|a| eval(a, row, ctx))
                .collect::<Result<Vec<_>>>()?,
        ),
        Expr::Catalog { function, args } => {
            let args = args
                .iter()
                .map(|a| eval(a, row, ctx))
                .collect::<Result<Vec<_>>>()?;
            function.call(&*ctx.catalog()?, &args)
        }
        Expr::Sequence {
            function,
            sequence,
            args,
        } => {
            let args = args
                .iter()
                .map(|a| eval(a, row, ctx))
                .collect::<Result<Vec<_>>>()?;
            super::sequence::call(*function, sequence.as_ref(), args, ctx)
        }
    }
}

fn like_type_error(v: &Value) -> Error {
    Error::Type(format!(
        "operator does not exist: LIKE with an argument of type {}",
        v.kind()
    ))
}

/// `e` with its row-independent parts that the planner could not fold (they read
/// parameters or the clock, like `CURRENT_DATE - INTERVAL '7 days'`) evaluated once,
/// here, instead of once per row. Borrowed unchanged when there is nothing to evaluate.
pub(super) fn freeze<'p>(e: &'p Expr, ctx: &mut ExecContext<'_>) -> Cow<'p, Expr> {
    let foldable = |e: &Expr| {
        !matches!(
            e,
            Expr::Literal(_) | Expr::Param(_) | Expr::OuterColumn { .. }
        ) && e.is_constant()
            && !e.reads_outer()
    };
    if !e.any(&foldable) {
        return Cow::Borrowed(e);
    }
    let mut frozen = e.clone();
    freeze_in_place(&mut frozen, &foldable, ctx);
    Cow::Owned(frozen)
}

fn freeze_in_place(e: &mut Expr, foldable: &dyn Fn(&Expr) -> bool, ctx: &mut ExecContext<'_>) {
    if foldable(e) {
        if let Ok(value) = eval(e, &[], ctx) {
            *e = Expr::Literal(value);
        }
        return;
    }
    let taken = std::mem::replace(e, Expr::Literal(Value::Null));
    *e = taken.map_children(&mut |mut child| {
        freeze_in_place(&mut child, foldable, ctx);
        child
    });
}

/// Evaluates a subquery expression for `row` (see the module header).
fn run_subquery(subquery: &Subquery, row: &[Value], ctx: &mut ExecContext<'_>) -> Result<Value> {
    let probe = match &subquery.kind {
        SubqueryKind::In { expr, .. } => Some(eval(expr, row, ctx)?),
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
    let mut rows = ctx.open(plan)?;
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
        let mut rows = ctx.open(plan)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::UnaryOp;

    fn lit(v: impl Into<Value>) -> Expr {
        Expr::Literal(v.into())
    }

    fn null() -> Expr {
        Expr::Literal(Value::Null)
    }

    fn eval(e: &Expr) -> Result<Value> {
        eval_constant(e)
    }

    #[test]
    fn and_or_not_follow_three_valued_logic() {
        let truths = [lit(true), lit(false), null()];
        let expected_and = [
            [Value::Bool(true), Value::Bool(false), Value::Null],
            [Value::Bool(false), Value::Bool(false), Value::Bool(false)],
            [Value::Null, Value::Bool(false), Value::Null],
        ];
        let expected_or = [
            [Value::Bool(true), Value::Bool(true), Value::Bool(true)],
            [Value::Bool(true), Value::Bool(false), Value::Null],
            [Value::Bool(true), Value::Null, Value::Null],
        ];
        for (i, a) in truths.iter().enumerate() {
            for (j, b) in truths.iter().enumerate() {
                let and = Expr::binary(BinaryOp::And, a.clone(), b.clone());
                let or = Expr::binary(BinaryOp::Or, a.clone(), b.clone());
                assert_eq!(eval(&and).unwrap(), expected_and[i][j], "{and}");
                assert_eq!(eval(&or).unwrap(), expected_or[i][j], "{or}");
            }
        }
        assert_eq!(
            eval(&Expr::Unary(UnaryOp::Not, Box::new(null()))).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn comparisons_with_null_are_unknown() {
        let eq = Expr::binary(BinaryOp::Eq, null(), null());
        assert_eq!(eval(&eq).unwrap(), Value::Null);
        let is_null = Expr::IsNull {
            expr: Box::new(null()),
            negated: false,
        };
        assert_eq!(eval(&is_null).unwrap(), Value::Bool(true));
        // 1 NOT IN (2, NULL) is unknown; 1 IN (1, NULL) is true.
        let not_in = Expr::InList {
            expr: Box::new(lit(1)),
            list: vec![lit(2), null()],
            negated: true,
        };
        assert_eq!(eval(&not_in).unwrap(), Value::Null);
        let is_in = Expr::InList {
            expr: Box::new(lit(1)),
            list: vec![lit(1), null()],
            negated: false,
        };
        assert_eq!(eval(&is_in).unwrap(), Value::Bool(true));
    }

    #[test]
    fn overflow_and_division_by_zero_are_errors() {
        let add = Expr::binary(BinaryOp::Add, lit(i64::MAX), lit(1));
        assert_eq!(eval(&add), Err(Error::Data("bigint out of range".into())));
        let neg = Expr::Unary(UnaryOp::Neg, Box::new(lit(i64::MIN)));
        assert!(matches!(eval(&neg), Err(Error::Data(_))));
        let div = Expr::binary(BinaryOp::Div, lit(1), lit(0));
        assert_eq!(eval(&div), Err(Error::Data("division by zero".into())));
        let fdiv = Expr::binary(BinaryOp::Div, lit(1.0), lit(0.0));
        assert_eq!(eval(&fdiv), Err(Error::Data("division by zero".into())));
        let min_div = Expr::binary(BinaryOp::Div, lit(i64::MIN), lit(-1));
        assert!(matches!(eval(&min_div), Err(Error::Data(_))));
        let mul = Expr::binary(BinaryOp::Mul, lit(f64::MAX), lit(2.0));
        assert!(matches!(eval(&mul), Err(Error::Data(_))));
    }

    #[test]
    fn arithmetic_and_concat() {
        let e = Expr::binary(BinaryOp::Add, lit(1), lit(2.5));
        assert_eq!(eval(&e).unwrap(), Value::Float(3.5));
        let c = Expr::binary(BinaryOp::Concat, lit("a"), lit(1));
        assert_eq!(eval(&c).unwrap(), Value::Text("a1".into()));
        let n = Expr::binary(BinaryOp::Concat, lit("a"), null());
        assert_eq!(eval(&n).unwrap(), Value::Null);
        let bad = Expr::binary(BinaryOp::Add, lit("a"), lit(1));
        assert!(matches!(eval(&bad), Err(Error::Type(_))));
    }
}
