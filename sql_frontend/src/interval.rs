//! INTERVAL: PostgreSQL's three-field span of time, its text forms and its arithmetic
//! with dates and timestamps.
//!
//! An [`Interval`] is `months`, `days` and `micros`, kept apart exactly as PostgreSQL
//! keeps them, because they do not convert into each other on a calendar: adding
//! `1 month` to January 31 gives February 28 or 29, and `1 day` is not always 24 hours
//! in zones with daylight saving (we have no zones, but keep the fields apart so results
//! match PostgreSQL's). Comparison, and only comparison, treats a month as 30 days and a
//! day as 24 hours (PostgreSQL's `interval_cmp`), so `'1 month' = '30 days'` is true.
//!
//! ## Text
//!
//! Input ([`parse_interval`]) is PostgreSQL's "postgres" style: a sequence of
//! `<number> <unit>` (units `microsecond(s)`, `millisecond(s)`, `second(s)`/`sec(s)`/`s`,
//! `minute(s)`/`min(s)`/`m`, `hour(s)`/`hr(s)`/`h`, `day(s)`/`d`, `week(s)`/`w`,
//! `month(s)`/`mon(s)`, `year(s)`/`yr(s)`/`y`, `decade(s)`, `century`/`centuries`,
//! `millennium`/`millennia`, any case, optionally plural, with or without a space
//! before the unit), an optional `[-]HH:MM[:SS[.ffffff]]` time part, and a trailing
//! `ago` that negates everything, e.g. `'7 days'`, `'1 day 02:00:00'`, `'2 hours 30
//! minutes'`, `'1 year 2 mons'`. Fractional units spill down the way PostgreSQL spills
//! them (`'1.5 days'` is 1 day 12 hours, `'1.5 months'` is 1 month 15 days). A bare
//! number with a unit keyword after the literal (`INTERVAL '7' DAY`) is handled by the
//! binder through [`Interval::from_unit`].
//!
//! Output ([`Interval`]'s `Display`) is PostgreSQL's default: `1 year 2 mons 3 days
//! 04:05:06.5`, `-1 days`, and `00:00:00` for the empty interval.
//!
//! ## Arithmetic
//!
//! [`add_to_timestamp`] adds months first (clamping the day to the end of the month),
//! then days, then microseconds, as PostgreSQL's `timestamp_pl_interval` does;
//! subtraction adds the negation. [`between_timestamps`] is `timestamp - timestamp`: the
//! difference in whole days plus the remaining microseconds, never months (PostgreSQL's
//! `timestamp_mi` followed by its `justify_hours`). Every overflow is [`Error::Data`].

use std::cmp::Ordering;
use std::fmt;

use crate::datetime::{MICROS_PER_DAY, civil_from_days, days_from_civil};
use crate::error::{Error, Result};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
/// The days in a month when intervals are compared or fractional months spill down.
const DAYS_PER_MONTH: i64 = 30;

/// A span of time in PostgreSQL's three fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    pub months: i32,
    pub days: i32,
    pub micros: i64,
}

/// The unit a number in interval text is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalUnit {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Decade,
    Century,
    Millennium,
}

impl IntervalUnit {
    /// The unit a word names (any case, singular, plural or abbreviated).
    pub fn parse(word: &str) -> Option<IntervalUnit> {
        use IntervalUnit::*;
        Some(match word.to_ascii_lowercase().as_str() {
            "microsecond" | "microseconds" | "us" | "usec" | "usecs" => Microsecond,
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" => Millisecond,
            "second" | "seconds" | "s" | "sec" | "secs" => Second,
            "minute" | "minutes" | "m" | "min" | "mins" => Minute,
            "hour" | "hours" | "h" | "hr" | "hrs" => Hour,
            "day" | "days" | "d" => Day,
            "week" | "weeks" | "w" => Week,
            "month" | "months" | "mon" | "mons" => Month,
            "year" | "years" | "y" | "yr" | "yrs" => Year,
            "decade" | "decades" => Decade,
            "century" | "centuries" => Century,
            "millennium" | "millennia" | "millenniums" => Millennium,
            _ => return None,
        })
    }
}

