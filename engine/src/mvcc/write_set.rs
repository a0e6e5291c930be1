//! A transaction's write set: per-tree, arena-backed, hash-indexed, sorted lazily.
//!
//! Every write of a transaction lands here first and reaches the trees only at commit
//! (see COMMIT in the [module header](super)). The write set must answer four questions,
//! and each has its own structure so that no write pays for a question it does not ask:
//!
//! - **"Did I write this key?"** (every write and every read): a hash table from a
//!   key's 64-bit hash to the entry that holds it, with a chain through the entries for
//!   the (astronomically rare) keys whose hashes collide. The key bytes are compared, so
//!   a collision costs a comparison, never a wrong answer.
//! - **"What are my writes in this range, in key order?"** (scans): sorted *runs* of
//!   entry ids. Entries are appended unsorted; a scan first sorts the unsorted tail into
//!   a new run and then merges runs while the newer one is at least half the size of
//!   the older (the logarithmic method), so there are at most `log2(n)` runs, each entry
//!   is merged `O(log n)` times, and a scan costs a binary search per run plus its range.
//!   A transaction that never scans its own writes sorts once, at commit.
//! - **"What do I commit?"** (commit): every tree's entries in key order, the runs merged
//!   into one; a tree with many entries is then compacted — its live entries copied in
//!   key order into a new arena ([`TreeWrites::compact_in_order`]) — so that the
//!   commit's passes over them read memory in order.
//! - **"What do I undo?"** (statement savepoints): entries are never removed. An entry
//!   created after a savepoint is marked *dead* when the savepoint is rolled back; an
//!   entry that existed before it and was overwritten since is restored from a journal of
//!   old values. A dead entry keeps its key because the key's lock stays held until the
//!   transaction ends (as in PostgreSQL): the entries are also the list of locks to
//!   release.
//!
//! Keys and values live in one byte arena per tree (an entry is two offsets and two
//! lengths), so a write allocates nothing of its own: the arena, the entry vector and
//! the hash table grow geometrically. Overwriting a key appends the new value and leaves
//! the old bytes behind, which a transaction that rewrites one row many times pays for
//! in memory until it ends.
//!
//! A bulk load into a tree the transaction created ([`WriteSet::adopt_sorted`]: the
//! rebuild of a table under a new primary key) hands over its entries already sorted,
//! in an arena of their own: the arena is adopted, the entries are found by binary
//! search instead of the hash table (their ids are in key order), and they form an
//! implicit first run that is written out only when a later write of the same tree
//! must be merged with it.
//!
//! An index build hands over a *deferred build* instead ([`WriteSet::defer_build`]):
//! its entries sorted in memory, or spilled to sorted run files if they outgrew the
//! build's budget, that the commit writes straight into the empty tree, logging one
//! marker in place of the entries (see `table/index_build.rs`). A load into an empty
//! table (`table/load.rs`) hands over the same kind of deferred build without a
//! marker: the commit logs its entries (from the runs, in parts) and builds the tree. The tree's slot stays
//! empty while the build is deferred. Before the transaction reads or writes that tree
//! itself, it moves the entries (or reads the runs) into the slot as an adopted run
//! ([`WriteSet::materialize_build`]), and the build is no longer deferred: its commit
//! logs the entries. So is one whose source (the indexed table) the transaction writes
//! afterwards: the marker stands for the entries only while the rows they came from are
//! unchanged. A savepoint rolled back past the build forgets it, materialized or not.
//!
//! Each entry also remembers whether the key was *fresh* — no committed version of it
//! existed when this transaction first wrote it. The commit uses that to skip pruning
//! and the garbage queue (see [`super`], GARBAGE COLLECTION).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Bound;

use crate::error::{Error, Result};
use crate::extsort::SpilledRuns;
use crate::head_sort::{head_of, sort_by_head};
use crate::mvcc::store::TreeId;

/// An entry's index within its tree's write set.
pub(crate) type EntryId = u32;

/// A generous count of the bytes a write's framing takes in a commit record (op, tree,
/// two lengths) beside its key and value: for the bounds that decide whether a commit
/// is logged in parts ([`WriteSet::logged_bytes_bound`]).
const FRAMING_PER_WRITE: usize = 8;

/// A commit compacts a tree's writes into key order from this many on (below it the
/// entries are likely in cache anyway).
const COMPACT_AT: usize = 4096;

/// How many entries ahead of the one being copied [`TreeWrites::compact_in_order`]
/// touches.
pub(crate) const READ_AHEAD: usize = 8;

/// Loads the byte at `at` of `bytes`, if any, and discards it. Entries taken in key
/// order from an arena filled in write order are each a cache miss; touching the one
/// [`READ_AHEAD`] entries ahead starts that miss early, and the processor overlaps it
/// with the work on the entries in between (safe Rust has no prefetch instruction; a
/// load whose value is unused does the same).
pub(crate) fn read_ahead(bytes: &[u8], at: Option<usize>) {
    if let Some(byte) = at.and_then(|at| bytes.get(at)) {
        std::hint::black_box(*byte);
    }
}

/// Marks the end of a hash chain.
const NO_ENTRY: EntryId = EntryId::MAX;

/// What a transaction did to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryState {
    /// Wrote the value at `value_at..value_at + value_len` of the arena.
    Put,
    /// Deleted the key.
    Delete,
    /// Wrote it in a statement that was rolled back: the lock is held, nothing is written.
    Dead,
}

/// One written key.
#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    key_at: usize,
    value_at: usize,
    key_len: u32,
    value_len: u32,
    /// The next entry whose key has the same hash.
    next: EntryId,
    state: EntryState,
    fresh: bool,
}

/// The part of an entry a savepoint may have to restore.
#[derive(Debug, Clone, Copy)]
struct Written {
    value_at: usize,
    value_len: u32,
    state: EntryState,
}

/// A sort key: the first 16 bytes of the user key, big-endian (zero-padded), and the
/// entry. Comparing the two words decides almost every comparison without touching the
/// arena; ties (equal 16-byte heads) compare the keys themselves.
#[derive(Debug, Clone, Copy)]
struct Sorted {
    head: (u64, u64),
    id: EntryId,
}

