//! # The `Wal` handle: opening, appending, syncing, truncating, replaying
//!
//! Opening a log is recovery: the segments are scanned in order (from the oldest, or from
//! a checkpoint LSN with [`Wal::recover`]), a torn tail is cut off and the last segment
//! synced, so that every byte before the end is durable before anything new is written —
//! the `synced` LSN stamped on later records relies on that.
//!
//! Appending encodes the record in the caller's thread, then takes the queue's lock only
//! to check for poisoning, assign the next LSN and queue the frame: LSN order is the
//! order in which appends took that lock (see the ordering requirement in [`super`]).
//! Waiting on the ticket writes it, or waits for the thread that is writing it
//! (`writer.rs`).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;

use super::format::{self, SEGMENT_HEADER_LEN};
use super::reader::{self, TailRule};
use super::record::{
    self, CommitRecord, KIND_PART, Record, Write, WriteRef, commit_kind, encode_commit,
};
use super::segments::{self, Segment};
use super::storage::{DirStorage, WalStorage};
use super::writer::{Goal, Shared, Writer};
use super::{DEFAULT_PART_SIZE, DEFAULT_SEGMENT_SIZE, Durability, Lsn};
use crate::{Error, Result};

/// How a log is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalOptions {
    /// When a commit counts as done.
    pub durability: Durability,
    /// Start a new segment once the current one holds this many bytes of records.
    pub segment_size: u64,
    /// The payload size from which [`Wal::append_parts`] starts a new part (see
    /// `record.rs`): what one commit's log encoding holds in memory at a time.
    pub part_size: usize,
}

impl Default for WalOptions {
    fn default() -> WalOptions {
        WalOptions {
            durability: Durability::Full,
            segment_size: DEFAULT_SEGMENT_SIZE,
            part_size: DEFAULT_PART_SIZE,
        }
    }
}

/// A damaged tail that recovery cut off: bytes no sync had covered, so never acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// Where the damaged record started; the log now ends here.
    pub lsn: Lsn,
    /// How many bytes were cut off.
    pub bytes: u64,
}

/// What opening the log found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    /// The end of the valid log: the LSN of the next record.
    pub end: Lsn,
    /// The tail cut off, if there was one.
    pub torn: Option<TornTail>,
    /// Records read (those the visitor saw, for [`Wal::recover`]).
    pub records: u64,
    /// Leftover temporary files of interrupted segment creations, removed.
    pub temp_files_removed: usize,
}

/// A record handed to the log; [`CommitTicket::wait`] blocks until it is done.
#[must_use = "a commit is not durable until its ticket is waited on"]
pub struct CommitTicket {
    lsn: Lsn,
    end: Lsn,
    goal: Goal,
    shared: Arc<Shared>,
}

impl fmt::Debug for CommitTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommitTicket")
            .field("lsn", &self.lsn)
            .field("end", &self.end)
            .finish()
    }
}

impl CommitTicket {
    /// The record's LSN.
    pub fn lsn(&self) -> Lsn {
        self.lsn
    }

    /// The LSN just after the record.
    pub fn end(&self) -> Lsn {
        self.end
    }

    /// Waits until the record is synced (`Durability::Full`) or written to the operating
    /// system (`Off`), and returns its LSN; an error if the log was poisoned first.
    pub fn wait(self) -> Result<Lsn> {
        self.shared.wait_for(self.goal, self.end)?;
        Ok(self.lsn)
    }
}

/// A write-ahead log. See the module header of [`super`] for the design.
#[derive(Debug)]
pub struct Wal {
    storage: Arc<dyn WalStorage>,
    shared: Arc<Shared>,
    segments: Arc<Mutex<Vec<Segment>>>,
    options: WalOptions,
    recovery: Recovery,
}

impl Wal {
    /// Opens (creating if needed) the log in directory `dir`, recovering it.
    pub fn open_dir(dir: &Path, options: WalOptions) -> Result<Wal> {
        Wal::open(Arc::new(DirStorage::open(dir)?), options)
    }

