//! Scalar functions: what each is called, how many arguments it takes, the kind of
//! its result, and its evaluation on argument values.
//!
//! Every function here except COALESCE and NULLIF is *strict*: a NULL argument gives
//! NULL without calling it. COALESCE is evaluated lazily by the expression evaluator
//! (arguments after the first non-NULL one are not evaluated, so `COALESCE(x, 1/0)` is
//! fine when `x` is not NULL), and NULLIF compares its two arguments with SQL `=`.
//!
//! Argument kinds are checked by the binder (`bind/expr.rs`), which also casts the
//! arguments of COALESCE and NULLIF to one common kind; the functions themselves still
//! refuse wrong kinds with [`Error::Type`] rather than assuming.
//!
//! Text functions count characters, not bytes. `substr(s, start [, count])` is
//! PostgreSQL's: positions start at 1, a `start` before 1 eats into `count`, a negative
//! count is an error. `round(x)` rounds half away from zero (PostgreSQL's rounding of
//! NUMERIC, which is what `round(2.5)` means there), `round(x, n)` to `n` decimal digits
//! (`n` may be negative). `abs` and unary minus of the smallest integer overflow.
//!
//! `now()`, `CURRENT_TIMESTAMP` and `CURRENT_DATE` give the statement's time (UTC, we
//! have no time zones): the execution context reads the clock once, at the first call,
//! so every row of a statement sees the same time (PostgreSQL fixes it per transaction).
//! They are never constant-folded into a plan, so a prepared statement sees the time
//! of each execution.

use std::cmp::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::datetime::MICROS_PER_DAY;
use crate::error::{Error, Result};
use crate::value::{Kind, Value};

/// Which end(s) `trim` strips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrimSide {
    Both,
    Leading,
    Trailing,
}

/// A scalar function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    Coalesce,
    NullIf,
    Lower,
    Upper,
    Length,
    OctetLength,
    Substr,
    Trim(TrimSide),
    Abs,
    Round,
    Now,
    CurrentDate,
    CurrentTimestamp,
}

impl Function {
    /// The function a (lower-case) name calls.
    pub fn lookup(name: &str) -> Option<Function> {
        Some(match name {
            "coalesce" => Function::Coalesce,
            "nullif" => Function::NullIf,
            "lower" => Function::Lower,
            "upper" => Function::Upper,
            "length" | "char_length" | "character_length" => Function::Length,
            "octet_length" => Function::OctetLength,
            "substr" | "substring" => Function::Substr,
            "btrim" => Function::Trim(TrimSide::Both),
            "ltrim" => Function::Trim(TrimSide::Leading),
            "rtrim" => Function::Trim(TrimSide::Trailing),
            "abs" => Function::Abs,
            "round" => Function::Round,
            "now" => Function::Now,
            "current_date" => Function::CurrentDate,
            "current_timestamp" | "localtimestamp" => Function::CurrentTimestamp,
            _ => return None,
        })
    }

