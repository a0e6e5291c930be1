//! Eager aggregation (`sql_frontend/src/optimize/eager_aggregate.rs`) against a model
//! the rule cannot touch: each query is run over the tables themselves, where the rule
//! may group one side of a join before the join, and with every table replaced by
//! `(SELECT DISTINCT * FROM x) x` — the same rows (every table has a primary key), but
//! a DISTINCT is no table, so the plan keeps its aggregate above the join. The answers
//! must be equal. EXPLAIN shows that the rule did fire for the queries it is meant to
//! rewrite (an aggregate below the join) and did not for those it must leave alone
//! (`sum`, LEFT joins, a GROUP BY without the key, a predicate or GROUP BY reading the
//! other side). The data has NULL join keys, keys that match nothing, and tables keyed
//! by integers and by text; the queries run again inside a transaction with
//! uncommitted writes.
#![allow(clippy::unwrap_used)]

use hdb::{Database, Session, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// A row of `t (id, a, b, c, d)` or `u (k, a, b, c)` without its key.
type Row = (Option<i64>, Option<String>, Option<i64>, Option<String>);

const TEXTS: [&str; 4] = ["", "x", "y", "a longer text value"];

fn rows(max: usize) -> impl Strategy<Value = Vec<Row>> {
    let int = prop_oneof![1 => Just(None), 4 => (-2i64..6).prop_map(Some)];
    let text = prop_oneof![
        1 => Just(None),
        4 => prop::sample::select(TEXTS.to_vec()).prop_map(|s| Some(s.to_string()))
    ];
    prop::collection::vec((int.clone(), text.clone(), int, text), 0..max)
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> Value) -> Value {
    v.map(f).unwrap_or(Value::Null)
}

/// Loads `t` from `t`, `u` (keys 0, 2, 4, ...) from `u`, and `w (name TEXT PRIMARY KEY,
/// x)` with the texts `w_names` picks.
fn load(s: &mut Session, t: &[Row], u: &[Row], w_names: &[bool; 4]) {
    s.execute("DROP TABLE IF EXISTS t; DROP TABLE IF EXISTS u; DROP TABLE IF EXISTS w")
        .unwrap();
    s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c INTEGER, d TEXT)")
        .unwrap();
    s.execute("CREATE TABLE u (k INTEGER PRIMARY KEY, a INTEGER, b TEXT, c INTEGER)")
        .unwrap();
    s.execute("CREATE TABLE w (name TEXT PRIMARY KEY, x INTEGER)")
        .unwrap();
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
    let insert_w = s.prepare("INSERT INTO w VALUES ($1, $2)").unwrap();
    for (i, name) in TEXTS.iter().enumerate() {
        if w_names[i] {
            s.execute_prepared(&insert_w, &[(*name).into(), Value::Int(i as i64)])
                .unwrap();
        }
    }
    s.execute("COMMIT").unwrap();
}

/// Query templates over `{T}`, `{U}`, `{V}` (`u` again) and `{W}`; whether each orders
/// its rows completely (then compared in order), and whether eager aggregation must
/// fire (`Some(true)`), must not (`Some(false)`), or may (`None`: the join order
/// decides which side is grouped).
const TEMPLATES: &[(&str, bool, Option<bool>)] = &[
    // Example 3's shape: the keyed table first in FROM, a filter on the grouped side.
    (
        "SELECT u.b, count(t.id) AS n FROM {U} JOIN {T} ON u.k = t.a WHERE t.c > 0 \
         GROUP BY u.k, u.b ORDER BY n DESC, u.k",
        true,
        Some(true),
    ),
    (
        "SELECT u.k, count(*), min(t.b), max(t.d) FROM {T} JOIN {U} ON t.a = u.k GROUP BY u.k",
        false,
        Some(true),
    ),
    (
        "SELECT u.k, u.c, count(DISTINCT t.b) FROM {T} JOIN {U} ON u.k = t.c \
         GROUP BY u.k, u.c HAVING count(DISTINCT t.b) >= 1",
        false,
        Some(true),
    ),
    (
        "SELECT u.k, u.a + 1, max(t.id), min(DISTINCT t.c) FROM {T} JOIN {U} ON u.k = t.a AND u.c > 1 \
         WHERE u.b IS NOT NULL GROUP BY u.k, u.a + 1",
        false,
        Some(true),
    ),
    (
        "SELECT w.name, w.x, count(t.c), max(t.a) FROM {T} JOIN {W} ON t.b = w.name \
         GROUP BY w.name, w.x",
        false,
        Some(true),
    ),
    (
        "SELECT u.k, count(*) FROM {T} JOIN {U} ON u.k = t.a WHERE t.id < 10 GROUP BY u.k",
        false,
        Some(true),
    ),
    (
        "SELECT u.b, count(*), u.k FROM {T}, {U} WHERE u.k = t.c AND t.d <> 'x' \
         GROUP BY u.b, u.k ORDER BY u.k",
        true,
        Some(true),
    ),
    (
        "SELECT u.k, sum(t.c) FROM {T} JOIN {U} ON u.k = t.a GROUP BY u.k",
        false,
        Some(false),
    ),
    (
        "SELECT u.k, count(t.b) FROM {T} LEFT JOIN {U} ON u.k = t.a GROUP BY u.k",
        false,
        Some(false),
    ),
    (
        "SELECT u.b, count(*) FROM {T} JOIN {U} ON u.k = t.a GROUP BY u.b",
        false,
        Some(false),
    ),
    (
        "SELECT u.k, count(*) FROM {T} JOIN {U} ON u.k = t.a AND t.c < u.c GROUP BY u.k",
        false,
        Some(false),
    ),
    (
        "SELECT u.k, t.b, count(*) FROM {T} JOIN {U} ON u.k = t.a GROUP BY u.k, t.b",
        false,
        Some(false),
    ),
    (
        "SELECT u.k, count(*) FROM {T} JOIN {U} ON u.k = t.a AND random() < 2.0 GROUP BY u.k",
        false,
        None,
    ),
    (
        "SELECT u.k, count(*), max(v.b) FROM {T} JOIN {U} ON u.k = t.a JOIN {V} ON v.k = t.c \
         GROUP BY u.k",
        false,
        None,
    ),
    (
        "SELECT s.k, s.n FROM (SELECT u.k, count(t.d) AS n FROM {T} JOIN {U} ON t.a = u.k \
         GROUP BY u.k) s WHERE s.n > 1",
        false,
        Some(true),
    ),
];

