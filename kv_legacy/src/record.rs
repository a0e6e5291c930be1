//! The binary form of one log record, and of the log file's header.
//!
//! ```text
//! file header (24 bytes):
//!   magic "HDB-DLOG" | version u32 | generation u64 | crc32 of the previous 20 bytes u32
//! record:
//!   payload_len u32 | payload_crc u32 | header_crc u32 (crc32 of the 8 bytes before it)
//!   payload: op u8 (1 = put, 2 = delete) | key (u32 length + UTF-8)
//!            put only: field count u32, then per field: name (u32 length + UTF-8),
//!                      type tag u8, value (none | u8 | i64 LE | f64 bits LE |
//!                                          u32 length + UTF-8 | i64 LE microseconds)
//! ```
//!
//! All integers are little-endian. A put's fields are in strictly ascending name order
//! (a document is a `BTreeMap`, and the encoder writes it in its order); a payload whose
//! fields are not is corruption. That order is what lets a reader take a document in
//! place ([`decode_payload_ref`], [`DocRef`]) — its fields as borrowed slices of the
//! payload, nothing allocated — and still see exactly the document that was written.
//! The header has its own checksum so a damaged length is
//! recognised as damage rather than trusted: without it, a flipped bit in the length of
//! an early record would point past the end of the file and look exactly like a torn
//! final write, and the store would silently open shorter than it was.

use crate::document::{Document, Scalar, ScalarRef, Timestamp};
use crate::error::{Error, Result};

/// The first eight bytes of every D log file.
pub const FILE_MAGIC: &[u8; 8] = b"HDB-DLOG";
/// The log format this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Size of the file header.
pub const FILE_HEADER_LEN: u64 = 24;
/// Size of a record header.
pub const RECORD_HEADER_LEN: usize = 12;
/// The largest payload a record may have. Larger writes are refused up front, and a
/// header claiming more is damage.
pub const MAX_PAYLOAD_LEN: u32 = 64 << 20;

const OP_PUT: u8 = 1;
const OP_DELETE: u8 = 2;

const TAG_NULL: u8 = 0;
const TAG_BOOL: u8 = 1;
const TAG_INT: u8 = 2;
const TAG_FLOAT: u8 = 3;
const TAG_TEXT: u8 = 4;
const TAG_TIMESTAMP: u8 = 5;

/// One logged operation.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Put { key: String, doc: Document },
    Delete { key: String },
}

impl Op {
    /// The key the operation applies to.
    pub fn key(&self) -> &str {
        match self {
            Op::Put { key, .. } | Op::Delete { key } => key,
        }
    }
}

/// One logged operation, borrowed from a record's payload ([`decode_payload_ref`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OpRef<'a> {
    Put { key: &'a str, doc: DocRef<'a> },
    Delete { key: &'a str },
}

impl OpRef<'_> {
    /// The key the operation applies to.
    pub fn key(&self) -> &str {
        match self {
            OpRef::Put { key, .. } | OpRef::Delete { key } => key,
        }
    }

    /// The owned operation.
    pub fn to_op(&self) -> Op {
        match self {
            OpRef::Put { key, doc } => Op::Put {
                key: key.to_string(),
                doc: doc.to_document(),
            },
            OpRef::Delete { key } => Op::Delete {
                key: key.to_string(),
            },
        }
    }
}

/// A document read in place: the fields of a put's payload, already checked by
/// [`decode_payload_ref`] (every tag, length and string valid, names strictly
/// ascending), so reading them again cannot fail.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DocRef<'a> {
    /// The encoded fields, and how many there are.
    bytes: &'a [u8],
    len: usize,
}

impl<'a> DocRef<'a> {
    /// How many fields the document has.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fields in ascending name order.
    pub fn fields(&self) -> DocFields<'a> {
        DocFields {
            reader: Reader {
                bytes: self.bytes,
                position: 0,
            },
            left: self.len,
        }
    }

    /// The owned document.
    pub fn to_document(&self) -> Document {
        self.fields()
            .map(|(name, value)| (name.to_string(), value.to_scalar()))
            .collect()
    }
}

