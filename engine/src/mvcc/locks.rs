//! Write locks: which active transaction has written which key.
//!
//! ## Semantics (what later work — waiting writers, SERIALIZABLE — builds on)
//!
//! A transaction takes a key's lock the first time it writes the key and keeps it until
//! its commit is complete (applied, durable and visible) or it rolls back; a write undone
//! by a statement savepoint keeps its lock, as in PostgreSQL. A second writer does not
//! wait: [`LockTable::try_lock`] tells it who holds the key, and it fails with a
//! serialization error (first updater wins). Because nothing ever waits on a lock, there
//! are no deadlocks to detect. Together with the newer-version probe in
//! [`super::transaction`], the lock is what prevents lost updates: while T holds k's lock
//! nobody else can write k, and when T takes it, every earlier writer of k has finished
//! (so its version, if it committed, is in the tree for T's probe to see).
//!
//! Two kinds of write take no lock, and lose nothing by it:
//!
//! - writes to a tree the transaction itself created ([`super::Transaction::claim_new_tree`]):
//!   no other transaction can name that tree before this one commits, and the locks would
//!   be released at that commit anyway;
//! - nothing else: every other first write of a key takes its lock here.
//!
//! ## Representation
//!
//! A lock is keyed by its tree and the 64-bit hash of its key (the same keyed SipHash the
//! transaction's write set uses, seeded randomly per process), not by the key's bytes, so
//! taking one allocates nothing and releasing them is one pass over the write set. Two
//! distinct keys whose hashes collide therefore share a lock. That can only *add*
//! conflicts — a spurious serialization failure, with probability about 2^-64 per pair of
//! keys written concurrently, which an adversary cannot steer without the seed — and
//! never lose one, because equal keys always hash equally. Every guarantee above holds
//! exactly; only a vanishingly rare retry is added.
//!
//! The table is split into shards by hash, so writers of different keys rarely touch the
//! same mutex, and a transaction releases its locks shard by shard, taking each shard's
//! mutex once.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use parking_lot::Mutex;

use crate::mvcc::store::TreeId;
use crate::mvcc::transaction::TxnId;
use crate::mvcc::write_set::PreHashed;

/// Number of independently locked shards (a power of two).
const SHARDS: usize = 64;

type Shard = HashMap<(TreeId, u64), TxnId, BuildHasherDefault<PreHashed>>;

/// The write locks of all active transactions.
#[derive(Debug)]
pub struct LockTable {
    shards: Vec<Mutex<Shard>>,
}

impl Default for LockTable {
    fn default() -> Self {
        LockTable {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }
}

/// The shard of a key hash: bits 32 and up. The shard's hash map takes its slot from the
/// low bits and its tag byte from the top seven, so the three choices stay independent.
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize % SHARDS
}

impl LockTable {
    /// Takes the lock on the key whose hash is `hash` for `txn`, or returns the
    /// transaction that holds it. Taking a lock `txn` already holds succeeds.
    pub fn try_lock(&self, tree: TreeId, hash: u64, txn: TxnId) -> Result<(), TxnId> {
        let mut shard = self.shards[shard_of(hash)].lock();
        match shard.entry((tree, hash)) {
            std::collections::hash_map::Entry::Occupied(holder) if *holder.get() != txn => {
                Err(*holder.get())
            }
            std::collections::hash_map::Entry::Occupied(_) => Ok(()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(txn);
                Ok(())
            }
        }
    }

    /// Releases `txn`'s locks on the given keys (locks held by others are left alone;
    /// a key named twice is released once).
    pub fn unlock_all(&self, txn: TxnId, locks: impl Iterator<Item = (TreeId, u64)>) {
        let mut by_shard: Vec<(usize, TreeId, u64)> = locks
            .map(|(tree, hash)| (shard_of(hash), tree, hash))
            .collect();
        by_shard.sort_unstable_by_key(|(shard, _, _)| *shard);
        for group in by_shard.chunk_by(|a, b| a.0 == b.0) {
            let mut shard = self.shards[group[0].0].lock();
            for (_, tree, hash) in group {
                if shard.get(&(*tree, *hash)) == Some(&txn) {
                    shard.remove(&(*tree, *hash));
                }
            }
        }
    }

    /// Releases one lock of `txn`.
    pub fn unlock(&self, tree: TreeId, hash: u64, txn: TxnId) {
        self.unlock_all(txn, std::iter::once((tree, hash)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_writer_holds_until_it_releases() {
        let table = LockTable::default();
        let (a, b) = (TxnId(1), TxnId(2));
        assert_eq!(table.try_lock(TreeId(1), 42, a), Ok(()));
        assert_eq!(table.try_lock(TreeId(1), 42, a), Ok(()), "re-entrant");
        assert_eq!(table.try_lock(TreeId(1), 42, b), Err(a));
        assert_eq!(table.try_lock(TreeId(2), 42, b), Ok(()), "another tree");
        table.unlock_all(b, [(TreeId(1), 42)].into_iter());
        assert_eq!(
            table.try_lock(TreeId(1), 42, b),
            Err(a),
            "not b's to release"
        );
        table.unlock_all(a, [(TreeId(1), 42), (TreeId(1), 42)].into_iter());
        assert_eq!(table.try_lock(TreeId(1), 42, b), Ok(()));
    }
}