    /// The SQL name (for printing).
    pub fn name(self) -> &'static str {
        match self {
            Function::Coalesce => "coalesce",
            Function::NullIf => "nullif",
            Function::Lower => "lower",
            Function::Upper => "upper",
            Function::Length => "length",
            Function::OctetLength => "octet_length",
            Function::Substr => "substr",
            Function::Trim(TrimSide::Both) => "btrim",
            Function::Trim(TrimSide::Leading) => "ltrim",
            Function::Trim(TrimSide::Trailing) => "rtrim",
            Function::Abs => "abs",
            Function::Round => "round",
            Function::Now => "now",
            Function::CurrentDate => "CURRENT_DATE",
            Function::CurrentTimestamp => "CURRENT_TIMESTAMP",
        }
    }

    /// Whether it is written without parentheses (`CURRENT_DATE`).
    pub fn is_keyword(self) -> bool {
        matches!(self, Function::CurrentDate | Function::CurrentTimestamp)
    }

    /// The least and the most arguments it takes (`None`: any number).
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            Function::Coalesce => (1, None),
            Function::NullIf => (2, Some(2)),
            Function::Lower
            | Function::Upper
            | Function::Length
            | Function::OctetLength
            | Function::Abs => (1, Some(1)),
            Function::Substr => (2, Some(3)),
            Function::Trim(_) | Function::Round => (1, Some(2)),
            Function::Now | Function::CurrentDate | Function::CurrentTimestamp => (0, Some(0)),
        }
    }

    /// Whether its value depends on when it is evaluated (never folded into a plan).
    pub fn reads_clock(self) -> bool {
        matches!(
            self,
            Function::Now | Function::CurrentDate | Function::CurrentTimestamp
        )
    }

    /// The kind of its result, given its arguments' kinds (already made to agree for
    /// COALESCE and NULLIF).
    pub fn result_kind(self, args: &[Kind]) -> Kind {
        match self {
            Function::Coalesce => args
                .iter()
                .copied()
                .find(|k| *k != Kind::Unknown)
                .unwrap_or(Kind::Unknown),
            Function::NullIf => args.first().copied().unwrap_or(Kind::Unknown),
            Function::Lower | Function::Upper | Function::Substr | Function::Trim(_) => Kind::Text,
            Function::Length | Function::OctetLength => Kind::Int,
            Function::Abs | Function::Round => match args.first() {
                Some(Kind::Unknown) | None => Kind::Float,
                Some(k) => *k,
            },
            Function::Now | Function::CurrentTimestamp => Kind::Timestamp,
            Function::CurrentDate => Kind::Date,
        }
    }

    /// The kinds each argument may have (`Unknown` is always allowed), for the binder.
    pub fn accepts(self, position: usize, kind: Kind) -> bool {
        let numeric = matches!(kind, Kind::Int | Kind::Float | Kind::Unknown);
        let integer = matches!(kind, Kind::Int | Kind::Unknown);
        let text = matches!(kind, Kind::Text | Kind::Unknown);
        match (self, position) {
            (Function::Coalesce | Function::NullIf, _) => true,
            (Function::Lower | Function::Upper | Function::Length | Function::OctetLength, _) => {
                text
            }
            (Function::Trim(_), _) => text,
            (Function::Substr, 0) => text,
            (Function::Substr, _) => integer,
            (Function::Abs, _) => numeric,
            (Function::Round, 0) => numeric,
            (Function::Round, _) => integer,
            (Function::Now | Function::CurrentDate | Function::CurrentTimestamp, _) => false,
        }
    }

    /// Calls the function on evaluated arguments (COALESCE's are evaluated lazily by
    /// the caller, which still may pass them all here).
    pub fn call(self, args: Vec<Value>) -> Result<Value> {
        match self {
            Function::Coalesce => Ok(args
                .into_iter()
                .find(|v| !v.is_null())
                .unwrap_or(Value::Null)),
            Function::NullIf => {
                let mut args = args.into_iter();
                let (Some(a), Some(b)) = (args.next(), args.next()) else {
                    return Err(self.wrong_arguments());
                };
                match a.sql_cmp(&b)? {
                    Some(Ordering::Equal) => Ok(Value::Null),
                    _ => Ok(a),
                }
            }
            _ if args.iter().any(Value::is_null) => Ok(Value::Null),
            Function::Lower => Ok(Value::Text(self.text(&args, 0)?.to_lowercase())),
            Function::Upper => Ok(Value::Text(self.text(&args, 0)?.to_uppercase())),
            Function::Length => Ok(Value::Int(self.text(&args, 0)?.chars().count() as i64)),
            Function::OctetLength => Ok(Value::Int(self.text(&args, 0)?.len() as i64)),
            Function::Substr => {
                let count = match args.get(2) {
                    Some(_) => Some(self.int(&args, 2)?),
                    None => None,
                };
                substr(self.text(&args, 0)?, self.int(&args, 1)?, count).map(Value::Text)
            }
            Function::Trim(side) => {
                let characters: Vec<char> = match args.get(1) {
                    Some(_) => self.text(&args, 1)?.chars().collect(),
                    None => vec![' '],
                };
                let strip = |c: char| characters.contains(&c);
                let s = self.text(&args, 0)?;
                Ok(Value::Text(
                    match side {
                        TrimSide::Both => s.trim_matches(strip),
                        TrimSide::Leading => s.trim_start_matches(strip),
                        TrimSide::Trailing => s.trim_end_matches(strip),
                    }
                    .to_string(),
                ))
            }
            Function::Abs => match args.first() {
                Some(Value::Int(i)) => i
                    .checked_abs()
                    .map(Value::Int)
                    .ok_or_else(|| Error::Data("bigint out of range".into())),
                Some(Value::Float(f)) => Ok(Value::Float(f.abs())),
                _ => Err(self.wrong_arguments()),
            },
            Function::Round => {
                let digits = match args.get(1) {
                    Some(_) => self.int(&args, 1)?,
                    None => 0,
                };
                match args.first() {
                    Some(Value::Float(f)) => Ok(Value::Float(round_float(*f, digits))),
                    Some(Value::Int(i)) => round_int(*i, digits).map(Value::Int),
                    _ => Err(self.wrong_arguments()),
                }
            }
            Function::Now | Function::CurrentTimestamp | Function::CurrentDate => {
                self.at_time(now_micros()?)
            }
        }
    }

    /// The value of a clock function (`now()`, CURRENT_*) at `micros` since the epoch.
    pub fn at_time(self, micros: i64) -> Result<Value> {
        match self {
            Function::CurrentDate => i32::try_from(micros.div_euclid(MICROS_PER_DAY))
                .map(Value::Date)
                .map_err(|_| Error::Data("date out of range".into())),
            Function::Now | Function::CurrentTimestamp => Ok(Value::Timestamp(micros)),
            other => Err(Error::Type(format!(
                "{}() does not read the clock",
                other.name()
            ))),
        }
    }

    fn wrong_arguments(self) -> Error {
        Error::Type(format!("wrong arguments for function {}()", self.name()))
    }

    fn text<'a>(&self, args: &'a [Value], i: usize) -> Result<&'a str> {
        match args.get(i) {
            Some(Value::Text(s)) => Ok(s),
            _ => Err(self.wrong_arguments()),
        }
    }

    fn int(&self, args: &[Value], i: usize) -> Result<i64> {
        match args.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            _ => Err(self.wrong_arguments()),
        }
    }
}