/// The fields of a [`DocRef`], in ascending name order.
#[derive(Debug, Clone)]
pub struct DocFields<'a> {
    reader: Reader<'a>,
    left: usize,
}

impl<'a> Iterator for DocFields<'a> {
    type Item = (&'a str, ScalarRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The bytes were checked when the `DocRef` was made, so this cannot fail; if it
        // somehow did, the iteration would end rather than panic.
        let field = self.reader.field().ok();
        if field.is_none() {
            self.left = 0;
        }
        field
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left))
    }
}

/// Encodes the 24-byte file header for a log of the given generation.
pub fn encode_file_header(generation: u64) -> [u8; FILE_HEADER_LEN as usize] {
    let mut header = [0u8; FILE_HEADER_LEN as usize];
    header[..8].copy_from_slice(FILE_MAGIC);
    header[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    header[12..20].copy_from_slice(&generation.to_le_bytes());
    let crc = crc32fast::hash(&header[..20]);
    header[20..24].copy_from_slice(&crc.to_le_bytes());
    header
}

/// Decodes a file header, returning the log's generation.
pub fn decode_file_header(header: &[u8]) -> Result<u64> {
    let corrupt = |reason: &str| Error::Corrupted {
        offset: 0,
        reason: reason.to_string(),
    };
    if header.len() < FILE_HEADER_LEN as usize {
        return Err(corrupt("file is shorter than the log header"));
    }
    if &header[..8] != FILE_MAGIC {
        return Err(corrupt("not a D log file (bad magic)"));
    }
    let crc = u32::from_le_bytes([header[20], header[21], header[22], header[23]]);
    if crc != crc32fast::hash(&header[..20]) {
        return Err(corrupt("log header checksum mismatch"));
    }
    let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    if version != FORMAT_VERSION {
        return Err(corrupt(&format!(
            "unsupported log format version {version}"
        )));
    }
    let mut generation = [0u8; 8];
    generation.copy_from_slice(&header[12..20]);
    Ok(u64::from_le_bytes(generation))
}

/// Encodes a whole record (header and payload) for `op`, appending to `out`.
pub fn encode_record(op: &Op, out: &mut Vec<u8>) -> Result<()> {
    let start = out.len();
    out.extend_from_slice(&[0u8; RECORD_HEADER_LEN]);
    match op {
        Op::Put { key, doc } => {
            out.push(OP_PUT);
            put_str(out, key)?;
            put_len(out, doc.len())?;
            for (field, value) in doc {
                put_str(out, field)?;
                put_scalar(out, value)?;
            }
        }
        Op::Delete { key } => {
            out.push(OP_DELETE);
            put_str(out, key)?;
        }
    }
    let payload_len = out.len() - start - RECORD_HEADER_LEN;
    let payload_len = u32::try_from(payload_len)
        .ok()
        .filter(|len| *len <= MAX_PAYLOAD_LEN)
        .ok_or_else(|| {
            out.truncate(start);
            Error::InvalidValue(format!(
                "record of {payload_len} bytes exceeds the {MAX_PAYLOAD_LEN}-byte limit"
            ))
        })?;
    let payload_crc = crc32fast::hash(&out[start + RECORD_HEADER_LEN..]);
    out[start..start + 4].copy_from_slice(&payload_len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&payload_crc.to_le_bytes());
    let header_crc = crc32fast::hash(&out[start..start + 8]);
    out[start + 8..start + 12].copy_from_slice(&header_crc.to_le_bytes());
    Ok(())
}

/// A record header that passed its own checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub payload_len: u32,
    pub payload_crc: u32,
}

