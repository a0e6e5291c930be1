//! # MemoryWalStorage — the log's directory for a database that lives in memory only
//!
//! [`crate::Database::open_in_memory`] gives its log a [`MemoryWalStorage`]: a map from
//! segment name to bytes. The log writes, rotates and truncates segments in it exactly
//! as on disk (checkpoints remove the old ones, so it stays bounded by
//! `DatabaseOptions::checkpoint_bytes`), and `sync` has nothing to make durable.
//!
//! Unlike the test double [`super::sim::SimWalStorage`], it keeps one image of each file
//! and never fails or crashes.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;

use parking_lot::Mutex;

use super::storage::{WalFile, WalStorage};

type Bytes = Arc<Mutex<Vec<u8>>>;

/// A log directory in memory. See the module header.
#[derive(Debug, Default)]
pub struct MemoryWalStorage {
    files: Mutex<HashMap<String, Bytes>>,
}

impl MemoryWalStorage {
    /// An empty directory.
    pub fn new() -> MemoryWalStorage {
        MemoryWalStorage::default()
    }
}

fn not_found(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("no log file {name}"))
}

impl WalStorage for MemoryWalStorage {
    fn list(&self) -> io::Result<Vec<String>> {
        Ok(self.files.lock().keys().cloned().collect())
    }

    fn create(&self, name: &str) -> io::Result<Box<dyn WalFile>> {
        let bytes = Bytes::default();
        self.files.lock().insert(name.to_string(), Arc::clone(&bytes));
        Ok(Box::new(MemoryFile { bytes }))
    }

    fn open(&self, name: &str) -> io::Result<Box<dyn WalFile>> {
        let bytes = self.files.lock().get(name).cloned();
        let bytes = bytes.ok_or_else(|| not_found(name))?;
        Ok(Box::new(MemoryFile { bytes }))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let mut files = self.files.lock();
        let bytes = files.remove(from).ok_or_else(|| not_found(from))?;
        files.insert(to.to_string(), bytes);
        Ok(())
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        self.files
            .lock()
            .remove(name)
            .map(drop)
            .ok_or_else(|| not_found(name))
    }

    fn sync_dir(&self) -> io::Result<()> {
        Ok(())
    }
}

/// One segment's bytes, shared with the directory's map.
#[derive(Debug)]
struct MemoryFile {
    bytes: Bytes,
}

impl WalFile for MemoryFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let end = start
            .checked_add(buf.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        let bytes = self.bytes.lock();
        let src = bytes.get(start..end).ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        let end = start
            .checked_add(buf.len())
            .ok_or(io::ErrorKind::InvalidInput)?;
        let mut bytes = self.bytes.lock();
        if bytes.len() < end {
            bytes.resize(end, 0);
        }
        bytes[start..end].copy_from_slice(buf);
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.bytes.lock().len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        self.bytes.lock().resize(len, 0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_created_renamed_and_removed() {
        let dir = MemoryWalStorage::new();
        let file = dir.create("a").unwrap();
        file.write_at(b"xyz", 0).unwrap();
        dir.rename("a", "b").unwrap();
        assert_eq!(dir.list().unwrap(), vec!["b".to_string()]);
        let mut buf = [0u8; 3];
        dir.open("b").unwrap().read_at(&mut buf, 0).unwrap();
        assert_eq!(&buf, b"xyz");
        assert!(dir.open("a").is_err());
        dir.remove("b").unwrap();
        assert!(dir.remove("b").is_err());
        assert!(dir.list().unwrap().is_empty());
    }
}
