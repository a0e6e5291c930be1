//! Commit timestamps, the visibility watermark, and the registry of live snapshots.
//!
//! Three numbers and two sets, under one small mutex:
//!
//! - `last_allocated`: the newest commit timestamp handed out;
//! - `in_flight`: timestamps allocated but not yet complete (applied and durable);
//! - `visible`: one less than the oldest in-flight timestamp, or `last_allocated` when
//!   none is in flight. Every commit at or below it is complete, so a snapshot at
//!   `visible` sees whole transactions only. It never moves backwards.
//! - `readers`: how many live snapshots hold each timestamp; the oldest is the garbage
//!   collection *horizon* (no version a live snapshot can see may be pruned).
//!
//! The mutex is held for a handful of instructions per begin, commit and snapshot drop;
//! it is never held across I/O.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex};

/// A commit timestamp: the version number of everything one transaction wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CommitTs(pub u64);

#[derive(Debug)]
struct ClockState {
    last_allocated: u64,
    visible: u64,
    in_flight: BTreeSet<u64>,
    /// `(timestamp, live snapshots at it)`, sorted by timestamp. A vector rather than a
    /// map: there are few distinct timestamps at once, and a statement's snapshot coming
    /// and going (every statement, under READ COMMITTED) then allocates nothing.
    readers: Vec<(u64, usize)>,
}

/// How long a thread waiting for visibility sleeps before it re-checks whether it should
/// give up (the condition variable normally wakes it much sooner).
const VISIBILITY_RECHECK: std::time::Duration = std::time::Duration::from_millis(10);

/// Hands out commit timestamps and snapshots.
#[derive(Debug)]
pub struct Clock {
    state: Mutex<ClockState>,
    /// Signalled whenever `visible` advances.
    visible_advanced: Condvar,
    /// How many times [`Clock::complete`] has run: a writer that probed a key before
    /// taking its lock compares two readings to learn whether any commit completed (and
    /// so perhaps released that key's lock after writing it) in between.
    completions: AtomicU64,
}

impl Clock {
    /// A clock whose newest complete commit is `last_commit`.
    pub fn new(last_commit: CommitTs) -> Clock {
        Clock {
            state: Mutex::new(ClockState {
                last_allocated: last_commit.0,
                visible: last_commit.0,
                in_flight: BTreeSet::new(),
                readers: Vec::new(),
            }),
            visible_advanced: Condvar::new(),
            completions: AtomicU64::new(0),
        }
    }

    /// How many commits have completed (or given their timestamp back) so far.
    pub fn completions(&self) -> u64 {
        self.completions.load(Ordering::Acquire)
    }

    /// The newest timestamp a new snapshot would see.
    pub fn visible(&self) -> CommitTs {
        CommitTs(self.state.lock().visible)
    }

    /// The newest timestamp handed out.
    pub fn last_allocated(&self) -> CommitTs {
        CommitTs(self.state.lock().last_allocated)
    }

    /// Takes a snapshot at the visible timestamp; it stays registered (holding back
    /// garbage collection) until every clone of it is dropped.
    pub fn snapshot(self: &Arc<Self>) -> Snapshot {
        let mut state = self.state.lock();
        let ts = state.visible;
        match state.readers.binary_search_by_key(&ts, |(t, _)| *t) {
            Ok(i) => state.readers[i].1 += 1,
            Err(i) => state.readers.insert(i, (ts, 1)),
        }
        Snapshot(Arc::new(SnapshotGuard {
            ts: CommitTs(ts),
            clock: Arc::clone(self),
        }))
    }

    /// Allocates the next commit timestamp and marks it in flight.
    pub fn allocate(&self) -> CommitTs {
        let mut state = self.state.lock();
        state.last_allocated += 1;
        let ts = state.last_allocated;
        state.in_flight.insert(ts);
        CommitTs(ts)
    }

