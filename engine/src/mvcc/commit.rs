//! The commit protocol, applying writes as versions, and pruning.
//!
//! See COMMIT and GARBAGE COLLECTION in the [module header](super) for the rules; this
//! file carries them out. A commit hands each tree its writes as one sorted batch of
//! versions ([`TreeStore::apply_sorted`](super::TreeStore::apply_sorted)), so the store
//! applies them with one cursor (or builds an empty tree bottom-up), and it queues for
//! pruning only the keys that can have something to prune.
//!
//! A build deferred to the commit (an index's entries, see `write_set.rs`) is logged as one
//! write to [`BUILD_MARKER_TREE`] — its key the built tree's id (4 bytes, big-endian),
//! its value the caller's marker — after every other write of the record, and applied
//! after them: the runs are merged straight into the empty tree. Recovery hands such a
//! write back to the layer that made it (`db/mod.rs`, `table/index_build.rs`). A
//! deferred build without a marker — a load into an empty table (`table/load.rs`) — is
//! logged as its entries, after the write set's, read in key order from memory or
//! merged from its run files, and applied the same way.
//!
//! A commit whose writes take more than the log's part size ([`CommitLog::part_size`])
//! logs them as parts before taking the commit-order lock, still inside the apply gate,
//! and its record then holds only the markers (see COMMIT in the module header).

use std::ops::Bound;

use crate::error::Result;
use crate::mvcc::clock::CommitTs;
use crate::mvcc::transaction::TxnId;
use crate::mvcc::store::{BatchOp, PartSink, SortedBatch, TreeId, WriteOp, WriteRef};
use crate::extsort::{Merge, SpilledRuns};
use crate::mvcc::write_set::{
    BuildEntries, DeferredBuild, EntryId, RunsInOrder, SortedRun, WriteSet, WriteView,
};
use crate::mvcc::{Mvcc, gc_policy, version_key};

/// The tree no write ever goes to: a write logged to it is a deferred build's marker.
/// (Tree ids are allocated below it: the catalog refuses the last id.)
pub const BUILD_MARKER_TREE: TreeId = TreeId(u32::MAX);

/// The other tree no write ever goes to: a write logged to it drops the tree its key
/// names (4 bytes, big-endian). See DROPPED TREES in the [module header](super).
pub const DROP_MARKER_TREE: TreeId = TreeId(u32::MAX - 1);

/// Each tree's live writes in key order: `(write-set slot, entries)`, trees in id order.
pub(crate) type CommitOrder = Vec<(usize, Vec<EntryId>)>;

