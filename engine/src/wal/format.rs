//! # The WAL's byte format: segment files and record frames
//!
//! All integers are little-endian.
//!
//! ```text
//! segment file  NNNNNNNNNNNNNNNN.log   (sixteen lowercase hex digits: the start LSN)
//! +------------------------------------------------------------------+
//! | segment header, 32 bytes                                         |
//! |   magic "HDB-WAL\0" (8) | version u32 | reserved u32 (0)         |
//! |   start_lsn u64 | reserved u32 (0) | crc32 of the 28 bytes before |
//! +------------------------------------------------------------------+
//! | frame | frame | frame | ...          (the record at file offset  |
//! |                                       o has LSN start + o - 32)  |
//! +------------------------------------------------------------------+
//!
//! frame = header (32 bytes) + payload
//!   payload_len u32 | kind u8 | reserved [u8; 3] (0)
//!   lsn u64        -- the frame's own LSN
//!   synced u64     -- the durable LSN when this frame was written
//!   payload_crc u32 | header_crc u32 (crc32 of the 28 bytes before it)
//! ```
//!
//! Why each field:
//!
//! - `header_crc` makes a damaged length recognisable as damage: a length is trusted only
//!   when the header it sits in checks out, so a flipped bit in the length of an early
//!   record cannot make the rest of the log look like a torn tail.
//! - `lsn` ties a frame to its place. Recovery accepts a frame only at the LSN it names, so
//!   stale bytes, a segment in the wrong file, or a frame-shaped value inside a payload do
//!   not pass for a record.
//! - `synced` lets recovery tell a crash's damage from the medium's (see the recovery
//!   argument in [`super`]): a valid frame whose `synced` lies past an invalid record
//!   proves that record was durable once.
//! - `kind` keeps the frame generic: commit records, and the parts a large commit record
//!   is written in (`record.rs`).
//!
//! Segment headers are written to a temporary file, synced, and renamed into place (then
//! the directory is synced), so a segment under its final name always has a complete
//! header: a bad header is corruption, never a torn creation.

use super::Lsn;

/// The first eight bytes of every segment file.
pub const SEGMENT_MAGIC: &[u8; 8] = b"HDB-WAL\0";
/// The segment format version this code writes. Version 2 (December 2026) added the
/// deferred-build marker, a commit-record write to tree `u32::MAX` (see
/// `mvcc/commit.rs`); version 3 (December 2026) added commits in parts, the frame kinds
/// 2 and 3 (see `record.rs`). Older segments hold neither, so this code reads them too,
/// while a version of hdb that knows only an older one refuses a log that may hold them.
pub const FORMAT_VERSION: u32 = 3;
/// The oldest segment format version this code reads.
pub const OLDEST_READ_VERSION: u32 = 1;
/// Bytes before the first frame of a segment.
pub const SEGMENT_HEADER_LEN: u64 = 32;
/// Bytes of a frame header.
pub const FRAME_HEADER_LEN: usize = 32;
/// The largest payload a frame may carry. A header claiming more is treated as damaged,
/// which bounds what recovery allocates for a record.
pub const MAX_PAYLOAD_LEN: u32 = 256 << 20;
/// The file-name suffix of a segment.
pub const SEGMENT_SUFFIX: &str = ".log";
/// The suffix of a segment whose header is being written; leftovers are removed on open.
pub const TEMP_SUFFIX: &str = ".log.tmp";

/// Bytes covered by the segment header's checksum.
const SEGMENT_CRC_COVERS: usize = 28;
/// Bytes covered by the frame header's checksum.
const FRAME_CRC_COVERS: usize = 28;
/// Hex digits in a segment's name.
const NAME_DIGITS: usize = 16;

/// The file name of the segment starting at `start`.
pub fn segment_name(start: Lsn) -> String {
    format!("{:016x}{SEGMENT_SUFFIX}", start.0)
}

/// The temporary name a segment's header is prepared under.
pub fn temp_name(start: Lsn) -> String {
    format!("{:016x}{TEMP_SUFFIX}", start.0)
}

/// The start LSN a segment file name encodes, or `None` for any other name.
pub fn parse_segment_name(name: &str) -> Option<Lsn> {
    let digits = name.strip_suffix(SEGMENT_SUFFIX)?;
    if digits.len() != NAME_DIGITS || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, 16).ok().map(Lsn)
}

/// The header of the segment starting at `start`.
pub fn encode_segment_header(start: Lsn) -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut h = [0u8; SEGMENT_HEADER_LEN as usize];
    h[0..8].copy_from_slice(SEGMENT_MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&start.0.to_le_bytes());
    let crc = crc32fast::hash(&h[..SEGMENT_CRC_COVERS]);
    h[28..32].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Checks a segment header and returns the start LSN it records; `Err` says what is wrong.
pub fn decode_segment_header(bytes: &[u8]) -> Result<Lsn, String> {
    let Some(h) = bytes.get(..SEGMENT_HEADER_LEN as usize) else {
        return Err(format!(
            "segment is {} bytes, shorter than its header",
            bytes.len()
        ));
    };
    if crc32fast::hash(&h[..SEGMENT_CRC_COVERS]) != u32_at(h, 28) {
        return Err("segment header checksum mismatch".to_string());
    }
    if &h[0..8] != SEGMENT_MAGIC {
        return Err("not a WAL segment (bad magic)".to_string());
    }
    let version = u32_at(h, 8);
    if !(OLDEST_READ_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(format!("unsupported WAL format version {version}"));
    }
    Ok(Lsn(u64_at(h, 16)))
}

/// A buffer holding a blank frame header: append the payload to it, then call
/// [`finish_frame`].
pub fn start_frame(payload_capacity: usize) -> Vec<u8> {
    let mut frame = Vec::with_capacity(FRAME_HEADER_LEN + payload_capacity);
    frame.resize(FRAME_HEADER_LEN, 0);
    frame
}

