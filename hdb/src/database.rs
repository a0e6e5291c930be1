//! The embedding API: [`Database`], [`Session`], prepared [`Statement`]s.
//!
//! ```
//! # fn main() -> hdb::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("app.db");
//! let db = hdb::Database::open(&path)?;
//! let mut session = db.session();
//! session.execute("CREATE TABLE users (user_id VARCHAR PRIMARY KEY, name VARCHAR)")?;
//! session.execute("INSERT INTO users VALUES ('u1', 'Alice')")?;
//! let result = session.query("SELECT name FROM users WHERE user_id = $1", &["u1".into()])?;
//! let name: String = result.rows()[0].get("name")?;
//! assert_eq!(name, "Alice");
//! // Rows as the query produces them, without holding them all in memory:
//! for row in session.query_iter("SELECT user_id, name FROM users", &[])? {
//!     let row = row?;
//!     println!("{}: {}", row.get::<String>(0)?, row.get::<String>("name")?);
//! }
//! # Ok(()) }
//! ```
//!
//! A [`Database`] is a cheap handle (clone it freely, send it to other threads); each
//! [`Session`] is one connection with at most one open transaction, so give each thread
//! its own. Sessions on different threads run concurrently: readers never block
//! writers, and two writers of the same row get a retryable serialization error.

use std::path::Path;

use engine::DatabaseOptions;
pub use sql_frontend::TransactionState;
use sql_frontend::Value;
pub use sql_frontend::value::Kind;

use crate::error::Result;
use crate::result::{QueryResult, Rows};

/// Parses SQL text into its statements, for callers that prepare and run them one at a
/// time ([`Session::prepare_parsed`]): each is planned only when its turn comes, so a
/// script may create a table and then use it.
///
/// ```
/// # fn main() -> hdb::Result<()> {
/// let db = hdb::Database::open_in_memory()?;
/// let mut session = db.session();
/// for parsed in hdb::parse_statements("CREATE TABLE t (x INT); SELECT x FROM t")? {
///     let statement = session.prepare_parsed(&parsed)?;
///     session.execute_prepared(&statement, &[])?;
/// }
/// # Ok(()) }
/// ```
pub fn parse_statements(sql: &str) -> Result<Vec<ParsedStatement>> {
    Ok(sql_frontend::bind::parse(sql)?
        .into_iter()
        .map(|inner| ParsedStatement { inner })
        .collect())
}

/// One statement of a script, parsed but not yet bound (see [`parse_statements`]).
#[derive(Debug, Clone)]
pub struct ParsedStatement {
    inner: sql_frontend::bind::Parsed,
}

impl ParsedStatement {
    /// Whether it is a COPY that reads or writes the client's stream, so it must run
    /// through [`Session::copy_in`] or [`Session::copy_out`] (with [`Self::sql`]).
    pub fn copy_direction(&self) -> Option<CopyDirection> {
        match sql_frontend::bind::client_copy(&self.inner)? {
            sql_frontend::bind::ClientCopy::In => Some(CopyDirection::FromClient),
            sql_frontend::bind::ClientCopy::Out => Some(CopyDirection::ToClient),
        }
    }

    /// The statement printed back as SQL.
    pub fn sql(&self) -> Result<String> {
        Ok(self.inner.sql()?)
    }
}

/// Splits SQL text into its statements (each printed back as SQL), for callers that
/// run and report them one at a time.
///
/// ```
/// let statements = hdb::split_statements("CREATE TABLE t (x INT); SELECT * FROM t").unwrap();
/// assert_eq!(statements, ["CREATE TABLE t (x INT)", "SELECT * FROM t"]);
/// ```
pub fn split_statements(sql: &str) -> Result<Vec<String>> {
    Ok(sql_frontend::bind::parse(sql)?
        .iter()
        .map(sql_frontend::bind::Parsed::sql)
        .collect::<Result<_, _>>()?)
}

/// An open database. `Clone + Send + Sync`; all clones share the same database.
#[derive(Debug, Clone)]
pub struct Database {
    engine: engine::Database,
}

/// The path that opens a database in memory instead of a file, as in SQLite.
pub const MEMORY_PATH: &str = ":memory:";

