//! # Chunks: a leaf's entries lent from one reused buffer
//!
//! A sequential scan that asked the [`super::Cursor`] for owned entries paid two
//! allocations per entry (its key and its value) before anything above looked at it.
//! [`EntryChunk`] is the lending alternative: the entries of one leaf (or of any run of
//! entries, for stores without leaves) are copied into one byte buffer, their spans into
//! one vector, and both are cleared and refilled by the next chunk, so a scan allocates
//! only while its buffers still grow — in practice for the first leaf. Entries are read
//! back as borrowed `(&[u8], &[u8])` slices that live as long as the chunk is not
//! refilled, which the borrow checker enforces: no unsafe code and no lifetime tied to a
//! page.
//!
//! [`BTree::read_leaf_into`] fills a chunk from one leaf. It takes the leaf's shared
//! latch exactly as a cursor's refill does (see "Concurrency" in `mod.rs`): it descends
//! from the root with shared latches, copies the qualifying entries (and the overflow
//! values among them) while it holds the leaf, and releases it before returning. So a
//! chunk is a consistent copy of one leaf, and no latch is held between chunks; a caller
//! continues after the chunk's last key, which is strictly beyond every earlier one, so
//! a scan makes progress on a tree that changes underneath it (as the cursor does). Keys
//! out of order within a leaf (a damaged page whose checksum passed) are an error, not a
//! loop.

use std::ops::Bound;

use super::BTree;
use super::latch::Seek;
use super::node::{NodeRef, ValueRef};
use crate::{Error, Result};

/// Entries (key, value) copied into one reused buffer; see the module header.
#[derive(Debug, Default, Clone)]
pub struct EntryChunk {
    bytes: Vec<u8>,
    /// Per entry: where its key starts, where its value starts (the key's end), and
    /// where its value ends.
    spans: Vec<[usize; 3]>,
}

impl EntryChunk {
    /// An empty chunk.
    pub fn new() -> EntryChunk {
        EntryChunk::default()
    }

    /// Forgets every entry, keeping the buffers' capacity.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }

    /// How many entries the chunk holds.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Appends an entry.
    pub fn push(&mut self, key: &[u8], value: &[u8]) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(key);
        let middle = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.spans.push([start, middle, self.bytes.len()]);
    }

    /// Appends an entry whose key `write_key` appends to the buffer it is given (say,
    /// while decoding it); if `write_key` fails, nothing is appended.
    pub fn push_with_key(
        &mut self,
        write_key: impl FnOnce(&mut Vec<u8>) -> Result<()>,
        value: &[u8],
    ) -> Result<()> {
        let start = self.bytes.len();
        if let Err(e) = write_key(&mut self.bytes) {
            self.bytes.truncate(start);
            return Err(e);
        }
        let middle = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.spans.push([start, middle, self.bytes.len()]);
        Ok(())
    }

    /// Entry `i`: its key and value. Panics if `i >= len()`, as slice indexing does.
    pub fn get(&self, i: usize) -> (&[u8], &[u8]) {
        let [start, middle, end] = self.spans[i];
        (&self.bytes[start..middle], &self.bytes[middle..end])
    }

    /// The key of the last entry.
    pub fn last_key(&self) -> Option<&[u8]> {
        self.spans
            .last()
            .map(|&[start, middle, _]| &self.bytes[start..middle])
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Removes the entries from `at` on.
    fn truncate(&mut self, at: usize) {
        if let Some(&[start, _, _]) = self.spans.get(at) {
            self.bytes.truncate(start);
            self.spans.truncate(at);
        }
    }
}

fn below(key: &[u8], upper: Bound<&[u8]>) -> bool {
    match upper {
        Bound::Included(k) => key <= k,
        Bound::Excluded(k) => key < k,
        Bound::Unbounded => true,
    }
}

fn above(key: &[u8], lower: Bound<&[u8]>) -> bool {
    match lower {
        Bound::Included(k) => key >= k,
        Bound::Excluded(k) => key > k,
        Bound::Unbounded => true,
    }
}

