//! [`Numeric`]: an exact decimal number, SQL's NUMERIC, as rows store it and keys order it.
//!
//! ## Representation, and why this crate
//!
//! A value is an arbitrary-precision integer *mantissa* and a *scale* `s >= 0`: the
//! number `mantissa / 10^s`. The scale is PostgreSQL's display scale, part of the value
//! the user sees: `1.50` is mantissa 150, scale 2, and prints as `1.50`, while `1.5`
//! (15, 1) prints as `1.5`. The two are *equal* — order, equality and hash look only at
//! the number — exactly as PostgreSQL's NUMERIC compares, groups and indexes them.
//!
//! The mantissa is a `num_bigint::BigInt`. PostgreSQL's NUMERIC holds up to
//! [`MAX_INTEGER_DIGITS`] (131072) digits before the point and [`MAX_SCALE`] (16383)
//! after it, far beyond what a fixed-width decimal holds (`rust_decimal`'s 96-bit
//! mantissa has 28 digits, a 256-bit one 77), so a bounded crate would turn
//! PostgreSQL's `SELECT 2::numeric ^ 200` territory into errors. `num-bigint` is the
//! ecosystem's long-kept big integer (rust-num, no `unsafe` C, two small dependencies,
//! `num-integer` and `num-traits`), and an integer plus a scale is all a decimal needs:
//! the SQL layer (`sql_frontend/src/numeric/`) does PostgreSQL's scale rules on top.
//! Crates that are decimals already (`bigdecimal`) bring their own rounding and scale
//! conventions, which would have to be fought to give PostgreSQL's. [`Numeric::new`]
//! refuses values past PostgreSQL's bounds, so every value here is one PostgreSQL can
//! hold. NaN and ±Infinity (which PostgreSQL 14 added to NUMERIC) are not values here.
//!
//! ## Stored in a row
//!
//! `[scale: varint][mantissa: varint length + two's-complement bytes, little-endian]`
//! (`table/row.rs`): exact, scale included, so a row reads back as it was written.
//!
//! ## Encoded in a key
//!
//! The key must order by value and give *equal bytes to equal values* (a UNIQUE index
//! finds `1.0` and `1.00` to be the same key, as PostgreSQL's does), so the key holds the
//! number without its display scale. Write the absolute value as `0.d1 d2 … dn × 10^E`
//! with `d1 != 0` and `dn != 0` (trailing zeros dropped); then:
//!
//! | value    | bytes after the tag                                                 |
//! |----------|---------------------------------------------------------------------|
//! | zero     | `02`                                                                |
//! | positive | `03`, E as 4 bytes big-endian with the sign bit flipped, the digits in pairs, one byte `1 + 10·a + b` per pair `(a, b)` (the last pair padded with `b = 0`), then `00` |
//! | negative | `01`, then the positive encoding's bytes after its `03`, each complemented |
//!
//! Positive numbers order first by E (more digits before the point is larger, since
//! `d1 != 0`), then by their digits read as a fraction, which is the byte order of
//! the pairs: each pair byte is in `1..=100` and the terminator `00` is below them all,
//! so a number whose digits are a prefix of another's (`0.12` against `0.123`) sorts
//! first. Complementing reverses that order for negatives, and `01 < 02 < 03` puts
//! negatives below zero below positives. The encoding is prefix-free (it ends at its
//! terminator), so it sits inside a tuple like any other value. Decoding gives the value
//! at the smallest scale that holds it (`1.50` reads back as `1.5`): an index key loses
//! the display scale, so the table layer never answers a NUMERIC column from an index
//! key alone (`ops::index_covers`) — the row has it.
//!
//! (The keycode unit test `worked_example_bytes` checks these.)
//!
//! | value   | bytes (tag `28` first)         |
//! |---------|--------------------------------|
//! | `0`     | `28 02`                        |
//! | `1.5`   | `28 03 80 00 00 01 10 00`      |
//! | `-1.5`  | `28 01 7F FF FF FE EF FF`      |
//! | `100`   | `28 03 80 00 00 03 0B 00`      |

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use num_bigint::{BigInt, BigUint, Sign};
use num_traits::{Signed, ToPrimitive, Zero};

/// The most digits after the decimal point (PostgreSQL's `NUMERIC_DSCALE_MAX`).
pub const MAX_SCALE: u32 = 16_383;
/// The most digits before the decimal point (PostgreSQL's NUMERIC limit).
pub const MAX_INTEGER_DIGITS: u64 = 131_072;

