//! # CREATE INDEX on a populated table: one pass, one sort, a bottom-up tree
//!
//! A new index's tree is allocated by the transaction that fills it, and no other
//! transaction can write it before that one ends ([`Transaction::claim_new_tree`]). So
//! its entries need none of the bookkeeping of a row written into a shared tree — no
//! lock, no probe for a newer version, no hash, no savepoint per entry — and they can
//! be handed over all at once, sorted:
//!
//! 0. **The table is locked** first ([`Transaction::lock_tree`], called by
//!    [`super::catalog::create_index`]): no other transaction is writing it, none that
//!    wrote it committed after the build's snapshot, and until the index is visible
//!    none can start; afterwards only transactions whose snapshot (and so whose plan)
//!    includes the index can write it. So the rows the build sees are every row the
//!    index will ever have to hold that is not written through it (see
//!    `mvcc/tree_locks.rs`). A writer that is refused gets a retryable serialization
//!    error, as does a CREATE INDEX that finds a writer.
//! 1. **One pass over the table**, in primary-key order at the transaction's snapshot
//!    (its own uncommitted rows included), lent a leaf at a time
//!    ([`Transaction::scan_chunks`]: no allocation per row), each visible row handed
//!    over where the store's chunk holds it ([`TxnChunks::next_chunk_with`]: its key
//!    unescaped straight into the arena, nothing copied twice). Only the indexed and
//!    included columns of each row are decoded, into one reused row (the columns before
//!    them stepped over, those after them not read: [`decode_wanted`]); its entry (the
//!    layout is in [`super::ops`]) is encoded straight into one byte arena: the indexed
//!    values, then the row's stored key, then the included values. That is the entry's
//!    key followed by its value whichever form the entry takes — a non-unique entry's
//!    key is the first two parts (its value the included values, often none), a unique
//!    one's key is the first part and its value the rest — so the form only decides
//!    where the split falls. Each key is checked against the trees' limit as it is made
//!    ([`Limit::IndexRow`](crate::error::Limit::IndexRow), naming the index).
//! 2. **One sort** of the entries by key: a radix sort of their 16-byte heads, the
//!    bytes compared only on a tie ([`crate::head_sort`]). The sorted entries are then
//!    copied into a new arena in key order, so that steps 3 and 4 read memory in order
//!    rather than taking a cache miss per entry (in the commit, where it cost more than
//!    the copy does here; see Memory for what it holds).
//! 3. **Uniqueness** of a UNIQUE index is then a comparison of neighbours: two equal
//!    keys are two rows with the same non-null values (a NULL makes the key unique by
//!    carrying the primary key, as in [`super::ops`]). The error names the first such
//!    key as PostgreSQL does (`could not create unique index ...: Key (a)=(1) is
//!    duplicated`, [`Constraint::UniqueIndexBuild`]).
//! 4. **Hand over**: [`Transaction::load_deferred`] takes the arena and the sorted
//!    entries as they are, with a *marker* that says how to derive them (below): the
//!    write set keeps them aside as a deferred build, with no entry, hash or sort of its
//!    own per key. At commit, since the tree is empty, the B+tree builds itself
//!    bottom-up from them (`btree/build.rs`): leaves written left to right to the fill
//!    target, internal levels from the leaves' separators, no entry ever searched for,
//!    split or moved. The commit record logs the marker, not the entries.
//!
//! Every check runs in steps 0 to 4, before anything reaches the commit record (the
//! commit invariant of [`crate::mvcc`]); a failed build leaves the transaction's
//! writes as they were (a refused lock aborts the transaction, as any serialization
//! failure does).
//!
//! ## Memory
//!
//! A build may hold [`DatabaseOptions::build_memory_bytes`](crate::DatabaseOptions)
//! (default 64 MiB, PostgreSQL's `maintenance_work_mem`): the arena plus 32 bytes of
//! sort head per entry. While the entries fit, the build is the in-memory path above,
//! unchanged (the only cost is one comparison per row). The whole index is then held
//! until the commit. Copying the arena into key order (step 2) holds two arenas for a
//! moment, and the hand-over adds 16 bytes per entry for a moment (the run's entries,
//! made while the heads still exist; the heads are then freed): for the 1M-row
//! benchmark table and an integer column (18 bytes of arena per entry) the budget
//! counts about 50 MB, so that build stays in memory; its peak, two arenas and the
//! heads during the copy, is about 68 MB (computed from those sizes, not measured).
//!
//! When the entries reach the budget, the build **sorts externally**
//! ([`crate::extsort`]): each budget's worth is sorted (step 2, the same sort) and
//! written to a run file in `<database>.sort/`, and the arena is reused for the next.
//! After the pass the runs (merged in groups of 64 first, if there are more) are read
//! once merged, in key order, to find the first duplicate of a UNIQUE index (step 3:
//! the same neighbour comparison, so the same first key and the same error), and
//! handed over as runs ([`Transaction::load_deferred`]): the write set keeps the files,
//! not their entries, and the commit merges them straight into the bottom-up build. So
//! memory stays within the budget (plus the arena's growth by doubling, at worst as
//! much again) while rows are read and sorted, and within 64 read buffers of at most
//! 1 MiB each (a share of the budget) while runs are merged — at the check, the commit,
//! and recovery alike. The run files are removed when the build fails, when the
//! transaction ends, and, after a crash, when the database is opened.
//!
//! ## Parallel reading
//!
//! Steps 1 and 2 run on up to [`DatabaseOptions::build_threads`](crate::DatabaseOptions)
//! threads (default: one per core, at most four; PostgreSQL's parallel index build
//! does the same with `max_parallel_maintenance_workers`): the table is cut into
//! consecutive key ranges of about equal size ([`Transaction::scan_chunk_parts`]: the
//! cuts fall on the tree's separators, moved to the first version of a user key, so
//! each part decides visibility alone), and each thread reads one part at the build's
//! snapshot, makes its entries, sorts them and copies them into key order, under its
//! share of the memory budget.
//! The parts' sorted entries are then handed over as they are — several sorted runs
//! — and read merged wherever they are read in key order: by the uniqueness check
//! (neighbours in merged order), by the commit's bottom-up build, and by a transaction
//! that reads its own new index. If any part spilled, the others' entries are written
//! out as runs too, and all the runs are merged as one spilled build. A table the
//! transaction itself has written, or one too small to cut, is read on the calling
//! thread alone. The threads share nothing but the scan's snapshot and the run-file
//! directory; the build's outcome, its checks, its errors and its marker are those of
//! the one-thread build (the same entries, merged in the same key order). Recovery
//! replays a build on one thread.
//!
//! ## The marker
//!
//! The commit record holds a **marker** in place of the entries, whether they were
//! sorted in memory or spilled: one write that says "build this index of this table"
//! (the index's tree id and the table's schema with the index in it;
//! `docs/file-format.md`). For a spilled build that is what makes the design possible
//! at all (a record cannot hold more than memory), and why it was chosen over logging
//! the merged entries in a record streamed in pieces; for an in-memory build it saves
//! the encoding and writing of every entry, about a quarter of the build's CPU, and
//! half of recovery's time (recovery derives the entries from the table faster than it
//! decodes them from the log). It is sound because the table lock (step 0) means no other transaction
//! commits a write to the table between the build's snapshot and its commit, so the
//! rows visible at the commit's timestamp are exactly the rows the build read, and
//! anyone holding the log can derive the entries again. The log carries a few hundred
//! bytes instead of every entry (no WAL volume, and a spilled build's entries never need
//! to be read back to be logged, in parts, as a large commit's writes are), and the
//! commit invariant holds unchanged: every check ran over those rows before the marker
//! was written.
//!
//! What is **not** bounded: the built tree's pages. The bottom-up build writes them
//! into the pager's dirty-page cache, which never evicts a dirty page, so the new
//! index's pages (its size on disk) are in memory from the commit until the next
//! checkpoint writes them out — for the 1M-row integer index, about 50 MiB at any
//! budget, against about 130 MiB for the whole in-memory build. (And the marker's few
//! bytes bring the automatic checkpoint, which runs by the log's growth, no nearer.)
//! Bounding that needs a pager that can write pages of a tree no reader can see yet
//! before the checkpoint.
//! A transaction that reads or writes the index it has just
//! built, or writes the indexed table afterwards (a marker would no longer describe
//! the rows), first reads the entries (from memory, or from the runs) into its write
//! set ([`crate::mvcc`]'s `write_set.rs`): its commit logs every entry. The
//! other bulk paths, INSERT ... SELECT into an empty table and the rebuild of a table
//! under a new primary key ([`super::rekey`]), still hold their sorted run in memory and
//! log every entry.
//!
//! ## Crash safety
//!
//! The index's entries (or its marker) and the catalog rows that name it are writes of
//! one transaction, so they are one commit record: recovery replays all of it or none
//! of it. A crash before the record is durable leaves no trace of the index (its pages,
//! if a checkpoint never wrote them, were never part of the file: the bottom-up build
//! runs only when the commit applies, under the pager's write gate, and a checkpoint
//! waits for applies to finish; run files are removed at the next open); a crash after
//! replays the record. A build its transaction used again logged its entries, which
//! build the same tree again. Any other build's record holds the transaction's writes
//! and then the marker: recovery replays the writes, then reads the table's rows visible at the
//! record's timestamp ([`replay_build`]), derives the entries with the logged schema,
//! sorts them under the budget and builds the tree from them. Those are the rows the
//! build read:
//!
//! - Rows of other transactions: the table lock lets none commit a write to the table
//!   after the build's snapshot until the building transaction has ended (and applied).
//! - The transaction's own rows, including those of a table it created: they are writes
//!   of the same record, replayed before the marker. Rows written under a savepoint
//!   rolled back before the build were never in the write set; a savepoint rolled back
//!   past the build drops the build with it. A write of the table after the build turns
//!   the marker into logged entries (above), so at the commit the table is as the build
//!   saw it.
//! - A checkpoint's cut: replay is idempotent for the record's writes; the index's tree
//!   is written by one tree operation, so a cut holds all of it or none; and a version
//!   of a row visible at the build's timestamp leaves the cut only by pruning, which
//!   needs a newer version of the row, which only a commit after the building
//!   transaction ended can write — so such a cut already holds the whole index, and the
//!   replayed build rewrites identical versions for the rows it still finds.
//!
//! A replayed build that finds a key too long or a duplicate (checked before the
//! record was written, over the same rows) reports the file as corrupt rather than
//! building something else. `engine/tests/db_crash_checks.rs` (a CREATE INDEX on the
//! populated table among other commits and checkpoints, power lost at every sync point,
//! in memory and spilled), `engine/tests/db_kill_bulk.rs` (kill -9 while loads and
//! builds run, every other child spilling) and `engine/tests/table_index_build.rs`
//! (spilled builds against a model, recovered from the log) check this.

