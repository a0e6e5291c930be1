//! Crash at every sync point of the whole database: pager file and log together.
//!
//! A workload of 240 durable transactions (two writer threads, each with its own keys in
//! three shared trees; puts, overwrites, deletes, values that need overflow pages; a
//! thread running checkpoints concurrently, and the automatic checkpointer) runs on a
//! [`Database`] whose file and log directory are simulated. Both simulations sit behind
//! one [`Power`] switch that numbers every sync of either component: armed at global sync
//! point N, that sync fails and the machine loses power at once, so nothing more becomes
//! durable in *either* component (the switch lives in `support/power.rs`, shared with
//! `db_crash_checks.rs`). From what the disk holds then, the database is reopened once
//! for every way unsynced writes may survive ([`CrashMode`]: all dropped, all kept,
//! cut off mid-write, or persisted sector by sector in any order), and must show:
//!
//! - every transaction whose `commit()` returned `Ok` before the crash, with exactly its
//!   writes;
//! - no transaction in part: each writer's keys hold the state after some whole prefix
//!   of its transactions, at least as long as its acknowledged ones (the one commit it
//!   had in flight at the crash may be there whole, if its record reached the log);
//! - a clean `check_integrity()`, and a database that accepts and checkpoints new commits.
//!
//! Checkpoints do not stop writers, and the workload makes sure of it: before each sync of
//! the database file (every sync of a checkpoint's flush), the flush is held until the
//! writers have acknowledged [`COMMITS_DURING_FLUSH`] more commits, so commits run
//! beside every phase of the flush, and the crash points fall among them. The run without
//! a crash checks that such commits did complete while a flush was held.
//!
//! Every sync point up to `HDB_CRASH_POINTS` (default [`DEFAULT_CRASH_POINTS`]) is tried,
//! and a random sample of [`SAMPLED_CRASH_POINTS`] beyond it; `HDB_CRASH_SEED` varies the
//! workload. A second test crashes the reopened database again, during and after its
//! recovery; `a_disk_that_lies_about_log_syncs_is_caught` proves the check can fail.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use engine::pager::SimStorage;
use engine::wal::{CrashMode, Durability, Lsn, SimWalStorage};
use engine::{Database, DatabaseOptions, IsolationLevel, TreeId};
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::power::{FileSyncHook, Machine, Power};

const POINTS_VAR: &str = "HDB_CRASH_POINTS";
/// Seeds the workload's plan (default 0xc4a5).
const SEED_VAR: &str = "HDB_CRASH_SEED";
/// Sync points tried one by one when `HDB_CRASH_POINTS` is not set.
const DEFAULT_CRASH_POINTS: u64 = 400;
/// Sync points sampled at random beyond the exhaustive range.
const SAMPLED_CRASH_POINTS: u64 = 40;
/// Crash points run at once.
const PARALLEL_RUNS: usize = 4;

const TREES: [TreeId; 3] = [TreeId(1), TreeId(2), TreeId(3)];
/// A tree only the check after recovery writes.
const AFTER_TREE: TreeId = TreeId(9);
/// Writers, each on its own thread with its own keys.
const WRITERS: usize = 2;
const TRANSACTIONS_PER_WRITER: usize = 120;
const KEYS_PER_TREE: u32 = 40;
/// The checkpointer thread runs a checkpoint after every this many commits.
const CHECKPOINT_EVERY: usize = 30;
/// The first writer makes room for the automatic checkpointer at this transaction.
const AUTO_CHECKPOINT_AT: usize = 50;
/// How long the first writer waits for the automatic checkpointer before going on.
const AUTO_CHECKPOINT_PATIENCE: Duration = Duration::from_secs(5);
/// A flush is held before each database-file sync until this many more commits are
/// acknowledged ...
const COMMITS_DURING_FLUSH: usize = 1;
/// ... or this long has passed (they would never come if commits waited for the flush).
const HOLD_PATIENCE: Duration = Duration::from_secs(5);
/// The double-crash test crashes first at every this many sync points, ...
const SECOND_CRASH_STRIDE: usize = 23;
/// ... then at each of this many sync points after reopening ...
const SECOND_CRASH_POINTS: u64 = 12;
/// ... in a second life of this many commits, with a checkpoint after the second.
const SECOND_LIFE_COMMITS: usize = 4;

