//! The bulk load: D's snapshot into H, one transaction per batch, several workers.
//!
//! The snapshot's keys are sorted and cut into batches of the recorded batch size, so
//! batch *k* is the same set of documents in every run (see `progress.rs`). Each batch
//! converts its documents, inserts the rows through the engine's table API (no SQL text
//! per row), and writes its marker row and any rejections **in the same transaction**;
//! a resumed load runs exactly the batches without a marker. Batches hold disjoint keys,
//! so `workers` threads take them from a shared counter and commit concurrently without
//! conflicting; within a batch the keys are ascending, so each transaction appends to
//! one region of the table's B-tree.
//!
//! When every batch is committed, one last transaction sums the markers into the
//! progress row and moves it to [`Phase::Loaded`].

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use engine::IsolationLevel;
use engine::keycode::{KeyValue, encode};
use engine::table::ops;
use engine::table::row::encode_row;

use crate::migrate::OnBadDocument;
use crate::migrate::control::Control;
use crate::migrate::convert::BadDocument;
use crate::migrate::error::MigrateError;
use crate::migrate::progress::{self, Phase, Progress};
use crate::migrate::source::DSnapshot;
use crate::migrate::target::Target;

/// What the bulk load did in this run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub loaded: u64,
    pub rejected: Vec<BadDocument>,
    pub batches: u64,
    /// Time spent converting documents to rows, summed over the workers.
    pub convert: Duration,
    /// Time spent writing rows and committing, summed over the workers.
    pub write: Duration,
}

impl LoadStats {
    fn merge(&mut self, other: LoadStats) {
        self.loaded += other.loaded;
        self.rejected.extend(other.rejected);
        self.batches += other.batches;
        self.convert += other.convert;
        self.write += other.write;
    }
}

/// Loads the batches of `snapshot` that H has no marker for, with `workers` threads;
/// ends with the progress in [`Phase::Loaded`].
pub fn load(
    target: &mut Target,
    snapshot: &DSnapshot,
    progress: &mut Progress,
    workers: usize,
    control: &mut Control,
) -> Result<LoadStats, MigrateError> {
    let mut keys: Vec<&String> = snapshot.docs.keys().collect();
    keys.sort_unstable();
    let batches: Vec<&[&String]> = keys
        .chunks(
            usize::try_from(progress.batch_size)
                .unwrap_or(usize::MAX)
                .max(1),
        )
        .collect();
    let committed = {
        let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
        let committed = progress::committed_batches(&mut txn, &target.tables, &target.name)?;
        txn.commit()?;
        committed
    };
    let pending: Vec<usize> = (0..batches.len())
        .filter(|b| !committed.contains_key(&(*b as u64)))
        .collect();
    control.start_bar(
        pending.iter().map(|b| batches[*b].len() as u64).sum(),
        "loading",
    );

    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let shared: &Target = target;
    let control_ref: &Control = control;
    let outcomes: Vec<Result<LoadStats, MigrateError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.clamp(1, pending.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut stats = LoadStats::default();
                    while !failed.load(Ordering::SeqCst) {
                        let Some(&batch) = pending.get(next.fetch_add(1, Ordering::SeqCst)) else {
                            break;
                        };
                        let done = control_ref.begin_batch().and_then(|()| {
                            load_batch(shared, snapshot, batch as u64, batches[batch], &mut stats)
                        });
                        if let Err(e) = done {
                            failed.store(true, Ordering::SeqCst);
                            return Err(e);
                        }
                        control_ref.batch_done(batches[batch].len() as u64);
                    }
                    Ok(stats)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    Err(MigrateError::Io(std::io::Error::other(
                        "a bulk-load worker panicked",
                    )))
                })
            })
            .collect()
    });
    let mut stats = LoadStats::default();
    let mut first_error = None;
    for outcome in outcomes {
        match outcome {
            Ok(worker) => stats.merge(worker),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    for bad in &stats.rejected {
        target.rejected_keys.insert(bad.key.clone());
    }
    target.rejected_now.extend(stats.rejected.iter().cloned());
    match first_error {
        // Other workers may have committed a batch after the one that stopped looked.
        Some(MigrateError::Interrupted { .. }) => {
            return Err(MigrateError::Interrupted {
                batches: control.committed(),
            });
        }
        Some(e) => return Err(e),
        None => {}
    }

    let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
    let all = progress::committed_batches(&mut txn, &target.tables, &target.name)?;
    let mut next_progress = progress.clone();
    next_progress.phase = Phase::Loaded;
    next_progress.loaded = all.values().map(|(loaded, _)| loaded).sum();
    next_progress.rejected = all.values().map(|(_, rejected)| rejected).sum();
    progress::write(&mut txn, &target.tables, &target.name, &next_progress)?;
    txn.commit()?;
    *progress = next_progress;
    control.finish_bar();
    Ok(stats)
}

/// Loads batch number `batch` (its sorted `keys`) in one transaction with its marker.
fn load_batch(
    target: &Target,
    snapshot: &DSnapshot,
    batch: u64,
    keys: &[&String],
    stats: &mut LoadStats,
) -> Result<(), MigrateError> {
    let started = Instant::now();
    let rows: Vec<(&String, Result<Vec<KeyValue>, String>)> = keys
        .iter()
        .map(|key| {
            let row = match snapshot.docs.get(*key) {
                Some(doc) => target.converter.convert(key, doc),
                None => Err("vanished from the snapshot".to_string()),
            };
            (*key, row)
        })
        .collect();
    let converted = Instant::now();
    stats.convert += converted - started;

    let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
    let plain_table = target.schema.indexes.is_empty();
    let mut loaded = 0u64;
    let mut rejected = Vec::new();
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
                Err(e @ (engine::Error::Constraint(_) | engine::Error::TooLarge(_))) => {
                    e.to_string()
                }
                Err(e) => return Err(e.into()),
            },
            Err(reason) => reason,
        };
        let bad = BadDocument {
            key: key.clone(),
            reason,
        };
        if target.policy == OnBadDocument::Abort {
            return Err(MigrateError::BadDocument(bad));
        }
        progress::reject(
            &mut txn,
            &target.tables,
            &target.name,
            &bad.key,
            &bad.reason,
        )?;
        rejected.push(bad);
    }
    progress::mark_batch(
        &mut txn,
        &target.tables,
        &target.name,
        batch,
        loaded,
        rejected.len() as u64,
    )?;
    txn.commit()?;
    stats.loaded += loaded;
    stats.rejected.extend(rejected);
    stats.batches += 1;
    stats.write += converted.elapsed();
    Ok(())
}

/// Inserts a converted row into a table without secondary indexes, skipping the
/// existence check of `ops::insert`: each key of the snapshot belongs to one batch, which
/// is loaded once, into a table that held none of the snapshot's keys, so the key is new.
/// The row is checked and encoded exactly as `ops::insert` would store it.
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
