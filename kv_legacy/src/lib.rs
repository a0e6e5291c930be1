//! # kv_legacy — D, the legacy key-value store
//!
//! D is the store the seed's organisation migrated away from: a key-value store of flat
//! documents with **one global lock and no indexes**. It exists in hdb as the honest
//! baseline that H (the `engine` crate) is measured against, so it is naive by design —
//! every operation, including a query by field value, takes the same mutex and a query
//! scans every document — but correct by requirement: **it never loses an acknowledged
//! write**.
//!
//! Reading order:
//! - [`document`]: what a document is (field → scalar) and its JSON form.
//! - [`record`]: the bytes of the log file and of each record.
//! - [`log`]: replay, torn-tail versus corruption, and the change stream.
//! - [`store`]: the store itself and its durability argument.
//! - [`compact`]: rewriting the log crash-safely.
//! - [`jsonl`]: import and export.
//!
//! Non-goals, on purpose: multi-key transactions, secondary indexes, concurrency beyond
//! one lock. Those are what H is for.
#![forbid(unsafe_code)]

pub mod compact;
pub mod document;
pub mod error;
pub mod jsonl;
pub mod log;
pub mod record;
pub mod store;

pub use compact::{CompactionReport, CompactionStep};
pub use document::{Document, Scalar, ScalarRef, Timestamp};
pub use error::{Error, Result};
pub use log::{Change, ChangeBatch, LogPosition, TornTail};
pub use record::{DocRef, Op, OpRef};
pub use store::{Durability, LegacyStore, RecoveryReport};
