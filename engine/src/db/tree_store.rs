//! The B+trees of one database file as a [`TreeStore`].
//!
//! Every table and index of the database is one [`BTree`] in the pager's file, addressed
//! by a [`TreeId`]. A *directory* tree (its root recorded in the pager's meta page under
//! [`DIRECTORY_ROOT`]) maps each tree id to its root page; trees are created on their
//! first write. Creating trees on demand is what lets recovery replay a commit into a
//! tree that was created after the last checkpoint: the replayed write creates it again.
//! Reading a tree that does not exist yet reads an empty tree.
//!
//! The directory also holds the engine's own small records ([`SystemKey`]), such as the
//! newest commit timestamp in the checkpointed image, and a record for each *retired*
//! tree — dropped by a commit, not yet freed (DROPPED TREES in `mvcc`). Freeing a tree
//! removes its directory entry and its record and returns its pages to the free list in
//! one write scope of the pager ([`BTree::destroy_unlinking`]), so a flush holds all of
//! that or none of it; and the cache below then says the tree does not exist.
//!
//! Scans return iterators that own what they need: they remember the last key returned
//! and open a fresh cursor for each batch, which the B+tree's cursors do internally
//! anyway (they hold no latch between calls).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Bound;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::btree::{BTree, Direction, EntryChunk, SortedBatch, continue_after};
use crate::error::{Error, Result};
use crate::mvcc::store::{ChunkScan, ChunkSource, TreeIter, batched_scan};
use crate::mvcc::{CommitTs, TreeId, TreeStore};
use crate::pager::{PageId, Pager};

/// The pager's named root under which the tree directory lives.
pub const DIRECTORY_ROOT: &str = "hdb.directory";

/// Entries a scan fetches per cursor.
const SCAN_BATCH: usize = 128;

/// Directory keys: a one-byte kind, then the kind's key.
const KIND_TREE: u8 = b't';
const KIND_SYSTEM: u8 = b's';
/// A dropped tree not freed yet: its id, then the dropping commit's timestamp as value.
const KIND_RETIRED: u8 = b'r';

/// Hashes tree ids for the handle cache, which every tree operation consults: one
/// multiplication (tree ids are small integers the engine hands out, so SipHash's
/// protection against chosen keys buys nothing here).
#[derive(Debug, Default)]
struct TreeIdHasher(u64);

impl Hasher for TreeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, v: u32) {
        self.0 = u64::from(v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The engine's own records in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemKey {
    /// The newest commit timestamp whose writes the checkpointed image holds.
    LastCommitTs,
    /// 1 when the last writer closed the database cleanly (its log ended at the
    /// checkpoint, so the file stands alone); 0 while it is open.
    ClosedCleanly,
}

impl SystemKey {
    fn key(self) -> Vec<u8> {
        match self {
            SystemKey::LastCommitTs => vec![KIND_SYSTEM, b'c'],
            SystemKey::ClosedCleanly => vec![KIND_SYSTEM, b'k'],
        }
    }
}

/// The trees of one pager.
pub struct BTreeStore {
    pager: Arc<Pager>,
    directory: BTree,
    /// Trees looked up so far, and trees found not to exist (`None`): every tree is created
    /// through [`BTreeStore::tree_for_write`], which replaces a `None` here, so a cached
    /// absence stays true until then. Reads of a table that was never written (an empty
    /// table being loaded) then cost no directory lookup.
    trees: RwLock<HashMap<TreeId, Option<BTree>, BuildHasherDefault<TreeIdHasher>>>,
    /// Serialises tree creation, so two first writes cannot create one tree twice.
    creating: Mutex<()>,
}

impl std::fmt::Debug for BTreeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BTreeStore")
            .field("trees", &self.trees.read().values().flatten().count())
            .finish_non_exhaustive()
    }
}

impl BTreeStore {
    /// The trees of `pager`, creating the directory in a new file.
    pub fn open(pager: Arc<Pager>) -> Result<BTreeStore> {
        let directory = BTree::open_or_create(&pager, DIRECTORY_ROOT)?;
        Ok(BTreeStore {
            pager,
            directory,
            trees: RwLock::new(HashMap::default()),
            creating: Mutex::new(()),
        })
    }

    /// The pager the trees live in.
    pub fn pager(&self) -> &Arc<Pager> {
        &self.pager
    }

