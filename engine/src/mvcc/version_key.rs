//! Versioned tree keys: `esc(user_key) ‖ !commit_ts`, and tree values `tag ‖ row`.
//!
//! `esc` copies the user key, writing each 0x00 byte as `00 FF`, and ends it with
//! `00 01`. That makes escaped keys *prefix-free* (no escaped key is a prefix of
//! another, because the terminator `00 01` cannot occur inside one) and *order
//! preserving* (`a < b` exactly when `esc(a) < esc(b)`). So:
//!
//! - all versions of one user key are contiguous and start with `esc(key)`;
//! - user keys compare before versions do, whatever their lengths;
//! - a range of user keys maps to a range of tree keys ([`tree_range`]).
//!
//! The timestamp is stored as `u64::MAX - ts`, big-endian, so newer versions sort first.
//! The tree value starts with [`TAG_VALUE`] and the row bytes, or is the single byte
//! [`TAG_TOMBSTONE`] for a delete.

use std::ops::Bound;

use crate::error::{Error, Result};
use crate::mvcc::clock::CommitTs;

/// Bytes of the timestamp suffix.
pub const TS_LEN: usize = 8;
/// Tree value of a delete.
pub const TAG_TOMBSTONE: u8 = 0x00;
/// First byte of a tree value that holds a row.
pub const TAG_VALUE: u8 = 0x01;

const ESCAPE: u8 = 0x00;
const ESCAPED_ZERO: u8 = 0xFF;
const TERMINATOR: u8 = 0x01;
/// The byte that replaces the terminator to make a key that sorts after every version.
const PAST_TERMINATOR: u8 = 0x02;

/// Appends `esc(user_key)` to `out`.
pub fn encode_prefix_into(user_key: &[u8], out: &mut Vec<u8>) {
    // Room for the worst case (every byte escaped) is made once, each byte is written
    // with its would-be escape after it, and the cursor steps past the escape only
    // after a 0x00: no capacity check or branch per byte (every commit and every seek
    // escapes its keys, and integer keys are mostly zero bytes).
    let start = out.len();
    out.resize(start + 2 * user_key.len() + 2, 0);
    let room = &mut out[start..];
    let mut n = 0;
    for &byte in user_key {
        room[n] = byte;
        room[n + 1] = ESCAPED_ZERO;
        n += 1 + usize::from(byte == ESCAPE);
    }
    room[n] = ESCAPE;
    room[n + 1] = TERMINATOR;
    out.truncate(start + n + 2);
}

/// `esc(user_key)`: the prefix every version of `user_key` starts with.
pub fn encode_prefix(user_key: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_prefix_into(user_key, &mut out);
    out
}

/// The tree key of `user_key`'s version at `ts`.
pub fn encode(user_key: &[u8], ts: CommitTs) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(user_key, ts, &mut out);
    out
}

/// The length of [`encode`]`(user_key, ts)` for any `ts`: what a version of `user_key`
/// takes as a tree key, so a key can be checked against the store's limit before anything
/// is written.
pub fn encoded_len(user_key: &[u8]) -> usize {
    let escaped_zeros = user_key.iter().filter(|&&byte| byte == ESCAPE).count();
    user_key.len() + escaped_zeros + 2 + TS_LEN
}

/// [`encode`] into `out`, replacing its contents (so a batch reuses one buffer).
pub fn encode_into(user_key: &[u8], ts: CommitTs, out: &mut Vec<u8>) {
    out.clear();
    encode_prefix_into(user_key, out);
    out.extend_from_slice(&(u64::MAX - ts.0).to_be_bytes());
}

/// The timestamp of a tree key.
pub fn decode_ts(tree_key: &[u8]) -> Result<CommitTs> {
    let split = tree_key
        .len()
        .checked_sub(TS_LEN)
        .ok_or_else(|| Error::CorruptData("versioned key shorter than its timestamp".into()))?;
    let mut ts_bytes = [0u8; TS_LEN];
    ts_bytes.copy_from_slice(&tree_key[split..]);
    Ok(CommitTs(u64::MAX - u64::from_be_bytes(ts_bytes)))
}

