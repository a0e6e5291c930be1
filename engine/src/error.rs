//! The engine's error type.
//!
//! Every failure the engine can report is a variant here, so callers (the SQL layer, the
//! facade, embedders) can match on what happened. Corruption always names where it was
//! found; I/O errors keep their source. Nothing in the engine panics on bad input or bad
//! bytes on disk: it returns one of these.

use std::io;

/// Convenience alias used throughout the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong inside the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system reported an I/O failure.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),

    /// The operating system refused an operation on a named file or directory (opening
    /// or creating it, say): the error names the path once and keeps its source.
    #[error("{path}: {source}")]
    File {
        path: String,
        #[source]
        source: io::Error,
    },

    /// The database file is shorter than its own header says it is: it was cut (a copy
    /// that stopped early, a full disk during a copy, a truncation by hand).
    #[error(
        "database file {path} is truncated: it is {actual} bytes long, but its header says it holds at least {expected}"
    )]
    Truncated {
        path: String,
        expected: u64,
        actual: u64,
    },

    /// The write-ahead log is damaged at `lsn`: a bad record that a crash cannot explain,
    /// a bad segment header, or a missing segment.
    #[error("write-ahead log corrupted at LSN {lsn}: {reason}")]
    WalCorrupted { lsn: u64, reason: String },

    /// The write-ahead log lacks records the database file says it holds: its directory
    /// is missing or empty although the file was not closed cleanly, or a log was found
    /// where a new database is being created. Opening anyway would lose commits.
    #[error("write-ahead log {path} is missing: {reason}")]
    LogMissing { path: String, reason: String },

    /// An earlier write or sync of the write-ahead log failed (or the log is closed), so it
    /// accepts and acknowledges nothing more; reopening it recovers what is durable.
    #[error("write-ahead log is unusable: {0}")]
    WalPoisoned(String),

    /// A page failed its checksum or holds bytes that cannot be a valid page.
    #[error("page {page} is corrupted: {reason}")]
    Corrupted { page: u64, reason: String },

    /// Bytes that are not part of a page (a key encoding, a file header, a log record)
    /// could not be decoded.
    #[error("corrupt data: {0}")]
    CorruptData(String),

    /// The database file is locked by another process (or another handle in this one).
    #[error("database {path} is locked by another process")]
    Locked { path: String },

    /// A write conflicts with a concurrent transaction's write (first updater wins). The
    /// transaction has been rolled back; retrying it from the start may succeed.
    #[error("serialization failure: {0}")]
    Serialization(String),

    /// A row lock could not be taken: `lock_timeout` passed while waiting, or the
    /// caller asked not to wait (`NOWAIT`). PostgreSQL's `lock_not_available` (55P03).
    /// The transaction has been rolled back.
    #[error("{0}")]
    LockNotAvailable(String),

    /// Waiting for a row lock would never end: this transaction closed a cycle of
    /// transactions that wait for each other, and was chosen to fail so the others go
    /// on. PostgreSQL's `deadlock_detected` (40P01). The transaction has been rolled
    /// back; retrying it from the start may succeed.
    #[error("deadlock detected: {0}")]
    Deadlock(String),

    /// A wait for a row lock was stopped by the statement's cancel flag or deadline
    /// (see [`crate::mvcc::locks::LockWait`]). The transaction has been rolled back.
    #[error("canceling statement due to {0}")]
    Interrupted(Interruption),

    /// The transaction has already committed, rolled back, or been aborted by an error.
    #[error("transaction is no longer active: {0}")]
    TransactionClosed(String),

    /// An earlier write or sync failed in a way that leaves the on-disk state unknown;
    /// the database refuses writes until it is reopened and recovered.
    #[error("database is unusable after an earlier failure: {0}")]
    Poisoned(String),

    /// A row would break a constraint: NOT NULL, UNIQUE, or PRIMARY KEY.
    #[error("{0}")]
    Constraint(Constraint),

    /// A key or name larger than the database can store. Refused when it is written,
    /// before anything reaches the log (PostgreSQL's `program_limit_exceeded`).
    #[error("{0}")]
    TooLarge(Limit),

    /// A value does not have the type its column declares.
    #[error("type mismatch: {0}")]
    TypeMismatch(String),

    /// No table, index or column of that name.
    #[error("{kind} {name:?} does not exist")]
    NotFound { kind: &'static str, name: String },

    /// A table or index of that name exists already.
    #[error("{kind} {name:?} already exists")]
    AlreadyExists { kind: &'static str, name: String },

    /// The caller passed something the engine cannot store (a key too long, a bad
    /// page size, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl PartialEq for Error {
    /// Errors compare by kind and message; two I/O errors are equal when their kinds are.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Error::Io(a), Error::Io(b)) => a.kind() == b.kind(),
            (
                Error::File {
                    path: a,
                    source: sa,
                },
                Error::File {
                    path: b,
                    source: sb,
                },
            ) => a == b && sa.kind() == sb.kind(),
            (
                Error::Truncated {
                    path: a,
                    expected: ea,
                    actual: aa,
                },
                Error::Truncated {
                    path: b,
                    expected: eb,
                    actual: ab,
                },
            ) => a == b && ea == eb && aa == ab,
            (
                Error::WalCorrupted { lsn: a, reason: ra },
                Error::WalCorrupted { lsn: b, reason: rb },
            ) => a == b && ra == rb,
            (Error::WalPoisoned(a), Error::WalPoisoned(b)) => a == b,
            (
                Error::LogMissing {
                    path: a,
                    reason: ra,
                },
                Error::LogMissing {
                    path: b,
                    reason: rb,
                },
            ) => a == b && ra == rb,
            (
                Error::Corrupted {
                    page: a,
                    reason: ra,
                },
                Error::Corrupted {
                    page: b,
                    reason: rb,
                },
            ) => a == b && ra == rb,
            (Error::CorruptData(a), Error::CorruptData(b)) => a == b,
            (Error::Locked { path: a }, Error::Locked { path: b }) => a == b,
            (Error::InvalidArgument(a), Error::InvalidArgument(b)) => a == b,
            (Error::Constraint(a), Error::Constraint(b)) => a == b,
            (Error::TooLarge(a), Error::TooLarge(b)) => a == b,
            (Error::TypeMismatch(a), Error::TypeMismatch(b)) => a == b,
            (Error::NotFound { kind: a, name: na }, Error::NotFound { kind: b, name: nb }) => {
                a == b && na == nb
            }
            (
                Error::AlreadyExists { kind: a, name: na },
                Error::AlreadyExists { kind: b, name: nb },
            ) => a == b && na == nb,
            (Error::Serialization(a), Error::Serialization(b)) => a == b,
            (Error::LockNotAvailable(a), Error::LockNotAvailable(b)) => a == b,
            (Error::Deadlock(a), Error::Deadlock(b)) => a == b,
            (Error::Interrupted(a), Error::Interrupted(b)) => a == b,
            (Error::TransactionClosed(a), Error::TransactionClosed(b)) => a == b,
            (Error::Poisoned(a), Error::Poisoned(b)) => a == b,
            _ => false,
        }
    }
}

