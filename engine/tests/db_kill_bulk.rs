//! Kill -9 during the bulk paths: a child process opens a [`Database`] on real files
//! (`Durability::Full`) and, over and over, creates a table and loads `HDB_KILL_BULK_ROWS`
//! rows (default [`DEFAULT_ROWS`]) into it: the odd tables in the creating transaction
//! (a tree the transaction created, built bottom-up at commit), the even ones in two
//! later transactions — the first half into the empty table (which the loading
//! transaction claims by itself: no key locks or probes), the second half past its last
//! key under `lock_tree_for_load` (the leaf cursor appending to the last leaf). Then it
//! creates two indexes on the populated table in another transaction (the one-pass,
//! one-sort CREATE INDEX), reporting each commit on stdout. The parent kills it with
//! SIGKILL at a random moment — while it loads, builds an index, commits, checkpoints
//! or recovers — reopens the database and checks:
//!
//! - every acknowledged load and index is there;
//! - every table holds none, the first half or all of its rows (each load is one
//!   transaction);
//! - every index holds exactly one entry per row of its table;
//! - `check_integrity()` passes.
//!
//! Every other round the child builds under a memory budget of [`SPILL_BUDGET`]
//! bytes, so CREATE INDEX sorts externally (sorted runs in `<path>.sort/`); in either
//! case its commit logs a marker that recovery replays from the table. Whatever run
//! files the kill left must be gone once the database is reopened.
//!
//! The same database is used round after round, so each child recovers what the last
//! one left. `HDB_KILL_BULK_ROUNDS` sets the rounds (default [`DEFAULT_ROUNDS`]). The
//! default size keeps the test to seconds in CI; the 200k-row load is
//! `HDB_KILL_BULK_ROWS=200000` (about four minutes on a loaded 2-core machine, in the
//! test profile).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write as _};
use std::ops::Bound;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use engine::keycode::KeyValue;
use engine::table::{Column, ColumnType, TableDef, catalog, ops};
use engine::wal::Durability;
use engine::{Database, DatabaseOptions, IsolationLevel};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROWS_VAR: &str = "HDB_KILL_BULK_ROWS";
const DEFAULT_ROWS: i64 = 20_000;
const ROUNDS_VAR: &str = "HDB_KILL_BULK_ROUNDS";
const DEFAULT_ROUNDS: u64 = 6;
const CHILD_DB_VAR: &str = "HDB_KILL_BULK_DB";
const CHILD_TEST: &str = "kill_bulk_child";
const CHILD_START_TIMEOUT: Duration = Duration::from_secs(120);
const SIGKILL: i32 = 9;
/// Set for a child that builds under [`SPILL_BUDGET`].
const CHILD_SPILL_VAR: &str = "HDB_KILL_BULK_SPILL";
/// A budget each index of a [`DEFAULT_ROWS`]-row table overflows several times.
const SPILL_BUDGET: usize = 128 << 10;

fn options(spill: bool) -> DatabaseOptions {
    DatabaseOptions {
        durability: Durability::Full,
        // Small, so automatic checkpoints run during the loads and builds.
        checkpoint_bytes: 1 << 20,
        build_memory_bytes: match spill {
            true => SPILL_BUDGET,
            false => engine::DEFAULT_BUILD_MEMORY,
        },
        // Two threads read the table for a CREATE INDEX: parts sorted apart.
        build_threads: 2,
        ..DatabaseOptions::default()
    }
}

/// The run files in the database's spill directory.
fn run_files(path: &Path) -> usize {
    let mut dir = path.as_os_str().to_owned();
    dir.push(".sort");
    std::fs::read_dir(dir).map_or(0, |d| d.count())
}

fn rows() -> i64 {
    std::env::var(ROWS_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ROWS)
}

/// Row `id` of every table: a value with repeats, and a unique text.
fn row(id: i64) -> Vec<KeyValue> {
    vec![
        KeyValue::Int(id),
        KeyValue::Int(id.wrapping_mul(7919) % 1000),
        KeyValue::Text(format!("s{:08}", id.wrapping_mul(104_729) % 1_000_003)),
    ]
}

fn table_def(name: &str) -> TableDef {
    let column = |name: &str, ty| Column {
        name: name.to_string(),
        ty,
        nullable: false,
    };
    TableDef {
        name: name.to_string(),
        columns: vec![
            column("id", ColumnType::Int),
            column("v", ColumnType::Int),
            column("s", ColumnType::Text),
        ],
        primary_key: vec!["id".to_string()],
    }
}

