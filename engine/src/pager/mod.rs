//! # The pager: one file of fixed-size, checksummed pages
//!
//! The database is a single file divided into pages of one size, chosen at create (a power
//! of two from 512 bytes to 64 KiB; 4 KiB by default). Page `n` lives at byte
//! `n * page_size`. Pages 0 and 1 are the two alternating meta copies (`meta.rs`); every
//! other page below the meta's page count belongs to exactly one B-tree (as a node or an
//! overflow page) or is on the free list (`freelist.rs`). Each page starts with a 24-byte
//! header (`page.rs`) holding its checksum, its own id and a page LSN.
//!
//! ## Reads and writes
//!
//! ```text
//!   B-tree ──read(id)──▶ frame latch (shared) ──clean──▶ mmap slice (verified once)
//!          │                                  └─dirty──▶ dirty buffer
//!          └─write(id)─▶ frame latch (excl.)  ──clean──▶ copy into dirty buffer (verify)
//!                                              └─dirty─▶ dirty buffer
//!   flush ──cut (gate excl., an instant)──▶ double-write area ─fsync─▶ meta(dw) ─fsync─▶
//!         pages in place ─fsync─▶ meta        (everything after the cut runs beside writers)
//! ```
//!
//! Reads go through a read-only memory mapping (`mmap.rs`, which carries the soundness
//! argument). **Writes never go through the mapping**: `write(id)` moves the page into the
//! dirty-page cache (`frames.rs`) and the caller edits it there. Dirty pages reach the file
//! only in `flush`, by positioned writes. This is the seam the WAL needs: a checkpointer
//! calls [`Pager::flush_with`], whose callback receives the highest page LSN of the
//! flush's cut (see Concurrency) and must make the log durable up to it before any page
//! is written (the write-ahead rule). An OS flushing a writable mapping at will could not
//! be gated like that.
//!
//! ## Flush is atomic
//!
//! Pages are overwritten in place, so a crash half-way through writing them would leave a
//! mix of old and new pages. Until the WAL exists, flush protects itself with a
//! *double-write area* (InnoDB's doublewrite buffer), placed just past the last page:
//!
//! 1. write the images of all dirty pages and the new free-list trunks to the area; but a
//!    page that no durable state refers to (past the durable page count, or free and not
//!    a trunk in the durable meta) goes straight to its home instead; sync;
//! 2. write a meta (next sequence, the new page count, free list and roots) that names the
//!    area; sync — **this is the commit point**;
//! 3. write the area's pages to their homes; sync;
//! 4. write a meta without the area; sync.
//!
//! A crash before step 2's sync leaves the previous meta as the newest valid one, and
//! nothing it refers to has been touched (the area lies past every page it knows, and
//! pages written home in step 1 are free or unknown to it). A crash after it leaves a meta
//! that names the area, and open copies the area home again before anything reads the
//! file. Either way the file opens to the state of one complete flush. Step 4 exists so
//! that the next flush may overwrite the area. When the WAL arrives it takes over this job
//! (full-page images in the log) and steps 1-2 can go. Bulk loads, which mostly write new
//! pages, write them once; updates of existing pages are written twice.
//!
//! ## Growth and the mapping
//!
//! The file grows only in flush, in steps of `max(1 MiB, 1/8 of the file)` (see
//! [`growth_step`]), and never shrinks. After growing, the pager maps the file again and
//! swaps the new mapping in; frames and guards still pointing into an old mapping keep it
//! alive through their `Arc` (a frame keeps the mapping its page was read through, so a
//! page read needs neither the pager's mapping lock nor its reference count).
//!
//! ## Free pages and reuse
//!
//! `free` puts a page on the in-memory free list and `allocate` takes the lowest free page
//! (or extends the page count). A freed page may be reused at once, before any flush: the
//! newest durable meta still gives it to its old owner, so its new contents go through
//! the double-write area and reach its home only in step 3, after the meta in which the
//! page is no longer owned by its old owner is durable. So no durable state can ever see
//! a reused page's new contents under its old owner.
//!
//! ## Concurrency: flush takes a cut, then writes beside the writers
//!
//! Page access is latched per page (the frame's reader-writer lock). Tree operations that
//! modify pages hold the *write gate* ([`Pager::begin_write`]) in shared mode for their
//! duration. Readers never take the gate. One flush runs at a time.
//!
//! A flush does not stop writers while it writes and syncs. It takes the gate
//! exclusively only to take its **cut**: for every dirty frame a shared reference to its
//! image (the dirty buffer is an `Arc<[u8]>`; nothing is copied), and a copy of the
//! allocation state (page count, free list, named roots). Because the gate excludes every
//! modifying operation, the cut lies between whole operations: it is the state of the
//! trees after some set of operations and before the rest. Then the gate is released and
//! the flush writes the cut (steps 1-4 above) while writers go on:
//!
//! - **Copy-on-write.** A writer that modifies a page whose image the flush still holds
//!   gets a private copy first ([`Arc::make_mut`] in `PageMut::body_mut`), so the cut's
//!   images never change under the flush, and the writer never waits for it.
//! - **Only the cut becomes clean.** In step 3 a frame is marked clean only if its dirty
//!   buffer is still the very image the flush wrote (pointer equality); a page modified,
//!   freed or reallocated since the cut keeps its newer state for the next flush.
//! - **Readers see no flush write.** Every write to a page's home happens under the
//!   page's exclusive latch, and a page whose home changes is either dirty (readers read
//!   the cache, not the file) or unreachable (free). Pages allocated after the cut may lie
//!   where this flush puts its double-write area, past the cut's page count; they are
//!   dirty until a later flush, which writes them only after this one retired the area.
//! - **The meta describes the cut**, not the moment it is written: its page count, free
//!   list and roots are the cut's, so no durable meta names a page a writer allocated
//!   after the cut, and the "fresh" rule of step 1 (pages no durable state refers to)
//!   still holds for the free pages a writer takes meanwhile: the durable state changes
//!   only in flush. A free page the cut makes a free-list trunk may be allocated by a
//!   writer before the flush writes the trunk to its home; the writer's bytes are in
//!   the cache, and because the durable meta now names the page a trunk, the next flush
//!   writes it through the area.
//!
//! So the file always holds, atomically, the state of the trees at some cut between
//! whole operations; what the WAL must add for recovery is in the `db` module's header.
//!
//! After a flush fails once it has started writing (an I/O error), the in-memory state may
//! disagree with the file; the pager refuses further flushes and must be dropped and
//! reopened. A failure of the `flush_with` hook (the log could not be made durable) writes
//! nothing and leaves the pager usable.

