//! # A concurrent B+tree over pager pages
//!
//! A [`BTree`] maps variable-length byte keys to variable-length byte values, ordered by
//! the bytes of the key (the `keycode` module makes typed tuples compare correctly as
//! bytes). Many trees live in one file, each known by its root page; the root page of a
//! tree never changes, so a root id can be recorded once (in the meta's named-root table,
//! or later in the catalog) and stays valid for the life of the tree.
//!
//! ## Shape
//!
//! ```text
//!                      root (fixed page id)      level 2
//!                     [ g | p ]
//!            ┌─────────┘  │   └────────┐
//!          [ c ]        [ k ]        [ t | w ]    level 1 (internal)
//!         ┌─┘ └─┐      ┌─┘ └─┐      ┌─┘  │  └─┐
//!       [a b]→[c e]→[g h]→[k m]→[p r]→[t u]→[w z] level 0 (leaves, right links)
//! ```
//!
//! Leaves hold the entries; internal nodes hold separators, and child `i` of an internal
//! node holds keys in `[sep[i-1], sep[i])`. Leaves carry a link to their right sibling
//! (integrity checks verify the chain; cursors re-descend rather than follow it, see
//! below). Node pages are slotted pages (`node.rs`); values over about a quarter page go to
//! overflow chains (`overflow.rs`); every size rule is a named function in `policy.rs`.
//! Keys longer than [`policy::max_key_len`] (1001 bytes with 4 KiB pages) are rejected
//! with `Error::InvalidArgument`.
//!
//! Splitting the root moves its contents into two new children and turns the root into
//! an internal node one level up; when deletes leave the root with a single child, the
//! child's contents move up into the root and the child is freed. That is how the root id
//! stays fixed.
//!
//! ## Concurrency: latch coupling with an optimistic first pass
//!
//! Each page has a reader-writer latch (the pager's frame latch: holding a `PageRef` or
//! `PageMut` *is* holding the latch). We chose latch coupling ("crabbing") over B-link
//! trees and optimistic lock coupling because it keeps every node in one consistent
//! state between latches: there are no half-split nodes for readers to reason about (as
//! in B-link), and no version validation or restarts of readers (as in OLC), which would
//! need care with overflow chains and with pages returned to the free list. Its cost —
//! writers latching the root exclusively — is avoided by the optimistic first pass below.
//!
//! - **Readers** (`get`, cursors) descend with shared latches, acquiring a child before
//!   releasing its parent, and copy what they need out of the leaf (values from overflow
//!   chains included) before releasing it.
//! - **Writers, first pass (optimistic).** Descend with shared latches like a reader, but
//!   take the *leaf* exclusively (while still holding its parent shared). If the change
//!   fits in the leaf without a split, or leaves it above the merge threshold, do it and
//!   finish: the common case touches one page exclusively, so writers on different leaves
//!   run in parallel.
//! - **Writers, second pass (pessimistic).** Otherwise release everything and descend
//!   from the root with exclusive latches. After latching a child, if the child is *safe*
//!   — an insert cannot split it (it has room for the largest separator a split below can
//!   push up), a delete cannot empty it below the threshold nor grow it past its free space
//!   — release all latched ancestors. The structure change then happens under exactly the
//!   latches it needs: the nodes that split or merge, and the parent that absorbs the
//!   change.
//! - **Cursors hold no latch between calls.** A cursor remembers the last key it returned
//!   and re-descends for the next batch (one leaf's worth of entries at a time), so a
//!   paused cursor never blocks a writer and never points at a freed page. The price is a
//!   descent per leaf rather than a sibling hop, and the cursor sees each leaf as of the
//!   moment it copied it (the MVCC layer provides snapshots; the tree does not).
//!   Sequential scans read the same way a leaf at a time into a reused
//!   [`EntryChunk`] that lends its entries (`chunk.rs`), so they allocate nothing per
//!   entry.
//! - **No tree-wide lock.** Modifying operations hold the pager's write gate in *shared*
//!   mode only, so that a flush (which takes it exclusively) sees whole operations.
//!
//! **Deadlock freedom.** Order latches by (level from the top, then key position left to
//! right). A thread waits for a latch only (a) on a child of a node it holds, which is
//! later in the order; (b) on a sibling of a node it holds, when merging or
//! redistributing, and then it holds the siblings' common parent *exclusively*; or (c) on
//! an overflow page of a leaf it holds (below every node). Only (b) can go right-to-left,
//! when the right node of a pair is the one being rebalanced. Suppose thread T holds
//! parent P exclusively and node C, and waits for C's left sibling L held by U. U cannot
//! hold P (T does), so U reached L through P before T latched P, and released P: U is a
//! reader, an optimistic writer, or a pessimistic writer that found L safe. None of them
//! ever waits for anything but L's descendants (rule (a) and (c)), which T does not hold
//! (T holds P, C, ancestors of P and nodes in C's subtree, all disjoint from L's
//! subtree). So U finishes and releases L, and no cycle can form. Nobody ever moves
//! sideways without the parent: cursors re-descend and leaf links are never followed
//! under a latch. A thread takes the write gate (shared) before any latch, and flush
//! takes the gate (exclusive) before any latch, so the gate adds no cycle either.
//!
//! **Page reuse.** A page is freed only by a writer that holds exclusively the parent
//! that referenced it and the page itself; every other thread reaches a page only through
//! its parent's latch (coupling) or not at all (cursors keep keys, not page ids). So no
//! thread can hold or wait for a freed page, and the pager may hand it out again at once.
//!
//! ## Batches and bottom-up builds
//!
//! [`BTree::apply_sorted`] applies a sorted batch of changes (a commit's writes to this
//! tree) with one leaf latch per run of changes that fall into one leaf, or, into an
//! empty tree, builds the tree bottom-up from the sorted input with nodes filled to
//! [`policy::bulk_fill_target`] and installs it under the root's latch. Both keep the
//! latch protocol above: see `batch.rs` and `build.rs`.
//!
//! ## Non-goals (for now)
//!
//! No prefix compression, no page-level undo: an error in the middle of
//! a structure change (I/O, or a corrupted page found on the way) leaves the in-memory
//! tree unflushed and possibly inconsistent, and the caller should drop the pager without
//! flushing. The WAL issue makes that recoverable.

