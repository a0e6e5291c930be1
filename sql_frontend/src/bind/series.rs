//! `generate_series(start, stop[, step])` in FROM (run by `exec/series.rs`).
//!
//! PostgreSQL's built-in set-returning function, recognised by name before stored
//! functions are looked up (PostgreSQL finds `pg_catalog`'s first too). Two forms:
//! integers (`start`, `stop` and `step` integers; untyped literals and parameters are
//! taken as integers), and timestamps (`start` and `stop` timestamps or dates, `step`
//! an interval, which this form needs). The arguments are bound without the FROM
//! clause's other items in scope (FROM items are not LATERAL) but may read columns of
//! an enclosing query, as any FROM item of a correlated subquery may. The one column is
//! named after the function, or after the alias (`AS g`, `AS g(n)`), as in PostgreSQL.

use sqlparser::ast::{self, FunctionArg, FunctionArgExpr, TableAlias, TableFunctionArgs};

use super::expr::{Scope, ScopeColumn};
use super::{Binder, ident};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::Node;
use crate::value::Kind;

/// The function's name.
pub(super) const GENERATE_SERIES: &str = "generate_series";

impl Binder<'_> {
    /// A call of `generate_series` in FROM: its plan and the scope of its column.
    pub(super) fn generate_series(
        &mut self,
        args: &TableFunctionArgs,
        alias: Option<&TableAlias>,
    ) -> Result<(Node, Scope)> {
        if args.settings.is_some() {
            return Err(Error::unsupported("SETTINGS in a function call"));
        }
        let exprs = args
            .args
            .iter()
            .map(|arg| match arg {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
                other => Err(Error::unsupported(format!("function argument {other}"))),
            })
            .collect::<Result<Vec<&ast::Expr>>>()?;
        let scope = Scope::default();
        if !(2..=3).contains(&exprs.len()) {
            return Err(self.no_such_function(GENERATE_SERIES, &exprs, &scope));
        }
        let saved = self.aggregates.take();
        let bound = exprs
            .iter()
            .map(|e| self.expr(e, &scope))
            .collect::<Result<Vec<Expr>>>();
        self.aggregates = saved;
        let bound = bound?;
        let kinds: Vec<Kind> = bound.iter().map(|e| self.kind_of(e, &scope)).collect();
        let timestamps = kinds[..2]
            .iter()
            .any(|k| matches!(k, Kind::Timestamp | Kind::Date));
        let wanted: &[Kind] = match timestamps {
            true => &[Kind::Timestamp, Kind::Timestamp, Kind::Interval],
            false => &[Kind::Int, Kind::Int, Kind::Int],
        };
        let fits = kinds.iter().zip(wanted).all(|(kind, wanted)| {
            *kind == *wanted
                || *kind == Kind::Unknown
                || (*kind == Kind::Date && *wanted == Kind::Timestamp)
        });
        if !fits || (timestamps && kinds.len() < 3) {
            let kinds: Vec<String> = kinds.iter().map(ToString::to_string).collect();
            return Err(Error::UnknownFunction(format!(
                "{GENERATE_SERIES}({})",
                kinds.join(", ")
            )));
        }
        let mut bound = bound.into_iter().zip(wanted);
        let mut next = |binder: &mut Self| match bound.next() {
            Some((e, kind)) => binder.coerce(e, *kind, &scope).map(Some),
            None => Ok(None),
        };
        let (Some(start), Some(stop)) = (next(self)?, next(self)?) else {
            return Err(Error::Parse(format!(
                "{GENERATE_SERIES} needs two arguments"
            )));
        };
        let step = next(self)?;
        let label = alias.map_or_else(|| GENERATE_SERIES.to_string(), |a| ident(&a.name));
        let column = match alias {
            Some(alias) if alias.columns.len() > 1 => {
                return Err(Error::Type(format!(
                    "table \"{label}\" has 1 columns available but {} columns specified",
                    alias.columns.len()
                )));
            }
            Some(alias) => alias
                .columns
                .first()
                .map_or_else(|| label.clone(), |c| ident(&c.name)),
            None => GENERATE_SERIES.to_string(),
        };
        let scope = Scope {
            columns: vec![ScopeColumn {
                table: Some(label),
                name: column.clone(),
                kind: wanted[0],
                padded: false,
                narrow_int: false,
                qualified_only: false,
            }],
        };
        let plan = Node::GenerateSeries {
            start,
            stop,
            step,
            column,
        };
        Ok((plan, scope))
    }
}
