//! Date and time functions: the clock, `date_trunc`, `extract` / `date_part`, `age`.
//!
//! ## The clock
//!
//! `now()`, `CURRENT_TIMESTAMP` and `CURRENT_DATE` give the statement's time (UTC, we
//! have no time zones): the execution context reads the clock once, at the first call,
//! so every row of a statement sees the same time (PostgreSQL fixes it per
//! transaction). They are stable, never folded into a plan, so a prepared statement sees
//! the time of each execution.
//!
//! ## Fields
//!
//! [`DateField`] is a unit of `extract(field FROM x)`, `date_part('field', x)` and
//! `date_trunc('field', x)`, spelled as PostgreSQL spells units (`year`, `years`, `yr`,
//! `y` ...; case does not matter). Which fields a kind of value has follows PostgreSQL:
//! a DATE has no time-of-day fields (`unit "hour" not supported for type date`,
//! SQLSTATE 0A000), an INTERVAL no calendar ones (`dow`, `doy`, `week`, `isoyear`,
//! `julian`); a word that is no unit is `unit "x" not recognized for type ...` (22023).
//!
//! ## Result types (differs from PostgreSQL)
//!
//! PostgreSQL's `extract` returns NUMERIC. Here it returns NUMERIC, exactly as
//! PostgreSQL prints it, for second and epoch (6 digits after the point:
//! `extract(second FROM TIMESTAMP '... 10:11:12.5')` is `12.500000`; a DATE's epoch
//! has none) and millisecond (3 digits); BIGINT for the whole-numbered fields (year,
//! month, day, hour, minute, microsecond, dow, isodow, doy, week, quarter, decade,
//! century, millennium, isoyear), which print the same digits; and DOUBLE PRECISION
//! for julian, where PostgreSQL's NUMERIC has more digits.
//! `date_part` returns DOUBLE PRECISION, as in PostgreSQL. `date_trunc` of a DATE is a
//! TIMESTAMP here (PostgreSQL gives `timestamp with time zone`; hdb has no zones).
//!
//! ## age
//!
//! `age(a, b)` is PostgreSQL's symbolic difference: field by field (years, months,
//! days, time), each negative field borrowing from the next larger one — a month
//! borrowed is as long as the month of the earlier argument — so
//! `age('2024-03-01', '2024-01-31')` is `1 mon 1 day`. `age(x)` is `age` from midnight
//! of CURRENT_DATE (the binder writes it so).

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Args, Function};
use crate::datetime::{MICROS_PER_DAY, civil_from_days, date_to_micros, days_from_civil};
use crate::error::{Error, Result};
use crate::interval::{Interval, IntervalUnit};
use crate::value::{Kind, Value};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
/// The Julian day number of 1970-01-01.
const JULIAN_EPOCH_DAY: i64 = 2_440_588;
/// PostgreSQL's year and month lengths when an interval becomes seconds (`epoch`).
const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;
const SECONDS_PER_MONTH: f64 = 30.0 * 86_400.0;

/// A field of a date, timestamp or interval (see the module comment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateField {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Decade,
    Century,
    Millennium,
    Dow,
    Isodow,
    Doy,
    Isoyear,
    Epoch,
    Julian,
}

impl DateField {
    /// The field a unit word names (PostgreSQL's spellings, any case): the units of
    /// interval text, and the fields only dates and timestamps have.
    pub fn parse(word: &str) -> Option<DateField> {
        use DateField::*;
        if let Some(unit) = IntervalUnit::parse(word) {
            return Some(match unit {
                IntervalUnit::Microsecond => Microsecond,
                IntervalUnit::Millisecond => Millisecond,
                IntervalUnit::Second => Second,
                IntervalUnit::Minute => Minute,
                IntervalUnit::Hour => Hour,
                IntervalUnit::Day => Day,
                IntervalUnit::Week => Week,
                IntervalUnit::Month => Month,
                IntervalUnit::Year => Year,
                IntervalUnit::Decade => Decade,
                IntervalUnit::Century => Century,
                IntervalUnit::Millennium => Millennium,
            });
        }
        Some(match word.to_ascii_lowercase().as_str() {
            "quarter" | "qtr" => Quarter,
            "dec" => Decade,
            "c" | "cent" => Century,
            "mil" | "mils" => Millennium,
            "dow" => Dow,
            "isodow" => Isodow,
            "doy" => Doy,
            "isoyear" => Isoyear,
            "epoch" => Epoch,
            "julian" | "j" => Julian,
            _ => return None,
        })
    }