fn out_of_range() -> Error {
    Error::Data("interval out of range".into())
}

impl Interval {
    /// An interval of only microseconds.
    pub fn from_micros(micros: i64) -> Interval {
        Interval {
            months: 0,
            days: 0,
            micros,
        }
    }

    /// `amount` of `unit`, fractions spilling down to smaller fields as PostgreSQL does.
    pub fn from_unit(amount: f64, unit: IntervalUnit) -> Result<Interval> {
        use IntervalUnit::*;
        if !amount.is_finite() {
            return Err(out_of_range());
        }
        let months_of = |months: f64| -> Result<Interval> {
            let whole = months.trunc();
            let days = (months - whole) * DAYS_PER_MONTH as f64;
            let day_part = Interval::from_unit(days, Day)?;
            let months = to_i32(whole)?;
            Interval {
                months,
                ..Interval::default()
            }
            .checked_add(day_part)
        };
        match unit {
            Microsecond => Ok(Interval::from_micros(to_i64(amount.round())?)),
            Millisecond => Ok(Interval::from_micros(to_i64((amount * 1e3).round())?)),
            Second => Ok(Interval::from_micros(to_i64((amount * 1e6).round())?)),
            Minute => Ok(Interval::from_micros(to_i64(
                (amount * MICROS_PER_MINUTE as f64).round(),
            )?)),
            Hour => Ok(Interval::from_micros(to_i64(
                (amount * MICROS_PER_HOUR as f64).round(),
            )?)),
            Day | Week => {
                let days = if unit == Week { amount * 7.0 } else { amount };
                let whole = days.trunc();
                let micros = ((days - whole) * MICROS_PER_DAY as f64).round();
                Ok(Interval {
                    months: 0,
                    days: to_i32(whole)?,
                    micros: to_i64(micros)?,
                })
            }
            Month => months_of(amount),
            Year => months_of(amount * 12.0),
            Decade => months_of(amount * 120.0),
            Century => months_of(amount * 1200.0),
            Millennium => months_of(amount * 12000.0),
        }
    }

    /// Field-wise sum.
    pub fn checked_add(self, other: Interval) -> Result<Interval> {
        Ok(Interval {
            months: self
                .months
                .checked_add(other.months)
                .ok_or_else(out_of_range)?,
            days: self.days.checked_add(other.days).ok_or_else(out_of_range)?,
            micros: self
                .micros
                .checked_add(other.micros)
                .ok_or_else(out_of_range)?,
        })
    }

    /// Field-wise negation.
    pub fn checked_neg(self) -> Result<Interval> {
        Ok(Interval {
            months: self.months.checked_neg().ok_or_else(out_of_range)?,
            days: self.days.checked_neg().ok_or_else(out_of_range)?,
            micros: self.micros.checked_neg().ok_or_else(out_of_range)?,
        })
    }

    /// Field-wise difference.
    pub fn checked_sub(self, other: Interval) -> Result<Interval> {
        self.checked_add(other.checked_neg()?)
    }

    /// The interval times a number (PostgreSQL's `interval_mul`: fractions of months
    /// and days spill down into the smaller fields).
    pub fn checked_mul(self, factor: f64) -> Result<Interval> {
        let months = f64::from(self.months) * factor;
        let days = f64::from(self.days) * factor;
        let micros = self.micros as f64 * factor;
        let from_months = Interval::from_unit(months, IntervalUnit::Month)?;
        let from_days = Interval::from_unit(days, IntervalUnit::Day)?;
        from_months
            .checked_add(from_days)?
            .checked_add(Interval::from_micros(to_i64(micros.round())?))
    }

