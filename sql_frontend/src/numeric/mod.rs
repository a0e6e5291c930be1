//! NUMERIC in SQL: PostgreSQL's exact decimal arithmetic, rounding and conversions.
//!
//! The value type is the engine's [`Numeric`] (`engine/src/keycode/numeric.rs`): an
//! arbitrary-precision integer mantissa and a display scale, `mantissa / 10^scale`,
//! within PostgreSQL's bounds (131072 digits before the point, 16383 after; a result
//! past them is `value overflows numeric format`, SQLSTATE 22003). That module says why
//! the mantissa is `num-bigint`'s. This one gives the SQL meaning, following PostgreSQL
//! 15's `numeric.c` rule for rule, so results print with PostgreSQL's digits:
//!
//! - **Result scales.** `a + b`, `a - b` and `a % b` have the larger of the operands'
//!   scales (`1.5 + 1.25` is `2.75`, `1.50 + 1` is `2.50`); `a * b` the sum of them
//!   (`1.5 * 1.5` is `2.25`), so no digit is ever lost; `a / b` the scale PostgreSQL's
//!   `select_div_scale` picks: enough for at least 16 significant digits, never less
//!   than either operand's scale, at most 1000 (`1 / 3` is `0.33333333333333333333`,
//!   `10 / 4.0` is `2.5000000000000000`), the last digit rounded half away from zero.
//!   `%` is the remainder of truncated division (its sign is the dividend's).
//! - **Rounding** is half away from zero everywhere (`round(2.5)` is 3, `round(-2.5)`
//!   -3), as in the assignment to a `NUMERIC(p, s)` column, which rounds to `s` digits
//!   ([`apply_typmod`]) and then refuses a value with more than `p - s` digits before
//!   the point: `numeric field overflow` (22003) with PostgreSQL's detail
//!   (`A field with precision 5, scale 2 must round to an absolute value less than
//!   10^3.`).
//! - **Conversions.** An integer is a NUMERIC of scale 0; a NUMERIC to an integer rounds
//!   half away from zero and is `bigint out of range` (or `integer`, `smallint`) past
//!   the target. A NUMERIC to a double is the nearest double (through its text, as
//!   PostgreSQL's `numeric_float8`); a double to NUMERIC keeps 15 significant digits
//!   (`%.15g`, PostgreSQL's `float8_numeric`), so `0.1::float8::numeric` is `0.1`.
//!   Text parses as PostgreSQL's `numeric_in` (`Numeric::parse`).
//!
//! Where NUMERIC meets the other number types (`operators.rs`, `bind/`), PostgreSQL's
//! implicit casts decide: an integer becomes NUMERIC, a NUMERIC meeting a double becomes
//! a double.
//!
//! Not here: NaN and ±Infinity (PostgreSQL has them; text `'NaN'` and a non-finite
//! double are refused as not supported, 0A000), and NUMERIC versions of `power`,
//! `sqrt`, `exp`, `ln` (they compute in double precision).

mod arithmetic;
mod convert;

pub use arithmetic::{
    abs, add, ceil, div, div_scale, floor, mul, neg, rem, round, sign, sub, trunc,
};
pub use convert::{from_f64, from_text, to_f64, to_i64};
pub use engine::keycode::Numeric;
use engine::keycode::digit_count;

use num_bigint::BigInt;

use crate::error::{Error, Result};

/// PostgreSQL's greatest declarable precision, `NUMERIC(1000, s)`.
pub const MAX_PRECISION: u32 = 1000;
/// The scale range of a declared `NUMERIC(p, s)` in PostgreSQL 15.
pub const MIN_TYPMOD_SCALE: i32 = -1000;
pub const MAX_TYPMOD_SCALE: i32 = 1000;

/// A declared `NUMERIC(precision, scale)`, checked as PostgreSQL's `numerictypmodin`
/// checks it (precision 1..=1000, scale -1000..=1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Typmod {
    pub precision: u32,
    pub scale: i32,
}

impl Typmod {
    /// `NUMERIC(precision, scale)`, or PostgreSQL's error (22023) for one out of range.
    pub fn new(precision: u64, scale: i64) -> Result<Typmod> {
        let precision = u32::try_from(precision)
            .ok()
            .filter(|p| (1..=MAX_PRECISION).contains(p))
            .ok_or_else(|| {
                Error::Type(format!(
                    "NUMERIC precision {precision} must be between 1 and {MAX_PRECISION}"
                ))
            })?;
        let scale = i32::try_from(scale)
            .ok()
            .filter(|s| (MIN_TYPMOD_SCALE..=MAX_TYPMOD_SCALE).contains(s))
            .ok_or_else(|| {
                Error::Type(format!(
                    "NUMERIC scale {scale} must be between {MIN_TYPMOD_SCALE} and \
                     {MAX_TYPMOD_SCALE}"
                ))
            })?;
        Ok(Typmod { precision, scale })
    }
}

/// `value overflows numeric format`: a result past NUMERIC's bounds.
pub fn overflow() -> Error {
    Error::Data("value overflows numeric format".into())
}

/// `mantissa / 10^scale`, or [`overflow`] past NUMERIC's bounds.
pub(crate) fn make(mantissa: BigInt, scale: u32) -> Result<Numeric> {
    Numeric::new(mantissa, scale).ok_or_else(overflow)
}

/// `value` stored into a `NUMERIC(p, s)` column: rounded to `s` digits after the point,
/// then refused if it has more than `p - s` before it (see the module comment).
pub fn apply_typmod(value: &Numeric, typmod: Typmod) -> Result<Numeric> {
    let rounded = round(value, i64::from(typmod.scale))?;
    let max_digits = i64::from(typmod.precision) - i64::from(typmod.scale);
    // |rounded| < 10^max_digits, i.e. its first digit's place is below 10^max_digits.
    let places = digit_count(rounded.mantissa().magnitude()) as i64 - i64::from(rounded.scale());
    if !rounded.is_zero() && places > max_digits {
        return Err(Error::NumericFieldOverflow {
            precision: typmod.precision,
            scale: typmod.scale,
        });
    }
    Ok(rounded)
}

#[cfg(test)]
mod tests;
