//! SQL column types, their engine representation, and assignment casts.
//!
//! | SQL type                 | engine `ColumnType` | checked on store                    |
//! |--------------------------|---------------------|-------------------------------------|
//! | BOOLEAN                  | Bool                |                                     |
//! | SMALLINT / INTEGER / BIGINT | Int (i64)        | range of 16 / 32 / 64 bits          |
//! | REAL / DOUBLE PRECISION  | Float (f64)         | REAL rounds to f32 precision        |
//! | NUMERIC / DECIMAL [(p[, s])] | Numeric (exact) | rounded to s digits, at most p - s before the point |
//! | TEXT / VARCHAR(n)        | Text                | VARCHAR(n): at most n characters    |
//! | CHAR(n) / bpchar         | Text                | blank-padded to n (see below)       |
//! | DATE                     | Date                |                                     |
//! | TIMESTAMP                | Timestamp           | (without time zone)                 |
//! | INTERVAL                 | Interval            |                                     |
//! | BYTEA                    | Bytes               |                                     |
//! | UUID                     | Bytes (16 bytes)    |                                     |
//!
//! ## Persistence of SQL types
//!
//! The engine stores only `ColumnType`, which cannot tell SMALLINT from BIGINT or
//! VARCHAR(10) from TEXT. Rather than add anything to the engine, the SQL layer keeps its
//! own catalog table, `__hdb_sql_columns` (see `catalog.rs`), created through the engine
//! API in the same transaction as the first CREATE TABLE, holding each column's SQL type
//! name (as [`SqlType::fmt`] prints it, read back by [`SqlType::parse`]) and its DEFAULT.
//! Tables created through the engine API alone read back with the widest SQL type of
//! their engine type ([`SqlType::from_column_type`]).
//!
//! BYTEA and UUID are both the engine's `Bytes` (a UUID always 16 of them), ordered
//! bytewise by the key encoding, which is both types' PostgreSQL order; only this
//! catalog tells a UUID column from a BYTEA one, so rows are read through their
//! columns' kinds ([`crate::value::Value::from_key`]). A `Bytes` column created
//! through the engine API alone reads back as BYTEA.
//!
//! ## Assignment casts
//!
//! [`SqlType::assign`] converts a value on its way into a column, as PostgreSQL's
//! assignment casts do: integers and floats convert into each other (floats round half to
//! even, as `rint`), everything converts to text, and text parses into any type (which is
//! more lenient than PostgreSQL, which parses only untyped literals; the binder does not
//! yet track "unknown" literals apart from text values). Out-of-range values are
//! [`Error::Data`].
//!
//! INTERVAL columns are the engine's `Interval`, which stores the three fields apart
//! (so `1 mon` reads back as `1 mon`) and orders and compares keys by the interval's
//! length with a month of 30 days, as PostgreSQL does (so a UNIQUE INTERVAL column
//! holds `1 mon` or `30 days`, not both). An engine type of its own rather than a
//! byte string the SQL layer encodes: one engine value serves both as the row's
//! stored value and as its key, and an interval needs both its fields in the row and
//! only its length in the key (equal keys must be equal bytes); see `keycode`'s
//! header in the engine.
//!
//! Explicit casts (`CAST`, `::`), which allow more than assignment, are in `cast.rs`.
//!
//! ## CHAR(n)
//!
//! `CHAR(n)` (`CHARACTER(n)`; `CHAR` alone is `CHAR(1)`, `bpchar` has no length) is
//! stored as PostgreSQL stores it: blank-padded to `n` characters, so it reads back
//! (and is sent to clients, and written by COPY TO) padded. Storing a longer value is
//! an error (`value too long for type character(n)`, 22001) unless the excess is
//! spaces, which are cut, as in PostgreSQL; an explicit cast `::char(n)` cuts instead.
//! Its values are text to every operator, so where PostgreSQL's `bpchar` comparisons
//! ignore trailing blanks, H's compare them: see the README's differences.
//!
//! ## NUMERIC(p, s)
//!
//! `NUMERIC` alone holds any value at its own scale; `NUMERIC(p, s)` (`DECIMAL` is the
//! same type, `NUMERIC(p)` is `NUMERIC(p, 0)`) rounds a stored value to `s` digits after
//! the point, half away from zero, and refuses one with more than `p - s` digits before
//! it (`numeric field overflow`, 22003, with PostgreSQL's detail): `numeric/mod.rs`.
//! A NUMERIC stored into an integer column rounds half away from zero too
//! (`smallint out of range` and its kin past the type), into a double becomes the
//! nearest double.
//!
//! Not yet: time zones.

