//! A transaction: a snapshot, a private write set, and the locks on what it wrote.
//!
//! See the module header of [`crate::mvcc`] for the rules; this file implements them.
//! The write set ([`super::write_set`]) holds every write until commit, so reads and
//! scans merge it over the snapshot; the commit protocol is in [`super::commit`].
//!
//! Statement savepoints: between [`Transaction::savepoint`] and
//! [`Transaction::rollback_to`], every change to the write set can be undone, so a failed
//! statement can undo exactly its own writes and leave the transaction usable. Locks
//! taken by the undone writes stay held until the transaction ends, as in PostgreSQL.

use std::ops::Bound;
use std::sync::Arc;

use crate::error::{Error, Interruption, Result};
use crate::mvcc::clock::{CommitTs, Snapshot};
use crate::mvcc::commit::{self, DROP_MARKER_TREE, newest_version, read_at};
use crate::mvcc::chunks::TxnChunks;
use crate::mvcc::locks::{Acquired, LockMode, LockWait, WaitError, WaitPolicy};
use crate::mvcc::scan::{OwnWrite, TxnScan};
use crate::mvcc::ssi::Read;
use crate::mvcc::store::TreeId;
use crate::mvcc::tree_locks::Hold;
use crate::mvcc::write_set::{DeferredBuild, SortedRun, WriteSet};
use crate::mvcc::{Mvcc, version_key};

pub use crate::mvcc::write_set::Savepoint;

/// How many new keys a transaction writes into a tree it did not create before it tries
/// to claim the tree for a load (`Transaction::maybe_claim_for_load`): enough that a
/// small transaction never takes a tree exclusively (and so never refuses a concurrent
/// writer of the same empty table), few enough that a large load pays key locks and
/// probes for a negligible share of its rows.
pub const AUTO_LOAD_CLAIM_WRITES: usize = 1024;

/// A transaction's identity, for lock ownership and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxnId(pub u64);

/// How much of other transactions' work a transaction sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IsolationLevel {
    /// A fresh snapshot for every statement.
    ReadCommitted,
    /// One snapshot for the whole transaction (snapshot isolation), as PostgreSQL's
    /// REPEATABLE READ.
    #[default]
    RepeatableRead,
    /// REPEATABLE READ's snapshot plus serializable snapshot isolation ([`super::ssi`]):
    /// the committed SERIALIZABLE transactions behave as if run one at a time.
    Serializable,
}

impl IsolationLevel {
    /// Whether one snapshot serves the whole transaction (REPEATABLE READ and
    /// SERIALIZABLE); otherwise each statement takes its own.
    pub fn one_snapshot(self) -> bool {
        self != IsolationLevel::ReadCommitted
    }
}

/// How a transaction may be used beyond its isolation level: PostgreSQL's `READ ONLY`
/// and `DEFERRABLE` transaction modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccessMode {
    /// The transaction will not write: writes are refused. Under SERIALIZABLE it lets
    /// the transaction run untracked on a safe snapshot (see [`super::ssi`]).
    pub read_only: bool,
    /// With `read_only` under SERIALIZABLE: wait at the first statement until the
    /// snapshot is safe, then run untracked, never failing with a serialization error.
    /// Ignored otherwise, as PostgreSQL ignores it.
    pub deferrable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Active,
    Committed,
    RolledBack,
    /// Rolled back by an error; the reason is reported to every later call.
    Aborted(String),
}

/// One transaction. Dropping an active transaction rolls it back.
pub struct Transaction {
    mvcc: Arc<Mvcc>,
    id: TxnId,
    isolation: IsolationLevel,
    state: State,
    /// REPEATABLE READ and SERIALIZABLE: taken at the first operation and kept.
    txn_snapshot: Option<Snapshot>,
    mode: AccessMode,
    /// SERIALIZABLE: whether [`super::ssi`] tracks this transaction (from its snapshot
    /// until it ends).
    ssi_tracked: bool,
    /// READ COMMITTED: the current statement's snapshot, when a statement is open.
    statement_snapshot: Option<Snapshot>,
    writes: WriteSet,
    /// The tree locks this transaction holds (see [`super::tree_locks`]), and how. One
    /// vector, to keep a transaction small.
    tree_locks: Vec<(TreeId, Hold)>,
    /// Row locks beyond the write set's, and what bounds a wait for one: boxed, as
    /// few transactions wait, to keep a transaction small.
    row_locks: Box<RowLocks>,
    /// A buffer for encoding probe keys, so a write allocates none.
    scratch: Vec<u8>,
}

/// A transaction's row-lock state that the write set does not hold.
#[derive(Debug, Default)]
struct RowLocks {
    /// Keys locked by [`Transaction::lock_row`] (written keys' locks are found through
    /// the write set), released when the transaction ends.
    held: Vec<(TreeId, u64)>,
    /// What bounds a wait for a lock ([`Transaction::set_lock_wait`]).
    wait: LockWait,
}

/// What [`Transaction::lock_row`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowLock {
    /// The row is locked, and no commit changed it after this transaction's snapshot.
    Unchanged,
    /// READ COMMITTED: the row is locked, and a transaction that committed after this
    /// statement's snapshot changed it: its newest value (`None`: deleted). PostgreSQL's
    /// EvalPlanQual: the caller re-checks its condition on that value.
    Changed(Option<Vec<u8>>),
    /// `SKIP LOCKED`: another transaction holds the row; nothing was locked.
    Skipped,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("id", &self.id)
            .field("isolation", &self.isolation)
            .field("state", &self.state)
            .field("writes", &self.writes.live())
            .finish_non_exhaustive()
    }
}

impl Transaction {
    pub(crate) fn new(mvcc: Arc<Mvcc>, id: TxnId, isolation: IsolationLevel) -> Transaction {
        Transaction {
            mvcc,
            id,
            isolation,
            state: State::Active,
            txn_snapshot: None,
            mode: AccessMode::default(),
            ssi_tracked: false,
            statement_snapshot: None,
            writes: WriteSet::default(),
            tree_locks: Vec::new(),
            row_locks: Box::default(),
            scratch: Vec::new(),
        }
    }

