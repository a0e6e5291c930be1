//! # Sorted batches: one leaf latch for many changes
//!
//! A committing transaction hands each tree its changes as one batch in key order
//! ([`SortedBatch`]). [`BTree::apply_sorted`] applies it in one of two ways:
//!
//! - **Into an empty tree, bottom-up** (`build.rs`): when the root is an empty leaf and
//!   the batch is large ([`policy::BULK_BUILD_MIN_OPS`]), the leaves are written left to
//!   right from the sorted input, each filled to [`policy::bulk_fill_target`], the
//!   internal levels are built from the leaves' separators, and the result is installed
//!   under the root's latch. No entry is ever searched for, split or moved.
//! - **Otherwise, with a leaf cursor**: the writer descends to the leaf for the first key
//!   (the optimistic descent: shared latches, the leaf exclusively), remembers the
//!   separators that bound the leaf, and applies every following change whose key falls
//!   inside those bounds and that fits without a structure change, without descending
//!   again. A change that does not fit (a split, an underfull leaf, an overflow value)
//!   releases the leaf and goes through the ordinary single-change path; the next change
//!   descends afresh. So a batch costs one descent per leaf it touches plus one per
//!   structure change, instead of one per change.
//!
//! ## Why this keeps the latch protocol
//!
//! The cursor holds exactly what an optimistic single writer holds — one leaf,
//! exclusively, reached by shared coupling — only for longer, and it takes nothing else
//! while it holds it (the batch's next change is computed without latches, and the leaf
//! is released before any other descent). The bounds it relies on cannot move while it
//! holds the leaf: moving a separator of a leaf (split, merge, redistribution) needs that
//! leaf's latch. The whole batch runs inside one write-gate scope, as a single change
//! does, so a flush sees all of the batch or none of it. Readers of the held leaf wait
//! for the batch's run of changes to that leaf, at most a leaf's worth.
//!
//! A batch does not need sorted keys to be *correct* (each change checks that its key
//! belongs to the held leaf), only to be fast; the bottom-up build does need them and
//! returns an error, having changed nothing, if the keys do not strictly increase.

use super::latch::HeldLeaf;
use super::node::{NodeMut, NodeRef, SLOT_SIZE, ValueRef, leaf_cell_into};
use super::{BTree, policy};
use crate::Result;

/// One change of a batch: store `value` under `key`, or remove `key` (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOp<'a> {
    pub key: &'a [u8],
    pub value: Option<&'a [u8]>,
}

/// Changes in strictly increasing key order, lent one at a time (so a producer can
/// encode each key into one reused buffer).
pub trait SortedBatch {
    /// The next change, or `None` at the end.
    fn next_op(&mut self) -> Option<BatchOp<'_>>;
    /// How many changes remain.
    fn remaining(&self) -> usize;
}

/// A batch over a slice of owned changes, for tests and for callers that have them.
#[derive(Debug)]
pub struct SliceBatch<'a> {
    ops: &'a [(Vec<u8>, Option<Vec<u8>>)],
    next: usize,
}

impl<'a> SliceBatch<'a> {
    pub fn new(ops: &'a [(Vec<u8>, Option<Vec<u8>>)]) -> SliceBatch<'a> {
        SliceBatch { ops, next: 0 }
    }
}

impl SortedBatch for SliceBatch<'_> {
    fn next_op(&mut self) -> Option<BatchOp<'_>> {
        let (key, value) = self.ops.get(self.next)?;
        self.next += 1;
        Some(BatchOp {
            key,
            value: value.as_deref(),
        })
    }

    fn remaining(&self) -> usize {
        self.ops.len() - self.next
    }
}

impl BTree {
    /// Applies a batch of changes (see the module header): puts replace, removes of
    /// missing keys do nothing, exactly as [`BTree::insert`] and [`BTree::delete`] one
    /// by one would.
    pub fn apply_sorted(&self, batch: &mut dyn SortedBatch) -> Result<()> {
        let _gate = self.pager.begin_write();
        if batch.remaining() >= policy::BULK_BUILD_MIN_OPS && self.is_empty_tree()? {
            return self.build_into_empty(batch);
        }
        self.apply_with_cursor(batch)
    }

    /// Whether the tree holds nothing (its root is an empty leaf).
    pub(super) fn is_empty_tree(&self) -> Result<bool> {
        let root = self.pager.read(self.root)?;
        let node = NodeRef::of(&root)?;
        Ok(node.is_leaf() && node.is_empty())
    }

    /// The leaf-cursor path; the caller holds the write gate.
    pub(super) fn apply_with_cursor(&self, batch: &mut dyn SortedBatch) -> Result<()> {
        let body = self.pager.body_size();
        let mut held: Option<HeldLeaf> = None;
        let mut cell = Vec::new();
        while let Some(op) = batch.next_op() {
            let inline = op
                .value
                .is_none_or(|v| policy::value_is_inline(body, op.key.len(), v.len()));
            if !inline {
                // Overflow chains (and over-long keys, refused there) take the full path.
                held = None;
                if let Some(value) = op.value {
                    self.insert_locked(op.key, value)?;
                }
                continue;
            }
            if let Some(leaf) = held.as_mut()
                && leaf.covers(op.key)
                && self.change_in_leaf(&mut leaf.page, op, &mut cell)?
            {
                continue;
            }
            held = None;
            if let Some(mut leaf) = self.descend_optimistic_fenced(op.key)?
                && self.change_in_leaf(&mut leaf.page, op, &mut cell)?
            {
                held = Some(leaf);
                continue;
            }
            match op.value {
                Some(value) => self.insert_locked(op.key, value).map(drop)?,
                None => self.delete_locked(op.key).map(drop)?,
            }
        }
        Ok(())
    }

    /// Applies `op` to the latched `leaf` if it needs no structure change; `false` if it
    /// does (nothing changed then).
    fn change_in_leaf(
        &self,
        leaf: &mut super::PageMut,
        op: BatchOp<'_>,
        cell: &mut Vec<u8>,
    ) -> Result<bool> {
        match op.value {
            Some(value) => {
                leaf_cell_into(cell, op.key, ValueRef::Inline(value));
                Ok(self.leaf_put(leaf, op.key, cell)?.is_some())
            }
            None => {
                let body = self.pager.body_size();
                let is_root = leaf.id() == self.root;
                let (i, after) = {
                    let node = NodeRef::of(&*leaf)?;
                    match node.search(op.key) {
                        Err(_) => return Ok(true),
                        Ok(i) => {
                            if matches!(node.value(i), ValueRef::Overflow { .. }) {
                                return Ok(false);
                            }
                            (i, node.used() - node.cell(i).len() - SLOT_SIZE)
                        }
                    }
                };
                if !is_root && policy::is_underfull(after, body) {
                    return Ok(false);
                }
                NodeMut::new(leaf.body_mut()).remove(i);
                Ok(true)
            }
        }
    }
}