mod batch;
mod build;
mod chunk;
mod cursor;
mod integrity;
mod latch;
pub mod node;
mod overflow;
pub mod policy;
mod rebalance;
mod split;
mod write;

use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

pub use batch::{BatchOp, SliceBatch, SortedBatch};
pub use chunk::{EntryChunk, continue_after};
pub use cursor::{Cursor, Direction, Entry};
pub use integrity::{FileReport, TreeReport, check_file_integrity};

use crate::pager::{PageId, PageMut, Pager};
use crate::{Error, Result};
use node::{NodeMut, NodeRef, ValueRef};

/// One B+tree in a pager's file. Cheap to clone; all clones share the tree.
#[derive(Debug, Clone)]
pub struct BTree {
    pager: Arc<Pager>,
    root: PageId,
}

impl BTree {
    /// Creates an empty tree and registers it under `name` in the meta's root table.
    pub fn create(pager: &Arc<Pager>, name: &str) -> Result<BTree> {
        if pager.root(name).is_some() {
            return Err(Error::InvalidArgument(format!(
                "a tree named {name:?} exists"
            )));
        }
        let tree = BTree::create_unnamed(pager)?;
        pager.set_root(name, tree.root)?;
        Ok(tree)
    }

    /// Opens the tree registered under `name`.
    pub fn open(pager: &Arc<Pager>, name: &str) -> Result<BTree> {
        match pager.root(name) {
            Some(root) => Ok(BTree {
                pager: pager.clone(),
                root,
            }),
            None => Err(Error::InvalidArgument(format!("no tree named {name:?}"))),
        }
    }

    /// Opens the tree `name`, creating it if it does not exist.
    pub fn open_or_create(pager: &Arc<Pager>, name: &str) -> Result<BTree> {
        match pager.root(name) {
            Some(root) => Ok(BTree {
                pager: pager.clone(),
                root,
            }),
            None => BTree::create(pager, name),
        }
    }

    /// Creates an empty tree known only by its root page (the catalog records it).
    pub fn create_unnamed(pager: &Arc<Pager>) -> Result<BTree> {
        let _gate = pager.begin_write();
        let mut page = pager.allocate()?;
        NodeMut::init(page.body_mut(), 0, PageId::NONE);
        Ok(BTree {
            pager: pager.clone(),
            root: page.id(),
        })
    }

    /// Opens a tree by its root page.
    pub fn open_root(pager: &Arc<Pager>, root: PageId) -> BTree {
        BTree {
            pager: pager.clone(),
            root,
        }
    }

    /// The tree's root page, fixed for its life.
    pub fn root(&self) -> PageId {
        self.root
    }

    /// The pager the tree lives in.
    pub fn pager(&self) -> &Arc<Pager> {
        &self.pager
    }

    /// The longest key this tree accepts.
    pub fn max_key_len(&self) -> usize {
        policy::max_key_len(self.pager.body_size())
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if key.len() > self.max_key_len() {
            return Ok(None);
        }
        let leaf = self.descend_shared(&latch::Seek::Ge(key), false)?.leaf;
        let node = NodeRef::of(&leaf)?;
        match node.search(key) {
            Ok(i) => Ok(Some(self.load_value(node.value(i))?)),
            Err(_) => Ok(None),
        }
    }

