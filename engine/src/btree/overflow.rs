//! # Overflow chains for large values
//!
//! A value that would make its leaf cell larger than a quarter of the page (see
//! `policy::value_is_inline`) is stored in a chain of overflow pages, and the leaf cell
//! keeps its total length and the first page. Each overflow page body is
//!
//! ```text
//! offset size field
//!      0    1 kind = 2
//!      1    3 reserved (zero)
//!      4    4 bytes of value data in this page
//!      8    8 next overflow page (0 = last)
//!     16    - data
//! ```
//!
//! An overflow chain is owned by exactly one leaf cell and reached only through it, so the
//! leaf's latch protects the chain: readers read it under the leaf's shared latch, and a
//! writer frees it under the leaf's exclusive latch. Chains are never shared or updated in
//! place; overwriting a value writes a new chain and frees the old one.

use crate::pager::{PageId, Pager};
use crate::{Error, Result};

/// `kind` byte of an overflow page.
pub const OVERFLOW_KIND: u8 = 2;
/// Size of the overflow page header within the body.
pub const OVERFLOW_HEADER_SIZE: usize = 16;
const LEN_AT: usize = 4;
const NEXT_AT: usize = 8;

/// Value bytes one overflow page holds.
pub fn capacity(pager: &Pager) -> usize {
    pager.body_size() - OVERFLOW_HEADER_SIZE
}

/// Writes `value` to a new chain and returns its first page. Call inside a write gate.
pub fn write(pager: &Pager, value: &[u8]) -> Result<PageId> {
    let cap = capacity(pager);
    let chunks: Vec<&[u8]> = value.chunks(cap).collect();
    let mut pages = Vec::with_capacity(chunks.len());
    for _ in &chunks {
        match pager.allocate() {
            Ok(p) => pages.push(p),
            Err(e) => {
                pages.into_iter().for_each(|p| pager.free(p));
                return Err(e);
            }
        }
    }
    let ids: Vec<PageId> = pages.iter().map(|p| p.id()).collect();
    for (i, (page, chunk)) in pages.iter_mut().zip(&chunks).enumerate() {
        let body = page.body_mut();
        body[0] = OVERFLOW_KIND;
        body[LEN_AT..LEN_AT + 4].copy_from_slice(&(chunk.len() as u32).to_le_bytes());
        let next = ids.get(i + 1).copied().unwrap_or(PageId::NONE);
        body[NEXT_AT..NEXT_AT + 8].copy_from_slice(&next.0.to_le_bytes());
        body[OVERFLOW_HEADER_SIZE..OVERFLOW_HEADER_SIZE + chunk.len()].copy_from_slice(chunk);
    }
    ids.first()
        .copied()
        .ok_or_else(|| Error::InvalidArgument("empty values are stored inline".into()))
}

/// Parses one overflow page body: (data, next).
fn parse(id: PageId, body: &[u8]) -> Result<(&[u8], PageId)> {
    let bad = |reason: &str| Error::Corrupted {
        page: id.0,
        reason: reason.into(),
    };
    if body.len() < OVERFLOW_HEADER_SIZE || body[0] != OVERFLOW_KIND {
        return Err(bad("not an overflow page"));
    }
    let mut b4 = [0u8; 4];
    b4.copy_from_slice(&body[LEN_AT..LEN_AT + 4]);
    let len = u32::from_le_bytes(b4) as usize;
    let mut b8 = [0u8; 8];
    b8.copy_from_slice(&body[NEXT_AT..NEXT_AT + 8]);
    let data = body
        .get(OVERFLOW_HEADER_SIZE..OVERFLOW_HEADER_SIZE + len)
        .ok_or_else(|| bad("overflow length exceeds the page"))?;
    Ok((data, PageId(u64::from_le_bytes(b8))))
}

/// Reads a chain of `len` bytes starting at `first`, into a new vector. The caller holds
/// the owning leaf's latch.
pub fn read(pager: &Pager, first: PageId, len: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len.min(1 << 30));
    let mut id = first;
    while out.len() < len {
        if id.is_none() {
            return Err(Error::Corrupted {
                page: first.0,
                reason: "overflow chain too short".into(),
            });
        }
        let page = pager.read(id)?;
        let (data, next) = parse(id, page.body())?;
        if data.is_empty() || out.len() + data.len() > len {
            return Err(Error::Corrupted {
                page: id.0,
                reason: "overflow chunk size wrong".into(),
            });
        }
        out.extend_from_slice(data);
        id = next;
    }
    if !id.is_none() {
        return Err(Error::Corrupted {
            page: first.0,
            reason: "overflow chain too long".into(),
        });
    }
    Ok(out)
}

/// The pages of a chain, for integrity checks (validating each page).
pub fn pages(pager: &Pager, first: PageId, len: usize) -> Result<Vec<PageId>> {
    let mut ids = Vec::new();
    let mut id = first;
    let mut total = 0;
    while total < len {
        if id.is_none() {
            return Err(Error::Corrupted {
                page: first.0,
                reason: "overflow chain too short".into(),
            });
        }
        let page = pager.read(id)?;
        let (data, next) = parse(id, page.body())?;
        if data.is_empty() {
            return Err(Error::Corrupted {
                page: id.0,
                reason: "empty overflow page".into(),
            });
        }
        total += data.len();
        ids.push(id);
        id = next;
    }
    if total != len || !id.is_none() {
        return Err(Error::Corrupted {
            page: first.0,
            reason: "overflow chain length wrong".into(),
        });
    }
    Ok(ids)
}

/// Frees a chain. Call inside a write gate, holding the owning leaf's exclusive latch
/// (after unlinking the chain from its cell).
pub fn free(pager: &Pager, first: PageId, len: usize) -> Result<()> {
    let mut id = first;
    let mut total = 0;
    while total < len && !id.is_none() {
        let page = pager.write(id)?;
        let (data, next) = parse(id, page.body())?;
        total += data.len().max(1);
        pager.free(page);
        id = next;
    }
    Ok(())
}