use std::cmp::Ordering;
use std::ops::Bound;

use crate::btree::EntryChunk;
use crate::error::{Constraint, Error, Result};
use crate::extsort::{RunFile, SpillSpace, SpilledRuns};
use crate::head_sort::{head_of, sort_by_head};
use crate::keycode::{ColumnOrder, KeyValue, decode, describe_key, encode_value_into};
use crate::mvcc::chunks::LentKey;
use crate::mvcc::{
    BuildEntries, CommitTs, DeferredBuild, Mvcc, READ_AHEAD, RunEntry, RunsInOrder, SortedRun,
    Transaction, TreeId, TxnChunks, read_ahead,
};
use crate::table::ops::check_index_key;
use crate::table::row::{WantedColumns, decode_wanted};
use crate::table::schema::{IndexSchema, TableSchema};

/// One entry in the arena while the entries are sorted.
struct Entry {
    /// The key's first 16 bytes, big-endian, zero-padded: decides most comparisons.
    head: (u64, u64),
    run: RunEntry,
}

/// A length as stored in an entry: keys are bounded by the trees' key limit, and a
/// stored row key by the same limit, so this fails only on a corrupt table.
fn entry_len(len: usize) -> Result<u32> {
    u32::try_from(len).map_err(|_| Error::CorruptData(format!("an index entry of {len} bytes")))
}