    /// The interval divided by a number, as PostgreSQL 15's `interval_div` divides it
    /// (and so `avg(interval)`, the sum divided by the count): months and days are
    /// divided apart and truncated, the fraction of a month becomes days (rounded to the
    /// microsecond), the fractions of days become seconds (a whole day of them moves to
    /// the days), and the time is divided and rounded. Dividing by zero is an error.
    pub fn checked_div(self, factor: f64) -> Result<Interval> {
        /// Rounding to the microsecond (PostgreSQL's `TSROUND`).
        fn round_micro(x: f64) -> f64 {
            (x * 1e6).round_ties_even() / 1e6
        }
        const SECONDS_PER_DAY: f64 = 86_400.0;
        if factor == 0.0 {
            return Err(Error::Data("division by zero".into()));
        }
        let months = to_i32((f64::from(self.months) / factor).trunc())?;
        let mut days = to_i32((f64::from(self.days) / factor).trunc())?;
        let month_days = round_micro(
            (f64::from(self.months) / factor - f64::from(months)) * DAYS_PER_MONTH as f64,
        );
        let mut seconds = round_micro(
            (f64::from(self.days) / factor - f64::from(days) + month_days - month_days.trunc())
                * SECONDS_PER_DAY,
        );
        if seconds.abs() >= SECONDS_PER_DAY {
            let whole = (seconds / SECONDS_PER_DAY).trunc();
            days = days.checked_add(to_i32(whole)?).ok_or_else(out_of_range)?;
            seconds -= whole * SECONDS_PER_DAY;
        }
        days = days
            .checked_add(to_i32(month_days.trunc())?)
            .ok_or_else(out_of_range)?;
        let micros = (self.micros as f64 / factor + seconds * 1e6).round_ties_even();
        Ok(Interval {
            months,
            days,
            micros: to_i64(micros)?,
        })
    }

    /// The interval as microseconds with a month of 30 days: what orders intervals, and
    /// what GROUP BY, DISTINCT and joins hash (so `1 mon` and `30 days` meet, as in
    /// PostgreSQL).
    pub fn span(self) -> i128 {
        (i128::from(self.months) * i128::from(DAYS_PER_MONTH) + i128::from(self.days))
            * i128::from(MICROS_PER_DAY)
            + i128::from(self.micros)
    }

    /// PostgreSQL's interval order.
    pub fn cmp_span(&self, other: &Interval) -> Ordering {
        self.span().cmp(&other.span())
    }
}

fn to_i32(f: f64) -> Result<i32> {
    if f >= f64::from(i32::MIN) && f <= f64::from(i32::MAX) {
        Ok(f as i32)
    } else {
        Err(out_of_range())
    }
}

fn to_i64(f: f64) -> Result<i64> {
    /// 2^63 as a float: the first value past i64's range.
    const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-I64_LIMIT..I64_LIMIT).contains(&f) {
        Ok(f as i64)
    } else {
        Err(out_of_range())
    }
}

fn bad(text: &str) -> Error {
    Error::Data(format!("invalid input syntax for type interval: {text:?}"))
}

/// Parses PostgreSQL interval text (see the module comment).
pub fn parse_interval(text: &str) -> Result<Interval> {
    let mut total = Interval::default();
    let mut words = split_words(text).into_iter().peekable();
    let mut seen_any = false;
    let mut ago = false;
    while let Some(word) = words.next() {
        if ago {
            return Err(bad(text));
        }
        if word.eq_ignore_ascii_case("ago") {
            ago = true;
            continue;
        }
        seen_any = true;
        if word.contains(':') {
            total = total.checked_add(parse_time(&word).ok_or_else(|| bad(text))?)?;
            continue;
        }
        // A number, possibly with its unit attached ("7days"), else the next word.
        let split = word
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(word.len());
        let (number, attached) = word.split_at(split);
        let amount: f64 = number
            .parse()
            .ok()
            .filter(|_| !number.is_empty())
            .ok_or_else(|| bad(text))?;
        let unit_word = match attached.is_empty() {
            false => attached.to_string(),
            // A bare number with no unit is seconds, as in PostgreSQL.
            true => match words.peek().and_then(|w| IntervalUnit::parse(w)) {
                Some(_) => words.next().unwrap_or_default(),
                None => "second".to_string(),
            },
        };
        let unit = IntervalUnit::parse(&unit_word).ok_or_else(|| bad(text))?;
        total = total.checked_add(Interval::from_unit(amount, unit)?)?;
    }
    if !seen_any {
        return Err(bad(text));
    }
    if ago {
        total = total.checked_neg()?;
    }
    Ok(total)
}

