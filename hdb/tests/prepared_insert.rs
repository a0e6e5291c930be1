//! A prepared one-row INSERT (the shape of a bulk load: one execution per row) keeps
//! every rule of an INSERT: defaults, casts of its parameters and values, NOT NULL,
//! CHECK, keys, RETURNING and the command tag; a failed row leaves nothing behind.
//! The SQLSTATEs are PostgreSQL 15's for the same statements.
#![allow(clippy::unwrap_used)]

use hdb::Value;

fn setup() -> (hdb::Database, hdb::Session) {
    let db = hdb::Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute(
        "CREATE SEQUENCE s;
         CREATE TABLE t (
             id INT PRIMARY KEY,
             name VARCHAR(5) NOT NULL DEFAULT 'dflt',
             n INT CHECK (n > 0),
             seq BIGINT DEFAULT nextval('s')
         )",
    )
    .unwrap();
    (db, s)
}

fn rows(s: &mut hdb::Session) -> Vec<String> {
    let result = s
        .execute("SELECT id::text, name, n::text, seq::text FROM t ORDER BY id")
        .unwrap();
    result
        .rows()
        .iter()
        .map(|r| {
            (0..4)
                .map(|i| match r.get::<Option<String>>(i).unwrap() {
                    Some(v) => v,
                    None => "NULL".into(),
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

fn state(result: hdb::Result<hdb::QueryResult>) -> &'static str {
    match result {
        Ok(r) => panic!("succeeded: {r:?}"),
        Err(e) => e.sqlstate(),
    }
}

#[test]
fn omitted_columns_take_their_defaults_per_row() {
    let (_db, mut s) = setup();
    let insert = s.prepare("INSERT INTO t (id, n) VALUES ($1, $2)").unwrap();
    for id in 1..=3i64 {
        let result = s
            .execute_prepared(&insert, hdb::params![id, id * 10])
            .unwrap();
        assert_eq!(result.tag(), "INSERT 0 1");
        assert_eq!(result.rows_affected(), 1);
        assert!(result.columns().is_empty());
    }
    assert_eq!(rows(&mut s), ["1|dflt|10|1", "2|dflt|20|2", "3|dflt|30|3"]);
}

#[test]
fn parameters_and_values_are_cast_to_their_columns() {
    let (_db, mut s) = setup();
    let insert = s
        .prepare("INSERT INTO t (id, name, n) VALUES ($1, $2, $3 + 1)")
        .unwrap();
    // Text for an integer parameter is read as an integer, as PostgreSQL reads a
    // parameter sent as text.
    s.execute_prepared(
        &insert,
        &[Value::from("7"), Value::from("ab"), Value::from(4i64)],
    )
    .unwrap();
    assert_eq!(rows(&mut s), ["7|ab|5|1"]);
    // Not an integer: an error, and nothing written.
    let bad = s.execute_prepared(
        &insert,
        &[Value::from("x"), Value::from("ab"), Value::from(1i64)],
    );
    assert!(bad.is_err());
    // Out of INT's range (22003), too long for VARCHAR(5) (22001).
    let big = s.execute_prepared(&insert, hdb::params![1i64 << 40, "ab", 1i64]);
    assert_eq!(state(big), "22003");
    let long = s.execute_prepared(&insert, hdb::params![8i64, "abcdef", 1i64]);
    assert_eq!(state(long), "22001");
    assert_eq!(rows(&mut s), ["7|ab|5|1"]);
}

#[test]
fn constraints_are_checked_and_a_failed_row_leaves_nothing() {
    let (_db, mut s) = setup();
    let insert = s
        .prepare("INSERT INTO t (id, name, n) VALUES ($1, $2, $3)")
        .unwrap();
    s.execute_prepared(&insert, hdb::params![1i64, "a", 1i64])
        .unwrap();
    let not_null = s.execute_prepared(
        &insert,
        &[Value::from(2i64), Value::Null, Value::from(1i64)],
    );
    assert_eq!(state(not_null), "23502");
    let check = s.execute_prepared(&insert, hdb::params![2i64, "b", 0i64]);
    assert_eq!(state(check), "23514");
    let duplicate = s.execute_prepared(&insert, hdb::params![1i64, "c", 3i64]);
    assert_eq!(state(duplicate), "23505");
    // A NULL passes CHECK (n > 0), as in PostgreSQL.
    s.execute_prepared(&insert, &[Value::from(3i64), Value::from("d"), Value::Null])
        .unwrap();
    // The failed rows consumed sequence values (nextval is not transactional) but
    // wrote nothing.
    assert_eq!(rows(&mut s), ["1|a|1|1", "3|d|NULL|5"]);
}

#[test]
fn returning_and_an_explicit_transaction() {
    let (_db, mut s) = setup();
    let insert = s
        .prepare("INSERT INTO t (id, n) VALUES ($1, $2) RETURNING id * 2, name, seq")
        .unwrap();
    s.execute("BEGIN").unwrap();
    let result = s
        .execute_prepared(&insert, hdb::params![5i64, 1i64])
        .unwrap();
    assert_eq!(result.tag(), "INSERT 0 1");
    assert_eq!(result.columns().len(), 3);
    let row = &result.rows()[0];
    assert_eq!(row.get::<i64>(0).unwrap(), 10);
    assert_eq!(row.get::<String>(1).unwrap(), "dflt");
    assert_eq!(row.get::<i64>(2).unwrap(), 1);
    // An error aborts the transaction (PostgreSQL's rule); ROLLBACK undoes the row.
    let check = s.execute_prepared(&insert, hdb::params![6i64, -1i64]);
    assert_eq!(state(check), "23514");
    assert_eq!(
        state(s.execute_prepared(&insert, hdb::params![7i64, 1i64])),
        "25P02"
    );
    s.execute("ROLLBACK").unwrap();
    assert!(rows(&mut s).is_empty());
}

/// A table with no CHECK and no foreign key: the row goes to the engine as engine
/// values at once, and the engine's own checks give the same errors, word for word, as
/// a many-row INSERT (the general path) gives.
#[test]
fn a_row_without_checks_keeps_the_engines_checks() {
    let db = hdb::Database::open_in_memory().unwrap();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE u (id INT PRIMARY KEY, name TEXT NOT NULL, n SMALLINT DEFAULT 7, f FLOAT)",
    )
    .unwrap();
    let insert = s
        .prepare("INSERT INTO u (id, name, f) VALUES ($1, $2, 2)")
        .unwrap();
    let result = s
        .execute_prepared(&insert, hdb::params![1i64, "a"])
        .unwrap();
    assert_eq!(result.tag(), "INSERT 0 1");
    let one = s.execute("SELECT id, name, n, f FROM u").unwrap();
    let row = &one.rows()[0];
    assert_eq!(row.get::<i64>(2).unwrap(), 7);
    assert_eq!(row.get::<f64>(3).unwrap(), 2.0);
    let cases: [(&[Value], &str, &str); 3] = [
        (
            &[Value::from(1i64), Value::from("b")],
            "(1, 'b', 2)",
            "23505",
        ),
        (&[Value::from(2i64), Value::Null], "(2, NULL, 2)", "23502"),
        (
            &[Value::from(1i64 << 40), Value::from("c")],
            "(1099511627776, 'c', 2)",
            "22003",
        ),
    ];
    for (params, literal, sqlstate) in cases {
        let prepared = s.execute_prepared(&insert, params).unwrap_err();
        let general = s
            .execute(&format!(
                "INSERT INTO u (id, name, f) VALUES {literal}, (99, 'z', 2)"
            ))
            .unwrap_err();
        assert_eq!(prepared.sqlstate(), sqlstate, "{prepared}");
        assert_eq!(prepared.sqlstate(), general.sqlstate());
        assert_eq!(prepared.to_string(), general.to_string());
    }
    assert_eq!(
        s.execute("SELECT count(*) FROM u").unwrap().rows()[0]
            .get::<i64>(0)
            .unwrap(),
        1
    );
}
