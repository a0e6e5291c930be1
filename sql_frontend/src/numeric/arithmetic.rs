//! NUMERIC arithmetic with PostgreSQL's result scales (see the module comment of
//! `numeric/mod.rs`): each function is the PostgreSQL operator or function of the same
//! name on two (or one) NUMERIC values.

use engine::keycode::pow10;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::{Numeric, make};
use crate::error::{Error, Result};

/// PostgreSQL's `NUMERIC_MIN_SIG_DIGITS`: a quotient has at least this many significant
/// digits.
const MIN_SIG_DIGITS: i64 = 16;
/// PostgreSQL's `NUMERIC_MAX_DISPLAY_SCALE`: the greatest scale a quotient gets.
const MAX_DISPLAY_SCALE: i64 = 1000;
/// PostgreSQL's `NUMERIC_MAX_RESULT_SCALE`: `round(x, n)` clamps `n` to ± this.
const MAX_RESULT_SCALE: i64 = 2000;
/// Decimal digits per digit of PostgreSQL's base-10000 NUMERIC, which its scale rule for
/// division counts in.
const DEC_DIGITS: i64 = 4;

fn division_by_zero() -> Error {
    Error::Data("division by zero".into())
}

/// The two mantissas brought to the larger scale, and that scale.
fn aligned(a: &Numeric, b: &Numeric) -> (BigInt, BigInt, u32) {
    let scale = a.scale().max(b.scale());
    let widen = |n: &Numeric| match n.scale() == scale {
        true => n.mantissa().clone(),
        false => n.mantissa() * pow10(scale - n.scale()),
    };
    (widen(a), widen(b), scale)
}

pub fn add(a: &Numeric, b: &Numeric) -> Result<Numeric> {
    let (x, y, scale) = aligned(a, b);
    make(x + y, scale)
}

pub fn sub(a: &Numeric, b: &Numeric) -> Result<Numeric> {
    let (x, y, scale) = aligned(a, b);
    make(x - y, scale)
}

pub fn mul(a: &Numeric, b: &Numeric) -> Result<Numeric> {
    make(a.mantissa() * b.mantissa(), a.scale() + b.scale())
}

/// `a % b`: the remainder of truncated division, at the larger scale.
pub fn rem(a: &Numeric, b: &Numeric) -> Result<Numeric> {
    if b.is_zero() {
        return Err(division_by_zero());
    }
    let (x, y, scale) = aligned(a, b);
    make(x % y, scale)
}

pub fn neg(a: &Numeric) -> Result<Numeric> {
    make(-a.mantissa(), a.scale())
}

pub fn abs(a: &Numeric) -> Result<Numeric> {
    make(a.mantissa().abs(), a.scale())
}

/// `sign(a)`: -1, 0 or 1, scale 0.
pub fn sign(a: &Numeric) -> Numeric {
    Numeric::from_i64(i64::from(a.signum()))
}

/// The base-10000 weight and first digit of `n`'s absolute value, as PostgreSQL's
/// `select_div_scale` reads them off its digits: `|n| = first · 10000^weight + less`.
fn base_10000_lead(n: &Numeric) -> (i64, i64) {
    if n.is_zero() {
        return (0, 0);
    }
    let digits = engine::keycode::digit_count(n.mantissa().magnitude()) as i64;
    // The first digit's place, 10^place, and the base-10000 digit it falls in.
    let place = digits - 1 - i64::from(n.scale());
    let weight = place.div_euclid(DEC_DIGITS);
    // first = floor(|n| / 10000^weight) = |mantissa| / 10^(scale + 4·weight).
    let shift = i64::from(n.scale()) + DEC_DIGITS * weight;
    let magnitude = BigInt::from(n.mantissa().magnitude().clone());
    let first = match shift >= 0 {
        true => magnitude / pow10(shift as u32),
        false => magnitude * pow10((-shift) as u32),
    };
    (weight, first.to_i64().unwrap_or(0))
}