/// Splits on whitespace and commas, lowercased, with a leading '@' (PostgreSQL's
/// verbose style marker) dropped.
fn split_words(text: &str) -> Vec<String> {
    text.trim()
        .trim_start_matches('@')
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// `[-|+]HH:MM[:SS[.ffffff]]` as microseconds.
fn parse_time(word: &str) -> Option<Interval> {
    let (negative, rest) = match word.as_bytes().first()? {
        b'-' => (true, &word[1..]),
        b'+' => (false, &word[1..]),
        _ => (false, word),
    };
    let fields: Vec<&str> = rest.split(':').collect();
    if !(2..=3).contains(&fields.len()) {
        return None;
    }
    let digits = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let hours = digits(fields[0])?;
    let minutes = digits(fields[1])?;
    if minutes > 59 {
        return None;
    }
    let mut micros = hours
        .checked_mul(MICROS_PER_HOUR)?
        .checked_add(minutes * MICROS_PER_MINUTE)?;
    if let Some(seconds) = fields.get(2) {
        let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
        let whole = digits(whole)?;
        if whole > 59 || fraction.len() > 6 {
            return None;
        }
        let fraction = match fraction.is_empty() {
            true => 0,
            false => digits(fraction)? * 10i64.pow(6 - fraction.len() as u32),
        };
        micros = micros.checked_add(whole * MICROS_PER_SECOND + fraction)?;
    }
    Some(Interval::from_micros(if negative {
        -micros
    } else {
        micros
    }))
}

impl fmt::Display for Interval {
    /// PostgreSQL's default output style. A positive part after a negative one is
    /// written with a `+` (`-1 years +30 days`), as PostgreSQL's `EncodeInterval` does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let years = self.months / 12;
        let months = self.months % 12;
        // Whether the last part written was negative.
        let mut after_negative = false;
        let mut part = |n: i64, one: &str, many: &str| {
            if n == 0 {
                return;
            }
            let plus = if after_negative && n > 0 { "+" } else { "" };
            let unit = if n == 1 { one } else { many };
            parts.push(format!("{plus}{n} {unit}"));
            after_negative = n < 0;
        };
        part(i64::from(years), "year", "years");
        part(i64::from(months), "mon", "mons");
        part(i64::from(self.days), "day", "days");
        if self.micros != 0 || parts.is_empty() {
            let sign = match (self.micros < 0, after_negative) {
                (true, _) => "-",
                (false, true) => "+",
                (false, false) => "",
            };
            let abs = self.micros.unsigned_abs();
            let per_second = MICROS_PER_SECOND as u64;
            let seconds = abs / per_second;
            let fraction = abs % per_second;
            let mut time = format!(
                "{sign}{:02}:{:02}:{:02}",
                seconds / 3600,
                seconds / 60 % 60,
                seconds % 60
            );
            if fraction != 0 {
                let digits = format!("{fraction:06}");
                time.push('.');
                time.push_str(digits.trim_end_matches('0'));
            }
            parts.push(time);
        }
        f.write_str(&parts.join(" "))
    }
}

