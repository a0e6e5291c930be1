//! # Reading the log back: recovery and replay
//!
//! [`scan`] reads the records of a run of segments in LSN order and hands each to a
//! visitor. It checks, per segment, the header (checksum, magic, version, and that the
//! start LSN it records is the one in its name and the end of the segment before it), and
//! per record, both checksums and the LSN the frame names (see [`mod@super::format`]).
//!
//! What an invalid record means depends on where it is and why we read:
//!
//! - **replaying a live log** ([`TailRule::AllValid`]): everything up to the written LSN
//!   was written by this process, so any invalid record is corruption;
//! - **recovering**, in a segment that is not the last: corruption, since a segment is
//!   synced before its successor is created;
//! - **recovering**, in the last segment: the end of the log if it and everything after
//!   it to the end of the file are zeros (the writer's preallocation, see `writer.rs`:
//!   no record was ever written there, or none that a sync covered); corruption if a
//!   valid record after it carries a `synced` LSN past it (it was durable, so a crash
//!   cannot have damaged it); otherwise a torn tail, returned in [`ScanEnd::torn`] for
//!   the caller to cut off.
//!
//! Errors name the LSN of the bad record (or the start of the bad segment) and the file.

use super::format::{self, FRAME_HEADER_LEN, SEGMENT_HEADER_LEN};
use super::record::Record;
use super::segments::Segment;
use super::storage::WalStorage;
use super::{Lsn, TornTail};
use crate::{Error, Result};

/// How to treat an invalid record; see the module header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailRule {
    /// Recovery after a crash: the last segment may end in a torn tail.
    MayBeTorn,
    /// Replay of the live log up to this LSN: every record before it must be valid.
    AllValid(Lsn),
}

/// How a scan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanEnd {
    /// The LSN after the last valid record: where the log continues.
    pub end: Lsn,
    /// The damaged tail found after `end`, if any.
    pub torn: Option<TornTail>,
    /// How many records the visitor saw.
    pub records: u64,
}

fn corrupted(lsn: Lsn, segment: &Segment, reason: impl std::fmt::Display) -> Error {
    Error::WalCorrupted {
        lsn: lsn.0,
        reason: format!("{} (segment {})", reason, segment.name),
    }
}

/// Reads the records at and after `from` (a record boundary) from `segments` (oldest
/// first, contiguous), calling `visit` with each. The visitor may stop the scan by
/// returning an error, which is passed through.
pub fn scan(
    storage: &dyn WalStorage,
    segments: &[Segment],
    from: Lsn,
    rule: TailRule,
    visit: &mut dyn FnMut(Lsn, Record) -> Result<()>,
) -> Result<ScanEnd> {
    let Some(first) = segments.iter().rposition(|s| s.start <= from) else {
        let oldest = segments.first().map_or(Lsn::ZERO, |s| s.start);
        return Err(Error::WalCorrupted {
            lsn: from.0,
            reason: format!("the log starts at LSN {oldest}, after the requested start"),
        });
    };
    let mut records = 0;
    let mut expected_start = segments[first].start;
    let mut end = from;
    for (index, segment) in segments.iter().enumerate().skip(first) {
        let is_last = index + 1 == segments.len();
        if matches!(rule, TailRule::AllValid(limit) if segment.start > limit) {
            break;
        }
        let bytes = read_segment(storage, segment, expected_start)?;
        // In a live log, bytes past the written LSN may be a batch being written.
        let bytes = match rule {
            TailRule::AllValid(limit) if limit >= segment.start => {
                let cut = usize::try_from(segment.file_offset(limit)).unwrap_or(usize::MAX);
                &bytes[..cut.min(bytes.len())]
            }
            _ => &bytes[..],
        };
        let start_offset = segment.file_offset(from.max(segment.start));
        let mut pos = usize::try_from(start_offset).unwrap_or(usize::MAX);
        if pos > bytes.len() {
            let ends_at = segment
                .start
                .advance((bytes.len() as u64).saturating_sub(SEGMENT_HEADER_LEN));
            let why = format!(
                "the log ends at LSN {ends_at}, before LSN {from} where reading must start \
                 (for recovery, the database file's checkpoint): it has lost records"
            );
            return Err(corrupted(from, segment, why));
        }
        loop {
            let lsn = segment.start.advance((pos as u64) - SEGMENT_HEADER_LEN);
            end = lsn;
            if pos == bytes.len() {
                break;
            }
            let Some(frame) = format::parse_frame(&bytes[pos..], lsn) else {
                let may_be_torn = rule == TailRule::MayBeTorn && is_last;
                // Zeros to the end of the file are the writer's preallocation, never
                // written: the log ends here, and nothing was lost.
                if may_be_torn && bytes[pos..].iter().all(|b| *b == 0) {
                    return Ok(ScanEnd {
                        end: lsn,
                        torn: None,
                        records,
                    });
                }
                let torn = classify_invalid(bytes, pos, segment, may_be_torn)?;
                return Ok(ScanEnd {
                    end: lsn,
                    torn: Some(torn),
                    records,
                });
            };
            let record = Record::decode(frame.kind, frame.payload)
                .map_err(|why| corrupted(lsn, segment, format!("undecodable record: {why}")))?;
            visit(lsn, record)?;
            records += 1;
            pos += FRAME_HEADER_LEN + frame.payload.len();
        }
        expected_start = end;
    }
    Ok(ScanEnd {
        end,
        torn: None,
        records,
    })
}