    /// The field's name, as `EXTRACT` prints it.
    pub fn name(self) -> &'static str {
        use DateField::*;
        match self {
            Microsecond => "microseconds",
            Millisecond => "milliseconds",
            Second => "second",
            Minute => "minute",
            Hour => "hour",
            Day => "day",
            Week => "week",
            Month => "month",
            Quarter => "quarter",
            Year => "year",
            Decade => "decade",
            Century => "century",
            Millennium => "millennium",
            Dow => "dow",
            Isodow => "isodow",
            Doy => "doy",
            Isoyear => "isoyear",
            Epoch => "epoch",
            Julian => "julian",
        }
    }

    /// The kind `extract` gives for this field (see the module comment).
    pub fn extract_kind(self) -> Kind {
        match self {
            DateField::Second | DateField::Millisecond | DateField::Epoch => Kind::Numeric,
            DateField::Julian => Kind::Float,
            _ => Kind::Int,
        }
    }

    /// Whether values of `kind` have this field (an `Unknown` argument has them all).
    pub fn applies_to(self, kind: Kind) -> bool {
        use DateField::*;
        match kind {
            Kind::Date => !matches!(self, Microsecond | Millisecond | Second | Minute | Hour),
            Kind::Interval => !matches!(self, Week | Dow | Isodow | Doy | Isoyear | Julian),
            _ => true,
        }
    }
}

/// PostgreSQL's name of a kind in unit errors.
fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Date => "date",
        Kind::Interval => "interval",
        _ => "timestamp without time zone",
    }
}

/// `unit "word" not recognized for type ...` (22023).
pub fn unit_not_recognized(word: &str, kind: Kind) -> Error {
    Error::Data(format!(
        "unit \"{}\" not recognized for type {}",
        word.to_lowercase(),
        type_name(kind)
    ))
}

/// `unit "word" not supported for type ...` (0A000).
pub fn unit_not_supported(word: &str, kind: Kind) -> Error {
    Error::Data(format!(
        "unit \"{}\" not supported for type {}",
        word.to_lowercase(),
        type_name(kind)
    ))
}

pub(super) fn call(args: &Args) -> Result<Value> {
    match args.function {
        Function::Extract(field) => {
            let value = args.get(0).ok_or_else(|| args.error())?;
            let kind = value.kind();
            if !field.applies_to(kind) {
                return Err(unit_not_supported(field.name(), kind));
            }
            let part = part(field, value).ok_or_else(|| args.error())?;
            Ok(match field.extract_kind() {
                Kind::Int => Value::Int(part.as_int()),
                Kind::Numeric => Value::numeric(part.as_numeric(field, kind)?),
                _ => Value::Float(part.as_float()),
            })
        }
        Function::DatePart => {
            let word = args.text(0)?;
            let value = args.get(1).ok_or_else(|| args.error())?;
            // date_part has no DATE form in PostgreSQL: a date is cast to a timestamp.
            let value = match value {
                Value::Date(d) => Value::Timestamp(date_micros(*d)?),
                other => other.clone(),
            };
            let kind = value.kind();
            let field = DateField::parse(word).ok_or_else(|| unit_not_recognized(word, kind))?;
            if !field.applies_to(kind) {
                return Err(unit_not_supported(word, kind));
            }
            let part = part(field, &value).ok_or_else(|| args.error())?;
            Ok(Value::Float(part.as_float()))
        }
        Function::DateTrunc => {
            let word = args.text(0)?;
            match args.get(1) {
                Some(Value::Timestamp(t)) => trunc_timestamp(word, *t).map(Value::Timestamp),
                Some(Value::Date(d)) => {
                    trunc_timestamp(word, date_micros(*d)?).map(Value::Timestamp)
                }
                Some(Value::Interval(i)) => trunc_interval(word, *i).map(Value::Interval),
                _ => Err(args.error()),
            }
        }
        Function::Age => {
            let a = timestamp_of(args.get(0)).ok_or_else(|| args.error())??;
            let b = timestamp_of(args.get(1)).ok_or_else(|| args.error())??;
            age(a, b).map(Value::Interval)
        }
        _ => Err(args.error()),
    }
}

