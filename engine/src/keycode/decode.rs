//! Decoding memcomparable bytes back into tuples, strictly: only bytes that the encoder
//! produces are accepted, anything else is [`Error::CorruptData`].

use super::encode::{SIGN_BIT_32, SIGN_BIT_64, SIGN_BIT_128};
use super::numeric::Numeric;
use super::order::{Direction, NullOrder, order_at};
use super::value::{CANONICAL_NAN_BITS, MICROS_PER_DAY, MICROS_PER_MONTH};
use super::{ColumnOrder, KeyValue, escape, tag};
use crate::{Error, Result};

/// Decodes a key encoded by [`encode`](super::encode) (every column ascending, NULLs
/// first) into its tuple.
pub fn decode(key: &[u8]) -> Result<Vec<KeyValue>> {
    decode_ordered(key, &[])
}

/// Decodes a key encoded by [`encode_ordered`](super::encode_ordered) with the same
/// `orders`.
pub fn decode_ordered(key: &[u8], orders: &[ColumnOrder]) -> Result<Vec<KeyValue>> {
    KeyDecoder::new(key, orders).collect()
}

/// Reads a key one value at a time, e.g. to take an index key's columns and then hand the
/// remaining bytes (the primary key) on with [`KeyDecoder::remaining`].
///
/// As an iterator it yields `Ok(value)` per column until the input ends, or one `Err` and
/// then nothing.
#[derive(Debug, Clone)]
pub struct KeyDecoder<'a> {
    input: &'a [u8],
    pos: usize,
    orders: &'a [ColumnOrder],
    column: usize,
    failed: bool,
}

impl<'a> KeyDecoder<'a> {
    /// A decoder over `key`, whose column `i` was encoded with `orders[i]`
    /// ([`ColumnOrder::ASC`] past the end).
    pub fn new(key: &'a [u8], orders: &'a [ColumnOrder]) -> Self {
        KeyDecoder {
            input: key,
            pos: 0,
            orders,
            column: 0,
            failed: false,
        }
    }

    /// The bytes not decoded yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }

