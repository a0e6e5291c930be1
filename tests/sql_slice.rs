//! The SQL slice end to end through `hdb::Database`: DDL, DML, queries, EXPLAIN,
//! transactions, prepared statements and reopening, on a temporary database file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hdb::{Constraint, Database, Error, QueryResult, Session, Value};

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("test.db")).unwrap();
    (dir, db)
}

/// The rows of a result as strings, NULL as "NULL".
fn rows(result: &QueryResult) -> Vec<Vec<String>> {
    result
        .rows()
        .iter()
        .map(|row| row.values().iter().map(ToString::to_string).collect())
        .collect()
}

fn query(session: &mut Session, sql: &str) -> Vec<Vec<String>> {
    rows(&session.execute(sql).unwrap())
}

fn explain(session: &mut Session, sql: &str) -> String {
    query(session, &format!("EXPLAIN (COSTS OFF) {sql}"))
        .into_iter()
        .map(|r| r.join(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn seed_users(session: &mut Session) {
    session
        .execute(
            "CREATE TABLE Users (user_id VARCHAR PRIMARY KEY, name VARCHAR, status VARCHAR);
             INSERT INTO Users (user_id, name, status) VALUES
                 ('u1', 'Alice', 'active'), ('u2', 'Bob', 'inactive'),
                 ('u3', 'Carol', 'active'), ('u4', 'Dave', NULL);",
        )
        .unwrap();
}

#[test]
fn create_insert_select_star() {
    let (_dir, db) = open();
    let mut s = db.session();
    let created = s.execute("CREATE TABLE t (a INTEGER, b TEXT)").unwrap();
    assert_eq!(created.tag(), "CREATE TABLE");
    let inserted = s
        .execute("INSERT INTO t VALUES (1, 'one'), (2, 'two')")
        .unwrap();
    assert_eq!(inserted.rows_affected(), 2);
    assert_eq!(inserted.tag(), "INSERT 0 2");
    let result = s.execute("SELECT * FROM t").unwrap();
    assert_eq!(result.columns(), ["a", "b"]);
    assert_eq!(rows(&result), [["1", "one"], ["2", "two"]]);
    let row = &result.rows()[1];
    assert_eq!(row.get::<i64>(0).unwrap(), 2);
    assert_eq!(row.get::<String>("b").unwrap(), "two");
    assert_eq!(row.get::<Option<i64>>("a").unwrap(), Some(2));
    assert!(matches!(row.get::<bool>(0), Err(Error::Type(_))));
}

#[test]
fn seed_users_lookup_by_id_is_a_key_lookup() {
    let (_dir, db) = open();
    let mut s = db.session();
    seed_users(&mut s);
    let sql = "SELECT * FROM users WHERE user_id = 'u1'";
    assert_eq!(query(&mut s, sql), [["u1", "Alice", "active"]]);
    let plan = explain(&mut s, sql);
    assert!(
        plan.contains("KeyLookup: users (user_id) = ('u1')"),
        "{plan}"
    );
    assert!(!plan.contains("SeqScan"), "{plan}");
}

#[test]
fn query_by_status_with_and_without_an_index() {
    let (_dir, db) = open();
    let mut s = db.session();
    seed_users(&mut s);
    let sql = "SELECT user_id, name FROM users WHERE status = 'active' ORDER BY user_id";
    let without = query(&mut s, sql);
    assert_eq!(without, [["u1", "Alice"], ["u3", "Carol"]]);
    assert!(explain(&mut s, sql).contains("SeqScan: users"));

    s.execute("CREATE INDEX users_status ON users (status)")
        .unwrap();
    assert_eq!(query(&mut s, sql), without);
    // Four rows, half of them active: reading them all is cheaper, and the planner
    // knows it (CREATE INDEX analysed the table).
    assert!(explain(&mut s, sql).contains("SeqScan: users"));
    // With the sequential scan disabled, the index is what it can use instead.
    s.execute("SET enable_seqscan = off").unwrap();
    let plan = explain(&mut s, sql);
    assert_eq!(
        plan,
        "Project: user_id, name\n  Sort: user_id ASC NULLS LAST\n    Filter: status = 'active'\n      IndexScan: users using users_status (status = 'active')"
    );

    s.execute("DROP INDEX users_status").unwrap();
    assert!(explain(&mut s, sql).contains("SeqScan: users"));
    assert_eq!(query(&mut s, sql), without);
}

#[test]
fn in_lists_and_ranges_use_indexes() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute("CREATE TABLE n (id INTEGER PRIMARY KEY, v INTEGER, w TEXT)")
        .unwrap();
    s.execute("CREATE INDEX n_v ON n (v)").unwrap();
    // Twenty rows are cheaper to read whole than through an index for most of these
    // ranges; the index paths are what this test is about.
    s.execute("SET enable_seqscan = off").unwrap();
    for i in 0..20 {
        let v = if i % 5 == 0 {
            "NULL".to_string()
        } else {
            (i % 7).to_string()
        };
        s.execute(&format!("INSERT INTO n VALUES ({i}, {v}, 'w{i}')"))
            .unwrap();
    }
    let sql = "SELECT id FROM n WHERE id IN (3, 1, 99) ORDER BY id";
    assert_eq!(query(&mut s, sql), [["1"], ["3"]]);
    assert!(explain(&mut s, sql).contains("KeyLookup"));
    let sql = "SELECT id FROM n WHERE id >= 17";
    assert_eq!(query(&mut s, sql), [["17"], ["18"], ["19"]]);
    assert!(explain(&mut s, sql).contains("KeyRangeScan: n (id >= 17)"));
    // Ranges on an index never return NULLs.
    let sql = "SELECT id FROM n WHERE v < 2 ORDER BY id";
    assert_eq!(query(&mut s, sql), [["1"], ["7"], ["8"], ["14"]]);
    assert!(explain(&mut s, sql).contains("IndexOnlyScan: n using n_v (v < 2)"));
    let sql = "SELECT id FROM n WHERE v BETWEEN 5 AND 6 ORDER BY id";
    assert_eq!(query(&mut s, sql), [["6"], ["12"], ["13"], ["19"]]);
}

#[test]
fn null_three_valued_logic_in_where() {
    let (_dir, db) = open();
    let mut s = db.session();
    seed_users(&mut s);
    // u4's status is NULL: neither = nor <> is true for it.
    assert_eq!(
        query(&mut s, "SELECT user_id FROM users WHERE status <> 'active'"),
        [["u2"]]
    );
    assert_eq!(
        query(
            &mut s,
            "SELECT user_id FROM users WHERE NOT (status = 'active')"
        ),
        [["u2"]]
    );
    assert_eq!(
        query(&mut s, "SELECT user_id FROM users WHERE status IS NULL"),
        [["u4"]]
    );
    assert_eq!(
        query(&mut s, "SELECT user_id FROM users WHERE status = NULL"),
        Vec::<Vec<String>>::new()
    );
    // NULL OR TRUE is true; NULL AND FALSE is false, so NOT of it is true.
    assert_eq!(
        query(
            &mut s,
            "SELECT user_id FROM users WHERE status = 'x' OR user_id = 'u4'"
        ),
        [["u4"]]
    );
    assert_eq!(
        query(
            &mut s,
            "SELECT user_id FROM users WHERE NOT (status = 'x' AND user_id = 'nope') ORDER BY 1"
        ),
        [["u1"], ["u2"], ["u3"], ["u4"]]
    );
    assert_eq!(
        query(
            &mut s,
            "SELECT user_id FROM users WHERE status NOT IN ('active', NULL)"
        ),
        Vec::<Vec<String>>::new()
    );
}

#[test]
fn order_by_nulls_first_and_last_alias_and_ordinal() {
    let (_dir, db) = open();
    let mut s = db.session();
    seed_users(&mut s);
    let ids = |s: &mut Session, sql: &str| -> Vec<String> {
        query(s, sql).into_iter().map(|r| r[0].clone()).collect()
    };
    // PostgreSQL's defaults: NULL is largest, so last ascending and first descending.
    assert_eq!(
        ids(&mut s, "SELECT user_id FROM users ORDER BY status, user_id"),
        ["u1", "u3", "u2", "u4"]
    );
    assert_eq!(
        ids(
            &mut s,
            "SELECT user_id FROM users ORDER BY status DESC, user_id"
        ),
        ["u4", "u2", "u1", "u3"]
    );
    assert_eq!(
        ids(
            &mut s,
            "SELECT user_id FROM users ORDER BY status NULLS FIRST, user_id DESC"
        ),
        ["u4", "u3", "u1", "u2"]
    );
    assert_eq!(
        ids(
            &mut s,
            "SELECT user_id FROM users ORDER BY status DESC NULLS LAST, user_id"
        ),
        ["u2", "u1", "u3", "u4"]
    );
    assert_eq!(
        ids(
            &mut s,
            "SELECT user_id AS id, name FROM users ORDER BY id DESC LIMIT 2"
        ),
        ["u4", "u3"]
    );
    assert_eq!(
        ids(
            &mut s,
            "SELECT user_id, name FROM users ORDER BY 2 LIMIT 2 OFFSET 1"
        ),
        ["u2", "u3"]
    );
}

#[test]
fn expressions_and_aliases_in_select() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute("CREATE TABLE m (a INTEGER, b DOUBLE PRECISION, c TEXT, d DATE)")
        .unwrap();
    s.execute("INSERT INTO m VALUES (7, 2.5, 'x', '2024-02-28')")
        .unwrap();
    let result = s
        .execute("SELECT a * 2 + 1 AS twice, a / 2, a % 4, b * 2, c || '-' || a, d + 1 FROM m")
        .unwrap();
    assert_eq!(result.columns()[0], "twice");
    assert_eq!(result.columns()[1], "?column?");
    assert_eq!(rows(&result), [["15", "3", "3", "5", "x-7", "2024-02-29"]]);
    assert_eq!(
        query(&mut s, "SELECT 1 + 1, 'a' || 'b', NULL IS NULL"),
        [["2", "ab", "t"]]
    );
    assert!(matches!(
        s.execute("SELECT a / 0 FROM m"),
        Err(Error::Data(_))
    ));
    assert!(matches!(
        s.execute("SELECT 9223372036854775807 + 1"),
        Err(Error::Data(_))
    ));
    assert!(matches!(
        s.execute("SELECT c + 1 FROM m"),
        Err(Error::Type(_))
    ));
    assert!(matches!(
        s.execute("SELECT nope FROM m"),
        Err(Error::UnknownColumn(_))
    ));
    assert!(matches!(
        s.execute("SELECT * FROM nope"),
        Err(Error::UnknownName(_))
    ));
}

#[test]
fn update_and_delete() {
    let (_dir, db) = open();
    let mut s = db.session();
    seed_users(&mut s);
    s.execute("CREATE INDEX users_status ON users (status)")
        .unwrap();
    let updated = s
        .execute("UPDATE users SET status = 'gone', name = name || '!' WHERE status = 'active'")
        .unwrap();
    assert_eq!(updated.tag(), "UPDATE 2");
    assert_eq!(
        query(
            &mut s,
            "SELECT user_id, name FROM users WHERE status = 'gone' ORDER BY 1"
        ),
        [["u1", "Alice!"], ["u3", "Carol!"]]
    );
    assert_eq!(
        query(&mut s, "SELECT user_id FROM users WHERE status = 'active'"),
        Vec::<Vec<String>>::new()
    );
    // Updating the primary key moves the row.
    s.execute("UPDATE users SET user_id = 'u9' WHERE user_id = 'u2'")
        .unwrap();
    assert_eq!(
        query(&mut s, "SELECT name FROM users WHERE user_id = 'u9'"),
        [["Bob"]]
    );
    let deleted = s
        .execute("DELETE FROM users WHERE status = 'gone'")
        .unwrap();
    assert_eq!(deleted.tag(), "DELETE 2");
    assert_eq!(
        query(&mut s, "SELECT user_id FROM users ORDER BY 1"),
        [["u4"], ["u9"]]
    );
    assert_eq!(s.execute("DELETE FROM users").unwrap().rows_affected(), 2);
}

#[test]
fn constraints_are_typed_errors() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE acct (
             region TEXT, id INTEGER, email VARCHAR(20) UNIQUE NOT NULL,
             level SMALLINT DEFAULT 1, PRIMARY KEY (region, id))",
    )
    .unwrap();
    s.execute("INSERT INTO acct (region, id, email) VALUES ('eu', 1, 'a@x')")
        .unwrap();
    assert_eq!(query(&mut s, "SELECT level FROM acct"), [["1"]]);
    let err = s
        .execute("INSERT INTO acct (region, id, email) VALUES ('eu', 1, 'b@x')")
        .unwrap_err();
    assert_eq!(
        err,
        Error::Constraint(Constraint::PrimaryKey {
            table: "acct".into(),
            key: "(region, id)=(eu, 1)".into(),
        })
    );
    // PostgreSQL's words: the constraint by name, the key in the detail.
    assert_eq!(
        err.to_string(),
        "duplicate key value violates unique constraint \"acct_pkey\""
    );
    assert_eq!(
        err.detail().as_deref(),
        Some("Key (region, id)=(eu, 1) already exists.")
    );
    let err = s
        .execute("INSERT INTO acct (region, id, email) VALUES ('us', 1, 'a@x')")
        .unwrap_err();
    assert!(
        matches!(err, Error::Constraint(Constraint::Unique { .. })),
        "{err:?}"
    );
    let err = s
        .execute("INSERT INTO acct (region, id) VALUES ('us', 2)")
        .unwrap_err();
    assert!(
        matches!(err, Error::Constraint(Constraint::NotNull { .. })),
        "{err:?}"
    );
    let err = s
        .execute("INSERT INTO acct VALUES ('us', 3, 'c@x', 40000)")
        .unwrap_err();
    assert!(matches!(err, Error::Data(_)), "{err:?}");
    s.execute("CREATE TABLE pos (n INTEGER CHECK (n > 0))")
        .unwrap();
    let err = s.execute("INSERT INTO pos VALUES (0)").unwrap_err();
    assert_eq!(
        err,
        Error::Constraint(Constraint::Check {
            table: "pos".into(),
            constraint: "pos_n_check".into()
        })
    );
    assert_eq!(err.sqlstate(), "23514");
    let err = s
        .execute("INSERT INTO acct VALUES ('us', 3, 'this is far too long for twenty', 1)")
        .unwrap_err();
    assert!(matches!(err, Error::Data(_)), "{err:?}");
    // The composite key is usable for lookups.
    let plan = explain(&mut s, "SELECT * FROM acct WHERE region = 'eu' AND id = 1");
    assert!(
        plan.contains("KeyLookup: acct (region, id) = ('eu', 1)"),
        "{plan}"
    );
    let plan = explain(&mut s, "SELECT * FROM acct WHERE region = 'eu'");
    assert!(
        plan.contains("KeyRangeScan: acct (region = 'eu')"),
        "{plan}"
    );
}

