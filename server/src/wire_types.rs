//! H's values on the wire: type OIDs, and the text and binary formats of each type.
//!
//! | H kind      | described as        | OID  | binary format                          |
//! |-------------|---------------------|------|----------------------------------------|
//! | Bool        | boolean             | 16   | one byte, 0 or 1                       |
//! | Int         | bigint              | 20   | 8 bytes, big-endian                    |
//! | Float       | double precision    | 701  | IEEE 754, 8 bytes, big-endian          |
//! | Text        | text                | 25   | the UTF-8 bytes                        |
//! | Date        | date                | 1082 | i32 days since 2000-01-01              |
//! | Timestamp   | timestamp           | 1114 | i64 microseconds since 2000-01-01      |
//! | Interval    | interval            | 1186 | i64 microseconds, i32 days, i32 months |
//! | Bytea       | bytea               | 17   | the bytes                              |
//! | Uuid        | uuid                | 2950 | the 16 bytes                           |
//! | Numeric     | numeric             | 1700 | base-10000 digits (`wire_numeric.rs`)  |
//! | Unknown     | text                | 25   | (a NULL literal, an untyped `$n`)      |
//!
//! H computes every integer in 64 bits and every float in 64 bits (a column's declared
//! width is checked when a value is stored), so result columns are described by their
//! kind: an INTEGER column is `bigint` on the wire. Parameters are decoded by the type
//! the client named in Parse where it named one (so a client may send an `int4` or a
//! `float4` in binary), else by the kind H's binder inferred; text-format parameters
//! travel as text and the session casts them to the inferred kind, as PostgreSQL casts
//! an untyped literal.
//!
//! Text output follows PostgreSQL 15 with its default settings (DateStyle ISO,
//! extra_float_digits 1): `t`/`f`, shortest round-trip floats with an exponent below
//! 1e-4 or from 1e15 (`1e+20`), `YYYY-MM-DD HH:MM:SS[.ffffff]`, bytea in hex
//! (`\x0102ff`, bytea_output = hex), uuids lower case and hyphenated.

use bytes::{BufMut, BytesMut};
use hdb::{Interval, Kind, Value};

use crate::errors::ProtocolError;

/// PostgreSQL's type OIDs for the types H speaks (pg_type.oid).
pub mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const UNKNOWN: u32 = 705;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const NAME: u32 = 19;
    pub const DATE: u32 = 1082;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const UUID: u32 = 2950;
    pub const NUMERIC: u32 = 1700;
}

/// Days from 1970-01-01 (H's date epoch) to 2000-01-01 (PostgreSQL's).
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS as i64 * 86_400_000_000;

/// Format code 0: text; 1: binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Binary,
}

impl Format {
    /// The format a code names (only 0 and 1 exist).
    pub fn from_code(code: i16) -> Result<Format, ProtocolError> {
        match code {
            0 => Ok(Format::Text),
            1 => Ok(Format::Binary),
            other => Err(ProtocolError::violation(format!(
                "unsupported format code: {other}"
            ))),
        }
    }

    /// The wire's code for it.
    pub fn code(self) -> i16 {
        match self {
            Format::Text => 0,
            Format::Binary => 1,
        }
    }

    /// The format of each of `count` columns or parameters from the codes a Bind
    /// message gives: none means all text, one applies to all, else one per column.
    pub fn for_each(codes: &[i16], count: usize) -> Result<Vec<Format>, ProtocolError> {
        match codes {
            [] => Ok(vec![Format::Text; count]),
            [one] => Ok(vec![Format::from_code(*one)?; count]),
            many if many.len() == count => many.iter().map(|c| Format::from_code(*c)).collect(),
            many => Err(ProtocolError::violation(format!(
                "{} format codes for {count} columns or parameters",
                many.len()
            ))),
        }
    }
}

/// The OID a result column or parameter of `kind` is described with.
pub fn oid_of(kind: Kind) -> u32 {
    match kind {
        Kind::Bool => oid::BOOL,
        Kind::Int => oid::INT8,
        Kind::Float => oid::FLOAT8,
        Kind::Text | Kind::Unknown => oid::TEXT,
        Kind::Date => oid::DATE,
        Kind::Timestamp => oid::TIMESTAMP,
        Kind::Interval => oid::INTERVAL,
        Kind::Bytea => oid::BYTEA,
        Kind::Uuid => oid::UUID,
        Kind::Numeric => oid::NUMERIC,
    }
}

