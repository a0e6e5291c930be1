//! What the MVCC layer needs from below: ordered trees, and a log for commits.
//!
//! [`TreeStore`] is a set of ordered byte-keyed trees addressed by [`TreeId`]. The
//! engine's B+trees implement it for a database file; [`crate::mvcc::MemoryTreeStore`]
//! implements it over `BTreeMap`s for tests and in-memory databases. Implementations
//! must be safe to use from many threads at once and must keep each single operation
//! atomic; the MVCC layer never needs more than that, because every key it writes is a
//! fresh version no reader can yet see.
//!
//! A commit applies each tree's writes as one sorted batch
//! ([`TreeStore::apply_sorted`]), so that a store can apply them with one cursor that
//! moves right (or, into an empty tree, build the tree bottom-up) instead of one descent
//! per write.
//!
//! [`CommitLog`] is where a commit's writes go before they are applied: the WAL for a
//! durable database, [`NoCommitLog`] for a memory-only one.

use std::ops::Bound;

pub use crate::btree::{BatchOp, EntryChunk, SortedBatch};
use crate::error::Result;
use crate::mvcc::clock::CommitTs;

/// Which tree (table or index) a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TreeId(pub u32);

/// An iterator over `(tree key, tree value)` pairs.
/// It owns what it needs (no borrow of the store), so a transaction can keep scanning
/// while it writes.
pub type TreeIter = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + Send>;

/// A forward scan that lends its entries a chunk at a time (see [`EntryChunk`]). Like
/// a [`TreeIter`], it owns what it needs.
pub trait ChunkSource: Send {
    /// Replaces `chunk`'s contents with the next entries, at least one, in ascending key
    /// order; `false` (and an empty chunk) at the end of the range.
    fn next_chunk(&mut self, chunk: &mut EntryChunk) -> Result<bool>;
}

/// A boxed [`ChunkSource`].
pub type ChunkScan = Box<dyn ChunkSource>;

/// Entries a chunk takes from a [`TreeIter`] by [`IterChunks`].
const ITER_CHUNK: usize = 128;

/// The chunks of a [`TreeIter`]: for stores with no cheaper way to lend entries.
pub struct IterChunks(pub TreeIter);

impl std::fmt::Debug for IterChunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IterChunks").finish_non_exhaustive()
    }
}

impl ChunkSource for IterChunks {
    fn next_chunk(&mut self, chunk: &mut EntryChunk) -> Result<bool> {
        chunk.clear();
        for entry in self.0.by_ref().take(ITER_CHUNK) {
            let (key, value) = entry?;
            chunk.push(&key, &value);
        }
        Ok(!chunk.is_empty())
    }
}

/// Ordered byte-keyed trees.
pub trait TreeStore: Send + Sync {
    /// The longest tree key `put` accepts. The MVCC layer refuses a longer (encoded) key
    /// when it is written, so that applying a logged commit never meets one.
    fn max_key_len(&self) -> usize;
    /// The value stored under `key`.
    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Stores `value` under `key`, replacing any old value.
    fn put(&self, tree: TreeId, key: &[u8], value: &[u8]) -> Result<()>;
    /// Removes `key` if present.
    fn delete(&self, tree: TreeId, key: &[u8]) -> Result<()>;
    /// Entries with keys within the bounds, ascending, or descending when `reverse`.
    fn scan(
        &self,
        tree: TreeId,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
        reverse: bool,
    ) -> Result<TreeIter>;

    /// The entries of `scan(tree, lower, upper, false)` lent a chunk at a time. Stores
    /// that can copy entries straight into the chunk (a leaf at a time) override it.
    fn scan_chunks(
        &self,
        tree: TreeId,
        lower: Bound<Vec<u8>>,
        upper: Bound<Vec<u8>>,
    ) -> Result<ChunkScan> {
        Ok(Box::new(IterChunks(self.scan(tree, lower, upper, false)?)))
    }

    /// Applies a batch of changes whose keys strictly increase: puts and removes, as
    /// [`TreeStore::put`] and [`TreeStore::delete`] would one by one. Stores override it
    /// to apply the batch in one pass.
    fn apply_sorted(&self, tree: TreeId, batch: &mut dyn SortedBatch) -> Result<()> {
        while let Some(op) = batch.next_op() {
            match op.value {
                Some(value) => self.put(tree, op.key, value)?,
                None => self.delete(tree, op.key)?,
            }
        }
        Ok(())
    }

    /// At most `want` keys within the bounds, strictly increasing, that cut the range
    /// into parts of about equal size, for a scan read in parts by several threads. A
    /// hint: any increasing keys are correct, and a store that cannot tell (the default)
    /// offers none, so the range stays one part.
    fn split_keys(
        &self,
        _tree: TreeId,
        _lower: Bound<&[u8]>,
        _upper: Bound<&[u8]>,
        _want: usize,
    ) -> Result<Vec<Vec<u8>>> {
        Ok(Vec::new())
    }

    /// The first entry of `scan(tree, lower, upper, false)`: a seek. Stores whose scans
    /// fetch in batches override it to fetch one entry.
    fn seek_first(
        &self,
        tree: TreeId,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.scan(
            tree,
            lower.map(<[u8]>::to_vec),
            upper.map(<[u8]>::to_vec),
            false,
        )?
        .next()
        .transpose()
    }

