//! # Log records and their payload encoding
//!
//! A frame (see [`mod@super::format`]) carries a *kind* byte and a payload. The only kind so
//! far is the commit record, [`KIND_COMMIT`]; its payload is:
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

/// The frame kind of a commit record.
pub const KIND_COMMIT: u8 = 1;

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

/// Appends the payload of a commit record (see the module header) to `out`. Returns how
/// many writes the iterator actually yielded: the record is well formed only if that is
/// the length it announced.
pub fn encode_commit<'a>(
    commit_ts: u64,
    writes: impl ExactSizeIterator<Item = WriteRef<'a>>,
    out: &mut Vec<u8>,
) -> usize {
    out.extend_from_slice(&commit_ts.to_le_bytes());
    put_varint(out, writes.len() as u64);
    let mut written = 0;
    for write in writes {
        written += 1;
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
    written
}

/// Everything a committed transaction changed, and when it committed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitRecord {
    pub commit_ts: u64,
    pub writes: Vec<Write>,
}

/// A record read back from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Commit(CommitRecord),
}

impl CommitRecord {
    /// Appends this record's payload (see the module header) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        // A slice's iterator yields exactly its length.
        encode_commit(self.commit_ts, self.writes.iter().map(Write::borrowed), out);
    }

    /// Decodes a commit payload; `Err` says what is wrong with it.
    pub fn decode(payload: &[u8]) -> Result<CommitRecord, String> {
        let mut r = Reader { bytes: payload };
        let commit_ts = u64::from_le_bytes(r.array()?);
        let count = usize::try_from(r.varint()?).map_err(|_| "write count overflows")?;
        if count > r.bytes.len() / MIN_WRITE_LEN {
            return Err(format!(
                "{count} writes cannot fit in {} bytes",
                r.bytes.len()
            ));
        }
        let mut writes = Vec::with_capacity(count);
        for _ in 0..count {
            let op = r.byte()?;
            let tree = u32::try_from(r.varint()?).map_err(|_| "tree id overflows u32")?;
            let key = r.bytes()?.to_vec();
            let value = match op {
                OP_PUT => Some(r.bytes()?.to_vec()),
                OP_DELETE => None,
                other => return Err(format!("unknown write op {other}")),
            };
            writes.push(Write { tree, key, value });
        }
        if !r.bytes.is_empty() {
            return Err(format!("{} trailing bytes after the writes", r.bytes.len()));
        }
        Ok(CommitRecord { commit_ts, writes })
    }
}

impl Record {
    /// Decodes the payload of a frame of `kind`.
    pub fn decode(kind: u8, payload: &[u8]) -> Result<Record, String> {
        match kind {
            KIND_COMMIT => CommitRecord::decode(payload).map(Record::Commit),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CommitRecord {
        CommitRecord {
            commit_ts: 42,
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
        assert_eq!(CommitRecord::decode(&buf), Ok(empty));
    }

    #[test]
    fn every_truncation_and_garbage_is_an_error_not_a_panic() {
        let mut buf = Vec::new();
        sample().encode(&mut buf);
        for len in 0..buf.len() {
            assert!(CommitRecord::decode(&buf[..len]).is_err(), "prefix {len}");
        }
        let mut longer = buf.clone();
        longer.push(0);
        assert!(CommitRecord::decode(&longer).is_err());
        assert!(Record::decode(99, &buf).is_err());
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let junk: Vec<u8> = (0..(state % 64))
                .map(|i| (state >> (i % 56)) as u8)
                .collect();
            let _ = CommitRecord::decode(&junk);
        }
        let overlong = [0u8; 8].into_iter().chain([0xffu8; 11]).collect::<Vec<_>>();
        assert!(CommitRecord::decode(&overlong).is_err());
    }
}
