//! ALTER TABLE that changes columns (ADD COLUMN, DROP COLUMN, ALTER COLUMN TYPE) under
//! concurrency and crashes: a reader's snapshot keeps the table's old shape and rows
//! while another session alters it; an ALTER fails retryably while another transaction
//! has written the table; and a process killed (SIGKILL) while it rewrites a table by
//! ALTER COLUMN ... TYPE leaves, on reopen, the table entirely before or entirely after
//! the change, with every acknowledged change there. (What each action answers is in
//! tests/slt/alter_columns.slt, checked against PostgreSQL.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hdb::Database;

fn texts(session: &mut hdb::Session, sql: &str) -> Vec<String> {
    session
        .execute(sql)
        .unwrap()
        .rows()
        .iter()
        .map(|row| {
            row.values()
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}

#[test]
fn a_reader_snapshot_keeps_the_old_shape() {
    let db = Database::open_in_memory().unwrap();
    let mut writer = db.session();
    writer
        .execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, w TEXT);
             INSERT INTO t VALUES (1, 10, 'a'), (2, 20, 'b')",
        )
        .unwrap();
    let mut reader = db.session();
    reader
        .execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        .unwrap();
    let before = texts(&mut reader, "SELECT * FROM t ORDER BY id");
    assert_eq!(before, ["1,10,a", "2,20,b"]);

    writer
        .execute(
            "ALTER TABLE t ADD COLUMN x INTEGER DEFAULT 5;
             ALTER TABLE t DROP COLUMN w;
             ALTER TABLE t ALTER COLUMN v TYPE TEXT USING (v * 2)::text;
             INSERT INTO t VALUES (3, 'new', 6)",
        )
        .unwrap();
    // The reader's snapshot: the old columns, types and rows, through the same text
    // and through new text.
    assert_eq!(texts(&mut reader, "SELECT * FROM t ORDER BY id"), before);
    assert_eq!(
        texts(&mut reader, "SELECT v + 1 FROM t ORDER BY id"),
        ["11", "21"]
    );
    reader.execute("COMMIT").unwrap();
    assert_eq!(
        texts(&mut reader, "SELECT * FROM t ORDER BY id"),
        ["1,20,5", "2,40,5", "3,new,6"]
    );
}

#[test]
fn an_alter_fails_retryably_while_another_transaction_has_written_the_table() {
    let db = Database::open_in_memory().unwrap();
    let mut writer = db.session();
    writer
        .execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
        .unwrap();
    writer.execute("BEGIN").unwrap();
    writer.execute("INSERT INTO t VALUES (1, 1)").unwrap();
    let mut alterer = db.session();
    for sql in [
        "ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 1",
        "ALTER TABLE t DROP COLUMN v",
        "ALTER TABLE t ALTER COLUMN v TYPE BIGINT",
        "ALTER TABLE t ADD CHECK (v > 0)",
    ] {
        let error = alterer.execute(sql).unwrap_err();
        assert!(error.is_retryable(), "{sql}: {error}");
    }
    writer.execute("COMMIT").unwrap();
    alterer
        .execute("ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 1")
        .unwrap();
    assert_eq!(texts(&mut writer, "SELECT * FROM t"), ["1,1,1"]);
}

/// Rows in the crash test's table (fewer under CI).
fn crash_rows() -> i64 {
    match std::env::var_os("CI") {
        Some(_) => 2_000,
        None => 20_000,
    }
}

/// A child process alternates `ALTER COLUMN v TYPE TEXT` and `TYPE BIGINT`, each
/// adding one to every value (`USING`), on a table whose `v` starts as `3 * id`, and
/// prints the number of each change it has committed; it is killed at a varying
/// moment, mostly in the middle of a rewrite. On reopen, every row holds `3 * id + m`
/// for one `m` (all rows converted or none), `m` is the number of changes acknowledged
/// or one more (the one in flight), and the column's type is the `m`-th change's.
#[test]
fn alter_column_type_kill() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::Duration;
    let rows = crash_rows();
    if let Ok(path) = std::env::var("HDB_ALTER_CHILD") {
        let db = Database::open(&path).unwrap();
        let mut session = db.session();
        session
            .execute(&format!(
                "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BIGINT);
                 INSERT INTO t SELECT g, g * 3 FROM generate_series(1, {rows}) g
                     ON CONFLICT DO NOTHING"
            ))
            .unwrap();
        let mut changes = changes_made(&mut session);
        loop {
            let ty = type_after(changes + 1);
            println!("start {changes}");
            session
                .execute(&format!(
                    "ALTER TABLE t ALTER COLUMN v TYPE {ty} USING (CAST(v AS BIGINT) + 1)::{ty}"
                ))
                .unwrap();
            changes += 1;
            println!("done {changes}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alter_kill.db");
    let rounds = if std::env::var_os("CI").is_some() {
        3
    } else {
        8
    };
    let mut acknowledged = 0;
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "alter_column_type_kill", "--nocapture"])
            .env("HDB_ALTER_CHILD", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut starts = 0;
        let wanted = 1 + round % 3;
        while let Some(Ok(line)) = lines.next() {
            if let Some(done) = line.strip_prefix("done ") {
                acknowledged = done.parse().unwrap();
            } else if line.starts_with("start ") {
                starts += 1;
                if starts > wanted {
                    break;
                }
            }
        }
        // Into the rewrite that just started, by a varying amount.
        std::thread::sleep(Duration::from_millis(5 + 37 * round as u64));
        child.kill().unwrap();
        child.wait().unwrap();
        for line in lines.map_while(|l| l.ok()) {
            if let Some(done) = line.strip_prefix("done ") {
                acknowledged = done.parse().unwrap();
            }
        }
        let db = Database::open(&path).unwrap();
        let mut session = db.session();
        let made = changes_made(&mut session);
        assert!(
            made == acknowledged || made == acknowledged + 1,
            "round {round}: {made} changes after {acknowledged} were acknowledged"
        );
        let described = db.describe_tables().unwrap();
        let table = described.iter().find(|t| t.name == "t").expect("table t");
        assert!(
            table.columns[1]
                .sql_type
                .eq_ignore_ascii_case(type_after(made)),
            "round {round}: type {} after {made} changes",
            table.columns[1].sql_type
        );
        let result = session
            .execute(&format!(
                "SELECT count(*), count(*) FILTER (WHERE CAST(v AS BIGINT) <> id * 3 + {made}) \
                 FROM t"
            ))
            .unwrap();
        let row = &result.rows()[0];
        assert_eq!(row.get::<i64>(0).unwrap(), rows, "round {round}");
        assert_eq!(row.get::<i64>(1).unwrap(), 0, "round {round}");
        acknowledged = made;
        db.close().unwrap();
    }
}

/// The column's type after `changes` changes: BIGINT at the start, then TEXT, ...
fn type_after(changes: i64) -> &'static str {
    match changes % 2 {
        0 => "BIGINT",
        _ => "TEXT",
    }
}

/// How many changes the table has been through: `v - 3 * id` of its first row.
fn changes_made(session: &mut hdb::Session) -> i64 {
    session
        .execute("SELECT CAST(v AS BIGINT) - 3 * id FROM t WHERE id = 1")
        .unwrap()
        .rows()[0]
        .get::<i64>(0)
        .unwrap()
}