/// The current time in microseconds since the epoch.
pub fn now_micros() -> Result<i64> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::Data("the system clock is before 1970".into()))?;
    i64::try_from(since.as_micros()).map_err(|_| Error::Data("timestamp out of range".into()))
}

/// PostgreSQL's `substr`: characters `start .. start + count` (1-based), clipped.
fn substr(s: &str, start: i64, count: Option<i64>) -> Result<String> {
    let end = match count {
        Some(n) if n < 0 => {
            return Err(Error::Data("negative substring length not allowed".into()));
        }
        Some(n) => start.saturating_add(n),
        None => i64::MAX,
    };
    let first = start.max(1);
    if end <= first {
        return Ok(String::new());
    }
    let skip = usize::try_from(first - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(end - first).unwrap_or(usize::MAX);
    Ok(s.chars().skip(skip).take(take).collect())
}

/// Rounds half away from zero to `digits` decimal places, on the number's shortest
/// decimal form (so `round(2.345, 2)` is 2.35, as PostgreSQL's NUMERIC gives, although
/// the nearest double to 2.345 is a little below it).
fn round_float(f: f64, digits: i64) -> f64 {
    if !f.is_finite() || f == 0.0 {
        return f;
    }
    let scientific = format!("{:e}", f.abs());
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return f;
    };
    let Ok(exponent) = exponent.parse::<i64>() else {
        return f;
    };
    let significant: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    // The first significant digit's place is 10^exponent; keep those down to 10^-digits.
    let keep = exponent.saturating_add(1).saturating_add(digits);
    let Ok(keep) = usize::try_from(keep) else {
        return 0.0_f64.copysign(f);
    };
    if keep >= significant.len() {
        return f;
    }
    let mut kept: u64 = 0;
    for digit in &significant[..keep] {
        kept = kept * 10 + u64::from(digit - b'0');
    }
    if significant[keep] >= b'5' {
        kept += 1;
    }
    let scale = exponent + 1 - keep as i64;
    format!("{kept}e{scale}")
        .parse::<f64>()
        .map_or(f, |rounded| rounded.copysign(f))
}

