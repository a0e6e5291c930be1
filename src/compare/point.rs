//! Point lookups by key: D's `get`, H's prepared `SELECT ... WHERE user_id = $1`, and
//! SQLite's prepared statement of the same text, one thread each, the same keys in the
//! same order. Each lookup must find its user on every system (checked: a miss is an
//! error), and one untimed pass over the same keys warms each system first.

use std::time::Instant;

use serde::Serialize;
use sql_frontend::Value;

use super::data::{Dataset, mix};
use super::latency::{Latencies, LatencySummary};
use super::stores::BaseStores;
use super::{CompareError, Progress, Result};

/// The query H and SQLite run.
pub const LOOKUP_SQL: &str = "SELECT user_id, name, status FROM users WHERE user_id = $1";

/// Latencies of the three systems.
#[derive(Debug, Clone, Serialize)]
pub struct PointReport {
    pub lookups: usize,
    pub d: LatencySummary,
    pub h: LatencySummary,
    pub sqlite: LatencySummary,
}

/// Times `lookups` point lookups on each system.
pub fn measure(
    stores: &BaseStores,
    data: &Dataset,
    lookups: usize,
    progress: &Progress,
) -> Result<PointReport> {
    let keys: Vec<&str> = (0..lookups)
        .map(|i| {
            data.users[(mix(i as u64 ^ 0x10C0) % data.users.len().max(1) as u64) as usize]
                .user_id
                .as_str()
        })
        .collect();
    let missing =
        |system: &str, key: &str| CompareError::Check(format!("{system}: user {key} not found"));

    progress.detail("point lookups: D");
    let d = time_each(&keys, |key| {
        stores
            .d_users
            .get(key)
            .map(drop)
            .ok_or_else(|| missing("D", key))
    })?;
    progress.step();

    progress.detail("point lookups: H");
    let mut session = stores.h.session();
    let statement = session.prepare(LOOKUP_SQL)?;
    let h = time_each(&keys, |key| {
        let result = session.execute_prepared(&statement, &[Value::Text(key.to_string())])?;
        if result.rows().len() == 1 {
            Ok(())
        } else {
            Err(missing("H", key))
        }
    })?;
    progress.step();

    progress.detail("point lookups: SQLite");
    let conn = stores.sqlite()?;
    let mut statement = conn.prepare(&LOOKUP_SQL.replace('$', "?"))?;
    let sqlite = time_each(&keys, |key| {
        let mut rows = statement.query([key])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            let _name: String = row.get(1)?;
            n += 1;
        }
        if n == 1 {
            Ok(())
        } else {
            Err(missing("SQLite", key))
        }
    })?;
    progress.step();

    Ok(PointReport {
        lookups,
        d,
        h,
        sqlite,
    })
}

/// Runs `lookup` once per key untimed (warm-up), then again timing each call.
fn time_each(keys: &[&str], mut lookup: impl FnMut(&str) -> Result<()>) -> Result<LatencySummary> {
    for key in keys {
        lookup(key)?;
    }
    let mut latencies = Latencies::new();
    for key in keys {
        let started = Instant::now();
        lookup(key)?;
        latencies.record(started.elapsed());
    }
    Ok(latencies.summary())
}
