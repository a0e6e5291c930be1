//! Secondary indexes built after the load, not row by row during it.
//!
//! An index that exists while the rows go in costs every row one more write into a tree
//! in no useful order (the index's key order is not the primary key's), with a lock, a
//! probe and a split now and then. Built afterwards, it is one scan of the table, one
//! sort and a bottom-up tree (CREATE INDEX, `engine/src/table/index_build.rs`). So a
//! migration that starts on an empty table moves the table's **non-unique** indexes out
//! of the way first and creates them again once the bulk load is done:
//!
//! - **Defer** ([`defer`]), in the transaction that records the migration's start: each
//!   non-unique index of the (empty) table is dropped and its definition — name and
//!   column names — written to `__hdb_migrate_indexes`. A UNIQUE index stays: whether a
//!   document is rejected for a duplicate must be decided when it is loaded, as before.
//! - **Load**: the converter checks each row against the deferred indexes too
//!   ([`crate::migrate::RowConverter::with_deferred_indexes`]), so a document whose
//!   index entry H could not hold is rejected during the load exactly as it was when
//!   the index existed, and the index build afterwards cannot fail on it.
//! - **Build** ([`build`]), after the bulk load and before anything else writes the
//!   table through its schema (a resync, the follower): each recorded index is created
//!   by `catalog::create_index`, and its record deleted, in one transaction per index.
//!
//! Crash safety: each step is one transaction, so at every moment an index either
//! exists or is recorded as deferred, never both, never neither. A run that resumes
//! finds the records and builds what is left (a build that was interrupted left
//! nothing: see the header of `index_build.rs`). Until then SQL sees the table without
//! those indexes — a plan that would have used one scans instead; the answers are the
//! same.

use engine::keycode::{KeyValue, decode, encode};
use engine::table::{IndexSchema, TableSchema, catalog, ops};
use engine::{IsolationLevel, Transaction, TreeId};

use crate::migrate::error::MigrateError;
use crate::migrate::progress::ProgressTables;

fn text(s: &str) -> KeyValue {
    KeyValue::Text(s.to_string())
}

fn corrupt(what: &str) -> engine::Error {
    engine::Error::CorruptData(format!(
        "{}: bad {what}",
        crate::migrate::progress::INDEXES_TABLE
    ))
}

/// Drops the non-unique indexes of `schema`'s table, which must be empty, and records
/// them as deferred for the migration into it; returns how many.
pub fn defer(
    txn: &mut Transaction,
    tables: &ProgressTables,
    schema: &TableSchema,
) -> engine::Result<usize> {
    let mut deferred = 0;
    for index in schema.indexes.iter().filter(|i| !i.unique) {
        let columns: Vec<KeyValue> = index
            .columns
            .iter()
            .map(|&c| text(&schema.columns[c].name))
            .collect();
        catalog::drop_index(txn, &index.name)?;
        ops::insert(
            txn,
            &tables.indexes,
            vec![
                text(&schema.name),
                text(&index.name),
                KeyValue::Bytes(encode(&columns)),
            ],
        )?;
        deferred += 1;
    }
    Ok(deferred)
}

/// The indexes deferred for the migration into `schema`'s table, as index schemas of
/// that table (their trees do not exist yet: [`TreeId`] 0), for checking rows against.
pub fn deferred(
    txn: &mut Transaction,
    tables: &ProgressTables,
    schema: &TableSchema,
) -> engine::Result<Vec<IndexSchema>> {
    recorded(txn, tables, &schema.name)?
        .into_iter()
        .map(|(name, columns)| {
            let columns = columns
                .iter()
                .map(|c| schema.column_index(c))
                .collect::<engine::Result<Vec<_>>>()?;
            Ok(IndexSchema {
                name,
                tree: TreeId(0),
                columns,
                unique: false,
                include: Vec::new(),
            })
        })
        .collect()
}

/// Every deferred index of the migration into `table`: its name and column names.
fn recorded(
    txn: &mut Transaction,
    tables: &ProgressTables,
    table: &str,
) -> engine::Result<Vec<(String, Vec<String>)>> {
    let prefix = [text(table)];
    let mut out = Vec::new();
    for entry in ops::scan(
        txn,
        &tables.indexes,
        std::ops::Bound::Included(&prefix),
        std::ops::Bound::Included(&prefix),
        false,
    )? {
        let (_, row) = entry?;
        let [_, KeyValue::Text(name), KeyValue::Bytes(columns)] = row.as_slice() else {
            return Err(corrupt("row"));
        };
        let columns = decode(columns)?
            .into_iter()
            .map(|c| match c {
                KeyValue::Text(c) => Ok(c),
                _ => Err(corrupt("column list")),
            })
            .collect::<engine::Result<Vec<_>>>()?;
        out.push((name.clone(), columns));
    }
    Ok(out)
}

/// Creates every index deferred for the migration into `table` (CREATE INDEX's one-pass
/// build), each in its own transaction with the removal of its record; returns how
/// many it built.
pub fn build(
    db: &engine::Database,
    tables: &ProgressTables,
    table: &str,
) -> Result<usize, MigrateError> {
    let pending = {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        let pending = recorded(&mut txn, tables, table)?;
        txn.commit()?;
        pending
    };
    for (name, columns) in &pending {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
        catalog::create_index(&mut txn, table, name, &columns, false)?;
        ops::delete(&mut txn, &tables.indexes, &[text(table), text(name)])?;
        txn.commit()?;
    }
    Ok(pending.len())
}
