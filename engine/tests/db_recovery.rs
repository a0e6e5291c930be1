//! The database put together: commits survive reopening with and without checkpoints,
//! checkpoints bound the log, garbage collection bounds the file, and concurrent commits
//! share syncs (group commit).
#![allow(clippy::unwrap_used)]

use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use engine::wal::Durability;
use engine::{Database, DatabaseOptions, IsolationLevel, TreeId};

const USERS: TreeId = TreeId(1);
const EVENTS: TreeId = TreeId(2);

fn options() -> DatabaseOptions {
    DatabaseOptions {
        durability: Durability::Full,
        ..DatabaseOptions::default()
    }
}

fn commit_numbered(db: &Database, range: std::ops::Range<u32>) {
    for i in range {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        txn.put(USERS, &i.to_be_bytes(), format!("user {i}").as_bytes())
            .unwrap();
        txn.put(EVENTS, &i.to_be_bytes(), &[1; 300]).unwrap();
        if i % 10 == 0 {
            txn.delete(EVENTS, &(i / 2).to_be_bytes()).unwrap();
        }
        txn.commit().unwrap();
    }
}

/// Every user and event as the model says they should be after `0..n` commits.
fn assert_contents(db: &Database, n: u32) {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let users: Vec<_> = txn
        .scan(USERS, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    assert_eq!(users.len(), n as usize);
    for (i, (key, value)) in users.iter().enumerate() {
        assert_eq!(key, &(i as u32).to_be_bytes());
        assert_eq!(value, format!("user {i}").as_bytes());
    }
    let deleted: std::collections::BTreeSet<u32> =
        (0..n).filter(|i| i % 10 == 0).map(|i| i / 2).collect();
    let events = txn
        .scan(EVENTS, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .count();
    let expected = (0..n).filter(|i| !deleted.contains(i)).count();
    assert_eq!(events, expected);
}

fn reopen(path: &Path) -> Database {
    Database::open(path, options()).unwrap()
}

#[test]
fn commits_survive_reopen_without_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let db = reopen(&path);
    commit_numbered(&db, 0..100);
    db.close_as_if_crashed();
    let db = reopen(&path);
    assert_eq!(db.recovery().replayed_commits, 100);
    assert_contents(&db, 100);
    db.check_integrity().unwrap();
    // Dropping the last handle closes cleanly: nothing to replay next time.
    drop(db);
    let db = reopen(&path);
    assert_eq!(db.recovery().replayed_commits, 0);
    assert_contents(&db, 100);
}

#[test]
fn recovery_replays_only_what_follows_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let db = reopen(&path);
    commit_numbered(&db, 0..60);
    db.checkpoint().unwrap();
    commit_numbered(&db, 60..100);
    db.close_as_if_crashed();
    let db = reopen(&path);
    assert_eq!(db.recovery().replayed_commits, 40);
    assert_contents(&db, 100);
    commit_numbered(&db, 100..120);
    db.close().unwrap();
    let db = reopen(&path);
    assert_eq!(db.recovery().replayed_commits, 0);
    assert_contents(&db, 120);
    db.check_integrity().unwrap();
}

#[test]
fn automatic_checkpoints_keep_the_log_short() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let options = DatabaseOptions {
        durability: Durability::Off,
        checkpoint_bytes: 64 << 10,
        wal_segment_bytes: 16 << 10,
        ..DatabaseOptions::default()
    };
    let db = Database::open(&path, options).unwrap();
    commit_numbered(&db, 0..2000);
    // The checkpointer polls; give it a moment to catch up with the last commits.
    for _ in 0..100 {
        if db.wal().end_lsn().0 - db.recovery().checkpoint_lsn.0 < (1 << 30)
            && db.wal().segments().unwrap().len() <= 8
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let segments = db.wal().segments().unwrap().len();
    assert!(segments <= 8, "{segments} log segments survive checkpoints");
    db.sync().unwrap();
    drop(db);
    let db = Database::open(&path, options).unwrap();
    assert!(db.recovery().replayed_commits < 2000, "{:?}", db.recovery());
    assert_contents(&db, 2000);
    db.check_integrity().unwrap();
}

