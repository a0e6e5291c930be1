//! Calendar arithmetic for DATE and TIMESTAMP: parsing and printing their ISO 8601 text.
//!
//! A DATE is days since 1970-01-01 and a TIMESTAMP microseconds since 1970-01-01
//! 00:00:00 (without time zone), the engine's representation. The conversions use Howard
//! Hinnant's `days_from_civil` algorithm on the proleptic Gregorian calendar, so they are
//! exact for every year the types can hold. Accepted text: `YYYY-MM-DD` for dates, and
//! `YYYY-MM-DD[ |T]HH:MM[:SS[.ffffff]]` for timestamps (a date alone is midnight), each
//! optionally followed by a numeric time zone offset (`+00`, `-05:30`, `+0530`) or `Z`,
//! which is ignored, as PostgreSQL ignores a zone in the input of a type without one
//! (JDBC sends dates and timestamps so: `2024-02-21 +00`).
//!
//! Not yet: TIMESTAMP WITH TIME ZONE, zone names, BC years, PostgreSQL's other input
//! styles, INTERVAL.

use crate::error::{Error, Result};

/// Microseconds in one day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;
const MICROS_PER_SECOND: i64 = 1_000_000;
const MAX_FRACTION_DIGITS: usize = 6;

/// The largest year accepted in input (PostgreSQL's timestamps end in 294276).
const MAX_YEAR: i64 = 294_276;

/// Microseconds since the epoch of midnight at the start of a date, if representable.
pub fn date_to_micros(days: i32) -> Option<i64> {
    i64::from(days).checked_mul(MICROS_PER_DAY)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The days in a month of a year.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn bad(kind: &str, text: &str) -> Error {
    Error::Data(format!("invalid input syntax for type {kind}: {text:?}"))
}

fn number(part: &str, kind: &str, text: &str) -> Result<i64> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(kind, text));
    }
    part.parse().map_err(|_| bad(kind, text))
}

/// `text` without a numeric time zone offset or `Z` at its end (see the module
/// comment); `None` if what follows the sign is not one.
fn without_zone(text: &str) -> Option<&str> {
    if let Some(rest) = text.strip_suffix('Z') {
        return Some(rest.trim_end());
    }
    let Some(at) = text.find(['+', '-']) else {
        return Some(text);
    };
    let digits: String = text[at + 1..].chars().filter(|c| *c != ':').collect();
    let is_offset = matches!(digits.len(), 2 | 4 | 6) && digits.bytes().all(|b| b.is_ascii_digit());
    is_offset.then(|| text[..at].trim_end())
}

/// Parses `YYYY-MM-DD` (a time zone after it ignored) into days since the epoch.
pub fn parse_date(text: &str) -> Result<i32> {
    let trimmed = match text.trim().split_once(' ') {
        Some((date, zone)) if without_zone(zone.trim()) == Some("") => date,
        Some(_) => return Err(bad("date", text)),
        None => text.trim(),
    };
    let mut parts = trimmed.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("date", text));
    };
    let year = number(y, "date", text)?;
    let month = u32::try_from(number(m, "date", text)?).map_err(|_| bad("date", text))?;
    let day = u32::try_from(number(d, "date", text)?).map_err(|_| bad("date", text))?;
    if !(1..=MAX_YEAR).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
    {
        return Err(Error::Data(format!(
            "date/time field value out of range: {text:?}"
        )));
    }
    i32::try_from(days_from_civil(year, month, day))
        .map_err(|_| Error::Data(format!("date out of range: {text:?}")))
}

