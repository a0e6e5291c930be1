//! The migration's own state in H: where it is, and which documents it rejected.
//!
//! Two engine tables, hidden from SQL by hdb's reserved name prefix:
//!
//! ```text
//! __hdb_migrate_progress (target_table TEXT PRIMARY KEY, phase TEXT, generation INT,
//!                         log_offset INT, last_key TEXT NULL, loaded INT, rejected INT,
//!                         changes_applied INT)
//! __hdb_migrate_rejected (target_table TEXT, doc_key TEXT, reason TEXT,
//!                         PRIMARY KEY (target_table, doc_key))
//! ```
//!
//! **Invariant**: the progress row and the rejected rows are written in the same H
//! transaction as the rows of the batch they describe. So after any crash or kill, H
//! holds exactly the batches up to the recorded progress: during the bulk phase, every
//! document of the snapshot at (`generation`, `log_offset`) with key <= `last_key`;
//! after it, D's state at (`generation`, `log_offset`). Resuming from the row therefore
//! never loads a document twice and never skips one.

use std::ops::Bound;

use engine::Transaction;
use engine::keycode::KeyValue;
use engine::table::{Column, ColumnType, TableDef, TableSchema, catalog, ops};
use kv_legacy::LogPosition;

/// The progress table.
pub const PROGRESS_TABLE: &str = "__hdb_migrate_progress";
/// The table of rejected documents.
pub const REJECTED_TABLE: &str = "__hdb_migrate_rejected";

/// Which part of the migration the progress describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Loading the snapshot at `position`, in key order.
    Bulk,
    /// The snapshot is loaded; H reflects D as of `position`.
    Loaded,
}

/// One migration's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub position: LogPosition,
    /// The last key loaded in the bulk phase.
    pub last_key: Option<String>,
    /// Documents loaded (bulk phase) and rejected so far, over all runs.
    pub loaded: u64,
    pub rejected: u64,
    /// Changes from D's log applied after the bulk load, over all runs.
    pub changes_applied: u64,
}

impl Progress {
    /// The progress of a migration that is about to load the snapshot at `position`.
    pub fn start(position: LogPosition) -> Progress {
        Progress {
            phase: Phase::Bulk,
            position,
            last_key: None,
            loaded: 0,
            rejected: 0,
            changes_applied: 0,
        }
    }
}

/// The two bookkeeping tables.
#[derive(Debug, Clone)]
pub struct ProgressTables {
    pub progress: TableSchema,
    pub rejected: TableSchema,
}

fn column(name: &str, ty: ColumnType, nullable: bool) -> Column {
    Column {
        name: name.to_string(),
        ty,
        nullable,
    }
}

/// Finds the bookkeeping tables, creating them in `txn` if missing.
pub fn ensure_tables(txn: &mut Transaction) -> engine::Result<ProgressTables> {
    let progress = match catalog::find_table(txn, PROGRESS_TABLE)? {
        Some(table) => table,
        None => catalog::create_table(
            txn,
            TableDef {
                name: PROGRESS_TABLE.to_string(),
                columns: vec![
                    column("target_table", ColumnType::Text, false),
                    column("phase", ColumnType::Text, false),
                    column("generation", ColumnType::Int, false),
                    column("log_offset", ColumnType::Int, false),
                    column("last_key", ColumnType::Text, true),
                    column("loaded", ColumnType::Int, false),
                    column("rejected", ColumnType::Int, false),
                    column("changes_applied", ColumnType::Int, false),
                ],
                primary_key: vec!["target_table".to_string()],
            },
        )?,
    };
    let rejected = match catalog::find_table(txn, REJECTED_TABLE)? {
        Some(table) => table,
        None => catalog::create_table(
            txn,
            TableDef {
                name: REJECTED_TABLE.to_string(),
                columns: vec![
                    column("target_table", ColumnType::Text, false),
                    column("doc_key", ColumnType::Text, false),
                    column("reason", ColumnType::Text, false),
                ],
                primary_key: vec!["target_table".to_string(), "doc_key".to_string()],
            },
        )?,
    };
    Ok(ProgressTables { progress, rejected })
}

fn text(s: &str) -> KeyValue {
    KeyValue::Text(s.to_string())
}