fn date_micros(days: i32) -> Result<i64> {
    date_to_micros(days).ok_or_else(|| Error::Data("timestamp out of range".into()))
}

fn timestamp_of(value: Option<&Value>) -> Option<Result<i64>> {
    match value? {
        Value::Timestamp(t) => Some(Ok(*t)),
        Value::Date(d) => Some(date_micros(*d)),
        _ => None,
    }
}

/// The value of a clock function (`now()`, CURRENT_*) at `micros` since the epoch.
pub(super) fn at_time(function: Function, micros: i64) -> Result<Value> {
    match function {
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

/// The current time in microseconds since the epoch.
pub fn now_micros() -> Result<i64> {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Error::Data("the system clock is before 1970".into()))?;
    i64::try_from(since.as_micros()).map_err(|_| Error::Data("timestamp out of range".into()))
}

/// A field's value: whole, or with a fraction (seconds, epoch, julian).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Whole(i64),
    /// `whole + micros / 1e6`, kept apart so that large epochs stay exact.
    Micros(i64),
    Fraction(f64),
}

impl Part {
    fn as_int(self) -> i64 {
        match self {
            Part::Whole(i) => i,
            Part::Micros(m) => m / MICROS_PER_SECOND,
            Part::Fraction(f) => f as i64,
        }
    }

    /// The part as `extract` gives it in NUMERIC: seconds and epochs with 6 digits after
    /// the point (a date's epoch with none), milliseconds with 3, as PostgreSQL 15.
    fn as_numeric(self, field: DateField, of: Kind) -> Result<crate::numeric::Numeric> {
        use crate::numeric::{Numeric, round};
        let micros = |m: i64| Numeric::new(m.into(), 6).ok_or_else(crate::numeric::overflow);
        match (self, field) {
            (Part::Micros(m), DateField::Epoch) if of == Kind::Date => round(&micros(m)?, 0),
            (Part::Micros(m), _) => micros(m),
            // Milliseconds: microseconds within the minute / 1000, exactly.
            (Part::Fraction(f), DateField::Millisecond) => {
                Numeric::new(((f * 1e3).round() as i64).into(), 3)
                    .ok_or_else(crate::numeric::overflow)
            }
            (Part::Fraction(f), _) => crate::numeric::from_f64(f),
            (Part::Whole(i), _) => Ok(Numeric::from_i64(i)),
        }
    }

    fn as_float(self) -> f64 {
        match self {
            Part::Whole(i) => i as f64,
            Part::Micros(m) => {
                (m / MICROS_PER_SECOND) as f64 + (m % MICROS_PER_SECOND) as f64 / 1e6
            }
            Part::Fraction(f) => f,
        }
    }
}

/// The calendar fields of a timestamp.
struct Civil {
    days: i64,
    year: i64,
    month: u32,
    day: u32,
    /// Microseconds since midnight.
    time: i64,
}

impl Civil {
    fn of(t: i64) -> Civil {
        let days = t.div_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Civil {
            days,
            year,
            month,
            day,
            time: t.rem_euclid(MICROS_PER_DAY),
        }
    }

    /// ISO day of the week: Monday 1 .. Sunday 7 (1970-01-01 was a Thursday).
    fn isodow(&self) -> i64 {
        (self.days + 3).rem_euclid(7) + 1
    }

    fn doy(&self) -> i64 {
        self.days - days_from_civil(self.year, 1, 1) + 1
    }

    /// The ISO 8601 (year, week): weeks start on Monday, and week 1 holds the year's
    /// first Thursday.
    fn iso_week(&self) -> (i64, i64) {
        let thursday = self.days - self.isodow() + 4;
        let (year, _, _) = civil_from_days(thursday);
        let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
        (year, week)
    }
}