fn options() -> DatabaseOptions {
    DatabaseOptions {
        // Small pages: more splits, merges and overflow chains per transaction.
        page_size: 1024,
        durability: Durability::Full,
        // Small, so the background checkpointer runs during the workload.
        checkpoint_bytes: 8 << 10,
        // Small, so segments rotate (file and directory syncs) and checkpoints delete them.
        wal_segment_bytes: 4 << 10,
        ..DatabaseOptions::default()
    }
}

// ---------------------------------------------------------------------------------------
// The workload and its model.
// ---------------------------------------------------------------------------------------

/// One write of a planned transaction: `None` deletes.
type PlannedWrite = (TreeId, Vec<u8>, Option<Vec<u8>>);
/// Every tree's contents.
type Contents = BTreeMap<TreeId, BTreeMap<Vec<u8>, Vec<u8>>>;

/// One writer's transactions, planned up front, and the contents of its keys after each
/// prefix of them (`states[i]`: after the first `i`). Writers share the trees (and so
/// their pages) but not keys: each writer's keys start with its own prefix.
struct Plan {
    prefix: Vec<u8>,
    transactions: Vec<Vec<PlannedWrite>>,
    states: Vec<Contents>,
}

fn apply(contents: &mut Contents, writes: &[PlannedWrite]) {
    for (tree, key, value) in writes {
        let tree = contents.entry(*tree).or_default();
        match value {
            Some(value) => tree.insert(key.clone(), value.clone()),
            None => tree.remove(key),
        };
    }
    contents.retain(|_, tree| !tree.is_empty());
}

fn plan(seed: u64, writer: usize) -> Plan {
    let prefix = format!("w{writer}-").into_bytes();
    let mut rng = StdRng::seed_from_u64(seed ^ writer as u64);
    let mut state = Contents::new();
    let mut transactions = Vec::new();
    let mut states = vec![state.clone()];
    for i in 0..TRANSACTIONS_PER_WRITER {
        let mut writes = Vec::new();
        for w in 0..rng.random_range(1..=6) {
            let tree = TREES[rng.random_range(0..TREES.len())];
            let existing: Vec<&Vec<u8>> =
                state.get(&tree).map_or(Vec::new(), |t| t.keys().collect());
            let key = match existing.is_empty() || rng.random_bool(0.5) {
                true => {
                    let n = rng.random_range(0..KEYS_PER_TREE);
                    [&prefix[..], format!("key-{n:03}").as_bytes()].concat()
                }
                false => existing[rng.random_range(0..existing.len())].clone(),
            };
            let value = match rng.random_range(0..10) {
                0..=1 => None,
                2 => Some(vec![(i % 251) as u8; rng.random_range(1200..3000)]),
                _ => {
                    let len = rng.random_range(1..200);
                    Some(
                        format!("w{writer} txn {i} write {w} ")
                            .into_bytes()
                            .repeat(len / 16 + 1),
                    )
                }
            };
            writes.push((tree, key, value));
        }
        apply(&mut state, &writes);
        transactions.push(writes);
        states.push(state.clone());
    }
    Plan {
        prefix,
        transactions,
        states,
    }
}

/// How far one writer got before the crash.
#[derive(Debug, Clone, Copy)]
struct RunOutcome {
    /// Transactions whose `commit()` returned `Ok` (a writer is sequential, so these are
    /// its first `acknowledged` ones).
    acknowledged: usize,
    /// Transactions started: the one after the acknowledged ones failed, if any did.
    attempted: usize,
    /// The automatic checkpointer ran while this writer waited for it.
    auto_checkpoint: bool,
}

