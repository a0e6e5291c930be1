//! # Flush, and recovery of an interrupted flush
//!
//! The four-step protocol, and the cut that lets writers go on during it, are described
//! in the pager's module header; this file carries them out. Recovery undoes nothing: it
//! only ever rolls an interrupted flush *forward* from the double-write area, or ignores
//! it when its meta never became durable. A crash mid-flush therefore leaves the file at
//! the previous flush's cut or at this one's, never between; writes that writers made
//! after the cut never reach the file in this flush (they are in their frames' private
//! copies), so they cannot tear it either.
//!
//! Sync count per flush: four (area, meta, homes, meta). The crash tests arm a crash at
//! each of them and check that the file opens to the flush before (crash at sync 1 or 2)
//! or to the new one (crash at sync 3 or 4).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::meta::{self, FIRST_DATA_PAGE, Meta};
use super::page::{self, PageId};
use super::storage::Storage;
use super::{Pager, freelist, growth_step};
use crate::{Error, Result};

/// Candidate page sizes for finding meta copy 1 when copy 0 does not say.
fn candidate_page_sizes() -> impl Iterator<Item = u32> {
    (super::MIN_PAGE_SIZE.trailing_zeros()..=super::MAX_PAGE_SIZE.trailing_zeros())
        .map(|s| 1u32 << s)
}

fn read_meta_copy(storage: &dyn Storage, slot: PageId, page_size: u32) -> Option<Meta> {
    let ps = page_size as usize;
    let mut img = vec![0u8; ps];
    storage.read_at(&mut img, slot.0 * ps as u64).ok()?;
    Meta::decode(slot, &img).ok()
}

/// Reads both meta copies and returns the valid one with the higher sequence.
pub(super) fn newest_meta(storage: &dyn Storage) -> Result<Meta> {
    let mut head = vec![0u8; super::MIN_PAGE_SIZE as usize];
    let claimed = match storage.read_at(&mut head, 0) {
        Ok(()) => {
            meta::claimed_page_size(&head).filter(|ps| super::validate_page_size(*ps).is_ok())
        }
        Err(_) => None,
    };
    let copy0 = claimed.and_then(|ps| read_meta_copy(storage, PageId(0), ps));
    let copy1 = match copy0.as_ref().map(|m| m.page_size) {
        Some(ps) => read_meta_copy(storage, PageId(1), ps),
        None => candidate_page_sizes().find_map(|ps| read_meta_copy(storage, PageId(1), ps)),
    };
    match (copy0, copy1) {
        (Some(a), Some(b)) => Ok(if a.sequence > b.sequence { a } else { b }),
        (Some(a), None) | (None, Some(a)) => Ok(a),
        (None, None) => {
            // Too short to hold both meta pages: say so rather than call them damaged.
            let needed = FIRST_DATA_PAGE * u64::from(claimed.unwrap_or(super::MIN_PAGE_SIZE));
            let actual = storage.size()?;
            if actual < needed {
                return Err(Error::Truncated {
                    path: storage.describe(),
                    expected: needed,
                    actual,
                });
            }
            Err(Error::Corrupted {
                page: 0,
                reason: "neither meta page is valid".into(),
            })
        }
    }
}

/// Copies the double-write area named by `meta` to the pages' homes, syncs, and writes a
/// meta without the area. Returns that meta.
pub(super) fn replay_double_write(storage: &dyn Storage, mut meta: Meta) -> Result<Meta> {
    let ps = meta.page_size as usize;
    let mut img = vec![0u8; ps];
    for i in 0..meta.dw_count {
        let at = meta.dw_start + i;
        storage.read_at(&mut img, at * ps as u64)?;
        let home = page::stamped_id(&img);
        if home.0 < FIRST_DATA_PAGE || home.0 >= meta.page_count {
            return Err(Error::Corrupted {
                page: at,
                reason: format!("double-write image names page {home} outside the file"),
            });
        }
        page::verify(home, &img).map_err(|_| Error::Corrupted {
            page: at,
            reason: "double-write image fails its checksum".into(),
        })?;
        if page::flush_seq(&img) != meta.sequence as u32 {
            return Err(Error::Corrupted {
                page: at,
                reason: "double-write image belongs to another flush".into(),
            });
        }
        storage.write_at(&img, home.0 * ps as u64)?;
    }
    storage.sync()?;
    meta.sequence += 1;
    meta.dw_start = 0;
    meta.dw_count = 0;
    storage.write_at(&meta.encode()?, meta.slot().0 * ps as u64)?;
    storage.sync()?;
    Ok(meta)
}

