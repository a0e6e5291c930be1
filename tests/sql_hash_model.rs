//! The hash aggregate and the hash join against a model: tables whose sizes straddle
//! the executor's round numbers (0, 1, 2, 1023, 1024, 1025 rows: the interrupt checks
//! every 1024 steps) with NULLs in every non-key column, grouped and self-joined on
//! one and on two columns, the answers compared with the same computed in plain Rust.
//! Equal values must meet in one group or one join bucket whatever their hash; NULLs
//! form one group and join nothing.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use hdb::{Database, Session, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

type Row = (Option<i64>, Option<String>, Option<i64>);

fn rows(n: usize) -> impl Strategy<Value = Vec<Row>> {
    let a = prop_oneof![1 => Just(None), 4 => (-3i64..4).prop_map(Some)];
    let b = prop_oneof![
        1 => Just(None),
        4 => prop::sample::select(vec!["", "x", "y", "xy"]).prop_map(|s| Some(s.to_string()))
    ];
    let c = prop_oneof![1 => Just(None), 4 => (0i64..100).prop_map(Some)];
    prop::collection::vec((a, b, c), n)
}

fn load(s: &mut Session, rows: &[Row]) {
    s.execute("DROP TABLE IF EXISTS t").unwrap();
    s.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, a INTEGER, b TEXT, c INTEGER)")
        .unwrap();
    s.execute("BEGIN").unwrap();
    let insert = s.prepare("INSERT INTO t VALUES ($1, $2, $3, $4)").unwrap();
    for (k, (a, b, c)) in rows.iter().enumerate() {
        let opt = |v: Option<Value>| v.unwrap_or(Value::Null);
        let params = [
            Value::Int(k as i64),
            opt(a.map(Value::Int)),
            opt(b.clone().map(Value::Text)),
            opt(c.map(Value::Int)),
        ];
        s.execute_prepared(&insert, &params).unwrap();
    }
    s.execute("COMMIT").unwrap();
}

type Groups = BTreeMap<(Option<i64>, Option<String>), (i64, Option<i64>, i64)>;

fn model_groups(rows: &[Row]) -> Groups {
    let mut groups = Groups::new();
    for (a, b, c) in rows {
        let g = groups.entry((*a, b.clone())).or_insert((0, None, 0));
        g.0 += 1;
        if let Some(c) = c {
            g.1 = Some(g.1.unwrap_or(0) + c);
            g.2 += 1;
        }
    }
    groups
}

fn hdb_groups(s: &mut Session) -> Groups {
    let result = s
        .query(
            "SELECT a, b, count(*), sum(c), count(c) FROM t GROUP BY a, b",
            &[],
        )
        .unwrap();
    let mut groups = Groups::new();
    for r in result.rows() {
        let key = (r.get(0).unwrap(), r.get(1).unwrap());
        let value = (r.get(2).unwrap(), r.get(3).unwrap(), r.get(4).unwrap());
        assert!(groups.insert(key, value).is_none(), "a group twice");
    }
    groups
}

/// Pairs of rows (x, y) with equal non-NULL `a` (and, with `both`, equal non-NULL `b`).
fn model_join(rows: &[Row], both: bool) -> i64 {
    let mut pairs = 0;
    for x in rows {
        for y in rows {
            let a = x.0.is_some() && x.0 == y.0;
            let b = x.1.is_some() && x.1 == y.1;
            if a && (!both || b) {
                pairs += 1;
            }
        }
    }
    pairs
}

fn hdb_join(s: &mut Session, both: bool) -> i64 {
    let on = if both {
        "x.a = y.a AND x.b = y.b"
    } else {
        "x.a = y.a"
    };
    let result = s
        .query(&format!("SELECT count(*) FROM t x JOIN t y ON {on}"), &[])
        .unwrap();
    result.rows()[0].get(0).unwrap()
}

#[test]
fn hash_aggregate_and_hash_join_match_the_model_at_round_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("hash.db")).unwrap();
    let mut s = db.session();
    let explain = |s: &mut Session, sql: &str| -> String {
        let result = s.query(&format!("EXPLAIN {sql}"), &[]).unwrap();
        result
            .rows()
            .iter()
            .map(|r| r.get::<String>(0).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    load(&mut s, &[]);
    let plan = explain(
        &mut s,
        "SELECT count(*) FROM t x JOIN t y ON x.a = y.a AND x.b = y.b",
    );
    assert!(plan.contains("HashJoin"), "{plan}");

    let sizes = prop::sample::select(vec![0usize, 1, 2, 1023, 1024, 1025]);
    let mut runner = TestRunner::new(Config {
        cases: 12,
        ..Config::default()
    });
    runner
        .run(&sizes.prop_flat_map(rows), |rows| {
            let mut s = db.session();
            load(&mut s, &rows);
            prop_assert_eq!(hdb_groups(&mut s), model_groups(&rows));
            prop_assert_eq!(hdb_join(&mut s, false), model_join(&rows, false));
            prop_assert_eq!(hdb_join(&mut s, true), model_join(&rows, true));
            Ok(())
        })
        .unwrap();
}
