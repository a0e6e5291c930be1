//! # The meta pages
//!
//! Pages 0 and 1 each hold a copy of the meta record: where everything else in the file
//! starts. They alternate: a meta record with sequence number `s` is written to page
//! `s % 2`, so writing a new meta never touches the newest valid one. Open reads both and
//! takes the valid one (checksum, magic, version, page size all agree) with the higher
//! sequence; a torn meta write therefore falls back to the previous meta.
//!
//! ```text
//! offset  size  field (after the 24-byte page header)
//!     24     8  magic "hdb\0page"
//!     32     4  format version (1)
//!     36     4  page size in bytes
//!     40     8  sequence number (the copy with the higher valid one wins)
//!     48     8  page count (pages 0..count are in use or free; the rest is scratch)
//!     56     8  free-list head (first trunk page, 0 = empty)
//!     64     8  free page count
//!     72     8  checkpoint LSN (0 until the WAL; the WAL replays from here)
//!     80     8  double-write area start page
//!     88     8  double-write page count (non-zero: replay the area before use)
//!     96     2  named root count N
//!     98     -  N entries: name length u8, name (UTF-8), root page id u64
//! ```

use super::page::{self, PAGE_HEADER_SIZE, PageId};
use crate::{Error, Result};

/// Identifies an hdb database file.
pub const MAGIC: [u8; 8] = *b"hdb\0page";
/// The on-disk format version this code reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Pages 0 and 1 are the two meta copies; data pages start here.
pub const FIRST_DATA_PAGE: u64 = 2;
/// Longest name of a named root, in bytes.
pub const MAX_ROOT_NAME_LEN: usize = 64;

const MAGIC_AT: usize = PAGE_HEADER_SIZE;
const VERSION_AT: usize = MAGIC_AT + 8;
const PAGE_SIZE_AT: usize = VERSION_AT + 4;
const SEQUENCE_AT: usize = PAGE_SIZE_AT + 4;
const PAGE_COUNT_AT: usize = SEQUENCE_AT + 8;
const FREE_HEAD_AT: usize = PAGE_COUNT_AT + 8;
const FREE_COUNT_AT: usize = FREE_HEAD_AT + 8;
const CHECKPOINT_AT: usize = FREE_COUNT_AT + 8;
const DW_START_AT: usize = CHECKPOINT_AT + 8;
const DW_COUNT_AT: usize = DW_START_AT + 8;
const ROOT_COUNT_AT: usize = DW_COUNT_AT + 8;
const ROOTS_AT: usize = ROOT_COUNT_AT + 2;
/// Bytes a named-root entry takes besides its name.
const ROOT_ENTRY_OVERHEAD: usize = 1 + 8;

/// The decoded meta record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub page_size: u32,
    pub sequence: u64,
    pub page_count: u64,
    pub free_head: PageId,
    pub free_count: u64,
    pub checkpoint_lsn: u64,
    pub dw_start: u64,
    pub dw_count: u64,
    pub roots: Vec<(String, PageId)>,
}

/// Whether a set of named roots fits in one meta page of `page_size` bytes.
pub fn roots_fit<'a>(page_size: usize, names: impl Iterator<Item = &'a str>) -> bool {
    let need: usize = names.map(|n| n.len() + ROOT_ENTRY_OVERHEAD).sum();
    ROOTS_AT + need <= page_size
}

fn put_u64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn get_u64(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    u64::from_le_bytes(b)
}

fn get_u32(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(b)
}

impl Meta {
    /// The meta page this record is written to.
    pub fn slot(&self) -> PageId {
        PageId(self.sequence % 2)
    }

