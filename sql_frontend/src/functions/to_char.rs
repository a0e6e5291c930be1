//! `to_char(value, format)`: timestamps, dates and numbers written by a template, as
//! PostgreSQL 15's `formatting.c` writes them (the common patterns; see below).
//!
//! ## Timestamps and dates
//!
//! A template is scanned left to right; at each place the longest pattern that matches
//! is replaced by its field, anything else is copied. Patterns: `YYYY YYY YY Y Y,YYY
//! IYYY IYY IY I MM Month MONTH month Mon MON mon DD D DDD ID IDDD HH HH12 HH24 MI SS
//! SSSS MS US AM PM am pm A.M. P.M. a.m. p.m. Day DAY day Dy DY dy Q WW W IW CC J`.
//! Numeric patterns match in either case (`yyyy` is `YYYY`); the names match their
//! case exactly and write the name in that case (`Month` → `February `, `MONTH` →
//! `FEBRUARY `). Full month and day names are padded to nine characters. `FM` before a
//! pattern drops its padding (leading zeros, trailing blanks), except for `MS` and `US`,
//! which PostgreSQL always writes in full. `"text"` is copied without its quotes (a
//! backslash inside escapes the next character), and `\"` outside quotes is a quote.
//!
//! Not yet: `TM`, `FX`, `TZ`/`OF` (hdb has no zones), `RM`, `BC`/`AD`, `th` suffixes;
//! those letters are copied like any other text.
//!
//! ## Numbers
//!
//! Patterns: `9` (a digit, blank when it is a leading zero), `0` (a digit, zero kept),
//! `.` or `D` (the decimal point), `,` or `G` (a group separator, blank among leading
//! blanks), `S` (the sign, `+` or `-`, beside the number or at the end), `MI` (`-` or
//! blank at its place), `PR` (`<n>` for negatives), `FM` (no padding, and no trailing
//! zeros in `9` places of the fraction). Without S, MI or PR one place is kept for a
//! sign before the number. A number with more integer digits than the template has
//! places is written as `#` in every digit place. Quoted text is copied; other
//! characters are copied too (PostgreSQL gives some letters meanings hdb lacks).
//!
//! Difference from PostgreSQL: numbers are rounded to the template's fraction places as
//! doubles (half to even on the exact binary value, PostgreSQL's rule for DOUBLE
//! PRECISION); PostgreSQL rounds a NUMERIC — which `2.5` is there — half away from
//! zero, so `to_char(2.5, '9')` is ` 2` here and ` 3` there.

use super::{Args, Function};
use crate::datetime::{MICROS_PER_DAY, civil_from_days, date_to_micros, days_from_civil};
use crate::error::{Error, Result};
use crate::value::Value;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
/// The width full month and day names are padded to (the longest, `September`).
const NAME_WIDTH: usize = 9;

pub(super) fn call(args: &Args) -> Result<Value> {
    if args.function != Function::ToChar {
        return Err(args.error());
    }
    let format = args.text(1)?;
    match args.get(0) {
        Some(Value::Timestamp(t)) => Ok(Value::Text(format_timestamp(*t, format))),
        Some(Value::Date(d)) => {
            let t =
                date_to_micros(*d).ok_or_else(|| Error::Data("timestamp out of range".into()))?;
            Ok(Value::Text(format_timestamp(t, format)))
        }
        Some(Value::Int(i)) => Ok(Value::Text(format_number(&Number::int(*i), format))),
        Some(Value::Float(f)) => Ok(Value::Text(format_number(
            &Number::float(*f, format),
            format,
        ))),
        Some(Value::Numeric(n)) => Ok(Value::Text(format_number(
            &Number::numeric(n, format)?,
            format,
        ))),
        _ => Err(args.error()),
    }
}

// ---------------------------------------------------------------- timestamps

/// A pattern of a date/time template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    YearComma,
    Year4,
    Year3,
    Year2,
    Year1,
    IsoYear4,
    IsoYear3,
    IsoYear2,
    IsoYear1,
    Month2,
    MonthName,
    MonthAbbrev,
    Day2,
    DayOfWeek,
    DayOfYear,
    IsoDayOfWeek,
    IsoDayOfYear,
    Hour12,
    Hour24,
    Minute,
    Second,
    SecondsOfDay,
    Millis,
    Micros,
    Meridiem,
    MeridiemDots,
    DayName,
    DayAbbrev,
    Quarter,
    WeekOfYear,
    WeekOfMonth,
    IsoWeek,
    Century,
    Julian,
}

