//! Scanning at a snapshot: pick each key's visible version, then merge in the
//! transaction's own writes.
//!
//! A tree range holds every version of every key in it, newest first within a key.
//! [`VisibleVersions`] walks it and yields, per user key, the newest version at or below
//! the snapshot, skipping keys whose visible version is a tombstone. Going backwards the
//! versions of a key arrive oldest first, so it remembers the newest visible one seen
//! until the key changes.
//!
//! [`TxnScan`] merges that stream with the transaction's writes in the same range (copied
//! when the scan opens): on equal keys the transaction's write wins, and its deletes hide
//! the key.

use std::iter::Peekable;

use crate::error::Result;
use crate::mvcc::clock::{CommitTs, Snapshot};
use crate::mvcc::store::TreeIter;
use crate::mvcc::version_key;

/// A user key and its row.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A user key and the transaction's write to it (`None` deletes).
pub type OwnWrite = (Vec<u8>, Option<Vec<u8>>);

/// What a backward scan knows of the key it is collecting: the key, and its newest
/// visible version so far (`Some(None)` is a visible tombstone, `None` no visible version
/// yet).
type Candidate = (Vec<u8>, Option<Option<Vec<u8>>>);

/// The versions visible at a snapshot, one per user key.
struct VisibleVersions {
    versions: TreeIter,
    ts: CommitTs,
    reverse: bool,
    /// Forward: the user key whose visible version was already decided.
    decided: Option<Vec<u8>>,
    /// Backward: the key being collected.
    candidate: Option<Candidate>,
    failed: bool,
}

impl VisibleVersions {
    fn next_forward(&mut self) -> Result<Option<Entry>> {
        for entry in self.versions.by_ref() {
            let (tree_key, mut tree_value) = entry?;
            let (user_key, ts) = version_key::decode(&tree_key)?;
            if ts > self.ts || self.decided.as_ref() == Some(&user_key) {
                continue;
            }
            let is_row = version_key::decode_value(&tree_value)?.is_some();
            // Reuse the buffers the tree handed over: `decided` keeps its allocation,
            // and the row is the tree value less its one-byte tag.
            match &mut self.decided {
                Some(decided) => decided.clone_from(&user_key),
                None => self.decided = Some(user_key.clone()),
            }
            if is_row {
                tree_value.remove(0);
                return Ok(Some((user_key, tree_value)));
            }
        }
        Ok(None)
    }

    fn next_backward(&mut self) -> Result<Option<Entry>> {
        loop {
            let Some(entry) = self.versions.next() else {
                return Ok(self.take_candidate());
            };
            let (tree_key, tree_value) = entry?;
            let (user_key, ts) = version_key::decode(&tree_key)?;
            let visible = match ts <= self.ts {
                true => Some(version_key::decode_value(&tree_value)?.map(<[u8]>::to_vec)),
                false => None,
            };
            match &mut self.candidate {
                Some((key, newest)) if *key == user_key => {
                    // Later in a backward scan means newer: it overrides.
                    if visible.is_some() {
                        *newest = visible;
                    }
                }
                _ => {
                    let finished = self.take_candidate();
                    self.candidate = Some((user_key, visible));
                    if finished.is_some() {
                        return Ok(finished);
                    }
                }
            }
        }
    }

    fn take_candidate(&mut self) -> Option<Entry> {
        match self.candidate.take() {
            Some((key, Some(Some(row)))) => Some((key, row)),
            _ => None,
        }
    }
}

impl Iterator for VisibleVersions {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = match self.reverse {
            false => self.next_forward(),
            true => self.next_backward(),
        };
        if next.is_err() {
            self.failed = true;
        }
        next.transpose()
    }
}

/// A transaction's view of a key range: the snapshot merged with its own writes.
pub struct TxnScan {
    visible: Peekable<VisibleVersions>,
    own: Peekable<std::vec::IntoIter<OwnWrite>>,
    reverse: bool,
    /// Keeps the snapshot registered (holding back garbage collection) while scanning.
    _snapshot: Snapshot,
}

impl std::fmt::Debug for TxnScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxnScan")
            .field("reverse", &self.reverse)
            .finish_non_exhaustive()
    }
}

impl TxnScan {
    pub(crate) fn new(
        versions: TreeIter,
        own: Vec<OwnWrite>,
        snapshot: Snapshot,
        reverse: bool,
    ) -> TxnScan {
        TxnScan {
            visible: VisibleVersions {
                versions,
                ts: snapshot.ts(),
                reverse,
                decided: None,
                candidate: None,
                failed: false,
            }
            .peekable(),
            own: own.into_iter().peekable(),
            reverse,
            _snapshot: snapshot,
        }
    }
}

/// Whether `a` comes before `b` in a scan's direction.
fn before(reverse: bool, a: &[u8], b: &[u8]) -> bool {
    match reverse {
        false => a < b,
        true => a > b,
    }
}

impl Iterator for TxnScan {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        let reverse = self.reverse;
        loop {
            let take_own = match (self.visible.peek(), self.own.peek()) {
                (Some(Err(_)), _) => return self.visible.next(),
                (None, None) => return None,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some(Ok((visible_key, _))), Some((own_key, _))) => {
                    if visible_key == own_key {
                        // The transaction's own write replaces the committed version.
                        self.visible.next();
                        true
                    } else {
                        before(reverse, own_key, visible_key)
                    }
                }
            };
            if !take_own {
                return self.visible.next();
            }
            match self.own.next() {
                Some((key, Some(row))) => return Some(Ok((key, row))),
                Some((_, None)) => continue,
                None => return None,
            }
        }
    }
}
