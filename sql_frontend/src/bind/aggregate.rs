//! Binding aggregate calls and the expressions of an aggregating SELECT.
//!
//! While a SELECT's list, HAVING and ORDER BY are bound, each aggregate call (`count`,
//! `sum`, `avg`, `min`, `max`, `bool_and`/`every`, `bool_or`, `string_agg`, with
//! `DISTINCT` and `count(*)`) is bound over the input
//! scope, recorded once in the binder's list, and stands in the expression as a
//! placeholder column `AGGREGATE_SLOT + j`. When the SELECT turns out to aggregate
//! (GROUP BY, an aggregate call, or HAVING), [`over_groups`] rewrites those expressions
//! to read the Aggregate node's output row — its group values, then its aggregates:
//! a subexpression equal to a GROUP BY expression becomes that group column, a
//! placeholder becomes its aggregate column, and any other input column is the error
//! PostgreSQL reports ("must appear in the GROUP BY clause").
//!
//! Result types are PostgreSQL's: `sum` of a SMALLINT or INTEGER is a bigint, `sum` of
//! a BIGINT (or of any wider integer expression) and `avg` of any integer are NUMERIC
//! (the argument is cast to NUMERIC: [`widened_argument`]), so they never overflow;
//! `sum`/`avg` of NUMERIC are NUMERIC and of a double a double.

use sqlparser::ast::{self, FunctionArg, FunctionArgExpr, FunctionArguments};

use super::Binder;
use super::expr::{Scope, is_narrow_int};
use super::window::WINDOW_SLOT;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{AggregateCall, AggregateFunction};
use crate::types::SqlType;
use crate::value::{Kind, Value};

/// Placeholder columns for aggregate `j` are numbered `AGGREGATE_SLOT + j`, far above
/// any real column; [`over_groups`] replaces every one.
const AGGREGATE_SLOT: usize = 1 << 40;

fn function(name: &str) -> Option<AggregateFunction> {
    Some(match name {
        "count" => AggregateFunction::Count,
        "sum" => AggregateFunction::Sum,
        "avg" => AggregateFunction::Avg,
        "min" => AggregateFunction::Min,
        "max" => AggregateFunction::Max,
        "bool_and" | "every" => AggregateFunction::BoolAnd,
        "bool_or" => AggregateFunction::BoolOr,
        "string_agg" => AggregateFunction::StringAgg,
        _ => return None,
    })
}

fn function_name(f: &ast::Function) -> Option<String> {
    match f.name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(id)] => Some(id.value.to_lowercase()),
        _ => None,
    }
}

/// Whether `f` calls an aggregate function.
pub(super) fn is_aggregate(f: &ast::Function) -> bool {
    function_name(f).is_some_and(|name| function(&name).is_some())
}

