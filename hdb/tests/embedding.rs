//! The embedding API as an application uses it: transactions as values, retries after
//! serialization failures, one database per file per process, databases in memory,
//! read-only transactions, and PostgreSQL's column names.

use std::path::Path;
use std::sync::{Arc, Barrier};

use hdb::engine::{DatabaseOptions, Durability};
use hdb::{Database, Error, IsolationLevel, TransactionOptions, params};

fn count(session: &mut hdb::Session, table: &str) -> i64 {
    session
        .query_row(&format!("SELECT count(*) FROM {table}"), params![], |row| {
            row.get(0)
        })
        .expect("count")
}

#[test]
fn a_dropped_transaction_rolls_back_and_a_committed_one_stays() {
    let db = Database::open_in_memory().unwrap();
    let mut session = db.session();
    session
        .execute("CREATE TABLE t (x INT PRIMARY KEY)")
        .unwrap();

    let mut txn = session.transaction().unwrap();
    txn.query("INSERT INTO t VALUES ($1)", params![1]).unwrap();
    txn.commit().unwrap();

    {
        let mut txn = session.transaction().unwrap();
        txn.query("INSERT INTO t VALUES ($1)", params![2]).unwrap();
        assert_eq!(
            txn.query_row("SELECT count(*) FROM t", params![], |row| row.get::<i64>(0))
                .unwrap(),
            2
        );
    }
    assert!(!session.in_transaction());
    assert_eq!(count(&mut session, "t"), 1);

    // A transaction that panics half-way is rolled back as it unwinds.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut txn = session.transaction().unwrap();
        txn.query("INSERT INTO t VALUES ($1)", params![3]).unwrap();
        panic!("the application fails mid-transaction");
    }));
    assert!(outcome.is_err());
    assert!(!session.in_transaction());
    assert_eq!(count(&mut session, "t"), 1);

    // Another session sees only committed work.
    assert_eq!(count(&mut db.session(), "t"), 1);
}

#[test]
fn a_transaction_cannot_begin_inside_one_begun_with_sql() {
    let db = Database::open_in_memory().unwrap();
    let mut session = db.session();
    session.execute("BEGIN").unwrap();
    assert!(matches!(session.transaction(), Err(Error::Other(_))));
    // The transaction begun with SQL is still open and usable.
    assert!(session.in_transaction());
    session.execute("COMMIT").unwrap();
}

/// A REPEATABLE READ transaction that updates a row another session changed after its
/// snapshot fails with a serialization error; the transaction is aborted until it ends.
#[test]
fn a_serialization_failure_aborts_the_transaction_until_it_ends() {
    let db = Database::open_in_memory().unwrap();
    let mut session = db.session();
    let mut rival = db.session();
    session
        .execute("CREATE TABLE c (id INT PRIMARY KEY, n INT); INSERT INTO c VALUES (1, 0)")
        .unwrap();

    let options = TransactionOptions::new().isolation(IsolationLevel::RepeatableRead);
    let mut txn = session.transaction_with(options).unwrap();
    assert_eq!(
        txn.query_row("SELECT n FROM c WHERE id = 1", params![], |row| row
            .get::<i64>(0))
            .unwrap(),
        0
    );
    rival
        .execute("UPDATE c SET n = n + 10 WHERE id = 1")
        .unwrap();
    let error = txn
        .execute("UPDATE c SET n = n + 1 WHERE id = 1")
        .unwrap_err();
    assert!(error.is_retryable(), "{error:?}");
    assert_eq!(error.sqlstate(), "40001");
    assert!(matches!(
        txn.execute("SELECT 1"),
        Err(Error::TransactionAborted(_))
    ));
    assert!(matches!(txn.commit(), Err(Error::TransactionAborted(_))));
    assert!(!session.in_transaction());
    assert_eq!(
        session
            .query_row("SELECT n FROM c WHERE id = 1", params![], |row| row
                .get::<i64>(0))
            .unwrap(),
        10
    );
}