/// A hasher for keys that are already 64-bit hashes.
#[derive(Debug, Default)]
pub(crate) struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

type HashIndex = HashMap<u64, EntryId, BuildHasherDefault<PreHashed>>;

/// The writes of one transaction to one tree.
#[derive(Debug)]
pub(crate) struct TreeWrites {
    pub tree: TreeId,
    /// No other transaction can write this tree before this one ends (it created the
    /// tree, or holds it for a load): its keys take no locks.
    pub claimed: bool,
    /// For a claimed tree: the greatest key the tree held when it was claimed, `None` if
    /// it held none (a tree the transaction created, or one it found empty). A key
    /// past it has no committed version, so it needs no probe; one at or below it is
    /// probed for its newest version (see `Transaction::lock_tree_for_load`).
    pub fresh_after: Option<Vec<u8>>,
    /// The transaction has tried to claim this tree for a load already (successfully or
    /// not), so it does not try again.
    pub claim_tried: bool,
    arena: Vec<u8>,
    entries: Vec<Entry>,
    index: HashIndex,
    /// Sorted runs of `entries[..sorted_upto]`, oldest (largest) first.
    runs: Vec<Vec<Sorted>>,
    sorted_upto: usize,
    /// Entries `..bulk` came in one sorted load ([`WriteSet::adopt_sorted`]): their ids
    /// are in key order, so they are found by binary search instead of the hash index,
    /// and they are a run of their own that is only written out ([`Self::materialize`])
    /// when a later write has to be merged with it.
    bulk: usize,
    /// The bulk entries are not yet in `runs`.
    bulk_implicit: bool,
    /// Entries that are not dead.
    live: usize,
    build: Build,
    /// The key hashes of the dead entries a commit's compaction
    /// ([`TreeWrites::compact_in_order`]) left out: their locks are held until the
    /// transaction ends, as every entry's are.
    dropped_locks: Vec<u64>,
}

/// A view of one live write, as a scan or a commit sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WriteView<'a> {
    pub key: &'a [u8],
    /// The new value, or `None` for a delete.
    pub value: Option<&'a [u8]>,
    pub fresh: bool,
}

/// Entries handed over in key order, in one arena: see [`WriteSet::adopt_sorted`].
#[derive(Debug, Default)]
pub(crate) struct SortedRun {
    pub arena: Vec<u8>,
    /// In strictly increasing key order.
    pub entries: Vec<RunEntry>,
}

/// One entry of a [`SortedRun`]: its key at `at..at + key_len` of the arena, its value
/// right after it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunEntry {
    pub at: usize,
    pub key_len: u32,
    pub value_len: u32,
}

/// A build of an empty, claimed tree from entries derived from another tree's rows,
/// made by the commit: see [`WriteSet::defer_build`].
#[derive(Debug)]
pub(crate) struct DeferredBuild {
    pub tree: TreeId,
    /// The tree the entries were derived from (the indexed table): the marker stands
    /// for them only while the transaction has not written it since.
    pub source: TreeId,
    /// What the commit record logs in place of the entries (opaque here: the caller's
    /// description of how to derive them again, for recovery); `None` for a *load*,
    /// whose entries are not derived from anything the log holds, so the commit logs
    /// them (in parts, when they are many).
    pub marker: Option<Vec<u8>>,
    /// The entries, in strictly increasing key order.
    pub entries: BuildEntries,
}

/// Where a deferred build's entries wait for the commit.
#[derive(Debug)]
pub(crate) enum BuildEntries {
    /// Sorted in memory: one run, or several (a parallel build's parts, each sorted
    /// on its own) read merged ([`RunsInOrder`]).
    Memory(Vec<SortedRun>),
    /// Sorted into run files, for a build that outgrew its memory budget.
    Spilled(SpilledRuns),
}

impl BuildEntries {
    /// How many entries there are.
    pub fn len(&self) -> usize {
        match self {
            BuildEntries::Memory(runs) => runs.iter().map(|r| r.entries.len()).sum(),
            BuildEntries::Spilled(runs) => usize::try_from(runs.entries()).unwrap_or(usize::MAX),
        }
    }

    /// About the most bytes the entries take in a commit record (as
    /// [`WriteSet::logged_bytes_bound`]); for spilled entries, more than any part.
    pub fn logged_bytes_bound(&self) -> usize {
        match self {
            BuildEntries::Memory(runs) => runs
                .iter()
                .map(|r| r.arena.len() + FRAMING_PER_WRITE * r.entries.len())
                .sum(),
            BuildEntries::Spilled(_) => usize::MAX,
        }
    }
}

/// A tree's build handed over as spilled runs, if any.
#[derive(Debug, Default)]
enum Build {
    #[default]
    None,
    /// Still in its runs: the slot holds none of its entries.
    Deferred(Box<DeferredBuild>),
    /// Read into the slot: its entries are the bulk entries.
    Materialized,
}

/// Reads spilled runs into one sorted run in memory.
fn read_runs(runs: &SpilledRuns) -> Result<SortedRun> {
    let mut run = SortedRun::default();
    let mut merge = runs.merge()?;
    while let Some((key, value)) = merge.next_entry()? {
        run.push(key, value);
    }
    Ok(run)
}

impl SortedRun {
    pub fn key(&self, e: &RunEntry) -> &[u8] {
        &self.arena[e.at..e.at + e.key_len as usize]
    }

    pub fn value(&self, e: &RunEntry) -> &[u8] {
        &self.arena[e.at + e.key_len as usize..][..e.value_len as usize]
    }

    /// Appends an entry (after every key already in the run).
    fn push(&mut self, key: &[u8], value: &[u8]) {
        self.entries.push(RunEntry {
            at: self.arena.len(),
            key_len: key.len() as u32,
            value_len: value.len() as u32,
        });
        self.arena.extend_from_slice(key);
        self.arena.extend_from_slice(value);
    }
}