/// A key that sorts after every version of the user key whose prefix is `prefix`, and
/// before the next user key.
pub fn past_prefix(prefix: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    if let Some(last) = out.last_mut() {
        *last = PAST_TERMINATOR;
    }
    out
}

/// Splits a tree key into the user key and the timestamp.
pub fn decode(tree_key: &[u8]) -> Result<(Vec<u8>, CommitTs)> {
    let corrupt = |why: &str| Error::CorruptData(format!("versioned key: {why}"));
    let split = tree_key
        .len()
        .checked_sub(TS_LEN)
        .ok_or_else(|| corrupt("shorter than its timestamp"))?;
    let (escaped, ts) = tree_key.split_at(split);
    let mut ts_bytes = [0u8; TS_LEN];
    ts_bytes.copy_from_slice(ts);
    let ts = CommitTs(u64::MAX - u64::from_be_bytes(ts_bytes));

    let mut user_key = Vec::with_capacity(escaped.len());
    let mut bytes = escaped.iter().copied();
    while let Some(byte) = bytes.next() {
        if byte != ESCAPE {
            user_key.push(byte);
            continue;
        }
        match bytes.next() {
            Some(ESCAPED_ZERO) => user_key.push(ESCAPE),
            Some(TERMINATOR) if bytes.next().is_none() => return Ok((user_key, ts)),
            _ => return Err(corrupt("bad escape sequence")),
        }
    }
    Err(corrupt("missing terminator"))
}

/// Appends the user key of the escaped `prefix` (a tree key without its timestamp) to
/// `out`, allocating nothing when `out` has room.
pub fn decode_prefix_into(prefix: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let corrupt = |why: &str| Error::CorruptData(format!("versioned key: {why}"));
    let mut bytes = prefix.iter().copied();
    while let Some(byte) = bytes.next() {
        if byte != ESCAPE {
            out.push(byte);
            continue;
        }
        match bytes.next() {
            Some(ESCAPED_ZERO) => out.push(ESCAPE),
            Some(TERMINATOR) if bytes.next().is_none() => return Ok(()),
            _ => return Err(corrupt("bad escape sequence")),
        }
    }
    Err(corrupt("missing terminator"))
}

/// Decodes an `esc(user_key)` prefix (a tree key without its timestamp).
pub fn decode_prefix(prefix: &[u8]) -> Result<Vec<u8>> {
    let mut tree_key = prefix.to_vec();
    tree_key.extend_from_slice(&[0; TS_LEN]);
    decode(&tree_key).map(|(user_key, _)| user_key)
}

/// The length of the `esc(user_key)` part of a tree key (everything but the timestamp).
pub fn prefix_len(tree_key: &[u8]) -> Result<usize> {
    tree_key
        .len()
        .checked_sub(TS_LEN)
        .ok_or_else(|| Error::CorruptData("versioned key shorter than its timestamp".into()))
}

/// Maps a range of user keys to the range of tree keys holding all their versions.
pub fn tree_range(lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let lower = match lower {
        Bound::Included(key) => Bound::Included(encode_prefix(key)),
        Bound::Excluded(key) => Bound::Included(past_prefix(&encode_prefix(key))),
        Bound::Unbounded => Bound::Unbounded,
    };
    let upper = match upper {
        Bound::Included(key) => Bound::Excluded(past_prefix(&encode_prefix(key))),
        Bound::Excluded(key) => Bound::Excluded(encode_prefix(key)),
        Bound::Unbounded => Bound::Unbounded,
    };
    (lower, upper)
}

/// The tree value for a write: the row, or a tombstone for `None`.
pub fn encode_value(value: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.map_or(0, <[u8]>::len) + 1);
    encode_value_into(value, &mut out);
    out
}

