//! # Sorting entries by their 16-byte key heads: a radix sort with a comparison fallback
//!
//! The bulk paths sort many entries whose keys live in an arena: a transaction's
//! writes at commit (`mvcc/write_set.rs`) and an index's entries in CREATE INDEX
//! (`table/index_build.rs`). Each entry carries its key's *head* — the first 16 bytes,
//! big-endian, zero-padded ([`head_of`]) — so that almost every comparison is decided by
//! two integers without touching the arena. A comparison sort still costs about
//! `log2(n)` such comparisons per entry, each a poorly predicted branch: for a million
//! entries, about 20.
//!
//! [`sort_by_head`] sorts by the heads' bytes instead, most significant first (an
//! in-place MSD radix sort, "American flag sort": count the entries per value of one
//! byte, then swap each entry into its byte's bucket, then sort each bucket by the
//! next byte). Two things make it fit keys as H encodes them:
//!
//! - **Bytes every entry shares are skipped.** Before each pass the heads of the
//!   entries are compared with the first one (one XOR and OR per entry), and the pass
//!   sorts by the first byte in which any of them differ. An integer column's keys
//!   share their type tag and the high bytes of their values (a million consecutive
//!   integers differ only in their last three bytes), so those bytes cost one cheap
//!   pass, not a pass each.
//! - **Small buckets and ties fall back to comparisons.** A bucket of at most
//!   [`SMALL`] entries is sorted by comparing heads, and then keys (the caller's `tie`)
//!   where heads are equal; so are the entries whose heads are all equal (keys longer
//!   than 16 bytes that share their first 16 bytes).
//!
//! The result is the order of `(head, tie)` — exactly what a comparison sort with
//! `head(a).cmp(head(b)).then_with(|| tie(a, b))` gives — and like `sort_unstable` it
//! does not keep equal entries in their original order. Memory: nothing beyond a
//! counting table per level of recursion (at most 17 levels, one per head byte and one
//! for the ties). `tests` checks it against the comparison sort.

use std::cmp::Ordering;

/// Buckets this small are sorted by comparisons.
const SMALL: usize = 48;

/// A key's first 16 bytes, big-endian, zero-padded: the head [`sort_by_head`] sorts by.
/// A shorter key sorts before a longer one with the same bytes only through `tie`.
pub(crate) fn head_of(key: &[u8]) -> (u64, u64) {
    let mut bytes = [0u8; 16];
    let n = key.len().min(16);
    bytes[..n].copy_from_slice(&key[..n]);
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_be_bytes(w)
    };
    (word(0), word(8))
}

fn wide((hi, lo): (u64, u64)) -> u128 {
    (u128::from(hi) << 64) | u128::from(lo)
}

/// Sorts `items` by `head`, and by `tie` among items with equal heads (see the module
/// header).
pub(crate) fn sort_by_head<T>(
    items: &mut [T],
    head: impl Fn(&T) -> (u64, u64) + Copy,
    tie: impl Fn(&T, &T) -> Ordering + Copy,
) {
    let key = move |x: &T| wide(head(x));
    sort_bucket(items, key, tie);
}

fn compare_sort<T>(
    items: &mut [T],
    key: impl Fn(&T) -> u128 + Copy,
    tie: impl Fn(&T, &T) -> Ordering + Copy,
) {
    items.sort_unstable_by(|a, b| key(a).cmp(&key(b)).then_with(|| tie(a, b)));
}

fn sort_bucket<T>(
    items: &mut [T],
    key: impl Fn(&T) -> u128 + Copy,
    tie: impl Fn(&T, &T) -> Ordering + Copy,
) {
    if items.len() <= SMALL {
        compare_sort(items, key, tie);
        return;
    }
    let first = key(&items[0]);
    let differ = items.iter().fold(0u128, |acc, x| acc | (key(x) ^ first));
    if differ == 0 {
        // Every head is equal: only the keys themselves can order these.
        items.sort_unstable_by(tie);
        return;
    }
    // The most significant byte in which some heads differ (0 = the head's first byte).
    let byte = differ.leading_zeros() / 8;
    let shift = 120 - 8 * byte;
    let digit = move |x: &T| ((key(x) >> shift) & 0xff) as usize;

    let mut counts = [0usize; 256];
    for x in items.iter() {
        counts[digit(x)] += 1;
    }
    // Bucket b occupies starts[b]..ends[b]; next[b] is its first slot not yet filled.
    let mut starts = [0usize; 256];
    let mut at = 0;
    for (b, count) in counts.iter().enumerate() {
        starts[b] = at;
        at += count;
    }
    let mut next = starts;
    for b in 0..256 {
        let end = starts[b] + counts[b];
        while next[b] < end {
            let d = digit(&items[next[b]]);
            if d == b {
                next[b] += 1;
            } else {
                // Send this entry to its own bucket and look at what came back.
                items.swap(next[b], next[d]);
                next[d] += 1;
            }
        }
    }
    for b in 0..256 {
        let bucket = &mut items[starts[b]..starts[b] + counts[b]];
        if bucket.len() > 1 {
            sort_bucket(bucket, key, tie);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(keys: Vec<Vec<u8>>) {
        let mut ids: Vec<usize> = (0..keys.len()).collect();
        sort_by_head(
            &mut ids,
            |&i| head_of(&keys[i]),
            |&a, &b| keys[a].cmp(&keys[b]),
        );
        let got: Vec<&[u8]> = ids.iter().map(|&i| keys[i].as_slice()).collect();
        let mut want: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        want.sort();
        assert_eq!(got, want);
    }

    proptest! {
        #[test]
        fn sorts_as_the_keys_compare(
            keys in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..24), 0..600),
        ) {
            check(keys);
        }

        // Keys that share long prefixes and differ in a few bytes, beyond the head too.
        #[test]
        fn sorts_keys_with_shared_prefixes(
            tails in prop::collection::vec((0u8..4, 0u8..3, prop::collection::vec(0u8..3, 0..4)), 0..600),
            prefix_len in 0usize..20,
        ) {
            let keys = tails
                .into_iter()
                .map(|(a, b, rest)| {
                    let mut key = vec![7u8; prefix_len];
                    key.push(a);
                    key.extend(std::iter::repeat_n(0, usize::from(b)));
                    key.extend(rest);
                    key
                })
                .collect();
            check(keys);
        }
    }

    #[test]
    fn sorts_a_large_integer_index() {
        // Integer-like keys: a shared tag and high bytes, then a row key after 9 bytes.
        let mut keys = Vec::new();
        let mut state: u64 = 1;
        for i in 0..20_000u64 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            let mut key = vec![0x21];
            key.extend_from_slice(&((state >> 40) % 5000).to_be_bytes());
            key.push(0x21);
            key.extend_from_slice(&i.to_be_bytes());
            keys.push(key);
        }
        keys.push(Vec::new());
        keys.push(vec![0x21]);
        check(keys);
    }
}