/// The entries of sorted runs in key order, `(key, value)`: each step takes the least
/// of the runs' next keys (the first run's on a tie). For a parallel build's few parts;
/// with one run it simply walks it. It touches each run's key [`READ_AHEAD`] entries
/// ahead, as a commit's compaction does (see [`read_ahead`]).
pub(crate) struct RunsInOrder<'a> {
    runs: &'a [SortedRun],
    next: Vec<usize>,
}

impl<'a> RunsInOrder<'a> {
    pub fn new(runs: &'a [SortedRun]) -> RunsInOrder<'a> {
        RunsInOrder {
            runs,
            next: vec![0; runs.len()],
        }
    }
}

impl<'a> Iterator for RunsInOrder<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let runs = self.runs;
        let mut least: Option<(usize, &'a [u8])> = None;
        for (i, run) in runs.iter().enumerate() {
            let Some(e) = run.entries.get(self.next[i]) else {
                continue;
            };
            let key = run.key(e);
            if least.is_none_or(|(_, k)| key < k) {
                least = Some((i, key));
            }
        }
        let (i, key) = least?;
        let run = &runs[i];
        let at = self.next[i];
        self.next[i] += 1;
        read_ahead(&run.arena, run.entries.get(at + READ_AHEAD).map(|e| e.at));
        Some((key, run.value(&run.entries[at])))
    }
}

impl TreeWrites {
    fn new(tree: TreeId) -> TreeWrites {
        TreeWrites {
            tree,
            claimed: false,
            fresh_after: None,
            claim_tried: false,
            arena: Vec::new(),
            entries: Vec::new(),
            index: HashIndex::default(),
            runs: Vec::new(),
            sorted_upto: 0,
            bulk: 0,
            bulk_implicit: false,
            live: 0,
            build: Build::None,
            dropped_locks: Vec::new(),
        }
    }

    fn key(&self, e: &Entry) -> &[u8] {
        &self.arena[e.key_at..e.key_at + e.key_len as usize]
    }