/// Runs every writer's plan on its own thread until something fails (the crash), with a
/// checkpointer thread beside them (see [`checkpoints`]) and every flush held at its
/// syncs while writers commit (see [`hold_flushes`]).
fn run(db: &Database, plans: &[Plan], power: &Arc<Power>) -> Vec<RunOutcome> {
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let writing = Arc::new(AtomicUsize::new(plans.len()));
    power.hold_file_syncs(Some(hold_flushes(power, &acknowledged, &writing)));
    let outcomes = std::thread::scope(|scope| {
        scope.spawn(|| checkpoints(db, power, &acknowledged, &writing));
        let writers: Vec<_> = plans
            .iter()
            .enumerate()
            .map(|(w, plan)| {
                let (acknowledged, writing) = (&*acknowledged, &*writing);
                scope.spawn(move || {
                    let _finished = Finished(writing);
                    write(db, plan, power, w == 0, acknowledged)
                })
            })
            .collect();
        writers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    power.hold_file_syncs(None);
    outcomes
}

/// The hook that holds a flush before each sync of the database file until the writers
/// have acknowledged [`COMMITS_DURING_FLUSH`] more commits (or all have stopped, or the
/// power is off), counting them in `commits_during_held_flushes`.
fn hold_flushes(
    power: &Arc<Power>,
    acknowledged: &Arc<AtomicUsize>,
    writing: &Arc<AtomicUsize>,
) -> FileSyncHook {
    let power = Arc::downgrade(power);
    let (acknowledged, writing) = (Arc::clone(acknowledged), Arc::clone(writing));
    Arc::new(move || {
        let Some(power) = power.upgrade() else {
            return;
        };
        let from = acknowledged.load(Ordering::SeqCst);
        let started = Instant::now();
        while acknowledged.load(Ordering::SeqCst) < from + COMMITS_DURING_FLUSH
            && writing.load(Ordering::SeqCst) > 0
            && !power.is_off()
            && started.elapsed() < HOLD_PATIENCE
        {
            std::thread::sleep(Duration::from_micros(100));
        }
        let during = acknowledged.load(Ordering::SeqCst) - from;
        power.state.lock().commits_during_held_flushes += during as u64;
    })
}

/// Counts a writer out when it ends, also by a panic (so the checkpointer stops).
struct Finished<'a>(&'a AtomicUsize);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One writer: commits its plan in order until a transaction fails. The first writer also
/// makes room for the automatic checkpointer: from [`AUTO_CHECKPOINT_AT`] on, log syncs
/// are slow (so commits are in flight when the checkpointer wakes) and explicit
/// checkpoints pause, until the log's oldest segment has moved (the background
/// checkpointer ran) or [`AUTO_CHECKPOINT_PATIENCE`] runs out.
fn write(
    db: &Database,
    plan: &Plan,
    power: &Power,
    waits_for_auto: bool,
    total: &AtomicUsize,
) -> RunOutcome {
    let mut outcome = RunOutcome {
        acknowledged: 0,
        attempted: 0,
        auto_checkpoint: false,
    };
    let mut auto: Option<(Lsn, Instant)> = None;
    for (i, writes) in plan.transactions.iter().enumerate() {
        if waits_for_auto && i == AUTO_CHECKPOINT_AT {
            power.state.lock().slow_log_syncs = true;
            auto = Some((db.wal().first_lsn(), Instant::now()));
        }
        if let Some((since, started)) = auto {
            outcome.auto_checkpoint = db.wal().first_lsn() > since;
            if outcome.auto_checkpoint || started.elapsed() > AUTO_CHECKPOINT_PATIENCE {
                power.state.lock().slow_log_syncs = false;
                auto = None;
            }
        }
        outcome.attempted = i + 1;
        if let Err(e) = commit(db, writes) {
            // Writers touch disjoint keys: nothing but the crash may fail a commit.
            assert!(power.is_off(), "a commit failed before the crash: {e}");
            break;
        }
        outcome.acknowledged = i + 1;
        total.fetch_add(1, Ordering::SeqCst);
    }
    power.state.lock().slow_log_syncs = false;
    outcome
}

/// Commits one planned transaction.
fn commit(db: &Database, writes: &[PlannedWrite]) -> engine::Result<()> {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    for (tree, key, value) in writes {
        match value {
            Some(value) => txn.put(*tree, key, value)?,
            None => txn.delete(*tree, key)?,
        }
    }
    txn.commit().map(drop)
}

/// The checkpointer thread: a checkpoint every [`CHECKPOINT_EVERY`] acknowledged commits
/// (of all writers), concurrent with their commits, except while the first writer waits
/// for the automatic one.
fn checkpoints(db: &Database, power: &Power, acknowledged: &AtomicUsize, writing: &AtomicUsize) {
    let mut next = CHECKPOINT_EVERY;
    while writing.load(Ordering::SeqCst) > 0 && !power.is_off() {
        let paused = power.state.lock().slow_log_syncs;
        if paused || acknowledged.load(Ordering::SeqCst) < next {
            std::thread::sleep(Duration::from_micros(200));
            continue;
        }
        if db.checkpoint().is_err() {
            return;
        }
        next += CHECKPOINT_EVERY;
    }
}

fn contents(db: &Database) -> engine::Result<Contents> {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let mut all = Contents::new();
    for tree in TREES {
        let entries: BTreeMap<Vec<u8>, Vec<u8>> = txn
            .scan(tree, Bound::Unbounded, Bound::Unbounded, false)?
            .collect::<engine::Result<_>>()?;
        if !entries.is_empty() {
            all.insert(tree, entries);
        }
    }
    Ok(all)
}

/// The entries of `contents` whose keys start with `prefix`.
fn only(contents: &Contents, prefix: &[u8]) -> Contents {
    let mut out = contents.clone();
    for tree in out.values_mut() {
        tree.retain(|k, _| k.starts_with(prefix));
    }
    out.retain(|_, tree| !tree.is_empty());
    out
}

/// What differs between `found` and `expected`, briefly.
fn diff(found: &Contents, expected: &Contents) -> String {
    let flat = |c: &Contents| -> BTreeMap<(TreeId, Vec<u8>), Vec<u8>> {
        c.iter()
            .flat_map(|(t, tree)| tree.iter().map(|(k, v)| ((*t, k.clone()), v.clone())))
            .collect()
    };
    let (found, expected) = (flat(found), flat(expected));
    let name = |key: &(TreeId, Vec<u8>)| format!("{:?}/{}", key.0, String::from_utf8_lossy(&key.1));
    let mut out = Vec::new();
    for (key, value) in &expected {
        match found.get(key) {
            None => out.push(format!("missing {}", name(key))),
            Some(v) if v != value => out.push(format!("stale {}", name(key))),
            Some(_) => {}
        }
    }
    for key in found.keys().filter(|k| !expected.contains_key(*k)) {
        out.push(format!("extra {}", name(key)));
    }
    let more = out.len().saturating_sub(8);
    out.truncate(8);
    match more {
        0 => out.join(", "),
        _ => format!("{} and {more} more", out.join(", ")),
    }
}

/// Reopens the crash image and checks it against the plans (see the file header).
fn check_recovery(
    file: SimStorage,
    log: SimWalStorage,
    plans: &[Plan],
    outcomes: &[RunOutcome],
) -> Result<(), String> {
    let db = Database::open_with(Box::new(file), Arc::new(log), options())
        .map_err(|e| format!("reopen failed: {e}"))?;
    let found = contents(&db).map_err(|e| format!("reading after reopen failed: {e}"))?;
    for (w, (plan, outcome)) in plans.iter().zip(outcomes).enumerate() {
        let mine = only(&found, &plan.prefix);
        let allowed = outcome.acknowledged..=outcome.attempted;
        if !allowed.clone().any(|n| plan.states[n] == mine) {
            return Err(format!(
                "writer {w}: {} transactions acknowledged, {} attempted, but its keys show no \
                 whole prefix of them; against the acknowledged state: {}",
                outcome.acknowledged,
                outcome.attempted,
                diff(&mine, &plan.states[outcome.acknowledged])
            ));
        }
    }
    let all_keys = found.values().map(|t| t.len()).sum::<usize>();
    let writers_keys: usize = plans
        .iter()
        .map(|p| {
            only(&found, &p.prefix)
                .values()
                .map(|t| t.len())
                .sum::<usize>()
        })
        .sum();
    if all_keys != writers_keys {
        return Err(format!(
            "{} keys belong to no writer",
            all_keys - writers_keys
        ));
    }
    db.check_integrity()
        .map_err(|e| format!("integrity check failed after reopen: {e}"))?;
    // The recovered database goes on working: a new commit, a checkpoint, a clean check.
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    txn.put(AFTER_TREE, b"after", b"recovery")
        .and_then(|()| txn.commit())
        .map_err(|e| format!("commit after recovery failed: {e}"))?;
    db.checkpoint()
        .map_err(|e| format!("checkpoint after recovery failed: {e}"))?;
    db.check_integrity()
        .map_err(|e| format!("integrity check failed after a checkpoint after recovery: {e}"))?;
    Ok(())
}

/// What one crash point did.
#[derive(Debug, Clone)]
struct CrashReport {
    outcomes: Vec<RunOutcome>,
    /// The power went off during the run (not after its last sync).
    crashed: bool,
    /// ... at a sync of the database file (a checkpoint), not of the log.
    in_file: bool,
}

/// Runs the plans with a crash armed at sync point `n`, then checks recovery in every
/// crash mode. Returns what happened, or the first failed check.
fn crash_at(plans: &[Plan], n: u64, lying_log_syncs: bool) -> Result<CrashReport, String> {
    let machine = Machine::new();
    let db = machine.open(options()).unwrap();
    machine.power.state.lock().lying_log_syncs = lying_log_syncs;
    machine.crash_at_sync(n);
    let outcomes = run(&db, plans, &machine.power);
    let (crashed, in_file) = {
        let s = machine.power.state.lock();
        (s.off, s.crashed_in_file)
    };
    for (m, mode) in CrashMode::ALL.into_iter().enumerate() {
        let seed = n * 16 + m as u64;
        let (file, log) = machine.after_crash(mode, seed);
        check_recovery(file, log, plans, &outcomes)
            .map_err(|e| format!("crash at sync point {n}, {mode:?} (seed {seed}): {e}"))?;
    }
    drop(db);
    Ok(CrashReport {
        outcomes,
        crashed,
        in_file,
    })
}

/// Runs `crash_at` for every point, a few at once (a run waits for slow syncs and the
/// background checkpointer much of the time); panics with the failures, lowest first.
fn crash_at_all(plans: &[Plan], points: &[u64]) -> Vec<CrashReport> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL_RUNS {
            scope.spawn(|| {
                while let Some(&n) = points.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = crash_at(plans, n, false);
                    results.lock().push((n, result));
                }
            });
        }
    });
    let mut results = results.into_inner();
    results.sort_by_key(|(n, _)| *n);
    let failures: Vec<&String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} crash points failed:\n{}",
        failures.len(),
        points.len(),
        failures
            .iter()
            .take(10)
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    results.into_iter().filter_map(|(_, r)| r.ok()).collect()
}

