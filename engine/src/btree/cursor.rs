//! # Cursors: bounded ranges in both directions
//!
//! A [`Cursor`] iterates over the keys of a range in a direction, and can step back and
//! re-seek. It holds **no latch between calls** (see "Concurrency" in `mod.rs`): it keeps
//! its position as a key, and when its buffer runs dry it descends from the root with
//! shared latches, copies the leaf's body (and the overflow values of its qualifying
//! entries) into its buffer, and releases the leaf; entries are decoded from the copy only
//! as the caller asks for them. If that leaf has nothing to offer (its entries all lie
//! before the position), the cursor descends again using the *fence* — the parent
//! separator bounding the leaf — as the new position, so it moves to the neighbouring leaf
//! without following a sibling link under a latch. Each fence is strictly beyond the
//! previous one, which guarantees progress even on a tree changing underneath.
//!
//! Consistency: each leaf's batch is a consistent copy of that leaf; between batches
//! concurrent writers may insert or delete, and the cursor sees those changes if they are
//! beyond its position. Snapshots are the MVCC layer's job.
//!
//! Positions, for a cursor whose direction is forward (mirror everything for reverse):
//! fresh, `next` returns the first entry in the range and `prev` the last; after an entry
//! `k` was returned, `next` returns the first entry after `k` and `prev` the last before
//! it; after `seek(k)`, `next` returns the first entry `>= k` and `prev` the last `< k`.

use std::collections::VecDeque;
use std::ops::Bound;

use super::BTree;
use super::latch::Seek;
use super::node::{NodeRef, ValueRef};
use crate::{Error, Result};

/// Iteration order of a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ascending keys.
    Forward,
    /// Descending keys.
    Reverse,
}

impl Direction {
    fn flip(self) -> Direction {
        match self {
            Direction::Forward => Direction::Reverse,
            Direction::Reverse => Direction::Forward,
        }
    }
}

/// A key bound: the key and whether it is itself included.
type Limit = Option<(Vec<u8>, bool)>;

#[derive(Debug, Clone)]
enum Position {
    /// Nothing returned or sought yet.
    Fresh,
    /// The last entry returned.
    At(Vec<u8>),
    /// Sought to a key, for a cursor of the given direction.
    Sought(Vec<u8>, Direction),
}

/// An entry: key and value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// One leaf's qualifying entries, copied out under the leaf's shared latch: a copy of the
/// leaf body, decoded lazily (entries the caller never asks for cost nothing but the
/// copy), and the values that live in overflow chains, which must be read while the leaf
/// still owns them.
#[derive(Debug, Default)]
struct Batch {
    /// The leaf the entries were copied from (named when its keys are out of order).
    leaf: u64,
    body: Vec<u8>,
    /// Cell indices still to return, in order.
    order: VecDeque<usize>,
    overflow: Vec<(usize, Vec<u8>)>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn clear(&mut self) {
        self.order.clear();
        self.overflow.clear();
    }

    fn pop(&mut self) -> Option<Entry> {
        let i = self.order.pop_front()?;
        let node = NodeRef::from_copy(&self.body);
        let value = match node.value(i) {
            ValueRef::Inline(v) => v.to_vec(),
            ValueRef::Overflow { .. } => self
                .overflow
                .iter_mut()
                .find(|(j, _)| *j == i)
                .map(|(_, v)| std::mem::take(v))
                .unwrap_or_default(),
        };
        Some((node.key(i).to_vec(), value))
    }
}

/// A cursor over a range of a tree. See the module header.
#[derive(Debug)]
pub struct Cursor<'t> {
    tree: &'t BTree,
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
    direction: Direction,
    position: Position,
    buffer: Batch,
    buffer_direction: Direction,
}

fn to_limit(b: &Bound<Vec<u8>>) -> Limit {
    match b {
        Bound::Included(k) => Some((k.clone(), true)),
        Bound::Excluded(k) => Some((k.clone(), false)),
        Bound::Unbounded => None,
    }
}

/// The tighter of two lower limits.
fn max_lower(a: Limit, b: Limit) -> Limit {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some((ka, ia)), Some((kb, ib))) => Some(match ka.cmp(&kb) {
            std::cmp::Ordering::Greater => (ka, ia),
            std::cmp::Ordering::Less => (kb, ib),
            std::cmp::Ordering::Equal => (ka, ia && ib),
        }),
    }
}

/// The tighter of two upper limits.
fn min_upper(a: Limit, b: Limit) -> Limit {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some((ka, ia)), Some((kb, ib))) => Some(match ka.cmp(&kb) {
            std::cmp::Ordering::Less => (ka, ia),
            std::cmp::Ordering::Greater => (kb, ib),
            std::cmp::Ordering::Equal => (ka, ia && ib),
        }),
    }
}

fn below(key: &[u8], upper: &Limit) -> bool {
    match upper {
        None => true,
        Some((k, inclusive)) => key < k.as_slice() || *inclusive && key == k.as_slice(),
    }
}

fn above(key: &[u8], lower: &Limit) -> bool {
    match lower {
        None => true,
        Some((k, inclusive)) => key > k.as_slice() || *inclusive && key == k.as_slice(),
    }
}

impl<'t> Cursor<'t> {
    pub(super) fn new(
        tree: &'t BTree,
        lo: Bound<Vec<u8>>,
        hi: Bound<Vec<u8>>,
        direction: Direction,
    ) -> Self {
        Cursor {
            tree,
            lo,
            hi,
            direction,
            position: Position::Fresh,
            buffer: Batch::default(),
            buffer_direction: direction,
        }
    }

