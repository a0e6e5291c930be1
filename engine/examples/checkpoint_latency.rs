//! Commit latency beside checkpoints: does a checkpoint stop committing writers?
//!
//! `cargo run --release -p engine --example checkpoint_latency -- [SECONDS] [ROWS]`
//!
//! A database file in a temporary directory (`$TMPDIR`, else `/tmp`), durability `Full`,
//! 4 KiB pages, the automatic checkpointer effectively off. `ROWS` rows (default 200,000;
//! 100-byte values) are loaded and checkpointed first. Then, for 1 and 2 writer threads,
//! each thread commits single-row updates of random rows (so every checkpoint has pages
//! all over the tree to write) for `SECONDS` (default 5), twice: once alone, and once with
//! a thread that runs a checkpoint every [`CHECKPOINT_EVERY`]. Printed per run: commits/s,
//! commit latency p50 / p99 / p99.9 / max, and the checkpoints' count and mean duration.
//! The latencies are of whole durable commits (begin, put, commit), as a client sees them.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use engine::wal::Durability;
use engine::{Database, DatabaseOptions, IsolationLevel, TreeId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const TREE: TreeId = TreeId(1);
/// The checkpointer thread's pause between checkpoints.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Rows per loading transaction.
const LOAD_BATCH: u64 = 20_000;

fn key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at]
}

fn run(db: &Database, rows: u64, threads: usize, seconds: f64, checkpoints: bool) {
    let stop = Arc::new(AtomicBool::new(false));
    let (latencies, checkpoint_times) = std::thread::scope(|scope| {
        let checkpointer = scope.spawn(|| {
            let mut times = Vec::new();
            while checkpoints && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(CHECKPOINT_EVERY);
                let started = Instant::now();
                db.checkpoint().unwrap();
                times.push(started.elapsed());
            }
            times
        });
        let writers: Vec<_> = (0..threads)
            .map(|t| {
                let stop = Arc::clone(&stop);
                scope.spawn(move || {
                    let mut rng = StdRng::seed_from_u64(t as u64);
                    let mut latencies = Vec::new();
                    let mut n = 0u64;
                    while !stop.load(Ordering::SeqCst) {
                        // Each thread its own rows (no conflicts): row % threads == t.
                        let row =
                            rng.random_range(0..rows / threads as u64) * threads as u64 + t as u64;
                        let value = [(n % 251) as u8; 100];
                        let started = Instant::now();
                        let mut txn = db.begin(IsolationLevel::RepeatableRead);
                        txn.put(TREE, &key(row), &value).unwrap();
                        txn.commit().unwrap();
                        latencies.push(started.elapsed());
                        n += 1;
                    }
                    latencies
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(seconds));
        stop.store(true, Ordering::SeqCst);
        let mut all: Vec<Duration> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        all.sort_unstable();
        (all, checkpointer.join().unwrap())
    });
    let mean_checkpoint = match checkpoint_times.len() {
        0 => Duration::ZERO,
        n => checkpoint_times.iter().sum::<Duration>() / n as u32,
    };
    println!(
        "threads {threads}, checkpoints {:>3} (mean {:>9.2?}): {:>7.0} commits/s, \
         p50 {:>9.2?}, p99 {:>9.2?}, p99.9 {:>9.2?}, max {:>9.2?}",
        checkpoint_times.len(),
        mean_checkpoint,
        latencies.len() as f64 / seconds,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        percentile(&latencies, 0.999),
        latencies.last().copied().unwrap_or_default(),
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().map_or(5.0, |s| s.parse().unwrap());
    let rows: u64 = args.next().map_or(200_000, |s| s.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let options = DatabaseOptions {
        page_size: 4096,
        durability: Durability::Full,
        checkpoint_bytes: u64::MAX,
        ..DatabaseOptions::default()
    };
    let db = Database::open(dir.path().join("latency.hdb"), options).unwrap();
    for start in (0..rows).step_by(LOAD_BATCH as usize) {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        for n in start..(start + LOAD_BATCH).min(rows) {
            txn.put(TREE, &key(n), &[1u8; 100]).unwrap();
        }
        txn.commit().unwrap();
    }
    db.checkpoint().unwrap();
    println!("{rows} rows, {seconds} s per run, durability full");
    for threads in [1, 2] {
        for checkpoints in [false, true] {
            run(&db, rows, threads, seconds, checkpoints);
        }
    }
    db.close().unwrap();
}
