//! The WAL as the MVCC layer's [`CommitLog`].
//!
//! The MVCC commit path appends under its commit-order lock (so log order is timestamp
//! order) and waits for durability after releasing it, which is what lets the WAL's
//! group commit put many commits in one sync. A ticket is the LSN where the record
//! ends. A large commit first writes its writes as parts ([`Wal::append_parts`]),
//! outside that lock, and its commit record names them.

use crate::error::Result;
use crate::mvcc::store::WriteRef as MvccWrite;
use crate::mvcc::{CommitLog, CommitTicket, CommitTs, PartSink};
use crate::wal::{Lsn, PartWriter, Wal, WriteRef};

/// A [`Wal`] that logs MVCC commits.
#[derive(Debug)]
pub struct WalCommitLog {
    wal: Wal,
}

impl WalCommitLog {
    pub fn new(wal: Wal) -> WalCommitLog {
        WalCommitLog { wal }
    }

    /// The log itself (for checkpoints and statistics).
    pub fn wal(&self) -> &Wal {
        &self.wal
    }
}

impl CommitLog for WalCommitLog {
    fn part_size(&self) -> Option<usize> {
        Some(self.wal.options().part_size)
    }

    fn append_parts(&self, fill: &mut dyn FnMut(&mut dyn PartSink) -> Result<()>) -> Result<Vec<u64>> {
        let mut sink = Parts(self.wal.part_writer());
        fill(&mut sink)?;
        let parts = sink.0.finish()?;
        Ok(parts.into_iter().map(|lsn| lsn.0).collect())
    }

    fn append(
        &self,
        ts: CommitTs,
        parts: &[u64],
        count: usize,
        writes: &mut dyn Iterator<Item = MvccWrite<'_>>,
    ) -> Result<CommitTicket> {
        let refs = Counted {
            left: count,
            inner: writes.map(log_write),
        };
        let parts: Vec<Lsn> = parts.iter().map(|lsn| Lsn(*lsn)).collect();
        let ticket = self.wal.append_commit_refs(ts.0, &parts, refs)?;
        Ok(CommitTicket(ticket.end().0))
    }

    fn wait_durable(&self, ticket: CommitTicket) -> Result<()> {
        self.wal.wait_for(Lsn(ticket.0))
    }
}

/// The log's part writer as the MVCC layer's sink.
struct Parts<'w>(PartWriter<'w>);

impl PartSink for Parts<'_> {
    fn push(&mut self, write: MvccWrite<'_>) -> Result<()> {
        self.0.push(log_write(write))
    }
}

/// An MVCC write as the log's.
fn log_write(w: MvccWrite<'_>) -> WriteRef<'_> {
    WriteRef {
        tree: w.tree.0,
        key: w.key,
        value: w.value,
    }
}

/// An iterator whose length the caller knows: what the WAL's encoder needs to write the
/// count before the writes.
struct Counted<I> {
    left: usize,
    inner: I,
}

impl<I: Iterator> Iterator for Counted<I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        let item = self.inner.next()?;
        self.left = self.left.saturating_sub(1);
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<I: Iterator> ExactSizeIterator for Counted<I> {}
