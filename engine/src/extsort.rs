//! # External sort: sorted runs spilled to temporary files and merged
//!
//! A bottom-up build whose entries do not fit its memory budget
//! ([`DatabaseOptions::build_memory_bytes`](crate::DatabaseOptions::build_memory_bytes))
//! sorts them a budget's worth at a time and writes each sorted chunk to a *run file*
//! ([`RunWriter`]); the runs are then read back merged ([`SpilledRuns::merge`]), one
//! entry at a time, in key order. Memory stays bounded by the budget while chunks are
//! sorted, and by one read buffer per run (at most [`FAN_IN`] runs, each buffer a share
//! of the budget) while they are merged: more runs than that are first merged in groups
//! into longer runs ([`SpilledRuns::new`]), as many passes as it takes.
//!
//! A run file is a sequence of entries, each `key_len u32 LE | value_len u32 LE | key |
//! value`, in strictly increasing key order. Nothing in it needs to survive a crash: the
//! files are never synced, and they are removed when their [`RunFile`] is dropped
//! (a build that succeeded, failed or was abandoned). A crash leaves them behind, so
//! opening a database removes whatever its [`SpillSpace`] directory holds (the
//! directory beside the file is the database's own: one process has a database open).
//!
//! I/O errors (a full disk, a failed read) surface as [`Error::Io`]; a run file that
//! reads back short or malformed (changed under us) is [`Error::CorruptData`].

use std::cmp::Ordering;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use crate::error::{Error, Result};

/// The most runs one merge reads at once.
pub(crate) const FAN_IN: usize = 64;

/// The default memory budget of a build: 64 MiB, PostgreSQL's `maintenance_work_mem`
/// default.
pub const DEFAULT_BUILD_MEMORY: usize = 64 << 20;

/// Where a database's run files go, and what a build may use: the memory budget that
/// decides when to spill, and the threads that read the table.
#[derive(Debug)]
pub struct SpillSpace {
    dir: PathBuf,
    budget: usize,
    threads: usize,
    /// A directory of its own (an in-memory database's), removed on drop.
    owned: bool,
    next: AtomicU64,
}

/// Run files of different spaces in one process never share a name.
static SPACES: AtomicU64 = AtomicU64::new(0);

impl SpillSpace {
    /// The run-file directory of the database file at `db_path`: `<db_path>.sort`,
    /// emptied of whatever a crashed process left there.
    pub fn beside(db_path: &Path, budget: usize) -> Result<SpillSpace> {
        let mut name = db_path.as_os_str().to_owned();
        name.push(".sort");
        let dir = PathBuf::from(name);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&dir, "remove leftover run files in", e)),
        }
        Ok(SpillSpace::at(dir, budget, false))
    }

    /// A directory of its own under the system's temporary directory (for a database
    /// without a file), created on first use and removed when the space is dropped.
    pub fn temporary(budget: usize) -> SpillSpace {
        let n = SPACES.fetch_add(1, AtomicOrdering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hdb-sort-{}-{n}", std::process::id()));
        SpillSpace::at(dir, budget, true)
    }

    fn at(dir: PathBuf, budget: usize, owned: bool) -> SpillSpace {
        SpillSpace {
            dir,
            budget: budget.max(1),
            threads: 1,
            owned,
            next: AtomicU64::new(0),
        }
    }

    /// This space with builds reading the table on up to `threads` threads (at least 1).
    pub fn with_threads(mut self, threads: usize) -> SpillSpace {
        self.threads = threads.max(1);
        self
    }

    /// How many threads a build may read the table on.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Bytes a build may hold in memory before it spills.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The directory run files are written in.
    #[cfg(test)]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The read buffer of each of [`FAN_IN`] runs merged at once: a share of the budget,
    /// at least 4 KiB and at most 1 MiB.
    fn read_buffer(&self) -> usize {
        (self.budget / (2 * FAN_IN)).clamp(4 << 10, 1 << 20)
    }

    /// A new, empty run file.
    pub fn create_run(&self) -> Result<RunWriter> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| io_error(&self.dir, "create the run-file directory", e))?;
        let n = self.next.fetch_add(1, AtomicOrdering::Relaxed);
        let path = self.dir.join(format!("run-{n}.tmp"));
        let file = File::create(&path).map_err(|e| io_error(&path, "create run file", e))?;
        Ok(RunWriter {
            out: BufWriter::with_capacity(64 << 10, file),
            run: RunFile { path, entries: 0 },
        })
    }
}

impl Drop for SpillSpace {
    fn drop(&mut self) {
        // Every run is gone by now (runs live in transactions, which end first), so the
        // directory beside a database is empty and goes too; a temporary one goes whole.
        let _ = match self.owned {
            true => std::fs::remove_dir_all(&self.dir),
            false => std::fs::remove_dir(&self.dir),
        };
    }
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::Io(std::io::Error::new(
        e.kind(),
        format!("{what} {}: {e}", path.display()),
    ))
}

