//! # Descents: the latch protocol in code
//!
//! The three ways down the tree described in the module header (`mod.rs`, "Concurrency"):
//! shared coupling for readers, shared coupling with an exclusive leaf for optimistic
//! writers, and exclusive coupling with early release of safe ancestors for pessimistic
//! writers. Each descent checks that every child is exactly one level below its parent,
//! so a corrupted child pointer cannot send a descent in circles.

use super::BTree;
use super::node::NodeRef;
use crate::pager::{PageMut, PageRef};
use crate::{Error, Result};

/// Which leaf a shared descent looks for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Seek<'k> {
    /// The leftmost leaf.
    First,
    /// The rightmost leaf.
    Last,
    /// The leaf that would hold `k` (also used for "> k" and "<= k").
    Ge(&'k [u8]),
    /// The leaf that holds the largest keys below `k`.
    Lt(&'k [u8]),
}

impl Seek<'_> {
    /// The child of `node` (internal) to follow.
    fn child_index(&self, node: &NodeRef<'_>) -> usize {
        match self {
            Seek::First => 0,
            Seek::Last => node.len(),
            Seek::Ge(k) => node.upper_bound(k),
            Seek::Lt(k) => node.lower_bound(k),
        }
    }
}

/// The end of a shared descent: the leaf, latched shared, and (when asked for) the
/// separators that bound it: every key in the leaf is in `[lower, upper)`.
pub(super) struct Descent {
    pub leaf: PageRef,
    pub lower: Option<Vec<u8>>,
    pub upper: Option<Vec<u8>>,
}

/// A leaf latched exclusively by a writer, with the separators that bound its keys.
pub(super) struct HeldLeaf {
    pub page: PageMut,
    pub lower: Option<Vec<u8>>,
    pub upper: Option<Vec<u8>>,
}

impl HeldLeaf {
    /// Whether `key` belongs in this leaf.
    pub fn covers(&self, key: &[u8]) -> bool {
        self.lower.as_deref().is_none_or(|lo| key >= lo)
            && self.upper.as_deref().is_none_or(|hi| key < hi)
    }
}

/// Replaces a fence, reusing its buffer.
fn set_fence(slot: &mut Option<Vec<u8>>, key: &[u8]) {
    match slot {
        Some(v) => {
            v.clear();
            v.extend_from_slice(key);
        }
        None => *slot = Some(key.to_vec()),
    }
}

fn level_error(id: u64, want: u8, got: u8) -> Error {
    Error::Corrupted {
        page: id,
        reason: format!("node at level {got}, expected level {want}"),
    }
}

impl BTree {
    /// Shared-latch coupling from the root to a leaf.
    pub(super) fn descend_shared(&self, seek: &Seek<'_>, fences: bool) -> Result<Descent> {
        let mut cur = self.pager.read(self.root)?;
        let (mut lower, mut upper) = (None, None);
        loop {
            let (child, level) = {
                let node = NodeRef::of(&cur)?;
                if node.is_leaf() {
                    return Ok(Descent {
                        leaf: cur,
                        lower,
                        upper,
                    });
                }
                let i = seek.child_index(&node);
                if fences {
                    if i > 0 {
                        set_fence(&mut lower, node.key(i - 1));
                    }
                    if i < node.len() {
                        set_fence(&mut upper, node.key(i));
                    }
                }
                (node.child(i), node.level())
            };
            let next = self.pager.read(child)?;
            let got = NodeRef::of(&next)?.level();
            if u16::from(got) + 1 != u16::from(level) {
                return Err(level_error(next.id().0, level - 1, got));
            }
            cur = next;
        }
    }