/// How a name pattern was written: its case decides the output's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Upper,
    Capitalized,
    Lower,
}

/// Patterns that match in any case, longest first where one is a prefix of another.
const NUMERIC_PATTERNS: [(&str, Field); 27] = [
    ("Y,YYY", Field::YearComma),
    ("YYYY", Field::Year4),
    ("YYY", Field::Year3),
    ("YY", Field::Year2),
    ("Y", Field::Year1),
    ("IYYY", Field::IsoYear4),
    ("IYY", Field::IsoYear3),
    ("IDDD", Field::IsoDayOfYear),
    ("IY", Field::IsoYear2),
    ("ID", Field::IsoDayOfWeek),
    ("IW", Field::IsoWeek),
    ("I", Field::IsoYear1),
    ("MM", Field::Month2),
    ("MI", Field::Minute),
    ("MS", Field::Millis),
    ("DDD", Field::DayOfYear),
    ("DD", Field::Day2),
    ("D", Field::DayOfWeek),
    ("HH24", Field::Hour24),
    ("HH12", Field::Hour12),
    ("HH", Field::Hour12),
    ("SSSS", Field::SecondsOfDay),
    ("SS", Field::Second),
    ("US", Field::Micros),
    ("Q", Field::Quarter),
    ("WW", Field::WeekOfYear),
    ("W", Field::WeekOfMonth),
];

/// Patterns whose case matters, in the three cases each is written in.
const NAME_PATTERNS: [(&str, Field); 6] = [
    ("MONTH", Field::MonthName),
    ("MON", Field::MonthAbbrev),
    ("DAY", Field::DayName),
    ("DY", Field::DayAbbrev),
    ("A.M.", Field::MeridiemDots),
    ("P.M.", Field::MeridiemDots),
];

/// The pattern at the start of `rest` (its field, length and case), if any.
fn date_pattern(rest: &str) -> Option<(Field, usize, Case)> {
    for (pattern, field) in NAME_PATTERNS {
        let n = pattern.len();
        let Some(head) = rest.get(..n) else { continue };
        let capitalized = format!("{}{}", &pattern[..1], pattern[1..].to_lowercase());
        let case = if head == pattern {
            Case::Upper
        } else if head == pattern.to_lowercase() {
            Case::Lower
        } else if head == capitalized && !pattern.contains('.') {
            Case::Capitalized
        } else {
            continue;
        };
        return Some((field, n, case));
    }
    for (pattern, case) in [
        ("AM", Case::Upper),
        ("PM", Case::Upper),
        ("am", Case::Lower),
        ("pm", Case::Lower),
    ] {
        if rest.starts_with(pattern) {
            return Some((Field::Meridiem, 2, case));
        }
    }
    // CC and J are numeric but would shadow nothing; checked after the names.
    for (pattern, field) in NUMERIC_PATTERNS
        .iter()
        .copied()
        .chain([("CC", Field::Century), ("J", Field::Julian)])
    {
        let n = pattern.len();
        if rest
            .get(..n)
            .is_some_and(|head| head.eq_ignore_ascii_case(pattern))
        {
            return Some((field, n, Case::Upper));
        }
    }
    None
}

/// The calendar facts of one timestamp that the fields need.
struct Moment {
    days: i64,
    year: i64,
    month: u32,
    day: u32,
    /// Microseconds since midnight.
    time: i64,
}

impl Moment {
    fn of(t: i64) -> Moment {
        let days = t.div_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Moment {
            days,
            year,
            month,
            day,
            time: t.rem_euclid(MICROS_PER_DAY),
        }
    }

    /// Sunday 0 .. Saturday 6 (1970-01-01 was a Thursday).
    fn weekday(&self) -> usize {
        (self.days + 4).rem_euclid(7) as usize
    }

    fn doy(&self) -> i64 {
        self.days - days_from_civil(self.year, 1, 1) + 1
    }