#[test]
fn failed_statement_in_a_transaction_aborts_it_and_leaves_nothing() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute("CREATE TABLE k (id INTEGER PRIMARY KEY)")
        .unwrap();
    s.execute("INSERT INTO k VALUES (1)").unwrap();
    s.execute("BEGIN").unwrap();
    s.execute("INSERT INTO k VALUES (2)").unwrap();
    // The second row of this statement collides: the statement fails as a whole.
    let err = s.execute("INSERT INTO k VALUES (3), (1)").unwrap_err();
    assert!(matches!(err, Error::Constraint(_)));
    // PostgreSQL's rule: the transaction is aborted until ROLLBACK.
    let err = s.execute("SELECT * FROM k").unwrap_err();
    assert!(matches!(err, Error::TransactionAborted(_)), "{err:?}");
    assert_eq!(s.execute("COMMIT").unwrap().tag(), "ROLLBACK");
    assert!(!s.in_transaction());
    assert_eq!(query(&mut s, "SELECT id FROM k"), [["1"]]);
}

#[test]
fn rollback_undoes_ddl_and_data() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute("BEGIN; CREATE TABLE gone (a INTEGER); INSERT INTO gone VALUES (1)")
        .unwrap();
    assert_eq!(query(&mut s, "SELECT a FROM gone"), [["1"]]);
    s.execute("ROLLBACK").unwrap();
    assert!(matches!(
        s.execute("SELECT * FROM gone"),
        Err(Error::UnknownName(_))
    ));
    s.execute("CREATE TABLE kept (a INTEGER)").unwrap();
    s.execute("START TRANSACTION; DROP TABLE kept; ROLLBACK")
        .unwrap();
    assert_eq!(
        query(&mut s, "SELECT a FROM kept"),
        Vec::<Vec<String>>::new()
    );
    s.execute("DROP TABLE kept").unwrap();
    s.execute("DROP TABLE IF EXISTS kept").unwrap();
    assert!(matches!(
        s.execute("DROP TABLE kept"),
        Err(Error::UnknownName(_))
    ));
}