/// A new index's entries (or a load's rows, `load.rs`), in one arena.
#[derive(Default)]
pub(super) struct Entries {
    arena: Vec<u8>,
    entries: Vec<Entry>,
}

impl Entries {
    fn key(&self, e: &Entry) -> &[u8] {
        &self.arena[e.run.at..e.run.at + e.run.key_len as usize]
    }

    /// Appends an entry that `write` encodes at the end of the arena, its key and then
    /// its value, returning the key's length; returns the key. On an error the arena is
    /// as it was.
    pub(super) fn push_encoded(
        &mut self,
        write: impl FnOnce(&mut Vec<u8>) -> Result<usize>,
    ) -> Result<&[u8]> {
        let at = self.arena.len();
        let written = write(&mut self.arena).and_then(|key_len| {
            let value_len = (self.arena.len() - at).saturating_sub(key_len);
            Ok((entry_len(key_len)?, entry_len(value_len)?))
        });
        let (key_len, value_len) = match written {
            Ok(lens) => lens,
            Err(e) => {
                self.arena.truncate(at);
                return Err(e);
            }
        };
        let key = &self.arena[at..at + key_len as usize];
        self.entries.push(Entry {
            head: head_of(key),
            run: RunEntry {
                at,
                key_len,
                value_len,
            },
        });
        Ok(&self.arena[at..at + key_len as usize])
    }

