//! Forward scans at a snapshot that lend their entries a chunk at a time.
//!
//! [`TxnChunks`] is the allocation-free twin of a forward [`TxnScan`]: the store lends
//! tree entries a leaf at a time ([`TreeStore::scan_chunks`](super::TreeStore)), and
//! each is judged on borrowed bytes — its timestamp read in place, its escaped user key
//! compared in place with the last key already decided (escaping is one-to-one, so
//! escaped keys are equal exactly when user keys are) — and only the visible versions'
//! user keys and rows are copied, into the caller's reused [`EntryChunk`]. Nothing is
//! allocated per entry; the buffers grow while the first chunks fill and are reused
//! after.
//!
//! The visibility check stays per entry, because it has to: one leaf may hold several
//! versions of a key (the newer ones to skip, or to prefer) and versions newer than the
//! snapshot, and a page carries no summary (such as its newest timestamp) that would
//! let a whole leaf be accepted at once. On borrowed bytes the check is an 8-byte read
//! and a short comparison.
//!
//! A transaction with writes of its own in the range scans through [`TxnScan`], which
//! merges them (the `Merged` form), and hands its entries over in chunks all the same.
//!
//! A caller that copies each entry into memory of its own (CREATE INDEX, into its
//! arena) takes them through [`TxnChunks::next_chunk_with`] instead: each visible
//! version is handed over in place, from the store's chunk, its user key still
//! escaped ([`LentKey`]), so it is copied once rather than into a chunk first.
//!
//! A caller that never reads the keys (a SQL scan under an aggregate or a join) asks
//! for chunks [`TxnChunks::without_keys`]: the visible versions' user keys are then not
//! unescaped and copied, and every entry's key is empty.

use crate::btree::EntryChunk;
use crate::error::Result;
use crate::mvcc::clock::{CommitTs, Snapshot};
use crate::mvcc::scan::TxnScan;
use crate::mvcc::store::ChunkScan;
use crate::mvcc::version_key;

/// Entries a chunk of the `Merged` form takes.
const MERGED_CHUNK: usize = 128;

/// A forward scan of user keys and rows at a snapshot, lent a chunk at a time.
pub struct TxnChunks {
    inner: Inner,
    /// Whether entries carry their user keys (else the keys are empty).
    keys: bool,
}

enum Inner {
    /// Versions straight from the store, nothing of the transaction's own to merge.
    Committed {
        source: ChunkScan,
        /// The store's chunk of tree entries, reused.
        versions: EntryChunk,
        ts: CommitTs,
        /// The escaped user key whose visible version was decided last (empty: none).
        decided: Vec<u8>,
        done: bool,
        /// Keeps the snapshot registered (holding back garbage collection); none for a
        /// replay's scan, which nothing runs beside.
        _snapshot: Option<Snapshot>,
    },
    Merged(TxnScan),
}

impl std::fmt::Debug for TxnChunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let form = match self.inner {
            Inner::Committed { .. } => "committed",
            Inner::Merged(_) => "merged",
        };
        f.debug_struct("TxnChunks")
            .field("form", &form)
            .finish_non_exhaustive()
    }
}

impl TxnChunks {
    pub(crate) fn committed(source: ChunkScan, snapshot: Snapshot) -> TxnChunks {
        let ts = snapshot.ts();
        TxnChunks::at(source, ts, Some(snapshot))
    }

    /// The committed versions of `source` visible at `ts`, with no snapshot registered:
    /// for recovery, which replays one commit at a time and runs nothing beside it.
    pub(crate) fn replayed_at(source: ChunkScan, ts: CommitTs) -> TxnChunks {
        TxnChunks::at(source, ts, None)
    }

    fn at(source: ChunkScan, ts: CommitTs, snapshot: Option<Snapshot>) -> TxnChunks {
        TxnChunks {
            inner: Inner::Committed {
                source,
                versions: EntryChunk::new(),
                ts,
                decided: Vec::new(),
                done: false,
                _snapshot: snapshot,
            },
            keys: true,
        }
    }

    pub(crate) fn merged(scan: TxnScan) -> TxnChunks {
        TxnChunks {
            inner: Inner::Merged(scan),
            keys: true,
        }
    }

    /// The same scan, its entries lent with empty keys (for a caller that never reads
    /// them: the keys are then neither decoded nor copied).
    pub fn without_keys(mut self) -> TxnChunks {
        self.keys = false;
        self
    }

