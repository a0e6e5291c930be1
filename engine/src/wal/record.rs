//! # Log records and their payload encoding
//!
//! A frame (see [`mod@super::format`]) carries a *kind* byte and a payload. There are
//! three kinds. The **commit record**, [`KIND_COMMIT`], holds a whole transaction:
//!
//! ```text
//! commit_ts   u64 little-endian
//! count       varint                 -- number of writes
//! count times:
//!   op        u8                     -- 1 = put, 2 = delete
//!   tree      varint (u32)
//!   key_len   varint, key bytes
//!   value_len varint, value bytes    -- put only
//! ```
//!
//! A transaction whose writes are too many for one frame of reasonable size is logged
//! **in parts** (segment format version 3): its writes go first into *part* records,
//! [`KIND_PART`], each at most [`WalOptions::part_size`](super::WalOptions) bytes, and
//! then a **commit record in parts**, [`KIND_COMMIT_IN_PARTS`], names them by LSN:
//!
//! ```text
//! part                                commit in parts
//!   count  u32 little-endian            commit_ts  u64 little-endian
//!   count writes, as above              parts      varint
//!                                       parts times: lsn u64 little-endian (increasing)
//!                                       count      varint
//!                                       count writes, as above
//! ```
//!
//! A part has no timestamp and no meaning of its own: it belongs to the commit record
//! that names it, and its writes come before that record's own, in the order the parts
//! are named. Parts that no commit record names — the transaction failed, or the
//! process died, after they were written and before its commit record was — are
//! ignored by recovery. So the commit record is still the one record whose presence
//! decides whether the transaction committed, and the log's limit on a frame
//! ([`MAX_PAYLOAD_LEN`](super::format::MAX_PAYLOAD_LEN)) limits one write, not a
//! transaction. (A part's count is a fixed-width field because the writer learns it
//! only when the part is full; see `handle.rs`.)
//!
//! The log does not interpret trees: a put to tree `u32::MAX` is a deferred build's
//! marker, which the MVCC layer writes and recovery hands back to the table layer (see
//! `mvcc/commit.rs` and `docs/file-format.md`; segment format version 2).
//!
//! Varints are unsigned LEB128 (7 bits per byte, high bit = more follows), so the small
//! tree ids and short keys of a typical row cost one byte of length each. Decoding checks
//! every length against the bytes that remain and rejects trailing bytes, overlong
//! varints and unknown tags: bad bytes give an error, never a panic or a huge allocation.
//! A payload whose checksum passed but does not decode is corruption (the checksum says
//! these are the bytes that were written).

use super::Lsn;

/// The frame kind of a commit record.
pub const KIND_COMMIT: u8 = 1;
/// The frame kind of a part of a commit record, written before it.
pub const KIND_PART: u8 = 2;
/// The frame kind of a commit record whose writes begin in parts written before it.
pub const KIND_COMMIT_IN_PARTS: u8 = 3;
/// Bytes of a part's fixed-width write count.
pub const PART_COUNT_LEN: usize = 4;

const OP_PUT: u8 = 1;
const OP_DELETE: u8 = 2;
/// The most bytes a LEB128-encoded u64 may take.
const MAX_VARINT_LEN: usize = 10;
/// The fewest payload bytes one write can occupy (op, tree, key length), used to reject a
/// count that the remaining bytes cannot hold before allocating for it.
const MIN_WRITE_LEN: usize = 3;

/// One write of a committed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The B-tree (table or index) written.
    pub tree: u32,
    pub key: Vec<u8>,
    /// The new value, or `None` for a delete.
    pub value: Option<Vec<u8>>,
}

