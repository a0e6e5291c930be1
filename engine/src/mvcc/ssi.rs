//! Serializable snapshot isolation: read tracking, rw-antidependencies, and the
//! dangerous-structure check that makes SERIALIZABLE transactions serializable.
//!
//! SERIALIZABLE runs each transaction on one snapshot, exactly as REPEATABLE READ does
//! (first updater wins included), and adds what snapshot isolation lacks. Every cycle in
//! the dependency graph of a snapshot-isolated history contains two consecutive
//! *rw-antidependencies* `T1 -rw-> T2 -rw-> T3` (T1 read a version that T2 replaced
//! without T1 seeing it, and likewise T2 of T3) in which T3 commits before T1 and T2
//! (Fekete et al.; Cahill's SSI; Ports and Grittner, VLDB 2012). Aborting one of T1 and
//! T2 whenever such a *dangerous structure* forms breaks every cycle. PostgreSQL's
//! `README-SSI` describes the same scheme; this is our own implementation of it, with
//! the differences stated below.
//!
//! ## WHAT IS TRACKED, AND WHERE
//!
//! One [`Ssi`] per [`super::Mvcc`], one mutex, touched only by SERIALIZABLE
//! transactions: READ COMMITTED and REPEATABLE READ never reach this file (and, as in
//! PostgreSQL, their writes create no edges: the guarantee holds among SERIALIZABLE
//! transactions). For each SERIALIZABLE transaction, from its snapshot until every
//! transaction concurrent with it has ended, a record holds:
//!
//! - its *SIREAD locks*: the user keys it read ([`Transaction::get`] and the existence
//!   probe of [`Transaction::insert`]) and the key ranges it scanned (a scan locks the
//!   whole range it was asked for, so a later insert anywhere in it is a conflict: no
//!   phantoms), per tree, or the whole tree once it read too much of it (below);
//! - once it commits with writes: the keys it wrote (sorted per tree) and its commit
//!   timestamp;
//! - `earliest_out`: the first-committed transaction it has an rw-edge *to* that had
//!   committed when the edge was found (the only out-edges a dangerous structure needs).
//!
//! rw-edges are found at two moments, both under the mutex, so between them no edge is
//! missed:
//!
//! 1. **A write meets a SIREAD lock**, at the writer's commit: every key the writer X
//!    wrote is checked against the SIREAD locks of every transaction R concurrent with
//!    it (R still active, or committed after X took its snapshot): an overlap is the
//!    edge `R -rw-> X`. PostgreSQL checks at each write; checking once at commit finds
//!    the same edges (reads made after X's check meet X's committed keys instead, by 2),
//!    only later.
//! 2. **A read meets a newer version**: a read (or scan) registers its SIREAD lock and
//!    checks it against the written keys of every committed SERIALIZABLE writer W whose
//!    commit its snapshot does not see: an overlap is the edge `R -rw-> W` (the version
//!    R's read skips). Checking the committed records, not the tree, closes the window
//!    between a writer's check and its versions reaching the tree.
//!
//! An in-edge `T1 -rw-> T2` is found only once T2 has committed (T2's writes are private
//! until then), so a dangerous structure completes at one of two events, and each
//! decides its victim (never a committed transaction; first committer wins):
//!
//! - **At T2's commit** (T2 the pivot): T2 has an out-edge to a committed T3 and the
//!   check finds a reader T1 that committed no earlier than T3 (or is active): T2 fails
//!   with 40001 — the pivot aborted at its commit. T1 = T3 is write skew.
//! - **At T1's read**: the read finds an edge to a committed W that has an out-edge to a
//!   T3 committed before it: W cannot be aborted, so the reader T1 fails.
//!
//! A failing transaction, once its locks are released, waits until the committed member
//! of the structure that its snapshot missed is visible before it reports the failure
//! (`Failure`): a commit is judged committed here from its check on, a little before
//! it is visible, and an immediate retry would otherwise take the same snapshot and fail
//! the same way, over and over, while the committer's thread is off the CPU (measured:
//! 1257 failures instead of 14 for 20,000 transactions of the bank benchmark on 2
//! threads).
//!
//! The read-only refinement (Ports and Grittner, theorem 3): if T1 is read-only (declared
//! READ ONLY, or committed without writing), the structure is dangerous only if T3
//! committed before T1's snapshot.
//!
//! Both checks run before the commit's timestamp is allocated and its record logged, as
//! the commit invariant demands; the verdict and the timestamp are taken in one critical
//! section, inside the commit-order lock.
//!
//! ## SAFE SNAPSHOTS
//!
//! A READ ONLY transaction can only be T1, and only with a pivot that was active when it
//! took its snapshot. If no read-write SERIALIZABLE transaction is active then (and no
//! committed one still concurrent with the snapshot has an out-edge to a commit the
//! snapshot sees), the snapshot is *safe*: the transaction is not tracked at all.
//! `READ ONLY DEFERRABLE` waits until the read-write transactions active at its snapshot
//! have all ended; if none of them committed with an out-edge to a commit the snapshot
//! sees, the snapshot is safe, otherwise it takes a new snapshot and tries again. A
//! snapshot taken while such a commit has been judged here but is not yet visible is
//! unsafe from the start; it waits for that commit to become visible and tries again.
//!
//! ## GRANULARITY AND MEMORY
//!
//! SIREAD locks are keys and ranges of user keys, escalated to the whole tree when one
//! transaction's locks on a tree pass [`SsiLimits::per_tree`], and to whole trees for all
//! of a transaction's reads, and for a committing writer's written keys, while the bytes
//! held by all records pass [`SsiLimits::total_bytes`]. Coarser locks only add edges
//! (false positives: more 40001s), never lose one. Records end when no transaction that
//! could still be concurrent with them is active: a committed record whose commit every
//! active snapshot and the visible timestamp have passed, and that committed before every
//! active transaction began, is dropped; an aborted one at once.
//!
//! ## WHERE THIS DIFFERS FROM POSTGRESQL
//!
//! - Conflicts of a write are found at the writer's commit, not at the write, so a doomed
//!   pivot runs to its commit before it fails, and PostgreSQL's early "doom" of a pivot
//!   at T3's commit is not needed (no in-edge exists before the pivot commits).
//! - Granularity is key / range / tree, not tuple / page / relation, and escalation is
//!   per transaction; committed transactions are not summarised into one record, they
//!   are escalated in place.
//! - A non-deferrable READ ONLY transaction whose snapshot was unsafe stays tracked to
//!   its end (PostgreSQL can release it once its snapshot becomes safe).
//! - One global mutex: fine for the few reads per transaction of OLTP; scans register a
//!   range once, not per row.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::mvcc::clock::{Clock, CommitTs, Snapshot};
use crate::mvcc::store::TreeId;
use crate::mvcc::transaction::TxnId;

