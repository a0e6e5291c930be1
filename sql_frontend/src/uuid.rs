//! UUID: PostgreSQL's 128-bit identifiers, their text forms and `gen_random_uuid()`.
//!
//! A UUID is held as a `u128` whose big-endian bytes are the UUID's 16 bytes
//! ([`crate::value::Value::Uuid`]), so comparing the integers compares the bytes, which
//! is PostgreSQL's uuid order (`uuid_cmp` is a `memcmp`). A UUID column is stored as the
//! engine's `Bytes`, exactly those 16 bytes, whose key encoding keeps the same order; the
//! SQL layer's catalog (`types.rs`) says the column is a UUID, which is how a stored
//! 16-byte string reads back as a UUID rather than as a BYTEA.
//!
//! ## Text
//!
//! Input ([`parse_uuid`]) is PostgreSQL's `uuid_in`: 32 hex digits in either case,
//! optionally inside `{` `}`, with an optional hyphen after any group of four digits
//! (but not after the last): `a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`,
//! `{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}`, `a0eebc999c0b4ef8bb6d6bb9bd380a11`,
//! `a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11`. Nothing else, not even surrounding
//! blanks: `invalid input syntax for type uuid: "..."` (22P02). Output
//! ([`format_uuid`]) is lower case in the 8-4-4-4-12 form.
//!
//! ## gen_random_uuid()
//!
//! A version 4 (random) UUID, RFC 9562: 122 random bits, the version nibble `4` and the
//! variant bits `10`. The random bits come from the same per-thread xorshift64*
//! generator as `random()` (`functions/math.rs`), seeded from the standard library's
//! per-process random keys and the clock, rather than from a cryptographic source: a
//! new crate would cost the library's dependency budget, and the generator's 2^64
//! period and per-process seeds make a collision among the UUIDs of one database as
//! unlikely as a chance collision of v4 UUIDs. They are not secrets: do not use them as
//! tokens that must be unguessable (PostgreSQL's are, as they come from its strong
//! random source).

use crate::error::{Error, Result};

/// The UUID `text` spells (see the module header).
pub fn parse_uuid(text: &str) -> Result<u128> {
    let bad = || Error::Data(format!("invalid input syntax for type uuid: \"{text}\""));
    let body = match text.strip_prefix('{') {
        Some(inner) => inner.strip_suffix('}').ok_or_else(bad)?,
        None => text,
    };
    let bytes = body.as_bytes();
    let mut value: u128 = 0;
    let mut at = 0;
    for i in 0..16 {
        let pair = bytes.get(at..at + 2).ok_or_else(bad)?;
        let high = hex_digit(pair[0]).ok_or_else(bad)?;
        let low = hex_digit(pair[1]).ok_or_else(bad)?;
        value = value << 8 | u128::from(high << 4 | low);
        at += 2;
        // A hyphen may follow every second byte but the last.
        if i % 2 == 1 && i < 15 && bytes.get(at) == Some(&b'-') {
            at += 1;
        }
    }
    match at == bytes.len() {
        true => Ok(value),
        false => Err(bad()),
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

/// A UUID in PostgreSQL's output form: `a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`.
pub fn format_uuid(uuid: u128) -> String {
    let hex = format!("{uuid:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A version 4 UUID from 128 random bits: the version nibble (bits 76-79 from the
/// right, the 13th hex digit) set to 4, the variant's two top bits of byte 8 to `10`.
pub fn random_uuid_from(bits: u128) -> u128 {
    const VERSION_MASK: u128 = 0xf << 76;
    const VERSION_4: u128 = 0x4 << 76;
    const VARIANT_MASK: u128 = 0b11 << 62;
    const VARIANT_RFC: u128 = 0b10 << 62;
    bits & !VERSION_MASK & !VARIANT_MASK | VERSION_4 | VARIANT_RFC
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const EXAMPLE: u128 = 0xa0ee_bc99_9c0b_4ef8_bb6d_6bb9_bd38_0a11;

    #[test]
    fn reads_every_form_postgresql_reads() {
        for text in [
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
            "{a0eebc999c0b4ef8bb6d6bb9bd380a11}",
        ] {
            assert_eq!(parse_uuid(text), Ok(EXAMPLE), "{text}");
        }
    }

    #[test]
    fn refuses_the_rest() {
        for text in [
            "",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            " a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11 ",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
            "a0e-ebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
            "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11a0",
            "é0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
        ] {
            assert_eq!(
                parse_uuid(text),
                Err(Error::Data(format!(
                    "invalid input syntax for type uuid: \"{text}\""
                ))),
                "{text}"
            );
        }
    }

    #[test]
    fn writes_lower_case_hyphenated() {
        assert_eq!(format_uuid(EXAMPLE), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        assert_eq!(format_uuid(1), "00000000-0000-0000-0000-000000000001");
    }

    proptest! {
        #[test]
        fn output_reads_back(uuid in any::<u128>()) {
            prop_assert_eq!(parse_uuid(&format_uuid(uuid)).unwrap(), uuid);
        }

        #[test]
        fn random_uuids_are_version_4(bits in any::<u128>()) {
            let text = format_uuid(random_uuid_from(bits));
            prop_assert_eq!(&text[14..15], "4");
            prop_assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"));
        }
    }
}
