//! Checkpoints do not stop writers.
//!
//! A checkpoint's flush is parked, deterministically, before one of the syncs of the
//! database file (a hook in the simulated storage, `Power::hold_file_syncs`): at the
//! double-write area, the commit-point meta, the pages written home, or the retiring
//! meta. While it is parked, another thread commits durable transactions that overwrite
//! rows on pages the flush is writing and insert new ones; every commit must complete
//! and be visible before the flush is let go. If a commit waited for the flush, it would
//! not complete, and the test fails after [`PATIENCE`] instead of hanging.
//!
//! Then the database must hold everything:
//!
//! - a crash right after the checkpoint (every [`CrashMode`]): the reopened database shows
//!   every acknowledged commit and passes `check_integrity`;
//! - a clean close and a reopen *without the log*: the file alone holds every commit, so
//!   no change a writer made during the flush was lost when the flush marked its pages
//!   clean (it may only mark clean a page still holding the image it wrote).
//!
//! `db_crash.rs` crashes at every sync point of a concurrent workload whose flushes are
//! held the same way.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel as channel;
use engine::pager::SimStorage;
use engine::wal::{CrashMode, Durability, SimWalStorage};
use engine::{Database, DatabaseOptions, IsolationLevel, TreeId};
use support::power::Machine;

const TREE: TreeId = TreeId(1);
/// Rows written before the checkpoint (so its flush has many pages to write).
const ROWS: u32 = 200;
/// Transactions committed while the flush is parked, each overwriting and inserting.
const COMMITS_DURING_FLUSH: u32 = 10;
/// Syncs of the database file in one flush (area, meta, homes, meta: `pager/flush.rs`).
const FLUSH_SYNCS: usize = 4;
/// How long the test waits for something that must happen; only a bug makes it wait.
const PATIENCE: Duration = Duration::from_secs(30);

fn options() -> DatabaseOptions {
    DatabaseOptions {
        page_size: 1024,
        durability: Durability::Full,
        // Only the explicit checkpoint runs.
        checkpoint_bytes: 1 << 40,
        wal_segment_bytes: 4 << 10,
        ..DatabaseOptions::default()
    }
}

fn key(n: u32) -> Vec<u8> {
    format!("row-{n:05}").into_bytes()
}

fn value(n: u32, version: u32) -> Vec<u8> {
    format!("row {n} version {version} ")
        .into_bytes()
        .repeat(1 + (n % 7) as usize)
}

type Rows = BTreeMap<Vec<u8>, Vec<u8>>;

fn commit(db: &Database, writes: &[(Vec<u8>, Vec<u8>)]) -> engine::Result<()> {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    for (k, v) in writes {
        txn.put(TREE, k, v)?;
    }
    txn.commit().map(drop)
}

fn rows(db: &Database) -> Rows {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    txn.scan(TREE, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .collect::<engine::Result<_>>()
        .unwrap()
}

/// The writes of the `i`th transaction run during the flush: overwrite every tenth row
/// (pages the flush holds images of) and insert a new one past the end.
fn during_flush(i: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    (i..ROWS)
        .step_by(COMMITS_DURING_FLUSH as usize)
        .map(|n| (key(n), value(n, i + 1)))
        .chain([(key(ROWS + i), value(ROWS + i, 0))])
        .collect()
}

/// Parks the flush at its `sync`th file sync (1-based) and commits beside it; returns the
/// machine, the database and every row it must hold.
fn commits_beside_a_flush_parked_at(sync: usize) -> (Machine, Database, Rows) {
    let machine = Machine::new();
    let db = machine.open(options()).unwrap();
    let mut expected = Rows::new();
    for chunk in (0..ROWS).collect::<Vec<_>>().chunks(50) {
        let writes: Vec<_> = chunk.iter().map(|n| (key(*n), value(*n, 0))).collect();
        commit(&db, &writes).unwrap();
        expected.extend(writes);
    }

    // The hook: at the chosen file sync, say so and wait to be let go.
    let (reached_tx, reached) = channel::bounded::<()>(1);
    let (release, released) = channel::bounded::<()>(1);
    let seen = Arc::new(AtomicUsize::new(0));
    {
        let seen = Arc::clone(&seen);
        machine.power.hold_file_syncs(Some(Arc::new(move || {
            if seen.fetch_add(1, Ordering::SeqCst) + 1 == sync {
                reached_tx.send(()).unwrap();
                // Let go by the test, or after PATIENCE if the test has failed.
                let _ = released.recv_timeout(PATIENCE);
            }
        })));
    }

    std::thread::scope(|scope| {
        let checkpoint = scope.spawn(|| db.checkpoint());
        reached
            .recv_timeout(PATIENCE)
            .expect("the checkpoint's flush never reached its sync");
        let (done_tx, done) = channel::unbounded::<Rows>();
        let db = &db;
        scope.spawn(move || {
            let mut written = Rows::new();
            for i in 0..COMMITS_DURING_FLUSH {
                let writes = during_flush(i);
                commit(db, &writes).unwrap();
                written.extend(writes);
            }
            done_tx.send(written).unwrap();
        });
        let written = done.recv_timeout(PATIENCE);
        // Let the flush go whatever happened, so a failure does not hang the test.
        release.send(()).unwrap();
        let written = written.unwrap_or_else(|_| {
            panic!("commits did not complete while the flush was parked at file sync {sync}")
        });
        expected.extend(written);
        assert_eq!(
            rows(db),
            expected,
            "commits made during the flush are not all visible"
        );
        checkpoint.join().unwrap().unwrap();
    });
    machine.power.hold_file_syncs(None);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        FLUSH_SYNCS,
        "one flush, four syncs"
    );
    db.check_integrity().unwrap();
    (machine, db, expected)
}

#[test]
fn commits_complete_while_a_checkpoint_flush_is_parked_at_each_of_its_syncs() {
    for sync in 1..=FLUSH_SYNCS {
        // A crash after the checkpoint: every acknowledged commit is in the file or the log.
        let (machine, db, expected) = commits_beside_a_flush_parked_at(sync);
        check_crashes(&machine, &expected);
        db.close_as_if_crashed();
        // A clean close after it: the file alone holds every commit.
        let (machine, db, expected) = commits_beside_a_flush_parked_at(sync);
        db.close().unwrap();
        check_file_alone(&machine, &expected);
    }
}

fn check_crashes(machine: &Machine, expected: &Rows) {
    for (m, mode) in CrashMode::ALL.into_iter().enumerate() {
        let (file, log) = machine.after_crash(mode, m as u64);
        let crashed = Database::open_with(Box::new(file), Arc::new(log), options()).unwrap();
        assert_eq!(&rows(&crashed), expected, "after a crash ({mode:?})");
        crashed.check_integrity().unwrap();
    }
}

fn check_file_alone(machine: &Machine, expected: &Rows) {
    let file = SimStorage::from_image(machine.file.durable_image());
    let alone = Database::open_with(Box::new(file), Arc::new(SimWalStorage::new()), options())
        .expect("a cleanly closed file opens without its log");
    assert_eq!(
        &rows(&alone),
        expected,
        "the file alone after a clean close"
    );
    alone.check_integrity().unwrap();
}
