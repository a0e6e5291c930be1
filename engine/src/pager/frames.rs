//! # Frames, latches and page guards
//!
//! Every page that is being used has a *frame*: a reader-writer latch around the page's
//! in-memory state. A frame is either
//!
//! - **clean**: the page's current bytes are the ones in the file, read through the
//!   mapping (or `read_at`); `verified` remembers that the checksum of those file bytes
//!   has been checked once, so later reads need not hash the page again; or
//! - **dirty**: the page has been modified and its current bytes live in a heap buffer
//!   (the dirty-page cache). Only flush moves a dirty frame back to clean, after writing
//!   the buffer to the file, and only if the buffer is still the one it wrote: the
//!   buffer is shared copy-on-write with a running flush (see `flush.rs`).
//!
//! The frame's latch is the page latch the B-tree uses: a [`PageRef`] holds it shared, a
//! [`PageMut`] holds it exclusively, and both give access to the page's bytes without
//! copying (a `PageRef` of a clean page points straight into the mapping). Frames live in
//! a sharded hash table keyed by page id; a frame that is clean and referenced by no guard
//! may be evicted at flush (it costs only a re-verification on next use).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use parking_lot::lock_api::{ArcRwLockReadGuard, ArcRwLockWriteGuard};
use parking_lot::{RawRwLock, RwLock};

use super::mmap::Mapping;
use super::page::{self, PAGE_HEADER_SIZE, PageId};

/// The latched state of one page.
#[derive(Debug, Default)]
pub(super) struct FrameState {
    /// The page image when dirty (header included); `None` when clean. Shared, so that a
    /// flush can take the image as of its cut without copying it: a writer that modifies
    /// the page while the flush still holds that image gets its own copy first
    /// ([`Arc::make_mut`] in [`PageMut::body_mut`]), so the flush's image never changes.
    pub dirty: Option<Arc<[u8]>>,
    /// For a clean frame: the file bytes have passed checksum verification.
    pub verified: AtomicBool,
    /// The mapping this page was last read through. It covers the page for as long as it
    /// lives (the file never shrinks), so later reads need not consult (and reference
    /// count) the pager's current mapping; and it lives as long as this frame and every
    /// guard of it.
    pub mapping: OnceLock<Arc<Mapping>>,
    /// The layer above has checked the structure of these bytes (see
    /// [`PageRef::is_checked`]); cleared whenever the bytes are replaced other than
    /// through a `PageMut`.
    pub checked: AtomicBool,
}

impl FrameState {
    pub fn is_verified(&self) -> bool {
        self.verified.load(Ordering::Acquire)
    }

    pub fn set_verified(&self, v: bool) {
        self.verified.store(v, Ordering::Release);
    }

    pub fn set_checked(&self, v: bool) {
        self.checked.store(v, Ordering::Release);
    }
}

pub(super) type Frame = Arc<RwLock<FrameState>>;

/// Number of independently locked shards of the frame table (a power of two).
const FRAME_SHARDS: usize = 64;
/// Fibonacci hashing multiplier: spreads consecutive page ids.
const FIB: u64 = 0x9E37_79B9_7F4A_7C15;

/// A hasher for page ids (already well spread by one multiplication); SipHash would cost
/// more than the rest of a page lookup.
#[derive(Debug, Default)]
pub(super) struct PageIdHasher(u64);

impl Hasher for PageIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(FIB);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(FIB);
    }
}

/// How many frames the table keeps by default before it evicts clean, unused ones. A
/// clean frame costs about a hundred bytes and remembers that its page passed the checksum
/// and the node check, which saves hashing and validating the page again on the next
/// visit; 64 Ki frames cover a 256 MiB file of 4 KiB pages for under 10 MiB of memory.
pub const DEFAULT_FRAME_CACHE_TARGET: usize = 1 << 16;

type FrameMap = HashMap<u64, Frame, BuildHasherDefault<PageIdHasher>>;

/// One shard: its frames, and the size at which creating a frame first evicts the shard's
/// unused clean frames (so a long read-only stretch without flushes cannot grow the table
/// without bound, and eviction stays amortised when most frames are dirty).
#[derive(Debug, Default)]
struct ShardState {
    frames: FrameMap,
    evict_at: usize,
}

type Shard = RwLock<ShardState>;

/// Whether a frame can go: nobody but the table holds it, and it is clean.
fn evictable(f: &Frame) -> bool {
    Arc::strong_count(f) == 1 && f.try_read().is_some_and(|s| s.dirty.is_none())
}

/// All frames, by page id. Lookups take a shard's lock shared; only creating a frame
/// takes it exclusively.
#[derive(Debug)]
pub(super) struct FrameTable {
    shards: Vec<Shard>,
    target: AtomicUsize,
}

impl FrameTable {
    pub fn new() -> FrameTable {
        FrameTable {
            shards: (0..FRAME_SHARDS)
                .map(|_| RwLock::new(ShardState::default()))
                .collect(),
            target: AtomicUsize::new(DEFAULT_FRAME_CACHE_TARGET),
        }
    }

    /// Sets how many frames to keep before evicting (at least one per shard).
    pub fn set_target(&self, frames: usize) {
        self.target
            .store(frames.max(FRAME_SHARDS), Ordering::Relaxed);
    }

    fn per_shard(&self) -> usize {
        self.target.load(Ordering::Relaxed) / FRAME_SHARDS
    }

