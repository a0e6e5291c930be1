//! # db — one database: pager, B+trees, WAL and MVCC put together
//!
//! A [`Database`] is a file of pages (the [`crate::pager`]) holding B+trees
//! ([`tree_store::BTreeStore`]), a directory of log segments beside it (the
//! [`crate::wal`], at `<path>.wal/`), and the [`crate::mvcc`] layer that turns them into
//! transactions. This module owns the two procedures that involve all of them.
//!
//! ## CHECKPOINT
//!
//! Committed writes reach the trees in memory at once, but the database file only at a
//! checkpoint. A checkpoint does not stop committing writers. It
//!
//! 1. holds new commits back for an instant ([`Mvcc::with_commits_quiesced`]) to read
//!    the log's end `L` and the newest commit timestamp `T`: every commit logged before
//!    `L` is then fully applied to the trees, and those are exactly the commits up to `T`;
//! 2. records `T` in the tree directory;
//! 3. flushes the pager ([`Pager::flush_with`]). The flush takes a *cut* of the trees
//!    between whole tree operations, holding the pager's write gate only for that instant
//!    (the dirty pages are shared copy-on-write, not copied; see the pager's header);
//!    then, with commits running again, it syncs the log up to its end at that moment,
//!    *before writing any page*, so every commit whose writes may be in the cut, even in
//!    part, is durable in the log (the write-ahead rule); and it writes the cut with `L`
//!    as the checkpoint LSN in one atomic flush. Commits that apply meanwhile change
//!    private copies of the pages they touch and stay dirty for the next checkpoint;
//! 4. deletes the log segments wholly before `L`, once the flush is durable.
//!
//! A background thread runs a checkpoint whenever the log has grown by
//! [`DatabaseOptions::checkpoint_bytes`] since the last one, which bounds both recovery
//! time and the log's size. One checkpoint runs at a time.
//!
//! ## RECOVERY
//!
//! Opening reads the file as of the last checkpoint (the pager makes flushes atomic, so
//! it is one whole cut), reads `T` and the checkpoint LSN `L`, and replays every commit
//! record from `L` on. Why that is exactly right:
//!
//! - **The log still holds what the file lacks.** The cut was taken after step 1, so it
//!   contains every commit before `L` whole; the file lacks at most commits at or after
//!   `L`, and segments are deleted only wholly before `L` and only after the flush that
//!   records `L` is durable (step 4).
//! - **The file holds nothing the log lacks.** A commit applies its writes only after
//!   its record is appended, and step 3 syncs the log to its end *after* the cut, before
//!   writing a page: every commit with any write in the cut is durable in the log. An
//!   uncommitted transaction writes nothing to the trees, so nothing of it can appear.
//! - **Replay is idempotent.** The cut may hold commits after `L` in whole or in part
//!   (they applied before the cut, or were half-applied at it). Versions are keyed by
//!   commit timestamp, so replaying a commit rewrites the same versions; replaying all of
//!   them in log order from `L` on yields the state after the last logged commit.
//! - **A crash mid-checkpoint is safe.** Until the flush's commit point the file is the
//!   previous checkpoint's, whose `L` is older and whose log segments are all still there
//!   (nothing is deleted before step 4); after it, the file is the new cut with the new
//!   `L`, and open rolls an interrupted flush forward (the pager's double-write area).
//!   Writes made by commits during the flush are in the log (synced at their commit) and
//!   never in this flush's image, so either file replays to the same state.
//!
//! Replay relies on **the commit invariant** of [`crate::mvcc`]: every check that can
//! fail ran before a commit record was written, so applying one can fail only by I/O or
//! a corrupted page, and such an error stops the open (naming the page or the log
//! position) without changing the file; a later open tries again. Versions of hdb
//! before the invariant was enforced checked key lengths only while applying, logged
//! commits that could never apply, answered their committers with an error, and refused
//! every later commit. Replay checks each record's keys before applying any of it; a
//! record that fails is dropped whole and counted in
//! [`RecoveryReport::discarded_commits`] (with its LSN in `first_discarded`), since
//! nothing it wrote was ever visible or acknowledged. The key limit is a function of the
//! file's page size alone, so no record that a correct version logged can fail it.
//!
//! ## OPEN AND CLOSE: when the file stands alone
//!
//! The tree directory records whether the last writer **closed cleanly**
//! ([`SystemKey::ClosedCleanly`], written by the checkpoint's atomic flush):
//!
//! - Opening recovers, then runs an *end-of-recovery checkpoint* that also records
//!   "open" (0), before any commit can be acknowledged. From then on, commits may exist
//!   that only the log holds.
//! - Closing the last handle ([`Database::close`], or dropping it) collects garbage and
//!   runs a final checkpoint that records "closed cleanly" (1): the log then holds no
//!   record past the checkpoint, and the `.hdb` file alone is the whole database, so it
//!   can be copied without its `.wal/` directory. Not after a failure that poisoned the
//!   database (its next open recovers from the log, as after a crash).
//!
//! So on open: a missing or empty log is fine for a new file or one closed cleanly (a new
//! log starts at the checkpoint LSN; [`RecoveryReport::new_log`]); for any other file it
//! is [`Error::LogMissing`], naming the directory, because commits after the checkpoint
//! would be lost. A log that ends before the checkpoint LSN is `WalCorrupted`, naming
//! both LSNs. A log found where a new file is being created belongs to another database
//! and is refused. What the file cannot prove: a log cut at a record boundary after the
//! last checkpoint (a checkpoint runs at every open, at close, and every
//! [`DatabaseOptions::checkpoint_bytes`] of log) looks like a crash before those commits,
//! as it does to PostgreSQL; a torn tail (bytes no sync covered, never acknowledged) is
//! cut and reported in [`RecoveryReport::torn_log_bytes`].
//!
//! ## TESTED BY
//!
//! `engine/tests/db_crash.rs` puts the file and the log behind one simulated power switch
//! and crashes at every sync point of a concurrent workload with checkpoints whose
//! flushes are held at each of their syncs until writers have committed beside them
//! (unsynced writes dropped, kept, torn or scrambled), and again during and after
//! recovery; `engine/tests/db_checkpoint_writers.rs` parks a flush at each of its syncs,
//! requires commits to complete meanwhile, and checks the file after a crash and alone
//! after a clean close;
//! `engine/tests/db_kill.rs` kills a child process with SIGKILL at random moments;
//! `engine/tests/db_crash_checks.rs` crashes a workload whose writes fail every check;
//! `engine/tests/db_log_presence.rs` removes, empties and shortens logs.
//!
//! ## NOT YET
//!
//! A checkpoint's cut waits for the tree operations running when it starts, and the
//! write gate is fair, so new operations queue behind it meanwhile: a commit that builds
//! a tree bottom-up (a load into an empty tree, CREATE INDEX) holds the gate for its
//! whole build, and a checkpoint starting during it still holds other commits back
//! until the build ends. Opening always writes (the end-of-recovery checkpoint): there
//! is no read-only open. A database file whose creation was interrupted (empty or without
//! a valid meta page) does not open and must be removed by hand.

