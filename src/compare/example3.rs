//! The seed's Example 3 — events per user over the last 7 days, most active first — three
//! ways on the same data:
//!
//! - **H**: the seed's SQL verbatim ([`EXAMPLE3_SQL`]: a join, `CURRENT_DATE - INTERVAL
//!   '7 days'`, `GROUP BY`, `ORDER BY`). Until H's SQL supports all of it, H's error is
//!   reported as "not available" with its message; nothing is computed in its place.
//! - **D**: what an application on D must do: scan every event document in client code,
//!   keep those since the cutoff (UTC midnight 7 days before today, which is what
//!   `CURRENT_DATE - INTERVAL '7 days'` means), count per user, then `get` each user's
//!   name (the join).
//! - **SQLite**: the same query in SQLite's dialect (`date('now', '-7 days')`), the outside
//!   reference.
//!
//! The answers are compared as multisets of `(name, event_count)` (the query does not
//! order ties, and names need not be unique), and H's and SQLite's rows must come in
//! non-increasing count order. A run that crosses midnight UTC between the systems could
//! see different cutoffs; the report's date says when it ran.

use std::collections::HashMap;
use std::time::Instant;

use kv_legacy::Scalar;
use serde::Serialize;

use super::stores::BaseStores;
use super::{Progress, Result};

/// The seed's Example 3, character for character (comment included).
pub const EXAMPLE3_SQL: &str = "SELECT
    u.name,
    COUNT(ue.event_id) AS event_count
FROM
    Users u
JOIN
    User_Events ue ON u.user_id = ue.user_id
WHERE
    ue.event_timestamp >= CURRENT_DATE - INTERVAL '7 days' -- Last 7 days
GROUP BY
    u.user_id, u.name
ORDER BY
    event_count DESC;";

/// The same question in SQLite's dialect.
pub const EXAMPLE3_SQLITE: &str = "SELECT u.name, COUNT(ue.event_id) AS event_count \
     FROM users u JOIN user_events ue ON u.user_id = ue.user_id \
     WHERE ue.event_timestamp >= date('now', '-7 days') \
     GROUP BY u.user_id, u.name ORDER BY event_count DESC";

/// One system's figures.
#[derive(Debug, Clone, Serialize)]
pub struct SystemRun {
    /// Whether the system could answer; if not, `error` says why.
    pub available: bool,
    pub error: Option<String>,
    /// Median time of the timed runs.
    pub median_secs: f64,
    /// Rows in its answer.
    pub rows: usize,
}

/// The three systems' figures and whether their answers agree.
#[derive(Debug, Clone, Serialize)]
pub struct Example3Report {
    pub sql: String,
    pub runs: usize,
    pub h: SystemRun,
    pub d: SystemRun,
    pub sqlite: SystemRun,
    /// Events in the window (the sum of the counts), per D.
    pub events_in_window: u64,
    /// D and SQLite gave the same answer.
    pub d_agrees_with_sqlite: bool,
    /// H gave the same answer as SQLite, ordered by count (false while H cannot run it).
    pub h_agrees_with_sqlite: bool,
    /// SQLite's rows came in non-increasing count order.
    pub sqlite_ordered: bool,
}

/// An answer to Example 3: `(name, event_count)` rows.
pub type Answer = Vec<(String, i64)>;

/// Runs Example 3 `runs` times on each system (after one untimed run) and compares.
pub fn measure(stores: &BaseStores, runs: usize, progress: &Progress) -> Result<Example3Report> {
    let runs = runs.max(1);

    progress.detail("Example 3: H");
    let mut session = stores.h.session();
    let h = timed(runs, || answer_h(&mut session));
    progress.step();

    progress.detail("Example 3: D (client-side scan)");
    let d = timed(runs, || Ok(answer_d(stores)))?;
    progress.step();

    progress.detail("Example 3: SQLite");
    let conn = stores.sqlite()?;
    let sqlite = timed(runs, || answer_sqlite(&conn))?;
    progress.step();

    let events_in_window = d.1.iter().map(|(_, n)| *n as u64).sum();
    let d_agrees_with_sqlite = same_answer(&d.1, &sqlite.1);
    let (h_run, h_agrees_with_sqlite) = match h {
        Ok((run, answer)) => {
            let agrees = same_answer(&answer, &sqlite.1) && ordered_by_count(&answer);
            (run, agrees)
        }
        Err(error) => (
            SystemRun {
                available: false,
                error: Some(error.to_string()),
                median_secs: 0.0,
                rows: 0,
            },
            false,
        ),
    };
    Ok(Example3Report {
        sql: EXAMPLE3_SQL.to_string(),
        runs,
        h: h_run,
        d: d.0,
        sqlite_ordered: ordered_by_count(&sqlite.1),
        sqlite: sqlite.0,
        events_in_window,
        d_agrees_with_sqlite,
        h_agrees_with_sqlite,
    })
}

