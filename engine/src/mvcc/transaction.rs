//! A transaction: a snapshot, a private write set, and the locks on what it wrote.
//!
//! See the module header of [`crate::mvcc`] for the rules; this file implements them.
//! The write set is a `BTreeMap` from `(tree, key)` to the new value (`None` deletes), so
//! a transaction's reads and scans can merge it over the snapshot in key order.
//!
//! Statement savepoints: between [`Transaction::savepoint`] and
//! [`Transaction::rollback_to`], every change to the write set is journaled, so a failed
//! statement can undo exactly its own writes and leave the transaction usable. Locks
//! taken by the undone writes stay held until the transaction ends, as in PostgreSQL.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::mvcc::clock::{CommitTs, Snapshot};
use crate::mvcc::scan::{OwnWrite, TxnScan};
use crate::mvcc::store::{TreeId, WriteOp};
use crate::mvcc::{Mvcc, gc_policy, version_key};

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Active,
    Committed,
    RolledBack,
    /// Rolled back by an error; the reason is reported to every later call.
    Aborted(String),
}

type WriteKey = (TreeId, Vec<u8>);

/// A point in a transaction's writes that [`Transaction::rollback_to`] can return to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Savepoint {
    journal_len: usize,
    depth: usize,
}

/// One transaction. Dropping an active transaction rolls it back.
pub struct Transaction {
    mvcc: Arc<Mvcc>,
    id: TxnId,
    isolation: IsolationLevel,
    state: State,
    /// REPEATABLE READ: taken at the first operation and kept.
    txn_snapshot: Option<Snapshot>,
    /// READ COMMITTED: the current statement's snapshot, when a statement is open.
    statement_snapshot: Option<Snapshot>,
    writes: BTreeMap<WriteKey, Option<Vec<u8>>>,
    locked: Vec<WriteKey>,
    /// Old write-set entries, recorded while a savepoint is open.
    journal: Vec<(WriteKey, Option<Option<Vec<u8>>>)>,
    savepoint_depth: usize,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("id", &self.id)
            .field("isolation", &self.isolation)
            .field("state", &self.state)
            .field("writes", &self.writes.len())
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
            statement_snapshot: None,
            writes: BTreeMap::new(),
            locked: Vec::new(),
            journal: Vec::new(),
            savepoint_depth: 0,
        }
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

    /// Whether the transaction has written anything.
    pub fn has_writes(&self) -> bool {
        !self.writes.is_empty()
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
            IsolationLevel::RepeatableRead => {
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
            IsolationLevel::ReadCommitted => match &self.statement_snapshot {
                Some(snapshot) => snapshot.clone(),
                None => self.mvcc.clock.snapshot(),
            },
        }
    }

    /// The value of `key` in `tree` as this transaction sees it.
    pub fn get(&mut self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.check_active()?;
        if !self.writes.is_empty()
            && let Some(own) = self.writes.get(&(tree, key.to_vec()))
        {
            return Ok(own.clone());
        }
        let snapshot = self.snapshot();
        read_at(&self.mvcc, tree, key, snapshot.ts())
    }

    /// Writes `value` under `key`.
    pub fn put(&mut self, tree: TreeId, key: &[u8], value: &[u8]) -> Result<()> {
        self.write(tree, key, Some(value.to_vec()))
    }

    /// Deletes `key` (deleting a missing key is not an error, but still takes its lock).
    pub fn delete(&mut self, tree: TreeId, key: &[u8]) -> Result<()> {
        self.write(tree, key, None)
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
        let snapshot = self.snapshot();
        let (tree_lower, tree_upper) = version_key::tree_range(lower, upper);
        let versions = self
            .mvcc
            .store
            .scan(tree, tree_lower, tree_upper, reverse)?;
        let own_lower = match lower {
            Bound::Unbounded => Bound::Included((tree, Vec::new())),
            bound => bound.map(|k| (tree, k.to_vec())),
        };
        let own_upper = match (upper, tree.0.checked_add(1)) {
            (Bound::Unbounded, Some(next)) => Bound::Excluded((TreeId(next), Vec::new())),
            (bound, _) => bound.map(|k| (tree, k.to_vec())),
        };
        let mut own: Vec<OwnWrite> = match range_is_empty(&own_lower, &own_upper) {
            true => Vec::new(),
            false => self
                .writes
                .range((own_lower, own_upper))
                .map(|((_, key), value)| (key.clone(), value.clone()))
                .collect(),
        };
        if reverse {
            own.reverse();
        }
        Ok(TxnScan::new(versions, own, snapshot, reverse))
    }

    /// Marks a point that [`rollback_to`](Self::rollback_to) can return to.
    pub fn savepoint(&mut self) -> Savepoint {
        self.savepoint_depth += 1;
        Savepoint {
            journal_len: self.journal.len(),
            depth: self.savepoint_depth,
        }
    }

    /// Keeps the writes since `savepoint` and forgets the savepoint.
    pub fn release(&mut self, savepoint: Savepoint) {
        self.savepoint_depth = savepoint.depth - 1;
        if self.savepoint_depth == 0 {
            self.journal.clear();
        }
    }

    /// Undoes every write made since `savepoint` and forgets the savepoint.
    pub fn rollback_to(&mut self, savepoint: Savepoint) {
        while self.journal.len() > savepoint.journal_len {
            let Some((key, old)) = self.journal.pop() else {
                break;
            };
            match old {
                Some(value) => self.writes.insert(key, value),
                None => self.writes.remove(&key),
            };
        }
        self.release(savepoint);
    }

    fn write(&mut self, tree: TreeId, key: &[u8], value: Option<Vec<u8>>) -> Result<()> {
        self.check_active()?;
        // The commit invariant: a key the trees cannot hold is refused here, before it
        // can reach a commit record. The transaction stays usable.
        self.mvcc.check_key(tree, key)?;
        let write_key = (tree, key.to_vec());
        if !self.writes.contains_key(&write_key) {
            let snapshot = self.snapshot();
            if let Err(holder) = self.mvcc.locks.try_lock(tree, key, self.id) {
                return Err(self.abort_with(format!(
                    "the row was written by concurrent transaction {} (tree {}), which has not finished",
                    holder.0, tree.0
                )));
            }
            self.locked.push(write_key.clone());
            if let Some(newest) = newest_version(&self.mvcc, tree, key)?
                && newest > snapshot.ts()
            {
                return Err(self.abort_with(format!(
                    "the row was changed by a transaction that committed at {} after this transaction's snapshot at {}",
                    newest.0,
                    snapshot.ts().0
                )));
            }
        }
        let old = self.writes.insert(write_key.clone(), value);
        if self.savepoint_depth > 0 {
            self.journal.push((write_key, old));
        }
        Ok(())
    }

    /// Commits: logs the writes, applies them as versions at a new commit timestamp, and
    /// returns once they are durable and visible. A transaction that wrote nothing
    /// commits without touching the log.
    pub fn commit(mut self) -> Result<CommitTs> {
        self.check_active()?;
        if self.writes.is_empty() {
            self.finish(State::Committed);
            return Ok(self.mvcc.clock.visible());
        }
        let writes: Vec<WriteOp> = std::mem::take(&mut self.writes)
            .into_iter()
            .map(|((tree, key), value)| WriteOp { tree, key, value })
            .collect();
        let result = commit_writes(&self.mvcc, &writes);
        let state = match &result {
            Ok(_) => State::Committed,
            Err(e) => State::Aborted(e.to_string()),
        };
        self.finish(state);
        result
    }

    /// Rolls back: forgets the writes and releases the locks.
    pub fn rollback(mut self) {
        self.finish(State::RolledBack);
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
        self.finish(State::Aborted(reason.clone()));
        Error::Serialization(reason)
    }

    fn finish(&mut self, state: State) {
        self.state = state;
        self.writes.clear();
        self.journal.clear();
        self.txn_snapshot = None;
        self.statement_snapshot = None;
        for (tree, key) in self.locked.drain(..) {
            self.mvcc.locks.unlock(tree, &key, self.id);
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.state == State::Active {
            self.finish(State::RolledBack);
        }
    }
}

