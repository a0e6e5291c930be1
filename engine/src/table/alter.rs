//! # ALTER TABLE: columns renamed, added, dropped and retyped; NOT NULL set and dropped
//!
//! RENAME TO, RENAME COLUMN, SET / DROP NOT NULL and ADD COLUMN change only the catalog.
//! None of these moves a row. A row is stored by column position, not by name
//! (`row.rs`), and an index entry holds the indexed values and the row's key, so a
//! table's or a column's name lives only in the catalog: renaming rewrites the table's
//! catalog entry (under its new key, for RENAME TO) and, for RENAME TO, each of its
//! indexes' entries, which name their table. Index names stay as they are, as in
//! PostgreSQL (`t_pkey` keeps its name when `t` is renamed).
//!
//! SET NOT NULL reads every row of the table (as the transaction sees them: the table
//! is locked first, so those are all its rows) and fails, before anything is written,
//! if one holds a NULL in the column (PostgreSQL's `column "c" of relation "t" contains
//! null values`). DROP NOT NULL refuses a primary-key column.
//!
//! ADD COLUMN ([`add_column`]) appends the column to the schema with its *missing
//! value*, what every row written before it reads there (the row-format rule is in
//! `schema.rs` and `row.rs`: a row holds the columns its table had when it was written,
//! and its count says how many). The caller gives the column's DEFAULT, evaluated once,
//! as that value; a NOT NULL column whose missing value is NULL is refused if the table
//! has a row. A table created before rows were counted is rewritten once instead.
//!
//! DROP COLUMN, ALTER COLUMN TYPE and ADD COLUMN with a default evaluated per row
//! (`random()`, `nextval`) rewrite the table ([`rewrite_table`]): every row, decoded,
//! goes through the caller's transformation and is checked against the new schema into
//! a new tree, and the indexes are built again (`rekey.rs`). An index over a dropped
//! column is dropped with it, as PostgreSQL drops it; so is a primary key (the rows
//! are then keyed by hidden row ids). Every check runs before the commit record.
//! Each statement takes the table's tree lock ([`Transaction::lock_tree`]) as other DDL
//! does, so it fails with a retryable serialization error while another transaction
//! has written the table, and no writer whose snapshot predates it writes the table
//! afterwards: a row can never be written under the old schema once the new one
//! commits. The catalog writes are ordinary writes of the transaction, so the change
//! commits or rolls back with it, and recovery replays it like any other write.

use std::ops::Bound;

use crate::error::{Constraint, Error, Result};
use crate::keycode::KeyValue;
use crate::mvcc::Transaction;
use crate::table::catalog::{
    CATALOG_TREE, check_name, find_table, index_key, rebuild_table, table, table_key,
};
use crate::table::rekey::Transform;
use crate::table::row::decode_columns;
use crate::table::schema::{Column, TableSchema};

/// Renames the table `old_name` to `new_name` (ALTER TABLE ... RENAME TO).
pub fn rename_table(txn: &mut Transaction, old_name: &str, new_name: &str) -> Result<TableSchema> {
    check_name("table", new_name)?;
    let mut schema = table(txn, old_name)?;
    if find_table(txn, new_name)?.is_some() {
        return Err(Error::AlreadyExists {
            kind: "table",
            name: new_name.to_string(),
        });
    }
    txn.lock_tree(schema.tree)?;
    txn.delete(CATALOG_TREE, &table_key(old_name))?;
    schema.name = new_name.to_string();
    for index in &schema.indexes {
        txn.put(CATALOG_TREE, &index_key(&index.name), new_name.as_bytes())?;
    }
    txn.put(CATALOG_TREE, &table_key(new_name), &schema.encode())?;
    Ok(schema)
}

/// Renames column `old` of `table_name` to `new` (ALTER TABLE ... RENAME COLUMN).
pub fn rename_column(
    txn: &mut Transaction,
    table_name: &str,
    old: &str,
    new: &str,
) -> Result<TableSchema> {
    let mut schema = table(txn, table_name)?;
    let position = schema.column_index(old)?;
    if schema.columns.iter().any(|c| c.name == new) {
        return Err(Error::AlreadyExists {
            kind: "column",
            name: format!("{table_name}.{new}"),
        });
    }
    txn.lock_tree(schema.tree)?;
    schema.columns[position].name = new.to_string();
    txn.put(CATALOG_TREE, &table_key(table_name), &schema.encode())?;
    Ok(schema)
}

/// Makes `column` of `table_name` NOT NULL (`nullable` false), after checking that no
/// row holds a NULL there, or lets it hold NULLs again (`nullable` true; refused for a
/// primary-key column).
pub fn set_nullable(
    txn: &mut Transaction,
    table_name: &str,
    column: &str,
    nullable: bool,
) -> Result<TableSchema> {
    let mut schema = table(txn, table_name)?;
    let position = schema.column_index(column)?;
    if nullable && schema.primary_key.contains(&position) {
        return Err(Error::InvalidArgument(format!(
            "column \"{column}\" is in a primary key"
        )));
    }
    if schema.columns[position].nullable == nullable {
        return Ok(schema);
    }
    txn.lock_tree(schema.tree)?;
    if !nullable {
        for row in txn.scan(schema.tree, Bound::Unbounded, Bound::Unbounded, false)? {
            let (_, stored) = row?;
            let values = decode_columns(&schema, &stored, |i| i == position)?;
            if values[position].is_null() {
                return Err(Error::Constraint(Constraint::NullsInColumn {
                    table: table_name.to_string(),
                    column: column.to_string(),
                }));
            }
        }
    }
    schema.columns[position].nullable = nullable;
    txn.put(CATALOG_TREE, &table_key(table_name), &schema.encode())?;
    Ok(schema)
}

