//! Write locks: which active transaction has written which key.
//!
//! A transaction takes a key's lock the first time it writes the key and keeps it until
//! its commit is complete or it rolls back. A second writer does not wait: `try_lock`
//! tells it who holds the key, and it fails with a serialization error (first updater
//! wins). Because nothing ever waits on a lock, there are no deadlocks to detect.
//!
//! The table is split into shards by key hash so that writers of different keys rarely
//! touch the same mutex.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use parking_lot::Mutex;

use crate::mvcc::store::TreeId;
use crate::mvcc::transaction::TxnId;

/// Number of independently locked shards.
const SHARDS: usize = 64;

type Shard = HashMap<(TreeId, Vec<u8>), TxnId>;

/// The write locks of all active transactions.
#[derive(Debug)]
pub struct LockTable {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
}

impl Default for LockTable {
    fn default() -> Self {
        LockTable {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl LockTable {
    fn shard(&self, tree: TreeId, key: &[u8]) -> &Mutex<Shard> {
        let hash = self.hasher.hash_one((tree, key));
        &self.shards[(hash as usize) % SHARDS]
    }

    /// Takes the lock on `key` for `txn`, or returns the transaction that holds it.
    /// Taking a lock `txn` already holds succeeds.
    pub fn try_lock(&self, tree: TreeId, key: &[u8], txn: TxnId) -> Result<(), TxnId> {
        let mut shard = self.shard(tree, key).lock();
        match shard.get(&(tree, key.to_vec())) {
            Some(holder) if *holder != txn => Err(*holder),
            Some(_) => Ok(()),
            None => {
                shard.insert((tree, key.to_vec()), txn);
                Ok(())
            }
        }
    }

    /// Releases `txn`'s lock on `key` (a lock held by another transaction is left alone).
    pub fn unlock(&self, tree: TreeId, key: &[u8], txn: TxnId) {
        let mut shard = self.shard(tree, key).lock();
        let entry = (tree, key.to_vec());
        if shard.get(&entry) == Some(&txn) {
            shard.remove(&entry);
        }
    }
}
