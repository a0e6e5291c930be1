//! The WAL as the MVCC layer's [`CommitLog`].
//!
//! The MVCC commit path appends under its commit-order lock (so log order is timestamp
//! order) and waits for durability after releasing it, which is what lets the WAL's
//! writer thread put many commits in one sync. A ticket is the LSN where the record
//! ends.

use crate::error::Result;
use crate::mvcc::{CommitLog, CommitTicket, CommitTs, WriteOp};
use crate::wal::{Lsn, Wal, WriteRef};

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
    fn append(&self, ts: CommitTs, writes: &[WriteOp]) -> Result<CommitTicket> {
        let refs = writes.iter().map(|w| WriteRef {
            tree: w.tree.0,
            key: &w.key,
            value: w.value.as_deref(),
        });
        let ticket = self.wal.append_commit_refs(ts.0, refs)?;
        Ok(CommitTicket(ticket.end().0))
    }

    fn wait_durable(&self, ticket: CommitTicket) -> Result<()> {
        self.wal.wait_for(Lsn(ticket.0))
    }
}
