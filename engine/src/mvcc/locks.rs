//! Row locks: which active transactions hold which key, in which mode, and who waits.
//!
//! ## Semantics (what waiting writers, row locks and SERIALIZABLE build on)
//!
//! A transaction takes a key's lock the first time it writes the key (or locks it with
//! [`super::Transaction::lock_row`], SQL's `SELECT ... FOR UPDATE`) and keeps it until
//! its commit is complete (applied, durable and visible) or it rolls back; a write
//! undone by a statement savepoint keeps its lock, as in PostgreSQL. Locks have
//! PostgreSQL's four row-lock modes ([`LockMode`]): a write of a row takes
//! `NoKeyUpdate` (`Update` for a delete); `Share` and `KeyShare` may be held by many
//! transactions at once. A transaction's own locks never conflict with each other, and
//! asking again for a stronger mode upgrades its lock.
//!
//! A transaction that asks for a lock another one holds in a conflicting mode **waits**
//! until that transaction ends ([`LockTable::lock`]), then takes the lock; the caller
//! then probes the key's newest version to learn whether the other one committed a
//! change (see [`super::transaction`]). The wait ends early, with an error, when the
//! caller's limits say so ([`LockWait`]: `lock_timeout`, a cancelled statement or its
//! `statement_timeout`), when the caller asked not to wait (`NOWAIT`, `SKIP LOCKED`),
//! or when it closes a cycle of waiting transactions (a deadlock, below). Together with
//! the newer-version probe, the lock is what prevents lost updates: while T holds k's
//! lock nobody else can write k, and when T takes it, every earlier writer of k has
//! finished (so its version, if it committed, is in the tree for T's probe to see).
//!
//! Two kinds of write take no lock, and lose nothing by it:
//!
//! - writes to a tree the transaction itself created ([`super::Transaction::claim_new_tree`]):
//!   no other transaction can name that tree before this one commits, and the locks would
//!   be released at that commit anyway;
//! - writes to a tree the transaction holds for a load (`lock_tree_for_load`): nobody
//!   else can write it until the transaction ends.
//!
//! ## WAITING, AND WHY NO WAKEUP IS LOST
//!
//! Each shard of the table has a mutex and a condition variable. A waiter finds the
//! conflict, counts itself in the shard's `waiting` and sleeps on the condition
//! variable *while holding the shard's mutex* (the condition variable releases it
//! atomically); a transaction releasing locks removes them under the same mutex and
//! then, if anyone waits in that shard, wakes them all. So a release either happens
//! before the waiter looked (and it sees the key free) or after it sleeps (and wakes
//! it): none is lost. Woken waiters look again; one takes the lock, the others sleep
//! again. There is no queue: waiters are not served in order (PostgreSQL's are), which
//! costs fairness under heavy contention, never correctness.
//!
//! ## DEADLOCKS
//!
//! A waiter that has waited `deadlock_timeout` (1 s by default, as PostgreSQL) checks,
//! once per wait, whether it is part of a cycle: every waiting transaction is in the
//! table's `waiting` map with the key and mode it wants, so the waits-for edges are
//! derived from the lock table *now* (no edge is ever stale), and a depth-first search
//! from the checker looks for a path back to itself. If there is one, the checker is
//! the victim: it leaves the map in the same critical section (so a second checker of
//! the same cycle finds it broken) and fails with [`WaitError::Deadlock`]; the caller
//! aborts its transaction, whose locks then free the others. Exactly one transaction
//! per cycle fails, as in PostgreSQL (where the process whose timer fires first and
//! finds the cycle is the one that gives up).
//!
//! ## Representation
//!
//! A lock is keyed by its tree and the 64-bit hash of its key (the same keyed SipHash the
//! transaction's write set uses, seeded randomly per process), not by the key's bytes, so
//! taking one allocates nothing and releasing them is one pass over the write set. Two
//! distinct keys whose hashes collide therefore share a lock. That can only *add*
//! conflicts — a spurious wait, with probability about 2^-64 per pair of keys written
//! concurrently, which an adversary cannot steer without the seed — and never lose one,
//! because equal keys always hash equally.
//!
//! The table is split into shards by hash, so writers of different keys rarely touch the
//! same mutex, and a transaction releases its locks shard by shard, taking each shard's
//! mutex once. A lock held by one transaction (the common case) is stored inline;
//! only a key shared by several holders allocates.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::mvcc::store::TreeId;
use crate::mvcc::transaction::TxnId;
use crate::mvcc::write_set::PreHashed;