#[test]
fn repeatable_read_sessions_see_their_snapshots() {
    let (_dir, db) = open();
    let mut setup = db.session();
    setup
        .execute("CREATE TABLE acc (id INTEGER PRIMARY KEY, balance INTEGER)")
        .unwrap();
    setup.execute("INSERT INTO acc VALUES (1, 100)").unwrap();
    let mut a = db.session();
    let mut b = db.session();
    a.execute("BEGIN ISOLATION LEVEL REPEATABLE READ").unwrap();
    b.execute("BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .unwrap();
    assert_eq!(query(&mut a, "SELECT balance FROM acc"), [["100"]]);
    assert_eq!(query(&mut b, "SELECT balance FROM acc"), [["100"]]);
    setup
        .execute("UPDATE acc SET balance = 50 WHERE id = 1")
        .unwrap();
    // REPEATABLE READ keeps its snapshot; READ COMMITTED sees the new commit.
    assert_eq!(query(&mut a, "SELECT balance FROM acc"), [["100"]]);
    assert_eq!(query(&mut b, "SELECT balance FROM acc"), [["50"]]);
    // Writing a row changed after the snapshot is a retryable serialization failure.
    let err = a
        .execute("UPDATE acc SET balance = balance + 1 WHERE id = 1")
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    a.execute("ROLLBACK").unwrap();
    b.execute("COMMIT").unwrap();
}

#[test]
fn prepared_statements_with_parameters() {
    let (_dir, db) = open();
    let mut s = db.session();
    seed_users(&mut s);
    let by_id = s
        .prepare("SELECT name FROM users WHERE user_id = $1")
        .unwrap();
    assert_eq!(by_id.param_count(), 1);
    for (id, name) in [("u1", "Alice"), ("u3", "Carol")] {
        let result = s.execute_prepared(&by_id, &[id.into()]).unwrap();
        assert_eq!(result.rows()[0].get::<String>(0).unwrap(), name);
    }
    assert!(matches!(
        s.execute_prepared(&by_id, &[]),
        Err(Error::Parameter(_))
    ));
    let plan = explain(&mut s, "SELECT name FROM users WHERE user_id = $1");
    assert!(plan.contains("KeyLookup: users (user_id) = ($1)"), "{plan}");
    let insert = s.prepare("INSERT INTO users VALUES ($1, $2, $3)").unwrap();
    s.execute_prepared(&insert, &["u5".into(), "Eve".into(), Value::Null])
        .unwrap();
    let result = s
        .query("SELECT name FROM users WHERE user_id = $1", &["u5".into()])
        .unwrap();
    assert_eq!(result.rows()[0].get::<String>("name").unwrap(), "Eve");
    // The catalog changes under a prepared statement: it is planned again.
    s.execute("CREATE INDEX users_name ON users (name)")
        .unwrap();
    let by_name = s
        .prepare("SELECT user_id FROM users WHERE name = $1")
        .unwrap();
    s.execute("DROP INDEX users_name").unwrap();
    let result = s.execute_prepared(&by_name, &["Bob".into()]).unwrap();
    assert_eq!(result.rows()[0].get::<String>(0).unwrap(), "u2");
    s.execute("DROP TABLE users").unwrap();
    assert!(matches!(
        s.execute_prepared(&by_id, &["u1".into()]),
        Err(Error::UnknownName(_))
    ));
}

#[test]
fn data_and_sql_types_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopen.db");
    {
        let db = Database::open(&path).unwrap();
        let mut s = db.session();
        s.execute(
            "CREATE TABLE r (id SMALLINT PRIMARY KEY, name VARCHAR(3) DEFAULT 'abc', at TIMESTAMP, ok BOOLEAN)",
        )
        .unwrap();
        s.execute("INSERT INTO r (id, at, ok) VALUES (1, '2024-01-02 03:04:05', true)")
            .unwrap();
        db.close().unwrap();
    }
    let db = Database::open(&path).unwrap();
    let mut s = db.session();
    assert_eq!(
        query(&mut s, "SELECT * FROM r"),
        [["1", "abc", "2024-01-02 03:04:05", "t"]]
    );
    // SMALLINT and VARCHAR(3) are still checked after reopening; the DEFAULT is kept.
    assert!(matches!(
        s.execute("INSERT INTO r (id) VALUES (70000)"),
        Err(Error::Data(_))
    ));
    assert!(matches!(
        s.execute("INSERT INTO r (id, name) VALUES (2, 'abcd')"),
        Err(Error::Data(_))
    ));
    s.execute("INSERT INTO r (id) VALUES (2)").unwrap();
    assert_eq!(query(&mut s, "SELECT name FROM r WHERE id = 2"), [["abc"]]);
}

