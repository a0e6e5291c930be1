//! # wal — H's write-ahead log: a logical redo log of committed transactions
//!
//! ## What is logged, and why only that
//!
//! H's transactions buffer their writes privately and apply them to the B-trees only when
//! they commit. So the log never needs to undo anything: uncommitted work never reaches the
//! log or the trees. The WAL is therefore a **logical redo log of committed transactions
//! only**: one *commit record* per transaction, holding its commit timestamp and every write
//! it made (tree id, key, and a value or a delete). Replay is idempotent: writes are
//! versioned by commit timestamp, so applying a record twice yields the same tree. A
//! large transaction's writes are written first as *parts* of its commit record
//! ([`Wal::append_parts`]), which the record then names by LSN, so encoding a commit
//! holds one part in memory and no transaction is too large for a frame; recovery reads
//! a commit's parts when it reaches the record, and ignores parts no record names
//! ([`record`]).
//!
//! Pages reach the database file only at a **checkpoint**, and only after the log covering
//! them is durable. The checkpointer (in the MVCC/database layer) will:
//!
//! 1. note the log's end, [`Wal::end_lsn`];
//! 2. make the log durable up to it, [`Wal::sync_to`];
//! 3. flush the pager's dirty pages;
//! 4. record that LSN as the checkpoint LSN in the pager's meta page;
//! 5. drop the segments wholly before it, [`Wal::truncate_before`].
//!
//! **Recovery** = open the pager (its meta page names the checkpoint LSN) and replay every
//! commit record at or after it ([`Wal::recover`]).
//!
//! ## LSNs and segments
//!
//! An [`Lsn`] is the byte position of a record in the *logical* log stream: the
//! concatenation of every record ever written, segment headers excluded. LSNs grow
//! monotonically across segment files, so "durable up to LSN x" is one comparison. The
//! log lives in a directory of segment files, each named by the LSN it starts at
//! (`0000000000a00000.log`, sixteen hex digits) and opening with a checksummed header; a
//! new segment is started when the current one passes a size ([`DEFAULT_SEGMENT_SIZE`]).
//! While a segment is written, its file is kept up to 1 MiB ahead of the log with zeros,
//! so a commit's sync writes data and not the file's new size (see Preallocation in
//! `writer.rs`); recovery reads zeros to the end of the last segment as the log's end.
//! The byte-level format is in [`mod@format`]; the payload of a commit record in [`record`].
//!
//! ## Group commit
//!
//! There is no log-writer thread. [`Wal::append_commit`] encodes the record in the
//! caller's thread, then — under a short internal lock — assigns it the next LSN and
//! queues it, returning a [`CommitTicket`]. [`CommitTicket::wait`] finds the record
//! done, or waits while another thread writes it, or — when nobody is writing — becomes
//! the **leader** itself: it takes everything queued (after one yield of the CPU when
//! the last batch was shared, so that its just-woken committers can join), writes the
//! whole batch with one positioned write, syncs once (`fdatasync`), publishes the new
//! *written* and *durable* LSNs in a mutex-protected `Progress`, and wakes every waiter
//! through one condition variable. Records that queued during that write and sync are
//! the next leader's batch (see `writer.rs`). A ticket returns once the durable LSN
//! passes the end of its record (or, with [`Durability::Off`], the written LSN does).
//! The shared-progress design was chosen over a oneshot channel per commit because one
//! comparison also serves [`Wal::sync_to`] and [`Wal::durable_lsn`], and it allocates
//! nothing per commit.
//!
//! **Ordering requirement**: the LSN order of records is the order in which `append`
//! calls were accepted. The caller (MVCC) must hold its commit-ordering lock while it
//! assigns a commit timestamp *and* calls `append_commit`, so that LSN order equals commit
//! timestamp order; it should release that lock before waiting on the ticket, which is what
//! lets many commits share one sync. A caller with its own write type uses
//! [`Wal::append_commit_refs`] (no copy into a [`CommitRecord`]), and one that keeps only
//! a number per commit keeps [`CommitTicket::end`] and waits with [`Wal::wait_for`].
//!
//! ## The durability argument
//!
//! A commit is acknowledged only after its bytes **and everything before them** are
//! synced: leaders write batches in LSN order, one at a time, to one file at a time, a sync covers
//! every byte written to that file before it, a segment is synced before the next one is
//! started, and the durable LSN is advanced only after a sync returned success. With
//! [`Durability::Off`] a commit is acknowledged once the write reached the operating
//! system; [`Wal::sync`] then makes everything durable (bulk loads, benchmarks — and
//! every report of such a run must say so).
//!
//! **Poisoning.** If a write or a sync fails, the log stops: every waiter of that batch
//! and every later append get [`crate::Error::WalPoisoned`]. After a failed `fsync` the
//! kernel may have dropped the dirty pages and marked them clean (the PostgreSQL "fsyncgate"
//! lesson), so retrying the sync could falsely succeed; nothing more is acknowledged.
//! Reopening the log recovers whatever is actually durable.
//!
//! ## The recovery argument
//!
//! Only the tail of the log can be damaged by a crash, because records are appended and
//! each segment is sealed by a sync before the next one is created. Recovery reads every
//! record in order, checking two checksums per record (its header's, so a damaged length is
//! recognised as damage rather than trusted, and its payload's) and that the record says it
//! sits at the LSN where it was found. At the first invalid record `X`:
//!
//! - in a segment that is not the last one: corruption (`WalCorrupted` naming the LSN);
//! - in the last segment, if some valid record after `X` was written *after a sync that
//!   covered `X`* (every record carries the durable LSN at the time it was written, so
//!   this is a comparison): corruption — `X` was durable once, and its damage is not a
//!   crash's doing;
//! - otherwise `X` and everything after it is a **torn tail**: bytes that no completed
//!   sync covered, hence never acknowledged as durable. They are cut off (the file is
//!   truncated and synced before anything is appended again) and reported in
//!   [`Recovery::torn`].
//!
//! This refines the rule of D's log ("an invalid record is a torn tail only if no valid
//! record follows it") for a disk that may persist the pages of an unsynced write in any
//! order: a valid record may then follow a hole after a plain power cut, and D's rule
//! would refuse to open a healthy log (the crash tests' `Scrambled` mode does exactly
//! that, and fails against D's rule). The price: damage to records that no later record
//! vouches for — the last synced batch when nothing was written after it, or records
//! written under `Durability::Off` since the last sync — reads as a torn tail and is cut
//! (and reported) rather than refused.
//!
//! ## Non-goals (for now)
//!
//! - No undo, no physical (page) logging, no torn-page protection: the pager makes its own
//!   flush atomic.
//! - No compression and no encryption of records.
//! - No commit delay: a leader never sleeps waiting for more commits to join a batch
//!   (PostgreSQL's `commit_delay`). Batches form from what queued during the previous
//!   write and sync, plus one yield of the CPU when the last batch had several commits.
//! - Record kinds other than commits and their parts (DDL, checkpoint markers) fit the
//!   frame but do not exist yet.
//! - One process: the directory is locked, there is no reader in another process.

