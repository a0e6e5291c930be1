//! # mvcc — snapshot-isolated transactions over ordered trees
//!
//! This module turns a set of ordered byte-keyed trees (the B+trees of one database file,
//! or the in-memory trees tests use) into a transactional store in which readers never
//! block writers and writers never block readers.
//!
//! ## VERSIONS
//!
//! Every committed write is kept as a *version*: the tree key is the user's key followed
//! by the commit timestamp of the transaction that wrote it, and the tree value is either
//! the row or a tombstone. Timestamps are inverted so that, within one user key, the
//! newest version sorts first:
//!
//! ```text
//! tree key                           tree value      meaning
//! esc("alice") ‖ !7   (ts 7)         0x01 "Alice v2"  written at 7
//! esc("alice") ‖ !3   (ts 3)         0x01 "Alice"     written at 3
//! esc("bob")   ‖ !5   (ts 5)         0x00             deleted at 5
//! esc("bob")   ‖ !2   (ts 2)         0x01 "Bob"       written at 2
//! ```
//!
//! `esc` makes user keys prefix-free (see [`version_key`]), so the versions of one key are
//! contiguous and a range of user keys maps to one range of tree keys.
//!
//! This is the "versioned keys in the tree" design (toyDB, CockroachDB), chosen over
//! "newest version in place plus undo chains" (InnoDB, HyPer). Its costs: a point read is
//! a seek plus a step past versions newer than the snapshot; a scan steps over every
//! version still in its range; the tree holds old versions until garbage collection
//! removes them. In exchange there is no undo log, no in-place update of a shared record,
//! rollback is free, and recovery needs no undo pass.
//!
//! ## SNAPSHOTS AND ISOLATION
//!
//! A global [`clock::Clock`] hands out commit timestamps and tracks the *visible*
//! timestamp: the highest `t` such that every transaction with a commit timestamp `<= t`
//! has finished committing (its writes are applied and durable). A snapshot is just a
//! visible timestamp: it sees exactly the versions with `ts <= snapshot`, plus the
//! transaction's own uncommitted writes.
//!
//! - REPEATABLE READ (snapshot isolation): one snapshot, taken at the transaction's first
//!   operation, as PostgreSQL takes it at the first statement.
//! - READ COMMITTED: a fresh snapshot for every statement. A statement is either one call
//!   of `get` / `put` / `delete` / `scan`, or a span the caller marks with
//!   [`Transaction::begin_statement`] (the SQL executor marks each SQL statement).
//!
//! ## WRITES AND CONFLICTS
//!
//! A transaction's writes stay in its private write set until commit; reads and scans
//! merge the write set over the snapshot, so a transaction sees its own writes. Writing a
//! key does two things, as PostgreSQL's writer does:
//!
//! 1. it takes the key's row lock in the [`locks::LockTable`]; if another active
//!    transaction holds it in a conflicting mode, the writer **waits** until that one
//!    ends (bounded by the [`locks::LockWait`] the caller set: `lock_timeout`, a
//!    cancelled statement, `statement_timeout`; a waiter that closes a cycle of waiters
//!    fails with [`Error::Deadlock`]);
//! 2. then it reads the key's newest committed version; if that version is newer than
//!    the writer's snapshot, someone committed a write this transaction could not see:
//!    under REPEATABLE READ the write fails with [`Error::Serialization`] (first updater
//!    wins); under READ COMMITTED it goes on over the newer version.
//!
//! A failed write rolls the whole transaction back (as PostgreSQL aborts the transaction
//! on an error); the caller retries from the start. A caller that read a row before
//! writing it (UPDATE and DELETE) locks it first with [`Transaction::lock_row`], which
//! under READ COMMITTED hands back the newest version when a later commit changed the
//! row, so the caller can re-check its condition on it (PostgreSQL's EvalPlanQual);
//! `SELECT ... FOR UPDATE` and its weaker kin take the same locks without writing. The
//! lock table's exact guarantees (modes, waiting, deadlock detection) are stated in
//! [`locks`].
//!
//! ## ISOLATION: WHAT EACH LEVEL GUARANTEES, WHAT IT COSTS, WHERE H DIFFERS
//!
//! - **READ COMMITTED** (the SQL session's default, as PostgreSQL's). Each statement
//!   sees what was committed when it began (no dirty reads, no half of a transaction).
//!   A write waits for a concurrent writer of the same row and then goes on with the
//!   row's newest version, re-checking the statement's condition on it; so no update a
//!   statement computes from a row it locked is lost, but two statements of one
//!   transaction can see different data (non-repeatable reads, phantoms, read skew),
//!   and a blind write overwrites (as in PostgreSQL). Cost: a snapshot per statement
//!   (one atomic load), a lock-table entry per written or locked row, and a wait where
//!   rows are contended; it never fails for a conflict, except to break a deadlock.
//! - **REPEATABLE READ** (snapshot isolation). One snapshot for the whole transaction:
//!   repeatable reads, no phantoms, no read skew. A write that meets a row changed after
//!   the snapshot — at once, or once the writer it waited for commits — fails with a
//!   retryable serialization error (SQLSTATE 40001), so no update is lost; a waiter
//!   whose rival rolls back goes on. Write skew (G2-item) and other anti-dependency
//!   cycles are allowed, exactly as PostgreSQL's REPEATABLE READ allows them. Cost: as
//!   READ COMMITTED, plus retries under contention, and old versions kept while the
//!   snapshot lives.
//! - **SERIALIZABLE** (serializable snapshot isolation, [`ssi`]). REPEATABLE READ's
//!   snapshot and first-updater-wins, plus read tracking: the committed SERIALIZABLE
//!   transactions behave as if run one at a time, in some order (no write skew, no
//!   predicate anomalies, no read-only anomaly). Each transaction's reads are recorded
//!   as SIREAD locks (keys it read, key ranges it scanned, escalated to whole trees
//!   past a per-tree count and a global memory budget) and kept after its commit until
//!   every transaction concurrent with it has ended; rw-antidependencies are found when
//!   a committing writer's keys meet a concurrent transaction's SIREAD locks, and when
//!   a read meets the keys of a concurrent writer that committed after its snapshot.
//!   A dangerous structure `T1 -rw-> T2 -rw-> T3` with T3 committed first fails, with
//!   a retryable serialization error (SQLSTATE 40001), the pivot T2 at its commit, or
//!   T1 at the read that completes the structure when T2 has committed already (a
//!   committed transaction is never a victim); the victim waits until the commit its
//!   snapshot missed is visible before it reports the failure, so a retry sees it. The check runs before the commit's
//!   timestamp is allocated and its record logged (the commit invariant below). A
//!   READ ONLY transaction whose snapshot is safe is not tracked at all, and `READ
//!   ONLY DEFERRABLE` waits for such a snapshot. Cost: for SERIALIZABLE transactions
//!   only (READ COMMITTED and REPEATABLE READ never touch it), one global mutex per
//!   read or scan and per commit, memory for the read and write sets of transactions
//!   that may still conflict, and false-positive aborts (coarse locks, and a structure
//!   is judged without looking for the rest of a cycle). Where it differs from
//!   PostgreSQL: a write's conflicts are found at its transaction's commit, not at the
//!   write (so the pivot fails at COMMIT where PostgreSQL may fail an earlier UPDATE);
//!   locks are key / range / tree, not tuple / page / relation; and a non-deferrable
//!   READ ONLY transaction on an unsafe snapshot stays tracked to its end. As in
//!   PostgreSQL, the guarantee holds among SERIALIZABLE transactions: writes by
//!   transactions at weaker levels are not tracked.
//!
//! Where H still differs from PostgreSQL: waiters are not queued (a released lock goes
//! to whichever waiter runs first, so under heavy contention one waiter can be passed
//! over repeatedly; PostgreSQL serves them in order); a row whose primary key an
//! UPDATE changed counts, for a concurrent READ COMMITTED writer, as deleted (PostgreSQL
//! follows it to its new version); the deadlock victim is the waiter whose check finds
//! the cycle, which is PostgreSQL's rule too, but the check runs once per wait; and the
//! tree locks of schema changes (below) still refuse a conflicting writer at once
//! instead of waiting.
//!
//! Key locks cannot protect a schema change that derives something from every row of a
//! table (CREATE INDEX fills the index from the rows its snapshot sees): a row written
//! concurrently is a new key. So a transaction's first write of each tree also joins
//! the tree's *tree lock* in shared mode, and such a schema change takes it exclusively
//! ([`Transaction::lock_tree`]); each refuses the other, and both refuse a partner whose
//! commit the snapshot cannot see ([`tree_locks`]: once per transaction and tree, not
//! per row).
//!
//! [`Transaction::insert`] is `get` then `put` in one probe: the newest version the
//! probe finds says both whether the key exists at the snapshot (then nothing is written
//! and no lock taken) and whether a newer commit conflicts. It probes *before* taking the
//! lock, so it must know that no commit wrote the key between the probe and the lock:
//! such a commit completes before it releases the key's lock, so the writer compares the
//! clock's completion counter before the probe and after the lock, and probes again only
//! if a commit completed in between ([`clock::Clock::completions`]).
//!
//! ## THE WRITE PATH: ONE AMORTISED TREE OPERATION PER ROW
//!
//! What a row written costs, and why nothing more is needed:
//!
//! - **Statement time.** One hash of the key (shared by the write set and the lock
//!   table), one probe of the tree for the newest version (a single descent; on a tree
//!   that does not exist yet, a cache lookup), one lock-table insert, and an append to
//!   the write set ([`write_set`]: an arena, a hash index, no per-write allocation). A
//!   transaction's writes to a tree it created itself ([`Transaction::claim_new_tree`])
//!   skip the lock and the probe: nobody else can write or have written that tree.
//! - **Loads into existing trees.** A transaction that holds a tree for a load
//!   ([`Transaction::lock_tree_for_load`]: the tree lock, exclusively) takes no key
//!   locks in it — no other transaction can write the tree until it ends — and a key
//!   past the greatest key the tree held when it was taken needs no probe either: no
//!   version of it can exist, and none can appear. So a load in key order (the
//!   migration's batches) costs no lock-table entry and no descent per row. A
//!   transaction that writes [`transaction::AUTO_LOAD_CLAIM_WRITES`] new keys into a
//!   tree it did not create tries this by itself, once, if the tree is *empty* and
//!   nobody else is writing it (a refusal changes nothing): a large INSERT into an
//!   empty table pays locks and probes for its first rows only. The price is the tree
//!   lock's: while the load runs, another writer of that table fails at once with a
//!   retryable serialization error, as it would beside a CREATE INDEX; small
//!   transactions never take it.
//! - **Bulk loads.** CREATE INDEX hands the write set its whole index sorted, in one
//!   arena, or as sorted run files when it outgrew the build's memory budget
//!   (`Transaction::load_deferred`): kept as it is, no hash, lock, probe or sort per
//!   entry; the commit builds the tree from it and logs one marker in its place, from
//!   which recovery rebuilds the index (see `table/index_build.rs`). The rebuild of a
//!   table under a new primary key hands over its rows as one sorted run
//!   (`Transaction::load_sorted`), adopted by the write set as it is and logged.
//! - **Commit time.** The write set is sorted per tree once (unless scans sorted it
//!   already: a radix sort of the keys' 16-byte heads, [`crate::head_sort`]); a tree
//!   of thousands of writes is first copied into key order in a new arena, so that
//!   logging and applying read memory in order rather than taking a cache miss per
//!   entry twice (see `write_set.rs`); it is logged in that order straight from the
//!   arena, and each tree's writes are applied as one sorted batch ([`TreeStore::apply_sorted`]): into an empty tree the
//!   B+tree builds itself bottom-up, otherwise one leaf latch serves every write that
//!   falls into that leaf, and writes past the tree's last key fill its last leaf and
//!   split it at the end, leaving full leaves (see `btree/write.rs`). Locks are released
//!   shard by shard.
//! - **After the commit.** Only keys that can have older versions go on the garbage
//!   queue (below): a *fresh* key — no committed version existed when the transaction
//!   first wrote it, which the probe above already told — has exactly one version after
//!   the commit, because the writer held its lock from the probe to the end of the
//!   commit, so no other version can have appeared.
//!
//! ## COMMIT
//!
//! **The commit invariant**: every check that can fail runs before the commit record is
//! written, and applying a logged commit (at commit, and again at recovery) can fail
//! only by I/O (or a corrupted page). The checks are: write-write conflicts and
//! serialization (when the key is written, above), key lengths (when the key is
//! written: [`Mvcc::check_key`] against [`TreeStore::max_key_len`], on the key's
//! encoded tree key, so a failed write leaves the transaction usable), and the size of
//! one write in the log (the log refuses a record over its limit before writing any of
//! it, with `Limit::LogRecord`: that bounds every value; a transaction's writes together
//! are not bounded, since a large commit is logged in parts). The table
//! layer's checks (types, NOT NULL, UNIQUE, its own named key-size errors) run before
//! its writes reach the transaction. Values need no other check: the B+tree stores any
//! length in overflow pages, and trees are created by their first write. If
//! applying does fail, the database is poisoned (below) and recovery replays the
//! record; a record that fails the checks at replay changes nothing (see
//! [`Mvcc::replay_commit`]).
//!
//! ```text
//!   sort the write set (per tree, by key)
//!   hold the apply gate (shared)
//!     if the writes are large: parts = log.append_parts(writes)   -- no timestamp yet
//!     hold the commit-order lock:  ts = clock.allocate();  log.append(ts, parts, writes)
//!     apply each tree's writes as one sorted batch of versions at ts
//!   release the apply gate
//!   wait until the log record is durable (group commit batches this wait)
//!   clock.complete(ts)         -- visible once every older commit is complete too
//!   wait until ts is visible   -- so the caller's next transaction sees its commit
//!   release the write locks
//! ```
//!
//! The commit-order lock makes log order equal timestamp order. Versions at `ts` are in
//! the trees before `ts` becomes visible, and `ts` becomes visible only when every
//! smaller timestamp has, so a snapshot never sees half of a transaction, and never sees
//! a transaction whose log record could still be lost in a crash. A checkpoint takes the
//! apply gate exclusively, so at that moment every logged commit is fully applied and
//! the log's end position is a correct checkpoint position. A commit whose writes take
//! more than the log's part size writes them as parts ahead of its record (outside the
//! commit-order lock, so other commits go on; `wal/record.rs`), and the record names
//! them: the apply gate, held from before the first part, keeps a checkpoint from
//! falling between them and truncating the parts away. A commit that fails after its
//! parts (a serialization failure, a write too large) leaves parts no record names,
//! which recovery ignores: the commit record is still what commits.
//!
//! ## GARBAGE COLLECTION
//!
//! *Pruning* a key removes the versions no snapshot can see: with `horizon` the oldest
//! active snapshot (or the visible timestamp if none is active), it keeps every version
//! newer than `horizon` and the newest version at or below it, and deletes the rest
//! (that newest one too, if it is a tombstone: then nothing of the key remains).
//!
//! A key is pruned once per write that can leave garbage. Once a commit is visible, each
//! key it wrote that is not a fresh put goes on a *garbage queue*; every later commit
//! prunes a bounded number of queued keys whose commits the horizon has passed
//! ([`gc_policy`]), and [`Mvcc::vacuum`] drains the queue. A row updated a million times
//! therefore keeps one version plus those that open snapshots still need, and a deleted
//! row disappears entirely. (Pruning also when the version is applied, as an earlier
//! version did, found nothing the queue would not: the horizon is still below the
//! commit then, so only versions the queue's later pass removes anyway.) Recovery prunes
//! every replayed key against the replayed timestamp, since the log does not say which
//! keys were fresh.
//!
//! ## DROPPED TREES
//!
//! DROP TABLE, DROP INDEX and TRUNCATE drop trees whole ([`Transaction::drop_tree`]),
//! not a delete per key: a table of a million rows is dropped by one write, logged as
//! one write to [`DROP_MARKER_TREE`] whose key is the tree's id. The write is an
//! ordinary one until the commit — locked, undone by a savepoint or rollback — and the
//! caller (the catalog) holds the tree's lock and removes every name of the tree in the
//! same transaction, so no snapshot from the commit on looks for the tree. Applying the
//! commit *retires* the tree: the store records the retirement durably
//! ([`TreeStore::retire_tree`], in the same flush as the commit's other writes), and the
//! tree joins a queue. Snapshots from before the commit still read every row. Garbage
//! collection frees the tree ([`TreeStore::free_tree`]: its pages back to the free
//! list, its directory entry and retirement record gone, in one write scope that a
//! flush sees whole or not at all) once the horizon has passed the commit, so once the
//! last snapshot that could read it has ended; a pruning of one of its keys queued
//! earlier never runs while it is freed (`freeing`). Recovery replays the marker as a
//! retirement, and opening a database frees every retired tree (no snapshot is open
//! then), so a tree dropped just before a crash is freed whichever of the commit, the
//! retirement and the free the last checkpoint held. Tree ids are never handed out
//! twice, so nothing written after the drop can land in a retired tree.
//!
//! ## RECOVERY
//!
//! Only committed transactions reach the log, so recovery replays commit records after
//! the last checkpoint ([`Mvcc::replay_commit`]) and needs no undo: a transaction that
//! had not committed left nothing behind. Replay is idempotent, because a version's tree
//! key includes its timestamp.
//!
//! ## NOT YET
//!
//! A vacuum that walks whole trees (the garbage queue forgets keys
//! past [`gc_policy::MAX_QUEUED_KEYS`] while a long snapshot holds the horizon back, and
//! the garbage of forgotten keys stays until they are written again).

