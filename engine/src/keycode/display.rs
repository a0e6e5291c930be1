//! Key values as text, the way PostgreSQL's output functions write them, for the
//! `Key (a, b)=(1, x)` part of constraint errors (see [`describe_key`]).

use std::fmt;

use super::KeyValue;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// The (year, month, day) of a day number counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

impl fmt::Display for KeyValue {
    /// The value as PostgreSQL prints it: `t`/`f`, digits, text unquoted, dates as
    /// `YYYY-MM-DD`, timestamps as `YYYY-MM-DD HH:MM:SS[.ffffff]`, bytes as `\x` hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyValue::Null => f.write_str("null"),
            KeyValue::Bool(b) => f.write_str(if *b { "t" } else { "f" }),
            KeyValue::Int(i) => write!(f, "{i}"),
            KeyValue::Numeric(n) => write!(f, "{n}"),
            KeyValue::Float(x) if x.is_nan() => f.write_str("NaN"),
            KeyValue::Float(x) if x.is_infinite() => {
                f.write_str(if *x > 0.0 { "Infinity" } else { "-Infinity" })
            }
            KeyValue::Float(x) => write!(f, "{x}"),
            KeyValue::Date(days) => {
                let (y, m, d) = civil_from_days(i64::from(*days));
                write!(f, "{y:04}-{m:02}-{d:02}")
            }
            KeyValue::Timestamp(micros) => {
                let (y, m, d) = civil_from_days(micros.div_euclid(MICROS_PER_DAY));
                let rest = micros.rem_euclid(MICROS_PER_DAY);
                let secs = rest / MICROS_PER_SECOND;
                write!(
                    f,
                    "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60
                )?;
                match rest % MICROS_PER_SECOND {
                    0 => Ok(()),
                    frac => write!(f, ".{}", format!("{frac:06}").trim_end_matches('0')),
                }
            }
            KeyValue::Text(s) => f.write_str(s),
            KeyValue::Bytes(b) => {
                f.write_str("\\x")?;
                b.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
            }
            // PostgreSQL's verbose style, field by field (the SQL layer, which knows
            // the default style, writes its own keys: `sql_frontend/src/exec/
            // duplicate_key.rs`).
            KeyValue::Interval {
                months,
                days,
                micros,
            } => write!(f, "@ {months} mons {days} days {micros} usecs"),
        }
    }
}

/// `(a, b)=(1, x)`: columns and values as PostgreSQL's `Key ...` error details name a
/// key.
pub fn describe_key(columns: &[&str], values: &[KeyValue]) -> String {
    let values: Vec<String> = values.iter().map(ToString::to_string).collect();
    format!("({})=({})", columns.join(", "), values.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_postgresql_prints_them() {
        let cases = [
            (KeyValue::Bool(true), "t"),
            (KeyValue::Int(-5), "-5"),
            (KeyValue::Float(1.5), "1.5"),
            (KeyValue::Float(f64::NEG_INFINITY), "-Infinity"),
            (KeyValue::Date(0), "1970-01-01"),
            (KeyValue::Date(-1), "1969-12-31"),
            (KeyValue::Date(19_782), "2024-02-29"),
            (
                KeyValue::Timestamp(86_400 * 1_000_000 + 61_500_000),
                "1970-01-02 00:01:01.5",
            ),
            (KeyValue::Timestamp(-1), "1969-12-31 23:59:59.999999"),
            (KeyValue::Text("a b".into()), "a b"),
            (KeyValue::Bytes(vec![0, 0xab]), "\\x00ab"),
        ];
        for (value, text) in cases {
            assert_eq!(value.to_string(), text, "{value:?}");
        }
        assert_eq!(
            describe_key(&["a", "b"], &[KeyValue::Int(1), KeyValue::Text("x".into())]),
            "(a, b)=(1, x)"
        );
    }
}