/// Number of independently locked shards (a power of two).
const SHARDS: usize = 64;

/// PostgreSQL's default `deadlock_timeout`.
pub const DEFAULT_DEADLOCK_TIMEOUT: Duration = Duration::from_secs(1);

/// How often a waiter whose statement can be cancelled looks at the cancel flag: a
/// cancel sets a flag and cannot wake a condition variable, so the waiter sleeps in
/// slices this long (a timed sleep, not a spin).
const CANCEL_POLL: Duration = Duration::from_millis(10);

/// PostgreSQL's row-lock modes, weakest first. Two modes conflict as in PostgreSQL's
/// table ([`LockMode::conflicts_with`]); the order is "blocks at least as much as".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockMode {
    /// `FOR KEY SHARE`: only a delete (or a change of the key) conflicts.
    KeyShare,
    /// `FOR SHARE`: no one may change the row.
    Share,
    /// `FOR NO KEY UPDATE`, and what an UPDATE of a row takes.
    NoKeyUpdate,
    /// `FOR UPDATE`, and what a DELETE takes.
    Update,
}

impl LockMode {
    /// Whether a lock in `self` and one in `other`, held by two transactions, conflict.
    pub fn conflicts_with(self, other: LockMode) -> bool {
        use LockMode::*;
        match (self, other) {
            (Update, _) | (_, Update) => true,
            (NoKeyUpdate, NoKeyUpdate | Share) | (Share, NoKeyUpdate) => true,
            (KeyShare, _) | (_, KeyShare) | (Share, Share) => false,
        }
    }
}

/// What a lock request does when the lock is held in a conflicting mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitPolicy {
    /// Waits (bounded by the transaction's [`LockWait`]).
    Block,
    /// Fails at once with [`WaitError::NotAvailable`] (SQL's `NOWAIT`).
    NoWait,
    /// Returns [`Acquired::Skipped`] at once (SQL's `SKIP LOCKED`).
    SkipLocked,
}

/// What bounds a transaction's waits for locks; set per statement by the SQL layer.
#[derive(Debug, Clone)]
pub struct LockWait {
    /// How long one wait may last (`lock_timeout`); `None`: no bound.
    pub lock_timeout: Option<Duration>,
    /// How long a waiter waits before it looks for a deadlock.
    pub deadlock_timeout: Duration,
    /// A flag that, once raised, stops the wait (the statement was cancelled).
    pub cancel: Option<Arc<AtomicBool>>,
    /// When the statement must end (`statement_timeout`).
    pub deadline: Option<Instant>,
}

impl LockWait {
    /// Limits under which a wait fails at once, with `lock_timeout` (tests that
    /// interleave transactions on one thread use it: there, waiting would never end).
    pub fn fail_at_once() -> LockWait {
        LockWait {
            lock_timeout: Some(Duration::ZERO),
            ..LockWait::default()
        }
    }
}

impl Default for LockWait {
    fn default() -> Self {
        LockWait {
            lock_timeout: None,
            deadlock_timeout: DEFAULT_DEADLOCK_TIMEOUT,
            cancel: None,
            deadline: None,
        }
    }
}

/// Why a lock was not taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitError {
    /// `NOWAIT`, and another transaction holds the lock.
    NotAvailable(TxnId),
    /// The wait lasted `lock_timeout`.
    Timeout(TxnId),
    /// Waiting would never end: this transaction closes a cycle of waiters. Names the
    /// transactions of the cycle, starting with this one.
    Deadlock(Vec<TxnId>),
    /// The statement was cancelled while it waited.
    Cancelled,
    /// The statement's deadline passed while it waited.
    StatementTimeout,
}

/// What a lock request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquired {
    /// The lock is held (it may have been held already).
    Granted,
    /// [`WaitPolicy::SkipLocked`] and another transaction holds it.
    Skipped,
}

/// The holders of one key's lock.
#[derive(Debug)]
enum Holders {
    One(TxnId, LockMode),
    Many(Vec<(TxnId, LockMode)>),
}

