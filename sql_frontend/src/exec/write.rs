//! INSERT, UPDATE and DELETE.
//!
//! Each first collects the rows to change, then writes them (so an UPDATE never sees its
//! own new rows — the "Halloween problem"), each write going through the engine's table
//! API, which keeps indexes in step and enforces constraints atomically per row.
//!
//! RETURNING is evaluated on each row just before it is written (INSERT, UPDATE: the
//! new row; DELETE: the old one), and its rows are the statement's result, beside the
//! usual command tag. Rows written earlier by the same statement are visible to its
//! subqueries (PostgreSQL hides them); the rows themselves are as PostgreSQL returns.

use engine::Transaction;
use engine::error::Constraint;
use engine::keycode::KeyValue;
use engine::table::ops;

use super::buffered::collect;
use super::eval::eval;
use super::operator::{Builder, ExecContext, KeyedRow};
use super::output::Output;
use crate::catalog::TableInfo;
use crate::error::{Error, Result};
use crate::plan::{Check, Node, Plan, Returning, Statement};
use crate::value::Value;

fn to_keys(values: Vec<Value>) -> Vec<KeyValue> {
    values.iter().map(Value::to_key).collect()
}

/// Fails unless `row`, a new row of `table`, keeps NOT NULL and every CHECK, in
/// PostgreSQL's order: NOT NULL first, then the CHECKs by name; keys and UNIQUE are
/// the engine's, after these (as PostgreSQL checks indexes last).
pub(super) fn check_row(
    txn: &mut Transaction,
    build: Builder,
    table: &TableInfo,
    checks: &[Check],
    row: &[Value],
) -> Result<()> {
    if checks.is_empty() {
        return Ok(());
    }
    for (column, value) in table.columns.iter().zip(row) {
        if !column.nullable && value.is_null() {
            return Err(Error::Constraint(Constraint::NotNull {
                table: table.name().to_string(),
                column: column.name.clone(),
            }));
        }
    }
    let mut ctx = ExecContext::new(txn, &[], &[], build);
    for check in checks {
        if let Value::Bool(false) = eval(&check.expr, row, &mut ctx)? {
            return Err(Error::Constraint(Constraint::Check {
                table: table.name().to_string(),
                constraint: check.name.clone(),
            }));
        }
    }
    Ok(())
}

/// Writes a new row of `table` (every column's value already cast to its type) after
/// its checks: the one path INSERT and COPY FROM share.
pub(super) fn insert_row(
    txn: &mut Transaction,
    build: Builder,
    table: &TableInfo,
    checks: &[Check],
    row: Vec<Value>,
) -> Result<()> {
    check_row(txn, build, table, checks, &row)?;
    ops::insert(txn, &table.schema, to_keys(row))?;
    Ok(())
}

/// Collects RETURNING's rows, if the statement has a RETURNING list.
struct Returned<'r> {
    returning: Option<&'r Returning>,
    rows: Vec<Vec<Value>>,
}

impl<'r> Returned<'r> {
    fn new(returning: Option<&'r Returning>) -> Returned<'r> {
        Returned {
            returning,
            rows: Vec::new(),
        }
    }

    /// The RETURNING list evaluated on `row` (a whole table row), before the row is
    /// written, so its subqueries see the table as the statement found it.
    fn eval<'c>(
        &self,
        row: &[Value],
        ctx: impl FnOnce() -> ExecContext<'c>,
    ) -> Result<Option<Vec<Value>>> {
        let Some(returning) = self.returning else {
            return Ok(None);
        };
        let mut ctx = ctx();
        let values = returning
            .exprs
            .iter()
            .map(|e| eval(e, row, &mut ctx))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(values))
    }

    /// Keeps a row from [`Returned::eval`] once its write has happened.
    fn keep(&mut self, values: Option<Vec<Value>>) {
        self.rows.extend(values);
    }

    /// The statement's output: the returned rows (if any) and the command tag.
    fn output(self, rows_affected: u64, tag: String) -> Output {
        Output {
            columns: self.returning.map(|r| r.names.clone()).unwrap_or_default(),
            rows: self.rows,
            rows_affected,
            tag,
        }
    }
}

/// The rows `source` produces, with their primary keys.
fn rows_of(
    source: &Node,
    txn: &mut Transaction,
    params: &[Value],
    plan: &Plan,
    build: Builder,
) -> Result<Vec<KeyedRow>> {
    let mut ctx = ExecContext::new(txn, params, &plan.subqueries, build);
    let mut op = ctx.open(source)?;
    collect(op.as_mut(), &mut ctx)
}

/// Runs an INSERT, UPDATE or DELETE; `build` builds its source's operators.
pub(super) fn dml(
    txn: &mut Transaction,
    plan: &Plan,
    params: &[Value],
    build: Builder,
) -> Result<Output> {
    let subqueries = &plan.subqueries;
    match &plan.statement {
        Statement::Insert {
            table,
            targets,
            source,
            checks,
            returning,
        } => {
            let rows = rows_of(source, txn, params, plan, build)?;
            let mut returned = Returned::new(returning.as_ref());
            for (_, values) in &rows {
                if values.len() != targets.len() {
                    return Err(Error::Type(
                        "INSERT source row does not match the target columns".into(),
                    ));
                }
                let mut row: Vec<Value> = table
                    .columns
                    .iter()
                    .map(|c| c.default.clone().unwrap_or(Value::Null))
                    .collect();
                for (value, target) in values.iter().zip(targets) {
                    row[*target] = table.columns[*target].sql_type.assign(value.clone())?;
                }
                let values =
                    returned.eval(&row, || ExecContext::new(txn, params, subqueries, build))?;
                insert_row(txn, build, table, checks, row)?;
                returned.keep(values);
            }
            Ok(returned.output(rows.len() as u64, format!("INSERT 0 {}", rows.len())))
        }
        Statement::Update {
            table,
            source,
            assignments,
            checks,
            returning,
        } => {
            let rows = rows_of(source, txn, params, plan, build)?;
            let mut returned = Returned::new(returning.as_ref());
            for (key, old) in &rows {
                let mut new = old.clone();
                for (column, e) in assignments {
                    let value = eval(
                        e,
                        old,
                        &mut ExecContext::new(txn, params, subqueries, build),
                    )?;
                    new[*column] = table.columns[*column].sql_type.assign(value)?;
                }
                let values =
                    returned.eval(&new, || ExecContext::new(txn, params, subqueries, build))?;
                check_row(txn, build, table, checks, &new)?;
                ops::update(txn, &table.schema, key, to_keys(new))?;
                returned.keep(values);
            }
            Ok(returned.output(rows.len() as u64, format!("UPDATE {}", rows.len())))
        }
        Statement::Delete {
            table,
            source,
            returning,
        } => {
            let rows = rows_of(source, txn, params, plan, build)?;
            let mut returned = Returned::new(returning.as_ref());
            let mut deleted = 0u64;
            for (key, old) in &rows {
                let values =
                    returned.eval(old, || ExecContext::new(txn, params, subqueries, build))?;
                if ops::delete(txn, &table.schema, key)? {
                    deleted += 1;
                    returned.keep(values);
                }
            }
            Ok(returned.output(deleted, format!("DELETE {deleted}")))
        }
        Statement::Query(_) | Statement::Ddl(_) | Statement::Copy(_) | Statement::Explain(_) => {
            Err(Error::unsupported(format!("{} as DML", plan.statement)))
        }
    }
}
