//! Bad input never panics: token soup, mutated valid statements and wrong-typed
//! parameters all come back as `Ok` or `Err` from `Session::execute` / `query`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::{Cell, RefCell};

use hdb::{Database, Session, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Cases per property (the brief asks for at least 256).
const CASES: u32 = 384;

const SETUP: &str = "
    CREATE TABLE users (user_id VARCHAR PRIMARY KEY, name VARCHAR(10), status TEXT,
                        age SMALLINT DEFAULT 0, born DATE, seen TIMESTAMP, ok BOOLEAN,
                        score REAL);
    CREATE INDEX users_status ON users (status);
    CREATE UNIQUE INDEX users_name ON users (name, age);
    CREATE TABLE pairs (a INTEGER, b DOUBLE PRECISION, PRIMARY KEY (a, b));
    INSERT INTO users VALUES ('u1', 'Alice', 'active', 30, '2000-01-01', '2024-01-01 10:00:00', true, 1.5),
                             ('u2', 'Bob', NULL, NULL, NULL, NULL, NULL, NULL);
    INSERT INTO pairs VALUES (1, 1.0), (2, 0.5);";

const VALID: &[&str] = &[
    "SELECT * FROM users WHERE user_id = 'u1'",
    "SELECT user_id, age * 2 AS twice FROM users WHERE status = 'active' ORDER BY twice DESC NULLS LAST LIMIT 1 OFFSET 0",
    "SELECT name || '!' FROM users WHERE age BETWEEN 1 AND 40 OR ok IS NULL ORDER BY 1",
    "INSERT INTO users (user_id, name, born) VALUES ('u9', 'Zed', '1999-12-31')",
    "UPDATE users SET age = age + 1, status = 'x' WHERE user_id IN ('u1', 'u2')",
    "DELETE FROM users WHERE seen < TIMESTAMP '2025-01-01 00:00:00'",
    "EXPLAIN SELECT * FROM pairs WHERE a = 1 AND b > 0.25",
    "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM pairs; COMMIT",
    "CREATE TABLE t2 (x INTEGER PRIMARY KEY, y TEXT UNIQUE NOT NULL DEFAULT 'd')",
    "CREATE INDEX t_idx ON pairs (b)",
    "DROP TABLE IF EXISTS t2",
    "SELECT -a, a / 0, a % 2, b * 1e308 * 10 FROM pairs",
    "SELECT * FROM users WHERE NOT (score > 1) AND born <> DATE '2000-01-01'",
];

const TOKENS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "DELETE",
    "CREATE",
    "TABLE",
    "INDEX",
    "UNIQUE",
    "DROP",
    "IF",
    "EXISTS",
    "ON",
    "PRIMARY",
    "KEY",
    "NOT",
    "NULL",
    "AND",
    "OR",
    "IS",
    "IN",
    "BETWEEN",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "OFFSET",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "EXPLAIN",
    "DEFAULT",
    "AS",
    "JOIN",
    "GROUP",
    "COUNT",
    "DATE",
    "TIMESTAMP",
    "INTEGER",
    "TEXT",
    "VARCHAR(2)",
    "SMALLINT",
    "BOOLEAN",
    "REAL",
    "users",
    "pairs",
    "user_id",
    "name",
    "status",
    "age",
    "a",
    "b",
    "*",
    ",",
    "(",
    ")",
    ";",
    "=",
    "<>",
    "<",
    ">=",
    "+",
    "-",
    "/",
    "%",
    "||",
    "'u1'",
    "'x'",
    "''",
    "'2024-02-30'",
    "0",
    "1",
    "-1",
    "2.5",
    "9223372036854775807",
    "99999999999999999999",
    "$1",
    "$0",
    "$2",
    "TRUE",
    "FALSE",
    "\"Q\"",
];

fn session() -> (tempfile::TempDir, Session) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("fuzz.db")).unwrap();
    let mut session = db.session();
    session.execute(SETUP).unwrap();
    (dir, session)
}

/// Runs `sql` and returns the session to autocommit, whatever happened; counts the
/// statements that succeeded, to show the inputs reach execution.
fn run(session: &RefCell<Session>, ok: &Cell<u32>, sql: &str, params: &[Value]) {
    let mut session = session.borrow_mut();
    if session.query(sql, params).is_ok() {
        ok.set(ok.get() + 1);
    }
    let _ = session.execute("ROLLBACK");
}

/// A runner with a fixed seed: the inputs are the same on every run, so the check that
/// some of them execute successfully cannot flake.
fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    )
}

#[test]
fn token_soup_never_panics() {
    let (_dir, session) = session();
    let session = RefCell::new(session);
    let ok = Cell::new(0);
    let soup = prop::collection::vec(prop::sample::select(TOKENS), 1..24)
        .prop_map(|tokens| tokens.join(" "));
    runner()
        .run(&soup, |sql| {
            run(&session, &ok, &sql, &[]);
            Ok(())
        })
        .unwrap();
    assert!(ok.get() > 0, "no input ran successfully");
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, char),
    Replace(usize, &'static str),
}

