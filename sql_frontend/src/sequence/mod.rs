//! Sequences: `CREATE SEQUENCE`, the counters behind SERIAL and identity columns, and
//! `nextval` / `currval` / `setval` / `lastval`.
//!
//! ## What a sequence promises
//!
//! As in PostgreSQL, a value `nextval` hands out is never handed out again — not after
//! the transaction that took it rolls back, not after a crash — and taking one never
//! waits for another transaction's commit: sequences are deliberately *not*
//! transactional, so two sessions inserting into one SERIAL table never conflict over
//! the counter. Gaps are allowed (a rolled-back insert leaves one; a crash may leave
//! a larger one).
//!
//! ## Where a sequence lives
//!
//! Definition and state share one row of the engine table [`SQL_SEQUENCES_TABLE`]:
//!
//! ```text
//! __hdb_sql_sequences (name TEXT PRIMARY KEY, data_type TEXT, start_value INT,
//!                      increment INT, min_value INT, max_value INT, cache INT,
//!                      cycle BOOL, owner_table TEXT NULL, owner_column TEXT NULL,
//!                      incarnation INT, last_value INT, is_called BOOL)
//! ```
//!
//! created by the first CREATE SEQUENCE (or SERIAL / identity column), in its
//! transaction. CREATE and DROP SEQUENCE write the row through the statement's
//! transaction, so they are as transactional as any DDL. `last_value` and `is_called`
//! are PostgreSQL's: the next value is `last_value` itself while `is_called` is false
//! (a new or `setval(.., false)` sequence), else the one after it.
//!
//! ## Taking values without a transaction's commit: reservations
//!
//! `nextval` does not write the row for every value. It hands out values from a block
//! that a *reservation* made durable beforehand: a short transaction of its own,
//! independent of the caller's (`values.rs`), locks the row, advances `last_value` past
//! a block of values, and commits — with the database's durability, so once it returns
//! the block can never be reserved again, whatever happens to the caller. The block is
//! then kept in memory, shared by every session of the database (`shared.rs`), and
//! values are taken from it under a per-sequence lock. A crash loses the rest of the
//! block: the gap PostgreSQL also leaves (it logs 32 values ahead). The first block of
//! a sequence holds 32 values; a block used up within a second of its reservation makes
//! the next one twice as large, up to 8,192, so a bulk load pays one commit per few
//! thousand rows instead of per 32.
//!
//! Each row carries an *incarnation*, a random number drawn when the sequence is
//! created and again when TRUNCATE ... RESTART IDENTITY restarts it; blocks are kept
//! under (name, incarnation), so a block of a dropped or restarted sequence is never
//! used again. A statement binds the incarnation it sees. Where the reservation's own
//! transaction sees no row, or another incarnation, the caller's transaction has
//! created or restarted the sequence and not committed: its values are then reserved
//! inside the caller's transaction (the block kept by the session, never shared, and
//! forgotten when the transaction ends). That is safe for the same reason PostgreSQL's
//! is: if the transaction rolls back, the sequence (or its restart) is gone with the
//! values. It also keeps a session from waiting for its own lock on the row.
//!
//! ## Where H differs from PostgreSQL
//!
//! `CACHE n` is recorded and shown but values are not cached per session: blocks are
//! shared, so values come out in increasing order across sessions (PostgreSQL's with
//! the default CACHE 1). `ALTER SEQUENCE` is unsupported, and sequence names are not
//! schema-qualified. nextval in a READ ONLY transaction is not refused.

mod values;

use std::ops::Bound;

use engine::Transaction;
use engine::keycode::KeyValue;
use engine::table::{Column, ColumnType, TableDef, TableSchema, catalog, ops};

use crate::error::{Error, Result};
use crate::types::SqlType;

pub use values::{ReservedValues, SequenceValues};

/// The engine table holding every sequence's definition and state.
pub const SQL_SEQUENCES_TABLE: &str = "__hdb_sql_sequences";

/// A sequence's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceDef {
    pub name: String,
    /// SMALLINT, INTEGER or BIGINT: bounds MINVALUE and MAXVALUE.
    pub data_type: SqlType,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
    /// The column whose sequence this is (`OWNED BY table.column`, SERIAL, identity):
    /// dropped with the table.
    pub owned_by: Option<(String, String)>,
}