impl Binder<'_> {
    /// Binds an aggregate call to its placeholder column.
    pub(super) fn aggregate(&mut self, f: &ast::Function, scope: &Scope) -> Result<Expr> {
        let name = function_name(f).unwrap_or_default();
        let Some(mut function) = function(&name) else {
            return Err(Error::unsupported(format!("function {}()", f.name)));
        };
        if f.over.is_some() || !f.within_group.is_empty() {
            return Err(Error::unsupported(format!(
                "OVER or WITHIN GROUP on {name}()"
            )));
        }
        let FunctionArguments::List(list) = &f.args else {
            return Err(Error::Type(format!("{name}() takes one argument")));
        };
        if !list.clauses.is_empty() {
            return Err(Error::unsupported(format!("clauses in {name}()")));
        }
        let distinct = matches!(
            list.duplicate_treatment,
            Some(ast::DuplicateTreatment::Distinct)
        );
        let Some(mut calls) = self.aggregates.take() else {
            return Err(Error::Type(format!(
                "aggregate function {name}() is not allowed here"
            )));
        };
        let mut delimiter = None;
        let arg = match list.args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]
                if function == AggregateFunction::Count && !distinct =>
            {
                function = AggregateFunction::CountRows;
                Ok(None)
            }
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))]
                if function != AggregateFunction::StringAgg =>
            {
                self.expr(e, scope).map(Some)
            }
            [
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)),
                FunctionArg::Unnamed(FunctionArgExpr::Expr(d)),
            ] if function == AggregateFunction::StringAgg => {
                self.string_agg_delimiter(d, scope).and_then(|d| {
                    delimiter = Some(d);
                    self.expr(e, scope).map(Some)
                })
            }
            _ => Err(Error::Type(format!(
                "{name}() takes {} argument{}",
                if function == AggregateFunction::StringAgg {
                    "two"
                } else {
                    "one"
                },
                if function == AggregateFunction::StringAgg {
                    "s"
                } else {
                    ""
                },
            ))),
        };
        let arg = match arg {
            Ok(arg) => arg,
            Err(e) => {
                self.aggregates = Some(calls);
                return Err(e);
            }
        };
        let arg_kind = arg
            .as_ref()
            .map_or(Kind::Int, |a| a.kind(&scope.kinds(), &self.params));
        // PostgreSQL has no min or max of a bytea or a uuid (their values compare, but
        // no aggregate is declared for them), nor sum or avg.
        if matches!(
            function,
            AggregateFunction::Min
                | AggregateFunction::Max
                | AggregateFunction::Sum
                | AggregateFunction::Avg
        ) && matches!(arg_kind, Kind::Bytea | Kind::Uuid)
        {
            self.aggregates = Some(calls);
            return Err(Error::UnknownFunction(format!("{name}({arg_kind})")));
        }
        // bool_and, bool_or and string_agg take booleans and text (`$n` is typed so).
        let wanted = match function {
            AggregateFunction::BoolAnd | AggregateFunction::BoolOr => Some(Kind::Bool),
            AggregateFunction::StringAgg => Some(Kind::Text),
            _ => None,
        };
        let arg = match (wanted, arg) {
            (Some(wanted), Some(arg)) if arg_kind == wanted || arg_kind == Kind::Unknown => {
                match self.coerce(arg, wanted, scope) {
                    Ok(arg) => Some(arg),
                    Err(e) => {
                        self.aggregates = Some(calls);
                        return Err(e);
                    }
                }
            }
            (Some(_), Some(_)) => {
                self.aggregates = Some(calls);
                let rest = if delimiter.is_some() { ", text" } else { "" };
                return Err(Error::Type(format!(
                    "function {name}({arg_kind}{rest}) does not exist"
                )));
            }
            (_, arg) => arg,
        };
        // FILTER (WHERE ...): over the input row, with no aggregate inside (the list is
        // taken), a boolean.
        let filter = match f.filter.as_deref().map(|e| self.filter_clause(e, scope)) {
            None => None,
            Some(Ok(filter)) => Some(filter),
            Some(Err(e)) => {
                self.aggregates = Some(calls);
                return Err(e);
            }
        };
        let arg = arg.map(|arg| widened_argument(function, arg, arg_kind, scope));
        let arg_kind = arg
            .as_ref()
            .map_or(Kind::Int, |a| a.kind(&scope.kinds(), &self.params));
        let kind = match function {
            AggregateFunction::CountRows | AggregateFunction::Count => Kind::Int,
            AggregateFunction::Avg if arg_kind == Kind::Interval => Kind::Interval,
            AggregateFunction::Avg if arg_kind == Kind::Numeric => Kind::Numeric,
            AggregateFunction::Avg => Kind::Float,
            _ => wanted.unwrap_or(arg_kind),
        };
        let call = AggregateCall {
            function,
            arg,
            distinct,
            delimiter,
            filter,
        };
        let name = call.to_string();
        let slot = match calls.iter().position(|(c, _)| *c == call) {
            Some(slot) => slot,
            None => {
                calls.push((call, kind));
                calls.len() - 1
            }
        };
        self.aggregates = Some(calls);
        Ok(Expr::Column {
            index: AGGREGATE_SLOT + slot,
            name,
        })
    }
}