    /// Reads one of the engine's own records.
    pub fn system_u64(&self, key: SystemKey) -> Result<Option<u64>> {
        match self.directory.get(&key.key())? {
            Some(bytes) => {
                let bytes: [u8; 8] = bytes.as_slice().try_into().map_err(|_| {
                    Error::CorruptData(format!("directory record {key:?} is not 8 bytes"))
                })?;
                Ok(Some(u64::from_le_bytes(bytes)))
            }
            None => Ok(None),
        }
    }

    /// Writes one of the engine's own records (durable at the next flush).
    pub fn set_system_u64(&self, key: SystemKey, value: u64) -> Result<()> {
        self.directory.insert(&key.key(), &value.to_le_bytes())?;
        Ok(())
    }

    /// Every tree and its B+tree, for integrity checks.
    pub fn trees(&self) -> Result<Vec<(TreeId, BTree)>> {
        self.directory_entries(KIND_TREE)?
            .into_iter()
            .map(|(key, value)| {
                Ok((
                    decode_tree_key(&key)?,
                    BTree::open_root(&self.pager, decode_root(&value)?),
                ))
            })
            .collect()
    }

    /// The directory's entries of one kind, in key order.
    fn directory_entries(&self, kind: u8) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut entries = Vec::new();
        let start = [kind];
        let mut cursor = self.directory.range(&start[..].., Direction::Forward);
        while let Some((key, value)) = cursor.next()? {
            if key.first() != Some(&kind) {
                break;
            }
            entries.push((key, value));
        }
        Ok(entries)
    }

    /// The tree `id`, if it exists.
    fn existing(&self, id: TreeId) -> Result<Option<BTree>> {
        if let Some(tree) = self.trees.read().get(&id) {
            return Ok(tree.clone());
        }
        // Look in the directory under the creation lock, so that a creation cannot slip
        // in between the lookup and caching its result.
        let _creating = self.creating.lock();
        if let Some(tree) = self.trees.read().get(&id) {
            return Ok(tree.clone());
        }
        let tree = match self.directory.get(&tree_key(id))? {
            Some(root) => Some(BTree::open_root(&self.pager, decode_root(&root)?)),
            None => None,
        };
        self.trees.write().insert(id, tree.clone());
        Ok(tree)
    }

    /// The tree `id`, created if it does not exist.
    fn tree_for_write(&self, id: TreeId) -> Result<BTree> {
        if let Some(tree) = self.existing(id)? {
            return Ok(tree);
        }
        let _creating = self.creating.lock();
        if let Some(Some(tree)) = self.trees.read().get(&id) {
            return Ok(tree.clone());
        }
        let tree = BTree::create_unnamed(&self.pager)?;
        self.directory
            .insert(&tree_key(id), &tree.root().0.to_le_bytes())?;
        self.trees.write().insert(id, Some(tree.clone()));
        Ok(tree)
    }
}

fn tree_key(id: TreeId) -> Vec<u8> {
    let mut key = vec![KIND_TREE];
    key.extend_from_slice(&id.0.to_be_bytes());
    key
}

fn retired_key(id: TreeId) -> Vec<u8> {
    let mut key = vec![KIND_RETIRED];
    key.extend_from_slice(&id.0.to_be_bytes());
    key
}

fn decode_tree_key(key: &[u8]) -> Result<TreeId> {
    let bytes: [u8; 4] = key
        .get(1..)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::CorruptData("bad tree key in the directory".into()))?;
    Ok(TreeId(u32::from_be_bytes(bytes)))
}

fn decode_root(value: &[u8]) -> Result<PageId> {
    let bytes: [u8; 8] = value
        .try_into()
        .map_err(|_| Error::CorruptData("bad root page in the directory".into()))?;
    Ok(PageId(u64::from_le_bytes(bytes)))
}

/// Reads up to `limit` entries of `tree` within the bounds, in the given direction.
/// A forward scan a leaf at a time ([`BTree::read_leaf_into`]): each chunk is one leaf's
/// entries in range, and the next starts past the chunk's last key.
struct LeafChunks {
    /// `None` once the range is exhausted.
    tree: Option<BTree>,
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
}

impl LeafChunks {
    fn done() -> LeafChunks {
        LeafChunks {
            tree: None,
            lower: Bound::Unbounded,
            upper: Bound::Unbounded,
        }
    }
}

impl ChunkSource for LeafChunks {
    fn next_chunk(&mut self, chunk: &mut EntryChunk) -> Result<bool> {
        chunk.clear();
        let Some(tree) = &self.tree else {
            return Ok(false);
        };
        let more = tree.read_leaf_into(borrow(&self.lower), borrow(&self.upper), chunk);
        if !matches!(more, Ok(true)) {
            self.tree = None;
        }
        more?;
        continue_after(&mut self.lower, chunk);
        Ok(!chunk.is_empty())
    }
}

