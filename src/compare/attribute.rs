//! "Users with status = X" as the data grows: D's scan, H with its index, H without it.
//!
//! One D store and one H database grow together through the sweep's sizes (10k, 100k,
//! 1M users at the default scale), loaded with the same generated users (see [`data`]).
//! At each size, for each queried status:
//!
//! - **D**: `find_by("status", X)` — a scan of every document under the store's lock;
//! - **H without the index**: `SELECT user_id, name FROM users WHERE status = $1`, planned
//!   as a sequential scan because `users` has no index on `status` at that moment;
//! - **H with the index**: `CREATE INDEX users_status ON users (status)` (its build time is
//!   reported too; it also analyses the table), the same statement prepared again — which
//!   the cost-based planner plans for each execution's status (`optimize::param_sensitive`):
//!   an index scan for a rare status, whichever of the index and a full read is cheaper
//!   for a common one; the report names the plan that ran for each point — and
//!   afterwards `DROP INDEX`, so the next size loads without it and the two H figures
//!   differ only by the index. `EXPLAIN` of both plans for the rare status is checked
//!   (SeqScan vs IndexScan) and kept in the report, so the index is shown to be the
//!   cause.
//!
//! Every system must return exactly the number of users the generator gave that status;
//! a different count is an error. Each query runs once untimed, then at least three times
//! (more while the first runs took under a second in all; once when the untimed run took
//! over half a second); the median is reported.
//! Queried statuses: `banned` (0.1 % of users) and `suspended` (9.9 %).

use std::path::Path;
use std::time::Instant;

use kv_legacy::{Durability as DDurability, LegacyStore, Scalar};
use serde::Serialize;
use sql_frontend::Value;

use super::data::{self, User};
use super::example3::median;
use super::stores::{self, LOAD_BATCH};
use super::{CompareError, Progress, Result};
use hdb::{Database, Session};

/// The statuses queried at each size.
pub const QUERY_STATUSES: [&str; 2] = ["banned", "suspended"];

const QUERY_SQL: &str = "SELECT user_id, name FROM users WHERE status = $1";

/// One size and status.
#[derive(Debug, Clone, Serialize)]
pub struct AttributePoint {
    pub documents: usize,
    pub status: String,
    /// Users with that status (every system returned exactly this many).
    pub matching: usize,
    pub d_scan_secs: f64,
    pub h_index_secs: f64,
    pub h_no_index_secs: f64,
    /// D's time over H's with the index.
    pub d_over_h_index: f64,
    /// H's time without the index over H's time with it.
    pub h_no_index_over_h_index: f64,
    /// The access path H's planner chose with the index present (`IndexScan` or
    /// `SeqScan`), from EXPLAIN of the prepared statement with this status.
    pub h_plan: String,
}

/// The sweep's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AttributeReport {
    pub sizes: Vec<usize>,
    pub points: Vec<AttributePoint>,
    /// Seconds `CREATE INDEX users_status` took at each size.
    pub index_build_secs: Vec<f64>,
    /// H's plan for the query with the index and without it (at the last size).
    pub plan_with_index: String,
    pub plan_without_index: String,
}

