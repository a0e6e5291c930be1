//! Kill -9 of a whole database: a child process opens a [`Database`] on real files
//! (`Durability::Full`) and commits from several threads, each transaction advancing its
//! thread's counter row, adding a log row and deleting the log row [`WINDOW`] behind; after
//! each `commit()` returns it reports the transaction on stdout. The parent kills the
//! child with SIGKILL at a random moment (usually while it commits and checkpoints,
//! sometimes while it is still opening and recovering), reopens the database, and checks:
//!
//! - every acknowledged transaction is there: each thread's counter is at least its last
//!   acknowledged number;
//! - nothing else, and nothing in part: the counter is at most one past it (the one
//!   commit that may have become durable before its acknowledgement was written), and
//!   the log rows are exactly those the counter implies, with their exact values;
//! - `check_integrity()` passes.
//!
//! The same database is used round after round, so each child recovers what the last one
//! left. `HDB_KILL_ROUNDS` sets the number of rounds (default [`DEFAULT_ROUNDS`]).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::ops::Bound;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use engine::wal::Durability;
use engine::{Database, DatabaseOptions, IsolationLevel, TreeId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROUNDS_VAR: &str = "HDB_KILL_ROUNDS";
const DEFAULT_ROUNDS: u64 = 50;
const CHILD_DB_VAR: &str = "HDB_KILL_DB";
const CHILD_TEST: &str = "kill_child";
const THREADS: u8 = 3;
/// Thread 0 runs a checkpoint after every this many of its commits (besides the
/// automatic ones), so kills land in checkpoints too.
const CHECKPOINT_EVERY: u64 = 5;
/// Each transaction deletes the log row this far behind its own.
const WINDOW: u64 = 8;
/// How long the child may take to start and recover before the test fails.
const CHILD_START_TIMEOUT: Duration = Duration::from_secs(60);

/// The signal `Child::kill` sends on Unix.
const SIGKILL: i32 = 9;

const COUNTERS: TreeId = TreeId(1);
const LOG: TreeId = TreeId(2);

fn options() -> DatabaseOptions {
    DatabaseOptions {
        durability: Durability::Full,
        // Small, so automatic checkpoints and segment rotation happen in every round.
        checkpoint_bytes: 64 << 10,
        wal_segment_bytes: 32 << 10,
        ..DatabaseOptions::default()
    }
}

fn counter_key(thread: u8) -> Vec<u8> {
    vec![thread]
}

fn log_key(thread: u8, n: u64) -> Vec<u8> {
    [&[thread][..], &n.to_be_bytes()].concat()
}

/// The log row of transaction `n` of `thread`: up to ~3 KB, so some need overflow pages.
fn log_value(thread: u8, n: u64) -> Vec<u8> {
    let len = 1 + (n * 131 + u64::from(thread) * 17) % 3000;
    format!("thread {thread} txn {n};")
        .into_bytes()
        .repeat(len as usize / 16 + 1)
}

/// Commits the next transaction of `thread` (one past its counter, from 1); returns its
/// number.
fn commit_next(db: &Database, thread: u8) -> engine::Result<u64> {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let n = match txn.get(COUNTERS, &counter_key(thread))? {
        Some(bytes) => u64::from_be_bytes(bytes.as_slice().try_into().unwrap()) + 1,
        None => 1,
    };
    txn.put(COUNTERS, &counter_key(thread), &n.to_be_bytes())?;
    txn.put(LOG, &log_key(thread, n), &log_value(thread, n))?;
    if n > WINDOW {
        txn.delete(LOG, &log_key(thread, n - WINDOW))?;
    }
    txn.commit()?;
    Ok(n)
}

/// The child: commits until killed, printing `ack <thread> <n>` for each commit.
#[test]
#[ignore = "run by every_acknowledged_transaction_survives_kill_9 as a child process"]
fn kill_child() {
    let Ok(path) = std::env::var(CHILD_DB_VAR) else {
        return;
    };
    // A failure in any thread ends the process at once, so the parent sees it exit on
    // its own instead of killing it.
    // (No backtrace: printing one takes long enough for the kill to overtake it.)
    std::panic::set_hook(Box::new(|info| {
        eprintln!("child failed: {info}");
        std::process::exit(101);
    }));
    let db = Database::open(&path, options()).unwrap();
    println!("ready");
    thread::scope(|scope| {
        for thread in 0..THREADS {
            let db = &db;
            scope.spawn(move || {
                for i in 1.. {
                    let n = commit_next(db, thread).unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {thread} {n}").unwrap();
                    out.flush().unwrap();
                    drop(out);
                    if thread == 0 && i % CHECKPOINT_EVERY == 0 {
                        db.checkpoint().unwrap();
                    }
                }
            });
        }
    });
}

/// Checks the reopened database against the acknowledgements (see the file header);
/// returns each thread's counter.
fn check(
    db: &Database,
    acked: &BTreeMap<u8, u64>,
    floor: &BTreeMap<u8, u64>,
    round: u64,
) -> BTreeMap<u8, u64> {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let all = |txn: &mut engine::Transaction, tree| -> BTreeMap<Vec<u8>, Vec<u8>> {
        txn.scan(tree, Bound::Unbounded, Bound::Unbounded, false)
            .unwrap()
            .map(|e| e.unwrap())
            .collect()
    };
    let counters = all(&mut txn, COUNTERS);
    let mut log = all(&mut txn, LOG);
    let mut found = BTreeMap::new();
    for thread in 0..THREADS {
        let counter = counters
            .get(&counter_key(thread))
            .map_or(0, |b| u64::from_be_bytes(b.as_slice().try_into().unwrap()));
        let least = acked[&thread].max(floor[&thread]);
        assert!(
            counter >= least,
            "round {round}: thread {thread} acknowledged transaction {least}, but the \
             database has only up to {counter}"
        );
        assert!(
            counter <= least + 1,
            "round {round}: thread {thread} is at {counter}, more than one past its last \
             acknowledged or recovered transaction {least}"
        );
        for n in counter.saturating_sub(WINDOW - 1).max(1)..=counter {
            let value = log.remove(&log_key(thread, n));
            assert!(
                value.as_deref() == Some(&log_value(thread, n)[..]),
                "round {round}: thread {thread} is at {counter}, but the log row of its \
                 transaction {n} is {}",
                if value.is_some() { "wrong" } else { "missing" }
            );
        }
        found.insert(thread, counter);
    }
    assert_eq!(
        counters.len(),
        found.values().filter(|c| **c > 0).count(),
        "round {round}: stray counters"
    );
    assert!(
        log.is_empty(),
        "round {round}: log rows no whole transaction accounts for: {:?}",
        log.keys().take(5).collect::<Vec<_>>()
    );
    db.check_integrity()
        .unwrap_or_else(|e| panic!("round {round}: integrity check failed: {e}"));
    found
}

/// Runs the child once, kills it, and returns the lines it wrote.
fn run_child(path: &Path, round: u64, rng: &mut StdRng) -> Vec<String> {
    let stderr = path.with_extension("child-stderr");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            CHILD_TEST,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB_VAR, path)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = crossbeam_channel::unbounded();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    // Mostly kill while it commits; in one round of eight, while it may still be opening
    // (recovering what the last child left). The first round creates the database, and a
    // kill during creation is not what this test is about.
    if round == 0 || rng.random_ratio(7, 8) {
        let deadline = Instant::now() + CHILD_START_TIMEOUT;
        loop {
            match lines_rx.recv_deadline(deadline) {
                // The harness's "test kill_child ... " precedes it on the same line.
                Ok(line) if line.ends_with("ready") => break,
                Ok(_) => {}
                Err(e) => panic!(
                    "round {round}: the child never got ready ({e}): {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                ),
            }
        }
        thread::sleep(Duration::from_millis(rng.random_range(0..60)));
    } else {
        thread::sleep(Duration::from_millis(rng.random_range(0..15)));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    // Anything else means the child failed on its own (a commit or checkpoint error).
    assert_eq!(
        status.signal(),
        Some(SIGKILL),
        "round {round}: the child ended with {status} before it was killed: {}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    reader.join().unwrap();
    lines_rx.try_iter().collect()
}

#[test]
fn every_acknowledged_transaction_survives_kill_9() {
    let rounds: u64 = std::env::var(ROUNDS_VAR)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let mut rng = StdRng::seed_from_u64(0x9d1e);
    let started = Instant::now();
    let mut acked: BTreeMap<u8, u64> = (0..THREADS).map(|t| (t, 0)).collect();
    let mut recovered = acked.clone();
    let (mut acks, mut replayed, mut unacknowledged) = (0, 0, 0);
    for round in 0..rounds {
        for line in run_child(&path, round, &mut rng) {
            let Some(ack) = line.strip_prefix("ack ") else {
                continue;
            };
            let (thread, n) = ack.split_once(' ').unwrap();
            let (thread, n): (u8, u64) = (thread.parse().unwrap(), n.parse().unwrap());
            let last = acked.get_mut(&thread).unwrap();
            assert!(
                n > *last,
                "round {round}: thread {thread} acknowledged {n} after {last}"
            );
            *last = n;
            acks += 1;
        }
        let db = Database::open(&path, options())
            .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        replayed += db.recovery().replayed_commits;
        let found = check(&db, &acked, &recovered, round);
        unacknowledged += found
            .iter()
            .filter(|(t, c)| **c > acked[*t].max(recovered[*t]))
            .count();
        recovered = found;
        // Hand the next child a log to replay most rounds, a clean checkpoint some.
        match round % 4 {
            3 => db.close().unwrap(),
            _ => drop(db),
        }
    }
    assert!(acks > 0, "no child ever acknowledged a commit");
    println!(
        "kill -9: {rounds} rounds in {:.1?}, {acks} acknowledged transactions all present, \
         {unacknowledged} unacknowledged ones found whole, {replayed} commits replayed",
        started.elapsed()
    );
}
