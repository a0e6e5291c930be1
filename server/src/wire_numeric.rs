//! NUMERIC's binary format on the wire: PostgreSQL's `numeric_send` / `numeric_recv`.
//!
//! ```text
//! ndigits: i16   number of base-10000 digits that follow
//! weight:  i16   the first digit's place: value = Σ digit[i] · 10000^(weight − i)
//! sign:    u16   0x0000 positive, 0x4000 negative (0xC000 NaN, 0xD000/0xF000 ±Infinity)
//! dscale:  i16   digits shown after the decimal point
//! digits:  ndigits × i16, each 0..=9999
//! ```
//!
//! The digits are aligned on the decimal point (a digit holds the places 10^(4k+3) to
//! 10^(4k) of the number), and PostgreSQL sends none of the leading or trailing zero
//! digits; zero is `ndigits = 0, weight = 0`. Received digits below `dscale` are
//! truncated away, as `numeric_recv` does. NaN and the infinities are refused (hdb's
//! NUMERIC has no such values).

use bytes::{BufMut, BytesMut};
use hdb::Numeric;
use hdb::engine::keycode::pow10;
use num_bigint::BigInt;

use crate::errors::ProtocolError;

/// Decimal digits per base-10000 digit.
const DEC_DIGITS: usize = 4;
const SIGN_POSITIVE: u16 = 0x0000;
const SIGN_NEGATIVE: u16 = 0x4000;

/// Appends `n` in PostgreSQL's binary NUMERIC format.
pub fn put_numeric(out: &mut BytesMut, n: &Numeric) {
    let text = n.mantissa().magnitude().to_str_radix(10);
    let scale = n.scale() as usize;
    // The integer and fraction digits, padded to whole base-10000 digits around the point.
    let (whole, fraction) = match text.len() > scale {
        true => text.split_at(text.len() - scale),
        false => ("", text.as_str()),
    };
    let fraction = format!("{fraction:0>scale$}");
    let whole_width = whole.len().div_ceil(DEC_DIGITS) * DEC_DIGITS;
    let fraction_width = fraction.len().div_ceil(DEC_DIGITS) * DEC_DIGITS;
    let digits_text = format!("{whole:0>whole_width$}{fraction:0<fraction_width$}");
    let mut digits: Vec<i16> = digits_text
        .as_bytes()
        .chunks(DEC_DIGITS)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0'))
        })
        .collect();
    let mut weight = (whole_width / DEC_DIGITS) as i64 - 1;
    let leading = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..leading);
    weight -= leading as i64;
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    out.put_i16(digits.len() as i16);
    out.put_i16(weight as i16);
    out.put_u16(match n.signum() < 0 {
        true => SIGN_NEGATIVE,
        false => SIGN_POSITIVE,
    });
    out.put_i16(n.scale() as i16);
    for digit in digits {
        out.put_i16(digit);
    }
}

/// Reads PostgreSQL's binary NUMERIC format.
pub fn decode_numeric(bytes: &[u8]) -> Result<Numeric, ProtocolError> {
    let bad = |what: &str| {
        ProtocolError::new(
            "22P03",
            format!("invalid {what} in external \"numeric\" value"),
        )
    };
    let field = |i: usize| -> Result<i16, ProtocolError> {
        bytes
            .get(2 * i..2 * i + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| bad("length"))
    };
    let ndigits = usize::try_from(field(0)?).map_err(|_| bad("length"))?;
    let weight = i64::from(field(1)?);
    let sign = field(2)?.cast_unsigned();
    let dscale = u32::try_from(field(3)?).map_err(|_| bad("scale"))?;
    if bytes.len() != 8 + 2 * ndigits {
        return Err(bad("length"));
    }
    let negative = match sign {
        SIGN_POSITIVE => false,
        SIGN_NEGATIVE => true,
        _ => {
            return Err(ProtocolError::new(
                "0A000",
                "NaN and infinity are not supported for type numeric",
            ));
        }
    };
    let mut whole = BigInt::from(0u8);
    for i in 0..ndigits {
        let digit = field(4 + i)?;
        if !(0..10_000).contains(&digit) {
            return Err(bad("digit"));
        }
        whole = whole * 10_000u32 + digit.cast_unsigned();
    }
    // value = whole · 10^(4·(weight − ndigits + 1)); its mantissa at dscale digits.
    let exponent = DEC_DIGITS as i64 * (weight - ndigits as i64 + 1) + i64::from(dscale);
    let power = |e: i64| pow10(u32::try_from(e).unwrap_or(u32::MAX));
    let mut mantissa = match exponent >= 0 {
        true => whole * power(exponent),
        false => whole / power(-exponent),
    };
    if negative {
        mantissa = -mantissa;
    }
    Numeric::new(mantissa, dscale)
        .ok_or_else(|| ProtocolError::new("22003", "value overflows numeric format"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Numeric {
        Numeric::parse(text).unwrap()
    }

    fn sent(text: &str) -> Vec<i16> {
        let mut out = BytesMut::new();
        put_numeric(&mut out, &n(text));
        out.chunks(2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .collect()
    }

    #[test]
    fn binary_layout_is_postgresqls() {
        // [ndigits, weight, sign, dscale, digits...], as PostgreSQL 15's numeric_send.
        assert_eq!(sent("0"), [0, 0, 0, 0]);
        assert_eq!(sent("0.00"), [0, 0, 0, 2]);
        assert_eq!(sent("1.50"), [2, 0, 0, 2, 1, 5000]);
        assert_eq!(sent("-12345.678"), [3, 1, 0x4000, 3, 1, 2345, 6780]);
        assert_eq!(sent("10000"), [1, 1, 0, 0, 1]);
        assert_eq!(sent("0.0001"), [1, -1, 0, 4, 1]);
        assert_eq!(sent("0.00001"), [1, -2, 0, 5, 1000]);
    }

    #[test]
    fn binary_round_trips_and_refuses_bad_input() {
        for text in [
            "0",
            "1.50",
            "-12345.678",
            "10000",
            "0.00001",
            "123456789012345678901234567890.5",
        ] {
            let mut out = BytesMut::new();
            put_numeric(&mut out, &n(text));
            assert_eq!(decode_numeric(&out).unwrap().to_string(), text);
        }
        // NaN, a digit of 10000, a short message.
        assert!(decode_numeric(&[0, 0, 0, 0, 0xC0, 0, 0, 0]).is_err());
        assert!(decode_numeric(&[0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10]).is_err());
        assert!(decode_numeric(&[0, 1, 0, 0]).is_err());
        // Digits below dscale are truncated away: 1.2345 sent with dscale 2 is 1.23.
        let truncated = [0, 2, 0, 0, 0, 0, 0, 2, 0, 1, 0x09, 0x29];
        assert_eq!(decode_numeric(&truncated).unwrap().to_string(), "1.23");
    }
}
