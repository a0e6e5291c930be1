//! # Rewriting a table into new trees: ADD PRIMARY KEY, DROP COLUMN, ALTER COLUMN TYPE
//!
//! A table's tree is keyed by its primary key, or by a hidden row id when it has none
//! (see [`super::ops`]). Declaring a primary key on a table that has rows therefore
//! moves every row to a new key, and every secondary index entry, which ends in the
//! row's key, changes too. Dropping a column or changing a column's type changes every
//! stored row (and, for a key column, its key). So these statements build a whole new
//! table, in the transaction that runs them, the way CREATE INDEX builds an index
//! (`index_build.rs`); a row keyed by a hidden row id keeps its key:
//!
//! 0. **The table is locked** ([`Transaction::lock_tree`]): no concurrent writer, none
//!    committed after this snapshot, none with an older snapshot afterwards. The rows
//!    this transaction sees are then all the rows the table has.
//! 1. **One pass over the rows**: for ADD PRIMARY KEY each row's stored bytes are kept
//!    as they are (the row encoding does not depend on the key); a rewrite decodes the
//!    row, hands its values to the caller's transformation (which drops a column, or
//!    converts one and fails naming the value that does not convert), checks the result
//!    against the new schema (types, NOT NULL) and encodes it at full length. Its new
//!    key, the keycode encoding of its primary-key values, is put in front of it in one
//!    arena. A row with a NULL in a key column is set aside.
//! 2. **One sort** of the new keys; two equal neighbours are a duplicate key
//!    ([`Constraint::UniqueIndexBuild`], PostgreSQL's `could not create unique index
//!    "t_pkey"` with `Key (a)=(1) is duplicated.`), reported before a NULL
//!    ([`Constraint::NullsInColumn`]), in PostgreSQL's order. Each key is checked
//!    against the trees' key limit ([`Limit::PrimaryKey`](crate::error::Limit)).
//! 3. **Hand over**: the sorted entries go to a new tree the transaction claimed
//!    ([`Transaction::load_sorted`]), which the commit builds bottom-up. Each secondary
//!    index gets a new tree too, built from the new table by `index_build.rs`.
//! 4. **The old trees are emptied** in the transaction (a delete per key, as DROP
//!    TABLE does), so their space returns through garbage collection once no snapshot
//!    can see them, and the catalog's entry for the table names the new trees, the key
//!    columns, and those columns as NOT NULL.
//!
//! ## Crash safety and the commit invariant
//!
//! Every check (locks, NULLs, duplicates, key sizes, index keys) runs in steps 0 to 3,
//! before the commit record is written. The new trees' entries, the old trees'
//! deletes and the catalog row are writes of one transaction and so one commit record:
//! recovery replays all of it or none of it, and applying it can fail only by I/O.
//! A statement that fails leaves the transaction's writes as they were (the session's
//! statement savepoint takes back what it wrote; a claimed tree it never committed is
//! never part of the file). `engine/tests/db_rekey_crash.rs` checks a crash before and
//! after the commit.
//!
//! ## Memory
//!
//! As CREATE INDEX: the whole table (its stored rows, with their new keys) is held in
//! memory until the commit. A table larger than memory cannot be rekeyed yet.

use std::ops::Bound;

use crate::error::{Constraint, Error, Result};
use crate::keycode::{ColumnOrder, KeyValue, decode, describe_key, encode_value_into};
use crate::mvcc::{RunEntry, SortedRun, Transaction};
use crate::table::ops::{check_row_key, validate};
use crate::table::row::{decode_columns, encode_row};
use crate::table::schema::TableSchema;

