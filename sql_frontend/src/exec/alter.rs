//! ALTER TABLE's actions that reach rows: ADD COLUMN, DROP COLUMN, ALTER COLUMN TYPE,
//! ADD CHECK, ADD UNIQUE and DROP CONSTRAINT (bound by `bind/alter.rs`).
//!
//! The engine changes the table (`engine::table::alter`): ADD COLUMN with a default
//! evaluated once writes no row (the value is recorded as what older, shorter rows
//! read); the others rewrite the table into new trees. This module supplies what the
//! engine cannot know: SQL values. It evaluates a per-row DEFAULT for each existing
//! row, converts each value for TYPE (the USING expression, then the assignment to the
//! new type, whose error names the value: `invalid input syntax for type integer:
//! "x"`), evaluates CHECK constraints over every row (`check constraint "c" of relation
//! "t" is violated by some row`), and keeps the SQL catalog (column types, defaults,
//! constraints, statistics) in step with the engine's.
//!
//! Everything runs in the statement's transaction, with the table's tree lock taken by
//! the engine, and every check runs before anything is recorded, so a failed action
//! leaves nothing behind (the session's statement savepoint takes back what an earlier
//! action of the same statement wrote) and a committed one is one commit record: after
//! a crash the table is entirely as before or entirely as after.
//!
//! Memory: a rewrite holds the table's rows until the commit (as CREATE INDEX does), a
//! CHECK validation reads them one at a time from a snapshot of the table's rows.

use std::ops::Bound;

use engine::Transaction;
use engine::keycode::KeyValue;
use engine::table::catalog as engine_catalog;
use engine::table::{Column, alter, ops};

use super::eval::eval;
use super::operator::{Builder, ExecContext};
use crate::catalog::{self, CheckInfo, TableInfo};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{AddColumn, AlterColumnType, ConstraintKind};
use crate::sequence::{self, SequenceValues};
use crate::value::Value;
use engine::Constraint;

/// The engine's form of a SQL column.
fn engine_column(column: &crate::catalog::ColumnInfo) -> Column {
    Column {
        name: column.name.clone(),
        ty: column.sql_type.column_type(),
        nullable: column.nullable,
    }
}

/// The table's columns as the rewrite's list: each from its own position.
fn kept_columns(info: &TableInfo) -> Vec<(Column, Option<usize>)> {
    info.columns
        .iter()
        .enumerate()
        .map(|(i, c)| (engine_column(c), Some(i)))
        .collect()
}

/// A SQL error raised inside the engine's rewrite, kept aside while the engine unwinds
/// with a stand-in error, then returned in its place.
struct Stash(Option<Error>);

impl Stash {
    fn keep(&mut self, error: Error) -> engine::Error {
        self.0 = Some(error);
        engine::Error::InvalidArgument("the rewrite was stopped by a SQL error".into())
    }

    fn take(&mut self, error: engine::Error) -> Error {
        self.0.take().unwrap_or(Error::Engine(error))
    }
}

/// Fails if `expr` is false for a row of `info`'s table (`name` is the constraint).
fn validate_check(txn: &mut Transaction, info: &TableInfo, name: &str, expr: &Expr) -> Result<()> {
    let rows: Vec<_> = ops::scan(txn, &info.schema, Bound::Unbounded, Bound::Unbounded, false)?
        .collect::<engine::Result<_>>()?;
    let mut ctx = ExecContext::constant(&[]);
    for (_, row) in rows {
        let row: Vec<Value> = info.values(row)?;
        check_row(info.name(), name, expr, &row, &mut ctx)?;
    }
    Ok(())
}

fn check_row(
    table: &str,
    name: &str,
    expr: &Expr,
    row: &[Value],
    ctx: &mut ExecContext<'_>,
) -> Result<()> {
    match eval(expr, row, ctx)? {
        Value::Bool(false) => Err(Error::Constraint(Constraint::CheckViolatedByRow {
            table: table.to_string(),
            constraint: name.to_string(),
        })),
        _ => Ok(()),
    }
}

/// `ALTER TABLE t ADD COLUMN ...`.
pub(super) fn add_column(
    txn: &mut Transaction,
    add: &AddColumn,
    sequences: Option<&SequenceValues>,
    build: Builder,
) -> Result<()> {
    let info = catalog::table(txn, &add.table)?;
    let column = engine_column(&add.column);
    match &add.per_row {
        None => {
            alter::add_column(txn, &add.table, column, add.missing.to_key())?;
        }
        Some(expr) => {
            // One value per existing row, computed before the rewrite borrows the
            // transaction; the rewrite reads the rows in the same (key) order.
            let count = ops::scan(txn, &info.schema, Bound::Unbounded, Bound::Unbounded, false)?
                .try_fold(0usize, |n, row| row.map(|_| n + 1))?;
            let mut values = Vec::with_capacity(count);
            {
                let mut ctx = ExecContext::new(txn, &[], &[], build).with_sequences(sequences);
                for _ in 0..count {
                    let value = add.column.sql_type.assign(eval(expr, &[], &mut ctx)?)?;
                    values.push(value.into_key());
                }
            }
            let mut values = values.into_iter();
            let mut columns = kept_columns(&info);
            columns.push((column, None));
            let mut append = |mut row: Vec<KeyValue>| match values.next() {
                Some(value) => {
                    row.push(value);
                    Ok(row)
                }
                None => Err(engine::Error::InvalidArgument(
                    "the table has more rows than its default was evaluated for".into(),
                )),
            };
            alter::rewrite_table(txn, &add.table, columns, &mut append)?;
        }
    }
    let mut after = info;
    after.columns.push(add.column.clone());
    catalog::set_columns(txn, &add.table, &after.columns)?;
    if let Some((index, primary_key)) = &add.unique {
        let columns = [add.column.name.as_str()];
        match primary_key {
            true => engine_catalog::add_primary_key(txn, &add.table, &columns, index)?,
            false => {
                engine_catalog::create_index(txn, &add.table, index, &columns, true)?;
                engine_catalog::table(txn, &add.table)?
            }
        };
    }
    after.schema = engine_catalog::table(txn, &add.table)?;
    for (check, expr) in &add.checks {
        validate_check(txn, &after, &check.name, expr)?;
        catalog::add_check(txn, &add.table, check)?;
    }
    Ok(())
}