fn mutate(sql: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = sql.chars().collect();
    for mutation in mutations {
        let len = chars.len().max(1);
        match mutation {
            Mutation::Delete(at, n) => {
                let start = at % len;
                let end = (start + n).min(chars.len());
                if start < end {
                    chars.drain(start..end);
                }
            }
            Mutation::Insert(at, c) => chars.insert((at % len).min(chars.len()), *c),
            Mutation::Replace(at, token) => {
                let at = (at % len).min(chars.len());
                for (i, c) in token.chars().enumerate() {
                    chars.insert(at + i, c);
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn mutated_valid_statements_never_panic() {
    let (_dir, session) = session();
    let session = RefCell::new(session);
    let ok = Cell::new(0);
    let mutation = prop_oneof![
        (any::<usize>(), 1usize..8).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), prop::char::range(' ', '~')).prop_map(|(a, c)| Mutation::Insert(a, c)),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(a, t)| Mutation::Replace(a, t)),
    ];
    let strategy = (
        prop::sample::select(VALID),
        prop::collection::vec(mutation, 0..4),
    );
    runner()
        .run(&strategy, |(sql, mutations)| {
            run(&session, &ok, &mutate(sql, &mutations), &[]);
            Ok(())
        })
        .unwrap();
    assert!(ok.get() > 0, "no input ran successfully");
}

#[test]
fn wrong_typed_parameters_never_panic() {
    let (_dir, session) = session();
    let session = RefCell::new(session);
    let ok = Cell::new(0);
    let value = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        "[a-z0-9:. -]{0,12}".prop_map(Value::Text),
        any::<i32>().prop_map(Value::Date),
        any::<i64>().prop_map(Value::Timestamp),
    ];
    const STATEMENTS: &[&str] = &[
        "SELECT * FROM users WHERE user_id = $1 AND age < $2",
        "SELECT * FROM pairs WHERE a = $1 AND b >= $2 LIMIT $1",
        "INSERT INTO users (user_id, age, born, seen, ok, score) VALUES ('p', $1, $2, $1, $2, $1)",
        "UPDATE users SET seen = $1, score = $2 WHERE user_id = 'u2'",
        "SELECT $1 + $2, $1 || $2",
    ];
    let strategy = (
        prop::sample::select(STATEMENTS),
        prop::collection::vec(value, 0..4),
    );
    runner()
        .run(&strategy, |(sql, params)| {
            run(&session, &ok, sql, &params);
            Ok(())
        })
        .unwrap();
    assert!(ok.get() > 0, "no input ran successfully");
}

/// Deeply nested input is an error, not a stack overflow (which would abort the process,
/// not panic): the parser's recursion limit stops it, with or without sqlparser's
/// stack-growing `recursive-protection` feature (which hdb leaves out).
#[test]
fn deep_nesting_is_an_error() {
    let (_dir, mut session) = session();
    let depth = 100_000;
    let cases = [
        format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth)),
        format!("SELECT {}TRUE", "NOT ".repeat(depth)),
        format!("SELECT {}1", "- ".repeat(depth)),
        format!(
            "SELECT * FROM {}users{}",
            "(SELECT * FROM ".repeat(depth),
            ") AS t".repeat(depth)
        ),
        format!("SELECT {}", "ARRAY[".repeat(depth)),
        format!("SELECT CASE WHEN {}", "CASE WHEN ".repeat(depth)),
    ];
    for sql in &cases {
        let outcome = session.execute(sql);
        assert!(outcome.is_err(), "{}...: {outcome:?}", &sql[..40]);
    }
    // Modest nesting still runs.
    let sql = format!("SELECT {}1{}", "(".repeat(20), ")".repeat(20));
    assert_eq!(
        session.execute(&sql).unwrap().rows()[0]
            .get::<i64>(0)
            .unwrap(),
        1
    );
}

/// A WHERE clause whose types are wrong is refused when the statement is bound, before
/// any row is read: the same error whether the plan reads the table through an index, by
/// a scan, or reads no row at all (PostgreSQL's behaviour; a per-row check would answer
/// through an index that finds nothing and fail through a scan).
#[test]
fn type_errors_in_where_are_raised_before_any_row_is_read() {
    let (_dir, mut session) = session();
    session
        .execute("CREATE TABLE empty (id INTEGER PRIMARY KEY, s TEXT); CREATE INDEX empty_s ON empty (s)")
        .unwrap();
    let bad = [
        "age = 'abc'",
        "age + 'x' > 1",
        "status > 5",
        "ok = 3",
        "name = TRUE",
    ];
    for predicate in bad {
        let mut errors = Vec::new();
        for access in [
            "status = 'active'",     // through users_status, one row
            "status = 'no such'",    // through users_status, no row
            "user_id > ''",          // a range of the primary key
            "score IS NULL OR true", // a scan
        ] {
            let sql = format!("SELECT * FROM users WHERE {access} AND {predicate}");
            let err = session.execute(&sql).expect_err(&sql);
            errors.push((err.sqlstate(), err.to_string()));
            let explained = session.execute(&format!("EXPLAIN {sql}"));
            assert!(
                explained.is_err(),
                "EXPLAIN {sql} planned a statement that cannot run"
            );
        }
        assert!(
            errors.windows(2).all(|w| w[0] == w[1]),
            "{predicate}: {errors:?}"
        );
    }
    // On a table without rows too.
    for predicate in ["id = 'abc'", "s > 5"] {
        let sql = format!("SELECT * FROM empty WHERE {predicate}");
        assert!(session.execute(&sql).is_err(), "{sql}");
    }
}