mod registry;
pub mod tree_store;
pub mod wal_log;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{self as channel, Sender};
use parking_lot::Mutex;

use crate::btree::{FileReport, check_file_integrity};
use crate::error::{Error, Result};
use crate::extsort::SpillSpace;
use crate::mvcc::{
    BUILD_MARKER_TREE, CommitTs, IsolationLevel, Mvcc, NoCommitLog, Transaction, TreeId, TreeStore,
    WriteOp,
};
use crate::table::index_build;
#[cfg(feature = "testing")]
use crate::pager::Storage;
use crate::pager::{MemoryStorage, Pager, PagerOptions};
use crate::wal::{
    CommitRecord, DirStorage, Durability, Lsn, MemoryWalStorage, Record, Wal, WalOptions,
    WalStorage,
};
use registry::{Lookup, OPEN, Registration};
use tree_store::{BTreeStore, SystemKey};
use wal_log::WalCommitLog;

/// How often the background checkpointer looks at the log's size.
const CHECKPOINT_POLL: Duration = Duration::from_millis(50);

/// How a database is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseOptions {
    /// Page size of a new database file (an existing file keeps its own).
    pub page_size: u32,
    /// When a commit counts as done: synced to disk (`Full`) or written to the OS (`Off`).
    pub durability: Durability,
    /// Run a checkpoint once the log has grown by this many bytes since the last one.
    pub checkpoint_bytes: u64,
    /// Size at which the log starts a new segment file.
    pub wal_segment_bytes: u64,
    /// A commit whose writes take more of the log than this is logged in parts of about
    /// this size, written before its commit record (see `wal/record.rs`): what the
    /// commit holds of its log encoding in memory at a time. Tests make it small.
    pub wal_part_bytes: usize,
    /// Memory a bottom-up build (CREATE INDEX on a populated table) may hold before it
    /// sorts externally, spilling sorted runs to files in `<path>.sort/` (PostgreSQL's
    /// `maintenance_work_mem`; see `table/index_build.rs`).
    pub build_memory_bytes: usize,
    /// Threads a CREATE INDEX on a populated table reads and sorts the table on, each
    /// with its share of `build_memory_bytes` (PostgreSQL's
    /// `max_parallel_maintenance_workers`, plus the leader). Default: one per core, at
    /// most [`DEFAULT_BUILD_THREADS`]; 1 builds on the calling thread alone.
    pub build_threads: usize,
}