    /// Records, durably with the store's next flush, that `tree` was dropped by the
    /// commit at `ts`: its pages may be freed ([`TreeStore::free_tree`]) once no
    /// snapshot before `ts` remains. A store that does not outlive the process keeps no
    /// record (the default): the MVCC layer remembers the drop until it frees the tree.
    fn retire_tree(&self, _tree: TreeId, _ts: CommitTs) -> Result<()> {
        Ok(())
    }

    /// The trees [`retired`](TreeStore::retire_tree) and not yet freed, with the
    /// timestamps of the commits that dropped them.
    fn retired_trees(&self) -> Result<Vec<(TreeId, CommitTs)>> {
        Ok(Vec::new())
    }

    /// Removes `tree` whole, and its retirement record, freeing its space at once:
    /// afterwards it reads as empty. The caller guarantees nobody reads or writes it any
    /// more.
    fn free_tree(&self, tree: TreeId) -> Result<()>;
}

/// A [`TreeIter`] that fetches `batch` entries at a time with `fetch(lower, upper)`,
/// then narrows the range past the last key returned (below it, when `reverse`). Stores
/// whose cursors cannot outlive a lock or a borrow scan this way: the iterator holds no
/// lock between batches, and sees each batch as of the moment it was fetched.
pub fn batched_scan<F>(
    lower: Bound<Vec<u8>>,
    upper: Bound<Vec<u8>>,
    reverse: bool,
    batch: usize,
    mut fetch: F,
) -> TreeIter
where
    F: FnMut(&Bound<Vec<u8>>, &Bound<Vec<u8>>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> + Send + 'static,
{
    let (mut lower, mut upper) = (lower, upper);
    let mut pending = std::collections::VecDeque::new();
    let mut done = false;
    Box::new(std::iter::from_fn(move || {
        if pending.is_empty() && !done {
            match fetch(&lower, &upper) {
                Ok(entries) => {
                    done = entries.len() < batch;
                    if let Some((last, _)) = entries.last() {
                        match reverse {
                            false => lower = Bound::Excluded(last.clone()),
                            true => upper = Bound::Excluded(last.clone()),
                        }
                    }
                    pending.extend(entries);
                }
                Err(e) => {
                    done = true;
                    return Some(Err(e));
                }
            }
        }
        pending.pop_front().map(Ok)
    }))
}

/// One write of a committing transaction: a new value, or a delete (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOp {
    pub tree: TreeId,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// A borrowed [`WriteOp`]: what a commit hands its log, straight from its write set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRef<'a> {
    pub tree: TreeId,
    pub key: &'a [u8],
    /// The new value, or `None` for a delete.
    pub value: Option<&'a [u8]>,
}

/// Identifies an appended commit record, to wait for its durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitTicket(pub u64);

/// Takes the writes of a commit logged in parts, one at a time (see
/// [`CommitLog::append_parts`]).
pub trait PartSink {
    fn push(&mut self, write: WriteRef<'_>) -> Result<()>;
}

/// Where commits are recorded before they are applied.
pub trait CommitLog: Send + Sync {
    /// The log-encoded size (roughly: keys and values) from which a commit should hand
    /// its writes to [`append_parts`](Self::append_parts) before its commit record, or
    /// `None` if this log never takes parts.
    fn part_size(&self) -> Option<usize>;
    /// Logs the writes `fill` pushes into the sink it is given ahead of a commit record
    /// that will name what this returns (see `wal/record.rs`, commits in parts). Called
    /// before the commit timestamp is taken, and while the caller keeps checkpoints out
    /// (the apply gate) until that record is appended; if the commit fails first, the
    /// parts are never named and mean nothing.
    fn append_parts(&self, fill: &mut dyn FnMut(&mut dyn PartSink) -> Result<()>) -> Result<Vec<u64>>;
    /// Appends the commit record of `ts` naming `parts` and holding the `count` writes
    /// of `writes`. Called in timestamp order (the caller holds the commit-order lock);
    /// must not wait for durability.
    fn append(
        &self,
        ts: CommitTs,
        parts: &[u64],
        count: usize,
        writes: &mut dyn Iterator<Item = WriteRef<'_>>,
    ) -> Result<CommitTicket>;
    /// Returns once the record of `ticket` (and all before it) is durable.
    fn wait_durable(&self, ticket: CommitTicket) -> Result<()>;
}

/// A commit log for databases that live only in memory: every commit is "durable" at
/// once, because there is nothing to survive.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoCommitLog;

impl CommitLog for NoCommitLog {
    fn part_size(&self) -> Option<usize> {
        None
    }

    fn append_parts(&self, _fill: &mut dyn FnMut(&mut dyn PartSink) -> Result<()>) -> Result<Vec<u64>> {
        Ok(Vec::new())
    }

    fn append(
        &self,
        ts: CommitTs,
        _parts: &[u64],
        _count: usize,
        _writes: &mut dyn Iterator<Item = WriteRef<'_>>,
    ) -> Result<CommitTicket> {
        Ok(CommitTicket(ts.0))
    }

    fn wait_durable(&self, _ticket: CommitTicket) -> Result<()> {
        Ok(())
    }
}