/// The commit protocol of the module header: log, apply, wait for durability, publish.
///
/// `ssi`: the committing SERIALIZABLE transaction that [`super::ssi`] tracks, whose
/// commit check runs here, before the timestamp is allocated and the record logged (the
/// commit invariant); a failed check is [`crate::Error::Serialization`], with the
/// commit to wait for before reporting it left in `settle` (see [`super::ssi::Failure`]).
pub(crate) fn commit_writes(
    mvcc: &Mvcc,
    ws: &WriteSet,
    order: &CommitOrder,
    ssi: Option<TxnId>,
    settle: &mut Option<CommitTs>,
) -> Result<CommitTs> {
    mvcc.check_usable()?;
    // Deferred builds logged as a marker, and loads logged as their entries.
    let (marked, loads): (Vec<&DeferredBuild>, Vec<&DeferredBuild>) =
        ws.deferred_builds().partition(|b| b.marker.is_some());
    let build_keys: Vec<[u8; 4]> = marked.iter().map(|b| b.tree.0.to_be_bytes()).collect();
    let loaded: usize = loads.iter().map(|b| b.entries.len()).sum();
    let count = order.iter().map(|(_, ids)| ids.len()).sum::<usize>() + loaded + marked.len();
    let gate = mvcc.apply_gate.read();
    // A large commit logs its writes as parts first, outside the commit-order lock (other
    // commits go on meanwhile) but inside the apply gate (no checkpoint can come between
    // the parts and the record that names them); its record then holds the markers. A
    // load spilled to run files is always large.
    let load_bytes = loads
        .iter()
        .map(|b| b.entries.logged_bytes_bound())
        .fold(0usize, usize::saturating_add);
    let in_parts = mvcc
        .log
        .part_size()
        .is_some_and(|part_size| ws.logged_bytes_bound().saturating_add(load_bytes) > part_size);
    let parts = match in_parts {
        true => mvcc.log.append_parts(&mut |sink| {
            for write in logged_writes(ws, order) {
                sink.push(write)?;
            }
            loads.iter().try_for_each(|load| push_load(load, sink))
        })?,
        false => Vec::new(),
    };
    let (ts, ticket) = {
        let _order = mvcc.commit_order.lock();
        let ts = match ssi {
            None => mvcc.clock.allocate(),
            Some(id) => {
                let keys = order.iter().flat_map(|(slot, ids)| {
                    let tree = ws.tree(*slot).tree;
                    ids.iter()
                        .filter_map(move |id| ws.view(*slot, *id).map(|w| (tree, w.key)))
                });
                match mvcc.ssi.precommit(id, keys, || mvcc.clock.allocate()) {
                    Ok(ts) => ts,
                    Err(failure) => {
                        *settle = Some(failure.settle);
                        return Err(crate::error::Error::Serialization(failure.reason));
                    }
                }
            }
        };
        // Below the part size, every load is in memory (a spilled one is larger).
        let mut writes = match in_parts {
            true => None,
            false => Some(logged_writes(ws, order).chain(loads.iter().flat_map(|b| loaded_in_memory(b)))),
        };
        let count = match in_parts {
            true => marked.len(),
            false => count,
        };
        let mut markers = marked.iter().zip(&build_keys).map(|(b, key)| WriteRef {
            tree: BUILD_MARKER_TREE,
            key,
            value: b.marker.as_deref(),
        });
        let mut refs = writes.iter_mut().flatten().chain(markers.by_ref());
        match mvcc.log.append(ts, &parts, count, &mut refs) {
            Ok(ticket) => (ts, ticket),
            Err(e) => {
                // Nothing was applied at `ts`: give the timestamp back.
                mvcc.clock.complete(ts);
                return Err(e);
            }
        }
    };
    let applied = order.iter().try_for_each(|(slot, ids)| {
        let mut writes = ids.iter().filter_map(|id| ws.view(*slot, *id));
        let tree = ws.tree(*slot).tree;
        if tree == DROP_MARKER_TREE {
            return writes.try_for_each(|w| retire(mvcc, ts, w.key));
        }
        let mut batch = VersionBatch::new(ts, ids.len(), writes);
        mvcc.store.apply_sorted(tree, &mut batch)
    });
    let applied = applied.and_then(|()| {
        marked
            .iter()
            .chain(&loads)
            .try_for_each(|b| apply_build(mvcc, ts, b.tree, &b.entries))
    });
    if let Err(e) = applied {
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
        return Err(crate::error::Error::Poisoned(format!(
            "commit {} is durable but an older commit failed, so it becomes visible only after reopening",
            ts.0
        )));
    }
    let queued = enqueue_garbage(mvcc, ts, ws, order);
    // The commit is durable and visible: a failure to prune must not report it as failed.
    // But a B+tree error mid-change can leave the trees unsound, so nothing more commits.
    if let Err(e) = collect_garbage(mvcc, gc_policy::prune_budget(queued)) {
        mvcc.poison(format!(
            "garbage collection after commit {} failed: {e}",
            ts.0
        ));
    }
    Ok(ts)
}

/// A tree's writes as versions at one timestamp, in key order: each version key and
/// tree value is encoded into one reused buffer.
pub(crate) struct VersionBatch<'a, I> {
    ts: CommitTs,
    writes: I,
    remaining: usize,
    key: Vec<u8>,
    value: Vec<u8>,
    _lifetime: std::marker::PhantomData<&'a ()>,
}