/// `field` of a timestamp, date or interval (`None`: not such a value).
fn part(field: DateField, value: &Value) -> Option<Part> {
    use DateField::*;
    let t = match value {
        Value::Timestamp(t) => *t,
        Value::Date(d) => date_to_micros(*d)?,
        Value::Interval(i) => return Some(interval_part(field, *i)),
        _ => return None,
    };
    let c = Civil::of(t);
    let in_minute = c.time % MICROS_PER_MINUTE;
    Some(match field {
        Microsecond => Part::Whole(in_minute),
        Millisecond => Part::Fraction(in_minute as f64 / 1e3),
        Second => Part::Micros(in_minute),
        Minute => Part::Whole(c.time / MICROS_PER_MINUTE % 60),
        Hour => Part::Whole(c.time / MICROS_PER_HOUR),
        Day => Part::Whole(i64::from(c.day)),
        Week => Part::Whole(c.iso_week().1),
        Month => Part::Whole(i64::from(c.month)),
        Quarter => Part::Whole((i64::from(c.month) - 1) / 3 + 1),
        Year => Part::Whole(c.year),
        Decade => Part::Whole(c.year.div_euclid(10)),
        Century => Part::Whole(match c.year > 0 {
            true => (c.year + 99) / 100,
            false => -((99 - (c.year - 1)) / 100),
        }),
        Millennium => Part::Whole(match c.year > 0 {
            true => (c.year + 999) / 1000,
            false => -((999 - (c.year - 1)) / 1000),
        }),
        Dow => Part::Whole(c.isodow() % 7),
        Isodow => Part::Whole(c.isodow()),
        Doy => Part::Whole(c.doy()),
        Isoyear => Part::Whole(c.iso_week().0),
        Epoch => Part::Micros(t),
        Julian => Part::Fraction(
            (c.days + JULIAN_EPOCH_DAY) as f64 + c.time as f64 / MICROS_PER_DAY as f64,
        ),
    })
}

/// `field` of an interval (fields `applies_to` refuses give 0; the caller checks).
fn interval_part(field: DateField, i: Interval) -> Part {
    use DateField::*;
    let years = i64::from(i.months / 12);
    let in_minute = i.micros % MICROS_PER_MINUTE;
    match field {
        Microsecond => Part::Whole(in_minute),
        Millisecond => Part::Fraction(in_minute as f64 / 1e3),
        Second => Part::Micros(in_minute),
        Minute => Part::Whole(i.micros / MICROS_PER_MINUTE % 60),
        Hour => Part::Whole(i.micros / MICROS_PER_HOUR),
        Day => Part::Whole(i64::from(i.days)),
        Month => Part::Whole(i64::from(i.months % 12)),
        Quarter => Part::Whole(i64::from(i.months % 12) / 3 + 1),
        Year => Part::Whole(years),
        Decade => Part::Whole(years / 10),
        Century => Part::Whole(years / 100),
        Millennium => Part::Whole(years / 1000),
        // Exact in microseconds (a year of 365.25 days and a month of 30 are whole
        // seconds) where that fits 64 bits.
        Epoch => {
            let seconds = SECONDS_PER_YEAR as i128 * i128::from(years)
                + SECONDS_PER_MONTH as i128 * i128::from(i.months % 12)
                + 86_400 * i128::from(i.days);
            match i64::try_from(seconds * i128::from(MICROS_PER_SECOND) + i128::from(i.micros)) {
                Ok(micros) => Part::Micros(micros),
                Err(_) => Part::Fraction(seconds as f64 + Part::Micros(i.micros).as_float()),
            }
        }
        Week | Dow | Isodow | Doy | Isoyear | Julian => Part::Whole(0),
    }
}