/// Key payload bytes: the class of a number, before its exponent and digits.
mod class {
    pub(super) const NEGATIVE: u8 = 0x01;
    pub(super) const ZERO: u8 = 0x02;
    pub(super) const POSITIVE: u8 = 0x03;
}
/// Ends the digit pairs of a key.
const DIGITS_END: u8 = 0x00;
/// The sign bit of the key's exponent, flipped so that signed order is byte order.
const EXPONENT_SIGN_BIT: u32 = 1 << 31;

/// An exact decimal: `mantissa / 10^scale` (see the module header).
#[derive(Debug, Clone)]
pub struct Numeric {
    mantissa: BigInt,
    scale: u32,
}

/// Why text is not a NUMERIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumericParseError {
    /// Not a decimal number (`invalid input syntax for type numeric`).
    Syntax,
    /// `NaN`, `Infinity` or `-Infinity`: PostgreSQL's special values, not held here.
    NotFinite,
    /// A number past NUMERIC's bounds.
    Overflow,
}

/// `10^n`.
pub fn pow10(n: u32) -> BigInt {
    num_traits::pow(BigInt::from(10u8), n as usize)
}

/// The number of decimal digits of `n` (1 for zero).
pub fn digit_count(n: &BigUint) -> u64 {
    match n.to_u64() {
        Some(small) => u64::from(small.checked_ilog10().unwrap_or(0)) + 1,
        None => n.to_str_radix(10).len() as u64,
    }
}

impl Numeric {
    /// `mantissa / 10^scale`; `None` past PostgreSQL's bounds ([`MAX_SCALE`] digits
    /// after the point, [`MAX_INTEGER_DIGITS`] before it).
    pub fn new(mantissa: BigInt, scale: u32) -> Option<Numeric> {
        if scale > MAX_SCALE {
            return None;
        }
        // A cheap bound first: a mantissa of b bits has at most b·log10(2) + 1 digits.
        let bits = mantissa.bits();
        let rough_digits = bits * 30_103 / 100_000 + 1;
        if rough_digits > MAX_INTEGER_DIGITS + u64::from(scale)
            && digit_count(mantissa.magnitude()) > MAX_INTEGER_DIGITS + u64::from(scale)
        {
            return None;
        }
        Some(Numeric { mantissa, scale })
    }

    /// An integer, scale 0.
    pub fn from_i64(i: i64) -> Numeric {
        Numeric {
            mantissa: BigInt::from(i),
            scale: 0,
        }
    }

    /// The integer `mantissa` of `mantissa / 10^scale`.
    pub fn mantissa(&self) -> &BigInt {
        &self.mantissa
    }

    /// The number of digits after the point (the display scale).
    pub fn scale(&self) -> u32 {
        self.scale
    }

    /// Whether the value is zero (at any scale).
    pub fn is_zero(&self) -> bool {
        self.mantissa.is_zero()
    }

    /// -1, 0 or 1.
    pub fn signum(&self) -> i32 {
        match self.mantissa.sign() {
            Sign::Minus => -1,
            Sign::NoSign => 0,
            Sign::Plus => 1,
        }
    }

    /// The number of digits before the point, not counting leading zeros (0 for `0.5`).
    pub fn integer_digits(&self) -> u64 {
        if self.mantissa.is_zero() {
            return 0;
        }
        digit_count(self.mantissa.magnitude()).saturating_sub(u64::from(self.scale))
    }