impl Holders {
    fn iter(&self) -> impl Iterator<Item = (TxnId, LockMode)> + '_ {
        let (one, many) = match self {
            Holders::One(txn, mode) => (Some((*txn, *mode)), &[][..]),
            Holders::Many(all) => (None, all.as_slice()),
        };
        one.into_iter().chain(many.iter().copied())
    }

    /// The first holder other than `txn` whose mode conflicts with `mode`.
    fn blocker(&self, txn: TxnId, mode: LockMode) -> Option<TxnId> {
        self.iter()
            .find(|(holder, held)| *holder != txn && held.conflicts_with(mode))
            .map(|(holder, _)| holder)
    }

    /// Adds `txn` in `mode`, or strengthens the mode it holds.
    fn grant(&mut self, txn: TxnId, mode: LockMode) {
        match self {
            Holders::One(holder, held) if *holder == txn => *held = (*held).max(mode),
            Holders::One(holder, held) => *self = Holders::Many(vec![(*holder, *held), (txn, mode)]),
            Holders::Many(all) => match all.iter_mut().find(|(holder, _)| *holder == txn) {
                Some((_, held)) => *held = (*held).max(mode),
                None => all.push((txn, mode)),
            },
        }
    }

    /// Removes `txn`; returns whether nobody holds the lock any more.
    fn release(&mut self, txn: TxnId) -> bool {
        match self {
            Holders::One(holder, _) => *holder == txn,
            Holders::Many(all) => {
                all.retain(|(holder, _)| *holder != txn);
                match all.as_slice() {
                    [] => true,
                    [(holder, mode)] => {
                        *self = Holders::One(*holder, *mode);
                        false
                    }
                    _ => false,
                }
            }
        }
    }
}

#[derive(Debug, Default)]
struct Shard {
    locks: HashMap<(TreeId, u64), Holders, BuildHasherDefault<PreHashed>>,
    /// How many transactions sleep on this shard's condition variable.
    waiting: usize,
}

/// The row locks of all active transactions.
#[derive(Debug)]
pub struct LockTable {
    shards: Vec<(Mutex<Shard>, Condvar)>,
    /// Every transaction waiting now, with the lock it waits for: the waits-for graph's
    /// nodes (its edges are read from the shards when a deadlock check runs).
    waiting: Mutex<HashMap<TxnId, (TreeId, u64, LockMode)>>,
}

impl Default for LockTable {
    fn default() -> Self {
        LockTable {
            shards: (0..SHARDS)
                .map(|_| (Mutex::new(Shard::default()), Condvar::new()))
                .collect(),
            waiting: Mutex::new(HashMap::new()),
        }
    }
}

/// The shard of a key hash: bits 32 and up. The shard's hash map takes its slot from the
/// low bits and its tag byte from the top seven, so the three choices stay independent.
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

impl LockTable {
    /// Takes the lock on the key whose hash is `hash` for `txn` in `mode` if no other
    /// transaction holds it in a conflicting mode; otherwise returns one that does.
    pub fn try_lock(
        &self,
        tree: TreeId,
        hash: u64,
        txn: TxnId,
        mode: LockMode,
    ) -> Result<(), TxnId> {
        let mut shard = self.shards[shard_of(hash)].0.lock();
        Self::try_grant(&mut shard, tree, hash, txn, mode)
    }

    fn try_grant(
        shard: &mut Shard,
        tree: TreeId,
        hash: u64,
        txn: TxnId,
        mode: LockMode,
    ) -> Result<(), TxnId> {
        match shard.locks.entry((tree, hash)) {
            std::collections::hash_map::Entry::Occupied(mut holders) => {
                if let Some(blocker) = holders.get().blocker(txn, mode) {
                    return Err(blocker);
                }
                holders.get_mut().grant(txn, mode);
                Ok(())
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(Holders::One(txn, mode));
                Ok(())
            }
        }
    }