/// A flush's cut: the dirty pages and the allocation state as they stood at one moment
/// between whole write operations (taken under the write gate, held exclusively for just
/// that long).
struct Cut {
    /// Each dirty page's image at the cut, shared with its frame (copy-on-write: a writer
    /// that modifies the page later gets its own copy, so these never change).
    pages: Vec<(PageId, Arc<[u8]>)>,
    max_lsn: u64,
    page_count: u64,
    free: Vec<PageId>,
    roots: Vec<(String, PageId)>,
    /// Whether allocation state changed since the previous cut.
    meta_dirty: bool,
}

impl Pager {
    /// Makes every change so far durable, atomically (see the module header).
    ///
    /// The flush takes a *cut*: it holds the write gate exclusively only while it takes
    /// shared references to the dirty pages' images and copies the allocation state, so
    /// it waits for running write operations to finish and keeps new ones out for that
    /// instant only. Everything after (the hook, the writes, the syncs) runs while
    /// writers go on; their changes are not part of this flush and stay dirty for the
    /// next one. Readers proceed throughout.
    ///
    /// `before_write` is called with the highest page LSN among the pages of the cut,
    /// after the cut and before any of them is written: the WAL's checkpointer makes the
    /// log durable there (up to at least that LSN), and may call
    /// [`Pager::set_checkpoint_lsn`] to record in this flush's meta the log position the
    /// cut is complete up to. Writers may run while it does.
    ///
    /// Returns without writing anything when nothing changed since the last flush.
    pub fn flush_with(&self, before_write: impl FnOnce(u64) -> Result<()>) -> Result<()> {
        let _one_at_a_time = self.flushing.lock();
        if self.poisoned.load(Ordering::Acquire) {
            return Err(Error::Io(std::io::Error::other(
                "an earlier flush failed; reopen the database",
            )));
        }
        let cut = self.take_cut();
        let meta_dirty = cut.meta_dirty;
        let mut touched_storage = false;
        let result = self.write_cut(cut, before_write, &mut touched_storage);
        if result.is_err() {
            match touched_storage {
                true => self.poisoned.store(true, Ordering::Release),
                // Nothing was written: the next flush must still write the meta.
                false => self.state.lock().meta_dirty |= meta_dirty,
            }
        }
        result
    }

    /// Takes the cut under the write gate (see [`Pager::flush_with`]). Costs a pass over
    /// the frame table and a reference count per dirty page; no page is copied.
    fn take_cut(&self) -> Cut {
        let _exclusive = self.gate.write();
        let mut pages = Vec::new();
        let mut max_lsn = 0;
        for (id, frame) in self.frames.all() {
            let st = frame.read();
            if let Some(img) = &st.dirty {
                max_lsn = max_lsn.max(page::lsn(img));
                pages.push((id, Arc::clone(img)));
            }
        }
        let mut st = self.state.lock();
        let meta_dirty = std::mem::take(&mut st.meta_dirty);
        Cut {
            pages,
            max_lsn,
            page_count: st.page_count,
            free: st.free.iter().copied().collect(),
            roots: st.roots.iter().map(|(n, p)| (n.clone(), *p)).collect(),
            meta_dirty,
        }
    }

