//! The executor's batches against a model: tables whose sizes straddle the batch size
//! (0, 1, BATCH_ROWS - 1, BATCH_ROWS, BATCH_ROWS + 1 and 2 * BATCH_ROWS + 1 rows), with
//! NULLs in every column (the table has no primary key, so every column is nullable),
//! read through each operator that exchanges batches — scan, filter, projection, hash
//! aggregate, hash join (inner and LEFT), sort — and a row at a time (the rows a query
//! returns, LIMIT), with and without uncommitted writes of the reading transaction; the
//! answers compared with the same computed in plain Rust.
#![allow(clippy::unwrap_used)]

use hdb::{Database, Session, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sql_frontend::exec::BATCH_ROWS;

type Row = (Option<i64>, Option<String>, Option<i64>);

fn rows(n: usize) -> impl Strategy<Value = Vec<Row>> {
    let a = prop_oneof![1 => Just(None), 4 => (-3i64..4).prop_map(Some)];
    let b = prop_oneof![
        1 => Just(None),
        4 => prop::sample::select(vec!["", "x", "y", "a longer text value"]).prop_map(|s| Some(s.to_string()))
    ];
    let c = prop_oneof![1 => Just(None), 4 => (0i64..100).prop_map(Some)];
    prop::collection::vec((a, b, c), n)
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> Value) -> Value {
    v.map(f).unwrap_or(Value::Null)
}

fn load(s: &mut Session, rows: &[Row]) {
    s.execute("DROP TABLE IF EXISTS u").unwrap();
    s.execute("CREATE TABLE u (a INTEGER, b TEXT, c INTEGER)")
        .unwrap();
    s.execute("BEGIN").unwrap();
    let insert = s.prepare("INSERT INTO u VALUES ($1, $2, $3)").unwrap();
    for (a, b, c) in rows {
        let params = [
            opt(*a, Value::Int),
            opt(b.clone(), Value::Text),
            opt(*c, Value::Int),
        ];
        s.execute_prepared(&insert, &params).unwrap();
    }
    s.execute("COMMIT").unwrap();
}

fn query(s: &mut Session, sql: &str) -> Vec<Vec<Value>> {
    let result = s.query(sql, &[]).unwrap();
    result.rows().iter().map(|r| r.values().to_vec()).collect()
}

fn int(v: Option<i64>) -> Value {
    opt(v, Value::Int)
}

fn text(v: &Option<String>) -> Value {
    opt(v.clone(), Value::Text)
}

fn sorted(mut rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    rows.sort_by_key(|r| format!("{r:?}"));
    rows
}

fn check(s: &mut Session, rows: &[Row]) -> Result<(), TestCaseError> {
    // Scan, a row at a time.
    let all: Vec<Vec<Value>> = rows
        .iter()
        .map(|(a, b, c)| vec![int(*a), text(b), int(*c)])
        .collect();
    prop_assert_eq!(query(s, "SELECT a, b, c FROM u"), all.clone());
    // Filter and projection, a row at a time.
    let filtered: Vec<Vec<Value>> = rows
        .iter()
        .filter(|(a, _, _)| a.is_some_and(|a| a > 0))
        .map(|(a, b, c)| vec![text(b), int(c.map(|c| c + a.unwrap()))])
        .collect();
    prop_assert_eq!(query(s, "SELECT b, c + a FROM u WHERE a > 0"), filtered);
    // LIMIT stops a row at a time.
    let limit = query(s, "SELECT a, b, c FROM u LIMIT 1000");
    prop_assert_eq!(&limit[..], &all[..all.len().min(1000)]);

    // Aggregate over a filter (batches), no GROUP BY.
    let kept: Vec<&Row> = rows
        .iter()
        .filter(|(a, _, c)| c.is_some() || a.is_none())
        .collect();
    let count_a = kept.iter().filter(|r| r.0.is_some()).count() as i64;
    let sum_a = kept.iter().filter_map(|r| r.0).reduce(|x, y| x + y);
    let min_b = kept.iter().filter_map(|r| r.1.clone()).min();
    let max_c = kept.iter().filter_map(|r| r.2).max();
    prop_assert_eq!(
        query(
            s,
            "SELECT count(*), count(a), sum(a), min(b), max(c) FROM u WHERE c IS NOT NULL OR a IS NULL"
        ),
        vec![vec![
            Value::Int(kept.len() as i64),
            Value::Int(count_a),
            int(sum_a),
            opt(min_b, Value::Text),
            int(max_c)
        ]]
    );
    // Aggregate grouped by a computed key, over a projection of a filtered subquery.
    let mut groups = std::collections::BTreeMap::<Option<i64>, (i64, Option<i64>)>::new();
    for (a, b, c) in rows {
        if b.as_deref().is_some_and(|b| b != "x") {
            let g = groups.entry(a.map(|a| a * 2)).or_insert((0, None));
            g.0 += 1;
            if let Some(c) = c {
                g.1 = Some(g.1.unwrap_or(0) + c);
            }
        }
    }
    let expected: Vec<Vec<Value>> = groups
        .into_iter()
        .map(|(k, (n, sum))| vec![int(k), Value::Int(n), int(sum)])
        .collect();
    prop_assert_eq!(
        sorted(query(
            s,
            "SELECT d, count(*), sum(c) FROM (SELECT a * 2 AS d, c FROM u WHERE b <> 'x') v GROUP BY d"
        )),
        sorted(expected)
    );
    // Hash join (inner) under an aggregate: the probe side by batches.
    let (mut pairs, mut sum) = (0i64, None::<i64>);
    // LEFT join: each x with the y of equal `a` whose b is 'x', or NULLs.
    let (mut left_rows, mut left_matches) = (0i64, 0i64);
    for x in rows {
        let mut matches = 0;
        for y in rows {
            if x.0.is_some() && x.0 == y.0 {
                pairs += 1;
                if let Some(c) = x.2 {
                    sum = Some(sum.unwrap_or(0) + c);
                }
                if y.1.as_deref() == Some("x") {
                    matches += 1;
                }
            }
        }
        left_rows += matches.max(1);
        left_matches += matches;
    }
    prop_assert_eq!(
        query(
            s,
            "SELECT count(*), sum(x.c) FROM u x JOIN u y ON x.a = y.a"
        ),
        vec![vec![Value::Int(pairs), int(sum)]]
    );
    prop_assert_eq!(
        query(
            s,
            "SELECT count(*), count(y.a) FROM u x LEFT JOIN u y ON x.a = y.a AND y.b = 'x'"
        ),
        vec![vec![Value::Int(left_rows), Value::Int(left_matches)]]
    );
    // Sort (reads by batches); NULLs last, ties in input order (a stable sort).
    let mut by_c: Vec<Vec<Value>> = rows
        .iter()
        .map(|(a, _, c)| (c, a))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(c, a)| vec![int(*c), int(*a)])
        .collect();
    by_c.sort_by_key(|r| match &r[0] {
        Value::Int(c) => (false, *c),
        _ => (true, 0),
    });
    prop_assert_eq!(query(s, "SELECT c, a FROM u ORDER BY c"), by_c);
    // Uncommitted writes of the reading transaction are merged into its scans.
    s.execute("BEGIN").unwrap();
    s.execute("INSERT INTO u VALUES (NULL, NULL, NULL), (7, 'new', 1)")
        .unwrap();
    s.execute("DELETE FROM u WHERE a = 1").unwrap();
    let remaining = rows.iter().filter(|r| r.0 != Some(1)).count() as i64 + 2;
    prop_assert_eq!(
        query(s, "SELECT count(*), count(b) FROM u"),
        vec![vec![
            Value::Int(remaining),
            Value::Int(
                rows.iter()
                    .filter(|r| r.0 != Some(1) && r.1.is_some())
                    .count() as i64
                    + 1
            )
        ]]
    );
    s.execute("ROLLBACK").unwrap();
    Ok(())
}

#[test]
fn batches_match_the_model_at_batch_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("batch.db")).unwrap();
    let sizes = prop::sample::select(vec![
        0usize,
        1,
        BATCH_ROWS - 1,
        BATCH_ROWS,
        BATCH_ROWS + 1,
        2 * BATCH_ROWS + 1,
    ]);
    let cases = if std::env::var_os("CI").is_some() {
        8
    } else {
        16
    };
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    runner
        .run(&sizes.prop_flat_map(rows), |rows| {
            let mut s = db.session();
            load(&mut s, &rows);
            check(&mut s, &rows)
        })
        .unwrap();
    // Every size at least once, whatever the sampling picked.
    for n in [0, 1, BATCH_ROWS - 1, BATCH_ROWS, BATCH_ROWS + 1] {
        let rows: Vec<Row> = (0..n)
            .map(|i| {
                let i = i as i64;
                (
                    (i % 5 != 0).then_some(i % 4 - 1),
                    (i % 7 != 0).then(|| ["x", "y", ""][(i % 3) as usize].to_string()),
                    (i % 3 != 0).then_some(i % 100),
                )
            })
            .collect();
        let mut s = db.session();
        load(&mut s, &rows);
        check(&mut s, &rows).unwrap();
    }
}