impl Database {
    /// Opens the database file at `path` (its log lives in `<path>.wal/`), creating it
    /// if missing, and recovers it. [`MEMORY_PATH`] (`":memory:"`) opens a new database
    /// in memory instead ([`Database::open_in_memory`]).
    ///
    /// A file is open at most once per process: opening it again returns another handle
    /// to the same database (an error if the options differ). Another process that has
    /// it open makes this fail with a "locked" error.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("app.db");
    /// let db = hdb::Database::open(&path)?;
    /// db.session().execute("CREATE TABLE t (x INT)")?;
    /// let again = hdb::Database::open(&path)?; // the same database
    /// again.session().execute("INSERT INTO t VALUES (1)")?;
    /// # Ok(()) }
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Database> {
        Database::open_with(path, DatabaseOptions::default())
    }

    /// Opens with explicit engine options (page size, durability, checkpoint size).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// use hdb::engine::{DatabaseOptions, Durability};
    /// let dir = tempfile::tempdir().unwrap();
    /// let options = DatabaseOptions { durability: Durability::Off, ..DatabaseOptions::default() };
    /// let db = hdb::Database::open_with(dir.path().join("bulk.db"), options)?;
    /// # Ok(()) }
    /// ```
    pub fn open_with(path: impl AsRef<Path>, options: DatabaseOptions) -> Result<Database> {
        if path.as_ref() == Path::new(MEMORY_PATH) {
            return Database::open_in_memory_with(options);
        }
        Ok(Database {
            engine: engine::Database::open(path, options)?,
        })
    }

    /// A new, empty database in memory: no file is created, and everything is gone when
    /// the last handle (and its sessions) is dropped. Each call is a separate database.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE t (x INT); INSERT INTO t VALUES (1), (2)")?;
    /// let n: i64 = session.query_row("SELECT count(*) FROM t", hdb::params![], |row| row.get(0))?;
    /// assert_eq!(n, 2);
    /// # Ok(()) }
    /// ```
    pub fn open_in_memory() -> Result<Database> {
        Database::open_in_memory_with(DatabaseOptions::default())
    }

    /// [`Database::open_in_memory`] with a page size and checkpoint size (durability
    /// does not apply: there is nothing to make durable).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let options = hdb::engine::DatabaseOptions { page_size: 8192, ..Default::default() };
    /// let db = hdb::Database::open_in_memory_with(options)?;
    /// # Ok(()) }
    /// ```
    pub fn open_in_memory_with(options: DatabaseOptions) -> Result<Database> {
        Ok(Database {
            engine: engine::Database::open_in_memory(options)?,
        })
    }

    /// A new session, in autocommit mode.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// assert!(!session.in_transaction());
    /// # Ok(()) }
    /// ```
    pub fn session(&self) -> Session {
        Session {
            inner: sql_frontend::Session::new(self.engine.clone()),
        }
    }

    /// The engine underneath, for embedders who also use its table API.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// db.session().execute("CREATE TABLE t (x INT)")?;
    /// let mut txn = db.engine().begin(hdb::IsolationLevel::RepeatableRead);
    /// assert!(hdb::engine::table::catalog::find_table(&mut txn, "t")?.is_some());
    /// # Ok(()) }
    /// ```
    pub fn engine(&self) -> &engine::Database {
        &self.engine
    }

    /// Checkpoints and closes this handle (other clones keep the database open).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// db.close()?;
    /// # Ok(()) }
    /// ```
    pub fn close(self) -> Result<()> {
        Ok(self.engine.close()?)
    }
}

/// One connection: runs SQL, holds the open transaction.
#[derive(Debug)]
pub struct Session {
    inner: sql_frontend::Session,
}

/// Which way a COPY statement moves data through the client ([`Session::copy_direction`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyDirection {
    /// `COPY ... FROM STDIN`: the client sends the data ([`Session::copy_in`]).
    FromClient,
    /// `COPY ... TO STDOUT`: the client receives the data ([`Session::copy_out`]).
    ToClient,
}

/// A statement parsed and planned once (see [`Session::prepare`]).
#[derive(Debug, Clone)]
pub struct Statement {
    inner: sql_frontend::Prepared,
}

