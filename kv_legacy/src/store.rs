//! The store: one lock around a hash map and the log that makes it durable.
//!
//! This is D as the seed describes it, built on purpose to be the baseline H is measured
//! against: **one `parking_lot::Mutex` guards all state**, and every operation takes it —
//! point reads, writes, and queries by field value, which scan every document while
//! holding it. A write with [`Durability::Full`] also syncs the log *while holding the
//! lock*, so concurrent writers queue behind one another's fsyncs; that is exactly the
//! latency growth under concurrent load that the migration to H answers. There are no
//! secondary indexes and no multi-key transactions.
//!
//! Naive is not careless. The store's one promise is that **an acknowledged write is never
//! lost**:
//!
//! - A write is appended to the log (and, in `Full` mode, synced) *before* the in-memory
//!   map changes and before the call returns. In `Off` mode it has reached the operating
//!   system, so it survives the process but not the machine.
//! - If an append or sync fails, what reached the disk is unknown; the store truncates a
//!   partial append and otherwise *poisons* itself, refusing further writes until it is
//!   reopened and the log replayed (an fsync that failed cannot be retried into success).
//! - Opening replays the log (see [`crate::log`] for how a torn tail is told from
//!   corruption) and truncates a torn tail before anything is appended after it.
//! - A lock file keeps a second process from opening the same store.
//!
//! [`LegacyStore::open_read_only`] is for looking inside a store (the CLI's `get`, `find`
//! and `export`): it never creates, truncates or removes anything, so a mistyped path is
//! [`Error::NotFound`] rather than a new empty store, and a torn tail is reported but
//! left for the next writable open to cut. It shares the lock with other readers.
//!
//! On disk a store is a directory: `LOCK`, the log `d.log`, and transiently `d.log.tmp`
//! while a new log is written by creation or compaction (see [`crate::compact`]).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use parking_lot::Mutex;

use crate::compact::CompactionStep;
use crate::document::{Document, Scalar, validate_document};
use crate::error::{Error, Result};
use crate::log::{self, ChangeBatch, LogPosition, ScanEnd, TornTail};
use crate::record::{self, FILE_HEADER_LEN, Op};

/// Name of the log file inside the store directory.
pub const LOG_FILE: &str = "d.log";
/// Name of a log being written by creation or compaction, before it is renamed in place.
pub const TEMP_LOG_FILE: &str = "d.log.tmp";
/// Name of the lock file.
pub const LOCK_FILE: &str = "LOCK";
/// The longest key the store accepts, in bytes.
pub const MAX_KEY_LEN: usize = 64 << 10;

/// When a write is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// After the log is synced to disk: survives a power failure. The default.
    Full,
    /// After the log write reaches the operating system: survives a crash of the process,
    /// not of the machine. For bulk loads and benchmarks, and stated in every report.
    Off,
}

/// What opening the store found in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Records replayed.
    pub records: u64,
    /// A torn final record that was cut off, if there was one.
    pub torn_tail: Option<TornTail>,
    /// Whether a temporary log left by an interrupted compaction was removed.
    pub removed_temp_log: bool,
}

/// D: a key-value store of flat documents behind one lock.
#[derive(Debug)]
pub struct LegacyStore {
    dir: PathBuf,
    durability: Durability,
    recovery: RecoveryReport,
    state: Mutex<State>,
    /// Held (locked) for as long as the store is open; `None` only for a read-only open
    /// of a store without a lock file.
    _lock_file: Option<File>,
}

/// Everything the one lock guards.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) docs: HashMap<String, Document>,
    pub(crate) log: LogWriter,
    /// Set after a failed write or sync: the reason further writes are refused.
    pub(crate) poisoned: Option<String>,
    /// Set (to the store's path) when opened read-only: every write is refused.
    pub(crate) read_only: Option<String>,
    /// A test may stop the next compaction before a chosen step.
    pub(crate) compaction_failpoint: Option<CompactionStep>,
    /// Reused buffer for encoding records.
    scratch: Vec<u8>,
}

/// The open log file and where the next record goes.
#[derive(Debug)]
pub(crate) struct LogWriter {
    pub(crate) file: File,
    pub(crate) generation: u64,
    pub(crate) end: u64,
}