use std::fmt;

use engine::table::ColumnType;

use crate::bytea::parse_bytea;
use crate::datetime::{MICROS_PER_DAY, date_to_micros, parse_date, parse_timestamp};
use crate::error::{Error, Result};
use crate::interval::parse_interval;
use crate::numeric::{self, Typmod};
use crate::uuid::parse_uuid;
use crate::value::{Kind, Value};

/// A column's declared SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    Boolean,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    /// `NUMERIC` / `DECIMAL`; `None` holds any value at its own scale.
    Numeric(Option<Typmod>),
    Text,
    /// `VARCHAR(n)`; `None` is VARCHAR without a limit (the same as TEXT).
    Varchar(Option<u32>),
    /// `CHAR(n)`, blank-padded to `n` characters; `None` is `bpchar` without a length
    /// (no padding).
    Char(Option<u32>),
    Date,
    Timestamp,
    Interval,
    Bytea,
    Uuid,
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlType::Boolean => f.write_str("BOOLEAN"),
            SqlType::SmallInt => f.write_str("SMALLINT"),
            SqlType::Integer => f.write_str("INTEGER"),
            SqlType::BigInt => f.write_str("BIGINT"),
            SqlType::Real => f.write_str("REAL"),
            SqlType::Double => f.write_str("DOUBLE PRECISION"),
            SqlType::Numeric(None) => f.write_str("NUMERIC"),
            SqlType::Numeric(Some(t)) => write!(f, "NUMERIC({},{})", t.precision, t.scale),
            SqlType::Text => f.write_str("TEXT"),
            SqlType::Varchar(None) => f.write_str("VARCHAR"),
            SqlType::Varchar(Some(n)) => write!(f, "VARCHAR({n})"),
            SqlType::Char(None) => f.write_str("BPCHAR"),
            SqlType::Char(Some(n)) => write!(f, "CHAR({n})"),
            SqlType::Date => f.write_str("DATE"),
            SqlType::Timestamp => f.write_str("TIMESTAMP"),
            SqlType::Interval => f.write_str("INTERVAL"),
            SqlType::Bytea => f.write_str("BYTEA"),
            SqlType::Uuid => f.write_str("UUID"),
        }
    }
}

impl SqlType {
    /// Reads back a name printed by `Display` (the stored form in `__hdb_sql_columns`).
    pub fn parse(name: &str) -> Option<SqlType> {
        Some(match name {
            "BOOLEAN" => SqlType::Boolean,
            "SMALLINT" => SqlType::SmallInt,
            "INTEGER" => SqlType::Integer,
            "BIGINT" => SqlType::BigInt,
            "REAL" => SqlType::Real,
            "DOUBLE PRECISION" => SqlType::Double,
            "NUMERIC" => SqlType::Numeric(None),
            "TEXT" => SqlType::Text,
            "VARCHAR" => SqlType::Varchar(None),
            "BPCHAR" => SqlType::Char(None),
            "DATE" => SqlType::Date,
            "TIMESTAMP" => SqlType::Timestamp,
            "INTERVAL" => SqlType::Interval,
            "BYTEA" => SqlType::Bytea,
            "UUID" => SqlType::Uuid,
            other => {
                if let Some(typmod) = other.strip_prefix("NUMERIC(") {
                    let (p, s) = typmod.strip_suffix(')')?.split_once(',')?;
                    let typmod = Typmod::new(p.parse().ok()?, s.parse().ok()?).ok()?;
                    return Some(SqlType::Numeric(Some(typmod)));
                }
                if let Some(n) = other.strip_prefix("CHAR(") {
                    return Some(SqlType::Char(Some(n.strip_suffix(')')?.parse().ok()?)));
                }
                let n = other.strip_prefix("VARCHAR(")?.strip_suffix(')')?;
                SqlType::Varchar(Some(n.parse().ok()?))
            }
        })
    }

