//! The migration's own state in H: where it is, and which documents it rejected.
//!
//! Four engine tables. Three are hdb's bookkeeping, hidden from SQL by the reserved
//! name prefix; the last is for people — which documents were left behind and why — so
//! SQL reads it like any table (`SELECT doc_key, reason FROM hdb_migrate_rejected`):
//!
//! ```text
//! __hdb_migrate_progress (target_table TEXT PRIMARY KEY, phase TEXT, generation INT,
//!                         log_offset INT, batch_size INT, loaded INT, rejected INT,
//!                         changes_applied INT)
//! __hdb_migrate_batches  (target_table TEXT, batch INT, loaded INT, rejected INT,
//!                         PRIMARY KEY (target_table, batch))
//! __hdb_migrate_indexes  (target_table TEXT, index_name TEXT, columns BYTES,
//!                         PRIMARY KEY (target_table, index_name))   -- see indexes.rs
//! hdb_migrate_rejected   (target_table TEXT, doc_key TEXT, reason TEXT,
//!                         PRIMARY KEY (target_table, doc_key))
//! ```
//!
//! During the bulk phase the snapshot at (`generation`, `log_offset`) is cut into
//! batches: its keys in sorted order, `batch_size` at a time. The snapshot and the batch
//! size are recorded, so the cut is the same in every run. So is the order (the phase
//! says which, [`Cut`]): a migration started now sorts by the primary key H stores
//! (so batches append to the table's tree in its key order, which the bulk load
//! relies on for speed, see `load.rs`); one recorded as `bulk` by an earlier version
//! sorted D's keys as strings, and is resumed in that order.
//!
//! **Invariant**: a batch's marker row (in `__hdb_migrate_batches`) and its rejected
//! rows are written in the same H transaction as the batch's rows; the progress row is
//! written in the same transaction as the changes it describes. So after any crash or
//! kill, H holds exactly the batches that have a marker — in the bulk phase — or D's
//! state at (`generation`, `log_offset`) — after it. Resuming loads exactly the batches
//! without a marker, so it never loads a document twice and never skips one. Batches
//! touch disjoint keys, so several workers can commit them concurrently.
//!
//! A rejected document is recorded under its D key, unless the key is longer than
//! [`MAX_RECORDED_KEY_BYTES`] (a key too long for H is one reason to reject a document):
//! then under [`rejection_key`], its first bytes and a hash of the whole key, so the
//! record still fits H's key limit and still names one document. Everything that looks
//! a rejection up goes through [`rejection_key`].

use std::collections::HashMap;
use std::ops::Bound;

use engine::Transaction;
use engine::keycode::KeyValue;
use engine::table::{Column, ColumnType, TableDef, TableSchema, catalog, ops};
use kv_legacy::LogPosition;

/// The progress table.
pub const PROGRESS_TABLE: &str = "__hdb_migrate_progress";
/// The table of committed bulk-load batches.
pub const BATCHES_TABLE: &str = "__hdb_migrate_batches";
/// The table of indexes the bulk load defers (see `indexes.rs`).
pub const INDEXES_TABLE: &str = "__hdb_migrate_indexes";
/// The table of rejected documents: readable with SQL (not under the reserved prefix).
/// Deleting its rows makes the next verification report a mismatch, as it should: H
/// would no longer account for every document of D.
pub const REJECTED_TABLE: &str = "hdb_migrate_rejected";

/// The order in which a bulk load cuts the snapshot's keys into batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// D's keys compared as strings (migrations recorded as `bulk`).
    DKey,
    /// The encoded primary keys H stores, so batches follow the table's key order; keys
    /// with no primary key (their documents are rejected) last, as strings (`bulk-pk`).
    PrimaryKey,
}

/// Which part of the migration the progress describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Loading the snapshot at `position`, in batches of its sorted keys.
    Bulk,
    /// The snapshot is loaded; H reflects D as of `position`.
    Loaded,
}

/// One migration's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub phase: Phase,
    pub position: LogPosition,
    /// Documents per bulk-load batch (fixed when the migration starts).
    pub batch_size: u64,
    /// The order of the bulk load's batches (fixed when the migration starts).
    pub cut: Cut,
    /// Documents loaded and rejected by the bulk load (set when it completes).
    pub loaded: u64,
    pub rejected: u64,
    /// Changes from D's log applied after the bulk load, over all runs.
    pub changes_applied: u64,
}

impl Progress {
    /// The progress of a migration that is about to load the snapshot at `position`.
    pub fn start(position: LogPosition, batch_size: u64) -> Progress {
        Progress {
            phase: Phase::Bulk,
            position,
            batch_size: batch_size.max(1),
            cut: Cut::PrimaryKey,
            loaded: 0,
            rejected: 0,
            changes_applied: 0,
        }
    }
}