/// The most threads a build uses by default.
pub const DEFAULT_BUILD_THREADS: usize = 4;

impl Default for DatabaseOptions {
    fn default() -> Self {
        DatabaseOptions {
            page_size: 4096,
            durability: Durability::Full,
            checkpoint_bytes: 64 << 20,
            wal_segment_bytes: crate::wal::DEFAULT_SEGMENT_SIZE,
            wal_part_bytes: crate::wal::DEFAULT_PART_SIZE,
            build_memory_bytes: crate::extsort::DEFAULT_BUILD_MEMORY,
            build_threads: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(DEFAULT_BUILD_THREADS),
        }
    }
}

/// What opening the database found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The checkpoint the file was at.
    pub checkpoint_lsn: Lsn,
    /// Commit records replayed from the log.
    pub replayed_commits: u64,
    /// The newest commit timestamp after recovery.
    pub last_commit: CommitTs,
    /// Bytes of a torn log tail that were cut off (never acknowledged).
    pub torn_log_bytes: u64,
    /// Logged commits that replay refused because a key is longer than the trees hold
    /// (written by a version of hdb before the commit invariant was enforced; their
    /// committers got an error and they were never visible). See RECOVERY.
    pub discarded_commits: u64,
    /// The LSN of the first such commit.
    pub first_discarded: Option<Lsn>,
    /// The file had been closed cleanly and its log was absent or empty, so a new log was
    /// started at its checkpoint (the file stood alone).
    pub new_log: bool,
}

/// An open database. Cheap to clone; all clones share it, from any thread.
#[derive(Debug, Clone)]
pub struct Database {
    inner: Arc<Inner>,
    /// Counts the handles users hold (the background checkpointer holds none), so the
    /// last one to go closes the database in the dropping thread (OPEN AND CLOSE).
    handles: Arc<()>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    options: DatabaseOptions,
    store: Arc<BTreeStore>,
    log: Arc<WalCommitLog>,
    mvcc: Arc<Mvcc>,
    recovery: RecoveryReport,
    /// The checkpoint LSN of the last checkpoint; held while one runs.
    last_checkpoint: Mutex<Lsn>,
    checkpointer: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
    closing: Mutex<Closing>,
    /// This database's entry among the files open in this process (none in memory).
    /// The last field, so it is dropped after the pager and the log release their locks.
    registration: OnceLock<Registration>,
}