    /// Takes the lock on the key whose hash is `hash` for `txn` in `mode`, waiting as
    /// `policy` and `limits` say while another transaction holds it in a conflicting
    /// mode (see WAITING and DEADLOCKS above).
    pub fn lock(
        &self,
        tree: TreeId,
        hash: u64,
        txn: TxnId,
        mode: LockMode,
        policy: WaitPolicy,
        limits: &LockWait,
    ) -> Result<Acquired, WaitError> {
        let blocker = match self.try_lock(tree, hash, txn, mode) {
            Ok(()) => return Ok(Acquired::Granted),
            Err(blocker) => blocker,
        };
        match policy {
            WaitPolicy::Block => {}
            WaitPolicy::NoWait => return Err(WaitError::NotAvailable(blocker)),
            WaitPolicy::SkipLocked => return Ok(Acquired::Skipped),
        }
        self.waiting.lock().insert(txn, (tree, hash, mode));
        let result = self.wait(tree, hash, txn, mode, limits);
        self.waiting.lock().remove(&txn);
        result.map(|()| Acquired::Granted)
    }

    /// Sleeps until `txn` gets the lock or a limit ends the wait; `txn` is in the
    /// `waiting` map throughout.
    fn wait(
        &self,
        tree: TreeId,
        hash: u64,
        txn: TxnId,
        mode: LockMode,
        limits: &LockWait,
    ) -> Result<(), WaitError> {
        let start = Instant::now();
        let lock_deadline = limits.lock_timeout.and_then(|t| start.checked_add(t));
        let mut deadlock_check = start.checked_add(limits.deadlock_timeout);
        let (mutex, condvar) = &self.shards[shard_of(hash)];
        let mut shard = mutex.lock();
        loop {
            let blocker = match Self::try_grant(&mut shard, tree, hash, txn, mode) {
                Ok(()) => return Ok(()),
                Err(blocker) => blocker,
            };
            let now = Instant::now();
            if limits.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(WaitError::Cancelled);
            }
            if limits.deadline.is_some_and(|d| now >= d) {
                return Err(WaitError::StatementTimeout);
            }
            if lock_deadline.is_some_and(|d| now >= d) {
                return Err(WaitError::Timeout(blocker));
            }
            if deadlock_check.is_some_and(|d| now >= d) {
                deadlock_check = None;
                drop(shard);
                if let Some(cycle) = self.find_cycle(txn) {
                    return Err(WaitError::Deadlock(cycle));
                }
                shard = mutex.lock();
                continue;
            }
            let poll = limits.cancel.as_ref().and_then(|_| now.checked_add(CANCEL_POLL));
            let wake = [lock_deadline, deadlock_check, limits.deadline, poll]
                .into_iter()
                .flatten()
                .min();
            shard.waiting += 1;
            match wake {
                Some(wake) => {
                    condvar.wait_until(&mut shard, wake);
                }
                None => condvar.wait(&mut shard),
            }
            shard.waiting -= 1;
        }
    }

    /// The conflicting holders of the lock `waiter` waits for (empty if it waits no
    /// more).
    fn blockers(&self, waiter: TxnId, (tree, hash, mode): (TreeId, u64, LockMode)) -> Vec<TxnId> {
        let shard = self.shards[shard_of(hash)].0.lock();
        match shard.locks.get(&(tree, hash)) {
            Some(holders) => holders
                .iter()
                .filter(|(holder, held)| *holder != waiter && held.conflicts_with(mode))
                .map(|(holder, _)| holder)
                .collect(),
            None => Vec::new(),
        }
    }

    /// Whether `txn` (waiting) is in a cycle of waiting transactions; if so, removes it
    /// from the waiters, in the same critical section, and returns the cycle.
    fn find_cycle(&self, txn: TxnId) -> Option<Vec<TxnId>> {
        let mut waiting = self.waiting.lock();
        let wanted = *waiting.get(&txn)?;
        // Depth-first search over "waits for" edges, keeping the path for the message.
        let mut path: Vec<(TxnId, Vec<TxnId>)> = vec![(txn, self.blockers(txn, wanted))];
        let mut seen = std::collections::HashSet::from([txn]);
        while let Some((_, next)) = path.last_mut() {
            let Some(holder) = next.pop() else {
                path.pop();
                continue;
            };
            if holder == txn {
                let cycle = path.iter().map(|(t, _)| *t).collect();
                waiting.remove(&txn);
                return Some(cycle);
            }
            if !seen.insert(holder) {
                continue;
            }
            if let Some(wanted) = waiting.get(&holder).copied() {
                path.push((holder, self.blockers(holder, wanted)));
            }
        }
        None
    }

    /// Releases `txn`'s locks on the given keys (locks held only by others are left
    /// alone; a key named twice is released once), waking the waiters of every shard
    /// it touched.
    pub fn unlock_all(&self, txn: TxnId, locks: impl Iterator<Item = (TreeId, u64)>) {
        let mut by_shard: Vec<(usize, TreeId, u64)> = locks
            .map(|(tree, hash)| (shard_of(hash), tree, hash))
            .collect();
        by_shard.sort_unstable_by_key(|(shard, _, _)| *shard);
        for group in by_shard.chunk_by(|a, b| a.0 == b.0) {
            let (mutex, condvar) = &self.shards[group[0].0];
            let mut shard = mutex.lock();
            for (_, tree, hash) in group {
                if let std::collections::hash_map::Entry::Occupied(mut holders) =
                    shard.locks.entry((*tree, *hash))
                    && holders.get_mut().release(txn)
                {
                    holders.remove();
                }
            }
            if shard.waiting > 0 {
                condvar.notify_all();
            }
        }
    }

    /// Releases one lock of `txn`.
    pub fn unlock(&self, tree: TreeId, hash: u64, txn: TxnId) {
        self.unlock_all(txn, std::iter::once((tree, hash)));
    }

    /// How many keys are locked and how many transactions wait (for tests: after every
    /// transaction has ended, both are zero).
    pub fn census(&self) -> (usize, usize) {
        let locked = self.shards.iter().map(|(s, _)| s.lock().locks.len()).sum();
        (locked, self.waiting.lock().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LockMode::*;

    #[test]
    fn first_writer_holds_until_it_releases() {
        let table = LockTable::default();
        let (a, b) = (TxnId(1), TxnId(2));
        assert_eq!(table.try_lock(TreeId(1), 42, a, NoKeyUpdate), Ok(()));
        assert_eq!(table.try_lock(TreeId(1), 42, a, Update), Ok(()), "re-entrant");
        assert_eq!(table.try_lock(TreeId(1), 42, b, KeyShare), Err(a));
        assert_eq!(table.try_lock(TreeId(2), 42, b, Update), Ok(()), "another tree");
        table.unlock_all(b, [(TreeId(1), 42)].into_iter());
        assert_eq!(
            table.try_lock(TreeId(1), 42, b, Update),
            Err(a),
            "not b's to release"
        );
        table.unlock_all(a, [(TreeId(1), 42), (TreeId(1), 42)].into_iter());
        assert_eq!(table.try_lock(TreeId(1), 42, b, Update), Ok(()));
    }

    #[test]
    fn modes_conflict_as_in_postgresql() {
        // PostgreSQL's manual, "Conflicting Row-Level Locks": X marks a conflict.
        let expected = [
            (KeyShare, [false, false, false, true]),
            (Share, [false, false, true, true]),
            (NoKeyUpdate, [false, true, true, true]),
            (Update, [true, true, true, true]),
        ];
        let modes = [KeyShare, Share, NoKeyUpdate, Update];
        for (mode, row) in expected {
            for (other, conflict) in modes.iter().zip(row) {
                assert_eq!(mode.conflicts_with(*other), conflict, "{mode:?} {other:?}");
            }
        }
    }

    #[test]
    fn shared_locks_have_many_holders_and_upgrades_wait_for_the_others() {
        let table = LockTable::default();
        let (a, b, c) = (TxnId(1), TxnId(2), TxnId(3));
        assert_eq!(table.try_lock(TreeId(1), 7, a, Share), Ok(()));
        assert_eq!(table.try_lock(TreeId(1), 7, b, Share), Ok(()));
        assert_eq!(table.try_lock(TreeId(1), 7, c, KeyShare), Ok(()));
        assert_eq!(table.try_lock(TreeId(1), 7, a, NoKeyUpdate), Err(b));
        table.unlock(TreeId(1), 7, b);
        assert_eq!(table.try_lock(TreeId(1), 7, a, NoKeyUpdate), Ok(()));
        assert_eq!(table.try_lock(TreeId(1), 7, c, Update), Err(a));
        table.unlock(TreeId(1), 7, a);
        table.unlock(TreeId(1), 7, c);
        assert_eq!(table.census(), (0, 0));
    }
}