impl Binder<'_> {
    /// An aggregate's `FILTER (WHERE e)` condition (plain or over a window): a
    /// boolean over the input row, as PostgreSQL requires.
    pub(super) fn filter_clause(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        let filter = self.expr(e, scope).map_err(|e| match e {
            Error::Type(m) if m.starts_with("aggregate function") => {
                Error::Type("aggregate functions are not allowed in FILTER".into())
            }
            other => other,
        })?;
        match self.kind_of(&filter, scope) {
            Kind::Bool | Kind::Unknown => self.coerce(filter, Kind::Bool, scope),
            other => Err(Error::Type(format!(
                "argument of FILTER must be type boolean, not type {other}"
            ))),
        }
    }

    /// string_agg's delimiter: a constant text (NULL is the empty string, as in
    /// PostgreSQL). A delimiter that changes from row to row is not supported yet.
    fn string_agg_delimiter(&mut self, e: &ast::Expr, scope: &Scope) -> Result<String> {
        let bound = self.expr(e, scope)?;
        if !bound.is_constant() || bound.has_params() || bound.reads_outer() {
            return Err(Error::unsupported(
                "string_agg with a delimiter that is not a constant",
            ));
        }
        match crate::exec::eval::eval_constant(&bound)? {
            Value::Text(d) => Ok(d),
            Value::Null => Ok(String::new()),
            other => Err(Error::Type(format!(
                "function string_agg(text, {}) does not exist",
                other.kind()
            ))),
        }
    }
}

/// Rewrites `e`, bound over the input scope with aggregate placeholders, to read the
/// Aggregate node's output (`group_by` values, then the aggregates).
pub(super) fn over_groups(e: Expr, group_by: &[Expr]) -> Result<Expr> {
    let mut error = None;
    let rewritten = rewrite(e, group_by, &mut error);
    match error {
        Some(e) => Err(e),
        None => Ok(rewritten),
    }
}

fn rewrite(e: Expr, group_by: &[Expr], error: &mut Option<Error>) -> Expr {
    if let Some(index) = group_by.iter().position(|g| *g == e) {
        return Expr::Column {
            index,
            name: e.to_string(),
        };
    }
    match e {
        // A window call's placeholder: rewritten with the Window node (`window.rs`).
        Expr::Column { index, name } if (WINDOW_SLOT..AGGREGATE_SLOT).contains(&index) => {
            Expr::Column { index, name }
        }
        Expr::Column { index, name } if index >= AGGREGATE_SLOT => Expr::Column {
            index: group_by.len() + index - AGGREGATE_SLOT,
            name,
        },
        Expr::Column { index, name } => {
            error.get_or_insert_with(|| {
                Error::Type(format!(
                    "column {name:?} must appear in the GROUP BY clause or be used in an \
                     aggregate function"
                ))
            });
            Expr::Column { index, name }
        }
        // The subquery's references to this query's columns were bound against the input
        // rows, but here it would run over the grouped rows; PostgreSQL allows it only for
        // grouped columns. Until those references are rewritten too, refuse rather than
        // read the wrong column.
        Expr::Subquery(subquery) if subquery.correlated => {
            error.get_or_insert_with(|| {
                Error::unsupported(
                    "a correlated subquery in the select list, HAVING or ORDER BY of an \
                     aggregating query",
                )
            });
            Expr::Subquery(subquery)
        }
        other => other.map_children(&mut |child| rewrite(child, group_by, error)),
    }
}

/// The argument of `function` as it is aggregated: PostgreSQL's `sum` of a bigint and
/// `avg` of any integer are NUMERIC (exact, never overflowing), while `sum` of a
/// SMALLINT or INTEGER is a bigint ([`is_narrow_int`]); the integers are cast to
/// NUMERIC on their way in where the result is NUMERIC.
pub(super) fn widened_argument(
    function: AggregateFunction,
    arg: Expr,
    kind: Kind,
    scope: &Scope,
) -> Expr {
    let widen = kind == Kind::Int
        && match function {
            AggregateFunction::Sum => !is_narrow_int(&arg, scope),
            AggregateFunction::Avg => true,
            _ => false,
        };
    match widen {
        true => Expr::Cast {
            expr: Box::new(arg),
            to: SqlType::Numeric(None),
        },
        false => arg,
    }
}
