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

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
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
            Some(op) => {
                let record_len = (RECORD_HEADER_LEN + payload.len()) as u64;
                if !visit(offset, op) {
                    return Ok(ScanEnd::Stopped {
                        offset: offset + record_len,
                    });
                }
                offset += record_len;
            }
            None => {
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
    let (changes, end) = if limit == 0 {
        let offset = from.offset;
        (Vec::new(), ScanEnd::Stopped { offset })
    } else {
        match collect_changes(&mut file, generation, from.offset, limit) {
            // A record racing our read may have looked corrupted; one fresh read decides.
            Err(Error::Corrupted { .. }) if live_writer => {
                collect_changes(&mut File::open(path)?, generation, from.offset, limit)?
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
    Ok(ChangeBatch {
        changes,
        next: LogPosition {
            generation,
            offset: end.offset(),
        },
    })
}

/// Scans up to `limit` changes from `from`, tagging each with its position.
fn collect_changes(
    file: &mut File,
    generation: u64,
    from: u64,
    limit: usize,
) -> Result<(Vec<Change>, ScanEnd)> {
    let mut changes = Vec::new();
    let end = scan(file, from, |offset, op| {
        changes.push(Change {
            position: LogPosition { generation, offset },
            op,
        });
        changes.len() < limit
    })?;
    Ok((changes, end))
}

/// Reads one record at `offset`; `Ok(None)` when it is invalid (short, bad header or bad
/// payload checksum), `Err` when its checksums pass but its payload cannot be decoded.
fn read_record(
    reader: &mut impl Read,
    offset: u64,
    file_len: u64,
    payload: &mut Vec<u8>,
) -> Result<Option<Op>> {
    let mut header = [0u8; RECORD_HEADER_LEN];
    if read_up_to(reader, &mut header)? < RECORD_HEADER_LEN {
        return Ok(None);
    }
    let Some(header) = decode_record_header(&header) else {
        return Ok(None);
    };
    let end = offset + RECORD_HEADER_LEN as u64 + u64::from(header.payload_len);
    if end > file_len {
        return Ok(None);
    }
    payload.resize(header.payload_len as usize, 0);
    if read_up_to(reader, payload)? < payload.len()
        || crc32fast::hash(payload) != header.payload_crc
    {
        return Ok(None);
    }
    decode_payload(payload, offset).map(Some)
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
