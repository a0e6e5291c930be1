//! # cost — how many rows a plan makes and how long it takes
//!
//! The planner chooses among plans by **estimated time**, in microseconds of one core
//! of the machine the constants were measured on (release build, data in memory). This
//! is PostgreSQL's model with its abstract units replaced by measured ones, because H's
//! costs are not PostgreSQL's: H keeps its pages in a memory map, so a "random page"
//! costs little more than a sequential one, while following an index entry to its row
//! costs a whole second B-tree descent (secondary indexes map to the primary key, not
//! to a row address).
//!
//! ## Cardinality
//!
//! A scan of a table makes its row count: ANALYZE's (`statistics/`), or, for a table
//! never analysed, [`DEFAULT_ROWS`] in [`DEFAULT_PAGES`] (PostgreSQL assumes 10 pages
//! too). Each filter keeps a fraction of its input, its **selectivity**
//! (`selectivity.rs`), computed per conjunct and multiplied (the conjuncts are assumed
//! independent, as PostgreSQL assumes):
//!
//! - `column = constant`: the constant's frequency in the most-common-values list, else
//!   the rows outside the list shared evenly by the other distinct values; a parameter
//!   (`$1`, value unknown when a prepared plan is made): one distinct value's average
//!   share. Without statistics, [`DEFAULT_EQ_SEL`].
//! - `column IN (a, b, ...)`: the sum of the equalities; `NOT IN`, `<>`: the rest,
//!   less the NULLs.
//! - ranges (`<`, `<=`, `>`, `>=`, BETWEEN): bounds on one column are combined into one
//!   range, whose share is read from the most-common values below the bound plus the
//!   histogram's buckets (interpolated within a bucket for numbers, dates and
//!   timestamps). Without statistics, [`DEFAULT_INEQ_SEL`] for one bound and
//!   [`DEFAULT_RANGE_SEL`] for two.
//! - `IS NULL` / `IS NOT NULL`: the null fraction.
//! - `LIKE 'prefix%'`: the range of strings starting with the prefix; other patterns
//!   [`DEFAULT_MATCH_SEL`].
//! - `AND`: product; `OR`: `a + b - ab`; `NOT`: `1 - s`.
//! - join equality `a = b`: `1 / max(distinct(a), distinct(b))`, less NULLs
//!   ([`DEFAULT_NUM_DISTINCT`] for a side without statistics).
//!
//! ## Costs (`estimate.rs` for whole trees)
//!
//! - sequential scan: `DESCENT + pages × SEQ_PAGE + rows × SCAN_ROW` (the descent to
//!   the first leaf is what makes a key lookup win even on a one-page table);
//! - a filter: `rows in × FILTER_CONJUNCT` per conjunct;
//! - primary-key lookup: `KEY_LOOKUP` per key;
//! - primary-key range scan: `ranges × DESCENT + matching rows × SCAN_ROW`, plus their
//!   share of pages;
//! - secondary-index scan: `ranges × DESCENT + matching entries × (INDEX_ENTRY +
//!   ROW_LOOKUP)`, the second term being the second lookup per row that makes an index
//!   scan lose to a sequential scan once it selects more than a few percent of a table;
//! - index-only scan (an index whose indexed, INCLUDE and primary-key columns hold all
//!   the query reads): `ranges × DESCENT + matching entries × INDEX_ONLY_ENTRY`, no
//!   lookup of the row, so it stays cheaper than the sequential scan at any selectivity
//!   (and, over a whole index, whenever entries decode faster than rows);
//! - index nested-loop join: a probe per left row ([`index_join_lookup_cost`]: one
//!   `KEY_LOOKUP` for a whole primary key, else a descent and the matching rows);
//!   hash join: the build side's rows × `HASH_BUILD` + the probe side's × `HASH_PROBE`;
//!   nested loop: every pair × `NESTED_PAIR`; aggregates and sorts: per-row constants
//!   below. The join-order pass (`optimize/join_order.rs`, `join_search.rs`) prices
//!   its orders and methods with these same constants, so that join order and method
//!   follow the sizes.
//!
//! The **access path** (`optimize/access_path.rs`) is the cheapest of the sequential
//! scan, a primary-key lookup or range, and each index whose leading columns the
//! filter constrains. A path the session disabled (`SET enable_seqscan = off`, as in
//! PostgreSQL) costs [`DISABLED_COST`] more, so it is chosen only when nothing else
//! can answer the query.
//!
//! Plans made for prepared statements are kept until the statistics of a table they
//! read change much (`statistics::TableStats::differs_much_from`): a plan made with
//! `$1` unknown uses the average selectivity, which the next ANALYZE rarely moves.
//!
//! Not modelled: correlation between columns, the order of an index against the table
//! (every index row costs a full lookup), caching between statements, the width of
//! rows beyond the page count.

