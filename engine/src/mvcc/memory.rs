//! An in-memory [`TreeStore`]: one `BTreeMap` per tree behind a read-write lock.
//!
//! It is the reference the MVCC tests run on and the store of memory-only databases. A
//! scan copies its range out under the read lock, in batches, so an iterator never holds
//! the lock while its caller works.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::error::{Error, Result};
use crate::mvcc::store::{TreeId, TreeIter, TreeStore, batched_scan};

/// Entries a scan copies out per visit to the map.
const SCAN_BATCH: usize = 256;

type Tree = BTreeMap<Vec<u8>, Vec<u8>>;

/// The key limit of a default store: the B+tree's at the default page size.
pub const DEFAULT_MAX_KEY_LEN: usize = crate::btree::policy::max_key_len(
    crate::pager::DEFAULT_PAGE_SIZE as usize - crate::pager::PAGE_HEADER_SIZE,
);

/// Ordered trees in memory.
#[derive(Debug)]
pub struct MemoryTreeStore {
    trees: Arc<RwLock<HashMap<TreeId, Tree>>>,
    max_key_len: usize,
}

impl Default for MemoryTreeStore {
    fn default() -> Self {
        MemoryTreeStore::with_max_key_len(DEFAULT_MAX_KEY_LEN)
    }
}

impl MemoryTreeStore {
    /// An empty store with the default key limit.
    pub fn new() -> MemoryTreeStore {
        MemoryTreeStore::default()
    }

    /// An empty store that refuses keys longer than `max_key_len`.
    pub fn with_max_key_len(max_key_len: usize) -> MemoryTreeStore {
        MemoryTreeStore {
            trees: Arc::default(),
            max_key_len,
        }
    }

    /// Number of entries (all versions) in a tree: for tests of garbage collection.
    pub fn entry_count(&self, tree: TreeId) -> usize {
        self.trees.read().get(&tree).map_or(0, BTreeMap::len)
    }
}

fn batch(
    trees: &RwLock<HashMap<TreeId, Tree>>,
    tree: TreeId,
    lower: &Bound<Vec<u8>>,
    upper: &Bound<Vec<u8>>,
    reverse: bool,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let trees = trees.read();
    let Some(map) = trees.get(&tree) else {
        return Vec::new();
    };
    if bounds_are_empty(lower, upper) {
        return Vec::new();
    }
    let range = map.range::<Vec<u8>, _>((lower.clone(), upper.clone()));
    let copy = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
    match reverse {
        false => range.take(SCAN_BATCH).map(copy).collect(),
        true => range.rev().take(SCAN_BATCH).map(copy).collect(),
    }
}

/// `BTreeMap::range` panics on inverted or empty-excluded bounds; such ranges are empty.
fn bounds_are_empty(lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    match (lower, upper) {
        (Bound::Included(lo), Bound::Included(hi)) => lo > hi,
        (Bound::Included(lo), Bound::Excluded(hi))
        | (Bound::Excluded(lo), Bound::Included(hi))
        | (Bound::Excluded(lo), Bound::Excluded(hi)) => lo >= hi,
        _ => false,
    }
}

impl TreeStore for MemoryTreeStore {
    fn max_key_len(&self) -> usize {
        self.max_key_len
    }

    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .trees
            .read()
            .get(&tree)
            .and_then(|t| t.get(key).cloned()))
    }

    fn put(&self, tree: TreeId, key: &[u8], value: &[u8]) -> Result<()> {
        if key.len() > self.max_key_len {
            return Err(Error::InvalidArgument(format!(
                "key of {} bytes exceeds the maximum of {}",
                key.len(),
                self.max_key_len
            )));
        }
        self.trees
            .write()
            .entry(tree)
            .or_default()
            .insert(key.to_vec(), value.to_vec());
        Ok(())
    }

    fn delete(&self, tree: TreeId, key: &[u8]) -> Result<()> {
        if let Some(map) = self.trees.write().get_mut(&tree) {
            map.remove(key);
        }
        Ok(())
    }

    fn free_tree(&self, tree: TreeId) -> Result<()> {
        self.trees.write().remove(&tree);
        Ok(())
    }

    fn scan(
        &self,
        tree: TreeId,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Result<TreeIter> {
        let trees = Arc::clone(&self.trees);
        Ok(batched_scan(
            lower,
            upper,
            reverse,
            SCAN_BATCH,
            move |lo, hi| Ok(batch(&trees, tree, lo, hi, reverse)),
        ))
    }
}