    /// Whether every byte has been decoded.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.input.len()
    }

    /// Decodes the next value; `Ok(None)` at the end of the input.
    pub fn next_value(&mut self) -> Result<Option<KeyValue>> {
        if self.failed {
            return Err(self.corrupt("decoding already failed"));
        }
        if self.is_empty() {
            return Ok(None);
        }
        let result = self.read_value();
        match result {
            Ok(v) => {
                self.column += 1;
                Ok(Some(v))
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    fn read_value(&mut self) -> Result<KeyValue> {
        let order = order_at(self.orders, self.column);
        let start = self.pos;
        let raw_tag = self.byte(0x00)?;
        if raw_tag == tag::NULL_FIRST || raw_tag == tag::NULL_LAST {
            let expected = match order.nulls {
                NullOrder::First => tag::NULL_FIRST,
                NullOrder::Last => tag::NULL_LAST,
            };
            if raw_tag != expected {
                self.pos = start;
                return Err(self.corrupt(&format!(
                    "NULL tag {raw_tag:#04x} does not match the column's NULL order"
                )));
            }
            return Ok(KeyValue::Null);
        }
        let flip = match order.direction {
            Direction::Ascending => 0x00,
            Direction::Descending => 0xFF,
        };
        let value = match raw_tag ^ flip {
            tag::BOOL => match self.byte(flip)? {
                0 => KeyValue::Bool(false),
                1 => KeyValue::Bool(true),
                b => return Err(self.corrupt_before(1, &format!("bool byte {b:#04x}"))),
            },
            tag::INT => KeyValue::Int(self.read_i64(flip)?),
            tag::TIMESTAMP => KeyValue::Timestamp(self.read_i64(flip)?),
            tag::DATE => {
                let bytes = self.array::<4>(flip)?;
                KeyValue::Date((u32::from_be_bytes(bytes) ^ SIGN_BIT_32).cast_signed())
            }
            tag::FLOAT => KeyValue::Float(self.read_float(flip)?),
            tag::NUMERIC => {
                let (input, mut pos) = (self.input, self.pos);
                let decoded = Numeric::decode_key(|| {
                    let b = input.get(pos).map(|b| b ^ flip);
                    pos += 1;
                    b
                });
                match decoded {
                    Ok(n) => {
                        self.pos = pos;
                        KeyValue::Numeric(Box::new(n))
                    }
                    Err(what) => {
                        self.pos = start;
                        return Err(self.corrupt(what));
                    }
                }
            }
            tag::TEXT => {
                let bytes = self.read_escaped(flip)?;
                match String::from_utf8(bytes) {
                    Ok(s) => KeyValue::Text(s),
                    Err(_) => {
                        self.pos = start;
                        return Err(self.corrupt("text value is not valid UTF-8"));
                    }
                }
            }
            tag::BYTES => KeyValue::Bytes(self.read_escaped(flip)?),
            tag::INTERVAL => {
                let span =
                    (u128::from_be_bytes(self.array::<16>(flip)?) ^ SIGN_BIT_128).cast_signed();
                match interval_of_span(span) {
                    Some(interval) => interval,
                    None => {
                        self.pos = start;
                        return Err(self
                            .corrupt(&format!("interval length {span} beyond every interval's")));
                    }
                }
            }
            other => {
                self.pos = start;
                return Err(self.corrupt(&format!("unknown type tag {other:#04x}")));
            }
        };
        Ok(value)
    }

    /// Reads one byte, XOR `flip`.
    fn byte(&mut self, flip: u8) -> Result<u8> {
        match self.input.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b ^ flip)
            }
            None => Err(self.corrupt("key ends inside a value")),
        }
    }

    /// Reads `N` bytes, each XOR `flip`.
    fn array<const N: usize>(&mut self, flip: u8) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        for slot in &mut out {
            *slot = self.byte(flip)?;
        }
        Ok(out)
    }

    /// Reads an 8-byte big-endian order-mapped integer and undoes the sign-bit flip.
    fn read_i64(&mut self, flip: u8) -> Result<i64> {
        let bits = u64::from_be_bytes(self.array::<8>(flip)?);
        Ok((bits ^ SIGN_BIT_64).cast_signed())
    }

    /// Reads an order-mapped float, rejecting `-0.0` and non-canonical NaNs (the encoder
    /// never writes them).
    fn read_float(&mut self, flip: u8) -> Result<f64> {
        let mapped = u64::from_be_bytes(self.array::<8>(flip)?);
        let bits = if mapped & SIGN_BIT_64 != 0 {
            mapped ^ SIGN_BIT_64
        } else {
            !mapped
        };
        let f = f64::from_bits(bits);
        if f.is_nan() && bits != CANONICAL_NAN_BITS {
            return Err(self.corrupt_before(8, "non-canonical NaN"));
        }
        if bits == (-0.0f64).to_bits() {
            return Err(self.corrupt_before(8, "negative zero"));
        }
        Ok(f)
    }

    /// Reads an escaped, terminated byte string (each byte XOR `flip`).
    fn read_escaped(&mut self, flip: u8) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let b = self.byte(flip)?;
            if b != escape::MARK {
                out.push(b);
                continue;
            }
            match self.byte(flip)? {
                escape::ESCAPED_ZERO => out.push(escape::MARK),
                escape::TERMINATOR => return Ok(out),
                other => {
                    return Err(self.corrupt_before(1, &format!("bad escape 0x00 {other:#04x}")));
                }
            }
        }
    }

    fn corrupt(&self, what: &str) -> Error {
        Error::CorruptData(format!(
            "key column {} at byte {}: {what}",
            self.column, self.pos
        ))
    }

    /// An error located `back` bytes before the current position.
    fn corrupt_before(&mut self, back: usize, what: &str) -> Error {
        self.pos = self.pos.saturating_sub(back);
        self.corrupt(what)
    }
}

impl Iterator for KeyDecoder<'_> {
    type Item = Result<KeyValue>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        self.next_value().transpose()
    }
}

/// The interval in normal form whose length is `span` (see the module header: whole
/// 30-day months as far as an `i32` holds them, then whole days, then microseconds,
/// all of the length's sign); `None` for a length no interval has.
fn interval_of_span(span: i128) -> Option<KeyValue> {
    let clamp = |n: i128| n.clamp(i128::from(i32::MIN), i128::from(i32::MAX));
    let months = clamp(span / MICROS_PER_MONTH);
    let rest = span - months * MICROS_PER_MONTH;
    let days = clamp(rest / MICROS_PER_DAY);
    let micros = i64::try_from(rest - days * MICROS_PER_DAY).ok()?;
    Some(KeyValue::Interval {
        months: i32::try_from(months).ok()?,
        days: i32::try_from(days).ok()?,
        micros,
    })
}
