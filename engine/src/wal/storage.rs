//! # The storage seam under the WAL
//!
//! The log talks to a [`WalStorage`] (a directory: list, create, open, rename, remove, and
//! a directory sync) whose files are [`WalFile`]s (positioned reads and writes, sync,
//! size, set_len). Two implementations exist:
//!
//! - [`DirStorage`], the real one: a directory on disk, locked by a `LOCK` file so that a
//!   second process cannot write the same log, `pread`/`pwrite`, `fdatasync`, and an
//!   `fsync` of the directory itself after a file is created, renamed or removed.
//! - [`super::sim::SimWalStorage`], the test double for crash and fault injection.
//!
//! Why not the pager's `Storage` seam: it models *one* file (positioned I/O, sync, grow,
//! and a read-only mapping). A log is a *directory* of segments that are created, renamed
//! and removed, and whose crash behaviour depends on directory syncs; and the crash tests
//! here need unsynced writes that are torn or persisted out of order, where the pager's
//! simulation drops them all. A second, small trait kept both seams simple.

use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The lock file inside a log directory.
const LOCK_FILE: &str = "LOCK";

/// One file of the log.
pub trait WalFile: Send + Sync + fmt::Debug {
    /// Reads exactly `buf.len()` bytes at `offset`; reading past the end is an error.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Writes all of `buf` at `offset`, growing the file if needed.
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Makes every completed write to this file durable (fdatasync).
    fn sync(&self) -> io::Result<()>;
    /// The current length in bytes.
    fn size(&self) -> io::Result<u64>;
    /// Sets the length (recovery uses it to cut a torn tail).
    fn set_len(&self, len: u64) -> io::Result<()>;
}

/// The directory holding the log's segment files.
pub trait WalStorage: Send + Sync + fmt::Debug {
    /// The names of the files in the directory, in no particular order.
    fn list(&self) -> io::Result<Vec<String>>;
    /// Creates an empty file, replacing any file of that name.
    fn create(&self, name: &str) -> io::Result<Box<dyn WalFile>>;
    /// Opens an existing file for reading and writing.
    fn open(&self, name: &str) -> io::Result<Box<dyn WalFile>>;
    /// Renames a file, replacing any file called `to`.
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;
    /// Removes a file.
    fn remove(&self, name: &str) -> io::Result<()>;
    /// Makes the directory's entries (creations, renames, removals) durable.
    fn sync_dir(&self) -> io::Result<()>;
}

/// A log directory on disk, locked for as long as this value lives.
#[derive(Debug)]
pub struct DirStorage {
    dir: PathBuf,
    /// Holds the exclusive lock; released when dropped.
    _lock: File,
}

impl DirStorage {
    /// Opens the directory at `dir`, creating it if missing, and locks it.
    pub fn open(dir: &Path) -> Result<DirStorage> {
        fs::create_dir_all(dir)?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)?;
        match lock.try_lock() {
            Ok(()) => Ok(DirStorage {
                dir: dir.to_path_buf(),
                _lock: lock,
            }),
            Err(TryLockError::WouldBlock) => Err(Error::Locked {
                path: dir.display().to_string(),
            }),
            Err(TryLockError::Error(e)) => Err(Error::Io(e)),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl WalStorage for DirStorage {
    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir)? {
            if let Ok(name) = entry?.file_name().into_string()
                && name != LOCK_FILE
            {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn create(&self, name: &str) -> io::Result<Box<dyn WalFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.path(name))?;
        Ok(Box::new(DiskFile { file }))
    }

    fn open(&self, name: &str) -> io::Result<Box<dyn WalFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.path(name))?;
        Ok(Box::new(DiskFile { file }))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        fs::rename(self.path(from), self.path(to))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        fs::remove_file(self.path(name))
    }

    fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir)?.sync_all()
    }
}

/// A segment file on disk.
#[derive(Debug)]
struct DiskFile {
    file: File,
}

impl WalFile for DiskFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.file.write_all_at(buf, offset)
    }

    fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }
}