#[cfg(doc)]
use crate::mvcc::transaction::Transaction;

/// Bounds on the memory SIREAD locks and committed write records take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsiLimits {
    /// Keys and ranges one transaction may lock in one tree before its lock on that tree
    /// becomes a lock on the whole tree.
    pub per_tree: usize,
    /// Bytes of keys all records may hold; past it, new locks and committed write sets
    /// are recorded per whole tree.
    pub total_bytes: usize,
}

impl Default for SsiLimits {
    fn default() -> Self {
        SsiLimits {
            per_tree: 4096,
            total_bytes: 64 << 20,
        }
    }
}

/// A user-key range `(lower, upper)`.
type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// What one transaction read of one tree.
#[derive(Debug, Default)]
struct TreeReads {
    whole: bool,
    points: HashSet<Vec<u8>>,
    ranges: Vec<KeyRange>,
    /// What `points` and `ranges` take, approximately.
    bytes: usize,
}

impl TreeReads {
    fn whole() -> TreeReads {
        TreeReads {
            whole: true,
            ..TreeReads::default()
        }
    }

    fn entries(&self) -> usize {
        self.points.len() + self.ranges.len()
    }

    /// Adds one read (escalating past `per_tree` entries).
    fn add(&mut self, read: Read<'_>, per_tree: usize) {
        if self.whole {
            return;
        }
        match read {
            Read::Whole => *self = TreeReads::whole(),
            Read::Key(key) => {
                let covered = self.points.contains(key)
                    || self
                        .ranges
                        .iter()
                        .any(|(lo, hi)| in_range(key, lo.as_ref(), hi.as_ref()));
                if !covered {
                    self.bytes += key.len() + 16;
                    self.points.insert(key.to_vec());
                }
            }
            Read::Range(lo, hi) => {
                let range = (lo.map(<[u8]>::to_vec), hi.map(<[u8]>::to_vec));
                self.bytes += bound_len(&range.0) + bound_len(&range.1) + 32;
                self.ranges.push(range);
            }
        }
        if self.entries() > per_tree {
            *self = TreeReads::whole();
        }
    }