    /// The first entry whose key is at least `from` and, when `below` is given, less
    /// than it: a point probe that descends once and copies only that entry. The MVCC
    /// layer reads a row's visible version this way (seek to the version, take one).
    /// Only when the leaf that would hold `from` has nothing at or after it does the probe
    /// fall back to a cursor, which moves on to the next leaf.
    pub fn first_from(&self, from: &[u8], below: Option<&[u8]>) -> Result<Option<Entry>> {
        {
            let leaf = self.descend_shared(&latch::Seek::Ge(from), false)?.leaf;
            let node = NodeRef::of(&leaf)?;
            let i = node.lower_bound(from);
            if i < node.len() {
                let key = node.key(i);
                if below.is_some_and(|below| key >= below) {
                    return Ok(None);
                }
                return Ok(Some((key.to_vec(), self.load_value(node.value(i))?)));
            }
        }
        let upper = below.map_or(Bound::Unbounded, Bound::Excluded);
        self.range((Bound::Included(from), upper), Direction::Forward)
            .next()
    }

    /// Stores `value` under `key`, replacing any previous value. Returns whether a value
    /// was replaced.
    pub fn insert(&self, key: &[u8], value: &[u8]) -> Result<bool> {
        self.insert_impl(key, value)
    }

    /// Removes `key`. Returns whether it was present.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        self.delete_impl(key)
    }

    /// A cursor over the keys in `range`, iterating in `direction`. See [`Cursor`].
    pub fn range<'k, R: RangeBounds<&'k [u8]>>(
        &self,
        range: R,
        direction: Direction,
    ) -> Cursor<'_> {
        let own = |b: Bound<&&[u8]>| match b {
            Bound::Included(k) => Bound::Included(k.to_vec()),
            Bound::Excluded(k) => Bound::Excluded(k.to_vec()),
            Bound::Unbounded => Bound::Unbounded,
        };
        Cursor::new(
            self,
            own(range.start_bound()),
            own(range.end_bound()),
            direction,
        )
    }

    /// A forward cursor over the whole tree.
    pub fn iter(&self) -> Cursor<'_> {
        self.range(.., Direction::Forward)
    }

    /// Frees every page of the tree (nodes and overflow chains) and unregisters any name
    /// it has in the meta. The caller guarantees that no other thread uses the tree and
    /// that nothing else still refers to its root.
    pub fn destroy(self) -> Result<()> {
        let _gate = self.pager.begin_write();
        self.free_pages()
    }

    /// [`BTree::destroy`], and the removal of `keys` from `directory` (another tree,
    /// which names this one), in one write scope: a flush sees the tree and the keys
    /// that name it, or neither.
    pub fn destroy_unlinking(self, directory: &BTree, keys: &[&[u8]]) -> Result<()> {
        let _gate = self.pager.begin_write();
        for key in keys {
            directory.delete_locked(key)?;
        }
        self.free_pages()
    }

    fn free_pages(&self) -> Result<()> {
        self.free_subtree(self.root)?;
        for (name, root) in self.pager.roots() {
            if root == self.root {
                self.pager.remove_root(&name);
            }
        }
        Ok(())
    }

    fn free_subtree(&self, id: PageId) -> Result<()> {
        let page = self.pager.write(id)?;
        let (children, chains) = {
            let node = NodeRef::of(&page)?;
            if node.is_leaf() {
                let chains: Vec<(PageId, usize)> = (0..node.len())
                    .filter_map(|i| match node.value(i) {
                        ValueRef::Overflow { first, len } => Some((first, len)),
                        ValueRef::Inline(_) => None,
                    })
                    .collect();
                (Vec::new(), chains)
            } else {
                (
                    (0..=node.len()).map(|i| node.child(i)).collect(),
                    Vec::new(),
                )
            }
        };
        for child in children {
            self.free_subtree(child)?;
        }
        for (first, len) in chains {
            overflow::free(&self.pager, first, len)?;
        }
        self.pager.free(page);
        Ok(())
    }

    /// Verifies this tree's structure; see `integrity.rs`. Run it with no concurrent
    /// writers.
    pub fn check_integrity(&self) -> Result<TreeReport> {
        integrity::check_tree(self)
    }

    /// Copies a value out of a leaf (the caller holds the leaf's latch).
    fn load_value(&self, value: ValueRef<'_>) -> Result<Vec<u8>> {
        match value {
            ValueRef::Inline(v) => Ok(v.to_vec()),
            ValueRef::Overflow { first, len } => overflow::read(&self.pager, first, len),
        }
    }
}