    /// Sets the access mode; only before the transaction's first operation (the
    /// snapshot), as `SET TRANSACTION` must come first in PostgreSQL.
    pub fn set_access_mode(&mut self, mode: AccessMode) -> Result<()> {
        if self.txn_snapshot.is_some() {
            return Err(Error::InvalidArgument(
                "the access mode must be set before the transaction's first read or write".into(),
            ));
        }
        self.mode = mode;
        Ok(())
    }

    /// The access mode ([`set_access_mode`](Self::set_access_mode)).
    pub fn access_mode(&self) -> AccessMode {
        self.mode
    }

    /// Sets what bounds this transaction's waits for row locks from now on: its
    /// `lock_timeout` and `deadlock_timeout`, and the cancel flag and deadline of the
    /// statement running (the SQL layer sets it for each statement).
    pub fn set_lock_wait(&mut self, wait: LockWait) {
        self.row_locks.wait = wait;
    }

    /// This transaction's id.
    pub fn id(&self) -> TxnId {
        self.id
    }

    /// The transactional layer this transaction belongs to.
    pub fn mvcc(&self) -> &Arc<Mvcc> {
        &self.mvcc
    }

    /// This transaction's isolation level.
    pub fn isolation(&self) -> IsolationLevel {
        self.isolation
    }

    /// Whether the transaction has written anything (that a savepoint did not undo).
    pub fn has_writes(&self) -> bool {
        self.writes.has_writes()
    }

    /// Declares that this transaction created `tree` and that no other transaction can
    /// write it before this one ends (the table layer calls it for the tree of a table
    /// or index it has just allocated in the catalog). Its writes then take no locks and
    /// need no conflict probes: there is nobody to conflict with, and nothing committed
    /// to find (see [`super::locks`]). Has no effect on a tree this transaction already
    /// wrote, whose keys hold locks.
    pub fn claim_new_tree(&mut self, tree: TreeId) {
        let slot = self.writes.slot_or_create(tree);
        let writes = self.writes.tree_mut(slot);
        if writes.hashes().next().is_none() {
            writes.claimed = true;
        }
    }

    /// Writes the entries of `run`, whose keys strictly increase, into `tree`, which
    /// this transaction claimed ([`claim_new_tree`](Self::claim_new_tree)) and has not
    /// written yet: the bulk path of a table rebuilt under a new primary key
    /// (`table/rekey.rs`; CREATE INDEX hands over a [deferred build](Self::load_deferred)
    /// instead). The writes are what as many [`put`](Self::put)s would make — each key checked against the trees' key limit,
    /// no locks or probes (the tree is claimed) — but the write set takes the run's
    /// arena as it is, with no hash per key and no sort, and the commit builds the tree
    /// bottom-up from it (see [`crate::btree`]). A tree that is not claimed or already
    /// written, or keys out of order, is an error; any error leaves nothing written.
    pub(crate) fn load_sorted(&mut self, tree: TreeId, run: SortedRun) -> Result<()> {
        self.check_active()?;
        self.write_tree(tree)?;
        let slot = self.writes.slot_or_create(tree);
        let target = self.writes.tree(slot);
        if !target.claimed || !target.is_empty() || target.fresh_after.is_some() {
            return Err(Error::InvalidArgument(format!(
                "a sorted load needs a tree this transaction created and has not written (tree {})",
                tree.0
            )));
        }
        let mut previous: Option<&[u8]> = None;
        for entry in &run.entries {
            let key = run.key(entry);
            if previous.is_some_and(|p| p >= key) {
                return Err(Error::InvalidArgument(format!(
                    "a sorted load's keys must strictly increase (tree {})",
                    tree.0
                )));
            }
            // The commit invariant, as in `write`.
            self.mvcc.check_key(tree, key)?;
            previous = Some(key);
        }
        self.writes.adopt_sorted(slot, run)
    }

    /// Hands over a build of `build.tree` — claimed by this transaction and not written
    /// yet — whose entries (in strictly increasing key order, in memory or spilled to
    /// runs) the caller derived from the rows of `build.source` this transaction sees,
    /// checked each key against the trees' key limit and saw to be in order (see
    /// `table/index_build.rs`). The write set keeps them as they are (no entry, hash or
    /// sort per key); the commit builds the empty tree from them bottom-up and logs
    /// `build.marker` in their place — or, for a load (no marker: rows loaded into an
    /// empty table, `table/load.rs`, whose source is the tree itself), the entries. A
    /// read or write of the tree, or a write of the source, before then reads them into
    /// the write set first, and the commit then logs them (see `write_set.rs`).
    pub(crate) fn load_deferred(&mut self, build: DeferredBuild) -> Result<()> {
        self.check_active()?;
        self.write_tree(build.tree)?;
        let slot = self.writes.slot_or_create(build.tree);
        let target = self.writes.tree(slot);
        if !target.claimed || !target.is_empty() || target.fresh_after.is_some() {
            return Err(Error::InvalidArgument(format!(
                "a sorted load needs a tree this transaction created and has not written (tree {})",
                build.tree.0
            )));
        }
        self.writes.defer_build(slot, build);
        Ok(())
    }

    /// Before this transaction reads or writes `tree` itself: a build of it still
    /// deferred to the commit is read into the write set, where reads and writes find
    /// its entries.
    fn use_tree(&mut self, tree: TreeId) -> Result<()> {
        match self.writes.is_deferred(tree) {
            true => self.writes.materialize_build(tree),
            false => Ok(()),
        }
    }

    /// Before this transaction writes `tree`: [`use_tree`](Self::use_tree), and the
    /// builds deferred from `tree`'s rows are read into the write set too (their marker
    /// would no longer describe them; see `write_set.rs`).
    fn write_tree(&mut self, tree: TreeId) -> Result<()> {
        self.use_tree(tree)?;
        for built in self.writes.deferred_from(tree) {
            self.writes.materialize_build(built)?;
        }
        Ok(())
    }

