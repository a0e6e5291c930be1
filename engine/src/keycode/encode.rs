//! Encoding tuples into memcomparable bytes (format in the [module header](super)).

use super::order::{Direction, NullOrder, order_at};
use super::value::canonical_float;
use super::{ColumnOrder, KeyValue, escape, tag};

/// The sign bit of an `i64` / `f64`, flipped to make signed order unsigned order.
pub(super) const SIGN_BIT_64: u64 = 1 << 63;
/// The sign bit of an `i128` (an interval's length).
pub(super) const SIGN_BIT_128: u128 = 1 << 127;
/// The sign bit of an `i32`.
pub(super) const SIGN_BIT_32: u32 = 1 << 31;

/// Encodes `tuple` with every column ascending, NULLs first.
pub fn encode(tuple: &[KeyValue]) -> Vec<u8> {
    encode_ordered(tuple, &[])
}

/// Encodes `tuple` with column `i` sorted by `orders[i]` ([`ColumnOrder::ASC`] past the end
/// of `orders`).
pub fn encode_ordered(tuple: &[KeyValue], orders: &[ColumnOrder]) -> Vec<u8> {
    // Room for the usual encoding, so a key is built in one allocation: a tag and at
    // most 16 bytes for a fixed-width value, a tag, the bytes and a terminator for a
    // string (its escapes, rare, may grow it).
    let room = tuple
        .iter()
        .map(|value| match value {
            KeyValue::Text(s) => s.len() + 3,
            KeyValue::Bytes(b) => b.len() + 3,
            _ => 17,
        })
        .sum();
    let mut buf = Vec::with_capacity(room);
    encode_into(&mut buf, tuple, orders);
    buf
}

/// Appends the encoding of `tuple` to `buf` (see [`encode_ordered`]).
pub fn encode_into(buf: &mut Vec<u8>, tuple: &[KeyValue], orders: &[ColumnOrder]) {
    for (i, value) in tuple.iter().enumerate() {
        encode_value_into(buf, value, order_at(orders, i));
    }
}

/// Appends the encoding of one value, sorted by `order`, to `buf`. A tuple's encoding is
/// the concatenation of its values' encodings, so keys can be built column by column.
pub fn encode_value_into(buf: &mut Vec<u8>, value: &KeyValue, order: ColumnOrder) {
    if value.is_null() {
        // NULL's tag is never complemented: its place is set by the NULL order alone.
        buf.push(match order.nulls {
            NullOrder::First => tag::NULL_FIRST,
            NullOrder::Last => tag::NULL_LAST,
        });
        return;
    }
    let start = buf.len();
    buf.push(value.tag());
    match value {
        KeyValue::Null => {}
        KeyValue::Bool(b) => buf.push(u8::from(*b)),
        KeyValue::Int(i) | KeyValue::Timestamp(i) => {
            buf.extend_from_slice(&int_to_ordered(*i).to_be_bytes());
        }
        KeyValue::Numeric(n) => n.encode_key(buf),
        KeyValue::Float(f) => buf.extend_from_slice(&float_to_ordered(*f).to_be_bytes()),
        KeyValue::Date(d) => {
            buf.extend_from_slice(&(d.cast_unsigned() ^ SIGN_BIT_32).to_be_bytes())
        }
        KeyValue::Text(s) => escape_into(buf, s.as_bytes()),
        KeyValue::Bytes(b) => escape_into(buf, b),
        KeyValue::Interval {
            months,
            days,
            micros,
        } => {
            let span = KeyValue::interval_span(*months, *days, *micros);
            buf.extend_from_slice(&(span.cast_unsigned() ^ SIGN_BIT_128).to_be_bytes());
        }
    }
    if order.direction == Direction::Descending {
        for byte in &mut buf[start..] {
            *byte = !*byte;
        }
    }
}

/// Maps `i64` onto `u64` keeping order: flip the sign bit.
fn int_to_ordered(i: i64) -> u64 {
    i.cast_unsigned() ^ SIGN_BIT_64
}

/// Maps `f64` onto `u64` keeping the key order: canonicalise, then flip the sign bit of
/// positives and every bit of negatives.
fn float_to_ordered(f: f64) -> u64 {
    let bits = canonical_float(f).to_bits();
    if bits & SIGN_BIT_64 == 0 {
        bits ^ SIGN_BIT_64
    } else {
        !bits
    }
}

/// Appends `bytes` with each `0x00` escaped as `0x00 0xFF`, then the terminator `0x00 0x01`.
fn escape_into(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.reserve(bytes.len() + 2);
    for &b in bytes {
        buf.push(b);
        if b == escape::MARK {
            buf.push(escape::ESCAPED_ZERO);
        }
    }
    buf.push(escape::MARK);
    buf.push(escape::TERMINATOR);
}
