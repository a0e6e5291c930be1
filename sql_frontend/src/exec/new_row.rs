//! A new or changed row on its way into a table: NOT NULL and CHECK, then the engine.
//!
//! INSERT, UPDATE, COPY FROM and ON CONFLICT all check rows here, so every write
//! checks the same things in the same order before it reaches the engine's table API
//! (which checks types, keys and UNIQUE), all while the statement runs — never when
//! its commit is applied.
//! A repeated key is named in SQL's words by `duplicate_key.rs`. A row with nothing
//! for this file to check (no CHECK, no foreign key) may be made as the engine's values
//! directly ([`values_keys`]); the engine still checks its NOT NULLs, types and keys.

use engine::Constraint;
use engine::Transaction;
use engine::keycode::KeyValue;
use engine::table::ops;

use super::duplicate_key::{keys_print_differently, with_sql_key};
use super::eval::eval;
use super::operator::{Builder, ExecContext};
use crate::catalog::{ColumnDefault, TableInfo};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::Check;
use crate::value::Value;

/// A row of SQL values as the engine's key values.
pub(super) fn to_keys(values: Vec<Value>) -> Vec<KeyValue> {
    values.into_iter().map(Value::into_key).collect()
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

/// The row a new row of `table` starts as, before the statement's values go in: each
/// column's constant DEFAULT or NULL, and the defaults computed for each row
/// (`defaults`: a sequence's next value, the clock) evaluated in `ctx`.
pub(super) fn fresh_row(
    table: &TableInfo,
    defaults: &[(usize, Expr)],
    ctx: &mut ExecContext<'_>,
) -> Result<Vec<Value>> {
    let mut row = constant_defaults(table);
    computed_defaults(table, defaults, &mut row, ctx)?;
    Ok(row)
}

/// The error for an INSERT source row whose length is not the target columns' (the
/// binder makes them match; this guards the executor).
pub(super) fn source_mismatch() -> Error {
    Error::Type("INSERT source row does not match the target columns".into())
}

/// Each column's constant DEFAULT, or NULL.
fn constant_defaults(table: &TableInfo) -> Vec<Value> {
    table
        .columns
        .iter()
        .map(|c| match &c.default {
            Some(ColumnDefault::Value(value)) => value.clone(),
            _ => Value::Null,
        })
        .collect()
}

/// Puts the defaults computed for each row (`defaults`) into `row`, cast to their
/// columns' types.
fn computed_defaults(
    table: &TableInfo,
    defaults: &[(usize, Expr)],
    row: &mut [Value],
    ctx: &mut ExecContext<'_>,
) -> Result<()> {
    for (position, expr) in defaults {
        let value = eval(expr, &[], ctx)?;
        row[*position] = table.columns[*position].sql_type.assign(value)?;
    }
    Ok(())
}

/// The new row of `table` for a source row's `values` (column `targets[i]` taking
/// `values[i]`): the defaults computed for each row, then each value cast to its
/// column's type in target order.
pub(super) fn source_row(
    table: &TableInfo,
    targets: &[usize],
    defaults: &[(usize, Expr)],
    values: Vec<Value>,
    ctx: &mut ExecContext<'_>,
) -> Result<Vec<Value>> {
    if values.len() != targets.len() {
        return Err(source_mismatch());
    }
    let mut row = fresh_row(table, defaults, ctx)?;
    for (value, &target) in values.into_iter().zip(targets) {
        row[target] = table.columns[target].sql_type.assign(value)?;
    }
    Ok(row)
}

/// The new row of `table` that a one-row VALUES list `values` makes (column `targets[i]`
/// taking `values[i]`), in the order the general path takes: the values evaluated,
/// then the defaults computed for each row, then each value cast to its column's type
/// in target order. The values are evaluated into the row itself, so the row is the
/// only allocation.
pub(super) fn values_row(
    table: &TableInfo,
    targets: &[usize],
    defaults: &[(usize, Expr)],
    values: &[Expr],
    ctx: &mut ExecContext<'_>,
) -> Result<Vec<Value>> {
    let mut row = constant_defaults(table);
    for (expr, &target) in values.iter().zip(targets) {
        row[target] = eval(expr, &[], ctx)?;
    }
    if values.len() != targets.len() {
        return Err(source_mismatch());
    }
    // `defaults` names only columns outside `targets` (`Statement::Insert`).
    computed_defaults(table, defaults, &mut row, ctx)?;
    for &target in targets {
        let value = std::mem::replace(&mut row[target], Value::Null);
        row[target] = table.columns[target].sql_type.assign(value)?;
    }
    Ok(row)
}

/// Whether a one-row VALUES list `values` into `table` can be written as engine values
/// straight away ([`values_keys`]): every value is a parameter or a constant (so
/// evaluating it can neither fail nor be seen, and may wait until the defaults are
/// computed), and nothing needs the row's SQL values — no RETURNING, no CHECK (NOT
/// NULL alone is the engine's), no foreign key, no key the engine prints otherwise
/// than SQL.
pub(super) fn writes_keys_directly(
    table: &TableInfo,
    checks: &[Check],
    values: &[Expr],
    returning: bool,
) -> bool {
    !returning
        && checks.is_empty()
        && table.foreign_keys.is_empty()
        && values
            .iter()
            .all(|e| matches!(e, Expr::Param(_) | Expr::Literal(_)))
        && !keys_print_differently(table)
}

/// The new row that [`values_row`] would make, as the engine's values, made in one
/// allocation; for a row that [`writes_keys_directly`] allows. The observable order is
/// [`values_row`]'s: the defaults computed, then each value cast in target order.
pub(super) fn values_keys(
    table: &TableInfo,
    targets: &[usize],
    defaults: &[(usize, Expr)],
    values: &[Expr],
    ctx: &mut ExecContext<'_>,
) -> Result<Vec<KeyValue>> {
    if values.len() != targets.len() {
        return Err(source_mismatch());
    }
    let mut row: Vec<KeyValue> = table
        .columns
        .iter()
        .map(|c| match &c.default {
            Some(ColumnDefault::Value(value)) => value.to_key(),
            _ => KeyValue::Null,
        })
        .collect();
    for (position, expr) in defaults {
        let value = eval(expr, &[], ctx)?;
        row[*position] = table.columns[*position].sql_type.assign(value)?.into_key();
    }
    for (expr, &target) in values.iter().zip(targets) {
        let value = eval(expr, &[], ctx)?;
        row[target] = table.columns[target].sql_type.assign(value)?.into_key();
    }
    Ok(row)
}

/// Writes a new row of `table` (every column's value already cast to its type) after
/// its checks; returns its primary key. The one path INSERT and COPY FROM share.
pub(super) fn insert_row(
    txn: &mut Transaction,
    build: Builder,
    table: &TableInfo,
    checks: &[Check],
    row: Vec<Value>,
) -> Result<Vec<KeyValue>> {
    check_row(txn, build, table, checks, &row)?;
    if table.foreign_keys.is_empty() && !keys_print_differently(table) {
        return Ok(ops::insert(txn, &table.schema, to_keys(row))?);
    }
    // Checked once written, so a row may reference itself (`references.rs`).
    let pk = ops::insert(txn, &table.schema, to_keys(row.clone()))
        .map_err(|e| with_sql_key(e, table, &row))?;
    super::references::check_references(txn, table, &row)?;
    Ok(pk)
}