    /// The SQL type a value of `kind` is cast to when a literal or parameter must take
    /// that kind (`None` for unknown).
    pub fn for_kind(kind: Kind) -> Option<SqlType> {
        Some(match kind {
            Kind::Bool => SqlType::Boolean,
            Kind::Int => SqlType::BigInt,
            Kind::Float => SqlType::Double,
            Kind::Numeric => SqlType::Numeric(None),
            Kind::Text => SqlType::Text,
            Kind::Date => SqlType::Date,
            Kind::Timestamp => SqlType::Timestamp,
            Kind::Interval => SqlType::Interval,
            Kind::Bytea => SqlType::Bytea,
            Kind::Uuid => SqlType::Uuid,
            Kind::Unknown => return None,
        })
    }

    /// The engine type that stores this SQL type.
    pub fn column_type(self) -> ColumnType {
        match self {
            SqlType::Boolean => ColumnType::Bool,
            SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => ColumnType::Int,
            SqlType::Real | SqlType::Double => ColumnType::Float,
            SqlType::Numeric(_) => ColumnType::Numeric,
            SqlType::Text | SqlType::Varchar(_) | SqlType::Char(_) => ColumnType::Text,
            SqlType::Interval => ColumnType::Interval,
            SqlType::Date => ColumnType::Date,
            SqlType::Timestamp => ColumnType::Timestamp,
            SqlType::Bytea | SqlType::Uuid => ColumnType::Bytes,
        }
    }

    /// The SQL type a column created without SQL reads back as.
    pub fn from_column_type(ty: ColumnType) -> Result<SqlType> {
        Ok(match ty {
            ColumnType::Bool => SqlType::Boolean,
            ColumnType::Int => SqlType::BigInt,
            ColumnType::Float => SqlType::Double,
            ColumnType::Numeric => SqlType::Numeric(None),
            ColumnType::Text => SqlType::Text,
            ColumnType::Date => SqlType::Date,
            ColumnType::Timestamp => SqlType::Timestamp,
            ColumnType::Bytes => SqlType::Bytea,
            ColumnType::Interval => SqlType::Interval,
        })
    }

    /// The kind of value a column of this type holds.
    pub fn kind(self) -> Kind {
        match self {
            SqlType::Boolean => Kind::Bool,
            SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => Kind::Int,
            SqlType::Real | SqlType::Double => Kind::Float,
            SqlType::Numeric(_) => Kind::Numeric,
            SqlType::Text | SqlType::Varchar(_) | SqlType::Char(_) => Kind::Text,
            SqlType::Date => Kind::Date,
            SqlType::Timestamp => Kind::Timestamp,
            SqlType::Interval => Kind::Interval,
            SqlType::Bytea => Kind::Bytea,
            SqlType::Uuid => Kind::Uuid,
        }
    }

    /// The inclusive range of an integer type.
    pub(crate) fn int_range(self) -> (i64, i64) {
        match self {
            SqlType::SmallInt => (i64::from(i16::MIN), i64::from(i16::MAX)),
            SqlType::Integer => (i64::from(i32::MIN), i64::from(i32::MAX)),
            _ => (i64::MIN, i64::MAX),
        }
    }

    /// A NUMERIC as this integer type: rounded half away from zero, with PostgreSQL's
    /// `integer out of range` (and its kin) past the type.
    fn int_from_numeric(self, n: &numeric::Numeric) -> Result<Value> {
        let (min, max) = self.int_range();
        match numeric::to_i64(n)? {
            Some(i) if (min..=max).contains(&i) => Ok(Value::Int(i)),
            _ => Err(Error::Data(format!(
                "{} out of range",
                match self {
                    SqlType::SmallInt => "smallint",
                    SqlType::Integer => "integer",
                    _ => "bigint",
                }
            ))),
        }
    }

