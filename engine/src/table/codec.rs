//! Small binary building blocks shared by the row and schema encodings: LEB128 varints,
//! zigzag for signed integers, length-prefixed bytes, and a bounds-checked reader whose
//! every failure is `Error::CorruptData`.

use crate::error::{Error, Result};

/// Appends `value` as an unsigned LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a signed integer, zigzag-encoded so small magnitudes take few bytes.
pub fn put_signed(out: &mut Vec<u8>, value: i64) {
    put_varint(out, ((value << 1) ^ (value >> 63)) as u64);
}

/// Appends a length-prefixed byte string.
pub fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Reads what the `put_*` functions wrote.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
    /// Names what is being decoded, for error messages.
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader {
            bytes,
            position: 0,
            what,
        }
    }

    fn corrupt(&self, why: &str) -> Error {
        Error::CorruptData(format!("{} at byte {}: {why}", self.what, self.position))
    }

    pub fn is_empty(&self) -> bool {
        self.position == self.bytes.len()
    }

    pub fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self
            .position
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.corrupt("ends early"))?;
        let slice = &self.bytes[self.position..end];
        self.position = end;
        Ok(slice)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.corrupt("varint longer than 10 bytes"))
    }

    pub fn signed(&mut self) -> Result<i64> {
        let raw = self.varint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    pub fn len(&mut self) -> Result<usize> {
        let len = self.varint()?;
        usize::try_from(len).map_err(|_| self.corrupt("length does not fit in memory"))
    }

    pub fn bytes(&mut self) -> Result<&'a [u8]> {
        let len = self.len()?;
        self.take(len)
    }

    pub fn string(&mut self) -> Result<String> {
        self.str().map(str::to_string)
    }

    /// Length-prefixed UTF-8 text, borrowed.
    pub fn str(&mut self) -> Result<&'a str> {
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| self.corrupt("text is not UTF-8"))
    }

    pub fn f64(&mut self) -> Result<f64> {
        let mut raw = [0u8; 8];
        raw.copy_from_slice(self.take(8)?);
        Ok(f64::from_le_bytes(raw))
    }

    pub fn finish(&self) -> Result<()> {
        match self.is_empty() {
            true => Ok(()),
            false => Err(self.corrupt("trailing bytes")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip() {
        for value in [0, 1, -1, 63, -64, 64, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            put_signed(&mut out, value);
            let mut reader = Reader::new(&out, "test");
            assert_eq!(reader.signed().unwrap(), value);
            reader.finish().unwrap();
        }
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut out = Vec::new();
        put_bytes(&mut out, b"hello");
        for cut in 0..out.len() {
            assert!(Reader::new(&out[..cut], "test").bytes().is_err());
        }
        assert!(Reader::new(&[0xff; 11], "test").varint().is_err());
    }
}
