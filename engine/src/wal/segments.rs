//! # Segment files: listing, creating and removing them crash-safely
//!
//! A segment is created under a temporary name, its header written and synced, then
//! renamed to its final name and the directory synced. So a file under a segment name
//! always holds a complete header, and a crash leaves at worst a `.log.tmp` file, which
//! [`remove_temp_files`] deletes on open.
//!
//! Old segments are removed oldest first, with a directory sync after each removal: the
//! segments that survive a crash in the middle are always a contiguous run ending at the
//! newest, never a run with a hole in it (which recovery would rightly call corruption).

use super::Lsn;
use super::format::{self, SEGMENT_HEADER_LEN, TEMP_SUFFIX};
use super::storage::{WalFile, WalStorage};
use crate::Result;

/// A segment file: where it starts in the log, and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub start: Lsn,
    pub name: String,
}

impl Segment {
    /// The segment starting at `start`.
    pub fn at(start: Lsn) -> Segment {
        Segment {
            start,
            name: format::segment_name(start),
        }
    }

    /// The offset in this segment's file of the record at `lsn` (`lsn` ≥ its start).
    pub fn file_offset(&self, lsn: Lsn) -> u64 {
        SEGMENT_HEADER_LEN + (lsn.0 - self.start.0)
    }
}

/// The segments in `storage`, oldest first. Other files are ignored.
pub fn list_segments(storage: &dyn WalStorage) -> Result<Vec<Segment>> {
    let mut segments: Vec<Segment> = storage
        .list()?
        .iter()
        .filter_map(|name| format::parse_segment_name(name))
        .map(Segment::at)
        .collect();
    segments.sort_by_key(|s| s.start);
    Ok(segments)
}

/// Deletes the leftovers of segment creations that a crash interrupted; returns how many.
pub fn remove_temp_files(storage: &dyn WalStorage) -> Result<usize> {
    let temps: Vec<String> = storage
        .list()?
        .into_iter()
        .filter(|name| name.ends_with(TEMP_SUFFIX))
        .collect();
    for name in &temps {
        storage.remove(name)?;
    }
    if !temps.is_empty() {
        storage.sync_dir()?;
    }
    Ok(temps.len())
}

/// Creates the segment starting at `start`, durable with its header, and returns it open.
pub fn create_segment(
    storage: &dyn WalStorage,
    start: Lsn,
) -> std::io::Result<(Segment, Box<dyn WalFile>)> {
    let segment = Segment::at(start);
    let temp = format::temp_name(start);
    let file = storage.create(&temp)?;
    file.write_at(&format::encode_segment_header(start), 0)?;
    file.sync()?;
    storage.rename(&temp, &segment.name)?;
    storage.sync_dir()?;
    Ok((segment, file))
}

/// Removes the oldest segment, durably.
pub fn remove_segment(storage: &dyn WalStorage, segment: &Segment) -> Result<()> {
    storage.remove(&segment.name)?;
    storage.sync_dir()?;
    Ok(())
}