/// Checks a record header; `None` if its checksum fails or its length is impossible.
pub fn decode_record_header(bytes: &[u8; RECORD_HEADER_LEN]) -> Option<RecordHeader> {
    let word = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let (payload_len, payload_crc, header_crc) = (word(0), word(4), word(8));
    (header_crc == crc32fast::hash(&bytes[..8]) && payload_len <= MAX_PAYLOAD_LEN).then_some(
        RecordHeader {
            payload_len,
            payload_crc,
        },
    )
}

/// Decodes a payload whose checksum has already been verified. A failure here means the
/// bytes were written wrong, so it is reported as corruption at `offset`.
pub fn decode_payload(payload: &[u8], offset: u64) -> Result<Op> {
    decode_payload_ref(payload, offset).map(|op| op.to_op())
}

/// Decodes a payload in place: [`decode_payload`] without copying a byte, every part
/// of the payload checked all the same.
pub fn decode_payload_ref(payload: &[u8], offset: u64) -> Result<OpRef<'_>> {
    let mut reader = Reader {
        bytes: payload,
        position: 0,
    };
    let op = reader
        .op()
        .map_err(|reason| Error::Corrupted { offset, reason })?;
    if reader.position != payload.len() {
        return Err(Error::Corrupted {
            offset,
            reason: "trailing bytes after record payload".to_string(),
        });
    }
    Ok(op)
}

fn put_len(out: &mut Vec<u8>, len: usize) -> Result<()> {
    let len = u32::try_from(len)
        .map_err(|_| Error::InvalidValue(format!("length {len} does not fit in a record")))?;
    out.extend_from_slice(&len.to_le_bytes());
    Ok(())
}

