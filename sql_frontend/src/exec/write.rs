//! INSERT, UPDATE and DELETE.
//!
//! Each first collects the rows to change, then writes them (so an UPDATE never sees its
//! own new rows — the "Halloween problem"), each write going through the engine's table
//! API, which keeps indexes in step and enforces constraints atomically per row.

use engine::Transaction;
use engine::keycode::KeyValue;
use engine::table::ops;

use super::buffered::collect;
use super::eval::eval;
use super::operator::{Builder, ExecContext, KeyedRow};
use super::output::Output;
use crate::catalog::TableInfo;
use crate::error::{Error, Result};
use crate::plan::{Node, Plan, Statement};
use crate::value::Value;

fn to_keys(values: Vec<Value>) -> Vec<KeyValue> {
    values.iter().map(Value::to_key).collect()
}

/// Writes a new row of `table` (every column's value already cast to its type): the one
/// path INSERT and COPY FROM share.
pub(super) fn insert_row(txn: &mut Transaction, table: &TableInfo, row: Vec<Value>) -> Result<()> {
    ops::insert(txn, &table.schema, to_keys(row))?;
    Ok(())
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
        } => {
            let rows = rows_of(source, txn, params, plan, build)?;
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
                insert_row(txn, table, row)?;
            }
            Ok(Output {
                rows_affected: rows.len() as u64,
                tag: format!("INSERT 0 {}", rows.len()),
                ..Output::default()
            })
        }
        Statement::Update {
            table,
            source,
            assignments,
        } => {
            let rows = rows_of(source, txn, params, plan, build)?;
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
                ops::update(txn, &table.schema, key, to_keys(new))?;
            }
            Ok(Output {
                rows_affected: rows.len() as u64,
                tag: format!("UPDATE {}", rows.len()),
                ..Output::default()
            })
        }
        Statement::Delete { table, source } => {
            let keys: Vec<Vec<KeyValue>> = rows_of(source, txn, params, plan, build)?
                .into_iter()
                .map(|(key, _)| key)
                .collect();
            let mut deleted = 0u64;
            for key in &keys {
                if ops::delete(txn, &table.schema, key)? {
                    deleted += 1;
                }
            }
            Ok(Output {
                rows_affected: deleted,
                tag: format!("DELETE {deleted}"),
                ..Output::default()
            })
        }
        Statement::Query(_) | Statement::Ddl(_) | Statement::Copy(_) | Statement::Explain(_) => {
            Err(Error::unsupported(format!("{} as DML", plan.statement)))
        }
    }
}
