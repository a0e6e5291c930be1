//! SQL's operators on values: comparison, arithmetic, concatenation, and date, timestamp
//! and interval arithmetic.
//!
//! Evaluation follows SQL: NULL propagates through operators, comparisons with NULL are
//! unknown, integer overflow and division by zero are errors (not wrap-around or
//! infinity). Integer arithmetic is done in 64 bits whatever the operands' declared SQL
//! types; a result that does not fit the column it is stored into fails then (PostgreSQL
//! checks each operator at the operands' own width).
//!
//! `||` joins two BYTEA values into one; with any other operand it joins the operands'
//! text.
//! NUMERIC arithmetic is exact, with PostgreSQL's result scales (`numeric/`); an integer
//! operand becomes NUMERIC and a NUMERIC meeting a double becomes a double, as
//! PostgreSQL's implicit casts resolve mixed operators.
//!
//! Dates and timestamps combine with intervals (`ts - INTERVAL '7 days'`; a date plus an
//! interval is a timestamp, as in PostgreSQL), and `timestamp - timestamp` is an
//! interval; see `interval.rs`. The executor's evaluator (`exec/eval.rs`) calls these
//! for each operator node of an expression.

use std::cmp::Ordering;

use crate::datetime::{MICROS_PER_DAY, date_to_micros};
use crate::error::{Error, Result};
use crate::expr::{BinaryOp, UnaryOp};
use crate::interval::add_to_timestamp;
use crate::interval::between_timestamps;
use crate::numeric::{self, Numeric};
use crate::value::{Kind, Value, not, truth_value};