    /// Whether these locks cover any of `written` (sorted).
    fn overlaps(&self, written: &Written) -> bool {
        let keys = match written {
            Written::Whole => return true,
            Written::Keys(keys) => keys,
        };
        if self.whole {
            return !keys.is_empty();
        }
        if keys.len() <= self.points.len() {
            if keys.iter().any(|k| self.points.contains(k)) {
                return true;
            }
        } else if self.points.iter().any(|k| keys.binary_search(k).is_ok()) {
            return true;
        }
        self.ranges
            .iter()
            .any(|(lo, hi)| any_in_range(keys, lo.as_ref(), hi.as_ref()))
    }
}

/// What one committed transaction wrote in one tree.
#[derive(Debug)]
enum Written {
    /// Every key, sorted.
    Keys(Vec<Vec<u8>>),
    /// Something in the tree (escalated).
    Whole,
}

impl Written {
    fn bytes(&self) -> usize {
        match self {
            Written::Keys(keys) => keys.iter().map(|k| k.len() + 24).sum(),
            Written::Whole => 0,
        }
    }

    fn overlaps(&self, read: &Read<'_>) -> bool {
        match (self, read) {
            (Written::Whole, _) => true,
            (Written::Keys(keys), Read::Key(key)) => keys.binary_search_by(|k| k[..].cmp(key)).is_ok(),
            (Written::Keys(keys), Read::Range(lo, hi)) => any_in_range(keys, *lo, *hi),
            (Written::Keys(keys), Read::Whole) => !keys.is_empty(),
        }
    }
}

/// One read, as [`Ssi::read`] records it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Read<'a> {
    Key(&'a [u8]),
    Range(Bound<&'a [u8]>, Bound<&'a [u8]>),
    Whole,
}

/// A commit in the order the checks compare: `seq` orders every SERIALIZABLE commit,
/// `ts` is its commit timestamp (`None`: it wrote nothing and took none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Commit {
    seq: u64,
    ts: Option<CommitTs>,
}

/// The first-committed out-edge target: its commit order and timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OutEdge {
    seq: u64,
    ts: CommitTs,
}

/// One SERIALIZABLE transaction's record.
#[derive(Debug)]
struct Sxact {
    /// The commit sequence when it began: it is concurrent with every transaction that
    /// commits after this.
    begin_seq: u64,
    snapshot: CommitTs,
    /// Declared READ ONLY.
    read_only: bool,
    commit: Option<Commit>,
    earliest_out: Option<OutEdge>,
    reads: HashMap<TreeId, TreeReads>,
    writes: Vec<(TreeId, Written)>,
    /// Set once its locks were escalated for the memory budget: new reads lock whole
    /// trees.
    coarse: bool,
}

