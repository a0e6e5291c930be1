//! Online migration: after the bulk load, tail D's log and apply its changes to H.
//!
//! H reflects D as of the recorded position `p` (see `progress.rs`). Each round reads the
//! records after `p` (`read_changes` with `live_writer`, so a record still being appended
//! reads as "not yet written"), applies each put or delete to H, and commits the new
//! position with those writes in one transaction; then the same records are applied to
//! the in-memory copy of D used for verification. A round that finds nothing new means
//! the migration has caught up. The lag reported is the bytes of log after `p`, and the
//! time that log would take to apply at the rate measured so far.
//!
//! A compaction of D replaces the log with a new generation, and `p` no longer exists.
//! The follower then **resynchronises**: it replays the new log to its end and makes H
//! equal to it key by key (rows whose keys are gone are deleted, the rest inserted or
//! updated where they differ), in batches, and records the new generation's end as the
//! position with the last batch. Every step is idempotent, so a resync interrupted by a
//! kill is simply done again by the next run.

use std::collections::{BTreeSet, HashSet};
use std::ops::Bound;
use std::path::Path;
use std::time::{Duration, Instant};

use engine::IsolationLevel;
use engine::keycode::{KeyValue, decode};
use kv_legacy::Op;

use crate::migrate::control::Control;
use crate::migrate::error::MigrateError;
use crate::migrate::progress::{self, Phase, Progress};
use crate::migrate::snapshot::{DSnapshot, DocView};
use crate::migrate::source;
use crate::migrate::target::Target;

/// How the follower stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowOptions {
    /// Stop as soon as a read of the log finds nothing new.
    pub until_caught_up: bool,
    /// How long to wait before reading the log again when it had nothing new.
    pub poll_interval: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            until_caught_up: false,
            poll_interval: Duration::from_millis(20),
        }
    }
}

/// What following D's log did in this run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FollowReport {
    /// Log records applied (puts and deletes).
    pub changes_applied: u64,
    /// Of those, changes whose document was rejected.
    pub rejected: u64,
    /// Resynchronisations after a compaction of D.
    pub resyncs: u64,
    /// Whether the last read found the log fully applied.
    pub caught_up: bool,
    /// Bytes of log not yet applied when the follower stopped, and the most seen.
    pub lag_bytes: u64,
    pub max_lag_bytes: u64,
    /// The estimated time to apply the lag, at the rate measured so far.
    pub lag_seconds: f64,
    /// Time from the start of following to the first catch-up.
    pub time_to_catch_up: Option<Duration>,
    pub elapsed: Duration,
}

