//! Explicit casts: `CAST(x AS type)` and `x::type`.
//!
//! An explicit cast allows everything an assignment cast allows ([`SqlType::assign`]:
//! numbers into each other with range checks, text parsed into any type, anything
//! printed as text, DATE and TIMESTAMP into each other) and, as in PostgreSQL, a little
//! more:
//!
//! - BOOLEAN to an integer type is 1 or 0, and an integer to BOOLEAN is `<> 0`;
//! - BOOLEAN to text is `true`/`false` (not the `t`/`f` that results print);
//! - to `VARCHAR(n)`, text longer than `n` characters is cut to `n` rather than refused.
//!
//! What neither allows (an integer to a DATE, say) is [`Error::Type`] naming both types;
//! text that does not parse as the target type is [`Error::Data`]. NULL casts to NULL.
//!
//! NUMERIC converts to and from the integers, the doubles and text (`numeric/convert.rs`:
//! to an integer it rounds half away from zero, as PostgreSQL does).
//!
//! One implicit conversion lives here too, [`exact_double`]: an integer made DOUBLE
//! PRECISION where integers and doubles meet in one result (CASE, COALESCE, UNION ...).
//! PostgreSQL converts it to the nearest double; hdb converts only the integers a
//! double holds exactly (every one up to 2^53 in magnitude) and refuses the rest,
//! rather than silently answering a different number. (Integers meeting decimal
//! literals, which are NUMERIC, are exact anyway.)

use crate::error::{Error, Result};
use crate::types::SqlType;
use crate::value::{Kind, Value};

/// Casts `value` to `to`.
pub fn cast(value: Value, to: SqlType) -> Result<Value> {
    let from_kind = value.kind();
    match (value, to.kind()) {
        (Value::Null, _) => Ok(Value::Null),
        (Value::Bool(b), Kind::Int) => to.assign(Value::Int(i64::from(b))),
        (Value::Int(i), Kind::Bool) => Ok(Value::Bool(i != 0)),
        (Value::Bool(b), Kind::Text) => {
            truncate(Value::Text(if b { "true" } else { "false" }.into()), to)
        }
        (value, Kind::Text) => truncate(Value::Text(value.to_string()), to),
        (value, _) => to.assign(value).map_err(|e| match e {
            Error::Type(_) => Error::Type(format!("cannot cast type {from_kind} to {to}")),
            other => other,
        }),
    }
}

/// `value`, an integer, as the DOUBLE PRECISION that equals it (see the module comment);
/// an integer no double equals is [`Error::Data`].
pub fn exact_double(value: Value) -> Result<Value> {
    /// 2^63 as a float: `i64::MAX` rounds up to it, and no i64 equals it.
    const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;
    match value {
        Value::Int(i) => {
            let f = i as f64;
            match f < I64_LIMIT && f as i64 == i {
                true => Ok(Value::Float(f)),
                false => Err(Error::Data(format!(
                    "integer {i} has no exact double precision value: integers and \
                     doubles meeting in one result (CASE, COALESCE, UNION, VALUES ...) \
                     become double precision; cast the doubles to numeric or the \
                     integers to double precision"
                ))),
            }
        }
        Value::Null | Value::Float(_) => Ok(value),
        other => Err(Error::Type(format!(
            "cannot convert type {} to double precision here",
            other.kind()
        ))),
    }
}

/// Whether a cast from `from` to `to` can succeed for some value (so the binder can
/// refuse impossible casts before running anything).
pub fn castable(from: Kind, to: SqlType) -> bool {
    use Kind::*;
    match (from, to.kind()) {
        (Unknown | Text, _) | (_, Text) => true,
        (a, b) if a == b => true,
        (Int | Float | Numeric, Int | Float | Numeric) | (Int, Bool) | (Bool, Int) => true,
        (Date | Timestamp, Date | Timestamp) => true,
        _ => false,
    }
}