impl LegacyStore {
    /// Opens the store in directory `path`, creating it if missing, and replays its log.
    /// A torn final record is cut off the file (and reported in [`Self::recovery`]).
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<LegacyStore> {
        let dir = path.as_ref().to_path_buf();
        fs::create_dir_all(&dir)?;
        let lock_file = lock_store(&dir)?;

        let temp = dir.join(TEMP_LOG_FILE);
        // The rename is the commit point of creation and compaction: a temporary log that
        // was never renamed holds nothing the live log lacks.
        let removed_temp_log = temp.exists();
        if removed_temp_log {
            fs::remove_file(&temp)?;
            sync_dir(&dir)?;
        }
        let log_path = dir.join(LOG_FILE);
        if !log_path.exists() {
            crate::compact::install_new_log(&dir, 1, std::iter::empty())?;
        }

        let mut file = OpenOptions::new().read(true).write(true).open(&log_path)?;
        let (docs, records, generation, end) = replay(&mut file)?;
        let torn_tail = match end {
            ScanEnd::Torn { tail } => {
                // Cut the torn record off before anything is appended after it, so garbage
                // stays a suffix of the file.
                file.set_len(tail.offset)?;
                file.sync_all()?;
                Some(tail)
            }
            ScanEnd::Clean { .. } | ScanEnd::Stopped { .. } => None,
        };
        let recovery = RecoveryReport {
            records,
            torn_tail,
            removed_temp_log,
        };
        Ok(LegacyStore::from_parts(
            dir, durability, recovery, docs, file, generation, end, None, lock_file,
        ))
    }