/// `date_trunc(word, t)` for a timestamp.
fn trunc_timestamp(word: &str, t: i64) -> Result<i64> {
    use DateField::*;
    let c = Civil::of(t);
    let field = DateField::parse(word).ok_or_else(|| unit_not_recognized(word, Kind::Timestamp))?;
    let midnight = |days: i64| days * MICROS_PER_DAY;
    let first_of = |year: i64, month: u32| midnight(days_from_civil(year, month, 1));
    let first_year = |year: i64| first_of(year, 1);
    let day_start = t - c.time;
    Ok(match field {
        Microsecond => t,
        Millisecond => t - t.rem_euclid(1_000),
        Second => t - t.rem_euclid(MICROS_PER_SECOND),
        Minute => t - t.rem_euclid(MICROS_PER_MINUTE),
        Hour => t - t.rem_euclid(MICROS_PER_HOUR),
        Day => day_start,
        Week => midnight(c.days - c.isodow() + 1),
        Month => first_of(c.year, c.month),
        Quarter => first_of(c.year, (c.month - 1) / 3 * 3 + 1),
        Year => first_year(c.year),
        Decade => first_year(c.year - c.year.rem_euclid(10)),
        Century => first_year((c.year + 99).div_euclid(100) * 100 - 99),
        Millennium => first_year((c.year + 999).div_euclid(1000) * 1000 - 999),
        Dow | Isodow | Doy | Isoyear | Epoch | Julian => {
            return Err(unit_not_recognized(word, Kind::Timestamp));
        }
    })
}

/// `date_trunc(word, i)` for an interval: every field below the unit is zeroed.
fn trunc_interval(word: &str, i: Interval) -> Result<Interval> {
    use DateField::*;
    let field = DateField::parse(word).ok_or_else(|| unit_not_recognized(word, Kind::Interval))?;
    let years = |n: i32| Interval {
        months: i.months / 12 / n * n * 12,
        days: 0,
        micros: 0,
    };
    let time = |unit: i64| Interval {
        micros: i.micros - i.micros % unit,
        ..i
    };
    Ok(match field {
        Microsecond => i,
        Millisecond => time(1_000),
        Second => time(MICROS_PER_SECOND),
        Minute => time(MICROS_PER_MINUTE),
        Hour => time(MICROS_PER_HOUR),
        Day => Interval { micros: 0, ..i },
        Month => Interval {
            days: 0,
            micros: 0,
            ..i
        },
        Quarter => Interval {
            months: i.months / 12 * 12 + i.months % 12 / 3 * 3,
            days: 0,
            micros: 0,
        },
        Year => years(1),
        Decade => years(10),
        Century => years(100),
        Millennium => years(1000),
        Week => {
            return Err(Error::Data(
                "unit \"week\" not supported for type interval".into(),
            ));
        }
        Dow | Isodow | Doy | Isoyear | Epoch | Julian => {
            return Err(unit_not_recognized(word, Kind::Interval));
        }
    })
}

