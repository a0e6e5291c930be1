//! Parallel aggregation (`optimize/parallel.rs`, `exec/gather.rs`) against the same
//! queries on one thread: over a table large enough for the planner to put a Gather
//! above its aggregates (160,000 rows, analysed), every query is answered with
//! `max_parallel_workers_per_gather = 0` and again with 3 (four threads, more than this
//! machine's cores, so the threads interleave), and the answers must be equal as
//! multisets. The queries cover each aggregate that merges (count, sum, avg, min, max,
//! bool_and, bool_or, with FILTER), GROUP BY on integers, text, expressions and NULLs,
//! no GROUP BY (one group, also over no rows), hash joins inner and LEFT on the probe
//! side, a filter reading the statement's clock, and parameters. EXPLAIN shows the
//! Gather where it must be and not where it must not (DISTINCT, string_agg, random(),
//! small tables, the setting at 0). A transaction with its own writes in the table gets
//! the right answer (its scan is not cut), errors on a worker reach the caller, and
//! EXPLAIN ANALYZE counts every row.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hdb::{Database, Session, Value};

/// Enough rows for three workers (one per 50,000 estimated rows, `cost/mod.rs`).
const ROWS: i64 = 160_000;

fn lines(session: &mut Session, sql: &str, params: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = session
        .query(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows()
        .iter()
        .map(|row| {
            row.values()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    out.sort();
    out
}

fn plan(session: &mut Session, sql: &str) -> String {
    session
        .execute(&format!("EXPLAIN {sql}"))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows()
        .iter()
        .map(|row| row.values()[0].to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `t` (160,000 rows: NULLs in every column but the key, doubles that sum exactly) and
/// `u` (1,000 rows, half of `t.g`'s values), analysed.
fn setup() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("db")).unwrap();
    let mut s = db.session();
    s.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, g INTEGER, s TEXT, x INTEGER, f DOUBLE PRECISION, \
         b BOOLEAN, at TIMESTAMP)",
    )
    .unwrap();
    s.execute("CREATE TABLE u (k INTEGER PRIMARY KEY, name TEXT)")
        .unwrap();
    s.execute(&format!(
        "INSERT INTO t SELECT i, CASE WHEN i % 13 = 0 THEN NULL ELSE i % 2000 END, \
         CASE WHEN i % 11 = 0 THEN NULL ELSE 'name ' || (i % 37) END, \
         CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 7919) % 100003 END, \
         CASE WHEN i % 5 = 0 THEN NULL ELSE (i % 64) * 0.5 END, \
         CASE WHEN i % 17 = 0 THEN NULL ELSE i % 3 <> 0 END, \
         now() - (i % 90) * INTERVAL '1 day' \
         FROM generate_series(1, {ROWS}) AS i"
    ))
    .unwrap();
    s.execute("INSERT INTO u SELECT i * 2, 'user ' || i FROM generate_series(0, 999) AS i")
        .unwrap();
    s.execute("ANALYZE").unwrap();
    drop(s);
    (dir, db)
}

const QUERIES: [&str; 14] = [
    "SELECT count(*), count(g), sum(x), avg(x), min(s), max(s), sum(f), avg(f) FROM t",
    "SELECT g, count(*), sum(x), min(x), max(x) FROM t GROUP BY g",
    "SELECT s, count(*), avg(f), bool_and(b), bool_or(b) FROM t GROUP BY s",
    "SELECT g % 10, s IS NULL, count(*) FILTER (WHERE x > 50000), sum(x) FILTER (WHERE b) \
     FROM t GROUP BY g % 10, s IS NULL",
    "SELECT count(*), sum(x) FROM t WHERE x > 1000000000",
    "SELECT g, count(*) FROM t WHERE x > 1000000000 GROUP BY g",
    "SELECT u.name, count(*), sum(t.x) FROM t JOIN u ON t.g = u.k GROUP BY u.name",
    "SELECT u.name, count(u.k), count(*) FROM t LEFT JOIN u ON t.g = u.k \
     WHERE t.id % 3 = 0 GROUP BY u.name",
    "SELECT u.name, count(*) FROM t JOIN u ON t.g = u.k \
     WHERE t.at >= now() - INTERVAL '7 days' GROUP BY u.k, u.name",
    "SELECT s, max(id) FROM (SELECT id, s, x + 1 AS y FROM t WHERE g < 500) AS v \
     WHERE y % 2 = 0 GROUP BY s",
    "SELECT count(*) FROM t WHERE g = $1",
    "SELECT b, count(*), sum(g) FROM t WHERE x BETWEEN $1 AND $2 GROUP BY b",
    "SELECT g, count(*) AS n FROM t GROUP BY g HAVING count(*) > 30 ORDER BY n DESC, g LIMIT 5",
    "SELECT min(at) < max(at), count(DISTINCT g) FROM t",
];

fn params(query: &str) -> Vec<Value> {
    match query.matches('$').count() {
        0 => Vec::new(),
        1 => vec![Value::Int(42)],
        _ => vec![Value::Int(1000), Value::Int(60000)],
    }
}

fn set_workers(s: &mut Session, n: usize) {
    s.execute(&format!("SET max_parallel_workers_per_gather = {n}"))
        .unwrap();
}

#[test]
fn parallel_aggregates_answer_as_one_thread_does() {
    let (_dir, db) = setup();
    let mut s = db.session();
    let mut gathered = 0;
    for query in QUERIES {
        let params = params(query);
        set_workers(&mut s, 0);
        let serial = lines(&mut s, query, &params);
        assert!(!plan(&mut s, query).contains("Gather"), "{query}");
        set_workers(&mut s, 3);
        if plan(&mut s, query).contains("Gather") {
            gathered += 1;
        }
        assert_eq!(lines(&mut s, query, &params), serial, "{query}");
    }
    assert!(
        gathered >= 11,
        "only {gathered} of the queries ran in parallel"
    );
}

#[test]
fn the_gather_is_planned_only_where_it_is_right() {
    let (_dir, db) = setup();
    let mut s = db.session();
    set_workers(&mut s, 3);
    let join = plan(
        &mut s,
        "SELECT u.name, count(*) FROM t JOIN u ON t.g = u.k GROUP BY u.name",
    );
    assert!(join.contains("Gather: 4 threads"), "{join}");
    set_workers(&mut s, 1);
    assert!(plan(&mut s, "SELECT count(*) FROM t").contains("Gather: 2 threads"));
    set_workers(&mut s, 3);
    for serial in [
        "SELECT count(DISTINCT g) FROM t",
        "SELECT string_agg(s, ',') FROM t",
        "SELECT count(*) FROM t WHERE random() < 2",
        "SELECT count(*) FROM u",
        "SELECT g, (SELECT count(*) FROM u WHERE u.k = t.g) FROM t",
    ] {
        assert!(!plan(&mut s, serial).contains("Gather"), "{serial}");
    }
    assert_eq!(
        lines(&mut s, "SHOW max_parallel_workers_per_gather", &[]),
        ["3"]
    );
    s.execute("RESET max_parallel_workers_per_gather").unwrap();
    let default = lines(&mut s, "SHOW max_parallel_workers_per_gather", &[]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(default, [(cores - 1).min(7).to_string()]);
    for bad in ["-1", "1025", "'many'"] {
        let err = s
            .execute(&format!("SET max_parallel_workers_per_gather = {bad}"))
            .unwrap_err();
        assert!(
            err.to_string().contains("max_parallel_workers_per_gather"),
            "{err}"
        );
    }
}

#[test]
fn own_writes_errors_and_explain_analyze() {
    let (_dir, db) = setup();
    let mut s = db.session();
    set_workers(&mut s, 3);
    let query = "SELECT g % 3, count(*), sum(x) FROM t GROUP BY g % 3";
    s.execute("BEGIN").unwrap();
    s.execute("UPDATE t SET x = 1 WHERE id % 1000 = 0").unwrap();
    s.execute("DELETE FROM t WHERE id % 999 = 1").unwrap();
    let parallel = lines(&mut s, query, &[]);
    set_workers(&mut s, 0);
    assert_eq!(lines(&mut s, query, &[]), parallel);
    s.execute("ROLLBACK").unwrap();

    // An error on any thread is the statement's, and the session goes on.
    set_workers(&mut s, 3);
    let err = s
        .execute("SELECT g, sum(1000 / (x - 7919)) FROM t GROUP BY g")
        .unwrap_err();
    assert!(err.to_string().contains("division by zero"), "{err}");
    assert_eq!(
        lines(&mut s, "SELECT count(*) FROM t", &[]),
        [ROWS.to_string()]
    );

    // EXPLAIN ANALYZE runs the Gather on one thread and counts every row.
    let analysed = plan(&mut s, "ANALYZE SELECT g, count(*) FROM t GROUP BY g");
    assert!(analysed.contains("Gather"), "{analysed}");
    assert!(analysed.contains(&format!("rows={ROWS}")), "{analysed}");
}
