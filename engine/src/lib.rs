//! # engine — H's storage and transactions
//!
//! The engine is the relational store the seed calls H. It is built bottom-up, each layer a
//! module with its own header explaining its design and invariants:
//!
//! 1. `pager` — one file of fixed-size, checksummed pages; reads through a read-only
//!    memory map, writes through a dirty-page cache and positioned writes.
//! 2. `btree` — a concurrent B+tree over pages with memcomparable keys.
//! 3. `wal` — a logical redo log of committed transactions, with group commit.
//! 4. `mvcc` — snapshot-isolated transactions over versioned keys.
//! 5. `db` — the [`Database`]: the above put together, with checkpoints and recovery.
//! 6. `table` — the catalog (stored in the database, so DDL is transactional), tables
//!    keyed by primary key or a hidden row id, and secondary indexes kept in step.
//!
//! `keycode` encodes typed tuples so that byte order is SQL order.
//!
//! The engine knows nothing of SQL: the `sql_frontend` crate plans and executes queries
//! against the API this crate exposes. `unsafe` code is allowed only in the pager (its
//! memory mapping, and the two places that create one), each block carrying a
//! `// SAFETY:` comment.
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