/// Tails D's log from `progress.position`, applying changes to H and to `docs`.
pub fn follow(
    dir: &Path,
    target: &mut Target,
    docs: &mut DSnapshot,
    progress: &mut Progress,
    batch_size: usize,
    options: FollowOptions,
    control: &mut Control,
) -> Result<FollowReport, MigrateError> {
    let started = Instant::now();
    let mut report = FollowReport::default();
    let mut applied_bytes = 0u64;
    control.start_spinner("following");
    loop {
        if control.stop_requested() {
            break;
        }
        control.begin_batch()?;
        let batch = match source::tail(dir, progress.position, batch_size.max(1)) {
            Ok(batch) => batch,
            Err(MigrateError::Compacted { .. }) => {
                resync(dir, target, docs, progress, batch_size, control)?;
                report.resyncs += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        if batch.changes.is_empty() {
            report.caught_up = true;
            report.time_to_catch_up.get_or_insert(started.elapsed());
            report.lag_bytes = 0;
            report.lag_seconds = 0.0;
            control.set_message(format!(
                "caught up; {} changes applied",
                report.changes_applied
            ));
            if options.until_caught_up {
                break;
            }
            std::thread::sleep(options.poll_interval);
            continue;
        }
        report.caught_up = false;
        let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
        let mut next = progress.clone();
        for change in &batch.changes {
            let (key, doc) = match &change.op {
                Op::Put { key, doc } => (key, Some(DocView::Owned(doc))),
                Op::Delete { key } => (key, None),
            };
            let applied = target.apply(&mut txn, key, doc)?;
            if applied == crate::migrate::target::Applied::Rejected {
                next.rejected += 1;
                report.rejected += 1;
            }
        }
        next.changes_applied += batch.changes.len() as u64;
        next.position = batch.next;
        progress::write(&mut txn, &target.tables, &target.name, &next)?;
        txn.commit()?;
        applied_bytes += batch.next.offset - progress.position.offset;
        *progress = next;
        report.changes_applied += batch.changes.len() as u64;
        for change in batch.changes {
            docs.apply(change.op);
        }
        control.batch_done(0);
        let lag = source::bytes_behind(dir, progress.position);
        report.lag_bytes = lag;
        report.max_lag_bytes = report.max_lag_bytes.max(lag);
        let rate = applied_bytes as f64 / started.elapsed().as_secs_f64().max(1e-9);
        report.lag_seconds = lag as f64 / rate.max(1.0);
        control.set_message(format!(
            "following: {} changes applied, {lag} bytes behind (~{:.1} s)",
            report.changes_applied, report.lag_seconds
        ));
    }
    control.finish_bar();
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Makes H equal to D's current log after a compaction, and records its end as the
/// position.
pub fn resync(
    dir: &Path,
    target: &mut Target,
    docs: &mut DSnapshot,
    progress: &mut Progress,
    batch_size: usize,
    control: &mut Control,
) -> Result<(), MigrateError> {
    let log = source::replay(dir, None)?;
    let snapshot = DSnapshot::replay(&log).map_err(|e| source::source_error(dir, e))?;
    // Keys H holds a row or a rejection for, which D may no longer have.
    let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
    let mut stale: BTreeSet<String> = BTreeSet::new();
    for entry in txn.scan(
        target.schema.tree,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
    )? {
        let (key, _) = entry?;
        if let [value] = decode(&key)?.as_slice() {
            let d_key = match value {
                KeyValue::Text(s) => s.clone(),
                KeyValue::Int(i) => i.to_string(),
                other => format!("{other:?}"),
            };
            if !snapshot.contains_key(&d_key) {
                stale.insert(d_key);
            }
        }
    }
    // Rejections of long keys are recorded shortened (`progress::rejection_key`).
    let long_keys: HashSet<String> = snapshot
        .iter()
        .map(|(key, _)| key)
        .filter(|key| key.len() > progress::MAX_RECORDED_KEY_BYTES)
        .map(|key| progress::rejection_key(key).into_owned())
        .collect();
    for (key, _) in progress::rejected(&mut txn, &target.tables, &target.name)? {
        if !snapshot.contains_key(&key) && !long_keys.contains(&key) {
            stale.insert(key);
        }
    }
    txn.commit()?;
    let mut work: Vec<(&str, Option<DocView>)> = stale.iter().map(|k| (k.as_str(), None)).collect();
    let mut present: Vec<(&str, DocView)> = snapshot.iter().collect();
    present.sort_unstable_by_key(|(key, _)| *key);
    work.extend(present.into_iter().map(|(k, doc)| (k, Some(doc))));
    let mut chunks = work.chunks(batch_size.max(1)).peekable();
    while let Some(chunk) = chunks.next() {
        control.begin_batch()?;
        let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
        for (key, doc) in chunk {
            target.apply(&mut txn, key, *doc)?;
        }
        if chunks.peek().is_none() {
            let mut next = progress.clone();
            next.phase = Phase::Loaded;
            next.position = snapshot.position;
            progress::write(&mut txn, &target.tables, &target.name, &next)?;
            txn.commit()?;
            *progress = next;
        } else {
            txn.commit()?;
        }
        control.batch_done(0);
    }
    if work.is_empty() {
        let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
        progress.phase = Phase::Loaded;
        progress.position = snapshot.position;
        progress::write(&mut txn, &target.tables, &target.name, progress)?;
        txn.commit()?;
    }
    docs.replace_with(&snapshot);
    Ok(())
}