fn int(value: u64) -> KeyValue {
    KeyValue::Int(i64::try_from(value).unwrap_or(i64::MAX))
}

fn corrupt(what: &str) -> engine::Error {
    engine::Error::CorruptData(format!("{PROGRESS_TABLE}: bad {what}"))
}

fn as_u64(value: &KeyValue, what: &str) -> engine::Result<u64> {
    match value {
        KeyValue::Int(i) => u64::try_from(*i).map_err(|_| corrupt(what)),
        _ => Err(corrupt(what)),
    }
}

/// The progress of the migration into `table`, if one was started.
pub fn read(
    txn: &mut Transaction,
    tables: &ProgressTables,
    table: &str,
) -> engine::Result<Option<Progress>> {
    let Some(row) = ops::get(txn, &tables.progress, &[text(table)])? else {
        return Ok(None);
    };
    let [
        _,
        phase,
        generation,
        offset,
        last_key,
        loaded,
        rejected,
        changes,
    ] = row.as_slice()
    else {
        return Err(corrupt("row"));
    };
    let phase = match phase {
        KeyValue::Text(p) if p == "bulk" => Phase::Bulk,
        KeyValue::Text(p) if p == "loaded" => Phase::Loaded,
        _ => return Err(corrupt("phase")),
    };
    let last_key = match last_key {
        KeyValue::Text(k) => Some(k.clone()),
        KeyValue::Null => None,
        _ => return Err(corrupt("last_key")),
    };
    Ok(Some(Progress {
        phase,
        position: LogPosition {
            generation: as_u64(generation, "generation")?,
            offset: as_u64(offset, "log_offset")?,
        },
        last_key,
        loaded: as_u64(loaded, "loaded")?,
        rejected: as_u64(rejected, "rejected")?,
        changes_applied: as_u64(changes, "changes_applied")?,
    }))
}

/// Writes the progress of the migration into `table`.
pub fn write(
    txn: &mut Transaction,
    tables: &ProgressTables,
    table: &str,
    progress: &Progress,
) -> engine::Result<()> {
    let row = vec![
        text(table),
        text(match progress.phase {
            Phase::Bulk => "bulk",
            Phase::Loaded => "loaded",
        }),
        int(progress.position.generation),
        int(progress.position.offset),
        progress.last_key.as_deref().map_or(KeyValue::Null, text),
        int(progress.loaded),
        int(progress.rejected),
        int(progress.changes_applied),
    ];
    upsert(txn, &tables.progress, &[text(table)], row)
}

fn upsert(
    txn: &mut Transaction,
    schema: &TableSchema,
    pk: &[KeyValue],
    row: Vec<KeyValue>,
) -> engine::Result<()> {
    match ops::get(txn, schema, pk)? {
        Some(_) => ops::update(txn, schema, pk, row).map(drop),
        None => ops::insert(txn, schema, row).map(drop),
    }
}

/// Records that D's document `key` was rejected, and why.
pub fn reject(
    txn: &mut Transaction,
    tables: &ProgressTables,
    table: &str,
    key: &str,
    reason: &str,
) -> engine::Result<()> {
    let pk = [text(table), text(key)];
    upsert(
        txn,
        &tables.rejected,
        &pk,
        vec![text(table), text(key), text(reason)],
    )
}

/// Forgets a rejection (the document was deleted or replaced by a good one); returns
/// whether there was one.
pub fn unreject(
    txn: &mut Transaction,
    tables: &ProgressTables,
    table: &str,
    key: &str,
) -> engine::Result<bool> {
    ops::delete(txn, &tables.rejected, &[text(table), text(key)])
}

/// Every rejected document of the migration into `table`: (key, reason).
pub fn rejected(
    txn: &mut Transaction,
    tables: &ProgressTables,
    table: &str,
) -> engine::Result<Vec<(String, String)>> {
    let prefix = [text(table)];
    let mut out = Vec::new();
    for entry in ops::scan(
        txn,
        &tables.rejected,
        Bound::Included(&prefix),
        Bound::Included(&prefix),
        false,
    )? {
        let (_, row) = entry?;
        match row.as_slice() {
            [_, KeyValue::Text(key), KeyValue::Text(reason)] => {
                out.push((key.clone(), reason.clone()))
            }
            _ => return Err(corrupt("rejected row")),
        }
    }
    Ok(out)
}