/// PostgreSQL's `age(a, b)` (see the module comment).
fn age(a: i64, b: i64) -> Result<Interval> {
    let (x, y) = (Civil::of(a), Civil::of(b));
    let flip = a < b;
    let sign = if flip { -1 } else { 1 };
    let mut micros = sign * (x.time - y.time);
    let mut days = sign * (i64::from(x.day) - i64::from(y.day));
    let mut months = sign * (i64::from(x.month) - i64::from(y.month));
    let mut years = sign * (x.year - y.year);
    if micros < 0 {
        micros += MICROS_PER_DAY;
        days -= 1;
    }
    // A borrowed month is as long as the month of the earlier timestamp.
    let earlier = if flip { &x } else { &y };
    while days < 0 {
        days += i64::from(crate::datetime::days_in_month(earlier.year, earlier.month));
        months -= 1;
    }
    while months < 0 {
        months += 12;
        years -= 1;
    }
    let out_of_range = || Error::Data("interval out of range".into());
    let months = years
        .checked_mul(12)
        .and_then(|m| m.checked_add(months))
        .and_then(|m| i32::try_from(sign * m).ok())
        .ok_or_else(out_of_range)?;
    Ok(Interval {
        months,
        days: i32::try_from(sign * days).map_err(|_| out_of_range())?,
        micros: sign * micros,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::call;
    use super::*;
    use crate::datetime::{format_timestamp, parse_date, parse_timestamp};
    use crate::interval::parse_interval;

    fn ts(s: &str) -> Value {
        Value::Timestamp(parse_timestamp(s).unwrap())
    }

    fn date(s: &str) -> Value {
        Value::Date(parse_date(s).unwrap())
    }

    fn iv(s: &str) -> Value {
        Value::Interval(parse_interval(s).unwrap())
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn extract(field: &str, v: Value) -> Result<Value> {
        Function::Extract(DateField::parse(field).unwrap()).call(vec![v])
    }

    fn trunc(unit: &str, v: Value) -> String {
        match call("date_trunc", vec![t(unit), v]) {
            Ok(Value::Timestamp(t)) => format_timestamp(t),
            Ok(other) => other.to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn extract_from_timestamps_and_dates() {
        let v = ts("2024-02-15 10:11:12.5");
        assert_eq!(extract("year", v.clone()), Ok(Value::Int(2024)));
        // NUMERIC, with PostgreSQL 15's scales.
        let shown = |r: Result<Value>| r.map(|v| v.to_string());
        assert_eq!(shown(extract("second", v.clone())), Ok("12.500000".into()));
        assert_eq!(
            shown(extract("epoch", v.clone())),
            Ok("1707991872.500000".into())
        );
        assert_eq!(
            shown(extract("milliseconds", v.clone())),
            Ok("12500.000".into())
        );
        assert_eq!(
            shown(extract("epoch", date("2024-01-01"))),
            Ok("1704067200".into())
        );
        assert_eq!(
            extract("microsecond", v.clone()),
            Ok(Value::Int(12_500_000))
        );
        assert_eq!(extract("quarter", v), Ok(Value::Int(1)));
        assert_eq!(extract("dow", ts("2024-02-18")), Ok(Value::Int(0)));
        assert_eq!(extract("isodow", ts("2024-02-18")), Ok(Value::Int(7)));
        assert_eq!(extract("doy", ts("2024-12-31")), Ok(Value::Int(366)));
        assert_eq!(extract("doy", ts("2023-12-31")), Ok(Value::Int(365)));
        assert_eq!(extract("week", ts("2024-12-30")), Ok(Value::Int(1)));
        assert_eq!(extract("isoyear", ts("2024-12-30")), Ok(Value::Int(2025)));
        assert_eq!(extract("week", ts("2021-01-01")), Ok(Value::Int(53)));
        assert_eq!(extract("isoyear", ts("2021-01-01")), Ok(Value::Int(2020)));
        assert_eq!(extract("decade", ts("2024-01-01")), Ok(Value::Int(202)));
        assert_eq!(extract("century", ts("2000-12-30")), Ok(Value::Int(20)));
        assert_eq!(extract("century", ts("2001-01-01")), Ok(Value::Int(21)));
        assert_eq!(extract("millennium", ts("2001-01-01")), Ok(Value::Int(3)));
        assert_eq!(
            extract("julian", ts("2024-01-01")),
            Ok(Value::Float(2_460_311.0))
        );
        assert_eq!(
            shown(extract("epoch", ts("1969-12-31 23:59:59.5"))),
            Ok("-0.500000".into())
        );
        assert_eq!(extract("day", date("2024-02-29")), Ok(Value::Int(29)));
        assert_eq!(
            extract("hour", date("2024-02-29")),
            Err(Error::Data(
                "unit \"hour\" not supported for type date".into()
            ))
        );
    }

    #[test]
    fn extract_from_intervals() {
        let v = iv("1 year 14 mons");
        assert_eq!(extract("year", v.clone()), Ok(Value::Int(2)));
        assert_eq!(extract("month", v), Ok(Value::Int(2)));
        assert_eq!(extract("hour", iv("30 hours")), Ok(Value::Int(30)));
        let shown = |r: Result<Value>| r.map(|v| v.to_string());
        assert_eq!(
            shown(extract("second", iv("1 min 2.5 s"))),
            Ok("2.500000".into())
        );
        assert_eq!(
            shown(extract("epoch", iv("1 year 1 day 1 sec"))),
            Ok("31644001.000000".into())
        );
        assert_eq!(extract("minute", iv("-1 hour -5 min")), Ok(Value::Int(-5)));
        assert_eq!(extract("quarter", iv("5 mons")), Ok(Value::Int(2)));
        assert!(extract("dow", iv("1 day")).is_err());
    }

    #[test]
    fn date_part_is_double_and_checks_units() {
        assert_eq!(
            call("date_part", vec![t("second"), ts("2024-02-15 10:11:12.5")]),
            Ok(Value::Float(12.5))
        );
        assert_eq!(
            call("date_part", vec![t("HOUR"), date("2024-02-15")]),
            Ok(Value::Float(0.0))
        );
        assert_eq!(
            call("date_part", vec![t("foo"), ts("2024-02-15")]),
            Err(Error::Data(
                "unit \"foo\" not recognized for type timestamp without time zone".into()
            ))
        );
    }

    #[test]
    fn date_trunc_every_unit() {
        let v = ts("2024-02-15 10:11:12.345678");
        assert_eq!(
            trunc("microseconds", v.clone()),
            "2024-02-15 10:11:12.345678"
        );
        assert_eq!(trunc("milliseconds", v.clone()), "2024-02-15 10:11:12.345");
        assert_eq!(trunc("second", v.clone()), "2024-02-15 10:11:12");
        assert_eq!(trunc("minute", v.clone()), "2024-02-15 10:11:00");
        assert_eq!(trunc("hour", v.clone()), "2024-02-15 10:00:00");
        assert_eq!(trunc("day", v.clone()), "2024-02-15 00:00:00");
        assert_eq!(trunc("week", v.clone()), "2024-02-12 00:00:00");
        assert_eq!(trunc("MONTH", v.clone()), "2024-02-01 00:00:00");
        assert_eq!(trunc("quarter", ts("2024-05-15")), "2024-04-01 00:00:00");
        assert_eq!(trunc("year", v.clone()), "2024-01-01 00:00:00");
        assert_eq!(trunc("decade", v.clone()), "2020-01-01 00:00:00");
        assert_eq!(trunc("century", v.clone()), "2001-01-01 00:00:00");
        assert_eq!(trunc("century", ts("2000-05-15")), "1901-01-01 00:00:00");
        assert_eq!(trunc("millennium", ts("2000-05-15")), "1001-01-01 00:00:00");
        assert_eq!(trunc("week", ts("2024-01-01")), "2024-01-01 00:00:00");
        assert_eq!(trunc("month", date("2024-02-29")), "2024-02-01 00:00:00");
        assert_eq!(
            trunc("hour", ts("1969-12-31 23:30:00")),
            "1969-12-31 23:00:00"
        );
        assert_eq!(
            trunc("dow", v),
            "data error: unit \"dow\" not recognized for type timestamp without time zone"
        );
        let i = iv("1 year 2 mons 3 days 04:05:06");
        assert_eq!(trunc("day", i.clone()), "1 year 2 mons 3 days");
        assert_eq!(trunc("hour", i.clone()), "1 year 2 mons 3 days 04:00:00");
        assert_eq!(trunc("quarter", i.clone()), "1 year");
        assert_eq!(trunc("year", i.clone()), "1 year");
        assert!(trunc("week", i).contains("not supported"));
    }

    #[test]
    fn age_borrows_as_postgresql_does() {
        let age = |a: Value, b: Value| call("age", vec![a, b]).map(|v| v.to_string());
        let ok = |s: &str| Ok(s.to_string());
        assert_eq!(age(ts("2024-03-31"), ts("2024-02-29")), ok("1 mon 2 days"));
        assert_eq!(
            age(ts("2001-04-10"), ts("1957-06-13")),
            ok("43 years 9 mons 27 days")
        );
        assert_eq!(
            age(ts("2024-01-01"), ts("2024-03-15 10:00")),
            ok("-2 mons -14 days -10:00:00")
        );
        assert_eq!(age(ts("2024-03-01"), ts("2024-01-31")), ok("1 mon 1 day"));
        assert_eq!(
            age(date("2024-03-01"), date("2023-02-28")),
            ok("1 year 1 day")
        );
        assert_eq!(
            age(ts("2024-01-31 10:00"), ts("2024-01-01 12:00")),
            ok("29 days 22:00:00")
        );
        assert_eq!(
            age(ts("2024-01-01 12:00"), ts("2024-01-31 10:00")),
            ok("-29 days -22:00:00")
        );
        assert_eq!(
            age(ts("2024-02-01"), ts("2023-12-31 23:59:59.5")),
            ok("1 mon 00:00:00.5")
        );
        assert_eq!(age(ts("2024-02-01"), ts("2024-02-01")), ok("00:00:00"));
    }
}
