//! SQL values, three-valued logic, and the conversion to and from the engine's values.
//!
//! A [`Value`] is what an expression evaluates to and what a result row holds. NULL is a
//! value of every type; comparisons involving NULL are *unknown*, which this module
//! represents as `None` in an `Option<bool>` ("a truth value"). [`and`], [`or`] and
//! [`not`] implement SQL's three-valued truth tables on truth values, and a WHERE clause
//! keeps a row only when its predicate is `Some(true)`.
//!
//! Integers are `i64` whatever their declared SQL type (the declared range is checked when
//! a value is stored, see `types.rs`); REAL and DOUBLE PRECISION are both `f64`; NUMERIC
//! is an exact decimal ([`Numeric`], see `numeric/`), equal at any scale (`1.0 = 1.00`).
//! Comparing an integer, a NUMERIC and a float compares them as numbers (an integer
//! with a NUMERIC exactly, a NUMERIC with a float as floats, PostgreSQL's implicit
//! casts); any other mix of types is a type error (the binder casts string literals to the other side's type first, as
//! PostgreSQL does with its "unknown" literals). A DATE compares with a TIMESTAMP as its
//! midnight; intervals compare by their length with a month of 30 days. BYTEA values
//! compare bytewise (a proper prefix first), and so do UUIDs (as PostgreSQL's `memcmp`).
//!
//! ## From the engine's values
//!
//! The engine stores a BYTEA and a UUID alike, as `Bytes`; only the column's SQL type
//! tells them apart. So [`Value::from_key`] takes the kind the value is read as (a
//! column's [`crate::types::SqlType::kind`]), and every place that reads stored rows
//! passes its columns' kinds ([`crate::catalog::TableInfo::values`]).
//!
//! Every value carries its kind, and the binder gives every expression one kind (CASE,
//! COALESCE and friends cast their branches to a common one), so all the non-NULL
//! values of a result column have the same kind: a renderer can tell an integer column
//! from a float one by looking at any value.

use std::cmp::Ordering;
use std::fmt;

use engine::keycode::KeyValue;

use crate::bytea::format_bytea;
use crate::datetime::{format_date, format_timestamp};
use crate::error::{Error, Result};
use crate::interval::Interval;
use crate::numeric::Numeric;
use crate::uuid::format_uuid;

/// One SQL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// An exact decimal with its display scale (SQL's NUMERIC / DECIMAL).
    /// Boxed, so that a `Value` stays four words: the big-integer mantissa and the
    /// scale would make every value of every row half as large again.
    Numeric(Box<Numeric>),
    Text(String),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since 1970-01-01 00:00:00.
    Timestamp(i64),
    /// A span of time.
    Interval(Interval),
    /// A byte string (BYTEA).
    Bytea(Vec<u8>),
    /// A UUID: its 16 bytes as a big-endian integer, so that integer order is byte order.
    Uuid(u128),
}

/// The runtime kind of a value, and the static type the binder infers for an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Bool,
    Int,
    Float,
    Numeric,
    Text,
    Date,
    Timestamp,
    Interval,
    Bytea,
    Uuid,
    /// A NULL literal or an untyped parameter: could be anything.
    Unknown,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Bool => "boolean",
            Kind::Int => "bigint",
            Kind::Float => "double precision",
            Kind::Numeric => "numeric",
            Kind::Text => "text",
            Kind::Date => "date",
            Kind::Timestamp => "timestamp",
            Kind::Interval => "interval",
            Kind::Bytea => "bytea",
            Kind::Uuid => "uuid",
            Kind::Unknown => "unknown",
        })
    }
}

impl Value {
    /// A NUMERIC value (boxed: see [`Value::Numeric`]).
    pub fn numeric(n: Numeric) -> Value {
        Value::Numeric(Box::new(n))
    }

    /// This value's kind (`Unknown` for NULL).
    pub fn kind(&self) -> Kind {
        match self {
            Value::Null => Kind::Unknown,
            Value::Bool(_) => Kind::Bool,
            Value::Int(_) => Kind::Int,
            Value::Float(_) => Kind::Float,
            Value::Numeric(_) => Kind::Numeric,
            Value::Text(_) => Kind::Text,
            Value::Date(_) => Kind::Date,
            Value::Timestamp(_) => Kind::Timestamp,
            Value::Interval(_) => Kind::Interval,
            Value::Bytea(_) => Kind::Bytea,
            Value::Uuid(_) => Kind::Uuid,
        }
    }