pub mod chunks;
pub mod clock;
mod commit;
pub mod gc_policy;
pub mod locks;
#[cfg(any(test, feature = "testing"))]
pub mod memory;
pub mod scan;
pub mod ssi;
pub mod store;
pub mod transaction;
mod tree_locks;
pub mod version_key;
mod write_set;

use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::error::Result;
pub use clock::{CommitTs, Snapshot};
#[cfg(any(test, feature = "testing"))]
pub use memory::MemoryTreeStore;
pub use chunks::TxnChunks;
pub use scan::TxnScan;
pub use store::{
    CommitLog, CommitTicket, NoCommitLog, PartSink, TreeId, TreeStore, WriteOp, WriteRef,
};
pub use locks::{LockMode, LockWait, WaitPolicy};
pub use ssi::SsiLimits;
pub use transaction::{
    AUTO_LOAD_CLAIM_WRITES, AccessMode, IsolationLevel, RowLock, Savepoint, Transaction, TxnId,
};
pub use commit::{BUILD_MARKER_TREE, DROP_MARKER_TREE};
pub(crate) use write_set::{
    BuildEntries, DeferredBuild, READ_AHEAD, RunEntry, RunsInOrder, SortedRun, read_ahead,
};

/// The transactional layer over one set of trees: shared by every transaction.
pub struct Mvcc {
    pub(crate) store: Arc<dyn TreeStore>,
    pub(crate) log: Arc<dyn CommitLog>,
    pub(crate) clock: Arc<clock::Clock>,
    pub(crate) locks: locks::LockTable,
    /// Which transactions write each tree, and which schema change holds it.
    pub(crate) tree_locks: tree_locks::TreeLocks,
    /// SERIALIZABLE transactions' read tracking and conflict checks.
    pub(crate) ssi: ssi::Ssi,
    /// Held while a timestamp is allocated and its record appended, so that log order is
    /// timestamp order.
    pub(crate) commit_order: Mutex<()>,
    /// Held shared from a commit's log append until its writes are applied; held
    /// exclusively by a checkpoint.
    pub(crate) apply_gate: RwLock<()>,
    /// Set when a commit failed after it may have reached the trees or the log: the
    /// database refuses further commits until it is reopened and recovered.
    poisoned: Mutex<Option<String>>,
    /// Keys written by completed commits, to prune once the horizon passes them.
    pub(crate) gc_queue: Mutex<std::collections::VecDeque<(CommitTs, TreeId, Vec<u8>)>>,
    /// Trees dropped by completed commits, to free once the horizon passes them.
    pub(crate) retired: Mutex<Vec<(CommitTs, TreeId)>>,
    /// Held shared by each pass of pruning, exclusively while a dropped tree is freed: a
    /// pruning of a key queued before the drop never walks freed pages.
    pub(crate) freeing: RwLock<()>,
    /// Seeds the keyed hash of every written key (write sets and the lock table share
    /// it, so a key is hashed once per write).
    key_hasher: std::hash::RandomState,
    /// Per-tree counters (hidden row ids); not transactional, like SQL sequences.
    sequences: Mutex<std::collections::HashMap<TreeId, i64>>,
    next_txn_id: std::sync::atomic::AtomicU64,
    /// Where a build that outgrows its memory budget spills sorted runs, and the budget.
    pub(crate) spill: Arc<crate::extsort::SpillSpace>,
}