impl<'a, I: Iterator<Item = crate::mvcc::write_set::WriteView<'a>>> VersionBatch<'a, I> {
    pub(crate) fn new(ts: CommitTs, count: usize, writes: I) -> Self {
        VersionBatch {
            ts,
            writes,
            remaining: count,
            key: Vec::new(),
            value: Vec::new(),
            _lifetime: std::marker::PhantomData,
        }
    }
}

impl<'a, I: Iterator<Item = crate::mvcc::write_set::WriteView<'a>>> SortedBatch
    for VersionBatch<'a, I>
{
    fn next_op(&mut self) -> Option<BatchOp<'_>> {
        let write = self.writes.next()?;
        self.remaining = self.remaining.saturating_sub(1);
        version_key::encode_into(write.key, self.ts, &mut self.key);
        version_key::encode_value_into(write.value, &mut self.value);
        Some(BatchOp {
            key: &self.key,
            value: Some(&self.value),
        })
    }

    fn remaining(&self) -> usize {
        self.remaining
    }
}

/// Builds the empty `tree` from a deferred build's entries (in strictly increasing key
/// order) as versions at `ts`, bottom-up; at commit, and at recovery from a marker.
pub(crate) fn apply_build(mvcc: &Mvcc, ts: CommitTs, tree: TreeId, entries: &BuildEntries) -> Result<()> {
    match entries {
        BuildEntries::Memory(runs) => apply_sorted_runs(mvcc, ts, tree, runs),
        BuildEntries::Spilled(runs) => apply_runs(mvcc, ts, tree, runs),
    }
}

/// [`apply_build`] of entries sorted in memory, in one run or several read merged.
fn apply_sorted_runs(mvcc: &Mvcc, ts: CommitTs, tree: TreeId, runs: &[SortedRun]) -> Result<()> {
    let count = runs.iter().map(|r| r.entries.len()).sum();
    let views = RunsInOrder::new(runs).map(|(key, value)| WriteView {
        key,
        value: Some(value),
        fresh: true,
    });
    let mut batch = VersionBatch::new(ts, count, views);
    mvcc.store.apply_sorted(tree, &mut batch)
}

/// [`apply_build`] of entries spilled to runs. A run that fails to read stops the
/// build with the error (the caller poisons the database: part of the tree may be
/// written).
fn apply_runs(mvcc: &Mvcc, ts: CommitTs, tree: TreeId, runs: &SpilledRuns) -> Result<()> {
    let mut batch = RunsBatch {
        ts,
        merge: runs.merge()?,
        remaining: usize::try_from(runs.entries()).unwrap_or(usize::MAX),
        failed: None,
        key: Vec::new(),
        value: Vec::new(),
    };
    mvcc.store.apply_sorted(tree, &mut batch)?;
    match batch.failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Merged runs as versions at one timestamp; a read error ends the batch and is kept.
struct RunsBatch {
    ts: CommitTs,
    merge: Merge,
    remaining: usize,
    failed: Option<crate::error::Error>,
    key: Vec<u8>,
    value: Vec<u8>,
}

impl SortedBatch for RunsBatch {
    fn next_op(&mut self) -> Option<BatchOp<'_>> {
        let (key, value) = match self.merge.next_entry() {
            Ok(entry) => entry?,
            Err(e) => {
                self.failed = Some(e);
                return None;
            }
        };
        self.remaining = self.remaining.saturating_sub(1);
        version_key::encode_into(key, self.ts, &mut self.key);
        version_key::encode_value_into(Some(value), &mut self.value);
        Some(BatchOp {
            key: &self.key,
            value: Some(&self.value),
        })
    }

    fn remaining(&self) -> usize {
        self.remaining
    }
}

