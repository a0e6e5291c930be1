//! FOREIGN KEY under concurrency: a session deletes a referenced row while another
//! inserts a row referencing it, in both orders, ending in COMMIT or ROLLBACK, under
//! READ COMMITTED and REPEATABLE READ. The outcomes are PostgreSQL 15's (each scenario
//! was run against it with two sessions; the table below gives its answers): no
//! interleaving leaves a referencing row without its referenced row. Then a stress
//! run: sessions insert referencing rows and delete referenced rows at random, and the
//! committed state never holds an orphan. (What each statement answers alone is in
//! tests/slt/foreign_keys.slt; how it works is in sql_frontend/src/exec/references.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdb::{Database, QueryResult, Session};

fn setup() -> Database {
    let db = Database::open_in_memory().unwrap();
    db.session()
        .execute(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY, v INTEGER);
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent);
             INSERT INTO parent VALUES (1, 0), (2, 0)",
        )
        .unwrap();
    db
}

/// A session in a transaction at `level`, its snapshot taken.
fn begin(db: &Database, level: &str) -> Session {
    let mut session = db.session();
    session
        .execute(&format!("BEGIN ISOLATION LEVEL {level}"))
        .unwrap();
    session.execute("SELECT count(*) FROM parent").unwrap();
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

/// What a statement ended with: "ok", or the error's SQLSTATE.
fn outcome(result: &hdb::Result<QueryResult>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => e.sqlstate().to_string(),
    }
}

/// Whether the committed state holds a child row whose parent is missing.
fn orphans(db: &Database) -> i64 {
    db.session()
        .execute(
            "SELECT count(*) FROM child c LEFT JOIN parent p ON p.id = c.parent_id \
             WHERE c.parent_id IS NOT NULL AND p.id IS NULL",
        )
        .unwrap()
        .rows()[0]
        .get::<i64>(0)
        .unwrap()
}

const INSERT: &str = "INSERT INTO child VALUES (1, 1)";
const DELETE: &str = "DELETE FROM parent WHERE id = 1";

/// The first statement runs, the second blocks on it, the first session ends with
/// `end`; returns the blocked statement's outcome.
fn scenario(level: &str, insert_first: bool, end: &str) -> String {
    let db = setup();
    let mut first = begin(&db, level);
    let second = begin(&db, level);
    let (first_sql, second_sql) = match insert_first {
        true => (INSERT, DELETE),
        false => (DELETE, INSERT),
    };
    first.execute(first_sql).unwrap();
    let waiting = blocked(&db, second, second_sql);
    first.execute(end).unwrap();
    let (mut second, result) = waiting.join().unwrap();
    let answer = outcome(&result);
    match result {
        Ok(_) => second.execute("COMMIT").unwrap(),
        Err(_) => second.execute("ROLLBACK").unwrap(),
    };
    assert_eq!(
        orphans(&db),
        0,
        "{level}, insert first {insert_first}, {end}"
    );
    answer
}

#[test]
fn deleting_a_referenced_row_against_an_insert_referencing_it() {
    // PostgreSQL 15, the blocked statement's outcome:
    //   level            first   end       blocked statement
    //   READ COMMITTED   insert  COMMIT    DELETE fails 23503 (still referenced)
    //   READ COMMITTED   insert  ROLLBACK  DELETE ok
    //   READ COMMITTED   delete  COMMIT    INSERT fails 23503 (not present)
    //   READ COMMITTED   delete  ROLLBACK  INSERT ok
    //   REPEATABLE READ  insert  COMMIT    DELETE fails 23503 (still referenced)
    //   REPEATABLE READ  insert  ROLLBACK  DELETE ok
    //   REPEATABLE READ  delete  COMMIT    INSERT fails 40001 (could not serialize)
    //   REPEATABLE READ  delete  ROLLBACK  INSERT ok
    let expected = [
        ("READ COMMITTED", true, "COMMIT", "23503"),
        ("READ COMMITTED", true, "ROLLBACK", "ok"),
        ("READ COMMITTED", false, "COMMIT", "23503"),
        ("READ COMMITTED", false, "ROLLBACK", "ok"),
        ("REPEATABLE READ", true, "COMMIT", "23503"),
        ("REPEATABLE READ", true, "ROLLBACK", "ok"),
        ("REPEATABLE READ", false, "COMMIT", "40001"),
        ("REPEATABLE READ", false, "ROLLBACK", "ok"),
    ];
    for (level, insert_first, end, answer) in expected {
        assert_eq!(
            scenario(level, insert_first, end),
            answer,
            "{level}, insert first {insert_first}, {end}"
        );
    }
}