    fn view(&self, id: EntryId) -> Option<WriteView<'_>> {
        let e = &self.entries[id as usize];
        let value = match e.state {
            EntryState::Dead => return None,
            EntryState::Delete => None,
            EntryState::Put => Some(&self.arena[e.value_at..e.value_at + e.value_len as usize]),
        };
        Some(WriteView {
            key: self.key(e),
            value,
            fresh: e.fresh,
        })
    }

    /// The entry holding `key` (whose hash is `hash`), dead or alive.
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<EntryId> {
        if self.bulk > 0 {
            let loaded = &self.entries[..self.bulk];
            if let Ok(at) = loaded.binary_search_by(|e| self.key(e).cmp(key)) {
                return Some(at as EntryId);
            }
        }
        let mut id = *self.index.get(&hash)?;
        while id != NO_ENTRY {
            let e = &self.entries[id as usize];
            if self.key(e) == key {
                return Some(id);
            }
            id = e.next;
        }
        None
    }

    /// The write held by entry `id`: `None` if dead, else its value (`None` deletes).
    pub fn get(&self, id: EntryId) -> Option<Option<&[u8]>> {
        self.view(id).map(|v| v.value)
    }

    /// Every entry's key hash, dead ones included: the locks this tree's writes hold.
    pub fn hashes(&self) -> impl Iterator<Item = u64> + '_ {
        self.entries
            .iter()
            .map(|e| e.hash)
            .chain(self.dropped_locks.iter().copied())
    }

    fn push_value(&mut self, value: Option<&[u8]>) -> Written {
        match value {
            Some(v) => {
                let at = self.arena.len();
                self.arena.extend_from_slice(v);
                Written {
                    value_at: at,
                    value_len: v.len() as u32,
                    state: EntryState::Put,
                }
            }
            None => Written {
                value_at: 0,
                value_len: 0,
                state: EntryState::Delete,
            },
        }
    }

    fn written(&self, id: EntryId) -> Written {
        let e = &self.entries[id as usize];
        Written {
            value_at: e.value_at,
            value_len: e.value_len,
            state: e.state,
        }
    }

    fn restore(&mut self, id: EntryId, w: Written) {
        let e = &mut self.entries[id as usize];
        match (e.state == EntryState::Dead, w.state == EntryState::Dead) {
            (true, false) => self.live += 1,
            (false, true) => self.live -= 1,
            _ => {}
        }
        e.value_at = w.value_at;
        e.value_len = w.value_len;
        e.state = w.state;
    }

    /// Whether this tree has no entries at all, dead ones included.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries this tree has, dead ones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether `key`, written into this claimed tree, certainly has no committed
    /// version: it sorts past every key the tree held when it was claimed.
    pub fn is_past_claim(&self, key: &[u8]) -> bool {
        self.fresh_after.as_deref().is_none_or(|last| key > last)
    }

    /// Writes the bulk entries' implicit run out as a run of `runs`.
    fn materialize(&mut self) {
        if !self.bulk_implicit {
            return;
        }
        self.bulk_implicit = false;
        let run = self.entries[..self.bulk]
            .iter()
            .enumerate()
            .map(|(i, e)| Sorted {
                head: head_of(self.key(e)),
                id: i as EntryId,
            })
            .collect();
        self.runs.insert(0, run);
    }

    /// Sorts the unsorted tail into a run and merges runs by the logarithmic rule.
    fn sort_tail(&mut self) {
        if self.sorted_upto == self.entries.len() {
            return;
        }
        self.materialize();
        let mut run: Vec<Sorted> = (self.sorted_upto..self.entries.len())
            .map(|i| {
                let e = &self.entries[i];
                Sorted {
                    head: head_of(self.key(e)),
                    id: i as EntryId,
                }
            })
            .collect();
        sort_by_head(&mut run, |s| s.head, |a, b| self.compare(a, b));
        self.sorted_upto = self.entries.len();
        while let Some(older) = self.runs.last() {
            if older.len() > 2 * run.len() {
                break;
            }
            let older = self.runs.pop().unwrap_or_default();
            run = self.merge(older, run);
        }
        self.runs.push(run);
    }

    fn compare(&self, a: &Sorted, b: &Sorted) -> std::cmp::Ordering {
        a.head.cmp(&b.head).then_with(|| {
            let (ka, kb) = (
                self.key(&self.entries[a.id as usize]),
                self.key(&self.entries[b.id as usize]),
            );
            ka.cmp(kb)
        })
    }

    fn merge(&self, a: Vec<Sorted>, b: Vec<Sorted>) -> Vec<Sorted> {
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            if self.compare(&a[i], &b[j]).is_le() {
                out.push(a[i]);
                i += 1;
            } else {
                out.push(b[j]);
                j += 1;
            }
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        out
    }

    /// Entry ids in key order, dead ones included: the runs merged into one.
    fn sorted_ids(&mut self) -> Vec<EntryId> {
        if self.bulk_implicit && self.sorted_upto == self.entries.len() && self.runs.is_empty() {
            return (0..self.bulk as EntryId).collect();
        }
        self.sort_tail();
        self.materialize();
        while self.runs.len() > 1 {
            let (b, a) = (
                self.runs.pop().unwrap_or_default(),
                self.runs.pop().unwrap_or_default(),
            );
            let merged = self.merge(a, b);
            self.runs.push(merged);
        }
        self.runs
            .first()
            .map(|run| run.iter().map(|s| s.id).collect())
            .unwrap_or_default()
    }

    /// Rewrites the tree's writes as the live entries `ids`, which are in key order,
    /// copied in that order into a new arena: entry `i` becomes the `i`-th key, so
    /// the entries are a sorted run found by binary search (the bulk entries of
    /// [`WriteSet::adopt_sorted`]), and the commit's passes over them — logging, then
    /// applying — read memory in order. Without it each pass reads the entries and
    /// their bytes in key order from where they were written, one cache miss each (for
    /// a load in random key order, most of the commit's time); the copy takes those
    /// misses once, in a loop short enough for the processor to overlap them. Dead
    /// entries are left out, their lock hashes kept (`dropped_locks`). Returns the new
    /// ids, `0..ids.len()`. Only at commit: savepoints' records of entry ids no longer
    /// hold afterwards.
    fn compact_in_order(&mut self, ids: &[EntryId]) -> Vec<EntryId> {
        // The live bytes are at most the arena's (no pass to count them: it would take
        // the misses this copy is for).
        let mut arena = Vec::with_capacity(self.arena.len());
        let mut entries = Vec::with_capacity(ids.len());
        for (i, &id) in ids.iter().enumerate() {
            // Start the misses of later entries (see `read_ahead`): the entry two
            // steps ahead, and the bytes of the one ahead of this one.
            if let Some(&ahead) = ids.get(i + 2 * READ_AHEAD) {
                std::hint::black_box(self.entries[ahead as usize].key_at);
            }
            if let Some(&ahead) = ids.get(i + READ_AHEAD) {
                read_ahead(&self.arena, Some(self.entries[ahead as usize].key_at));
            }
            let e = self.entries[id as usize];
            let key_at = arena.len();
            arena.extend_from_slice(&self.arena[e.key_at..e.key_at + e.key_len as usize]);
            let value_at = arena.len();
            if e.state == EntryState::Put {
                arena.extend_from_slice(&self.arena[e.value_at..e.value_at + e.value_len as usize]);
            }
            entries.push(Entry {
                key_at,
                value_at,
                next: NO_ENTRY,
                ..e
            });
        }
        if !self.claimed {
            let mut kept = vec![false; self.entries.len()];
            ids.iter().for_each(|&id| kept[id as usize] = true);
            self.dropped_locks.extend(
                self.entries
                    .iter()
                    .zip(kept)
                    .filter(|(_, kept)| !kept)
                    .map(|(e, _)| e.hash),
            );
        }
        self.arena = arena;
        self.entries = entries;
        self.index = HashIndex::default();
        self.runs = Vec::new();
        self.sorted_upto = self.entries.len();
        self.bulk = self.entries.len();
        self.bulk_implicit = true;
        self.live = self.entries.len();
        (0..self.entries.len() as EntryId).collect()
    }

    /// The live writes with keys within the bounds, in key order.
    fn range(&mut self, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> Vec<WriteView<'_>> {
        self.sort_tail();
        self.materialize();
        let this = &*self;
        let above_lower = |id: EntryId| {
            let k = this.key(&this.entries[id as usize]);
            match lower {
                Bound::Included(lo) => k >= lo,
                Bound::Excluded(lo) => k > lo,
                Bound::Unbounded => true,
            }
        };
        let below_upper = |id: EntryId| {
            let k = this.key(&this.entries[id as usize]);
            match upper {
                Bound::Included(hi) => k <= hi,
                Bound::Excluded(hi) => k < hi,
                Bound::Unbounded => true,
            }
        };
        // Per run: the slice of ids in range, found by binary search.
        let mut cursors: Vec<&[Sorted]> = this
            .runs
            .iter()
            .map(|run| {
                let start = run.partition_point(|s| !above_lower(s.id));
                let end = start + run[start..].partition_point(|s| below_upper(s.id));
                &run[start..end]
            })
            .collect();
        let mut out = Vec::new();
        loop {
            let mut best: Option<usize> = None;
            for (c, slice) in cursors.iter().enumerate() {
                if let Some(first) = slice.first()
                    && best.is_none_or(|b| this.compare(first, &cursors[b][0]).is_lt())
                {
                    best = Some(c);
                }
            }
            let Some(b) = best else {
                break;
            };
            let id = cursors[b][0].id;
            cursors[b] = &cursors[b][1..];
            if let Some(view) = this.view(id) {
                out.push(view);
            }
        }
        out
    }
}

/// A point in the write set that [`WriteSet::rollback_to`] can return to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Savepoint {
    journal_len: usize,
    created_len: usize,
    depth: usize,
}

