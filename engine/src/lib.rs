//! # engine — H's storage and transactions
//!
//! The engine is the relational store the seed calls H. It is built bottom-up, each layer a
//! module with its own header explaining its design and invariants:
//!
//! 1. `pager` — one file of fixed-size, checksummed pages; reads through a read-only
//!    memory map, writes through a dirty-page cache and positioned writes.
//! 2. `btree` — a concurrent B+tree over pages with memcomparable keys.
//! 3. `wal` — a redo log with group commit and checkpoints (not built yet).
//! 4. `mvcc` — snapshot-isolated transactions (not built yet).
//! 5. `catalog` / `table` / `index` — tables keyed by primary key and secondary indexes
//!    (not built yet).
//!
//! The engine knows nothing of SQL: the `sql_frontend` crate plans and executes queries
//! against the API this crate exposes. `unsafe` code is allowed only in the pager's
//! memory-mapping module, each block carrying a `// SAFETY:` comment.
#![deny(unsafe_code)]

pub mod btree;
pub mod db;
pub mod error;
pub mod keycode;
pub mod mvcc;
pub mod pager;
pub mod table;
pub mod wal;

pub use db::{Database, DatabaseOptions, RecoveryReport};
pub use error::{Error, Result};
pub use mvcc::{IsolationLevel, Transaction, TreeId};
