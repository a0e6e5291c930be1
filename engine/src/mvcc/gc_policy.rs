//! How much garbage collection a commit does, and how much garbage may wait.

/// Queued keys a commit prunes after it becomes visible: twice its own writes, plus one,
/// so the queue drains faster than commits fill it whenever the horizon lets it.
pub fn prune_budget(own_writes: usize) -> usize {
    own_writes.saturating_mul(2).saturating_add(1)
}

/// The most keys the garbage queue holds. A long-running snapshot holds the horizon back
/// and the queue grows behind it; past this size the oldest entries are forgotten (their
/// keys are still pruned when next written, or never, if never written again), so the
/// queue's memory stays bounded.
pub const MAX_QUEUED_KEYS: usize = 1 << 20;