impl Write {
    /// A put of `value` at `key` in `tree`.
    pub fn put(tree: u32, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Write {
        Write {
            tree,
            key: key.into(),
            value: Some(value.into()),
        }
    }

    /// A delete of `key` in `tree`.
    pub fn delete(tree: u32, key: impl Into<Vec<u8>>) -> Write {
        Write {
            tree,
            key: key.into(),
            value: None,
        }
    }
}

/// A borrowed [`Write`], so a caller can log its writes without copying keys and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRef<'a> {
    pub tree: u32,
    pub key: &'a [u8],
    /// The new value, or `None` for a delete.
    pub value: Option<&'a [u8]>,
}

impl Write {
    /// This write, borrowed.
    pub fn borrowed(&self) -> WriteRef<'_> {
        WriteRef {
            tree: self.tree,
            key: &self.key,
            value: self.value.as_deref(),
        }
    }
}

/// Appends the payload of a commit record (see the module header) to `out`: the form
/// without parts when `parts` is empty (frame kind [`KIND_COMMIT`]), the commit in parts
/// otherwise ([`KIND_COMMIT_IN_PARTS`], see [`commit_kind`]). Returns how many writes
/// the iterator actually yielded: the record is well formed only if that is the length
/// it announced.
pub fn encode_commit<'a>(
    commit_ts: u64,
    parts: &[Lsn],
    writes: impl ExactSizeIterator<Item = WriteRef<'a>>,
    out: &mut Vec<u8>,
) -> usize {
    out.extend_from_slice(&commit_ts.to_le_bytes());
    if !parts.is_empty() {
        put_varint(out, parts.len() as u64);
        for part in parts {
            out.extend_from_slice(&part.0.to_le_bytes());
        }
    }
    put_varint(out, writes.len() as u64);
    let mut written = 0;
    for write in writes {
        written += 1;
        encode_write(write, out);
    }
    written
}

/// The frame kind of a commit record that names `parts`.
pub fn commit_kind(parts: &[Lsn]) -> u8 {
    match parts.is_empty() {
        true => KIND_COMMIT,
        false => KIND_COMMIT_IN_PARTS,
    }
}

/// Appends one write's encoding (op, tree, key, value) to `out`.
pub fn encode_write(write: WriteRef<'_>, out: &mut Vec<u8>) {
    out.push(if write.value.is_some() {
        OP_PUT
    } else {
        OP_DELETE
    });
    put_varint(out, u64::from(write.tree));
    put_bytes(out, write.key);
    if let Some(value) = write.value {
        put_bytes(out, value);
    }
}

/// Starts a part's payload in `out` (after the frame header): a count to be filled in
/// by [`finish_part`] once the part's writes ([`encode_write`]) follow it.
pub fn start_part(out: &mut Vec<u8>) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0; PART_COUNT_LEN]);
    at
}

/// Fills in the count of the part started at `at` of `out`.
pub fn finish_part(out: &mut [u8], at: usize, count: u32) {
    out[at..at + PART_COUNT_LEN].copy_from_slice(&count.to_le_bytes());
}

/// Everything a committed transaction changed, and when it committed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitRecord {
    pub commit_ts: u64,
    /// The parts written before this record that hold its first writes, in order (see
    /// the module header); empty for a record that holds all of them.
    pub parts: Vec<Lsn>,
    /// The writes this record holds itself, which follow the parts' writes.
    pub writes: Vec<Write>,
}

/// A record read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Commit(CommitRecord),
    /// A part of a commit record, seen in passing: its writes are read when the commit
    /// record that names it is ([`PartRecord::decode`]).
    Part { writes: u32 },
}

/// The writes of one part of a commit record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartRecord {
    pub writes: Vec<Write>,
}

impl CommitRecord {
    /// Appends this record's payload (see the module header) to `out`; its frame kind is
    /// [`commit_kind`] of its parts.
    pub fn encode(&self, out: &mut Vec<u8>) {
        // A slice's iterator yields exactly its length.
        let writes = self.writes.iter().map(Write::borrowed);
        encode_commit(self.commit_ts, &self.parts, writes, out);
    }

