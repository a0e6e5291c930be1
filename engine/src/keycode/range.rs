//! Byte ranges covering every key whose tuple starts with a given prefix.

use std::ops::Bound;

use super::{ColumnOrder, KeyValue, encode_ordered};

/// A half-open range of encoded keys: `start <= key < end`, with `end == None` meaning no
/// upper bound.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyRange {
    /// The smallest key in the range (inclusive).
    pub start: Vec<u8>,
    /// The first key past the range (exclusive), or `None` for "up to the largest key".
    pub end: Option<Vec<u8>>,
}

impl KeyRange {
    /// Whether `key` lies in the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        key >= self.start.as_slice() && self.end.as_deref().is_none_or(|end| key < end)
    }

    /// The range as a pair of [`Bound`]s, the form B-tree range scans take.
    pub fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        let end = match &self.end {
            Some(end) => Bound::Excluded(end.as_slice()),
            None => Bound::Unbounded,
        };
        (Bound::Included(self.start.as_slice()), end)
    }
}

/// The range of keys (encoded with [`encode`](super::encode)) whose tuples start with
/// `prefix`. The empty prefix gives every key.
pub fn prefix_range(prefix: &[KeyValue]) -> KeyRange {
    prefix_range_ordered(prefix, &[])
}

/// The range of keys (encoded with [`encode_ordered`] and these `orders`) whose tuples
/// start with `prefix`.
///
/// Exact because value encodings are prefix-free: a key starts with the bytes of
/// `encode(prefix)` if and only if its tuple starts with `prefix`.
pub fn prefix_range_ordered(prefix: &[KeyValue], orders: &[ColumnOrder]) -> KeyRange {
    let start = encode_ordered(prefix, orders);
    let end = prefix_end(&start);
    KeyRange { start, end }
}

/// The smallest byte string greater than every byte string that starts with `prefix`:
/// `prefix` with its trailing `0xFF` bytes dropped and its last byte incremented. `None`
/// when there is none (`prefix` is empty or all `0xFF`), i.e. the range is unbounded above.
///
/// Also the exclusive start of "every key after all keys with this prefix", e.g. for
/// `a = 1 AND b > 5` scan from `prefix_end(encode([1, 5]))`.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != 0xFF)?;
    let mut end = prefix[..=last].to_vec();
    end[last] += 1;
    Some(end)
}
