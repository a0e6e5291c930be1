//! Column pruning against a model that decodes everything: each query is run twice,
//! once over the tables themselves (scans decode only the columns the plan reads, joins
//! fill in only those) and once with every table replaced by `(SELECT DISTINCT * FROM
//! t) t` — the same rows (every table has a primary key), but DISTINCT reads whole
//! rows, so every column is decoded and carried. The answers must be equal. The queries
//! put columns in every place a plan reads them: projections, WHERE, join keys and ON
//! predicates (hash, nested-loop and index nested-loop joins, LEFT joins), GROUP BY and
//! aggregate arguments, ORDER BY columns not selected, correlated subqueries (which read
//! their outer row's columns), set operations, derived tables, secondary-index scans;
//! and once more inside a transaction with uncommitted writes (the merged scan). The
//! pruned query also runs prepared, twice: the second execution builds its operators
//! from the column-needs analysis the session kept with the plan (`plan/needs.rs`).
#![allow(clippy::unwrap_used)]

use hdb::{Database, Session, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// A row of `t (id, a, b, c, d)` or `u (k, a, b, c)` without its key.
type Row = (Option<i64>, Option<String>, Option<i64>, Option<String>);

fn rows(max: usize) -> impl Strategy<Value = Vec<Row>> {
    let int = prop_oneof![1 => Just(None), 4 => (-2i64..6).prop_map(Some)];
    let text = prop_oneof![
        1 => Just(None),
        4 => prop::sample::select(vec!["", "x", "y", "a longer text value"]).prop_map(|s| Some(s.to_string()))
    ];
    prop::collection::vec((int.clone(), text.clone(), int, text), 0..max)
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> Value) -> Value {
    v.map(f).unwrap_or(Value::Null)
}

fn load(s: &mut Session, t: &[Row], u: &[Row]) {
    s.execute("DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS u")
        .unwrap();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c INTEGER, d TEXT)")
        .unwrap();
    s.execute("CREATE TABLE u (k INTEGER PRIMARY KEY, a INTEGER, b TEXT, c INTEGER)")
        .unwrap();
    s.execute("CREATE INDEX u_a ON u (a)").unwrap();
    s.execute("BEGIN").unwrap();
    let insert_t = s
        .prepare("INSERT INTO t VALUES ($1, $2, $3, $4, $5)")
        .unwrap();
    for (i, (a, b, c, d)) in t.iter().enumerate() {
        let params = [
            Value::Int(i as i64),
            opt(*a, Value::Int),
            opt(b.clone(), Value::Text),
            opt(*c, Value::Int),
            opt(d.clone(), Value::Text),
        ];
        s.execute_prepared(&insert_t, &params).unwrap();
    }
    let insert_u = s.prepare("INSERT INTO u VALUES ($1, $2, $3, $4)").unwrap();
    for (i, (a, b, c, _)) in u.iter().enumerate() {
        let params = [
            Value::Int(i as i64 * 2),
            opt(*a, Value::Int),
            opt(b.clone(), Value::Text),
            opt(*c, Value::Int),
        ];
        s.execute_prepared(&insert_u, &params).unwrap();
    }
    s.execute("COMMIT").unwrap();
}

const T_COLUMNS: [&str; 5] = ["id", "a", "b", "c", "d"];
const U_COLUMNS: [&str; 4] = ["k", "a", "b", "c"];
const T_INTS: [&str; 3] = ["id", "a", "c"];

/// Query templates: `{T}`, `{U}` and `{V}` are the tables `t AS t`, `u AS u` and
/// `u AS v`; `{ti}`/`{tj}` a column of t, `{ui}` one of u, `{tn}` an integer column
/// of t. Whether a template orders its rows completely (then compared in order).
const TEMPLATES: &[(&str, bool)] = &[
    ("SELECT t.{ti} FROM {T} WHERE t.{tj} IS NOT NULL", false),
    (
        "SELECT t.{ti}, u.{ui} FROM {T} JOIN {U} ON t.a = u.a WHERE u.c > 1",
        false,
    ),
    (
        "SELECT t.{ti}, count(*), sum(u.c), min(u.b) FROM {T} JOIN {U} ON t.a = u.a GROUP BY t.{ti}",
        false,
    ),
    (
        "SELECT t.id, u.{ui} FROM {T} LEFT JOIN {U} ON t.c = u.c AND u.b <> 'x'",
        false,
    ),
    (
        "SELECT t.{ti} FROM {T} ORDER BY t.{tj} DESC, t.id LIMIT 7",
        true,
    ),
    (
        "SELECT t.id, t.{ti} FROM {T} WHERE EXISTS (SELECT 1 FROM {U} WHERE u.a = t.{tn})",
        false,
    ),
    (
        "SELECT t.{ti}, (SELECT count(*) FROM {U} WHERE u.c = t.{tn} AND u.b = t.b) FROM {T}",
        false,
    ),
    (
        "SELECT t.{tj}, u.k FROM {T} JOIN {U} ON t.a = u.a AND t.c < u.c",
        false,
    ),
    (
        "SELECT count(*), sum(t.c), max(u.{ui}) FROM {T}, {U} WHERE t.c < u.a",
        false,
    ),
    (
        "SELECT t.b, v.{ui} FROM {T} JOIN {U} ON t.a = u.a JOIN {V} ON u.c = v.c",
        false,
    ),
    ("SELECT t.{ti} FROM {T} UNION SELECT u.{ui} FROM {U}", false),
    (
        "SELECT x FROM (SELECT t.c + u.c AS x, t.{ti} FROM {T} JOIN {U} ON t.id = u.k) s WHERE x > 3",
        false,
    ),
    (
        "SELECT t.{ti}, u.b FROM {T} JOIN {U} ON u.k = t.{tn}",
        false,
    ),
    (
        "SELECT u.{ui}, t.d FROM {T} JOIN {U} ON u.a = t.{tn} WHERE t.b IS NOT NULL",
        false,
    ),
    ("SELECT u.b, u.k FROM {U} WHERE u.a = 2", false),
    (
        "SELECT DISTINCT t.{ti}, u.{ui} FROM {T} LEFT JOIN {U} ON t.{tn} = u.k",
        false,
    ),
    (
        "SELECT t.{tj}, count(u.b) FROM {T} LEFT JOIN {U} ON t.a = u.a GROUP BY t.{tj} ORDER BY count(u.b) DESC, 1 LIMIT 3",
        false,
    ),
];