impl std::fmt::Debug for Mvcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mvcc")
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Mvcc {
    /// A transactional layer over `store`, logging commits to `log`. `last_commit` is the
    /// newest commit timestamp already in the store (0 for a new database).
    pub fn new(
        store: Arc<dyn TreeStore>,
        log: Arc<dyn CommitLog>,
        last_commit: CommitTs,
    ) -> Arc<Mvcc> {
        let spill = crate::extsort::SpillSpace::temporary(crate::extsort::DEFAULT_BUILD_MEMORY);
        Mvcc::with_spill(store, log, last_commit, Arc::new(spill))
    }

    /// [`Mvcc::new`] whose builds (CREATE INDEX) hold at most `budget` bytes in memory
    /// before they spill sorted runs to a temporary directory of their own.
    pub fn with_build_memory(
        store: Arc<dyn TreeStore>,
        log: Arc<dyn CommitLog>,
        last_commit: CommitTs,
        budget: usize,
    ) -> Arc<Mvcc> {
        let spill = crate::extsort::SpillSpace::temporary(budget);
        Mvcc::with_spill(store, log, last_commit, Arc::new(spill))
    }

    /// [`Mvcc::new`] whose builds spill to `spill` under its budget.
    pub(crate) fn with_spill(
        store: Arc<dyn TreeStore>,
        log: Arc<dyn CommitLog>,
        last_commit: CommitTs,
        spill: Arc<crate::extsort::SpillSpace>,
    ) -> Arc<Mvcc> {
        Arc::new(Mvcc {
            store,
            log,
            clock: Arc::new(clock::Clock::new(last_commit)),
            locks: locks::LockTable::default(),
            tree_locks: tree_locks::TreeLocks::default(),
            ssi: ssi::Ssi::default(),
            commit_order: Mutex::new(()),
            apply_gate: RwLock::new(()),
            poisoned: Mutex::new(None),
            gc_queue: Mutex::new(std::collections::VecDeque::new()),
            retired: Mutex::new(Vec::new()),
            freeing: RwLock::new(()),
            key_hasher: std::hash::RandomState::new(),
            sequences: Mutex::new(std::collections::HashMap::new()),
            next_txn_id: std::sync::atomic::AtomicU64::new(1),
            spill,
        })
    }

    /// Starts a transaction.
    pub fn begin(self: &Arc<Self>, isolation: IsolationLevel) -> Transaction {
        let id = TxnId(
            self.next_txn_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        );
        Transaction::new(Arc::clone(self), id, isolation)
    }

    /// Starts a transaction with an access mode (`READ ONLY`, `DEFERRABLE`).
    pub fn begin_with(self: &Arc<Self>, isolation: IsolationLevel, mode: AccessMode) -> Transaction {
        let mut txn = self.begin(isolation);
        txn.set_access_mode(mode)
            .expect("a new transaction has no snapshot yet");
        txn
    }

    /// Sets the memory limits of SERIALIZABLE read tracking (see [`ssi`]).
    pub fn set_ssi_limits(&self, limits: SsiLimits) {
        self.ssi.set_limits(limits);
    }

    /// How many SERIALIZABLE transactions' records [`ssi`] holds now (active ones, and
    /// committed ones that a concurrent transaction may still conflict with).
    pub fn ssi_records(&self) -> usize {
        self.ssi.records()
    }

    /// The keyed hash of `key` in `tree`, as write sets and the lock table use it.
    pub(crate) fn key_hash(&self, tree: TreeId, key: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.key_hasher.hash_one((tree.0, key))
    }

    /// How many transactions wait for a row lock now (tests use it to know that a
    /// transaction has blocked).
    pub fn lock_waiters(&self) -> usize {
        self.locks.census().1
    }

    /// How many keys are row-locked now (zero once every transaction has ended).
    pub fn locked_keys(&self) -> usize {
        self.locks.census().0
    }

    /// The newest commit timestamp handed out (visible or still completing).
    pub fn last_allocated(&self) -> CommitTs {
        self.clock.last_allocated()
    }

    /// The newest commit timestamp visible to new snapshots.
    pub fn visible_ts(&self) -> CommitTs {
        self.clock.visible()
    }

    /// Recovery's replay of a build that the commit at `ts` logged as a marker (see
    /// `commit.rs`): every committed version of `tree` (a table) visible at `ts`, lent a
    /// chunk at a time, from which the caller derives the built tree's entries.
    pub(crate) fn replay_scan(&self, tree: TreeId, ts: CommitTs) -> Result<TxnChunks> {
        let (lower, upper) =
            version_key::tree_range(std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
        let versions = self.store.scan_chunks(tree, lower, upper)?;
        Ok(TxnChunks::replayed_at(versions, ts))
    }

    /// Recovery's replay of a build: writes its entries (strictly increasing keys)
    /// into `tree` as versions at `ts`. The tree was empty at `ts`; it may hold the build
    /// already (a checkpoint's cut took it whole), which rewrites the same versions.
    pub(crate) fn replay_build(&self, ts: CommitTs, tree: TreeId, entries: &BuildEntries) -> Result<()> {
        commit::apply_build(self, ts, tree, entries)
    }

    /// Re-applies a commit read from the log during recovery. Must be called in log order,
    /// before any transaction begins. Every write is checked as [`Transaction`] checks it
    /// before any is applied, so a commit that fails the check (one logged by a version
    /// of hdb that checked key lengths only when applying) changes nothing and returns
    /// that check's error ([`crate::Error::TooLarge`]).
    pub fn replay_commit(&self, ts: CommitTs, writes: &[WriteOp]) -> Result<()> {
        let checked = writes
            .iter()
            .try_for_each(|write| self.check_key(write.tree, &write.key));
        if checked.is_ok() {
            commit::replay_writes(self, ts, writes)?;
        }
        // A discarded commit's timestamp is still never handed out again.
        self.clock.observe_replayed(ts);
        checked
    }

    /// The next value of `tree`'s counter. The first call reads the tree's largest user
    /// key (of any version, committed or not yet visible) and lets `start_after` derive
    /// the counter's last value from it. Values are never handed out twice, and are not
    /// given back when a transaction rolls back (as with SQL sequences), so they never
    /// cause write conflicts.
    pub fn next_in_sequence(
        &self,
        tree: TreeId,
        start_after: impl FnOnce(Option<&[u8]>) -> Result<i64>,
    ) -> Result<i64> {
        let mut sequences = self.sequences.lock();
        let last = match sequences.get(&tree) {
            Some(last) => *last,
            None => {
                let newest = self
                    .store
                    .scan(
                        tree,
                        std::ops::Bound::Unbounded,
                        std::ops::Bound::Unbounded,
                        true,
                    )?
                    .next()
                    .transpose()?;
                let user_key = match &newest {
                    Some((tree_key, _)) => Some(&tree_key[..version_key::prefix_len(tree_key)?]),
                    None => None,
                };
                let user_key = user_key.map(version_key::decode_prefix).transpose()?;
                start_after(user_key.as_deref())?
            }
        };
        let next = last.checked_add(1).ok_or_else(|| {
            crate::error::Error::InvalidArgument(format!(
                "row id sequence of tree {} is exhausted",
                tree.0
            ))
        })?;
        sequences.insert(tree, next);
        Ok(next)
    }

    /// The bytes `key` takes as a key of its tree: escaped, with a version suffix.
    pub fn stored_key_len(&self, key: &[u8]) -> usize {
        version_key::encoded_len(key)
    }

    /// The most bytes a key may take in a tree ([`Mvcc::stored_key_len`]).
    pub fn max_stored_key_len(&self) -> usize {
        self.store.max_key_len()
    }

    /// Errors with [`crate::Error::TooLarge`] if the trees cannot hold `key`: the check
    /// every write passes before it joins a write set (see COMMIT above).
    pub fn check_key(&self, tree: TreeId, key: &[u8]) -> Result<()> {
        let (size, max) = (self.stored_key_len(key), self.max_stored_key_len());
        match size <= max {
            true => Ok(()),
            false => Err(crate::error::Error::TooLarge(
                crate::error::Limit::TreeKey {
                    tree: tree.0,
                    key_len: key.len(),
                    size,
                    max,
                },
            )),
        }
    }

    /// Prunes every queued key the horizon has passed; returns how many were pruned.
    pub fn vacuum(&self) -> Result<usize> {
        commit::collect_garbage(self, usize::MAX)
    }

    /// Errors if an earlier failure made the database refuse commits.
    pub fn check_usable(&self) -> Result<()> {
        match &*self.poisoned.lock() {
            Some(reason) => Err(crate::error::Error::Poisoned(reason.clone())),
            None => Ok(()),
        }
    }

    pub(crate) fn poison(&self, reason: String) {
        self.poisoned.lock().get_or_insert(reason);
    }

    /// Runs `f` while no commit is between its log append and the end of its apply: the
    /// checkpointer's view of a consistent store.
    pub fn with_commits_quiesced<T>(&self, f: impl FnOnce() -> T) -> T {
        let _gate = self.apply_gate.write();
        f()
    }
}
