//! Tree locks: which active transactions write a tree, and which one rebuilds it.
//!
//! Key locks ([`super::locks`]) settle conflicts between writers of one key. A schema
//! change that reads a whole table and derives something from every row — CREATE INDEX
//! fills the new index from the rows it sees — needs more: the rows it *cannot* see must
//! not exist. Two kinds of writer would leave rows without their index entries, and no
//! key lock stops either, because the rows are new keys:
//!
//! 1. a transaction that commits rows into the table after the builder's snapshot was
//!    taken (the build does not see them, and the writer did not know the index);
//! 2. a transaction that writes rows after the index committed, but with a snapshot
//!    taken before it (its plan, read at that snapshot, does not know the index either).
//!
//! So every tree also has a *tree lock*, taken in one of two modes:
//!
//! - **shared**, by every transaction the first time it writes a tree it did not create
//!   ([`TreeLocks::join`]): once per transaction and tree, not per row. It fails if
//!   another transaction holds the tree exclusively, or if an exclusive holder committed
//!   after the joiner's snapshot (case 2: the joiner's view of the schema is stale).
//! - **exclusive**, by a schema change of the table ([`TreeLocks::lock_exclusive`]). It
//!   fails if another active transaction has joined the tree, or if a transaction that
//!   wrote the tree committed after the locker's snapshot (case 1: the locker would miss
//!   its rows).
//!
//! A third kind of holder takes the exclusive mode for *data*, not schema: a **load**
//! ([`Hold::Loading`], see `Transaction::lock_tree_for_load`). It excludes every other
//! writer exactly as a schema change does, which is what lets the loader skip per-key
//! locks; but it changes no schema, so when it commits it records its timestamp as a
//! write (`last_write`), not as a change: a writer whose snapshot predates the load is
//! not refused by the tree lock, and meets the load's rows through the ordinary
//! per-key probe instead, as it would meet any committed write.
//!
//! Both modes are held until the transaction ends (a load that an automatic claim finds
//! useless is released at once, before it has written anything under it). Nothing waits: a conflict fails at
//! once with a serialization error, which aborts the transaction (first updater wins,
//! as for key locks; PostgreSQL's CREATE INDEX would wait for the writers instead).
//! Because every check and every change happens under one mutex, the two outcomes are
//! exclusive: when a schema change holds its lock, every writer of the tree that could
//! have been missed either finished before the locker's snapshot (its rows are seen) or
//! cannot start until the change is visible (its plan then knows the index).
//!
//! A transaction reports at its end which trees it joined or locked and, if it
//! committed, its commit timestamp, which becomes the tree's `last_write` or
//! `changed_at`. A transaction is still joined while its commit becomes visible, so a
//! schema change never sees a tree with no writers and a commit it cannot see.
//!
//! The table keeps one small entry per tree written since the database was opened
//! (trees are tables and indexes, so a few dozen bytes each). After a restart every
//! timestamp it forgot is at or below every new snapshot, which is what an empty
//! entry means.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::mvcc::clock::CommitTs;
use crate::mvcc::store::TreeId;
use crate::mvcc::transaction::TxnId;

/// One tree's lock state.
#[derive(Debug, Default)]
struct TreeState {
    /// Active transactions that joined the tree (shared mode).
    writers: usize,
    /// The transaction holding the tree exclusively.
    exclusive: Option<TxnId>,
    /// The newest commit of a transaction that joined the tree.
    last_write: CommitTs,
    /// The newest commit of a transaction that held the tree exclusively.
    changed_at: CommitTs,
}

/// Why a tree lock was refused: a sentence for the serialization error.
pub(crate) type Refusal = String;

/// How a transaction holds a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Shared: it writes the tree ([`TreeLocks::join`]).
    Joined,
    /// Exclusively, for a schema change ([`TreeLocks::lock_exclusive`]).
    Exclusive,
    /// Exclusively, for a load (also [`TreeLocks::lock_exclusive`]): its commit counts as
    /// a write of the tree, not a change of its schema.
    Loading,
}

/// The tree locks of all active transactions.
#[derive(Debug, Default)]
pub(crate) struct TreeLocks {
    trees: Mutex<HashMap<TreeId, TreeState>>,
}

impl TreeLocks {
    /// Takes `tree` in shared mode for `txn`, whose snapshot is at `snapshot`: the
    /// transaction's first write of a tree it did not create.
    pub fn join(&self, tree: TreeId, txn: TxnId, snapshot: CommitTs) -> Result<(), Refusal> {
        let mut trees = self.trees.lock();
        let state = trees.entry(tree).or_default();
        if let Some(holder) = state.exclusive.filter(|h| *h != txn) {
            return Err(format!(
                "tree {} is being changed by a schema change of concurrent transaction {}, which has not finished",
                tree.0, holder.0
            ));
        }
        if state.changed_at > snapshot {
            return Err(format!(
                "tree {} was changed by a schema change that committed at {} after this transaction's snapshot at {}",
                tree.0, state.changed_at.0, snapshot.0
            ));
        }
        state.writers += 1;
        Ok(())
    }

    /// Takes `tree` exclusively for `txn`, whose snapshot is at `snapshot`; `joined` says
    /// whether `txn` itself joined the tree (its own writes are in its view).
    pub fn lock_exclusive(
        &self,
        tree: TreeId,
        txn: TxnId,
        snapshot: CommitTs,
        joined: bool,
    ) -> Result<(), Refusal> {
        let mut trees = self.trees.lock();
        let state = trees.entry(tree).or_default();
        if let Some(holder) = state.exclusive {
            return match holder == txn {
                true => Ok(()),
                false => Err(format!(
                    "tree {} is being changed by a schema change of concurrent transaction {}, which has not finished",
                    tree.0, holder.0
                )),
            };
        }
        let others = state.writers.saturating_sub(usize::from(joined));
        if others > 0 {
            return Err(format!(
                "tree {} is being written by {others} concurrent transaction(s) that have not finished",
                tree.0
            ));
        }
        let newest = state.last_write.max(state.changed_at);
        if newest > snapshot {
            return Err(format!(
                "tree {} was written by a transaction that committed at {} after this transaction's snapshot at {}",
                tree.0, newest.0, snapshot.0
            ));
        }
        state.exclusive = Some(txn);
        Ok(())
    }

