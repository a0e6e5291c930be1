//! # Insert and delete
//!
//! Both run in two passes (see "Concurrency" in `mod.rs`): an optimistic pass that
//! changes one leaf under its exclusive latch when no structure change is needed, and a
//! pessimistic pass that holds exclusive latches on exactly the unsafe part of the path and
//! splits or rebalances bottom-up along it.

use super::node::{NodeMut, NodeRef, SLOT_SIZE, ValueRef, internal_cell, leaf_cell};
use super::rebalance::{self, Rebalanced};
use super::{BTree, overflow, policy};
use crate::pager::{PageId, PageMut};
use crate::{Error, Result};

/// The overflow chain a leaf value owns, if any.
fn owned_chain(value: ValueRef<'_>) -> Option<(PageId, usize)> {
    match value {
        ValueRef::Overflow { first, len } => Some((first, len)),
        ValueRef::Inline(_) => None,
    }
}

fn lost_parent(page: PageId) -> Error {
    Error::Corrupted {
        page: page.0,
        reason: "structure change reached a node without its parent".into(),
    }
}

impl BTree {
    pub(super) fn insert_impl(&self, key: &[u8], value: &[u8]) -> Result<bool> {
        let body = self.pager.body_size();
        if key.len() > policy::max_key_len(body) {
            return Err(Error::InvalidArgument(format!(
                "key of {} bytes exceeds the maximum of {} for this page size",
                key.len(),
                policy::max_key_len(body)
            )));
        }
        let _gate = self.pager.begin_write();
        self.insert_locked(key, value)
    }

    /// [`BTree::insert`] for a caller that holds the write gate and checked the key length.
    pub(super) fn insert_locked(&self, key: &[u8], value: &[u8]) -> Result<bool> {
        let body = self.pager.body_size();
        if policy::value_is_inline(body, key.len(), value.len()) {
            return self.insert_cell(key, &leaf_cell(key, ValueRef::Inline(value)));
        }
        let first = overflow::write(&self.pager, value)?;
        let cell = leaf_cell(
            key,
            ValueRef::Overflow {
                first,
                len: value.len(),
            },
        );
        let result = self.insert_cell(key, &cell);
        if result.is_err() {
            // Best effort: the chain is not referenced by the tree.
            let _ = overflow::free(&self.pager, first, value.len());
        }
        result
    }

    /// Puts `cell` into `leaf` if it fits without a split. `Some(replaced)` when done.
    pub(super) fn leaf_put(
        &self,
        leaf: &mut PageMut,
        key: &[u8],
        cell: &[u8],
    ) -> Result<Option<bool>> {
        let (pos, old_chain, fits) = {
            let node = NodeRef::of(&leaf)?;
            match node.search(key) {
                Ok(i) => (
                    Ok(i),
                    owned_chain(node.value(i)),
                    node.can_replace(i, cell.len()),
                ),
                Err(i) => (Err(i), None, node.can_insert(cell.len())),
            }
        };
        if !fits {
            return Ok(None);
        }
        let mut node = NodeMut::new(leaf.body_mut());
        let done = match pos {
            Ok(i) => node.replace(i, cell),
            Err(i) => node.insert(i, cell),
        };
        if !done {
            return Ok(None);
        }
        if let Some((first, len)) = old_chain {
            overflow::free(&self.pager, first, len)?;
        }
        Ok(Some(pos.is_ok()))
    }

