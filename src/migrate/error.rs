//! The migration's error type.
//!
//! A migration touches two stores and a schema, and a caller (the CLI, `hdb compare`)
//! wants to tell them apart: D could not be read, H refused a write, the schema does not
//! fit the documents, a bad document stopped the run (`--on-bad-document abort`), or the
//! run was stopped on request (a failpoint or a stop flag) with its progress committed.

use crate::migrate::convert::BadDocument;

/// What stopped a migration.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// D's log could not be read (missing store, corruption, I/O).
    #[error("reading D at {path}: {source}")]
    Source {
        path: String,
        #[source]
        source: kv_legacy::Error,
    },
    /// D's store does not exist (the error names the path); nothing was written to H.
    #[error("reading D: {0}")]
    SourceMissing(kv_legacy::Error),
    /// H refused an operation.
    #[error("writing H: {0}")]
    Target(#[from] hdb::Error),
    /// The schema cannot be used for this migration (no key column, bad type, a table
    /// that exists with rows but no migration progress ...).
    #[error("schema: {0}")]
    Schema(String),
    /// A document could not be converted and the policy is to abort.
    #[error("bad document {:?}: {}", .0.key, .0.reason)]
    BadDocument(BadDocument),
    /// D's log was compacted while the migration held a position in an older generation,
    /// and the position cannot be carried over.
    #[error("D's log was compacted (generation {requested} -> {current}): {what}")]
    Compacted {
        requested: u64,
        current: u64,
        what: String,
    },
    /// The run stopped on request after committing its progress; run it again to resume.
    #[error("stopped after {batches} committed batches; run the migration again to resume")]
    Interrupted { batches: u64 },
    /// Any other I/O problem (reading the schema file, say).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl From<engine::Error> for MigrateError {
    fn from(e: engine::Error) -> Self {
        MigrateError::Target(hdb::Error::from(e))
    }
}

impl From<sql_frontend::Error> for MigrateError {
    fn from(e: sql_frontend::Error) -> Self {
        MigrateError::Target(hdb::Error::from(e))
    }
}