/// The commit protocol of the module header: log, apply, wait for durability, publish.
fn commit_writes(mvcc: &Mvcc, writes: &[WriteOp]) -> Result<CommitTs> {
    mvcc.check_usable()?;
    let gate = mvcc.apply_gate.read();
    let (ts, ticket) = {
        let _order = mvcc.commit_order.lock();
        let ts = mvcc.clock.allocate();
        match mvcc.log.append(ts, writes) {
            Ok(ticket) => (ts, ticket),
            Err(e) => {
                // Nothing was applied at `ts`: give the timestamp back.
                mvcc.clock.complete(ts);
                return Err(e);
            }
        }
    };
    let horizon = mvcc.clock.horizon();
    if let Err(e) = apply_writes(mvcc, ts, writes, horizon) {
        // Part of the commit may be in the trees: `ts` stays in flight so it never
        // becomes visible, and the database refuses further commits until reopened.
        mvcc.poison(format!("applying commit {} failed: {e}", ts.0));
        return Err(e);
    }
    drop(gate);
    if let Err(e) = mvcc.log.wait_durable(ticket) {
        mvcc.poison(format!(
            "the log could not make commit {} durable: {e}",
            ts.0
        ));
        return Err(e);
    }
    mvcc.clock.complete(ts);
    // Return only once the commit is visible, so the caller's next transaction sees it;
    // an older commit still finishing (its record is durable, since ours is) holds the
    // watermark for a moment.
    if !mvcc.clock.wait_visible(ts, || mvcc.check_usable().is_err()) {
        return Err(Error::Poisoned(format!(
            "commit {} is durable but an older commit failed, so it becomes visible only after reopening",
            ts.0
        )));
    }
    enqueue_garbage(mvcc, ts, writes);
    // The commit is durable and visible: a failure to prune must not report it as failed.
    // But a B+tree error mid-change can leave the trees unsound, so nothing more commits.
    if let Err(e) = collect_garbage(mvcc, gc_policy::prune_budget(writes.len())) {
        mvcc.poison(format!(
            "garbage collection after commit {} failed: {e}",
            ts.0
        ));
    }
    Ok(ts)
}

