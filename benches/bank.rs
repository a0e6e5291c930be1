#![allow(clippy::unwrap_used)]
//! # Bank: REPEATABLE READ against SERIALIZABLE (issue 17)
//!
//! `CUSTOMERS` customers (default 1000, `HDB_BANK_CUSTOMERS`) have two accounts each,
//! in one tree of an `engine::Database` (`Durability::Off`: the concurrency control
//! alone, no sync in the way). Each transaction is, at random, half and half:
//!
//! - a **withdrawal**: read both accounts of one customer and, if their sum covers the
//!   amount, take it from one of them (the write-skew-prone check: under REPEATABLE READ
//!   two overlapping withdrawals can overdraw the sum, under SERIALIZABLE they cannot);
//! - a **transfer**: read one account of each of two customers, move an amount from one
//!   to the other (two reads, two writes).
//!
//! `HDB_BANK_TXNS` transactions (default 20,000) are spread over 1, 2, 4 and 8 threads,
//! each retried from the start on a retryable error until it commits. For each thread
//! count the two levels alternate, `ROUNDS` times each, on fresh databases. Printed per
//! run: committed transactions per second by the wall clock, CPU milliseconds (user +
//! system, every thread) per 1000 commits, and the abort rate (failed attempts / all
//! attempts); then the medians and the SERIALIZABLE / REPEATABLE READ ratios. Run with
//! `cargo bench --bench bank`; figures in `docs/benchmarks-transactions.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use engine::{Database, DatabaseOptions, Durability, Error, IsolationLevel, Transaction, TreeId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ACCOUNTS: TreeId = TreeId(1);
const INITIAL: i64 = 1_000;
const ROUNDS: usize = 3;

#[path = "support/clock.rs"]
#[allow(dead_code)] // only the process clock is used here
mod clock;

/// The process's CPU time (every thread's), in seconds.
fn cpu_seconds() -> f64 {
    clock::Clock::ProcessCpu.now().as_secs_f64()
}

fn key(customer: u32, which: u8) -> [u8; 5] {
    let [a, b, c, d] = customer.to_be_bytes();
    [a, b, c, d, which]
}

fn balance(txn: &mut Transaction, key: &[u8]) -> Result<i64, Error> {
    let value = txn.get(ACCOUNTS, key)?.unwrap();
    Ok(i64::from_le_bytes(value.try_into().unwrap()))
}

/// One attempt of one transaction; `Err` with a retryable error: try again.
fn attempt(
    db: &Database,
    level: IsolationLevel,
    rng: &mut StdRng,
    customers: u32,
) -> Result<(), Error> {
    let mut txn = db.begin(level);
    let amount = rng.random_range(1..=100);
    if rng.random_bool(0.5) {
        let customer = rng.random_range(0..customers);
        let which = rng.random_range(0..2u8);
        let (a, b) = (key(customer, 0), key(customer, 1));
        let (ba, bb) = (balance(&mut txn, &a)?, balance(&mut txn, &b)?);
        if ba + bb >= amount {
            let (k, old) = if which == 0 { (a, ba) } else { (b, bb) };
            txn.put(ACCOUNTS, &k, &(old - amount).to_le_bytes())?;
        }
    } else {
        let from = key(rng.random_range(0..customers), rng.random_range(0..2u8));
        let to = key(rng.random_range(0..customers), rng.random_range(0..2u8));
        if from != to {
            let (bf, bt) = (balance(&mut txn, &from)?, balance(&mut txn, &to)?);
            txn.put(ACCOUNTS, &from, &(bf - amount).to_le_bytes())?;
            txn.put(ACCOUNTS, &to, &(bt + amount).to_le_bytes())?;
        }
    }
    txn.commit().map(drop)
}

struct Run {
    per_second: f64,
    cpu_per_1000: f64,
    abort_rate: f64,
}

fn run(level: IsolationLevel, threads: usize, txns: u64, customers: u32, seed: u64) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let options = DatabaseOptions {
        durability: Durability::Off,
        ..DatabaseOptions::default()
    };
    let db = Arc::new(Database::open(dir.path().join("bank.hdb"), options).unwrap());
    let mut setup = db.begin(IsolationLevel::ReadCommitted);
    for c in 0..customers {
        for which in 0..2 {
            setup
                .put(ACCOUNTS, &key(c, which), &INITIAL.to_le_bytes())
                .unwrap();
        }
    }
    setup.commit().unwrap();
    let (done, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (cpu, start) = (cpu_seconds(), Instant::now());
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (db, done, failed) = (db.clone(), done.clone(), failed.clone());
            std::thread::spawn(move || {
                let mut rng = StdRng::seed_from_u64(seed * 100 + t as u64);
                while done.fetch_add(1, Ordering::Relaxed) < txns {
                    // The same transaction is retried: the generator restarts from its
                    // state before the attempt.
                    let before = rng.clone();
                    loop {
                        match attempt(&db, level, &mut rng, customers) {
                            Ok(()) => break,
                            Err(e) if e.is_retryable() => {
                                failed.fetch_add(1, Ordering::Relaxed);
                                rng = before.clone();
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    workers.into_iter().for_each(|w| w.join().unwrap());
    let (elapsed, cpu) = (start.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    let failed = failed.load(Ordering::Relaxed) as f64;
    Run {
        per_second: txns as f64 / elapsed,
        cpu_per_1000: cpu * 1000.0 / txns as f64,
        abort_rate: failed / (failed + txns as f64),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once, small.
    let quick = !std::env::args().any(|a| a == "--bench");
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let txns = env("HDB_BANK_TXNS", if quick { 400 } else { 20_000 });
    let customers = env("HDB_BANK_CUSTOMERS", 1_000) as u32;
    let rounds = if quick { 1 } else { ROUNDS };
    let levels = [
        ("rr", IsolationLevel::RepeatableRead),
        ("ser", IsolationLevel::Serializable),
    ];
    let mut summary = Vec::new();
    for threads in [1, 2, 4, 8] {
        let mut results: [Vec<Run>; 2] = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            for (i, (name, level)) in levels.into_iter().enumerate() {
                let r = run(level, threads, txns, customers, round as u64);
                println!(
                    "threads={threads} round={round} level={name} txns={txns} per_s={:.0} \
                     cpu_ms_per_1000={:.1} abort_rate={:.4}",
                    r.per_second,
                    r.cpu_per_1000 * 1000.0,
                    r.abort_rate
                );
                results[i].push(r);
            }
        }
        let med = |i: usize, f: fn(&Run) -> f64| median(results[i].iter().map(f).collect());
        let line = format!(
            "threads={threads} median: rr {:.0}/s ({:.1} cpu ms/1000, abort rate {:.2}%), \
             ser {:.0}/s ({:.1} cpu ms/1000, abort rate {:.2}%); ser/rr throughput {:.2}x, cpu {:.2}x",
            med(0, |r| r.per_second),
            med(0, |r| r.cpu_per_1000) * 1000.0,
            med(0, |r| r.abort_rate) * 100.0,
            med(1, |r| r.per_second),
            med(1, |r| r.cpu_per_1000) * 1000.0,
            med(1, |r| r.abort_rate) * 100.0,
            med(1, |r| r.per_second) / med(0, |r| r.per_second),
            med(1, |r| r.cpu_per_1000) / med(0, |r| r.cpu_per_1000),
        );
        println!("{line}");
        summary.push(line);
    }
    println!("\nsummary");
    for line in summary {
        println!("{line}");
    }
}