    /// Decodes a commit payload of frame kind `kind` ([`KIND_COMMIT`] or
    /// [`KIND_COMMIT_IN_PARTS`]); `Err` says what is wrong with it.
    pub fn decode(kind: u8, payload: &[u8]) -> Result<CommitRecord, String> {
        let mut r = Reader { bytes: payload };
        let commit_ts = u64::from_le_bytes(r.array()?);
        let mut parts = Vec::new();
        if kind == KIND_COMMIT_IN_PARTS {
            let count = usize::try_from(r.varint()?).map_err(|_| "part count overflows")?;
            if count == 0 || count > r.bytes.len() / 8 {
                return Err(format!(
                    "{count} parts: none, or more than {} bytes hold",
                    r.bytes.len()
                ));
            }
            parts.reserve(count);
            for _ in 0..count {
                let part = Lsn(u64::from_le_bytes(r.array()?));
                if parts.last().is_some_and(|last| *last >= part) {
                    return Err(format!("part LSN {part} does not follow the one before"));
                }
                parts.push(part);
            }
        }
        let count = usize::try_from(r.varint()?).map_err(|_| "write count overflows")?;
        let writes = r.writes(count)?;
        Ok(CommitRecord {
            commit_ts,
            parts,
            writes,
        })
    }
}

impl PartRecord {
    /// Decodes a part's payload; `Err` says what is wrong with it.
    pub fn decode(payload: &[u8]) -> Result<PartRecord, String> {
        let mut r = Reader { bytes: payload };
        let count = u32::from_le_bytes(r.array()?);
        let count = usize::try_from(count).map_err(|_| "write count overflows")?;
        Ok(PartRecord {
            writes: r.writes(count)?,
        })
    }
}

