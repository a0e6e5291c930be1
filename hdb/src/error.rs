//! `hdb::Error`: one error type for everything the facade does, with kinds a caller can
//! match on.
//!
//! Errors of the SQL layer and of the engine are both converted here, so an embedder
//! never sees either crate's error type: it matches `Error::Constraint(_)`, asks
//! [`Error::is_retryable`] after a serialization failure, and so on.
//!
//! Each kind maps to PostgreSQL's SQLSTATE ([`Error::sqlstate`]), which `hdb serve`
//! sends to clients: a kind is split where PostgreSQL's codes differ in a way clients
//! act on (an unknown table, column or function), and otherwise carries the code of
//! its class (a value out of range is `22000`, data_exception, whatever the value).

pub use engine::{Constraint, Limit};

/// What went wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The SQL text does not parse.
    #[error("syntax error: {0}")]
    Syntax(String),
    /// A table or index that does not exist.
    #[error("{0}")]
    UnknownName(String),
    /// A column that is not in scope.
    #[error("{0}")]
    UnknownColumn(String),
    /// A function that does not exist (with those arguments).
    #[error("{0}")]
    UnknownFunction(String),
    /// A table, index or column that exists already.
    #[error("{0}")]
    AlreadyExists(String),
    /// A type error: an operator or column applied to a value of the wrong type, a row
    /// value asked for as the wrong Rust type.
    #[error("{0}")]
    Type(String),
    /// A value out of range: overflow, division by zero, text too long, bad date.
    #[error("{0}")]
    Data(String),
    /// A value too large for its `NUMERIC(p, s)` column (SQLSTATE 22003); the payload
    /// is PostgreSQL's detail, saying what would fit ([`Error::detail`]).
    #[error("numeric field overflow")]
    NumericFieldOverflow(String),
    /// A table or view that views still depend on, dropped without CASCADE; the message
    /// names them.
    #[error("{0}")]
    DependentObjects(String),
    /// `$n` parameters that do not fit the statement.
    #[error("{0}")]
    Parameter(String),
    /// NOT NULL, UNIQUE or PRIMARY KEY violated.
    #[error("{0}")]
    Constraint(Constraint),
    /// A key or name larger than the database can store: a primary key or index entry
    /// over the B+tree's key limit, a table or index name over the name limit. The
    /// statement that wrote it failed and left nothing behind.
    #[error("{0}")]
    TooLarge(Limit),
    /// A concurrent transaction changed a row this one wrote: retry the whole
    /// transaction ([`Error::is_retryable`]; [`Session::run_transaction`] does it).
    ///
    /// The failed transaction's work is gone, as after any error in it: in autocommit
    /// mode the statement was rolled back; inside `BEGIN` … (or a [`Transaction`]) the
    /// transaction is *aborted* as PostgreSQL aborts it — rolled back at once, while the
    /// session stays in it, refusing statements with [`Error::TransactionAborted`],
    /// until `ROLLBACK` (or the [`Transaction`] is rolled back or dropped).
    ///
    /// [`Session::run_transaction`]: crate::Session::run_transaction
    /// [`Transaction`]: crate::Transaction
    #[error("serialization failure: {0}")]
    Serialization(String),
    /// Waiting for a row lock would never end: this transaction closed a cycle of
    /// waiting transactions and was rolled back so the others go on (SQLSTATE 40P01).
    /// Retryable, as a serialization failure is.
    #[error("{0}")]
    Deadlock(String),
    /// A row lock was not taken: `lock_timeout` passed while waiting for it, or
    /// `NOWAIT` found it held (SQLSTATE 55P03). The transaction failed.
    #[error("{0}")]
    LockNotAvailable(String),
    /// An earlier statement of the explicit transaction failed, so the transaction was
    /// rolled back; statements fail until `ROLLBACK` ends it.
    #[error("{0}")]
    TransactionAborted(String),
    /// A statement that writes (INSERT, UPDATE, DELETE, DDL) in a READ ONLY transaction.
    #[error("{0}")]
    ReadOnly(String),
    /// A statement that must run outside any transaction (VACUUM) inside BEGIN.
    #[error("{0}")]
    ActiveTransaction(String),
    /// [`Session::query_row`](crate::Session::query_row) found no row.
    #[error("query returned no rows")]
    NoRows,
    /// The statement was stopped before its end: by its session's
    /// [`crate::CancelHandle`] (Ctrl-C in the shell) or by `statement_timeout`. It
    /// failed like any statement (an explicit transaction is aborted).
    #[error("{0}")]
    Cancelled(String),
    /// The statement is beyond one of hdb's limits: nested too deep (PostgreSQL's `stack
    /// depth limit exceeded`, SQLSTATE 54001) or inlining too much through functions.
    #[error("{0}")]
    TooComplex(String),
    /// Writing to or changing a system catalog (`pg_class` ...), or creating an object
    /// in its schema (SQLSTATE 42501, insufficient_privilege).
    #[error("{0}")]
    InsufficientPrivilege(String),
    /// INSERT, UPDATE or DELETE of a view that cannot be written, such as pg_tables
    /// (SQLSTATE 55000, object_not_in_prerequisite_state).
    #[error("{0}")]
    NotUpdatable(String),
    /// SQL that hdb does not support yet; the message names the clause.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// The operating system failed an I/O operation (or an earlier one left the
    /// database unusable until reopened).
    #[error("I/O error: {0}")]
    Io(String),
    /// The database file or its log is damaged.
    #[error("corruption: {0}")]
    Corruption(String),
    /// Anything else (a locked file, a closed transaction, an invalid argument).
    #[error("{0}")]
    Other(String),
}