pub mod format;
mod handle;
mod memory;
mod reader;
pub mod record;
mod segments;
#[cfg(any(test, feature = "testing"))]
pub mod sim;
pub mod storage;
mod writer;

use std::fmt;

pub use handle::{CommitTicket, PartWriter, Recovery, TornTail, Wal, WalOptions};
pub use record::{CommitRecord, PartRecord, Record, Write, WriteRef};
pub use memory::MemoryWalStorage;
#[cfg(any(test, feature = "testing"))]
pub use sim::{CrashMode, SimWalStorage};
pub use storage::{DirStorage, WalFile, WalStorage};

/// The default size at which the writer starts a new segment: big enough that rotation
/// (one extra sync and a directory sync) is rare, small enough that `truncate_before`
/// gives space back in useful steps after a checkpoint.
pub const DEFAULT_SEGMENT_SIZE: u64 = 64 << 20;

/// The default [`WalOptions::part_size`]: a commit whose writes take more than this is
/// logged in parts of about this size (see [`record`]), so encoding it holds one part in
/// memory, not the whole transaction; below it, one record costs one frame.
pub const DEFAULT_PART_SIZE: usize = 16 << 20;

/// A position in the logical log stream: the number of record bytes written before it.
///
/// Segment headers are not counted, so LSNs are contiguous across segment files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(pub u64);

impl Lsn {
    /// The start of a fresh log.
    pub const ZERO: Lsn = Lsn(0);

    /// The position `bytes` further on.
    pub fn advance(self, bytes: u64) -> Lsn {
        Lsn(self.0 + bytes)
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// When a commit counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// A commit returns only after its record (and everything before it) is synced.
    #[default]
    Full,
    /// A commit returns once its record is written to the operating system; a crash of the
    /// machine may lose it. `Database::sync` makes everything durable.
    Off,
}

/// The writer's published progress: what waiters compare their LSNs against.
#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    /// Every record ending at or before this LSN has been written to the storage.
    pub written: Lsn,
    /// Every record ending at or before this LSN has been synced.
    pub durable: Lsn,
    /// Why the log stopped, once a write or sync has failed (or it was closed).
    pub poisoned: Option<String>,
}