impl Error {
    /// Whether retrying the whole transaction may succeed (a serialization failure or
    /// a deadlock).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Serialization(_) | Error::Deadlock(_))
    }
}

/// What stopped a wait for a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    /// The statement was cancelled.
    Cancel,
    /// The statement ran past its `statement_timeout`.
    StatementTimeout,
}

impl std::fmt::Display for Interruption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Interruption::Cancel => "user request",
            Interruption::StatementTimeout => "statement timeout",
        })
    }
}

/// Which constraint a row broke. The messages are PostgreSQL's, word for word; the key
/// a uniqueness error is about goes in [`Constraint::detail`], as PostgreSQL's `DETAIL`
/// line carries it (`Key (id)=(1) already exists.`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Constraint {
    #[error("null value in column {column:?} of relation {table:?} violates not-null constraint")]
    NotNull { table: String, column: String },
    /// A row repeats the key of a unique index; `key` is `(a, b)=(1, x)`.
    #[error("duplicate key value violates unique constraint {index:?}")]
    Unique {
        table: String,
        index: String,
        key: String,
    },
    /// CREATE UNIQUE INDEX over rows that repeat a key; `key` names it as PostgreSQL's
    /// detail does: `(a, b)=(1, x)`.
    #[error("could not create unique index {index:?}")]
    UniqueIndexBuild {
        table: String,
        index: String,
        key: String,
    },
    /// A row repeats the table's primary key; `key` is `(id)=(1)`. The constraint is
    /// named as PostgreSQL names a primary key it was not given a name for.
    #[error("duplicate key value violates unique constraint \"{table}_pkey\"")]
    PrimaryKey { table: String, key: String },
    /// ALTER TABLE ... ADD PRIMARY KEY over rows with a NULL in a key column, worded
    /// as PostgreSQL words it.
    #[error("column \"{column}\" of relation \"{table}\" contains null values")]
    NullsInColumn { table: String, column: String },
    /// A CHECK constraint's expression was false for the row. The engine stores no
    /// expressions: the SQL layer evaluates CHECK and raises this, so that a caller
    /// matches every broken constraint in one enum.
    #[error("new row for relation {table:?} violates check constraint {constraint:?}")]
    Check { table: String, constraint: String },
    /// ALTER TABLE ... ADD CHECK (or a rewrite of the table) found a row of the table
    /// for which the expression is false; raised by the SQL layer, as `Check`.
    #[error("check constraint {constraint:?} of relation {table:?} is violated by some row")]
    CheckViolatedByRow { table: String, constraint: String },
    /// A row references a key that its FOREIGN KEY's table does not hold; `key` is
    /// `(a)=(1)`. Raised by the SQL layer, which enforces foreign keys.
    #[error("insert or update on table {table:?} violates foreign key constraint {constraint:?}")]
    ForeignKey {
        table: String,
        constraint: String,
        key: String,
        referenced: String,
    },
    /// A delete or key change leaves rows of `referencing` that reference `key`.
    #[error(
        "update or delete on table {table:?} violates foreign key constraint {constraint:?} on table {referencing:?}"
    )]
    ForeignKeyReferenced {
        table: String,
        constraint: String,
        key: String,
        referencing: String,
    },
}