/// The bookkeeping tables.
#[derive(Debug, Clone)]
pub struct ProgressTables {
    pub progress: TableSchema,
    pub batches: TableSchema,
    pub rejected: TableSchema,
    pub indexes: TableSchema,
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
                    column("batch_size", ColumnType::Int, false),
                    column("loaded", ColumnType::Int, false),
                    column("rejected", ColumnType::Int, false),
                    column("changes_applied", ColumnType::Int, false),
                ],
                primary_key: vec!["target_table".to_string()],
            },
        )?,
    };
    let batches = match catalog::find_table(txn, BATCHES_TABLE)? {
        Some(table) => table,
        None => catalog::create_table(
            txn,
            TableDef {
                name: BATCHES_TABLE.to_string(),
                columns: vec![
                    column("target_table", ColumnType::Text, false),
                    column("batch", ColumnType::Int, false),
                    column("loaded", ColumnType::Int, false),
                    column("rejected", ColumnType::Int, false),
                ],
                primary_key: vec!["target_table".to_string(), "batch".to_string()],
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
    let indexes = match catalog::find_table(txn, INDEXES_TABLE)? {
        Some(table) => table,
        None => catalog::create_table(
            txn,
            TableDef {
                name: INDEXES_TABLE.to_string(),
                columns: vec![
                    column("target_table", ColumnType::Text, false),
                    column("index_name", ColumnType::Text, false),
                    column("columns", ColumnType::Bytes, false),
                ],
                primary_key: vec!["target_table".to_string(), "index_name".to_string()],
            },
        )?,
    };
    Ok(ProgressTables {
        progress,
        batches,
        rejected,
        indexes,
    })
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
        batch_size,
        loaded,
        rejected,
        changes,
    ] = row.as_slice()
    else {
        return Err(corrupt("row"));
    };
    let (phase, cut) = match phase {
        KeyValue::Text(p) if p == "bulk" => (Phase::Bulk, Cut::DKey),
        KeyValue::Text(p) if p == "bulk-pk" => (Phase::Bulk, Cut::PrimaryKey),
        KeyValue::Text(p) if p == "loaded" => (Phase::Loaded, Cut::PrimaryKey),
        _ => return Err(corrupt("phase")),
    };
    Ok(Some(Progress {
        phase,
        position: LogPosition {
            generation: as_u64(generation, "generation")?,
            offset: as_u64(offset, "log_offset")?,
        },
        batch_size: as_u64(batch_size, "batch_size")?.max(1),
        cut,
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
        text(match (progress.phase, progress.cut) {
            (Phase::Bulk, Cut::DKey) => "bulk",
            (Phase::Bulk, Cut::PrimaryKey) => "bulk-pk",
            (Phase::Loaded, _) => "loaded",
        }),
        int(progress.position.generation),
        int(progress.position.offset),
        int(progress.batch_size),
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

/// The longest D key recorded as it is in the rejection table: with the table name
/// (at most 63 bytes) it makes a key well within H's limit at the default page size.
pub const MAX_RECORDED_KEY_BYTES: usize = 256;

/// The key under which the rejection of D's document `key` is recorded: `key` itself, or
/// for a longer key than [`MAX_RECORDED_KEY_BYTES`], its first 200 bytes (to a character
/// boundary), its length and a 64-bit FNV-1a hash of all of it.
pub fn rejection_key(key: &str) -> std::borrow::Cow<'_, str> {
    const SHOWN_BYTES: usize = 200;
    if key.len() <= MAX_RECORDED_KEY_BYTES {
        return std::borrow::Cow::Borrowed(key);
    }
    let cut = (0..=SHOWN_BYTES)
        .rev()
        .find(|&i| key.is_char_boundary(i))
        .unwrap_or(0);
    std::borrow::Cow::Owned(format!(
        "{}...[{} bytes, fnv1a64 {:016x}]",
        &key[..cut],
        key.len(),
        fnv1a64(key.as_bytes())
    ))
}

/// FNV-1a, 64 bits: a stable hash (the same in every build, unlike `std`'s hasher).
fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// Records that D's document `key` was rejected, and why.
pub fn reject(
    txn: &mut Transaction,
    tables: &ProgressTables,
    table: &str,
    key: &str,
    reason: &str,
) -> engine::Result<()> {
    let recorded = rejection_key(key);
    let pk = [text(table), text(&recorded)];
    upsert(
        txn,
        &tables.rejected,
        &pk,
        vec![text(table), text(&recorded), text(reason)],
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
    ops::delete(
        txn,
        &tables.rejected,
        &[text(table), text(&rejection_key(key))],
    )
}

/// Every rejected document of the migration into `table`: (recorded key, reason); see
/// [`rejection_key`].
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

/// Records that bulk-load batch `batch` is committed, in the transaction that writes it.
pub fn mark_batch(
    txn: &mut Transaction,
    tables: &ProgressTables,
    table: &str,
    batch: u64,
    loaded: u64,
    rejected: u64,
) -> engine::Result<()> {
    let row = vec![text(table), int(batch), int(loaded), int(rejected)];
    ops::insert(txn, &tables.batches, row).map(drop)
}

/// The committed bulk-load batches of the migration into `table`: batch number to
/// (documents loaded, documents rejected).
pub fn committed_batches(
    txn: &mut Transaction,
    tables: &ProgressTables,
    table: &str,
) -> engine::Result<HashMap<u64, (u64, u64)>> {
    let prefix = [text(table)];
    let mut out = HashMap::new();
    for entry in ops::scan(
        txn,
        &tables.batches,
        Bound::Included(&prefix),
        Bound::Included(&prefix),
        false,
    )? {
        let (_, row) = entry?;
        let [_, batch, loaded, rejected] = row.as_slice() else {
            return Err(corrupt("batch row"));
        };
        out.insert(
            as_u64(batch, "batch")?,
            (as_u64(loaded, "loaded")?, as_u64(rejected, "rejected")?),
        );
    }
    Ok(out)
}