/// Reads a whole segment and checks its header; `expected` is where it must start.
/// Reads the part record at `lsn` from `segments` (oldest first) and decodes its writes:
/// how the writes of a commit in parts are read back (see `record.rs`). Reads the
/// frame's header and payload only, with two positioned reads, and checks both
/// checksums, the LSN the frame names and its kind; anything else there is corruption.
pub fn read_part(
    storage: &dyn WalStorage,
    segments: &[Segment],
    lsn: Lsn,
) -> Result<Vec<super::record::Write>> {
    let Some(segment) = segments.iter().rev().find(|s| s.start <= lsn) else {
        return Err(Error::WalCorrupted {
            lsn: lsn.0,
            reason: "a commit names a part before the start of the log".into(),
        });
    };
    let file = storage.open(&segment.name)?;
    let offset = segment.file_offset(lsn);
    let size = file.size()?;
    let missing = || corrupted(lsn, segment, "a commit names a part past the segment's end");
    if offset + FRAME_HEADER_LEN as u64 > size {
        return Err(missing());
    }
    let mut frame = vec![0u8; FRAME_HEADER_LEN];
    file.read_at(&mut frame, offset)?;
    let payload_len = u32::from_le_bytes(frame[..4].try_into().expect("four bytes"));
    let payload_len = u64::from(payload_len.min(format::MAX_PAYLOAD_LEN));
    if offset + FRAME_HEADER_LEN as u64 + payload_len > size {
        return Err(missing());
    }
    frame.resize(FRAME_HEADER_LEN + payload_len as usize, 0);
    file.read_at(&mut frame[FRAME_HEADER_LEN..], offset + FRAME_HEADER_LEN as u64)?;
    let Some(parsed) = format::parse_frame(&frame, lsn) else {
        return Err(corrupted(lsn, segment, "a commit names a part that is not a valid record"));
    };
    if parsed.kind != super::record::KIND_PART {
        let why = format!("a commit names a record of kind {} as its part", parsed.kind);
        return Err(corrupted(lsn, segment, why));
    }
    super::record::PartRecord::decode(parsed.payload)
        .map(|part| part.writes)
        .map_err(|why| corrupted(lsn, segment, why))
}

fn read_segment(storage: &dyn WalStorage, segment: &Segment, expected: Lsn) -> Result<Vec<u8>> {
    let file = storage.open(&segment.name)?;
    let size = usize::try_from(file.size()?)
        .map_err(|_| corrupted(segment.start, segment, "segment too large for memory"))?;
    let mut bytes = vec![0u8; size];
    file.read_at(&mut bytes, 0)?;
    let start = format::decode_segment_header(&bytes)
        .map_err(|why| corrupted(segment.start, segment, why))?;
    if start != segment.start {
        let why = format!("header says the segment starts at LSN {start}");
        return Err(corrupted(segment.start, segment, why));
    }
    if start != expected {
        let why = format!("a segment is missing: the previous one ends at LSN {expected}");
        return Err(corrupted(segment.start, segment, why));
    }
    Ok(bytes)
}

/// Decides what the invalid record at `pos` of `bytes` is: a torn tail (returned) or
/// corruption (an error). It can be torn only where `may_be_torn`, and only when no valid
/// record after it was written after a sync that covered it.
fn classify_invalid(
    bytes: &[u8],
    pos: usize,
    segment: &Segment,
    may_be_torn: bool,
) -> Result<TornTail> {
    let lsn = segment.start.advance(pos as u64 - SEGMENT_HEADER_LEN);
    if !may_be_torn {
        return Err(corrupted(
            lsn,
            segment,
            "invalid record before the end of the log",
        ));
    }
    let last_probe = bytes.len().saturating_sub(FRAME_HEADER_LEN);
    for probe in pos + 1..=last_probe {
        let probe_lsn = segment.start.advance(probe as u64 - SEGMENT_HEADER_LEN);
        if let Some(frame) = format::parse_frame(&bytes[probe..], probe_lsn)
            && frame.synced > lsn
        {
            let why = format!(
                "invalid record, but the valid record at LSN {probe_lsn} was written after \
                 it was synced"
            );
            return Err(corrupted(lsn, segment, why));
        }
    }
    Ok(TornTail {
        lsn,
        bytes: (bytes.len() - pos) as u64,
    })
}