    /// Whether this is NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as a truth value: NULL is unknown, anything but a boolean is an error.
    pub fn truth(&self) -> Result<Option<bool>> {
        match self {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            other => Err(Error::Type(format!(
                "argument must be boolean, not {}",
                other.kind()
            ))),
        }
    }

    /// The engine's form of this value.
    pub fn to_key(&self) -> KeyValue {
        match self {
            Value::Null => KeyValue::Null,
            Value::Bool(b) => KeyValue::Bool(*b),
            Value::Int(i) => KeyValue::Int(*i),
            Value::Float(f) => KeyValue::Float(*f),
            Value::Numeric(n) => KeyValue::Numeric(n.clone()),
            Value::Text(s) => KeyValue::Text(s.clone()),
            Value::Date(d) => KeyValue::Date(*d),
            Value::Timestamp(t) => KeyValue::Timestamp(*t),
            Value::Interval(i) => KeyValue::Interval {
                months: i.months,
                days: i.days,
                micros: i.micros,
            },
            Value::Bytea(b) => KeyValue::Bytes(b.clone()),
            Value::Uuid(u) => KeyValue::Bytes(u.to_be_bytes().to_vec()),
        }
    }

    /// [`Value::to_key`], moving a string instead of copying it.
    pub fn into_key(self) -> KeyValue {
        match self {
            Value::Text(s) => KeyValue::Text(s),
            Value::Bytea(b) => KeyValue::Bytes(b),
            Value::Numeric(n) => KeyValue::Numeric(n),
            other => other.to_key(),
        }
    }

    /// The SQL value of an engine value read as `kind` (see the module header: a stored
    /// byte string is a UUID where `kind` says so, else a BYTEA).
    pub fn from_key(key: KeyValue, kind: Kind) -> Result<Value> {
        Ok(match key {
            KeyValue::Null => Value::Null,
            KeyValue::Bool(b) => Value::Bool(b),
            KeyValue::Int(i) => Value::Int(i),
            KeyValue::Float(f) => Value::Float(f),
            KeyValue::Numeric(n) => Value::Numeric(n),
            KeyValue::Text(s) => Value::Text(s),
            KeyValue::Date(d) => Value::Date(d),
            KeyValue::Timestamp(t) => Value::Timestamp(t),
            KeyValue::Interval {
                months,
                days,
                micros,
            } => Value::Interval(Interval {
                months,
                days,
                micros,
            }),
            KeyValue::Bytes(b) => match kind {
                Kind::Uuid => Value::Uuid(uuid_of_bytes(&b)?),
                _ => Value::Bytea(b),
            },
        })
    }

    /// A stored UUID's 16 bytes as a UUID (other lengths are corrupt data).
    pub fn uuid_of(bytes: &[u8]) -> engine::Result<Value> {
        uuid_of_bytes(bytes).map(Value::Uuid)
    }

    /// SQL comparison: `None` when either side is NULL, an error for incomparable kinds.
    pub fn sql_cmp(&self, other: &Value) -> Result<Option<Ordering>> {
        use Value::*;
        Ok(Some(match (self, other) {
            (Null, _) | (_, Null) => return Ok(None),
            (Bool(a), Bool(b)) => a.cmp(b),
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => float_cmp(*a, *b),
            (Int(a), Float(b)) => float_cmp(*a as f64, *b),
            (Float(a), Int(b)) => float_cmp(*a, *b as f64),
            (Numeric(a), Numeric(b)) => a.cmp(b),
            (Numeric(a), Int(b)) => (**a).cmp(&crate::numeric::Numeric::from_i64(*b)),
            (Int(a), Numeric(b)) => crate::numeric::Numeric::from_i64(*a).cmp(&**b),
            (Numeric(a), Float(b)) => float_cmp(crate::numeric::to_f64(a)?, *b),
            (Float(a), Numeric(b)) => float_cmp(*a, crate::numeric::to_f64(b)?),
            (Text(a), Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Date(a), Date(b)) => a.cmp(b),
            (Timestamp(a), Timestamp(b)) => a.cmp(b),
            (Date(a), Timestamp(b)) => date_micros(*a).cmp(&i128::from(*b)),
            (Timestamp(a), Date(b)) => i128::from(*a).cmp(&date_micros(*b)),
            (Interval(a), Interval(b)) => a.cmp_span(b),
            (Bytea(a), Bytea(b)) => a.cmp(b),
            (Uuid(a), Uuid(b)) => a.cmp(b),
            (a, b) => {
                return Err(Error::Type(format!(
                    "cannot compare {} with {}",
                    a.kind(),
                    b.kind()
                )));
            }
        }))
    }