/// `timestamp + interval`: months (day clamped to the month's end), then days, then
/// microseconds.
pub fn add_to_timestamp(timestamp: i64, interval: Interval) -> Result<i64> {
    let overflow = || Error::Data("timestamp out of range".into());
    let mut days = timestamp.div_euclid(MICROS_PER_DAY);
    let time = timestamp.rem_euclid(MICROS_PER_DAY);
    if interval.months != 0 {
        let (year, month, day) = civil_from_days(days);
        let month_index = year
            .checked_mul(12)
            .and_then(|m| m.checked_add(i64::from(month) - 1))
            .and_then(|m| m.checked_add(i64::from(interval.months)))
            .ok_or_else(overflow)?;
        let new_year = month_index.div_euclid(12);
        let new_month = (month_index.rem_euclid(12) + 1) as u32;
        let new_day = day.min(days_in_month(new_year, new_month));
        days = days_from_civil(new_year, new_month, new_day);
    }
    days = days
        .checked_add(i64::from(interval.days))
        .ok_or_else(overflow)?;
    days.checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(time))
        .and_then(|t| t.checked_add(interval.micros))
        .ok_or_else(overflow)
}

/// `a - b` for timestamps: whole days and the remaining microseconds.
pub fn between_timestamps(a: i64, b: i64) -> Result<Interval> {
    let diff = a
        .checked_sub(b)
        .ok_or_else(|| Error::Data("interval out of range".into()))?;
    let days = diff / MICROS_PER_DAY;
    Ok(Interval {
        months: 0,
        days: i32::try_from(days).map_err(|_| out_of_range())?,
        micros: diff % MICROS_PER_DAY,
    })
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::{format_timestamp, parse_timestamp};

    fn iv(months: i32, days: i32, micros: i64) -> Interval {
        Interval {
            months,
            days,
            micros,
        }
    }

    #[test]
    fn parses_postgres_spellings() {
        assert_eq!(parse_interval("7 days").unwrap(), iv(0, 7, 0));
        assert_eq!(
            parse_interval("1 day 02:00:00").unwrap(),
            iv(0, 1, 2 * MICROS_PER_HOUR)
        );
        assert_eq!(
            parse_interval("2 hours 30 minutes").unwrap(),
            iv(0, 0, 150 * MICROS_PER_MINUTE)
        );
        assert_eq!(parse_interval("1 year 2 mons").unwrap(), iv(14, 0, 0));
        assert_eq!(parse_interval("3 Months").unwrap(), iv(3, 0, 0));
        assert_eq!(parse_interval("1 week").unwrap(), iv(0, 7, 0));
        assert_eq!(parse_interval("7days").unwrap(), iv(0, 7, 0));
        assert_eq!(
            parse_interval("1.5 days").unwrap(),
            iv(0, 1, 12 * MICROS_PER_HOUR)
        );
        assert_eq!(parse_interval("1.5 months").unwrap(), iv(1, 15, 0));
        assert_eq!(parse_interval("2 days ago").unwrap(), iv(0, -2, 0));
        assert_eq!(
            parse_interval("-01:30").unwrap(),
            iv(0, 0, -90 * MICROS_PER_MINUTE)
        );
        assert_eq!(
            parse_interval("90").unwrap(),
            iv(0, 0, 90 * MICROS_PER_SECOND)
        );
        for bad_text in ["", "days", "7 fortnights", "1:99", "7 days ago ago", "x 1"] {
            assert!(
                matches!(parse_interval(bad_text), Err(Error::Data(_))),
                "{bad_text:?}"
            );
        }
    }

    #[test]
    fn prints_like_postgres() {
        assert_eq!(iv(0, 7, 0).to_string(), "7 days");
        assert_eq!(iv(0, 1, 2 * MICROS_PER_HOUR).to_string(), "1 day 02:00:00");
        assert_eq!(iv(14, 3, 0).to_string(), "1 year 2 mons 3 days");
        assert_eq!(iv(0, 0, 0).to_string(), "00:00:00");
        assert_eq!(iv(0, -1, -500_000).to_string(), "-1 days -00:00:00.5");
        assert_eq!(iv(-12, 30, 0).to_string(), "-1 years +30 days");
        assert_eq!(iv(0, -1, MICROS_PER_HOUR).to_string(), "-1 days +01:00:00");
        assert_eq!(
            iv(1, -1, MICROS_PER_HOUR).to_string(),
            "1 mon -1 days +01:00:00"
        );
        assert_eq!(iv(0, 1, -MICROS_PER_HOUR).to_string(), "1 day -01:00:00");
    }

    #[test]
    fn division_spills_as_postgresql_divides() {
        // PostgreSQL 15's answers to `INTERVAL '...' / factor`.
        for (text, factor, expected) in [
            ("1 mon 2 days", 2.0, "16 days"),
            ("1 mon 31 days 27:00:00", 4.0, "15 days 12:45:00"),
            (
                "1 year 2 mons 3 days 04:05:06.5",
                3.0,
                "4 mons 21 days 01:21:42.166667",
            ),
            (
                "-1 years +30 days",
                7.0,
                "-1 mons -17 days -03:25:42.820114",
            ),
            ("1 day", 0.3, "3 days 08:00:00"),
        ] {
            let divided = parse_interval(text).unwrap().checked_div(factor).unwrap();
            assert_eq!(divided.to_string(), expected, "{text} / {factor}");
        }
        assert!(iv(1, 0, 0).checked_div(0.0).is_err());
    }

    #[test]
    fn text_round_trips() {
        for i in [
            iv(0, 7, 0),
            iv(14, -3, 5 * MICROS_PER_HOUR + 1),
            iv(-1, 0, -MICROS_PER_SECOND),
            iv(0, 0, 0),
        ] {
            assert_eq!(parse_interval(&i.to_string()).unwrap(), i, "{i}");
        }
    }

    #[test]
    fn timestamp_arithmetic_follows_the_calendar() {
        let ts = |s: &str| parse_timestamp(s).unwrap();
        let plus = |s: &str, i: Interval| format_timestamp(add_to_timestamp(ts(s), i).unwrap());
        assert_eq!(
            plus("2024-01-31 10:00:00", iv(1, 0, 0)),
            "2024-02-29 10:00:00"
        );
        assert_eq!(
            plus("2023-01-31 10:00:00", iv(1, 0, 0)),
            "2023-02-28 10:00:00"
        );
        assert_eq!(
            plus("2024-03-01 00:00:00", iv(0, -7, 0)),
            "2024-02-23 00:00:00"
        );
        assert_eq!(
            plus("2024-12-31 23:00:00", iv(0, 0, 2 * MICROS_PER_HOUR)),
            "2025-01-01 01:00:00"
        );
        assert_eq!(
            plus("2024-01-15 00:00:00", iv(-13, 0, 0)),
            "2022-12-15 00:00:00"
        );
        assert_eq!(
            between_timestamps(ts("2024-01-02 02:00:00"), ts("2024-01-01 00:00:00")).unwrap(),
            iv(0, 1, 2 * MICROS_PER_HOUR)
        );
        assert!(add_to_timestamp(i64::MAX - 1, iv(0, 1, 0)).is_err());
    }

    #[test]
    fn comparison_counts_a_month_as_thirty_days() {
        assert_eq!(iv(1, 0, 0).cmp_span(&iv(0, 30, 0)), Ordering::Equal);
        assert_eq!(
            iv(0, 1, 0).cmp_span(&iv(0, 0, MICROS_PER_DAY + 1)),
            Ordering::Less
        );
        assert_eq!(iv(0, 2, 0).checked_mul(1.5).unwrap(), iv(0, 3, 0));
        assert_eq!(iv(1, 0, 0).checked_mul(0.5).unwrap(), iv(0, 15, 0));
        assert!(iv(i32::MAX, 0, 0).checked_add(iv(1, 0, 0)).is_err());
    }
}
