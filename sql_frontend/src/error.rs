//! The SQL layer's error type.
//!
//! Every failure a statement can meet is one variant, so the facade (and tests) can match
//! on what happened. Engine errors that mean something in SQL terms (a constraint, a
//! serialization conflict, a missing table) are translated into the SQL variant by
//! [`From<engine::Error>`]; the rest travel as [`Error::Engine`].

use engine::{Constraint, Limit};

/// Convenience alias used throughout the SQL layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with a SQL statement.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    /// The text is not SQL that the parser understands.
    #[error("syntax error: {0}")]
    Parse(String),

    /// Valid SQL that hdb does not support (yet); `clause` names the construct.
    #[error("not supported: {clause}")]
    Unsupported { clause: String },

    /// No table (or view) of that name: PostgreSQL's `relation "x" does not exist`.
    #[error("relation {0:?} does not exist")]
    UnknownTable(String),

    /// No column of that name in scope.
    #[error("column {0:?} does not exist")]
    UnknownColumn(String),

    /// No function of that name with those arguments; the payload is the call's
    /// signature, `name(integer, text)`, as PostgreSQL names it.
    #[error("function {0} does not exist")]
    UnknownFunction(String),

    /// No view of that name.
    #[error("view {0:?} does not exist")]
    UnknownView(String),
    /// No sequence of that name (DROP SEQUENCE; a sequence function names a missing
    /// relation with [`Error::UnknownTable`], as PostgreSQL does).
    #[error("sequence {0:?} does not exist")]
    UnknownSequence(String),

    /// No index of that name.
    #[error("index {0:?} does not exist")]
    UnknownIndex(String),

    /// A table, index or column of that name exists already.
    #[error("{kind} {name:?} already exists")]
    AlreadyExists { kind: String, name: String },

    /// An expression or value has the wrong type for where it is used.
    #[error("type error: {0}")]
    Type(String),

    /// A value is out of range for its type: integer overflow, division by zero, text
    /// longer than its VARCHAR(n), a date that does not parse (PostgreSQL's class 22).
    #[error("data error: {0}")]
    Data(String),

    /// A value too large for its `NUMERIC(precision, scale)` column (PostgreSQL's
    /// `numeric field overflow`, SQLSTATE 22003); [`Error::detail`] says what fits.
    #[error("numeric field overflow")]
    NumericFieldOverflow { precision: u32, scale: i32 },

    /// The statement is beyond a limit of hdb's: nested deeper than
    /// [`crate::stack::MAX_NESTING_DEPTH`] (PostgreSQL's `stack depth limit exceeded`,
    /// SQLSTATE 54001), or calling functions whose inlined bodies grow past
    /// `bind/routine.rs`'s limit (class 54, program limit exceeded).
    #[error("{0}")]
    TooComplex(String),

    /// An object cannot be dropped while others depend on it: a table or view that
    /// views name (PostgreSQL's `dependent_objects_still_exist`, SQLSTATE 2BP01). The
    /// message names the dependent objects.
    #[error("{0}")]
    DependentObjects(String),

    /// An error met while binding the stored query of a view that the statement names:
    /// the error, with the view's name (a view whose table was dropped underneath it
    /// through the engine's API, a view that names itself through others).
    #[error("in view {view:?}: {source}")]
    InView { view: String, source: Box<Error> },

    /// `$n` parameters do not match what the statement expects.
    #[error("parameter error: {0}")]
    Parameter(String),

    /// A row would break NOT NULL, UNIQUE or PRIMARY KEY.
    #[error("{0}")]
    Constraint(Constraint),

    /// A key or name larger than the database stores (PostgreSQL's
    /// `program_limit_exceeded`, SQLSTATE 54000, or `name_too_long`, 42622, for names),
    /// refused by the statement that wrote it.
    #[error("{0}")]
    TooLarge(Limit),

    /// A concurrent transaction wrote the same row; the transaction was rolled back and
    /// retrying it from the start may succeed.
    #[error("serialization failure: {0}")]
    Serialization(String),

    /// Waiting for a row lock would never end: this transaction closed a cycle of
    /// waiting transactions and was rolled back so the others go on (PostgreSQL's
    /// `deadlock_detected`, SQLSTATE 40P01). Retrying it from the start may succeed.
    #[error("deadlock detected: {0}")]
    Deadlock(String),

    /// A row lock was not taken: `lock_timeout` passed while waiting for it, or
    /// `NOWAIT` found it held (PostgreSQL's `lock_not_available`, SQLSTATE 55P03).
    #[error("{0}")]
    LockNotAvailable(String),

    /// An earlier statement of this explicit transaction failed: PostgreSQL's rule, every
    /// statement fails until ROLLBACK (or COMMIT, which then rolls back).
    #[error("current transaction is aborted, commands ignored until end of transaction block")]
    TransactionAborted,
    /// A statement that writes, inside a READ ONLY transaction; the payload names it
    /// (`INSERT`, `CREATE TABLE`, ...).
    #[error("cannot execute {0} in a read-only transaction")]
    ReadOnlyTransaction(&'static str),

    /// A statement that cannot run inside a transaction block (VACUUM); the payload
    /// names it (PostgreSQL's `active_sql_transaction`, SQLSTATE 25001).
    #[error("{0} cannot run inside a transaction block")]
    ActiveTransaction(&'static str),
    /// SET TRANSACTION changing what only the start of a transaction can set (its
    /// isolation level, READ WRITE, DEFERRABLE) after the transaction's first query;
    /// the payload is PostgreSQL's message (`active_sql_transaction`, SQLSTATE 25001).
    #[error("{0}")]
    AfterFirstQuery(&'static str),

    /// The statement was stopped before its end: cancelled, or past its
    /// `statement_timeout` (PostgreSQL's `query_canceled`, SQLSTATE 57014).
    #[error("canceling statement due to {0}")]
    Cancelled(Cancel),

    /// Writing to a system catalog (`system/`), or DDL on one or in its schema:
    /// PostgreSQL's `insufficient_privilege` (SQLSTATE 42501); the payload is its
    /// message (`permission denied for table pg_class`).
    #[error("{0}")]
    SystemCatalog(String),

    /// INSERT, UPDATE or DELETE of a system view (pg_tables, information_schema's):
    /// PostgreSQL's `cannot delete from view "pg_tables"` (SQLSTATE 55000).
    #[error("{0}")]
    NotUpdatableView(String),

    /// Anything else the engine reported (I/O, corruption, ...).
    #[error(transparent)]
    Engine(engine::Error),
}

/// Why a statement was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    /// Its session's cancel handle was used (Ctrl-C in the shell).
    UserRequest,
    /// It ran longer than the session's `statement_timeout`.
    StatementTimeout,
}

impl std::fmt::Display for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cancel::UserRequest => "user request",
            Cancel::StatementTimeout => "statement timeout",
        })
    }
}

