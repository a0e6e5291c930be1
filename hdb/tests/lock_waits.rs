//! Waiting writers through SQL, with PostgreSQL 15's outcomes (each scenario was run
//! against PostgreSQL 15 with two or three psql sessions; the comments give its
//! answers): a write that meets a row another transaction has written or locked waits
//! for it; then, if that one rolled back, it proceeds; if it committed, READ COMMITTED
//! re-checks the statement's condition on the newest row (EvalPlanQual) and REPEATABLE
//! READ fails with 40001. Deadlocks lose one victim (40P01); `lock_timeout` (55P03),
//! `statement_timeout` and cancellation (57014) end a wait.
//!
//! A blocking statement runs on a thread of its own; the test knows it has blocked when
//! the engine's lock table counts it as a waiter, never by sleeping for a guessed time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdb::{Database, Error, QueryResult, Session};

mod support;
use support::{setup, table};

fn waiters(db: &Database) -> usize {
    db.engine().lock_waiters()
}

/// Runs `sql` in `session` on a thread of its own and returns once it waits for a lock
/// (the lock table counts `waiting` waiters).
fn blocked(
    db: &Database,
    waiting: usize,
    mut session: Session,
    sql: &'static str,
) -> JoinHandle<(Session, hdb::Result<QueryResult>)> {
    let handle = std::thread::spawn(move || {
        let result = session.execute(sql);
        (session, result)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while waiters(db) < waiting {
        assert!(!handle.is_finished(), "{sql} did not block");
        assert!(Instant::now() < deadline, "{sql} never blocked");
        std::thread::sleep(Duration::from_millis(1));
    }
    handle
}

fn begin(db: &Database, level: &str) -> Session {
    let mut session = db.session();
    session
        .execute(&format!("BEGIN ISOLATION LEVEL {level}"))
        .unwrap();
    session
}

#[test]
fn read_committed_waits_then_updates_the_committed_row() {
    let db = setup();
    let mut t1 = begin(&db, "READ COMMITTED");
    let t2 = begin(&db, "READ COMMITTED");
    t1.execute("UPDATE test SET value = value + 1 WHERE id = 1")
        .unwrap();
    let t2 = blocked(&db, 1, t2, "UPDATE test SET value = value + 1 WHERE id = 1");
    t1.execute("COMMIT").unwrap();
    let (mut t2, updated) = t2.join().unwrap();
    // PostgreSQL: UPDATE 1, and no update is lost.
    assert_eq!(updated.unwrap().rows_affected(), 1);
    t2.execute("COMMIT").unwrap();
    assert_eq!(table(&db), [(1, 12), (2, 20)]);
}

#[test]
fn read_committed_rechecks_the_condition_on_the_newest_row() {
    // Hermitage PMP-write: PostgreSQL deletes nothing, 20 having become 30.
    let db = setup();
    let mut t1 = begin(&db, "READ COMMITTED");
    let t2 = begin(&db, "READ COMMITTED");
    t1.execute("UPDATE test SET value = value + 10").unwrap();
    let t2 = blocked(&db, 1, t2, "DELETE FROM test WHERE value = 20");
    t1.execute("COMMIT").unwrap();
    let (mut t2, deleted) = t2.join().unwrap();
    assert_eq!(deleted.unwrap().rows_affected(), 0);
    t2.execute("COMMIT").unwrap();
    assert_eq!(table(&db), [(1, 20), (2, 30)]);

    // A row that no longer matches is left alone: PostgreSQL says UPDATE 0.
    let db = setup();
    let mut t1 = begin(&db, "READ COMMITTED");
    let t2 = begin(&db, "READ COMMITTED");
    t1.execute("UPDATE test SET value = 11 WHERE id = 1")
        .unwrap();
    let t2 = blocked(
        &db,
        1,
        t2,
        "UPDATE test SET value = value * 2 WHERE value = 10",
    );
    t1.execute("COMMIT").unwrap();
    let (mut t2, updated) = t2.join().unwrap();
    assert_eq!(updated.unwrap().rows_affected(), 0);
    t2.execute("COMMIT").unwrap();
    assert_eq!(table(&db), [(1, 11), (2, 20)]);

    // A row that still matches is updated from its newest values: PostgreSQL returns
    // (1, 22), (2, 40).
    let db = setup();
    let mut t1 = begin(&db, "READ COMMITTED");
    let t2 = begin(&db, "READ COMMITTED");
    t1.execute("UPDATE test SET value = value + 1 WHERE id = 1")
        .unwrap();
    let t2 = blocked(
        &db,
        1,
        t2,
        "UPDATE test SET value = value * 2 WHERE value >= 10 RETURNING id, value",
    );
    t1.execute("COMMIT").unwrap();
    let (mut t2, updated) = t2.join().unwrap();
    let updated = updated.unwrap();
    let mut returned: Vec<(i64, i64)> = updated
        .rows()
        .iter()
        .map(|r| (r.get::<i64>(0).unwrap(), r.get::<i64>(1).unwrap()))
        .collect();
    returned.sort_unstable();
    assert_eq!(returned, [(1, 22), (2, 40)]);
    t2.execute("COMMIT").unwrap();
    assert_eq!(table(&db), [(1, 22), (2, 40)]);
}

#[test]
fn read_committed_skips_a_row_deleted_while_it_waited() {
    let db = setup();
    let mut t1 = begin(&db, "READ COMMITTED");
    let t2 = begin(&db, "READ COMMITTED");
    t1.execute("DELETE FROM test WHERE id = 1").unwrap();
    let t2 = blocked(&db, 1, t2, "UPDATE test SET value = 0 WHERE id = 1");
    t1.execute("COMMIT").unwrap();
    let (mut t2, updated) = t2.join().unwrap();
    // PostgreSQL: UPDATE 0.
    assert_eq!(updated.unwrap().rows_affected(), 0);
    t2.execute("COMMIT").unwrap();
    assert_eq!(table(&db), [(2, 20)]);
}

#[test]
fn repeatable_read_fails_after_a_commit_and_proceeds_after_a_rollback() {
    let db = setup();
    for commit in [false, true] {
        let mut t1 = begin(&db, "REPEATABLE READ");
        let t2 = begin(&db, "REPEATABLE READ");
        t1.execute("UPDATE test SET value = value + 1 WHERE id = 2")
            .unwrap();
        let t2 = blocked(&db, 1, t2, "UPDATE test SET value = value + 1 WHERE id = 2");
        t1.execute(if commit { "COMMIT" } else { "ROLLBACK" })
            .unwrap();
        let (mut t2, updated) = t2.join().unwrap();
        match commit {
            // PostgreSQL: could not serialize access due to concurrent update.
            true => {
                let error = updated.unwrap_err();
                assert_eq!(error.sqlstate(), "40001", "{error}");
                assert!(error.is_retryable());
                t2.execute("ROLLBACK").unwrap();
            }
            // PostgreSQL: UPDATE 1.
            false => {
                assert_eq!(updated.unwrap().rows_affected(), 1);
                t2.execute("COMMIT").unwrap();
            }
        }
    }
    assert_eq!(table(&db), [(1, 10), (2, 22)]);
}

#[test]
fn an_insert_waits_for_a_concurrent_insert_of_its_key() {
    for level in ["READ COMMITTED", "REPEATABLE READ"] {
        for commit in [false, true] {
            let db = setup();
            let mut t1 = begin(&db, level);
            let t2 = begin(&db, level);
            t1.execute("INSERT INTO test VALUES (3, 30)").unwrap();
            let t2 = blocked(&db, 1, t2, "INSERT INTO test VALUES (3, 31)");
            t1.execute(if commit { "COMMIT" } else { "ROLLBACK" })
                .unwrap();
            let (mut t2, inserted) = t2.join().unwrap();
            // PostgreSQL, at both levels: a duplicate key after a commit (23505), the
            // insert after a rollback.
            match commit {
                true => assert_eq!(inserted.unwrap_err().sqlstate(), "23505", "{level}"),
                false => {
                    inserted.unwrap();
                    t2.execute("COMMIT").unwrap();
                }
            }
        }
    }
}

/// Sessions that each update row i, then row i+1 (mod n): exactly one fails with
/// 40P01, and the others finish.
fn deadlock_of(n: i64) {
    let db = Database::open_in_memory().unwrap();
    let mut setup = db.session();
    setup
        .execute("CREATE TABLE test (id INT PRIMARY KEY, value INT)")
        .unwrap();
    for i in 0..n {
        setup
            .execute(&format!("INSERT INTO test VALUES ({i}, 0)"))
            .unwrap();
    }
    let mut sessions: Vec<Session> = (0..n).map(|_| db.session()).collect();
    for (i, session) in sessions.iter_mut().enumerate() {
        session.execute("SET deadlock_timeout = '20ms'").unwrap();
        session.execute("BEGIN").unwrap();
        session
            .execute(&format!("UPDATE test SET value = {i} WHERE id = {i}"))
            .unwrap();
    }
    let handles: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(i, mut session)| {
            let next = (i as i64 + 1) % n;
            std::thread::spawn(move || {
                let result =
                    session.execute(&format!("UPDATE test SET value = {i} WHERE id = {next}"));
                let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
                session.execute(end).unwrap();
                result.map(drop)
            })
        })
        .collect();
    let results: Vec<hdb::Result<()>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let victims: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(victims.len(), 1, "{results:?}");
    assert_eq!(victims[0].sqlstate(), "40P01");
    assert!(victims[0].is_retryable());
    assert!(victims[0].to_string().starts_with("deadlock detected"));
    assert_eq!(waiters(&db), 0);
}

#[test]
fn a_deadlock_of_two_sessions_fails_one_with_40p01() {
    deadlock_of(2);
}

#[test]
fn a_deadlock_of_three_sessions_fails_one_with_40p01() {
    deadlock_of(3);
}

#[test]
fn lock_timeout_ends_a_wait_with_55p03_and_aborts_the_transaction() {
    let db = setup();
    let mut t1 = begin(&db, "READ COMMITTED");
    let mut t2 = db.session();
    t2.execute("SET lock_timeout = '100ms'").unwrap();
    let shown = t2.execute("SHOW lock_timeout").unwrap();
    assert_eq!(shown.rows()[0].get::<String>(0).unwrap(), "100ms");
    let shown = t2.execute("SHOW deadlock_timeout").unwrap();
    assert_eq!(shown.rows()[0].get::<String>(0).unwrap(), "1s");
    t2.execute("BEGIN").unwrap();
    t1.execute("UPDATE test SET value = 11 WHERE id = 1")
        .unwrap();
    let error = t2
        .execute("UPDATE test SET value = 12 WHERE id = 1")
        .unwrap_err();
    // PostgreSQL: ERROR 55P03 canceling statement due to lock timeout; then 25P02.
    assert_eq!(error.sqlstate(), "55P03");
    assert_eq!(error.to_string(), "canceling statement due to lock timeout");
    assert_eq!(t2.execute("SELECT 1").unwrap_err().sqlstate(), "25P02");
    t2.execute("ROLLBACK").unwrap();
    t1.execute("COMMIT").unwrap();
    assert_eq!(table(&db), [(1, 11), (2, 20)]);
}

#[test]
fn statement_timeout_and_cancel_stop_a_waiting_statement() {
    let db = setup();
    let mut t1 = begin(&db, "READ COMMITTED");
    t1.execute("UPDATE test SET value = 11 WHERE id = 1")
        .unwrap();

    let mut t2 = db.session();
    t2.execute("SET statement_timeout = '50ms'").unwrap();
    let error = t2
        .execute("UPDATE test SET value = 12 WHERE id = 1")
        .unwrap_err();
    assert_eq!(error.sqlstate(), "57014");
    assert!(error.to_string().contains("statement timeout"), "{error}");

    let t3 = db.session();
    let cancel = t3.cancel_handle();
    let t3 = blocked(&db, 1, t3, "UPDATE test SET value = 13 WHERE id = 1");
    cancel.cancel();
    let (_, result) = t3.join().unwrap();
    let error = result.unwrap_err();
    assert_eq!(error.sqlstate(), "57014");
    assert!(error.to_string().contains("user request"), "{error}");

    t1.execute("COMMIT").unwrap();
    assert_eq!(table(&db), [(1, 11), (2, 20)]);
    assert_eq!(waiters(&db), 0);
}