impl Record {
    /// Decodes the payload of a frame of `kind`. A part's writes are not decoded here
    /// (see [`Record::Part`]).
    pub fn decode(kind: u8, payload: &[u8]) -> Result<Record, String> {
        match kind {
            KIND_COMMIT | KIND_COMMIT_IN_PARTS => {
                CommitRecord::decode(kind, payload).map(Record::Commit)
            }
            KIND_PART => {
                let mut r = Reader { bytes: payload };
                let writes = u32::from_le_bytes(r.array()?);
                Ok(Record::Part { writes })
            }
            other => Err(format!("unknown record kind {other}")),
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A cursor over a payload whose every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        if len > self.bytes.len() {
            return Err(format!("needs {len} bytes, {} remain", self.bytes.len()));
        }
        let (head, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut n = 0u64;
        for i in 0..MAX_VARINT_LEN {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            let shift = 7 * i as u32;
            if shift == 63 && bits > 1 {
                return Err("varint overflows u64".to_string());
            }
            n |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err("varint longer than 10 bytes".to_string())
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = usize::try_from(self.varint()?).map_err(|_| "length overflows")?;
        self.take(len)
    }

    /// Reads `count` writes that must be all that remains.
    fn writes(&mut self, count: usize) -> Result<Vec<Write>, String> {
        if count > self.bytes.len() / MIN_WRITE_LEN {
            return Err(format!(
                "{count} writes cannot fit in {} bytes",
                self.bytes.len()
            ));
        }
        let mut writes = Vec::with_capacity(count);
        for _ in 0..count {
            let op = self.byte()?;
            let tree = u32::try_from(self.varint()?).map_err(|_| "tree id overflows u32")?;
            let key = self.bytes()?.to_vec();
            let value = match op {
                OP_PUT => Some(self.bytes()?.to_vec()),
                OP_DELETE => None,
                other => return Err(format!("unknown write op {other}")),
            };
            writes.push(Write { tree, key, value });
        }
        if !self.bytes.is_empty() {
            return Err(format!("{} trailing bytes after the writes", self.bytes.len()));
        }
        Ok(writes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CommitRecord {
        CommitRecord {
            commit_ts: 42,
            parts: Vec::new(),
            writes: vec![
                Write::put(7, b"k1".to_vec(), vec![9u8; 300]),
                Write::delete(u32::MAX, b"".to_vec()),
                Write::put(0, vec![0xff; 200], Vec::new()),
            ],
        }
    }

    #[test]
    fn commit_records_round_trip() {
        let mut buf = Vec::new();
        sample().encode(&mut buf);
        assert_eq!(
            Record::decode(KIND_COMMIT, &buf),
            Ok(Record::Commit(sample()))
        );
        let empty = CommitRecord::default();
        let mut buf = Vec::new();
        empty.encode(&mut buf);
        assert_eq!(
            buf.len(),
            9,
            "an empty commit is its timestamp and a zero count"
        );
        assert_eq!(CommitRecord::decode(KIND_COMMIT, &buf), Ok(empty));
    }

    #[test]
    fn every_truncation_and_garbage_is_an_error_not_a_panic() {
        let mut buf = Vec::new();
        sample().encode(&mut buf);
        for len in 0..buf.len() {
            assert!(CommitRecord::decode(KIND_COMMIT, &buf[..len]).is_err(), "prefix {len}");
        }
        let mut longer = buf.clone();
        longer.push(0);
        assert!(CommitRecord::decode(KIND_COMMIT, &longer).is_err());
        assert!(Record::decode(99, &buf).is_err());
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let junk: Vec<u8> = (0..(state % 64))
                .map(|i| (state >> (i % 56)) as u8)
                .collect();
            let _ = CommitRecord::decode(KIND_COMMIT, &junk);
            let _ = Record::decode(KIND_COMMIT_IN_PARTS, &junk);
            let _ = Record::decode(KIND_PART, &junk);
            let _ = PartRecord::decode(&junk);
        }
        let overlong = [0u8; 8].into_iter().chain([0xffu8; 11]).collect::<Vec<_>>();
        assert!(CommitRecord::decode(KIND_COMMIT, &overlong).is_err());
    }

    #[test]
    fn commits_in_parts_and_parts_round_trip() {
        let record = CommitRecord {
            parts: vec![Lsn(100), Lsn(5000)],
            ..sample()
        };
        let mut buf = Vec::new();
        record.encode(&mut buf);
        assert_eq!(commit_kind(&record.parts), KIND_COMMIT_IN_PARTS);
        assert_eq!(
            Record::decode(KIND_COMMIT_IN_PARTS, &buf),
            Ok(Record::Commit(record.clone()))
        );
        for len in 0..buf.len() {
            assert!(CommitRecord::decode(KIND_COMMIT_IN_PARTS, &buf[..len]).is_err());
        }
        // Parts out of order, or none, are damage.
        let mut swapped = Vec::new();
        let writes = record.writes.iter().map(Write::borrowed);
        encode_commit(1, &[Lsn(9), Lsn(3)], writes, &mut swapped);
        assert!(CommitRecord::decode(KIND_COMMIT_IN_PARTS, &swapped).is_err());
        let mut none = 1u64.to_le_bytes().to_vec();
        none.extend_from_slice(&[0, 0]);
        assert!(CommitRecord::decode(KIND_COMMIT_IN_PARTS, &none).is_err());

        let mut part = Vec::new();
        let at = start_part(&mut part);
        for write in &sample().writes {
            encode_write(write.borrowed(), &mut part);
        }
        finish_part(&mut part, at, 3);
        assert_eq!(Record::decode(KIND_PART, &part), Ok(Record::Part { writes: 3 }));
        assert_eq!(
            PartRecord::decode(&part),
            Ok(PartRecord {
                writes: sample().writes
            })
        );
        finish_part(&mut part, at, 4);
        assert!(PartRecord::decode(&part).is_err(), "a count the writes do not match");
        for len in 0..part.len() {
            assert!(PartRecord::decode(&part[..len]).is_err(), "prefix {len}");
        }
    }
}
