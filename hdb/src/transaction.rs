//! Transactions as values: [`Transaction`] commits when asked and rolls back when dropped.
//!
//! [`Session::transaction`] sends `BEGIN` (with the isolation level and access mode of
//! [`TransactionOptions`]) and returns a [`Transaction`] that borrows the session, so
//! nothing else can use the session until the transaction is over. It ends in one of
//! three ways:
//!
//! - [`Transaction::commit`] sends `COMMIT` and consumes it. If an earlier statement
//!   failed, PostgreSQL's `COMMIT` quietly rolls back; here `commit` says so with
//!   [`Error::TransactionAborted`], so a caller never mistakes a lost transaction for a
//!   committed one.
//! - [`Transaction::rollback`] sends `ROLLBACK` and consumes it.
//! - Dropping it (an early return, `?`, a panic) sends `ROLLBACK`.
//!
//! **Errors inside.** As in PostgreSQL, an error inside the transaction aborts it: its
//! work is discarded at once, later statements fail with [`Error::TransactionAborted`],
//! and only ending the transaction gets the session going again. A serialization failure
//! ([`Error::is_retryable`]) is such an error; the remedy is to run the whole transaction
//! again, which [`Session::run_transaction`] does, up to
//! [`TransactionOptions::max_attempts`] times, waiting a little longer before each retry
//! ([`retry_backoff`]) so the rival transaction can finish.
//!
//! Transaction-control statements (`COMMIT`, `ROLLBACK`, `BEGIN`) sent as SQL through a
//! `Transaction` act on the session as they would anywhere; use the methods instead.

use std::time::Duration;

use sql_frontend::Value;

use crate::database::{Session, Statement};
use crate::error::{Error, Result};
use crate::mapping::{FromRow, MappedRows};
use crate::result::{QueryResult, Row, Rows};

pub use engine::IsolationLevel;

/// How often [`Session::run_transaction`] tries a transaction that keeps failing with a
/// serialization error, unless [`TransactionOptions::max_attempts`] says otherwise: enough
/// to ride out a burst of contention, few enough that a transaction that can never win
/// fails in well under a second.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;

/// How a transaction begins: isolation level, access mode, and (for
/// [`Session::run_transaction`]) how many attempts it gets.
///
/// ```
/// use hdb::{IsolationLevel, TransactionOptions};
///
/// let options = TransactionOptions::new()
///     .isolation(IsolationLevel::RepeatableRead)
///     .read_only(true)
///     .max_attempts(3);
/// assert_eq!(options.begin_sql(), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionOptions {
    isolation: IsolationLevel,
    read_only: bool,
    deferrable: bool,
    max_attempts: u32,
}

