//! ANALYZE: gathers each named table's statistics (`statistics/`) in the statement's
//! transaction and stores them in the catalog, so they commit or roll back with it.
//!
//! Also run without being asked: after CREATE INDEX (`ddl.rs`), whose build reads every
//! row anyway, and by the session after writes that changed a table by a set fraction
//! since its last analyze (`session/mod.rs`).

use std::ops::Bound;

use engine::Transaction;
use engine::table::row::decode_row;
use engine::table::{EntryChunk, catalog as engine_catalog, ops};

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
    // The stored rows, lent a leaf at a time; only those the sample keeps are decoded.
    let mut scan =
        ops::scan_chunks(txn, &schema, Bound::Unbounded, Bound::Unbounded)?.without_keys();
    let mut chunk = EntryChunk::new();
    let mut sample = statistics::Reservoir::new(name);
    while scan.next_chunk(&mut chunk)? {
        for (_, stored) in chunk.iter() {
            if let Some(slot) = sample.offer() {
                sample.put(slot, decode_row(&schema, stored)?);
            }
        }
    }
    let stats = sample.finish(&positions, ASSUMED_PAGE_SIZE);
    let before = store::load(txn, name)?;
    store::save(txn, name, &stats)?;
    *replan |= before.is_none_or(|before| before.differs_much_from(&stats));
    Ok(stats.rows)
}