/// Tables the child made, as the catalog names them: `t0`, `t1`, ...
fn tables(db: &Database) -> Vec<String> {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    (0..)
        .map(|i| format!("t{i}"))
        .take_while(|name| catalog::find_table(&mut txn, name).unwrap().is_some())
        .collect()
}

/// The child: loads and indexes tables until killed, printing `ack load tN` and
/// `ack index tN` after each commit returns.
#[test]
#[ignore = "run by bulk_loads_and_index_builds_survive_kill_9 as a child process"]
fn kill_bulk_child() {
    let Ok(path) = std::env::var(CHILD_DB_VAR) else {
        return;
    };
    std::panic::set_hook(Box::new(|info| {
        eprintln!("child failed: {info}");
        std::process::exit(101);
    }));
    let spill = std::env::var_os(CHILD_SPILL_VAR).is_some();
    let db = Database::open(&path, options(spill)).unwrap();
    println!("ready");
    let ack = |what: String| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "ack {what}").unwrap();
        out.flush().unwrap();
    };
    let n = rows();
    let half = n / 2;
    // Ids `from..to` in a scrambled order (the write set sorts them).
    let load =
        |txn: &mut engine::Transaction, schema: &engine::table::TableSchema, from: i64, to: i64| {
            let len = to - from;
            for k in 0..len {
                ops::insert(txn, schema, row(from + (k * 7_777_777) % len)).unwrap();
            }
        };
    // Finish a table the last child loaded but did not index, then go on.
    let existing = tables(&db);
    let mut next = existing.len();
    if let Some(last) = existing.last() {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        if catalog::table(&mut txn, last).unwrap().indexes.is_empty() {
            next -= 1;
        }
    }
    for i in next.. {
        let name = format!("t{i}");
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        let schema = match catalog::find_table(&mut txn, &name).unwrap() {
            Some(schema) => schema,
            None if i % 2 == 1 => {
                let schema = catalog::create_table(&mut txn, table_def(&name)).unwrap();
                load(&mut txn, &schema, 0, n);
                txn.commit().unwrap();
                ack(format!("load {name}"));
                txn = db.begin(IsolationLevel::RepeatableRead);
                schema
            }
            None => {
                let schema = catalog::create_table(&mut txn, table_def(&name)).unwrap();
                txn.commit().unwrap();
                txn = db.begin(IsolationLevel::RepeatableRead);
                schema
            }
        };
        let count = ops::scan(&mut txn, &schema, Bound::Unbounded, Bound::Unbounded, false)
            .unwrap()
            .count() as i64;
        if count == 0 {
            load(&mut txn, &schema, 0, half);
            txn.commit().unwrap();
            ack(format!("half {name}"));
            txn = db.begin(IsolationLevel::RepeatableRead);
        }
        if count < n {
            txn.lock_tree_for_load(schema.tree).unwrap();
            load(&mut txn, &schema, half, n);
            txn.commit().unwrap();
            ack(format!("load {name}"));
            txn = db.begin(IsolationLevel::RepeatableRead);
        }
        catalog::create_index(&mut txn, &name, &format!("{name}_v"), &["v"], false).unwrap();
        catalog::create_index(&mut txn, &name, &format!("{name}_s"), &["s"], true).unwrap();
        txn.commit().unwrap();
        ack(format!("index {name}"));
    }
}

/// Checks the reopened database (see the file header) against what was acknowledged.
fn check(
    db: &Database,
    halves: &BTreeSet<String>,
    loaded: &BTreeSet<String>,
    indexed: &BTreeSet<String>,
    round: u64,
) {
    let n = rows();
    let found = tables(db);
    for name in loaded {
        assert!(
            found.contains(name),
            "round {round}: acknowledged load of {name} is gone"
        );
    }
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    for name in &found {
        let schema = catalog::table(&mut txn, name).unwrap();
        let scanned: Vec<_> =
            ops::scan(&mut txn, &schema, Bound::Unbounded, Bound::Unbounded, false)
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
        let count = scanned.len() as i64;
        assert!(
            count == n || count == n / 2 || count == 0,
            "round {round}: {name} holds {count} rows: part of a load"
        );
        assert!(
            count == n || !loaded.contains(name),
            "round {round}: acknowledged load of {name} holds {count} rows"
        );
        assert!(
            count >= n / 2 || !halves.contains(name),
            "round {round}: acknowledged first half of {name} holds {count} rows"
        );
        for (i, (pk, values)) in scanned.iter().enumerate() {
            let KeyValue::Int(id) = pk[0] else {
                panic!("round {round}: bad key {pk:?}")
            };
            assert_eq!(id, i as i64, "round {round}: {name} row {i} has key {id}");
            assert_eq!(values, &row(id), "round {round}: {name} row {id}");
        }
        assert!(
            !indexed.contains(name) || schema.indexes.len() == 2,
            "round {round}: acknowledged indexes of {name} are gone"
        );
        assert!(
            schema.indexes.is_empty() || schema.indexes.len() == 2,
            "round {round}: {name} has one of the two indexes of one transaction"
        );
        assert!(
            schema.indexes.is_empty() || count == n,
            "round {round}: {name} is indexed before it is loaded"
        );
        for index in &schema.indexes {
            let mut entries: Vec<_> = ops::index_scan(
                &mut txn,
                &schema,
                index,
                Bound::Unbounded,
                Bound::Unbounded,
                false,
            )
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
            entries.sort();
            assert!(
                entries == scanned,
                "round {round}: index {} has {} entries for {} rows, or different ones",
                index.name,
                entries.len(),
                scanned.len()
            );
        }
    }
    drop(txn);
    db.check_integrity()
        .unwrap_or_else(|e| panic!("round {round}: integrity check failed: {e}"));
}