    /// Positions the cursor at `key`: `next` returns the first entry at or beyond `key` in
    /// the cursor's direction, `prev` the last one before it.
    pub fn seek(&mut self, key: &[u8]) {
        self.position = Position::Sought(key.to_vec(), self.direction);
        self.buffer.clear();
    }

    /// The next entry in the cursor's direction, or `None` at the end of the range.
    /// (The cursor is also an `Iterator` going the same way; this is the fallible step.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Entry>> {
        self.step(self.direction)
    }

    /// The entry before the current position (the opposite direction).
    pub fn prev(&mut self) -> Result<Option<Entry>> {
        self.step(self.direction.flip())
    }

    fn step(&mut self, way: Direction) -> Result<Option<Entry>> {
        if self.buffer_direction != way || self.buffer.is_empty() {
            self.buffer.clear();
            self.buffer_direction = way;
            self.fill(way)?;
        }
        let entry = self.buffer.pop();
        if let Some((k, _)) = &entry {
            // Every step moves strictly past the last key returned. Keys out of order in
            // a damaged leaf (whose checksum passed) would otherwise send the cursor back
            // and forth over the same entries forever.
            if let Position::At(last) = &self.position {
                let advanced = match way {
                    Direction::Forward => k > last,
                    Direction::Reverse => k < last,
                };
                if !advanced {
                    self.buffer.clear();
                    return Err(Error::Corrupted {
                        page: self.buffer.leaf,
                        reason: "keys out of order: a cursor cannot advance".into(),
                    });
                }
            }
            // The position's buffer is reused from entry to entry: a scan copies each
            // key here but allocates for it only when a key is longer than any before.
            match &mut self.position {
                Position::At(at) => {
                    at.clear();
                    at.extend_from_slice(k);
                }
                other => *other = Position::At(k.clone()),
            }
        }
        Ok(entry)
    }

    /// The limits, in ascending key terms, on the entries a step in `way` may return.
    fn limits(&self, way: Direction) -> (Limit, Limit) {
        let (lo, hi) = (to_limit(&self.lo), to_limit(&self.hi));
        let from_position = match (&self.position, way) {
            (Position::Fresh, _) => None,
            (Position::At(k), _) => Some((k.clone(), false)),
            (Position::Sought(k, d), w) => Some((k.clone(), *d == w)),
        };
        match way {
            Direction::Forward => (max_lower(lo, from_position), hi),
            Direction::Reverse => (lo, min_upper(hi, from_position)),
        }
    }

    /// Loads the next batch (one leaf's qualifying entries) in `way`.
    fn fill(&mut self, way: Direction) -> Result<()> {
        let (mut lower, mut upper) = self.limits(way);
        loop {
            let seek = match way {
                Direction::Forward => lower.as_ref().map_or(Seek::First, |(k, _)| Seek::Ge(k)),
                Direction::Reverse => match &upper {
                    None => Seek::Last,
                    Some((k, true)) => Seek::Ge(k),
                    Some((k, false)) => Seek::Lt(k),
                },
            };
            let descent = self.tree.descend_shared(&seek, true)?;
            let leaf = &descent.leaf;
            let node = NodeRef::of(leaf)?;
            let start = match &lower {
                Some((k, true)) => node.lower_bound(k),
                Some((k, false)) => node.upper_bound(k),
                None => 0,
            };
            let end = match &upper {
                Some((k, true)) => node.upper_bound(k),
                Some((k, false)) => node.lower_bound(k),
                None => node.len(),
            };
            let indices: Vec<usize> = match way {
                Direction::Forward => (start..node.len())
                    .take_while(|i| below(node.key(*i), &upper))
                    .collect(),
                Direction::Reverse => (0..end)
                    .rev()
                    .take_while(|i| above(node.key(*i), &lower))
                    .collect(),
            };
            if !indices.is_empty() {
                for i in &indices {
                    if let ValueRef::Overflow { .. } = node.value(*i) {
                        self.buffer
                            .overflow
                            .push((*i, self.tree.load_value(node.value(*i))?));
                    }
                }
                self.buffer.leaf = leaf.id().0;
                self.buffer.body.clear();
                self.buffer.body.extend_from_slice(leaf.body());
                self.buffer.order.extend(indices.iter().copied());
            }
            // Move to the neighbouring leaf only if this one ran out before the range did.
            let exhausted = match way {
                Direction::Forward => start + indices.len() == node.len(),
                Direction::Reverse => indices.len() == end,
            };
            if !indices.is_empty() || !exhausted {
                return Ok(());
            }
            match way {
                Direction::Forward => match descent.upper {
                    Some(fence) if below(&fence, &upper) => {
                        if lower.as_ref().is_some_and(|(k, _)| fence <= *k) {
                            return Err(no_progress(leaf.id().0));
                        }
                        lower = Some((fence, true));
                    }
                    _ => return Ok(()),
                },
                Direction::Reverse => match descent.lower {
                    Some(fence) if lower.as_ref().is_none_or(|(k, _)| fence > *k) => {
                        if let Some((k, inclusive)) = &upper
                            && (fence > *k || fence == *k && !inclusive)
                        {
                            return Err(no_progress(leaf.id().0));
                        }
                        upper = Some((fence, false));
                    }
                    _ => return Ok(()),
                },
            }
        }
    }
}

fn no_progress(page: u64) -> Error {
    Error::Corrupted {
        page,
        reason: "separators out of order: a cursor cannot advance".into(),
    }
}

impl Iterator for Cursor<'_> {
    type Item = Result<Entry>;

    /// Iterates in the cursor's direction.
    fn next(&mut self) -> Option<Self::Item> {
        Cursor::next(self).transpose()
    }
}
