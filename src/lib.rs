//! # hdb — an embedded relational database, and the legacy store it replaces
//!
//! This crate is the facade embedders use. It re-exports the legacy store D
//! ([`kv_legacy`]) and H's engine ([`engine`]); the SQL session API arrives with the
//! `sql_frontend` crate. The `hdb` binary (src/main.rs) is built on the same library.
#![forbid(unsafe_code)]

pub use engine;
pub use kv_legacy;
