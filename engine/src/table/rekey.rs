//! # ALTER TABLE ... ADD PRIMARY KEY: a table's rows rekeyed into a new tree
//!
//! A table's tree is keyed by its primary key, or by a hidden row id when it has none
//! (see [`super::ops`]). Declaring a primary key on a table that has rows therefore
//! moves every row to a new key, and every secondary index entry, which ends in the
//! row's key, changes too. So the statement builds a whole new table, in the
//! transaction that runs it, the way CREATE INDEX builds an index (`index_build.rs`):
//!
//! 0. **The table is locked** ([`Transaction::lock_tree`]): no concurrent writer, none
//!    committed after this snapshot, none with an older snapshot afterwards. The rows
//!    this transaction sees are then all the rows the table has.
//! 1. **One pass over the rows**: each row's stored bytes are kept as they are (the
//!    row encoding does not depend on the key) and its new key, the keycode encoding
//!    of its primary-key values, is put in front of them in one arena. A row with a
//!    NULL in a key column is set aside.
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
use crate::keycode::{ColumnOrder, decode, describe_key, encode_value_into};
use crate::mvcc::{RunEntry, SortedRun, Transaction};
use crate::table::ops::check_row_key;
use crate::table::row::decode_columns;
use crate::table::schema::TableSchema;

/// A length in the arena: bounded by the trees' key limit or a stored row's length.
fn run_len(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| Error::CorruptData(format!("a row of {len} bytes")))
}

/// Loads every row `old` holds (as the transaction sees it) into `new`'s tree, which
/// the transaction has claimed, keyed by `new`'s primary key; `constraint` names the
/// key in a duplicate error. The steps 1 to 3 of the module header.
pub(crate) fn rekey_rows(
    txn: &mut Transaction,
    old: &TableSchema,
    new: &TableSchema,
    constraint: &str,
) -> Result<()> {
    let max = txn.mvcc().max_stored_key_len();
    let mut wanted = vec![false; new.columns.len()];
    for &column in &new.primary_key {
        wanted[column] = true;
    }
    let mut arena = Vec::new();
    let mut entries: Vec<RunEntry> = Vec::new();
    let mut null_column = None;
    for row in txn.scan(old.tree, Bound::Unbounded, Bound::Unbounded, false)? {
        let (_, stored) = row?;
        let values = decode_columns(&old.columns, &stored, |i| wanted[i])?;
        if let Some(&column) = new.primary_key.iter().find(|&&c| values[c].is_null()) {
            null_column.get_or_insert(column);
            continue;
        }
        let at = arena.len();
        for &column in &new.primary_key {
            encode_value_into(&mut arena, &values[column], ColumnOrder::ASC);
        }
        let key_len = arena.len() - at;
        check_row_key(new, &arena[at..], max)?;
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