fn plans(seed: u64) -> Vec<Plan> {
    (0..WRITERS).map(|w| plan(seed, w)).collect()
}

#[test]
fn every_sync_point_recovers_exactly_the_acknowledged_transactions() {
    let exhaustive: u64 = std::env::var(POINTS_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CRASH_POINTS);
    let seed = std::env::var(SEED_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xc4a5);
    let plans = plans(seed);

    // A run without a crash counts the sync points (runs differ a little: threads and
    // the background checkpointer interleave as they happen to).
    let machine = Machine::new();
    let db = machine.open(options()).unwrap();
    let before = machine.power.syncs();
    let outcomes = run(&db, &plans, &machine.power);
    assert!(
        outcomes
            .iter()
            .all(|o| o.acknowledged == TRANSACTIONS_PER_WRITER)
    );
    let total = machine.power.syncs() - before;
    let during_flushes = machine.power.state.lock().commits_during_held_flushes;
    assert!(
        during_flushes > 0,
        "no commit completed while a checkpoint's flush was held"
    );
    drop(db);

    // Every point up to the knob (and a few past the end, where the crash comes after
    // the last commit or never), then a sample beyond it.
    let mut points: Vec<u64> = (1..=exhaustive.min(total + 3)).collect();
    if exhaustive < total {
        let mut rng = StdRng::seed_from_u64(total);
        points.extend((0..SAMPLED_CRASH_POINTS).map(|_| rng.random_range(exhaustive + 1..=total)));
    }
    let started = Instant::now();
    let reports = crash_at_all(&plans, &points);
    let crashed: Vec<_> = reports.iter().filter(|r| r.crashed).collect();
    let in_flight = |r: &&&CrashReport| r.outcomes.iter().any(|o| o.attempted > o.acknowledged);
    println!(
        "{during_flushes} commits completed while a flush was held in the run without a crash; \
         {} crash points of about {total} sync points ({} exhaustively), 4 crash modes each, \
         in {:.1?}: {} crashed at a database-file sync (checkpoint), {} at a log sync, \
         {} with a commit in flight, {} after the workload; the automatic checkpointer ran \
         in {} runs while the first writer waited for it",
        points.len(),
        exhaustive.min(total + 3),
        started.elapsed(),
        crashed.iter().filter(|r| r.in_file).count(),
        crashed.iter().filter(|r| !r.in_file).count(),
        crashed.iter().filter(in_flight).count(),
        reports.len() - crashed.len(),
        reports
            .iter()
            .filter(|r| r.outcomes[0].auto_checkpoint)
            .count(),
    );
    assert!(
        crashed.iter().any(|r| r.in_file),
        "no crash hit a checkpoint"
    );
}