/// When the parent kills the child.
enum Kill {
    /// This long after it is ready.
    After(Duration),
    /// Once it acknowledges its first index build.
    AfterFirstIndex,
}

/// Runs the child once, kills it, and returns the lines it wrote.
fn run_child(path: &Path, round: u64, kill: Kill, spill: bool) -> Vec<String> {
    let stderr = path.with_extension("child-stderr");
    let mut command = Command::new(std::env::current_exe().unwrap());
    if spill {
        command.env(CHILD_SPILL_VAR, "1");
    }
    let mut child = command
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
    let deadline = Instant::now() + CHILD_START_TIMEOUT;
    let mut lines = Vec::new();
    loop {
        match lines_rx.recv_deadline(deadline) {
            Ok(line) if line.ends_with("ready") => break,
            Ok(line) => lines.push(line),
            Err(e) => panic!(
                "round {round}: the child never got ready ({e}): {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            ),
        }
    }
    match kill {
        Kill::After(delay) => thread::sleep(delay),
        Kill::AfterFirstIndex => loop {
            match lines_rx.recv_deadline(Instant::now() + CHILD_START_TIMEOUT) {
                Ok(line) => {
                    let done = line.starts_with("ack index");
                    lines.push(line);
                    if done {
                        break;
                    }
                }
                Err(e) => panic!(
                    "round {round}: the child built no index ({e}): {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                ),
            }
        },
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(SIGKILL),
        "round {round}: the child ended with {status} before it was killed: {}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    reader.join().unwrap();
    lines.extend(lines_rx.try_iter());
    lines
}

#[test]
fn bulk_loads_and_index_builds_survive_kill_9() {
    let rounds: u64 = std::env::var(ROUNDS_VAR)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let mut rng = StdRng::seed_from_u64(0xb01d);
    let (mut halves, mut loaded, mut indexed) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    // Kill delays are drawn up to the time one load and index build takes, measured by
    // the first round (which is killed after its first index commit).
    let mut span: Option<Duration> = None;
    let started = Instant::now();
    let mut left_behind = 0;
    for round in 0..rounds {
        let delay = match span {
            None => Duration::ZERO,
            Some(span) => span.mul_f64(rng.random_range(0.0..1.0)),
        };
        let round_start = Instant::now();
        let spill = round % 2 == 1;
        let lines = match span {
            None => run_child(&path, round, Kill::AfterFirstIndex, spill),
            Some(_) => run_child(&path, round, Kill::After(delay), spill),
        };
        left_behind += run_files(&path);
        if span.is_none() {
            span = Some(round_start.elapsed());
        }
        for line in lines {
            let Some(ack) = line.strip_prefix("ack ") else {
                continue;
            };
            match ack.split_once(' ') {
                Some(("half", name)) => halves.insert(name.to_string()),
                Some(("load", name)) => loaded.insert(name.to_string()),
                Some(("index", name)) => indexed.insert(name.to_string()),
                _ => panic!("round {round}: odd line {line:?}"),
            };
        }
        let db = Database::open(&path, options(spill))
            .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        assert_eq!(
            run_files(&path),
            0,
            "round {round}: run files survive the reopen"
        );
        check(&db, &halves, &loaded, &indexed, round);
        drop(db);
    }
    assert!(!indexed.is_empty(), "no child ever built an index");
    println!(
        "kill -9 during bulk loads and index builds: {rounds} rounds in {:.1?}, {} loads \
         and {} index builds acknowledged, all present; {left_behind} run files left by \
         kills, removed on reopen",
        started.elapsed(),
        loaded.len(),
        indexed.len()
    );
}
