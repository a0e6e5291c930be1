//! # The storage seam under the pager
//!
//! The pager does not talk to a file directly but to a [`Storage`]: positioned reads and
//! writes, `sync`, the length, growing the length, and (optionally) a read-only mapping.
//! Two implementations exist:
//!
//! - [`FileStorage`], the real one: a locked file, `pread`/`pwrite`, `fdatasync`, and a
//!   memory mapping for reads (see `mmap.rs` for why that is sound).
//! - [`super::sim::SimStorage`], a test double that keeps a *live* and a *durable* image,
//!   can freeze the durable image at the Nth sync (a simulated power cut), and can flip
//!   bytes. It offers no mapping, so the pager reads through `read_at` for it.
//!
//! The trait is object-safe so the pager holds a `Box<dyn Storage>`.

use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::mmap::Mapping;
use crate::{Error, Result};

/// What the pager needs from the medium that holds a database file.
pub trait Storage: Send + Sync + fmt::Debug {
    /// Reads exactly `buf.len()` bytes at `offset`; reading past the end is an error.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Writes all of `buf` at `offset`, growing the file if needed.
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Makes every completed write durable (fdatasync).
    fn sync(&self) -> io::Result<()>;
    /// The current length in bytes.
    fn size(&self) -> io::Result<u64>;
    /// Sets the length. The pager only ever grows files (see the soundness argument).
    fn set_len(&self, len: u64) -> io::Result<()>;
    /// What errors call this storage: a file's path.
    fn describe(&self) -> String {
        "the database storage".to_string()
    }
    /// A read-only mapping of the current contents, or `None` (the default) when this
    /// storage cannot be mapped, in which case the pager reads pages with `read_at`.
    ///
    /// # Safety
    ///
    /// The mapping stays valid only while the storage does not shrink: for as long as the
    /// returned mapping lives, the caller must not call [`Storage::set_len`] with a smaller
    /// length (nor let anything else truncate what backs it), and must keep the storage
    /// alive (a file's lock keeps other processes out). An implementation that returns
    /// `Some` must hold that lock. The pager keeps this contract: it only grows files.
    #[allow(unsafe_code)]
    unsafe fn map(&self) -> io::Result<Option<Arc<Mapping>>> {
        Ok(None)
    }
}

/// A database file on disk, exclusively locked for as long as this value lives.
#[derive(Debug)]
pub struct FileStorage {
    file: File,
    path: PathBuf,
}

impl FileStorage {
    /// Creates a new file (failing if it exists) and locks it.
    pub fn create(path: &Path) -> Result<FileStorage> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|source| file_error(path, source))?;
        Self::lock(file, path)
    }

    /// Opens an existing file and locks it.
    pub fn open(path: &Path) -> Result<FileStorage> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|source| file_error(path, source))?;
        Self::lock(file, path)
    }

    fn lock(file: File, path: &Path) -> Result<FileStorage> {
        match file.try_lock() {
            Ok(()) => Ok(FileStorage {
                file,
                path: path.to_path_buf(),
            }),
            Err(TryLockError::WouldBlock) => Err(Error::Locked {
                path: path.display().to_string(),
            }),
            Err(TryLockError::Error(e)) => Err(file_error(path, e)),
        }
    }
}

fn file_error(path: &Path, source: io::Error) -> Error {
    Error::File {
        path: path.display().to_string(),
        source,
    }
}

impl Storage for FileStorage {
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

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    #[allow(unsafe_code)]
    unsafe fn map(&self) -> io::Result<Option<Arc<Mapping>>> {
        // SAFETY: this storage holds the exclusive lock on `file` for its whole life, and
        // our caller promised (this method's contract) not to shrink it while mapped.
        Ok(Some(Arc::new(unsafe { Mapping::new(&self.file)? })))
    }
}
