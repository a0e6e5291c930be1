//! What the concurrency tests share: the two-row table PostgreSQL's Hermitage tests
//! start from, and reading `(id, value)` pairs back.
#![allow(dead_code, clippy::unwrap_used)]

use hdb::{Database, Session};

/// An in-memory database with Hermitage's table: `test (id, value)` holding (1, 10)
/// and (2, 20).
pub fn setup() -> Database {
    let db = Database::open_in_memory().unwrap();
    db.session()
        .execute(
            "CREATE TABLE test (id INT PRIMARY KEY, value INT);
             INSERT INTO test VALUES (1, 10), (2, 20)",
        )
        .unwrap();
    db
}

/// The `(first, second)` integer columns of `sql`'s rows.
pub fn rows(session: &mut Session, sql: &str) -> Vec<(i64, i64)> {
    session
        .execute(sql)
        .unwrap()
        .rows()
        .iter()
        .map(|r| (r.get::<i64>(0).unwrap(), r.get::<i64>(1).unwrap()))
        .collect()
}

/// The table as a new session sees it, in key order.
pub fn table(db: &Database) -> Vec<(i64, i64)> {
    rows(&mut db.session(), "SELECT id, value FROM test ORDER BY id")
}