/// Recovery, and the first work after it, are crash-safe too. After a crash at a sample
/// of sync points (in the modes that leave debris: torn and scrambled writes), the
/// reopened database commits a few rows and checkpoints, with a second crash armed at
/// each of its first sync points (in recovery, a commit, or the checkpoint). Reopened
/// again, it must show exactly what the first recovery showed, plus every row of the
/// second life that was acknowledged (and at most the one in flight).
#[test]
fn a_crash_during_or_after_recovery_loses_nothing() {
    let plans = plans(0x2c4a);
    let mut second_lives = 0;
    for n in (3..300).step_by(SECOND_CRASH_STRIDE) {
        let machine = Machine::new();
        let db = machine.open(options()).unwrap();
        machine.crash_at_sync(n);
        run(&db, &plans, &machine.power);
        for mode in [CrashMode::Torn, CrashMode::Scrambled] {
            let seed = n * 16 + mode as u64;
            let (file, log) = machine.after_crash(mode, seed);
            let file = file.durable_image();
            let disk = || {
                let log = log.after_crash(CrashMode::DropUnsynced, 0);
                (SimStorage::from_image(file.clone()), log)
            };
            let (f, l) = disk();
            let first = Database::open_with(Box::new(f), Arc::new(l), options())
                .and_then(|db| contents(&db))
                .unwrap_or_else(|e| panic!("crash at {n}, {mode:?}: reopen failed: {e}"));
            for m in 1..=SECOND_CRASH_POINTS {
                let (f, l) = disk();
                let second = Machine::from_disk(f, l);
                second.crash_at_sync(m);
                let acknowledged = second.open(options()).map_or(0, |db| second_life(&db));
                let (f, l) = second.after_crash(mode, seed + m);
                let at = format!("crash at {n}, then at {m} after reopening, {mode:?}");
                let db = Database::open_with(Box::new(f), Arc::new(l), options())
                    .unwrap_or_else(|e| panic!("{at}: reopen failed: {e}"));
                let found = contents(&db).unwrap();
                assert!(found == first, "{at}: {}", diff(&found, &first));
                let rows = db
                    .begin(IsolationLevel::RepeatableRead)
                    .scan(AFTER_TREE, Bound::Unbounded, Bound::Unbounded, false)
                    .unwrap()
                    .map(|e| e.unwrap().0)
                    .collect::<Vec<_>>();
                let expected: Vec<Vec<u8>> = (0..rows.len().max(acknowledged))
                    .map(|i| (i as u32).to_be_bytes().to_vec())
                    .collect();
                assert!(
                    rows == expected && rows.len() <= acknowledged + 1,
                    "{at}: {acknowledged} rows acknowledged in the second life, found {rows:?}"
                );
                db.check_integrity()
                    .unwrap_or_else(|e| panic!("{at}: integrity check failed: {e}"));
                second_lives += 1;
            }
        }
    }
    println!("{second_lives} second lives crashed and recovered");
}