    /// The optimistic writer's descent: shared coupling down to the parent of the leaf
    /// that holds `key`, then the leaf exclusively. `None` if the tree changed shape
    /// under us in a way that needs the pessimistic pass (the root leaf split).
    pub(super) fn descend_optimistic(&self, key: &[u8]) -> Result<Option<PageMut>> {
        let mut cur = self.pager.read(self.root)?;
        if NodeRef::of(&cur)?.is_leaf() {
            drop(cur);
            let root = self.pager.write(self.root)?;
            let leaf = NodeRef::of(&root)?.is_leaf();
            return Ok(leaf.then_some(root));
        }
        loop {
            let (child, level) = {
                let node = NodeRef::of(&cur)?;
                (node.child(node.upper_bound(key)), node.level())
            };
            if level == 1 {
                let leaf = self.pager.write(child)?;
                let got = NodeRef::of(&leaf)?.level();
                if got != 0 {
                    return Err(level_error(leaf.id().0, 0, got));
                }
                return Ok(Some(leaf));
            }
            let next = self.pager.read(child)?;
            let got = NodeRef::of(&next)?.level();
            if u16::from(got) + 1 != u16::from(level) {
                return Err(level_error(next.id().0, level - 1, got));
            }
            cur = next;
        }
    }

    /// [`BTree::descend_optimistic`] that also returns the separators bounding the leaf:
    /// every key the leaf may hold is in `[lower, upper)`. While the caller holds the leaf
    /// exclusively those bounds cannot change: a split, merge or redistribution that would
    /// move them needs this leaf's latch too. A batch writer uses them to decide whether
    /// its next key belongs to the leaf it holds.
    pub(super) fn descend_optimistic_fenced(&self, key: &[u8]) -> Result<Option<HeldLeaf>> {
        let mut cur = self.pager.read(self.root)?;
        if NodeRef::of(&cur)?.is_leaf() {
            drop(cur);
            let root = self.pager.write(self.root)?;
            let leaf = NodeRef::of(&root)?.is_leaf();
            return Ok(leaf.then_some(HeldLeaf {
                page: root,
                lower: None,
                upper: None,
            }));
        }
        let (mut lower, mut upper) = (None, None);
        loop {
            let (child, level) = {
                let node = NodeRef::of(&cur)?;
                let i = node.upper_bound(key);
                if i > 0 {
                    set_fence(&mut lower, node.key(i - 1));
                }
                if i < node.len() {
                    set_fence(&mut upper, node.key(i));
                }
                (node.child(i), node.level())
            };
            if level == 1 {
                let leaf = self.pager.write(child)?;
                let got = NodeRef::of(&leaf)?.level();
                if got != 0 {
                    return Err(level_error(leaf.id().0, 0, got));
                }
                return Ok(Some(HeldLeaf {
                    page: leaf,
                    lower,
                    upper,
                }));
            }
            let next = self.pager.read(child)?;
            let got = NodeRef::of(&next)?.level();
            if u16::from(got) + 1 != u16::from(level) {
                return Err(level_error(next.id().0, level - 1, got));
            }
            cur = next;
        }
    }

    /// The pessimistic writer's descent: exclusive coupling from the root to the leaf for
    /// `key`. After latching each child, if `safe(child)` holds, every ancestor still held
    /// is released. Returns the ancestors still held — each with the index of the child
    /// taken from it — and the leaf.
    pub(super) fn descend_exclusive(
        &self,
        key: &[u8],
        safe: impl Fn(&NodeRef<'_>) -> bool,
    ) -> Result<(Vec<(PageMut, usize)>, PageMut)> {
        let mut path: Vec<(PageMut, usize)> = Vec::new();
        let mut cur = self.pager.write(self.root)?;
        loop {
            let (i, child, level) = {
                let node = NodeRef::of(&cur)?;
                if node.is_leaf() {
                    return Ok((path, cur));
                }
                let i = node.upper_bound(key);
                (i, node.child(i), node.level())
            };
            let next = self.pager.write(child)?;
            let is_safe = {
                let node = NodeRef::of(&next)?;
                if u16::from(node.level()) + 1 != u16::from(level) {
                    return Err(level_error(next.id().0, level - 1, node.level()));
                }
                safe(&node)
            };
            path.push((cur, i));
            cur = next;
            if is_safe {
                path.clear();
            }
        }
    }
}