impl Sxact {
    /// Read-only for the refinement: declared so, or committed without writing.
    fn is_read_only(&self) -> bool {
        self.read_only || self.commit.is_some_and(|c| c.ts.is_none())
    }

    fn bytes(&self) -> usize {
        self.reads.values().map(|r| r.bytes).sum::<usize>()
            + self.writes.iter().map(|(_, w)| w.bytes()).sum::<usize>()
    }
}

#[derive(Debug, Default)]
struct State {
    /// Commits of SERIALIZABLE transactions so far.
    seq: u64,
    txns: HashMap<TxnId, Sxact>,
    /// Bytes of keys held by all records (approximate: keys plus fixed overheads).
    bytes: usize,
    limits: SsiLimits,
}

/// The serializable-snapshot-isolation state of one [`super::Mvcc`].
#[derive(Debug, Default)]
pub(crate) struct Ssi {
    state: Mutex<State>,
    /// Signalled whenever a tracked transaction ends (DEFERRABLE waits on it).
    ended: Condvar,
}

/// Why a SERIALIZABLE transaction must fail, and the commit whose visibility settles
/// the conflict: the committed transaction of the dangerous structure that its snapshot
/// missed. Until that commit is visible, a retry would take the same snapshot and fail
/// the same way (a busy loop of failures while the committing thread is off the CPU), so
/// the failing transaction waits for it, after releasing its locks, before it reports
/// the failure.
#[derive(Debug)]
pub(crate) struct Failure {
    pub reason: String,
    pub settle: CommitTs,
}

/// How a SERIALIZABLE transaction started.
pub(crate) struct Begun {
    pub snapshot: Snapshot,
    /// Whether it is tracked; `false`: a read-only transaction on a safe snapshot.
    pub tracked: bool,
}

impl Ssi {
    /// Sets the memory limits (tests use small ones to exercise escalation).
    pub(crate) fn set_limits(&self, limits: SsiLimits) {
        self.state.lock().limits = limits;
    }

    /// How many records are held (tests check they are released).
    pub(crate) fn records(&self) -> usize {
        self.state.lock().txns.len()
    }

    /// Takes a SERIALIZABLE transaction's snapshot and starts tracking it (a read-only
    /// transaction on a safe snapshot is not tracked). `deferrable` (with `read_only`):
    /// waits until a snapshot is safe; `give_up` says when the layer has failed and a
    /// commit it waits for can never complete.
    pub(crate) fn begin(
        &self,
        clock: &std::sync::Arc<Clock>,
        id: TxnId,
        read_only: bool,
        deferrable: bool,
        give_up: &dyn Fn() -> bool,
    ) -> Begun {
        let mut deferrable = deferrable;
        let mut state = self.state.lock();
        loop {
            // Under the mutex, so no record this snapshot still needs is dropped before
            // it is registered (see `cleanup`).
            let snapshot = clock.snapshot();
            let ts = snapshot.ts();
            let begin_seq = state.seq;
            let record = Sxact {
                begin_seq,
                snapshot: ts,
                read_only,
                commit: None,
                earliest_out: None,
                reads: HashMap::new(),
                writes: Vec::new(),
                coarse: false,
            };
            if !read_only {
                state.txns.insert(id, record);
                return Begun {
                    snapshot,
                    tracked: true,
                };
            }
            // The newest commit that makes this snapshot unsafe: a writer that committed
            // after it with an out-edge to a commit it sees.
            let unsafe_until = state
                .txns
                .values()
                .filter_map(|t| match t.commit {
                    Some(Commit { ts: Some(c), .. })
                        if c > ts && t.earliest_out.is_some_and(|e| e.ts <= ts) =>
                    {
                        Some(c)
                    }
                    _ => None,
                })
                .max();
            let unsafe_now = unsafe_until.is_some();
            let pending: Vec<TxnId> = state
                .txns
                .iter()
                .filter(|(_, t)| t.commit.is_none() && !t.read_only)
                .map(|(id, _)| *id)
                .collect();
            if !unsafe_now && pending.is_empty() {
                return Begun {
                    snapshot,
                    tracked: false,
                };
            }
            if !deferrable {
                state.txns.insert(id, record);
                return Begun {
                    snapshot,
                    tracked: true,
                };
            }
            if let Some(commit) = unsafe_until {
                // This snapshot cannot become safe. A snapshot is taken at the visible
                // timestamp, so the commits that make it unsafe are not visible yet: they
                // have been judged here and are being applied. Once they are visible, a
                // new snapshot sees them and they are no longer concurrent with it.
                // (Waiting for another commit or abort instead would hang when none
                // comes.) If the layer fails first, the commit never becomes visible:
                // the transaction is then tracked, as a non-deferrable one, and its next
                // operation reports the failure.
                drop(snapshot);
                let visible = MutexGuard::unlocked(&mut state, || {
                    clock.wait_visible(commit, give_up)
                });
                if !visible {
                    deferrable = false;
                }
                continue;
            }
            // Registered (untracked reads) so that the pending transactions' records
            // outlive their end until they have been judged.
            state.txns.insert(id, record);
            while pending.iter().any(|p| {
                state
                    .txns
                    .get(p)
                    .is_some_and(|t| t.commit.is_none())
            }) {
                self.ended.wait(&mut state);
            }
            let safe = pending.iter().all(|p| match state.txns.get(p) {
                // Ended: aborted (gone) or committed; judged by its out-edge.
                None => true,
                Some(t) => t.earliest_out.is_none_or(|e| e.ts > ts),
            });
            state.txns.remove(&id);
            if safe {
                Self::cleanup(&mut state, clock.visible());
                return Begun {
                    snapshot,
                    tracked: false,
                };
            }
            Self::cleanup(&mut state, clock.visible());
        }
    }