/// Text cast to `VARCHAR(n)` keeps its first `n` characters; to `CHAR(n)`, its first
/// `n` padded with blanks to `n`.
fn truncate(value: Value, to: SqlType) -> Result<Value> {
    match (value, to) {
        (Value::Text(s), SqlType::Varchar(Some(n))) => {
            Ok(Value::Text(s.chars().take(n as usize).collect()))
        }
        (Value::Text(s), SqlType::Char(Some(n))) => {
            Ok(Value::Text(crate::types::cut_and_pad(&s, n)))
        }
        (value, _) => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::interval::Interval;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn text_parses_into_every_type() {
        assert_eq!(cast(text(" 42 "), SqlType::Integer), Ok(Value::Int(42)));
        assert_eq!(cast(text("2.5"), SqlType::Double), Ok(Value::Float(2.5)));
        assert_eq!(cast(text("yes"), SqlType::Boolean), Ok(Value::Bool(true)));
        assert_eq!(cast(text("1970-01-03"), SqlType::Date), Ok(Value::Date(2)));
        assert_eq!(
            cast(text("1970-01-01 00:00:01"), SqlType::Timestamp),
            Ok(Value::Timestamp(1_000_000))
        );
        assert_eq!(
            cast(text("7 days"), SqlType::Interval),
            Ok(Value::Interval(Interval {
                months: 0,
                days: 7,
                micros: 0
            }))
        );
        for (bad, ty) in [
            ("abc", SqlType::Integer),
            ("1.5.2", SqlType::Double),
            ("maybe", SqlType::Boolean),
            ("2024-02-30", SqlType::Date),
            ("noon", SqlType::Timestamp),
            ("7 eons", SqlType::Interval),
            ("99999", SqlType::SmallInt),
        ] {
            assert!(
                matches!(cast(text(bad), ty), Err(Error::Data(_))),
                "{bad} as {ty}"
            );
        }
    }

    #[test]
    fn numbers_booleans_and_text() {
        assert_eq!(cast(Value::Float(2.5), SqlType::Integer), Ok(Value::Int(2)));
        let numeric = |s: &str| Value::numeric(crate::numeric::from_text(s).unwrap());
        assert_eq!(cast(numeric("2.5"), SqlType::Integer), Ok(Value::Int(3)));
        assert_eq!(cast(numeric("-2.5"), SqlType::BigInt), Ok(Value::Int(-3)));
        assert_eq!(
            cast(numeric("32767.5"), SqlType::SmallInt),
            Err(Error::Data("smallint out of range".into()))
        );
        assert_eq!(cast(numeric("0.1"), SqlType::Double), Ok(Value::Float(0.1)));
        assert_eq!(
            cast(Value::Float(0.1), SqlType::Numeric(None)),
            Ok(numeric("0.1"))
        );
        assert_eq!(cast(numeric("1.50"), SqlType::Text), Ok(text("1.50")));
        assert_eq!(
            cast(text(" 1.50 "), SqlType::Numeric(None)).map(|v| v.to_string()),
            Ok("1.50".into())
        );
        assert_eq!(cast(Value::Float(3.5), SqlType::BigInt), Ok(Value::Int(4)));
        assert_eq!(cast(Value::Int(3), SqlType::Real), Ok(Value::Float(3.0)));
        assert!(matches!(
            cast(Value::Int(40_000), SqlType::SmallInt),
            Err(Error::Data(_))
        ));
        assert!(matches!(
            cast(Value::Float(1e300), SqlType::BigInt),
            Err(Error::Data(_))
        ));
        assert_eq!(cast(Value::Bool(true), SqlType::Integer), Ok(Value::Int(1)));
        assert_eq!(
            cast(Value::Int(0), SqlType::Boolean),
            Ok(Value::Bool(false))
        );
        assert_eq!(cast(Value::Bool(false), SqlType::Text), Ok(text("false")));
        assert_eq!(cast(Value::Int(-7), SqlType::Text), Ok(text("-7")));
        assert_eq!(cast(Value::Date(0), SqlType::Text), Ok(text("1970-01-01")));
        assert_eq!(
            cast(text("abcdef"), SqlType::Varchar(Some(3))),
            Ok(text("abc"))
        );
        assert_eq!(cast(Value::Null, SqlType::Integer), Ok(Value::Null));
    }

    #[test]
    fn dates_and_timestamps_convert() {
        let day = crate::datetime::MICROS_PER_DAY;
        assert_eq!(
            cast(Value::Date(2), SqlType::Timestamp),
            Ok(Value::Timestamp(2 * day))
        );
        assert_eq!(
            cast(Value::Timestamp(2 * day + 5), SqlType::Date),
            Ok(Value::Date(2))
        );
        assert_eq!(
            cast(Value::Timestamp(-1), SqlType::Date),
            Ok(Value::Date(-1))
        );
    }

    #[test]
    fn impossible_casts_are_type_errors() {
        for (value, ty) in [
            (Value::Int(1), SqlType::Date),
            (Value::Date(1), SqlType::Integer),
            (Value::Bool(true), SqlType::Double),
            (Value::Bool(true), SqlType::Numeric(None)),
            (Value::Date(1), SqlType::Numeric(None)),
            (Value::Float(1.0), SqlType::Boolean),
            (Value::Timestamp(0), SqlType::Interval),
        ] {
            assert!(!castable(value.kind(), ty));
            assert_eq!(
                cast(value.clone(), ty),
                Err(Error::Type(format!(
                    "cannot cast type {} to {ty}",
                    value.kind()
                )))
            );
        }
    }

    proptest! {
        #[test]
        fn integers_round_trip_through_text(i in any::<i64>()) {
            let t = cast(Value::Int(i), SqlType::Text).unwrap();
            prop_assert_eq!(cast(t, SqlType::BigInt).unwrap(), Value::Int(i));
        }

        #[test]
        fn floats_round_trip_through_text(f in any::<f64>().prop_filter("not NaN", |f| !f.is_nan())) {
            let t = cast(Value::Float(f), SqlType::Text).unwrap();
            prop_assert_eq!(cast(t, SqlType::Double).unwrap(), Value::Float(f));
        }

        #[test]
        fn dates_round_trip_through_text(d in -700_000i32..3_000_000) {
            let t = cast(Value::Date(d), SqlType::Text).unwrap();
            prop_assert_eq!(cast(t, SqlType::Date).unwrap(), Value::Date(d));
        }

        #[test]
        fn timestamps_round_trip_through_text(t in -60_000_000_000_000_000i64..200_000_000_000_000_000) {
            let text = cast(Value::Timestamp(t), SqlType::Text).unwrap();
            prop_assert_eq!(cast(text, SqlType::Timestamp).unwrap(), Value::Timestamp(t));
        }

        #[test]
        fn intervals_round_trip_through_text(
            months in -100_000i32..100_000,
            days in -100_000i32..100_000,
            micros in -1_000_000_000_000_000i64..1_000_000_000_000_000,
        ) {
            let i = Value::Interval(Interval { months, days, micros });
            let text = cast(i.clone(), SqlType::Text).unwrap();
            prop_assert_eq!(cast(text, SqlType::Interval).unwrap(), i);
        }

        #[test]
        fn smallints_survive_widening_and_narrowing(i in any::<i16>()) {
            let wide = cast(Value::Int(i64::from(i)), SqlType::BigInt).unwrap();
            prop_assert_eq!(cast(wide, SqlType::SmallInt).unwrap(), Value::Int(i64::from(i)));
        }
    }
}
