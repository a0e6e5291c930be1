//! The bulk load: D's snapshot into H, one transaction per batch, in the table's key order.
//!
//! The snapshot's keys are sorted — by the primary key H stores for them ([`Cut`]) —
//! and cut into batches of the recorded batch size, so batch *k* is the same set of
//! documents in every run (see `progress.rs`). Each batch converts its documents,
//! writes the rows through the engine's table API (no SQL text per row), and writes its
//! marker row and any rejections **in the same transaction**; a resumed load runs
//! exactly the batches without a marker.
//!
//! **The bulk path.** The batches commit one at a time, in key order, each holding the
//! table's tree for a load (`Transaction::lock_tree_for_load`): no other transaction
//! writes the table meanwhile, so a row takes no lock-table entry, and since its key
//! sorts after every key already in the tree it needs no probe for an older version
//! either — a row costs the write set an append, and the commit one cell added to the
//! tree's last leaf (the first batch into an empty table builds the tree bottom-up;
//! the later ones fill the last leaf and split it at its end, leaving full leaves).
//! The table's non-unique indexes are not there during the load: they are built
//! afterwards in one pass each (`indexes.rs`), and the converter checks every row
//! against them meanwhile. A table that keeps an index during the load (a UNIQUE one)
//! gets its rows through `ops::insert`, which maintains it row by row. If the tree
//! cannot be held (another transaction is writing the table), a batch takes the
//! ordinary path: key locks and probes, the same outcome.
//!
//! Converting documents and encoding rows runs on threads of their own — as many as the
//! caller allows workers, when more than one — each taking every n-th batch and
//! converting one batch ahead of the committing thread, which takes the batches back in
//! order. Batches do not commit concurrently: they would refuse each other the table's
//! tree, and on the bulk path one committer is faster than several writers sharing
//! locks. Conversion also takes D's side of the verification as it goes (`verify.rs`):
//! the digest of each row exactly as it is handed to H, and a count of the documents
//! that do not convert, so verification need not convert the documents again when this
//! run loaded them all.
//!
//! When every batch is committed, one last transaction sums the markers into the
//! progress row and moves it to [`Phase::Loaded`].

use std::ops::Range;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use engine::IsolationLevel;
use engine::keycode::{KeyValue, encode};
use engine::table::ops;
use engine::table::row::encode_row;

use crate::migrate::OnBadDocument;
use crate::migrate::control::Control;
use crate::migrate::convert::BadDocument;
use crate::migrate::error::MigrateError;
use crate::migrate::progress::{self, Cut, Phase, Progress};
use crate::migrate::snapshot::{DSnapshot, DocView};
use crate::migrate::target::Target;
use crate::migrate::verify::{self, Checksum};

/// Converted batches each converting thread may hold ready ahead of the committer, so
/// conversion and commit overlap without the memory of more than a few batches.
const BATCHES_AHEAD: usize = 1;

/// A document of the snapshot and its key.
type SnapshotDoc<'a> = (&'a str, DocView<'a>);

/// What the bulk load did in this run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub loaded: u64,
    pub rejected: Vec<BadDocument>,
    pub batches: u64,
    /// Time spent converting documents to rows.
    pub convert: Duration,
    /// Time spent writing rows and committing.
    pub write: Duration,
    /// D's side of the verification for the batches this run converted: the digest of
    /// the rows handed to H, and the documents that did not convert.
    pub d_rows: Checksum,
    pub d_rejected: u64,
    /// Whether this run converted every batch of the snapshot (then `d_rows` and
    /// `d_rejected` are D's whole side).
    pub converted_all: bool,
}

/// One document of a batch, ready to write.
enum Prepared {
    /// The row's stored key and value, for a table with no index during the load.
    Encoded { key: Vec<u8>, stored: Vec<u8> },
    /// The row, for `ops::insert` to maintain the table's indexes.
    Row(Vec<KeyValue>),
    /// Why the document cannot be loaded.
    Bad(String),
}

/// A batch converted: its number and each document's key and prepared row.
struct Converted<'a> {
    batch: usize,
    docs: Vec<(&'a str, Prepared)>,
    convert: Duration,
    /// D's side of the verification for this batch (see [`LoadStats`]).
    d_rows: Checksum,
    d_rejected: u64,
}