    /// Opens a statement: under READ COMMITTED, takes the snapshot every operation until
    /// [`end_statement`](Self::end_statement) uses. Under REPEATABLE READ, takes the
    /// transaction's snapshot if this is the first statement.
    pub fn begin_statement(&mut self) -> Result<()> {
        self.check_active()?;
        match self.isolation {
            IsolationLevel::ReadCommitted => {
                self.statement_snapshot = Some(self.mvcc.clock.snapshot());
            }
            IsolationLevel::RepeatableRead | IsolationLevel::Serializable => {
                self.snapshot();
            }
        }
        Ok(())
    }

    /// Closes the statement opened by [`begin_statement`](Self::begin_statement).
    pub fn end_statement(&mut self) {
        self.statement_snapshot = None;
    }

    /// The snapshot the current operation reads at.
    fn snapshot(&mut self) -> Snapshot {
        match self.isolation {
            IsolationLevel::RepeatableRead => self
                .txn_snapshot
                .get_or_insert_with(|| self.mvcc.clock.snapshot())
                .clone(),
            IsolationLevel::Serializable => {
                if self.txn_snapshot.is_none() {
                    let mvcc = &self.mvcc;
                    let begun = mvcc.ssi.begin(
                        &mvcc.clock,
                        self.id,
                        self.mode.read_only,
                        self.mode.read_only && self.mode.deferrable,
                        &|| mvcc.check_usable().is_err(),
                    );
                    self.ssi_tracked = begun.tracked;
                    self.txn_snapshot = Some(begun.snapshot);
                }
                self.txn_snapshot.clone().expect("taken above")
            }
            IsolationLevel::ReadCommitted => match &self.statement_snapshot {
                Some(snapshot) => snapshot.clone(),
                None => self.mvcc.clock.snapshot(),
            },
        }
    }

    /// Whether this transaction has written (put or deleted) `key` in `tree` and not
    /// taken the write back: what tells a row this transaction deleted from one it
    /// cannot see because another transaction committed it later. (The entries of a
    /// build deferred to the commit, [`load_deferred`](Self::load_deferred), are not read
    /// here: the table layer asks this of tables, never of an index it is building.)
    pub fn has_written(&self, tree: TreeId, key: &[u8]) -> bool {
        self.own_write(tree, key).is_some()
    }

    /// Takes the snapshot of a REPEATABLE READ or SERIALIZABLE transaction if it has
    /// none yet, as [`Transaction::snapshot`] would, without handing out a reference.
    fn take_transaction_snapshot(&mut self) {
        if self.isolation != IsolationLevel::ReadCommitted && self.txn_snapshot.is_none() {
            self.snapshot();
        }
    }

    /// The value of `key` in `tree` as this transaction sees it.
    pub fn get(&mut self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.check_active()?;
        self.use_tree(tree)?;
        if let Some(own) = self.own_write(tree, key) {
            return Ok(own);
        }
        let snapshot = self.snapshot();
        self.ssi_read(tree, Read::Key(key))?;
        read_at(&self.mvcc, tree, key, snapshot.ts())
    }

    /// SERIALIZABLE: records a read with [`super::ssi`] (its SIREAD lock) and checks it
    /// for a dangerous structure, which aborts this transaction. Call after
    /// [`snapshot`](Self::snapshot).
    fn ssi_read(&mut self, tree: TreeId, read: Read<'_>) -> Result<()> {
        if !self.ssi_tracked {
            return Ok(());
        }
        match self.mvcc.ssi.read(self.id, tree, read) {
            Ok(()) => Ok(()),
            Err(failure) => {
                // The record is gone already.
                self.ssi_tracked = false;
                self.mvcc.ssi.tidy(&self.mvcc.clock);
                let error = self.abort_with(failure.reason);
                self.settle(failure.settle);
                Err(error)
            }
        }
    }

    /// After a SERIALIZABLE failure, with this transaction's locks released: waits until
    /// `ts` is visible, so that a retry's snapshot includes it (see
    /// [`super::ssi::Failure`]).
    fn settle(&self, ts: CommitTs) {
        let mvcc = &self.mvcc;
        mvcc.clock.wait_visible(ts, || mvcc.check_usable().is_err());
    }
    /// This transaction's own live write of `key`, if it has one.
    fn own_write(&self, tree: TreeId, key: &[u8]) -> Option<Option<Vec<u8>>> {
        let slot = self.writes.slot(tree)?;
        let writes = self.writes.tree(slot);
        let id = writes.find(self.mvcc.key_hash(tree, key), key)?;
        writes.get(id).map(|v| v.map(<[u8]>::to_vec))
    }

    /// Writes `value` under `key`.
    pub fn put(&mut self, tree: TreeId, key: &[u8], value: &[u8]) -> Result<()> {
        self.write(tree, key, Some(value))
    }

    /// Deletes `key` (deleting a missing key is not an error, but still takes its lock).
    pub fn delete(&mut self, tree: TreeId, key: &[u8]) -> Result<()> {
        self.write(tree, key, None)
    }

    /// Drops `tree` whole (DROP TABLE, DROP INDEX, TRUNCATE): one write, logged as such,
    /// in place of a delete per key. The caller holds the tree's lock
    /// ([`lock_tree`](Self::lock_tree)) and removes every name of the tree from its
    /// catalog in this transaction, so that no snapshot from the commit on reads the
    /// tree; snapshots from before it read all of it until the last of them ends and
    /// garbage collection frees its pages (DROPPED TREES in the [module
    /// header](super)). A savepoint or rollback undoes it as any write.
    pub fn drop_tree(&mut self, tree: TreeId) -> Result<()> {
        if tree.0 >= DROP_MARKER_TREE.0 {
            return Err(Error::InvalidArgument(format!(
                "tree {} is reserved and cannot be dropped",
                tree.0
            )));
        }
        self.write(DROP_MARKER_TREE, &tree.0.to_be_bytes(), Some(&[]))
    }

