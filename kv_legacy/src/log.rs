//! Reading D's append-only log: replay on open and the change stream.
//!
//! The log is a file header followed by records (see [`crate::record`]). Records are only
//! ever appended, and a store truncates any damaged tail before it appends again, so one
//! invariant holds for every log this crate writes:
//!
//! > **garbage can only be a suffix of the file.**
//!
//! That invariant is what lets replay tell a torn final write from corruption. When the
//! record at offset `X` is invalid (its header checksum fails, it runs past the end of
//! the file, or its payload checksum fails), replay looks for any valid record starting
//! after `X`:
//!
//! - none: the damage is a torn tail — a write that was cut short by a crash and was
//!   therefore never acknowledged. It is cut off and reported.
//! - one: something after `X` was written and (possibly) acknowledged, so `X` cannot be a
//!   torn tail. The log is corrupted at `X`, and opening fails with that offset rather
//!   than silently presenting a shorter store.
//!
//! A record whose checksums pass but whose payload does not decode is always corruption:
//! the checksum says those are the bytes that were written.
//!
//! The same reader serves the change stream. A [`LogPosition`] is a byte offset within one
//! *generation* of the log; compaction starts a new generation, and a position from an
//! older one is refused with [`Error::Compacted`] because the records it pointed into no
//! longer exist. A reader in another process may see the record a writer is appending
//! half-written; it treats an invalid final record as "not written yet" and re-reads
//! before it ever reports corruption, so a write racing the read is not mistaken for
//! damage.
//!
//! A reader that keeps many records (a migration's snapshot of the whole store) reads
//! them raw ([`read_records`]): their checked payloads one after another in one buffer,
//! to decode in place with [`record::decode_payload_ref`] — no allocation per record.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;

use crate::error::{Error, Result};
use crate::record::{
    self, FILE_HEADER_LEN, Op, RECORD_HEADER_LEN, decode_payload, decode_record_header,
};

/// A place in the change stream: a byte offset within one generation of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    /// Which log file: compaction increments it.
    pub generation: u64,
    /// Byte offset of the next record to read.
    pub offset: u64,
}

/// One change read from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Where the record starts.
    pub position: LogPosition,
    /// What it did.
    pub op: Op,
}

/// A run of changes and the position to continue from.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeBatch {
    pub changes: Vec<Change>,
    /// Pass this to the next read; equal to the input when nothing new was there.
    pub next: LogPosition,
}

/// Records read raw ([`read_records`]): their payloads, checksums checked but not yet
/// decoded, one after another in `bytes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRecords {
    pub bytes: Vec<u8>,
    pub records: Vec<RawRecord>,
}

/// One record of [`RawRecords`]: where it starts in the log, and its payload's place in
/// the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub position: LogPosition,
    pub payload: Range<usize>,
}

/// A damaged final record that replay cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TornTail {
    /// Where the damaged record started (the log now ends here).
    pub offset: u64,
    /// How many bytes were cut off.
    pub bytes: u64,
}

/// How reading a log from some offset ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanEnd {
    /// Every byte up to `offset` (the end of the file) was a valid record.
    Clean { offset: u64 },
    /// Valid records up to `tail.offset`, then a torn final record.
    Torn { tail: TornTail },
    /// The visitor asked to stop; `offset` is where the next record starts.
    Stopped { offset: u64 },
}

impl ScanEnd {
    /// The offset just after the last record read.
    pub fn offset(self) -> u64 {
        match self {
            ScanEnd::Clean { offset } | ScanEnd::Stopped { offset } => offset,
            ScanEnd::Torn { tail } => tail.offset,
        }
    }
}

/// Reads and checks the header of the log at `path`, returning its generation.
pub fn read_generation(file: &mut File) -> Result<u64> {
    let mut header = [0u8; FILE_HEADER_LEN as usize];
    file.seek(SeekFrom::Start(0))?;
    let read = read_up_to(file, &mut header)?;
    record::decode_file_header(&header[..read])
}

/// Reads records from `from` to the end of `file`, calling `visit` with each record's
/// offset and operation; `visit` returns `false` to stop early.
pub fn scan(file: &mut File, from: u64, mut visit: impl FnMut(u64, Op) -> bool) -> Result<ScanEnd> {
    scan_payloads(file, from, |offset, payload| {
        Ok(visit(offset, decode_payload(payload, offset)?))
    })
}

/// [`scan`] handing `visit` each record's checked payload instead of its decoded
/// operation; `visit` returns `false` to stop, or an error to end the scan with it.
fn scan_payloads(
    file: &mut File,
    from: u64,
    mut visit: impl FnMut(u64, &[u8]) -> Result<bool>,
) -> Result<ScanEnd> {
    let file_len = file.metadata()?.len();
    file.seek(SeekFrom::Start(from))?;
    let mut reader = BufReader::with_capacity(1 << 16, &mut *file);
    let mut offset = from;
    let mut payload = Vec::new();
    loop {
        if offset == file_len {
            return Ok(ScanEnd::Clean { offset });
        }
        match read_record(&mut reader, offset, file_len, &mut payload)? {
            true => {
                let record_len = (RECORD_HEADER_LEN + payload.len()) as u64;
                if !visit(offset, &payload)? {
                    return Ok(ScanEnd::Stopped {
                        offset: offset + record_len,
                    });
                }
                offset += record_len;
            }
            false => {
                drop(reader);
                return classify_invalid_record(file, offset, file_len);
            }
        }
    }
}