/// Loads the batches of `snapshot` that H has no marker for; ends with the progress in
/// [`Phase::Loaded`]. `workers` above one converts on that many threads of their own.
pub fn load(
    target: &mut Target,
    snapshot: &DSnapshot,
    progress: &mut Progress,
    workers: usize,
    control: &mut Control,
) -> Result<LoadStats, MigrateError> {
    let docs = cut_order(target, snapshot, progress.cut);
    let batches: Vec<&[(&str, DocView)]> = docs
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

    let mut stats = LoadStats {
        converted_all: pending.len() == batches.len(),
        ..LoadStats::default()
    };
    let shared: &Target = target;
    let control_ref: &Control = control;
    let outcome = match workers > 1 {
        false => pending.iter().try_for_each(|&batch| {
            let converted = convert_batch(shared, batch, batches[batch]);
            commit_converted(shared, control_ref, converted, &mut stats)
        }),
        true => std::thread::scope(|scope| {
            // Converter `i` of `n` takes the pending batches `i`, `i + n`, `i + 2n`, ...
            // and the committer takes them back from the converters in turn: in order.
            let converters = workers.min(pending.len()).max(1);
            let (pending, batches) = (&pending, &batches);
            let mut receivers = Vec::with_capacity(converters);
            let mut handles = Vec::with_capacity(converters);
            for first in 0..converters {
                let (sender, receiver) = sync_channel::<Converted>(BATCHES_AHEAD);
                receivers.push(receiver);
                handles.push(scope.spawn(move || {
                    for &batch in pending.iter().skip(first).step_by(converters) {
                        let converted = convert_batch(shared, batch, batches[batch]);
                        if sender.send(converted).is_err() {
                            // The committer stopped.
                            break;
                        }
                    }
                }));
            }
            let mut outcome = Ok(());
            for turn in 0..pending.len() {
                // A converter that ended early panicked: its join below says so.
                let Ok(converted) = receivers[turn % converters].recv() else {
                    break;
                };
                outcome = commit_converted(shared, control_ref, converted, &mut stats);
                if outcome.is_err() {
                    break;
                }
            }
            // Ends each converter's next send, if it is still converting.
            drop(receivers);
            for handle in handles {
                if handle.join().is_err() {
                    outcome = outcome.and(Err(MigrateError::Io(std::io::Error::other(
                        "a converting thread of the bulk load panicked",
                    ))));
                }
            }
            outcome
        }),
    };
    for bad in &stats.rejected {
        target.rejected_keys.insert(bad.key.clone());
    }
    target.rejected_now.extend(stats.rejected.iter().cloned());
    outcome?;

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

/// The snapshot's documents in the order `cut` says.
fn cut_order<'a>(
    target: &Target,
    snapshot: &'a DSnapshot,
    cut: Cut,
) -> Vec<(&'a str, DocView<'a>)> {
    let mut docs: Vec<(&str, DocView)> = snapshot.iter().collect();
    match cut {
        Cut::DKey => docs.sort_unstable_by_key(|(key, _)| *key),
        Cut::PrimaryKey => {
            // The encoded primary keys, one after another in one buffer.
            let mut encoded: Vec<u8> = Vec::new();
            let mut keyed: Vec<(Option<Range<usize>>, SnapshotDoc)> = docs
                .into_iter()
                .map(|doc| {
                    let start = encoded.len();
                    let pk = target
                        .converter
                        .encode_primary_key_into(doc.0, &mut encoded);
                    (pk.ok().map(|()| start..encoded.len()), doc)
                })
                .collect();
            let pk = |range: &Option<Range<usize>>| range.clone().and_then(|r| encoded.get(r));
            // `None` (no primary key) after every key; ties (two D keys that parse to
            // one integer) by D's key.
            keyed.sort_unstable_by(|(a, (ka, _)), (b, (kb, _))| {
                let (a, b) = (pk(a), pk(b));
                (a.is_none(), a)
                    .cmp(&(b.is_none(), b))
                    .then_with(|| ka.cmp(kb))
            });
            docs = keyed.into_iter().map(|(_, doc)| doc).collect();
        }
    }
    docs
}

