//! # Page identity and the page header
//!
//! Every page of the database file, whatever it holds, starts with the same 24-byte header
//! that the pager owns; the layers above (the B-tree, the free list) see only the *body*
//! that follows it.
//!
//! ```text
//! offset  size  field
//!      0     4  checksum   crc32 of (page id as u64 LE) ++ page[4..page_size]
//!      4     4  flush seq  low 32 bits of the meta sequence of the flush that wrote it
//!      8     8  page id    the page's own number (detects misdirected writes)
//!     16     8  page LSN   log sequence number of the last change (0 until the WAL)
//! ```
//!
//! The checksum covers the page id *that the reader expects*, so a page written to the
//! wrong place, or a stale copy of another page, fails verification just like a flipped
//! bit does. The checksum is computed by the pager when a page leaves the dirty cache for
//! the file and verified when a page enters memory from the file; in between the page is
//! trusted.

use crate::{Error, Result};

/// The number of a page in the database file. Page `n` starts at byte `n * page_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PageId(pub u64);

impl PageId {
    /// Page 0 holds the first meta copy; no B-tree page ever has this number, so the
    /// B-tree and the free list use it as "no page" in their on-disk links.
    pub const NONE: PageId = PageId(0);

    /// Whether this id is the "no page" sentinel.
    pub fn is_none(self) -> bool {
        self.0 == 0
    }
}

impl std::fmt::Display for PageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Size of the pager-owned header at the start of every page.
pub const PAGE_HEADER_SIZE: usize = 24;
const CHECKSUM_OFFSET: usize = 0;
const FLUSH_SEQ_OFFSET: usize = 4;
const PAGE_ID_OFFSET: usize = 8;
const LSN_OFFSET: usize = 16;

/// Smallest page size accepted at create. Tests use it so that splits and merges happen
/// after a handful of keys; production files use [`DEFAULT_PAGE_SIZE`].
pub const MIN_PAGE_SIZE: u32 = 512;
/// Largest page size accepted at create: slot offsets inside a page are `u16`.
pub const MAX_PAGE_SIZE: u32 = 65536;
/// The page size used when the caller does not choose one.
pub const DEFAULT_PAGE_SIZE: u32 = 4096;

/// Checks that `page_size` is a power of two within the supported range.
pub fn validate_page_size(page_size: u32) -> Result<()> {
    if !page_size.is_power_of_two() || !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(Error::InvalidArgument(format!(
            "page size {page_size} must be a power of two in {MIN_PAGE_SIZE}..={MAX_PAGE_SIZE}"
        )));
    }
    Ok(())
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

/// The checksum of a whole page image as it would be stored for page `id`.
pub fn compute_checksum(id: PageId, page: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&id.0.to_le_bytes());
    h.update(&page[CHECKSUM_OFFSET + 4..]);
    h.finalize()
}

/// Stamps the page id and checksum into a full page image before it is written.
pub fn seal(id: PageId, page: &mut [u8]) {
    page[PAGE_ID_OFFSET..PAGE_ID_OFFSET + 8].copy_from_slice(&id.0.to_le_bytes());
    let sum = compute_checksum(id, page);
    page[CHECKSUM_OFFSET..CHECKSUM_OFFSET + 4].copy_from_slice(&sum.to_le_bytes());
}

/// Verifies a full page image read from the file for page `id`.
pub fn verify(id: PageId, page: &[u8]) -> Result<()> {
    let stored = read_u32(page, CHECKSUM_OFFSET);
    if stored != compute_checksum(id, page) {
        return Err(Error::Corrupted {
            page: id.0,
            reason: "checksum mismatch".into(),
        });
    }
    let stamped = read_u64(page, PAGE_ID_OFFSET);
    if stamped != id.0 {
        return Err(Error::Corrupted {
            page: id.0,
            reason: format!("page header names page {stamped}"),
        });
    }
    Ok(())
}

/// The page id stamped in a page image's header (used when replaying the double-write
/// area, whose images are stored away from their home).
pub fn stamped_id(page: &[u8]) -> PageId {
    PageId(read_u64(page, PAGE_ID_OFFSET))
}

/// The flush sequence stamped in a page image's header: it ties a double-write image to
/// the meta that names its area, so an image left over from another flush is never
/// replayed.
pub fn flush_seq(page: &[u8]) -> u32 {
    read_u32(page, FLUSH_SEQ_OFFSET)
}

/// Stamps the flush sequence (before sealing).
pub fn set_flush_seq(page: &mut [u8], seq: u32) {
    page[FLUSH_SEQ_OFFSET..FLUSH_SEQ_OFFSET + 4].copy_from_slice(&seq.to_le_bytes());
}

/// The page LSN stored in a page image's header.
pub fn lsn(page: &[u8]) -> u64 {
    read_u64(page, LSN_OFFSET)
}

/// Sets the page LSN in a page image's header.
pub fn set_lsn(page: &mut [u8], lsn: u64) {
    page[LSN_OFFSET..LSN_OFFSET + 8].copy_from_slice(&lsn.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_verify_round_trips_and_detects_flips() {
        let mut page = vec![0u8; 512];
        page[100] = 7;
        seal(PageId(5), &mut page);
        assert!(verify(PageId(5), &page).is_ok());
        assert!(matches!(
            verify(PageId(6), &page),
            Err(Error::Corrupted { page: 6, .. })
        ));
        for at in [0, 3, 8, 20, 100, 511] {
            let mut bad = page.clone();
            bad[at] ^= 0x40;
            assert!(
                verify(PageId(5), &bad).is_err(),
                "flip at {at} not detected"
            );
        }
    }

    #[test]
    fn page_sizes_are_validated() {
        assert!(validate_page_size(4096).is_ok());
        assert!(validate_page_size(512).is_ok());
        assert!(validate_page_size(65536).is_ok());
        assert!(validate_page_size(256).is_err());
        assert!(validate_page_size(3000).is_err());
        assert!(validate_page_size(131072).is_err());
    }
}