    /// Encodes the record as a sealed page image.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let ps = self.page_size as usize;
        if !roots_fit(ps, self.roots.iter().map(|(n, _)| n.as_str())) {
            return Err(Error::InvalidArgument(
                "named roots do not fit in the meta page".into(),
            ));
        }
        let mut buf = vec![0u8; ps];
        buf[MAGIC_AT..MAGIC_AT + 8].copy_from_slice(&MAGIC);
        buf[VERSION_AT..VERSION_AT + 4].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        buf[PAGE_SIZE_AT..PAGE_SIZE_AT + 4].copy_from_slice(&self.page_size.to_le_bytes());
        put_u64(&mut buf, SEQUENCE_AT, self.sequence);
        put_u64(&mut buf, PAGE_COUNT_AT, self.page_count);
        put_u64(&mut buf, FREE_HEAD_AT, self.free_head.0);
        put_u64(&mut buf, FREE_COUNT_AT, self.free_count);
        put_u64(&mut buf, CHECKPOINT_AT, self.checkpoint_lsn);
        put_u64(&mut buf, DW_START_AT, self.dw_start);
        put_u64(&mut buf, DW_COUNT_AT, self.dw_count);
        let count = u16::try_from(self.roots.len())
            .map_err(|_| Error::InvalidArgument("too many named roots".into()))?;
        buf[ROOT_COUNT_AT..ROOT_COUNT_AT + 2].copy_from_slice(&count.to_le_bytes());
        let mut at = ROOTS_AT;
        for (name, root) in &self.roots {
            let len = u8::try_from(name.len())
                .map_err(|_| Error::InvalidArgument(format!("root name {name:?} too long")))?;
            buf[at] = len;
            at += 1;
            buf[at..at + name.len()].copy_from_slice(name.as_bytes());
            at += name.len();
            put_u64(&mut buf, at, root.0);
            at += 8;
        }
        page::seal(self.slot(), &mut buf);
        Ok(buf)
    }

    /// Decodes and validates the meta copy read from page `slot` (0 or 1).
    pub fn decode(slot: PageId, buf: &[u8]) -> Result<Meta> {
        let bad = |reason: &str| Error::Corrupted {
            page: slot.0,
            reason: reason.to_string(),
        };
        if buf.len() < ROOTS_AT || buf[MAGIC_AT..MAGIC_AT + 8] != MAGIC {
            return Err(bad("not an hdb meta page (bad magic)"));
        }
        page::verify(slot, buf)?;
        let version = get_u32(buf, VERSION_AT);
        if version != FORMAT_VERSION {
            return Err(bad(&format!("unsupported format version {version}")));
        }
        let page_size = get_u32(buf, PAGE_SIZE_AT);
        if page_size as usize != buf.len() {
            return Err(bad("page size field disagrees with the page"));
        }
        let sequence = get_u64(buf, SEQUENCE_AT);
        if PageId(sequence % 2) != slot {
            return Err(bad("sequence number does not belong to this slot"));
        }
        let count = u16::from_le_bytes([buf[ROOT_COUNT_AT], buf[ROOT_COUNT_AT + 1]]);
        let mut roots = Vec::with_capacity(usize::from(count));
        let mut at = ROOTS_AT;
        for _ in 0..count {
            let len = usize::from(*buf.get(at).ok_or_else(|| bad("root table overruns"))?);
            at += 1;
            let name = buf
                .get(at..at + len)
                .ok_or_else(|| bad("root table overruns"))?;
            let name = std::str::from_utf8(name).map_err(|_| bad("root name is not UTF-8"))?;
            at += len;
            if at + 8 > buf.len() {
                return Err(bad("root table overruns"));
            }
            roots.push((name.to_string(), PageId(get_u64(buf, at))));
            at += 8;
        }
        let meta = Meta {
            page_size,
            sequence,
            page_count: get_u64(buf, PAGE_COUNT_AT),
            free_head: PageId(get_u64(buf, FREE_HEAD_AT)),
            free_count: get_u64(buf, FREE_COUNT_AT),
            checkpoint_lsn: get_u64(buf, CHECKPOINT_AT),
            dw_start: get_u64(buf, DW_START_AT),
            dw_count: get_u64(buf, DW_COUNT_AT),
            roots,
        };
        if meta.page_count < FIRST_DATA_PAGE {
            return Err(bad("page count below the meta pages"));
        }
        Ok(meta)
    }
}

/// The page size a (possibly) meta page image claims, if it has the magic. Used to find
/// meta copy 1 when copy 0 is unreadable.
pub fn claimed_page_size(buf: &[u8]) -> Option<u32> {
    if buf.len() >= PAGE_SIZE_AT + 4 && buf[MAGIC_AT..MAGIC_AT + 8] == MAGIC {
        Some(get_u32(buf, PAGE_SIZE_AT))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Meta {
        Meta {
            page_size: 512,
            sequence: 7,
            page_count: 40,
            free_head: PageId(9),
            free_count: 3,
            checkpoint_lsn: 12,
            dw_start: 40,
            dw_count: 2,
            roots: vec![("a".into(), PageId(2)), ("tbl".into(), PageId(5))],
        }
    }

    #[test]
    fn meta_round_trips() {
        let m = sample();
        let img = m.encode().unwrap();
        assert_eq!(Meta::decode(PageId(1), &img).unwrap(), m);
        assert!(Meta::decode(PageId(0), &img).is_err());
        let mut bad = img.clone();
        bad[300] ^= 1;
        assert!(matches!(
            Meta::decode(PageId(1), &bad),
            Err(Error::Corrupted { page: 1, .. })
        ));
    }

    #[test]
    fn too_many_roots_is_rejected() {
        let mut m = sample();
        m.roots = (0..20).map(|i| (format!("{i:040}"), PageId(2))).collect();
        assert!(matches!(m.encode(), Err(Error::InvalidArgument(_))));
    }
}