    /// Writes `value` under `key` only if this transaction sees no value there; returns
    /// whether it wrote. It is `get` followed by `put`, with the same outcomes and
    /// errors, in one probe of the tree: a key that exists is reported without taking its
    /// lock (as `get` takes none), and a key that does not is locked and written.
    pub fn insert(&mut self, tree: TreeId, key: &[u8], value: &[u8]) -> Result<bool> {
        self.check_active()?;
        self.write_tree(tree)?;
        // The commit invariant, as in `write`.
        self.mvcc.check_key(tree, key)?;
        self.check_writable()?;
        if self.isolation == IsolationLevel::Serializable {
            // Whether the key exists is a read.
            self.snapshot();
            self.ssi_read(tree, Read::Key(key))?;
        }
        let hash = self.mvcc.key_hash(tree, key);
        let slot = self.writer_slot(tree)?;
        if let Some(id) = self.writes.tree(slot).find(hash, key) {
            let visible = match self.writes.tree(slot).get(id) {
                Some(own) => own.is_some(),
                // Undone by a savepoint: what the snapshot holds. The lock has been held
                // since the first write, so nobody changed the key meanwhile.
                None => {
                    let snapshot = self.snapshot();
                    read_at(&self.mvcc, tree, key, snapshot.ts())?.is_some()
                }
            };
            if visible {
                return Ok(false);
            }
            self.writes.set(slot, id, Some(value))?;
            return Ok(true);
        }
        self.maybe_claim_for_load(tree, slot)?;
        if self.writes.tree(slot).claimed {
            let fresh = match self.writes.tree(slot).is_past_claim(key) {
                // No probe, so no snapshot to read at (a load's row costs no reference
                // count); but a level with one snapshot per transaction takes it now if
                // this is the transaction's first operation, as any write would.
                true => {
                    self.take_transaction_snapshot();
                    true
                }
                // Nobody else writes the tree while it is claimed: one probe settles
                // both questions, with no lock to take and no second probe.
                false => {
                    let snapshot = self.snapshot();
                    match newest_version(&self.mvcc, tree, key, &mut self.scratch)? {
                        Some((ts, true)) if ts <= snapshot.ts() => return Ok(false),
                        Some((ts, _)) if ts > snapshot.ts() => {
                            if read_at(&self.mvcc, tree, key, snapshot.ts())?.is_some() {
                                return Ok(false);
                            }
                            return Err(self.newer_version_error(ts, &snapshot));
                        }
                        newest => newest.is_none(),
                    }
                }
            };
            self.writes.add(slot, hash, key, Some(value), fresh)?;
            return Ok(true);
        }
        let snapshot = self.snapshot();
        let completions = self.mvcc.clock.completions();
        let newest = newest_version(&self.mvcc, tree, key, &mut self.scratch)?;
        match newest {
            Some((ts, has_row)) if ts <= snapshot.ts() && has_row => return Ok(false),
            Some((ts, has_row)) if ts > snapshot.ts() => {
                // A row committed after the snapshot exists, as PostgreSQL's unique
                // check finds it (at every level); so does one the snapshot still sees.
                if has_row || read_at(&self.mvcc, tree, key, snapshot.ts())?.is_some() {
                    return Ok(false);
                }
                // `put` fails on the newer version; take the same path for its error.
                self.write_new(slot, hash, tree, key, Some(value))?;
                return Ok(true);
            }
            _ => {}
        }
        self.lock(tree, hash, LockMode::NoKeyUpdate)?;
        // A commit that completed since the probe (perhaps the one this write waited
        // for) may have written the key and then released its lock (see
        // `Clock::completions`): probe again. A row it inserted exists, as PostgreSQL
        // reports after waiting; a delete is a conflict under REPEATABLE READ.
        let fresh = match self.mvcc.clock.completions() == completions {
            true => newest.is_none(),
            false => match newest_version(&self.mvcc, tree, key, &mut self.scratch)? {
                Some((ts, has_row)) if ts > snapshot.ts() => {
                    if has_row {
                        self.mvcc.locks.unlock(tree, hash, self.id);
                        return Ok(false);
                    }
                    if self.isolation.one_snapshot() {
                        self.mvcc.locks.unlock(tree, hash, self.id);
                        return Err(self.newer_version_error(ts, &snapshot));
                    }
                    false
                }
                now => now.is_none(),
            },
        };
        self.writes.add(slot, hash, key, Some(value), fresh)?;
        Ok(true)
    }