/// The second life: a few commits and a checkpoint; returns how many were acknowledged.
fn second_life(db: &Database) -> usize {
    for i in 0..SECOND_LIFE_COMMITS {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        let key = (i as u32).to_be_bytes();
        let committed = txn.put(AFTER_TREE, &key, b"second life");
        if committed.and_then(|()| txn.commit()).is_err() {
            return i;
        }
        if i == 1 && db.checkpoint().is_err() {
            return i + 1;
        }
    }
    SECOND_LIFE_COMMITS
}

/// The check above can fail: if the disk acknowledges log syncs without making the log
/// durable, some crash point loses an acknowledged commit and is reported.
#[test]
fn a_disk_that_lies_about_log_syncs_is_caught() {
    let plans = plans(0x1ea5);
    let caught = (1..60).find_map(|n| crash_at(&plans, n, true).err());
    let report = caught.expect("a lying disk went unnoticed");
    assert!(
        report.contains("no whole prefix") || report.contains("reopen failed"),
        "{report}"
    );
}

/// A commit whose `commit()` returned `Ok` is visible to the next transaction the same
/// thread begins, also while other threads commit: a session reads its own writes, as in
/// PostgreSQL.
#[test]
fn an_acknowledged_commit_is_visible_to_the_next_transaction() {
    let machine = Machine::new();
    let db = machine.open(options()).unwrap();
    let stale = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for t in 0..4u32 {
            let (db, stale) = (&db, &stale);
            scope.spawn(move || {
                let key = t.to_be_bytes();
                let read = || {
                    let mut txn = db.begin(IsolationLevel::RepeatableRead);
                    txn.get(TREES[0], &key).unwrap()
                };
                for i in 0..300u32 {
                    let value = i.to_be_bytes().to_vec();
                    let mut txn = db.begin(IsolationLevel::RepeatableRead);
                    txn.put(TREES[0], &key, &value).unwrap();
                    txn.commit().unwrap();
                    if read() != Some(value.clone()) {
                        stale.fetch_add(1, Ordering::Relaxed);
                        // Wait until it shows, so that the next write does not conflict.
                        while read() != Some(value.clone()) {
                            std::thread::yield_now();
                        }
                    }
                }
            });
        }
    });
    assert_eq!(
        stale.into_inner(),
        0,
        "transactions that missed their thread's last commit"
    );
}