/// The template with its tables either themselves (`direct`) or behind a DISTINCT.
fn instantiate(template: &str, direct: bool) -> String {
    let table = |name: &str, alias: &str| match direct {
        true => format!("{name} AS {alias}"),
        false => format!("(SELECT DISTINCT * FROM {name}) AS {alias}"),
    };
    template
        .replace("{T}", &table("t", "t"))
        .replace("{U}", &table("u", "u"))
        .replace("{V}", &table("u", "v"))
        .replace("{W}", &table("w", "w"))
}

fn answer(s: &mut Session, sql: &str, ordered: bool) -> Result<Vec<Vec<Value>>, String> {
    let result = s.query(sql, &[]).map_err(|e| e.to_string())?;
    let mut rows: Vec<Vec<Value>> = result.rows().iter().map(|r| r.values().to_vec()).collect();
    if !ordered {
        rows.sort_by_key(|r| format!("{r:?}"));
    }
    Ok(rows)
}

/// Whether the plan of `sql` aggregates below its first join.
fn aggregates_early(s: &mut Session, sql: &str) -> bool {
    let result = s.query(&format!("EXPLAIN {sql}"), &[]).unwrap();
    let lines: Vec<String> = result
        .rows()
        .iter()
        .map(|r| r.get::<String>(0).unwrap())
        .collect();
    let first = |what: &str| lines.iter().position(|l| l.contains(what));
    match (first("Join"), first("HashAggregate")) {
        (Some(join), Some(aggregate)) => aggregate > join,
        _ => false,
    }
}

fn check(s: &mut Session) -> Result<(), TestCaseError> {
    for (template, ordered, fires) in TEMPLATES {
        let direct = instantiate(template, true);
        let model = instantiate(template, false);
        if let Some(fires) = fires {
            prop_assert_eq!(aggregates_early(s, &direct), *fires, "{}", direct);
        }
        prop_assert!(!aggregates_early(s, &model), "{}", model);
        let expected = answer(s, &model, *ordered);
        let got = answer(s, &direct, *ordered);
        prop_assert_eq!(got, expected, "{}", direct);
    }
    Ok(())
}

#[test]
fn early_aggregates_answer_as_aggregates_over_the_join() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("eager.db")).unwrap();
    let cases = if std::env::var_os("CI").is_some() {
        8
    } else {
        32
    };
    let strategy = (rows(40), rows(12), any::<[bool; 4]>());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |(t, u, w_names)| {
            let mut s = db.session();
            load(&mut s, &t, &u, &w_names);
            check(&mut s)?;
            // The reading transaction's own writes are merged into its scans.
            s.execute("BEGIN").unwrap();
            s.execute("INSERT INTO t VALUES (1000, 2, 'x', 4, NULL), (1001, NULL, NULL, 2, 'y')")
                .unwrap();
            s.execute("UPDATE u SET c = c + 1 WHERE a = 2").unwrap();
            s.execute("DELETE FROM t WHERE a = 0").unwrap();
            let result = check(&mut s);
            s.execute("ROLLBACK").unwrap();
            result
        })
        .unwrap();
}