    /// The ISO year, and the day number of its first Monday.
    fn iso_year(&self) -> (i64, i64) {
        let isodow = (self.days + 3).rem_euclid(7) + 1;
        let thursday = self.days - isodow + 4;
        let (year, _, _) = civil_from_days(thursday);
        let jan4 = days_from_civil(year, 1, 4);
        let first_monday = jan4 - (jan4 + 3).rem_euclid(7);
        (year, first_monday)
    }
}

fn cased(name: &str, case: Case) -> String {
    match case {
        Case::Upper => name.to_uppercase(),
        Case::Lower => name.to_lowercase(),
        Case::Capitalized => name.to_string(),
    }
}

/// `n` with at least `width` digits (fewer when `fill_mode` drops the padding).
fn padded(n: i64, width: usize, fill_mode: bool) -> String {
    match fill_mode {
        true => n.to_string(),
        false if n < 0 => format!("-{:0width$}", n.unsigned_abs()),
        false => format!("{n:0width$}"),
    }
}

fn write_field(out: &mut String, field: Field, case: Case, fm: bool, m: &Moment) {
    let hour = m.time / 3_600_000_000;
    let (iso_year, first_monday) = m.iso_year();
    let text = match field {
        Field::YearComma => {
            let y = m.year;
            format!("{},{:03}", y / 1000, (y % 1000).abs())
        }
        Field::Year4 => padded(m.year, 4, fm),
        Field::Year3 => padded(m.year.rem_euclid(1000), 3, fm),
        Field::Year2 => padded(m.year.rem_euclid(100), 2, fm),
        Field::Year1 => padded(m.year.rem_euclid(10), 1, fm),
        Field::IsoYear4 => padded(iso_year, 4, fm),
        Field::IsoYear3 => padded(iso_year.rem_euclid(1000), 3, fm),
        Field::IsoYear2 => padded(iso_year.rem_euclid(100), 2, fm),
        Field::IsoYear1 => padded(iso_year.rem_euclid(10), 1, fm),
        Field::Month2 => padded(i64::from(m.month), 2, fm),
        Field::MonthName | Field::MonthAbbrev => {
            let name = MONTHS[(m.month as usize - 1) % 12];
            name_text(name, field == Field::MonthName, case, fm)
        }
        Field::DayName | Field::DayAbbrev => {
            let name = DAYS[m.weekday()];
            name_text(name, field == Field::DayName, case, fm)
        }
        Field::Day2 => padded(i64::from(m.day), 2, fm),
        Field::DayOfWeek => (m.weekday() + 1).to_string(),
        Field::DayOfYear => padded(m.doy(), 3, fm),
        Field::IsoDayOfWeek => ((m.days + 3).rem_euclid(7) + 1).to_string(),
        Field::IsoDayOfYear => padded(m.days - first_monday + 1, 3, fm),
        Field::Hour12 => padded(
            match hour % 12 {
                0 => 12,
                h => h,
            },
            2,
            fm,
        ),
        Field::Hour24 => padded(hour, 2, fm),
        Field::Minute => padded(m.time / 60_000_000 % 60, 2, fm),
        Field::Second => padded(m.time / 1_000_000 % 60, 2, fm),
        Field::SecondsOfDay => (m.time / 1_000_000).to_string(),
        Field::Millis => format!("{:03}", m.time / 1_000 % 1_000),
        Field::Micros => format!("{:06}", m.time % 1_000_000),
        Field::Meridiem => cased(if hour < 12 { "AM" } else { "PM" }, case),
        Field::MeridiemDots => cased(if hour < 12 { "A.M." } else { "P.M." }, case),
        Field::Quarter => ((m.month - 1) / 3 + 1).to_string(),
        Field::WeekOfYear => padded((m.doy() - 1) / 7 + 1, 2, fm),
        Field::WeekOfMonth => ((m.day - 1) / 7 + 1).to_string(),
        Field::IsoWeek => padded((m.days - first_monday) / 7 + 1, 2, fm),
        Field::Century => padded(
            match m.year > 0 {
                true => (m.year + 99) / 100,
                false => (m.year - 99) / 100,
            },
            2,
            fm,
        ),
        Field::Julian => (m.days + 2_440_588).to_string(),
    };
    out.push_str(&text);
}