/// A deleted row stays deleted in the file however a checkpoint's flush cuts across the
/// garbage collection of its versions. A reader holds the horizon back while rows get
/// many versions and are deleted; then garbage collection removes them while checkpoints
/// run back to back, and the file as each checkpoint left it must hold none of the rows.
#[test]
fn a_checkpoint_never_resurrects_a_deleted_row() {
    for round in 0..8 {
        resurrection_round(round);
    }
}

fn resurrection_round(round: u32) {
    let machine = Machine::new();
    let db = machine.open(options()).unwrap();
    let mut reader = db.begin(IsolationLevel::RepeatableRead);
    reader.get(TREES[0], b"anything").unwrap();
    for i in 0..40u32 {
        for v in 0..20u8 {
            let mut txn = db.begin(IsolationLevel::RepeatableRead);
            txn.put(TREES[0], &i.to_be_bytes(), &[v; 1500]).unwrap();
            txn.commit().unwrap();
        }
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        txn.delete(TREES[0], &i.to_be_bytes()).unwrap();
        txn.commit().unwrap();
    }
    db.checkpoint().unwrap();
    // Garbage collection (now that the reader is gone) against back-to-back checkpoints,
    // keeping the file image each checkpoint leaves.
    drop(reader);
    let done = std::sync::atomic::AtomicBool::new(false);
    let images = std::thread::scope(|scope| {
        let checkpointer = scope.spawn(|| {
            let mut images = Vec::new();
            while !done.load(Ordering::SeqCst) {
                db.checkpoint().unwrap();
                images.push(machine.file.durable_image());
            }
            images
        });
        let vacuumed = db.mvcc().vacuum();
        done.store(true, Ordering::SeqCst);
        vacuumed.unwrap();
        checkpointer.join().unwrap()
    });
    // No commit ran meanwhile, so the final log serves every image.
    let log = machine.log.after_crash(CrashMode::DropUnsynced, 0);
    drop(db);
    let checkpoints = images.len();
    for (n, image) in images.into_iter().enumerate() {
        let log = log.after_crash(CrashMode::DropUnsynced, 0);
        let file = SimStorage::from_image(image);
        let db = Database::open_with(Box::new(file), Arc::new(log), options()).unwrap();
        let found = contents(&db).unwrap();
        let resurrected: Vec<_> = found.values().flat_map(|tree| tree.keys()).collect();
        assert!(
            resurrected.is_empty(),
            "round {round}, checkpoint {n} of {checkpoints}: deleted rows came back: \
             {resurrected:?}"
        );
    }
}