impl Database {
    /// Opens the database at `path` (a file; its log lives in `<path>.wal/`), creating it
    /// if missing, and recovers it (see OPEN AND CLOSE).
    ///
    /// A file is open at most once per process: if this process has it open already,
    /// this returns another handle to that database (an error if `options` differ from
    /// the ones it was opened with; see `registry.rs`). A file another process has open
    /// is [`Error::Locked`].
    pub fn open(path: impl AsRef<Path>, options: DatabaseOptions) -> Result<Database> {
        let path = path.as_ref().to_path_buf();
        let claim = match registry::canonical(&path) {
            Ok(canonical) => match OPEN.lookup(&canonical) {
                Lookup::Open(database) => return database.shared(&path, options),
                Lookup::Absent(claim) => Some(claim),
            },
            // Its directory is missing or unreadable: the open below fails, naming it.
            Err(_) => None,
        };
        let log_dir = wal_dir(&path);
        let new_file = !path.exists();
        if new_file && log_dir.exists() && Wal::has_segments(&DirStorage::open(&log_dir)?)? {
            return Err(Error::LogMissing {
                path: log_dir.display().to_string(),
                reason: format!(
                    "the log directory exists but its database file {} does not: refusing to \
                     create a new database over the log of another",
                    path.display()
                ),
            });
        }
        let pager = match new_file {
            false => Pager::open(&path)?,
            true => Pager::create(
                &path,
                PagerOptions {
                    page_size: options.page_size,
                },
            )?,
        };
        let database = Database::open_parts(
            path.clone(),
            pager,
            new_file,
            LogSource::Dir(log_dir),
            options,
        )?;
        if let Some(claim) = claim {
            // A fresh `Inner`: the cell is empty.
            let _ = database.inner.registration.set(claim.register(&database));
        }
        Ok(database)
    }

    /// This handle, shared by another open of `path`, if that open asked for the same
    /// options.
    fn shared(self, path: &Path, options: DatabaseOptions) -> Result<Database> {
        let open = self.inner.options;
        // An existing file keeps its page size, so only the other options must agree.
        let same = DatabaseOptions {
            page_size: open.page_size,
            ..options
        };
        match same == open {
            true => Ok(self),
            false => Err(Error::InvalidArgument(format!(
                "{} is already open in this process with other options ({open:?}, asked \
                 for {options:?}): share the open database, or open it with the same options",
                path.display()
            ))),
        }
    }

    /// A new, empty database that lives in memory only: no file, no log directory, and
    /// nothing survives the last handle. Commits skip the log's sync whatever
    /// `options.durability` says (there is nothing to make durable).
    pub fn open_in_memory(options: DatabaseOptions) -> Result<Database> {
        let pager = Pager::create_with(
            Box::new(MemoryStorage::new()),
            PagerOptions {
                page_size: options.page_size,
            },
        )?;
        let options = DatabaseOptions {
            durability: Durability::Off,
            ..options
        };
        Database::open_parts(
            PathBuf::new(),
            pager,
            true,
            LogSource::Storage(Arc::new(MemoryWalStorage::new())),
            options,
        )
    }

    /// Opens the database held by a pager storage (created if empty) and a log
    /// directory, instead of files: crash tests pass simulated storages here
    /// (`pager::SimStorage`, `wal::SimWalStorage`). [`Database::path`] is then empty.
    #[cfg(feature = "testing")]
    pub fn open_with(
        pager_storage: Box<dyn Storage>,
        wal_storage: Arc<dyn WalStorage>,
        options: DatabaseOptions,
    ) -> Result<Database> {
        let new_file = pager_storage.size()? == 0;
        let pager = match new_file {
            true => Pager::create_with(
                pager_storage,
                PagerOptions {
                    page_size: options.page_size,
                },
            )?,
            false => Pager::open_with(pager_storage)?,
        };
        Database::open_parts(
            PathBuf::new(),
            pager,
            new_file,
            LogSource::Storage(wal_storage),
            options,
        )
    }

