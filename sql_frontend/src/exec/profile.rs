//! EXPLAIN ANALYZE's counters per plan node, which the wrapper operators of
//! `instrument.rs` add to and `explain.rs` reads. Kept apart from the wrapper so that
//! the execution context can carry a profile without importing the operators.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::plan::Node;

/// What one plan node did, summed over its loops.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NodeCounts {
    pub loops: u64,
    pub rows: u64,
    /// Time until each loop's first row (or its end, if it had none).
    pub first: Duration,
    pub total: Duration,
}

/// The counters of a run, by plan node address. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Profile {
    counts: Arc<Mutex<HashMap<usize, NodeCounts>>>,
}

impl Profile {
    /// What `node` did (zero if it never ran).
    pub fn counts(&self, node: &Node) -> NodeCounts {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts
            .get(&(node as *const Node as usize))
            .copied()
            .unwrap_or_default()
    }

    pub(super) fn update(&self, node: usize, f: impl FnOnce(&mut NodeCounts)) {
        // A panic while holding the lock leaves plain counters: still usable.
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        f(counts.entry(node).or_default());
    }
}