impl Statement {
    /// How many `$n` parameters it takes.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let statement = db.session().prepare("SELECT $1 + $2")?;
    /// assert_eq!(statement.param_count(), 2);
    /// # Ok(()) }
    /// ```
    pub fn param_count(&self) -> usize {
        self.inner.param_count()
    }

    /// The kind of value each `$n` parameter takes (`Kind::Unknown` where nothing in the
    /// statement constrains it), fixed when the statement was prepared.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE t (id INT PRIMARY KEY, name TEXT)")?;
    /// let statement = session.prepare("INSERT INTO t VALUES ($1, $2)")?;
    /// assert_eq!(statement.param_kinds(), [hdb::Kind::Int, hdb::Kind::Text]);
    /// # Ok(()) }
    /// ```
    pub fn param_kinds(&self) -> &[Kind] {
        &self.inner.description().params
    }

    /// The names and kinds of the columns it returns (empty if it returns no rows).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let statement = db.session().prepare("SELECT 1 AS one, 'a' AS letter")?;
    /// assert_eq!(statement.columns()[1], ("letter".to_string(), hdb::Kind::Text));
    /// # Ok(()) }
    /// ```
    pub fn columns(&self) -> &[(String, Kind)] {
        &self.inner.description().columns
    }

    /// Whether it is BEGIN / START TRANSACTION, COMMIT or ROLLBACK.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// assert!(db.session().prepare("BEGIN")?.is_transaction_control());
    /// # Ok(()) }
    /// ```
    pub fn is_transaction_control(&self) -> bool {
        self.inner.control().is_some()
    }

    /// Whether it is a COPY that reads or writes the client's stream, so it runs through
    /// [`Session::copy_in_prepared`] or [`Session::copy_out_prepared`].
    pub fn copy_direction(&self) -> Option<CopyDirection> {
        match self.inner.client_copy()? {
            sql_frontend::bind::ClientCopy::In => Some(CopyDirection::FromClient),
            sql_frontend::bind::ClientCopy::Out => Some(CopyDirection::ToClient),
        }
    }

    /// For a COPY, the number of fields in each record it reads or writes (the columns
    /// it names, or all the table's, or the query's); 0 for any other statement.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE t (id INT PRIMARY KEY, name TEXT, note TEXT)")?;
    /// assert_eq!(session.prepare("COPY t FROM STDIN")?.copy_fields(), 3);
    /// assert_eq!(session.prepare("COPY t (id, name) TO STDOUT")?.copy_fields(), 2);
    /// assert_eq!(session.prepare("SELECT 1")?.copy_fields(), 0);
    /// # Ok(()) }
    /// ```
    pub fn copy_fields(&self) -> usize {
        self.inner.description().copy_fields
    }
}

impl Session {
    /// Runs the statements in `sql` in order (BEGIN/COMMIT included) and returns the
    /// last one's result.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let result = session.execute("CREATE TABLE t (x INT); INSERT INTO t VALUES (1), (2)")?;
    /// assert_eq!(result.tag(), "INSERT 0 2");
    /// # Ok(()) }
    /// ```
    pub fn execute(&mut self, sql: &str) -> Result<QueryResult> {
        Ok(QueryResult::from_output(self.inner.execute(sql)?))
    }

