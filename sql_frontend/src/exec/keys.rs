//! Hash keys: the form in which values are hashed and compared by hash joins, hash
//! aggregates, DISTINCT and set operations, so that values SQL calls equal (by `=`, or as
//! duplicates) have equal keys.

use engine::keycode::KeyValue;

use crate::value::Value;

/// The hash-table form of a value: equal (by SQL `=`) values give equal keys, so an
/// integral float is keyed as the integer it equals.
pub(super) fn hash_key(value: &Value) -> KeyValue {
    match value {
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => KeyValue::Int(*f as i64),
        other => other.to_key(),
    }
}

/// The key of a whole row for DISTINCT and set operations.
pub(super) fn row_key(values: &[Value]) -> Vec<KeyValue> {
    values.iter().map(hash_key).collect()
}