/// An overwrite to undo: entry `id` of tree slot `slot` held `old` before.
#[derive(Debug, Clone, Copy)]
struct Undo {
    slot: u32,
    id: EntryId,
    old: Written,
}

/// Every write of one transaction, per tree.
#[derive(Debug, Default)]
pub(crate) struct WriteSet {
    trees: Vec<TreeWrites>,
    /// Entries created while a savepoint is open, in order: `(slot, id)`.
    created: Vec<(u32, EntryId)>,
    journal: Vec<Undo>,
    depth: usize,
}

impl WriteSet {
    /// Whether any write is live (not undone by a savepoint).
    pub fn has_writes(&self) -> bool {
        self.trees.iter().any(|t| t.live > 0) || self.deferred_builds().next().is_some()
    }

    /// Takes `build` as the writes of the tree in `slot`, which is claimed and has none
    /// yet: the commit makes the tree from the runs (see the module header).
    pub fn defer_build(&mut self, slot: usize, build: DeferredBuild) {
        let t = &mut self.trees[slot];
        debug_assert!(t.entries.is_empty() && t.claimed && matches!(t.build, Build::None));
        t.build = Build::Deferred(Box::new(build));
        if self.depth > 0 {
            // Undone by a savepoint rolled back past it, as a created entry is.
            self.created.push((slot as u32, NO_ENTRY));
        }
    }

    /// The builds still deferred, trees in slot order.
    pub fn deferred_builds(&self) -> impl Iterator<Item = &DeferredBuild> {
        self.trees.iter().filter_map(|t| match &t.build {
            Build::Deferred(build) => Some(&**build),
            _ => None,
        })
    }

    /// Whether `tree`'s build is deferred: its slot does not hold its entries yet.
    pub fn is_deferred(&self, tree: TreeId) -> bool {
        self.deferred_builds().any(|b| b.tree == tree)
    }

    /// The trees of the deferred builds derived from `source`.
    pub fn deferred_from(&self, source: TreeId) -> Vec<TreeId> {
        self.deferred_builds()
            .filter(|b| b.source == source)
            .map(|b| b.tree)
            .collect()
    }

    /// Reads `tree`'s deferred build into its slot as an adopted run (entries in key
    /// order in one arena, as [`WriteSet::adopt_sorted`] takes them), so that reads and
    /// writes of the tree find them. A savepoint rolled back past the build undoes them.
    pub fn materialize_build(&mut self, tree: TreeId) -> Result<()> {
        let Some(slot) = self.slot(tree) else {
            return Ok(());
        };
        let Build::Deferred(build) = &mut self.trees[slot].build else {
            return Ok(());
        };
        let run = match &mut build.entries {
            BuildEntries::Memory(runs) if runs.len() == 1 => std::mem::take(&mut runs[0]),
            BuildEntries::Memory(runs) => {
                let mut run = SortedRun::default();
                for (key, value) in RunsInOrder::new(runs) {
                    run.push(key, value);
                }
                run
            }
            BuildEntries::Spilled(runs) => read_runs(runs)?,
        };
        // Not journalled as created: the build's own mark in `created` undoes them.
        self.adopt(slot, run, false)?;
        self.trees[slot].build = Build::Materialized;
        Ok(())
    }

    /// Live writes, over all trees.
    pub fn live(&self) -> usize {
        self.trees.iter().map(|t| t.live).sum()
    }

    /// About the most bytes the writes take in a commit record: their keys and values
    /// (every byte of the arenas, so bytes a write overwrote count too) and a few bytes
    /// of framing per entry. What decides whether a commit is logged in parts.
    pub fn logged_bytes_bound(&self) -> usize {
        self.trees
            .iter()
            .map(|t| t.arena.len() + FRAMING_PER_WRITE * t.entries.len())
            .sum()
    }

    /// The slot of `tree`'s writes, if it has any.
    pub fn slot(&self, tree: TreeId) -> Option<usize> {
        self.trees.iter().position(|t| t.tree == tree)
    }

    /// The slot of `tree`'s writes, created empty if need be.
    pub fn slot_or_create(&mut self, tree: TreeId) -> usize {
        match self.slot(tree) {
            Some(slot) => slot,
            None => {
                self.trees.push(TreeWrites::new(tree));
                self.trees.len() - 1
            }
        }
    }

    pub fn tree(&self, slot: usize) -> &TreeWrites {
        &self.trees[slot]
    }

    pub fn tree_mut(&mut self, slot: usize) -> &mut TreeWrites {
        &mut self.trees[slot]
    }

    /// Every tree written, in no particular order.
    pub fn trees(&self) -> &[TreeWrites] {
        &self.trees
    }