#[test]
fn unsupported_clauses_are_named() {
    let (_dir, db) = open();
    let mut s = db.session();
    seed_users(&mut s);
    for (sql, clause) in [
        (
            "SELECT * FROM users u FULL JOIN users v ON u.user_id < v.user_id",
            "FULL JOIN",
        ),
        (
            "SELECT * FROM users u JOIN LATERAL (SELECT u.user_id) x USING (user_id)",
            "LATERAL",
        ),
        (
            "CREATE TABLE f (a TEXT, FOREIGN KEY (a) REFERENCES users (user_id) MATCH FULL)",
            "MATCH FULL",
        ),
        ("BEGIN ISOLATION LEVEL SNAPSHOT", "SNAPSHOT"),
    ] {
        match s.execute(sql) {
            Err(Error::Unsupported(message)) => {
                assert!(message.contains(clause), "{sql}: {message}")
            }
            other => panic!("{sql}: expected Unsupported, got {other:?}"),
        }
    }
    assert!(matches!(s.execute("SELEC 1"), Err(Error::Syntax(_))));
}

#[test]
fn sessions_are_send_and_databases_are_shared() {
    fn assert_send<T: Send>() {}
    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    assert_send::<Session>();
    assert_send_sync_clone::<Database>();
    let (_dir, db) = open();
    db.session()
        .execute("CREATE TABLE c (id INTEGER PRIMARY KEY)")
        .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut s = db.session();
                for i in 0..10 {
                    s.execute(&format!("INSERT INTO c VALUES ({})", t * 100 + i))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        db.session()
            .execute("SELECT * FROM c")
            .unwrap()
            .rows()
            .len(),
        40
    );
}