    fn insert_cell(&self, key: &[u8], cell: &[u8]) -> Result<bool> {
        if let Some(mut leaf) = self.descend_optimistic(key)?
            && let Some(replaced) = self.leaf_put(&mut leaf, key, cell)?
        {
            return Ok(replaced);
        }
        let body = self.pager.body_size();
        let (mut path, mut leaf) = self.descend_exclusive(key, |node| {
            if node.is_leaf() {
                match node.search(key) {
                    Ok(i) => node.can_replace(i, cell.len()),
                    Err(_) => node.can_insert(cell.len()),
                }
            } else {
                node.total_free() >= policy::max_internal_entry(body)
            }
        })?;
        if let Some(replaced) = self.leaf_put(&mut leaf, key, cell)? {
            return Ok(replaced);
        }

        if self.append_split(&mut path, &mut leaf, key, cell)? {
            return Ok(false);
        }
        // The leaf splits.
        let (mut cells, replaced, old_chain, link) = {
            let node = NodeRef::of(&leaf)?;
            let mut cells = node.cells();
            match node.search(key) {
                Ok(i) => {
                    cells[i] = cell.to_vec();
                    (cells, true, owned_chain(node.value(i)), node.link())
                }
                Err(i) => {
                    cells.insert(i, cell.to_vec());
                    (cells, false, None, node.link())
                }
            }
        };
        cells.shrink_to_fit();
        if leaf.id() == self.root {
            rebalance::split_root(&self.pager, &mut leaf, 0, link, cells)?;
        } else {
            let split = rebalance::split_cells(cells, 0, body, leaf.id())?;
            let mut right = self.pager.allocate()?;
            NodeMut::rebuild(right.body_mut(), 0, link, &split.right);
            NodeMut::rebuild(leaf.body_mut(), 0, right.id(), &split.left);
            self.push_up(&mut path, split.separator, right.id(), leaf.id())?;
        }
        if let Some((first, len)) = old_chain {
            overflow::free(&self.pager, first, len)?;
        }
        Ok(replaced)
    }

    /// The split of an append: when `key` is new, sorts after every key of the full
    /// `leaf`, and `leaf` is the last leaf of the tree (no right sibling), the new cell
    /// alone starts a new last leaf and `leaf` keeps every cell it has, as SQLite's
    /// `balance_quick` does. Keys inserted in increasing order — a load in key order, a
    /// serial id, a timestamp — then leave full leaves behind them instead of half-full
    /// ones, and the split moves no cell. Only the last leaf qualifies, so increasing
    /// keys *inside* the key range still split in balance; the one-cell leaf fills up
    /// with the keys that follow (until then it is underfull, as a leaf left by deletes
    /// can be). Internal nodes always split in balance.
    ///
    /// Returns whether it split (nothing changed otherwise). The caller holds `leaf`
    /// exclusively and, in `path`, every parent the separator can reach, exactly as for
    /// a split in balance, so the latch protocol is the same.
    fn append_split(
        &self,
        path: &mut Vec<(PageMut, usize)>,
        leaf: &mut PageMut,
        key: &[u8],
        cell: &[u8],
    ) -> Result<bool> {
        if leaf.id() == self.root {
            return Ok(false);
        }
        let separator = {
            let node = NodeRef::of(leaf)?;
            if node.link() != PageId::NONE || node.is_empty() || node.key(node.len() - 1) >= key {
                return Ok(false);
            }
            rebalance::shortest_separator(node.key(node.len() - 1), key)
        };
        let mut right = self.pager.allocate()?;
        NodeMut::rebuild(right.body_mut(), 0, PageId::NONE, &[cell.to_vec()]);
        NodeMut::new(leaf.body_mut()).set_link(right.id());
        self.push_up(path, separator, right.id(), leaf.id())?;
        Ok(true)
    }

    /// Inserts the separator `sep` for the new right node `right` into the parents held in
    /// `path`, splitting them as needed up to the root.
    fn push_up(
        &self,
        path: &mut Vec<(PageMut, usize)>,
        mut sep: Vec<u8>,
        mut right: PageId,
        mut child: PageId,
    ) -> Result<()> {
        let body = self.pager.body_size();
        loop {
            let Some((mut parent, i)) = path.pop() else {
                return Err(lost_parent(child));
            };
            let cell = internal_cell(&sep, right);
            if NodeMut::new(parent.body_mut()).insert(i, &cell) {
                return Ok(());
            }
            let (mut cells, level, link) = {
                let node = NodeRef::of(&parent)?;
                (node.cells(), node.level(), node.link())
            };
            cells.insert(i, cell);
            if parent.id() == self.root {
                return rebalance::split_root(&self.pager, &mut parent, level, link, cells);
            }
            let split = rebalance::split_cells(cells, level, body, parent.id())?;
            let mut new = self.pager.allocate()?;
            let new_link = split.right_link.unwrap_or(PageId::NONE);
            NodeMut::rebuild(new.body_mut(), level, new_link, &split.right);
            NodeMut::rebuild(parent.body_mut(), level, link, &split.left);
            sep = split.separator;
            right = new.id();
            child = parent.id();
        }
    }

