//! Crash at every sync point: a multi-threaded workload of durable commits runs on the
//! simulated storage with a power cut armed at sync point N, for every N the workload
//! reaches (file syncs, directory syncs, segment creation and rotation included). For each
//! way the unsynced state may survive (dropped, kept, torn, scrambled sectors), recovery
//! must open without error and replay:
//!
//! - every commit acknowledged before the crash;
//! - nothing that was never appended (each record is compared byte for byte);
//! - a prefix of the append (LSN) order.
//!
//! and the recovered log must accept new commits that survive a further reopen.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use engine::wal::{
    CommitRecord, CrashMode, Durability, Lsn, Record, SimWalStorage, Wal, WalOptions, Write,
};
use parking_lot::Mutex;

const THREADS: u64 = 4;
const COMMITS_PER_THREAD: u64 = 60;
/// Small segments, so rotation (and its syncs) happens many times in the workload.
const SEGMENT_SIZE: u64 = 8 << 10;

/// With `Durability::Off`, each thread calls `sync` after this many commits.
const SYNC_EVERY: u64 = 7;

fn options(durability: Durability) -> WalOptions {
    WalOptions {
        segment_size: SEGMENT_SIZE,
        durability,
        ..WalOptions::default()
    }
}

/// Sizes vary from a few bytes to a few sectors, so torn and scrambled writes cut records
/// in every place.
fn record(thread: u64, i: u64) -> CommitRecord {
    let id = thread * 1000 + i;
    let len = (id * 37 % 1500) as usize;
    CommitRecord {
        parts: Vec::new(),
        commit_ts: id,
        writes: vec![Write::put(
            thread as u32,
            format!("k{id}").into_bytes(),
            vec![id as u8; len],
        )],
    }
}

/// What the workload did before the crash stopped it.
#[derive(Default)]
struct Outcome {
    /// Every accepted append: LSN -> record.
    appended: BTreeMap<Lsn, CommitRecord>,
    /// Every record ending at or before this LSN was acknowledged as durable: by its
    /// commit (`Full`) or by a `sync` (`Off`).
    must_survive: Lsn,
    /// Commits acknowledged.
    acked: u64,
}