/// Checks a rewritten row as an insert would, but for a NULL in a key column, which
/// the caller reports after duplicates (PostgreSQL's order).
fn validate_for_rewrite(new: &TableSchema, values: &[KeyValue]) -> Result<()> {
    match validate(new, values) {
        Err(Error::Constraint(Constraint::NotNull { column, .. }))
            if new
                .primary_key
                .iter()
                .any(|&c| new.columns[c].name == column) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// A length in the arena: bounded by the trees' key limit or a stored row's length.
fn run_len(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| Error::CorruptData(format!("a row of {len} bytes")))
}

/// What a rewrite does to each row's values (in `old`'s column order), giving them in
/// `new`'s column order.
pub type Transform<'a> = &'a mut dyn FnMut(Vec<KeyValue>) -> Result<Vec<KeyValue>>;

/// Loads every row `old` holds (as the transaction sees it) into `new`'s tree, which
/// the transaction has claimed, keyed by `new`'s primary key (a hidden row id stays
/// as it was); `constraint` names the key in a duplicate error. Without `transform`,
/// `old` and `new` must have the same columns, and stored rows are copied as they are;
/// with it, each row is decoded, transformed, checked and encoded for `new`. The steps
/// 1 to 3 of the module header.
pub(crate) fn rewrite_rows(
    txn: &mut Transaction,
    old: &TableSchema,
    new: &TableSchema,
    constraint: &str,
    mut transform: Option<Transform<'_>>,
) -> Result<()> {
    let max = txn.mvcc().max_stored_key_len();
    let mut wanted = vec![transform.is_some(); old.columns.len()];
    if transform.is_none() {
        for &column in &new.primary_key {
            wanted[column] = true;
        }
    }
    let mut arena = Vec::new();
    let mut entries: Vec<RunEntry> = Vec::new();
    let mut null_column = None;
    // A table that loses its primary key numbers its rows as inserts would.
    let renumber = new.has_hidden_row_id() && !old.has_hidden_row_id();
    let mut row_id = 0i64;
    for row in txn.scan(old.tree, Bound::Unbounded, Bound::Unbounded, false)? {
        let (old_key, stored) = row?;
        let mut values = decode_columns(old, &stored, |i| wanted[i])?;
        let rewritten = match transform.as_mut() {
            Some(transform) => {
                values = transform(values)?;
                validate_for_rewrite(new, &values)?;
                Some(encode_row(new, &values)?)
            }
            None => None,
        };
        if let Some(&column) = new.primary_key.iter().find(|&&c| values[c].is_null()) {
            null_column.get_or_insert(column);
            continue;
        }
        let at = arena.len();
        match new.has_hidden_row_id() {
            true if renumber => {
                row_id += 1;
                encode_value_into(&mut arena, &KeyValue::Int(row_id), ColumnOrder::ASC);
            }
            true => arena.extend_from_slice(&old_key),
            false => {
                for &column in &new.primary_key {
                    encode_value_into(&mut arena, &values[column], ColumnOrder::ASC);
                }
            }
        }
        let key_len = arena.len() - at;
        check_row_key(new, &arena[at..], max)?;
        let stored = rewritten.unwrap_or(stored);
        arena.extend_from_slice(&stored);
        entries.push(RunEntry {
            at,
            key_len: run_len(key_len)?,
            value_len: run_len(stored.len())?,
        });
    }
    let key = |e: &RunEntry| &arena[e.at..e.at + e.key_len as usize];
    entries.sort_unstable_by(|a, b| key(a).cmp(key(b)));
    if let Some(pair) = entries.windows(2).find(|w| key(&w[0]) == key(&w[1])) {
        let names: Vec<&str> = new
            .primary_key
            .iter()
            .map(|&c| new.columns[c].name.as_str())
            .collect();
        return Err(Error::Constraint(Constraint::UniqueIndexBuild {
            table: new.name.clone(),
            index: constraint.to_string(),
            key: describe_key(&names, &decode(key(&pair[0]))?),
        }));
    }
    if let Some(column) = null_column {
        return Err(Error::Constraint(Constraint::NullsInColumn {
            table: new.name.clone(),
            column: new.columns[column].name.clone(),
        }));
    }
    txn.load_sorted(new.tree, SortedRun { arena, entries })
}