/// [`encode_value`] into `out`, replacing its contents.
pub fn encode_value_into(value: Option<&[u8]>, out: &mut Vec<u8>) {
    out.clear();
    match value {
        Some(row) => {
            out.push(TAG_VALUE);
            out.extend_from_slice(row);
        }
        None => out.push(TAG_TOMBSTONE),
    }
}

/// Reads a tree value: `Some(row)`, or `None` for a tombstone.
pub fn decode_value(tree_value: &[u8]) -> Result<Option<&[u8]>> {
    match tree_value.split_first() {
        Some((&TAG_VALUE, row)) => Ok(Some(row)),
        Some((&TAG_TOMBSTONE, [])) => Ok(None),
        _ => Err(Error::CorruptData("versioned value with a bad tag".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_keys_keep_order_and_versions_sort_newest_first() {
        let keys: [&[u8]; 6] = [b"", b"\x00", b"\x00\x00", b"\x00\xff", b"a", b"a\x00b"];
        for pair in keys.windows(2) {
            assert!(
                encode(pair[0], CommitTs(1)) < encode(pair[1], CommitTs(9)),
                "{pair:?}"
            );
        }
        assert!(encode(b"a", CommitTs(9)) < encode(b"a", CommitTs(1)));
        for key in keys {
            let tree_key = encode(key, CommitTs(42));
            let mut decoded = b"kept".to_vec();
            decode_prefix_into(&tree_key[..prefix_len(&tree_key).unwrap()], &mut decoded)
                .unwrap();
            assert_eq!(decoded, [b"kept", key].concat());
            assert_eq!(encode(key, CommitTs(42)).len(), encoded_len(key));
            assert_eq!(
                decode(&encode(key, CommitTs(42))).unwrap(),
                (key.to_vec(), CommitTs(42))
            );
        }
    }

    #[test]
    fn escaping_appends_each_byte_and_an_escape_after_each_zero() {
        let reference = |key: &[u8]| {
            let mut out = b"before".to_vec();
            for &byte in key {
                out.push(byte);
                if byte == ESCAPE {
                    out.push(ESCAPED_ZERO);
                }
            }
            out.extend_from_slice(&[ESCAPE, TERMINATOR]);
            out
        };
        // Every key of up to four bytes drawn from the bytes that matter.
        let alphabet = [0x00, 0x01, 0x02, 0xff, b'a'];
        let mut keys: Vec<Vec<u8>> = vec![Vec::new()];
        for len in 1..=4 {
            let shorter: Vec<Vec<u8>> = keys.iter().filter(|k| k.len() == len - 1).cloned().collect();
            for key in shorter {
                for &byte in &alphabet {
                    keys.push([key.as_slice(), &[byte]].concat());
                }
            }
        }
        for key in &keys {
            let mut out = b"before".to_vec();
            encode_prefix_into(key, &mut out);
            assert_eq!(out, reference(key), "{key:?}");
        }
    }

    #[test]
    fn ranges_cover_exactly_their_keys() {
        let (Bound::Included(lo), Bound::Excluded(hi)) =
            tree_range(Bound::Excluded(b"a"), Bound::Included(b"b"))
        else {
            panic!("unexpected bound kinds");
        };
        assert!(encode(b"a", CommitTs(0)) < lo);
        assert!(encode(b"a\x00", CommitTs(u64::MAX)) >= lo);
        assert!(encode(b"b", CommitTs(0)) < hi);
        assert!(encode(b"b\x00", CommitTs(u64::MAX)) >= hi);
    }

    #[test]
    fn bad_bytes_are_errors() {
        for bad in [&b""[..], b"1234567", b"ab\x00\x0712345678", b"ab12345678"] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
        for bad in [&b""[..], b"ab", b"ab\x00\x07", b"a\x00\x01b"] {
            assert!(decode_prefix_into(bad, &mut Vec::new()).is_err(), "{bad:?}");
        }
        assert!(decode_value(b"").is_err());
        assert!(decode_value(b"\x00x").is_err());
    }
}
