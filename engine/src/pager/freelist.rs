//! # The persisted free list
//!
//! In memory the free list is a sorted set of page ids owned by the pager. On disk it is a
//! chain of *trunk* pages written at every flush:
//!
//! ```text
//! trunk body (after the 24-byte page header):
//!   0   8  next trunk page id (0 = last)
//!   8   4  number of ids in this trunk (n)
//!  12  8n  free page ids
//! ```
//!
//! The trunk pages are themselves free pages: the free set on disk is the trunk pages plus
//! the ids they list. Trunks are written through the same double-write protocol as every
//! other page at flush, so the previous free list stays intact until the new meta that
//! points to the new chain is durable. When a free page that served as a trunk is later
//! allocated, its content is simply overwritten; the next flush writes a new chain.

use super::page::{self, PAGE_HEADER_SIZE, PageId};
use crate::{Error, Result};

const NEXT_AT: usize = PAGE_HEADER_SIZE;
const COUNT_AT: usize = NEXT_AT + 8;
const IDS_AT: usize = COUNT_AT + 4;

/// How many ids one trunk page of `page_size` bytes lists.
pub fn trunk_capacity(page_size: usize) -> usize {
    (page_size - IDS_AT) / 8
}

/// Lays out `free` (sorted) as a trunk chain. Returns the head and the trunk page images
/// (unsealed page ids are stamped by the caller's flush).
pub fn plan(free: &[PageId], page_size: usize) -> (PageId, Vec<(PageId, Vec<u8>)>) {
    if free.is_empty() {
        return (PageId::NONE, Vec::new());
    }
    let cap = trunk_capacity(page_size);
    let trunks = free.len().div_ceil(cap + 1);
    let (trunk_ids, listed) = free.split_at(trunks);
    let mut out = Vec::with_capacity(trunks);
    for (i, id) in trunk_ids.iter().enumerate() {
        let start = (i * cap).min(listed.len());
        let end = ((i + 1) * cap).min(listed.len());
        let chunk = &listed[start..end];
        let next = trunk_ids.get(i + 1).copied().unwrap_or(PageId::NONE);
        let mut img = vec![0u8; page_size];
        img[NEXT_AT..NEXT_AT + 8].copy_from_slice(&next.0.to_le_bytes());
        img[COUNT_AT..COUNT_AT + 4].copy_from_slice(&(chunk.len() as u32).to_le_bytes());
        for (j, p) in chunk.iter().enumerate() {
            let at = IDS_AT + 8 * j;
            img[at..at + 8].copy_from_slice(&p.0.to_le_bytes());
        }
        out.push((*id, img));
    }
    (trunk_ids[0], out)
}

/// Reads the chain starting at `head`. `read_page` returns a verified page image;
/// `page_count` bounds every id; `expected` is the meta's free count. Returns every free
/// page (trunks included) and, separately, the trunk pages.
pub fn load(
    head: PageId,
    expected: u64,
    page_count: u64,
    page_size: usize,
    mut read_page: impl FnMut(PageId) -> Result<Vec<u8>>,
) -> Result<(Vec<PageId>, Vec<PageId>)> {
    let mut free = Vec::new();
    let mut trunks = Vec::new();
    let mut trunk = head;
    let in_range = |id: u64| (super::meta::FIRST_DATA_PAGE..page_count).contains(&id);
    while !trunk.is_none() {
        if !in_range(trunk.0) || free.len() as u64 >= expected {
            return Err(Error::Corrupted {
                page: trunk.0,
                reason: "free-list chain leaves the file or exceeds its count".into(),
            });
        }
        let img = read_page(trunk)?;
        free.push(trunk);
        trunks.push(trunk);
        let mut b8 = [0u8; 8];
        b8.copy_from_slice(&img[NEXT_AT..NEXT_AT + 8]);
        let next = PageId(u64::from_le_bytes(b8));
        let mut b4 = [0u8; 4];
        b4.copy_from_slice(&img[COUNT_AT..COUNT_AT + 4]);
        let n = u32::from_le_bytes(b4) as usize;
        if n > trunk_capacity(page_size) {
            return Err(Error::Corrupted {
                page: trunk.0,
                reason: "trunk overfull".into(),
            });
        }
        for j in 0..n {
            let at = IDS_AT + 8 * j;
            b8.copy_from_slice(&img[at..at + 8]);
            let id = u64::from_le_bytes(b8);
            if !in_range(id) {
                return Err(Error::Corrupted {
                    page: trunk.0,
                    reason: format!("free page id {id} outside the file"),
                });
            }
            free.push(PageId(id));
        }
        trunk = next;
    }
    if free.len() as u64 != expected {
        return Err(Error::Corrupted {
            page: head.0,
            reason: format!("free list holds {} pages, meta says {expected}", free.len()),
        });
    }
    Ok((free, trunks))
}

/// Verifies a trunk image read from disk (kept here so the caller need not know the
/// layout).
pub fn verify(id: PageId, img: &[u8]) -> Result<()> {
    page::verify(id, img)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_then_load_returns_the_same_set() {
        for n in [0usize, 1, 5, 60, 61, 62, 200] {
            let free: Vec<PageId> = (0..n as u64).map(|i| PageId(10 + i * 3)).collect();
            let (head, trunks) = plan(&free, 512);
            let map: std::collections::HashMap<PageId, Vec<u8>> = trunks.into_iter().collect();
            let (mut got, trunks) =
                load(head, n as u64, 10_000, 512, |id| Ok(map[&id].clone())).unwrap();
            assert_eq!(trunks.len(), map.len());
            got.sort();
            assert_eq!(got, free, "n = {n}");
        }
    }
}