impl Error {
    /// An [`Error::Unsupported`] naming `clause`.
    pub fn unsupported(clause: impl Into<String>) -> Error {
        Error::Unsupported {
            clause: clause.into(),
        }
    }

    /// PostgreSQL's DETAIL line for this error, where it has one of its own.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::NumericFieldOverflow { precision, scale } => {
                let digits = i64::from(*precision) - i64::from(*scale);
                let limit = match digits {
                    0 => "1".to_string(),
                    d => format!("10^{d}"),
                };
                Some(format!(
                    "A field with precision {precision}, scale {scale} must round to an \
                     absolute value less than {limit}."
                ))
            }
            Error::InView { source, .. } => source.detail(),
            _ => None,
        }
    }

    /// Whether retrying the whole transaction may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Serialization(_) | Error::Deadlock(_))
    }
}

impl From<engine::Error> for Error {
    fn from(e: engine::Error) -> Self {
        match e {
            engine::Error::Constraint(c) => Error::Constraint(c),
            engine::Error::TooLarge(limit) => Error::TooLarge(limit),
            engine::Error::Serialization(s) => Error::Serialization(s),
            engine::Error::Deadlock(s) => Error::Deadlock(s),
            engine::Error::LockNotAvailable(s) => Error::LockNotAvailable(s),
            engine::Error::Interrupted(engine::Interruption::Cancel) => {
                Error::Cancelled(Cancel::UserRequest)
            }
            engine::Error::Interrupted(engine::Interruption::StatementTimeout) => {
                Error::Cancelled(Cancel::StatementTimeout)
            }
            engine::Error::TypeMismatch(s) => Error::Type(s),
            engine::Error::NotFound {
                kind: "table",
                name,
            } => Error::UnknownTable(name),
            engine::Error::NotFound {
                kind: "index",
                name,
            } => Error::UnknownIndex(name),
            engine::Error::NotFound {
                kind: "column",
                name,
            } => Error::UnknownColumn(name),
            engine::Error::AlreadyExists { kind, name } => Error::AlreadyExists {
                kind: kind.to_string(),
                name,
            },
            other => Error::Engine(other),
        }
    }
}