/// Convenience alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether retrying the whole transaction may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Serialization(_) | Error::Deadlock(_))
    }

    /// A second line that says more, as PostgreSQL's `DETAIL` field does: for a
    /// uniqueness error, the key (`Key (id)=(1) already exists.`). `hdb serve` sends it
    /// as the error's detail, and the shell prints it under the error.
    pub fn detail(&self) -> Option<String> {
        match self {
            Error::Constraint(constraint) => constraint.detail(),
            Error::NumericFieldOverflow(detail) => Some(detail.clone()),
            _ => None,
        }
    }

    /// PostgreSQL's SQLSTATE for this kind of error (Appendix A of its manual), for
    /// clients that match on codes.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            Error::Syntax(_) => "42601",
            Error::UnknownName(_) => "42P01",
            Error::UnknownColumn(_) => "42703",
            Error::UnknownFunction(_) => "42883",
            Error::AlreadyExists(_) => "42P07",
            Error::Type(m) => type_sqlstate(m),
            Error::Data(m) => data_sqlstate(m),
            Error::NumericFieldOverflow(_) => "22003",
            Error::DependentObjects(_) => "2BP01",
            Error::Parameter(_) => "08P01",
            Error::Constraint(Constraint::NotNull { .. } | Constraint::NullsInColumn { .. }) => {
                "23502"
            }
            Error::Constraint(Constraint::Check { .. } | Constraint::CheckViolatedByRow { .. }) => {
                "23514"
            }
            Error::Constraint(
                Constraint::ForeignKey { .. } | Constraint::ForeignKeyReferenced { .. },
            ) => "23503",
            Error::Constraint(_) => "23505",
            Error::TooLarge(Limit::Name { .. }) => "42622",
            Error::TooLarge(_) => "54000",
            Error::TooComplex(_) => "54001",
            Error::Serialization(_) => "40001",
            Error::Deadlock(_) => "40P01",
            Error::LockNotAvailable(_) => "55P03",
            Error::TransactionAborted(_) => "25P02",
            Error::ReadOnly(_) => "25006",
            Error::ActiveTransaction(_) => "25001",
            Error::NoRows => "P0002",
            Error::Cancelled(_) => "57014",
            Error::InsufficientPrivilege(_) => "42501",
            Error::NotUpdatable(_) => "55000",
            Error::Unsupported(_) => "0A000",
            Error::Io(_) => "58030",
            Error::Corruption(_) => "XX001",
            Error::Other(_) => "XX000",
        }
    }
}

/// The SQLSTATE of a type error. The SQL layer words its errors as PostgreSQL does, so
/// where PostgreSQL gives a condition a code of its own, the wording tells which.
fn type_sqlstate(message: &str) -> &'static str {
    const CODES: [(&str, &str); 14] = [
        // generated_always: a value for an identity column GENERATED ALWAYS
        ("cannot insert a non-DEFAULT value into column", "428C9"),
        ("can only be updated to DEFAULT", "428C9"),
        // wrong_object_type: DROP TABLE of a view, DROP VIEW of a table, OVER on a
        // plain function, nextval of a table
        ("is not a sequence", "42809"),
        ("is not a table", "42809"),
        ("is not a view", "42809"),
        (
            "is not a window function nor an aggregate function",
            "42809",
        ),
        // invalid_object_definition: a view that names itself
        ("infinite recursion detected", "42P17"),
        // invalid_column_reference
        (
            "DISTINCT ON expressions must match initial ORDER BY",
            "42P10",
        ),
        (
            "there is no unique or exclusion constraint matching",
            "42P10",
        ),
        // invalid_table_definition
        ("multiple primary keys for table", "42P16"),
        // duplicate_column
        ("appears twice in primary key constraint", "42701"),
        // invalid_parameter_value: `varchar(0)`, `char(0)`, `numeric(0)`
        ("length for type", "22023"),
        ("NUMERIC precision", "22023"),
        ("NUMERIC scale", "22023"),
    ];
    CODES
        .iter()
        .find(|(words, _)| message.contains(words))
        .map_or("42804", |(_, code)| code) // datatype_mismatch
}