#[test]
fn an_update_of_other_columns_does_not_wait_for_a_referencing_insert() {
    // PostgreSQL: KEY SHARE does not conflict with FOR NO KEY UPDATE.
    let db = setup();
    let mut inserter = begin(&db, "READ COMMITTED");
    inserter.execute(INSERT).unwrap();
    let mut updater = begin(&db, "READ COMMITTED");
    updater
        .execute("UPDATE parent SET v = 5 WHERE id = 1")
        .unwrap();
    updater.execute("COMMIT").unwrap();
    inserter.execute("COMMIT").unwrap();
    assert_eq!(orphans(&db), 0);
    // The run did both things: some parents went, some children stayed.
    let counts = db
        .session()
        .execute("SELECT (SELECT count(*) FROM parent), (SELECT count(*) FROM child)")
        .unwrap();
    let row = &counts.rows()[0];
    assert!(row.get::<i64>(0).unwrap() < 40, "no parent was deleted");
    assert!(row.get::<i64>(1).unwrap() > 0, "no child was inserted");
}

/// Sessions on threads insert children of random parents and delete random parents,
/// committing or rolling back, under both levels; no committed state has an orphan.
#[test]
fn concurrent_inserts_and_deletes_never_orphan_a_row() {
    let db = Database::open_in_memory().unwrap();
    db.session()
        .execute(
            "CREATE TABLE parent (id INTEGER PRIMARY KEY);
             CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent);
             INSERT INTO parent SELECT g FROM generate_series(1, 40) g",
        )
        .unwrap();
    let rounds = if std::env::var_os("CI").is_some() {
        60
    } else {
        300
    };
    std::thread::scope(|scope| {
        for worker in 0..4u64 {
            let db = &db;
            scope.spawn(move || {
                let mut session = db.session();
                session.execute("SET lock_timeout = '5s'").unwrap();
                let mut state = worker.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let mut next = move || {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state
                };
                for round in 0..rounds {
                    let level = match next() % 2 {
                        0 => "READ COMMITTED",
                        _ => "REPEATABLE READ",
                    };
                    session
                        .execute(&format!("BEGIN ISOLATION LEVEL {level}"))
                        .unwrap();
                    let parent = next() % 40 + 1;
                    let sql = match next() % 3 {
                        0 => format!("DELETE FROM parent WHERE id = {parent}"),
                        _ => format!(
                            "INSERT INTO child VALUES ({}, {parent})",
                            worker * 1_000_000 + round
                        ),
                    };
                    let ok = session.execute(&sql).is_ok();
                    let end = if ok && next() % 4 != 0 {
                        "COMMIT"
                    } else {
                        "ROLLBACK"
                    };
                    // A failed COMMIT (a serialization failure) leaves nothing either.
                    let _ = session.execute(end);
                    if !ok || end == "ROLLBACK" {
                        let _ = session.execute("ROLLBACK");
                    }
                }
            });
        }
    });
    assert_eq!(orphans(&db), 0);
    // The run did both things: some parents went, some children stayed.
    let counts = db
        .session()
        .execute("SELECT (SELECT count(*) FROM parent), (SELECT count(*) FROM child)")
        .unwrap();
    let row = &counts.rows()[0];
    assert!(row.get::<i64>(0).unwrap() < 40, "no parent was deleted");
    assert!(row.get::<i64>(1).unwrap() > 0, "no child was inserted");
}