    /// Where the entries end now, for [`Entries::cut_back`].
    pub(super) fn end(&self) -> (usize, usize) {
        (self.arena.len(), self.entries.len())
    }

    /// Removes every entry (and byte) appended since [`Entries::end`] said `end`.
    pub(super) fn cut_back(&mut self, (arena, entries): (usize, usize)) {
        self.arena.truncate(arena);
        self.entries.truncate(entries);
    }

    /// Appends the entry of the row `row` (its indexed columns decoded), stored under
    /// `row_key`, and returns its key.
    pub(super) fn push(
        &mut self,
        index: &IndexSchema,
        row: &[KeyValue],
        row_key: LentKey<'_>,
    ) -> Result<&[u8]> {
        let at = self.arena.len();
        let mut has_null = false;
        for &column in &index.columns {
            let value = &row[column];
            has_null |= value.is_null();
            encode_value_into(&mut self.arena, value, ColumnOrder::ASC);
        }
        let values_len = self.arena.len() - at;
        let row_key_at = self.arena.len();
        row_key.append_to(&mut self.arena)?;
        let row_key_len = self.arena.len() - row_key_at;
        let included_at = self.arena.len();
        for &column in &index.include {
            encode_value_into(&mut self.arena, &row[column], ColumnOrder::ASC);
        }
        let included_len = self.arena.len() - included_at;
        let (key_len, value_len) = match index.unique && !has_null {
            true => (values_len, row_key_len + included_len),
            false => (values_len + row_key_len, included_len),
        };
        let key = &self.arena[at..at + key_len];
        self.entries.push(Entry {
            head: head_of(key),
            run: RunEntry {
                at,
                key_len: entry_len(key_len)?,
                value_len: entry_len(value_len)?,
            },
        });
        Ok(&self.arena[at..at + key_len])
    }

    fn compare(&self, a: &Entry, b: &Entry) -> Ordering {
        a.head
            .cmp(&b.head)
            .then_with(|| self.key(a).cmp(self.key(b)))
    }

    fn sort(&mut self) {
        let mut entries = std::mem::take(&mut self.entries);
        sort_by_head(
            &mut entries,
            |e| e.head,
            |a, b| self.key(a).cmp(self.key(b)),
        );
        self.entries = entries;
    }

    /// Copies the (sorted) entries into a new arena in their order, so that whatever
    /// reads them in key order next — the uniqueness check, the commit's bottom-up
    /// build — reads memory in order (see Memory). In scan order, each entry read in
    /// key order is a cache miss; here the misses are taken in a short loop that touches
    /// the entry [`READ_AHEAD`] ahead, so the processor overlaps them, and on the
    /// reading threads rather than in the commit.
    fn arrange_in_key_order(&mut self) {
        // Entries that came in key order (a table read in the order of what is sorted)
        // are there already.
        if self.entries.windows(2).all(|w| w[0].run.at < w[1].run.at) {
            return;
        }
        let mut arena = Vec::with_capacity(self.arena.len());
        for i in 0..self.entries.len() {
            read_ahead(
                &self.arena,
                self.entries.get(i + READ_AHEAD).map(|e| e.run.at),
            );
            let run = &mut self.entries[i].run;
            let len = run.key_len as usize + run.value_len as usize;
            let at = arena.len();
            arena.extend_from_slice(&self.arena[run.at..run.at + len]);
            run.at = at;
        }
        self.arena = arena;
    }

