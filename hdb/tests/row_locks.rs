//! `SELECT ... FOR UPDATE | FOR NO KEY UPDATE | FOR SHARE | FOR KEY SHARE` with
//! `NOWAIT` and `SKIP LOCKED`, with PostgreSQL 15's outcomes (each scenario was run
//! against PostgreSQL 15 with two psql sessions; the comments give its answers), and a
//! job queue on `SKIP LOCKED` whose workers take every job exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdb::{Database, QueryResult, Session, Value};

mod support;
use support::setup;

fn pairs(result: &QueryResult) -> Vec<(i64, i64)> {
    result
        .rows()
        .iter()
        .map(|r| (r.get::<i64>(0).unwrap(), r.get::<i64>(1).unwrap()))
        .collect()
}

fn query(session: &mut Session, sql: &str) -> Vec<(i64, i64)> {
    pairs(&session.execute(sql).unwrap())
}

fn begin(db: &Database) -> Session {
    let mut session = db.session();
    session.execute("BEGIN").unwrap();
    session
}

/// Runs `sql` in `session` on a thread of its own and returns once it waits for a lock.
fn blocked(
    db: &Database,
    mut session: Session,
    sql: &'static str,
) -> JoinHandle<(Session, hdb::Result<QueryResult>)> {
    let handle = std::thread::spawn(move || {
        let result = session.execute(sql);
        (session, result)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while db.engine().lock_waiters() == 0 {
        assert!(!handle.is_finished(), "{sql} did not block");
        assert!(Instant::now() < deadline, "{sql} never blocked");
        std::thread::sleep(Duration::from_millis(1));
    }
    handle
}

#[test]
fn nowait_fails_and_skip_locked_passes_over_a_locked_row() {
    let db = setup();
    let mut t1 = begin(&db);
    assert_eq!(
        query(&mut t1, "SELECT * FROM test WHERE id = 1 FOR UPDATE"),
        [(1, 10)]
    );
    let mut t2 = begin(&db);
    let error = t2
        .execute("SELECT * FROM test WHERE id = 1 FOR UPDATE NOWAIT")
        .unwrap_err();
    // PostgreSQL: ERROR 55P03 could not obtain lock on row in relation "test".
    assert_eq!(error.sqlstate(), "55P03");
    assert_eq!(
        error.to_string(),
        "could not obtain lock on row in relation \"test\""
    );
    t2.execute("ROLLBACK").unwrap();
    let mut t2 = begin(&db);
    // PostgreSQL: (2, 20) both times.
    assert_eq!(
        query(
            &mut t2,
            "SELECT * FROM test ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
        ),
        [(2, 20)]
    );
    assert_eq!(
        query(&mut t2, "SELECT * FROM test FOR SHARE SKIP LOCKED"),
        [(2, 20)]
    );
    t2.execute("ROLLBACK").unwrap();
    t1.execute("ROLLBACK").unwrap();
}

#[test]
fn key_share_admits_an_update_but_not_a_delete() {
    let db = setup();
    let mut t1 = begin(&db);
    let mut t2 = begin(&db);
    assert_eq!(
        query(&mut t1, "SELECT * FROM test WHERE id = 1 FOR KEY SHARE"),
        [(1, 10)]
    );
    // PostgreSQL: UPDATE 1 and DELETE 1 at once (neither row is locked against them).
    let updated = t2
        .execute("UPDATE test SET value = 11 WHERE id = 1")
        .unwrap();
    assert_eq!(updated.rows_affected(), 1);
    let deleted = t2.execute("DELETE FROM test WHERE id = 2").unwrap();
    assert_eq!(deleted.rows_affected(), 1);
    // PostgreSQL: FOR KEY SHARE of the deleted row waits; after the rollback, (2, 20).
    let t1 = blocked(&db, t1, "SELECT * FROM test WHERE id = 2 FOR KEY SHARE");
    t2.execute("ROLLBACK").unwrap();
    let (mut t1, locked) = t1.join().unwrap();
    assert_eq!(pairs(&locked.unwrap()), [(2, 20)]);
    t1.execute("ROLLBACK").unwrap();
}

#[test]
fn share_locks_have_many_holders_and_hold_off_an_update() {
    let db = setup();
    let mut t1 = begin(&db);
    let mut t2 = begin(&db);
    assert_eq!(
        query(&mut t1, "SELECT * FROM test WHERE id = 1 FOR SHARE"),
        [(1, 10)]
    );
    assert_eq!(
        query(&mut t2, "SELECT * FROM test WHERE id = 1 FOR SHARE"),
        [(1, 10)]
    );
    // PostgreSQL: T2's update waits for T1's share lock, then UPDATE 1.
    let t2 = blocked(&db, t2, "UPDATE test SET value = 11 WHERE id = 1");
    t1.execute("ROLLBACK").unwrap();
    let (mut t2, updated) = t2.join().unwrap();
    assert_eq!(updated.unwrap().rows_affected(), 1);
    t2.execute("COMMIT").unwrap();
    assert_eq!(
        query(&mut db.session(), "SELECT * FROM test ORDER BY id"),
        [(1, 11), (2, 20)]
    );
}

#[test]
fn for_update_rechecks_under_read_committed_and_fails_under_repeatable_read() {
    let db = setup();
    let mut t1 = begin(&db);
    let t2 = begin(&db);
    t1.execute("UPDATE test SET value = 11 WHERE id = 1")
        .unwrap();
    let t2 = blocked(&db, t2, "SELECT * FROM test WHERE value = 10 FOR UPDATE");
    t1.execute("COMMIT").unwrap();
    let (mut t2, locked) = t2.join().unwrap();
    // PostgreSQL: SELECT 0 (the row no longer matches), then the new row.
    assert_eq!(pairs(&locked.unwrap()), []);
    assert_eq!(
        query(
            &mut t2,
            "SELECT * FROM test WHERE value = 11 FOR NO KEY UPDATE"
        ),
        [(1, 11)]
    );
    t2.execute("COMMIT").unwrap();

    let mut t1 = db.session();
    let mut t2 = db.session();
    t1.execute("BEGIN ISOLATION LEVEL REPEATABLE READ").unwrap();
    t2.execute("BEGIN ISOLATION LEVEL REPEATABLE READ").unwrap();
    t2.execute("SELECT 1").unwrap();
    t1.execute("UPDATE test SET value = 12 WHERE id = 1")
        .unwrap();
    t1.execute("COMMIT").unwrap();
    // PostgreSQL: 40001 could not serialize access due to concurrent update.
    let error = t2
        .execute("SELECT * FROM test WHERE id = 1 FOR UPDATE")
        .unwrap_err();
    assert_eq!(error.sqlstate(), "40001");
    t2.execute("ROLLBACK").unwrap();
}

#[test]
fn locking_clauses_are_refused_where_postgresql_refuses_them() {
    let db = setup();
    let mut s = db.session();
    s.execute("BEGIN READ ONLY").unwrap();
    let error = s.execute("SELECT * FROM test FOR UPDATE").unwrap_err();
    // PostgreSQL: 25006 cannot execute SELECT FOR UPDATE in a read-only transaction.
    assert_eq!(error.sqlstate(), "25006");
    assert_eq!(
        error.to_string(),
        "cannot execute SELECT FOR UPDATE in a read-only transaction"
    );
    s.execute("ROLLBACK").unwrap();
    s.execute("BEGIN READ ONLY").unwrap();
    let error = s.execute("SELECT * FROM test FOR KEY SHARE").unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot execute SELECT FOR KEY SHARE in a read-only transaction"
    );
    s.execute("ROLLBACK").unwrap();
    // PostgreSQL: 42P01; 0A000 for an aggregate and for DISTINCT.
    assert_eq!(
        s.execute("SELECT * FROM test t FOR UPDATE OF x")
            .unwrap_err()
            .sqlstate(),
        "42P01"
    );
    for sql in [
        "SELECT DISTINCT value FROM test FOR UPDATE",
        "SELECT value FROM test GROUP BY value FOR SHARE",
        "SELECT * FROM test a JOIN test b ON a.id = b.id FOR UPDATE",
    ] {
        assert_eq!(s.execute(sql).unwrap_err().sqlstate(), "0A000", "{sql}");
    }
    assert!(s.execute("SELECT count(*) FROM test FOR UPDATE").is_err());
    // PostgreSQL: (2, 20): the row OFFSET skips is locked, not returned.
    assert_eq!(
        query(&mut s, "SELECT * FROM test ORDER BY id OFFSET 1 FOR UPDATE"),
        [(2, 20)]
    );
    assert_eq!(
        query(
            &mut s,
            "SELECT id, value * 2 FROM test t WHERE id = 2 FOR UPDATE OF t"
        ),
        [(2, 40)]
    );
    assert_eq!(db.engine().lock_waiters(), 0);
}

/// Workers take jobs with `FOR UPDATE SKIP LOCKED` until none is left: every job is
/// taken exactly once, and no worker waits for another.
#[test]
fn a_skip_locked_job_queue_hands_out_every_job_exactly_once() {
    let jobs: i64 = if std::env::var_os("CI").is_some() {
        200
    } else {
        1000
    };
    let workers = 4;
    let db = Database::open_in_memory().unwrap();
    let mut setup = db.session();
    setup
        .execute("CREATE TABLE jobs (id INT PRIMARY KEY, done BOOLEAN NOT NULL, worker INT)")
        .unwrap();
    setup
        .execute(&format!(
            "INSERT INTO jobs SELECT i, false, NULL FROM generate_series(1, {jobs}) AS g(i)"
        ))
        .unwrap();
    let start = Arc::new(Barrier::new(workers));
    let handles: Vec<JoinHandle<Vec<i64>>> = (0..workers)
        .map(|worker| {
            let (mut session, start) = (db.session(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut taken = Vec::new();
                loop {
                    session.execute("BEGIN").unwrap();
                    let job = session
                        .execute(
                            "SELECT id FROM jobs WHERE NOT done ORDER BY id \
                             LIMIT 1 FOR UPDATE SKIP LOCKED",
                        )
                        .unwrap();
                    let Some(row) = job.rows().first() else {
                        session.execute("COMMIT").unwrap();
                        break;
                    };
                    let id: i64 = row.get(0).unwrap();
                    session
                        .query(
                            "UPDATE jobs SET done = true, worker = $1 WHERE id = $2",
                            &[Value::Int(worker as i64), Value::Int(id)],
                        )
                        .unwrap();
                    session.execute("COMMIT").unwrap();
                    taken.push(id);
                }
                taken
            })
        })
        .collect();
    let mut count: BTreeMap<i64, usize> = BTreeMap::new();
    for handle in handles {
        for id in handle.join().unwrap() {
            *count.entry(id).or_default() += 1;
        }
    }
    assert_eq!(count.len() as i64, jobs, "every job taken");
    assert!(count.values().all(|n| *n == 1), "no job taken twice");
    let left = setup
        .execute("SELECT count(*) FROM jobs WHERE NOT done OR worker IS NULL")
        .unwrap();
    assert_eq!(left.rows()[0].get::<i64>(0).unwrap(), 0);
}