mod flush;
mod frames;
mod freelist;
pub mod meta;
#[allow(unsafe_code)]
mod mmap;
mod memory;
mod page;
#[cfg(any(test, feature = "testing"))]
pub mod sim;
pub mod storage;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock, RwLockReadGuard};

pub use frames::{DEFAULT_FRAME_CACHE_TARGET, PageMut, PageRef};
use frames::{FrameState, FrameTable, Source};
pub use mmap::Mapping;
pub use page::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE, PAGE_HEADER_SIZE, PageId, validate_page_size,
};
pub use memory::MemoryStorage;
#[cfg(any(test, feature = "testing"))]
pub use sim::SimStorage;
pub use storage::{FileStorage, Storage};

use crate::{Error, Result};
use meta::{FIRST_DATA_PAGE, Meta};

/// The smallest step by which the file grows.
const MIN_GROWTH_BYTES: u64 = 1 << 20;

/// How much to grow a file of `current` bytes that needs at least `needed` bytes: at
/// least 1 MiB and at least an eighth of the file, so growth (and remapping) is rare and
/// the wasted tail stays below ~12%.
pub fn growth_step(current: u64, needed: u64) -> u64 {
    needed.max(current + MIN_GROWTH_BYTES.max(current / 8))
}

/// Options for creating a database file.
#[derive(Debug, Clone, Copy)]
pub struct PagerOptions {
    /// Page size in bytes: a power of two in `MIN_PAGE_SIZE..=MAX_PAGE_SIZE`.
    pub page_size: u32,
}

