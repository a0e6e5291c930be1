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
use engine::table::ops;

use super::buffered::collect;
use super::eval::eval;
use super::interrupt::Interrupt;
use super::new_row::{check_row, insert_row, to_keys};
use super::operator::{Builder, ExecContext, KeyedRow};
use super::output::Output;
use super::upsert::Upsert;
use crate::error::{Error, Result};
use crate::plan::{Node, Plan, Returning, Statement};
use crate::value::Value;

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
    interrupt: &Interrupt,
) -> Result<Vec<KeyedRow>> {
    let mut ctx =
        ExecContext::new(txn, params, &plan.subqueries, build).interruptible(interrupt.clone());
    let mut op = ctx.open(source)?;
    collect(op.as_mut(), &mut ctx)
}

/// Runs an INSERT, UPDATE or DELETE; `build` builds its source's operators; reading
/// the rows to change stops early if `interrupt` says so.
pub(super) fn dml(
    txn: &mut Transaction,
    plan: &Plan,
    params: &[Value],
    build: Builder,
    interrupt: &Interrupt,
) -> Result<Output> {
    let subqueries = &plan.subqueries;
    match &plan.statement {
        Statement::Insert {
            table,
            targets,
            source,
            checks,
            on_conflict,
            returning,
        } => {
            let rows = rows_of(source, txn, params, plan, build, interrupt)?;
            let mut returned = Returned::new(returning.as_ref());
            let mut upsert = on_conflict.as_ref().map(|on| Upsert {
                table,
                checks,
                on,
                params,
                subqueries,
                build,
                touched: Default::default(),
            });
            let mut written = 0u64;
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
                let row = match &mut upsert {
                    None => row,
                    Some(upsert) => match upsert.row(txn, row)? {
                        Some(written) => written,
                        None => continue,
                    },
                };
                let values =
                    returned.eval(&row, || ExecContext::new(txn, params, subqueries, build))?;
                if upsert.is_none() {
                    insert_row(txn, build, table, checks, row)?;
                }
                returned.keep(values);
                written += 1;
            }
            Ok(returned.output(written, format!("INSERT 0 {written}")))
        }
        Statement::Update {
            table,
            source,
            assignments,
            checks,
            returning,
        } => {
            let rows = rows_of(source, txn, params, plan, build, interrupt)?;
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
            let rows = rows_of(source, txn, params, plan, build, interrupt)?;
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
        Statement::Query(_)
        | Statement::Ddl(_)
        | Statement::Copy(_)
        | Statement::Explain(_)
        | Statement::Vacuum(_) => Err(Error::unsupported(format!("{} as DML", plan.statement))),
    }
}
