//! The commit invariant for key lengths: a key the trees cannot hold is refused when it
//! is written, never when the logged commit is applied.
//!
//! - `keys_around_the_limit_fail_at_write_time` (proptest): transactions put and delete
//!   keys whose stored length (escaped, plus the version suffix) falls just below, at and
//!   above the store's limit, with and without 0x00 bytes (which the escaping doubles),
//!   on the in-memory store and on database files of two page sizes. Every write fails
//!   exactly when the stored key would be too long, with `Error::TooLarge`, and leaves
//!   the transaction usable; every commit succeeds; the database equals a `BTreeMap`
//!   model, and again after reopening without a checkpoint (recovery replays the log).
//! - `a_logged_commit_that_cannot_apply_is_dropped_at_recovery`: a log written by a
//!   version that checked key lengths only when applying (the record appended straight to
//!   the log) opens; the record is dropped whole and reported, and the commits around it
//!   are replayed.
//!
//! `HDB_KEY_LIMIT_CASES` sets the number of proptest cases (default
//! [`DEFAULT_CASES`]).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use engine::mvcc::{CommitTs, MemoryTreeStore, Mvcc, NoCommitLog};
use engine::pager::SimStorage;
use engine::wal::{CommitRecord, CrashMode, SimWalStorage, Write};
use engine::{Database, DatabaseOptions, Error, IsolationLevel, TreeId};
use proptest::prelude::*;

const CASES_VAR: &str = "HDB_KEY_LIMIT_CASES";
const DEFAULT_CASES: u32 = 24;
const TREES: [TreeId; 2] = [TreeId(1), TreeId(2)];
/// Bytes a stored key adds to a user key without 0x00 bytes: terminator and timestamp.
const STORED_OVERHEAD: usize = 10;