fn read_batch(
    tree: &BTree,
    lower: &Bound<Vec<u8>>,
    upper: &Bound<Vec<u8>>,
    reverse: bool,
    limit: usize,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let direction = if reverse {
        Direction::Reverse
    } else {
        Direction::Forward
    };
    let mut cursor = tree.range((borrow(lower), borrow(upper)), direction);
    let mut batch = Vec::with_capacity(limit.min(SCAN_BATCH));
    while batch.len() < limit {
        match cursor.next()? {
            Some(entry) => batch.push(entry),
            None => break,
        }
    }
    Ok(batch)
}

fn borrow(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl TreeStore for BTreeStore {
    fn max_key_len(&self) -> usize {
        crate::btree::policy::max_key_len(self.pager.body_size())
    }

    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.existing(tree)? {
            Some(t) => t.get(key),
            None => Ok(None),
        }
    }

    fn put(&self, tree: TreeId, key: &[u8], value: &[u8]) -> Result<()> {
        self.tree_for_write(tree)?.insert(key, value)?;
        Ok(())
    }

    fn delete(&self, tree: TreeId, key: &[u8]) -> Result<()> {
        if let Some(t) = self.existing(tree)? {
            t.delete(key)?;
        }
        Ok(())
    }

    fn retire_tree(&self, tree: TreeId, ts: CommitTs) -> Result<()> {
        self.directory
            .insert(&retired_key(tree), &ts.0.to_le_bytes())?;
        Ok(())
    }

    fn retired_trees(&self) -> Result<Vec<(TreeId, CommitTs)>> {
        self.directory_entries(KIND_RETIRED)?
            .into_iter()
            .map(|(key, value)| {
                let ts: [u8; 8] = value.as_slice().try_into().map_err(|_| {
                    Error::CorruptData("directory: a retired tree's timestamp is not 8 bytes".into())
                })?;
                Ok((decode_tree_key(&key)?, CommitTs(u64::from_le_bytes(ts))))
            })
            .collect()
    }

    fn free_tree(&self, id: TreeId) -> Result<()> {
        let _creating = self.creating.lock();
        let (named, retired) = (tree_key(id), retired_key(id));
        match self.directory.get(&named)? {
            Some(root) => BTree::open_root(&self.pager, decode_root(&root)?)
                .destroy_unlinking(&self.directory, &[&named, &retired])?,
            None => drop(self.directory.delete(&retired)?),
        }
        self.trees.write().insert(id, None);
        Ok(())
    }

    fn apply_sorted(&self, tree: TreeId, batch: &mut dyn SortedBatch) -> Result<()> {
        self.tree_for_write(tree)?.apply_sorted(batch)
    }

    fn scan(
        &self,
        tree: TreeId,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Result<TreeIter> {
        let Some(tree) = self.existing(tree)? else {
            return Ok(Box::new(std::iter::empty()));
        };
        Ok(batched_scan(
            lower,
            upper,
            reverse,
            SCAN_BATCH,
            move |lo, hi| read_batch(&tree, lo, hi, reverse, SCAN_BATCH),
        ))
    }

    fn scan_chunks(
        &self,
        tree: TreeId,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
    ) -> Result<ChunkScan> {
        let Some(tree) = self.existing(tree)? else {
            return Ok(Box::new(LeafChunks::done()));
        };
        Ok(Box::new(LeafChunks {
            tree: Some(tree),
            lower,
            upper,
        }))
    }

    fn split_keys(
        &self,
        tree: TreeId,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        want: usize,
    ) -> Result<Vec<Vec<u8>>> {
        match self.existing(tree)? {
            Some(t) => t.split_keys(lower, upper, want),
            None => Ok(Vec::new()),
        }
    }

    fn seek_first(
        &self,
        tree: TreeId,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let Some(t) = self.existing(tree)? else {
            return Ok(None);
        };
        match (lower, upper) {
            (Bound::Included(from), Bound::Excluded(below)) => t.first_from(from, Some(below)),
            (Bound::Included(from), Bound::Unbounded) => t.first_from(from, None),
            _ => {
                let (lower, upper) = (lower.map(<[u8]>::to_vec), upper.map(<[u8]>::to_vec));
                Ok(read_batch(&t, &lower, &upper, false, 1)?.pop())
            }
        }
    }
}
