//! Streaming results through `hdb::Session::query_iter`: rows come as the query produces
//! them, a LIMIT stops the scan below it, and a result dropped half-read ends its
//! statement (releasing an autocommit transaction, leaving an explicit one open).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hdb::{Database, Error, Value};

/// Rows in the test table: enough that reading them all is far from reading ten.
const ROWS: i64 = 20_000;

fn open_with_table() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("stream.db")).unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, name TEXT)")
        .unwrap();
    let insert = s.prepare("INSERT INTO t VALUES ($1, $2, $3)").unwrap();
    s.execute("BEGIN").unwrap();
    for i in 0..ROWS {
        s.execute_prepared(
            &insert,
            &[
                Value::Int(i),
                Value::Int(i % 7),
                Value::Text(format!("n{i}")),
            ],
        )
        .unwrap();
    }
    s.execute("COMMIT").unwrap();
    (dir, db)
}

#[test]
fn rows_come_one_by_one_and_collect_into_a_vec() {
    let (_dir, db) = open_with_table();
    let mut s = db.session();
    let mut rows = s
        .query_iter(
            "SELECT id, name FROM t WHERE v = $1 ORDER BY id",
            &[Value::Int(3)],
        )
        .unwrap();
    assert_eq!(rows.columns(), ["id", "name"]);
    let first = rows.next().unwrap().unwrap();
    assert_eq!(first.get::<i64>("id").unwrap(), 3);
    assert_eq!(rows.rows_affected(), 1);
    let rest: Vec<hdb::Row> = rows.collect::<hdb::Result<_>>().unwrap();
    assert_eq!(rest.len(), (0..ROWS).filter(|i| i % 7 == 3).count() - 1);
    // Collecting is one call, and gives what the collected API gives.
    let all = s
        .query_iter("SELECT id FROM t WHERE id < 5", &[])
        .unwrap()
        .collect_result()
        .unwrap();
    assert_eq!(all, s.query("SELECT id FROM t WHERE id < 5", &[]).unwrap());
    assert_eq!(all.tag(), "SELECT 5");
}

#[test]
fn a_limit_stops_the_scan_below_it() {
    let (_dir, db) = open_with_table();
    let mut s = db.session();
    let mut rows = s.query_iter("SELECT * FROM t LIMIT 10", &[]).unwrap();
    let mut n = 0;
    for row in rows.by_ref() {
        row.unwrap();
        n += 1;
    }
    assert_eq!(n, 10);
    let read = rows.rows_read();
    assert!(
        (10..1_000).contains(&read),
        "LIMIT 10 read {read} of {ROWS} rows"
    );
    drop(rows);
    // A filter below the limit reads until it has found enough.
    let mut rows = s
        .query_iter("SELECT id FROM t WHERE v = 0 LIMIT 10", &[])
        .unwrap();
    assert_eq!(rows.by_ref().count(), 10);
    assert!(rows.rows_read() < 1_000, "read {}", rows.rows_read());
    drop(rows);
    // Without a limit every row is read.
    let mut rows = s.query_iter("SELECT count(*) FROM t", &[]).unwrap();
    assert_eq!(rows.by_ref().count(), 1);
    assert_eq!(rows.rows_read(), ROWS as u64);
}

#[test]
fn dropping_a_half_read_result_releases_its_autocommit_transaction() {
    let (_dir, db) = open_with_table();
    let mut reader = db.session();
    let mut writer = db.session();
    let mut rows = reader.query_iter("SELECT id FROM t", &[]).unwrap();
    rows.next().unwrap().unwrap();
    // While the reader's snapshot is held, an overwritten version must be kept.
    writer.execute("UPDATE t SET v = 100 WHERE id = 1").unwrap();
    assert_eq!(db.engine().mvcc().vacuum().unwrap(), 0);
    drop(rows);
    // The reader's transaction is gone with its result: the old version can go.
    assert!(db.engine().mvcc().vacuum().unwrap() > 0);
    assert!(!reader.in_transaction());
    assert_eq!(
        reader
            .query("SELECT v FROM t WHERE id = 1", &[])
            .unwrap()
            .rows()[0]
            .get::<i64>(0)
            .unwrap(),
        100
    );
}

#[test]
fn dropping_a_half_read_result_keeps_an_explicit_transaction() {
    let (_dir, db) = open_with_table();
    let mut s = db.session();
    s.execute("BEGIN").unwrap();
    s.execute("INSERT INTO t VALUES (-1, 0, 'new')").unwrap();
    {
        let mut rows = s.query_iter("SELECT id FROM t ORDER BY id", &[]).unwrap();
        assert_eq!(rows.next().unwrap().unwrap().get::<i64>(0).unwrap(), -1);
    }
    assert!(s.in_transaction());
    s.execute("COMMIT").unwrap();
    let mut other = db.session();
    let count = other.query("SELECT count(*) FROM t", &[]).unwrap();
    assert_eq!(count.rows()[0].get::<i64>(0).unwrap(), ROWS + 1);
}

#[test]
fn an_error_while_rows_stream_ends_the_statement_like_any_error() {
    let (_dir, db) = open_with_table();
    let mut s = db.session();
    s.execute("BEGIN").unwrap();
    // Division by zero at the row with v = 0 that comes after some good rows.
    let mut rows = s
        .query_iter("SELECT 10 / (id - 100) FROM t ORDER BY id DESC", &[])
        .unwrap();
    let mut ok = 0;
    let error = loop {
        match rows.next() {
            Some(Ok(_)) => ok += 1,
            Some(Err(e)) => break e,
            None => panic!("no error"),
        }
    };
    assert!(ok > 0);
    assert!(matches!(error, Error::Data(_)), "{error}");
    assert!(rows.next().is_none(), "rows after the error");
    drop(rows);
    // PostgreSQL's rule: the explicit transaction is aborted until ROLLBACK.
    assert!(matches!(
        s.execute("SELECT 1"),
        Err(Error::TransactionAborted(_))
    ));
    s.execute("ROLLBACK").unwrap();
    s.execute("SELECT 1").unwrap();
}

#[test]
fn statements_other_than_queries_run_before_their_rows_are_returned() {
    let (_dir, db) = open_with_table();
    let mut s = db.session();
    let rows = s
        .query_iter("UPDATE t SET v = 0 WHERE id < 10", &[])
        .unwrap();
    assert!(rows.columns().is_empty());
    assert_eq!(rows.tag(), "UPDATE 10");
    drop(rows);
    // Several statements: all but the last run to completion, the last streams.
    let mut rows = s
        .query_iter(
            "INSERT INTO t VALUES (-5, 1, 'x'); SELECT name FROM t WHERE id = -5",
            &[],
        )
        .unwrap();
    assert_eq!(rows.next().unwrap().unwrap().get::<String>(0).unwrap(), "x");
}