/// The SQLSTATE of a data error (class 22, or 21 for a row counted twice), read from its
/// PostgreSQL wording as [`type_sqlstate`] does; `22000` (data_exception) otherwise.
fn data_sqlstate(message: &str) -> &'static str {
    const CODES: [(&str, &str); 40] = [
        // invalid_regular_expression: a bad pattern for `~`
        ("invalid regular expression", "2201B"),
        // sequence_generator_limit_exceeded: nextval past MAXVALUE / MINVALUE
        ("reached maximum value of sequence", "2200H"),
        ("reached minimum value of sequence", "2200H"),
        // numeric_value_out_of_range: setval outside the sequence's bounds
        ("is out of bounds for sequence", "22003"),
        // object_not_in_prerequisite_state: currval / lastval before nextval
        ("is not yet defined in this session", "55000"),
        // invalid_parameter_value: CREATE SEQUENCE options
        ("INCREMENT must not be zero", "22023"),
        ("must be less than MAXVALUE", "22023"),
        ("cannot be less than MINVALUE", "22023"),
        ("cannot be greater than MAXVALUE", "22023"),
        ("must be greater than zero", "22023"),
        ("is out of range for sequence data type", "22023"),
        (
            "sequence type must be smallint, integer, or bigint",
            "22023",
        ),
        // bad_copy_file_format: a COPY record that does not fit the table
        ("missing data for column", "22P04"),
        ("extra data after last expected column", "22P04"),
        ("unterminated CSV quoted field", "22P04"),
        ("end-of-copy marker corrupt", "22P04"),
        // character_not_in_repertoire
        ("invalid byte sequence for encoding", "22021"),
        // invalid_parameter_value: storage parameters (`WITH (fillfactor = ...)`)
        ("out of bounds for option", "22023"),
        ("invalid value for integer option", "22023"),
        ("unrecognized parameter", "22023"),
        ("specified more than once", "22023"),
        ("division by zero", "22012"),
        // invalid_argument_for_power_function: power(0, -1), power(-8, 0.5), sqrt(-1)
        ("zero raised to a negative power", "2201F"),
        ("raised to a non-integer power", "2201F"),
        ("cannot take square root of a negative number", "2201F"),
        // program_limit_exceeded: repeat, lpad, rpad past PostgreSQL's largest value
        ("requested length too large", "54000"),
        // invalid_parameter_value: split_part's field 0, a date_trunc/extract unit
        ("field position must not be zero", "22023"),
        ("not recognized for type", "22023"),
        // feature_not_supported: a unit the value's type lacks (`extract(hour from date)`)
        ("not supported for type", "0A000"),
        ("value overflows numeric format", "22003"),
        ("date out of range", "22008"),
        ("timestamp out of range", "22008"),
        ("interval out of range", "22015"),
        ("out of range", "22003"),
        ("value too long for type", "22001"),
        ("invalid input syntax", "22P02"),
        // invalid_parameter_value: bytea's hex input
        ("invalid hexadecimal digit", "22023"),
        ("invalid hexadecimal data", "22023"),
        ("more than one row returned by a subquery", "21000"),
        ("cannot affect row a second time", "21000"),
    ];
    CODES
        .iter()
        .find(|(words, _)| message.contains(words))
        .map_or("22000", |(_, code)| code)
}

impl Error {
    /// The error met while binding view `view`'s query, saying so: the same kind, its
    /// message prefixed with the view's name.
    fn in_view(self, view: &str) -> Error {
        let prefix = |m: String| format!("in view \"{view}\": {m}");
        match self {
            Error::Syntax(m) => Error::Syntax(prefix(m)),
            Error::UnknownName(m) => Error::UnknownName(prefix(m)),
            Error::UnknownColumn(m) => Error::UnknownColumn(prefix(m)),
            Error::UnknownFunction(m) => Error::UnknownFunction(prefix(m)),
            Error::AlreadyExists(m) => Error::AlreadyExists(prefix(m)),
            Error::Type(m) => Error::Type(prefix(m)),
            Error::Data(m) => Error::Data(prefix(m)),
            Error::DependentObjects(m) => Error::DependentObjects(prefix(m)),
            Error::Parameter(m) => Error::Parameter(prefix(m)),
            Error::Serialization(m) => Error::Serialization(prefix(m)),
            Error::Deadlock(m) => Error::Deadlock(prefix(m)),
            Error::LockNotAvailable(m) => Error::LockNotAvailable(prefix(m)),
            Error::TransactionAborted(m) => Error::TransactionAborted(prefix(m)),
            Error::ReadOnly(m) => Error::ReadOnly(prefix(m)),
            Error::ActiveTransaction(m) => Error::ActiveTransaction(prefix(m)),
            Error::Cancelled(m) => Error::Cancelled(prefix(m)),
            Error::TooComplex(m) => Error::TooComplex(prefix(m)),
            Error::Unsupported(m) => Error::Unsupported(prefix(m)),
            Error::InsufficientPrivilege(m) => Error::InsufficientPrivilege(prefix(m)),
            Error::NotUpdatable(m) => Error::NotUpdatable(prefix(m)),
            Error::Io(m) => Error::Io(prefix(m)),
            Error::Corruption(m) => Error::Corruption(prefix(m)),
            Error::Other(m) => Error::Other(prefix(m)),
            kept @ (Error::Constraint(_)
            | Error::TooLarge(_)
            | Error::NoRows
            | Error::NumericFieldOverflow(_)) => kept,
        }
    }
}