/// A written run: removed from the disk when dropped.
#[derive(Debug)]
pub struct RunFile {
    path: PathBuf,
    entries: u64,
}

impl RunFile {
    pub fn entries(&self) -> u64 {
        self.entries
    }
}

impl Drop for RunFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Writes one run: entries in strictly increasing key order (the caller sorted them).
#[derive(Debug)]
pub struct RunWriter {
    out: BufWriter<File>,
    run: RunFile,
}

impl RunWriter {
    pub fn push(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        let len = |n: usize| {
            u32::try_from(n)
                .map(u32::to_le_bytes)
                .map_err(|_| Error::InvalidArgument(format!("a sorted entry of {n} bytes")))
        };
        let (k, v) = (len(key.len())?, len(value.len())?);
        let path = &self.run.path;
        let mut write = |bytes: &[u8]| {
            self.out
                .write_all(bytes)
                .map_err(|e| io_error(path, "write run file", e))
        };
        write(&k)?;
        write(&v)?;
        write(key)?;
        write(value)?;
        self.run.entries += 1;
        Ok(())
    }

    /// Flushes the run (no sync: a run never needs to survive a crash).
    pub fn finish(mut self) -> Result<RunFile> {
        self.out
            .flush()
            .map_err(|e| io_error(&self.run.path, "write run file", e))?;
        Ok(self.run)
    }
}

/// Spilled runs, at most [`FAN_IN`] of them, ready to be read merged as often as needed.
#[derive(Debug)]
pub struct SpilledRuns {
    runs: Vec<RunFile>,
    entries: u64,
    read_buffer: usize,
}

impl SpilledRuns {
    /// Takes `runs`, merging them in groups of [`FAN_IN`] into longer runs (in `space`)
    /// until at most [`FAN_IN`] remain. Keys equal across runs are kept (a merge does
    /// not judge them; its reader reports them in run order).
    pub fn new(space: &SpillSpace, mut runs: Vec<RunFile>) -> Result<SpilledRuns> {
        let read_buffer = space.read_buffer();
        while runs.len() > FAN_IN {
            let mut longer = Vec::with_capacity(runs.len().div_ceil(FAN_IN));
            let mut rest = runs.into_iter().peekable();
            while rest.peek().is_some() {
                let group: Vec<RunFile> = rest.by_ref().take(FAN_IN).collect();
                let mut merge = Merge::open(&group, read_buffer)?;
                let mut out = space.create_run()?;
                while let Some((key, value)) = merge.next_entry()? {
                    out.push(key, value)?;
                }
                longer.push(out.finish()?);
            }
            runs = longer;
        }
        Ok(SpilledRuns {
            entries: runs.iter().map(RunFile::entries).sum(),
            runs,
            read_buffer,
        })
    }

    /// The run files, to be taken with others into a new [`SpilledRuns`].
    pub fn into_runs(self) -> Vec<RunFile> {
        self.runs
    }

    /// How many entries the runs hold together.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Reads every run's entries merged into key order.
    pub fn merge(&self) -> Result<Merge> {
        Merge::open(&self.runs, self.read_buffer)
    }
}

/// One run being read: its current entry in `key` and `value`.
struct RunReader {
    input: BufReader<File>,
    path: PathBuf,
    left: u64,
    key: Vec<u8>,
    value: Vec<u8>,
}

impl RunReader {
    /// Reads the next entry; `false` at the end of the run.
    fn advance(&mut self) -> Result<bool> {
        if self.left == 0 {
            return Ok(false);
        }
        self.left -= 1;
        let mut lens = [0u8; 8];
        self.read(&mut lens, "lengths")?;
        let word = |at: usize| {
            let mut w = [0u8; 4];
            w.copy_from_slice(&lens[at..at + 4]);
            u32::from_le_bytes(w) as usize
        };
        let mut key = std::mem::take(&mut self.key);
        let mut value = std::mem::take(&mut self.value);
        key.resize(word(0), 0);
        value.resize(word(4), 0);
        let read = self
            .read(&mut key, "key")
            .and_then(|()| self.read(&mut value, "value"));
        self.key = key;
        self.value = value;
        read.map(|()| true)
    }

    fn read(&mut self, into: &mut [u8], what: &str) -> Result<()> {
        self.input.read_exact(into).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Error::CorruptData(format!(
                "run file {} ends inside an entry's {what}",
                self.path.display()
            )),
            _ => io_error(&self.path, "read run file", e),
        })
    }
}

/// Runs read merged: entries in key order, an entry equal to another in an earlier run
/// after it.
pub struct Merge {
    readers: Vec<RunReader>,
    /// The readers with an entry left, ordered by (current key, run).
    order: Vec<usize>,
    /// The reader whose entry was lent last, to advance before the next is lent.
    lent: Option<usize>,
}

