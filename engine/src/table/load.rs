//! # Loading rows into an empty table: one sort, a bottom-up tree, an external sort
//!
//! A row inserted the ordinary way ([`super::ops::insert`]) becomes an entry of the
//! transaction's write set: hashed, checked for a duplicate key there, and held in
//! memory until the commit sorts the set and builds or updates the tree. For a large
//! load into an empty table (`INSERT INTO t SELECT ...`) that is the whole load in
//! memory, however large. [`TableLoad`] is the path of such a load, as CREATE INDEX's
//! is for a new index (`index_build.rs`), and it shares that build's sort and spill:
//!
//! 0. **The table is claimed** first ([`Transaction::claim_empty_for_load`]): it must
//!    be empty, unwritten by this transaction, written by no other (the claim holds it
//!    until this transaction ends), and the isolation not SERIALIZABLE. Otherwise
//!    [`TableLoad::begin`] says so and the caller inserts row by row, as before. A table
//!    with a secondary index takes the row path too (its entries would need a sort of
//!    their own per index; loading first and creating the indexes after is the fast
//!    order anyway, as with PostgreSQL).
//! 1. **Each row** is checked as [`super::ops::insert`] checks it — the column count,
//!    types and NOT NULL ([`super::ops::validate`]), the primary key's size — and its
//!    key and encoded row are appended to one byte arena: no write-set entry, hash or
//!    lock per row.
//! 2. When the arena and its sort heads reach the memory budget
//!    ([`DatabaseOptions::build_memory_bytes`](crate::DatabaseOptions)), they are sorted
//!    (the radix sort of `head_sort.rs`) and **spilled** to a run file
//!    ([`crate::extsort`]), and the arena is reused: memory stays within the budget
//!    however many rows come.
//! 3. **At the end** ([`TableLoad::finish`]) the rows are sorted (or the runs merged),
//!    and two neighbours with one key are a duplicate primary key: the error PostgreSQL
//!    gives (`duplicate key value violates unique constraint`), naming the least such
//!    key, where the row path names the first in the order rows came. The statement
//!    then fails whole, as it would.
//! 4. **Hand-over**: the sorted rows (or runs) go to the write set as a deferred build
//!    *without a marker* ([`Transaction::load_deferred`]): the commit logs them — in
//!    parts, streamed from the runs, when they are many (`wal/record.rs`) — and builds
//!    the empty tree from them bottom-up. Recovery replays the logged rows like any
//!    commit's. A transaction that reads or writes the table before it commits first
//!    reads the rows into its write set (in memory), as it would a deferred index build.
//!
//! Every check runs in steps 1 and 3, before the commit record (the commit invariant
//! of [`crate::mvcc`]). A load that fails leaves nothing of itself: its run files are
//! removed when it is dropped, and nothing reached the write set.
//!
//! ## Memory
//!
//! While rows come, the load holds at most the budget (the arena and 32 bytes of sort
//! head per row) and its source's own state; at the commit, the merge's read buffers
//! and one log part (`wal/record.rs`). What is not bounded, as for CREATE INDEX
//! (`index_build.rs`, Memory): the new tree's pages, which the bottom-up build writes
//! into the pager's cache of dirty pages, where they stay until the next checkpoint.
//! Measured with `hdb sql` on 2,600,000 rows of about 130 bytes (`docs/benchmarks-sql.md`,
//! step 8): the process's peak during the INSERT fell from 1,171 MB (the rows in the
//! write set) to 82 MB, and over the whole run, commit included, from 1.38 GB to
//! 1.03 GB.

use crate::error::Result;
use crate::extsort::{RunFile, SpilledRuns};
use crate::keycode::{ColumnOrder, KeyValue, decode, encode_value_into};
use crate::mvcc::{DeferredBuild, Transaction};
use crate::table::index_build::{Collected, Entries};
use crate::table::ops::{check_row_key, duplicate_primary_key, next_row_id, validate};
use crate::table::row::encode_row_into;
use crate::table::schema::TableSchema;

/// A load of rows into an empty table (see the module header).
pub struct TableLoad {
    schema: TableSchema,
    entries: Entries,
    runs: Vec<RunFile>,
    rows: u64,
}

impl std::fmt::Debug for TableLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableLoad")
            .field("table", &self.schema.name)
            .field("rows", &self.rows)
            .field("runs", &self.runs.len())
            .finish()
    }
}

impl TableLoad {
    /// Starts a load of `schema`'s table if it can take one (step 0); `None` if the
    /// caller must insert row by row.
    pub fn begin(txn: &mut Transaction, schema: &TableSchema) -> Result<Option<TableLoad>> {
        if !schema.indexes.is_empty() || !txn.claim_empty_for_load(schema.tree)? {
            return Ok(None);
        }
        Ok(Some(TableLoad {
            schema: schema.clone(),
            entries: Entries::default(),
            runs: Vec::new(),
            rows: 0,
        }))
    }

    /// Checks `row` and adds it to the load (steps 1 and 2). An error leaves the load
    /// as it was.
    pub fn push(&mut self, txn: &mut Transaction, row: &[KeyValue]) -> Result<()> {
        let schema = &self.schema;
        validate(schema, row)?;
        let hidden_id = match schema.has_hidden_row_id() {
            true => Some(KeyValue::Int(next_row_id(txn, schema.tree)?)),
            false => None,
        };
        let max = txn.mvcc().max_stored_key_len();
        self.entries.push_encoded(|arena| {
            let at = arena.len();
            match &hidden_id {
                Some(id) => encode_value_into(arena, id, ColumnOrder::ASC),
                None => {
                    for &column in &schema.primary_key {
                        encode_value_into(arena, &row[column], ColumnOrder::ASC);
                    }
                }
            }
            let key_len = arena.len() - at;
            check_row_key(schema, &arena[at..], max)?;
            encode_row_into(arena, schema, row)?;
            Ok(key_len)
        })?;
        self.rows += 1;
        let space = &txn.mvcc().spill;
        if self.entries.bytes() >= space.budget() {
            self.runs.push(self.entries.spill(space)?);
        }
        Ok(())
    }

    /// Sorts the rows, checks their keys are distinct and hands them to the
    /// transaction (steps 3 and 4); returns how many rows were loaded.
    pub fn finish(mut self, txn: &mut Transaction) -> Result<u64> {
        let space = txn.mvcc().spill.clone();
        let collected = match self.runs.is_empty() {
            true => {
                self.entries.sort();
                Collected::Memory(vec![self.entries])
            }
            false => {
                if self.entries.bytes() > 0 {
                    self.runs.push(self.entries.spill(&space)?);
                }
                drop(self.entries);
                Collected::Spilled(SpilledRuns::new(&space, self.runs)?)
            }
        };
        let (entries, duplicate) = collected.hand_over(true)?;
        if let Some(key) = duplicate {
            return Err(duplicate_primary_key(&self.schema, &decode(&key)?));
        }
        txn.load_deferred(DeferredBuild {
            tree: self.schema.tree,
            source: self.schema.tree,
            marker: None,
            entries,
        })?;
        Ok(self.rows)
    }
}