/// A sequence's definition and the state its row holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSequence {
    pub def: SequenceDef,
    pub incarnation: i64,
    pub last_value: i64,
    pub is_called: bool,
}

/// The options of `CREATE SEQUENCE` (or an identity column's), as written: `None`
/// where the statement did not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SequenceOptions {
    pub data_type: Option<SqlType>,
    pub increment: Option<i64>,
    /// `Some(None)`: `NO MINVALUE`.
    pub min: Option<Option<i64>>,
    pub max: Option<Option<i64>>,
    pub start: Option<i64>,
    pub cache: Option<i64>,
    pub cycle: Option<bool>,
    /// `Some(None)`: `OWNED BY NONE`.
    pub owned_by: Option<Option<(String, String)>>,
}

impl SequenceDef {
    /// The definition `options` give sequence `name`, with PostgreSQL's defaults and
    /// checks (`CREATE SEQUENCE`'s errors, SQLSTATE 22023).
    pub fn new(name: String, options: &SequenceOptions) -> Result<SequenceDef> {
        let data_type = options.data_type.unwrap_or(SqlType::BigInt);
        let (type_min, type_max) = match data_type {
            SqlType::SmallInt => (i64::from(i16::MIN), i64::from(i16::MAX)),
            SqlType::Integer => (i64::from(i32::MIN), i64::from(i32::MAX)),
            SqlType::BigInt => (i64::MIN, i64::MAX),
            _ => {
                return Err(Error::Data(
                    "sequence type must be smallint, integer, or bigint".into(),
                ));
            }
        };
        let increment = options.increment.unwrap_or(1);
        if increment == 0 {
            return Err(Error::Data("INCREMENT must not be zero".into()));
        }
        let type_name = data_type.to_string().to_ascii_lowercase();
        let in_type = |what: &str, value: i64| match (type_min..=type_max).contains(&value) {
            true => Ok(value),
            false => Err(Error::Data(format!(
                "{what} ({value}) is out of range for sequence data type {type_name}"
            ))),
        };
        let min = match options.min.flatten() {
            Some(min) => in_type("MINVALUE", min)?,
            None if increment > 0 => 1,
            None => type_min,
        };
        let max = match options.max.flatten() {
            Some(max) => in_type("MAXVALUE", max)?,
            None if increment > 0 => type_max,
            None => -1,
        };
        if min >= max {
            return Err(Error::Data(format!(
                "MINVALUE ({min}) must be less than MAXVALUE ({max})"
            )));
        }
        let start = options
            .start
            .unwrap_or(if increment > 0 { min } else { max });
        if start < min {
            return Err(Error::Data(format!(
                "START value ({start}) cannot be less than MINVALUE ({min})"
            )));
        }
        if start > max {
            return Err(Error::Data(format!(
                "START value ({start}) cannot be greater than MAXVALUE ({max})"
            )));
        }
        let cache = options.cache.unwrap_or(1);
        if cache <= 0 {
            return Err(Error::Data(format!(
                "CACHE ({cache}) must be greater than zero"
            )));
        }
        Ok(SequenceDef {
            name,
            data_type,
            start,
            increment,
            min,
            max,
            cache,
            cycle: options.cycle.unwrap_or(false),
            owned_by: options.owned_by.clone().flatten(),
        })
    }

    /// The value after `value`, wrapping around with CYCLE; `None` past the end.
    pub fn after(&self, value: i64) -> Option<i64> {
        match value.checked_add(self.increment) {
            Some(next) if (self.min..=self.max).contains(&next) => Some(next),
            _ if self.cycle && self.increment > 0 => Some(self.min),
            _ if self.cycle => Some(self.max),
            _ => None,
        }
    }

    /// nextval's error past the end (SQLSTATE 2200H).
    pub fn exhausted(&self) -> Error {
        match self.increment > 0 {
            true => Error::Data(format!(
                "nextval: reached maximum value of sequence \"{}\" ({})",
                self.name, self.max
            )),
            false => Error::Data(format!(
                "nextval: reached minimum value of sequence \"{}\" ({})",
                self.name, self.min
            )),
        }
    }
}