/// Fills in the length, kind and payload checksum of a frame made by [`start_frame`].
/// Its `lsn`, `synced` and header checksum stay zero until the writer seals it with
/// [`seal_frame`], once it knows what is durable.
pub fn finish_frame(frame: &mut [u8], kind: u8) -> Result<(), String> {
    let payload_len = frame.len().saturating_sub(FRAME_HEADER_LEN);
    let len = u32::try_from(payload_len)
        .ok()
        .filter(|len| *len <= MAX_PAYLOAD_LEN)
        .ok_or_else(|| {
            format!("record of {payload_len} bytes exceeds the limit of {MAX_PAYLOAD_LEN}")
        })?;
    let crc = crc32fast::hash(&frame[FRAME_HEADER_LEN..]);
    frame[0..4].copy_from_slice(&len.to_le_bytes());
    frame[4] = kind;
    frame[24..28].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// Fills in a frame's own LSN, the durable LSN at the time it is written, and the header
/// checksum. `frame` was made by [`start_frame`] and [`finish_frame`].
pub fn seal_frame(frame: &mut [u8], lsn: Lsn, synced: Lsn) {
    if frame.len() < FRAME_HEADER_LEN {
        return;
    }
    frame[8..16].copy_from_slice(&lsn.0.to_le_bytes());
    frame[16..24].copy_from_slice(&synced.0.to_le_bytes());
    let crc = crc32fast::hash(&frame[..FRAME_CRC_COVERS]);
    frame[28..32].copy_from_slice(&crc.to_le_bytes());
}

/// A frame that passed every check.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub kind: u8,
    pub synced: Lsn,
    pub payload: &'a [u8],
}

impl Frame<'_> {
    /// Bytes the frame occupies, header included.
    pub fn len(&self) -> u64 {
        (FRAME_HEADER_LEN + self.payload.len()) as u64
    }

    /// Whether the frame carries no payload.
    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }
}

/// Parses the frame at the start of `bytes`, expected to be the record at `lsn`.
///
/// `None` when it is not a valid frame there: too short, a header checksum mismatch, a
/// length over the limit or past the end of `bytes`, a different LSN, a `synced` after
/// its own LSN, or a payload checksum mismatch.
pub fn parse_frame(bytes: &[u8], lsn: Lsn) -> Option<Frame<'_>> {
    let h = bytes.get(..FRAME_HEADER_LEN)?;
    // The cheap test first: recovery probes every byte offset after a damaged record.
    if u64_at(h, 8) != lsn.0 || crc32fast::hash(&h[..FRAME_CRC_COVERS]) != u32_at(h, 28) {
        return None;
    }
    let len = u32_at(h, 0);
    let synced = Lsn(u64_at(h, 16));
    if len > MAX_PAYLOAD_LEN || synced > lsn {
        return None;
    }
    let payload = bytes.get(FRAME_HEADER_LEN..FRAME_HEADER_LEN + len as usize)?;
    (crc32fast::hash(payload) == u32_at(h, 24)).then_some(Frame {
        kind: h[4],
        synced,
        payload,
    })
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reject_strangers() {
        let lsn = Lsn(0xa0_0000);
        assert_eq!(segment_name(lsn), "0000000000a00000.log");
        assert_eq!(parse_segment_name(&segment_name(lsn)), Some(lsn));
        for bad in [
            "a00000.log",
            "0000000000a00000.log.tmp",
            "000000000000000g.log",
            "LOCK",
        ] {
            assert_eq!(parse_segment_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn segment_header_round_trips_and_detects_damage() {
        let mut h = encode_segment_header(Lsn(4096));
        assert_eq!(decode_segment_header(&h), Ok(Lsn(4096)));
        h[17] ^= 1;
        assert!(decode_segment_header(&h).is_err());
        assert!(decode_segment_header(&h[..10]).is_err());
    }

    #[test]
    fn older_segment_versions_are_read_and_unknown_versions_refused() {
        let with_version = |version: u32| {
            let mut h = encode_segment_header(Lsn(64));
            h[8..12].copy_from_slice(&version.to_le_bytes());
            let crc = crc32fast::hash(&h[..SEGMENT_CRC_COVERS]);
            h[28..32].copy_from_slice(&crc.to_le_bytes());
            h
        };
        assert_eq!(decode_segment_header(&with_version(1)), Ok(Lsn(64)));
        assert_eq!(decode_segment_header(&with_version(2)), Ok(Lsn(64)));
        assert_eq!(decode_segment_header(&with_version(3)), Ok(Lsn(64)));
        for version in [0, 4] {
            assert_eq!(
                decode_segment_header(&with_version(version)),
                Err(format!("unsupported WAL format version {version}"))
            );
        }
    }

    #[test]
    fn frames_are_valid_only_where_they_say_they_are() {
        let mut buf = start_frame(5);
        buf.extend_from_slice(b"hello");
        assert_eq!(finish_frame(&mut buf, 1), Ok(()));
        seal_frame(&mut buf, Lsn(100), Lsn(60));
        let frame = parse_frame(&buf, Lsn(100)).map(|f| (f.kind, f.synced, f.payload));
        assert_eq!(frame, Some((1, Lsn(60), &b"hello"[..])));
        assert!(parse_frame(&buf, Lsn(101)).is_none());
        assert!(parse_frame(&buf[..buf.len() - 1], Lsn(100)).is_none());
        for at in 0..buf.len() {
            let mut bad = buf.clone();
            bad[at] ^= 0x10;
            assert!(parse_frame(&bad, Lsn(100)).is_none(), "flip at {at}");
        }
    }
}