    /// Converts `value` for storing in a column of this type (the assignment cast).
    pub fn assign(self, value: Value) -> Result<Value> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let out_of_range = || Error::Data(format!("value out of range for type {self}"));
        match self.kind() {
            Kind::Int => {
                let i = match value {
                    Value::Int(i) => i,
                    Value::Float(f) => float_to_int(f).ok_or_else(out_of_range)?,
                    Value::Numeric(n) => return self.int_from_numeric(&n),
                    Value::Text(s) => parse_int(&s, self)?,
                    other => return Err(mismatch(self, &other)),
                };
                let (min, max) = self.int_range();
                match (min..=max).contains(&i) {
                    true => Ok(Value::Int(i)),
                    false => Err(out_of_range()),
                }
            }
            Kind::Float => {
                let f = match value {
                    Value::Float(f) => f,
                    Value::Int(i) => i as f64,
                    Value::Numeric(n) => numeric::to_f64(&n)?,
                    Value::Text(s) => parse_float(&s, self)?,
                    other => return Err(mismatch(self, &other)),
                };
                match self {
                    SqlType::Real => {
                        let narrowed = f as f32;
                        if narrowed.is_infinite() && f.is_finite() {
                            return Err(out_of_range());
                        }
                        Ok(Value::Float(f64::from(narrowed)))
                    }
                    _ => Ok(Value::Float(f)),
                }
            }
            Kind::Numeric => {
                let n = match value {
                    Value::Numeric(n) => *n,
                    Value::Int(i) => numeric::Numeric::from_i64(i),
                    Value::Float(f) => numeric::from_f64(f)?,
                    Value::Text(s) => numeric::from_text(&s)?,
                    other => return Err(mismatch(self, &other)),
                };
                match self {
                    SqlType::Numeric(Some(typmod)) => {
                        numeric::apply_typmod(&n, typmod).map(Value::numeric)
                    }
                    _ => Ok(Value::numeric(n)),
                }
            }
            Kind::Text => {
                let s = match value {
                    Value::Text(s) => s,
                    other => other.to_string(),
                };
                match self {
                    SqlType::Varchar(Some(n)) if s.chars().count() > n as usize => Err(
                        Error::Data(format!("value too long for type character varying({n})")),
                    ),
                    SqlType::Char(Some(n)) => blank_pad(s, n).map(Value::Text),
                    _ => Ok(Value::Text(s)),
                }
            }
            Kind::Bool => match value {
                Value::Bool(b) => Ok(Value::Bool(b)),
                Value::Text(s) => parse_bool(&s).map(Value::Bool),
                other => Err(mismatch(self, &other)),
            },
            Kind::Date => match value {
                Value::Date(d) => Ok(Value::Date(d)),
                Value::Timestamp(t) => i32::try_from(t.div_euclid(MICROS_PER_DAY))
                    .map(Value::Date)
                    .map_err(|_| out_of_range()),
                Value::Text(s) => parse_date(&s).map(Value::Date),
                other => Err(mismatch(self, &other)),
            },
            Kind::Timestamp => match value {
                Value::Timestamp(t) => Ok(Value::Timestamp(t)),
                Value::Date(d) => date_to_micros(d)
                    .map(Value::Timestamp)
                    .ok_or_else(out_of_range),
                Value::Text(s) => parse_timestamp(&s).map(Value::Timestamp),
                other => Err(mismatch(self, &other)),
            },
            Kind::Interval => match value {
                Value::Interval(i) => Ok(Value::Interval(i)),
                Value::Text(s) => parse_interval(&s).map(Value::Interval),
                other => Err(mismatch(self, &other)),
            },
            Kind::Bytea => match value {
                Value::Bytea(b) => Ok(Value::Bytea(b)),
                Value::Text(s) => parse_bytea(&s).map(Value::Bytea),
                other => Err(mismatch(self, &other)),
            },
            Kind::Uuid => match value {
                Value::Uuid(u) => Ok(Value::Uuid(u)),
                Value::Text(s) => parse_uuid(&s).map(Value::Uuid),
                other => Err(mismatch(self, &other)),
            },
            Kind::Unknown => Err(mismatch(self, &value)),
        }
    }
}

