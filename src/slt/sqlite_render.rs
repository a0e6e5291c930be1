//! Rendering results of SQLite-format files (`*.test`) as SQLite's own sqllogictest
//! runner does: each value by the type letter the record declares for its column.
//!
//! SQLite's runner reads every value through the C API call its letter names and
//! prints that: `I` — `sqlite3_column_int64`, printed `%lld` (a float truncated toward
//! zero, text by its leading integer, 0 when there is none; a boolean, which SQLite
//! does not have, as 1 or 0); `R` — `sqlite3_column_double`, printed `%.3f` (text by
//! its leading number, 0.000 when there is none); `T` — the text, the empty string as
//! `(empty)` and each byte outside printable ASCII as `@`. NULL is `NULL` whatever the
//! letter. A column past the record's letters, or of a letter other than these, is
//! rendered as in `*.slt` files ([`super::render`]).
//!
//! The record's letters reach the connections through [`declare`]: `run_records` sets
//! them, for the thread it runs on, while a SQLite-format query record runs, and
//! [`super::connection::output`] renders by them. A thread-local rather than a field
//! of each connection, because the runner makes its connections itself (a `connection
//! NAME` record makes a new one) and runs them on the caller's thread, in-process or
//! over the wire alike.

use std::cell::RefCell;

use hdb::Value;
use sqllogictest::DefaultColumnType;

use super::connection::render;

thread_local! {
    /// The letters of the query record now running (SQLite format only).
    static DECLARED: RefCell<Option<Vec<DefaultColumnType>>> = const { RefCell::new(None) };
}

/// While the returned guard lives, results on this thread are rendered by `letters`
/// (`None`: as in `*.slt` files).
pub(super) fn declare(letters: Option<Vec<DefaultColumnType>>) -> Declared {
    DECLARED.with(|d| *d.borrow_mut() = letters);
    Declared(())
}

/// Clears the declared letters when dropped.
pub(super) struct Declared(());

impl Drop for Declared {
    fn drop(&mut self) {
        DECLARED.with(|d| *d.borrow_mut() = None);
    }
}

/// `row` rendered by the declared letters, or as in `*.slt` files when none are.
pub(super) fn render_row(row: &[Value]) -> Vec<String> {
    DECLARED.with(|d| {
        let declared = d.borrow();
        row.iter()
            .enumerate()
            .map(
                |(i, value)| match declared.as_ref().and_then(|l| l.get(i)) {
                    Some(letter) => render_as(value, letter),
                    None => render(value),
                },
            )
            .collect()
    })
}

/// `value` as SQLite's runner prints a column of type `letter`.
pub fn render_as(value: &Value, letter: &DefaultColumnType) -> String {
    if value.is_null() {
        return "NULL".to_string();
    }
    match letter {
        DefaultColumnType::Integer => match value {
            Value::Int(i) => i.to_string(),
            // `as` truncates toward zero and saturates, as SQLite's conversion does.
            Value::Float(f) => (*f as i64).to_string(),
            Value::Bool(b) => i64::from(*b).to_string(),
            Value::Text(s) => leading_integer(s).to_string(),
            other => leading_integer(&other.to_string()).to_string(),
        },
        DefaultColumnType::FloatingPoint => {
            let x = match value {
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                Value::Bool(b) => f64::from(u8::from(*b)),
                Value::Text(s) => leading_number(s),
                other => leading_number(&other.to_string()),
            };
            format!("{x:.3}")
        }
        DefaultColumnType::Text => {
            let text = match value {
                Value::Text(s) => s.clone(),
                other => render(other),
            };
            if text.is_empty() {
                return "(empty)".to_string();
            }
            text.bytes()
                .map(|b| match b {
                    b' '..=b'~' => char::from(b),
                    _ => '@',
                })
                .collect()
        }
        DefaultColumnType::Any => render(value),
    }
}

/// The integer `text` starts with (after blanks, with an optional sign), 0 if none;
/// saturating past the range of i64, as SQLite's `sqlite3Atoi64` does.
fn leading_integer(text: &str) -> i64 {
    let text = text.trim_start();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let mut value: i64 = 0;
    for digit in digits.bytes().take_while(u8::is_ascii_digit) {
        let d = i64::from(digit - b'0');
        value = match negative {
            true => value.saturating_mul(10).saturating_sub(d),
            false => value.saturating_mul(10).saturating_add(d),
        };
    }
    value
}

/// The longest number `text` starts with (after blanks), 0.0 if none.
fn leading_number(text: &str) -> f64 {
    let text = text.trim_start();
    let candidate: &str = {
        let end = text
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E')))
            .map_or(text.len(), |(i, _)| i);
        &text[..end]
    };
    (1..=candidate.len())
        .rev()
        .find_map(|n| candidate[..n].parse::<f64>().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    use DefaultColumnType::{Any, FloatingPoint as R, Integer as I, Text as T};

    #[test]
    fn integers_as_sqlite_reads_them() {
        assert_eq!(render_as(&Value::Int(-7), &I), "-7");
        assert_eq!(render_as(&Value::Float(2.9), &I), "2");
        assert_eq!(render_as(&Value::Float(-2.9), &I), "-2");
        assert_eq!(render_as(&Value::Float(f64::NAN), &I), "0");
        assert_eq!(render_as(&Value::Bool(true), &I), "1");
        assert_eq!(render_as(&Value::Bool(false), &I), "0");
        assert_eq!(render_as(&Value::Text("abc".into()), &I), "0");
        assert_eq!(render_as(&Value::Text(" 12abc".into()), &I), "12");
        assert_eq!(render_as(&Value::Text("-3.7".into()), &I), "-3");
        assert_eq!(
            render_as(&Value::Text("99999999999999999999".into()), &I),
            i64::MAX.to_string()
        );
        assert_eq!(render_as(&Value::Null, &I), "NULL");
    }

    #[test]
    fn reals_with_three_decimals() {
        assert_eq!(render_as(&Value::Int(3), &R), "3.000");
        assert_eq!(render_as(&Value::Float(1.0 / 3.0), &R), "0.333");
        assert_eq!(render_as(&Value::Bool(true), &R), "1.000");
        assert_eq!(render_as(&Value::Text("2.5e1x".into()), &R), "25.000");
        assert_eq!(render_as(&Value::Text("1e".into()), &R), "1.000");
        assert_eq!(render_as(&Value::Text("x".into()), &R), "0.000");
        assert_eq!(render_as(&Value::Null, &R), "NULL");
    }

    #[test]
    fn text_as_is_but_empty_and_unprintable() {
        assert_eq!(render_as(&Value::Text("a b".into()), &T), "a b");
        assert_eq!(render_as(&Value::Text(String::new()), &T), "(empty)");
        assert_eq!(render_as(&Value::Text("a\tb".into()), &T), "a@b");
        assert_eq!(render_as(&Value::Text("é".into()), &T), "@@");
        assert_eq!(render_as(&Value::Int(5), &T), "5");
        assert_eq!(render_as(&Value::Null, &T), "NULL");
        assert_eq!(render_as(&Value::Float(2.5), &Any), "2.500");
    }

    #[test]
    fn declared_letters_apply_while_the_guard_lives() {
        let row = [Value::Float(2.5), Value::Int(1), Value::Text(String::new())];
        {
            let _guard = declare(Some(vec![I, R]));
            assert_eq!(render_row(&row), ["2", "1.000", "(empty)"]);
        }
        assert_eq!(render_row(&row), ["2.500", "1", "(empty)"]);
    }
}