/// Rounds an integer to `digits` decimal places: only negative `digits` change it.
fn round_int(i: i64, digits: i64) -> Result<i64> {
    if digits >= 0 {
        return Ok(i);
    }
    let Some(scale) = u32::try_from(-digits)
        .ok()
        .and_then(|d| 10i64.checked_pow(d))
    else {
        return Ok(0);
    };
    let remainder = i % scale;
    let down = i - remainder;
    let result = match remainder.unsigned_abs() * 2 >= scale.unsigned_abs() {
        true if i >= 0 => down.checked_add(scale),
        true => down.checked_sub(scale),
        false => Some(down),
    };
    result.ok_or_else(|| Error::Data("bigint out of range".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Vec<Value>) -> Result<Value> {
        Function::lookup(name).unwrap().call(args)
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn coalesce_and_nullif() {
        assert_eq!(
            call("coalesce", vec![Value::Null, Value::Int(2), Value::Int(3)]),
            Ok(Value::Int(2))
        );
        assert_eq!(
            call("coalesce", vec![Value::Null, Value::Null]),
            Ok(Value::Null)
        );
        assert_eq!(
            call("nullif", vec![Value::Int(1), Value::Int(1)]),
            Ok(Value::Null)
        );
        assert_eq!(
            call("nullif", vec![Value::Int(1), Value::Int(2)]),
            Ok(Value::Int(1))
        );
        assert_eq!(
            call("nullif", vec![Value::Int(1), Value::Null]),
            Ok(Value::Int(1))
        );
        assert_eq!(
            call("nullif", vec![Value::Null, Value::Int(1)]),
            Ok(Value::Null)
        );
        assert!(matches!(
            call("nullif", vec![Value::Int(1), t("a")]),
            Err(Error::Type(_))
        ));
    }

    #[test]
    fn text_functions() {
        assert_eq!(call("lower", vec![t("ÀbC")]), Ok(t("àbc")));
        assert_eq!(call("upper", vec![t("àbc")]), Ok(t("ÀBC")));
        assert_eq!(call("length", vec![t("héllo")]), Ok(Value::Int(5)));
        assert_eq!(call("length", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(
            call("substr", vec![t("hello"), Value::Int(2), Value::Int(3)]),
            Ok(t("ell"))
        );
        assert_eq!(
            call("substr", vec![t("hello"), Value::Int(2)]),
            Ok(t("ello"))
        );
        assert_eq!(
            call("substr", vec![t("hello"), Value::Int(0), Value::Int(2)]),
            Ok(t("h"))
        );
        assert_eq!(
            call("substr", vec![t("hello"), Value::Int(-5), Value::Int(2)]),
            Ok(t(""))
        );
        assert_eq!(call("substr", vec![t("hello"), Value::Int(9)]), Ok(t("")));
        assert_eq!(
            call("substr", vec![t("héllo"), Value::Int(2), Value::Int(1)]),
            Ok(t("é"))
        );
        assert!(matches!(
            call("substr", vec![t("hello"), Value::Int(1), Value::Int(-1)]),
            Err(Error::Data(_))
        ));
        assert_eq!(call("btrim", vec![t("  a b  ")]), Ok(t("a b")));
        assert_eq!(call("ltrim", vec![t("  a  ")]), Ok(t("a  ")));
        assert_eq!(call("rtrim", vec![t("xxaxx"), t("x")]), Ok(t("xxa")));
        assert!(matches!(
            call("lower", vec![Value::Int(1)]),
            Err(Error::Type(_))
        ));
    }

    #[test]
    fn numeric_functions() {
        assert_eq!(call("abs", vec![Value::Int(-3)]), Ok(Value::Int(3)));
        assert_eq!(call("abs", vec![Value::Float(-2.5)]), Ok(Value::Float(2.5)));
        assert!(matches!(
            call("abs", vec![Value::Int(i64::MIN)]),
            Err(Error::Data(_))
        ));
        assert_eq!(
            call("round", vec![Value::Float(2.5)]),
            Ok(Value::Float(3.0))
        );
        assert_eq!(
            call("round", vec![Value::Float(-2.5)]),
            Ok(Value::Float(-3.0))
        );
        assert_eq!(
            call("round", vec![Value::Float(2.345), Value::Int(2)]),
            Ok(Value::Float(2.35))
        );
        assert_eq!(
            call("round", vec![Value::Float(1234.5), Value::Int(-2)]),
            Ok(Value::Float(1200.0))
        );
        assert_eq!(call("round", vec![Value::Int(7)]), Ok(Value::Int(7)));
        assert_eq!(
            call("round", vec![Value::Int(1250), Value::Int(-2)]),
            Ok(Value::Int(1300))
        );
        assert_eq!(
            call("round", vec![Value::Int(-1250), Value::Int(-2)]),
            Ok(Value::Int(-1300))
        );
        assert_eq!(
            call("round", vec![Value::Int(1249), Value::Int(-2)]),
            Ok(Value::Int(1200))
        );
        assert_eq!(
            call("round", vec![Value::Int(5), Value::Int(-40)]),
            Ok(Value::Int(0))
        );
        assert!(matches!(
            call("round", vec![Value::Int(i64::MAX), Value::Int(-1)]),
            Err(Error::Data(_))
        ));
        assert_eq!(
            call("round", vec![Value::Float(1e300), Value::Int(20)]),
            Ok(Value::Float(1e300))
        );
        assert_eq!(
            call("round", vec![Value::Float(0.004), Value::Int(2)]),
            Ok(Value::Float(0.0))
        );
        assert_eq!(
            call("round", vec![Value::Float(0.005), Value::Int(2)]),
            Ok(Value::Float(0.01))
        );
        assert_eq!(
            call("round", vec![Value::Float(9.96), Value::Int(1)]),
            Ok(Value::Float(10.0))
        );
        assert_eq!(
            call("round", vec![Value::Float(0.4)]),
            Ok(Value::Float(0.0))
        );
        assert_eq!(
            call("round", vec![Value::Float(-0.6)]),
            Ok(Value::Float(-1.0))
        );
        assert_eq!(call("round", vec![Value::Null]), Ok(Value::Null));
    }

    #[test]
    fn clock_functions_agree_with_each_other() {
        let Ok(Value::Timestamp(now)) = call("now", vec![]) else {
            panic!("now() is not a timestamp");
        };
        let Ok(Value::Date(today)) = call("current_date", vec![]) else {
            panic!("CURRENT_DATE is not a date");
        };
        // The date is the day of the timestamp (or the next, if midnight passed between).
        let day = now.div_euclid(MICROS_PER_DAY);
        assert!(i64::from(today) == day || i64::from(today) == day + 1);
        assert!(Function::Now.reads_clock() && !Function::Lower.reads_clock());
        assert_eq!(
            Function::CurrentDate.at_time(MICROS_PER_DAY * 2 - 1),
            Ok(Value::Date(1))
        );
        assert_eq!(Function::Now.at_time(5), Ok(Value::Timestamp(5)));
        assert!(Function::Lower.at_time(5).is_err());
    }

    #[test]
    fn lookup_knows_names_and_arity() {
        assert_eq!(Function::lookup("char_length"), Some(Function::Length));
        assert_eq!(Function::lookup("no_such_function"), None);
        assert_eq!(Function::Substr.arity(), (2, Some(3)));
        assert!(Function::Substr.accepts(1, Kind::Int) && !Function::Substr.accepts(0, Kind::Int));
    }
}