    /// The order ORDER BY uses: [`Value::sql_cmp`] with NULL placed by `nulls_first`, and
    /// incomparable kinds (which the binder rules out) ordered by kind so sorting stays
    /// total.
    pub fn sort_cmp(&self, other: &Value, nulls_first: bool) -> Ordering {
        match (self.is_null(), other.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) if nulls_first => Ordering::Less,
            (true, false) => Ordering::Greater,
            (false, true) if nulls_first => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => match self.sql_cmp(other) {
                Ok(Some(ordering)) => ordering,
                _ => self.to_key().cmp(&other.to_key()),
            },
        }
    }
}

/// A stored UUID: exactly 16 bytes, anything else is corrupt.
fn uuid_of_bytes(bytes: &[u8]) -> engine::Result<u128> {
    let array: [u8; 16] = bytes.try_into().map_err(|_| {
        engine::Error::CorruptData(format!(
            "a stored UUID of {} bytes (a UUID has 16)",
            bytes.len()
        ))
    })?;
    Ok(u128::from_be_bytes(array))
}

/// A date's midnight in microseconds, widened so that no date overflows.
fn date_micros(days: i32) -> i128 {
    i128::from(days) * i128::from(crate::datetime::MICROS_PER_DAY)
}

/// Floats compare as PostgreSQL compares them: NaN equals NaN and is above everything.
fn float_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// SQL AND: false wins over unknown, unknown over true.
pub fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// SQL OR: true wins over unknown, unknown over false.
pub fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// SQL NOT: unknown stays unknown.
pub fn not(a: Option<bool>) -> Option<bool> {
    a.map(|b| !b)
}

/// A truth value as a SQL value.
pub fn truth_value(t: Option<bool>) -> Value {
    t.map_or(Value::Null, Value::Bool)
}

impl fmt::Display for Value {
    /// The value as text, the way psql shows it (`NULL` for NULL).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(true) => f.write_str("t"),
            Value::Bool(false) => f.write_str("f"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.is_nan() => f.write_str("NaN"),
            Value::Float(x) if x.is_infinite() && *x > 0.0 => f.write_str("Infinity"),
            Value::Float(x) if x.is_infinite() => f.write_str("-Infinity"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Numeric(n) => write!(f, "{n}"),
            Value::Text(s) => f.write_str(s),
            Value::Date(d) => f.write_str(&format_date(*d)),
            Value::Timestamp(t) => f.write_str(&format_timestamp(*t)),
            Value::Interval(i) => write!(f, "{i}"),
            Value::Bytea(b) => f.write_str(&format_bytea(b)),
            Value::Uuid(u) => f.write_str(&format_uuid(*u)),
        }
    }
}

