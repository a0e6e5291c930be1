//! Hash keys: the form in which values are hashed and compared by hash joins, hash
//! aggregates, DISTINCT and set operations, so that values SQL calls equal (by `=`, or as
//! duplicates) have equal keys.
//!
//! Two forms, with one notion of equality. [`hash_key`] and [`row_key`] make an owned
//! engine [`KeyValue`] (DISTINCT and the set operations keep those). The hash join and
//! the hash aggregate instead hash and compare the row's values in place, through
//! [`KeyRef`], a borrowed, typed view (an integer is an `i64`, a string a `&str`: no
//! allocation per row), hashed with foldhash (fast, non-cryptographic, seeded per
//! process) into a hashbrown [`HashTable`] of positions. `KeyRef` equality is exactly
//! `hash_key` equality: an integral float or NUMERIC is the integer it equals (so `1`,
//! `1.0` and `1.00` are one key), a NUMERIC is equal at any scale, NaNs are one value,
//! a NULL equals a NULL (the hash join leaves NULL keys out itself; GROUP BY puts NULLs
//! in one group).

use std::borrow::Cow;
use std::hash::{BuildHasher, Hash, Hasher};

use engine::keycode::KeyValue;
pub(super) use hashbrown::HashTable;

use crate::numeric::Numeric;
use crate::value::Value;

/// The hash-table form of a value: equal (by SQL `=`) values give equal keys, so an
/// integral float is keyed as the integer it equals.
pub(super) fn hash_key(value: &Value) -> KeyValue {
    match value {
        Value::Float(f) if integral(*f) => KeyValue::Int(*f as i64),
        Value::Numeric(n) => match numeric_integer(n) {
            Some(i) => KeyValue::Int(i),
            None => KeyValue::Numeric(n.clone()),
        },
        other => other.to_key(),
    }
}

/// The key of a whole row for DISTINCT and set operations.
pub(super) fn row_key(values: &[Value]) -> Vec<KeyValue> {
    values.iter().map(hash_key).collect()
}

/// Whether `f` is keyed as the integer it equals.
fn integral(f: f64) -> bool {
    f.fract() == 0.0 && f.abs() < 9.0e15
}

/// The integer a NUMERIC equals, if it is one that fits 64 bits.
fn numeric_integer(n: &Numeric) -> Option<i64> {
    use num_traits::{ToPrimitive, Zero};
    let divisor = engine::keycode::pow10(n.scale());
    let (whole, rest) = num_integer::Integer::div_rem(n.mantissa(), &divisor);
    rest.is_zero().then(|| whole.to_i64()).flatten()
}

/// A value as the hash tables see it, borrowed: equal exactly when the values'
/// [`hash_key`]s are equal.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) enum KeyRef<'v> {
    Null,
    Bool(bool),
    Int(i64),
    /// A float that is not integral, by its bits (every NaN one pattern).
    Float(u64),
    Text(Cow<'v, str>),
    /// An interval by its length (`1 mon` is `30 days`, as [`Value::to_key`] keys it).
    Interval(i128),
    Date(i32),
    Timestamp(i64),
    /// A BYTEA's bytes.
    Bytes(&'v [u8]),
    Uuid(u128),
    /// A NUMERIC that is not an integer of 64 bits (equal and hashed by value).
    Numeric(Cow<'v, Numeric>),
}

impl<'v> KeyRef<'v> {
    pub(super) fn of(value: &'v Value) -> KeyRef<'v> {
        match value {
            Value::Null => KeyRef::Null,
            Value::Bool(b) => KeyRef::Bool(*b),
            Value::Int(i) => KeyRef::Int(*i),
            Value::Float(f) if integral(*f) => KeyRef::Int(*f as i64),
            Value::Float(f) if f.is_nan() => KeyRef::Float(f64::NAN.to_bits()),
            Value::Float(f) => KeyRef::Float(f.to_bits()),
            Value::Text(s) => KeyRef::Text(Cow::Borrowed(s)),
            Value::Date(d) => KeyRef::Date(*d),
            Value::Timestamp(t) => KeyRef::Timestamp(*t),
            Value::Interval(i) => KeyRef::Interval(i.span()),
            Value::Bytea(b) => KeyRef::Bytes(b),
            Value::Uuid(u) => KeyRef::Uuid(*u),
            Value::Numeric(n) => match numeric_integer(n) {
                Some(i) => KeyRef::Int(i),
                None => KeyRef::Numeric(Cow::Borrowed(n)),
            },
        }
    }
}

/// Whether two values have the same key.
pub(super) fn same_key(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(a), Value::Int(b)) => a == b,
        (Value::Text(a), Value::Text(b)) => a == b,
        _ => KeyRef::of(a) == KeyRef::of(b),
    }
}

/// Hashes keys of several values together.
#[derive(Debug, Clone, Default)]
pub(super) struct KeyHasher {
    state: foldhash::fast::RandomState,
}

impl KeyHasher {
    /// The hash of the key made of `values`, in order.
    pub(super) fn hash<'v>(&self, values: impl IntoIterator<Item = &'v Value>) -> u64 {
        let mut hasher = self.state.build_hasher();
        for value in values {
            KeyRef::of(value).hash(&mut hasher);
        }
        hasher.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::Interval;

    fn values() -> Vec<Value> {
        vec![
            Value::Null,
            Value::Bool(false),
            Value::Bool(true),
            Value::Int(0),
            Value::Int(3),
            Value::Int(-7),
            Value::Float(3.0),
            Value::Float(-0.0),
            Value::Float(0.5),
            Value::Float(f64::NAN),
            Value::Float(-f64::NAN),
            Value::Float(1e300),
            Value::Text(String::new()),
            Value::Text("3".into()),
            Value::Text("abc".into()),
            Value::Date(3),
            Value::Timestamp(3),
            Value::Interval(Interval::default()),
        ]
    }

    #[test]
    fn key_refs_are_equal_and_hash_equal_exactly_when_hash_keys_are_equal() {
        let hasher = KeyHasher::default();
        for a in values() {
            for b in values() {
                let equal = hash_key(&a) == hash_key(&b);
                assert_eq!(same_key(&a, &b), equal, "{a:?} {b:?}");
                assert_eq!(KeyRef::of(&a) == KeyRef::of(&b), equal, "{a:?} {b:?}");
                if equal {
                    assert_eq!(hasher.hash([&a]), hasher.hash([&b]), "{a:?} {b:?}");
                }
            }
        }
    }
}
