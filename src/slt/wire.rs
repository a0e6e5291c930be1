//! One sqllogictest connection over PostgreSQL's wire protocol: the same files that run
//! in-process ([`super::SltConnection`]) run against `hdb serve` (or any PostgreSQL
//! server) through tokio-postgres, on the simple or the extended query protocol.
//!
//! **Why not the `sqllogictest-engines` crate's PostgreSQL engines.** Our files expect
//! values as `connection.rs` renders them (floating point with three decimals, as
//! SQLite's runner prints `R` columns; the empty string as `(empty)`), and a file must
//! give the same results over the wire as in-process. So each value is read back into
//! an [`hdb::Value`] by its column's type and rendered by the same [`super::render`]:
//! a difference between the two runs is then a difference in what the server sent,
//! never in how it was printed.
//!
//! - **Extended protocol**: each record is prepared (Parse, Describe), then executed
//!   (Bind, Execute, Sync); rows come back in the binary format, decoded by type OID
//!   ([`decode_binary`]). A statement without result columns reports the count of its
//!   CommandComplete, for `statement count N`.
//! - **Simple protocol**: the record runs as one Query message; its rows come back as
//!   text. tokio-postgres does not pass the simple protocol's column types on, so the
//!   record is described first through the extended protocol (Parse and Describe of an
//!   unnamed statement, which runs nothing); where that fails (a statement the server
//!   cannot prepare), the columns are read as text. Integers, floating point, NUMERIC
//!   and booleans are read from their text ([`value_from_text`]); everything else
//!   stays text, which PostgreSQL and H print as `render` does. A NUMERIC keeps its
//!   exact digits and scale either way (`1.50`, `2.5000000000000000`).
//!
//! Errors are the server's ErrorResponse: its message, then its SQLSTATE in brackets,
//! so `statement error <regex>` records match the message as they do in-process.
//!
//! The connection owns a single-threaded tokio runtime and blocks on it: the
//! sqllogictest runner calls [`sqllogictest::DB::run`] synchronously.

use std::fmt;

use bytes::Buf;
use sqllogictest::{DB, DBOutput, DefaultColumnType};
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use hdb::Value;
use hdb_server::wire_types::{Format, decode_param, oid};
use sql_frontend::interval::Interval;

use super::connection::output;

/// Which of PostgreSQL's query protocols a [`WireConnection`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// One Query message per record; rows in text.
    Simple,
    /// Parse / Bind / Execute per record; rows in binary.
    Extended,
}

/// An error from the server (its message, DETAIL and SQLSTATE, the code also apart
/// for `statement error (XXXXX)` records) or from the connection.
#[derive(Debug)]
pub struct WireError {
    message: String,
    sqlstate: Option<String>,
}

impl WireError {
    /// An error of the connection itself (no SQLSTATE).
    fn new(message: impl Into<String>) -> WireError {
        WireError {
            message: message.into(),
            sqlstate: None,
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WireError {}

impl From<tokio_postgres::Error> for WireError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => {
                let detail = db.detail().map(|d| format!("\nDETAIL:  {d}"));
                let (message, code) = (db.message(), db.code().code());
                WireError {
                    message: format!("{message}{} [{code}]", detail.unwrap_or_default()),
                    sqlstate: Some(code.to_owned()),
                }
            }
            None => WireError::new(e.to_string()),
        }
    }
}

/// A session on a server, seen by the sqllogictest runner.
pub struct WireConnection {
    runtime: tokio::runtime::Runtime,
    client: Client,
    protocol: Protocol,
}