mod estimate;
mod selectivity;

pub use estimate::{
    Estimate, Estimates, estimate, estimate_tree, index_join_lookup_cost, range_predicate,
    rows_per_key,
};
pub use selectivity::{Origin, Origins, distinct, join_equality, selectivity};

use crate::catalog::TableInfo;

/// Rows assumed in a table never analysed.
pub const DEFAULT_ROWS: f64 = 1000.0;
/// Pages assumed for a table never analysed (PostgreSQL's guess for a table it knows
/// nothing of).
pub const DEFAULT_PAGES: f64 = 10.0;

/// Selectivity of `column = value` without statistics (PostgreSQL's `DEFAULT_EQ_SEL`).
pub const DEFAULT_EQ_SEL: f64 = 0.005;
/// Selectivity of one range bound without statistics (`DEFAULT_INEQ_SEL`: a third).
pub const DEFAULT_INEQ_SEL: f64 = 1.0 / 3.0;
/// Selectivity of a range bounded on both sides without statistics
/// (`DEFAULT_RANGE_INEQ_SEL`).
pub const DEFAULT_RANGE_SEL: f64 = 0.005;
/// Selectivity of a LIKE pattern that gives no usable prefix (`DEFAULT_MATCH_SEL`).
pub const DEFAULT_MATCH_SEL: f64 = 0.005;
/// Selectivity of a boolean expression the model does not understand (a function
/// call, a CASE, a subquery test): PostgreSQL's default for a clause it cannot
/// estimate.
pub const DEFAULT_UNKNOWN_SEL: f64 = 0.5;
/// Distinct values assumed for a column without statistics (`DEFAULT_NUM_DISTINCT`).
pub const DEFAULT_NUM_DISTINCT: f64 = 200.0;

/// Microseconds to read one page of a table in order: the leaf's checksum and header,
/// taken from the memory map.
pub const SEQ_PAGE: f64 = 1.0;
/// Microseconds to read one row in a sequential scan, decode the columns read and hand
/// it on. With [`SEQ_PAGE`] and one [`FILTER_CONJUNCT`], this is the ~0.16 us per row
/// of the selectivity sweep's sequential scan over 1M rows (`benches/selectivity.rs`:
/// 161 ms of CPU at 2e45ef5, release; 0.5 before the lending scan and row batches made
/// scans three times cheaper; see docs/benchmarks-sql.md).
pub const SCAN_ROW: f64 = 0.1;
/// Microseconds per row per conjunct to evaluate a filter.
pub const FILTER_CONJUNCT: f64 = 0.05;
/// Microseconds for one descent of a B-tree from its root to a leaf (the start of each
/// range of an index or key range scan).
pub const DESCENT: f64 = 1.5;
/// Microseconds to read one secondary-index entry during a range scan.
pub const INDEX_ENTRY: f64 = 0.2;
/// Microseconds per entry of an index-only scan: reading the entry and decoding its key
/// and included values into a row, which is a sequential scan's work per row
/// ([`SCAN_ROW`], with the page share) over narrower rows. Not measured on its own: set
/// just below a filtered sequential scan's cost per row ([`SCAN_ROW`] +
/// [`FILTER_CONJUNCT`] + a page per ~65 rows), so that an index holding every column
/// read wins at any selectivity, as the model's header says.
pub const INDEX_ONLY_ENTRY: f64 = 0.15;
/// Microseconds to fetch a table row by its primary key, as a secondary-index scan does
/// for every entry it reads: a second descent, the version check and the decode. With
/// [`INDEX_ENTRY`] this is the ~3.0–3.3 us of CPU per row of the selectivity sweep's
/// index scans at 1% and 10% of 1M rows (2e45ef5; 2.5 us in `hdb compare`'s attribute
/// query at 42a2954). With [`SCAN_ROW`] it puts the crossover between an index and
/// the sequential scan at about 5% of a table, where the sweep measured it.
pub const ROW_LOOKUP: f64 = 2.8;
/// Microseconds for one primary-key point lookup (a descent and a decode).
pub const KEY_LOOKUP: f64 = ROW_LOOKUP;
/// Microseconds per row to insert into a hash table (join build side, aggregate).
pub const HASH_BUILD: f64 = 0.3;
/// Microseconds per row to probe a hash table.
pub const HASH_PROBE: f64 = 0.15;
/// Microseconds per pair a nested-loop join tests.
pub const NESTED_PAIR: f64 = 0.05;
/// Microseconds per comparison of a sort (`n log2 n` of them).
pub const SORT_COMPARE: f64 = 0.05;
/// Microseconds a Gather spends per worker thread beyond the work it shares out:
/// starting the thread and handing it its first part of the table (measured: a scoped
/// thread starts in about 20 us here; the rest is margin, so that a table must be large
/// before the planner splits it). Merging a worker's groups is costed per group
/// (`HASH_BUILD`).
pub const PARALLEL_SETUP: f64 = 500.0;
/// Rows below which the parallel pass leaves an aggregate to one thread whatever the
/// estimated saving: PostgreSQL's `min_parallel_table_scan_size` (8 MB) in rows of
/// this size, about 100 bytes.
pub const PARALLEL_MIN_ROWS: f64 = 50_000.0;
/// Added to a path the session disabled (`enable_seqscan`, `enable_indexscan`):
/// PostgreSQL's `disable_cost`, large enough to lose to any enabled path.
pub const DISABLED_COST: f64 = 1.0e10;

