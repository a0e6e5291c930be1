//! Reading DATE and TIMESTAMP values as `chrono` types (the `chrono` feature).
//!
//! `row.get::<NaiveDate>(..)` reads a DATE, `row.get::<NaiveDateTime>(..)` and
//! `row.get::<DateTime<Utc>>(..)` a TIMESTAMP (taken as UTC: a TIMESTAMP has no time
//! zone). The other way, [`params!`](crate::params) and `Value::from` take the same
//! types. A value chrono cannot represent is an [`Error::Data`].
//!
//! ```
//! # fn main() -> hdb::Result<()> {
//! use chrono::NaiveDate;
//! let db = hdb::Database::open_in_memory()?;
//! let mut session = db.session();
//! session.execute("CREATE TABLE events (day DATE, at TIMESTAMP)")?;
//! let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
//! let at = day.and_hms_opt(12, 30, 0).unwrap();
//! session.query("INSERT INTO events VALUES ($1, $2)", hdb::params![day, at])?;
//! let (read_day, read_at): (NaiveDate, chrono::NaiveDateTime) =
//!     session.query_row("SELECT day, at + INTERVAL '1 hour' FROM events", hdb::params![], |row| {
//!         Ok((row.get(0)?, row.get(1)?))
//!     })?;
//! assert_eq!(read_day, day);
//! assert_eq!(read_at, day.and_hms_opt(13, 30, 0).unwrap());
//! # Ok(()) }
//! ```

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sql_frontend::Value;
use sql_frontend::chrono::{date_from_days, timestamp_from_micros};

use crate::error::{Error, Result};
use crate::result::FromValue;

fn wrong(value: &Value, wanted: &str) -> Error {
    Error::Type(format!("cannot read {value:?} as {wanted}"))
}

impl FromValue for NaiveDate {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Date(days) => date_from_days(*days)
                .ok_or_else(|| Error::Data(format!("date {days} days from 1970 is out of range"))),
            other => Err(wrong(other, "NaiveDate")),
        }
    }
}

impl FromValue for NaiveDateTime {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Timestamp(micros) => timestamp_from_micros(*micros).ok_or_else(|| {
                Error::Data(format!("timestamp {micros} µs from 1970 is out of range"))
            }),
            other => Err(wrong(other, "NaiveDateTime")),
        }
    }
}

impl FromValue for DateTime<Utc> {
    fn from_value(value: &Value) -> Result<Self> {
        NaiveDateTime::from_value(value).map(|time| time.and_utc())
    }
}