/// The scale of `a / b`: PostgreSQL's `select_div_scale` (see the module comment).
pub fn div_scale(a: &Numeric, b: &Numeric) -> u32 {
    let (weight1, first1) = base_10000_lead(a);
    let (weight2, first2) = base_10000_lead(b);
    let mut quotient_weight = weight1 - weight2;
    if first1 <= first2 {
        quotient_weight -= 1;
    }
    let scale = (MIN_SIG_DIGITS - quotient_weight * DEC_DIGITS)
        .max(i64::from(a.scale()))
        .max(i64::from(b.scale()))
        .clamp(0, MAX_DISPLAY_SCALE);
    scale as u32
}

/// `a / b` at [`div_scale`], the last digit rounded half away from zero.
pub fn div(a: &Numeric, b: &Numeric) -> Result<Numeric> {
    if b.is_zero() {
        return Err(division_by_zero());
    }
    let scale = div_scale(a, b);
    // a / b · 10^scale = (ma / 10^sa) / (mb / 10^sb) · 10^scale; scale >= sa.
    let numerator = a.mantissa() * pow10(scale + b.scale() - a.scale());
    make(divide_rounded(&numerator, b.mantissa()), scale)
}

/// `n / d` rounded half away from zero (`d` not zero).
fn divide_rounded(n: &BigInt, d: &BigInt) -> BigInt {
    let (quotient, remainder) = n.div_rem(d);
    if (remainder.abs() * 2u8) < d.abs() {
        return quotient;
    }
    match n.is_negative() == d.is_negative() {
        true => quotient + 1u8,
        false => quotient - 1u8,
    }
}

/// How [`rescale`] drops digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drop {
    /// Half away from zero.
    Round,
    /// Towards zero.
    Truncate,
    /// Towards +infinity.
    Ceil,
    /// Towards -infinity.
    Floor,
}

/// `a` with `digits` digits after the point (negative: rounded to tens, hundreds ...,
/// shown with scale 0), dropping digits as `how` says.
fn rescale(a: &Numeric, digits: i64, how: Drop) -> Result<Numeric> {
    let digits = digits.clamp(-MAX_RESULT_SCALE, MAX_RESULT_SCALE);
    let scale = i64::from(a.scale());
    if digits >= scale {
        return make(a.mantissa() * pow10((digits - scale) as u32), digits as u32);
    }
    let divisor = pow10((scale - digits) as u32);
    let (mut quotient, remainder) = a.mantissa().div_rem(&divisor);
    if !remainder.is_zero() {
        let away = match how {
            Drop::Round => remainder.abs() * 2u8 >= divisor,
            Drop::Truncate => false,
            Drop::Ceil => remainder.is_positive(),
            Drop::Floor => remainder.is_negative(),
        };
        if away {
            quotient += match remainder.is_negative() {
                true => -BigInt::one(),
                false => BigInt::one(),
            };
        }
    }
    match digits >= 0 {
        true => make(quotient, digits as u32),
        false => make(quotient * pow10((-digits) as u32), 0),
    }
}

/// `round(a, digits)`: half away from zero; the result's scale is `digits` (0 if
/// negative).
pub fn round(a: &Numeric, digits: i64) -> Result<Numeric> {
    rescale(a, digits, Drop::Round)
}

/// `trunc(a, digits)`: towards zero, scale as for [`round`].
pub fn trunc(a: &Numeric, digits: i64) -> Result<Numeric> {
    rescale(a, digits, Drop::Truncate)
}

/// `ceil(a)`: the smallest integer not below `a`, scale 0.
pub fn ceil(a: &Numeric) -> Result<Numeric> {
    rescale(a, 0, Drop::Ceil)
}

/// `floor(a)`: the largest integer not above `a`, scale 0.
pub fn floor(a: &Numeric) -> Result<Numeric> {
    rescale(a, 0, Drop::Floor)
}