impl StoredSequence {
    /// The value `nextval` gives next, if any (`None`: exhausted without CYCLE).
    pub fn next_value(&self) -> Option<i64> {
        match self.is_called {
            true => self.def.after(self.last_value),
            false => Some(self.last_value),
        }
    }
}

fn sequences_def() -> TableDef {
    let column = |name: &str, ty, nullable| Column {
        name: name.to_string(),
        ty,
        nullable,
    };
    TableDef {
        name: SQL_SEQUENCES_TABLE.to_string(),
        columns: vec![
            column("name", ColumnType::Text, false),
            column("data_type", ColumnType::Text, false),
            column("start_value", ColumnType::Int, false),
            column("increment", ColumnType::Int, false),
            column("min_value", ColumnType::Int, false),
            column("max_value", ColumnType::Int, false),
            column("cache", ColumnType::Int, false),
            column("cycle", ColumnType::Bool, false),
            column("owner_table", ColumnType::Text, true),
            column("owner_column", ColumnType::Text, true),
            column("incarnation", ColumnType::Int, false),
            column("last_value", ColumnType::Int, false),
            column("is_called", ColumnType::Bool, false),
        ],
        primary_key: vec!["name".to_string()],
    }
}

fn corrupt(name: &str) -> Error {
    Error::Engine(engine::Error::CorruptData(format!(
        "{SQL_SEQUENCES_TABLE}: bad row for {name:?}"
    )))
}

fn row_of(sequence: &StoredSequence) -> Vec<KeyValue> {
    let def = &sequence.def;
    let (owner_table, owner_column) = match &def.owned_by {
        Some((table, column)) => (
            KeyValue::Text(table.clone()),
            KeyValue::Text(column.clone()),
        ),
        None => (KeyValue::Null, KeyValue::Null),
    };
    vec![
        KeyValue::Text(def.name.clone()),
        KeyValue::Text(def.data_type.to_string()),
        KeyValue::Int(def.start),
        KeyValue::Int(def.increment),
        KeyValue::Int(def.min),
        KeyValue::Int(def.max),
        KeyValue::Int(def.cache),
        KeyValue::Bool(def.cycle),
        owner_table,
        owner_column,
        KeyValue::Int(sequence.incarnation),
        KeyValue::Int(sequence.last_value),
        KeyValue::Bool(sequence.is_called),
    ]
}

fn sequence_of_row(row: &[KeyValue]) -> Result<StoredSequence> {
    let [
        KeyValue::Text(name),
        KeyValue::Text(data_type),
        KeyValue::Int(start),
        KeyValue::Int(increment),
        KeyValue::Int(min),
        KeyValue::Int(max),
        KeyValue::Int(cache),
        KeyValue::Bool(cycle),
        owner_table,
        owner_column,
        KeyValue::Int(incarnation),
        KeyValue::Int(last_value),
        KeyValue::Bool(is_called),
    ] = row
    else {
        return Err(corrupt("a sequence"));
    };
    let owned_by = match (owner_table, owner_column) {
        (KeyValue::Text(table), KeyValue::Text(column)) => Some((table.clone(), column.clone())),
        (KeyValue::Null, KeyValue::Null) => None,
        _ => return Err(corrupt(name)),
    };
    Ok(StoredSequence {
        def: SequenceDef {
            name: name.clone(),
            data_type: SqlType::parse(data_type).ok_or_else(|| corrupt(name))?,
            start: *start,
            increment: *increment,
            min: *min,
            max: *max,
            cache: *cache,
            cycle: *cycle,
            owned_by,
        },
        incarnation: *incarnation,
        last_value: *last_value,
        is_called: *is_called,
    })
}

fn key(name: &str) -> [KeyValue; 1] {
    [KeyValue::Text(name.to_string())]
}

/// The sequence called `name`, as `txn` sees the catalog.
pub fn find(txn: &mut Transaction, name: &str) -> Result<Option<StoredSequence>> {
    let Some(meta) = catalog::find_table(txn, SQL_SEQUENCES_TABLE)? else {
        return Ok(None);
    };
    match ops::get(txn, &meta, &key(name))? {
        None => Ok(None),
        Some(row) => sequence_of_row(&row).map(Some),
    }
}