impl BTree {
    /// Appends to `chunk` the entries within `(lower, upper)` of the first leaf that has
    /// any, in ascending key order (see the module header). Returns whether entries may
    /// follow in later leaves: `false` once the range ended in this leaf, or when no leaf
    /// has any (then nothing was appended).
    pub fn read_leaf_into(
        &self,
        lower: Bound<&[u8]>,
        upper: Bound<&[u8]>,
        chunk: &mut EntryChunk,
    ) -> Result<bool> {
        let first = chunk.len();
        // After a leaf with nothing in range, the next starts at its upper fence.
        let mut fence: Option<Vec<u8>> = None;
        loop {
            let from = match &fence {
                Some(f) => Bound::Included(f.as_slice()),
                None => lower,
            };
            let seek = match from {
                Bound::Included(k) | Bound::Excluded(k) => Seek::Ge(k),
                Bound::Unbounded => Seek::First,
            };
            let descent = self.descend_shared(&seek, true)?;
            let leaf = &descent.leaf;
            let node = NodeRef::of(leaf)?;
            let start = match from {
                Bound::Included(k) => node.lower_bound(k),
                Bound::Excluded(k) => node.upper_bound(k),
                Bound::Unbounded => 0,
            };
            for i in start..node.len() {
                let key = node.key(i);
                if !below(key, upper) {
                    return Ok(false);
                }
                let in_order = match chunk.len() > first {
                    true => chunk.last_key().is_some_and(|last| key > last),
                    false => above(key, from),
                };
                if !in_order {
                    chunk.truncate(first);
                    return Err(Error::Corrupted {
                        page: leaf.id().0,
                        reason: "keys out of order: a scan cannot advance".into(),
                    });
                }
                match node.value(i) {
                    ValueRef::Inline(value) => chunk.push(key, value),
                    overflow => {
                        let value = self.load_value(overflow)?;
                        chunk.push(key, &value);
                    }
                }
            }
            let next = match descent.upper {
                Some(f) if below(&f, upper) => f,
                _ => return Ok(false),
            };
            if chunk.len() > first {
                return Ok(true);
            }
            if !above(&next, from) || fence.as_ref().is_some_and(|f| next <= *f) {
                return Err(Error::Corrupted {
                    page: leaf.id().0,
                    reason: "separators out of order: a scan cannot advance".into(),
                });
            }
            fence = Some(next);
        }
    }
}

/// Where a chunked scan goes on from: just past the last key it returned.
pub fn continue_after(lower: &mut Bound<Vec<u8>>, chunk: &EntryChunk) {
    let Some(last) = chunk.last_key() else {
        return;
    };
    match lower {
        Bound::Excluded(key) => {
            key.clear();
            key.extend_from_slice(last);
        }
        other => *other = Bound::Excluded(last.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_lends_what_was_pushed_and_reuses_its_buffers() {
        let mut chunk = EntryChunk::new();
        chunk.push(b"a", b"1");
        chunk
            .push_with_key(
                |out| {
                    out.extend_from_slice(b"bb");
                    Ok(())
                },
                b"",
            )
            .unwrap();
        assert!(
            chunk
                .push_with_key(
                    |out| {
                        out.push(b'x');
                        Err(Error::CorruptData("no".into()))
                    },
                    b"zz",
                )
                .is_err()
        );
        let entries: Vec<_> = chunk.iter().collect();
        assert_eq!(entries, vec![(&b"a"[..], &b"1"[..]), (&b"bb"[..], &b""[..])]);
        assert_eq!(chunk.last_key(), Some(&b"bb"[..]));
        let capacity = chunk.bytes.capacity();
        chunk.clear();
        assert!(chunk.is_empty());
        chunk.push(b"c", b"3");
        assert_eq!(chunk.bytes.capacity(), capacity);
        let mut lower = Bound::Unbounded;
        continue_after(&mut lower, &chunk);
        assert_eq!(lower, Bound::Excluded(b"c".to_vec()));
    }
}
