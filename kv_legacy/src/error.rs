//! D's error type: every way an operation on the legacy store can fail.

use std::io;

/// Convenience alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in the legacy store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system reported an I/O failure.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),

    /// The log holds a record that cannot be valid and is followed by more data, so it is
    /// not a torn final write: the store refuses to open rather than silently lose what
    /// follows.
    #[error("log is corrupted at byte offset {offset}: {reason}")]
    Corrupted { offset: u64, reason: String },

    /// Another process (or another handle in this one) has the store open.
    #[error("store {path} is locked by another process")]
    Locked { path: String },

    /// A store opened to be read does not exist (or has no log): a mistyped path is an
    /// error, never an empty store.
    #[error("no D store at {path}: {reason}")]
    NotFound { path: String, reason: String },

    /// A write to a store opened with `LegacyStore::open_read_only`.
    #[error("store {path} was opened read-only")]
    ReadOnly { path: String },

    /// A key, field or value the store cannot hold (too large, or a non-finite float).
    #[error("invalid value: {0}")]
    InvalidValue(String),

    /// A line of JSON-lines input could not be turned into a document.
    #[error("line {line}: {message}")]
    Json { line: u64, message: String },

    /// A change-stream position refers to a log generation that compaction has replaced;
    /// the reader must start again from a fresh snapshot.
    #[error(
        "log position is in generation {requested}, but the log was compacted to generation {current}"
    )]
    Compacted { requested: u64, current: u64 },

    /// An earlier write or sync failed, so what reached the disk is unknown; the store
    /// refuses further writes until it is reopened (and the log replayed).
    #[error("store is unusable after an earlier write failure: {0}")]
    Poisoned(String),

    /// A failpoint set by a test stopped an operation at a named step.
    #[error("stopped at failpoint {0:?}")]
    Failpoint(crate::CompactionStep),
}

impl PartialEq for Error {
    /// Errors compare by kind and content; I/O errors compare by `io::ErrorKind`.
    fn eq(&self, other: &Self) -> bool {
        use Error::*;
        match (self, other) {
            (Io(a), Io(b)) => a.kind() == b.kind(),
            (
                Corrupted {
                    offset: a,
                    reason: ra,
                },
                Corrupted {
                    offset: b,
                    reason: rb,
                },
            ) => a == b && ra == rb,
            (Locked { path: a }, Locked { path: b }) => a == b,
            (
                NotFound {
                    path: a,
                    reason: ra,
                },
                NotFound {
                    path: b,
                    reason: rb,
                },
            ) => a == b && ra == rb,
            (ReadOnly { path: a }, ReadOnly { path: b }) => a == b,
            (InvalidValue(a), InvalidValue(b)) => a == b,
            (
                Json {
                    line: a,
                    message: ma,
                },
                Json {
                    line: b,
                    message: mb,
                },
            ) => a == b && ma == mb,
            (
                Compacted {
                    requested: a,
                    current: ca,
                },
                Compacted {
                    requested: b,
                    current: cb,
                },
            ) => a == b && ca == cb,
            (Poisoned(a), Poisoned(b)) => a == b,
            (Failpoint(a), Failpoint(b)) => a == b,
            _ => false,
        }
    }
}