#[test]
fn a_row_updated_many_times_does_not_grow_the_file() {
    let updates: u64 = std::env::var("HDB_GC_UPDATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let options = DatabaseOptions {
        durability: Durability::Off,
        checkpoint_bytes: 1 << 20,
        ..DatabaseOptions::default()
    };
    let db = Database::open(&path, options).unwrap();
    let update = |n: u64| {
        let mut txn = db.begin(IsolationLevel::ReadCommitted);
        txn.put(USERS, b"hot", &n.to_le_bytes().repeat(20)).unwrap();
        txn.commit().unwrap();
    };
    for n in 0..1000 {
        update(n);
    }
    db.checkpoint().unwrap();
    let early = std::fs::metadata(&path).unwrap().len();
    for n in 1000..updates {
        update(n);
    }
    db.checkpoint().unwrap();
    let late = std::fs::metadata(&path).unwrap().len();
    eprintln!("file after 1,000 updates: {early} bytes; after {updates}: {late} bytes");
    assert!(late <= early * 10, "{early} -> {late}");
    db.check_integrity().unwrap();
}

#[test]
fn concurrent_durable_commits_share_syncs() {
    const THREADS: u32 = 8;
    const COMMITS: u32 = 50;
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(reopen(&dir.path().join("h.db")));
    let syncs_before = db.wal().syncs();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let db = Arc::clone(&db);
            std::thread::spawn(move || {
                for i in 0..COMMITS {
                    let mut txn = db.begin(IsolationLevel::RepeatableRead);
                    txn.put(USERS, &(t * 1000 + i).to_be_bytes(), b"x").unwrap();
                    txn.commit().unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let syncs = db.wal().syncs() - syncs_before;
    let commits = u64::from(THREADS * COMMITS);
    eprintln!("{commits} durable commits from {THREADS} threads took {syncs} syncs");
    assert!(syncs < commits, "group commit never batched: {syncs} syncs");
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let count = txn
        .scan(USERS, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .count();
    assert_eq!(count as u64, commits);
}

/// A transaction larger than a log part is logged in parts ahead of its commit record,
/// and a crash after it replays every part. (Crashes between the parts, and between the
/// last part and the commit record, are `db_crash_checks.rs`'s.)
#[test]
fn a_commit_logged_in_parts_replays_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let parted = DatabaseOptions {
        wal_part_bytes: 4 << 10,
        wal_segment_bytes: 32 << 10,
        ..options()
    };
    let db = Database::open(&path, parted).unwrap();
    commit_numbered(&db, 0..10);
    let from = db.wal().end_lsn();
    // Deletes, overwrites of committed rows and new rows, in two trees.
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    for i in 0..10u32 {
        txn.delete(USERS, &i.to_be_bytes()).unwrap();
    }
    for i in 10..3000u32 {
        txn.put(USERS, &i.to_be_bytes(), format!("user {i}").as_bytes())
            .unwrap();
        txn.put(EVENTS, &i.to_be_bytes(), &[2; 100]).unwrap();
    }
    txn.commit().unwrap();
    let (mut parts, mut commits) = (0, Vec::new());
    db.wal()
        .replay(from, |_, record| {
            match record {
                engine::wal::Record::Part { .. } => parts += 1,
                engine::wal::Record::Commit(c) => commits.push(c.parts.len()),
            }
            Ok(())
        })
        .unwrap();
    assert!(
        parts >= 50,
        "about 330 KiB of writes in 4 KiB parts: {parts}"
    );
    assert_eq!(commits, [parts]);
    db.close_as_if_crashed();

    let db = Database::open(&path, parted).unwrap();
    assert_eq!(db.recovery().replayed_commits, 11);
    db.check_integrity().unwrap();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let users: Vec<_> = txn
        .scan(USERS, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(|e| e.unwrap().0)
        .collect();
    let expected: Vec<Vec<u8>> = (10..3000u32).map(|i| i.to_be_bytes().to_vec()).collect();
    assert_eq!(users, expected);
    let events = txn
        .scan(EVENTS, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .count();
    assert_eq!(
        events,
        10 - 1 + 2990,
        "events 0..10 but the deleted 0, then 10..3000"
    );
    drop(txn);
    // The log goes on after it; a clean close leaves nothing to replay.
    commit_numbered(&db, 3000..3005);
    drop(db);
    let db = Database::open(&path, parted).unwrap();
    assert_eq!(db.recovery().replayed_commits, 0);
}