impl Default for PagerOptions {
    fn default() -> Self {
        PagerOptions {
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

/// Counters describing the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PagerStats {
    /// Pages in use or free (the meta's page count).
    pub page_count: u64,
    /// Pages on the free list.
    pub free_pages: u64,
    /// File length in bytes (page count plus growth slack and the double-write area).
    pub file_len: u64,
    /// Pages in the dirty-page cache.
    pub dirty_pages: u64,
}

/// Allocation and meta state, behind one mutex.
#[derive(Debug)]
struct State {
    page_count: u64,
    free: BTreeSet<PageId>,
    roots: BTreeMap<String, PageId>,
    checkpoint_lsn: u64,
    /// The checkpoint LSN of the newest durable meta.
    durable_checkpoint_lsn: u64,
    /// Sequence number of the newest durable meta.
    sequence: u64,
    file_len: u64,
    /// Something the meta records (other than the checkpoint LSN) changed since the
    /// last flush's cut.
    meta_dirty: bool,
    /// The page count of the newest durable meta.
    durable_page_count: u64,
    /// Pages free in the newest durable meta, except its free-list trunks: no durable
    /// state refers to their contents, so flush may write them in place at once.
    durable_free: BTreeSet<PageId>,
}

/// Holding this keeps flush from starting; see [`Pager::begin_write`].
#[derive(Debug)]
pub struct WriteGate<'a> {
    _guard: RwLockReadGuard<'a, ()>,
}

/// The page manager of one database file. See the module header.
#[derive(Debug)]
pub struct Pager {
    storage: Box<dyn Storage>,
    page_size: usize,
    frames: FrameTable,
    mapping: RwLock<Option<Arc<Mapping>>>,
    /// Mirror of `state.page_count` for the bounds check on every read.
    page_count: AtomicU64,
    state: Mutex<State>,
    gate: RwLock<()>,
    /// Held for a whole flush: one runs at a time.
    flushing: Mutex<()>,
    poisoned: AtomicBool,
}

impl Pager {
    /// Creates a new database file at `path` (it must not exist) and locks it.
    pub fn create(path: impl AsRef<Path>, options: PagerOptions) -> Result<Pager> {
        Pager::create_with(Box::new(FileStorage::create(path.as_ref())?), options)
    }

    /// Opens an existing database file and locks it; `Error::Locked` if another handle
    /// holds it.
    pub fn open(path: impl AsRef<Path>) -> Result<Pager> {
        Pager::open_with(Box::new(FileStorage::open(path.as_ref())?))
    }

    /// Creates a database on an empty storage.
    pub fn create_with(storage: Box<dyn Storage>, options: PagerOptions) -> Result<Pager> {
        validate_page_size(options.page_size)?;
        if storage.size()? != 0 {
            return Err(Error::InvalidArgument(
                "storage for a new database is not empty".into(),
            ));
        }
        let ps = options.page_size as usize;
        let mut meta = Meta {
            page_size: options.page_size,
            sequence: 0,
            page_count: FIRST_DATA_PAGE,
            free_head: PageId::NONE,
            free_count: 0,
            checkpoint_lsn: 0,
            dw_start: 0,
            dw_count: 0,
            roots: Vec::new(),
        };
        let len = growth_step(0, FIRST_DATA_PAGE * ps as u64);
        storage.set_len(len)?;
        for seq in 0..2 {
            meta.sequence = seq;
            storage.write_at(&meta.encode()?, meta.slot().0 * ps as u64)?;
        }
        storage.sync()?;
        Pager::open_with(storage)
    }

    /// Opens a database on a storage, replaying an interrupted flush if there was one.
    pub fn open_with(storage: Box<dyn Storage>) -> Result<Pager> {
        let mut meta = flush::newest_meta(storage.as_ref())?;
        let ps = meta.page_size as usize;
        // Before any page is read: a file cut short is named as such, not as a failed
        // read somewhere inside it.
        let file_len = storage.size()?;
        let needed = meta
            .page_count
            .max(meta.dw_start.saturating_add(meta.dw_count))
            .saturating_mul(ps as u64);
        if file_len < needed {
            return Err(Error::Truncated {
                path: storage.describe(),
                expected: needed,
                actual: file_len,
            });
        }
        if meta.dw_count > 0 {
            meta = flush::replay_double_write(storage.as_ref(), meta)?;
        }
        let (free, trunks) =
            freelist::load(meta.free_head, meta.free_count, meta.page_count, ps, |id| {
                let mut img = vec![0u8; ps];
                storage.read_at(&mut img, id.0 * ps as u64)?;
                freelist::verify(id, &img)?;
                Ok(img)
            })?;
        let free_set: BTreeSet<PageId> = free.iter().copied().collect();
        if free_set.len() != free.len() {
            return Err(Error::Corrupted {
                page: meta.free_head.0,
                reason: "free list names a page twice".into(),
            });
        }
        // SAFETY: the pager only ever grows its storage, and the storage moves into the
        // pager, which keeps it for as long as any frame can hold the mapping (see the
        // soundness argument in `mmap.rs`).
        #[allow(unsafe_code)]
        let mapping = unsafe { storage.map()? };
        let state = State {
            page_count: meta.page_count,
            durable_free: free_set
                .iter()
                .copied()
                .filter(|p| !trunks.contains(p))
                .collect(),
            durable_page_count: meta.page_count,
            free: free_set,
            roots: meta.roots.iter().cloned().collect(),
            checkpoint_lsn: meta.checkpoint_lsn,
            durable_checkpoint_lsn: meta.checkpoint_lsn,
            sequence: meta.sequence,
            file_len,
            meta_dirty: false,
        };
        Ok(Pager {
            storage,
            page_size: ps,
            frames: FrameTable::new(),
            mapping: RwLock::new(mapping),
            page_count: AtomicU64::new(meta.page_count),
            state: Mutex::new(state),
            gate: RwLock::new(()),
            flushing: Mutex::new(()),
            poisoned: AtomicBool::new(false),
        })
    }

