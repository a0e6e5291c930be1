//! SERIALIZABLE through SQL, with PostgreSQL 15's outcomes (each history was run against
//! PostgreSQL 15 with two or three sessions; the comments give its answers): Hermitage's
//! write skew (G2-item), anti-dependency cycles over predicates (G2), circular
//! information flow (G1c) and G2 with two edges fail with 40001; BEGIN, START
//! TRANSACTION, SET TRANSACTION, SET SESSION CHARACTERISTICS and
//! `default_transaction_isolation` choose the level; READ ONLY DEFERRABLE waits for a
//! safe snapshot; `run_transaction` retries the failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use hdb::{Database, IsolationLevel, Session, TransactionOptions};

mod support;
use support::{rows, setup, table};

fn begin(db: &Database, sql: &str) -> Session {
    let mut session = db.session();
    session.execute(sql).unwrap();
    session
}

fn show(session: &mut Session, sql: &str) -> String {
    session.execute(sql).unwrap().rows()[0]
        .get::<String>(0)
        .unwrap()
}

fn assert_40001(result: hdb::Result<hdb::QueryResult>) {
    let error = result.unwrap_err();
    assert_eq!(error.sqlstate(), "40001", "{error}");
    assert!(error.is_retryable());
}

const SER: &str = "BEGIN ISOLATION LEVEL SERIALIZABLE";

#[test]
fn g2_item_write_skew_fails_with_40001() {
    let db = setup();
    let (mut t1, mut t2) = (begin(&db, SER), begin(&db, SER));
    assert_eq!(
        rows(&mut t1, "SELECT * FROM test WHERE id IN (1, 2) ORDER BY id"),
        [(1, 10), (2, 20)]
    );
    assert_eq!(
        rows(&mut t2, "SELECT * FROM test WHERE id IN (1, 2) ORDER BY id"),
        [(1, 10), (2, 20)]
    );
    t1.execute("UPDATE test SET value = 11 WHERE id = 1")
        .unwrap();
    t2.execute("UPDATE test SET value = 21 WHERE id = 2")
        .unwrap();
    t1.execute("COMMIT").unwrap();
    // PostgreSQL: ERROR: could not serialize access due to read/write dependencies
    // among transactions (40001), at T2's COMMIT.
    assert_40001(t2.execute("COMMIT"));
    assert_eq!(table(&db), [(1, 11), (2, 20)]);
}

#[test]
fn g2_predicate_cycles_fail_with_40001() {
    let db = setup();
    let (mut t1, mut t2) = (begin(&db, SER), begin(&db, SER));
    assert_eq!(rows(&mut t1, "SELECT * FROM test WHERE value % 3 = 0"), []);
    assert_eq!(rows(&mut t2, "SELECT * FROM test WHERE value % 3 = 0"), []);
    t1.execute("INSERT INTO test (id, value) VALUES (3, 30)")
        .unwrap();
    t2.execute("INSERT INTO test (id, value) VALUES (4, 42)")
        .unwrap();
    t1.execute("COMMIT").unwrap();
    // PostgreSQL: 40001 at T2's COMMIT.
    assert_40001(t2.execute("COMMIT"));
    assert_eq!(table(&db), [(1, 10), (2, 20), (3, 30)]);
}

#[test]
fn g1c_and_g2_two_edges_fail_with_40001() {
    let db = setup();
    let (mut t1, mut t2) = (begin(&db, SER), begin(&db, SER));
    t1.execute("UPDATE test SET value = 11 WHERE id = 1")
        .unwrap();
    t2.execute("UPDATE test SET value = 22 WHERE id = 2")
        .unwrap();
    assert_eq!(rows(&mut t1, "SELECT * FROM test WHERE id = 2"), [(2, 20)]);
    assert_eq!(rows(&mut t2, "SELECT * FROM test WHERE id = 1"), [(1, 10)]);
    t1.execute("COMMIT").unwrap();
    // PostgreSQL: 40001 at T2's COMMIT.
    assert_40001(t2.execute("COMMIT"));

    let db = setup();
    let mut t1 = begin(&db, SER);
    assert_eq!(
        rows(&mut t1, "SELECT * FROM test ORDER BY id"),
        [(1, 10), (2, 20)]
    );
    let mut t2 = begin(&db, SER);
    t2.execute("UPDATE test SET value = value + 5 WHERE id = 2")
        .unwrap();
    t2.execute("COMMIT").unwrap();
    let mut t3 = begin(&db, SER);
    assert_eq!(
        rows(&mut t3, "SELECT * FROM test ORDER BY id"),
        [(1, 10), (2, 25)]
    );
    t3.execute("COMMIT").unwrap();
    // PostgreSQL fails T1's UPDATE with 40001; hdb finds the conflict at T1's COMMIT.
    t1.execute("UPDATE test SET value = 0 WHERE id = 1")
        .unwrap();
    assert_40001(t1.execute("COMMIT"));
    assert_eq!(table(&db), [(1, 10), (2, 25)]);
}

/// Write skew under each way of choosing SERIALIZABLE; `begin` opens the transaction.
fn write_skew_fails(db: &Database, begin: impl Fn(&mut Session)) {
    let (mut t1, mut t2) = (db.session(), db.session());
    begin(&mut t1);
    begin(&mut t2);
    assert_eq!(show(&mut t1, "SHOW transaction_isolation"), "serializable");
    rows(&mut t1, "SELECT * FROM test");
    rows(&mut t2, "SELECT * FROM test");
    t1.execute("UPDATE test SET value = value - 100 WHERE id = 1")
        .unwrap();
    t2.execute("UPDATE test SET value = value - 100 WHERE id = 2")
        .unwrap();
    t1.execute("COMMIT").unwrap();
    assert_40001(t2.execute("COMMIT"));
    t1.execute("UPDATE test SET value = value + 100 WHERE id = 1")
        .unwrap();
}

