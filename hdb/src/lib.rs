//! # hdb — an embedded relational database
//!
//! hdb runs SQL (PostgreSQL's dialect and semantics) over its own storage engine: a
//! B+tree file with a write-ahead log, MVCC snapshots and ACID transactions, in your
//! process, with no server.
//!
//! ```
//! # fn main() -> hdb::Result<()> {
//! let db = hdb::Database::open_in_memory()?;            // or Database::open("app.db")
//! let mut session = db.session();                      // one per thread
//! session.execute("CREATE TABLE users (id INT PRIMARY KEY, name TEXT)")?;
//! session.query("INSERT INTO users VALUES ($1, $2)", hdb::params![1, "Alice"])?;
//! let name: String = session.query_row("SELECT name FROM users WHERE id = $1", hdb::params![1], |row| row.get("name"))?;
//! assert_eq!(name, "Alice");
//! # Ok(()) }
//! ```
//!
//! ## The parts
//!
//! - [`Database`] (a file, or [in memory](Database::open_in_memory)) hands out
//!   [`Session`]s; each runs statements ([`Session::execute`], [`Session::query`] with
//!   `$n` parameters from [`params!`]), [prepared statements](Session::prepare), and
//!   COPY from and to the client's streams ([`Session::copy_in`], [`Session::copy_out`]).
//! - [`Transaction`] ([`Session::transaction`]) commits when asked and rolls back when
//!   dropped; [`Session::run_transaction`] retries it after serialization failures.
//! - [`QueryResult`] and [`Row`] hold results: `row.get::<T>(column)` by position or
//!   name ([`FromValue`]: integers, floats, `bool`, `String`, `Option<T>`, and with the
//!   `chrono` feature `NaiveDate`, `NaiveDateTime`, `DateTime<Utc>`).
//!   [`Session::query_iter`] returns a query's [`Rows`] as the query produces them,
//!   without holding them all in memory. [`Session::query_row`], [`Session::query_map`]
//!   (streaming too) and [`Session::query_as`] map rows into Rust values: closures,
//!   tuples, or structs given [`from_row!`] ([`FromRow`]).
//! - [`Error`] has kinds a caller can match (constraint, serialization — retryable —,
//!   syntax, unknown name, ...) and PostgreSQL's SQLSTATE ([`Error::sqlstate`]).
//! - [`TableDescription`] ([`Database::describe_tables`]): the tables, columns, keys and
//!   indexes a database holds, for tools (`hdb serve` answers psql's `\d` from it).
//!
//! Column names are PostgreSQL's: `count(*)` is `count`, `sum(x)` is `sum`, `x + 1` is
//! `?column?`, and `AS` names anything.
//!
//! ## Below SQL
//!
//! The storage engine is re-exported as [`engine`], for tables without SQL (its
//! `table` API, in the same transactions); and the legacy key-value store this project
//! replaces, as [`kv_legacy`].
//!
//! ## Features and dependencies
//!
//! `chrono` (off by default): chrono's date and time types as values. The crate is kept
//! lean for embedders, and a budget in CI keeps it so: it depends on its own engine, SQL
//! layer and legacy store and a few small crates (sqlparser, parking_lot,
//! crossbeam-channel, memmap2, crc32fast, thiserror, serde_json, chrono), with no C
//! build. The `hdb` command line (SQL shell, sqllogictest runner, migration, the
//! comparison of the two stores) is a separate crate, `hdb-tools`, built on this one.
#![forbid(unsafe_code)]

#[cfg(feature = "chrono")]
mod chrono;
mod database;
mod describe;
mod error;
mod mapping;
mod params;
mod result;
mod transaction;

pub use database::{
    CopyDirection, Database, Kind, MEMORY_PATH, ParsedStatement, Session, Statement,
    TransactionState, parse_statements, split_statements,
};
pub use describe::{ColumnDescription, IndexDescription, TableDescription};
pub use engine;
pub use error::{Constraint, Error, Limit, Result};
pub use kv_legacy;
pub use mapping::{FromRow, MappedRows};
pub use result::{ColumnIndex, FromValue, QueryResult, Row, Rows};
pub use sql_frontend::CancelHandle;
pub use sql_frontend::Value;
/// An INTERVAL value's three fields (what [`Value::Interval`] holds).
pub use sql_frontend::interval::Interval;
/// NUMERIC values ([`Value::Numeric`]): an exact decimal with its display scale.
pub use sql_frontend::numeric::Numeric;
pub use transaction::{
    DEFAULT_MAX_ATTEMPTS, IsolationLevel, Transaction, TransactionOptions, retry_backoff,
};