/// The template with its tables either themselves (`pruned`) or read whole.
fn instantiate(template: &str, pick: &[usize; 4], pruned: bool) -> String {
    let table = |name: &str, alias: &str| match pruned {
        true => format!("{name} AS {alias}"),
        false => format!("(SELECT DISTINCT * FROM {name}) AS {alias}"),
    };
    template
        .replace("{T}", &table("t", "t"))
        .replace("{U}", &table("u", "u"))
        .replace("{V}", &table("u", "v"))
        .replace("{ti}", T_COLUMNS[pick[0] % T_COLUMNS.len()])
        .replace("{tj}", T_COLUMNS[pick[1] % T_COLUMNS.len()])
        .replace("{ui}", U_COLUMNS[pick[2] % U_COLUMNS.len()])
        .replace("{tn}", T_INTS[pick[3] % T_INTS.len()])
}

fn answer(s: &mut Session, sql: &str, ordered: bool) -> Result<Vec<Vec<Value>>, String> {
    let result = s.query(sql, &[]).map_err(|e| e.to_string())?;
    Ok(sorted(result, ordered))
}

/// The answers of two executions of `sql` prepared once.
type Answer = Result<Vec<Vec<Value>>, String>;
fn answer_prepared(s: &mut Session, sql: &str, ordered: bool) -> (Answer, Answer) {
    let prepared = match s.prepare(sql) {
        Ok(prepared) => prepared,
        Err(e) => return (Err(e.to_string()), Err(e.to_string())),
    };
    let mut run = || {
        s.execute_prepared(&prepared, &[])
            .map(|result| sorted(result, ordered))
            .map_err(|e| e.to_string())
    };
    let first = run();
    (first, run())
}

fn sorted(result: hdb::QueryResult, ordered: bool) -> Vec<Vec<Value>> {
    let mut rows: Vec<Vec<Value>> = result.rows().iter().map(|r| r.values().to_vec()).collect();
    if !ordered {
        rows.sort_by_key(|r| format!("{r:?}"));
    }
    rows
}

fn check(s: &mut Session, picks: &[[usize; 4]]) -> Result<(), TestCaseError> {
    for ((template, ordered), pick) in TEMPLATES.iter().zip(picks.iter().cycle()) {
        let pruned = instantiate(template, pick, true);
        let whole = instantiate(template, pick, false);
        let expected = answer(s, &whole, *ordered);
        let got = answer(s, &pruned, *ordered);
        prop_assert_eq!(&got, &expected, "{}", pruned);
        let (first, second) = answer_prepared(s, &pruned, *ordered);
        prop_assert_eq!(&first, &expected, "prepared: {}", pruned);
        prop_assert_eq!(&second, &expected, "prepared, run again: {}", pruned);
    }
    Ok(())
}

#[test]
fn pruned_plans_answer_as_plans_that_read_every_column() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("pruning.db")).unwrap();
    let cases = if std::env::var_os("CI").is_some() {
        8
    } else {
        32
    };
    let strategy = (
        rows(40),
        rows(30),
        prop::collection::vec(any::<[usize; 4]>(), TEMPLATES.len()),
    );
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(t, u, picks)| {
            let mut s = db.session();
            load(&mut s, &t, &u);
            check(&mut s, &picks)?;
            // The reading transaction's own writes are merged into its scans.
            s.execute("BEGIN").unwrap();
            s.execute("INSERT INTO t VALUES (1000, 2, 'x', 3, NULL), (1001, NULL, NULL, 2, 'y')")
                .unwrap();
            s.execute("UPDATE u SET c = c + 1 WHERE a = 2").unwrap();
            s.execute("DELETE FROM t WHERE a = 1").unwrap();
            let result = check(&mut s, &picks);
            s.execute("ROLLBACK").unwrap();
            result
        })
        .unwrap();
}