    /// The entries of `tree` with keys within the bounds, as this transaction sees them,
    /// ascending or descending. The scan sees the transaction's writes made before it was
    /// opened, not those made while it runs.
    pub fn scan(
        &mut self,
        tree: TreeId,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<TxnScan> {
        self.check_active()?;
        self.use_tree(tree)?;
        let snapshot = self.snapshot();
        self.ssi_read(tree, range_read(lower, upper))?;
        let (tree_lower, tree_upper) = version_key::tree_range(lower, upper);
        let versions = self
            .mvcc
            .store
            .scan(tree, tree_lower, tree_upper, reverse)?;
        let mut own: Vec<OwnWrite> = match range_is_empty(lower, upper) {
            true => Vec::new(),
            false => self.writes.range(tree, lower, upper),
        };
        if reverse {
            own.reverse();
        }
        Ok(TxnScan::new(versions, own, snapshot, reverse))
    }

    /// The entries of `tree` with keys within the bounds, as this transaction sees them,
    /// ascending, lent a chunk at a time ([`TxnChunks`]): what [`Transaction::scan`]
    /// returns, without an allocation per entry. Sees the transaction's writes made
    /// before it was opened, not those made while it runs.
    pub fn scan_chunks(
        &mut self,
        tree: TreeId,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
    ) -> Result<TxnChunks> {
        self.check_active()?;
        self.use_tree(tree)?;
        let own = match range_is_empty(lower, upper) {
            true => Vec::new(),
            false => self.writes.range(tree, lower, upper),
        };
        if !own.is_empty() {
            return self.scan(tree, lower, upper, false).map(TxnChunks::merged);
        }
        let snapshot = self.snapshot();
        self.ssi_read(tree, range_read(lower, upper))?;
        let (tree_lower, tree_upper) = version_key::tree_range(lower, upper);
        let versions = self.mvcc.store.scan_chunks(tree, tree_lower, tree_upper)?;
        Ok(TxnChunks::committed(versions, snapshot))
    }

    /// What [`Transaction::scan_chunks`] returns, cut into at most `parts` scans of
    /// consecutive key ranges of about equal size, in key order, for several threads to
    /// read at once (each scan is `Send`): the parts together lend exactly the entries
    /// the one scan would. The cuts are the tree's split keys ([`TreeStore::split_keys`]),
    /// each moved to the first version of the user key at or after it, so no user key's
    /// versions are divided between parts (each part decides visibility alone). A range
    /// the transaction has written into, or a tree too small to cut, is one part. The
    /// SERIALIZABLE read of the whole range is recorded once, here.
    ///
    /// [`TreeStore::split_keys`]: crate::mvcc::TreeStore::split_keys
    pub fn scan_chunk_parts(
        &mut self,
        tree: TreeId,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        parts: usize,
    ) -> Result<Vec<TxnChunks>> {
        self.check_active()?;
        self.use_tree(tree)?;
        let own_writes = !range_is_empty(lower, upper)
            && self
                .writes
                .slot(tree)
                .is_some_and(|_| !self.writes.range(tree, lower, upper).is_empty());
        if parts <= 1 || own_writes {
            return Ok(vec![self.scan_chunks(tree, lower, upper)?]);
        }
        let snapshot = self.snapshot();
        self.ssi_read(tree, range_read(lower, upper))?;
        let (tree_lower, tree_upper) = version_key::tree_range(lower, upper);
        let store = &self.mvcc.store;
        let mut cuts: Vec<Vec<u8>> = Vec::new();
        for key in store.split_keys(tree, bound_ref(&tree_lower), bound_ref(&tree_upper), parts - 1)? {
            let Some((first, _)) =
                store.seek_first(tree, Bound::Included(&key), bound_ref(&tree_upper))?
            else {
                break;
            };
            let cut = first[..version_key::prefix_len(&first)?].to_vec();
            let past_lower = match &tree_lower {
                Bound::Included(lo) | Bound::Excluded(lo) => cut > *lo,
                Bound::Unbounded => true,
            };
            if past_lower && cuts.last().is_none_or(|last| cut > *last) {
                cuts.push(cut);
            }
        }
        let mut scans = Vec::with_capacity(cuts.len() + 1);
        let mut from = tree_lower;
        for cut in cuts {
            let versions = store.scan_chunks(tree, from, Bound::Excluded(cut.clone()))?;
            scans.push(TxnChunks::committed(versions, snapshot.clone()));
            from = Bound::Included(cut);
        }
        let versions = store.scan_chunks(tree, from, tree_upper)?;
        scans.push(TxnChunks::committed(versions, snapshot));
        Ok(scans)
    }

    /// Marks a point that [`rollback_to`](Self::rollback_to) can return to.
    pub fn savepoint(&mut self) -> Savepoint {
        self.writes.savepoint()
    }

    /// Keeps the writes since `savepoint` and forgets the savepoint.
    pub fn release(&mut self, savepoint: Savepoint) {
        // A transaction that ended since the savepoint (an error that aborts it, such
        // as damage found in a page, rolls it back whole) has no writes left to keep.
        if self.state == State::Active {
            self.writes.release(savepoint);
        }
    }

    /// Undoes every write made since `savepoint` and forgets the savepoint. A
    /// transaction that ended since the savepoint was rolled back whole already: its
    /// writes are gone, and there is nothing left to undo.
    pub fn rollback_to(&mut self, savepoint: Savepoint) {
        if self.state == State::Active {
            self.writes.rollback_to(savepoint);
        }
    }

    fn write(&mut self, tree: TreeId, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        self.check_active()?;
        self.write_tree(tree)?;
        self.check_writable()?;
        // The commit invariant: a key the trees cannot hold is refused here, before it
        // can reach a commit record. The transaction stays usable.
        self.mvcc.check_key(tree, key)?;
        let hash = self.mvcc.key_hash(tree, key);
        let slot = self.writer_slot(tree)?;
        match self.writes.tree(slot).find(hash, key) {
            Some(id) => {
                // A delete of a key this transaction wrote holds the delete's mode.
                if value.is_none() && !self.writes.tree(slot).claimed {
                    self.lock(tree, hash, LockMode::Update)?;
                }
                self.writes.set(slot, id, value)
            }
            None => self.write_new(slot, hash, tree, key, value),
        }
    }

    /// Locks the row `key` of `tree` in `mode` until this transaction ends (SQL's
    /// `SELECT ... FOR UPDATE` and kin, and what UPDATE and DELETE take before they
    /// write a row they read), waiting for a transaction that holds it in a conflicting
    /// mode as `policy` says, bounded by [`set_lock_wait`](Self::set_lock_wait)'s
    /// limits. Then, if a transaction that committed after this one's snapshot changed
    /// the row: under REPEATABLE READ, fails with [`Error::Serialization`] (PostgreSQL's
    /// "could not serialize access due to concurrent update"); under READ COMMITTED,
    /// returns its newest value ([`RowLock::Changed`]). A failed wait (a deadlock,
    /// `lock_timeout`, `NOWAIT`, a cancelled statement) aborts the transaction, as any
    /// error does in PostgreSQL.
    pub fn lock_row(
        &mut self,
        tree: TreeId,
        key: &[u8],
        mode: LockMode,
        policy: WaitPolicy,
    ) -> Result<RowLock> {
        self.check_active()?;
        self.use_tree(tree)?;
        let hash = self.mvcc.key_hash(tree, key);
        let written = match self.writes.slot(tree) {
            // Nobody else can write a claimed tree, nor lock its rows for writing.
            Some(slot) if self.writes.tree(slot).claimed => return Ok(RowLock::Unchanged),
            Some(slot) => self.writes.tree(slot).find(hash, key).is_some(),
            None => false,
        };
        let snapshot = self.snapshot();
        match self
            .mvcc
            .locks
            .lock(tree, hash, self.id, mode, policy, &self.row_locks.wait)
        {
            Ok(Acquired::Granted) => {}
            Ok(Acquired::Skipped) => return Ok(RowLock::Skipped),
            Err(failed) => return Err(self.wait_failed(tree, failed)),
        }
        if written {
            // Locked since this transaction wrote it: its own write is the newest.
            return Ok(RowLock::Unchanged);
        }
        self.row_locks.held.push((tree, hash));
        match newest_version(&self.mvcc, tree, key, &mut self.scratch)? {
            Some((ts, _)) if ts > snapshot.ts() => match self.isolation {
                IsolationLevel::RepeatableRead | IsolationLevel::Serializable => {
                    Err(self.newer_version_error(ts, &snapshot))
                }
                IsolationLevel::ReadCommitted => {
                    Ok(RowLock::Changed(read_at(&self.mvcc, tree, key, ts)?))
                }
            },
            _ => Ok(RowLock::Unchanged),
        }
    }

    /// The write-set slot of `tree` for a write. The transaction's first write of a tree
    /// it did not create ([`claim_new_tree`](Self::claim_new_tree)) joins the tree's
    /// lock in shared mode, which a concurrent schema change of the tree refuses (see
    /// [`super::tree_locks`]); a refusal aborts the transaction.
    fn writer_slot(&mut self, tree: TreeId) -> Result<usize> {
        if let Some(slot) = self.writes.slot(tree) {
            return Ok(slot);
        }
        let snapshot = self.snapshot();
        if let Err(reason) = self.mvcc.tree_locks.join(tree, self.id, snapshot.ts()) {
            return Err(self.abort_with(reason));
        }
        self.tree_locks.push((tree, Hold::Joined));
        Ok(self.writes.slot_or_create(tree))
    }

    /// Takes `tree` exclusively until this transaction ends: what a schema change that
    /// derives something from every row of a table (CREATE INDEX) or removes the table's
    /// trees (DROP INDEX, DROP TABLE) holds, so that no row it cannot see is written
    /// meanwhile or was committed after its snapshot, and no transaction whose snapshot
    /// predates the change writes the tree afterwards (see [`super::tree_locks`]). Fails
    /// with [`Error::Serialization`], aborting the transaction, if another active
    /// transaction has written the tree or holds it, or if a transaction that wrote the
    /// tree committed after this one's snapshot.
    pub fn lock_tree(&mut self, tree: TreeId) -> Result<()> {
        self.check_active()?;
        if self.tree_locks.contains(&(tree, Hold::Exclusive)) {
            return Ok(());
        }
        let snapshot = self.snapshot();
        let joined = self.tree_locks.contains(&(tree, Hold::Joined));
        match self
            .mvcc
            .tree_locks
            .lock_exclusive(tree, self.id, snapshot.ts(), joined)
        {
            Ok(()) => {
                self.tree_locks.push((tree, Hold::Exclusive));
                Ok(())
            }
            Err(reason) => Err(self.abort_with(reason)),
        }
    }

    /// Takes `tree` for a load until this transaction ends: exclusively, as
    /// [`lock_tree`](Self::lock_tree) takes it, so no other transaction writes the tree
    /// meanwhile or wrote it after this one's snapshot. This transaction's writes to it
    /// then take no key locks (nobody can conflict with them), and a key that sorts past
    /// every key the tree holds now needs no probe for a newer version either (nothing
    /// can be committed under it until this transaction ends): a load in key order
    /// costs no lock-table entry and no tree descent per row at statement time. Keys
    /// at or below the tree's greatest key are still probed, so the outcome of every
    /// write is what it would have been. Unlike a schema change, the load's commit
    /// refuses nobody afterwards (see [`super::tree_locks`]). Fails with
    /// [`Error::Serialization`], aborting the transaction, where `lock_tree` would.
    pub fn lock_tree_for_load(&mut self, tree: TreeId) -> Result<()> {
        self.check_active()?;
        let slot = self.writer_slot(tree)?;
        self.writes.tree_mut(slot).claim_tried = true;
        self.claim_for_load(tree, slot, false).map(drop)
    }

    /// Claims `tree` for a load sorted by the caller and handed over whole
    /// ([`load_deferred`](Self::load_deferred), without a marker: `table/load.rs`), if it
    /// can take one: this transaction has not written the tree, the tree is empty, no
    /// other transaction writes it, and the isolation is not SERIALIZABLE (whose commit
    /// check reads the keys a transaction wrote from its write set, which a load's
    /// entries bypass). Returns whether it did; `false` changes nothing the caller can
    /// see (it writes row by row instead).
    pub fn claim_empty_for_load(&mut self, tree: TreeId) -> Result<bool> {
        self.check_active()?;
        self.use_tree(tree)?;
        if self.isolation == IsolationLevel::Serializable
            || self.writes.slot(tree).is_some_and(|slot| {
                let writes = self.writes.tree(slot);
                !writes.is_empty() || writes.claim_tried
            })
        {
            return Ok(false);
        }
        let slot = self.writer_slot(tree)?;
        let claimed = self.claim_if_empty(tree, slot)?;
        Ok(claimed && self.writes.tree(slot).fresh_after.is_none())
    }

    /// The automatic form of [`lock_tree_for_load`](Self::lock_tree_for_load), tried once
    /// per transaction and tree, when its writes of a tree it did not create reach
    /// [`AUTO_LOAD_CLAIM_WRITES`] new keys: if the tree is empty and nobody else writes
    /// it, the rest of the load takes no key locks and no probes; otherwise nothing
    /// changes (a refused claim is no error).
    fn maybe_claim_for_load(&mut self, tree: TreeId, slot: usize) -> Result<()> {
        let writes = self.writes.tree(slot);
        if writes.claimed || writes.claim_tried || writes.len() < AUTO_LOAD_CLAIM_WRITES {
            return Ok(());
        }
        self.claim_if_empty(tree, slot).map(drop)
    }

    /// The one try, per transaction and tree, to claim `tree` (joined, in `slot`) for a
    /// load if it is empty and nobody else writes it; returns whether it is claimed. A
    /// refusal is no error.
    fn claim_if_empty(&mut self, tree: TreeId, slot: usize) -> Result<bool> {
        self.writes.tree_mut(slot).claim_tried = true;
        // A schema change of the tree in this transaction keeps its own rules.
        if self
            .tree_locks
            .iter()
            .any(|(t, hold)| *t == tree && *hold != Hold::Joined)
        {
            return Ok(false);
        }
        // Cheap first look: most trees a large transaction writes are not empty.
        if self.mvcc.store.seek_first(tree, Bound::Unbounded, Bound::Unbounded)?.is_some() {
            return Ok(false);
        }
        self.claim_for_load(tree, slot, true)
    }

    /// Takes `tree` (whose write-set slot is `slot`, and which this transaction has
    /// joined) exclusively for a load and claims its slot; `automatic`: only if the tree
    /// is empty, and a refusal is no error. Returns whether the tree is claimed.
    fn claim_for_load(&mut self, tree: TreeId, slot: usize, automatic: bool) -> Result<bool> {
        if self.writes.tree(slot).claimed {
            return Ok(true);
        }
        let snapshot = self.snapshot();
        if let Err(reason) = self
            .mvcc
            .tree_locks
            .lock_exclusive(tree, self.id, snapshot.ts(), true)
        {
            return match automatic {
                true => Ok(false),
                false => Err(self.abort_with(reason)),
            };
        }
        self.tree_locks.push((tree, Hold::Loading));
        // Nobody else can add a version to the tree now: its greatest key stays the
        // greatest committed one until this transaction ends.
        let last = match self.mvcc.store.scan(tree, Bound::Unbounded, Bound::Unbounded, true)?.next() {
            Some(entry) => Some(version_key::decode(&entry?.0)?.0),
            None => None,
        };
        if automatic && last.is_some() {
            self.tree_locks.pop();
            self.mvcc
                .tree_locks
                .release(self.id, &[(tree, Hold::Loading)], None);
            return Ok(false);
        }
        // The key locks taken so far protect nothing the tree lock does not: release
        // them now, since a claimed tree's keys are not unlocked at the end.
        let writes = self.writes.tree_mut(slot);
        self.mvcc
            .locks
            .unlock_all(self.id, writes.hashes().map(|hash| (tree, hash)));
        writes.claimed = true;
        writes.fresh_after = last;
        Ok(true)
    }

    /// The first write of `key` by this transaction: takes its lock (waiting for a
    /// transaction that holds it), probes for a newer committed version, and adds it to
    /// the write set. A newer version fails the write under REPEATABLE READ (first
    /// updater wins); under READ COMMITTED the write goes on over it, as PostgreSQL's
    /// does after waiting (a caller that read the row first re-checks it through
    /// [`lock_row`](Self::lock_row) before writing).
    fn write_new(
        &mut self,
        slot: usize,
        hash: u64,
        tree: TreeId,
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<()> {
        self.maybe_claim_for_load(tree, slot)?;
        if self.writes.tree(slot).claimed {
            let fresh = match self.writes.tree(slot).is_past_claim(key) {
                true => true,
                false => {
                    let snapshot = self.snapshot();
                    match newest_version(&self.mvcc, tree, key, &mut self.scratch)? {
                        Some((ts, _)) if ts > snapshot.ts() => {
                            return Err(self.newer_version_error(ts, &snapshot));
                        }
                        newest => newest.is_none(),
                    }
                }
            };
            self.writes.add(slot, hash, key, value, fresh)?;
            return Ok(());
        }
        let snapshot = self.snapshot();
        let mode = match value {
            Some(_) => LockMode::NoKeyUpdate,
            None => LockMode::Update,
        };
        self.lock(tree, hash, mode)?;
        let newest = match newest_version(&self.mvcc, tree, key, &mut self.scratch) {
            Ok(newest) => newest,
            Err(e) => {
                self.mvcc.locks.unlock(tree, hash, self.id);
                return Err(e);
            }
        };
        if let Some((ts, _)) = newest
            && ts > snapshot.ts()
            && self.isolation.one_snapshot()
        {
            self.mvcc.locks.unlock(tree, hash, self.id);
            return Err(self.newer_version_error(ts, &snapshot));
        }
        if let Err(e) = self.writes.add(slot, hash, key, value, newest.is_none()) {
            self.mvcc.locks.unlock(tree, hash, self.id);
            return Err(e);
        }
        Ok(())
    }

    /// Takes the lock on a key for a write, waiting while another transaction holds it
    /// (see [`super::locks`]); a failed wait aborts this transaction.
    fn lock(&mut self, tree: TreeId, hash: u64, mode: LockMode) -> Result<()> {
        match self.mvcc.locks.lock(
            tree,
            hash,
            self.id,
            mode,
            WaitPolicy::Block,
            &self.row_locks.wait,
        ) {
            Ok(_) => Ok(()),
            Err(failed) => Err(self.wait_failed(tree, failed)),
        }
    }

    /// Aborts the transaction after a wait for a lock failed; returns the error to
    /// report, worded as PostgreSQL words it.
    fn wait_failed(&mut self, tree: TreeId, failed: WaitError) -> Error {
        let error = match failed {
            WaitError::NotAvailable(holder) => Error::LockNotAvailable(format!(
                "could not obtain lock on row in tree {} (held by transaction {})",
                tree.0, holder.0
            )),
            WaitError::Timeout(_) => {
                Error::LockNotAvailable("canceling statement due to lock timeout".into())
            }
            WaitError::Deadlock(cycle) => {
                let mut detail = String::new();
                for (i, waiter) in cycle.iter().enumerate() {
                    let holder = cycle[(i + 1) % cycle.len()];
                    if i > 0 {
                        detail.push_str("; ");
                    }
                    detail.push_str(&format!(
                        "transaction {} waits for transaction {}",
                        waiter.0, holder.0
                    ));
                }
                Error::Deadlock(detail)
            }
            WaitError::Cancelled => Error::Interrupted(Interruption::Cancel),
            WaitError::StatementTimeout => Error::Interrupted(Interruption::StatementTimeout),
        };
        self.finish(State::Aborted(error.to_string()), None);
        error
    }

    fn newer_version_error(&mut self, newest: CommitTs, snapshot: &Snapshot) -> Error {
        self.abort_with(format!(
            "could not serialize access due to concurrent update (the row was changed by a transaction that committed at {} after this transaction's snapshot at {})",
            newest.0,
            snapshot.ts().0
        ))
    }

    /// Commits: logs the writes, applies them as versions at a new commit timestamp, and
    /// returns once they are durable and visible. A transaction that wrote nothing
    /// commits without touching the log.
    pub fn commit(mut self) -> Result<CommitTs> {
        self.check_active()?;
        let order = self.writes.commit_order();
        if order.is_empty() && !self.writes.has_writes() {
            // Nothing written: nothing for a schema change to see either.
            if self.ssi_tracked {
                self.ssi_tracked = false;
                self.mvcc.ssi.commit_read_only(self.id, &self.mvcc.clock);
            }
            self.finish(State::Committed, None);
            return Ok(self.mvcc.clock.visible());
        }
        let ssi = self.ssi_tracked.then_some(self.id);
        // Whatever the outcome, the commit has ended the record's active life (a
        // failed check removed it; a failure after it is handled in `finish`).
        let mut settle = None;
        let result = commit::commit_writes(&self.mvcc, &self.writes, &order, ssi, &mut settle);
        if ssi.is_some() {
            match &result {
                Ok(_) => {
                    self.ssi_tracked = false;
                    self.mvcc.ssi.tidy(&self.mvcc.clock);
                }
                Err(Error::Serialization(_)) => {
                    self.ssi_tracked = false;
                    self.mvcc.ssi.tidy(&self.mvcc.clock);
                }
                Err(_) => {}
            }
        }
        match &result {
            Ok(ts) => self.finish(State::Committed, Some(*ts)),
            Err(e) => self.finish(State::Aborted(e.to_string()), None),
        }
        if let Some(ts) = settle {
            self.settle(ts);
        }
        result
    }

    /// Rolls back: forgets the writes and releases the locks.
    pub fn rollback(mut self) {
        self.finish(State::RolledBack, None);
    }

    /// Errs if the transaction is READ ONLY.
    fn check_writable(&self) -> Result<()> {
        match self.mode.read_only {
            true => Err(Error::InvalidArgument(
                "cannot write in a read-only transaction".into(),
            )),
            false => Ok(()),
        }
    }

    fn check_active(&self) -> Result<()> {
        match &self.state {
            State::Active => Ok(()),
            State::Committed => Err(Error::TransactionClosed("it has committed".into())),
            State::RolledBack => Err(Error::TransactionClosed("it has rolled back".into())),
            State::Aborted(reason) => Err(Error::TransactionClosed(format!(
                "it was aborted by an earlier error: {reason}"
            ))),
        }
    }

    /// Rolls the transaction back after a conflict and returns the error to report.
    fn abort_with(&mut self, reason: String) -> Error {
        self.finish(State::Aborted(reason.clone()), None);
        Error::Serialization(reason)
    }

    /// Ends the transaction: releases its key and tree locks (`committed`: its commit
    /// timestamp, which the tree locks record) and forgets its writes.
    fn finish(&mut self, state: State, committed: Option<CommitTs>) {
        if self.ssi_tracked {
            // Still tracked here only if it did not commit.
            self.ssi_tracked = false;
            self.mvcc.ssi.abort(self.id, &self.mvcc.clock);
        }
        self.state = state;
        self.txn_snapshot = None;
        self.statement_snapshot = None;
        let locks = self
            .writes
            .trees()
            .iter()
            .filter(|t| !t.claimed)
            .flat_map(|t| t.hashes().map(move |hash| (t.tree, hash)))
            .chain(self.row_locks.held.drain(..));
        self.mvcc.locks.unlock_all(self.id, locks);
        self.mvcc
            .tree_locks
            .release(self.id, &self.tree_locks, committed);
        self.tree_locks.clear();
        self.writes.clear();
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.state == State::Active {
            self.finish(State::RolledBack, None);
        }
    }
}

/// A scan's range as an SSI read: an unbounded scan reads the whole tree.
fn range_read<'a>(lower: Bound<&'a [u8]>, upper: Bound<&'a [u8]>) -> Read<'a> {
    match (lower, upper) {
        (Bound::Unbounded, Bound::Unbounded) => Read::Whole,
        _ => Read::Range(lower, upper),
    }
}

fn range_is_empty(lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
    match (lower, upper) {
        (Bound::Included(lo), Bound::Included(hi)) => lo > hi,
        (Bound::Included(lo), Bound::Excluded(hi))
        | (Bound::Excluded(lo), Bound::Included(hi))
        | (Bound::Excluded(lo), Bound::Excluded(hi)) => lo >= hi,
        _ => false,
    }
}

/// A borrowed view of an owned bound.
fn bound_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}