/// Reads the changes in `[from, end of file)`, at most `limit` of them, from the log file
/// at `path`. With `live_writer`, an invalid final record means "still being written" and
/// ends the batch instead of being an error.
pub fn read_changes(
    path: &Path,
    from: LogPosition,
    limit: usize,
    live_writer: bool,
) -> Result<ChangeBatch> {
    let mut changes = Vec::new();
    let next = read_with(path, from, limit, live_writer, |file, generation| {
        changes.clear();
        scan(file, from.offset, |offset, op| {
            changes.push(Change {
                position: LogPosition { generation, offset },
                op,
            });
            changes.len() < limit
        })
    })?;
    Ok(ChangeBatch { changes, next })
}

/// [`read_changes`], raw: appends the records' checked payloads to `out` (see
/// [`RawRecords`]) and returns the position to continue from. The payloads are not
/// decoded: decode each with [`record::decode_payload_ref`], which reports one that
/// does not decode as corruption at its record's offset.
pub fn read_records(
    path: &Path,
    from: LogPosition,
    limit: usize,
    live_writer: bool,
    out: &mut RawRecords,
) -> Result<LogPosition> {
    let (bytes_before, records_before) = (out.bytes.len(), out.records.len());
    read_with(path, from, limit, live_writer, |file, generation| {
        // A second read (see `read_with`) starts again from `from`.
        out.bytes.truncate(bytes_before);
        out.records.truncate(records_before);
        let mut read = 0;
        scan_payloads(file, from.offset, |offset, payload| {
            let start = out.bytes.len();
            out.bytes.extend_from_slice(payload);
            out.records.push(RawRecord {
                position: LogPosition { generation, offset },
                payload: start..out.bytes.len(),
            });
            read += 1;
            Ok(read < limit)
        })
    })
}

/// The part [`read_changes`] and [`read_records`] share: checks the generation and the
/// position, has `collect` scan from `from` (once more on a fresh file handle if a live
/// writer may have made the first scan see corruption), and returns where the next
/// read continues.
fn read_with(
    path: &Path,
    from: LogPosition,
    limit: usize,
    live_writer: bool,
    mut collect: impl FnMut(&mut File, u64) -> Result<ScanEnd>,
) -> Result<LogPosition> {
    let mut file = File::open(path)?;
    let generation = read_generation(&mut file)?;
    if generation != from.generation {
        return Err(Error::Compacted {
            requested: from.generation,
            current: generation,
        });
    }
    if from.offset < FILE_HEADER_LEN {
        return Err(Error::InvalidValue(format!(
            "log position {} is inside the file header",
            from.offset
        )));
    }
    let end = if limit == 0 {
        let offset = from.offset;
        ScanEnd::Stopped { offset }
    } else {
        match collect(&mut file, generation) {
            // A record racing our read may have looked corrupted; one fresh read decides.
            Err(Error::Corrupted { .. }) if live_writer => {
                collect(&mut File::open(path)?, generation)?
            }
            other => other?,
        }
    };
    if let ScanEnd::Torn { tail } = end
        && !live_writer
    {
        return Err(Error::Corrupted {
            offset: tail.offset,
            reason: "invalid record inside the log".to_string(),
        });
    }
    Ok(LogPosition {
        generation,
        offset: end.offset(),
    })
}

/// Reads one record at `offset` into `payload`; `Ok(false)` when it is invalid (short,
/// bad header or bad payload checksum).
fn read_record(
    reader: &mut impl Read,
    offset: u64,
    file_len: u64,
    payload: &mut Vec<u8>,
) -> Result<bool> {
    let mut header = [0u8; RECORD_HEADER_LEN];
    if read_up_to(reader, &mut header)? < RECORD_HEADER_LEN {
        return Ok(false);
    }
    let Some(header) = decode_record_header(&header) else {
        return Ok(false);
    };
    let end = offset + RECORD_HEADER_LEN as u64 + u64::from(header.payload_len);
    if end > file_len {
        return Ok(false);
    }
    payload.resize(header.payload_len as usize, 0);
    Ok(read_up_to(reader, payload)? == payload.len()
        && crc32fast::hash(payload) == header.payload_crc)
}

/// Decides whether the invalid record at `offset` is a torn tail or corruption: it is
/// corruption exactly when a valid record starts somewhere after it.
fn classify_invalid_record(file: &mut File, offset: u64, file_len: u64) -> Result<ScanEnd> {
    let mut rest = Vec::new();
    file.seek(SeekFrom::Start(offset))?;
    file.take(file_len - offset).read_to_end(&mut rest)?;
    let valid_record_at = |start: usize| {
        let Some(header_bytes) = rest.get(start..start + RECORD_HEADER_LEN) else {
            return false;
        };
        let mut header = [0u8; RECORD_HEADER_LEN];
        header.copy_from_slice(header_bytes);
        decode_record_header(&header).is_some_and(|header| {
            let payload_start = start + RECORD_HEADER_LEN;
            rest.get(payload_start..payload_start + header.payload_len as usize)
                .is_some_and(|payload| crc32fast::hash(payload) == header.payload_crc)
        })
    };
    match (1..rest.len()).find(|start| valid_record_at(*start)) {
        Some(next_valid) => Err(Error::Corrupted {
            offset,
            reason: format!(
                "invalid record followed by a valid one at offset {}",
                offset + next_valid as u64
            ),
        }),
        None => Ok(ScanEnd::Torn {
            tail: TornTail {
                offset,
                bytes: file_len - offset,
            },
        }),
    }
}

/// Fills as much of `buf` as the reader has; returns how many bytes were read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}
