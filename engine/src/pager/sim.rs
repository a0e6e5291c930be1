//! # A simulated storage for crash and corruption tests
//!
//! [`SimStorage`] keeps two images of the file:
//!
//! - the **live** image: what reads see, updated by every write;
//! - the **durable** image: what would survive a power cut, replaced by a copy of the live
//!   image at every successful `sync`.
//!
//! A test arms a crash with [`SimStorage::crash_at_sync`]: the Nth sync from then on fails
//! *before* copying, the durable image freezes, and every later write or sync fails too,
//! as if the machine had lost power. The test then opens a fresh `SimStorage` over
//! [`SimStorage::durable_image`] to see what recovery finds. This models the strongest
//! reordering a disk may do between syncs only partly: unsynced writes are all lost, never
//! half-applied; torn pages are what the checksums and the double-write area are for, and
//! the corruption tests cover them by flipping bytes ([`SimStorage::flip`]).
//!
//! It never offers a memory mapping, so the pager reads through `read_at`.
//! Handles are cheap clones sharing one state, so a test can keep one while the pager
//! owns another.

use std::io;
use std::sync::Arc;

use parking_lot::Mutex;

use super::page::{PAGE_HEADER_SIZE, PageId, seal};
use super::storage::Storage;

#[derive(Debug, Default)]
struct SimState {
    live: Vec<u8>,
    durable: Vec<u8>,
    syncs: u64,
    crash_at: Option<u64>,
    crashed: bool,
}

/// An in-memory storage with separate live and durable images. See the module header.
#[derive(Debug, Clone, Default)]
pub struct SimStorage {
    state: Arc<Mutex<SimState>>,
}

fn crashed() -> io::Error {
    io::Error::other("simulated crash: storage is gone")
}

impl SimStorage {
    /// An empty storage.
    pub fn new() -> SimStorage {
        SimStorage::default()
    }

    /// A storage whose live and durable images both start as `image` (a file after a
    /// reboot).
    pub fn from_image(image: Vec<u8>) -> SimStorage {
        let state = SimState {
            live: image.clone(),
            durable: image,
            ..SimState::default()
        };
        SimStorage {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Arms a crash: the `n`th sync from now (1-based) fails and freezes the durable
    /// image; so do all writes and syncs after it.
    pub fn crash_at_sync(&self, n: u64) {
        let mut s = self.state.lock();
        s.crash_at = Some(s.syncs + n);
    }

    /// Whether the armed crash has happened.
    pub fn has_crashed(&self) -> bool {
        self.state.lock().crashed
    }

    /// How many syncs have succeeded so far.
    pub fn syncs(&self) -> u64 {
        self.state.lock().syncs
    }

    /// A copy of what would survive a power cut now.
    pub fn durable_image(&self) -> Vec<u8> {
        self.state.lock().durable.clone()
    }

    /// A copy of what reads see now.
    pub fn live_image(&self) -> Vec<u8> {
        self.state.lock().live.clone()
    }

    /// XORs `mask` into the byte at `offset` of both images (a bit rot on the medium).
    /// Offsets past the end are ignored.
    pub fn flip(&self, offset: u64, mask: u8) {
        let mut s = self.state.lock();
        let at = offset as usize;
        if let Some(b) = s.live.get_mut(at) {
            *b ^= mask;
        }
        if let Some(b) = s.durable.get_mut(at) {
            *b ^= mask;
        }
    }

    /// Writes `body` over page `page` (of `page_size` bytes) of both images, from the end
    /// of the page header on (cut to fit), and reseals the page so its checksum passes:
    /// damage the checksum cannot see, which reaches the page decoders. For fuzzing. Pages
    /// past the end are ignored.
    pub fn overwrite_page_body(&self, page: u64, page_size: usize, body: &[u8]) {
        let mut s = self.state.lock();
        let state = &mut *s;
        for image in [&mut state.live, &mut state.durable] {
            let start = page as usize * page_size;
            let Some(bytes) = image.get_mut(start..start + page_size) else {
                continue;
            };
            let room = page_size - PAGE_HEADER_SIZE;
            let len = body.len().min(room);
            bytes[PAGE_HEADER_SIZE..PAGE_HEADER_SIZE + len].copy_from_slice(&body[..len]);
            seal(PageId(page), bytes);
        }
    }
}

impl Storage for SimStorage {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let s = self.state.lock();
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let end = start
            .checked_add(buf.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        let src = s.live.get(start..end).ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.crashed {
            return Err(crashed());
        }
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        let end = start + buf.len();
        if s.live.len() < end {
            s.live.resize(end, 0);
        }
        s.live[start..end].copy_from_slice(buf);
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.crashed {
            return Err(crashed());
        }
        if s.crash_at == Some(s.syncs + 1) {
            s.crashed = true;
            return Err(crashed());
        }
        s.syncs += 1;
        s.durable = s.live.clone();
        Ok(())
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.state.lock().live.len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.crashed {
            return Err(crashed());
        }
        let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        s.live.resize(len, 0);
        Ok(())
    }
}