#[test]
fn run_transaction_retries_serialization_failures_and_nothing_else() {
    let db = Database::open_in_memory().unwrap();
    let mut session = db.session();
    let mut rival = db.session();
    session
        .execute("CREATE TABLE c (id INT PRIMARY KEY, n INT); INSERT INTO c VALUES (1, 0)")
        .unwrap();

    // The rival changes the row inside the first two attempts, after their snapshot.
    let options = TransactionOptions::new().isolation(IsolationLevel::RepeatableRead);
    let mut attempts = 0;
    let n = session
        .run_transaction(options, |txn| {
            attempts += 1;
            txn.execute("SELECT n FROM c")?;
            if attempts <= 2 {
                rival.execute("UPDATE c SET n = n + 10 WHERE id = 1")?;
            }
            txn.execute("UPDATE c SET n = n + 1 WHERE id = 1")?;
            txn.query_row("SELECT n FROM c WHERE id = 1", params![], |row| row.get(0))
        })
        .unwrap();
    assert_eq!((attempts, n), (3, 21i64));

    // A conflict on every attempt gives up after `max_attempts`, with the last error.
    let mut attempts = 0;
    let error = session
        .run_transaction(options.max_attempts(2), |txn| {
            attempts += 1;
            txn.execute("SELECT n FROM c")?;
            rival.execute("UPDATE c SET n = n + 10 WHERE id = 1")?;
            txn.execute("UPDATE c SET n = n + 1 WHERE id = 1")
        })
        .unwrap_err();
    assert!(error.is_retryable());
    assert_eq!(attempts, 2);

    // Other errors are returned at once, after one attempt, and roll back.
    let mut attempts = 0;
    let error = session
        .run_transaction(TransactionOptions::new(), |txn| {
            attempts += 1;
            txn.execute("UPDATE c SET n = 0")?;
            txn.execute("INSERT INTO c VALUES (1, 1)")
        })
        .unwrap_err();
    assert!(matches!(error, Error::Constraint(_)), "{error:?}");
    assert_eq!(attempts, 1);
    assert!(!session.in_transaction());
    assert_eq!(
        session
            .query_row("SELECT n FROM c", params![], |row| row.get::<i64>(0))
            .unwrap(),
        41
    );
}

#[test]
fn a_read_only_transaction_refuses_writes_and_reads() {
    let db = Database::open_in_memory().unwrap();
    let mut session = db.session();
    session
        .execute("CREATE TABLE t (x INT); INSERT INTO t VALUES (1)")
        .unwrap();
    let mut txn = session
        .transaction_with(TransactionOptions::new().read_only(true))
        .unwrap();
    assert_eq!(
        txn.query_row("SELECT x FROM t", params![], |row| row.get::<i64>(0))
            .unwrap(),
        1
    );
    txn.rollback().unwrap();
    for write in [
        "INSERT INTO t VALUES (2)",
        "UPDATE t SET x = 2",
        "DELETE FROM t",
        "CREATE TABLE u (y INT)",
        "DROP TABLE t",
        "CREATE INDEX t_x ON t (x)",
        "COPY t FROM '/nonexistent/t.csv'",
    ] {
        let mut txn = session
            .transaction_with(TransactionOptions::new().read_only(true))
            .unwrap();
        let error = txn.execute(write).unwrap_err();
        assert_eq!(error.sqlstate(), "25006", "{write}: {error}");
        assert!(
            error.to_string().contains("read-only transaction"),
            "{error}"
        );
    }
    assert_eq!(count(&mut session, "t"), 1);
    // The next transaction is read-write again.
    let mut txn = session.transaction().unwrap();
    txn.execute("INSERT INTO t VALUES (2)").unwrap();
    txn.commit().unwrap();
    assert_eq!(count(&mut session, "t"), 2);
}

