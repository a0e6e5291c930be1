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
//!
//! ## The public API
//!
//! Chosen on purpose, the way redb's `lib.rs` chooses it: the [`Database`] and its
//! options, [`Transaction`]s at an [`IsolationLevel`] with their row locks ([`LockMode`],
//! waits bounded by a [`LockWait`]), the [`table`] layer (catalog, rows,
//! indexes), the [`keycode`] values rows and keys are made of, and the [`Error`] type.
//! The layers below (`pager`, `btree`, `wal`, `mvcc`, `db`) are private to the crate.
//!
//! The feature `testing` makes those layers public, with the simulated storage that
//! injects crashes and faults (`pager::SimStorage`, `wal::SimWalStorage`,
//! `mvcc::MemoryTreeStore`), for the engine's own integration tests and for the B+tree
//! benchmarks; it is not a stable API, and no embedder needs it. The crate's tests enable
//! it through a dev-dependency on the crate itself.
#![deny(unsafe_code)]

/// Declares the crate's internal layers: public with the `testing` feature (tests,
/// benchmarks, fault injection), crate-private without it. Each layer's own API is
/// broader than what the crate above it uses (tests and benchmarks reach the rest), so
/// without `testing` the unused part is allowed rather than reported.
macro_rules! layers {
    ($($name:ident;)*) => {$(
        #[cfg(feature = "testing")]
        pub mod $name;
        #[cfg(not(feature = "testing"))]
        #[allow(dead_code, unused_imports)]
        pub(crate) mod $name;
    )*};
}

layers! {
    btree;
    db;
    mvcc;
    pager;
    wal;
}

mod error;
mod extsort;
mod head_sort;
pub mod keycode;
pub mod table;

pub use btree::{FileReport, TreeReport};
pub use db::{DEFAULT_BUILD_THREADS, Database, DatabaseOptions, RecoveryReport, WeakDatabase};
pub use error::{Constraint, Error, Interruption, Limit, Result};
pub use extsort::DEFAULT_BUILD_MEMORY;
pub use mvcc::locks::DEFAULT_DEADLOCK_TIMEOUT;
pub use mvcc::{
    AccessMode, CommitTs, IsolationLevel, LockMode, LockWait, RowLock, Savepoint, SsiLimits,
    Transaction, TreeId, WaitPolicy,
};
pub use wal::{Durability, Lsn};