    /// Opens the log in `storage`, recovering it: every segment is read and checked, and a
    /// torn tail is cut off (see [`Wal::recovery`]). An empty storage gets a new log.
    pub fn open(storage: Arc<dyn WalStorage>, options: WalOptions) -> Result<Wal> {
        Wal::open_inner(storage, options, None, &mut |_, _| Ok(()))
    }

    /// Opens the log in `storage` and replays it from `from` (the checkpoint LSN, a record
    /// boundary): `visit` sees every record at or after it, in LSN order, before this
    /// returns. A visitor error stops recovery and is returned.
    pub fn recover(
        storage: Arc<dyn WalStorage>,
        options: WalOptions,
        from: Lsn,
        mut visit: impl FnMut(Lsn, Record) -> Result<()>,
    ) -> Result<Wal> {
        Wal::open_inner(storage, options, Some(from), &mut visit)
    }

    /// Whether `storage` holds any log segment.
    pub fn has_segments(storage: &dyn WalStorage) -> Result<bool> {
        Ok(!segments::list_segments(storage)?.is_empty())
    }

    /// Starts a new, empty log whose first record will have LSN `at`, in a storage that
    /// holds no segment: the log of a database file that was closed cleanly (its
    /// checkpoint at `at` covers everything) and copied or moved without its old log.
    pub fn start_at(storage: Arc<dyn WalStorage>, options: WalOptions, at: Lsn) -> Result<Wal> {
        if Wal::has_segments(&*storage)? {
            return Err(Error::InvalidArgument(format!(
                "cannot start a new log at LSN {at}: the directory already holds one"
            )));
        }
        segments::create_segment(&*storage, at)?;
        Wal::open_inner(storage, options, Some(at), &mut |_, _| Ok(()))
    }

    fn open_inner(
        storage: Arc<dyn WalStorage>,
        options: WalOptions,
        from: Option<Lsn>,
        visit: &mut dyn FnMut(Lsn, Record) -> Result<()>,
    ) -> Result<Wal> {
        if options.segment_size == 0 {
            return Err(Error::InvalidArgument(
                "WAL segment size must be positive".into(),
            ));
        }
        if options.part_size == 0 || options.part_size > format::MAX_PAYLOAD_LEN as usize / 2 {
            return Err(Error::InvalidArgument(format!(
                "WAL part size must be between 1 and {} bytes",
                format::MAX_PAYLOAD_LEN / 2
            )));
        }
        let temp_files_removed = segments::remove_temp_files(&*storage)?;
        let mut segments = segments::list_segments(&*storage)?;
        if segments.is_empty() {
            if let Some(from) = from.filter(|from| *from != Lsn::ZERO) {
                return Err(Error::WalCorrupted {
                    lsn: from.0,
                    reason: "the log is empty but recovery needs records from here".into(),
                });
            }
            segments.push(segments::create_segment(&*storage, Lsn::ZERO)?.0);
        }
        let start = from.unwrap_or(segments[0].start);
        let scanned = reader::scan(&*storage, &segments, start, TailRule::MayBeTorn, visit)?;
        let last = segments[segments.len() - 1].clone();
        let file = storage.open(&last.name)?;
        if scanned.torn.is_some() {
            file.set_len(last.file_offset(scanned.end))?;
        }
        // Zeros after the end are a crashed writer's preallocation: kept, and written
        // over.
        let allocated = file.size()?;
        // Bytes read may have been written without a sync by the last process: make them
        // durable before any record stamped "synced up to here" is written after them.
        file.sync()?;
        let recovery = Recovery {
            end: scanned.end,
            torn: scanned.torn,
            records: scanned.records,
            temp_files_removed,
        };
        let segments = Arc::new(Mutex::new(segments));
        let writer = Writer {
            storage: Arc::clone(&storage),
            segments: Arc::clone(&segments),
            file,
            segment: last,
            segment_size: options.segment_size,
            durability: options.durability,
            written: scanned.end,
            durable: scanned.end,
            allocated,
            last_batch_len: 0,
            buf: Vec::new(),
        };
        Ok(Wal {
            storage,
            shared: Arc::new(Shared::new(writer)),
            segments,
            options,
            recovery,
        })
    }

