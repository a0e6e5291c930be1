//! CREATE FUNCTION ... RETURNS TABLE, DROP FUNCTION, and calls in FROM, end to end:
//! the seed's Example 2 verbatim, name resolution inside bodies, parameters, prepared
//! calls, transactions, persistence, and the errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hdb::{Database, Error, Session, Value};

/// The seed's Example 2, verbatim.
const EXAMPLE_2: &str = "
CREATE OR REPLACE FUNCTION retrieve_user_info_h(p_user_id VARCHAR)
RETURNS TABLE(user_id VARCHAR, name VARCHAR, status VARCHAR) AS $$
BEGIN
   RETURN QUERY
      SELECT user_id, name, status
      FROM Users
      WHERE user_id = p_user_id;
END;
$$ LANGUAGE plpgsql;
";

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("test.db")).unwrap();
    (dir, db)
}

fn rows(s: &mut Session, sql: &str) -> Vec<Vec<String>> {
    s.execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows()
        .iter()
        .map(|r| r.values().iter().map(ToString::to_string).collect())
        .collect()
}

fn users(s: &mut Session) {
    s.execute(
        "CREATE TABLE Users (user_id VARCHAR PRIMARY KEY, name VARCHAR, status VARCHAR);
         INSERT INTO Users VALUES ('user_1', 'Alice', 'active'), ('user_2', 'Bob', 'inactive')",
    )
    .unwrap();
}

#[test]
fn seed_example_2_runs_verbatim() {
    let (_dir, db) = open();
    let mut s = db.session();
    users(&mut s);
    assert_eq!(s.execute(EXAMPLE_2).unwrap().tag(), "CREATE FUNCTION");
    let result = s
        .execute("SELECT * FROM retrieve_user_info_h('user_1');")
        .unwrap();
    assert_eq!(result.columns(), ["user_id", "name", "status"]);
    assert_eq!(
        rows(&mut s, "SELECT * FROM retrieve_user_info_h('user_1')"),
        [["user_1", "Alice", "active"]]
    );
    assert!(rows(&mut s, "SELECT * FROM retrieve_user_info_h('nobody')").is_empty());
    // The call is planned like the query it wraps: a key lookup.
    let plan = rows(
        &mut s,
        "EXPLAIN SELECT * FROM retrieve_user_info_h('user_1')",
    )
    .concat()
    .join("\n");
    assert!(plan.contains("KeyLookup"), "{plan}");
    // Its columns can be used like a table's, under the function's name or an alias.
    assert_eq!(
        rows(
            &mut s,
            "SELECT r.name, upper(retrieve_user_info_h.status)
             FROM retrieve_user_info_h('user_2') AS r, retrieve_user_info_h('user_2')"
        ),
        [["Bob", "INACTIVE"]]
    );
    // CREATE OR REPLACE replaces it.
    s.execute(&EXAMPLE_2.replace("WHERE user_id = p_user_id", "WHERE user_id <> p_user_id"))
        .unwrap();
    assert_eq!(
        rows(&mut s, "SELECT name FROM retrieve_user_info_h('user_1')"),
        [["Bob"]]
    );
}

#[test]
fn language_sql_parameters_by_position_and_casts_to_the_declared_types() {
    let (_dir, db) = open();
    let mut s = db.session();
    users(&mut s);
    s.execute(
        "CREATE FUNCTION named_like(pattern TEXT, n INTEGER)
         RETURNS TABLE(label TEXT, score DOUBLE PRECISION) AS $$
           SELECT name || '#' || $2, 1 FROM users WHERE name LIKE pattern ORDER BY name
         $$ LANGUAGE sql",
    )
    .unwrap();
    let result = s.execute("SELECT * FROM named_like('%o%', 7)").unwrap();
    assert_eq!(result.columns(), ["label", "score"]);
    assert_eq!(
        result.rows()[0].values(),
        [Value::Text("Bob#7".into()), Value::Float(1.0)]
    );
    // A text literal argument is parsed as the parameter's type; a wrong one fails.
    assert_eq!(
        rows(&mut s, "SELECT label FROM named_like('A%', '3')"),
        [["Alice#3"]]
    );
    assert!(matches!(
        s.execute("SELECT * FROM named_like('A%', 'three')")
            .unwrap_err(),
        Error::Data(_)
    ));
    assert!(matches!(
        s.execute("SELECT * FROM named_like('A%', DATE '2024-01-01')")
            .unwrap_err(),
        Error::Type(_)
    ));
    assert!(matches!(
        s.execute("SELECT * FROM named_like('A%')").unwrap_err(),
        Error::UnknownFunction(_)
    ));
}

#[test]
fn prepared_calls_plan_once_and_see_replacements() {
    let (_dir, db) = open();
    let mut s = db.session();
    users(&mut s);
    s.execute(EXAMPLE_2).unwrap();
    let call = s
        .prepare("SELECT name FROM retrieve_user_info_h($1)")
        .unwrap();
    assert_eq!(call.param_count(), 1);
    for (id, name) in [("user_1", "Alice"), ("user_2", "Bob")] {
        let r = s.execute_prepared(&call, &[id.into()]).unwrap();
        assert_eq!(r.rows()[0].get::<String>(0).unwrap(), name);
    }
    let mut other = db.session();
    other
        .execute(&EXAMPLE_2.replace(
            "SELECT user_id, name, status",
            "SELECT user_id, status, name",
        ))
        .unwrap();
    let r = s.execute_prepared(&call, &["user_1".into()]).unwrap();
    assert_eq!(r.rows()[0].get::<String>(0).unwrap(), "active");
}