    /// Flushes and closes. Dropping a pager without `close` (or `flush`) loses the changes
    /// since the last flush, like a crash would.
    pub fn close(self) -> Result<()> {
        self.flush()
    }

    /// The page size in bytes.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The usable bytes of a page after the pager's header.
    pub fn body_size(&self) -> usize {
        self.page_size - PAGE_HEADER_SIZE
    }

    fn check_id(&self, id: PageId) -> Result<()> {
        if id.0 < FIRST_DATA_PAGE || id.0 >= self.page_count.load(Ordering::Acquire) {
            return Err(Error::Corrupted {
                page: id.0,
                reason: "reference to a page outside the file's data pages".into(),
            });
        }
        Ok(())
    }

    /// Reads the file's bytes of page `id` for a clean frame, verifying them unless the
    /// frame says they were verified. Through the frame's mapping if it has one, else
    /// through the pager's current mapping (which the frame then keeps), else with
    /// `read_at`.
    fn load_clean(&self, id: PageId, frame: &FrameState) -> Result<Source> {
        let at = id.0 as usize * self.page_size;
        let in_map = |m: &Mapping| m.bytes().len() >= at + self.page_size;
        if let Some(map) = frame.mapping.get()
            && in_map(map)
        {
            if !frame.is_verified() {
                page::verify(id, &map.bytes()[at..at + self.page_size])?;
                frame.set_verified(true);
            }
            return Ok(Source::Mapped(at));
        }
        let current = self.mapping.read().clone();
        if let Some(map) = current
            && in_map(&map)
            && frame.mapping.get().is_none()
        {
            page::verify(id, &map.bytes()[at..at + self.page_size])?;
            let _ = frame.mapping.set(map);
            frame.set_verified(true);
            return Ok(Source::Mapped(at));
        }
        let mut img = vec![0u8; self.page_size].into_boxed_slice();
        self.storage.read_at(&mut img, at as u64)?;
        page::verify(id, &img)?;
        Ok(Source::Copied(img))
    }

    /// Latches page `id` shared and returns its bytes. A page whose file bytes fail their
    /// checksum is `Error::Corrupted`.
    pub fn read(&self, id: PageId) -> Result<PageRef> {
        self.check_id(id)?;
        let guard = self.frames.get(id).read_arc();
        let src = if guard.dirty.is_some() {
            Source::Cache
        } else {
            self.load_clean(id, &guard)?
        };
        Ok(PageRef {
            id,
            guard,
            src,
            page_size: self.page_size,
        })
    }

    /// Latches page `id` exclusively, moving it into the dirty-page cache. Must be called
    /// inside a [`Pager::begin_write`] scope.
    pub fn write(&self, id: PageId) -> Result<PageMut> {
        self.check_id(id)?;
        let mut guard = self.frames.get(id).write_arc();
        if guard.dirty.is_none() {
            let src = self.load_clean(id, &guard)?;
            let mapped = match src {
                Source::Mapped(at) => guard
                    .mapping
                    .get()
                    .and_then(|m| m.bytes().get(at..at + self.page_size)),
                _ => None,
            };
            let img: Arc<[u8]> = match (src, mapped) {
                (Source::Copied(img), _) => img.into(),
                (_, Some(bytes)) => bytes.into(),
                (_, None) => {
                    return Err(Error::Corrupted {
                        page: id.0,
                        reason: "page bytes unavailable after loading".into(),
                    });
                }
            };
            guard.dirty = Some(img);
        }
        Ok(PageMut { id, guard })
    }