    fn write_cut(
        &self,
        cut: Cut,
        before_write: impl FnOnce(u64) -> Result<()>,
        touched_storage: &mut bool,
    ) -> Result<()> {
        let ps = self.page_size;
        // The checkpointer's hook: make the log durable, record the checkpoint LSN.
        before_write(cut.max_lsn)?;
        let (mut meta, fresh, trunks) = {
            let st = self.state.lock();
            if cut.pages.is_empty()
                && !cut.meta_dirty
                && st.checkpoint_lsn == st.durable_checkpoint_lsn
            {
                return Ok(());
            }
            let (head, trunks) = freelist::plan(&cut.free, ps);
            // Pages no durable state refers to need no protection by the area. The
            // durable state changes only in flush, and this one is alone.
            let fresh: BTreeSet<PageId> = cut
                .pages
                .iter()
                .map(|(id, _)| *id)
                .chain(trunks.iter().map(|(id, _)| *id))
                .filter(|id| id.0 >= st.durable_page_count || st.durable_free.contains(id))
                .collect();
            let meta = Meta {
                page_size: ps as u32,
                sequence: st.sequence,
                page_count: cut.page_count,
                free_head: head,
                free_count: cut.free.len() as u64,
                checkpoint_lsn: st.checkpoint_lsn,
                dw_start: cut.page_count,
                dw_count: (cut.pages.len() + trunks.len() - fresh.len()) as u64,
                roots: cut.roots.clone(),
            };
            (meta, fresh, trunks)
        };
        let flush_seq = (meta.sequence + 1) as u32;
        let trunk_ids: Vec<PageId> = trunks.iter().map(|(id, _)| *id).collect();
        // Sealed copies to write, in page order (the cut's pages are in page order, and
        // trunks are free at the cut, so never among them). Every image carries the
        // sequence of the meta that will name the area.
        let mut images: Vec<(PageId, Vec<u8>)> = cut
            .pages
            .iter()
            .map(|(id, img)| (*id, img.to_vec()))
            .chain(trunks)
            .collect();
        images.sort_by_key(|(id, _)| *id);
        for (id, img) in &mut images {
            page::set_flush_seq(img, flush_seq);
            page::seal(*id, img);
        }

        // Step 1: the double-write area, in one write, and the fresh pages at home.
        *touched_storage = true;
        let needed = (meta.dw_start + meta.dw_count) * ps as u64;
        self.ensure_len(needed)?;
        let mut area = Vec::with_capacity(meta.dw_count as usize * ps);
        for (id, img) in &images {
            if fresh.contains(id) {
                // Under the page's exclusive latch, like every write to a page's home.
                let frame = self.frames.get(*id);
                let _latch = frame.write();
                self.storage.write_at(img, id.0 * ps as u64)?;
            } else {
                area.extend_from_slice(img);
            }
        }
        self.storage.write_at(&area, meta.dw_start * ps as u64)?;
        drop(area);
        self.storage.sync()?;

        // Step 2: the commit point.
        meta.sequence += 1;
        self.storage
            .write_at(&meta.encode()?, meta.slot().0 * ps as u64)?;
        self.storage.sync()?;

        // Step 3: pages to their homes, each under its exclusive latch (readers of a clean
        // page point into the mapping, which this write changes). A frame becomes clean
        // only if it still holds the very image of the cut; one a writer has changed since
        // (or freed, or reallocated) keeps its newer state for the next flush.
        let cut_images: BTreeMap<PageId, Arc<[u8]>> = cut.pages.into_iter().collect();
        for (id, img) in &images {
            let frame = self.frames.get(*id);
            let mut st = frame.write();
            if !fresh.contains(id) {
                self.storage.write_at(img, id.0 * ps as u64)?;
            }
            let unchanged = match (&st.dirty, cut_images.get(id)) {
                (Some(now), Some(then)) => Arc::ptr_eq(now, then),
                _ => false,
            };
            if unchanged {
                st.dirty = None;
                st.set_verified(true);
            } else if st.dirty.is_none() {
                // A trunk (or a page freed since the cut): its file bytes changed.
                st.set_verified(false);
                st.set_checked(false);
            }
        }
        self.storage.sync()?;

        // Step 4: retire the area so the next flush may reuse it.
        meta.sequence += 1;
        meta.dw_start = 0;
        meta.dw_count = 0;
        self.storage
            .write_at(&meta.encode()?, meta.slot().0 * ps as u64)?;
        self.storage.sync()?;

        {
            let mut st = self.state.lock();
            st.sequence = meta.sequence;
            st.durable_page_count = meta.page_count;
            st.durable_checkpoint_lsn = meta.checkpoint_lsn;
            // Free in the meta just written (the cut's free list), less its trunks.
            st.durable_free = cut
                .free
                .iter()
                .copied()
                .filter(|p| trunk_ids.binary_search(p).is_err())
                .collect();
        }
        self.frames.evict_clean();
        Ok(())
    }

    /// Grows the file to at least `needed` bytes (in a large step) and remaps it.
    fn ensure_len(&self, needed: u64) -> Result<()> {
        let current = self.state.lock().file_len;
        if current >= needed {
            return Ok(());
        }
        let ps = self.page_size as u64;
        let new_len = growth_step(current, needed).div_ceil(ps) * ps;
        self.storage.set_len(new_len)?;
        // SAFETY: the pager only ever grows its storage (this is the one `set_len` call
        // after creation, and `new_len > current`), and owns the storage for as long as
        // any frame can hold the mapping (see the soundness argument in `mmap.rs`).
        #[allow(unsafe_code)]
        let map = unsafe { self.storage.map()? };
        *self.mapping.write() = map;
        self.state.lock().file_len = new_len;
        Ok(())
    }
}
