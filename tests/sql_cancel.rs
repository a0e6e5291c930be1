//! Stopping a running statement: `hdb::Session::cancel_handle()` from another thread,
//! and `SET statement_timeout`. Each long statement — a long scan, a long hash join, a
//! long sort, the scan under an INSERT ... SELECT — fails with SQLSTATE 57014 and the
//! session goes on as after any failed statement (an explicit transaction is aborted
//! until ROLLBACK; a cancelled write leaves nothing behind).
//!
//! The statements here would run for minutes if nothing stopped them; the tests assert
//! only that they stop, never how fast.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use hdb::{Database, Error, Session};

/// Long statements: each reads or produces hundreds of millions of rows.
const LONG_SCAN: &str = "SELECT count(*) FROM d a, d b, d c, d e, d f, d g, d h, d i, d j";
const LONG_HASH_JOIN: &str = "SELECT count(*) FROM t a JOIN t b ON a.v = b.v";
const LONG_SORT: &str = "SELECT a.i FROM d a, d b, d c, d e, d f, d g, d h, d i ORDER BY 1";
const LONG_INSERT: &str = "INSERT INTO sink SELECT a.i FROM d a, d b, d c, d e, d f, d g, d h, d i";

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("cancel.db")).unwrap();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE d (i INTEGER);
         INSERT INTO d VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);
         CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);
         INSERT INTO t SELECT a.i * 1000 + b.i * 100 + c.i * 10 + e.i, a.i
           FROM d a, d b, d c, d e;
         CREATE TABLE sink (i INTEGER)",
    )
    .unwrap();
    (dir, db)
}

/// Runs `sql` in `session` while another thread cancels it over and over (so a cancel
/// that comes before the statement starts, and so is forgotten, is followed by more).
fn run_cancelled(session: &mut Session, sql: &str) -> hdb::Result<hdb::QueryResult> {
    let handle = session.cancel_handle();
    let done = Arc::new(AtomicBool::new(false));
    let canceller = {
        let done = Arc::clone(&done);
        thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(20));
                handle.cancel();
            }
        })
    };
    let result = session.query(sql, &[]);
    done.store(true, Ordering::SeqCst);
    canceller.join().unwrap();
    result
}

fn assert_cancelled(result: hdb::Result<hdb::QueryResult>, why: &str) {
    match result {
        Err(e @ Error::Cancelled(_)) => {
            assert_eq!(e.sqlstate(), "57014");
            assert_eq!(e.to_string(), format!("canceling statement due to {why}"));
        }
        other => panic!("expected a cancelled statement, got {other:?}"),
    }
}

#[test]
fn another_thread_cancels_a_long_scan_hash_join_and_sort() {
    let (_dir, db) = open();
    let mut s = db.session();
    for sql in [LONG_SCAN, LONG_HASH_JOIN, LONG_SORT] {
        assert_cancelled(run_cancelled(&mut s, sql), "user request");
        // The session goes on; a cancel while nothing runs changes nothing.
        s.cancel_handle().cancel();
        let count = s.query("SELECT count(*) FROM t", &[]).unwrap();
        assert_eq!(
            count.rows()[0].get::<i64>(0).unwrap(),
            10_000,
            "after {sql}"
        );
    }
}

#[test]
fn a_cancelled_write_leaves_nothing_and_aborts_its_transaction() {
    let (_dir, db) = open();
    let mut s = db.session();
    assert_cancelled(run_cancelled(&mut s, LONG_INSERT), "user request");
    let count = s.query("SELECT count(*) FROM sink", &[]).unwrap();
    assert_eq!(count.rows()[0].get::<i64>(0).unwrap(), 0);

    s.execute("BEGIN").unwrap();
    s.execute("INSERT INTO sink VALUES (1)").unwrap();
    assert_cancelled(run_cancelled(&mut s, LONG_SCAN), "user request");
    assert!(matches!(
        s.execute("SELECT 1"),
        Err(Error::TransactionAborted(_))
    ));
    s.execute("ROLLBACK").unwrap();
    let count = s.query("SELECT count(*) FROM sink", &[]).unwrap();
    assert_eq!(count.rows()[0].get::<i64>(0).unwrap(), 0);
}

#[test]
fn a_cancel_stops_rows_being_streamed() {
    let (_dir, db) = open();
    let mut s = db.session();
    let handle = s.cancel_handle();
    let mut rows = s
        .query_iter(
            "SELECT a.i FROM d a, d b, d c, d e, d f, d g, d h, d i",
            &[],
        )
        .unwrap();
    rows.next().unwrap().unwrap();
    handle.cancel();
    let error = rows
        .find_map(Result::err)
        .expect("the rows ran out instead of stopping");
    assert!(matches!(error, Error::Cancelled(_)), "{error}");
    drop(rows);
    s.execute("SELECT 1").unwrap();
}

#[test]
fn statement_timeout_cancels_long_statements() {
    let (_dir, db) = open();
    let mut s = db.session();
    let show = |s: &mut Session| -> String {
        let result = s.query("SHOW statement_timeout", &[]).unwrap();
        result.rows()[0].get::<String>(0).unwrap()
    };
    assert_eq!(show(&mut s), "0");
    s.execute("SET statement_timeout = '50ms'").unwrap();
    assert_eq!(show(&mut s), "50ms");
    for sql in [LONG_SCAN, LONG_HASH_JOIN, LONG_SORT, LONG_INSERT] {
        assert_cancelled(s.query(sql, &[]), "statement timeout");
    }
    // Short statements run as before.
    let count = s.query("SELECT count(*) FROM t", &[]).unwrap();
    assert_eq!(count.rows()[0].get::<i64>(0).unwrap(), 10_000);

    // Inside a transaction that rolls back, SET is undone with it (as in PostgreSQL).
    s.execute("BEGIN").unwrap();
    s.execute("SET statement_timeout TO 2000").unwrap();
    assert_eq!(show(&mut s), "2s");
    s.execute("ROLLBACK").unwrap();
    assert_eq!(show(&mut s), "50ms");
    s.execute("BEGIN").unwrap();
    s.execute("SET statement_timeout = '1min'").unwrap();
    s.execute("COMMIT").unwrap();
    assert_eq!(show(&mut s), "1min");
    s.execute("RESET statement_timeout").unwrap();
    assert_eq!(show(&mut s), "0");

    // A bad value is an error and changes nothing.
    assert!(matches!(
        s.execute("SET statement_timeout = 'soon'"),
        Err(Error::Data(_))
    ));
    assert_eq!(show(&mut s), "0");
}