impl Value {
    /// The value as a SQL literal (for EXPLAIN): text quoted, dates typed.
    pub fn to_literal(&self) -> String {
        match self {
            Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Value::Bool(b) => (if *b { "TRUE" } else { "FALSE" }).to_string(),
            Value::Date(d) => format!("DATE '{}'", format_date(*d)),
            Value::Timestamp(t) => format!("TIMESTAMP '{}'", format_timestamp(*t)),
            Value::Interval(i) => format!("INTERVAL '{i}'"),
            Value::Bytea(b) => format!("'{}'::bytea", format_bytea(b)),
            Value::Uuid(u) => format!("'{}'::uuid", format_uuid(*u)),
            other => other.to_string(),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
/// Bytes are a BYTEA.
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytea(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytea(v.to_vec())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<i8> for Value {
    fn from(v: i8) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<i16> for Value {
    fn from(v: i16) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<u8> for Value {
    fn from(v: u8) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<u16> for Value {
    fn from(v: u16) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}
impl From<&Value> for Value {
    fn from(v: &Value) -> Self {
        v.clone()
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use engine::keycode::{decode, encode};
    use proptest::prelude::*;

    use super::*;

    const TRUTHS: [Option<bool>; 3] = [Some(true), Some(false), None];

    #[test]
    fn three_valued_truth_tables() {
        // Rows: a; columns: b, in the order true, false, unknown.
        let and_table = [
            [Some(true), Some(false), None],
            [Some(false), Some(false), Some(false)],
            [None, Some(false), None],
        ];
        let or_table = [
            [Some(true), Some(true), Some(true)],
            [Some(true), Some(false), None],
            [Some(true), None, None],
        ];
        for (i, a) in TRUTHS.iter().enumerate() {
            for (j, b) in TRUTHS.iter().enumerate() {
                assert_eq!(and(*a, *b), and_table[i][j], "{a:?} AND {b:?}");
                assert_eq!(or(*a, *b), or_table[i][j], "{a:?} OR {b:?}");
            }
        }
        assert_eq!(not(Some(true)), Some(false));
        assert_eq!(not(None), None);
    }

    #[test]
    fn comparisons_with_null_are_unknown_and_numbers_mix() {
        assert_eq!(Value::Null.sql_cmp(&Value::Int(1)).unwrap(), None);
        assert_eq!(
            Value::Int(1).sql_cmp(&Value::Float(1.5)).unwrap(),
            Some(Ordering::Less)
        );
        assert!(Value::Int(1).sql_cmp(&Value::Text("1".into())).is_err());
    }

    #[test]
    fn key_values_round_trip() {
        for v in [
            Value::Null,
            Value::Bool(true),
            Value::Int(-5),
            Value::Float(2.5),
            Value::Text("x".into()),
            Value::Date(3),
            Value::Timestamp(7),
            Value::Interval(Interval {
                months: 1,
                days: -2,
                micros: 3,
            }),
            Value::Bytea(vec![0, 1, 255]),
            Value::Uuid(0xa0ee_bc99_9c0b_4ef8_bb6d_6bb9_bd38_0a11),
            Value::numeric(crate::numeric::from_text("-1.50").unwrap()),
        ] {
            assert_eq!(Value::from_key(v.to_key(), v.kind()).unwrap(), v);
        }
    }

    /// A value's stored key, and the value read back from it as `kind`.
    fn key_of(v: &Value) -> Vec<u8> {
        encode(&[v.to_key()])
    }

    fn read_back(key: &[u8], kind: Kind) -> Value {
        let mut values = decode(key).unwrap();
        Value::from_key(values.remove(0), kind).unwrap()
    }

    fn interval() -> impl Strategy<Value = Interval> {
        (-30i32..30, -70i32..70, -3i64..3).prop_map(|(months, days, hours)| Interval {
            months,
            days,
            micros: hours * 3_600_000_000 * 9,
        })
    }

    proptest! {
        /// UUID keys order as PostgreSQL orders uuids, bytewise, whose model is the
        /// order of their lower-case hyphenated text; they read back as UUIDs.
        #[test]
        fn uuid_keys_order_as_their_text(a in any::<u128>(), b in any::<u128>()) {
            let (a, b) = (Value::Uuid(a), Value::Uuid(b));
            prop_assert_eq!(key_of(&a).cmp(&key_of(&b)), a.to_string().cmp(&b.to_string()));
            prop_assert_eq!(a.sql_cmp(&b).unwrap(), Some(a.to_string().cmp(&b.to_string())));
            prop_assert_eq!(read_back(&key_of(&a), Kind::Uuid), a);
        }

        /// BYTEA keys order bytewise with a proper prefix first, whose model is the
        /// order of their hex text; they read back as BYTEA.
        #[test]
        fn bytea_keys_order_as_their_hex(
            a in proptest::collection::vec(any::<u8>(), 0..6),
            b in proptest::collection::vec(any::<u8>(), 0..6),
        ) {
            let (a, b) = (Value::Bytea(a), Value::Bytea(b));
            prop_assert_eq!(key_of(&a).cmp(&key_of(&b)), a.to_string().cmp(&b.to_string()));
            prop_assert_eq!(read_back(&key_of(&a), Kind::Bytea), a);
        }

        /// INTERVAL keys order as SQL compares intervals (a month of 30 days), equal
        /// intervals have equal keys, and a key reads back as an equal interval.
        #[test]
        fn interval_keys_order_as_sql_compares(a in interval(), b in interval()) {
            let (a, b) = (Value::Interval(a), Value::Interval(b));
            let sql = a.sql_cmp(&b).unwrap();
            prop_assert_eq!(Some(key_of(&a).cmp(&key_of(&b))), sql);
            let back = read_back(&key_of(&a), Kind::Interval);
            prop_assert_eq!(back.sql_cmp(&a).unwrap(), Some(Ordering::Equal));
        }
    }
}

#[cfg(test)]
mod size_tests {
    /// A value is four words and a key value four: every row, batch and hash table
    /// holds them by the thousand, so a variant that grows them (a NUMERIC's
    /// mantissa and scale did, by half: 15% more CPU on the report query) is boxed.
    #[test]
    fn values_and_key_values_stay_four_words() {
        assert_eq!(std::mem::size_of::<super::Value>(), 32);
        assert_eq!(std::mem::size_of::<engine::keycode::KeyValue>(), 32);
    }
}
