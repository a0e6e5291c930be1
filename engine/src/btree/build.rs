//! # Bottom-up builds: a tree from sorted input
//!
//! [`BTree::apply_sorted`] comes here when the tree is empty and the batch is large. The
//! build never searches, splits or moves an entry:
//!
//! 1. **Leaves, left to right.** Each change is encoded as a cell and appended to the
//!    current leaf (values over the inline limit go to overflow chains first, as a single
//!    insert would put them). A leaf is closed once the next cell would take it past
//!    [`policy::bulk_fill_target`] (90% of the page: later inserts find room without an
//!    immediate split); a new leaf is allocated, the closed one links to it, and the
//!    shortest separator between the two goes to the list for the level above. Leaves
//!    are written straight into their pages; only the previous leaf stays latched.
//! 2. **The last leaf.** If it ends below the merge threshold
//!    ([`policy::is_underfull`]), it and the leaf before it share their cells evenly, and
//!    the separator between them is replaced — so the build leaves no node that a later
//!    delete would have to rebalance at once.
//! 3. **Internal levels**, from the separator list (a few bytes per leaf, in memory):
//!    nodes filled to the same target, the last two evened out the same way, each level's
//!    first-child separators handed up, until one node remains.
//! 4. **Install.** The root page never moves (see `mod.rs`), so the top node's bytes are
//!    copied into the root under the root's exclusive latch, after checking that the root
//!    is still an empty leaf, and the top page is freed. If a concurrent writer got there
//!    first, every page the build wrote is freed and the batch is applied with the leaf
//!    cursor instead.
//!
//! Until the install nothing outside this build can reach its pages: no latch protects
//! them because none is needed. The caller holds the pager's write gate for the whole
//! build, so no flush can write a page the build allocated before the tree refers to it
//! (a file in which allocated pages belong to no tree would fail the file check), and a
//! crash before the install loses the build with everything else since the last flush.
//! An error on the way (I/O, keys out of order) frees what was built and returns it; the
//! tree is untouched.

use super::batch::{BatchOp, SortedBatch};
use super::node::{
    INTERNAL_CELL_OVERHEAD, LEAF_CELL_OVERHEAD, NODE_HEADER_SIZE, NodeMut, NodeRef, SLOT_SIZE,
    ValueRef, internal_cell,
};
use super::rebalance::{shortest_separator, split_cells};
use super::{BTree, overflow, policy};
use crate::pager::{PageId, PageMut};
use crate::{Error, Result};

/// An internal node being planned: its leftmost child and its cells.
struct Planned {
    link: PageId,
    cells: Vec<Vec<u8>>,
    used: usize,
}

impl Planned {
    fn new(link: PageId) -> Planned {
        Planned {
            link,
            cells: Vec::new(),
            used: NODE_HEADER_SIZE,
        }
    }
}

/// What a build has allocated, to free if it fails.
#[derive(Default)]
struct Built {
    nodes: Vec<PageId>,
    chains: Vec<(PageId, usize)>,
}

impl BTree {
    /// Builds the tree from `batch` into fresh pages and installs it (see the module
    /// header). The caller holds the write gate; the tree was empty when it looked.
    pub(super) fn build_into_empty(&self, batch: &mut dyn SortedBatch) -> Result<()> {
        let mut built = Built::default();
        match self.build_pages(batch, &mut built) {
            Ok(Some(top)) => {
                if self.install(top)? {
                    return Ok(());
                }
                // A concurrent writer filled the root first. The batch is consumed, but
                // the built pages hold it: move their entries over, then free them.
                self.replay_built_then_free(top, built)
            }
            Ok(None) => Ok(()),
            Err(e) => {
                self.free_built(&built);
                Err(e)
            }
        }
    }