    /// Records `id`'s read and checks it against the committed writers its snapshot does
    /// not see. Errs (the transaction must abort) if the read completes a dangerous
    /// structure whose pivot has committed.
    pub(crate) fn read(&self, id: TxnId, tree: TreeId, read: Read<'_>) -> Result<(), Failure> {
        let mut state = self.state.lock();
        let state = &mut *state;
        let Some(me) = state.txns.get(&id) else {
            return Ok(());
        };
        let (snapshot, read_only) = (me.snapshot, me.read_only);
        let mut out: Option<OutEdge> = None;
        for (other, t) in &state.txns {
            let Some(Commit { seq, ts: Some(ts) }) = t.commit else {
                continue;
            };
            if *other == id || ts <= snapshot {
                continue;
            }
            let hit = t
                .writes
                .iter()
                .any(|(w_tree, written)| *w_tree == tree && written.overlaps(&read));
            if !hit {
                continue;
            }
            // The edge me -rw-> W, W committed. W a pivot whose T3 committed first?
            if let Some(t3) = t.earliest_out
                && (!read_only || t3.ts <= snapshot)
            {
                let other = *other;
                Self::remove(state, id);
                self.ended.notify_all();
                return Err(Failure {
                    reason: format!(
                        "could not serialize access due to read/write dependencies among transactions (a read by transaction {} misses the writes of transaction {}, committed at {}, which itself missed a commit at {})",
                        id.0, other.0, ts.0, t3.ts.0
                    ),
                    settle: ts,
                });
            }
            if out.is_none_or(|o| seq < o.seq) {
                out = Some(OutEdge { seq, ts });
            }
        }
        let limits = state.limits;
        let over_budget = state.bytes > limits.total_bytes;
        let me = state.txns.get_mut(&id).expect("checked above");
        if let Some(o) = out
            && me.earliest_out.is_none_or(|e| o.seq < e.seq)
        {
            me.earliest_out = Some(o);
        }
        let before = me.bytes();
        if over_budget && !me.coarse {
            me.coarse = true;
            me.reads.values_mut().for_each(|r| *r = TreeReads::whole());
        }
        let read = if me.coarse { Read::Whole } else { read };
        me.reads.entry(tree).or_default().add(read, limits.per_tree);
        let after = me.bytes();
        state.bytes = (state.bytes + after).saturating_sub(before);
        Ok(())
    }