    /// The first key (sorted) that two entries share.
    fn first_duplicate(&self) -> Option<&[u8]> {
        self.entries
            .windows(2)
            .find(|w| self.compare(&w[0], &w[1]).is_eq())
            .map(|w| self.key(&w[0]))
    }

    /// Bytes the entries hold: the arena and the sort heads.
    fn bytes(&self) -> usize {
        self.arena.len() + self.entries.len() * std::mem::size_of::<Entry>()
    }

    /// Sorts the entries, writes them to a new run file in `space` and empties them
    /// (keeping their buffers for the next run).
    fn spill(&mut self, space: &SpillSpace) -> Result<RunFile> {
        self.sort();
        let mut out = space.create_run()?;
        for e in &self.entries {
            let value_at = e.run.at + e.run.key_len as usize;
            out.push(
                self.key(e),
                &self.arena[value_at..value_at + e.run.value_len as usize],
            )?;
        }
        self.arena.clear();
        self.entries.clear();
        out.finish()
    }

    fn into_run(self) -> SortedRun {
        SortedRun {
            entries: self.entries.into_iter().map(|e| e.run).collect(),
            arena: self.arena,
        }
    }
}

/// Builds `index` over `schema`'s rows (steps 1 to 4 above), a new index of
/// `schema`'s table whose tree the transaction has claimed and whose table it has
/// locked, for every row the transaction sees (see the module header); returns how many
/// rows it read.
pub(crate) fn build_index(
    txn: &mut Transaction,
    schema: &TableSchema,
    index: &IndexSchema,
) -> Result<u64> {
    let max = txn.mvcc().max_stored_key_len();
    let mvcc = txn.mvcc().clone();
    let (collected, rows) = collect_in_parts(txn, schema, index, max, &mvcc.spill)?;
    let duplicate = |key: &[u8]| -> Result<Error> {
        match index.unique {
            true => Ok(Error::Constraint(Constraint::UniqueIndexBuild {
                table: schema.name.clone(),
                index: index.name.clone(),
                key: describe_duplicate(schema, index, key)?,
            })),
            false => Ok(repeated_key(index)),
        }
    };
    // Only a corrupt table repeats a non-unique key: not worth a pass in memory.
    let (entries, first_duplicate) = collected.hand_over(index.unique)?;
    if let Some(key) = first_duplicate {
        return Err(duplicate(&key)?);
    }
    txn.load_deferred(DeferredBuild {
        tree: index.tree,
        source: schema.tree,
        marker: Some(marker(schema, index)),
        entries,
    })?;
    Ok(rows)
}

/// What the commit record logs for a spilled build (see Crash safety): the table's
/// schema with the new index in it, which names the table's tree and says how to make
/// each entry.
fn marker(schema: &TableSchema, index: &IndexSchema) -> Vec<u8> {
    let mut built = schema.clone();
    built.indexes.push(index.clone());
    built.encode()
}

/// Two entries of a non-unique index with one key: they carry their rows' distinct
/// primary keys, so only a corrupt table can make them.
fn repeated_key(index: &IndexSchema) -> Error {
    Error::CorruptData(format!(
        "two rows give index {} the same entry key: the table's primary keys repeat",
        index.name
    ))
}

/// An index's entries once every row is read: sorted in memory (in one part, or one
/// per thread that read the table), or spilled runs.
pub(super) enum Collected {
    Memory(Vec<Entries>),
    Spilled(SpilledRuns),
}

