//! The scalar side of SQL end to end: CASE, CAST and `::`, LIKE, COALESCE/NULLIF, text
//! and numeric functions, the clock, INTERVAL arithmetic, and their NULL and error cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hdb::{Database, Error, Session, Value};

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("test.db")).unwrap();
    (dir, db)
}

/// The single value `SELECT <expr>` returns.
fn value(s: &mut Session, expr: &str) -> Value {
    let result = s
        .execute(&format!("SELECT {expr}"))
        .unwrap_or_else(|e| panic!("SELECT {expr}: {e}"));
    result.rows()[0].values()[0].clone()
}

/// The single value as text ("NULL" for NULL).
fn text(s: &mut Session, expr: &str) -> String {
    value(s, expr).to_string()
}

fn error(s: &mut Session, expr: &str) -> Error {
    s.execute(&format!("SELECT {expr}"))
        .expect_err(&format!("SELECT {expr} should fail"))
}

fn column(s: &mut Session, sql: &str) -> Vec<String> {
    s.execute(sql)
        .unwrap()
        .rows()
        .iter()
        .map(|r| r.values()[0].to_string())
        .collect()
}

#[test]
fn case_searched_and_simple() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, label TEXT);
         INSERT INTO t VALUES (1, 5, 'a'), (2, -3, 'b'), (3, NULL, NULL), (4, 0, 'c')",
    )
    .unwrap();
    assert_eq!(
        column(
            &mut s,
            "SELECT CASE WHEN n > 0 THEN 'pos' WHEN n < 0 THEN 'neg' ELSE 'zero or null' END
             FROM t ORDER BY id"
        ),
        ["pos", "neg", "zero or null", "zero or null"]
    );
    assert_eq!(
        column(
            &mut s,
            "SELECT CASE label WHEN 'a' THEN 1 WHEN 'b' THEN 2 END FROM t ORDER BY id"
        ),
        ["1", "2", "NULL", "NULL"]
    );
    // A NULL operand matches no branch, not even WHEN NULL.
    assert_eq!(text(&mut s, "CASE NULL WHEN NULL THEN 1 ELSE 2 END"), "2");
    // Branches of integer and decimal give a NUMERIC column, of integer and double a
    // double one.
    assert_eq!(
        column(
            &mut s,
            "SELECT CASE WHEN n > 0 THEN n ELSE 0.5 END FROM t ORDER BY id"
        ),
        ["5", "0.5", "0.5", "0.5"]
    );
    assert_eq!(
        s.execute("SELECT CASE WHEN n > 0 THEN n ELSE 0.5::float8 END FROM t ORDER BY id")
            .unwrap()
            .rows()
            .iter()
            .map(|r| r.values()[0].clone())
            .collect::<Vec<_>>(),
        [
            Value::Float(5.0),
            Value::Float(0.5),
            Value::Float(0.5),
            Value::Float(0.5)
        ]
    );
    // The branch not taken is not evaluated.
    assert_eq!(text(&mut s, "CASE WHEN 1 = 1 THEN 1 ELSE 1 / 0 END"), "1");
    assert!(matches!(
        error(&mut s, "CASE WHEN 1 THEN 1 END"),
        Error::Type(_)
    ));
    assert!(matches!(
        error(&mut s, "CASE WHEN true THEN 1 ELSE DATE '2024-01-01' END"),
        Error::Type(_)
    ));
}

