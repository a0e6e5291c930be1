//! # hdb — an embedded relational database, and the legacy store it replaces
//!
//! This crate is the facade embedders use:
//!
//! - [`Database`] / [`Session`] / [`Statement`] (database.rs): SQL over H, the
//!   relational engine — open a file, run statements, prepared statements with `$n`
//!   parameters, transactions with BEGIN/COMMIT/ROLLBACK.
//! - [`QueryResult`] / [`Row`] (result.rs): column names, rows with typed getters
//!   (`row.get::<i64>(0)`, `row.get::<Option<String>>("name")`), rows affected.
//! - [`Error`] (error.rs): one error type whose kinds a caller can match (syntax,
//!   unknown name, type, constraint, serialization — retryable —, I/O, corruption,
//!   unsupported ...), converted from the SQL layer's and the engine's errors.
//! - [`slt`]: running sqllogictest files against a fresh database (`hdb slt`).
//!
//! It also re-exports H's engine ([`engine`], for embedding without SQL) and the legacy
//! store D ([`kv_legacy`]). The `hdb` binary (src/main.rs) is built on the same library.
#![forbid(unsafe_code)]

pub mod compare;
mod database;
mod error;
pub mod migrate;
mod result;

pub mod slt;

pub use database::{Database, Session, Statement, split_statements};
pub use engine;
pub use error::{Constraint, Error, Limit, Result};
pub use kv_legacy;
pub use result::{ColumnIndex, FromValue, QueryResult, Row};
pub use sql_frontend::Value;
