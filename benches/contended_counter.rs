#![allow(clippy::unwrap_used)]
//! # Contended counter: waiting writers against fail-and-retry (issue 17)
//!
//! Eight threads increment one counter row of an `engine::Database` under READ
//! COMMITTED until they have made `HDB_COUNTER_INCREMENTS` increments together (default
//! 4000; durable runs a tenth of that). One increment is one transaction: lock the row
//! (`Transaction::lock_row`, as SQL's UPDATE does), read it (its newest value, if a
//! commit changed it since the snapshot), write value + 1, commit. Two ways to meet a
//! row another transaction holds, in the same process on the same kind of database:
//!
//! - **wait**: the default [`LockWait`]: the transaction waits for the holder to end,
//!   then goes on with the newest value (what H does since waiting writers);
//! - **retry**: [`LockWait::fail_at_once`]: the attempt fails at once (what every
//!   conflicting write did before waiting writers), the thread yields and starts the
//!   transaction again.
//!
//! Each mode runs `ROUNDS` times, alternating, each on a fresh database, under
//! `Durability::Off` (the locking path alone) and `Durability::Full` (every commit
//! synced, the lock held across the sync). Printed per run: increments per second by
//! the wall clock, the process's CPU seconds (user + system, every thread) per 1000
//! increments, and failed attempts; then the medians and the wait/retry ratios. Each
//! run checks that the counter ends at exactly the number of increments. Run with
//! `cargo bench --bench contended_counter`; figures in `docs/benchmarks-transactions.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use engine::{
    Database, DatabaseOptions, Durability, Error, IsolationLevel, LockMode, LockWait, RowLock,
    TreeId, WaitPolicy,
};

const TREE: TreeId = TreeId(1);
const KEY: &[u8] = b"counter";
const THREADS: u64 = 8;
const ROUNDS: usize = 5;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Wait,
    Retry,
}

#[path = "support/clock.rs"]
#[allow(dead_code)] // only the process clock is used here
mod clock;

/// The process's CPU time (every thread's), in seconds.
fn cpu_seconds() -> f64 {
    clock::Clock::ProcessCpu.now().as_secs_f64()
}

/// One increment; `Ok(false)` if the attempt failed and must be retried.
fn increment(db: &Database, wait: &LockWait) -> Result<bool, Error> {
    let mut txn = db.begin(IsolationLevel::ReadCommitted);
    txn.set_lock_wait(wait.clone());
    let value = match txn.lock_row(TREE, KEY, LockMode::NoKeyUpdate, WaitPolicy::Block) {
        Ok(RowLock::Changed(value)) => value,
        Ok(RowLock::Unchanged | RowLock::Skipped) => txn.get(TREE, KEY)?,
        Err(Error::LockNotAvailable(_) | Error::Deadlock(_) | Error::Serialization(_)) => {
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let n = u64::from_le_bytes(value.unwrap_or_default().try_into().unwrap_or_default());
    txn.put(TREE, KEY, &(n + 1).to_le_bytes())?;
    txn.commit()?;
    Ok(true)
}

struct Run {
    per_second: f64,
    cpu_per_1000: f64,
    failed: u64,
}

fn run(mode: Mode, durability: Durability, increments: u64) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let options = DatabaseOptions {
        durability,
        ..DatabaseOptions::default()
    };
    let db = Arc::new(Database::open(dir.path().join("counter.hdb"), options).unwrap());
    let mut setup = db.begin(IsolationLevel::ReadCommitted);
    setup.put(TREE, KEY, &0u64.to_le_bytes()).unwrap();
    setup.commit().unwrap();
    let wait = match mode {
        Mode::Wait => LockWait::default(),
        Mode::Retry => LockWait::fail_at_once(),
    };
    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (cpu, start) = (cpu_seconds(), Instant::now());
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (db, wait, done, failed) = (db.clone(), wait.clone(), done.clone(), failed.clone());
            std::thread::spawn(move || {
                while done.fetch_add(1, Ordering::Relaxed) < increments {
                    while !increment(&db, &wait).unwrap() {
                        failed.fetch_add(1, Ordering::Relaxed);
                        std::thread::yield_now();
                    }
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let (elapsed, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let mut check = db.begin(IsolationLevel::RepeatableRead);
    let value = check.get(TREE, KEY).unwrap().unwrap();
    assert_eq!(u64::from_le_bytes(value.try_into().unwrap()), increments);
    Run {
        per_second: increments as f64 / elapsed,
        cpu_per_1000: cpu * 1000.0 / increments as f64,
        failed: failed.load(Ordering::Relaxed),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, small.
    let quick = !std::env::args().any(|a| a == "--bench");
    let increments: u64 = std::env::var("HDB_COUNTER_INCREMENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 200 } else { 4000 });
    let rounds = if quick { 1 } else { ROUNDS };
    for (durability, name, n) in [
        (Durability::Off, "off", increments),
        (Durability::Full, "full", (increments / 10).max(THREADS)),
    ] {
        let mut results = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            for (i, mode) in [Mode::Wait, Mode::Retry].into_iter().enumerate() {
                let r = run(mode, durability, n);
                let label = if mode == Mode::Wait { "wait" } else { "retry" };
                println!(
                    "durability={name} round={round} mode={label} increments={n} \
                     per_s={:.0} cpu_ms_per_1000={:.1} failed_attempts={}",
                    r.per_second,
                    r.cpu_per_1000 * 1000.0,
                    r.failed
                );
                results[i].push(r);
            }
        }
        let med = |i: usize, f: fn(&Run) -> f64| median(results[i].iter().map(f).collect());
        let (wait_s, retry_s) = (med(0, |r| r.per_second), med(1, |r| r.per_second));
        let (wait_cpu, retry_cpu) = (med(0, |r| r.cpu_per_1000), med(1, |r| r.cpu_per_1000));
        let (wait_failed, retry_failed) =
            (med(0, |r| r.failed as f64), med(1, |r| r.failed as f64));
        println!(
            "durability={name} median: wait {wait_s:.0}/s ({:.1} cpu ms/1000, {wait_failed:.0} failed), \
             retry {retry_s:.0}/s ({:.1} cpu ms/1000, {retry_failed:.0} failed); \
             wait/retry throughput {:.2}x, cpu {:.2}x",
            wait_cpu * 1000.0,
            retry_cpu * 1000.0,
            wait_s / retry_s,
            wait_cpu / retry_cpu
        );
    }
}