/// Whether `schema`'s table has a row, as the transaction sees it.
fn has_rows(txn: &mut Transaction, schema: &TableSchema) -> Result<bool> {
    Ok(txn
        .scan(schema.tree, Bound::Unbounded, Bound::Unbounded, false)?
        .next()
        .transpose()?
        .is_some())
}

/// Appends `column` to `table_name` (ALTER TABLE ... ADD COLUMN) without writing a row:
/// every existing row reads `missing` there (see the module header). `missing` must be
/// NULL or of the column's type; a NOT NULL column with a NULL `missing` is refused
/// if the table has a row.
pub fn add_column(
    txn: &mut Transaction,
    table_name: &str,
    column: Column,
    missing: KeyValue,
) -> Result<TableSchema> {
    let mut schema = table(txn, table_name)?;
    if schema.columns.iter().any(|c| c.name == column.name) {
        return Err(Error::AlreadyExists {
            kind: "column",
            name: format!("{table_name}.{}", column.name),
        });
    }
    if !missing.is_null() && !column.ty.admits(&missing) {
        return Err(Error::TypeMismatch(format!(
            "column {:?} is {:?}, but its value for existing rows is {missing:?}",
            column.name, column.ty
        )));
    }
    txn.lock_tree(schema.tree)?;
    if !column.nullable && missing.is_null() && has_rows(txn, &schema)? {
        return Err(Error::Constraint(Constraint::NullsInColumn {
            table: table_name.to_string(),
            column: column.name,
        }));
    }
    if !schema.counted_rows {
        let mut columns: Vec<(Column, Option<usize>)> = schema
            .columns
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, c)| (c, Some(i)))
            .collect();
        columns.push((column, None));
        let mut append = |mut row: Vec<KeyValue>| {
            row.push(missing.clone());
            Ok(row)
        };
        return rewrite_table(txn, table_name, columns, &mut append);
    }
    let position = schema.columns.len();
    schema.columns.push(column);
    if !missing.is_null() {
        schema.missing.resize(position, KeyValue::Null);
        schema.missing.push(missing);
    }
    txn.put(CATALOG_TREE, &table_key(table_name), &schema.encode())?;
    Ok(schema)
}

/// Rewrites every row of `table_name` into a table with `columns` (ALTER TABLE ... DROP
/// COLUMN, ALTER COLUMN ... TYPE, ADD COLUMN with a default evaluated per row): each
/// new column with the position of the old column it comes from, or `None` for a new
/// one; `transform` turns each row's old values into the new ones. The primary key and
/// indexes follow their columns; an index over (or including) a column that no new
/// column comes from is dropped, and so is the primary key (hidden row ids then key the rows). Every
/// check (types, NOT NULL, key and index uniqueness, what `transform` refuses) runs
/// before anything is recorded.
pub fn rewrite_table(
    txn: &mut Transaction,
    table_name: &str,
    columns: Vec<(Column, Option<usize>)>,
    transform: Transform<'_>,
) -> Result<TableSchema> {
    let old = table(txn, table_name)?;
    if columns.is_empty() {
        return Err(Error::InvalidArgument(
            "a table needs at least one column".into(),
        ));
    }
    for (i, (column, source)) in columns.iter().enumerate() {
        if columns[..i].iter().any(|(c, _)| c.name == column.name) {
            return Err(Error::AlreadyExists {
                kind: "column",
                name: format!("{table_name}.{}", column.name),
            });
        }
        if source.is_some_and(|s| s >= old.columns.len()) {
            return Err(Error::InvalidArgument(format!(
                "column {:?} comes from column {source:?} of {}",
                column.name,
                old.columns.len()
            )));
        }
    }
    txn.lock_tree(old.tree)?;
    let moved = |position: usize| columns.iter().position(|(_, s)| *s == Some(position));
    let remap = |positions: &[usize]| -> Option<Vec<usize>> {
        positions.iter().map(|&p| moved(p)).collect()
    };
    let mut new = old.clone();
    new.primary_key = remap(&old.primary_key).unwrap_or_default();
    new.indexes = old
        .indexes
        .iter()
        .filter_map(|index| {
            let mut index = index.clone();
            index.columns = remap(&index.columns)?;
            // An index loses nothing silently: one that includes a dropped column
            // is dropped too, as PostgreSQL drops it.
            index.include = remap(&index.include)?;
            Some(index)
        })
        .collect();
    new.columns = columns.into_iter().map(|(c, _)| c).collect();
    for &key in &new.primary_key {
        new.columns[key].nullable = false;
    }
    new.counted_rows = true;
    new.missing = Vec::new();
    let constraint = format!("{table_name}_pkey");
    rebuild_table(txn, &old, new, &constraint, Some(transform))
}