/// The session's switches for plan types, as PostgreSQL's `enable_*` settings: a
/// disabled path is avoided where another can answer the query (used to force a plan
/// by hand, e.g. for the selectivity benchmark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannerSettings {
    pub enable_seqscan: bool,
    pub enable_indexscan: bool,
    pub enable_indexonlyscan: bool,
    /// Threads a Gather may add to the statement's own (PostgreSQL's
    /// `max_parallel_workers_per_gather`); 0 runs every query on one thread.
    pub max_parallel_workers_per_gather: usize,
}

impl Default for PlannerSettings {
    fn default() -> PlannerSettings {
        PlannerSettings {
            enable_seqscan: true,
            enable_indexscan: true,
            enable_indexonlyscan: true,
            max_parallel_workers_per_gather: default_parallel_workers(),
        }
    }
}

/// The default of `max_parallel_workers_per_gather`: one thread per core beyond the
/// statement's own, at most [`MAX_DEFAULT_WORKERS`] (where PostgreSQL's default is 2
/// whatever the machine, hdb is embedded and usually alone on its cores).
pub fn default_parallel_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .min(MAX_DEFAULT_WORKERS)
}

/// The most workers a Gather gets by default.
pub const MAX_DEFAULT_WORKERS: usize = 7;

/// A table's size as the planner sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TableSize {
    pub rows: f64,
    pub pages: f64,
}

/// The size of `table`: from its statistics, or the defaults for a table never analysed.
pub fn table_size(table: &TableInfo) -> TableSize {
    match &table.stats {
        Some(stats) => TableSize {
            rows: stats.rows,
            pages: stats.pages.max(1.0),
        },
        None => TableSize {
            rows: DEFAULT_ROWS,
            pages: DEFAULT_PAGES,
        },
    }
}

/// The origins of a table's columns (each column of the table, in order).
pub fn table_origins(table: &TableInfo) -> Vec<Option<Origin>> {
    (0..table.columns.len())
        .map(|position| {
            table.stats.as_ref().map(|stats| Origin {
                stats: stats.clone(),
                position,
            })
        })
        .collect()
}

/// Cost of reading every row of a table in order: a descent to its first leaf, then
/// its pages and rows.
pub fn seq_scan_cost(size: TableSize) -> f64 {
    DESCENT + size.pages * SEQ_PAGE + size.rows * SCAN_ROW
}

/// Cost of reading `rows` matching rows by `ranges` ranges of the primary key.
pub fn key_range_cost(size: TableSize, ranges: f64, rows: f64) -> f64 {
    let share = match size.rows > 0.0 {
        true => (rows / size.rows).min(1.0),
        false => 0.0,
    };
    ranges * DESCENT + share * size.pages * SEQ_PAGE + rows * SCAN_ROW
}

/// Cost of reading `entries` entries of a secondary index by `ranges` ranges and
/// fetching each entry's row.
pub fn index_scan_cost(ranges: f64, entries: f64) -> f64 {
    ranges * DESCENT + entries * (INDEX_ENTRY + ROW_LOOKUP)
}

/// Cost of reading `entries` entries of a secondary index by `ranges` ranges and
/// making each one's row from the entry alone (an index-only scan).
pub fn index_only_scan_cost(ranges: f64, entries: f64) -> f64 {
    ranges * DESCENT + entries * INDEX_ONLY_ENTRY
}

/// Cost of looking up `keys` primary keys.
pub fn key_lookup_cost(keys: f64) -> f64 {
    keys * KEY_LOOKUP
}