/// Re-applies a commit read from the log: its writes as versions at `ts`, then prunes
/// each key against `ts` (a replayed log says nothing of which keys were fresh).
pub(crate) fn replay_writes(mvcc: &Mvcc, ts: CommitTs, writes: &[WriteOp]) -> Result<()> {
    for group in writes.chunk_by(|a, b| a.tree == b.tree) {
        let sorted = group.windows(2).all(|w| w[0].key < w[1].key);
        let tree = group[0].tree;
        if tree == DROP_MARKER_TREE {
            group.iter().try_for_each(|w| retire(mvcc, ts, &w.key))?;
            continue;
        }
        if sorted {
            let views = group
                .iter()
                .map(|w| crate::mvcc::write_set::WriteView {
                    key: &w.key,
                    value: w.value.as_deref(),
                    fresh: false,
                })
                .collect::<Vec<_>>();
            let mut batch = VersionBatch::new(ts, views.len(), views.into_iter());
            mvcc.store.apply_sorted(tree, &mut batch)?;
        } else {
            for w in group {
                let key = version_key::encode(&w.key, ts);
                let value = version_key::encode_value(w.value.as_deref());
                mvcc.store.put(tree, &key, &value)?;
            }
        }
    }
    writes
        .iter()
        .filter(|w| w.tree != DROP_MARKER_TREE)
        .try_for_each(|w| prune(mvcc, w.tree, &w.key, ts))
}

/// The writes of `order` as the log takes them: each tree's live writes in key order,
/// trees in id order.
fn logged_writes<'a>(
    ws: &'a WriteSet,
    order: &'a CommitOrder,
) -> impl Iterator<Item = WriteRef<'a>> + 'a {
    order.iter().flat_map(move |(slot, ids)| {
        let tree = ws.tree(*slot).tree;
        ids.iter().filter_map(move |id| {
            ws.view(*slot, *id).map(|w| WriteRef {
                tree,
                key: w.key,
                value: w.value,
            })
        })
    })
}

/// A load's entries (a deferred build without a marker) as writes of the log, into
/// `sink`: read in key order from memory, or merged from its run files.
fn push_load(load: &DeferredBuild, sink: &mut dyn PartSink) -> Result<()> {
    let tree = load.tree;
    match &load.entries {
        BuildEntries::Memory(_) => loaded_in_memory(load).try_for_each(|write| sink.push(write)),
        BuildEntries::Spilled(runs) => {
            let mut merge = runs.merge()?;
            while let Some((key, value)) = merge.next_entry()? {
                sink.push(WriteRef {
                    tree,
                    key,
                    value: Some(value),
                })?;
            }
            Ok(())
        }
    }
}

/// A load's entries held in memory, as writes of the log (none for a spilled load,
/// which is logged in parts: see [`push_load`]).
fn loaded_in_memory<'a>(load: &'a DeferredBuild) -> impl Iterator<Item = WriteRef<'a>> + 'a {
    let runs: &[SortedRun] = match &load.entries {
        BuildEntries::Memory(runs) => runs,
        BuildEntries::Spilled(_) => &[],
    };
    RunsInOrder::new(runs).map(move |(key, value)| WriteRef {
        tree: load.tree,
        key,
        value: Some(value),
    })
}

/// Applies a write to [`DROP_MARKER_TREE`] at `ts`: the tree its key names is retired
/// (recorded in the store, and queued to be freed once the horizon passes `ts`).
pub(crate) fn retire(mvcc: &Mvcc, ts: CommitTs, key: &[u8]) -> Result<()> {
    let tree: [u8; 4] = key.try_into().map_err(|_| {
        crate::error::Error::CorruptData("a dropped tree's id is not 4 bytes".into())
    })?;
    let tree = TreeId(u32::from_be_bytes(tree));
    mvcc.store.retire_tree(tree, ts)?;
    mvcc.retired.lock().push((ts, tree));
    Ok(())
}

