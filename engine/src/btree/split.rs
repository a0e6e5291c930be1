//! # Split keys: cutting a key range into parts of about equal size
//!
//! A parallel scan gives each worker a part of the range at a time (a *morsel*, in the
//! terms of HyPer's morsel-driven execution). The tree already knows where to cut: the
//! separators of its upper levels divide the leaves into subtrees of about equal size,
//! since every node but the rightmost of a level is at least half full.
//! [`BTree::split_keys`] reads the root's separators within the range and, while they are
//! fewer than asked for, the separators of the next level down (one node at a time, each
//! under its shared latch alone, with no coupling), then keeps an evenly spaced subset.
//!
//! The keys are a *hint*: they are read without holding the tree still, so a concurrent
//! split or merge may move them, and a separator need not be a key the tree holds (they
//! are the shortest byte strings between two neighbours). Any strictly increasing keys
//! cut a range into parts whose union is the range, which is all a caller relies on; the
//! MVCC layer moves each cut to the start of a user key's versions before using it.

use std::ops::Bound;

use super::BTree;
use super::node::NodeRef;
use crate::Result;

/// Levels read below the root at most: two levels of separators already cut a tree of
/// 4 KiB pages into tens of thousands of subtrees.
const MAX_LEVELS: usize = 2;

impl BTree {
    /// At most `want` keys within the bounds, strictly increasing, that cut the range
    /// into parts of about equal size; fewer (none) for a small tree. See the module
    /// header.
    pub fn split_keys(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        want: usize,
    ) -> Result<Vec<Vec<u8>>> {
        let inside = |key: &[u8]| {
            let above = match lower {
                Bound::Included(lo) => key > lo,
                Bound::Excluded(lo) => key > lo,
                Bound::Unbounded => true,
            };
            let below = match upper {
                Bound::Included(hi) | Bound::Excluded(hi) => key < hi,
                Bound::Unbounded => true,
            };
            above && below
        };
        let mut nodes = vec![self.root];
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for _ in 0..=MAX_LEVELS {
            let mut next_nodes = Vec::new();
            let mut level_keys: Vec<Vec<u8>> = Vec::new();
            let mut internal = false;
            for id in nodes {
                let page = self.pager.read(id)?;
                let node = NodeRef::of(&page)?;
                if node.is_leaf() {
                    continue;
                }
                internal = true;
                for i in 0..=node.len() {
                    next_nodes.push(node.child(i));
                    if i < node.len() && inside(node.key(i)) {
                        level_keys.push(node.key(i).to_vec());
                    }
                }
            }
            // The leaves hold no separators: the level above's keys are the finest cut
            // (a tree whose separators are fewer than asked for gives them all).
            if !internal {
                break;
            }
            // Separators of one level, read left to right, already increase; a node
            // that changed between reads could break that, so sort and dedupe anyway.
            level_keys.sort_unstable();
            level_keys.dedup();
            keys = level_keys;
            if keys.len() >= want || next_nodes.is_empty() {
                break;
            }
            nodes = next_nodes;
        }
        Ok(evenly_spaced(keys, want))
    }
}

/// At most `want` of `keys`, evenly spaced among them.
fn evenly_spaced(keys: Vec<Vec<u8>>, want: usize) -> Vec<Vec<u8>> {
    if keys.len() <= want {
        return keys;
    }
    let step = keys.len() as f64 / (want + 1) as f64;
    let mut picked: Vec<Vec<u8>> = Vec::with_capacity(want);
    let mut keys: Vec<Option<Vec<u8>>> = keys.into_iter().map(Some).collect();
    for n in 1..=want {
        let at = ((n as f64 * step) as usize).min(keys.len() - 1);
        if let Some(key) = keys[at].take() {
            picked.push(key);
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evenly_spaced_keeps_order_and_count() {
        let keys: Vec<Vec<u8>> = (0u8..100).map(|b| vec![b]).collect();
        let picked = evenly_spaced(keys.clone(), 9);
        assert_eq!(picked.len(), 9);
        assert!(picked.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(evenly_spaced(keys[..5].to_vec(), 9).len(), 5);
        assert!(evenly_spaced(keys, 0).is_empty());
    }
}