    /// The commit check of `id`, which wrote `writes` (per tree, keys sorted): finds the
    /// edges from concurrent readers to it, and fails (nothing allocated) if it is the
    /// pivot of a dangerous structure. Otherwise allocates its commit timestamp with
    /// `allocate` and records its writes, in the same critical section.
    pub(crate) fn precommit<'a>(
        &self,
        id: TxnId,
        writes: impl Iterator<Item = (TreeId, &'a [u8])>,
        allocate: impl FnOnce() -> CommitTs,
    ) -> Result<CommitTs, Failure> {
        // Copied before the mutex is taken; a tree's keys past the per-tree limit are
        // not copied at all (a bulk load records its tree as a whole).
        let per_tree = self.state.lock().limits.per_tree;
        let mut written: Vec<(TreeId, Written)> = Vec::new();
        for (tree, key) in writes {
            match written.last_mut() {
                Some((t, Written::Whole)) if *t == tree => {}
                Some((t, Written::Keys(keys))) if *t == tree => match keys.len() < per_tree {
                    true => keys.push(key.to_vec()),
                    false => written.last_mut().expect("matched").1 = Written::Whole,
                },
                _ => written.push((tree, Written::Keys(vec![key.to_vec()]))),
            }
        }
        let mut state = self.state.lock();
        let state = &mut *state;
        let Some(me) = state.txns.get(&id) else {
            return Ok(allocate());
        };
        let (begin_seq, snapshot, t3) = (me.begin_seq, me.snapshot, me.earliest_out);
        let mut readers = Vec::new();
        for (other, r) in &state.txns {
            if *other == id {
                continue;
            }
            // A committed reader is concurrent if it committed after this transaction
            // began, or its commit is not in this transaction's snapshot (allocated,
            // not yet visible, when the snapshot was taken).
            let concurrent = match r.commit {
                None => true,
                Some(c) => c.seq > begin_seq || c.ts.is_some_and(|ts| ts > snapshot),
            };
            if !concurrent {
                continue;
            }
            let hit = written.iter().any(|(tree, w)| {
                r.reads.get(tree).is_some_and(|reads| reads.overlaps(w))
            });
            if !hit {
                continue;
            }
            // The edge R -rw-> me. Am I a pivot whose T3 committed before R?
            if let Some(t3) = t3 {
                let first = r.commit.is_none_or(|c| c.seq >= t3.seq);
                let read_only_safe = r.is_read_only() && t3.ts > r.snapshot;
                if first && !read_only_safe {
                    let other = *other;
                    Self::remove(state, id);
                    self.ended.notify_all();
                    let reason = format!(
                        "could not serialize access due to read/write dependencies among transactions (transaction {} read what transaction {} wrote, and transaction {}, whose snapshot is at {}, missed a commit at {}; canceled on commit attempt as the pivot)",
                        other.0, id.0, id.0, snapshot.0, t3.ts.0
                    );
                    return Err(Failure {
                        reason,
                        settle: t3.ts,
                    });
                }
            }
            if r.commit.is_none() {
                readers.push(*other);
            }
        }
        let ts = allocate();
        state.seq += 1;
        let seq = state.seq;
        for reader in readers {
            let r = state.txns.get_mut(&reader).expect("listed above");
            if r.earliest_out.is_none_or(|e| seq < e.seq) {
                r.earliest_out = Some(OutEdge { seq, ts });
            }
        }
        let over_budget = state.bytes > state.limits.total_bytes;
        if over_budget {
            written.iter_mut().for_each(|(_, w)| *w = Written::Whole);
        }
        let added: usize = written.iter().map(|(_, w)| w.bytes()).sum();
        state.bytes += added;
        let me = state.txns.get_mut(&id).expect("checked above");
        me.commit = Some(Commit { seq, ts: Some(ts) });
        me.writes = written;
        // Its reads no longer matter to writers that began after now; they still do to
        // those concurrent with it, so they stay.
        self.ended.notify_all();
        Ok(ts)
    }

