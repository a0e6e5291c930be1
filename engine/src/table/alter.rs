//! # ALTER TABLE that changes only the catalog: RENAME TO, RENAME COLUMN, SET / DROP NOT
//! NULL
//!
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
//! Each statement takes the table's tree lock ([`Transaction::lock_tree`]) as other DDL
//! does, so it fails with a retryable serialization error while another transaction
//! has written the table, and no writer whose snapshot predates it writes the table
//! afterwards: a row can never be written under the old schema once the new one
//! commits. The catalog writes are ordinary writes of the transaction, so the change
//! commits or rolls back with it, and recovery replays it like any other write.

use std::ops::Bound;

use crate::error::{Constraint, Error, Result};
use crate::mvcc::Transaction;
use crate::table::catalog::{CATALOG_TREE, check_name, find_table, index_key, table, table_key};
use crate::table::row::decode_columns;
use crate::table::schema::TableSchema;

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
            let values = decode_columns(&schema.columns, &stored, |i| i == position)?;
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