/// Queues the keys of a completed commit for pruning once the horizon passes it.
fn enqueue_garbage(mvcc: &Mvcc, ts: CommitTs, writes: &[WriteOp]) {
    let mut queue = mvcc.gc_queue.lock();
    for write in writes {
        if queue.len() >= gc_policy::MAX_QUEUED_KEYS {
            queue.pop_front();
        }
        queue.push_back((ts, write.tree, write.key.clone()));
    }
}

/// Prunes up to `budget` queued keys whose commits the horizon has passed.
pub(crate) fn collect_garbage(mvcc: &Mvcc, budget: usize) -> Result<usize> {
    let horizon = mvcc.clock.horizon();
    let mut pruned = 0;
    while pruned < budget {
        let next = {
            let mut queue = mvcc.gc_queue.lock();
            match queue.front() {
                Some((ts, _, _)) if *ts <= horizon => queue.pop_front(),
                _ => None,
            }
        };
        let Some((_, tree, key)) = next else {
            break;
        };
        prune(mvcc, tree, &key, horizon)?;
        pruned += 1;
    }
    Ok(pruned)
}

/// Writes each change as a version at `ts`, pruning versions older than `horizon`.
pub(crate) fn apply_writes(
    mvcc: &Mvcc,
    ts: CommitTs,
    writes: &[WriteOp],
    horizon: CommitTs,
) -> Result<()> {
    for write in writes {
        let tree_key = version_key::encode(&write.key, ts);
        let tree_value = version_key::encode_value(write.value.as_deref());
        mvcc.store.put(write.tree, &tree_key, &tree_value)?;
        prune(mvcc, write.tree, &write.key, horizon)?;
    }
    Ok(())
}

