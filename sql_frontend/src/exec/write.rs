//! INSERT, UPDATE, DELETE and DDL (tables, indexes, functions).

use engine::Transaction;
use engine::keycode::KeyValue;
use engine::table::{catalog as engine_catalog, ops};

use super::ExecContext;
use super::Output;
use super::operator::{KeyedRow, collect};
use super::rows::open;
use crate::catalog;
use crate::error::{Error, Result};
use crate::plan::{Ddl, Plan, Statement};
use crate::value::Value;

/// The name PostgreSQL gives the index behind a UNIQUE constraint.
/// The name of the index behind a UNIQUE constraint: `<table>_<columns>_key`, as
/// PostgreSQL names it, shortened (at a character boundary) to fit the catalog's name
/// limit as PostgreSQL shortens it.
fn unique_index_name(table: &str, columns: &[String]) -> String {
    const SUFFIX: &str = "_key";
    let mut stem = format!("{table}_{}", columns.join("_"));
    let room = engine_catalog::MAX_NAME_LEN - SUFFIX.len();
    if stem.len() > room {
        let cut = (0..=room)
            .rev()
            .find(|&i| stem.is_char_boundary(i))
            .unwrap_or(0);
        stem.truncate(cut);
    }
    stem + SUFFIX
}

fn to_keys(values: Vec<Value>) -> Vec<KeyValue> {
    values.iter().map(Value::to_key).collect()
}

pub(super) fn dml(txn: &mut Transaction, plan: &Plan, params: &[Value]) -> Result<Output> {
    let subqueries = &plan.subqueries;
    match &plan.statement {
        Statement::Insert {
            table,
            targets,
            source,
        } => {
            let rows: Vec<KeyedRow> = {
                let mut ctx = ExecContext::new(txn, params, subqueries);
                let mut op = open(source, &mut ctx)?;
                collect(op.as_mut(), &mut ctx)?
            };
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
                ops::insert(txn, &table.schema, to_keys(row))?;
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
            let rows: Vec<KeyedRow> = {
                let mut ctx = ExecContext::new(txn, params, subqueries);
                let mut op = open(source, &mut ctx)?;
                collect(op.as_mut(), &mut ctx)?
            };
            for (key, old) in &rows {
                let mut new = old.clone();
                for (column, e) in assignments {
                    let value = e.eval(old, &mut ExecContext::new(txn, params, subqueries))?;
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
            let keys: Vec<Vec<KeyValue>> = {
                let mut ctx = ExecContext::new(txn, params, subqueries);
                let mut op = open(source, &mut ctx)?;
                collect(op.as_mut(), &mut ctx)?
                    .into_iter()
                    .map(|(key, _)| key)
                    .collect()
            };
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
        Statement::Query(_) | Statement::Ddl(_) | Statement::Explain(_) => {
            Err(Error::unsupported(format!("{} as DML", plan.statement)))
        }
    }
}

pub(super) fn ddl(txn: &mut Transaction, ddl: &Ddl) -> Result<Output> {
    match ddl {
        Ddl::CreateTable {
            name,
            columns,
            primary_key,
            unique,
            if_not_exists,
        } => {
            if *if_not_exists && engine_catalog::find_table(txn, name)?.is_some() {
                return Ok(Output::tag("CREATE TABLE"));
            }
            catalog::create_table(txn, name, columns, primary_key)?;
            for columns in unique {
                let names: Vec<&str> = columns.iter().map(String::as_str).collect();
                engine_catalog::create_index(
                    txn,
                    name,
                    &unique_index_name(name, columns),
                    &names,
                    true,
                )?;
            }
            Ok(Output::tag("CREATE TABLE"))
        }
        Ddl::DropTable { names, if_exists } => {
            for name in names {
                if engine_catalog::find_table(txn, name)?.is_none() {
                    match if_exists {
                        true => continue,
                        false => return Err(Error::UnknownTable(name.clone())),
                    }
                }
                catalog::drop_table(txn, name)?;
            }
            Ok(Output::tag("DROP TABLE"))
        }
        Ddl::CreateIndex {
            name,
            table,
            columns,
            unique,
            if_not_exists,
        } => {
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            match engine_catalog::create_index(txn, table, name, &names, *unique) {
                Ok(_) => Ok(Output::tag("CREATE INDEX")),
                Err(engine::Error::AlreadyExists { .. }) if *if_not_exists => {
                    Ok(Output::tag("CREATE INDEX"))
                }
                Err(e) => Err(e.into()),
            }
        }
        Ddl::DropIndex { names, if_exists } => {
            for name in names {
                match engine_catalog::drop_index(txn, name) {
                    Ok(()) => {}
                    Err(engine::Error::NotFound { kind: "index", .. }) if *if_exists => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(Output::tag("DROP INDEX"))
        }
        Ddl::CreateFunction {
            name,
            definition,
            or_replace,
        } => {
            catalog::create_function(txn, name, definition, *or_replace)?;
            Ok(Output::tag("CREATE FUNCTION"))
        }
        Ddl::DropFunction { names, if_exists } => {
            for name in names {
                if !catalog::drop_function(txn, name)? && !if_exists {
                    return Err(Error::UnknownFunction(name.clone()));
                }
            }
            Ok(Output::tag("DROP FUNCTION"))
        }
    }
}