/// pg_type.typlen of a type: its size in bytes, or -1 for variable-length types.
pub fn type_size(oid: u32) -> i16 {
    match oid {
        oid::BOOL => 1,
        oid::INT2 => 2,
        oid::INT4 | oid::FLOAT4 | oid::DATE | oid::OID => 4,
        oid::INT8 | oid::FLOAT8 | oid::TIMESTAMP | oid::TIMESTAMPTZ => 8,
        oid::INTERVAL | oid::UUID => 16,
        _ => -1,
    }
}

/// Appends one field of a DataRow: its length (-1 for NULL) and bytes, for a column
/// described with `kind`. H gives every value of a column its column's kind; should
/// one differ, a binary field still matches the description: a text column gets the
/// value's text, a float column an integer's value as a float.
pub fn put_field(out: &mut BytesMut, value: &Value, format: Format, kind: Kind) {
    if value.is_null() {
        out.put_i32(-1);
        return;
    }
    let start = out.len();
    out.put_i32(0);
    match (format, value, kind) {
        (Format::Text, value, _) => put_text(out, value),
        (Format::Binary, value, kind) if value.kind() == kind => put_binary(out, value),
        (Format::Binary, Value::Int(i), Kind::Float) => out.put_f64(*i as f64),
        (Format::Binary, value, _) => put_text(out, value),
    }
    let length = out.len() - start - 4;
    // A field is at most what one message holds (pgwire refuses longer messages).
    let length = i32::try_from(length).unwrap_or(i32::MAX);
    out[start..start + 4].copy_from_slice(&length.to_be_bytes());
}

fn put_text(out: &mut BytesMut, value: &Value) {
    match value {
        Value::Float(x) => out.put_slice(format_float(*x).as_bytes()),
        other => out.put_slice(other.to_string().as_bytes()),
    }
}

fn put_binary(out: &mut BytesMut, value: &Value) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.put_u8(u8::from(*b)),
        Value::Int(i) => out.put_i64(*i),
        Value::Float(x) => out.put_f64(*x),
        Value::Numeric(n) => crate::wire_numeric::put_numeric(out, n),
        Value::Text(s) => out.put_slice(s.as_bytes()),
        Value::Date(d) => out.put_i32(d.saturating_sub(PG_EPOCH_DAYS)),
        Value::Timestamp(t) => out.put_i64(t.saturating_sub(PG_EPOCH_MICROS)),
        Value::Interval(i) => {
            out.put_i64(i.micros);
            out.put_i32(i.days);
            out.put_i32(i.months);
        }
        Value::Bytea(b) => out.put_slice(b),
        Value::Uuid(u) => out.put_u128(*u),
    }
}

/// A float as PostgreSQL 15 prints it with extra_float_digits = 1: the shortest text
/// that reads back as the same double, in exponent form when the decimal exponent is
/// below -4 or at least 15 (`1e+20`, `1.5e-05`).
pub fn format_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "1.5e20", "-1e-5".
    let scientific = format!("{x:e}");
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..15).contains(&exponent) {
        format!("{x}")
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    }
}

/// Decodes one parameter sent in `format`, as the type `oid` (the client's or the one
/// H inferred). Text stays text for the session to cast; binary is read by its type.
pub fn decode_param(bytes: &[u8], format: Format, oid: u32) -> Result<Value, ProtocolError> {
    match format {
        Format::Text => std::str::from_utf8(bytes)
            .map(|s| Value::Text(s.to_string()))
            .map_err(|_| {
                ProtocolError::new("22021", "invalid byte sequence for encoding \"UTF8\"")
            }),
        Format::Binary => decode_binary(bytes, oid),
    }
}