    /// Allocates a page (the lowest free one, else a new one at the end), zeroed and
    /// latched exclusively. Must be called inside a [`Pager::begin_write`] scope.
    pub fn allocate(&self) -> Result<PageMut> {
        let id = {
            let mut st = self.state.lock();
            st.meta_dirty = true;
            match st.free.pop_first() {
                Some(id) => id,
                None => {
                    let id = PageId(st.page_count);
                    st.page_count += 1;
                    self.page_count.store(st.page_count, Ordering::Release);
                    id
                }
            }
        };
        let mut guard = self.frames.get(id).write_arc();
        // Zeros written straight into the shared buffer: one allocation (a `Vec` made
        // first and converted would be allocated, copied and freed again).
        guard.dirty = Some(std::iter::repeat_n(0u8, self.page_size).collect());
        guard.set_verified(false);
        guard.set_checked(false);
        Ok(PageMut { id, guard })
    }

    /// Returns a page to the free list. The caller guarantees nothing refers to it any
    /// more (the B-tree has unlinked it under the latches that lead to it).
    pub fn free(&self, mut page: PageMut) {
        let id = page.id;
        page.guard.dirty = None;
        page.guard.set_verified(false);
        page.guard.set_checked(false);
        drop(page);
        let mut st = self.state.lock();
        st.free.insert(id);
        st.meta_dirty = true;
    }

    /// Sets how many page frames (latch, cached checks, dirty buffer) the pager keeps
    /// before it evicts clean, unused ones; default [`DEFAULT_FRAME_CACHE_TARGET`].
    /// Dirty frames are never evicted; they leave the cache at flush.
    pub fn set_frame_cache_target(&self, frames: usize) {
        self.frames.set_target(frames);
    }

    /// Enters a modifying operation: flush waits until every such scope has ended. Take it
    /// once per operation (not nested), before latching pages.
    pub fn begin_write(&self) -> WriteGate<'_> {
        WriteGate {
            _guard: self.gate.read(),
        }
    }

    /// The root page registered under `name`.
    pub fn root(&self, name: &str) -> Option<PageId> {
        self.state.lock().roots.get(name).copied()
    }

    /// All named roots.
    pub fn roots(&self) -> Vec<(String, PageId)> {
        self.state
            .lock()
            .roots
            .iter()
            .map(|(n, p)| (n.clone(), *p))
            .collect()
    }

    /// Registers (or replaces) a named root; durable at the next flush.
    pub fn set_root(&self, name: &str, root: PageId) -> Result<()> {
        if name.len() > meta::MAX_ROOT_NAME_LEN {
            return Err(Error::InvalidArgument(format!(
                "root name longer than {} bytes",
                meta::MAX_ROOT_NAME_LEN
            )));
        }
        let mut st = self.state.lock();
        let fits = meta::roots_fit(
            self.page_size,
            st.roots
                .keys()
                .map(String::as_str)
                .filter(|n| *n != name)
                .chain([name]),
        );
        if !fits {
            return Err(Error::InvalidArgument("named root table is full".into()));
        }
        st.roots.insert(name.to_string(), root);
        st.meta_dirty = true;
        Ok(())
    }

    /// Unregisters a named root; durable at the next flush. Returns whether it existed.
    pub fn remove_root(&self, name: &str) -> bool {
        let mut st = self.state.lock();
        let existed = st.roots.remove(name).is_some();
        st.meta_dirty |= existed;
        existed
    }

    /// The checkpoint LSN recorded in the meta (0 until the WAL sets it).
    pub fn checkpoint_lsn(&self) -> u64 {
        self.state.lock().checkpoint_lsn
    }

    /// Sets the checkpoint LSN; durable at the next flush.
    pub fn set_checkpoint_lsn(&self, lsn: u64) {
        self.state.lock().checkpoint_lsn = lsn;
    }

    /// The free list, sorted (for integrity checks).
    pub fn free_pages(&self) -> Vec<PageId> {
        self.state.lock().free.iter().copied().collect()
    }

    /// Counters describing the file.
    pub fn stats(&self) -> PagerStats {
        let dirty = self.frames.dirty_count() as u64;
        let st = self.state.lock();
        PagerStats {
            page_count: st.page_count,
            free_pages: st.free.len() as u64,
            file_len: st.file_len,
            dirty_pages: dirty,
        }
    }

    /// Makes every change so far durable. See [`Pager::flush_with`].
    pub fn flush(&self) -> Result<()> {
        self.flush_with(|_| Ok(()))
    }
}