/// One untimed run, then `runs` timed ones; the answer of the last.
fn timed(runs: usize, mut query: impl FnMut() -> Result<Answer>) -> Result<(SystemRun, Answer)> {
    let mut answer = query()?;
    let mut secs = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        answer = query()?;
        secs.push(started.elapsed().as_secs_f64());
    }
    Ok((
        SystemRun {
            available: true,
            error: None,
            median_secs: median(&mut secs),
            rows: answer.len(),
        },
        answer,
    ))
}

/// The median of `values` (sorted in place); 0 for none.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// UTC midnight 7 days before today, in microseconds: `CURRENT_DATE - INTERVAL '7 days'`.
pub fn cutoff_micros() -> i64 {
    let today = chrono::Utc::now().date_naive();
    let cutoff = today - chrono::Days::new(7);
    cutoff
        .and_hms_opt(0, 0, 0)
        .map_or(0, |t| t.and_utc().timestamp_micros())
}

/// Example 3 on H: the seed's SQL verbatim.
pub fn answer_h(session: &mut hdb::Session) -> Result<Answer> {
    let result = session.execute(EXAMPLE3_SQL)?;
    let answer = result
        .rows()
        .iter()
        .map(|row| Ok((row.get::<String>(0)?, row.get::<i64>(1)?)))
        .collect::<hdb::Result<Answer>>()?;
    Ok(answer)
}

/// Example 3 on SQLite.
pub fn answer_sqlite(conn: &rusqlite::Connection) -> Result<Answer> {
    let mut statement = conn.prepare_cached(EXAMPLE3_SQLITE)?;
    let rows = statement.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<Answer>>()?)
}

/// Example 3 over D: a full scan of the events in client code, then a `get` per user.
pub fn answer_d(stores: &BaseStores) -> Answer {
    let cutoff = cutoff_micros();
    let mut counts: HashMap<String, i64> = HashMap::new();
    stores.d_events.for_each(|_, doc| {
        let recent =
            matches!(doc.get("event_timestamp"), Some(Scalar::Timestamp(t)) if t.0 >= cutoff);
        if let (true, Some(Scalar::Text(user))) = (recent, doc.get("user_id")) {
            *counts.entry(user.clone()).or_default() += 1;
        }
    });
    let mut answer: Answer = counts
        .into_iter()
        .filter_map(|(user, n)| match stores.d_users.get(&user)?.get("name") {
            Some(Scalar::Text(name)) => Some((name.clone(), n)),
            _ => None,
        })
        .collect();
    answer.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    answer
}

/// Whether two answers hold the same `(name, count)` pairs, in any order.
pub fn same_answer(a: &Answer, b: &Answer) -> bool {
    let sorted = |x: &Answer| {
        let mut x = x.clone();
        x.sort();
        x
    };
    sorted(a) == sorted(b)
}

/// Whether the counts never increase down the answer.
pub fn ordered_by_count(answer: &Answer) -> bool {
    answer.windows(2).all(|w| w[0].1 >= w[1].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(pairs: &[(&str, i64)]) -> Answer {
        pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    #[test]
    fn answers_compare_as_multisets() {
        let a = answer(&[("Alice", 3), ("Bob", 2), ("Bob", 2)]);
        let b = answer(&[("Bob", 2), ("Alice", 3), ("Bob", 2)]);
        assert!(same_answer(&a, &b));
        assert!(!same_answer(&a, &answer(&[("Alice", 3), ("Bob", 2)])));
        assert!(!same_answer(
            &a,
            &answer(&[("Alice", 3), ("Bob", 2), ("Bob", 1)])
        ));
    }

    #[test]
    fn order_check_allows_ties_only() {
        assert!(ordered_by_count(&answer(&[("a", 3), ("b", 3), ("c", 1)])));
        assert!(!ordered_by_count(&answer(&[("a", 1), ("b", 3)])));
    }

    #[test]
    fn cutoff_is_a_midnight_within_eight_days() {
        let cutoff = cutoff_micros();
        let now = chrono::Utc::now().timestamp_micros();
        assert_eq!(cutoff % (24 * 3600 * 1_000_000), 0);
        assert!(now - cutoff >= 7 * 24 * 3600 * 1_000_000);
        assert!(now - cutoff < 8 * 24 * 3600 * 1_000_000);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0]), 4.0);
        assert_eq!(median(&mut []), 0.0);
    }
}