#[test]
fn insert_select_and_own_writes_through_an_index() {
    let (_dir, db) = open();
    let mut s = db.session();
    seed_users(&mut s);
    s.execute("CREATE TABLE archive (id TEXT PRIMARY KEY, who TEXT)")
        .unwrap();
    let copied = s
        .execute(
            "INSERT INTO archive (id, who) SELECT user_id, name FROM users WHERE status = 'active'",
        )
        .unwrap();
    assert_eq!(copied.tag(), "INSERT 0 2");
    assert_eq!(
        query(&mut s, "SELECT * FROM archive ORDER BY id"),
        [["u1", "Alice"], ["u3", "Carol"]]
    );
    s.execute("CREATE INDEX users_status ON users (status)")
        .unwrap();
    s.execute("BEGIN").unwrap();
    s.execute("INSERT INTO users VALUES ('u7', 'Gus', 'active')")
        .unwrap();
    s.execute("UPDATE users SET status = 'active' WHERE user_id = 'u2'")
        .unwrap();
    // The transaction reads its own writes through the index.
    assert_eq!(
        query(
            &mut s,
            "SELECT user_id FROM users WHERE status = 'active' ORDER BY 1"
        ),
        [["u1"], ["u2"], ["u3"], ["u7"]]
    );
    let other = db
        .session()
        .execute("SELECT user_id FROM users WHERE status = 'active'")
        .unwrap();
    assert_eq!(other.rows().len(), 2);
    s.execute("COMMIT").unwrap();
    let plan = explain(&mut s, "UPDATE users SET name = 'x' WHERE user_id = 'u1'");
    assert_eq!(
        plan,
        "Update: users set name = 'x'\n  Filter: user_id = 'u1'\n    KeyLookup: users (user_id) = ('u1')"
    );
}

#[test]
fn numbers_mix_and_literals_take_the_column_type() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute("CREATE TABLE p (id BIGINT PRIMARY KEY, price REAL, day DATE)")
        .unwrap();
    s.execute("INSERT INTO p VALUES (1, 9.5, '2024-01-01'), (2, 10, '2024-06-30')")
        .unwrap();
    assert_eq!(
        query(&mut s, "SELECT id FROM p WHERE price > 9.75"),
        [["2"]]
    );
    assert_eq!(query(&mut s, "SELECT id FROM p WHERE price >= 10"), [["2"]]);
    assert_eq!(
        query(&mut s, "SELECT id FROM p WHERE day > '2024-03-01'"),
        [["2"]]
    );
    // A string literal compared with an integer key is cast, so the key is still used.
    assert!(explain(&mut s, "SELECT * FROM p WHERE id = '2'").contains("KeyLookup"));
    assert_eq!(
        query(&mut s, "SELECT price FROM p WHERE id = '2'"),
        [["10"]]
    );
    assert!(matches!(
        s.execute("SELECT * FROM p WHERE day = 'not a date'"),
        Err(Error::Data(_))
    ));
}