fn put_str(out: &mut Vec<u8>, text: &str) -> Result<()> {
    put_len(out, text.len())?;
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

fn put_scalar(out: &mut Vec<u8>, value: &Scalar) -> Result<()> {
    match value {
        Scalar::Null => out.push(TAG_NULL),
        Scalar::Bool(b) => out.extend_from_slice(&[TAG_BOOL, u8::from(*b)]),
        Scalar::Int(i) => {
            out.push(TAG_INT);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Scalar::Float(f) => {
            out.push(TAG_FLOAT);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Scalar::Text(s) => {
            out.push(TAG_TEXT);
            put_str(out, s)?;
        }
        Scalar::Timestamp(t) => {
            out.push(TAG_TIMESTAMP);
            out.extend_from_slice(&t.0.to_le_bytes());
        }
    }
    Ok(())
}

/// A cursor over a payload; every read checks bounds and reports what was short.
#[derive(Debug, Clone)]
struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        let end = self
            .position
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format!("payload ends inside a {len}-byte field"))?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.array().map(u32::from_le_bytes)
    }

    fn i64(&mut self) -> Result<i64, String> {
        self.array().map(i64::from_le_bytes)
    }

    fn string(&mut self) -> Result<&'a str, String> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| "string is not valid UTF-8".to_string())
    }

    fn scalar(&mut self) -> Result<ScalarRef<'a>, String> {
        Ok(match self.u8()? {
            TAG_NULL => ScalarRef::Null,
            TAG_BOOL => match self.u8()? {
                0 => ScalarRef::Bool(false),
                1 => ScalarRef::Bool(true),
                other => return Err(format!("bad boolean byte {other}")),
            },
            TAG_INT => ScalarRef::Int(self.i64()?),
            TAG_FLOAT => ScalarRef::Float(f64::from_bits(self.array().map(u64::from_le_bytes)?)),
            TAG_TEXT => ScalarRef::Text(self.string()?),
            TAG_TIMESTAMP => ScalarRef::Timestamp(Timestamp(self.i64()?)),
            other => return Err(format!("unknown value tag {other}")),
        })
    }

    fn field(&mut self) -> Result<(&'a str, ScalarRef<'a>), String> {
        Ok((self.string()?, self.scalar()?))
    }

    fn op(&mut self) -> Result<OpRef<'a>, String> {
        match self.u8()? {
            OP_PUT => {
                let key = self.string()?;
                let len = self.u32()? as usize;
                let start = self.position;
                let mut previous: Option<&str> = None;
                for _ in 0..len {
                    let (name, _) = self.field()?;
                    if previous.is_some_and(|previous| previous >= name) {
                        return Err(format!(
                            "field {name:?} is out of order (names must be strictly ascending)"
                        ));
                    }
                    previous = Some(name);
                }
                let doc = DocRef {
                    bytes: &self.bytes[start..self.position],
                    len,
                };
                Ok(OpRef::Put { key, doc })
            }
            OP_DELETE => Ok(OpRef::Delete {
                key: self.string()?,
            }),
            other => Err(format!("unknown operation byte {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_through_bytes() {
        let doc: Document = [
            ("name".to_string(), Scalar::Text("Alice".into())),
            ("age".to_string(), Scalar::Int(31)),
            ("score".to_string(), Scalar::Float(-0.5)),
        ]
        .into_iter()
        .collect();
        let op = Op::Put {
            key: "user_1".into(),
            doc,
        };
        let mut bytes = Vec::new();
        encode_record(&op, &mut bytes).unwrap();
        let header: [u8; RECORD_HEADER_LEN] = bytes[..RECORD_HEADER_LEN].try_into().unwrap();
        let header = decode_record_header(&header);
        assert!(header.is_some());
        assert_eq!(decode_payload(&bytes[RECORD_HEADER_LEN..], 0), Ok(op));
    }

    #[test]
    fn a_payload_reads_in_place_as_the_document_written() {
        let doc: Document = [
            ("a".to_string(), Scalar::Null),
            ("b".to_string(), Scalar::Bool(false)),
            ("c".to_string(), Scalar::Text("héllo".into())),
            ("d".to_string(), Scalar::Timestamp(Timestamp(-5))),
            ("e".to_string(), Scalar::Int(i64::MIN)),
        ]
        .into_iter()
        .collect();
        let mut bytes = Vec::new();
        encode_record(
            &Op::Put {
                key: "k".into(),
                doc: doc.clone(),
            },
            &mut bytes,
        )
        .unwrap();
        let payload = &bytes[RECORD_HEADER_LEN..];
        let Ok(OpRef::Put { key, doc: read }) = decode_payload_ref(payload, 0) else {
            panic!("not a put");
        };
        assert_eq!(key, "k");
        assert_eq!(read.len(), doc.len());
        let fields: Vec<(&str, ScalarRef)> = read.fields().collect();
        let expected: Vec<(&str, ScalarRef)> = doc
            .iter()
            .map(|(k, v)| (k.as_str(), v.borrowed()))
            .collect();
        assert_eq!(fields, expected);
        assert_eq!(read.to_document(), doc);
    }

    #[test]
    fn fields_out_of_order_or_repeated_are_corruption() {
        // op, key "k", two fields: "b" then "a" (or "a" twice), both null.
        for names in [["b", "a"], ["a", "a"]] {
            let mut payload = vec![OP_PUT];
            put_str(&mut payload, "k").unwrap();
            put_len(&mut payload, 2).unwrap();
            for name in names {
                put_str(&mut payload, name).unwrap();
                payload.push(TAG_NULL);
            }
            assert!(
                matches!(
                    decode_payload(&payload, 7),
                    Err(Error::Corrupted { offset: 7, .. })
                ),
                "{names:?}"
            );
        }
    }

    #[test]
    fn a_damaged_header_is_detected() {
        let mut bytes = Vec::new();
        encode_record(&Op::Delete { key: "k".into() }, &mut bytes).unwrap();
        for bit in 0..(8 * RECORD_HEADER_LEN) {
            let mut damaged: [u8; RECORD_HEADER_LEN] =
                bytes[..RECORD_HEADER_LEN].try_into().unwrap();
            damaged[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(decode_record_header(&damaged), None, "bit {bit}");
        }
    }
}