/// Every sequence, sorted by name.
pub fn all(txn: &mut Transaction) -> Result<Vec<StoredSequence>> {
    let Some(meta) = catalog::find_table(txn, SQL_SEQUENCES_TABLE)? else {
        return Ok(Vec::new());
    };
    let rows: Vec<_> = ops::scan(txn, &meta, Bound::Unbounded, Bound::Unbounded, false)?
        .collect::<engine::Result<_>>()?;
    rows.iter().map(|(_, row)| sequence_of_row(row)).collect()
}

/// The sequences owned by a column of `table`, sorted by name.
pub fn owned_by_table(txn: &mut Transaction, table: &str) -> Result<Vec<StoredSequence>> {
    Ok(all(txn)?
        .into_iter()
        .filter(|s| s.def.owned_by.as_ref().is_some_and(|(t, _)| t == table))
        .collect())
}

/// Records a new sequence, in `txn`. The caller checked that no relation has its name.
pub fn create(txn: &mut Transaction, def: SequenceDef) -> Result<()> {
    let meta = match catalog::find_table(txn, SQL_SEQUENCES_TABLE)? {
        Some(meta) => meta,
        None => catalog::create_table(txn, sequences_def())?,
    };
    let sequence = StoredSequence {
        last_value: def.start,
        is_called: false,
        incarnation: values::new_incarnation(),
        def,
    };
    ops::insert(txn, &meta, row_of(&sequence))?;
    Ok(())
}

/// Removes sequence `name`, in `txn`; returns whether it existed.
pub fn drop(txn: &mut Transaction, name: &str) -> Result<bool> {
    let Some(meta) = catalog::find_table(txn, SQL_SEQUENCES_TABLE)? else {
        return Ok(false);
    };
    Ok(ops::delete(txn, &meta, &key(name))?)
}

/// Writes `sequence`'s row over the one of its name (its owner renamed, its state
/// restarted), in `txn`, which holds the row's lock or takes it here.
fn rewrite(txn: &mut Transaction, sequence: &StoredSequence) -> Result<()> {
    let meta = sequences_table(txn)?;
    ops::update(txn, &meta, &key(&sequence.def.name), row_of(sequence))?;
    Ok(())
}

fn sequences_table(txn: &mut Transaction) -> Result<TableSchema> {
    catalog::find_table(txn, SQL_SEQUENCES_TABLE)?
        .ok_or_else(|| Error::UnknownTable(SQL_SEQUENCES_TABLE.into()))
}

/// Restarts `sequence` at its START value, in `txn` (TRUNCATE ... RESTART IDENTITY):
/// a new incarnation, so no block reserved before is used after.
pub fn restart(txn: &mut Transaction, mut sequence: StoredSequence) -> Result<()> {
    sequence.last_value = sequence.def.start;
    sequence.is_called = false;
    sequence.incarnation = values::new_incarnation();
    rewrite(txn, &sequence)
}

/// Points the sequences owned by columns of `table` at its new name (ALTER TABLE ...
/// RENAME TO), or at a renamed column (`column`: old and new name).
pub fn rename_owner(
    txn: &mut Transaction,
    table: &str,
    new_table: &str,
    column: Option<(&str, &str)>,
) -> Result<()> {
    for mut sequence in owned_by_table(txn, table)? {
        let Some((_, owner_column)) = &mut sequence.def.owned_by else {
            continue;
        };
        let owner_column = match column {
            Some((old, new)) if owner_column == old => new.to_string(),
            Some(_) => continue,
            None => std::mem::take(owner_column),
        };
        sequence.def.owned_by = Some((new_table.to_string(), owner_column));
        rewrite(txn, &sequence)?;
    }
    Ok(())
}

/// A name for the sequence of `table.column` that no relation has yet: PostgreSQL's
/// `table_column_seq`, with a number appended while it is taken.
pub fn name_for_column(
    txn: &mut Transaction,
    table: &str,
    column: &str,
    taken: &dyn Fn(&mut Transaction, &str) -> Result<bool>,
) -> Result<String> {
    let base = format!("{table}_{column}_seq");
    let mut name = base.clone();
    let mut n = 0;
    while taken(txn, &name)? {
        n += 1;
        name = format!("{base}{n}");
    }
    Ok(name)
}
