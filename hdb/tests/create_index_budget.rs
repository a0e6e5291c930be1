//! CREATE INDEX through SQL, in memory and under a small build memory budget
//! (`DatabaseOptions::build_memory_bytes`, where the build sorts externally): its commit
//! logs a marker of a few hundred bytes instead of its entries (the statement's
//! automatic ANALYZE reads the table, not the new index, so nothing reads the entries
//! back), and after a crash-like close recovery rebuilds the index from the table:
//! queries that use it answer as a full scan does.
#![allow(clippy::unwrap_used)]

use hdb::engine::{DatabaseOptions, Durability};
use hdb::{Database, params};

fn options(budget: usize) -> DatabaseOptions {
    DatabaseOptions {
        durability: Durability::Off,
        build_memory_bytes: budget,
        ..DatabaseOptions::default()
    }
}

fn count(session: &mut hdb::Session, sql: &str) -> i64 {
    session
        .query_row(sql, params![], |row| row.get(0))
        .expect(sql)
}

/// Loads `rows` rows, builds the index and closes the database as a crash would, then
/// reopens it (recovery replays the build); returns it with the bytes the load and the
/// build's statement logged (the log's end, which a checkpoint returns, around each).
fn build(path: &std::path::Path, budget: usize, rows: i64) -> (Database, u64, u64) {
    let db = Database::open_with(path, options(budget)).unwrap();
    let mut session = db.session();
    session
        .execute("CREATE TABLE t (id INT PRIMARY KEY, v INT, name TEXT)")
        .unwrap();
    let start = db.engine().checkpoint().unwrap().0;
    session
        .execute(&format!(
            "INSERT INTO t SELECT g, (g * 7919) % 1000, 'n' || g FROM generate_series(1, {rows}) g"
        ))
        .unwrap();
    let before = db.engine().checkpoint().unwrap().0;
    session.execute("CREATE INDEX t_v ON t (v)").unwrap();
    drop(session);
    db.engine().clone().close_as_if_crashed();
    drop(db);
    let db = Database::open_with(path, options(budget)).unwrap();
    let after = db.engine().checkpoint().unwrap().0;
    (db, before - start, after - before)
}

#[test]
fn a_sql_build_logs_a_marker_and_is_rebuilt_by_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let rows = 5_000;
    for (name, budget) in [("memory.db", 64 << 20), ("spilled.db", 16 << 10)] {
        let (db, load, built) = build(&dir.path().join(name), budget, rows);
        println!("{name}: the load logged {load} bytes, CREATE INDEX {built}");
        assert!(
            built * 20 < load,
            "{name}: CREATE INDEX logged {built} bytes, the load of its rows {load}"
        );
        assert!(
            db.engine().recovery().replayed_commits >= 1,
            "recovery replayed the build"
        );
        answers_as_a_scan_does(&db);
    }
}

/// The rebuilt index answers as a full scan does, and the file is sound.
fn answers_as_a_scan_does(db: &Database) {
    db.engine().check_integrity().unwrap();
    let mut session = db.session();
    for v in [0, 7, 500, 999] {
        let through_index = count(
            &mut session,
            &format!("SELECT count(*) FROM t WHERE v = {v}"),
        );
        session.execute("SET enable_indexscan = off").unwrap();
        let scanned = count(
            &mut session,
            &format!("SELECT count(*) FROM t WHERE v = {v}"),
        );
        session.execute("SET enable_indexscan = on").unwrap();
        assert_eq!(through_index, scanned, "v = {v}");
        assert_eq!(scanned, 5, "v = {v}");
    }
}