impl Default for TransactionOptions {
    fn default() -> Self {
        TransactionOptions {
            isolation: IsolationLevel::ReadCommitted,
            read_only: false,
            deferrable: false,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}

impl TransactionOptions {
    /// READ COMMITTED (PostgreSQL's default), read-write, [`DEFAULT_MAX_ATTEMPTS`].
    ///
    /// ```
    /// assert_eq!(hdb::TransactionOptions::new().begin_sql(), "BEGIN ISOLATION LEVEL READ COMMITTED");
    /// ```
    pub fn new() -> TransactionOptions {
        TransactionOptions::default()
    }

    /// The isolation level: READ COMMITTED (a fresh snapshot per statement),
    /// REPEATABLE READ (one snapshot for the whole transaction; a write to a row that a
    /// concurrent transaction changed is a serialization failure) or SERIALIZABLE
    /// (REPEATABLE READ, plus a serialization failure wherever the transactions could
    /// not have run one at a time, as with write skew).
    ///
    /// ```
    /// let options = hdb::TransactionOptions::new().isolation(hdb::IsolationLevel::RepeatableRead);
    /// assert_eq!(options.begin_sql(), "BEGIN ISOLATION LEVEL REPEATABLE READ");
    /// ```
    pub fn isolation(self, isolation: IsolationLevel) -> TransactionOptions {
        TransactionOptions { isolation, ..self }
    }

    /// A read-only transaction refuses INSERT, UPDATE, DELETE and DDL
    /// (`cannot execute INSERT in a read-only transaction`).
    ///
    /// ```
    /// let options = hdb::TransactionOptions::new().read_only(true);
    /// assert!(options.begin_sql().ends_with("READ ONLY"));
    /// ```
    pub fn read_only(self, read_only: bool) -> TransactionOptions {
        TransactionOptions { read_only, ..self }
    }

    /// DEFERRABLE: a SERIALIZABLE READ ONLY transaction waits at its first statement
    /// until it can run on a snapshot no concurrent transaction can make unsafe; then
    /// it never fails with a serialization error (ignored otherwise, as in PostgreSQL).
    ///
    /// ```
    /// use hdb::{IsolationLevel, TransactionOptions};
    /// let options = TransactionOptions::new()
    ///     .isolation(IsolationLevel::Serializable)
    ///     .read_only(true)
    ///     .deferrable(true);
    /// assert_eq!(options.begin_sql(), "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE");
    /// ```
    pub fn deferrable(self, deferrable: bool) -> TransactionOptions {
        TransactionOptions { deferrable, ..self }
    }

    /// How many times [`Session::run_transaction`] runs the transaction before it gives
    /// up on serialization failures (at least 1).
    ///
    /// ```
    /// let options = hdb::TransactionOptions::new().max_attempts(0);
    /// assert_eq!(options.attempts(), 1);
    /// ```
    pub fn max_attempts(self, max_attempts: u32) -> TransactionOptions {
        TransactionOptions {
            max_attempts,
            ..self
        }
    }

    /// The number of attempts [`Session::run_transaction`] makes.
    ///
    /// ```
    /// assert_eq!(hdb::TransactionOptions::new().attempts(), hdb::DEFAULT_MAX_ATTEMPTS);
    /// ```
    pub fn attempts(&self) -> u32 {
        self.max_attempts.max(1)
    }

    /// The `BEGIN` statement these options send.
    ///
    /// ```
    /// let sql = hdb::TransactionOptions::new().begin_sql();
    /// assert_eq!(sql, "BEGIN ISOLATION LEVEL READ COMMITTED");
    /// ```
    pub fn begin_sql(&self) -> String {
        let level = match self.isolation {
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        };
        let mut sql = format!("BEGIN ISOLATION LEVEL {level}");
        if self.read_only {
            sql.push_str(" READ ONLY");
        }
        if self.deferrable {
            sql.push_str(" DEFERRABLE");
        }
        sql
    }
}

/// How long [`Session::run_transaction`] waits before attempt `attempt + 1` after a
/// serialization failure: 1 ms doubling to at most 64 ms, plus up to as much again
/// chosen from the clock, so two transactions that keep colliding drift apart. A
/// conflict means a rival wrote the same row first; waiting gives it time to commit, so
/// the retry starts from a snapshot that includes it.
pub fn retry_backoff(attempt: u32) -> Duration {
    let base_micros = 1_000u64 << attempt.saturating_sub(1).min(6);
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| u64::from(since.subsec_nanos()))
        % base_micros;
    Duration::from_micros(base_micros + jitter)
}

/// An open transaction on a [`Session`]: commit it, roll it back, or drop it to roll
/// back. A failed statement aborts it (PostgreSQL's rule): later statements fail with
/// [`Error::TransactionAborted`] and [`Transaction::commit`] reports the rollback.
///
/// ```
/// # fn main() -> hdb::Result<()> {
/// let db = hdb::Database::open_in_memory()?;
/// let mut session = db.session();
/// session.execute("CREATE TABLE accounts (id INT PRIMARY KEY, balance INT)")?;
/// session.execute("INSERT INTO accounts VALUES (1, 100), (2, 0)")?;
///
/// let mut txn = session.transaction()?;
/// txn.query("UPDATE accounts SET balance = balance - $1 WHERE id = 1", hdb::params![30])?;
/// txn.query("UPDATE accounts SET balance = balance + $1 WHERE id = 2", hdb::params![30])?;
/// txn.commit()?;
///
/// {
///     let mut txn = session.transaction()?;
///     txn.execute("DELETE FROM accounts")?;
///     // dropped without commit: rolled back
/// }
/// let total: i64 = session.query_row("SELECT sum(balance) FROM accounts", hdb::params![], |row| row.get(0))?;
/// assert_eq!(total, 100);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Transaction<'s> {
    session: &'s mut Session,
}

