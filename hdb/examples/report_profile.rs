#![allow(clippy::unwrap_used)]
//! A profiling harness for the report query (Example 3 of `benches/sql.rs`: users joined
//! to their events of the last 7 days, counted per user, ordered by the count), without
//! criterion or SQLite, so that `perf record` or `valgrind --tool=callgrind` see only
//! hdb running it.
//!
//! `cargo run --release -p hdb --example report_profile -- [USERS] [EVENTS] [RUNS] [WORKERS]`
//! (default `100000 1000000 10 0`): loads the users and events through SQL
//! (`generate_series`; timestamps spread over the 30 days before now), analyses them,
//! then runs the query RUNS times with `max_parallel_workers_per_gather = WORKERS`,
//! printing each run's wall and process CPU time and the rows it returned.

use std::time::Instant;

#[path = "support/cpu.rs"]
mod cpu;
use cpu::process_cpu;

const REPORT: &str = "SELECT u.name, COUNT(ue.event_id) AS event_count \
     FROM users u JOIN user_events ue ON u.user_id = ue.user_id \
     WHERE ue.event_timestamp >= CURRENT_DATE - INTERVAL '7 days' \
     GROUP BY u.user_id, u.name ORDER BY event_count DESC";

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let arg = |i: usize, default: usize| args.get(i).copied().unwrap_or(default);
    let (users, events, runs, workers) =
        (arg(0, 100_000), arg(1, 1_000_000), arg(2, 10), arg(3, 0));
    let dir = tempfile::tempdir().unwrap();
    let db = hdb::Database::open(dir.path().join("db")).unwrap();
    let mut s = db.session();
    s.execute("CREATE TABLE users (user_id VARCHAR PRIMARY KEY, name VARCHAR)")
        .unwrap();
    s.execute(
        "CREATE TABLE user_events (event_id INTEGER PRIMARY KEY, user_id VARCHAR, \
         event_type VARCHAR, event_timestamp TIMESTAMP)",
    )
    .unwrap();
    s.execute(&format!(
        "INSERT INTO users SELECT 'user' || i, 'name ' || i FROM generate_series(1, {users}) i"
    ))
    .unwrap();
    s.execute(&format!(
        "INSERT INTO user_events SELECT i, 'user' || (1 + (i * 7919) % {users}), 'view', \
         now() - ((i * 104729) % 2592000) * INTERVAL '1 second' FROM generate_series(1, {events}) i"
    ))
    .unwrap();
    s.execute("ANALYZE").unwrap();
    s.execute(&format!("SET max_parallel_workers_per_gather = {workers}"))
        .unwrap();
    let query = s.prepare(REPORT).unwrap();
    for run in 0..runs {
        let (wall, cpu) = (Instant::now(), process_cpu());
        let rows = s.execute_prepared(&query, &[]).unwrap().rows().len();
        println!(
            "run {run}: {rows} rows, wall {:.3} s, process CPU {:.2} s",
            wall.elapsed().as_secs_f64(),
            process_cpu() - cpu
        );
    }
}