#[test]
fn casts_between_all_types() {
    let (_dir, db) = open();
    let mut s = db.session();
    assert_eq!(value(&mut s, "CAST('42' AS INTEGER)"), Value::Int(42));
    assert_eq!(value(&mut s, "'42'::bigint + 1"), Value::Int(43));
    assert_eq!(
        value(&mut s, "CAST(7 AS DOUBLE PRECISION)"),
        Value::Float(7.0)
    );
    // A decimal literal is PostgreSQL's NUMERIC, rounded half away from zero; a DOUBLE
    // rounds half to even (PostgreSQL 15: 3 and 2).
    assert_eq!(value(&mut s, "2.5::integer"), Value::Int(3));
    assert_eq!(value(&mut s, "2.5::float8::integer"), Value::Int(2));
    assert_eq!(text(&mut s, "CAST(12 AS TEXT) || 'x'"), "12x");
    assert_eq!(text(&mut s, "true::text"), "true");
    assert_eq!(text(&mut s, "'yes'::boolean"), "t");
    assert_eq!(text(&mut s, "'2024-02-29'::date + 1"), "2024-03-01");
    assert_eq!(
        text(&mut s, "CAST('2024-02-29 10:30:00' AS TIMESTAMP)"),
        "2024-02-29 10:30:00"
    );
    assert_eq!(
        text(&mut s, "CAST(TIMESTAMP '2024-02-29 10:30:00' AS DATE)"),
        "2024-02-29"
    );
    assert_eq!(text(&mut s, "'abcdef'::varchar(3)"), "abc");
    assert_eq!(text(&mut s, "'1 day 02:00:00'::interval"), "1 day 02:00:00");
    assert_eq!(text(&mut s, "CAST(NULL AS INTEGER)"), "NULL");
    for bad in [
        "'abc'::integer",
        "'2024-13-01'::date",
        "'x'::boolean",
        "70000::smallint",
    ] {
        assert!(matches!(error(&mut s, bad), Error::Data(_)), "{bad}");
    }
    assert!(matches!(error(&mut s, "CAST(1 AS DATE)"), Error::Type(_)));
    // A column's cast fails per row, at execution.
    s.execute("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('1'), ('x')")
        .unwrap();
    assert!(matches!(
        s.execute("SELECT v::integer FROM t").unwrap_err(),
        Error::Data(_)
    ));
    assert_eq!(
        column(&mut s, "SELECT v::integer + 1 FROM t WHERE v = '1'"),
        ["2"]
    );
}

#[test]
fn like_and_ilike() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (name TEXT); INSERT INTO t VALUES ('Alice'), ('alan'), ('Bob'), ('50%'), (NULL)",
    )
    .unwrap();
    assert_eq!(
        column(&mut s, "SELECT name FROM t WHERE name LIKE 'A%'"),
        ["Alice"]
    );
    assert_eq!(
        column(
            &mut s,
            "SELECT name FROM t WHERE name ILIKE 'a%' ORDER BY name"
        ),
        ["Alice", "alan"]
    );
    assert_eq!(
        column(
            &mut s,
            "SELECT name FROM t WHERE name NOT LIKE '%l%' ORDER BY name"
        ),
        ["50%", "Bob"]
    );
    assert_eq!(
        column(&mut s, "SELECT name FROM t WHERE name LIKE '_ob'"),
        ["Bob"]
    );
    assert_eq!(
        column(&mut s, "SELECT name FROM t WHERE name LIKE '50\\%'"),
        ["50%"]
    );
    assert_eq!(
        column(
            &mut s,
            "SELECT name FROM t WHERE name LIKE '50#%' ESCAPE '#'"
        ),
        ["50%"]
    );
    assert_eq!(text(&mut s, "NULL LIKE 'a'"), "NULL");
    assert_eq!(text(&mut s, "'a' LIKE NULL"), "NULL");
    assert!(matches!(error(&mut s, "1 LIKE '1'"), Error::Type(_)));
    assert!(matches!(error(&mut s, "'a' LIKE 'a\\'"), Error::Data(_)));
}