impl Session {
    /// Begins a READ COMMITTED, read-write transaction (see [`Transaction`]).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let txn = session.transaction()?;
    /// txn.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.transaction_with(TransactionOptions::default())
    }

    /// Begins a transaction with the given isolation level and access mode. Fails if a
    /// transaction is already open on this session (begun with SQL).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// use hdb::{IsolationLevel, TransactionOptions};
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE t (x INT)")?;
    /// let mut txn = session.transaction_with(TransactionOptions::new().read_only(true))?;
    /// assert!(txn.execute("INSERT INTO t VALUES (1)").is_err());
    /// txn.rollback()?;
    ///
    /// let txn = session.transaction_with(TransactionOptions::new().isolation(IsolationLevel::RepeatableRead))?;
    /// txn.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn transaction_with(&mut self, options: TransactionOptions) -> Result<Transaction<'_>> {
        if self.in_transaction() {
            return Err(Error::Other(
                "a transaction is already open on this session".to_string(),
            ));
        }
        self.execute(&options.begin_sql())?;
        Ok(Transaction { session: self })
    }

    /// Runs `body` in a transaction and commits it; if `body` or the commit fails with a
    /// serialization error, rolls back, waits ([`retry_backoff`]) and runs it again, up
    /// to `options.attempts()` times. Any other error rolls back and is returned at
    /// once. `body` may run more than once, so it should only change the database
    /// through the transaction.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// use hdb::{IsolationLevel, TransactionOptions};
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE counters (name TEXT PRIMARY KEY, n INT)")?;
    /// session.execute("INSERT INTO counters VALUES ('hits', 0)")?;
    ///
    /// let options = TransactionOptions::new().isolation(IsolationLevel::RepeatableRead);
    /// let n = session.run_transaction(options, |txn| {
    ///     txn.execute("UPDATE counters SET n = n + 1 WHERE name = 'hits'")?;
    ///     txn.query_row("SELECT n FROM counters WHERE name = 'hits'", hdb::params![], |row| row.get::<i64>(0))
    /// })?;
    /// assert_eq!(n, 1);
    /// # Ok(()) }
    /// ```
    pub fn run_transaction<T>(
        &mut self,
        options: TransactionOptions,
        mut body: impl FnMut(&mut Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let attempts = options.attempts();
        let mut attempt = 1;
        loop {
            let mut txn = self.transaction_with(options)?;
            let outcome = body(&mut txn).and_then(|value| txn.commit().map(|()| value));
            match outcome {
                Err(error) if error.is_retryable() && attempt < attempts => {
                    std::thread::sleep(retry_backoff(attempt));
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }
}

impl Transaction<'_> {
    /// Runs the statements in `sql` inside the transaction ([`Session::execute`]).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let mut txn = session.transaction()?;
    /// txn.execute("CREATE TABLE t (x INT); INSERT INTO t VALUES (1)")?;
    /// txn.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn execute(&mut self, sql: &str) -> Result<QueryResult> {
        self.session.execute(sql)
    }

    /// Runs one statement with `$n` parameters inside the transaction
    /// ([`Session::query`]).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let mut txn = session.transaction()?;
    /// let result = txn.query("SELECT $1 + 1 AS n", hdb::params![41])?;
    /// assert_eq!(result.rows()[0].get::<i64>("n")?, 42);
    /// # Ok(()) }
    /// ```
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<QueryResult> {
        self.session.query(sql, params)
    }

    /// Runs a query inside the transaction; its rows as the query produces them
    /// ([`Session::query_iter`]).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let mut txn = session.transaction()?;
    /// let mut sum = 0;
    /// for row in txn.query_iter("SELECT * FROM (VALUES (1), (2)) AS v (x)", hdb::params![])? {
    ///     sum += row?.get::<i64>("x")?;
    /// }
    /// assert_eq!(sum, 3);
    /// # Ok(()) }
    /// ```
    pub fn query_iter(&mut self, sql: &str, params: &[Value]) -> Result<Rows<'_>> {
        self.session.query_iter(sql, params)
    }

    /// Prepares a statement ([`Session::prepare`]); it stays usable after the transaction.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE t (x INT)")?;
    /// let mut txn = session.transaction()?;
    /// let insert = txn.prepare("INSERT INTO t VALUES ($1)")?;
    /// for x in 0..3 {
    ///     txn.execute_prepared(&insert, hdb::params![x])?;
    /// }
    /// txn.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn prepare(&mut self, sql: &str) -> Result<Statement> {
        self.session.prepare(sql)
    }

    /// Executes a prepared statement inside the transaction
    /// ([`Session::execute_prepared`]).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let mut txn = session.transaction()?;
    /// let double = txn.prepare("SELECT $1 * 2")?;
    /// assert_eq!(txn.execute_prepared(&double, hdb::params![21])?.rows()[0].get::<i64>(0)?, 42);
    /// # Ok(()) }
    /// ```
    pub fn execute_prepared(
        &mut self,
        statement: &Statement,
        params: &[Value],
    ) -> Result<QueryResult> {
        self.session.execute_prepared(statement, params)
    }

    /// The first row of a query, mapped by `f` ([`Session::query_row`]).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let mut txn = session.transaction()?;
    /// let n: i64 = txn.query_row("SELECT 6 * 7", hdb::params![], |row| row.get(0))?;
    /// assert_eq!(n, 42);
    /// # Ok(()) }
    /// ```
    pub fn query_row<T>(
        &mut self,
        sql: &str,
        params: &[Value],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        self.session.query_row(sql, params, f)
    }

    /// Every row of a query, mapped by `f` ([`Session::query_map`]).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let mut txn = session.transaction()?;
    /// let xs = txn
    ///     .query_map("SELECT * FROM (VALUES (1), (2)) AS v (x)", hdb::params![], |row| row.get::<i64>("x"))?
    ///     .collect::<hdb::Result<Vec<_>>>()?;
    /// assert_eq!(xs, [1, 2]);
    /// # Ok(()) }
    /// ```
    pub fn query_map<T, F>(
        &mut self,
        sql: &str,
        params: &[Value],
        f: F,
    ) -> Result<MappedRows<'_, F>>
    where
        F: FnMut(&Row) -> Result<T>,
    {
        self.session.query_map(sql, params, f)
    }

    /// Every row of a query as `T` ([`Session::query_as`]).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let mut txn = session.transaction()?;
    /// let pairs: Vec<(i64, String)> = txn.query_as("SELECT 1, 'one'", hdb::params![])?;
    /// assert_eq!(pairs, [(1, "one".to_string())]);
    /// # Ok(()) }
    /// ```
    pub fn query_as<T: FromRow>(&mut self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        self.session.query_as(sql, params)
    }

    /// Commits. If a statement of the transaction failed, the transaction was already
    /// rolled back, and this says so with [`Error::TransactionAborted`] (PostgreSQL's
    /// `COMMIT` would answer `ROLLBACK` without an error).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE t (x INT PRIMARY KEY)")?;
    /// let mut txn = session.transaction()?;
    /// txn.execute("INSERT INTO t VALUES (1)")?;
    /// assert!(txn.execute("INSERT INTO t VALUES (1)").is_err()); // duplicate key
    /// assert!(matches!(txn.commit(), Err(hdb::Error::TransactionAborted(_))));
    /// assert!(!session.in_transaction());
    /// # Ok(()) }
    /// ```
    pub fn commit(self) -> Result<()> {
        // On an error the transaction may still be open: dropping `self` rolls it back.
        let result = self.session.execute("COMMIT")?;
        match result.tag() {
            "ROLLBACK" => Err(Error::TransactionAborted(
                "the transaction was rolled back: a statement in it failed".to_string(),
            )),
            _ => Ok(()),
        }
    }

    /// Rolls back.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let txn = session.transaction()?;
    /// txn.rollback()?;
    /// assert!(!session.in_transaction());
    /// # Ok(()) }
    /// ```
    pub fn rollback(self) -> Result<()> {
        self.session.execute("ROLLBACK").map(drop)
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.session.in_transaction() {
            // Nothing to report to: a failed ROLLBACK leaves the session's transaction
            // aborted, and the next statement says so.
            let _ = self.session.execute("ROLLBACK");
        }
    }
}