fn name_text(name: &str, full: bool, case: Case, fm: bool) -> String {
    let name = match full {
        true => name,
        false => &name[..3],
    };
    let text = cased(name, case);
    match full && !fm {
        true => format!("{text:<NAME_WIDTH$}"),
        false => text,
    }
}

/// Copies a quoted literal starting after its opening quote; returns the rest.
fn copy_quoted<'a>(out: &mut String, mut rest: &'a str) -> &'a str {
    loop {
        let mut chars = rest.chars();
        match chars.next() {
            None => return rest,
            Some('"') => return chars.as_str(),
            Some('\\') => match chars.next() {
                Some(c) => {
                    out.push(c);
                    rest = chars.as_str();
                }
                None => {
                    out.push('\\');
                    return chars.as_str();
                }
            },
            Some(c) => {
                out.push(c);
                rest = chars.as_str();
            }
        }
    }
}

fn format_timestamp(t: i64, format: &str) -> String {
    let m = Moment::of(t);
    let mut out = String::with_capacity(format.len() + 16);
    let mut rest = format;
    let mut fm = false;
    while !rest.is_empty() {
        if rest.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("FM")) {
            fm = true;
            rest = &rest[2..];
            continue;
        }
        if let Some((field, n, case)) = date_pattern(rest) {
            write_field(&mut out, field, case, fm, &m);
            rest = &rest[n..];
        } else if let Some(quoted) = rest.strip_prefix('"') {
            rest = copy_quoted(&mut out, quoted);
        } else if let Some(after) = rest.strip_prefix("\\\"") {
            out.push('"');
            rest = after;
        } else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
        }
        fm = false;
    }
    out
}

// ---------------------------------------------------------------- numbers

/// A part of a number template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NumPart {
    Nine,
    Zero,
    Point,
    Group,
    Sign,
    Minus,
    Brackets,
    Text(String),
}

/// A parsed number template.
struct Template {
    parts: Vec<NumPart>,
    fill_mode: bool,
    integer_places: usize,
    fraction_places: usize,
}

fn parse_template(format: &str) -> Template {
    let mut parts = Vec::new();
    let mut fill_mode = false;
    let mut rest = format;
    let mut seen_point = false;
    let (mut integer_places, mut fraction_places) = (0, 0);
    while let Some(c) = rest.chars().next() {
        let upper2 = rest.get(..2).map(str::to_ascii_uppercase);
        let (part, len) = match (c, upper2.as_deref()) {
            (_, Some("FM")) => {
                fill_mode = true;
                rest = &rest[2..];
                continue;
            }
            (_, Some("MI")) => (NumPart::Minus, 2),
            (_, Some("PR")) => (NumPart::Brackets, 2),
            ('9', _) => (NumPart::Nine, 1),
            ('0', _) => (NumPart::Zero, 1),
            ('.' | 'D' | 'd', _) if !seen_point => (NumPart::Point, 1),
            (',' | 'G' | 'g', _) => (NumPart::Group, 1),
            ('S' | 's', _) => (NumPart::Sign, 1),
            ('"', _) => {
                let mut text = String::new();
                rest = copy_quoted(&mut text, &rest[1..]);
                parts.push(NumPart::Text(text));
                continue;
            }
            (c, _) => (NumPart::Text(c.to_string()), c.len_utf8()),
        };
        match part {
            NumPart::Nine | NumPart::Zero if seen_point => fraction_places += 1,
            NumPart::Nine | NumPart::Zero => integer_places += 1,
            NumPart::Point => seen_point = true,
            _ => {}
        }
        parts.push(part);
        rest = &rest[len..];
    }
    Template {
        parts,
        fill_mode,
        integer_places,
        fraction_places,
    }
}

/// A number's digits, rounded to the template's fraction places.
struct Number {
    negative: bool,
    /// Integer digits without leading zeros ("" for zero); `None`: not finite.
    integer: Option<String>,
    /// Fraction digits (as many as the template has places).
    fraction: String,
}

impl Number {
    fn int(i: i64) -> Number {
        Number {
            negative: i < 0,
            integer: Some(match i {
                0 => String::new(),
                i => i.unsigned_abs().to_string(),
            }),
            fraction: String::new(),
        }
    }