#[test]
fn coalesce_nullif_and_text_functions() {
    let (_dir, db) = open();
    let mut s = db.session();
    assert_eq!(value(&mut s, "COALESCE(NULL, 2, 3)"), Value::Int(2));
    assert_eq!(value(&mut s, "COALESCE(NULL, 2, 3.5)").to_string(), "2");
    assert_eq!(
        value(&mut s, "COALESCE(NULL, 2, 3.5::float8)"),
        Value::Float(2.0)
    );
    assert_eq!(text(&mut s, "COALESCE(NULL, NULL)"), "NULL");
    assert_eq!(value(&mut s, "COALESCE(1, 1 / 0)"), Value::Int(1));
    assert_eq!(text(&mut s, "NULLIF(1, 1)"), "NULL");
    assert_eq!(text(&mut s, "NULLIF('a', 'b')"), "a");
    assert_eq!(text(&mut s, "lower('ÀBC') || upper('xy')"), "àbcXY");
    assert_eq!(value(&mut s, "length('héllo')"), Value::Int(5));
    assert_eq!(text(&mut s, "substr('hello', 2, 3)"), "ell");
    assert_eq!(text(&mut s, "substring('hello' FROM 2 FOR 3)"), "ell");
    assert_eq!(text(&mut s, "substring('hello', 3)"), "llo");
    assert_eq!(text(&mut s, "trim('  x  ') || '|'"), "x|");
    assert_eq!(text(&mut s, "trim(LEADING 'x' FROM 'xxaxx')"), "axx");
    assert_eq!(text(&mut s, "trim(TRAILING FROM '  a  ') || '|'"), "  a|");
    assert_eq!(text(&mut s, "upper(NULL)"), "NULL");
    // No lower(integer): PostgreSQL does not cast integers to text implicitly.
    assert!(matches!(
        error(&mut s, "lower(42)"),
        Error::UnknownFunction(f) if f.ends_with("lower(bigint) does not exist")
    ));
    assert!(matches!(
        error(&mut s, "substr('x', 1, -1)"),
        Error::Data(_)
    ));
    assert!(matches!(
        error(&mut s, "lower('a', 'b')"),
        Error::UnknownFunction(_)
    ));
    assert!(matches!(
        error(&mut s, "COALESCE(1, 'a'::text)"),
        Error::Type(_)
    ));
    match error(&mut s, "no_such_function(1)") {
        Error::UnknownFunction(m) => assert!(m.contains("no_such_function"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn numeric_functions_and_promotion() {
    let (_dir, db) = open();
    let mut s = db.session();
    assert_eq!(value(&mut s, "abs(-3)"), Value::Int(3));
    // Decimal literals are NUMERIC, exact and with PostgreSQL's scales.
    let shown = |s: &mut Session, e: &str| value(s, e).to_string();
    assert_eq!(shown(&mut s, "abs(-3.5)"), "3.5");
    assert_eq!(shown(&mut s, "round(2.5)"), "3");
    assert_eq!(shown(&mut s, "round(2.345, 2)"), "2.35");
    assert_eq!(value(&mut s, "round(2.5::float8)"), Value::Float(3.0));
    assert_eq!(value(&mut s, "round(1234, -2)"), Value::Int(1200));
    assert_eq!(value(&mut s, "-(5)"), Value::Int(-5));
    assert_eq!(shown(&mut s, "-(2.5)"), "-2.5");
    assert_eq!(shown(&mut s, "1 + 0.5"), "1.5");
    assert_eq!(value(&mut s, "7 / 2"), Value::Int(3));
    assert_eq!(shown(&mut s, "7 / 2.0"), "3.5000000000000000");
    assert_eq!(value(&mut s, "7 / 2.0::float8"), Value::Float(3.5));
    assert!(matches!(
        error(&mut s, "abs(-9223372036854775807 - 1)"),
        Error::Data(_)
    ));
    assert!(matches!(
        error(&mut s, "9223372036854775807 + 1"),
        Error::Data(_)
    ));
    assert!(matches!(error(&mut s, "1 / 0"), Error::Data(_)));
    assert!(matches!(
        error(&mut s, "abs('x')"),
        Error::Type(_) | Error::Data(_)
    ));
    // Stored widths are checked on the way in.
    s.execute("CREATE TABLE t (a SMALLINT, b INTEGER, c REAL)")
        .unwrap();
    assert!(matches!(
        s.execute("INSERT INTO t VALUES (32768, 0, 0)").unwrap_err(),
        Error::Data(_)
    ));
    s.execute("INSERT INTO t VALUES (-32768, 2147483647, 1.5)")
        .unwrap();
    assert_eq!(
        s.execute("SELECT a, b, c, a + c FROM t").unwrap().rows()[0].values(),
        [
            Value::Int(-32768),
            Value::Int(2147483647),
            Value::Float(1.5),
            Value::Float(-32766.5)
        ]
    );
}

#[test]
fn intervals_and_date_arithmetic() {
    let (_dir, db) = open();
    let mut s = db.session();
    assert_eq!(text(&mut s, "INTERVAL '7 days'"), "7 days");
    assert_eq!(text(&mut s, "INTERVAL '1 day 02:00:00'"), "1 day 02:00:00");
    assert_eq!(text(&mut s, "INTERVAL '90 minutes'"), "01:30:00");
    assert_eq!(text(&mut s, "INTERVAL '3' HOUR"), "03:00:00");
    assert_eq!(
        text(&mut s, "DATE '2024-03-01' - INTERVAL '7 days'"),
        "2024-02-23 00:00:00"
    );
    assert_eq!(
        text(
            &mut s,
            "TIMESTAMP '2024-01-31 10:00:00' + INTERVAL '1 month'"
        ),
        "2024-02-29 10:00:00"
    );
    assert_eq!(
        text(
            &mut s,
            "TIMESTAMP '2024-01-02 02:00:00' - TIMESTAMP '2024-01-01 00:00:00'"
        ),
        "1 day 02:00:00"
    );
    assert_eq!(text(&mut s, "INTERVAL '1 day' * 3"), "3 days");
    assert_eq!(
        text(&mut s, "INTERVAL '1 hour' + INTERVAL '30 minutes'"),
        "01:30:00"
    );
    assert_eq!(text(&mut s, "-INTERVAL '2 days'"), "-2 days");
    assert_eq!(text(&mut s, "INTERVAL '1 month' = INTERVAL '30 days'"), "t");
    assert_eq!(
        text(
            &mut s,
            "DATE '2024-01-02' > TIMESTAMP '2024-01-01 23:59:59'"
        ),
        "t"
    );
    assert_eq!(
        text(
            &mut s,
            "DATE '2024-01-02' = TIMESTAMP '2024-01-02 00:00:00'"
        ),
        "t"
    );
    assert!(matches!(
        error(&mut s, "INTERVAL '7 fortnights'"),
        Error::Data(_)
    ));
    assert!(matches!(
        error(&mut s, "INTERVAL '1 day' + 1"),
        Error::Type(_)
    ));
    // A column keeps an interval's fields: '1 mon' reads back as '1 mon'.
    s.execute("CREATE TABLE t (i INTERVAL); INSERT INTO t VALUES ('1 mon')")
        .unwrap();
    assert_eq!(
        s.query("SELECT i::text FROM t WHERE i = '30 days'", &[])
            .unwrap()
            .rows()[0]
            .get::<String>(0)
            .unwrap(),
        "1 mon"
    );
    // The seed's filter shape, over a table.
    s.execute(
        "CREATE TABLE ev (id INTEGER PRIMARY KEY, at TIMESTAMP);
         INSERT INTO ev VALUES (1, '2000-01-01 00:00:00')",
    )
    .unwrap();
    s.execute("INSERT INTO ev VALUES (2, CAST(now() AS TIMESTAMP))")
        .unwrap();
    s.execute("INSERT INTO ev VALUES (3, CURRENT_DATE - INTERVAL '3 days')")
        .unwrap();
    assert_eq!(
        column(
            &mut s,
            "SELECT id FROM ev WHERE at >= CURRENT_DATE - INTERVAL '7 days' ORDER BY id"
        ),
        ["2", "3"]
    );
}

#[test]
fn clock_functions_are_evaluated_per_execution() {
    let (_dir, db) = open();
    let mut s = db.session();
    let Value::Timestamp(now) = value(&mut s, "now()") else {
        panic!("now() is not a timestamp");
    };
    let Value::Date(today) = value(&mut s, "CURRENT_DATE") else {
        panic!("CURRENT_DATE is not a date");
    };
    let Value::Timestamp(ts) = value(&mut s, "CURRENT_TIMESTAMP") else {
        panic!("CURRENT_TIMESTAMP is not a timestamp");
    };
    let day = 86_400_000_000i64;
    assert!(ts >= now);
    assert!((i64::from(today) - now.div_euclid(day)).abs() <= 1);
    // A prepared statement reads the clock on each execution, not once at planning.
    let prepared = s.prepare("SELECT now()").unwrap();
    let first = s.execute_prepared(&prepared, &[]).unwrap().rows()[0].values()[0].clone();
    std::thread::sleep(std::time::Duration::from_millis(2));
    let second = s.execute_prepared(&prepared, &[]).unwrap().rows()[0].values()[0].clone();
    match (first, second) {
        (Value::Timestamp(a), Value::Timestamp(b)) => assert!(b > a),
        other => panic!("{other:?}"),
    }
    // EXPLAIN shows the call, not a folded value.
    let plan = s
        .execute("EXPLAIN SELECT CURRENT_DATE - INTERVAL '7 days'")
        .unwrap();
    assert!(
        plan.rows()[0].values()[0]
            .to_string()
            .contains("CURRENT_DATE")
    );
}

#[test]
fn parameters_take_kinds_from_casts_and_functions() {
    let (_dir, db) = open();
    let mut s = db.session();
    let r = s
        .query(
            "SELECT $1::integer + 1, upper($2), COALESCE($3, 'none')",
            &[
                Value::Text("41".into()),
                Value::Text("ab".into()),
                Value::Null,
            ],
        )
        .unwrap();
    assert_eq!(
        r.rows()[0].values(),
        [
            Value::Int(42),
            Value::Text("AB".into()),
            Value::Text("none".into())
        ]
    );
}

#[test]
fn rows_meeting_in_a_column_share_its_kind() {
    let (_dir, db) = open();
    let mut s = db.session();
    let values = |s: &mut Session, sql: &str| -> Vec<Value> {
        s.execute(sql)
            .unwrap()
            .rows()
            .iter()
            .map(|r| r.values()[0].clone())
            .collect()
    };
    assert_eq!(
        values(
            &mut s,
            "SELECT 1 UNION ALL SELECT 2.5 UNION ALL SELECT NULL"
        )
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>(),
        ["1", "2.5", "NULL"]
    );
    assert_eq!(
        values(&mut s, "SELECT 1 UNION ALL SELECT 2.5::float8"),
        [Value::Float(1.0), Value::Float(2.5)]
    );
    assert_eq!(
        values(&mut s, "VALUES (1), (2.5)")
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["1", "2.5"]
    );
    assert_eq!(
        values(
            &mut s,
            "SELECT DATE '2024-01-01' UNION ALL SELECT TIMESTAMP '2024-01-01 10:00:00'"
        ),
        [
            Value::Timestamp(1_704_067_200_000_000),
            Value::Timestamp(1_704_103_200_000_000)
        ]
    );
    // Same kinds stay as they are.
    assert_eq!(
        values(&mut s, "SELECT 1 UNION ALL SELECT 2"),
        [Value::Int(1), Value::Int(2)]
    );
}

#[test]
fn the_clock_is_read_once_per_statement() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        .unwrap();
    let ids: Vec<String> = (0..2000).map(|i| format!("({i})")).collect();
    s.execute(&format!("INSERT INTO t VALUES {}", ids.join(", ")))
        .unwrap();
    // Every row of one statement sees the same time.
    let result = s
        .execute("SELECT count(DISTINCT now()), count(DISTINCT CURRENT_TIMESTAMP) FROM t")
        .unwrap();
    assert_eq!(result.rows()[0].values(), [Value::Int(1), Value::Int(1)]);
    let same = s
        .execute("SELECT now() = CURRENT_TIMESTAMP, CAST(now() AS DATE) = CURRENT_DATE")
        .unwrap();
    assert_eq!(
        same.rows()[0].values(),
        [Value::Bool(true), Value::Bool(true)]
    );
}

#[test]
fn function_parameters_take_the_kinds_each_function_describes() {
    let (_dir, db) = open();
    let mut s = db.session();
    let r = s
        .query(
            "SELECT lpad($1, $2), split_part($3, ',', $4), mod($5, 3), \
             date_trunc('month', $6), greatest($7, 2.5), concat($8, 1)",
            &[
                Value::Text("7".into()),
                Value::Int(3),
                Value::Text("a,b".into()),
                Value::Int(-1),
                Value::Int(7),
                Value::Text("2024-02-29 10:00".into()),
                Value::Int(4),
                Value::Text("x".into()),
            ],
        )
        .unwrap();
    assert_eq!(
        r.rows()[0]
            .values()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["  7", "b", "1", "2024-02-01 00:00:00", "4", "x1"]
    );
    // An untyped literal is parsed as the parameter's type, or fails as that type.
    assert_eq!(
        value(&mut s, "repeat('ab', '2')"),
        Value::Text("abab".into())
    );
    assert!(matches!(error(&mut s, "repeat('ab', 'x')"), Error::Data(_)));
    // An argument of a kind no parameter takes: no such function (42883).
    assert!(matches!(
        error(&mut s, "repeat(1, 2)"),
        Error::UnknownFunction(_)
    ));
    assert!(matches!(
        error(&mut s, "lpad('x', 2.5)"),
        Error::UnknownFunction(_)
    ));
}

#[test]
fn random_is_evaluated_per_row_and_never_folded() {
    let (_dir, db) = open();
    let mut s = db.session();
    let values = column(&mut s, "SELECT random() FROM generate_series(1, 20)");
    let mut distinct = values.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() > 15, "{values:?}");
    let plan = s.execute("EXPLAIN SELECT random() * 2").unwrap();
    let text: Vec<String> = plan
        .rows()
        .iter()
        .map(|r| r.values()[0].to_string())
        .collect();
    assert!(text.join("\n").contains("random()"), "{text:?}");
    // A volatile DEFAULT is evaluated for each row that takes it, not once.
    s.execute("CREATE TABLE t (id BIGINT, a DOUBLE PRECISION DEFAULT random())")
        .unwrap();
    s.execute("INSERT INTO t (id) SELECT * FROM generate_series(1, 20)")
        .unwrap();
    let mut defaults = column(&mut s, "SELECT a FROM t");
    defaults.sort();
    defaults.dedup();
    assert!(defaults.len() > 15, "{defaults:?}");
}