impl Collected {
    /// The entries as the build hands them over, and the first key two of them share
    /// (step 3), looked for in memory only when `check_memory` (spilled runs are always
    /// read through once): neighbours compared, within one part by their heads first,
    /// across parts in merged order.
    pub(super) fn hand_over(self, check_memory: bool) -> Result<(BuildEntries, Option<Vec<u8>>)> {
        match self {
            Collected::Memory(mut parts) if parts.len() == 1 => {
                let part = parts.remove(0);
                let repeat = match check_memory {
                    true => part.first_duplicate().map(<[u8]>::to_vec),
                    false => None,
                };
                Ok((BuildEntries::Memory(vec![part.into_run()]), repeat))
            }
            Collected::Memory(parts) => {
                let runs: Vec<SortedRun> = parts.into_iter().map(Entries::into_run).collect();
                let repeat = match check_memory {
                    true => first_repeat(RunsInOrder::new(&runs).map(|(key, _)| key)),
                    false => None,
                };
                Ok((BuildEntries::Memory(runs), repeat))
            }
            Collected::Spilled(runs) => {
                let repeat = first_spilled_duplicate(&runs)?;
                Ok((BuildEntries::Spilled(runs), repeat))
            }
        }
    }
}

/// The first key of `keys` (in order) that equals the one before it.
fn first_repeat<'a>(keys: impl Iterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    let mut previous: Option<&[u8]> = None;
    for key in keys {
        if previous == Some(key) {
            return Some(key.to_vec());
        }
        previous = Some(key);
    }
    None
}

