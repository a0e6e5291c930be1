//! [`KeyValue`]: one typed value of a key tuple, with the total order the encoding keeps.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use super::numeric::Numeric;
use super::tag;

/// Microseconds in the day and the month by which intervals are compared.
pub(super) const MICROS_PER_DAY: i128 = 86_400_000_000;
pub(super) const MICROS_PER_MONTH: i128 = 30 * MICROS_PER_DAY;

/// The bit pattern every NaN is stored as: the positive quiet NaN.
pub(super) const CANONICAL_NAN_BITS: u64 = 0x7FF8_0000_0000_0000;

/// One value of a key tuple.
///
/// `Ord` is the SQL order described in the [module header](super): NULL first, then types
/// in tag order, and within a type the natural order (floats totally ordered, with
/// `-0.0 == 0.0` and every NaN equal and greatest). `Eq` and `Hash` agree with `Ord`.
#[derive(Debug, Clone)]
pub enum KeyValue {
    /// SQL NULL.
    Null,
    /// A boolean; `false < true`.
    Bool(bool),
    /// A signed integer (also used for SQL's smaller integer types).
    Int(i64),
    /// An exact decimal (SQL's NUMERIC); equal values at different scales are equal.
    /// Boxed, so that a key value stays four words (the mantissa and scale would
    /// make it five).
    Numeric(Box<Numeric>),
    /// A double-precision float.
    Float(f64),
    /// A calendar date: days since 1970-01-01.
    Date(i32),
    /// A point in time: microseconds since 1970-01-01 00:00:00 UTC.
    Timestamp(i64),
    /// UTF-8 text, ordered by bytes (the "C" collation).
    Text(String),
    /// A byte string, ordered by bytes.
    Bytes(Vec<u8>),
    /// A span of time in three fields kept apart (PostgreSQL's interval), ordered and
    /// compared by its length with a month of 30 days and a day of 24 hours
    /// ([`KeyValue::interval_span`]): `1 month` equals `30 days`, as in PostgreSQL,
    /// although the two are different values. See the [module header](super).
    Interval { months: i32, days: i32, micros: i64 },
}

impl KeyValue {
    /// The tag byte of this value's type (NULL: the NULLS FIRST tag); types order by it.
    pub(super) fn tag(&self) -> u8 {
        match self {
            KeyValue::Null => tag::NULL_FIRST,
            KeyValue::Bool(_) => tag::BOOL,
            KeyValue::Int(_) => tag::INT,
            KeyValue::Numeric(_) => tag::NUMERIC,
            KeyValue::Float(_) => tag::FLOAT,
            KeyValue::Date(_) => tag::DATE,
            KeyValue::Timestamp(_) => tag::TIMESTAMP,
            KeyValue::Text(_) => tag::TEXT,
            KeyValue::Bytes(_) => tag::BYTES,
            KeyValue::Interval { .. } => tag::INTERVAL,
        }
    }

    /// An interval's length in microseconds, with a month of 30 days and a day of 24
    /// hours (PostgreSQL's `interval_cmp_value`); the order and equality of intervals.
    pub fn interval_span(months: i32, days: i32, micros: i64) -> i128 {
        i128::from(months) * MICROS_PER_MONTH
            + i128::from(days) * MICROS_PER_DAY
            + i128::from(micros)
    }

    /// Whether this is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, KeyValue::Null)
    }
}

/// The float a key stores for `f`: `-0.0` becomes `0.0` and every NaN the canonical NaN, so
/// that values equal under the key order have equal bits.
pub(super) fn canonical_float(f: f64) -> f64 {
    if f.is_nan() {
        f64::from_bits(CANONICAL_NAN_BITS)
    } else if f == 0.0 {
        0.0
    } else {
        f
    }
}

impl Ord for KeyValue {
    fn cmp(&self, other: &Self) -> Ordering {
        use KeyValue::*;
        match (self, other) {
            (Null, Null) => Ordering::Equal,
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Numeric(a), Numeric(b)) => a.cmp(b),
            // After canonicalisation, IEEE total order is exactly our order: the one NaN
            // left is positive, so it sorts above +inf.
            (Float(a), Float(b)) => canonical_float(*a).total_cmp(&canonical_float(*b)),
            (Date(a), Date(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (Text(a), Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Bytes(a), Bytes(b)) => a.cmp(b),
            (
                Interval {
                    months,
                    days,
                    micros,
                },
                Interval {
                    months: m,
                    days: d,
                    micros: u,
                },
            ) => KeyValue::interval_span(*months, *days, *micros)
                .cmp(&KeyValue::interval_span(*m, *d, *u)),
            (a, b) => a.tag().cmp(&b.tag()),
        }
    }
}

impl PartialOrd for KeyValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for KeyValue {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for KeyValue {}

impl Hash for KeyValue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.tag().hash(state);
        match self {
            KeyValue::Null => {}
            KeyValue::Bool(b) => b.hash(state),
            KeyValue::Int(i) | KeyValue::Timestamp(i) => i.hash(state),
            KeyValue::Numeric(n) => n.hash(state),
            KeyValue::Float(f) => canonical_float(*f).to_bits().hash(state),
            KeyValue::Date(d) => d.hash(state),
            KeyValue::Text(s) => s.hash(state),
            KeyValue::Bytes(b) => b.hash(state),
            KeyValue::Interval {
                months,
                days,
                micros,
            } => KeyValue::interval_span(*months, *days, *micros).hash(state),
        }
    }
}

impl From<bool> for KeyValue {
    fn from(v: bool) -> Self {
        KeyValue::Bool(v)
    }
}

impl From<i64> for KeyValue {
    fn from(v: i64) -> Self {
        KeyValue::Int(v)
    }
}

impl From<i32> for KeyValue {
    fn from(v: i32) -> Self {
        KeyValue::Int(i64::from(v))
    }
}

impl From<f64> for KeyValue {
    fn from(v: f64) -> Self {
        KeyValue::Float(v)
    }
}

impl From<&str> for KeyValue {
    fn from(v: &str) -> Self {
        KeyValue::Text(v.to_owned())
    }
}

impl From<String> for KeyValue {
    fn from(v: String) -> Self {
        KeyValue::Text(v)
    }
}

impl From<Vec<u8>> for KeyValue {
    fn from(v: Vec<u8>) -> Self {
        KeyValue::Bytes(v)
    }
}

impl From<&[u8]> for KeyValue {
    fn from(v: &[u8]) -> Self {
        KeyValue::Bytes(v.to_vec())
    }
}

impl<T: Into<KeyValue>> From<Option<T>> for KeyValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(KeyValue::Null, Into::into)
    }
}