    pub(super) fn delete_impl(&self, key: &[u8]) -> Result<bool> {
        let body = self.pager.body_size();
        if key.len() > policy::max_key_len(body) {
            return Ok(false);
        }
        let _gate = self.pager.begin_write();
        self.delete_locked(key)
    }

    /// [`BTree::delete`] for a caller that holds the write gate.
    pub(super) fn delete_locked(&self, key: &[u8]) -> Result<bool> {
        let body = self.pager.body_size();
        if let Some(mut leaf) = self.descend_optimistic(key)? {
            let (i, chain, after) = {
                let node = NodeRef::of(&leaf)?;
                match node.search(key) {
                    Err(_) => return Ok(false),
                    Ok(i) => (
                        i,
                        owned_chain(node.value(i)),
                        node.used() - node.cell(i).len() - SLOT_SIZE,
                    ),
                }
            };
            if leaf.id() == self.root || !policy::is_underfull(after, body) {
                NodeMut::new(leaf.body_mut()).remove(i);
                if let Some((first, len)) = chain {
                    overflow::free(&self.pager, first, len)?;
                }
                return Ok(true);
            }
        }

        let (mut path, mut leaf) = self.descend_exclusive(key, |node| {
            if node.is_leaf() {
                match node.search(key) {
                    Ok(i) => {
                        !policy::is_underfull(node.used() - node.cell(i).len() - SLOT_SIZE, body)
                    }
                    Err(_) => true,
                }
            } else {
                let entry = policy::max_internal_entry(body);
                node.total_free() >= entry
                    && !policy::is_underfull(node.used().saturating_sub(entry), body)
            }
        })?;
        let chain = {
            let node = NodeRef::of(&leaf)?;
            match node.search(key) {
                Err(_) => return Ok(false),
                Ok(i) => {
                    let chain = owned_chain(node.value(i));
                    NodeMut::new(leaf.body_mut()).remove(i);
                    chain
                }
            }
        };
        if let Some((first, len)) = chain {
            overflow::free(&self.pager, first, len)?;
        }
        self.rebalance_up(&mut path, leaf)?;
        Ok(true)
    }

    /// Walks up from `cur` (just shrunk) while it is underfull, merging or redistributing
    /// it with a sibling under the parent held in `path`.
    fn rebalance_up(&self, path: &mut Vec<(PageMut, usize)>, mut cur: PageMut) -> Result<()> {
        let body = self.pager.body_size();
        loop {
            if cur.id() == self.root {
                return Ok(());
            }
            let used = NodeRef::of(&cur)?.used();
            if !policy::is_underfull(used, body) {
                return Ok(());
            }
            let Some((mut parent, ci)) = path.pop() else {
                return Ok(());
            };
            let (sibling_id, left_index) = {
                let p = NodeRef::of(&parent)?;
                if p.is_empty() {
                    return Ok(());
                }
                if ci < p.len() {
                    (p.child(ci + 1), ci)
                } else {
                    (p.child(ci - 1), ci - 1)
                }
            };
            let sibling = self.pager.write(sibling_id)?;
            let (cur_level, sib_level) =
                (NodeRef::of(&cur)?.level(), NodeRef::of(&sibling)?.level());
            if cur_level != sib_level {
                return Err(Error::Corrupted {
                    page: sibling.id().0,
                    reason: "sibling at a different level".into(),
                });
            }
            let (mut left, mut right) = if left_index == ci {
                (cur, sibling)
            } else {
                (sibling, cur)
            };
            let outcome = rebalance::rebalance_pair(
                &self.pager,
                &mut parent,
                left_index,
                &mut left,
                &mut right,
            )?;
            if outcome == Rebalanced::Merged {
                self.pager.free(right);
                let root_has_one_child =
                    parent.id() == self.root && NodeRef::of(&parent)?.is_empty();
                if root_has_one_child {
                    rebalance::collapse_root(&self.pager, &mut parent, left);
                    return Ok(());
                }
            } else {
                drop(right);
            }
            drop(left);
            cur = parent;
        }
    }
}