/// Frees the retired trees that no snapshot can read any more (dropped at or before
/// `horizon`); returns how many.
fn free_retired(mvcc: &Mvcc, horizon: CommitTs) -> Result<usize> {
    let due: Vec<TreeId> = {
        let mut retired = mvcc.retired.lock();
        let (due, kept) = retired.drain(..).partition(|(ts, _)| *ts <= horizon);
        *retired = kept;
        due.into_iter().map(|(_, tree)| tree).collect::<Vec<_>>()
    };
    if due.is_empty() {
        return Ok(0);
    }
    let _freeing = mvcc.freeing.write();
    for (i, tree) in due.iter().enumerate() {
        if let Err(e) = mvcc.store.free_tree(*tree) {
            // Not freed: keep it (and those after it) for the next collection.
            mvcc.retired
                .lock()
                .extend(due[i..].iter().map(|tree| (CommitTs(0), *tree)));
            return Err(e);
        }
    }
    Ok(due.len())
}

/// Queues the keys of a completed commit that may have versions to prune and returns how
/// many it queued: all but fresh puts. A fresh put leaves one version, the commit's own,
/// which nothing can prune until the next writer of the key, who queues it again; a
/// tombstone, fresh or not, must go once no snapshot needs it.
fn enqueue_garbage(mvcc: &Mvcc, ts: CommitTs, ws: &WriteSet, order: &CommitOrder) -> usize {
    let mut queued = 0;
    let mut queue = mvcc.gc_queue.lock();
    for (slot, ids) in order {
        let tree = ws.tree(*slot).tree;
        if tree == DROP_MARKER_TREE {
            continue;
        }
        for view in ids.iter().filter_map(|id| ws.view(*slot, *id)) {
            if view.fresh && view.value.is_some() {
                continue;
            }
            if queue.len() >= gc_policy::MAX_QUEUED_KEYS {
                queue.pop_front();
            }
            queue.push_back((ts, tree, view.key.to_vec()));
            queued += 1;
        }
    }
    queued
}

/// Frees the dropped trees the horizon has passed, then prunes up to `budget` queued
/// keys whose commits it has passed.
pub(crate) fn collect_garbage(mvcc: &Mvcc, budget: usize) -> Result<usize> {
    let horizon = mvcc.clock.horizon();
    if !mvcc.retired.lock().is_empty() {
        free_retired(mvcc, horizon)?;
    }
    // One shared hold for the whole pass: no tree is freed while its keys are pruned.
    let _freeing = mvcc.freeing.read();
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

/// Deletes the versions of `key` that no snapshot at or after `horizon` can see: all but
/// the newest version at or below the horizon, and that one too if it is a tombstone.
///
/// Most keys have nothing to prune: a key rewritten once has two versions, and the
/// queue gets to it when the horizon has passed the newer. Two point probes (the newest
/// version at or below the horizon, then the entry after it) settle the cases with
/// nothing older without a scan.
pub(crate) fn prune(mvcc: &Mvcc, tree: TreeId, key: &[u8], horizon: CommitTs) -> Result<()> {
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
pub(crate) fn version_from(
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

/// The newest version of `key`, committed or being committed: its timestamp, and
/// whether it holds a row (`false`: a tombstone). `scratch` is a buffer to encode into.
pub(crate) fn newest_version(
    mvcc: &Mvcc,
    tree: TreeId,
    key: &[u8],
    scratch: &mut Vec<u8>,
) -> Result<Option<(CommitTs, bool)>> {
    // The first entry at or after the key's newest possible version (timestamp u64::MAX
    // encodes as zeros) is its newest version, if it has one.
    version_key::encode_into(key, CommitTs(u64::MAX), scratch);
    let prefix_len = scratch.len() - version_key::TS_LEN;
    match version_from(mvcc, tree, scratch, prefix_len)? {
        Some((tree_key, tree_value)) => Ok(Some((
            version_key::decode_ts(&tree_key)?,
            version_key::decode_value(&tree_value)?.is_some(),
        ))),
        None => Ok(None),
    }
}
