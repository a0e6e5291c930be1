//! # Integrity checks
//!
//! [`BTree::check_integrity`](super::BTree::check_integrity) walks one tree and verifies:
//!
//! - every node parses (slot and cell extents inside the page) and sits exactly one level
//!   below its parent, so all leaves are at the same depth;
//! - keys are strictly increasing within each node, and every key lies within the range
//!   its ancestors' separators give it (`[sep[i-1], sep[i])`);
//! - fill bounds: every node's cells fit in its page (by construction of the layout);
//!   every non-root leaf holds at least one entry; an internal root has at least two
//!   children; nodes below the merge threshold are counted in the report (they are legal:
//!   a node stays underfull when its sibling is too full to merge and the parent cannot
//!   take a longer separator);
//! - the leaf chain: each leaf's right link is the next leaf in key order, the last is 0;
//! - every overflow chain has the length its cell claims;
//! - no page is reached twice.
//!
//! [`check_file_integrity`] does this for every named tree (plus any roots the caller
//! names, such as trees recorded in a catalog) and then checks that every data page of
//! the file is owned by exactly one tree or is on the free list, and nothing else.
//!
//! Checks take shared latches page by page; run them with no concurrent writers.

use std::collections::BTreeSet;

use super::node::{NodeRef, ValueRef};
use super::{BTree, overflow, policy};
use crate::pager::{PageId, Pager};
use crate::{Error, Result};

/// What a tree check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeReport {
    /// Levels, counting the leaves (1 for a root leaf).
    pub depth: usize,
    pub entries: u64,
    pub leaves: u64,
    pub internal_nodes: u64,
    pub overflow_pages: u64,
    /// Non-root nodes below the merge threshold.
    pub underfull_nodes: u64,
    /// Every page the tree owns.
    pub pages: BTreeSet<PageId>,
}

/// What a whole-file check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub trees: Vec<(String, TreeReport)>,
    pub free_pages: u64,
    pub page_count: u64,
}

fn corrupt(page: PageId, reason: String) -> Error {
    Error::Corrupted {
        page: page.0,
        reason,
    }
}

struct Walk<'a> {
    tree: &'a BTree,
    report: TreeReport,
    leaves: Vec<(PageId, PageId)>,
}

impl Walk<'_> {
    fn claim(&mut self, id: PageId) -> Result<()> {
        if !self.report.pages.insert(id) {
            return Err(corrupt(id, "page reached twice".into()));
        }
        Ok(())
    }

    fn visit(
        &mut self,
        id: PageId,
        level: Option<u8>,
        lo: Option<&[u8]>,
        hi: Option<&[u8]>,
    ) -> Result<u8> {
        self.claim(id)?;
        let pager = &self.tree.pager;
        let page = pager.read(id)?;
        let node = NodeRef::new(id, page.body())?;
        if level.is_some_and(|l| l != node.level()) {
            return Err(corrupt(
                id,
                format!("node at level {}, expected {level:?}", node.level()),
            ));
        }
        let is_root = id == self.tree.root;
        for i in 0..node.len() {
            let k = node.key(i);
            if i > 0 && node.key(i - 1) >= k {
                return Err(corrupt(id, format!("keys out of order at cell {i}")));
            }
            if lo.is_some_and(|lo| k < lo) || hi.is_some_and(|hi| k >= hi) {
                return Err(corrupt(
                    id,
                    format!("key at cell {i} outside its parent's range"),
                ));
            }
        }
        if !is_root && policy::is_underfull(node.used(), pager.body_size()) {
            self.report.underfull_nodes += 1;
        }
        if node.is_leaf() {
            if !is_root && node.is_empty() {
                return Err(corrupt(id, "empty non-root leaf".into()));
            }
            self.report.leaves += 1;
            self.report.entries += node.len() as u64;
            self.leaves.push((id, node.link()));
            for i in 0..node.len() {
                if let ValueRef::Overflow { first, len } = node.value(i) {
                    if policy::value_is_inline(pager.body_size(), node.key(i).len(), len) {
                        return Err(corrupt(
                            id,
                            format!("cell {i} overflows a value that fits inline"),
                        ));
                    }
                    for p in overflow::pages(pager, first, len)? {
                        self.claim(p)?;
                        self.report.overflow_pages += 1;
                    }
                }
            }
            return Ok(0);
        }
        if is_root && node.is_empty() {
            return Err(corrupt(id, "internal root with a single child".into()));
        }
        self.report.internal_nodes += 1;
        let (level, n) = (node.level(), node.len());
        let keys: Vec<Vec<u8>> = (0..n).map(|i| node.key(i).to_vec()).collect();
        let children: Vec<PageId> = (0..=n).map(|i| node.child(i)).collect();
        drop(page);
        for (i, child) in children.into_iter().enumerate() {
            let clo = if i == 0 {
                lo
            } else {
                Some(keys[i - 1].as_slice())
            };
            let chi = if i == n { hi } else { Some(keys[i].as_slice()) };
            self.visit(child, Some(level - 1), clo, chi)?;
        }
        Ok(level)
    }
}

/// Checks one tree; see the module header.
pub(super) fn check_tree(tree: &BTree) -> Result<TreeReport> {
    let mut walk = Walk {
        tree,
        report: TreeReport::default(),
        leaves: Vec::new(),
    };
    let level = walk.visit(tree.root, None, None, None)?;
    walk.report.depth = usize::from(level) + 1;
    for (i, (id, link)) in walk.leaves.iter().enumerate() {
        let expected = walk
            .leaves
            .get(i + 1)
            .map_or(PageId::NONE, |(next, _)| *next);
        if *link != expected {
            return Err(corrupt(
                *id,
                format!("right link is {link}, next leaf is {expected}"),
            ));
        }
    }
    Ok(walk.report)
}

/// Checks every named tree and the given extra roots, then that every data page is owned
/// by exactly one of them or is free.
pub fn check_file_integrity(
    pager: &std::sync::Arc<Pager>,
    extra_roots: &[PageId],
) -> Result<FileReport> {
    let mut roots = pager.roots();
    roots.extend(extra_roots.iter().map(|r| (format!("@{r}"), *r)));
    let mut owned: BTreeSet<PageId> = BTreeSet::new();
    let mut trees = Vec::new();
    for (name, root) in roots {
        let report = check_tree(&BTree::open_root(pager, root))?;
        for p in &report.pages {
            if !owned.insert(*p) {
                return Err(corrupt(
                    *p,
                    format!("page owned by tree {name:?} and another"),
                ));
            }
        }
        trees.push((name, report));
    }
    let free = pager.free_pages();
    for p in &free {
        if owned.contains(p) {
            return Err(corrupt(*p, "page both free and owned by a tree".into()));
        }
    }
    let page_count = pager.stats().page_count;
    let accounted = owned.len() as u64 + free.len() as u64;
    let data_pages = page_count - crate::pager::meta::FIRST_DATA_PAGE;
    if accounted != data_pages {
        let lost = (crate::pager::meta::FIRST_DATA_PAGE..page_count)
            .map(PageId)
            .find(|p| !owned.contains(p) && free.binary_search(p).is_err())
            .unwrap_or(PageId::NONE);
        return Err(corrupt(
            lost,
            format!("{accounted} pages accounted for, file has {data_pages}; page {lost} is lost"),
        ));
    }
    Ok(FileReport {
        trees,
        free_pages: free.len() as u64,
        page_count,
    })
}