fn cases() -> u32 {
    std::env::var(CASES_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// One write: a key of `len` bytes (the last `zeros` of them 0x00, each stored as two
/// bytes), distinguished by `tag`; `put` or delete.
#[derive(Debug, Clone)]
struct KeyWrite {
    tree: usize,
    /// Offset of the key's stored length from the limit.
    over: i32,
    zeros: usize,
    tag: u8,
    put: bool,
}

fn key_write() -> impl Strategy<Value = KeyWrite> {
    (0..TREES.len(), -3i32..=3, 0usize..3, 0u8..4, any::<bool>()).prop_map(
        |(tree, over, zeros, tag, put)| KeyWrite {
            tree,
            over,
            zeros,
            tag,
            put,
        },
    )
}

impl KeyWrite {
    /// The key, whose stored length is the limit `max` plus `over`.
    fn key(&self, max: usize) -> Vec<u8> {
        let stored = (max as i64 + i64::from(self.over)) as usize;
        let len = stored - STORED_OVERHEAD - self.zeros;
        let mut key = vec![b'k'; len];
        key[0] = b'a' + self.tag;
        let start = len - self.zeros;
        key[start..].fill(0);
        key
    }
}

type Model = BTreeMap<TreeId, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Runs `transactions` through `mvcc`, checking each write's outcome; returns the model.
fn run(mvcc: &Arc<Mvcc>, transactions: &[(Vec<KeyWrite>, bool)]) -> Model {
    let max = mvcc.max_stored_key_len();
    let mut model = Model::new();
    for (i, (writes, commit)) in transactions.iter().enumerate() {
        let mut txn = mvcc.begin(IsolationLevel::RepeatableRead);
        let mut pending = model.clone();
        for write in writes {
            let (tree, key) = (TREES[write.tree], write.key(max));
            let value = format!("txn {i} value").into_bytes();
            let result = match write.put {
                true => txn.put(tree, &key, &value),
                false => txn.delete(tree, &key),
            };
            assert_eq!(
                mvcc.stored_key_len(&key) as i64 - max as i64,
                i64::from(write.over)
            );
            match write.over > 0 {
                true => assert!(
                    matches!(result, Err(Error::TooLarge(_))),
                    "{write:?}: {result:?}"
                ),
                false => {
                    result.unwrap();
                    let tree = pending.entry(tree).or_default();
                    match write.put {
                        true => tree.insert(key, value),
                        false => tree.remove(&key),
                    };
                }
            }
        }
        match commit {
            true => {
                txn.commit().unwrap();
                model = pending;
            }
            false => txn.rollback(),
        }
    }
    model.retain(|_, tree| !tree.is_empty());
    model
}

fn contents(mvcc: &Arc<Mvcc>) -> Model {
    let mut txn = mvcc.begin(IsolationLevel::RepeatableRead);
    let mut out = Model::new();
    for tree in TREES {
        let entries: BTreeMap<_, _> = txn
            .scan(tree, Bound::Unbounded, Bound::Unbounded, false)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        if !entries.is_empty() {
            out.insert(tree, entries);
        }
    }
    out
}

fn open_sim(file: SimStorage, log: SimWalStorage, page_size: u32) -> Database {
    Database::open_with(
        Box::new(file),
        Arc::new(log),
        DatabaseOptions {
            page_size,
            ..DatabaseOptions::default()
        },
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn keys_around_the_limit_fail_at_write_time(
        transactions in prop::collection::vec(
            (prop::collection::vec(key_write(), 1..6), prop::bool::weighted(0.8)),
            1..8,
        ),
    ) {
        let memory = Mvcc::new(Arc::new(MemoryTreeStore::new()), Arc::new(NoCommitLog), CommitTs(0));
        let model = run(&memory, &transactions);
        prop_assert_eq!(&contents(&memory), &model);

        for page_size in [512, 4096] {
            let (file, log) = (SimStorage::new(), SimWalStorage::new());
            let db = open_sim(file.clone(), log.clone(), page_size);
            let model = run(db.mvcc(), &transactions);
            prop_assert_eq!(&contents(db.mvcc()), &model);
            db.check_integrity().unwrap();
            // A crash: the file as of its last checkpoint, the log as synced.
            let crashed = (
                SimStorage::from_image(file.durable_image()),
                log.after_crash(CrashMode::DropUnsynced, 0),
            );
            drop(db);
            let db = open_sim(crashed.0, crashed.1, page_size);
            prop_assert_eq!(db.recovery().discarded_commits, 0);
            prop_assert_eq!(&contents(db.mvcc()), &model);
            db.check_integrity().unwrap();
        }
    }
}

#[test]
fn a_logged_commit_that_cannot_apply_is_dropped_at_recovery() {
    let (file, log) = (SimStorage::new(), SimWalStorage::new());
    let db = open_sim(file.clone(), log.clone(), 4096);
    let tree = TREES[0];
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    txn.put(tree, b"before", b"1").unwrap();
    let before = txn.commit().unwrap();
    // What a version without the write-time check logged: a commit that cannot apply
    // (with a good write beside the bad one), then a commit after it.
    let too_long = vec![b'x'; db.mvcc().max_stored_key_len()];
    let bad = db
        .wal()
        .append_commit(&CommitRecord {
            parts: Vec::new(),
            commit_ts: before.0 + 1,
            writes: vec![
                Write::put(tree.0, b"partial".to_vec(), b"2".to_vec()),
                Write::put(tree.0, too_long, b"3".to_vec()),
            ],
        })
        .unwrap();
    let bad_lsn = bad.lsn();
    bad.wait().unwrap();
    db.wal()
        .append_commit(&CommitRecord {
            parts: Vec::new(),
            commit_ts: before.0 + 2,
            writes: vec![Write::put(tree.0, b"after".to_vec(), b"4".to_vec())],
        })
        .unwrap()
        .wait()
        .unwrap();
    let crashed = (
        SimStorage::from_image(file.durable_image()),
        log.after_crash(CrashMode::DropUnsynced, 0),
    );
    drop(db);

    let db = open_sim(crashed.0, crashed.1, 4096);
    let report = db.recovery();
    assert_eq!(report.discarded_commits, 1, "{report:?}");
    assert_eq!(report.first_discarded, Some(bad_lsn));
    assert_eq!(report.last_commit, CommitTs(before.0 + 2));
    let expected: BTreeMap<Vec<u8>, Vec<u8>> = [
        (b"after".to_vec(), b"4".to_vec()),
        (b"before".to_vec(), b"1".to_vec()),
    ]
    .into();
    assert_eq!(contents(db.mvcc()).remove(&tree).unwrap(), expected);
    // The database goes on committing, at timestamps after the dropped one.
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    txn.put(tree, b"later", b"5").unwrap();
    assert!(txn.commit().unwrap() > CommitTs(before.0 + 2));
    db.check_integrity().unwrap();
}