    /// Adds a new entry for `key` (not in the set: the caller looked).
    pub fn add(
        &mut self,
        slot: usize,
        hash: u64,
        key: &[u8],
        value: Option<&[u8]>,
        fresh: bool,
    ) -> Result<EntryId> {
        let t = &mut self.trees[slot];
        let id = EntryId::try_from(t.entries.len())
            .ok()
            .filter(|id| *id != NO_ENTRY)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "a transaction may write at most {} keys of one tree",
                    NO_ENTRY
                ))
            })?;
        let key_len = u32::try_from(key.len())
            .map_err(|_| Error::InvalidArgument("key longer than 4 GiB".into()))?;
        if value.is_some_and(|v| u32::try_from(v.len()).is_err()) {
            return Err(Error::InvalidArgument("value longer than 4 GiB".into()));
        }
        let key_at = t.arena.len();
        t.arena.extend_from_slice(key);
        let w = t.push_value(value);
        let next = t.index.insert(hash, id).unwrap_or(NO_ENTRY);
        t.entries.push(Entry {
            hash,
            key_at,
            value_at: w.value_at,
            key_len,
            value_len: w.value_len,
            next,
            state: w.state,
            fresh,
        });
        t.live += 1;
        if self.depth > 0 {
            self.created.push((slot as u32, id));
        }
        Ok(id)
    }

    /// Takes `run` as the writes of the tree in `slot`, which has none yet: the bulk
    /// path of a sorted load. Its arena becomes the tree's arena (nothing is copied), its
    /// entries become puts of fresh keys in the same order, which is key order, so they
    /// need no hash index, no hashes (the tree is claimed: its keys hold no locks) and no
    /// sort (see [`TreeWrites::bulk`]).
    pub fn adopt_sorted(&mut self, slot: usize, run: SortedRun) -> Result<()> {
        self.adopt(slot, run, true)
    }

    /// [`WriteSet::adopt_sorted`]; `journal`: record the entries as created under the
    /// open savepoint, if any.
    fn adopt(&mut self, slot: usize, run: SortedRun, journal: bool) -> Result<()> {
        let count = EntryId::try_from(run.entries.len())
            .ok()
            .filter(|n| *n < NO_ENTRY)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "a transaction may write at most {} keys of one tree",
                    NO_ENTRY - 1
                ))
            })?;
        let t = &mut self.trees[slot];
        debug_assert!(t.entries.is_empty() && t.claimed);
        t.arena = run.arena;
        t.entries = run
            .entries
            .iter()
            .map(|e| Entry {
                hash: 0,
                key_at: e.at,
                value_at: e.at + e.key_len as usize,
                key_len: e.key_len,
                value_len: e.value_len,
                next: NO_ENTRY,
                state: EntryState::Put,
                fresh: true,
            })
            .collect();
        t.sorted_upto = t.entries.len();
        t.bulk = t.entries.len();
        t.bulk_implicit = true;
        t.live = t.entries.len();
        if journal && self.depth > 0 {
            self.created.extend((0..count).map(|id| (slot as u32, id)));
        }
        Ok(())
    }

    /// Replaces the write of entry `id` (dead or alive) with `value`.
    pub fn set(&mut self, slot: usize, id: EntryId, value: Option<&[u8]>) -> Result<()> {
        if value.is_some_and(|v| u32::try_from(v.len()).is_err()) {
            return Err(Error::InvalidArgument("value longer than 4 GiB".into()));
        }
        let t = &mut self.trees[slot];
        let old = t.written(id);
        let new = t.push_value(value);
        t.restore(id, new);
        if self.depth > 0 {
            self.journal.push(Undo {
                slot: slot as u32,
                id,
                old,
            });
        }
        Ok(())
    }

    /// Marks a savepoint.
    pub fn savepoint(&mut self) -> Savepoint {
        self.depth += 1;
        Savepoint {
            journal_len: self.journal.len(),
            created_len: self.created.len(),
            depth: self.depth,
        }
    }

    /// Keeps the writes since `savepoint` and forgets it.
    pub fn release(&mut self, savepoint: Savepoint) {
        self.depth = savepoint.depth - 1;
        if self.depth == 0 {
            self.journal.clear();
            self.created.clear();
        }
    }

    /// Undoes every write since `savepoint` (their locks stay held) and forgets it.
    pub fn rollback_to(&mut self, savepoint: Savepoint) {
        while self.journal.len() > savepoint.journal_len {
            let Some(undo) = self.journal.pop() else {
                break;
            };
            self.trees[undo.slot as usize].restore(undo.id, undo.old);
        }
        let dead = Written {
            value_at: 0,
            value_len: 0,
            state: EntryState::Dead,
        };
        for (slot, id) in self.created.drain(savepoint.created_len..) {
            let t = &mut self.trees[slot as usize];
            if id != NO_ENTRY {
                t.restore(id, dead);
                continue;
            }
            // A deferred build: dropped with its runs if it is still deferred; if it
            // was materialized, its entries die (later writes of them are undone above).
            if matches!(std::mem::take(&mut t.build), Build::Materialized) {
                for id in 0..t.bulk as EntryId {
                    t.restore(id, dead);
                }
            }
        }
        self.release(savepoint);
    }

    /// The live writes of `tree` within the bounds, in key order, copied.
    pub fn range(
        &mut self,
        tree: TreeId,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
    ) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        match self.slot(tree) {
            Some(slot) => self.trees[slot]
                .range(lower, upper)
                .into_iter()
                .map(|w| (w.key.to_vec(), w.value.map(<[u8]>::to_vec)))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Every tree's live writes in key order, trees in id order: what a commit logs and
    /// applies. (A delete of a fresh key stays: its tombstone is what makes a concurrent
    /// writer with an older snapshot fail, as it would on any other committed write.)
    ///
    /// A tree with at least [`COMPACT_AT`] writes whose entries are not already in key
    /// order is compacted ([`TreeWrites::compact_in_order`]): only here, when no
    /// savepoint is open (the commit's own call), since the entries' ids change.
    pub fn commit_order(&mut self) -> Vec<(usize, Vec<EntryId>)> {
        let mut slots: Vec<usize> = (0..self.trees.len()).collect();
        slots.sort_by_key(|s| self.trees[*s].tree);
        let may_compact = self.depth == 0;
        slots
            .into_iter()
            .map(|slot| {
                let t = &mut self.trees[slot];
                let ids: Vec<EntryId> = t
                    .sorted_ids()
                    .into_iter()
                    .filter(|id| t.view(*id).is_some())
                    .collect();
                let in_order = || ids.iter().enumerate().all(|(i, id)| *id as usize == i);
                match may_compact && ids.len() >= COMPACT_AT && !in_order() {
                    true => (slot, t.compact_in_order(&ids)),
                    false => (slot, ids),
                }
            })
            .filter(|(_, ids)| !ids.is_empty())
            .collect()
    }

    /// The write of entry `id` of `slot` (live: from [`WriteSet::commit_order`]).
    pub fn view(&self, slot: usize, id: EntryId) -> Option<WriteView<'_>> {
        self.trees[slot].view(id)
    }

    /// Forgets every write (the caller has released their locks).
    pub fn clear(&mut self) {
        *self = WriteSet::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(key: &[u8]) -> u64 {
        // Deliberately weak, so that chains are exercised.
        key.first().copied().map_or(0, u64::from)
    }

    fn put(ws: &mut WriteSet, key: &[u8], value: Option<&[u8]>) {
        let slot = ws.slot_or_create(TreeId(1));
        match ws.tree(slot).find(hash(key), key) {
            Some(id) => ws.set(slot, id, value).unwrap(),
            None => {
                ws.add(slot, hash(key), key, value, true).unwrap();
            }
        }
    }

    fn all(ws: &mut WriteSet) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        ws.range(TreeId(1), Bound::Unbounded, Bound::Unbounded)
    }

    #[test]
    fn lookups_ranges_and_savepoints_match_a_model() {
        let mut ws = WriteSet::default();
        let mut model = std::collections::BTreeMap::new();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        type Model = std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>>;
        let mut saved: Vec<(Savepoint, Model)> = Vec::new();
        for step in 0..4000u32 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let key = vec![(state % 7) as u8, (state >> 8) as u8 % 31];
            match state % 11 {
                0 if saved.len() < 4 => saved.push((ws.savepoint(), model.clone())),
                1 => {
                    if let Some((sp, m)) = saved.pop() {
                        ws.rollback_to(sp);
                        model = m;
                    }
                }
                2 => {
                    if let Some((sp, _)) = saved.pop() {
                        ws.release(sp);
                    }
                }
                3 => {
                    put(&mut ws, &key, None);
                    model.insert(key.clone(), None);
                }
                _ => {
                    let value = step.to_le_bytes().to_vec();
                    put(&mut ws, &key, Some(&value));
                    model.insert(key.clone(), Some(value));
                }
            }
            if step % 97 == 0 {
                let got = all(&mut ws);
                let want: Vec<_> = model.clone().into_iter().collect();
                assert_eq!(got, want, "step {step}");
                let lo = [3u8, 0];
                let hi = [5u8, 7];
                let got = ws.range(TreeId(1), Bound::Excluded(&lo), Bound::Included(&hi));
                let want: Vec<_> = model
                    .range::<[u8], _>((Bound::Excluded(&lo[..]), Bound::Included(&hi[..])))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                assert_eq!(got, want, "range at step {step}");
            }
            let slot = ws.slot_or_create(TreeId(1));
            let found = ws
                .tree(slot)
                .find(hash(&key), &key)
                .and_then(|id| ws.tree(slot).get(id))
                .map(|v| v.map(<[u8]>::to_vec));
            assert_eq!(found, model.get(&key).cloned(), "lookup at step {step}");
        }
        let order = ws.commit_order();
        let committed: usize = order.iter().map(|(_, ids)| ids.len()).sum();
        assert_eq!(committed, model.len(), "every live write is committed");
    }

    #[test]
    fn a_commit_compacts_a_large_write_set_into_key_order() {
        for claimed in [false, true] {
            let mut ws = WriteSet::default();
            let slot = ws.slot_or_create(TreeId(1));
            ws.tree_mut(slot).claimed = claimed;
            let mut model = std::collections::BTreeMap::new();
            let mut state: u64 = 7;
            let mut written = Vec::new();
            for step in 0..3 * COMPACT_AT as u64 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let key = ((state >> 33) % 5000).to_be_bytes().to_vec();
                written.push(key.clone());
                let value = match step % 7 {
                    0 => None,
                    _ => Some(step.to_le_bytes().to_vec()),
                };
                // Some writes are undone by a savepoint, leaving dead entries.
                let undone = step % 11 == 0;
                let sp = ws.savepoint();
                put(&mut ws, &key, value.as_deref());
                match undone {
                    true => ws.rollback_to(sp),
                    false => {
                        ws.release(sp);
                        model.insert(key, value);
                    }
                }
            }
            let mut hashes_before: Vec<u64> = ws.tree(slot).hashes().collect();
            let order = ws.commit_order();
            assert_eq!(order.len(), 1);
            let ids = &order[0].1;
            assert!(ids.iter().enumerate().all(|(i, id)| *id as usize == i), "compacted");
            let got: Vec<(Vec<u8>, Option<Vec<u8>>)> = ids
                .iter()
                .map(|id| {
                    let w = ws.view(slot, *id).unwrap();
                    (w.key.to_vec(), w.value.map(<[u8]>::to_vec))
                })
                .collect();
            let want: Vec<_> = model.clone().into_iter().collect();
            assert_eq!(got, want);
            // Every key is still found, live or undone; a lock is kept for each entry.
            for key in &written {
                let found = ws
                    .tree(slot)
                    .find(hash(key), key)
                    .and_then(|id| ws.tree(slot).get(id))
                    .map(|v| v.map(<[u8]>::to_vec));
                assert_eq!(found, model.get(key).cloned());
            }
            assert_eq!(ws.range(TreeId(1), Bound::Unbounded, Bound::Unbounded), want);
            let mut hashes_after: Vec<u64> = ws.tree(slot).hashes().collect();
            match claimed {
                // A claimed tree's keys hold no locks: the dead entries are simply gone.
                true => assert_eq!(hashes_after.len(), model.len()),
                false => {
                    hashes_before.sort_unstable();
                    hashes_after.sort_unstable();
                    assert_eq!(hashes_before, hashes_after);
                }
            }
        }
    }

    /// A sorted run of `keys` (each with the value `v` + key), as a bulk load hands it.
    fn run_of(keys: &[&[u8]]) -> SortedRun {
        let mut run = SortedRun::default();
        for key in keys {
            let at = run.arena.len();
            run.arena.extend_from_slice(key);
            run.arena.push(b'v');
            run.arena.extend_from_slice(key);
            run.entries.push(RunEntry {
                at,
                key_len: key.len() as u32,
                value_len: key.len() as u32 + 1,
            });
        }
        run
    }

    #[test]
    fn an_adopted_run_is_found_overwritten_merged_and_undone() {
        let mut ws = WriteSet::default();
        let slot = ws.slot_or_create(TreeId(1));
        ws.tree_mut(slot).claimed = true;
        ws.adopt_sorted(slot, run_of(&[b"b", b"d", b"f"])).unwrap();
        // Found without hashes, whatever hash the caller passes.
        let d = ws.tree(slot).find(12345, b"d").unwrap();
        assert_eq!(ws.tree(slot).get(d), Some(Some(&b"vd"[..])));
        assert_eq!(ws.tree(slot).find(hash(b"c"), b"c"), None);
        // Writes after the load: an overwrite, a delete, new keys on both sides.
        ws.set(slot, d, Some(b"new")).unwrap();
        put(&mut ws, b"f", None);
        put(&mut ws, b"a", Some(b"va"));
        put(&mut ws, b"e", Some(b"ve"));
        let want: Vec<(Vec<u8>, Option<Vec<u8>>)> = vec![
            (b"a".to_vec(), Some(b"va".to_vec())),
            (b"b".to_vec(), Some(b"vb".to_vec())),
            (b"d".to_vec(), Some(b"new".to_vec())),
            (b"e".to_vec(), Some(b"ve".to_vec())),
            (b"f".to_vec(), None),
        ];
        assert_eq!(all(&mut ws), want);
        let order = ws.commit_order();
        let keys: Vec<&[u8]> = order[0].1.iter().map(|id| ws.view(0, *id).unwrap().key).collect();
        assert_eq!(keys, [&b"a"[..], b"b", b"d", b"e", b"f"]);

        // Under a savepoint that is rolled back, a load leaves nothing to commit.
        let mut ws = WriteSet::default();
        let slot = ws.slot_or_create(TreeId(2));
        ws.tree_mut(slot).claimed = true;
        let sp = ws.savepoint();
        ws.adopt_sorted(slot, run_of(&[b"x", b"y"])).unwrap();
        assert_eq!(ws.live(), 2);
        ws.rollback_to(sp);
        assert_eq!(ws.live(), 0);
        assert!(ws.commit_order().is_empty());
        let x = ws.tree(slot).find(0, b"x").unwrap();
        assert_eq!(ws.tree(slot).get(x), None, "dead, its key kept");
    }

    /// A deferred build of `keys` (values `v` + key) into tree 1: sorted in memory, or
    /// in runs of two keys in `space`.
    fn deferred(
        space: &crate::extsort::SpillSpace,
        keys: &[&[u8]],
        spilled: bool,
    ) -> DeferredBuild {
        let value_of = |key: &[u8]| [b"v", key].concat();
        let entries = match spilled {
            true => {
                let mut runs = Vec::new();
                for half in keys.chunks(2) {
                    let mut out = space.create_run().unwrap();
                    let mut half = half.to_vec();
                    half.sort();
                    for key in half {
                        out.push(key, &value_of(key)).unwrap();
                    }
                    runs.push(out.finish().unwrap());
                }
                BuildEntries::Spilled(SpilledRuns::new(space, runs).unwrap())
            }
            false => {
                let mut sorted = keys.to_vec();
                sorted.sort();
                let mut run = SortedRun::default();
                for key in sorted {
                    let value = value_of(key);
                    run.entries.push(RunEntry {
                        at: run.arena.len(),
                        key_len: key.len() as u32,
                        value_len: value.len() as u32,
                    });
                    run.arena.extend_from_slice(key);
                    run.arena.extend_from_slice(&value);
                }
                BuildEntries::Memory(vec![run])
            }
        };
        DeferredBuild {
            tree: TreeId(1),
            source: TreeId(2),
            marker: Some(b"m".to_vec()),
            entries,
        }
    }

    #[test]
    fn a_deferred_build_is_materialized_and_undone_with_its_savepoint() {
        for spilled in [false, true] {
            deferred_build_is_materialized_and_undone(spilled);
        }
    }

    fn deferred_build_is_materialized_and_undone(spilled: bool) {
        let space = crate::extsort::SpillSpace::temporary(1);
        let keys: &[&[u8]] = &[b"a", b"c", b"b", b"d"];
        // Rolled back before it is materialized: nothing is left to commit.
        let mut ws = WriteSet::default();
        let slot = ws.slot_or_create(TreeId(1));
        ws.tree_mut(slot).claimed = true;
        let sp = ws.savepoint();
        ws.defer_build(slot, deferred(&space, keys, spilled));
        assert!(ws.has_writes() && ws.is_deferred(TreeId(1)));
        ws.rollback_to(sp);
        assert!(!ws.has_writes() && ws.deferred_builds().next().is_none());

        // Materialized after a later savepoint: rolling that one back keeps the build,
        // rolling back past the build undoes it.
        let mut ws = WriteSet::default();
        let slot = ws.slot_or_create(TreeId(1));
        ws.tree_mut(slot).claimed = true;
        let outer = ws.savepoint();
        ws.defer_build(slot, deferred(&space, keys, spilled));
        let inner = ws.savepoint();
        ws.materialize_build(TreeId(1)).unwrap();
        assert!(!ws.is_deferred(TreeId(1)));
        put(&mut ws, b"e", Some(b"ve"));
        ws.rollback_to(inner);
        let got: Vec<Vec<u8>> = all(&mut ws).into_iter().map(|(k, _)| k).collect();
        assert_eq!(got, [b"a", b"b", b"c", b"d"].map(|k| k.to_vec()));
        assert_eq!(all(&mut ws)[1].1.as_deref(), Some(&b"vb"[..]));
        ws.rollback_to(outer);
        assert!(all(&mut ws).is_empty() && !ws.has_writes());
        assert!(ws.commit_order().is_empty());
    }

    #[test]
    fn sort_keys_with_long_equal_heads_fall_back_to_the_bytes() {
        let mut ws = WriteSet::default();
        let long = |last: u8| {
            let mut k = vec![7u8; 20];
            k.push(last);
            k
        };
        for last in [9u8, 1, 5, 3] {
            put(&mut ws, &long(last), Some(b"v"));
        }
        put(&mut ws, &[7u8; 16], Some(b"short"));
        let keys: Vec<Vec<u8>> = all(&mut ws).into_iter().map(|(k, _)| k).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys.len(), 5);
    }
}