/// `ALTER TABLE t DROP COLUMN c`.
pub(super) fn drop_column(
    txn: &mut Transaction,
    table: &str,
    position: usize,
    drop_checks: &[String],
    drop_sequences: &[String],
) -> Result<()> {
    let info = catalog::table(txn, table)?;
    if position >= info.columns.len() {
        return Err(Error::UnknownColumn(format!("{table} column {position}")));
    }
    let mut columns = kept_columns(&info);
    columns.remove(position);
    let mut remove = |mut row: Vec<KeyValue>| {
        row.remove(position);
        Ok(row)
    };
    alter::rewrite_table(txn, table, columns, &mut remove)?;
    let mut after = info.columns;
    after.remove(position);
    catalog::set_columns(txn, table, &after)?;
    catalog::drop_statistics(txn, table)?;
    for check in drop_checks {
        catalog::drop_check(txn, table, check)?;
    }
    for name in drop_sequences {
        sequence::drop(txn, name)?;
    }
    Ok(())
}

/// `ALTER TABLE t ALTER COLUMN c TYPE type [USING e]`.
pub(super) fn alter_column_type(txn: &mut Transaction, change: &AlterColumnType) -> Result<()> {
    let info = catalog::table(txn, &change.table)?;
    let position = change.position;
    if position >= info.columns.len() {
        return Err(Error::UnknownColumn(format!(
            "{} column {position}",
            change.table
        )));
    }
    let mut after = info.columns.clone();
    after[position].sql_type = change.sql_type;
    after[position].default = change.default.clone();
    let mut columns = kept_columns(&info);
    columns[position].0 = engine_column(&after[position]);
    let mut stash = Stash(None);
    let mut ctx = ExecContext::constant(&[]);
    let mut convert = |row: Vec<KeyValue>| -> engine::Result<Vec<KeyValue>> {
        let mut values: Vec<Value> = info.values(row).map_err(|e| stash.keep(e))?;
        let converted = eval(&change.using, &values, &mut ctx)
            .and_then(|v| change.sql_type.assign(v))
            .map_err(|e| stash.keep(e))?;
        values[position] = converted;
        for check in &change.checks {
            check_row(&change.table, &check.name, &check.expr, &values, &mut ctx)
                .map_err(|e| stash.keep(e))?;
        }
        Ok(values.into_iter().map(Value::into_key).collect())
    };
    let rewritten = alter::rewrite_table(txn, &change.table, columns, &mut convert);
    rewritten.map_err(|e| stash.take(e))?;
    catalog::set_columns(txn, &change.table, &after)?;
    catalog::drop_statistics(txn, &change.table)?;
    Ok(())
}

/// `ALTER TABLE t ADD CHECK (e)`: every row checked (unless NOT VALID), then recorded.
pub(super) fn add_check(
    txn: &mut Transaction,
    table: &str,
    check: &CheckInfo,
    expr: Option<&Expr>,
) -> Result<()> {
    let info = catalog::table(txn, table)?;
    if info.checks.iter().any(|c| c.name == check.name) {
        return Err(Error::AlreadyExists {
            kind: "constraint".into(),
            name: check.name.clone(),
        });
    }
    // The table's lock, so no concurrent writer adds a row the check does not see.
    txn.lock_tree(info.schema.tree)?;
    if let Some(expr) = expr {
        validate_check(txn, &info, &check.name, expr)?;
    }
    catalog::add_check(txn, table, check)
}

/// `ALTER TABLE t DROP CONSTRAINT name`.
pub(super) fn drop_constraint(
    txn: &mut Transaction,
    table: &str,
    name: &str,
    kind: ConstraintKind,
) -> Result<()> {
    let info = catalog::table(txn, table)?;
    match kind {
        ConstraintKind::Check => {
            txn.lock_tree(info.schema.tree)?;
            if !catalog::drop_check(txn, table, name)? {
                return Err(Error::Type(format!(
                    "constraint \"{name}\" of relation \"{table}\" does not exist"
                )));
            }
        }
        ConstraintKind::Unique => engine_catalog::drop_index(txn, name)?,
        ConstraintKind::ForeignKey => {
            crate::foreign_key::drop(txn, table, name)?;
        }
    }
    Ok(())
}