/// Runs the workload on `sim` until it ends or the storage dies; returns what happened.
fn run_workload(sim: &SimWalStorage, durability: Durability) -> Outcome {
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let Ok(wal) = Wal::open(Arc::new(sim.clone()), options(durability)) else {
        return Outcome::default(); // the crash hit while creating the log
    };
    let wal = Arc::new(wal);
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (wal, outcome) = (Arc::clone(&wal), Arc::clone(&outcome));
            thread::spawn(move || {
                for i in 0..COMMITS_PER_THREAD {
                    let rec = record(t, i);
                    // Append and log under one lock, as MVCC's ordering lock would.
                    let ticket = {
                        let mut o = outcome.lock();
                        let Ok(ticket) = wal.append_commit(&rec) else {
                            return;
                        };
                        o.appended.insert(ticket.lsn(), rec);
                        ticket
                    };
                    let end = ticket.end();
                    if ticket.wait().is_err() {
                        return;
                    }
                    let mut o = outcome.lock();
                    o.acked += 1;
                    if durability == Durability::Full {
                        o.must_survive = o.must_survive.max(end);
                    }
                    drop(o);
                    if durability == Durability::Off && i % SYNC_EVERY == SYNC_EVERY - 1 {
                        let target = wal.end_lsn();
                        if wal.sync_to(target).is_err() {
                            return;
                        }
                        let mut o = outcome.lock();
                        o.must_survive = o.must_survive.max(target);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    drop(wal);
    Arc::into_inner(outcome).unwrap().into_inner()
}

/// Recovers `storage` and checks the three properties; then commits one more record and
/// checks that it survives a reopen.
fn check_recovery(storage: SimWalStorage, durability: Durability, outcome: &Outcome, what: &str) {
    let mut replayed = Vec::new();
    let options = options(durability);
    let wal = Wal::recover(Arc::new(storage.clone()), options, Lsn::ZERO, |lsn, r| {
        let Record::Commit(c) = r else {
            panic!("only commit records are written here")
        };
        replayed.push((lsn, c));
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{what}: recovery failed: {e}"));
    let expected: Vec<(Lsn, CommitRecord)> = outcome
        .appended
        .iter()
        .take(replayed.len())
        .map(|(l, r)| (*l, r.clone()))
        .collect();
    assert!(
        replayed == expected,
        "{what}: replay is not a prefix of the appends"
    );
    let end = wal.recovery().end;
    assert!(
        end >= outcome.must_survive,
        "{what}: the log ends at {end}, but everything to {} was acknowledged",
        outcome.must_survive
    );
    // The recovered log goes on.
    let extra = record(99, replayed.len() as u64);
    let lsn = wal
        .commit(&extra)
        .unwrap_or_else(|e| panic!("{what}: commit after recovery: {e}"));
    drop(wal);
    let mut last = None;
    Wal::recover(Arc::new(storage), options, lsn, |l, r| {
        last = Some((l, r));
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{what}: second recovery failed: {e}"));
    assert_eq!(last, Some((lsn, Record::Commit(extra))), "{what}");
}

/// Runs past the last sync point this many times before concluding that every point has
/// been tried (thread timing changes how many batches, hence syncs, a run has).
const RUNS_WITHOUT_CRASH: u32 = 3;
/// The workload must have at least this many sync points, or the test proves little.
const MIN_SYNC_POINTS: u64 = 50;

/// Crashes the workload at sync point 1, 2, ... until runs end before the armed point,
/// and checks recovery in every crash mode; returns how many runs crashed.
fn crash_at_every_sync_point(durability: Durability, sync_delay: Duration) -> u64 {
    let mut crashes = 0;
    let mut recoveries = 0;
    let mut runs_without_crash = 0;
    let mut n = 0;
    while runs_without_crash < RUNS_WITHOUT_CRASH {
        n += 1;
        let sim = SimWalStorage::new();
        sim.set_sync_delay(sync_delay);
        sim.crash_at_sync(n);
        let outcome = run_workload(&sim, durability);
        if sim.has_crashed() {
            crashes += 1;
        } else {
            // The run ended before sync point n: cut the power after a clean close.
            assert_eq!(outcome.acked, THREADS * COMMITS_PER_THREAD);
            runs_without_crash += 1;
        }
        for (m, mode) in CrashMode::ALL.into_iter().enumerate() {
            let seed = n * 8 + m as u64;
            let what = format!("{durability:?}: crash at sync {n}, {mode:?}, seed {seed}");
            check_recovery(sim.after_crash(mode, seed), durability, &outcome, &what);
            recoveries += 1;
        }
    }
    println!(
        "crash test ({durability:?}): {} commits from {THREADS} threads, sync points 1..={n} \
         tried, {crashes} runs crashed, {recoveries} recoveries checked",
        THREADS * COMMITS_PER_THREAD
    );
    crashes
}

#[test]
fn every_acknowledged_commit_survives_a_crash_at_every_sync_point() {
    let crashes = crash_at_every_sync_point(Durability::Full, Duration::ZERO);
    assert!(crashes >= MIN_SYNC_POINTS, "only {crashes} sync points");
}

#[test]
fn with_slow_syncs_every_acknowledged_commit_survives() {
    // Slow syncs make committers queue behind a sync under way and batch; the
    // simulated sync makes durable only what was written before it began, so a commit
    // acknowledged on the strength of a sync that began before its write would be
    // lost here.
    let crashes = crash_at_every_sync_point(Durability::Full, Duration::from_micros(300));
    assert!(crashes >= MIN_SYNC_POINTS, "only {crashes} sync points");
}

#[test]
fn with_durability_off_everything_before_a_completed_sync_survives() {
    let crashes = crash_at_every_sync_point(Durability::Off, Duration::ZERO);
    assert!(crashes >= MIN_SYNC_POINTS / 2, "only {crashes} sync points");
}

#[test]
fn many_seeds_of_torn_and_scrambled_tails_recover() {
    // More random survivals of the unsynced state at a few crash points.
    for durability in [Durability::Full, Durability::Off] {
        let dry = SimWalStorage::new();
        run_workload(&dry, durability);
        let points = dry.sync_points();
        for n in [points / 4, points / 2, 3 * points / 4] {
            let sim = SimWalStorage::new();
            sim.crash_at_sync(n);
            let outcome = run_workload(&sim, durability);
            for seed in 0..50 {
                for mode in [CrashMode::Torn, CrashMode::Scrambled] {
                    let what = format!("{durability:?}: crash at sync {n}, {mode:?}, seed {seed}");
                    check_recovery(sim.after_crash(mode, seed), durability, &outcome, &what);
                }
            }
        }
    }
}

#[test]
fn a_crash_while_truncating_leaves_a_log_that_recovers_from_the_checkpoint() {
    // Segments are removed oldest first with a directory sync after each, so whatever a
    // crash leaves is a contiguous run of segments that still covers the checkpoint.
    let base = SimWalStorage::new();
    let options = WalOptions {
        segment_size: 512,
        ..WalOptions::default()
    };
    let wal = Wal::open(Arc::new(base.clone()), options).unwrap();
    let written: Vec<(Lsn, CommitRecord)> = (0..100)
        .map(|i| (wal.commit(&record(0, i)).unwrap(), record(0, i)))
        .collect();
    drop(wal);
    let checkpoint = written[70].0;
    let mut removals_seen = 0;
    for k in 1.. {
        let sim = base.after_crash(CrashMode::KeepUnsynced, 0);
        let wal = Wal::open(Arc::new(sim.clone()), options).unwrap();
        sim.crash_at_sync(k);
        let result = wal.truncate_before(checkpoint);
        drop(wal);
        for (m, mode) in CrashMode::ALL.into_iter().enumerate() {
            let what = format!("crash at truncation sync {k}, {mode:?}");
            let rebooted = sim.after_crash(mode, k * 8 + m as u64);
            let mut replayed = Vec::new();
            Wal::recover(Arc::new(rebooted.clone()), options, checkpoint, |lsn, r| {
                let Record::Commit(c) = r else {
                    panic!("only commit records are written here")
                };
                replayed.push((lsn, c));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(replayed[..], written[70..], "{what}");
            // Opening from the oldest surviving segment works too.
            Wal::open(Arc::new(rebooted), options).unwrap_or_else(|e| panic!("{what}: {e}"));
        }
        if let Ok(removed) = result {
            removals_seen = removed;
            break;
        }
    }
    assert!(removals_seen > 10, "only {removals_seen} segments removed");
}
