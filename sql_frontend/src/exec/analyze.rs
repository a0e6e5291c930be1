//! ANALYZE: gathers each named table's statistics (`statistics/`) in the statement's
//! transaction and stores them in the catalog, so they commit or roll back with it.
//!
//! Also run without being asked: after CREATE INDEX (`ddl.rs`), whose build reads every
//! row anyway, and by the session after writes that changed a table by a set fraction
//! since its last analyze (`session/mod.rs`).

use std::ops::Bound;

use engine::Transaction;
use engine::table::row::decode_row;
use engine::table::{EntryChunk, RowChunks, catalog as engine_catalog, ops};

use crate::catalog::RESERVED_PREFIX;
use crate::error::Result;
use crate::statistics::{self, store};

/// The page size the page count is estimated with. The SQL layer does not see the
/// database's page size; 4 KiB is the default, and only ratios of costs depend on it.
const ASSUMED_PAGE_SIZE: usize = 4096;

/// What one ANALYZE did, for the session's bookkeeping.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analyzed {
    /// Per table analysed: its name and its row count now.
    pub tables: Vec<(String, f64)>,
    /// Whether some table's statistics changed enough that prepared plans should be
    /// made again ([`statistics::TableStats::differs_much_from`]).
    pub replan: bool,
}

/// Analyzes `tables` (each with the positions of the columns to analyse, empty for
/// all), or every user table when `tables` is empty.
pub fn analyze(txn: &mut Transaction, tables: &[(String, Vec<usize>)]) -> Result<Analyzed> {
    let targets: Vec<(String, Vec<usize>)> = match tables.is_empty() {
        true => engine_catalog::tables(txn)?
            .into_iter()
            .filter(|t| !t.name.starts_with(RESERVED_PREFIX))
            .map(|t| (t.name, Vec::new()))
            .collect(),
        false => tables.to_vec(),
    };
    let mut out = Analyzed::default();
    for (name, columns) in targets {
        let rows = analyze_table(txn, &name, &columns, &mut out.replan)?;
        out.tables.push((name, rows));
    }
    Ok(out)
}

/// Analyzes one table; sets `replan` if its statistics changed much. Returns its rows.
fn analyze_table(
    txn: &mut Transaction,
    name: &str,
    columns: &[usize],
    replan: &mut bool,
) -> Result<f64> {
    let schema = engine_catalog::table(txn, name)?;
    let positions: Vec<usize> = match columns.is_empty() {
        true => (0..schema.columns.len()).collect(),
        false => columns.to_vec(),
    };
    // The table cut into parts of about equal size (by the tree's separators), read in
    // a random order until enough rows were offered; the stored rows are lent a leaf
    // at a time, and only those the sample keeps are decoded.
    let mut parts: Vec<Option<RowChunks>> = ops::scan_chunk_parts(
        txn,
        &schema,
        Bound::Unbounded,
        Bound::Unbounded,
        statistics::SAMPLE_PARTS,
    )?
    .into_iter()
    .map(Some)
    .collect();
    let mut chunk = EntryChunk::new();
    let mut sample = statistics::Reservoir::new(name);
    let mut read = 0;
    for part in statistics::part_order(name, parts.len()) {
        if sample.offered() >= statistics::SAMPLE_READ_ROWS {
            break;
        }
        let Some(scan) = parts.get_mut(part).and_then(Option::take) else {
            continue;
        };
        let mut scan = scan.without_keys();
        while scan.next_chunk(&mut chunk)? {
            for (_, stored) in chunk.iter() {
                if let Some(slot) = sample.offer() {
                    sample.put(slot, decode_row(&schema, stored)?);
                }
            }
        }
        read += 1;
    }
    let stats = sample.finish_parts(read, parts.len(), &positions, ASSUMED_PAGE_SIZE);
    let before = store::load(txn, name)?;
    store::save(txn, name, &stats)?;
    *replan |= before.is_none_or(|before| before.differs_much_from(&stats));
    Ok(stats.rows)
}

#[cfg(test)]
mod tests {
    use engine::IsolationLevel;
    use engine::keycode::KeyValue;

    use crate::session::Session;
    use crate::statistics::{SAMPLE_READ_ROWS, TableStats, store};

    const ROWS: i64 = 200_000;

    fn stats_of(db: &engine::Database, table: &str) -> TableStats {
        let mut txn = db.begin(IsolationLevel::ReadCommitted);
        txn.begin_statement().unwrap();
        let stats = store::load(&mut txn, table).unwrap().expect("statistics");
        txn.rollback();
        stats
    }

    fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
        (actual - expected).abs() <= tolerance * expected
    }

    /// A load of many more rows than a sample reads: the automatic analyze after its
    /// commit reads only some of the table's parts, and its statistics still match
    /// what the data is known to hold.
    #[test]
    fn a_sampled_analyze_estimates_a_large_table() {
        assert!(
            (ROWS as u64) > 3 * SAMPLE_READ_ROWS,
            "the table must be sampled"
        );
        let dir = tempfile::tempdir().unwrap();
        let db = engine::Database::open(dir.path().join("t.db"), Default::default()).unwrap();
        let mut s = Session::new(db.clone());
        s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, grp INTEGER, maybe INTEGER)")
            .unwrap();
        // grp: 100 values spread over the keys; maybe: unique, NULL in every fourth row.
        s.execute(&format!(
            "INSERT INTO t SELECT i, (i * 7919) % 100, \
             CASE WHEN i % 4 = 0 THEN NULL ELSE i END FROM generate_series(0, {}) AS g(i)",
            ROWS - 1
        ))
        .unwrap();
        let stats = stats_of(&db, "t");
        assert!(close(stats.rows, ROWS as f64, 0.05), "rows {}", stats.rows);
        // An estimate from the parts read (the same each run: the order is seeded), not
        // a count of every row.
        assert_ne!(stats.rows, ROWS as f64);
        let (id, grp, maybe) = (&stats.columns[0], &stats.columns[1], &stats.columns[2]);
        assert_eq!(grp.distinct, 100.0);
        assert_eq!(grp.mcv.len(), 100);
        assert!(close(grp.equal_fraction(&KeyValue::Int(42)), 0.01, 0.2));
        assert_eq!(grp.null_fraction, 0.0);
        assert!(
            close(maybe.null_fraction, 0.25, 0.08),
            "{}",
            maybe.null_fraction
        );
        assert!(
            close(maybe.distinct, 0.75 * ROWS as f64, 0.1),
            "{}",
            maybe.distinct
        );
        assert!(close(id.distinct, ROWS as f64, 0.05), "{}", id.distinct);
        let half = id.below_fraction(&KeyValue::Int(ROWS / 2), false);
        assert!(close(half, 0.5, 0.06), "{half}");
        let tenth = id.below_fraction(&KeyValue::Int(ROWS / 10), false);
        assert!(close(tenth, 0.1, 0.25), "{tenth}");
    }

    /// A table of fewer rows than a sample reads is read whole: its counts are exact.
    #[test]
    fn a_small_table_is_analysed_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let db = engine::Database::open(dir.path().join("t.db"), Default::default()).unwrap();
        let mut s = Session::new(db.clone());
        s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, grp INTEGER)")
            .unwrap();
        s.execute("INSERT INTO t SELECT i, i % 7 FROM generate_series(1, 5000) AS g(i)")
            .unwrap();
        s.execute("ANALYZE t").unwrap();
        let stats = stats_of(&db, "t");
        assert_eq!(stats.rows, 5000.0);
        assert_eq!(stats.columns[0].distinct, 5000.0);
        assert_eq!(stats.columns[1].distinct, 7.0);
    }
}
