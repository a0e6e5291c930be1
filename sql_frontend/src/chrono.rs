//! `chrono` dates and times as [`Value`]s (the `chrono` feature): `NaiveDate` is a DATE,
//! `NaiveDateTime` a TIMESTAMP, and `DateTime<Utc>` the TIMESTAMP of its UTC time (a
//! TIMESTAMP has no time zone, as PostgreSQL's `timestamp without time zone`).
//!
//! The conversions are exact: a DATE is days since 1970-01-01 and a TIMESTAMP
//! microseconds since 1970-01-01 00:00:00, and every chrono date and time fits (a
//! nanosecond remainder is cut to the microsecond, as PostgreSQL rounds to its
//! precision).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

use crate::value::Value;

/// 1970-01-01 counted from 0001-01-01 (day 1), chrono's "days from the common era".
const EPOCH_DAYS_FROM_CE: i32 = 719_163;

impl From<NaiveDate> for Value {
    fn from(date: NaiveDate) -> Self {
        Value::Date(date.num_days_from_ce() - EPOCH_DAYS_FROM_CE)
    }
}

impl From<NaiveDateTime> for Value {
    fn from(time: NaiveDateTime) -> Self {
        Value::Timestamp(time.and_utc().timestamp_micros())
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(time: DateTime<Utc>) -> Self {
        Value::Timestamp(time.timestamp_micros())
    }
}

/// The date `days` after 1970-01-01, if chrono can represent it.
pub fn date_from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(EPOCH_DAYS_FROM_CE)?)
}

/// The time `micros` after 1970-01-01 00:00:00, if chrono can represent it.
pub fn timestamp_from_micros(micros: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|time| time.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_round_trip_through_values() {
        let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        let Value::Date(days) = Value::from(date) else {
            panic!("not a date")
        };
        assert_eq!(crate::datetime::format_date(days), "2024-02-29");
        assert_eq!(date_from_days(days), Some(date));
        assert_eq!(
            Value::from(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()),
            Value::Date(0)
        );
        let before = NaiveDate::from_ymd_opt(1969, 12, 31).unwrap();
        assert_eq!(Value::from(before), Value::Date(-1));

        let time = date.and_hms_micro_opt(13, 14, 15, 16).unwrap();
        let Value::Timestamp(micros) = Value::from(time) else {
            panic!("not a timestamp")
        };
        assert_eq!(
            crate::datetime::format_timestamp(micros),
            "2024-02-29 13:14:15.000016"
        );
        assert_eq!(timestamp_from_micros(micros), Some(time));
        assert_eq!(Value::from(time.and_utc()), Value::Timestamp(micros));
        assert_eq!(date_from_days(i32::MAX), None);
    }
}