    /// A NUMERIC rounded (half away from zero) to the template's places, exactly.
    fn numeric(n: &crate::numeric::Numeric, format: &str) -> Result<Number> {
        let places = parse_template(format).fraction_places as i64;
        let rounded = crate::numeric::round(n, places)?;
        let text = crate::numeric::abs(&rounded)?.to_string();
        let (integer, fraction) = text.split_once('.').unwrap_or((&text, ""));
        Ok(Number {
            negative: rounded.signum() < 0,
            integer: Some(integer.trim_start_matches('0').to_string()),
            fraction: fraction.to_string(),
        })
    }

    fn float(f: f64, format: &str) -> Number {
        if !f.is_finite() {
            return Number {
                negative: f < 0.0,
                integer: None,
                fraction: String::new(),
            };
        }
        let places = parse_template(format).fraction_places;
        let text = format!("{:.*}", places, f.abs());
        let (integer, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let integer = integer.trim_start_matches('0').to_string();
        let zero = integer.is_empty() && fraction.bytes().all(|b| b == b'0');
        Number {
            negative: f < 0.0 && !zero,
            integer: Some(integer),
            fraction: fraction.to_string(),
        }
    }
}

fn format_number(number: &Number, format: &str) -> String {
    let template = parse_template(format);
    let fm = template.fill_mode;
    let mut fraction = number.fraction.clone();
    while fraction.len() < template.fraction_places {
        fraction.push('0');
    }
    let zero = number.integer.as_deref() == Some("") && fraction.bytes().all(|b| b == b'0');
    // Even a zero integer part needs one place (PostgreSQL writes `.##` for 0.5 with
    // the template `.99`).
    let overflow = match &number.integer {
        None => true,
        Some(digits) => digits.len().max(1) > template.integer_places,
    };
    // A zero integer part is written only where nothing else would show the number.
    let integer = match number.integer.as_deref() {
        Some("") if template.fraction_places == 0 || (fm && zero) => "0",
        Some(digits) => digits,
        None => "",
    };
    let zero_start = template
        .parts
        .iter()
        .filter(|p| matches!(p, NumPart::Nine | NumPart::Zero))
        .position(|p| *p == NumPart::Zero)
        .unwrap_or(usize::MAX);
    let blank_places = template.integer_places.saturating_sub(integer.len());
    let explicit_sign = template
        .parts
        .iter()
        .any(|p| matches!(p, NumPart::Sign | NumPart::Minus | NumPart::Brackets));
    let sign_char = if number.negative { '-' } else { '+' };

    let mut out = String::new();
    // The sign (or bracket) written just before the number's first character.
    let mut pending_sign: Option<String> = match explicit_sign {
        false if number.negative => Some("-".into()),
        false if fm => None,
        false => Some(" ".into()),
        true => None,
    };
    let mut place = 0; // digit places seen so far
    let mut started = false; // whether the number has begun
    let begin = |out: &mut String, pending: &mut Option<String>, started: &mut bool| {
        if !*started {
            *started = true;
            if let Some(sign) = pending.take() {
                out.push_str(&sign);
            }
        }
    };
    let last_kept_fraction = {
        // In fill mode trailing zeros in `9` places of the fraction are dropped.
        let fraction_kinds: Vec<&NumPart> = template
            .parts
            .iter()
            .skip_while(|p| **p != NumPart::Point)
            .filter(|p| matches!(p, NumPart::Nine | NumPart::Zero))
            .collect();
        let mut keep = fraction.len();
        if fm && !overflow {
            while keep > 0
                && fraction.as_bytes()[keep - 1] == b'0'
                && fraction_kinds.get(keep - 1) == Some(&&NumPart::Nine)
            {
                keep -= 1;
            }
        }
        keep
    };
    let mut in_fraction = false;
    let mut fraction_index = 0;
    for part in &template.parts {
        match part {
            NumPart::Nine | NumPart::Zero if in_fraction => {
                if fraction_index < last_kept_fraction {
                    begin(&mut out, &mut pending_sign, &mut started);
                    out.push(match overflow {
                        true => '#',
                        false => char::from(fraction.as_bytes()[fraction_index]),
                    });
                }
                fraction_index += 1;
            }
            NumPart::Nine | NumPart::Zero => {
                let digit = if overflow {
                    Some('#')
                } else if place >= blank_places {
                    integer.chars().nth(place - blank_places)
                } else if place >= zero_start {
                    Some('0')
                } else {
                    None
                };
                match digit {
                    Some(d) => {
                        begin(&mut out, &mut pending_sign, &mut started);
                        out.push(d);
                    }
                    None if !fm => out.push(' '),
                    None => {}
                }
                place += 1;
            }
            NumPart::Point => {
                in_fraction = true;
                if template.fraction_places > 0 {
                    begin(&mut out, &mut pending_sign, &mut started);
                    out.push('.');
                }
            }
            NumPart::Group => match started {
                true => out.push(','),
                false if !fm => out.push(' '),
                false => {}
            },
            NumPart::Sign if !started && place < template.integer_places => {
                pending_sign = Some(sign_char.to_string());
            }
            NumPart::Sign => out.push(sign_char),
            NumPart::Minus => match number.negative {
                true => out.push('-'),
                false if !fm => out.push(' '),
                false => {}
            },
            NumPart::Brackets => match (number.negative, fm) {
                (true, _) => out.push('>'),
                (false, false) => out.push(' '),
                (false, true) => {}
            },
            NumPart::Text(text) => out.push_str(text),
        }
    }
    if template.parts.contains(&NumPart::Brackets) {
        let open = match (number.negative, fm) {
            (true, _) => "<",
            (false, false) => " ",
            (false, true) => "",
        };
        // The opening bracket goes just before the number's first character.
        let first = out
            .char_indices()
            .find(|(_, c)| !c.is_whitespace())
            .map_or(out.len(), |(i, _)| i);
        out.insert_str(first, open);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::call;
    use super::*;
    use crate::datetime::parse_timestamp;

    fn ts(text: &str, format: &str) -> String {
        let t = Value::Timestamp(parse_timestamp(text).unwrap());
        match call("to_char", vec![t, Value::Text(format.into())]) {
            Ok(Value::Text(s)) => s,
            other => panic!("to_char gave {other:?}"),
        }
    }

    fn num(v: Value, format: &str) -> String {
        match call("to_char", vec![v, Value::Text(format.into())]) {
            Ok(Value::Text(s)) => s,
            other => panic!("to_char gave {other:?}"),
        }
    }

    #[test]
    fn timestamps_as_postgresql_writes_them() {
        let t = "2024-02-05 14:07:09.123456";
        assert_eq!(
            ts(
                t,
                "YYYY YY MM Mon MON Month DD D DDD HH HH12 HH24 MI SS MS US AM PM Dy Day Q WW IW"
            ),
            "2024 24 02 Feb FEB February  05 2 036 02 02 14 07 09 123 123456 PM PM Mon Monday    1 06 06"
        );
        assert_eq!(
            ts(
                "2024-02-05 04:07:09",
                "FMMonth FMDD FMHH12 \"text\" q x YYYY-MM-DD\"T\"HH24:MI:SS am pm a.m. mon month dy day"
            ),
            "February 5 4 text 1 x 2024-02-05T04:07:09 am am a.m. feb february  mon monday   "
        );
        assert_eq!(ts("2024-12-30", "IYYY-IW YYYY-WW"), "2025-01 2024-53");
        assert_eq!(ts("2024-02-05 00:07:09", "HH12 AM HH24"), "12 AM 00");
        assert_eq!(ts("2024-02-05 12:07:09", "HH12 PM"), "12 PM");
        assert_eq!(ts("2024-02-05 12:07:09", "\\\"YYYY\"\\"), "\"2024\\");
        assert_eq!(ts("2024-02-05 12:07:09", ""), "");
        assert_eq!(ts("2024-02-05 14:07:09", "Hello World"), "Hello 1orl2");
        assert_eq!(
            ts(
                "2024-02-05 14:07:09",
                "FMHH FMMI FMSS FMMS FMUS FMDDD FMD FMWW FMIW FMQ FMYYYY FMMM"
            ),
            "2 7 9 000 000000 36 2 6 6 1 2024 2"
        );
        assert_eq!(
            ts("2024-02-05 14:07:09", "MONTHMonthmonth"),
            "FEBRUARY February february "
        );
        assert_eq!(ts("2024-02-05 14:07:09", "DYdyDy"), "MONmonMon");
        assert_eq!(
            ts("2024-02-05 14:07:09", "IDDD ID I IY IYY"),
            "036 1 4 24 024"
        );
        assert_eq!(
            ts("2024-02-05 14:07:09", "CC J SSSS Y,YYY"),
            "21 2460346 50829 2,024"
        );
        assert_eq!(ts("0099-02-05", "YYYY YY"), "0099 99");
        assert_eq!(
            ts("2024-02-29", "FMDay, FMDD FMMonth YYYY"),
            "Thursday, 29 February 2024"
        );
    }

    #[test]
    fn numbers_as_postgresql_writes_them() {
        let i = Value::Int;
        let f = Value::Float;
        assert_eq!(num(f(123.456), "999.99"), " 123.46");
        assert_eq!(num(f(-123.456), "999.99"), "-123.46");
        assert_eq!(num(f(123.456), "0999.9"), " 0123.5");
        assert_eq!(num(i(1234567), "9,999,999"), " 1,234,567");
        assert_eq!(num(i(1234567), "9G999G999"), " 1,234,567");
        assert_eq!(num(i(12), "99D99"), " 12.00");
        assert_eq!(num(i(-12), "S999"), " -12");
        assert_eq!(num(i(12), "S999"), " +12");
        assert_eq!(num(i(-12), "999MI"), " 12-");
        assert_eq!(num(i(12), "999MI"), " 12 ");
        assert_eq!(num(i(-12), "999PR"), " <12>");
        assert_eq!(num(i(12), "999PR"), "  12 ");
        assert_eq!(num(f(12.5), "FM999.99"), "12.5");
        assert_eq!(num(i(12345), "999"), " ###");
        assert_eq!(num(f(0.5), "9.99"), "  .50");
        assert_eq!(num(f(0.5), "0.99"), " 0.50");
        assert_eq!(num(i(-12), "FM999PR"), "<12>");
        assert_eq!(num(i(5), "\"n=\"9"), "n= 5");
        assert_eq!(num(i(12), "9 9"), " 1 2");
        assert_eq!(num(i(100), "999."), " 100");
        assert_eq!(num(i(-5), "FM9MI"), "5-");
        assert_eq!(num(i(-1234), "9,999"), "-1,234");
        assert_eq!(num(i(-1234), "S9,999"), "-1,234");
        assert_eq!(num(i(-1234), "9,999S"), "1,234-");
        assert_eq!(num(i(1234), "9,999S"), "1,234+");
        assert_eq!(num(i(0), "999"), "   0");
        assert_eq!(num(i(0), "FM999"), "0");
        assert_eq!(num(i(0), "990"), "   0");
        assert_eq!(num(f(-0.1), "9.9"), " -.1");
        assert_eq!(num(f(-0.1), "FM9.9"), "-.1");
        assert_eq!(num(i(-12), "MI99"), "-12");
        assert_eq!(num(i(12), "MI99"), " 12");
        assert_eq!(num(f(-12.345), "FM990.00"), "-12.35");
        assert_eq!(num(i(3), "00"), " 03");
        assert_eq!(num(i(-3), "FM00"), "-03");
        assert_eq!(num(f(1e20), "9999"), " ####");
        assert_eq!(num(i(123), "9,9"), " #,#");
        assert_eq!(num(i(1234), "FM9,999"), "1,234");
        assert_eq!(num(i(12), "FM99.99"), "12.");
        assert_eq!(num(i(5), "9099"), "  005");
        assert_eq!(num(i(5), "90.9"), "  5.0");
        assert_eq!(num(i(-5), "9,990"), "    -5");
        assert_eq!(num(i(12), "99S"), "12+");
        assert_eq!(num(i(-12345), "9,999PR"), "<#,###>");
        assert_eq!(num(i(0), "9.99"), "  .00");
        assert_eq!(num(i(0), "FM9.99"), "0.");
        assert_eq!(num(i(1), "FM.99"), ".##");
        assert_eq!(num(f(-0.5), ".99"), "-.##");
        assert_eq!(num(i(5), ""), "");
        assert_eq!(
            num(i(i64::MIN), "FM9999999999999999999"),
            "-9223372036854775808"
        );
        assert_eq!(num(f(f64::NAN), "999"), " ###");
        assert_eq!(num(f(12.5), "999"), "  12");
        assert_eq!(num(f(3.5), "9"), " 4");
    }
}
