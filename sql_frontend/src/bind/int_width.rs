//! Which integer expressions are PostgreSQL's int2/int4 rather than int8.
//!
//! hdb computes every integer in 64 bits (`value.rs`), so a bound expression's kind says
//! only "integer". One answer depends on the width PostgreSQL would have given it: `sum`
//! of an int2 or int4 is a bigint, `sum` of an int8 is NUMERIC (`bind/aggregate.rs`).
//! So the binder tracks, beside each column's kind, whether it is *narrow*: a SMALLINT
//! or INTEGER column of a table, and what PostgreSQL's rules keep narrow on top of such
//! columns — literals of 32 bits, `+ - * / %` of narrow operands, casts to SMALLINT or
//! INTEGER, CASE / COALESCE / NULLIF / GREATEST / LEAST / abs of narrow values, and the
//! columns of a derived table, view, WITH query or set operation whose outputs are
//! narrow ([`narrow_outputs`], read off the bound plan). Anything else is wide: a BIGINT
//! column, `count(*)`, a `sum`, another function's result, a column of a recursive
//! WITH query.

use crate::expr::{BinaryOp, Expr, UnaryOp};
use crate::functions::Function;
use crate::plan::{AggregateFunction, Node};
use crate::types::SqlType;
use crate::value::Value;

/// Whether `ty` is PostgreSQL's int2 or int4.
pub(super) fn narrow_type(ty: SqlType) -> bool {
    matches!(ty, SqlType::SmallInt | SqlType::Integer)
}

/// Whether `e`, over input columns whose narrowness is `columns`, is a narrow integer.
pub(super) fn is_narrow(e: &Expr, columns: &[bool]) -> bool {
    match e {
        Expr::Column { index, .. } => columns.get(*index).copied().unwrap_or(false),
        Expr::Literal(Value::Int(i)) => i32::try_from(*i).is_ok(),
        Expr::Unary(UnaryOp::Neg | UnaryOp::Plus, e) => is_narrow(e, columns),
        Expr::Binary(
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod,
            l,
            r,
        ) => is_narrow(l, columns) && is_narrow(r, columns),
        Expr::Cast { to, .. } => narrow_type(*to),
        Expr::Case {
            branches,
            otherwise,
            ..
        } => {
            branches.iter().all(|(_, then)| is_narrow(then, columns))
                && otherwise.as_ref().is_none_or(|e| is_narrow(e, columns))
        }
        Expr::Call { function, args } => match function {
            Function::Coalesce | Function::Greatest | Function::Least | Function::Abs => {
                args.iter().all(|a| is_narrow(a, columns))
            }
            Function::NullIf => args.first().is_some_and(|a| is_narrow(a, columns)),
            _ => false,
        },
        _ => false,
    }
}

/// The narrowness of each output column of `plan`.
pub(super) fn narrow_outputs(plan: &Node) -> Vec<bool> {
    let table = |columns: &[crate::catalog::ColumnInfo]| -> Vec<bool> {
        columns.iter().map(|c| narrow_type(c.sql_type)).collect()
    };
    match plan {
        Node::SeqScan { table: t }
        | Node::KeyLookup { table: t, .. }
        | Node::IndexScan { table: t, .. } => table(&t.columns),
        Node::SystemScan { relation, .. } => relation
            .columns()
            .iter()
            .map(|(_, ty)| narrow_type(*ty))
            .collect(),
        Node::Filter { source, .. }
        | Node::Sort { source, .. }
        | Node::Limit { source, .. }
        | Node::Distinct { source }
        | Node::Gather { source, .. }
        | Node::DistinctOn { source, .. } => narrow_outputs(source),
        Node::Project { source, exprs, .. } => {
            let inner = narrow_outputs(source);
            exprs.iter().map(|e| is_narrow(e, &inner)).collect()
        }
        Node::NestedLoopJoin { left, right, .. } | Node::HashJoin { left, right, .. } => {
            let mut out = narrow_outputs(left);
            out.extend(narrow_outputs(right));
            out
        }
        Node::IndexNestedLoopJoin { left, table: t, .. } => {
            let mut out = narrow_outputs(left);
            out.extend(table(&t.columns));
            out
        }
        Node::LateralJoin {
            left,
            right_columns,
            ..
        } => {
            let mut out = narrow_outputs(left);
            out.extend(right_columns.iter().map(|_| false));
            out
        }
        Node::Aggregate {
            source,
            group_by,
            aggregates,
        } => {
            let inner = narrow_outputs(source);
            let mut out: Vec<bool> = group_by.iter().map(|e| is_narrow(e, &inner)).collect();
            out.extend(aggregates.iter().map(|a| match a.function {
                // min and max keep their argument's type; the others are bigint or wider.
                AggregateFunction::Min | AggregateFunction::Max => {
                    a.arg.as_ref().is_some_and(|e| is_narrow(e, &inner))
                }
                _ => false,
            }));
            out
        }
        Node::Window { source, calls } => {
            let mut out = narrow_outputs(source);
            out.extend(calls.iter().map(|_| false));
            out
        }
        Node::SetOperation { left, right, .. } => narrow_outputs(left)
            .into_iter()
            .zip(narrow_outputs(right))
            .map(|(l, r)| l && r)
            .collect(),
        Node::Values { rows, columns } => (0..columns.len())
            .map(|i| {
                rows.iter()
                    .all(|row| row.get(i).is_some_and(|e| is_narrow(e, &[])))
            })
            .collect(),
        Node::GenerateSeries { start, stop, .. } => {
            vec![is_narrow(start, &[]) && is_narrow(stop, &[])]
        }
        Node::RecursiveUnion { base, .. } => narrow_outputs(base),
        Node::CteScan { columns, .. } | Node::WorkTableScan { columns, .. } => {
            vec![false; columns.len()]
        }
    }
}
