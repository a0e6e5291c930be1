//! BYTEA: PostgreSQL's byte strings, their two text input formats and their hex output.
//!
//! A BYTEA value is any sequence of bytes ([`crate::value::Value::Bytea`]). It is stored
//! as the engine's `Bytes`, whose key encoding orders byte strings bytewise with a proper
//! prefix first — exactly PostgreSQL's `byteacmp` — so BYTEA columns can be primary keys
//! and indexed like any other.
//!
//! ## Text input ([`parse_bytea`], PostgreSQL's `byteain`)
//!
//! - **Hex format**: text starting `\x`, then pairs of hex digits (either case), with
//!   whitespace allowed between pairs: `'\x0102ff'`, `'\xDE AD'`. A character that is not
//!   a hex digit is `invalid hexadecimal digit: "g"` and a lone last digit is `invalid
//!   hexadecimal data: odd number of digits` (both SQLSTATE 22023, as PostgreSQL reports
//!   them).
//! - **Escape format**: any other text is its own bytes, except that `\\` is one
//!   backslash and `\` followed by three octal digits (the first 0-3) is that byte:
//!   `'a\\b'` is `a`, `\`, `b`; `'a\001b'` is `61 01 62`. Any other backslash is
//!   `invalid input syntax for type bytea` (22P02).
//!
//! ## Text output ([`format_bytea`])
//!
//! PostgreSQL's default `bytea_output = hex`: `\x` and two lower-case hex digits per
//! byte (`\x` alone for the empty string). This is also what a cast to text gives, what
//! COPY writes (its text format then doubles the backslash, as for any text) and what
//! the wire protocol's text format carries.

use crate::error::{Error, Result};

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The bytes PostgreSQL reads from `text` as a BYTEA (see the module header).
pub fn parse_bytea(text: &str) -> Result<Vec<u8>> {
    match text.strip_prefix("\\x") {
        Some(hex) => parse_hex(hex),
        None => parse_escaped(text),
    }
}

/// Hex digits in pairs, whitespace allowed between pairs.
fn parse_hex(hex: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(hex.len() / 2);
    let mut chars = hex.chars();
    while let Some(c) = chars.next() {
        if c.is_ascii_whitespace() {
            continue;
        }
        let high = hex_value(c)?;
        let low = match chars.next() {
            Some(c) => hex_value(c)?,
            None => {
                return Err(Error::Data(
                    "invalid hexadecimal data: odd number of digits".into(),
                ));
            }
        };
        out.push(high << 4 | low);
    }
    Ok(out)
}

fn hex_value(c: char) -> Result<u8> {
    c.to_digit(16)
        .map(|d| d as u8)
        .ok_or_else(|| Error::Data(format!("invalid hexadecimal digit: \"{c}\"")))
}

/// The escape format: bytes as written, `\\` and `\ooo` escapes.
fn parse_escaped(text: &str) -> Result<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        match bytes.get(i + 1..i + 4) {
            Some([a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7']) => {
                out.push((a - b'0') << 6 | (b - b'0') << 3 | (c - b'0'));
                i += 4;
            }
            _ if bytes.get(i + 1) == Some(&b'\\') => {
                out.push(b'\\');
                i += 2;
            }
            _ => return Err(Error::Data("invalid input syntax for type bytea".into())),
        }
    }
    Ok(out)
}

/// `bytes` in PostgreSQL's hex output format: `\x0102ff`.
pub fn format_bytea(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("\\x");
    for b in bytes {
        out.push(HEX_DIGITS[usize::from(b >> 4)] as char);
        out.push(HEX_DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn reads_both_input_formats() {
        assert_eq!(parse_bytea("\\x0102ff"), Ok(vec![1, 2, 0xff]));
        assert_eq!(parse_bytea("\\xDE AD"), Ok(vec![0xde, 0xad]));
        assert_eq!(parse_bytea("\\x"), Ok(vec![]));
        assert_eq!(parse_bytea("abc"), Ok(b"abc".to_vec()));
        assert_eq!(parse_bytea("a\\\\b"), Ok(b"a\\b".to_vec()));
        assert_eq!(parse_bytea("a\\001b"), Ok(vec![b'a', 1, b'b']));
        assert_eq!(parse_bytea("a\\000"), Ok(vec![b'a', 0]));
        assert_eq!(parse_bytea(""), Ok(vec![]));
    }

    #[test]
    fn refuses_what_postgresql_refuses() {
        for (bad, message) in [
            ("\\x0g", "invalid hexadecimal digit: \"g\""),
            ("\\x012", "invalid hexadecimal data: odd number of digits"),
            ("a\\9", "invalid input syntax for type bytea"),
            ("a\\", "invalid input syntax for type bytea"),
            ("\\400", "invalid input syntax for type bytea"),
        ] {
            assert_eq!(parse_bytea(bad), Err(Error::Data(message.into())), "{bad}");
        }
    }

    #[test]
    fn writes_hex() {
        assert_eq!(format_bytea(&[1, 2, 0xff]), "\\x0102ff");
        assert_eq!(format_bytea(&[]), "\\x");
    }

    proptest! {
        #[test]
        fn hex_output_reads_back(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(parse_bytea(&format_bytea(&bytes)).unwrap(), bytes);
        }
    }
}