    /// Parses PostgreSQL's NUMERIC input: optional blanks, sign, digits with at most one
    /// point, an optional exponent (`1.5e-3`). The scale is the number of digits after
    /// the point less the exponent, at least 0, as PostgreSQL's `numeric_in` gives.
    pub fn parse(text: &str) -> Result<Numeric, NumericParseError> {
        /// PostgreSQL refuses exponents beyond ± its greatest declarable precision.
        const MAX_EXPONENT: i64 = 1000;
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        if matches!(
            lower.trim_start_matches(['+', '-']),
            "nan" | "infinity" | "inf"
        ) {
            return Err(NumericParseError::NotFinite);
        }
        let (negative, rest) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (number, exponent) = match rest.find(['e', 'E']) {
            Some(at) => {
                let exponent: i64 = rest[at + 1..]
                    .parse()
                    .map_err(|_| NumericParseError::Syntax)?;
                if !(-MAX_EXPONENT..=MAX_EXPONENT).contains(&exponent) {
                    return Err(NumericParseError::Syntax);
                }
                (&rest[..at], exponent)
            }
            None => (rest, 0),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.len() + fraction.len() == 0 || !all_digits(whole) || !all_digits(fraction) {
            return Err(NumericParseError::Syntax);
        }
        let digits = format!("{whole}{fraction}");
        let mut mantissa =
            BigInt::parse_bytes(digits.as_bytes(), 10).ok_or(NumericParseError::Syntax)?;
        // mantissa · 10^(exponent − fraction digits)
        let shift = exponent - fraction.len() as i64;
        let scale = match shift {
            s if s >= 0 => {
                mantissa *= pow10(s as u32);
                0
            }
            s => u32::try_from(-s).map_err(|_| NumericParseError::Overflow)?,
        };
        if negative {
            mantissa = -mantissa;
        }
        Numeric::new(mantissa, scale).ok_or(NumericParseError::Overflow)
    }

    /// The value with trailing zeros after the point dropped (`1.500` → `1.5`, `2.0` →
    /// `2`, `0.00` → `0`): the smallest scale that holds it.
    pub fn normalized(&self) -> Numeric {
        if self.is_zero() {
            return Numeric::from_i64(0);
        }
        let (_, zeros) = self.stripped_digits();
        let drop = self.scale.min(u32::try_from(zeros).unwrap_or(u32::MAX));
        Numeric {
            mantissa: &self.mantissa / pow10(drop),
            scale: self.scale - drop,
        }
    }

    /// The decimal digits of the magnitude and how many of them are trailing zeros.
    fn stripped_digits(&self) -> (Vec<u8>, usize) {
        let digits = self.mantissa.magnitude().to_str_radix(10).into_bytes();
        let zeros = digits.iter().rev().take_while(|d| **d == b'0').count();
        (digits, zeros)
    }

    /// This value with `scale` digits after the point; `None` if that would drop
    /// non-zero digits or go past the bounds (callers round first).
    pub fn with_scale(&self, scale: u32) -> Option<Numeric> {
        match scale.cmp(&self.scale) {
            Ordering::Equal => Some(self.clone()),
            Ordering::Greater => Numeric::new(&self.mantissa * pow10(scale - self.scale), scale),
            Ordering::Less => {
                let divisor = pow10(self.scale - scale);
                let mantissa = &self.mantissa / &divisor;
                (&mantissa * &divisor == self.mantissa).then_some(Numeric { mantissa, scale })
            }
        }
    }

    /// Appends the key encoding (module header) to `buf`.
    pub(super) fn encode_key(&self, buf: &mut Vec<u8>) {
        if self.is_zero() {
            buf.push(class::ZERO);
            return;
        }
        let (digits, zeros) = self.stripped_digits();
        let significant = &digits[..digits.len() - zeros];
        // value = 0.significant × 10^E with E = digits before the point.
        let exponent = digits.len() as i64 - i64::from(self.scale);
        let negative = self.mantissa.is_negative();
        buf.push(if negative {
            class::NEGATIVE
        } else {
            class::POSITIVE
        });
        let start = buf.len();
        let exponent = i32::try_from(exponent).unwrap_or(i32::MAX);
        buf.extend_from_slice(&(exponent.cast_unsigned() ^ EXPONENT_SIGN_BIT).to_be_bytes());
        for pair in significant.chunks(2) {
            let a = pair[0] - b'0';
            let b = pair.get(1).map_or(0, |d| d - b'0');
            buf.push(1 + 10 * a + b);
        }
        buf.push(DIGITS_END);
        if negative {
            for byte in &mut buf[start..] {
                *byte = !*byte;
            }
        }
    }

    /// Decodes a key payload (after the tag) from `next`, which yields its bytes
    /// (already un-complemented for a descending column); `Err` names what is wrong.
    pub(super) fn decode_key(
        mut next: impl FnMut() -> Option<u8>,
    ) -> Result<Numeric, &'static str> {
        let negative = match next().ok_or("key ends inside a numeric")? {
            class::ZERO => return Ok(Numeric::from_i64(0)),
            class::NEGATIVE => true,
            class::POSITIVE => false,
            _ => return Err("bad numeric sign byte"),
        };
        let flip = if negative { 0xFF } else { 0x00 };
        let mut byte = || next().map(|b| b ^ flip).ok_or("key ends inside a numeric");
        let mut exponent_bytes = [0u8; 4];
        for slot in &mut exponent_bytes {
            *slot = byte()?;
        }
        let exponent =
            i64::from((u32::from_be_bytes(exponent_bytes) ^ EXPONENT_SIGN_BIT).cast_signed());
        let mut digits = Vec::new();
        loop {
            match byte()? {
                DIGITS_END => break,
                pair @ 1..=100 => {
                    digits.push(b'0' + (pair - 1) / 10);
                    digits.push(b'0' + (pair - 1) % 10);
                }
                _ => return Err("bad numeric digit pair"),
            }
        }
        if digits.last() == Some(&b'0') {
            digits.pop();
        }
        if digits.first().is_none_or(|d| *d == b'0') || digits.last() == Some(&b'0') {
            return Err("numeric digits are not canonical");
        }
        let max_scale = i64::from(MAX_SCALE);
        if exponent > MAX_INTEGER_DIGITS as i64 || exponent - (digits.len() as i64) < -max_scale {
            return Err("numeric exponent out of range");
        }
        let mut mantissa = BigInt::parse_bytes(&digits, 10).ok_or("bad numeric digits")?;
        let scale = digits.len() as i64 - exponent;
        let scale = match scale {
            s if s >= 0 => s as u32,
            s => {
                mantissa *= pow10((-s) as u32);
                0
            }
        };
        if negative {
            mantissa = -mantissa;
        }
        Ok(Numeric { mantissa, scale })
    }
}

