//! # Size limits and rebalancing policy
//!
//! All sizes are in bytes of a page *body* (the page minus the pager's 24-byte header),
//! written `B` below. Every rule the tree uses to decide "does it fit", "is it too empty"
//! or "is this node safe to release early" is a named function here, with its reason.

use super::node::{INTERNAL_CELL_OVERHEAD, LEAF_CELL_OVERHEAD, NODE_HEADER_SIZE, SLOT_SIZE};

/// Bytes of an overflow reference stored in a leaf cell instead of the value.
pub const OVERFLOW_REF_SIZE: usize = 8;

/// The largest cell (plus its slot) any node holds: a quarter of the body. With every cell
/// at most `B/4`, a node that overflows by one cell (at most `5B/4` of cells) splits into
/// two halves that each fit, an internal node always holds at least four separators, and
/// a value over about a quarter page goes to overflow pages, as the design asks.
pub const fn max_cell_size(body: usize) -> usize {
    body / 4
}

/// The longest key the tree accepts: a leaf cell with that key and an overflow reference
/// must stay within [`max_cell_size`]. 233 bytes for 1 KiB pages, 1001 bytes for 4 KiB
/// pages, 105 bytes for 512-byte pages. Longer keys are `Error::InvalidArgument`.
pub const fn max_key_len(body: usize) -> usize {
    max_cell_size(body) - SLOT_SIZE - LEAF_CELL_OVERHEAD - OVERFLOW_REF_SIZE
}

/// Whether a value is stored inline in the leaf cell (else in an overflow chain): inline
/// exactly when the whole cell stays within [`max_cell_size`].
pub fn value_is_inline(body: usize, key_len: usize, value_len: usize) -> bool {
    SLOT_SIZE + LEAF_CELL_OVERHEAD + key_len + value_len <= max_cell_size(body)
}

/// The space an internal separator with the longest key takes, slot included: what an
/// internal node must have free to absorb any separator a child split can push up.
pub fn max_internal_entry(body: usize) -> usize {
    SLOT_SIZE + INTERNAL_CELL_OVERHEAD + max_key_len(body)
}

/// A non-root node is *underfull* — and is merged with, or refilled from, a sibling —
/// when it uses less than a quarter of the body. Splits leave each half with at least
/// `(B - B/4) / 2 = 3B/8`, so a freshly split node must lose an eighth of a page before it
/// becomes mergeable: split and merge cannot oscillate on a single entry unless entries
/// are near the maximum size, and a merged node (at most `B`) never needs to split again
/// immediately. A quarter (rather than a half) also keeps deletes cheap: most deletes
/// change one leaf only.
pub fn is_underfull(used: usize, body: usize) -> bool {
    used < body / 4
}

/// How full a bottom-up build packs each node: 90% of the page, so a later insert into a
/// built tree finds room without splitting at once (PostgreSQL's B-tree leaves use the
/// same default), while a built tree stays about a tenth smaller than one grown by
/// random inserts (whose nodes average about 70%). Bytes of header, slots and cells.
pub fn bulk_fill_target(body: usize) -> usize {
    NODE_HEADER_SIZE + cell_capacity(body) * 9 / 10
}

/// The smallest batch [`super::BTree::apply_sorted`] builds bottom-up into an empty
/// tree: below it the leaf cursor costs about the same, and a small batch should not
/// pay for allocating a separate top node.
pub const BULK_BUILD_MIN_OPS: usize = 64;

/// Capacity for cells and slots in a node.
pub fn cell_capacity(body: usize) -> usize {
    body - NODE_HEADER_SIZE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_key_limits_hold() {
        assert_eq!(max_key_len(1024 - 24), 233);
        assert_eq!(max_key_len(4096 - 24), 1001);
        assert_eq!(max_key_len(512 - 24), 105);
        // An internal node holds at least four maximal separators.
        let body = 512 - 24;
        assert!(4 * max_internal_entry(body) <= cell_capacity(body));
    }
}