/// Parses a timestamp into microseconds since the epoch.
pub fn parse_timestamp(text: &str) -> Result<i64> {
    let trimmed = text.trim();
    let (date, time) = match trimmed.find([' ', 'T']) {
        Some(at) => (&trimmed[..at], trimmed[at + 1..].trim()),
        None => (trimmed, ""),
    };
    let time = without_zone(time).ok_or_else(|| bad("timestamp", text))?;
    let days = i64::from(parse_date(date).map_err(|_| bad("timestamp", text))?);
    let mut micros = 0i64;
    if !time.is_empty() {
        let (hms, fraction) = match time.split_once('.') {
            Some((hms, fraction)) => (hms, fraction),
            None => (time, ""),
        };
        let fields: Vec<&str> = hms.split(':').collect();
        if !(2..=3).contains(&fields.len()) || fraction.len() > MAX_FRACTION_DIGITS {
            return Err(bad("timestamp", text));
        }
        let hour = number(fields[0], "timestamp", text)?;
        let minute = number(fields[1], "timestamp", text)?;
        let second = match fields.get(2) {
            Some(s) => number(s, "timestamp", text)?,
            None => 0,
        };
        if hour > 23 || minute > 59 || second > 59 {
            return Err(Error::Data(format!(
                "date/time field value out of range: {text:?}"
            )));
        }
        let mut frac = 0;
        if !fraction.is_empty() {
            let digits = number(fraction, "timestamp", text)?;
            frac = digits * 10i64.pow((MAX_FRACTION_DIGITS - fraction.len()) as u32);
        }
        micros = ((hour * 60 + minute) * 60 + second) * MICROS_PER_SECOND + frac;
    }
    days.checked_mul(MICROS_PER_DAY)
        .and_then(|d| d.checked_add(micros))
        .ok_or_else(|| Error::Data(format!("timestamp out of range: {text:?}")))
}

/// `YYYY-MM-DD`.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(i64::from(days));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]`, as PostgreSQL prints a timestamp.
pub fn format_timestamp(micros: i64) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rest = micros.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = rest / MICROS_PER_SECOND;
    let frac = rest % MICROS_PER_SECOND;
    let time = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    match frac {
        0 => format!("{y:04}-{m:02}-{d:02} {time}"),
        f => {
            let digits = format!("{f:06}");
            format!(
                "{y:04}-{m:02}-{d:02} {time}.{}",
                digits.trim_end_matches('0')
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for text in [
            "1970-01-01",
            "2000-02-29",
            "1969-12-31",
            "2024-12-31",
            "0001-01-01",
        ] {
            assert_eq!(format_date(parse_date(text).unwrap()), text);
        }
        assert_eq!(parse_date("1970-01-02").unwrap(), 1);
        assert!(parse_date("2023-02-29").is_err());
        assert!(parse_date("2023-13-01").is_err());
        assert!(parse_date("nope").is_err());
    }

    #[test]
    fn timestamps_round_trip() {
        for text in [
            "1970-01-01 00:00:00",
            "2024-05-06 07:08:09.5",
            "1969-12-31 23:59:59",
        ] {
            assert_eq!(format_timestamp(parse_timestamp(text).unwrap()), text);
        }
        assert_eq!(parse_timestamp("1970-01-01").unwrap(), 0);
        assert!(parse_timestamp("1970-01-01 24:00:00").is_err());
    }

    #[test]
    fn a_time_zone_in_the_input_is_ignored() {
        assert_eq!(
            parse_date("2024-02-21 +00").unwrap(),
            parse_date("2024-02-21").unwrap()
        );
        assert_eq!(
            parse_date("2024-02-21 -05:30").unwrap(),
            parse_date("2024-02-21").unwrap()
        );
        assert!(parse_date("2024-02-21 +5").is_err());
        assert!(parse_date("2024-02-21 x").is_err());
        let plain = parse_timestamp("2024-05-06 07:08:01.5").unwrap();
        for text in [
            "2024-05-06 07:08:01.5+00",
            "2024-05-06 07:08:01.5 -0530",
            "2024-05-06T07:08:01.5Z",
        ] {
            assert_eq!(parse_timestamp(text).unwrap(), plain, "{text}");
        }
        assert!(parse_timestamp("2024-05-06 07:08:01+1").is_err());
    }
}
