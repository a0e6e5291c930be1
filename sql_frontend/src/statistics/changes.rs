//! Rows changed since each table's last ANALYZE, per open database: what decides an
//! automatic analyze.
//!
//! Like PostgreSQL's cumulative statistics (which its autovacuum reads), the counts are
//! kept in memory, not in the database: they are not transactional (a session adds its
//! transaction's counts when it commits; a rolled-back transaction adds none) and start
//! again from zero when the database is opened. A table is due for an analyze when the
//! rows inserted, updated and deleted since its last analyze exceed
//! [`AUTO_ANALYZE_BASE`] plus [`AUTO_ANALYZE_FRACTION`] of its rows then. The session
//! that commits the change that makes a table due runs the analyze itself, in a
//! transaction of its own after its commit (`session/mod.rs`): H has no background
//! worker, so the fraction is chosen larger than PostgreSQL's 10% to bound the extra
//! reading while a table grows (an analyze reads a small table whole and a large one's
//! sample, `statistics::SAMPLE_READ_ROWS` rows, so a table loaded from empty is read
//! at most about `(1 + f) / f` = 3 times over in all at f = 0.5).
//!
//! One set of counts per open database, kept in its shared SQL state (`shared.rs`):
//! clones of an `engine::Database` share it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Rows changed since the last analyze beyond which a table is analysed again, whatever
/// its size (PostgreSQL's `autovacuum_analyze_threshold` is 50; H analyses in the
/// committing session, so small tables are left to explicit ANALYZE).
pub const AUTO_ANALYZE_BASE: u64 = 1000;
/// The fraction of a table's rows (as of its last analyze) that must change, beyond
/// [`AUTO_ANALYZE_BASE`], before it is analysed again.
pub const AUTO_ANALYZE_FRACTION: f64 = 0.5;

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    /// Rows inserted, updated or deleted since the last analyze (committed).
    changed: u64,
    /// Rows at the last analyze, where known in this process.
    analyzed_rows: Option<f64>,
}

/// One database's change counts (cheap to clone: all clones share them).
#[derive(Debug, Clone, Default)]
pub struct ChangeCounts {
    tables: Arc<Mutex<HashMap<String, Counts>>>,
}

impl ChangeCounts {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Counts>) -> T) -> T {
        // Plain counters: a panic while holding the lock leaves them usable.
        let mut tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut tables)
    }

    /// Adds a committed transaction's changed rows per table; returns the tables now
    /// due for an analyze, each with whether its row count at the last analyze is
    /// known (`None`: the caller reads it from the catalog and tells [`Self::observed`]).
    pub fn add<'c>(
        &self,
        changed: impl IntoIterator<Item = (&'c String, &'c u64)>,
    ) -> Vec<(String, Option<f64>)> {
        self.with(|tables| {
            let mut due = Vec::new();
            for (table, rows) in changed {
                let counts = tables.entry(table.clone()).or_default();
                counts.changed = counts.changed.saturating_add(*rows);
                if is_due(counts.changed, counts.analyzed_rows.unwrap_or(0.0)) {
                    due.push((table.clone(), counts.analyzed_rows));
                }
            }
            due
        })
    }

    /// Records that `table` had `rows` rows at its last analyze (read from its stored
    /// statistics); returns whether it is due for an analyze.
    pub fn observed(&self, table: &str, rows: f64) -> bool {
        self.with(|tables| {
            let counts = tables.entry(table.to_string()).or_default();
            counts.analyzed_rows = Some(rows);
            is_due(counts.changed, rows)
        })
    }

    /// Records an analyze of `table`, which then had `rows` rows: its count restarts.
    pub fn analyzed(&self, table: &str, rows: f64) {
        self.with(|tables| {
            tables.insert(
                table.to_string(),
                Counts {
                    changed: 0,
                    analyzed_rows: Some(rows),
                },
            );
        });
    }
}

/// Whether `changed` rows since an analyze that saw `rows` rows make a table due.
pub fn is_due(changed: u64, rows: f64) -> bool {
    changed as f64 > AUTO_ANALYZE_BASE as f64 + AUTO_ANALYZE_FRACTION * rows.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_due_after_its_fraction_changed() {
        let counts = ChangeCounts::default();
        let batch = |n: u64| HashMap::from([("t".to_string(), n)]);
        assert!(counts.add(&batch(600)).is_empty());
        assert_eq!(counts.add(&batch(600)), [("t".to_string(), None)]);
        counts.analyzed("t", 10_000.0);
        assert!(counts.add(&batch(5_000)).is_empty());
        assert_eq!(
            counts.add(&batch(1_001)),
            [("t".to_string(), Some(10_000.0))]
        );
        assert!(!counts.observed("u", 1.0));
    }
}
