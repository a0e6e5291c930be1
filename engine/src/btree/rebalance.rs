//! # Structure changes: split, merge, redistribute, and the fixed root
//!
//! These functions work on nodes the caller has latched exclusively and never latch
//! anything themselves except pages they allocate (which nobody else can reach yet).
//!
//! - **Split** a node whose cells no longer fit: choose the split point that balances the
//!   bytes of the two halves ([`split_point`]); a leaf split copies a *shortened* first
//!   key of the right half up as the separator ([`shortest_separator`]), an internal split
//!   moves its middle cell up.
//! - **Merge** an underfull node with a sibling under the same parent when both fit in
//!   one page: the right node's cells (and for internal nodes the separator, pulled down)
//!   move into the left node, the right page is freed, and the parent loses a cell.
//! - **Redistribute** when they do not fit: the cells of both are split again at the
//!   balanced point and the parent's separator is replaced. If the parent cannot hold the
//!   new separator (it may be longer), the pair is left as it is: it is still a valid
//!   tree, merely less full than the policy wants.
//! - **The root never moves**: a root split moves its two halves into two new pages; a
//!   root left with one child takes that child's contents and frees it.

use super::node::{self, NodeMut, NodeRef, SLOT_SIZE, cell_key, internal_cell, used_by};
use super::policy;
use crate::pager::{PageId, PageMut, Pager};
use crate::{Error, Result};

/// The *shortest* prefix of `right` that is still greater
/// than `left` (given `left < right`). Every key of the left node is `<= left < sep` and
/// every key of the right node is `>= right >= sep`, so it routes exactly like `right`
/// while keeping internal nodes small.
pub fn shortest_separator(left: &[u8], right: &[u8]) -> Vec<u8> {
    let common = left.iter().zip(right).take_while(|(a, b)| a == b).count();
    right[..(common + 1).min(right.len())].to_vec()
}

/// Where to split `cells` so both halves fit in a body of `body` bytes and their byte
/// sizes are as equal as possible. For a leaf (`middle = false`) the halves are
/// `[..m]` and `[m..]` with both non-empty. For an internal node (`middle = true`) cell
/// `m` moves up and the halves are `[..m]` and `[m+1..]`.
pub fn split_point(cells: &[Vec<u8>], body: usize, middle: bool) -> Option<usize> {
    let cap = policy::cell_capacity(body);
    let sizes: Vec<usize> = cells.iter().map(|c| c.len() + SLOT_SIZE).collect();
    let total: usize = sizes.iter().sum();
    let mut best: Option<(usize, usize)> = None;
    let mut left = 0;
    let range = if middle {
        0..cells.len()
    } else {
        1..cells.len()
    };
    for (m, size) in sizes.iter().enumerate() {
        if range.contains(&m) {
            let right = total - left - if middle { *size } else { 0 };
            if left <= cap && right <= cap {
                let imbalance = left.abs_diff(right);
                if best.is_none_or(|(_, b)| imbalance < b) {
                    best = Some((m, imbalance));
                }
            }
        }
        left += size;
    }
    best.map(|(m, _)| m)
}

fn cannot_split(page: PageId) -> Error {
    Error::Corrupted {
        page: page.0,
        reason: "cells cannot be split into two pages".into(),
    }
}

/// The result of splitting a node's cells: the left cells, the separator key, the page
/// that becomes the right node's link (internal: its leftmost child), and the right cells.
pub struct Split {
    pub left: Vec<Vec<u8>>,
    pub separator: Vec<u8>,
    pub right_link: Option<PageId>,
    pub right: Vec<Vec<u8>>,
}

/// Splits the cells of a node at `level` in balance.
pub fn split_cells(mut cells: Vec<Vec<u8>>, level: u8, body: usize, page: PageId) -> Result<Split> {
    let middle = level > 0;
    let m = split_point(&cells, body, middle).ok_or_else(|| cannot_split(page))?;
    if middle {
        let mut right = cells.split_off(m);
        let mid = right.remove(0);
        Ok(Split {
            left: cells,
            separator: cell_key(&mid, level).to_vec(),
            right_link: Some(node::cell_child(&mid)),
            right,
        })
    } else {
        let right = cells.split_off(m);
        let (Some(l), Some(r)) = (cells.last(), right.first()) else {
            return Err(cannot_split(page));
        };
        let separator = shortest_separator(cell_key(l, 0), cell_key(r, 0));
        Ok(Split {
            left: cells,
            separator,
            right_link: None,
            right,
        })
    }
}