    /// What opening the log found.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// Queues a commit record for the log. The record's LSN follows every record
    /// appended before this call returned; wait on the ticket for it to be durable
    /// (waiting is what writes it, see `writer.rs`).
    pub fn append_commit(&self, record: &CommitRecord) -> Result<CommitTicket> {
        let writes = record.writes.iter().map(Write::borrowed);
        self.append_commit_refs(record.commit_ts, &record.parts, writes)
    }

    /// [`Wal::append_commit`] for writes the caller holds in its own form: encodes them
    /// straight into the frame, copying each key and value once. `parts` are the parts
    /// ([`Wal::append_parts`]) that hold the commit's first writes, or none.
    pub fn append_commit_refs<'a>(
        &self,
        commit_ts: u64,
        parts: &[Lsn],
        writes: impl ExactSizeIterator<Item = WriteRef<'a>>,
    ) -> Result<CommitTicket> {
        let mut frame = format::start_frame(0);
        let announced = writes.len();
        if encode_commit(commit_ts, parts, writes, &mut frame) != announced {
            return Err(Error::InvalidArgument(format!(
                "a commit announced {announced} writes but gave a different number"
            )));
        }
        // A record over the limit is refused here, before any of it is written: the
        // committing transaction fails and the log stays as it was.
        format::finish_frame(&mut frame, commit_kind(parts)).map_err(|_| too_large(&frame))?;
        self.append_frame(frame)
    }

    /// Writes `writes` to the log as parts of a commit record not yet appended, through
    /// a [`PartWriter`]; returns the parts' LSNs, for [`Wal::append_commit_refs`] (none
    /// when `writes` is empty).
    pub fn append_parts<'a>(
        &self,
        writes: &mut dyn Iterator<Item = WriteRef<'a>>,
    ) -> Result<Vec<Lsn>> {
        let mut parts = self.part_writer();
        for write in writes {
            parts.push(write)?;
        }
        parts.finish()
    }

    /// Starts writing parts of a commit record not yet appended (see `record.rs`):
    /// [`PartWriter::push`] each write, then [`PartWriter::finish`] for the parts' LSNs.
    ///
    /// The parts mean nothing until a commit record names them: if the caller fails
    /// before appending it (or the process dies), recovery ignores them. But a
    /// checkpoint must not remove them from the log while the commit record that will
    /// name them is still to come: the caller keeps checkpoints out from before the
    /// first part to after the commit record (the MVCC layer's apply gate).
    pub fn part_writer(&self) -> PartWriter<'_> {
        PartWriter {
            wal: self,
            frame: Vec::new(),
            count_at: 0,
            count: 0,
            parts: Vec::new(),
        }
    }

    /// The writes of the part at `lsn` (see [`Wal::append_parts`]), read back from the
    /// log: what recovery does for a commit in parts, with [`Wal::read_part_in`].
    pub fn read_part(&self, lsn: Lsn) -> Result<Vec<Write>> {
        let segments = self.segments.lock().clone();
        reader::read_part(&*self.storage, &segments, lsn)
    }

    /// [`Wal::read_part`] for a log that is not open: during recovery, from the visitor
    /// of [`Wal::recover`], for the parts a commit record names.
    pub fn read_part_in(storage: &dyn WalStorage, lsn: Lsn) -> Result<Vec<Write>> {
        reader::read_part(storage, &segments::list_segments(storage)?, lsn)
    }

    /// Waits until the record ending at `end` ([`CommitTicket::end`]) is done, as
    /// [`CommitTicket::wait`] does: for callers that keep only that LSN.
    pub fn wait_for(&self, end: Lsn) -> Result<()> {
        if end > self.end_lsn() {
            return Err(Error::InvalidArgument(format!(
                "no record ends at LSN {end}: the log ends at {}",
                self.end_lsn()
            )));
        }
        self.shared.wait_for(self.goal(), end)
    }

    /// What a commit waits for under this log's durability.
    fn goal(&self) -> Goal {
        match self.options.durability {
            Durability::Full => Goal::Durable,
            Durability::Off => Goal::Written,
        }
    }

    /// Appends a commit record and waits until it is done (see [`CommitTicket::wait`]).
    pub fn commit(&self, record: &CommitRecord) -> Result<Lsn> {
        self.append_commit(record)?.wait()
    }

    fn append_frame(&self, frame: Vec<u8>) -> Result<CommitTicket> {
        let (lsn, end) = self.shared.append(frame)?;
        Ok(CommitTicket {
            lsn,
            end,
            goal: self.goal(),
            shared: Arc::clone(&self.shared),
        })
    }

    /// The LSN the next appended record will get: the end of the log.
    pub fn end_lsn(&self) -> Lsn {
        self.shared.end()
    }

    /// Every record ending at or before this LSN is durable.
    pub fn durable_lsn(&self) -> Lsn {
        self.shared.progress().durable
    }

    /// Every record ending at or before this LSN has been written to the storage.
    pub fn written_lsn(&self) -> Lsn {
        self.shared.progress().written
    }

    /// The start of the oldest segment: the first LSN [`Wal::replay`] can read.
    pub fn first_lsn(&self) -> Lsn {
        self.segments.lock().first().map_or(Lsn::ZERO, |s| s.start)
    }

    /// Makes the log durable up to `lsn` (at most [`Wal::end_lsn`]), blocking until it is.
    pub fn sync_to(&self, lsn: Lsn) -> Result<()> {
        if self.durable_lsn() >= lsn {
            return Ok(());
        }
        let end = self.end_lsn();
        if lsn > end {
            return Err(Error::InvalidArgument(format!(
                "cannot sync to LSN {lsn}: the log ends at {end}"
            )));
        }
        self.shared.wait_for(Goal::Durable, lsn)
    }

    /// Makes everything appended so far durable.
    pub fn sync(&self) -> Result<()> {
        self.sync_to(self.end_lsn())
    }

    /// Removes every segment that lies wholly before `lsn` (clamped to the durable LSN),
    /// oldest first; the newest segment always stays. Returns how many were removed.
    pub fn truncate_before(&self, lsn: Lsn) -> Result<usize> {
        let limit = lsn.min(self.durable_lsn());
        let mut segments = self.segments.lock();
        let mut removed = 0;
        while segments.len() > 1 && segments[1].start <= limit {
            segments::remove_segment(&*self.storage, &segments[0])?;
            segments.remove(0);
            removed += 1;
        }
        Ok(removed)
    }

    /// Reads the records at and after `from` (a record boundary, at least
    /// [`Wal::first_lsn`]) up to the written LSN, in order. Any invalid record is
    /// corruption here: this process wrote them.
    pub fn replay(
        &self,
        from: Lsn,
        mut visit: impl FnMut(Lsn, Record) -> Result<()>,
    ) -> Result<()> {
        let limit = self.written_lsn();
        let segments = self.segments.lock().clone();
        reader::scan(
            &*self.storage,
            &segments,
            from,
            TailRule::AllValid(limit),
            &mut visit,
        )?;
        Ok(())
    }

    /// How many times the writer has synced the log.
    pub fn syncs(&self) -> u64 {
        self.shared.syncs()
    }

    /// How many batches the writer has written.
    pub fn batches(&self) -> u64 {
        self.shared.batches()
    }

    /// The options the log was opened with.
    pub fn options(&self) -> WalOptions {
        self.options
    }

    /// The segments, oldest first, as `(start LSN, bytes of records written)` (for tests
    /// and tools): a segment's file size less its header, except that the newest one's
    /// preallocated zeros are not counted.
    pub fn segments(&self) -> Result<Vec<(Lsn, u64)>> {
        let segments = self.segments.lock().clone();
        let written = self.shared.progress().written;
        let newest = segments.last().map(|s| s.start);
        segments
            .iter()
            .map(|s| {
                let size = self.storage.open(&s.name)?.size()? - SEGMENT_HEADER_LEN;
                let records = match Some(s.start) == newest {
                    true => size.min(written.0.saturating_sub(s.start.0)),
                    false => size,
                };
                Ok((s.start, records))
            })
            .collect()
    }

    /// Closes the log after writing and syncing everything appended; reports a failure
    /// to do so.
    pub fn close(self) -> Result<()> {
        self.shared.close();
        let progress = self.shared.progress();
        if progress.durable < self.end_lsn() {
            let why = progress.poisoned.unwrap_or_default();
            return Err(Error::WalPoisoned(why));
        }
        Ok(())
    }

}