impl Ord for Numeric {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = self.signum().cmp(&other.signum());
        if sign != Ordering::Equal || self.scale == other.scale {
            return sign.then_with(|| self.mantissa.cmp(&other.mantissa));
        }
        match self.scale.cmp(&other.scale) {
            Ordering::Less => {
                (&self.mantissa * pow10(other.scale - self.scale)).cmp(&other.mantissa)
            }
            _ => self
                .mantissa
                .cmp(&(&other.mantissa * pow10(self.scale - other.scale))),
        }
    }
}

impl PartialOrd for Numeric {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Numeric {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Numeric {}

impl Hash for Numeric {
    /// Hashes the key encoding, which equal values share.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut bytes = Vec::new();
        self.encode_key(&mut bytes);
        bytes.hash(state);
    }
}

impl fmt::Display for Numeric {
    /// As PostgreSQL prints NUMERIC: every digit, exactly `scale` after the point.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.magnitude().to_str_radix(10);
        if self.mantissa.is_negative() {
            f.write_str("-")?;
        }
        let scale = self.scale as usize;
        if scale == 0 {
            return f.write_str(&digits);
        }
        if digits.len() > scale {
            let (whole, fraction) = digits.split_at(digits.len() - scale);
            write!(f, "{whole}.{fraction}")
        } else {
            write!(f, "0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Numeric {
        Numeric::parse(s).unwrap()
    }

    #[test]
    fn parse_and_print_keep_the_scale() {
        for (text, shown) in [
            ("1.50", "1.50"),
            ("-0.001", "-0.001"),
            ("  42 ", "42"),
            ("+.5", "0.5"),
            ("5.", "5"),
            ("1e5", "100000"),
            ("1.5e-3", "0.0015"),
            ("1.50e1", "15.0"),
            ("-0.00", "0.00"),
        ] {
            assert_eq!(n(text).to_string(), shown, "{text}");
        }
        for bad in ["", ".", "1..2", "1e", "abc", "1e1001", "--1", "1 2"] {
            assert_eq!(
                Numeric::parse(bad),
                Err(NumericParseError::Syntax),
                "{bad:?}"
            );
        }
        assert_eq!(Numeric::parse("NaN"), Err(NumericParseError::NotFinite));
        assert_eq!(
            Numeric::parse("-Infinity"),
            Err(NumericParseError::NotFinite)
        );
    }

    #[test]
    fn equal_values_at_different_scales_are_equal() {
        assert_eq!(n("1.0"), n("1.00"));
        assert!(n("1.01") > n("1.001"));
        assert!(n("-2") < n("-1.99"));
        assert_eq!(n("1.500").normalized().to_string(), "1.5");
        assert_eq!(n("100").normalized().to_string(), "100");
        assert_eq!(
            n("2.50").with_scale(1).map(|v| v.to_string()),
            Some("2.5".into())
        );
        assert_eq!(n("2.55").with_scale(1), None);
    }

    #[test]
    fn bounds_are_postgresqls() {
        assert!(Numeric::new(BigInt::from(1), MAX_SCALE).is_some());
        assert!(Numeric::new(BigInt::from(1), MAX_SCALE + 1).is_none());
        assert!(Numeric::new(pow10(MAX_INTEGER_DIGITS as u32 - 1), 0).is_some());
        assert!(Numeric::new(pow10(MAX_INTEGER_DIGITS as u32), 0).is_none());
    }
}