/// Converts batch number `batch` (its sorted documents).
fn convert_batch<'a>(target: &Target, batch: usize, docs: &[(&'a str, DocView)]) -> Converted<'a> {
    let started = Instant::now();
    let plain_table = target.schema.indexes.is_empty();
    let mut d_rows = Checksum::default();
    let mut d_rejected = 0u64;
    let docs = docs
        .iter()
        .map(|&(key, doc)| {
            let row = target.converter.convert(key, doc);
            let prepared = match row {
                Ok(row) if plain_table => match encode_new_row(target, &row) {
                    Ok((key, stored)) => {
                        d_rows.add(&key, &stored);
                        Prepared::Encoded { key, stored }
                    }
                    Err(e) => {
                        d_rejected += 1;
                        Prepared::Bad(e.to_string())
                    }
                },
                Ok(row) => {
                    let storable = verify::digest_row(&target.converter, &row, &mut d_rows);
                    d_rejected += u64::from(!storable);
                    Prepared::Row(row)
                }
                Err(reason) => {
                    d_rejected += 1;
                    Prepared::Bad(reason)
                }
            };
            (key, prepared)
        })
        .collect();
    Converted {
        batch,
        docs,
        convert: started.elapsed(),
        d_rows,
        d_rejected,
    }
}

/// Commits a converted batch, unless the run must stop first.
fn commit_converted(
    target: &Target,
    control: &Control,
    converted: Converted,
    stats: &mut LoadStats,
) -> Result<(), MigrateError> {
    stats.convert += converted.convert;
    stats.d_rows.merge(converted.d_rows);
    stats.d_rejected += converted.d_rejected;
    let documents = converted.docs.len() as u64;
    control.begin_batch()?;
    commit_batch(target, converted, stats)?;
    control.batch_done(documents);
    Ok(())
}

/// Writes a converted batch in one transaction with its marker.
fn commit_batch(
    target: &Target,
    converted: Converted,
    stats: &mut LoadStats,
) -> Result<(), MigrateError> {
    let started = Instant::now();
    let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
    // The bulk path (see the module header); a refusal aborted `txn`, so the batch
    // starts again on the ordinary path.
    match txn.lock_tree_for_load(target.schema.tree) {
        Ok(()) => {}
        Err(engine::Error::Serialization(_)) => {
            txn = target.db.begin(IsolationLevel::RepeatableRead);
        }
        Err(e) => return Err(e.into()),
    }
    let mut loaded = 0u64;
    let mut rejected = Vec::new();
    for (key, prepared) in converted.docs {
        let reason = match prepared {
            Prepared::Encoded { key, stored } => {
                txn.put(target.schema.tree, &key, &stored)?;
                loaded += 1;
                continue;
            }
            Prepared::Row(row) => match ops::insert(&mut txn, &target.schema, row) {
                Ok(_) => {
                    loaded += 1;
                    continue;
                }
                Err(e @ (engine::Error::Constraint(_) | engine::Error::TooLarge(_))) => {
                    e.to_string()
                }
                Err(e) => return Err(e.into()),
            },
            Prepared::Bad(reason) => reason,
        };
        let bad = BadDocument {
            key: key.to_string(),
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
        converted.batch as u64,
        loaded,
        rejected.len() as u64,
    )?;
    txn.commit()?;
    stats.loaded += loaded;
    stats.rejected.extend(rejected);
    stats.batches += 1;
    stats.write += started.elapsed();
    Ok(())
}

/// The stored key and value of a converted row of a table with no index during the
/// load, skipping the existence check of `ops::insert`: each key of the snapshot belongs
/// to one batch, which is loaded once, into a table that held none of the snapshot's
/// keys, so the key is new. The row is checked and encoded exactly as `ops::insert`
/// would store it.
fn encode_new_row(target: &Target, row: &[KeyValue]) -> engine::Result<(Vec<u8>, Vec<u8>)> {
    let pk = &row[target.converter.key_index()];
    let key = encode(std::slice::from_ref(pk));
    let stored = encode_row(&target.schema, row)?;
    Ok((key, stored))
}