impl From<engine::Error> for Error {
    fn from(e: engine::Error) -> Self {
        let message = e.to_string();
        match e {
            // The kind's own prefix ("I/O error: ") is the facade's to add, once.
            engine::Error::Io(io) => Error::Io(io.to_string()),
            engine::Error::File { .. }
            | engine::Error::WalPoisoned(_)
            | engine::Error::Poisoned(_) => Error::Io(message),
            engine::Error::Truncated { .. }
            | engine::Error::WalCorrupted { .. }
            | engine::Error::LogMissing { .. }
            | engine::Error::Corrupted { .. }
            | engine::Error::CorruptData(_) => Error::Corruption(message),
            engine::Error::Serialization(s) => Error::Serialization(s),
            engine::Error::Deadlock(_) => Error::Deadlock(message),
            engine::Error::LockNotAvailable(s) => Error::LockNotAvailable(s),
            engine::Error::Interrupted(_) => Error::Cancelled(message),
            engine::Error::Constraint(c) => Error::Constraint(c),
            engine::Error::TooLarge(limit) => Error::TooLarge(limit),
            engine::Error::TypeMismatch(_) => Error::Type(message),
            engine::Error::NotFound { kind: "column", .. } => Error::UnknownColumn(message),
            engine::Error::NotFound { .. } => Error::UnknownName(message),
            engine::Error::AlreadyExists { .. } => Error::AlreadyExists(message),
            engine::Error::Locked { .. }
            | engine::Error::TransactionClosed(_)
            | engine::Error::InvalidArgument(_) => Error::Other(message),
        }
    }
}

impl From<sql_frontend::Error> for Error {
    fn from(e: sql_frontend::Error) -> Self {
        use sql_frontend::Error as Sql;
        let message = e.to_string();
        match e {
            Sql::Parse(m) => Error::Syntax(m),
            Sql::Unsupported { clause } => Error::Unsupported(clause),
            Sql::UnknownTable(_)
            | Sql::UnknownIndex(_)
            | Sql::UnknownView(_)
            | Sql::UnknownSequence(_) => Error::UnknownName(message),
            Sql::DependentObjects(m) => Error::DependentObjects(m),
            Sql::InView { view, source } => Error::from(*source).in_view(&view),
            Sql::UnknownColumn(_) => Error::UnknownColumn(message),
            Sql::UnknownFunction(_) => Error::UnknownFunction(message),
            Sql::AlreadyExists { .. } => Error::AlreadyExists(message),
            Sql::Type(_) => Error::Type(message),
            Sql::Data(_) => Error::Data(message),
            overflow @ Sql::NumericFieldOverflow { .. } => {
                Error::NumericFieldOverflow(overflow.detail().unwrap_or_default())
            }
            Sql::Parameter(_) => Error::Parameter(message),
            Sql::TooComplex(m) => Error::TooComplex(m),
            Sql::Constraint(c) => Error::Constraint(c),
            Sql::TooLarge(limit) => Error::TooLarge(limit),
            Sql::Serialization(s) => Error::Serialization(s),
            Sql::Deadlock(_) => Error::Deadlock(message),
            Sql::LockNotAvailable(m) => Error::LockNotAvailable(m),
            Sql::TransactionAborted => Error::TransactionAborted(message),
            Sql::ReadOnlyTransaction(_) => Error::ReadOnly(message),
            Sql::ActiveTransaction(_) | Sql::AfterFirstQuery(_) => {
                Error::ActiveTransaction(message)
            }
            Sql::Cancelled(_) => Error::Cancelled(message),
            Sql::SystemCatalog(m) => Error::InsufficientPrivilege(m),
            Sql::NotUpdatableView(m) => Error::NotUpdatable(m),
            Sql::Engine(e) => Error::from(e),
        }
    }
}
