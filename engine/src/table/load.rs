//! # Loading rows into an empty table: one sort, a bottom-up tree, an external sort
//!
//! A row inserted the ordinary way ([`super::ops::insert`]) becomes an entry of the
//! transaction's write set: hashed, checked for a duplicate key there, and held in
//! memory until the commit sorts the set and builds or updates the tree. For a large
//! load into an empty table (`INSERT INTO t SELECT ...`) that is the whole load in
//! memory, however large. [`TableLoad`] is the path of such a load, as CREATE INDEX's
//! is for a new index (`index_build.rs`), and it shares that build's sort and spill:
//!
//! 0. **The table and its indexes are claimed** first
//!    ([`Transaction::claim_empty_for_load`]): each tree must be empty, unwritten by
//!    this transaction, written by no other (the claim holds it until this transaction
//!    ends), and the isolation not SERIALIZABLE. Otherwise [`TableLoad::begin`] says so
//!    and the caller inserts row by row, as before. A claim refuses concurrent writers
//!    of the table until the transaction ends, so a caller begins a load only once a
//!    statement has brought [`LOAD_AFTER_ROWS`] rows — the number of new keys after
//!    which the row path claims an empty tree too (`mvcc/transaction.rs`): a small
//!    INSERT never takes the table for itself.
//! 1. **Each row** is checked as [`super::ops::insert`] checks it — the column count,
//!    types and NOT NULL (`ops::validate`), the size of its primary key and of
//!    its entry in each index — and its key and encoded row are appended to one byte
//!    arena, each index entry (made as CREATE INDEX makes it) to the index's own: no
//!    write-set entry, hash or lock per row. A row that fails a check leaves no byte.
//! 2. When the arenas and their sort heads reach the memory budget
//!    ([`DatabaseOptions::build_memory_bytes`](crate::DatabaseOptions), shared evenly
//!    between the table and its indexes), each is sorted (the radix sort of
//!    `head_sort.rs`) and **spilled** to a run file (`extsort.rs`), and its arena
//!    reused: memory stays within the budget however many rows come.
//! 3. **At the end** ([`TableLoad::finish`]) each tree's entries are sorted (or its runs
//!    merged), and two neighbours with one key are a duplicate primary key, or a
//!    duplicate in a UNIQUE index: the errors PostgreSQL gives (`duplicate key value
//!    violates unique constraint`), naming the least such key, where the row path names
//!    the first in the order rows came. The statement then fails whole, as it would.
//! 4. **Hand-over**: the sorted rows (or runs) go to the write set as a deferred build
//!    *without a marker* (`Transaction::load_deferred`): the commit logs them — in
//!    parts, streamed from the runs, when they are many (`wal/record.rs`) — and builds
//!    the empty tree from them bottom-up. Each index's entries go as a deferred index
//!    build, whose commit logs a marker and which recovery derives again from the
//!    table's rows, replayed first (`index_build.rs`, The marker). A transaction that
//!    reads or writes the table or an index before it commits first reads the entries
//!    into its write set (in memory), as it would a deferred index build.
//!
//! Every check runs in steps 1 and 3, before the commit record (the commit invariant
//! of `mvcc`). A load that fails leaves nothing of itself: its run files are
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

use crate::error::{Constraint, Error, Result};
use crate::keycode::{ColumnOrder, KeyValue, decode, encode_value_into};
use crate::mvcc::chunks::LentKey;
use crate::mvcc::{AUTO_LOAD_CLAIM_WRITES, DeferredBuild, Transaction};
use crate::table::index_build::{Collector, describe_duplicate};
use crate::table::ops::{
    check_index_key, check_row_key, duplicate_primary_key, encode_declared_key_into, next_row_id,
    validate,
};
use crate::table::row::encode_row_into;
use crate::table::schema::TableSchema;

/// The rows a statement brings before its caller begins a load (see step 0): the row
/// path's own threshold for claiming an empty tree.
pub const LOAD_AFTER_ROWS: usize = AUTO_LOAD_CLAIM_WRITES;

/// A load of rows into an empty table (see the module header).
pub struct TableLoad {
    schema: TableSchema,
    table: Collector,
    /// One per index of the table, in its order.
    indexes: Vec<Collector>,
    rows: u64,
}

