//! The bulk load: D's snapshot into H, in key order, one transaction per batch.
//!
//! Keys are sorted once and loaded in order, so the progress of the load is one key: the
//! last key of the last committed batch. Each batch converts its documents, inserts the
//! rows through the engine's table API (no SQL text per row) and writes the progress row
//! and any rejections **in the same transaction** (see `progress.rs`), so a resumed load
//! starts exactly after the last committed key. Inserting in key order also appends to
//! the right edge of the table's B-tree, the cheapest way to build it.

use std::time::{Duration, Instant};

use engine::IsolationLevel;
use engine::keycode::{KeyValue, encode};
use engine::table::ops;
use engine::table::row::encode_row;

use crate::migrate::control::Control;
use crate::migrate::error::MigrateError;
use crate::migrate::progress::{self, Phase, Progress};
use crate::migrate::source::DSnapshot;
use crate::migrate::target::Target;

/// What the bulk load did in this run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub loaded: u64,
    pub rejected: u64,
    pub batches: u64,
    /// Time spent converting documents to rows.
    pub convert: Duration,
    /// Time spent writing rows and committing.
    pub write: Duration,
}

/// Loads the documents of `snapshot` after `progress.last_key`, committing `progress`
/// with every batch; ends with the phase set to [`Phase::Loaded`].
pub fn load(
    target: &mut Target,
    snapshot: &DSnapshot,
    progress: &mut Progress,
    batch_size: usize,
    control: &mut Control,
) -> Result<LoadStats, MigrateError> {
    let mut stats = LoadStats::default();
    let mut keys: Vec<&String> = match &progress.last_key {
        Some(last) => snapshot.docs.keys().filter(|k| *k > last).collect(),
        None => snapshot.docs.keys().collect(),
    };
    keys.sort_unstable();
    control.start_bar(keys.len() as u64, "loading");
    let mut batches = keys.chunks(batch_size.max(1)).peekable();
    if batches.peek().is_none() {
        // Nothing (more) to load: only the phase changes.
        let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
        progress.phase = Phase::Loaded;
        progress::write(&mut txn, &target.tables, &target.name, progress)?;
        txn.commit()?;
    }
    while let Some(batch) = batches.next() {
        control.check_before_batch()?;
        let started = Instant::now();
        let rows: Vec<(&String, Result<Vec<KeyValue>, String>)> = batch
            .iter()
            .map(|key| (*key, target.converter.convert(key, &snapshot.docs[*key])))
            .collect();
        let converted = Instant::now();
        stats.convert += converted - started;

        let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
        let mut loaded = 0u64;
        let mut rejected = 0u64;
        let plain_table = target.schema.indexes.is_empty();
        for (key, row) in rows {
            let reason = match row {
                Ok(row) if plain_table => {
                    insert_new_row(&mut txn, target, &row)?;
                    loaded += 1;
                    continue;
                }
                Ok(row) => match ops::insert(&mut txn, &target.schema, row) {
                    Ok(_) => {
                        loaded += 1;
                        continue;
                    }
                    Err(engine::Error::Constraint(c)) => c.to_string(),
                    Err(e) => return Err(e.into()),
                },
                Err(reason) => reason,
            };
            target.reject(&mut txn, key, reason)?;
            rejected += 1;
        }
        let mut next = progress.clone();
        next.last_key = batch.last().map(|k| (*k).clone());
        next.loaded += loaded;
        next.rejected += rejected;
        if batches.peek().is_none() {
            next.phase = Phase::Loaded;
        }
        progress::write(&mut txn, &target.tables, &target.name, &next)?;
        txn.commit()?;
        *progress = next;
        stats.loaded += loaded;
        stats.rejected += rejected;
        stats.batches += 1;
        stats.write += converted.elapsed();
        control.batch_done(batch.len() as u64);
    }
    control.finish_bar();
    Ok(stats)
}

/// Inserts a converted row into a table without secondary indexes, skipping the
/// existence check of `ops::insert`: the bulk load writes each key of the snapshot once,
/// after the last committed key, into rows no one else writes, so the key is new. The
/// row is checked and encoded exactly as `ops::insert` would store it.
fn insert_new_row(
    txn: &mut engine::Transaction,
    target: &Target,
    row: &[KeyValue],
) -> Result<(), MigrateError> {
    let pk = &row[target.converter.key_index()];
    let key = encode(std::slice::from_ref(pk));
    let stored = encode_row(&target.schema.columns, row)?;
    txn.put(target.schema.tree, &key, &stored)?;
    Ok(())
}