/// Deletes the versions of `key` that no snapshot at or after `horizon` can see: all but
/// the newest version at or below the horizon, and that one too if it is a tombstone.
///
/// Most keys have nothing to prune: a fresh insert has one version, newer than the
/// horizon while its commit applies it, and at most one at or below the horizon when
/// the garbage queue gets to it. Two point probes (the newest version at or below the
/// horizon, then the entry after it) settle those cases without a scan.
fn prune(mvcc: &Mvcc, tree: TreeId, key: &[u8], horizon: CommitTs) -> Result<()> {
    let at_horizon = version_key::encode(key, horizon);
    let prefix_len = at_horizon.len() - version_key::TS_LEN;
    let Some((newest_kept, value)) = version_from(mvcc, tree, &at_horizon, prefix_len)? else {
        return Ok(());
    };
    if version_key::decode_value(&value)?.is_some() {
        // The smallest tree key after `newest_kept`.
        let mut after = newest_kept;
        after.push(0);
        if version_from(mvcc, tree, &after, prefix_len)?.is_none() {
            return Ok(());
        }
    }
    let prefix = version_key::encode_prefix(key);
    let past = version_key::past_prefix(&prefix);
    let versions = mvcc
        .store
        .scan(tree, Bound::Included(prefix), Bound::Excluded(past), false)?;
    let mut doomed = Vec::new();
    let mut kept_one_at_horizon = false;
    for entry in versions {
        let (tree_key, tree_value) = entry?;
        let (_, ts) = version_key::decode(&tree_key)?;
        if ts > horizon {
            continue;
        }
        if !kept_one_at_horizon {
            kept_one_at_horizon = true;
            if version_key::decode_value(&tree_value)?.is_some() {
                continue;
            }
        }
        doomed.push(tree_key);
    }
    // Oldest first: after every single delete, what remains of the key is still a valid
    // history (a reader, or a checkpoint's flush cut, between two deletes must never find
    // an older row with the tombstone that hid it already gone).
    doomed
        .iter()
        .rev()
        .try_for_each(|tree_key| mvcc.store.delete(tree, tree_key))
}

/// The first tree entry at or after `from`, if it is a version of the user key whose
/// prefix is `from[..prefix_len]` (`from` is a version key of it, or one past one).
fn version_from(
    mvcc: &Mvcc,
    tree: TreeId,
    from: &[u8],
    prefix_len: usize,
) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    let entry = mvcc
        .store
        .seek_first(tree, Bound::Included(from), Bound::Unbounded)?;
    Ok(entry.filter(|(tree_key, _)| {
        tree_key.len() == prefix_len + version_key::TS_LEN
            && tree_key.starts_with(&from[..prefix_len])
    }))
}

/// The value of `key` at snapshot `ts`: one seek to the newest version at or below it.
pub(crate) fn read_at(
    mvcc: &Mvcc,
    tree: TreeId,
    key: &[u8],
    ts: CommitTs,
) -> Result<Option<Vec<u8>>> {
    // Seek to the first version at or below `ts`; it belongs to `key` only if it starts
    // with `key`'s prefix (checked on the result rather than bounding the seek, which
    // saves building a second key).
    let first_visible = version_key::encode(key, ts);
    let prefix_len = first_visible.len() - version_key::TS_LEN;
    match version_from(mvcc, tree, &first_visible, prefix_len)? {
        Some((_, mut tree_value)) => match version_key::decode_value(&tree_value)? {
            Some(_) => {
                tree_value.remove(0);
                Ok(Some(tree_value))
            }
            None => Ok(None),
        },
        None => Ok(None),
    }
}

/// The commit timestamp of the newest version of `key`, committed or being committed.
fn newest_version(mvcc: &Mvcc, tree: TreeId, key: &[u8]) -> Result<Option<CommitTs>> {
    let prefix = version_key::encode_prefix(key);
    let past = version_key::past_prefix(&prefix);
    let newest = mvcc
        .store
        .seek_first(tree, Bound::Included(&prefix), Bound::Excluded(&past))?;
    match newest {
        Some((tree_key, _)) => Ok(Some(version_key::decode(&tree_key)?.1)),
        None => Ok(None),
    }
}

fn range_is_empty(lower: &Bound<WriteKey>, upper: &Bound<WriteKey>) -> bool {
    match (lower, upper) {
        (Bound::Included(lo), Bound::Included(hi)) => lo > hi,
        (Bound::Included(lo), Bound::Excluded(hi))
        | (Bound::Excluded(lo), Bound::Included(hi))
        | (Bound::Excluded(lo), Bound::Excluded(hi)) => lo >= hi,
        _ => false,
    }
}