impl std::fmt::Debug for TableLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableLoad")
            .field("table", &self.schema.name)
            .field("rows", &self.rows)
            .finish()
    }
}

impl TableLoad {
    /// Starts a load of `schema`'s table if it can take one (step 0); `None` if the
    /// caller must insert row by row.
    pub fn begin(txn: &mut Transaction, schema: &TableSchema) -> Result<Option<TableLoad>> {
        if !txn.claim_empty_for_load(schema.tree)? {
            return Ok(None);
        }
        for index in &schema.indexes {
            if !txn.claim_empty_for_load(index.tree)? {
                return Ok(None);
            }
        }
        Ok(Some(TableLoad {
            schema: schema.clone(),
            table: Collector::default(),
            indexes: schema
                .indexes
                .iter()
                .map(|_| Collector::default())
                .collect(),
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
        let ends: Vec<(usize, usize)> = self.indexes.iter().map(|c| c.entries.end()).collect();
        let table_end = self.table.entries.end();
        let row_key = self.table.entries.push_encoded(|arena| {
            let at = arena.len();
            match &hidden_id {
                Some(id) => encode_value_into(arena, id, ColumnOrder::ASC),
                None => encode_declared_key_into(arena, schema, row),
            }
            let key_len = arena.len() - at;
            check_row_key(schema, &arena[at..], max)?;
            encode_row_into(arena, schema, row)?;
            Ok(key_len)
        })?;
        let indexed =
            schema
                .indexes
                .iter()
                .zip(&mut self.indexes)
                .try_for_each(|(index, collector)| {
                    let key = collector
                        .entries
                        .push(index, row, LentKey::Plain(row_key))?;
                    check_index_key(schema, index, key, max)
                });
        if let Err(e) = indexed {
            self.table.entries.cut_back(table_end);
            for (collector, end) in self.indexes.iter_mut().zip(ends) {
                collector.entries.cut_back(end);
            }
            return Err(e);
        }
        self.rows += 1;
        let space = &txn.mvcc().spill;
        let budget = space.budget() / (1 + self.indexes.len());
        self.table.spill_at(budget, space)?;
        self.indexes
            .iter_mut()
            .try_for_each(|collector| collector.spill_at(budget, space))
    }

    /// Sorts each tree's entries, checks their keys are distinct (the primary key's,
    /// and each UNIQUE index's) and hands them to the transaction (steps 3 and 4);
    /// returns how many rows were loaded.
    pub fn finish(self, txn: &mut Transaction) -> Result<u64> {
        let space = txn.mvcc().spill.clone();
        let schema = &self.schema;
        let (rows, duplicate) = self.table.collected(&space)?.hand_over(true)?;
        if let Some(key) = duplicate {
            return Err(duplicate_primary_key(schema, &decode(&key)?));
        }
        let mut builds = vec![DeferredBuild {
            tree: schema.tree,
            source: schema.tree,
            marker: None,
            entries: rows,
        }];
        for (index, collector) in schema.indexes.iter().zip(self.indexes) {
            let (entries, duplicate) = collector.collected(&space)?.hand_over(index.unique)?;
            if let Some(key) = duplicate {
                return Err(Error::Constraint(Constraint::Unique {
                    table: schema.name.clone(),
                    index: index.name.clone(),
                    key: describe_duplicate(schema, index, &key)?,
                }));
            }
            builds.push(DeferredBuild {
                tree: index.tree,
                source: schema.tree,
                // Derived from the table's rows, as CREATE INDEX's entries are.
                marker: Some(schema.encode()),
                entries,
            });
        }
        // All of it or none: the trees are claimed and empty, so a hand-over fails only
        // by I/O, but a failure must not leave a table without its index entries.
        let savepoint = txn.savepoint();
        match builds
            .into_iter()
            .try_for_each(|build| txn.load_deferred(build))
        {
            Ok(()) => txn.release(savepoint),
            Err(e) => {
                txn.rollback_to(savepoint);
                return Err(e);
            }
        }
        Ok(self.rows)
    }
}