    fn shard(&self, id: PageId) -> &Shard {
        let h = id.0.wrapping_mul(FIB) >> 58;
        &self.shards[h as usize % FRAME_SHARDS]
    }

    /// The frame of page `id`, created clean and unverified if it has none.
    pub fn get(&self, id: PageId) -> Frame {
        let shard = self.shard(id);
        if let Some(f) = shard.read().frames.get(&id.0) {
            return f.clone();
        }
        let mut st = shard.write();
        if st.frames.len() >= st.evict_at.max(self.per_shard()) {
            st.frames.retain(|_, f| !evictable(f));
            st.evict_at = 2 * st.frames.len();
        }
        st.frames.entry(id.0).or_default().clone()
    }

    /// Every frame, in page order (for flush, which holds the write gate).
    pub fn all(&self) -> Vec<(PageId, Frame)> {
        let mut out: Vec<(PageId, Frame)> = Vec::new();
        for shard in &self.shards {
            out.extend(
                shard
                    .read()
                    .frames
                    .iter()
                    .map(|(id, f)| (PageId(*id), f.clone())),
            );
        }
        out.sort_by_key(|(id, _)| *id);
        out
    }

    /// Drops frames that are clean and held by nobody but the table, if the table has
    /// grown past its target.
    pub fn evict_clean(&self) {
        let total: usize = self.shards.iter().map(|s| s.read().frames.len()).sum();
        if total <= self.target.load(Ordering::Relaxed) {
            return;
        }
        for shard in &self.shards {
            shard.write().frames.retain(|_, f| !evictable(f));
        }
    }

    /// Number of dirty frames (diagnostics).
    pub fn dirty_count(&self) -> usize {
        self.all()
            .iter()
            .filter(|(_, f)| f.read().dirty.is_some())
            .count()
    }
}

/// Where a read guard's bytes come from when the frame is clean.
pub(super) enum Source {
    /// The frame is dirty: the bytes are in the guarded state.
    Cache,
    /// Straight from the frame's own mapping, at this byte offset.
    Mapped(usize),
    /// A verified copy read with `read_at` (storage without a mapping).
    Copied(Box<[u8]>),
}

/// Shared access to one page: holds the page latch in shared mode.
pub struct PageRef {
    pub(super) id: PageId,
    pub(super) guard: ArcRwLockReadGuard<RawRwLock, FrameState>,
    pub(super) src: Source,
    pub(super) page_size: usize,
}

impl PageRef {
    /// The page's id.
    pub fn id(&self) -> PageId {
        self.id
    }

    fn image(&self) -> &[u8] {
        match &self.src {
            Source::Cache => self.guard.dirty.as_deref().unwrap_or(&[]),
            Source::Mapped(at) => self
                .guard
                .mapping
                .get()
                .and_then(|m| m.bytes().get(*at..*at + self.page_size))
                .unwrap_or(&[]),
            Source::Copied(b) => b,
        }
    }

    /// The page body (everything after the pager's header).
    pub fn body(&self) -> &[u8] {
        self.image().get(PAGE_HEADER_SIZE..).unwrap_or(&[])
    }

    /// Whether the layer above has checked these bytes' structure since they were last
    /// loaded from the file (the B-tree validates a node page fully once, then trusts it).
    pub fn is_checked(&self) -> bool {
        self.guard.checked.load(Ordering::Acquire)
    }

    /// Records that the layer above has checked these bytes.
    pub fn mark_checked(&self) {
        self.guard.set_checked(true);
    }

    /// The page LSN.
    pub fn lsn(&self) -> u64 {
        let img = self.image();
        if img.len() < PAGE_HEADER_SIZE {
            0
        } else {
            page::lsn(img)
        }
    }
}

impl fmt::Debug for PageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageRef")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Exclusive access to one page, whose bytes are in the dirty-page cache: holds the page
/// latch exclusively. Modifications are visible to the next reader of the page and reach
/// the file at the next flush.
pub struct PageMut {
    pub(super) id: PageId,
    pub(super) guard: ArcRwLockWriteGuard<RawRwLock, FrameState>,
}

impl PageMut {
    /// The page's id.
    pub fn id(&self) -> PageId {
        self.id
    }

    /// The page body.
    pub fn body(&self) -> &[u8] {
        match self.guard.dirty.as_deref() {
            Some(img) => &img[PAGE_HEADER_SIZE..],
            None => &[],
        }
    }

    /// The page body, writable.
    pub fn body_mut(&mut self) -> &mut [u8] {
        match self.guard.dirty.as_mut() {
            Some(img) => &mut Arc::make_mut(img)[PAGE_HEADER_SIZE..],
            None => &mut [],
        }
    }

    /// See [`PageRef::is_checked`]. Changes made through a `PageMut` keep the flag: the
    /// layer above is trusted to keep its own structure valid.
    pub fn is_checked(&self) -> bool {
        self.guard.checked.load(Ordering::Acquire)
    }

    /// See [`PageRef::mark_checked`].
    pub fn mark_checked(&self) {
        self.guard.set_checked(true);
    }

    /// The page LSN.
    pub fn lsn(&self) -> u64 {
        self.guard.dirty.as_deref().map_or(0, page::lsn)
    }

    /// Sets the page LSN (the WAL's write-ahead rule compares it with the durable LSN).
    pub fn set_lsn(&mut self, lsn: u64) {
        if let Some(img) = self.guard.dirty.as_mut() {
            page::set_lsn(Arc::make_mut(img), lsn);
        }
    }
}

impl fmt::Debug for PageMut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageMut")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}