    /// Opens an existing store to read it, **writing nothing**: the directory and its log
    /// must exist ([`Error::NotFound`] otherwise: a mistyped path is an error, not an
    /// empty store), a torn final record is skipped but left in the file (reported in
    /// [`Self::recovery`]; the next writable [`open`](Self::open) cuts it), a temporary
    /// log of an interrupted compaction is ignored, and every write returns
    /// [`Error::ReadOnly`]. A shared lock keeps writers out while it is open (taken when
    /// the store has a `LOCK` file, which every store this crate wrote has).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<LegacyStore> {
        let dir = path.as_ref().to_path_buf();
        let not_found = |reason: &str| Error::NotFound {
            path: dir.display().to_string(),
            reason: reason.to_string(),
        };
        if !dir.is_dir() {
            return Err(not_found(match dir.exists() {
                true => "it is not a directory",
                false => "no such directory",
            }));
        }
        let log_path = dir.join(LOG_FILE);
        if !log_path.is_file() {
            return Err(not_found(&format!(
                "the directory has no log file {LOG_FILE}"
            )));
        }
        let lock_file = lock_store_shared(&dir)?;
        let mut file = File::open(&log_path)?;
        let (docs, records, generation, end) = replay(&mut file)?;
        let torn_tail = match end {
            ScanEnd::Torn { tail } => Some(tail),
            ScanEnd::Clean { .. } | ScanEnd::Stopped { .. } => None,
        };
        let recovery = RecoveryReport {
            records,
            torn_tail,
            removed_temp_log: false,
        };
        let read_only = Some(dir.display().to_string());
        Ok(LegacyStore::from_parts(
            dir,
            Durability::Full,
            recovery,
            docs,
            file,
            generation,
            end,
            read_only,
            lock_file,
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn from_parts(
        dir: PathBuf,
        durability: Durability,
        recovery: RecoveryReport,
        docs: HashMap<String, Document>,
        file: File,
        generation: u64,
        end: ScanEnd,
        read_only: Option<String>,
        lock_file: Option<File>,
    ) -> LegacyStore {
        LegacyStore {
            dir,
            durability,
            recovery,
            state: Mutex::new(State {
                docs,
                log: LogWriter {
                    file,
                    generation,
                    end: end.offset(),
                },
                poisoned: None,
                read_only,
                compaction_failpoint: None,
                scratch: Vec::new(),
            }),
            _lock_file: lock_file,
        }
    }

    /// Whether the store was opened with [`open_read_only`](Self::open_read_only).
    pub fn is_read_only(&self) -> bool {
        self.state.lock().read_only.is_some()
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The durability mode writes use.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// What opening the store found.
    pub fn recovery(&self) -> RecoveryReport {
        self.recovery
    }

    /// The document stored under `key`.
    pub fn get(&self, key: &str) -> Option<Document> {
        self.state.lock().docs.get(key).cloned()
    }

    /// Stores `doc` under `key`, replacing what was there. Returns once the write is
    /// durable according to the store's [`Durability`].
    pub fn put(&self, key: &str, doc: Document) -> Result<()> {
        self.put_many([(key.to_string(), doc)]).map(drop)
    }

    /// Stores several documents with one log write and (in `Full` mode) one sync. Each is a
    /// separate operation in the log; together they are acknowledged at once. Returns how
    /// many were written.
    pub fn put_many(&self, items: impl IntoIterator<Item = (String, Document)>) -> Result<usize> {
        let ops = items
            .into_iter()
            .map(|(key, doc)| {
                validate_key(&key)?;
                validate_document(&doc)?;
                Ok(Op::Put { key, doc })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut state = self.state.lock();
        state.append(&ops, self.durability)?;
        let written = ops.len();
        for op in ops {
            apply(&mut state.docs, op);
        }
        Ok(written)
    }

    /// Removes `key`; returns whether it was there. Deleting a missing key logs nothing.
    pub fn delete(&self, key: &str) -> Result<bool> {
        let mut state = self.state.lock();
        if !state.docs.contains_key(key) {
            return Ok(false);
        }
        let op = Op::Delete {
            key: key.to_string(),
        };
        state.append(std::slice::from_ref(&op), self.durability)?;
        apply(&mut state.docs, op);
        Ok(true)
    }

    /// How many documents the store holds.
    pub fn len(&self) -> usize {
        self.state.lock().docs.len()
    }

    /// Whether the store holds no documents.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every document whose `field` equals `value` (exact match: `Int(1)` does not equal
    /// `Float(1.0)`). A full scan under the store's one lock: D has no indexes.
    pub fn find_by(&self, field: &str, value: &Scalar) -> Vec<(String, Document)> {
        let state = self.state.lock();
        state
            .docs
            .iter()
            .filter(|(_, doc)| doc.get(field) == Some(value))
            .map(|(key, doc)| (key.clone(), doc.clone()))
            .collect()
    }

    /// Calls `visit` for every entry, in no particular order, holding the lock throughout.
    pub fn for_each(&self, mut visit: impl FnMut(&str, &Document)) {
        let state = self.state.lock();
        for (key, doc) in &state.docs {
            visit(key, doc);
        }
    }

    /// A copy of every entry and the log position it reflects, taken under one hold of the
    /// lock: applying `changes_since(position)` to the copy gives the live state.
    pub fn snapshot(&self) -> (Vec<(String, Document)>, LogPosition) {
        let state = self.state.lock();
        let entries = state
            .docs
            .iter()
            .map(|(key, doc)| (key.clone(), doc.clone()))
            .collect();
        (entries, state.position())
    }

    /// Where the next record will be written: the end of the change stream.
    pub fn position(&self) -> LogPosition {
        self.state.lock().position()
    }

    /// Up to `limit` changes written at or after `from`, and the position to continue from.
    pub fn changes_since(&self, from: LogPosition, limit: usize) -> Result<ChangeBatch> {
        let state = self.state.lock();
        if from.generation != state.log.generation {
            return Err(Error::Compacted {
                requested: from.generation,
                current: state.log.generation,
            });
        }
        if from.offset > state.log.end {
            return Err(Error::InvalidValue(format!(
                "log position {} is past the end of the log ({})",
                from.offset, state.log.end
            )));
        }
        // The lock keeps appends out, so every record up to the end is complete, except a
        // torn tail that a read-only open left in the file: read as "not written".
        let torn_tail_left = state.read_only.is_some() && self.recovery.torn_tail.is_some();
        log::read_changes(&self.dir.join(LOG_FILE), from, limit, torn_tail_left)
    }

    /// Syncs the log: after it returns, every write so far survives a power failure, also
    /// in `Off` mode.
    pub fn sync(&self) -> Result<()> {
        let mut state = self.state.lock();
        state.check_usable()?;
        if let Err(e) = state.log.file.sync_data() {
            state.poisoned = Some(format!("log sync failed: {e}"));
            return Err(e.into());
        }
        Ok(())
    }

    /// Rewrites the log with only the live documents (see [`crate::compact`]).
    pub fn compact(&self) -> Result<crate::compact::CompactionReport> {
        let mut state = self.state.lock();
        crate::compact::compact(&self.dir, &mut state)
    }

    /// Makes the next [`compact`](Self::compact) stop with [`Error::Failpoint`] just
    /// before `step`, leaving the files as a crash at that moment would. For tests.
    #[doc(hidden)]
    pub fn set_compaction_failpoint(&self, step: Option<CompactionStep>) {
        self.state.lock().compaction_failpoint = step;
    }
}

impl State {
    fn position(&self) -> LogPosition {
        LogPosition {
            generation: self.log.generation,
            offset: self.log.end,
        }
    }

    pub(crate) fn check_usable(&self) -> Result<()> {
        if let Some(path) = &self.read_only {
            return Err(Error::ReadOnly { path: path.clone() });
        }
        match &self.poisoned {
            Some(reason) => Err(Error::Poisoned(reason.clone())),
            None => Ok(()),
        }
    }

    /// Appends `ops` to the log and, with `Full` durability, syncs it. On failure the
    /// partial append is cut off, or the store is poisoned if even that is uncertain.
    fn append(&mut self, ops: &[Op], durability: Durability) -> Result<()> {
        self.check_usable()?;
        let mut bytes = std::mem::take(&mut self.scratch);
        bytes.clear();
        let encoded = ops
            .iter()
            .try_for_each(|op| record::encode_record(op, &mut bytes));
        let result = encoded.and_then(|()| self.write_and_sync(&bytes, durability));
        self.scratch = bytes;
        result
    }

    fn write_and_sync(&mut self, bytes: &[u8], durability: Durability) -> Result<()> {
        if let Err(e) = self.log.file.write_all_at(bytes, self.log.end) {
            if let Err(truncate) = self.log.file.set_len(self.log.end) {
                self.poisoned = Some(format!(
                    "log append failed ({e}) and the partial record could not be cut off ({truncate})"
                ));
            }
            return Err(e.into());
        }
        if durability == Durability::Full
            && let Err(e) = self.log.file.sync_data()
        {
            // After a failed fsync the kernel may have dropped the dirty pages: whether
            // the record is on disk is unknown, so nothing more may be acknowledged.
            self.poisoned = Some(format!("log sync failed: {e}"));
            return Err(e.into());
        }
        self.log.end += bytes.len() as u64;
        Ok(())
    }
}

/// Replays the log in `file`: the documents, how many records, the generation and how
/// the scan ended.
fn replay(file: &mut File) -> Result<(HashMap<String, Document>, u64, u64, ScanEnd)> {
    let generation = log::read_generation(file)?;
    let mut docs = HashMap::new();
    let mut records = 0u64;
    let end = log::scan(file, FILE_HEADER_LEN, |_, op| {
        records += 1;
        apply(&mut docs, op);
        true
    })?;
    Ok((docs, records, generation, end))
}

/// Applies one logged operation to the map.
fn apply(docs: &mut HashMap<String, Document>, op: Op) {
    match op {
        Op::Put { key, doc } => {
            docs.insert(key, doc);
        }
        Op::Delete { key } => {
            docs.remove(&key);
        }
    }
}

fn validate_key(key: &str) -> Result<()> {
    if key.len() > MAX_KEY_LEN {
        return Err(Error::InvalidValue(format!(
            "key of {} bytes exceeds the {MAX_KEY_LEN}-byte limit",
            key.len()
        )));
    }
    Ok(())
}

/// Takes the store's exclusive lock file, or reports who holds it.
fn lock_store(dir: &Path) -> Result<Option<File>> {
    let lock_file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILE))?;
    match lock_file.try_lock() {
        Ok(()) => Ok(Some(lock_file)),
        Err(TryLockError::WouldBlock) => Err(Error::Locked {
            path: dir.display().to_string(),
        }),
        Err(TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Takes a shared lock on the store's lock file without creating it: readers may share,
/// a writer holding it exclusively refuses them. `None` when there is no lock file.
fn lock_store_shared(dir: &Path) -> Result<Option<File>> {
    let path = dir.join(LOCK_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let lock_file = File::open(path)?;
    match lock_file.try_lock_shared() {
        Ok(()) => Ok(Some(lock_file)),
        Err(TryLockError::WouldBlock) => Err(Error::Locked {
            path: dir.display().to_string(),
        }),
        Err(TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Syncs a directory, so a file created, renamed or removed in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}