/// Splits the root, whose new cells are `cells`, in place: its halves move to two new
/// pages and the root becomes their parent, one level up.
pub fn split_root(
    pager: &Pager,
    root: &mut PageMut,
    level: u8,
    link: PageId,
    cells: Vec<Vec<u8>>,
) -> Result<()> {
    let body = pager.body_size();
    if level == u8::MAX {
        return Err(Error::InvalidArgument("tree too tall".into()));
    }
    let split = split_cells(cells, level, body, root.id())?;
    let mut left = pager.allocate()?;
    let mut right = pager.allocate()?;
    if level == 0 {
        NodeMut::rebuild(left.body_mut(), 0, right.id(), &split.left);
        NodeMut::rebuild(right.body_mut(), 0, PageId::NONE, &split.right);
    } else {
        NodeMut::rebuild(left.body_mut(), level, link, &split.left);
        let right_link = split.right_link.unwrap_or(PageId::NONE);
        NodeMut::rebuild(right.body_mut(), level, right_link, &split.right);
    }
    let top = [internal_cell(&split.separator, right.id())];
    NodeMut::rebuild(root.body_mut(), level + 1, left.id(), &top);
    Ok(())
}

/// What happened to an underfull node and its sibling.
#[derive(Debug, PartialEq, Eq)]
pub enum Rebalanced {
    /// The right node was merged into the left one and must be freed by the caller.
    Merged,
    /// Cells moved between the two; the parent's separator changed.
    Redistributed,
    /// Neither was possible; nothing changed.
    Unchanged,
}

/// Rebalances the pair (`left`, `right`) of adjacent children of `parent`, separated by
/// the parent's cell `sep_index`. All three are latched exclusively by the caller.
pub fn rebalance_pair(
    pager: &Pager,
    parent: &mut PageMut,
    sep_index: usize,
    left: &mut PageMut,
    right: &mut PageMut,
) -> Result<Rebalanced> {
    let body = pager.body_size();
    let (level, left_link, right_link, mut cells) = {
        let p = NodeRef::of(&parent)?;
        let l = NodeRef::of(&left)?;
        let r = NodeRef::of(&right)?;
        let mut cells = l.cells();
        if l.level() > 0 {
            cells.push(internal_cell(p.key(sep_index), r.link()));
        }
        cells.extend(r.cells());
        (l.level(), l.link(), r.link(), cells)
    };
    if used_by(&cells) <= body {
        let link = if level == 0 { right_link } else { left_link };
        NodeMut::rebuild(left.body_mut(), level, link, &cells);
        NodeMut::new(parent.body_mut()).remove(sep_index);
        return Ok(Rebalanced::Merged);
    }
    cells.shrink_to_fit();
    let split = split_cells(cells, level, body, left.id())?;
    let new_sep = internal_cell(&split.separator, right.id());
    let fits = NodeRef::of(&parent)?.can_replace(sep_index, new_sep.len());
    if !fits {
        return Ok(Rebalanced::Unchanged);
    }
    let (l_link, r_link) = if level == 0 {
        (right.id(), right_link)
    } else {
        (left_link, split.right_link.unwrap_or(PageId::NONE))
    };
    NodeMut::rebuild(left.body_mut(), level, l_link, &split.left);
    NodeMut::rebuild(right.body_mut(), level, r_link, &split.right);
    NodeMut::new(parent.body_mut()).replace(sep_index, &new_sep);
    Ok(Rebalanced::Redistributed)
}

/// The root has one child left (`child`): move the child's contents up and free it.
pub fn collapse_root(pager: &Pager, root: &mut PageMut, child: PageMut) {
    root.body_mut().copy_from_slice(child.body());
    pager.free(child);
}