    fn open_parts(
        path: PathBuf,
        pager: Pager,
        new_file: bool,
        log_source: LogSource,
        options: DatabaseOptions,
    ) -> Result<Database> {
        let pager = Arc::new(pager);
        let store = Arc::new(BTreeStore::open(Arc::clone(&pager))?);
        let image_commit = CommitTs(store.system_u64(SystemKey::LastCommitTs)?.unwrap_or(0));
        let checkpoint_lsn = Lsn(pager.checkpoint_lsn());
        let closed_cleanly = store.system_u64(SystemKey::ClosedCleanly)? == Some(1);
        let wal_options = WalOptions {
            durability: options.durability,
            segment_size: options.wal_segment_bytes,
            part_size: options.wal_part_bytes,
        };
        let (wal_storage, log_name) = log_source.open(&path, new_file, closed_cleanly)?;
        let missing = |reason: String| Error::LogMissing {
            path: log_name.clone(),
            reason,
        };
        let log_present = Wal::has_segments(&*wal_storage)?;
        if new_file && log_present {
            return Err(missing(
                "a new database file, but the log already holds records: refusing to apply \
                 the log of another database"
                    .into(),
            ));
        }

        // Run files of a build a crash interrupted are removed here.
        let spill = match path.as_os_str().is_empty() {
            true => SpillSpace::temporary(options.build_memory_bytes),
            false => SpillSpace::beside(&path, options.build_memory_bytes)?,
        };
        let spill = Arc::new(spill.with_threads(options.build_threads));
        // Replay through a log-less MVCC layer over the same trees.
        let replayer = Mvcc::with_spill(
            store.clone(),
            Arc::new(NoCommitLog),
            image_commit,
            spill.clone(),
        );
        let mut replayed_commits = 0;
        let (mut discarded_commits, mut first_discarded) = (0, None);
        let part_storage = Arc::clone(&wal_storage);
        let wal = match (log_present, new_file, closed_cleanly) {
            (true, _, _) | (false, true, _) => Wal::recover(
                wal_storage,
                wal_options,
                checkpoint_lsn,
                |lsn, record| match record {
                    // Read when the commit record that names it is.
                    Record::Part { .. } => Ok(()),
                    Record::Commit(commit) => {
                        match replay_record(&replayer, &*part_storage, lsn, commit) {
                            Ok(()) => {
                                replayed_commits += 1;
                                Ok(())
                            }
                            // Logged by a version that checked key lengths only when
                            // applying: never acknowledged, so dropped whole (RECOVERY).
                            Err(Error::TooLarge(_)) => {
                                discarded_commits += 1;
                                first_discarded.get_or_insert(lsn);
                                Ok(())
                            }
                            Err(e) => Err(e),
                        }
                    }
                },
            )?,
            // The file stands alone: a new log continues at its checkpoint.
            (false, false, true) => Wal::start_at(wal_storage, wal_options, checkpoint_lsn)?,
            (false, false, false) => {
                return Err(missing(format!(
                    "the log holds no records, but the database file was not closed cleanly: \
                     commits after its checkpoint at LSN {checkpoint_lsn} were in the log and \
                     would be lost (restore the log directory that belongs to this file)"
                )));
            }
        };
        let last_commit = replayer.last_allocated();
        drop(replayer);
        let recovery = RecoveryReport {
            checkpoint_lsn,
            replayed_commits,
            last_commit,
            torn_log_bytes: wal.recovery().torn.map_or(0, |t| t.bytes),
            discarded_commits,
            first_discarded,
            new_log: !log_present && !new_file,
        };
        let log = Arc::new(WalCommitLog::new(wal));
        let mvcc = Mvcc::with_spill(store.clone(), log.clone(), last_commit, spill);
        let database = Database {
            handles: Arc::new(()),
            inner: Arc::new(Inner {
                path,
                options,
                store,
                log,
                mvcc,
                recovery,
                last_checkpoint: Mutex::new(checkpoint_lsn),
                checkpointer: Mutex::new(None),
                closing: Mutex::new(Closing::Open),
                registration: OnceLock::new(),
            }),
        };
        // The end-of-recovery checkpoint: it moves what was replayed into the file and,
        // in the same atomic flush, records that the log is in use, before any commit can
        // be acknowledged (OPEN AND CLOSE).
        // Trees dropped before the last close or crash and not freed then: no snapshot
        // is open now, so none can read them (DROPPED TREES in `mvcc`).
        for (tree, _) in database.inner.store.retired_trees()? {
            database.inner.store.free_tree(tree)?;
        }
        database
            .inner
            .store
            .set_system_u64(SystemKey::ClosedCleanly, 0)?;
        database.inner.checkpoint()?;
        database.start_checkpointer()?;
        Ok(database)
    }