    /// Writes the leaves and internal nodes; returns the top node's page (`None` if the
    /// batch held no puts).
    fn build_pages(
        &self,
        batch: &mut dyn SortedBatch,
        built: &mut Built,
    ) -> Result<Option<PageId>> {
        let body = self.pager.body_size();
        let target = policy::bulk_fill_target(body);
        let mut last_key: Vec<u8> = Vec::new();
        let mut prev: Option<PageMut> = None;
        let mut cur: Option<PageMut> = None;
        let mut first_leaf = PageId::NONE;
        let mut separators: Vec<(Vec<u8>, PageId)> = Vec::new();
        // Removes are skipped, here and below: removing from an empty tree removes
        // nothing.
        let first = loop {
            match batch.next_op() {
                Some(BatchOp { value: None, .. }) => continue,
                op => break op,
            }
        };
        // The first cell of the next leaf: the one the current leaf had no room for.
        let mut pending = match first {
            Some(BatchOp {
                key,
                value: Some(value),
            }) => Some(self.cell_of(key, value, None, built)?),
            _ => None,
        };
        while let Some((key, value, cell_len)) = pending.take() {
            let mut next = self.pager.allocate()?;
            built.nodes.push(next.id());
            NodeMut::init(next.body_mut(), 0, PageId::NONE);
            next.mark_checked();
            match cur.take() {
                Some(mut closed) => {
                    NodeMut::new(closed.body_mut()).set_link(next.id());
                    separators.push((shortest_separator(&last_key, key), next.id()));
                    prev = Some(closed);
                }
                None => first_leaf = next.id(),
            }
            // The leaf's bytes are borrowed once for all its cells (each `body_mut`
            // checks that the page's buffer is not shared).
            let mut leaf = NodeMut::new(next.body_mut());
            // An empty leaf takes any cell (a cell is at most a quarter page).
            let mut cell = (key, value);
            let mut used = NODE_HEADER_SIZE + cell_len + SLOT_SIZE;
            loop {
                if !leaf.append_leaf(cell.0, cell.1) {
                    return Err(Error::Corrupted {
                        page: next.id().0,
                        reason: "a cell did not fit a leaf the build checked".into(),
                    });
                }
                last_key.clear();
                last_key.extend_from_slice(cell.0);
                let following = loop {
                    match batch.next_op() {
                        Some(BatchOp { value: None, .. }) => continue,
                        op => break op,
                    }
                };
                let next_cell = match following {
                    Some(BatchOp {
                        key,
                        value: Some(value),
                    }) => Some(self.cell_of(key, value, Some(&last_key), built)?),
                    _ => None,
                };
                match next_cell {
                    Some((key, value, cell_len)) if used + cell_len + SLOT_SIZE <= target => {
                        used += cell_len + SLOT_SIZE;
                        cell = (key, value);
                    }
                    more => {
                        pending = more;
                        break;
                    }
                }
            }
            cur = Some(next);
        }
        let Some(mut last) = cur else {
            return Ok(None);
        };
        if let Some(mut before) = prev
            && policy::is_underfull(NodeRef::of(&last)?.used(), body)
        {
            let cells = {
                let mut cells = NodeRef::of(&before)?.cells();
                cells.extend(NodeRef::of(&last)?.cells());
                cells
            };
            let split = split_cells(cells, 0, body, last.id())?;
            NodeMut::rebuild(before.body_mut(), 0, last.id(), &split.left);
            NodeMut::rebuild(last.body_mut(), 0, PageId::NONE, &split.right);
            if let Some(sep) = separators.last_mut() {
                sep.0 = split.separator;
            }
        }
        drop(last);
        self.build_internal_levels(first_leaf, separators, built)
            .map(Some)
    }

