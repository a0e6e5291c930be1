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

use engine::wal::{CommitRecord, CrashMode, Lsn, Record, SimWalStorage, Wal, WalOptions, Write};
use parking_lot::Mutex;

const THREADS: u64 = 4;
const COMMITS_PER_THREAD: u64 = 60;
/// Small segments, so rotation (and its syncs) happens many times in the workload.
const SEGMENT_SIZE: u64 = 8 << 10;

fn options() -> WalOptions {
    WalOptions {
        segment_size: SEGMENT_SIZE,
        ..WalOptions::default()
    }
}

/// Sizes vary from a few bytes to a few sectors, so torn and scrambled writes cut records
/// in every place.
fn record(thread: u64, i: u64) -> CommitRecord {
    let id = thread * 1000 + i;
    let len = (id * 37 % 1500) as usize;
    CommitRecord {
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
    /// LSNs whose commit was acknowledged.
    acked: Vec<Lsn>,
}

/// Runs the workload on `sim` until it ends or the storage dies; returns what happened.
fn run_workload(sim: &SimWalStorage) -> Outcome {
    let outcome = Arc::new(Mutex::new(Outcome::default()));
    let Ok(wal) = Wal::open(Arc::new(sim.clone()), options()) else {
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
                    match ticket.wait() {
                        Ok(lsn) => outcome.lock().acked.push(lsn),
                        Err(_) => return,
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
fn check_recovery(storage: SimWalStorage, outcome: &Outcome, what: &str) {
    let mut replayed = Vec::new();
    let wal = Wal::recover(Arc::new(storage.clone()), options(), Lsn::ZERO, |lsn, r| {
        let Record::Commit(c) = r;
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
    let replayed_end = replayed.last().map(|(lsn, _)| *lsn);
    for lsn in &outcome.acked {
        assert!(
            Some(*lsn) <= replayed_end,
            "{what}: acknowledged commit at LSN {lsn} lost"
        );
    }
    // The recovered log goes on.
    let extra = record(99, replayed.len() as u64);
    let lsn = wal
        .commit(&extra)
        .unwrap_or_else(|e| panic!("{what}: commit after recovery: {e}"));
    drop(wal);
    let mut last = None;
    Wal::recover(Arc::new(storage), options(), lsn, |l, r| {
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

#[test]
fn every_acknowledged_commit_survives_a_crash_at_every_sync_point() {
    let mut crashes = 0;
    let mut recoveries = 0;
    let mut runs_without_crash = 0;
    let mut n = 0;
    while runs_without_crash < RUNS_WITHOUT_CRASH {
        n += 1;
        let sim = SimWalStorage::new();
        sim.crash_at_sync(n);
        let outcome = run_workload(&sim);
        if sim.has_crashed() {
            crashes += 1;
        } else {
            // The run ended before sync point n: cut the power after a clean close.
            assert_eq!(outcome.acked.len() as u64, THREADS * COMMITS_PER_THREAD);
            runs_without_crash += 1;
        }
        for (m, mode) in CrashMode::ALL.into_iter().enumerate() {
            let seed = n * 8 + m as u64;
            let what = format!("crash at sync {n}, {mode:?}, seed {seed}");
            check_recovery(sim.after_crash(mode, seed), &outcome, &what);
            recoveries += 1;
        }
    }
    println!(
        "crash test: {} commits from {THREADS} threads, sync points 1..={n} tried, {crashes} \
         runs crashed, {recoveries} recoveries checked",
        THREADS * COMMITS_PER_THREAD
    );
    assert!(crashes >= MIN_SYNC_POINTS, "only {crashes} sync points");
}

#[test]
fn many_seeds_of_torn_and_scrambled_tails_recover() {
    // More random survivals of the unsynced state at a few crash points.
    let dry = SimWalStorage::new();
    run_workload(&dry);
    let points = dry.sync_points();
    for n in [points / 4, points / 2, 3 * points / 4] {
        let sim = SimWalStorage::new();
        sim.crash_at_sync(n);
        let outcome = run_workload(&sim);
        for seed in 0..50 {
            for mode in [CrashMode::Torn, CrashMode::Scrambled] {
                let what = format!("crash at sync {n}, {mode:?}, seed {seed}");
                check_recovery(sim.after_crash(mode, seed), &outcome, &what);
            }
        }
    }
}