impl Drop for Wal {
    fn drop(&mut self) {
        self.shared.close();
    }
}

/// The error for a frame over the log's limit (in practice, one that holds a write too
/// large for any frame), refused before anything of it was written.
fn too_large(frame: &[u8]) -> Error {
    Error::TooLarge(crate::error::Limit::LogRecord {
        size: frame.len() - format::FRAME_HEADER_LEN,
        max: format::MAX_PAYLOAD_LEN as usize,
    })
}

/// Writes the parts of one commit record (see [`Wal::part_writer`]): each part is cut
/// once its payload reaches [`WalOptions::part_size`], queued, and written before the
/// next one is encoded, so the log holds at most one part of the commit in memory.
/// Writes are pushed one at a time, so a caller can feed them from any source (a
/// merge of run files lends each entry only until the next).
pub struct PartWriter<'w> {
    wal: &'w Wal,
    /// The part being filled, from its frame header on; empty between parts.
    frame: Vec<u8>,
    count_at: usize,
    count: u32,
    parts: Vec<Lsn>,
}

impl fmt::Debug for PartWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartWriter")
            .field("parts", &self.parts)
            .field("open_part_writes", &self.count)
            .finish()
    }
}

impl PartWriter<'_> {
    /// Adds `write` to the current part, starting one if none is open, and writes the
    /// part out once it is full.
    pub fn push(&mut self, write: WriteRef<'_>) -> Result<()> {
        if self.frame.is_empty() {
            self.frame = format::start_frame(self.wal.options.part_size + 4096);
            self.count_at = record::start_part(&mut self.frame);
            self.count = 0;
        }
        record::encode_write(write, &mut self.frame);
        self.count += 1;
        let full = self.frame.len() - format::FRAME_HEADER_LEN >= self.wal.options.part_size;
        match full || self.count == u32::MAX {
            true => self.write_part(),
            false => Ok(()),
        }
    }

    /// Writes out the last part, if one is open, and returns every part's LSN in order.
    pub fn finish(mut self) -> Result<Vec<Lsn>> {
        if !self.frame.is_empty() {
            self.write_part()?;
        }
        Ok(std::mem::take(&mut self.parts))
    }

    fn write_part(&mut self) -> Result<()> {
        let mut frame = std::mem::take(&mut self.frame);
        record::finish_part(&mut frame, self.count_at, self.count);
        format::finish_frame(&mut frame, KIND_PART).map_err(|_| too_large(&frame))?;
        let (lsn, end) = self.wal.shared.append(frame)?;
        self.wal.shared.wait_for(Goal::Written, end)?;
        self.parts.push(lsn);
        Ok(())
    }
}
