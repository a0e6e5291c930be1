//! # statistics — what ANALYZE learns about a table's data, kept in the catalog
//!
//! PostgreSQL's `pg_class.reltuples`/`relpages` and `pg_statistic` are the model. Per
//! table ([`TableStats`]): the number of rows and of pages the rows fill. Per column
//! ([`ColumnStats`]): the fraction of NULLs, the number of distinct non-NULL values, the
//! average width, a **most-common-values list** (each value with the fraction of all
//! rows that hold it) and an **equi-depth histogram** over the other non-NULL values
//! (bounds that cut them into buckets holding equally many rows each).
//!
//! ## Gathering (`gather.rs`)
//!
//! `ANALYZE` cuts the table into parts of about equal size at the separators of its
//! tree ([`SAMPLE_PARTS`] at most, a few leaves each) and reads whole parts in a random
//! order until it has read [`SAMPLE_READ_ROWS`] rows (twice the sample), so its cost
//! does not grow with the table: a **reservoir sample** (Vitter's algorithm R,
//! [`Reservoir`]) of at most [`SAMPLE_ROWS`] of the rows read gives the column
//! statistics, and the row count is the rows read scaled by the parts not read (exact
//! when every part was read: a table of up to about `SAMPLE_READ_ROWS` rows, or one
//! the transaction itself wrote into, is read whole). Like PostgreSQL's two-stage
//! sample (random blocks, then random rows in them), the rows of a part are
//! neighbours in key order, so a column that follows the key closely can have its
//! distinct values underestimated. The rows are read as the engine stores them, lent a
//! chunk at a time, and only those that enter the sample are decoded.
//! The sample's random numbers come from a generator seeded by the table's name and row
//! count, so the same data gives the same statistics (tests and plans are repeatable).
//! When the sample holds the whole table, counts are exact; otherwise the number of
//! distinct values is estimated from the sample by Haas and Stokes' estimator (the one
//! PostgreSQL uses). Values wider than [`MAX_STORED_VALUE`] bytes are left out of the
//! lists (as PostgreSQL leaves out "too wide" values): they count towards the distinct
//! values but are never a most-common value or a histogram bound.
//!
//! ## Storage (`store.rs`)
//!
//! Statistics live in an ordinary engine table, [`store::SQL_STATISTICS_TABLE`], one row
//! per analysed column plus one for the table, keyed by the table's name first, written
//! and read through the statement's transaction like every catalog table: they roll
//! back with the transaction that gathered them, survive reopening, and go with DROP
//! TABLE and RENAME (`catalog.rs` treats the table like its other metadata tables).
//!
//! ## Automatic analyze (`changes.rs`)
//!
//! Besides `ANALYZE` and `VACUUM ANALYZE`, a table is analysed when the rows changed
//! since its last analyze pass a set fraction of it (after the commit that made it so),
//! and by CREATE INDEX, in its transaction, when the table has no statistics or the
//! build counted rows enough more or fewer than the last analyze saw to make the table
//! due by the same rule (statistics taken just before, say by the automatic analyze
//! after a load, are not gathered again).
//!
//! ## Invariants
//!
//! - Statistics are hints: nothing but the planner's choices and EXPLAIN's estimates
//!   depends on them, so stale or missing statistics can make a plan slow, never an
//!   answer wrong.
//! - Fractions are in `0.0..=1.0`; `mcv` is sorted by falling frequency; `histogram` is
//!   sorted ascending; both hold non-NULL values of the column's engine type.

pub mod changes;
mod gather;
pub mod store;

use engine::keycode::KeyValue;

pub use gather::{Reservoir, SAMPLE_PARTS, SAMPLE_READ_ROWS, SAMPLE_ROWS, part_order};

/// At most this many most-common values per column (PostgreSQL's default statistics
/// target, 100).
pub const MAX_MCV: usize = 100;
/// At most this many histogram bounds per column (100 buckets, as PostgreSQL's default).
pub const MAX_HISTOGRAM_BOUNDS: usize = 101;
/// Values whose encoding is longer than this many bytes are kept out of the lists, so a
/// column of long texts cannot make its statistics row huge.
pub const MAX_STORED_VALUE: usize = 256;

/// What ANALYZE learned about one column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnStats {
    /// The column's position in the table.
    pub position: usize,
    /// Fraction of rows whose value is NULL.
    pub null_fraction: f64,
    /// Estimated number of distinct non-NULL values (at least 1 when any value is not
    /// NULL).
    pub distinct: f64,
    /// Average width of a value in bytes (as encoded by the engine).
    pub average_width: f64,
    /// The most common values with the fraction of all rows holding each, most common
    /// first.
    pub mcv: Vec<(KeyValue, f64)>,
    /// Equi-depth histogram bounds over the non-NULL values not in `mcv`, ascending.
    pub histogram: Vec<KeyValue>,
}

/// What ANALYZE learned about one table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableStats {
    /// Rows in the table when it was analysed.
    pub rows: f64,
    /// Pages the rows fill (estimated from their encoded width and the page size).
    pub pages: f64,
    /// Per analysed column, by position.
    pub columns: Vec<ColumnStats>,
}

impl TableStats {
    /// The statistics of the column at `position`, if it was analysed.
    pub fn column(&self, position: usize) -> Option<&ColumnStats> {
        self.columns.iter().find(|c| c.position == position)
    }