#[test]
fn functions_are_transactional_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    {
        let db = Database::open(&path).unwrap();
        let mut s = db.session();
        users(&mut s);
        s.execute("BEGIN").unwrap();
        s.execute(EXAMPLE_2).unwrap();
        assert_eq!(
            rows(&mut s, "SELECT name FROM retrieve_user_info_h('user_1')"),
            [["Alice"]]
        );
        s.execute("ROLLBACK").unwrap();
        assert!(matches!(
            s.execute("SELECT * FROM retrieve_user_info_h('user_1')")
                .unwrap_err(),
            Error::UnknownFunction(_)
        ));
        s.execute(EXAMPLE_2).unwrap();
        assert!(matches!(
            s.execute(&EXAMPLE_2.replace("OR REPLACE ", ""))
                .unwrap_err(),
            Error::AlreadyExists(_)
        ));
        db.close().unwrap();
    }
    let db = Database::open(&path).unwrap();
    let mut s = db.session();
    assert_eq!(
        rows(&mut s, "SELECT status FROM retrieve_user_info_h('user_2')"),
        [["inactive"]]
    );
    assert_eq!(
        s.execute("DROP FUNCTION retrieve_user_info_h")
            .unwrap()
            .tag(),
        "DROP FUNCTION"
    );
    assert!(matches!(
        s.execute("DROP FUNCTION retrieve_user_info_h(VARCHAR)")
            .unwrap_err(),
        Error::UnknownFunction(_)
    ));
    s.execute("DROP FUNCTION IF EXISTS retrieve_user_info_h")
        .unwrap();
}

#[test]
fn bad_definitions_and_calls_are_typed_errors() {
    let (_dir, db) = open();
    let mut s = db.session();
    users(&mut s);
    for (sql, what) in [
        (
            "CREATE FUNCTION f() RETURNS INTEGER AS $$ SELECT 1 $$ LANGUAGE sql",
            "RETURNS TABLE",
        ),
        (
            "CREATE FUNCTION f() RETURNS TABLE(a INTEGER) AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql",
            "plpgsql",
        ),
        (
            "CREATE FUNCTION f() RETURNS TABLE(a INTEGER) AS $$ SELECT 1 $$ LANGUAGE python",
            "LANGUAGE",
        ),
        (
            "CREATE FUNCTION f() RETURNS TABLE(a INTEGER) AS $$ DELETE FROM users $$ LANGUAGE sql",
            "function bodies",
        ),
    ] {
        match s.execute(sql) {
            Err(Error::Unsupported(m)) => assert!(m.contains(what), "{sql}: {m}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    assert!(matches!(
        s.execute("CREATE FUNCTION f() RETURNS TABLE(a INTEGER) AS $$ SELEC 1 $$ LANGUAGE sql")
            .unwrap_err(),
        Error::Syntax(_)
    ));
    // Bodies are bound at the call: a missing table, or a shape that does not match.
    s.execute(
        "CREATE FUNCTION later() RETURNS TABLE(a INTEGER) AS $$ SELECT a FROM t $$ LANGUAGE sql",
    )
    .unwrap();
    assert!(matches!(
        s.execute("SELECT * FROM later()").unwrap_err(),
        Error::UnknownName(_)
    ));
    s.execute("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (5)")
        .unwrap();
    assert_eq!(rows(&mut s, "SELECT * FROM later()"), [["5"]]);
    s.execute("CREATE FUNCTION two() RETURNS TABLE(a INTEGER) AS $$ SELECT 1, 2 $$ LANGUAGE sql")
        .unwrap();
    assert!(matches!(
        s.execute("SELECT * FROM two()").unwrap_err(),
        Error::Type(_)
    ));
    // A function calling itself is an error, not a stack overflow.
    s.execute(
        "CREATE FUNCTION forever() RETURNS TABLE(a INTEGER) AS $$ SELECT a FROM forever() $$ LANGUAGE sql",
    )
    .unwrap();
    assert!(matches!(
        s.execute("SELECT * FROM forever()").unwrap_err(),
        Error::Unsupported(_)
    ));
    assert!(matches!(
        s.execute("SELECT * FROM no_such_function(1)").unwrap_err(),
        Error::UnknownFunction(_)
    ));
}

/// Issue 10, item 4: functions that each call the previous one four times used to inline
/// `4^n` copies of the first body (g9: 12.6 s and 658 MB; g15 ran out of memory). The
/// bodies one statement may inline are bounded, so a deep family is a quick error and
/// a shallow one still answers.
#[test]
fn exponential_inlining_is_refused_quickly() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);
         CREATE FUNCTION g0() RETURNS TABLE(id INTEGER) LANGUAGE sql AS $$ SELECT id FROM t $$",
    )
    .unwrap();
    for i in 1..=15 {
        let p = format!("g{}", i - 1);
        s.execute(&format!(
            "CREATE FUNCTION g{i}() RETURNS TABLE(id INTEGER) LANGUAGE sql AS $$ \
             SELECT id FROM {p}() UNION ALL SELECT id FROM {p}() UNION ALL \
             SELECT id FROM {p}() UNION ALL SELECT id FROM {p}() $$"
        ))
        .unwrap();
    }
    assert_eq!(rows(&mut s, "SELECT count(*) FROM g4()"), [["256"]]);
    for sql in [
        "SELECT count(*) FROM g9()",
        "EXPLAIN SELECT count(*) FROM g9()",
        "SELECT 1 FROM g15() LIMIT 1",
    ] {
        match s.execute(sql) {
            Err(Error::TooComplex(m)) => assert!(m.contains("inline more than"), "{m}"),
            other => panic!("{sql}: {other:?}"),
        }
    }
    // The session goes on.
    assert_eq!(rows(&mut s, "SELECT count(*) FROM g1()"), [["4"]]);
}