    /// Starts a transaction.
    pub fn begin(&self, isolation: IsolationLevel) -> Transaction {
        self.inner.mvcc.begin(isolation)
    }

    /// Starts a transaction with an access mode (`READ ONLY`, `DEFERRABLE`).
    pub fn begin_with(&self, isolation: IsolationLevel, mode: crate::mvcc::AccessMode) -> Transaction {
        self.inner.mvcc.begin_with(isolation, mode)
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The options it was opened with.
    pub fn options(&self) -> DatabaseOptions {
        self.inner.options
    }

    /// What opening found.
    pub fn recovery(&self) -> RecoveryReport {
        self.inner.recovery
    }

    /// How many transactions wait for a row lock now (monitoring, and tests that must
    /// know a session has blocked).
    pub fn lock_waiters(&self) -> usize {
        self.inner.mvcc.lock_waiters()
    }

    /// The transactional layer (for statistics and garbage collection).
    #[cfg(feature = "testing")]
    pub fn mvcc(&self) -> &Arc<Mvcc> {
        &self.inner.mvcc
    }

    /// The log (for statistics: syncs, batches).
    #[cfg(feature = "testing")]
    pub fn wal(&self) -> &Wal {
        self.inner.log.wal()
    }

    /// The most bytes a key may take once stored in a tree (see
    /// [`Database::stored_key_len`]): a longer key is refused with
    /// [`Error::TooLarge`] before anything is written.
    pub fn max_stored_key_len(&self) -> usize {
        self.inner.mvcc.max_stored_key_len()
    }

    /// The bytes `key` (an encoded key, see [`crate::keycode`]) takes once stored in a
    /// tree, version suffix included.
    pub fn stored_key_len(&self, key: &[u8]) -> usize {
        self.inner.mvcc.stored_key_len(key)
    }

    /// Removes the old row versions that no snapshot can see any more, for every key
    /// written since the last vacuum (commits also do some of this as they go); returns
    /// how many keys it pruned.
    pub fn vacuum(&self) -> Result<usize> {
        self.inner.mvcc.vacuum()
    }

    /// A reference that does not keep the database open (see [`WeakDatabase`]).
    pub fn downgrade(&self) -> WeakDatabase {
        WeakDatabase {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// Runs a checkpoint now (see the module header); returns its checkpoint LSN.
    pub fn checkpoint(&self) -> Result<Lsn> {
        self.inner.checkpoint()
    }

    /// Makes every commit so far durable, also with `Durability::Off`.
    pub fn sync(&self) -> Result<()> {
        self.inner.log.wal().sync()
    }

    /// Verifies the structure of every tree and the ownership of every page. Run it with
    /// no concurrent writers.
    pub fn check_integrity(&self) -> Result<FileReport> {
        let roots: Vec<_> = self
            .inner
            .store
            .trees()?
            .into_iter()
            .map(|(_, tree)| tree.root())
            .collect();
        check_file_integrity(self.inner.store.pager(), &roots)
    }

    /// Checkpoints and closes this handle. Closing (or dropping) the last handle closes
    /// the database cleanly: the log is checkpointed to its end and the file records that
    /// it stands alone (OPEN AND CLOSE); this reports an error there that a drop could
    /// not. While other handles remain, it only runs a checkpoint.
    pub fn close(self) -> Result<()> {
        let result = match self.closing_last_handle() {
            true => self.inner.close_cleanly(),
            false => self.inner.checkpoint().map(drop),
        };
        drop(self);
        result
    }

    /// Whether this is the last handle, so that dropping it closes the database. For a
    /// file, the registry decides it under its lock and from then on shares the database
    /// with no other open (`registry.rs`).
    fn closing_last_handle(&self) -> bool {
        match self.inner.registration.get() {
            Some(registration) => registration.close_if_last(&self.handles),
            None => Arc::strong_count(&self.handles) == 1,
        }
    }

    /// Closes this handle as a crash would, without a checkpoint: the next open replays
    /// the log. For tests of recovery; the database stays correct either way.
    #[doc(hidden)]
    pub fn close_as_if_crashed(self) {
        *self.inner.closing.lock() = Closing::Abandoned;
    }

    fn start_checkpointer(&self) -> Result<()> {
        let (stop, stopped) = channel::bounded::<()>(1);
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let handle = std::thread::Builder::new()
            .name("hdb-checkpointer".to_string())
            .spawn(move || {
                while let Err(channel::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_POLL)
                {
                    let Some(inner) = weak.upgrade() else {
                        return;
                    };
                    if inner.log_growth() >= inner.options.checkpoint_bytes
                        && let Err(e) = inner.checkpoint()
                    {
                        inner
                            .mvcc
                            .poison(format!("background checkpoint failed: {e}"));
                        return;
                    }
                }
            })?;
        *self.inner.checkpointer.lock() = Some((stop, handle));
        Ok(())
    }
}

impl Inner {
    fn log_growth(&self) -> u64 {
        let last = *self.last_checkpoint.lock();
        self.log.wal().end_lsn().0.saturating_sub(last.0)
    }

    fn checkpoint(&self) -> Result<Lsn> {
        let mut last_checkpoint = self.last_checkpoint.lock();
        let wal = self.log.wal();
        let (lsn, last_commit) = self
            .mvcc
            .with_commits_quiesced(|| (wal.end_lsn(), self.mvcc.last_allocated()));
        self.store
            .set_system_u64(SystemKey::LastCommitTs, last_commit.0)?;
        let pager = self.store.pager();
        pager.flush_with(|_| {
            wal.sync_to(wal.end_lsn())?;
            pager.set_checkpoint_lsn(lsn.0);
            Ok(())
        })?;
        wal.truncate_before(lsn)?;
        *last_checkpoint = lsn;
        Ok(lsn)
    }

    /// The clean close of the last handle: collect garbage, then a checkpoint that also
    /// records that the file stands alone. Not after a failure that poisoned the
    /// database: its next open recovers from the log instead.
    fn close_cleanly(&self) -> Result<()> {
        {
            let mut closing = self.closing.lock();
            if *closing != Closing::Open {
                return Ok(());
            }
            *closing = Closing::Closed;
        }
        self.stop_checkpointer();
        self.mvcc.check_usable()?;
        self.mvcc.vacuum()?;
        self.store.set_system_u64(SystemKey::ClosedCleanly, 1)?;
        self.checkpoint().map(drop)
    }

    fn stop_checkpointer(&self) {
        if let Some((stop, handle)) = self.checkpointer.lock().take() {
            // A full channel or a finished thread both mean it is stopping already.
            let _ = stop.try_send(());
            // The thread holds only a weak reference, so it can be the last owner's
            // drop that lands here; never join our own thread.
            if handle.thread().id() != std::thread::current().id() {
                drop(handle.join());
            }
        }
    }
}

/// A reference to a [`Database`] that does not keep it open: caches keyed by database
/// hold one to tell databases apart and to notice when one is gone.
#[derive(Debug, Clone)]
pub struct WeakDatabase {
    inner: Weak<Inner>,
}

impl WeakDatabase {
    /// Whether every handle to the database is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.strong_count() == 0
    }

    /// Whether both refer to the same open database.
    pub fn ptr_eq(&self, other: &WeakDatabase) -> bool {
        Weak::ptr_eq(&self.inner, &other.inner)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // The last user handle closes cleanly, here: the background checkpointer is
        // stopped and joined first, so the file is unlocked when this returns. An error
        // leaves a database whose next open recovers from the log, as after a crash.
        if self.closing_last_handle() {
            drop(self.inner.close_cleanly());
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closed by the last handle already, unless two handles went at once.
        drop(self.close_cleanly());
        self.stop_checkpointer();
    }
}

/// How far closing has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    Open,
    /// Closed cleanly (or tried to): nothing more to do on drop.
    Closed,
    /// Closed as if crashed: no checkpoint on drop.
    Abandoned,
}

/// Where the log lives.
enum LogSource {
    /// A directory beside the database file, created if the database is new or the file
    /// was closed cleanly.
    Dir(PathBuf),
    /// A storage the caller provides (crash tests).
    Storage(Arc<dyn WalStorage>),
}

impl LogSource {
    /// The log's storage and a name for it in errors. A missing directory is an error
    /// unless the file is new or was closed cleanly (OPEN AND CLOSE).
    fn open(
        self,
        db_path: &Path,
        new_file: bool,
        closed_cleanly: bool,
    ) -> Result<(Arc<dyn WalStorage>, String)> {
        match self {
            LogSource::Storage(storage) => Ok((storage, "the log".to_string())),
            LogSource::Dir(dir) => {
                let name = dir.display().to_string();
                let existed = dir.exists();
                if !existed && !new_file && !closed_cleanly {
                    return Err(Error::LogMissing {
                        path: name,
                        reason: format!(
                            "the directory does not exist, but the database file {} was not \
                             closed cleanly, so its commits after the last checkpoint are \
                             in that log (restore the directory that belongs to this file)",
                            db_path.display()
                        ),
                    });
                }
                let storage = DirStorage::open(&dir)?;
                if !existed {
                    // The new log directory (and a new file) are entries in their parent
                    // directory: sync it, or a power cut could lose the log directory
                    // with every commit in it.
                    sync_parent_dir(db_path)?;
                }
                Ok((Arc::new(storage), name))
            }
        }
    }
}

/// Replays the commit record at `lsn` through `replayer`: the writes of its parts (read
/// from `storage` one part at a time, in order), then its own, then the builds it logged
/// as markers, which read the rows those writes left. A commit logged whole that fails
/// the replay's key check is [`Error::TooLarge`] and changes nothing (see
/// [`Mvcc::replay_commit`]); a commit in parts was logged by a version that checks every
/// key before logging, so a key that fails it there is damage.
fn replay_record(
    replayer: &Mvcc,
    storage: &dyn WalStorage,
    lsn: Lsn,
    commit: CommitRecord,
) -> Result<()> {
    let ts = CommitTs(commit.commit_ts);
    for part in &commit.parts {
        if *part >= lsn {
            return Err(Error::WalCorrupted {
                lsn: lsn.0,
                reason: format!("a commit record names a part at LSN {part}, not before it"),
            });
        }
        let (_, writes) = write_ops(Wal::read_part_in(storage, *part)?);
        replayer.replay_commit(ts, &writes).map_err(|e| match e {
            Error::TooLarge(limit) => Error::WalCorrupted {
                lsn: part.0,
                reason: format!("a part of a commit holds a write the trees refuse: {limit}"),
            },
            other => other,
        })?;
    }
    let (builds, writes) = write_ops(commit.writes);
    replayer.replay_commit(ts, &writes)?;
    for build in &builds {
        let marker = build.value.as_deref().unwrap_or_default();
        index_build::replay_build(replayer, ts, &build.key, marker)?;
    }
    Ok(())
}

/// Logged writes as the MVCC layer's, the deferred builds' markers apart:
/// `(markers, writes)`.
fn write_ops(writes: Vec<crate::wal::Write>) -> (Vec<WriteOp>, Vec<WriteOp>) {
    writes
        .into_iter()
        .map(|w| WriteOp {
            tree: TreeId(w.tree),
            key: w.key,
            value: w.value,
        })
        .partition(|w| w.tree == BUILD_MARKER_TREE)
}

fn sync_parent_dir(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::File::open(parent)?.sync_all()?;
    Ok(())
}

fn wal_dir(path: &Path) -> PathBuf {
    let mut dir = path.as_os_str().to_owned();
    dir.push(".wal");
    PathBuf::from(dir)
}