    /// Replaces `out`'s contents with the next visible entries (user key, row), at
    /// least one, in ascending key order; `false` (and an empty `out`) at the end.
    /// After an error the scan is over.
    pub fn next_chunk(&mut self, out: &mut EntryChunk) -> Result<bool> {
        out.clear();
        let keys = self.keys;
        match &mut self.inner {
            Inner::Merged(scan) => {
                for entry in scan.by_ref().take(MERGED_CHUNK) {
                    let (key, row) = entry?;
                    out.push(if keys { &key } else { &[] }, &row);
                }
                Ok(!out.is_empty())
            }
            Inner::Committed {
                source,
                versions,
                ts,
                decided,
                done,
                ..
            } => {
                while !*done {
                    let step = source
                        .next_chunk(versions)
                        .and_then(|more| match more {
                            true => visible(versions, *ts, decided, keys, out).map(|()| true),
                            false => Ok(false),
                        });
                    match step {
                        Ok(true) if out.is_empty() => continue,
                        Ok(true) => return Ok(true),
                        Ok(false) => *done = true,
                        Err(e) => {
                            *done = true;
                            out.clear();
                            return Err(e);
                        }
                    }
                }
                Ok(false)
            }
        }
    }

    /// The next visible entries, as [`TxnChunks::next_chunk`] would lend them, handed to
    /// `visit` (user key, row) one by one instead: a committed version's row is read in
    /// place from the store's chunk and its key is lent escaped, so a caller that copies
    /// both somewhere of its own (CREATE INDEX, into its arena) copies them once, not
    /// twice. `scratch` holds the `Merged` form's entries. `false` at the end, when
    /// nothing was visited; after an error the scan is over.
    pub fn next_chunk_with(
        &mut self,
        scratch: &mut EntryChunk,
        mut visit: impl FnMut(LentKey<'_>, &[u8]) -> Result<()>,
    ) -> Result<bool> {
        let keys = self.keys;
        let Inner::Committed {
            source,
            versions,
            ts,
            decided,
            done,
            ..
        } = &mut self.inner
        else {
            if !self.next_chunk(scratch)? {
                return Ok(false);
            }
            for (key, row) in scratch.iter() {
                visit(LentKey::Plain(key), row)?;
            }
            return Ok(true);
        };
        while !*done {
            let mut visited = false;
            let step = source.next_chunk(versions).and_then(|more| match more {
                true => for_each_visible(versions, *ts, decided, |escaped, row| {
                    visited = true;
                    match keys {
                        true => visit(LentKey::Escaped(escaped), row),
                        false => visit(LentKey::Plain(&[]), row),
                    }
                })
                .map(|()| true),
                false => Ok(false),
            });
            match step {
                Ok(true) if !visited => continue,
                Ok(true) => return Ok(true),
                Ok(false) => *done = true,
                Err(e) => {
                    *done = true;
                    return Err(e);
                }
            }
        }
        Ok(false)
    }
}

/// Appends to `out` the visible version of each user key in `versions` (tree entries in
/// ascending order), continuing from the key `decided` last; with its user key when
/// `keys`, else with an empty key.
fn visible(
    versions: &EntryChunk,
    ts: CommitTs,
    decided: &mut Vec<u8>,
    keys: bool,
    out: &mut EntryChunk,
) -> Result<()> {
    for_each_visible(versions, ts, decided, |escaped, row| match keys {
        true => out.push_with_key(|key| version_key::decode_prefix_into(escaped, key), row),
        false => {
            out.push(&[], row);
            Ok(())
        }
    })
}

/// Calls `visit` with the escaped user key and the row of the visible version of each
/// user key in `versions` (tree entries in ascending order), continuing from the key
/// `decided` last.
fn for_each_visible(
    versions: &EntryChunk,
    ts: CommitTs,
    decided: &mut Vec<u8>,
    mut visit: impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    for (tree_key, tree_value) in versions.iter() {
        let escaped = &tree_key[..version_key::prefix_len(tree_key)?];
        if version_key::decode_ts(tree_key)? > ts || decided.as_slice() == escaped {
            continue;
        }
        decided.clear();
        decided.extend_from_slice(escaped);
        if let Some(row) = version_key::decode_value(tree_value)? {
            visit(escaped, row)?;
        }
    }
    Ok(())
}

/// A visible entry's user key as [`TxnChunks::next_chunk_with`] lends it: escaped, as
/// the tree stores it (a committed version, read in place), or plain (the `Merged` form).
#[derive(Debug, Clone, Copy)]
pub enum LentKey<'a> {
    Escaped(&'a [u8]),
    Plain(&'a [u8]),
}

impl LentKey<'_> {
    /// Appends the user key to `out`.
    pub fn append_to(self, out: &mut Vec<u8>) -> Result<()> {
        match self {
            LentKey::Escaped(escaped) => version_key::decode_prefix_into(escaped, out),
            LentKey::Plain(key) => {
                out.extend_from_slice(key);
                Ok(())
            }
        }
    }
}