/// Steps 1 and 2, on as many threads as the space allows (see Parallel reading): the
/// table cut into parts of about equal size, each read and sorted by a thread of its
/// own under its share of the budget. Returns the parts' entries (spilled together if
/// any part spilled) with the number of rows read.
fn collect_in_parts(
    txn: &mut Transaction,
    schema: &TableSchema,
    index: &IndexSchema,
    max: usize,
    space: &SpillSpace,
) -> Result<(Collected, u64)> {
    let mut parts = match space.threads() {
        1 => vec![txn.scan_chunks(schema.tree, Bound::Unbounded, Bound::Unbounded)?],
        threads => {
            txn.scan_chunk_parts(schema.tree, Bound::Unbounded, Bound::Unbounded, threads)?
        }
    };
    if let [part] = parts.as_mut_slice() {
        return collect(part, schema, index, max, space, space.budget());
    }
    let budget = space.budget() / parts.len();
    let collected: Vec<Result<(Collected, u64)>> = std::thread::scope(|scope| {
        let threads: Vec<_> = parts
            .into_iter()
            .map(|mut part| {
                scope.spawn(move || collect(&mut part, schema, index, max, space, budget))
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut rows = 0;
    let mut in_memory = Vec::new();
    let mut files = Vec::new();
    let mut spilled = false;
    for part in collected {
        let (part, read) = part?;
        rows += read;
        match part {
            Collected::Memory(entries) => in_memory.extend(entries),
            Collected::Spilled(runs) => {
                spilled = true;
                files.extend(runs.into_runs());
            }
        }
    }
    if !spilled {
        return Ok((Collected::Memory(in_memory), rows));
    }
    // One part outgrew its share: the others join its runs as runs of their own.
    for mut entries in in_memory {
        if !entries.entries.is_empty() {
            files.push(entries.spill(space)?);
        }
    }
    Ok((Collected::Spilled(SpilledRuns::new(space, files)?), rows))
}

/// Steps 1 and 2 under a memory budget: reads every row `scan` lends, encodes and
/// checks its entry, and sorts the entries — in memory if they fit `budget`, else a
/// budget's worth at a time into run files in `space` (see Memory). Returns them with
/// the number of rows read.
fn collect(
    scan: &mut TxnChunks,
    schema: &TableSchema,
    index: &IndexSchema,
    max: usize,
    space: &SpillSpace,
    budget: usize,
) -> Result<(Collected, u64)> {
    let wanted = WantedColumns::new(schema, index.columns.iter().chain(&index.include).copied())?;
    let mut collector = Collector::default();
    let mut scratch = EntryChunk::new();
    // One row's columns by position, reused from row to row: only the wanted ones are
    // decoded (each row overwrites them), the others stay NULL.
    let mut row = vec![KeyValue::Null; schema.columns.len()];
    let mut rows = 0u64;
    let mut add = |row_key: LentKey<'_>, stored: &[u8]| -> Result<()> {
        rows += 1;
        decode_wanted(schema, stored, &wanted, |i, value| {
            row[i] = value.to_key_value();
            Ok(())
        })?;
        let key = collector.entries.push(index, &row, row_key)?;
        check_index_key(schema, index, key, max)?;
        collector.spill_at(budget, space)
    };
    while scan.next_chunk_with(&mut scratch, &mut add)? {}
    Ok((collector.collected(space)?, rows))
}

/// One tree's entries while they are collected: those in memory, and the runs spilled
/// so far (a build's part, or one tree of a load, `load.rs`).
#[derive(Default)]
pub(super) struct Collector {
    pub entries: Entries,
    runs: Vec<RunFile>,
}

impl Collector {
    /// Spills the entries to a run once they reach `budget`.
    pub fn spill_at(&mut self, budget: usize, space: &SpillSpace) -> Result<()> {
        if self.entries.bytes() >= budget {
            self.runs.push(self.entries.spill(space)?);
        }
        Ok(())
    }

    /// The entries once all are in: sorted in memory (and copied into key order, for
    /// what reads them in it next: the duplicate check, the commit) if none spilled,
    /// else all spilled.
    pub fn collected(mut self, space: &SpillSpace) -> Result<Collected> {
        if self.runs.is_empty() {
            self.entries.sort();
            self.entries.arrange_in_key_order();
            return Ok(Collected::Memory(vec![self.entries]));
        }
        if !self.entries.entries.is_empty() {
            self.runs.push(self.entries.spill(space)?);
        }
        drop(self.entries);
        Ok(Collected::Spilled(SpilledRuns::new(space, self.runs)?))
    }
}

/// Reads spilled entries through once in key order (step 3 for runs): the first key two
/// entries share, if any.
fn first_spilled_duplicate(runs: &SpilledRuns) -> Result<Option<Vec<u8>>> {
    let mut merge = runs.merge()?;
    let mut previous: Option<Vec<u8>> = None;
    while let Some((key, _)) = merge.next_entry()? {
        match &mut previous {
            Some(p) if p.as_slice() == key => return Ok(Some(key.to_vec())),
            Some(p) => {
                p.clear();
                p.extend_from_slice(key);
            }
            None => previous = Some(key.to_vec()),
        }
    }
    Ok(None)
}

/// Recovery's replay of a build that a commit logged as a marker (see Crash safety):
/// `key` is the index's tree id (4 bytes, big-endian), `marker` what [`marker`] wrote.
/// Reads the table's rows visible at `ts` — exactly the rows the build read — and
/// writes the same entries into the index's tree as versions at `ts`.
pub(crate) fn replay_build(mvcc: &Mvcc, ts: CommitTs, key: &[u8], marker: &[u8]) -> Result<()> {
    let bad = |what: &str| Error::CorruptData(format!("a logged index build: {what}"));
    let tree: [u8; 4] = key
        .try_into()
        .map_err(|_| bad("its tree id is not 4 bytes"))?;
    let tree = TreeId(u32::from_be_bytes(tree));
    let schema = TableSchema::decode(marker)?;
    let index = schema
        .indexes
        .iter()
        .find(|i| i.tree == tree)
        .ok_or_else(|| bad("its table has no index in the built tree"))?;
    let mut scan = mvcc.replay_scan(schema.tree, ts)?;
    let (collected, _) = collect(
        &mut scan,
        &schema,
        index,
        mvcc.max_stored_key_len(),
        &mvcc.spill,
        mvcc.spill.budget(),
    )
    // The build checked every key before its commit was logged, over these rows.
    .map_err(|e| match e {
        Error::TooLarge(limit) => bad(&format!("an entry the build checked is too large: {limit}")),
        e => e,
    })?;
    let (entries, repeat) = collected.hand_over(true)?;
    if repeat.is_some() {
        return Err(bad("its entries repeat a key"));
    }
    mvcc.replay_build(ts, tree, &entries)
}

/// `(a, b)=(1, x)` for the key of a unique index entry: its values (a duplicated key
/// has no NULL, so it is the indexed values alone).
pub(super) fn describe_duplicate(
    schema: &TableSchema,
    index: &IndexSchema,
    key: &[u8],
) -> Result<String> {
    let values = decode(key)?;
    let names: Vec<&str> = index
        .columns
        .iter()
        .map(|&c| schema.columns[c].name.as_str())
        .collect();
    Ok(describe_key(&names, &values))
}