    /// Runs `sql` with values for its `$1`, `$2`, ... parameters; returns the last
    /// statement's result with all its rows.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let result = session.query("SELECT $1 || ' ' || $2 AS greeting", hdb::params!["hello", "world"])?;
    /// assert_eq!(result.rows()[0].get::<String>("greeting")?, "hello world");
    /// # Ok(()) }
    /// ```
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        QueryResult::from_rows(self.inner.query_rows(sql, params)?)
    }

    /// Runs `sql` with values for its `$1`, `$2`, ... parameters, and returns the last
    /// statement's rows as the query produces them: an iterator of `Result<Row>`, which
    /// `.collect::<Result<Vec<_>>>()` turns into a `Vec`. Statements before the last run
    /// to completion first.
    ///
    /// The [`Rows`] holds the session until it is dropped: the query runs in the
    /// session's transaction (its own, in autocommit mode) while rows are pulled. It ends
    /// when the rows run out (committing an autocommit transaction), when pulling fails
    /// (as any failed statement), or when the `Rows` is dropped before its end (an
    /// autocommit transaction is then rolled back; an explicit one goes on).
    pub fn query_iter(&mut self, sql: &str, params: &[Value]) -> Result<Rows<'_>> {
        Ok(Rows::new(self.inner.query_rows(sql, params)?))
    }

    /// Parses and plans one statement for repeated execution with
    /// [`Session::execute_prepared`]. The plan is checked against the catalog on each
    /// execution and made again if a table it uses has changed.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE t (x INT PRIMARY KEY)")?;
    /// let insert = session.prepare("INSERT INTO t VALUES ($1)")?;
    /// for x in 0..10 {
    ///     session.execute_prepared(&insert, hdb::params![x])?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn prepare(&mut self, sql: &str) -> Result<Statement> {
        Ok(Statement {
            inner: self.inner.prepare(sql)?,
        })
    }

    /// Marks an open transaction failed (rolled back; statements fail until ROLLBACK),
    /// as PostgreSQL does after any error inside BEGIN — for callers that detect errors
    /// outside the statements themselves, such as a protocol server's parse errors.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("BEGIN")?;
    /// session.abort_transaction();
    /// assert_eq!(session.transaction_state(), hdb::TransactionState::Aborted);
    /// assert!(session.execute("SELECT 1").is_err());
    /// session.execute("ROLLBACK")?;
    /// # Ok(()) }
    /// ```
    pub fn abort_transaction(&mut self) {
        self.inner.abort_transaction();
    }

    /// Binds and plans one statement of [`parse_statements`]'s. Unlike
    /// [`Session::prepare`], a failure aborts an open transaction, as in PostgreSQL.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("BEGIN")?;
    /// let parsed = hdb::parse_statements("SELECT * FROM missing")?;
    /// assert!(session.prepare_parsed(&parsed[0]).is_err());
    /// assert_eq!(session.transaction_state(), hdb::TransactionState::Aborted);
    /// # Ok(()) }
    /// ```
    pub fn prepare_parsed(&mut self, statement: &ParsedStatement) -> Result<Statement> {
        Ok(Statement {
            inner: self.inner.prepare_parsed(statement.inner.clone())?,
        })
    }

    /// Executes a prepared statement with parameter values.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let square = session.prepare("SELECT $1 * $1")?;
    /// let result = session.execute_prepared(&square, hdb::params![12])?;
    /// assert_eq!(result.rows()[0].get::<i64>(0)?, 144);
    /// # Ok(()) }
    /// ```
    pub fn execute_prepared(
        &mut self,
        statement: &Statement,
        params: &[Value],
    ) -> Result<QueryResult> {
        QueryResult::from_rows(self.inner.execute_prepared_rows(&statement.inner, params)?)
    }

    /// Runs one `COPY table [(columns)] FROM STDIN [WITH (...)]` statement, reading its
    /// data from `data` (PostgreSQL's text or CSV format, as the statement's options
    /// say) until the end or a `\.` line; loads all rows or, on any error, none. The
    /// result's tag is `COPY n`. A wire-protocol server feeds the client's CopyData here.
    pub fn copy_in(&mut self, sql: &str, data: impl std::io::Read) -> Result<QueryResult> {
        let mut data = std::io::BufReader::new(data);
        Ok(QueryResult::from_output(
            self.inner.copy_in(sql, &mut data)?,
        ))
    }

    /// Runs one `COPY {table | (query)} TO STDOUT [WITH (...)]` statement, writing its
    /// data to `out` as the rows are produced.
    pub fn copy_out(&mut self, sql: &str, mut out: impl std::io::Write) -> Result<QueryResult> {
        Ok(QueryResult::from_output(
            self.inner.copy_out(sql, &mut out)?,
        ))
    }

    /// Runs a prepared `COPY ... FROM STDIN` statement, as [`Session::copy_in`] runs its
    /// SQL (a wire-protocol server's extended protocol prepares the COPY at Parse and
    /// runs it at Execute).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE t (id INT PRIMARY KEY, name TEXT)")?;
    /// let copy = session.prepare("COPY t FROM STDIN")?;
    /// let result = session.copy_in_prepared(&copy, "1\tone\n2\ttwo\n".as_bytes())?;
    /// assert_eq!(result.tag(), "COPY 2");
    /// # Ok(()) }
    /// ```
    pub fn copy_in_prepared(
        &mut self,
        statement: &Statement,
        data: impl std::io::Read,
    ) -> Result<QueryResult> {
        let mut data = std::io::BufReader::new(data);
        Ok(QueryResult::from_output(
            self.inner.copy_in_prepared(&statement.inner, &mut data)?,
        ))
    }

    /// Runs a prepared `COPY ... TO STDOUT` statement, as [`Session::copy_out`] runs its
    /// SQL.
    pub fn copy_out_prepared(
        &mut self,
        statement: &Statement,
        mut out: impl std::io::Write,
    ) -> Result<QueryResult> {
        Ok(QueryResult::from_output(
            self.inner.copy_out_prepared(&statement.inner, &mut out)?,
        ))
    }

    /// Whether `sql` is one COPY statement that reads (`Some(true)`: FROM STDIN) or
    /// writes (`Some(false)`: TO STDOUT) the client's stream, so it must run through
    /// [`Session::copy_in`] or [`Session::copy_out`].
    pub fn copy_direction(sql: &str) -> Option<CopyDirection> {
        match parse_statements(sql).ok()?.as_slice() {
            [one] => one.copy_direction(),
            _ => None,
        }
    }

    /// Executes a prepared statement with parameter values; its rows as they are
    /// produced (see [`Session::query_iter`]).
    pub fn execute_prepared_iter(
        &mut self,
        statement: &Statement,
        params: &[Value],
    ) -> Result<Rows<'_>> {
        Ok(Rows::new(
            self.inner.execute_prepared_rows(&statement.inner, params)?,
        ))
    }

    /// A handle that cancels the statement this session is running, from another
    /// thread (say, a Ctrl-C handler): the statement fails with
    /// [`crate::Error::Cancelled`] ("canceling statement due to user request", SQLSTATE
    /// 57014). `SET statement_timeout = '5s'` cancels a statement that runs longer, with
    /// "canceling statement due to statement timeout". Take the handle before running
    /// statements and keep it apart from the session (a server's CancelRequest, a
    /// Ctrl-C handler): cancelling never locks or waits on the session.
    pub fn cancel_handle(&self) -> crate::CancelHandle {
        self.inner.cancel_handle()
    }

    /// Says who is connected, to which database: what `current_user`,
    /// `current_database()`, `pg_database` and the other system relations report (a
    /// session is user `hdb` on database `hdb` until told otherwise). A server calls
    /// this once, before the client's first statement.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.set_client("alice", "shop");
    /// let result = session.query("SELECT current_user AS u, current_database() AS d", &[])?;
    /// assert_eq!(result.rows()[0].get::<String>("u")?, "alice");
    /// assert_eq!(result.rows()[0].get::<String>("d")?, "shop");
    /// # Ok(()) }
    /// ```
    pub fn set_client(&mut self, user: &str, database: &str) {
        self.inner.set_client(user, database);
    }

    /// Records the value of a run-time parameter that the embedder keeps (a server's
    /// `application_name`), as SHOW prints it, for `pg_settings` to show; the
    /// session's own settings (`statement_timeout` ...) are kept there by the session.
    pub fn set_setting(&self, name: &str, value: &str) {
        self.inner.client().set_setting(name, value);
    }

    /// Whether a transaction is open (BEGIN without COMMIT or ROLLBACK yet).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("BEGIN")?;
    /// assert!(session.in_transaction());
    /// session.execute("ROLLBACK")?;
    /// assert!(!session.in_transaction());
    /// # Ok(()) }
    /// ```
    pub fn in_transaction(&self) -> bool {
        self.inner.in_transaction()
    }

    /// Idle, in a transaction, or in a failed transaction that waits for ROLLBACK.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// assert_eq!(session.transaction_state(), hdb::TransactionState::Idle);
    /// session.execute("BEGIN")?;
    /// assert_eq!(session.transaction_state(), hdb::TransactionState::Active);
    /// # Ok(()) }
    /// ```
    pub fn transaction_state(&self) -> TransactionState {
        self.inner.transaction_state()
    }
}