    /// Marks `ts` complete (applied and durable), advancing visibility past it once every
    /// older timestamp is complete too. Also used to give back a timestamp whose commit
    /// wrote nothing.
    pub fn complete(&self, ts: CommitTs) {
        let mut state = self.state.lock();
        self.completions.fetch_add(1, Ordering::AcqRel);
        state.in_flight.remove(&ts.0);
        let visible = match state.in_flight.first() {
            Some(oldest) => oldest - 1,
            None => state.last_allocated,
        };
        if visible != state.visible {
            state.visible = visible;
            self.visible_advanced.notify_all();
        }
    }

    /// Waits until `ts` is visible, that is, until every older commit has completed too.
    /// Returns `false` if `give_up` says to stop waiting first (an older commit can then
    /// never complete, because the layer was poisoned).
    pub fn wait_visible(&self, ts: CommitTs, give_up: impl Fn() -> bool) -> bool {
        let mut state = self.state.lock();
        while state.visible < ts.0 {
            if give_up() {
                return false;
            }
            self.visible_advanced
                .wait_for(&mut state, VISIBILITY_RECHECK);
        }
        true
    }

    /// The oldest timestamp any live or future snapshot can hold: versions that only
    /// snapshots older than this could see may be pruned.
    pub fn horizon(&self) -> CommitTs {
        let state = self.state.lock();
        let oldest_reader = state.readers.first().map(|(ts, _)| *ts);
        CommitTs(oldest_reader.map_or(state.visible, |r| r.min(state.visible)))
    }

    /// Records a commit replayed from the log during recovery.
    pub fn observe_replayed(&self, ts: CommitTs) {
        let mut state = self.state.lock();
        state.last_allocated = state.last_allocated.max(ts.0);
        if state.in_flight.is_empty() {
            state.visible = state.last_allocated;
        }
    }

    fn release(&self, ts: CommitTs) {
        let mut state = self.state.lock();
        if let Ok(i) = state.readers.binary_search_by_key(&ts.0, |(t, _)| *t) {
            state.readers[i].1 -= 1;
            if state.readers[i].1 == 0 {
                state.readers.remove(i);
            }
        }
    }
}

/// A registered snapshot: sees the versions committed at or before [`Snapshot::ts`].
#[derive(Debug, Clone)]
pub struct Snapshot(Arc<SnapshotGuard>);

impl Snapshot {
    /// The newest commit this snapshot sees.
    pub fn ts(&self) -> CommitTs {
        self.0.ts
    }
}

#[derive(Debug)]
struct SnapshotGuard {
    ts: CommitTs,
    clock: Arc<Clock>,
}

impl Drop for SnapshotGuard {
    fn drop(&mut self) {
        self.clock.release(self.ts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_waits_for_the_oldest_in_flight_commit() {
        let clock = Arc::new(Clock::new(CommitTs(10)));
        let (a, b) = (clock.allocate(), clock.allocate());
        assert_eq!((a, b), (CommitTs(11), CommitTs(12)));
        clock.complete(b);
        assert_eq!(clock.visible(), CommitTs(10), "11 is still in flight");
        clock.complete(a);
        assert_eq!(clock.visible(), CommitTs(12));
    }

    #[test]
    fn waiting_for_visibility_ends_when_older_commits_complete() {
        let clock = Arc::new(Clock::new(CommitTs(0)));
        let (older, newer) = (clock.allocate(), clock.allocate());
        clock.complete(newer);
        let waiter = {
            let clock = Arc::clone(&clock);
            std::thread::spawn(move || clock.wait_visible(newer, || false))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        clock.complete(older);
        assert!(waiter.join().unwrap());
        assert!(
            !clock.wait_visible(CommitTs(3), || true),
            "gives up when told to"
        );
    }

    #[test]
    fn the_horizon_is_held_back_by_the_oldest_snapshot() {
        let clock = Arc::new(Clock::new(CommitTs(5)));
        let old = clock.snapshot();
        let ts = clock.allocate();
        clock.complete(ts);
        assert_eq!(clock.horizon(), CommitTs(5));
        let copy = old.clone();
        drop(old);
        assert_eq!(clock.horizon(), CommitTs(5), "a clone still holds it");
        drop(copy);
        assert_eq!(clock.horizon(), CommitTs(6));
    }
}
