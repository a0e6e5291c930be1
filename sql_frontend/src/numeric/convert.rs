//! NUMERIC to and from integers, doubles and text (see the module comment of
//! `numeric/mod.rs` for PostgreSQL's rules these follow).

use num_traits::ToPrimitive;

use super::{Numeric, overflow, round};
use crate::error::{Error, Result};
use engine::keycode::NumericParseError;

/// The error for NaN and infinities, which hdb's NUMERIC does not hold.
fn not_finite() -> Error {
    Error::Data("NaN and infinity are not supported for type numeric".into())
}

/// Text as NUMERIC, as PostgreSQL's `numeric_in` reads it.
pub fn from_text(text: &str) -> Result<Numeric> {
    Numeric::parse(text).map_err(|e| match e {
        NumericParseError::Syntax => {
            Error::Data(format!("invalid input syntax for type numeric: {text:?}"))
        }
        NumericParseError::NotFinite => not_finite(),
        NumericParseError::Overflow => overflow(),
    })
}

/// A double as NUMERIC: its 15 significant digits (`%.15g`, as PostgreSQL's
/// `float8_numeric`), trailing zeros after the point dropped.
pub fn from_f64(f: f64) -> Result<Numeric> {
    if !f.is_finite() {
        return Err(not_finite());
    }
    // 15 significant digits: one before the point and 14 after, in scientific form.
    let text = format!("{f:.14e}");
    Ok(from_text(&text)?.normalized())
}

/// The nearest double (PostgreSQL reads the NUMERIC's text with `strtod`); a value
/// beyond the doubles is out of range.
pub fn to_f64(n: &Numeric) -> Result<f64> {
    let f: f64 = n
        .to_string()
        .parse()
        .map_err(|_| Error::Data("value out of range: overflow".into()))?;
    match f.is_finite() {
        true => Ok(f),
        false => Err(Error::Data("value out of range: overflow".into())),
    }
}

/// Rounded half away from zero to an integer; `None` past 64 bits.
pub fn to_i64(n: &Numeric) -> Result<Option<i64>> {
    Ok(round(n, 0)?.mantissa().to_i64())
}
