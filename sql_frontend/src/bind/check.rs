//! CHECK constraints: validated and named at CREATE TABLE, bound again from their
//! stored text for each statement that writes the table.
//!
//! A constraint is stored as its expression's SQL text (`catalog.rs`), not as a bound
//! [`Expr`]: column positions and kinds are the binder's business, so each INSERT,
//! UPDATE and COPY binds the text over the table's row as it is now, and the executor
//! evaluates the result on every new row before writing it (`exec/write.rs`), so a
//! failed check is an error of the statement, long before any commit record.
//!
//! As in PostgreSQL: an unnamed constraint whose expression reads exactly one column is
//! `{table}_{column}_check`, any other `{table}_check` (whether it was written on a
//! column or on the table), with `1`, `2`, ... appended while the name is taken, in the
//! order of declaration (column constraints first, then the table's);
//! the expression must be boolean and may not hold subqueries, aggregates or
//! parameters.

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::Binder;
use super::expr::{Scope, ScopeColumn};
use super::query::table_scope;
use crate::catalog::{CheckInfo, ColumnInfo, TableInfo};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::Check;
use crate::stack::{self, AstDepth};
use crate::value::Kind;

/// A CHECK met in CREATE TABLE, before it has its name.
pub(super) struct PendingCheck<'a> {
    /// `CONSTRAINT name`, if given.
    pub name: Option<String>,
    pub expr: &'a ast::Expr,
}

/// The scope of a table being created: its columns, under its name.
fn new_table_scope(table: &str, columns: &[ColumnInfo]) -> Scope {
    Scope {
        columns: columns
            .iter()
            .map(|c| ScopeColumn {
                table: Some(table.to_string()),
                name: c.name.clone(),
                kind: c.sql_type.kind(),
                padded: super::expr::blank_padded(c.sql_type),
                narrow_int: super::expr::narrow_int(c.sql_type),
                qualified_only: false,
            })
            .collect(),
    }
}

/// The first of `base`, `base1`, `base2`, ... not in `taken` (PostgreSQL's
/// ChooseConstraintName).
pub(super) fn free_name(base: &str, taken: &[String]) -> String {
    let mut name = base.to_string();
    let mut n = 0;
    while taken.contains(&name) {
        n += 1;
        name = format!("{base}{n}");
    }
    name
}

impl Binder<'_> {
    /// Validates and names the CHECK constraints of table `table` being created (or
    /// altered: `existing` are the names its constraints have already).
    pub(super) fn create_checks(
        &mut self,
        table: &str,
        columns: &[ColumnInfo],
        pending: &[PendingCheck<'_>],
        existing: &[String],
    ) -> Result<Vec<CheckInfo>> {
        let scope = new_table_scope(table, columns);
        let mut taken: Vec<String> = existing.to_vec();
        for name in pending.iter().filter_map(|c| c.name.as_ref()) {
            if taken.contains(name) {
                return Err(Error::AlreadyExists {
                    kind: "constraint".into(),
                    name: name.clone(),
                });
            }
            taken.push(name.clone());
        }
        let mut checks = Vec::with_capacity(pending.len());
        for check in pending {
            let (definition, read) = self.check_definition(check.expr, &scope)?;
            let name = match (&check.name, read.as_slice()) {
                (Some(name), _) => name.clone(),
                (None, [column]) => {
                    let column = &columns[*column].name;
                    free_name(&format!("{table}_{column}_check"), &taken)
                }
                (None, _) => free_name(&format!("{table}_check"), &taken),
            };
            if check.name.is_none() {
                taken.push(name.clone());
            }
            checks.push(CheckInfo { name, definition });
        }
        checks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(checks)
    }

    /// Binds a CHECK expression over `scope` to validate it; returns its text and the
    /// columns it reads (each once).
    fn check_definition(&mut self, e: &ast::Expr, scope: &Scope) -> Result<(String, Vec<usize>)> {
        let subqueries = self.subqueries.len();
        let bound = self.expr(e, scope)?;
        if self.subqueries.len() != subqueries {
            return Err(Error::unsupported("subquery in check constraint"));
        }
        if bound.has_params() {
            return Err(Error::unsupported("parameters in check constraint"));
        }
        match bound.kind(&scope.kinds(), &[]) {
            Kind::Bool | Kind::Unknown => {
                let mut read = Vec::new();
                bound.columns_read(&mut read);
                read.sort_unstable();
                read.dedup();
                Ok((e.to_string(), read))
            }
            other => Err(Error::Type(format!(
                "argument of CHECK must be type boolean, not type {other}"
            ))),
        }
    }

    /// The CHECK constraints of `table`, bound over its row.
    pub(super) fn table_checks(&mut self, table: &TableInfo) -> Result<Vec<Check>> {
        let scope = table_scope(table, table.name());
        let mut checks = Vec::with_capacity(table.checks.len());
        for check in &table.checks {
            // The stored text is as deep as the CREATE TABLE that passed the binder's
            // limit, which the statement being bound did not count: it is parsed,
            // bound and its AST dropped on a stack of its own when the one in use has
            // no room for it (as function bodies are, `routine.rs`).
            let depth = AstDepth::of(&check.definition);
            let needed = self.units.saturating_add(depth.units());
            let expr = match needed <= self.room {
                true => self.stored_check(table, check, &scope),
                false => {
                    let bytes = stack::stored_body_stack(depth.stack());
                    let room = self.units.saturating_add(bytes / stack::BYTES_PER_UNIT);
                    let saved = std::mem::replace(&mut self.room, room);
                    let expr = stack::on_thread(bytes, || self.stored_check(table, check, &scope));
                    self.room = saved;
                    expr
                }
            }?;
            checks.push(Check {
                name: check.name.clone(),
                expr,
            });
        }
        Ok(checks)
    }

    /// One stored CHECK of `table`, parsed and bound over its row.
    pub(super) fn stored_check(
        &mut self,
        table: &TableInfo,
        check: &CheckInfo,
        scope: &Scope,
    ) -> Result<Expr> {
        let expr = Parser::new(&PostgreSqlDialect {})
            .with_recursion_limit(stack::MAX_PARSE_DEPTH)
            .try_with_sql(&check.definition)
            .and_then(|mut parser| parser.parse_expr())
            .map_err(|e| {
                Error::Engine(engine::Error::CorruptData(format!(
                    "check constraint {:?} of table {:?} does not parse: {e}",
                    check.name,
                    table.name()
                )))
            })?;
        self.expr(&expr, scope)
    }
}