impl fmt::Debug for WireConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireConnection")
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl WireConnection {
    /// Connects to the server at `url` (a libpq-style connection string, such as
    /// `host=127.0.0.1 port=5433 user=me dbname=hdb`), without TLS.
    pub fn connect(url: &str, protocol: Protocol) -> Result<WireConnection, WireError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| WireError::new(format!("no runtime for the connection: {e}")))?;
        let (client, connection) = runtime.block_on(tokio_postgres::connect(url, NoTls))?;
        // The connection's task runs whenever the runtime is blocked on a request.
        runtime.spawn(async move {
            let _ = connection.await;
        });
        Ok(WireConnection {
            runtime,
            client,
            protocol,
        })
    }

    fn run_extended(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, WireError> {
        let client = &self.client;
        self.runtime.block_on(async {
            let statement = client.prepare(sql).await?;
            if statement.columns().is_empty() {
                let count = client.execute(&statement, &[]).await?;
                return Ok(DBOutput::StatementComplete(count));
            }
            let rows = client.query(&statement, &[]).await?;
            let columns = statement.columns();
            let mut values = Vec::with_capacity(rows.len());
            for row in &rows {
                let mut decoded = Vec::with_capacity(columns.len());
                for (i, column) in columns.iter().enumerate() {
                    let RawField(bytes) = row.try_get(i)?;
                    let value = match bytes {
                        None => Value::Null,
                        Some(bytes) => decode_binary(column.type_(), &bytes)?,
                    };
                    decoded.push(value);
                }
                values.push(decoded);
            }
            Ok(output(columns.len(), &values))
        })
    }

    fn run_simple(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, WireError> {
        let client = &self.client;
        self.runtime.block_on(async {
            // Only for the column types; a statement that cannot be prepared (it fails,
            // or it is several) runs all the same, its columns read as text.
            let types: Vec<Type> = match client.prepare(sql).await {
                Ok(statement) => statement
                    .columns()
                    .iter()
                    .map(|c| c.type_().clone())
                    .collect(),
                Err(_) => Vec::new(),
            };
            let messages = client.simple_query(sql).await?;
            let (mut width, mut count) = (None, 0);
            let mut rows: Vec<Vec<Value>> = Vec::new();
            for message in messages {
                match message {
                    SimpleQueryMessage::RowDescription(columns) => width = Some(columns.len()),
                    SimpleQueryMessage::Row(row) => {
                        let values = (0..row.len())
                            .map(|i| match row.get(i) {
                                None => Value::Null,
                                Some(text) => value_from_text(types.get(i), text),
                            })
                            .collect();
                        rows.push(values);
                    }
                    SimpleQueryMessage::CommandComplete(n) => count = n,
                    _ => {}
                }
            }
            Ok(match width {
                Some(width) => output(width, &rows),
                None => DBOutput::StatementComplete(count),
            })
        })
    }
}

impl DB for WireConnection {
    type Error = WireError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, WireError> {
        match self.protocol {
            Protocol::Simple => self.run_simple(sql),
            Protocol::Extended => self.run_extended(sql),
        }
    }

    fn error_sql_state(err: &WireError) -> Option<String> {
        err.sqlstate.clone()
    }

    fn engine_name(&self) -> &str {
        match self.protocol {
            Protocol::Simple => "hdb-wire-simple",
            Protocol::Extended => "hdb-wire-extended",
        }
    }
}

/// A field's raw bytes (`None` for NULL), whatever its type: decoded by
/// [`decode_binary`] rather than by tokio-postgres' per-type conversions, so that every
/// type the server sends is read the same way.
struct RawField(Option<Vec<u8>>);

impl<'a> FromSql<'a> for RawField {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> Result<RawField, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawField(Some(raw.to_vec())))
    }

    fn from_sql_null(_: &Type) -> Result<RawField, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawField(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Days from 1970-01-01 (H's date epoch) to 2000-01-01 (PostgreSQL's).
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 00:00 to 2000-01-01 00:00.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A binary field of type `ty` as the value H would have returned in-process.
fn decode_binary(ty: &Type, mut bytes: &[u8]) -> Result<Value, WireError> {
    let size = |n: usize| match bytes.len() == n {
        true => Ok(()),
        false => Err(WireError::new(format!(
            "a {ty} field of {} bytes (expected {n})",
            bytes.len()
        ))),
    };
    Ok(match *ty {
        Type::BOOL => {
            size(1)?;
            Value::Bool(bytes[0] != 0)
        }
        Type::INT2 => {
            size(2)?;
            Value::Int(i64::from(bytes.get_i16()))
        }
        Type::INT4 => {
            size(4)?;
            Value::Int(i64::from(bytes.get_i32()))
        }
        Type::INT8 => {
            size(8)?;
            Value::Int(bytes.get_i64())
        }
        Type::FLOAT4 => {
            size(4)?;
            Value::Float(f64::from(bytes.get_f32()))
        }
        Type::FLOAT8 => {
            size(8)?;
            Value::Float(bytes.get_f64())
        }
        Type::DATE => {
            size(4)?;
            Value::Date(bytes.get_i32().saturating_add(PG_EPOCH_DAYS))
        }
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            size(8)?;
            Value::Timestamp(bytes.get_i64().saturating_add(PG_EPOCH_MICROS))
        }
        Type::INTERVAL => {
            size(16)?;
            let micros = bytes.get_i64();
            let days = bytes.get_i32();
            let months = bytes.get_i32();
            Value::Interval(Interval {
                months,
                days,
                micros,
            })
        }
        Type::BYTEA => Value::Bytea(bytes.to_vec()),
        Type::UUID => {
            size(16)?;
            Value::Uuid(bytes.get_u128())
        }
        Type::NUMERIC => decode_numeric(bytes)?,
        // Text and every type H does not have: the bytes as text (what PostgreSQL's
        // text-like types send in binary).
        _ => Value::Text(
            String::from_utf8(bytes.to_vec())
                .map_err(|_| WireError::new(format!("a {ty} field that is not UTF-8")))?,
        ),
    })
}