fn decode_binary(bytes: &[u8], oid: u32) -> Result<Value, ProtocolError> {
    let wrong_size = || {
        ProtocolError::new(
            "22P03",
            format!(
                "incorrect binary data format in bind parameter: {} bytes for type {oid}",
                bytes.len()
            ),
        )
    };
    let fixed = |n: usize| -> Result<&[u8], ProtocolError> {
        (bytes.len() == n).then_some(bytes).ok_or_else(wrong_size)
    };
    Ok(match oid {
        oid::BOOL => Value::Bool(fixed(1)?[0] != 0),
        oid::INT2 => Value::Int(i64::from(i16::from_be_bytes(array(fixed(2)?)))),
        oid::INT4 | oid::OID => Value::Int(i64::from(i32::from_be_bytes(array(fixed(4)?)))),
        oid::INT8 => Value::Int(i64::from_be_bytes(array(fixed(8)?))),
        oid::FLOAT4 => Value::Float(f64::from(f32::from_be_bytes(array(fixed(4)?)))),
        oid::FLOAT8 => Value::Float(f64::from_be_bytes(array(fixed(8)?))),
        oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::NAME | oid::UNKNOWN => {
            Value::Text(String::from_utf8(bytes.to_vec()).map_err(|_| {
                ProtocolError::new("22021", "invalid byte sequence for encoding \"UTF8\"")
            })?)
        }
        oid::NUMERIC => Value::numeric(crate::wire_numeric::decode_numeric(bytes)?),
        oid::DATE => {
            let days = i32::from_be_bytes(array(fixed(4)?));
            Value::Date(days.checked_add(PG_EPOCH_DAYS).ok_or_else(|| {
                ProtocolError::new("22008", "date out of range in bind parameter")
            })?)
        }
        oid::TIMESTAMP | oid::TIMESTAMPTZ => {
            let micros = i64::from_be_bytes(array(fixed(8)?));
            Value::Timestamp(micros.checked_add(PG_EPOCH_MICROS).ok_or_else(|| {
                ProtocolError::new("22008", "timestamp out of range in bind parameter")
            })?)
        }
        oid::INTERVAL => {
            let bytes = fixed(16)?;
            Value::Interval(Interval {
                micros: i64::from_be_bytes(array(&bytes[..8])),
                days: i32::from_be_bytes(array(&bytes[8..12])),
                months: i32::from_be_bytes(array(&bytes[12..])),
            })
        }
        oid::BYTEA => Value::Bytea(bytes.to_vec()),
        oid::UUID => Value::Uuid(u128::from_be_bytes(array(fixed(16)?))),
        other => {
            return Err(ProtocolError::new(
                "0A000",
                format!("binary parameters of type {other} are not supported"),
            ));
        }
    })
}

/// The first `N` bytes as an array (callers have checked the length).
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_postgresql_prints_them() {
        let cases = [
            (1.0, "1"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e20, "1e+20"),
            (1.5e-5, "1.5e-05"),
            (123456789012345.0, "123456789012345"),
            (1e15, "1e+15"),
            (0.0001, "0.0001"),
            (1.0 / 3.0, "0.3333333333333333"),
            (f64::INFINITY, "Infinity"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (x, text) in cases {
            assert_eq!(format_float(x), text, "{x}");
        }
    }

    #[test]
    fn binary_values_round_trip_through_decode() {
        let cases = [
            (Value::Bool(true), oid::BOOL),
            (Value::Int(-42), oid::INT8),
            (Value::Float(2.5), oid::FLOAT8),
            (Value::Text("héllo".into()), oid::TEXT),
            (Value::Date(0), oid::DATE),
            (Value::Date(-800_000), oid::DATE),
            (Value::Timestamp(1_700_000_000_123_456), oid::TIMESTAMP),
            (
                Value::Interval(Interval {
                    months: -14,
                    days: 3,
                    micros: 4_000_001,
                }),
                oid::INTERVAL,
            ),
            (Value::Bytea(vec![0, 1, 0xff]), oid::BYTEA),
            (Value::Bytea(Vec::new()), oid::BYTEA),
            (
                Value::Uuid(0xa0ee_bc99_9c0b_4ef8_bb6d_6bb9_bd38_0a11),
                oid::UUID,
            ),
            (
                Value::numeric(hdb::Numeric::parse("-1234.5600").unwrap()),
                oid::NUMERIC,
            ),
        ];
        for (value, type_oid) in cases {
            let mut out = BytesMut::new();
            put_field(&mut out, &value, Format::Binary, value.kind());
            let decoded = decode_param(&out[4..], Format::Binary, type_oid).unwrap();
            assert_eq!(decoded, value);
        }
    }

    #[test]
    fn wrong_binary_lengths_are_errors() {
        assert_eq!(
            decode_param(&[0, 0, 1], Format::Binary, oid::INT4)
                .unwrap_err()
                .code,
            "22P03"
        );
        assert!(decode_param(&[0xff, 0xfe], Format::Binary, oid::TEXT).is_err());
        assert!(decode_param(&[1], Format::Binary, 9999).is_err());
    }

    #[test]
    fn format_codes_follow_the_protocol() {
        assert_eq!(Format::for_each(&[], 2).unwrap(), [Format::Text; 2]);
        assert_eq!(Format::for_each(&[1], 3).unwrap(), [Format::Binary; 3]);
        assert!(Format::for_each(&[0, 1], 3).is_err());
        assert!(Format::for_each(&[2], 1).is_err());
    }
}