    /// `id` committed without writing.
    pub(crate) fn commit_read_only(&self, id: TxnId, clock: &Clock) {
        let mut state = self.state.lock();
        state.seq += 1;
        let seq = state.seq;
        if let Some(me) = state.txns.get_mut(&id) {
            me.commit = Some(Commit { seq, ts: None });
        }
        Self::cleanup(&mut state, clock.visible());
        self.ended.notify_all();
    }

    /// `id` ended without committing (or its commit failed after the check): its record
    /// goes at once.
    pub(crate) fn abort(&self, id: TxnId, clock: &Clock) {
        let mut state = self.state.lock();
        Self::remove(&mut state, id);
        Self::cleanup(&mut state, clock.visible());
        self.ended.notify_all();
    }

    /// Drops the records nobody can be concurrent with any more: after a commit is
    /// complete, or a check removed a transaction.
    pub(crate) fn tidy(&self, clock: &Clock) {
        let mut state = self.state.lock();
        Self::cleanup(&mut state, clock.visible());
    }

    fn remove(state: &mut State, id: TxnId) {
        if let Some(me) = state.txns.remove(&id) {
            state.bytes = state.bytes.saturating_sub(me.bytes());
        }
    }

    /// Drops every committed record that no active transaction, nor any that begins
    /// later, can be concurrent with: it committed before every active transaction
    /// began, and its commit is visible to every active snapshot and to new ones.
    fn cleanup(state: &mut State, visible: CommitTs) {
        let mut min_seq = u64::MAX;
        let mut min_snapshot = visible;
        for t in state.txns.values().filter(|t| t.commit.is_none()) {
            min_seq = min_seq.min(t.begin_seq);
            min_snapshot = min_snapshot.min(t.snapshot);
        }
        let mut freed = 0;
        state.txns.retain(|_, t| {
            let keep = match t.commit {
                None => true,
                Some(c) => c.seq > min_seq || c.ts.is_some_and(|ts| ts > min_snapshot),
            };
            if !keep {
                freed += t.bytes();
            }
            keep
        });
        state.bytes = state.bytes.saturating_sub(freed);
    }
}

fn bound_len(bound: &Bound<Vec<u8>>) -> usize {
    match bound {
        Bound::Included(k) | Bound::Excluded(k) => k.len(),
        Bound::Unbounded => 0,
    }
}

fn in_range(key: &[u8], lo: Bound<&Vec<u8>>, hi: Bound<&Vec<u8>>) -> bool {
    let above = match lo {
        Bound::Included(l) => key >= &l[..],
        Bound::Excluded(l) => key > &l[..],
        Bound::Unbounded => true,
    };
    let below = match hi {
        Bound::Included(h) => key <= &h[..],
        Bound::Excluded(h) => key < &h[..],
        Bound::Unbounded => true,
    };
    above && below
}

/// Whether any of the sorted `keys` lies within the bounds.
fn any_in_range<K: AsRef<[u8]> + ?Sized>(keys: &[Vec<u8>], lo: Bound<&K>, hi: Bound<&K>) -> bool {
    let start = match lo {
        Bound::Included(l) => keys.partition_point(|k| k[..] < *l.as_ref()),
        Bound::Excluded(l) => keys.partition_point(|k| k[..] <= *l.as_ref()),
        Bound::Unbounded => 0,
    };
    let Some(first) = keys.get(start) else {
        return false;
    };
    match hi {
        Bound::Included(h) => first[..] <= *h.as_ref(),
        Bound::Excluded(h) => first[..] < *h.as_ref(),
        Bound::Unbounded => true,
    }
}