    /// Releases the tree locks `txn` holds (`held`) when it ends, or a load it gives up
    /// early; `committed` is its commit timestamp if it committed.
    pub fn release(&self, txn: TxnId, held: &[(TreeId, Hold)], committed: Option<CommitTs>) {
        if held.is_empty() {
            return;
        }
        let mut trees = self.trees.lock();
        for (tree, hold) in held {
            let Some(state) = trees.get_mut(tree) else {
                continue;
            };
            let owns = state.exclusive == Some(txn);
            match (hold, committed) {
                (Hold::Joined, _) => state.writers = state.writers.saturating_sub(1),
                (Hold::Exclusive, Some(ts)) if owns => state.changed_at = state.changed_at.max(ts),
                _ => {}
            }
            if let (Hold::Joined | Hold::Loading, Some(ts)) = (hold, committed) {
                state.last_write = state.last_write.max(ts);
            }
        }
        // Only after every hold was looked at: a transaction may hold a tree both for a
        // load and for a schema change, and the change's timestamp must be recorded.
        for (tree, hold) in held {
            if let (Hold::Exclusive | Hold::Loading, Some(state)) = (hold, trees.get_mut(tree))
                && state.exclusive == Some(txn)
            {
                state.exclusive = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TreeId = TreeId(7);

    #[test]
    fn writers_and_a_schema_change_exclude_each_other() {
        let locks = TreeLocks::default();
        // A writer holds the tree: the schema change is refused.
        locks.join(T, TxnId(1), CommitTs(10)).unwrap();
        assert!(
            locks
                .lock_exclusive(T, TxnId(2), CommitTs(10), false)
                .is_err()
        );
        // The writer commits at 11: a change whose snapshot (10) misses it is refused,
        // one that sees it is granted.
        locks.release(TxnId(1), &[(T, Hold::Joined)], Some(CommitTs(11)));
        assert!(
            locks
                .lock_exclusive(T, TxnId(2), CommitTs(10), false)
                .is_err()
        );
        locks
            .lock_exclusive(T, TxnId(3), CommitTs(11), false)
            .unwrap();
        // While it is held, writers are refused; its own writes are not.
        assert!(locks.join(T, TxnId(4), CommitTs(11)).is_err());
        locks.join(T, TxnId(3), CommitTs(11)).unwrap();
        // It commits at 12: a writer whose snapshot predates that is refused.
        locks.release(TxnId(3), &[(T, Hold::Exclusive), (T, Hold::Joined)], Some(CommitTs(12)));
        assert!(locks.join(T, TxnId(4), CommitTs(11)).is_err());
        locks.join(T, TxnId(5), CommitTs(12)).unwrap();
    }

    #[test]
    fn a_rolled_back_writer_or_change_leaves_no_trace() {
        let locks = TreeLocks::default();
        locks.join(T, TxnId(1), CommitTs(3)).unwrap();
        locks.release(TxnId(1), &[(T, Hold::Joined)], None);
        locks
            .lock_exclusive(T, TxnId(2), CommitTs(3), false)
            .unwrap();
        locks.release(TxnId(2), &[(T, Hold::Exclusive)], None);
        locks.join(T, TxnId(3), CommitTs(3)).unwrap();
        // A writer that joined may lock the tree itself when it is the only one.
        locks
            .lock_exclusive(T, TxnId(3), CommitTs(3), true)
            .unwrap();
    }

    #[test]
    fn a_load_excludes_everyone_and_commits_as_a_write() {
        let locks = TreeLocks::default();
        locks
            .lock_exclusive(T, TxnId(1), CommitTs(5), false)
            .unwrap();
        locks.join(T, TxnId(1), CommitTs(5)).unwrap();
        assert!(locks.join(T, TxnId(2), CommitTs(5)).is_err());
        assert!(
            locks
                .lock_exclusive(T, TxnId(3), CommitTs(5), false)
                .is_err()
        );
        locks.release(
            TxnId(1),
            &[(T, Hold::Loading), (T, Hold::Joined)],
            Some(CommitTs(6)),
        );
        // A writer with an older snapshot may write (its keys are probed); a schema
        // change with an older snapshot would miss the load's rows.
        locks.join(T, TxnId(2), CommitTs(5)).unwrap();
        locks.release(TxnId(2), &[(T, Hold::Joined)], None);
        assert!(
            locks
                .lock_exclusive(T, TxnId(3), CommitTs(5), false)
                .is_err()
        );
        locks
            .lock_exclusive(T, TxnId(3), CommitTs(6), false)
            .unwrap();
    }

    #[test]
    fn a_load_and_a_schema_change_in_one_transaction_record_the_change() {
        let locks = TreeLocks::default();
        locks
            .lock_exclusive(T, TxnId(1), CommitTs(5), false)
            .unwrap();
        locks
            .lock_exclusive(T, TxnId(1), CommitTs(5), false)
            .unwrap();
        locks.release(
            TxnId(1),
            &[(T, Hold::Loading), (T, Hold::Exclusive)],
            Some(CommitTs(7)),
        );
        assert!(locks.join(T, TxnId(2), CommitTs(6)).is_err());
        locks.join(T, TxnId(2), CommitTs(7)).unwrap();
    }
}