    /// Whether `other` differs from these enough that plans made with these should be
    /// made again: the row count moved by more than [`REPLAN_FACTOR`] either way, or a
    /// column gained or lost its statistics.
    pub fn differs_much_from(&self, other: &TableStats) -> bool {
        let (a, b) = (self.rows.max(1.0), other.rows.max(1.0));
        let columns = |s: &TableStats| s.columns.iter().map(|c| c.position).collect::<Vec<_>>();
        a / b > REPLAN_FACTOR || b / a > REPLAN_FACTOR || columns(self) != columns(other)
    }
}

/// A table whose row count changed by more than this factor since plans were made gets
/// its prepared plans made again (smaller changes keep plans stable, as PostgreSQL's
/// cached generic plans are kept).
pub const REPLAN_FACTOR: f64 = 2.0;

impl ColumnStats {
    /// Sum of the most-common values' fractions.
    pub fn mcv_fraction(&self) -> f64 {
        self.mcv.iter().map(|(_, f)| f).sum::<f64>().min(1.0)
    }

    /// Fraction of rows whose value equals `value` (not NULL).
    pub fn equal_fraction(&self, value: &KeyValue) -> f64 {
        if let Some((_, f)) = self.mcv.iter().find(|(v, _)| v == value) {
            return *f;
        }
        self.other_value_fraction()
    }

    /// Fraction of rows holding one particular value that is not a most-common one: the
    /// rows outside the list and NULL, shared evenly by the other distinct values.
    pub fn other_value_fraction(&self) -> f64 {
        let rest = (1.0 - self.null_fraction - self.mcv_fraction()).max(0.0);
        let others = (self.distinct - self.mcv.len() as f64).max(1.0);
        (rest / others).clamp(0.0, 1.0)
    }

    /// Fraction of rows whose value is below `value` (`inclusive`: at most `value`).
    pub fn below_fraction(&self, value: &KeyValue, inclusive: bool) -> f64 {
        let below = |v: &KeyValue| match inclusive {
            true => v <= value,
            false => v < value,
        };
        let mcv: f64 = self
            .mcv
            .iter()
            .filter(|(v, _)| below(v))
            .map(|(_, f)| f)
            .sum();
        let rest = (1.0 - self.null_fraction - self.mcv_fraction()).max(0.0);
        (mcv + rest * histogram_fraction(&self.histogram, value)).clamp(0.0, 1.0)
    }
}

/// Fraction of a histogram's values below `value`: whole buckets below it, plus a part
/// of the bucket it falls in (interpolated for numbers, dates and timestamps; half a
/// bucket for other kinds).
fn histogram_fraction(bounds: &[KeyValue], value: &KeyValue) -> f64 {
    let buckets = bounds.len().saturating_sub(1);
    if buckets == 0 {
        // No histogram (every value is a most-common one, or too few): none below.
        return match bounds.first() {
            Some(only) if only < value => 1.0,
            _ => 0.0,
        };
    }
    let first = &bounds[0];
    let last = &bounds[buckets];
    if value <= first {
        return 0.0;
    }
    if value > last {
        return 1.0;
    }
    // The bucket [bounds[i], bounds[i + 1]] holding `value`.
    let i = bounds.partition_point(|b| b < value).saturating_sub(1);
    let within = match (
        as_number(&bounds[i]),
        as_number(&bounds[i + 1]),
        as_number(value),
    ) {
        (Some(lo), Some(hi), Some(v)) if hi > lo => ((v - lo) / (hi - lo)).clamp(0.0, 1.0),
        _ => 0.5,
    };
    (i as f64 + within) / buckets as f64
}

/// A value as a number on a line, for interpolating within a histogram bucket.
fn as_number(value: &KeyValue) -> Option<f64> {
    match value {
        KeyValue::Int(i) => Some(*i as f64),
        KeyValue::Float(f) if f.is_finite() => Some(*f),
        KeyValue::Numeric(n) => crate::numeric::to_f64(n).ok(),
        KeyValue::Date(d) => Some(f64::from(*d)),
        KeyValue::Timestamp(t) => Some(*t as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_column(mcv: Vec<(i64, f64)>, histogram: Vec<i64>, distinct: f64) -> ColumnStats {
        ColumnStats {
            position: 0,
            null_fraction: 0.1,
            distinct,
            average_width: 9.0,
            mcv: mcv
                .into_iter()
                .map(|(v, f)| (KeyValue::Int(v), f))
                .collect(),
            histogram: histogram.into_iter().map(KeyValue::Int).collect(),
        }
    }

    #[test]
    fn equality_uses_the_mcv_list_then_shares_the_rest() {
        let c = int_column(vec![(7, 0.5)], vec![0, 100], 41.0);
        assert_eq!(c.equal_fraction(&KeyValue::Int(7)), 0.5);
        // 40% of rows over the 40 other values.
        let other = c.equal_fraction(&KeyValue::Int(8));
        assert!((other - 0.01).abs() < 1e-9, "{other}");
    }

    #[test]
    fn ranges_interpolate_within_buckets() {
        let c = int_column(Vec::new(), vec![0, 50, 100], 100.0);
        let half = c.below_fraction(&KeyValue::Int(50), false);
        assert!((half - 0.45).abs() < 1e-9, "{half}");
        let quarter = c.below_fraction(&KeyValue::Int(25), false);
        assert!((quarter - 0.225).abs() < 1e-9, "{quarter}");
        assert_eq!(c.below_fraction(&KeyValue::Int(-5), true), 0.0);
        assert!((c.below_fraction(&KeyValue::Int(500), true) - 0.9).abs() < 1e-9);
    }
}
