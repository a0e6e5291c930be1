//! # MemoryStorage — the pager's storage for a database that lives in memory only
//!
//! [`crate::Database::open_in_memory`] puts the pager on a [`MemoryStorage`]: one
//! growable byte vector behind a mutex. Writes land in it, `sync` has nothing to make
//! durable, and it offers no memory mapping (`Storage::map`'s default), so the pager
//! reads pages through `read_at` (a copy per page read, which a database in memory can
//! afford). Nothing outlives the process: dropping the last handle frees it.
//!
//! Unlike the test double [`super::sim::SimStorage`], it keeps one image, not a live
//! and a durable one, and it cannot crash.

use std::io;

use parking_lot::Mutex;

use super::storage::Storage;

/// A database file's bytes in memory. See the module header.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    bytes: Mutex<Vec<u8>>,
}

impl MemoryStorage {
    /// An empty storage (the pager creates a database in it).
    pub fn new() -> MemoryStorage {
        MemoryStorage::default()
    }
}

/// `offset..offset + len` as indices, or an error if it cannot address memory.
fn span(offset: u64, len: usize, kind: io::ErrorKind) -> io::Result<(usize, usize)> {
    let start = usize::try_from(offset).map_err(|_| kind)?;
    let end = start.checked_add(len).ok_or(kind)?;
    Ok((start, end))
}

impl Storage for MemoryStorage {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let (start, end) = span(offset, buf.len(), io::ErrorKind::UnexpectedEof)?;
        let bytes = self.bytes.lock();
        let src = bytes.get(start..end).ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let (start, end) = span(offset, buf.len(), io::ErrorKind::InvalidInput)?;
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

    fn describe(&self) -> String {
        "the database in memory".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_was_written_and_refuses_past_the_end() {
        let storage = MemoryStorage::new();
        storage.write_at(b"abc", 2).unwrap();
        assert_eq!(storage.size().unwrap(), 5);
        let mut buf = [9u8; 5];
        storage.read_at(&mut buf, 0).unwrap();
        assert_eq!(&buf, b"\0\0abc");
        assert!(storage.read_at(&mut buf, 1).is_err());
        assert!(storage.read_at(&mut buf, u64::MAX).is_err());
        storage.set_len(8).unwrap();
        assert_eq!(storage.size().unwrap(), 8);
    }
}