#[test]
fn a_second_open_of_a_file_shares_the_open_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let first = Database::open(&path).unwrap();
    first.session().execute("CREATE TABLE t (x INT)").unwrap();
    // The same file by another spelling of its path.
    let again = Database::open(dir.path().join(".").join("app.db")).unwrap();
    again.session().execute("INSERT INTO t VALUES (1)").unwrap();
    assert_eq!(count(&mut first.session(), "t"), 1);

    // Other options than the open database's are a clear error.
    let options = DatabaseOptions {
        durability: Durability::Off,
        ..DatabaseOptions::default()
    };
    let error = Database::open_with(&path, options).unwrap_err();
    assert!(error.to_string().contains("already open"), "{error}");

    // Once every handle is gone the file can be opened again, with any options.
    drop(first);
    drop(again);
    let reopened = Database::open_with(&path, options).unwrap();
    assert_eq!(count(&mut reopened.session(), "t"), 1);
}

#[test]
fn threads_opening_one_file_at_once_get_one_database() {
    const THREADS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let path = Arc::new(dir.path().join("shared.db"));
    Database::open(path.as_path())
        .unwrap()
        .session()
        .execute("CREATE TABLE t (id INT PRIMARY KEY)")
        .unwrap();
    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|id| {
            let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                // Some open while others drop theirs: every open must succeed.
                for round in 0..5 {
                    let db = Database::open(path.as_path()).unwrap();
                    let key = (id * 100 + round) as i64;
                    db.session()
                        .query("INSERT INTO t VALUES ($1)", params![key])
                        .unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let db = Database::open(path.as_path()).unwrap();
    assert_eq!(count(&mut db.session(), "t"), (THREADS * 5) as i64);
}

#[test]
fn memory_databases_leave_no_file_and_are_separate() {
    let first = Database::open(hdb::MEMORY_PATH).unwrap();
    let second = Database::open_in_memory().unwrap();
    assert!(!Path::new(hdb::MEMORY_PATH).exists());
    first.session().execute("CREATE TABLE t (x INT)").unwrap();
    assert!(matches!(
        second.session().execute("SELECT * FROM t"),
        Err(Error::UnknownName(_))
    ));
    assert!(first.engine().path().as_os_str().is_empty());
}

/// Enough writes for the log to pass its checkpoint size many times over: the log in
/// memory rotates and truncates like one on disk, and nothing is lost.
#[test]
fn a_memory_database_checkpoints_and_keeps_every_row() {
    let options = DatabaseOptions {
        checkpoint_bytes: 64 << 10,
        wal_segment_bytes: 32 << 10,
        ..DatabaseOptions::default()
    };
    let db = Database::open_in_memory_with(options).unwrap();
    let mut session = db.session();
    session
        .execute("CREATE TABLE t (id INT PRIMARY KEY, body TEXT)")
        .unwrap();
    let rows = 2_000;
    let insert = session.prepare("INSERT INTO t VALUES ($1, $2)").unwrap();
    for id in 0..rows {
        session
            .execute_prepared(&insert, params![id, "x".repeat(100)])
            .unwrap();
    }
    db.engine().checkpoint().unwrap();
    session.execute("DELETE FROM t WHERE id % 2 = 0").unwrap();
    assert_eq!(count(&mut session, "t"), i64::from(rows / 2));
    assert!(db.engine().check_integrity().is_ok());
}

#[test]
fn unnamed_columns_are_named_as_postgresql_names_them() {
    let db = Database::open_in_memory().unwrap();
    let mut session = db.session();
    session
        .execute("CREATE TABLE t (a INT, b TEXT); INSERT INTO t VALUES (1, 'x')")
        .unwrap();
    let result = session
        .execute("SELECT count(*), sum(a), a + 1, b, t.a, a::text, upper(b), 1 AS one FROM t GROUP BY a, b")
        .unwrap();
    assert_eq!(
        result.columns(),
        ["count", "sum", "?column?", "b", "a", "a", "upper", "one"]
    );
    let n: i64 = result.rows()[0].get("count").unwrap();
    assert_eq!(n, 1);
}
