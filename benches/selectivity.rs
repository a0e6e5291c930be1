#![allow(clippy::unwrap_used, clippy::expect_used)]
//! # Selectivity sweep: the planner's plan against each plan forced by hand
//!
//! Issue 12's benchmark (`cargo bench --bench selectivity`; results in
//! `docs/benchmarks-sql.md`). One table,
//!
//! ```text
//! t (id INTEGER PRIMARY KEY, bucket INTEGER, name VARCHAR)  -- HDB_BENCH_SELECTIVITY_ROWS rows
//! CREATE INDEX t_bucket ON t (bucket)                        -- which also analyses t
//! ```
//!
//! (default 1,000,000 rows; `bucket` uniform in 0..10,000, `name` 16 characters), and
//! one query at each point of the sweep: `SELECT id, name FROM t WHERE bucket < B`,
//! with B chosen so that 0.01%, 0.1%, 1%, 10% and 50% of the rows match. At each point
//! it is run three ways in the same process: as the planner plans it, with the index
//! forced (`SET enable_seqscan = off`) and with the sequential scan forced (`SET
//! enable_indexscan = off`); each checked to return the same number of rows. Each way
//! is timed `HDB_BENCH_SELECTIVITY_RUNS` times (default 5) after one untimed run, by
//! the process's CPU time (`CLOCK_PROCESS_CPUTIME_ID`, which other processes' load does
//! not inflate; nothing else runs in the process during a read), each sample repeating
//! the query until it has run 20 ms so that the fastest points are not below the
//! clock's resolution, and the median time per run is reported. The output is a markdown table: per point, the plan
//! the planner chose, the three medians, and the planner's time over the fastest
//! forced plan's (the target: at most 1.5 at every point).
//!
//! Durability `Off` for the load (not timed); the reads do not write.

// This bench times by process CPU time only.
#[allow(dead_code)]
#[path = "support/clock.rs"]
mod clock;

use clock::Clock;
use hdb::{Database, Session};

const BUCKETS: i64 = 10_000;

/// The sweep's selectivities, in percent of the rows.
const POINTS: [f64; 5] = [0.01, 0.1, 1.0, 10.0, 50.0];

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A deterministic spread of `i` over `0..BUCKETS`.
fn bucket(i: usize) -> i64 {
    ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as i64 % BUCKETS
}

fn load(session: &mut Session, rows: usize) {
    session
        .execute("CREATE TABLE t (id INTEGER PRIMARY KEY, bucket INTEGER, name VARCHAR)")
        .unwrap();
    let insert = session
        .prepare("INSERT INTO t VALUES ($1, $2, $3)")
        .unwrap();
    session.execute("BEGIN").unwrap();
    for i in 0..rows {
        let params = [
            hdb::Value::Int(i as i64),
            hdb::Value::Int(bucket(i)),
            hdb::Value::Text(format!("name-{i:011}")),
        ];
        session.execute_prepared(&insert, &params).unwrap();
    }
    session.execute("COMMIT").unwrap();
    session
        .execute("CREATE INDEX t_bucket ON t (bucket)")
        .unwrap();
}

/// Runs `sql` once, returning its row count.
fn run(session: &mut Session, sql: &str) -> usize {
    session.execute(sql).unwrap().rows().len()
}

/// CPU time a sample runs its query for at least: a fast query is repeated within
/// the sample until then, and the sample is the time per run.
const MIN_SAMPLE: std::time::Duration = std::time::Duration::from_millis(20);

/// The median CPU milliseconds per run of `sql` over `runs` samples (after one untimed
/// run that must return `expected` rows).
fn time(session: &mut Session, sql: &str, runs: usize, expected: usize) -> f64 {
    assert_eq!(run(session, sql), expected, "{sql}");
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Clock::ProcessCpu.now();
            let mut repeats = 0u32;
            while repeats == 0 || Clock::ProcessCpu.now() - start < MIN_SAMPLE {
                run(session, sql);
                repeats += 1;
            }
            (Clock::ProcessCpu.now() - start).as_secs_f64() * 1000.0 / f64::from(repeats)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The access path the planner chose for `sql` (EXPLAIN's last line).
fn plan(session: &mut Session, sql: &str) -> String {
    let explained = session
        .execute(&format!("EXPLAIN (COSTS OFF) {sql}"))
        .unwrap();
    let line = explained.rows().last().unwrap().values()[0].to_string();
    line.split(':')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn main() {
    // `cargo test --benches` runs bench binaries with no `--bench`: stay small there.
    let benching = std::env::args().any(|a| a == "--bench");
    let rows = env(
        "HDB_BENCH_SELECTIVITY_ROWS",
        if benching { 1_000_000 } else { 2_000 },
    );
    let runs = env("HDB_BENCH_SELECTIVITY_RUNS", if benching { 5 } else { 1 });
    let dir = tempfile::tempdir().unwrap();
    let options = hdb::engine::DatabaseOptions {
        durability: hdb::engine::Durability::Off,
        ..hdb::engine::DatabaseOptions::default()
    };
    let db = Database::open_with(dir.path().join("selectivity.db"), options).unwrap();
    let mut s = db.session();
    load(&mut s, rows);
    println!("Selectivity sweep: {rows} rows, median of {runs} samples, process CPU ms per run");
    println!();
    println!(
        "| selectivity | rows | planner's plan | planner | index forced | seq scan forced | planner / fastest |"
    );
    println!("|---|---|---|---|---|---|---|");
    for percent in POINTS {
        let bound = ((percent / 100.0) * BUCKETS as f64).round().max(1.0) as i64;
        let sql = format!("SELECT id, name FROM t WHERE bucket < {bound}");
        let expected = run(&mut s, &sql);
        let chosen = plan(&mut s, &sql);
        let planner = time(&mut s, &sql, runs, expected);
        s.execute("SET enable_seqscan = off").unwrap();
        let forced_index_plan = plan(&mut s, &sql);
        let index = time(&mut s, &sql, runs, expected);
        s.execute("RESET enable_seqscan").unwrap();
        s.execute("SET enable_indexscan = off").unwrap();
        let forced_seq_plan = plan(&mut s, &sql);
        let seq = time(&mut s, &sql, runs, expected);
        s.execute("RESET enable_indexscan").unwrap();
        assert_eq!(forced_index_plan, "IndexScan");
        assert_eq!(forced_seq_plan, "SeqScan");
        let fastest = index.min(seq);
        println!(
            "| {percent}% | {expected} | {chosen} | {planner:.2} | {index:.2} | {seq:.2} | {:.2}x |",
            planner / fastest
        );
    }
}