/// A binary NUMERIC, exactly, with its scale (the server's own decoder of PostgreSQL's
/// base-10000 layout); NaN and the infinities, which H's NUMERIC lacks, as doubles.
fn decode_numeric(bytes: &[u8]) -> Result<Value, WireError> {
    const SIGN_AT: usize = 4;
    let sign = bytes
        .get(SIGN_AT..SIGN_AT + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]));
    match sign {
        Some(0xC000) => return Ok(Value::Float(f64::NAN)),
        Some(0xD000) => return Ok(Value::Float(f64::INFINITY)),
        Some(0xF000) => return Ok(Value::Float(f64::NEG_INFINITY)),
        _ => {}
    }
    decode_param(bytes, Format::Binary, oid::NUMERIC)
        .map_err(|e| WireError::new(format!("a malformed numeric field: {}", e.message)))
}

/// A text field of type `ty` (unknown: text) as the value H would have returned
/// in-process, as far as rendering tells them apart: numbers and booleans are read,
/// the rest is already spelled as `render` spells it.
fn value_from_text(ty: Option<&Type>, text: &str) -> Value {
    let parsed = match ty {
        Some(&Type::INT2 | &Type::INT4 | &Type::INT8) => text.parse().ok().map(Value::Int),
        Some(&Type::NUMERIC) => match hdb::Numeric::parse(text) {
            Ok(n) => Some(Value::numeric(n)),
            Err(_) => Some(value_from_text(Some(&Type::FLOAT8), text)),
        },
        Some(&Type::FLOAT4 | &Type::FLOAT8) => match text {
            "Infinity" => Some(Value::Float(f64::INFINITY)),
            "-Infinity" => Some(Value::Float(f64::NEG_INFINITY)),
            other => other.parse().ok().map(Value::Float),
        },
        Some(&Type::BOOL) => match text {
            "t" => Some(Value::Bool(true)),
            "f" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    };
    parsed.unwrap_or_else(|| Value::Text(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slt::render;

    #[test]
    fn binary_fields_decode_to_what_renders_as_in_process() {
        assert_eq!(
            render(&decode_binary(&Type::INT8, &(-42i64).to_be_bytes()).unwrap()),
            "-42"
        );
        assert_eq!(
            render(&decode_binary(&Type::FLOAT8, &2.5f64.to_be_bytes()).unwrap()),
            "2.500"
        );
        assert_eq!(render(&decode_binary(&Type::BOOL, &[1]).unwrap()), "t");
        assert_eq!(
            render(&decode_binary(&Type::DATE, &0i32.to_be_bytes()).unwrap()),
            "2000-01-01"
        );
        assert_eq!(render(&decode_binary(&Type::TEXT, b"").unwrap()), "(empty)");
        let mut interval = 3_600_000_000i64.to_be_bytes().to_vec();
        interval.extend(2i32.to_be_bytes());
        interval.extend(1i32.to_be_bytes());
        let interval = decode_binary(&Type::INTERVAL, &interval).unwrap();
        assert_eq!(render(&interval), "1 mon 2 days 01:00:00");
        assert!(decode_binary(&Type::INT8, &[0, 1]).is_err());
        // -12.5 as NUMERIC: digits [12, 5000], weight 0, negative, scale 1.
        let numeric = [0, 2, 0, 0, 0x40, 0, 0, 1, 0, 12, 0x13, 0x88];
        assert_eq!(
            render(&decode_binary(&Type::NUMERIC, &numeric).unwrap()),
            "-12.5"
        );
    }

    #[test]
    fn text_fields_read_numbers_and_booleans_by_type() {
        assert_eq!(
            render(&value_from_text(Some(&Type::FLOAT8), "0.1")),
            "0.100"
        );
        assert_eq!(
            render(&value_from_text(Some(&Type::FLOAT8), "-Infinity")),
            "-Infinity"
        );
        assert_eq!(render(&value_from_text(Some(&Type::INT8), "7")), "7");
        assert_eq!(render(&value_from_text(Some(&Type::TEXT), "0.1")), "0.1");
        assert_eq!(render(&value_from_text(None, "")), "(empty)");
        assert_eq!(value_from_text(Some(&Type::BOOL), "t"), Value::Bool(true));
    }
}
