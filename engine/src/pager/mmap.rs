//! # The read-only memory mapping — the engine's `unsafe` code
//!
//! The pager reads clean pages straight out of a read-only, shared memory mapping of the
//! database file, so a page read is a bounds check and a slice, not a system call and a
//! copy. Mapping a file is `unsafe` in Rust because the compiler cannot see who else may
//! change or truncate the bytes behind the slice: a `&[u8]` into a mapping promises that
//! the bytes do not change while the reference lives, and touching a mapped page past the
//! end of a truncated file raises SIGBUS.
//!
//! ## Soundness argument
//!
//! We hand out `&[u8]` into a [`Mapping`] only under these conditions, each kept by a
//! named part of the pager:
//!
//! 1. **The mapping is read-only** (`PROT_READ`). Nothing ever writes through it; all
//!    writes are positioned writes (`pwrite`) of whole pages by the pager's flush.
//! 2. **The file is locked.** [`super::storage::FileStorage`] takes an exclusive lock
//!    (`flock`) before mapping, so no cooperating process (another hdb) writes to or
//!    truncates the file while we hold it. We cannot defend against a process that ignores
//!    the lock (an editor, `truncate(1)`); that is stated as an assumption below.
//! 3. **The file never shrinks while mapped.** The pager only ever calls `set_len` to grow
//!    the file; there is no vacuum. So every byte inside a mapping stays backed by the file
//!    for the mapping's whole life, and no access can fault with SIGBUS.
//! 4. **Old mappings outlive their readers.** When the file grows, the pager creates a new
//!    mapping for the new length and swaps it in, but every page guard that points into a
//!    mapping holds an `Arc<Mapping>` (through its frame, which keeps the mapping the page
//!    was read through); the old mapping is unmapped only when the last frame and guard
//!    referring to it drop.
//! 5. **Mapped bytes do not change under a reference.** Our own `pwrite`s do change the
//!    bytes visible through a shared mapping. The pager writes a page in place only while
//!    holding that page's exclusive latch, and a guard that points into the mapping holds
//!    the page's shared latch; so no reference into the bytes of a page exists while that
//!    page is being written. (The double-write area and the meta pages are never handed
//!    out to readers at all.)
//!
//! ## Where the contract is kept
//!
//! Creating a mapping is an `unsafe fn` at both levels, so no safe code outside the pager
//! can make one: [`Mapping::new`] is private to the engine, and [`super::Storage::map`]
//! (through which the pager asks its storage for one) documents the same preconditions.
//! A `Mapping` that leaves the engine is opaque: its bytes cannot be read outside it.
//! The two call sites (opening the pager, and remapping after it grows the file) carry
//! `// SAFETY:` comments saying why the preconditions hold there.
//!
//! ## What is assumed of the disk and the OS
//!
//! - The OS has a unified buffer cache (Linux, macOS, the BSDs): a `pwrite` to the file is
//!   visible through an existing shared mapping of the same range once `pwrite` returns.
//! - No process outside hdb modifies or truncates the file while it is open.
//! - `fsync`/`fdatasync` returning success means the written bytes survive power loss.
//!   Writes not yet synced may reach the disk in any order, or partly.

use std::fs::File;
use std::io;

/// A read-only shared mapping of the whole database file as it was when mapped.
///
/// Outside the engine it is opaque: it can be passed on (a [`super::Storage`] that wraps
/// [`super::FileStorage`] forwards its `map`) but neither made nor read, so no code
/// outside the pager can hold a reference into mapped bytes.
#[derive(Debug)]
pub struct Mapping {
    map: memmap2::Mmap,
}

impl Mapping {
    /// Maps `file` read-only for its current length.
    ///
    /// # Safety
    ///
    /// For as long as the mapping (any clone of its `Arc`) lives, the caller must keep
    /// `file` from shrinking below the mapped length, which takes holding the exclusive
    /// lock on it (so no cooperating process truncates it) and never calling `set_len`
    /// with a smaller length; and every reference into [`Mapping::bytes`] must follow the
    /// page latch protocol of the module header (no page is written while a reference
    /// into it lives). Points 1-5 above are how the pager keeps this.
    pub(crate) unsafe fn new(file: &File) -> io::Result<Mapping> {
        // SAFETY: read-only mapping; the caller upholds this function's contract (the file
        // is locked, never shrinks while mapped, and references follow the latches).
        let map = unsafe { memmap2::MmapOptions::new().map(file)? };
        Ok(Mapping { map })
    }

    /// The mapped bytes. The length is the file length at the time of mapping.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }
}