#[test]
fn every_way_of_choosing_serializable_gives_it() {
    let db = setup();
    write_skew_fails(&db, |s| {
        s.execute("START TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            .unwrap();
    });
    write_skew_fails(&db, |s| {
        s.execute("BEGIN").unwrap();
        s.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            .unwrap();
    });
    write_skew_fails(&db, |s| {
        s.execute("SET default_transaction_isolation = 'serializable'")
            .unwrap();
        assert_eq!(
            show(s, "SHOW default_transaction_isolation"),
            "serializable"
        );
        s.execute("BEGIN").unwrap();
    });
    write_skew_fails(&db, |s| {
        s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            .unwrap();
        s.execute("BEGIN").unwrap();
    });
    write_skew_fails(&db, |s| {
        s.execute("BEGIN ISOLATION LEVEL SERIALIZABLE, READ WRITE, NOT DEFERRABLE")
            .unwrap();
    });
    // What autocommit statements and BEGIN get by default, as in PostgreSQL.
    let mut s = db.session();
    assert_eq!(show(&mut s, "SHOW transaction_isolation"), "read committed");
    s.execute("SET default_transaction_isolation = 'repeatable read'")
        .unwrap();
    assert_eq!(
        show(&mut s, "SHOW TRANSACTION ISOLATION LEVEL"),
        "repeatable read"
    );
    s.execute("RESET default_transaction_isolation").unwrap();
    assert_eq!(
        show(&mut s, "SHOW default_transaction_isolation"),
        "read committed"
    );
    // PostgreSQL: ERROR: invalid value for parameter "default_transaction_isolation".
    assert!(
        s.execute("SET default_transaction_isolation = 'bogus'")
            .is_err()
    );
}

#[test]
fn set_transaction_after_the_first_query_fails_with_25001() {
    let db = setup();
    let mut s = db.session();
    s.execute("BEGIN").unwrap();
    rows(&mut s, "SELECT * FROM test");
    // PostgreSQL: ERROR: SET TRANSACTION ISOLATION LEVEL must be called before any
    // query (25001); the transaction is aborted.
    let error = s
        .execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        .unwrap_err();
    assert_eq!(error.sqlstate(), "25001", "{error}");
    assert_eq!(s.execute("SELECT 1").unwrap_err().sqlstate(), "25P02");
    s.execute("ROLLBACK").unwrap();
    // READ ONLY may still be set; READ WRITE may not (PostgreSQL's rules).
    s.execute("BEGIN").unwrap();
    rows(&mut s, "SELECT * FROM test");
    s.execute("SET TRANSACTION READ ONLY").unwrap();
    let error = s.execute("INSERT INTO test VALUES (9, 9)").unwrap_err();
    assert_eq!(error.sqlstate(), "25006", "{error}");
    s.execute("ROLLBACK").unwrap();
    s.execute("BEGIN READ ONLY").unwrap();
    rows(&mut s, "SELECT * FROM test");
    let error = s.execute("SET TRANSACTION READ WRITE").unwrap_err();
    assert_eq!(error.sqlstate(), "25001", "{error}");
    s.execute("ROLLBACK").unwrap();
    // Outside a transaction block it does nothing (PostgreSQL warns).
    s.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        .unwrap();
    assert_eq!(show(&mut s, "SHOW transaction_isolation"), "read committed");
}

#[test]
fn read_only_deferrable_waits_for_a_safe_snapshot() {
    let db = setup();
    let mut writer = begin(&db, SER);
    rows(&mut writer, "SELECT * FROM test WHERE id = 1");
    let reader = {
        let db = db.clone();
        std::thread::spawn(move || {
            let mut s = begin(
                &db,
                "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE",
            );
            let seen = rows(&mut s, "SELECT * FROM test ORDER BY id");
            let refused = s.execute("UPDATE test SET value = 0").unwrap_err();
            assert_eq!(refused.sqlstate(), "25006", "{refused}");
            s.execute("ROLLBACK").unwrap();
            seen
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !reader.is_finished(),
        "the reader waits while a serializable writer is active"
    );
    writer
        .execute("UPDATE test SET value = 11 WHERE id = 1")
        .unwrap();
    writer.execute("COMMIT").unwrap();
    // The snapshot it took before the writer committed proved safe.
    assert_eq!(reader.join().unwrap(), [(1, 10), (2, 20)]);
}

#[test]
fn run_transaction_retries_write_skew_until_the_invariant_holds() {
    // Two accounts whose sum must stay >= 0; each withdrawal checks the sum. Under
    // SERIALIZABLE, with retries, 4 sessions never overdraw.
    let db = Database::open_in_memory().unwrap();
    db.session()
        .execute(
            "CREATE TABLE account (id INT PRIMARY KEY, balance INT);
             INSERT INTO account VALUES (1, 50), (2, 50)",
        )
        .unwrap();
    let options = TransactionOptions::new()
        .isolation(IsolationLevel::Serializable)
        .max_attempts(1000);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut s = db.session();
                for i in 0..25 {
                    let id = 1 + (t + i) % 2;
                    s.run_transaction(options, |txn| {
                        let sum: i64 =
                            txn.execute("SELECT sum(balance) FROM account")?.rows()[0].get(0)?;
                        if sum >= 10 {
                            txn.execute(&format!(
                                "UPDATE account SET balance = balance - 10 WHERE id = {id}"
                            ))?;
                        }
                        Ok(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let sum: i64 = db
        .session()
        .execute("SELECT sum(balance) FROM account")
        .unwrap()
        .rows()[0]
        .get(0)
        .unwrap();
    assert_eq!(sum, 0, "100 withdrawals of 10 from 100: exactly 10 succeed");
}
