//! # hdb — an embedded relational database, and the legacy store it replaces
//!
//! This crate is the facade embedders use:
//!
//! - [`Database`] / [`Session`] / [`Statement`] (database.rs): SQL over H, the
//!   relational engine — open a file, run statements, prepared statements with `$n`
//!   parameters, transactions with BEGIN/COMMIT/ROLLBACK, COPY FROM STDIN / TO STDOUT
//!   through [`Session::copy_in`] / [`Session::copy_out`].
//! - [`QueryResult`] / [`Row`] / [`Rows`] (result.rs): column names, rows with typed
//!   getters (`row.get::<i64>(0)`, `row.get::<Option<String>>("name")`), rows affected;
//!   a whole result, or ([`Session::query_iter`]) its rows as the query produces them.
//! - [`Error`] (error.rs): one error type whose kinds a caller can match (syntax,
//!   unknown name, type, constraint, serialization — retryable —, I/O, corruption,
//!   unsupported ...), converted from the SQL layer's and the engine's errors.
//!
//! It also re-exports H's engine ([`engine`], for embedding without SQL) and the legacy
//! store D ([`kv_legacy`]).
//!
//! The crate is kept lean for embedders: it depends on the engine, the SQL layer, the
//! legacy store and a few small crates, nothing else. The `hdb` command line (SQL shell,
//! sqllogictest runner, migration from D, the D vs H comparison) is a separate crate,
//! `hdb-tools`, at the repository root, built on this one.
#![forbid(unsafe_code)]

mod database;
mod error;
mod result;

pub use database::{CopyDirection, Database, Session, Statement, split_statements};
pub use engine;
pub use error::{Constraint, Error, Limit, Result};
pub use kv_legacy;
pub use result::{ColumnIndex, FromValue, QueryResult, Row, Rows};
pub use sql_frontend::Value;
