//! Integers keep every digit on their way through SQL (issue 10, item 2).
//!
//! A decimal literal is NUMERIC, as in PostgreSQL, so integers and decimals meeting in
//! one result are NUMERIC and exact. Where integers meet DOUBLE PRECISION values, hdb
//! converts the integers to DOUBLE only where a double holds them exactly, and
//! otherwise refuses with a data error: never a different number (PostgreSQL answers
//! the nearest double). The properties, over random integers
//! (`i64::MIN` and `i64::MAX` among them) and random decimal literals:
//!
//! - a negative literal is one literal, so every i64 written in a statement reads back;
//! - `INSERT ... VALUES` assigns each value to its column on its own (PostgreSQL's
//!   rule), so a BIGINT next to a decimal in another row is stored exactly, and a
//!   decimal literal going into an integer column is rounded half away from zero, as
//!   PostgreSQL rounds NUMERIC;
//! - CASE, COALESCE, UNION and VALUES mixing an integer and a decimal answer the
//!   integer's exact value as NUMERIC; mixing it with a double answer it exactly or fail
//!   with a data error when no double equals it.
//!
//! `tests/slt/precision.slt` holds PostgreSQL 15's answers for the cases where both
//! answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hdb::{Database, Error, Value};
use proptest::prelude::*;

/// Integers to try: anywhere in i64, near its ends, and near 2^53 (where doubles stop
/// holding every integer).
fn integer() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        (0i64..4).prop_map(|d| i64::MIN + d),
        (0i64..4).prop_map(|d| i64::MAX - d),
        (-4i64..4).prop_map(|d| (1i64 << 53) + d),
        (-4i64..4).prop_map(|d| -(1i64 << 53) + d),
        -1000i64..1000,
    ]
}

/// A decimal literal as written (`-12.5`, `0.0`, `7.25`) and its value.
fn decimal() -> impl Strategy<Value = (String, f64)> {
    (
        -100_000i64..100_000,
        prop_oneof![Just(0u32), Just(5), Just(25), Just(49), Just(51)],
    )
        .prop_map(|(whole, fraction)| {
            let sign = if whole < 0 { "-" } else { "" };
            let text = format!("{sign}{}.{fraction:02}", whole.unsigned_abs());
            let value: f64 = text.parse().unwrap();
            (text, value)
        })
}

/// PostgreSQL's NUMERIC to integer rounding: half away from zero.
fn numeric_round(value: f64) -> i64 {
    value.round() as i64
}

fn cases() -> u32 {
    std::env::var("HDB_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

fn one(session: &mut hdb::Session, sql: &str) -> Result<Value, Error> {
    let result = session.query(sql, &[])?;
    Ok(result.rows()[0].values()[0].clone())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn every_integer_literal_reads_back(a in integer()) {
        let db = Database::open_in_memory().unwrap();
        let mut s = db.session();
        prop_assert_eq!(one(&mut s, &format!("SELECT {a}")).unwrap(), Value::Int(a));
        prop_assert_eq!(
            one(&mut s, &format!("SELECT CAST({a} AS BIGINT)")).unwrap(),
            Value::Int(a)
        );
    }

    #[test]
    fn insert_values_assigns_each_value_on_its_own(
        a in integer(),
        b in integer(),
        (text, value) in decimal(),
    ) {
        let db = Database::open_in_memory().unwrap();
        let mut s = db.session();
        s.execute("CREATE TABLE n (id INTEGER PRIMARY KEY, b BIGINT)").unwrap();
        s.execute(&format!("INSERT INTO n VALUES (1, {a}), (2, {text}), (3, {b})")).unwrap();
        s.execute(&format!("INSERT INTO n VALUES (4, {text}), (5, {a})")).unwrap();
        let rows: Vec<Value> = s
            .query("SELECT b FROM n ORDER BY id", &[])
            .unwrap()
            .rows()
            .iter()
            .map(|r| r.values()[0].clone())
            .collect();
        let d = Value::Int(numeric_round(value));
        prop_assert_eq!(rows, vec![Value::Int(a), d.clone(), Value::Int(b), d, Value::Int(a)]);
        // UPDATE SET rounds a decimal literal the same way.
        s.execute(&format!("UPDATE n SET b = {text} WHERE id = 1")).unwrap();
        prop_assert_eq!(
            one(&mut s, "SELECT b FROM n WHERE id = 1").unwrap(),
            Value::Int(numeric_round(value))
        );
    }

    #[test]
    fn integers_meeting_decimals_are_exact_or_refused(
        a in integer(),
        (text, _) in decimal(),
    ) {
        let db = Database::open_in_memory().unwrap();
        let mut s = db.session();
        let exact = (a as f64) < 9_223_372_036_854_775_808.0 && (a as f64) as i64 == a;
        let queries = |other: &str| [
            format!("SELECT CASE WHEN true THEN {a} ELSE {other} END"),
            format!("SELECT COALESCE({a}, {other})"),
            format!("SELECT x FROM (SELECT {a} AS x UNION ALL SELECT {other}) u LIMIT 1"),
            format!("SELECT column1 FROM (VALUES ({a}), ({other})) v LIMIT 1"),
        ];
        // A decimal literal is NUMERIC: the integer keeps every digit.
        for sql in queries(&text) {
            match one(&mut s, &sql) {
                Ok(Value::Numeric(n)) => prop_assert_eq!(n.to_string(), a.to_string(), "{}", sql),
                other => prop_assert!(false, "{}: {:?}", sql, other),
            }
        }
        // A double: the integer as the double equal to it, or a data error.
        for sql in queries(&format!("{text}::float8")) {
            match one(&mut s, &sql) {
                Ok(Value::Float(f)) => {
                    prop_assert!(exact, "{}: {} has no exact double, got {}", sql, a, f);
                    prop_assert_eq!(f as i64, a, "{}", sql);
                }
                Err(Error::Data(_)) => prop_assert!(!exact, "{}: refused an exact {}", sql, a),
                other => prop_assert!(false, "{}: {:?}", sql, other),
            }
        }
    }
}