impl std::fmt::Debug for Merge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merge")
            .field("runs", &self.readers.len())
            .finish_non_exhaustive()
    }
}

impl Merge {
    fn open(runs: &[RunFile], read_buffer: usize) -> Result<Merge> {
        let mut merge = Merge {
            readers: Vec::with_capacity(runs.len()),
            order: Vec::with_capacity(runs.len()),
            lent: None,
        };
        for run in runs {
            let file =
                File::open(&run.path).map_err(|e| io_error(&run.path, "open run file", e))?;
            merge.readers.push(RunReader {
                input: BufReader::with_capacity(read_buffer, file),
                path: run.path.clone(),
                left: run.entries,
                key: Vec::new(),
                value: Vec::new(),
            });
        }
        for at in 0..merge.readers.len() {
            if merge.readers[at].advance()? {
                merge.insert(at);
            }
        }
        Ok(merge)
    }

    fn compare(&self, a: usize, b: usize) -> Ordering {
        self.readers[a]
            .key
            .cmp(&self.readers[b].key)
            .then(a.cmp(&b))
    }

    /// Puts reader `at` into `order` by its current key.
    fn insert(&mut self, at: usize) {
        let place = self
            .order
            .partition_point(|&other| self.compare(other, at).is_lt());
        self.order.insert(place, at);
    }

    /// The next entry in key order, or `None` after the last.
    pub fn next_entry(&mut self) -> Result<Option<(&[u8], &[u8])>> {
        if let Some(at) = self.lent.take()
            && self.readers[at].advance()?
        {
            self.insert(at);
        }
        if self.order.is_empty() {
            return Ok(None);
        }
        let at = self.order.remove(0);
        self.lent = Some(at);
        let reader = &self.readers[at];
        Ok(Some((&reader.key, &reader.value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_run(space: &SpillSpace, entries: &[(Vec<u8>, Vec<u8>)]) -> RunFile {
        let mut out = space.create_run().unwrap();
        for (k, v) in entries {
            out.push(k, v).unwrap();
        }
        out.finish().unwrap()
    }

    fn read_all(runs: &SpilledRuns) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut merge = runs.merge().unwrap();
        let mut out = Vec::new();
        while let Some((k, v)) = merge.next_entry().unwrap() {
            out.push((k.to_vec(), v.to_vec()));
        }
        out
    }

    #[test]
    fn runs_merge_into_key_order_through_several_passes_and_leave_no_files() {
        let space = SpillSpace::temporary(1);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut all = Vec::new();
        let mut runs = Vec::new();
        // More runs than one merge reads, so a pass merges groups first.
        for run in 0..(FAN_IN * 2 + 3) {
            let mut entries: Vec<(Vec<u8>, Vec<u8>)> = (0..(run % 5))
                .map(|i| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let key = (state % 1000).to_be_bytes().to_vec();
                    (key, vec![run as u8, i as u8])
                })
                .collect();
            entries.sort();
            entries.dedup_by(|a, b| a.0 == b.0);
            all.extend(entries.iter().cloned().map(|e| (e, run)));
            runs.push(write_run(&space, &entries));
        }
        let spilled = SpilledRuns::new(&space, runs).unwrap();
        assert!(spilled.runs.len() <= FAN_IN);
        // Equal keys come in run order: sort stably by key over (entry, run) in run order.
        all.sort_by(|a, b| a.0.0.cmp(&b.0.0).then(a.1.cmp(&b.1)));
        let want: Vec<_> = all.into_iter().map(|(e, _)| e).collect();
        assert_eq!(spilled.entries(), want.len() as u64);
        assert_eq!(read_all(&spilled), want);
        assert_eq!(read_all(&spilled), want, "a second read gives the same");
        let dir = space.dir().to_path_buf();
        assert!(std::fs::read_dir(&dir).unwrap().count() <= FAN_IN);
        drop(spilled);
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "runs removed");
        drop(space);
        assert!(!dir.exists(), "a temporary space removes its directory");
    }

    #[test]
    fn a_truncated_run_is_corrupt_data_not_a_panic() {
        let space = SpillSpace::temporary(1);
        let run = write_run(&space, &[(b"a".to_vec(), b"1".to_vec())]);
        std::fs::write(&run.path, [1u8, 0, 0, 0]).unwrap();
        let spilled = SpilledRuns::new(&space, vec![run]).unwrap();
        assert!(matches!(spilled.merge(), Err(Error::CorruptData(_))));
    }

    #[test]
    fn opening_beside_a_database_removes_leftover_runs() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.hdb");
        let space = SpillSpace::beside(&db, 1024).unwrap();
        let run = write_run(&space, &[(b"k".to_vec(), b"v".to_vec())]);
        std::mem::forget(run); // as a crash would leave it
        assert_eq!(std::fs::read_dir(space.dir()).unwrap().count(), 1);
        let again = SpillSpace::beside(&db, 1024).unwrap();
        assert!(!again.dir().exists());
    }
}
