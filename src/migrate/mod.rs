//! # migrate — moving D's documents into a table of H (`hdb migrate`)
//!
//! The migration lives in the facade crate because it is the only one that knows both
//! stores. It reads D **from its log file**, never through `LegacyStore::open`, so it
//! works while the legacy application still owns the store (`source.rs`), and writes H
//! **through the engine's table API** in large transactions, not SQL text per row
//! (`load.rs`). A run goes:
//!
//! 1. **Snapshot**: replay D's log to its current end (or, when resuming, to the
//!    position recorded in H) into memory: the records' bytes in one buffer, the
//!    documents read in place from it (`source.rs`, `snapshot.rs`).
//! 2. **Schema**: create the table from a CREATE TABLE file or from the documents
//!    (`schema.rs`); D's key goes to `--key-column`, the primary key.
//! 3. **Bulk load** in the table's key order, one transaction per batch, the progress
//!    row committed with each batch (`progress.rs`): a killed run resumes after the last
//!    committed key, never loading a document twice or skipping one. Each batch holds
//!    the table for a load, so a row costs no lock and no probe (`load.rs`); the
//!    table's non-unique indexes are built after the load, in one pass each
//!    (`indexes.rs`).
//! 4. **Follow** (optional): tail D's log from the snapshot's position, applying puts and
//!    deletes to H with the position committed alongside, until caught up or stopped
//!    (`follow.rs`).
//! 5. **Verify**: row count and an order-independent checksum of the same canonical
//!    encoding, from D's documents converted (as the bulk load converted them, when it
//!    loaded them all in this run) and from H's stored rows read back (`verify.rs`).
//!
//! Documents that do not fit the table (`convert.rs`) are rejected with their key and
//! reason, recorded in H beside the progress (in `hdb_migrate_rejected`, which SQL
//! reads), counted in the summary and in the verification; or the run aborts on the
//! first one (`OnBadDocument::Abort`). Fields with no column make a document bad unless
//! the caller says to leave them behind (`ExtraFields::Ignore`). The command line exits
//! non-zero when any document was rejected, unless told how many it may leave behind.
//!
//! H is opened with `Durability::Off` by default — a bulk load is restartable, and the
//! progress row lives in the same log as the rows it describes, so a lost tail only
//! means redoing those batches — and synced once at the end.

mod control;
mod convert;
mod error;
mod follow;
mod indexes;
mod load;
mod progress;
mod report;
mod run;
mod schema;
mod snapshot;
mod source;
mod target;
mod verify;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub use convert::{BadDocument, MAX_KEY_BYTES, RowConverter, convert_value};
pub use error::MigrateError;
pub use follow::{FollowOptions, FollowReport};
pub use progress::{PROGRESS_TABLE, REJECTED_TABLE};
pub use report::{MigrationReport, Timings};
pub use run::migrate;
pub use schema::{FieldReport, InferredSchema, infer};
pub use snapshot::DocView;
pub use sql_frontend::SqlType;
pub use verify::{Checksum, Verification};

/// Where the table's definition comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaSource {
    /// Inferred from the documents (see `schema.rs`).
    Infer,
    /// SQL text with a CREATE TABLE statement (and perhaps CREATE INDEX statements).
    Sql(String),
}

/// What to do with a document that does not fit the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnBadDocument {
    /// Record it (key and reason) and go on.
    #[default]
    Skip,
    /// Stop the migration with [`MigrateError::BadDocument`].
    Abort,
}

/// What to do with a document's field that has no column in the table (a table made
/// from a schema file that leaves fields out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExtraFields {
    /// The document is bad: rejected or aborted on, as [`OnBadDocument`] says.
    #[default]
    Error,
    /// The field is left behind; the rest of the document is loaded. Verification
    /// compares what the table holds, so it still matches.
    Ignore,
}

/// Everything a migration needs to know.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// D's store directory.
    pub from: PathBuf,
    /// H's database file (created if missing).
    pub to: PathBuf,
    /// The target table; by default the table the schema file creates, or `documents`.
    pub table: Option<String>,
    pub schema: SchemaSource,
    /// The column that receives D's key: the table's primary key.
    pub key_column: String,
    /// Documents (or log records, when following) per transaction. A resumed bulk load
    /// keeps the batch size it started with.
    pub batch_size: usize,
    /// Threads for the bulk load: above one, documents are converted on that many
    /// threads of their own while the batches commit (one at a time, in key order, on
    /// the calling thread: `load.rs`).
    pub workers: usize,
    pub on_bad_document: OnBadDocument,
    pub extra_fields: ExtraFields,
    /// Tail D's log after the bulk load.
    pub follow: Option<FollowOptions>,
    /// Show a progress bar (only ever on a terminal).
    pub progress: bool,
    /// H's commit durability during the migration; H is synced once at the end either way.
    pub durability: engine::Durability,
    /// Set to stop between batches: a bulk load stops with
    /// [`MigrateError::Interrupted`], a follower stops cleanly and verifies.
    pub stop: Option<Arc<AtomicBool>>,
    /// Test failpoint: stop with [`MigrateError::Interrupted`] after this many batches.
    #[doc(hidden)]
    pub stop_after_batches: Option<u64>,
}

impl MigrateOptions {
    /// Defaults: inferred schema into `documents`, key column `key`, batches of 20,000,
    /// one worker per core (at most 4), skip bad documents, a field with no column makes
    /// a document bad, no follow, no progress bar, `Durability::Off`.
    pub fn new(from: impl Into<PathBuf>, to: impl Into<PathBuf>) -> MigrateOptions {
        MigrateOptions {
            from: from.into(),
            to: to.into(),
            table: None,
            schema: SchemaSource::Infer,
            key_column: "key".to_string(),
            batch_size: 20_000,
            workers: default_workers(),
            on_bad_document: OnBadDocument::Skip,
            extra_fields: ExtraFields::Error,
            follow: None,
            progress: false,
            durability: engine::Durability::Off,
            stop: None,
            stop_after_batches: None,
        }
    }
}

/// One bulk-load worker per core, at most four.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}