/// `s` stored as `CHAR(n)`: padded with blanks to `n` characters; a longer value loses
/// trailing blanks down to `n`, and is an error if that is not enough (PostgreSQL's
/// `bpchar` input).
fn blank_pad(mut s: String, n: u32) -> Result<String> {
    let n = n as usize;
    let chars = s.chars().count();
    if chars > n {
        let (cut, _) = s.char_indices().nth(n).unwrap_or((s.len(), ' '));
        if s[cut..].bytes().any(|b| b != b' ') {
            return Err(Error::Data(format!(
                "value too long for type character({n})"
            )));
        }
        s.truncate(cut);
        return Ok(s);
    }
    s.extend(std::iter::repeat_n(' ', n - chars));
    Ok(s)
}

/// `s` cast explicitly to `CHAR(n)`: cut to `n` characters, then padded.
pub(crate) fn cut_and_pad(s: &str, n: u32) -> String {
    let mut out: String = s.chars().take(n as usize).collect();
    let chars = out.chars().count();
    out.extend(std::iter::repeat_n(' ', n as usize - chars));
    out
}

fn mismatch(ty: SqlType, value: &Value) -> Error {
    Error::Type(format!(
        "column is of type {ty} but expression is of type {}",
        value.kind()
    ))
}

/// Rounds half to even (PostgreSQL's `rint`) and checks the i64 range.
pub(crate) fn float_to_int(f: f64) -> Option<i64> {
    /// 2^63 as a float: the first value past i64's range.
    const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let r = f.round_ties_even();
    (-I64_LIMIT..I64_LIMIT).contains(&r).then_some(r as i64)
}

pub(crate) fn parse_int(s: &str, ty: SqlType) -> Result<i64> {
    s.trim()
        .parse()
        .map_err(|_| Error::Data(format!("invalid input syntax for type {ty}: {s:?}")))
}

pub(crate) fn parse_float(s: &str, ty: SqlType) -> Result<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" => Ok(f64::NAN),
        "infinity" | "inf" => Ok(f64::INFINITY),
        "-infinity" | "-inf" => Ok(f64::NEG_INFINITY),
        _ => t
            .parse()
            .map_err(|_| Error::Data(format!("invalid input syntax for type {ty}: {s:?}"))),
    }
}

/// PostgreSQL's boolean input: t/true/y/yes/on/1 and their negations, any case.
pub fn parse_bool(s: &str) -> Result<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "on" | "1" => Ok(true),
        "f" | "false" | "n" | "no" | "off" | "0" => Ok(false),
        _ => Err(Error::Data(format!(
            "invalid input syntax for type boolean: {s:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        for ty in [
            SqlType::Boolean,
            SqlType::SmallInt,
            SqlType::Integer,
            SqlType::BigInt,
            SqlType::Real,
            SqlType::Double,
            SqlType::Numeric(None),
            SqlType::Numeric(Some(Typmod::new(10, 2).unwrap())),
            SqlType::Numeric(Some(Typmod::new(3, -2).unwrap())),
            SqlType::Text,
            SqlType::Varchar(None),
            SqlType::Varchar(Some(12)),
            SqlType::Date,
            SqlType::Timestamp,
            SqlType::Interval,
            SqlType::Bytea,
            SqlType::Uuid,
        ] {
            assert_eq!(SqlType::parse(&ty.to_string()), Some(ty));
        }
    }

    #[test]
    fn assignment_checks_ranges_and_lengths() {
        assert_eq!(
            SqlType::SmallInt.assign(Value::Int(32767)),
            Ok(Value::Int(32767))
        );
        assert!(matches!(
            SqlType::SmallInt.assign(Value::Int(32768)),
            Err(Error::Data(_))
        ));
        assert_eq!(
            SqlType::Integer.assign(Value::Float(2.5)),
            Ok(Value::Int(2))
        );
        assert_eq!(SqlType::Double.assign(Value::Int(3)), Ok(Value::Float(3.0)));
        assert!(matches!(
            SqlType::Varchar(Some(2)).assign(Value::Text("abc".into())),
            Err(Error::Data(_))
        ));
        assert_eq!(
            SqlType::Date.assign(Value::Text("1970-01-02".into())),
            Ok(Value::Date(1))
        );
        assert!(matches!(
            SqlType::Boolean.assign(Value::Int(1)),
            Err(Error::Type(_))
        ));
    }
}