/// Runs the sweep in `dir` over `sizes` (ascending).
pub fn measure(dir: &Path, sizes: &[usize], progress: &Progress) -> Result<AttributeReport> {
    let legacy = LegacyStore::open(dir.join("d-users"), DDurability::Off)?;
    let h = Database::open_with(
        dir.join("h.db"),
        engine::DatabaseOptions {
            durability: engine::Durability::Off,
            ..Default::default()
        },
    )?;
    let mut session = h.session();
    session.execute(
        "CREATE TABLE users (user_id VARCHAR PRIMARY KEY, name VARCHAR, status VARCHAR)",
    )?;
    let mut report = AttributeReport {
        sizes: sizes.to_vec(),
        ..AttributeReport::default()
    };
    let mut loaded = 0;
    let mut matching = [0usize; QUERY_STATUSES.len()];
    for &size in sizes {
        progress.detail(&format!("attribute query: loading {size} users"));
        while loaded < size {
            let end = (loaded + LOAD_BATCH).min(size);
            let users: Vec<User> = (loaded..end).map(data::user).collect();
            for (count, status) in matching.iter_mut().zip(QUERY_STATUSES) {
                *count += users.iter().filter(|u| u.status == status).count();
            }
            stores::load_d_users(&legacy, &users)?;
            stores::load_h_users(&mut session, &users)?;
            loaded = end;
        }
        legacy.sync()?;
        h.engine().sync()?;

        progress.detail(&format!("attribute query: {size} users"));
        let mut d_secs = Vec::new();
        let mut no_index_secs = Vec::new();
        for (status, &expected) in QUERY_STATUSES.iter().zip(&matching) {
            let value = Scalar::Text(status.to_string());
            d_secs.push(time_query("D", expected, || {
                Ok(legacy.find_by("status", &value).len())
            })?);
            no_index_secs.push(time_h(&mut session, status, expected)?);
        }
        report.plan_without_index = explain(&mut session, "SeqScan")?;

        let started = Instant::now();
        session.execute("CREATE INDEX users_status ON users (status)")?;
        report
            .index_build_secs
            .push(started.elapsed().as_secs_f64());
        report.plan_with_index = explain(&mut session, "IndexScan")?;
        for (i, (status, &expected)) in QUERY_STATUSES.iter().zip(&matching).enumerate() {
            let h_index_secs = time_h(&mut session, status, expected)?;
            let h_plan = access_path(&mut session, status)?;
            report.points.push(AttributePoint {
                documents: size,
                status: status.to_string(),
                matching: expected,
                d_scan_secs: d_secs[i],
                h_index_secs,
                h_no_index_secs: no_index_secs[i],
                d_over_h_index: d_secs[i] / h_index_secs,
                h_no_index_over_h_index: no_index_secs[i] / h_index_secs,
                h_plan,
            });
        }
        session.execute("DROP INDEX users_status")?;
        progress.step();
    }
    h.close()?;
    Ok(report)
}

fn time_h(session: &mut Session, status: &str, expected: usize) -> Result<f64> {
    let statement = session.prepare(QUERY_SQL)?;
    let params = [Value::Text(status.to_string())];
    time_query("H", expected, || {
        Ok(session.execute_prepared(&statement, &params)?.rows().len())
    })
}

/// The access path (`IndexScan`, `SeqScan`) of the prepared query's plan for `status`.
fn access_path(session: &mut Session, status: &str) -> Result<String> {
    let statement = session.prepare(&format!("EXPLAIN (COSTS OFF) {QUERY_SQL}"))?;
    let plan = session.execute_prepared(&statement, &[Value::Text(status.to_string())])?;
    let last = match plan.rows().last() {
        Some(row) => row.get::<String>(0)?,
        None => String::new(),
    };
    Ok(last
        .trim()
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string())
}

/// `EXPLAIN` of the query, checked to contain `access` (`SeqScan` or `IndexScan`).
fn explain(session: &mut Session, access: &str) -> Result<String> {
    let sql = format!("EXPLAIN {}", QUERY_SQL.replace("$1", "'banned'"));
    let result = session.execute(&sql)?;
    let plan = result
        .rows()
        .iter()
        .map(|row| row.get::<String>(0))
        .collect::<hdb::Result<Vec<_>>>()?
        .join("\n");
    if plan.contains(access) {
        Ok(plan)
    } else {
        Err(CompareError::Check(format!(
            "H's plan should use {access}:\n{plan}"
        )))
    }
}

/// One untimed run, then at least three timed ones (up to 20 while under a second in
/// all; just one when the untimed run alone took over half a second, as H's full scans
/// of a million rows do); every run must return `expected` rows. Returns the median
/// seconds.
fn time_query(
    system: &str,
    expected: usize,
    mut query: impl FnMut() -> Result<usize>,
) -> Result<f64> {
    let check = |rows: usize| {
        if rows == expected {
            Ok(())
        } else {
            Err(CompareError::Check(format!(
                "{system} returned {rows} users where {expected} have the status"
            )))
        }
    };
    let warm_up = Instant::now();
    check(query()?)?;
    let min_runs = if warm_up.elapsed().as_secs_f64() > 0.5 {
        1
    } else {
        3
    };
    let mut secs = Vec::new();
    let began = Instant::now();
    while secs.len() < min_runs || (secs.len() < 20 && began.elapsed().as_secs_f64() < 1.0) {
        let started = Instant::now();
        let rows = query()?;
        secs.push(started.elapsed().as_secs_f64());
        check(rows)?;
    }
    Ok(median(&mut secs))
}