    /// A put of the batch as a leaf cell: its key, its value (written to an overflow
    /// chain first if it is too large to be inline) and the cell's length. Refuses a key
    /// not above `last` or too long for a page.
    fn cell_of<'b>(
        &self,
        key: &'b [u8],
        value: &'b [u8],
        last: Option<&[u8]>,
        built: &mut Built,
    ) -> Result<(&'b [u8], ValueRef<'b>, usize)> {
        let body = self.pager.body_size();
        if last.is_some_and(|last| key <= last) {
            return Err(Error::InvalidArgument(
                "a bottom-up build needs strictly increasing keys".into(),
            ));
        }
        if key.len() > policy::max_key_len(body) {
            return Err(Error::InvalidArgument(format!(
                "key of {} bytes exceeds the maximum of {} for this page size",
                key.len(),
                policy::max_key_len(body)
            )));
        }
        if policy::value_is_inline(body, key.len(), value.len()) {
            let len = LEAF_CELL_OVERHEAD + key.len() + value.len();
            return Ok((key, ValueRef::Inline(value), len));
        }
        let first = overflow::write(&self.pager, value)?;
        built.chains.push((first, value.len()));
        let overflow = ValueRef::Overflow {
            first,
            len: value.len(),
        };
        let len = LEAF_CELL_OVERHEAD + key.len() + policy::OVERFLOW_REF_SIZE;
        Ok((key, overflow, len))
    }

    /// Builds the levels above the leaves; returns the top node's page.
    fn build_internal_levels(
        &self,
        first: PageId,
        mut children: Vec<(Vec<u8>, PageId)>,
        built: &mut Built,
    ) -> Result<PageId> {
        let body = self.pager.body_size();
        let target = policy::bulk_fill_target(body);
        let mut first = first;
        let mut level = 0u8;
        while !children.is_empty() {
            level = level
                .checked_add(1)
                .ok_or_else(|| Error::InvalidArgument("tree too tall".into()))?;
            // Plan the nodes of this level.
            let mut nodes = vec![Planned::new(first)];
            let mut up: Vec<Vec<u8>> = Vec::new();
            for (sep, child) in children {
                let Some(node) = nodes.last_mut() else {
                    break;
                };
                let size = INTERNAL_CELL_OVERHEAD + sep.len() + SLOT_SIZE;
                if node.used + size <= target || node.cells.is_empty() {
                    node.used += size;
                    node.cells.push(internal_cell(&sep, child));
                } else {
                    up.push(sep);
                    nodes.push(Planned::new(child));
                }
            }
            // Even out the last two nodes if the last is too small.
            if nodes.len() >= 2
                && let Some(last) = nodes.last()
                && (last.cells.is_empty() || policy::is_underfull(last.used, body))
            {
                let (Some(last), Some(before), Some(sep)) = (nodes.pop(), nodes.pop(), up.pop())
                else {
                    return Err(Error::InvalidArgument("internal level lost a node".into()));
                };
                let mut cells = before.cells;
                cells.push(internal_cell(&sep, last.link));
                cells.extend(last.cells);
                let split = split_cells(cells, level, body, PageId::NONE)?;
                let right_link = split.right_link.ok_or_else(|| {
                    Error::InvalidArgument("internal split without a middle child".into())
                })?;
                nodes.push(Planned {
                    link: before.link,
                    cells: split.left,
                    used: 0,
                });
                nodes.push(Planned {
                    link: right_link,
                    cells: split.right,
                    used: 0,
                });
                up.push(split.separator);
            }
            // Write them.
            let mut ids = Vec::with_capacity(nodes.len());
            for node in &nodes {
                let mut page = self.pager.allocate()?;
                built.nodes.push(page.id());
                NodeMut::rebuild(page.body_mut(), level, node.link, &node.cells);
                page.mark_checked();
                ids.push(page.id());
            }
            first = ids[0];
            children = up.into_iter().zip(ids.into_iter().skip(1)).collect();
        }
        Ok(first)
    }

    /// Copies the built top node into the root if the root is still an empty leaf, and
    /// frees the top page. `false` (nothing changed) if the root is no longer empty.
    fn install(&self, top: PageId) -> Result<bool> {
        let mut root = self.pager.write(self.root)?;
        {
            let node = NodeRef::of(&root)?;
            if !(node.is_leaf() && node.is_empty()) {
                return Ok(false);
            }
        }
        let top_page = self.pager.write(top)?;
        root.body_mut().copy_from_slice(top_page.body());
        drop(root);
        self.pager.free(top_page);
        Ok(true)
    }

    /// The install lost a race: puts every entry of the built tree into the real tree
    /// through the cursor path, then frees the built pages.
    fn replay_built_then_free(&self, top: PageId, built: Built) -> Result<()> {
        let mut entries: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::new();
        let shadow = BTree::open_root(&self.pager, top);
        shadow.collect_entries(top, &mut entries)?;
        self.free_built(&built);
        self.apply_with_cursor(&mut super::batch::SliceBatch::new(&entries))
    }

    /// Every entry under `id`, in order, values copied out (overflow chains included).
    fn collect_entries(&self, id: PageId, out: &mut Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Result<()> {
        let page = self.pager.read(id)?;
        let node = NodeRef::of(&page)?;
        if node.is_leaf() {
            for i in 0..node.len() {
                out.push((node.key(i).to_vec(), Some(self.load_value(node.value(i))?)));
            }
            return Ok(());
        }
        let children: Vec<PageId> = (0..=node.len()).map(|i| node.child(i)).collect();
        drop(page);
        children
            .into_iter()
            .try_for_each(|child| self.collect_entries(child, out))
    }

    /// Frees every page a build allocated (best effort: it runs on a failure path).
    fn free_built(&self, built: &Built) {
        for (first, len) in &built.chains {
            let _ = overflow::free(&self.pager, *first, *len);
        }
        for id in &built.nodes {
            if let Ok(page) = self.pager.write(*id) {
                self.pager.free(page);
            }
        }
    }
}