impl Constraint {
    /// The second line of the error, as PostgreSQL's `DETAIL` field: which key a
    /// uniqueness error is about. `None` where PostgreSQL's detail would show the whole
    /// failing row, which the engine does not keep at hand.
    pub fn detail(&self) -> Option<String> {
        match self {
            Constraint::Unique { key, .. } | Constraint::PrimaryKey { key, .. } => {
                Some(format!("Key {key} already exists."))
            }
            Constraint::UniqueIndexBuild { key, .. } => Some(format!("Key {key} is duplicated.")),
            Constraint::ForeignKey {
                key, referenced, ..
            } => Some(format!(
                "Key {key} is not present in table \"{referenced}\"."
            )),
            Constraint::ForeignKeyReferenced {
                key, referencing, ..
            } => Some(format!(
                "Key {key} is still referenced from table \"{referencing}\"."
            )),
            Constraint::NotNull { .. }
            | Constraint::NullsInColumn { .. }
            | Constraint::Check { .. }
            | Constraint::CheckViolatedByRow { .. } => None,
        }
    }
}

/// What was too large to store, and the limit it passed. Sizes are in bytes of the key
/// as the B+tree stores it: the keycode encoding of the values, escaped and followed by
/// the version's commit timestamp (see `mvcc::version_key`), so a text value of `n`
/// bytes takes a little more than `n`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Limit {
    /// A key written through the transaction API directly.
    #[error(
        "key of {key_len} bytes is stored as {size} bytes, more than the maximum of {max} for a key of tree {tree}"
    )]
    TreeKey {
        tree: u32,
        key_len: usize,
        size: usize,
        max: usize,
    },
    /// A row's primary key (the table's tree key).
    #[error(
        "primary key size {size} exceeds maximum {max} for table {table:?} ({})",
        column_list(.columns)
    )]
    PrimaryKey {
        table: String,
        columns: Vec<String>,
        size: usize,
        max: usize,
    },
    /// A row's entry in a secondary index, as PostgreSQL's "index row size ... exceeds
    /// maximum ... for index".
    #[error(
        "index row size {size} exceeds maximum {max} for index {index:?} on table {table:?} ({})",
        column_list(.columns)
    )]
    IndexRow {
        table: String,
        index: String,
        columns: Vec<String>,
        size: usize,
        max: usize,
    },
    /// One write of a transaction (a row or an index entry, with its key) that makes a
    /// record of the log larger than a record may be: refused at commit, before the
    /// commit record is written. (A transaction's writes together are not limited: a
    /// large commit is logged in parts, see `wal/record.rs`.)
    #[error(
        "a write of the transaction makes a log record of {size} bytes, more than the log's maximum of {max}"
    )]
    LogRecord { size: usize, max: usize },
    /// The name of a table, index or function (a key of the catalog).
    #[error("{kind} name {:?} is {len} bytes long, more than the maximum of {max}", name_preview(.name))]
    Name {
        kind: &'static str,
        name: String,
        len: usize,
        max: usize,
    },
}

/// "column a" or "columns a, b".
fn column_list(columns: &[String]) -> String {
    match columns {
        [one] => format!("column {one}"),
        many => format!("columns {}", many.join(", ")),
    }
}

/// A long name shortened for an error message.
fn name_preview(name: &str) -> String {
    const SHOWN_CHARS: usize = 32;
    match name.char_indices().nth(SHOWN_CHARS) {
        Some((end, _)) => format!("{}...", &name[..end]),
        None => name.to_string(),
    }
}