/// `op v`: NOT with three-valued logic, numeric and interval negation.
pub fn unary(op: UnaryOp, v: Value) -> Result<Value> {
    match (op, v) {
        (_, Value::Null) => Ok(Value::Null),
        (UnaryOp::Not, v) => Ok(truth_value(not(v.truth()?))),
        (UnaryOp::Neg, Value::Int(i)) => i.checked_neg().map(Value::Int).ok_or_else(overflow),
        (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
        (UnaryOp::Neg, Value::Numeric(n)) => numeric::neg(&n).map(Value::numeric),
        (UnaryOp::Neg, Value::Interval(i)) => i.checked_neg().map(Value::Interval),
        (
            UnaryOp::Plus,
            v @ (Value::Int(_) | Value::Float(_) | Value::Numeric(_) | Value::Interval(_)),
        ) => Ok(v),
        (op, v) => Err(Error::Type(format!(
            "operator does not exist: {}{}",
            if op == UnaryOp::Neg { "-" } else { "+" },
            v.kind()
        ))),
    }
}

fn overflow() -> Error {
    Error::Data("bigint out of range".into())
}

fn division_by_zero() -> Error {
    Error::Data("division by zero".into())
}

/// Checks a float result: an infinite result of finite operands overflowed.
fn float_result(result: f64, a: f64, b: f64) -> Result<Value> {
    if result.is_infinite() && a.is_finite() && b.is_finite() {
        return Err(Error::Data("value out of range: overflow".into()));
    }
    Ok(Value::Float(result))
}

/// `l op r` for every binary operator but AND and OR (which the evaluator runs lazily):
/// comparisons (unknown with a NULL operand), arithmetic, `||`, and date, timestamp and
/// interval arithmetic.
pub fn binary(op: BinaryOp, l: Value, r: Value) -> Result<Value> {
    use Value::*;
    if op.is_comparison() {
        let ordering = l.sql_cmp(&r)?;
        return Ok(truth_value(ordering.map(|o| match op {
            BinaryOp::Eq => o == Ordering::Equal,
            BinaryOp::NotEq => o != Ordering::Equal,
            BinaryOp::Lt => o == Ordering::Less,
            BinaryOp::LtEq => o != Ordering::Greater,
            BinaryOp::Gt => o == Ordering::Greater,
            _ => o != Ordering::Less,
        })));
    }
    if l.is_null() || r.is_null() {
        return Ok(Null);
    }
    match (op, l, r) {
        (BinaryOp::Concat, Bytea(mut a), Bytea(b)) => {
            a.extend_from_slice(&b);
            Ok(Bytea(a))
        }
        (BinaryOp::Concat, a, b) => Ok(Text(format!("{a}{b}"))),
        (BinaryOp::Add, Int(a), Int(b)) => a.checked_add(b).map(Int).ok_or_else(overflow),
        (BinaryOp::Sub, Int(a), Int(b)) => a.checked_sub(b).map(Int).ok_or_else(overflow),
        (BinaryOp::Mul, Int(a), Int(b)) => a.checked_mul(b).map(Int).ok_or_else(overflow),
        (BinaryOp::Div | BinaryOp::Mod, Int(_), Int(0)) => Err(division_by_zero()),
        (BinaryOp::Div, Int(a), Int(b)) => a.checked_div(b).map(Int).ok_or_else(overflow),
        // i64::MIN % -1 overflows in Rust; mathematically it is 0.
        (BinaryOp::Mod, Int(a), Int(b)) => Ok(Int(a.checked_rem(b).unwrap_or(0))),
        (op, Numeric(a), Numeric(b)) => numeric_op(op, &a, &b),
        (op, Numeric(a), Int(b)) => numeric_op(op, &a, &numeric::Numeric::from_i64(b)),
        (op, Int(a), Numeric(b)) => numeric_op(op, &numeric::Numeric::from_i64(a), &b),
        (op, Numeric(a), Float(b)) => float_op(op, numeric::to_f64(&a)?, b),
        (op, Float(a), Numeric(b)) => float_op(op, a, numeric::to_f64(&b)?),
        (op, Int(a), Float(b)) => float_op(op, a as f64, b),
        (op, Float(a), Int(b)) => float_op(op, a, b as f64),
        (op, Float(a), Float(b)) => float_op(op, a, b),
        (BinaryOp::Add, Date(d), Int(n)) | (BinaryOp::Add, Int(n), Date(d)) => date_add(d, n),
        (BinaryOp::Sub, Date(d), Int(n)) => date_add(d, n.checked_neg().ok_or_else(overflow)?),
        (BinaryOp::Sub, Date(a), Date(b)) => Ok(Int(i64::from(a) - i64::from(b))),
        (op, a, b) if a.kind() == Kind::Interval || b.kind() == Kind::Interval => {
            interval_op(op, a, b)
        }
        (BinaryOp::Sub, a @ (Date(_) | Timestamp(_)), b @ (Date(_) | Timestamp(_))) => {
            between_timestamps(timestamp_of(&a)?, timestamp_of(&b)?).map(Value::Interval)
        }
        (op, a, b) => Err(Error::Type(format!(
            "operator does not exist: {} {} {}",
            a.kind(),
            op.symbol(),
            b.kind()
        ))),
    }
}

/// A DATE or TIMESTAMP as a timestamp (a date is its midnight).
fn timestamp_of(v: &Value) -> Result<i64> {
    match v {
        Value::Timestamp(t) => Ok(*t),
        Value::Date(d) => {
            date_to_micros(*d).ok_or_else(|| Error::Data("timestamp out of range".into()))
        }
        other => Err(Error::Type(format!(
            "{} is not a date or timestamp",
            other.kind()
        ))),
    }
}

/// Arithmetic with an interval operand: with dates and timestamps (giving a
/// timestamp), with another interval, or scaled by a number.
fn interval_op(op: BinaryOp, l: Value, r: Value) -> Result<Value> {
    use Value::*;
    let scale = |i: crate::interval::Interval, f: f64| i.checked_mul(f).map(Interval);
    // A NUMERIC scales an interval as the double nearest it (PostgreSQL casts it to
    // float8 for interval_mul and interval_div).
    let as_double = |v: Value| match v {
        Numeric(n) => numeric::to_f64(&n).map(Float),
        v => Ok(v),
    };
    match (op, as_double(l)?, as_double(r)?) {
        (BinaryOp::Add, a @ (Date(_) | Timestamp(_)), Interval(i))
        | (BinaryOp::Add, Interval(i), a @ (Date(_) | Timestamp(_))) => {
            add_to_timestamp(timestamp_of(&a)?, i).map(Timestamp)
        }
        (BinaryOp::Sub, a @ (Date(_) | Timestamp(_)), Interval(i)) => {
            add_to_timestamp(timestamp_of(&a)?, i.checked_neg()?).map(Timestamp)
        }
        (BinaryOp::Add, Interval(a), Interval(b)) => a.checked_add(b).map(Interval),
        (BinaryOp::Sub, Interval(a), Interval(b)) => a.checked_sub(b).map(Interval),
        (BinaryOp::Mul, Interval(i), Int(n)) | (BinaryOp::Mul, Int(n), Interval(i)) => {
            scale(i, n as f64)
        }
        (BinaryOp::Mul, Interval(i), Float(f)) | (BinaryOp::Mul, Float(f), Interval(i)) => {
            scale(i, f)
        }
        (BinaryOp::Div, Interval(i), Int(n)) => i.checked_div(n as f64).map(Interval),
        (BinaryOp::Div, Interval(i), Float(f)) => i.checked_div(f).map(Interval),
        (op, a, b) => Err(Error::Type(format!(
            "operator does not exist: {} {} {}",
            a.kind(),
            op.symbol(),
            b.kind()
        ))),
    }
}

fn date_add(days: i32, n: i64) -> Result<Value> {
    i64::from(days)
        .checked_add(n)
        .and_then(|d| i32::try_from(d).ok())
        .filter(|d| i64::from(*d).checked_mul(MICROS_PER_DAY).is_some())
        .map(Value::Date)
        .ok_or_else(|| Error::Data("date out of range".into()))
}

fn numeric_op(op: BinaryOp, a: &Numeric, b: &Numeric) -> Result<Value> {
    let result = match op {
        BinaryOp::Add => numeric::add(a, b),
        BinaryOp::Sub => numeric::sub(a, b),
        BinaryOp::Mul => numeric::mul(a, b),
        BinaryOp::Div => numeric::div(a, b),
        BinaryOp::Mod => numeric::rem(a, b),
        op => {
            return Err(Error::Type(format!(
                "operator does not exist: numeric {} numeric",
                op.symbol()
            )));
        }
    };
    result.map(Value::numeric)
}

fn float_op(op: BinaryOp, a: f64, b: f64) -> Result<Value> {
    match op {
        BinaryOp::Add => float_result(a + b, a, b),
        BinaryOp::Sub => float_result(a - b, a, b),
        BinaryOp::Mul => float_result(a * b, a, b),
        BinaryOp::Div | BinaryOp::Mod if b == 0.0 => Err(division_by_zero()),
        BinaryOp::Div => float_result(a / b, a, b),
        BinaryOp::Mod => Ok(Value::Float(a % b)),
        op => Err(Error::Type(format!(
            "operator does not exist: double precision {} double precision",
            op.symbol()
        ))),
    }
}
