//! Hermitage's anomaly tests (github.com/ept/hermitage, the PostgreSQL page), run as
//! interleaved transactions on one database, for READ COMMITTED, REPEATABLE READ and
//! SERIALIZABLE.
//!
//! Every case starts from `test(id, value) = {1: 10, 2: 20}`. Each test states what
//! PostgreSQL 15 does, and ours matches, including the cases where a writer *waits* for
//! another transaction: that write runs on a thread of its own, the test sees it block
//! (the lock table counts it as a waiter), ends the other transaction, and then checks
//! what the blocked write did. Statements that read then write (`delete_where`) lock
//! each row before writing it and, under READ COMMITTED, re-check their condition on
//! the row's newest version, as the SQL layer does (PostgreSQL's EvalPlanQual).
#![allow(clippy::unwrap_used)]

use std::ops::Bound;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use engine::Error;
use engine::mvcc::{
    CommitTs, IsolationLevel, LockMode, MemoryTreeStore, Mvcc, NoCommitLog, RowLock, Transaction,
    TreeId, WaitPolicy,
};

const TEST: TreeId = TreeId(1);
const RC: IsolationLevel = IsolationLevel::ReadCommitted;
const RR: IsolationLevel = IsolationLevel::RepeatableRead;
const SER: IsolationLevel = IsolationLevel::Serializable;

fn key(id: i64) -> [u8; 8] {
    id.to_be_bytes()
}

fn setup() -> Arc<Mvcc> {
    let mvcc = Mvcc::new(
        Arc::new(MemoryTreeStore::new()),
        Arc::new(NoCommitLog),
        CommitTs(0),
    );
    let mut txn = mvcc.begin(RR);
    txn.put(TEST, &key(1), &10i64.to_le_bytes()).unwrap();
    txn.put(TEST, &key(2), &20i64.to_le_bytes()).unwrap();
    txn.commit().unwrap();
    mvcc
}

/// `select * from test` (ordered by id), as (id, value) pairs.
fn select(txn: &mut Transaction) -> Vec<(i64, i64)> {
    select_where(txn, |_| true)
}

/// `select * from test where <predicate on value>`.
fn select_where(txn: &mut Transaction, predicate: impl Fn(i64) -> bool) -> Vec<(i64, i64)> {
    txn.scan(TEST, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(|entry| {
            let (k, v) = entry.unwrap();
            (
                i64::from_be_bytes(k.try_into().unwrap()),
                i64::from_le_bytes(v.try_into().unwrap()),
            )
        })
        .filter(|(_, value)| predicate(*value))
        .collect()
}

/// `select * from test where id = <id>`.
fn select_id(txn: &mut Transaction, id: i64) -> Option<i64> {
    txn.get(TEST, &key(id))
        .unwrap()
        .map(|v| i64::from_le_bytes(v.try_into().unwrap()))
}

/// `update test set value = <value> where id = <id>`.
fn update(txn: &mut Transaction, id: i64, value: i64) -> Result<(), Error> {
    txn.put(TEST, &key(id), &value.to_le_bytes())
}

/// `delete from test where <predicate on value>`: a statement that reads then writes,
/// locking each row first and re-checking the predicate on a row changed since.
fn delete_where(txn: &mut Transaction, predicate: impl Fn(i64) -> bool) -> Result<usize, Error> {
    txn.begin_statement()?;
    let candidates = select_where(txn, &predicate);
    let mut doomed = Vec::new();
    for (id, _) in candidates {
        match txn.lock_row(TEST, &key(id), LockMode::Update, WaitPolicy::Block)? {
            RowLock::Unchanged => doomed.push(id),
            RowLock::Changed(Some(v))
                if predicate(i64::from_le_bytes(v[..].try_into().unwrap())) =>
            {
                doomed.push(id)
            }
            RowLock::Changed(_) | RowLock::Skipped => {}
        }
    }
    for id in &doomed {
        txn.delete(TEST, &key(*id))?;
    }
    txn.end_statement();
    Ok(doomed.len())
}

fn is_serialization(result: Result<impl std::fmt::Debug, Error>) -> bool {
    matches!(result, Err(Error::Serialization(_)))
}

fn final_state(mvcc: &Arc<Mvcc>) -> Vec<(i64, i64)> {
    select(&mut mvcc.begin(RR))
}

/// Runs `work` on `txn` on a thread of its own, and returns once it blocks: once the
/// lock table counts `waiters` waiting transactions.
fn blocked<T: Send + 'static>(
    db: &Arc<Mvcc>,
    waiters: usize,
    mut txn: Transaction,
    work: impl FnOnce(&mut Transaction) -> T + Send + 'static,
) -> JoinHandle<(Transaction, T)> {
    let handle = std::thread::spawn(move || {
        let result = work(&mut txn);
        (txn, result)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while db.lock_waiters() < waiters {
        assert!(!handle.is_finished(), "the statement did not block");
        assert!(Instant::now() < deadline, "the statement never blocked");
        std::thread::sleep(Duration::from_millis(1));
    }
    handle
}

#[test]
fn g0_write_cycles_are_prevented() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, t2) = (db.begin(level), db.begin(level));
        update(&mut t1, 1, 11).unwrap();
        // PostgreSQL: T2 blocks until T1 commits, then (RC) proceeds or (RR) fails.
        let t2 = blocked(&db, 1, t2, |t2| update(t2, 1, 12));
        update(&mut t1, 2, 21).unwrap();
        t1.commit().unwrap();
        let (mut t2, first) = t2.join().unwrap();
        if level == RC {
            first.unwrap();
            update(&mut t2, 2, 22).unwrap();
            t2.commit().unwrap();
            assert_eq!(final_state(&db), [(1, 12), (2, 22)], "{level:?}");
        } else {
            assert!(is_serialization(first), "{level:?}");
            assert!(matches!(
                update(&mut t2, 2, 22),
                Err(Error::TransactionClosed(_))
            ));
            assert_eq!(final_state(&db), [(1, 11), (2, 21)], "{level:?}");
        }
        assert_eq!((db.locked_keys(), db.lock_waiters()), (0, 0));
    }
}

#[test]
fn g1a_aborted_reads_are_prevented() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        update(&mut t1, 1, 101).unwrap();
        update(&mut t1, 2, 201).unwrap();
        assert_eq!(select(&mut t2), [(1, 10), (2, 20)]);
        t1.rollback();
        assert_eq!(select(&mut t2), [(1, 10), (2, 20)]);
        t2.commit().unwrap();
    }
}

#[test]
fn g1b_intermediate_reads_are_prevented() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        update(&mut t1, 1, 101).unwrap();
        assert_eq!(select(&mut t2), [(1, 10), (2, 20)]);
        update(&mut t1, 1, 11).unwrap();
        t1.commit().unwrap();
        let expected = if level == RC {
            [(1, 11), (2, 20)]
        } else {
            [(1, 10), (2, 20)]
        };
        assert_eq!(select(&mut t2), expected, "{level:?}: never 101");
        t2.commit().unwrap();
    }
}

#[test]
fn g1c_circular_information_flow_is_prevented() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        update(&mut t1, 1, 11).unwrap();
        update(&mut t2, 2, 22).unwrap();
        assert_eq!(select_id(&mut t1, 2), Some(20));
        assert_eq!(select_id(&mut t2, 1), Some(10));
        t1.commit().unwrap();
        if level == SER {
            // PostgreSQL: T2's commit fails (each read the row the other wrote: a cycle
            // of rw-antidependencies).
            assert!(is_serialization(t2.commit()));
            assert_eq!(final_state(&db), [(1, 11), (2, 20)]);
        } else {
            t2.commit().unwrap();
            assert_eq!(final_state(&db), [(1, 11), (2, 22)]);
        }
    }
}

#[test]
fn otv_observed_transaction_vanishes_is_prevented() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, t2, mut t3) = (db.begin(level), db.begin(level), db.begin(level));
        update(&mut t1, 1, 11).unwrap();
        update(&mut t1, 2, 19).unwrap();
        // PostgreSQL: blocks until T1 commits.
        let t2 = blocked(&db, 1, t2, |t2| update(t2, 1, 12));
        t1.commit().unwrap();
        let (mut t2, first) = t2.join().unwrap();
        // T3's snapshot is taken at its first statement, after T1 committed (PostgreSQL
        // takes it there too), so both levels see T1's writes.
        let expected = [(1, 11), (2, 19)];
        assert_eq!(select(&mut t3), expected, "{level:?}");
        if level == RC {
            // PostgreSQL: T2 proceeds and writes row 2; T3 sees none of it until T2
            // commits, then (READ COMMITTED) all of it.
            first.unwrap();
            update(&mut t2, 2, 18).unwrap();
            assert_eq!(select(&mut t3), expected, "T3 never sees a mix");
            t2.commit().unwrap();
            assert_eq!(select(&mut t3), [(1, 12), (2, 18)]);
        } else {
            assert!(is_serialization(first), "{level:?}");
            assert_eq!(select(&mut t3), expected, "T3 never sees a mix");
        }
        t3.commit().unwrap();
    }
}

#[test]
fn pmp_predicate_many_preceders() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        assert_eq!(select_where(&mut t1, |v| v == 30), []);
        update(&mut t2, 3, 30).unwrap();
        t2.commit().unwrap();
        let seen = select_where(&mut t1, |v| v % 3 == 0);
        // PostgreSQL: READ COMMITTED sees the new row; REPEATABLE READ does not.
        let expected: &[(i64, i64)] = if level == RC { &[(3, 30)] } else { &[] };
        assert_eq!(seen, expected, "{level:?}");
        t1.commit().unwrap();
    }
}

#[test]
fn pmp_write_predicate_many_preceders_on_writes() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, t2) = (db.begin(level), db.begin(level));
        // update test set value = value + 10
        t1.begin_statement().unwrap();
        for (id, value) in select(&mut t1) {
            update(&mut t1, id, value + 10).unwrap();
        }
        t1.end_statement();
        // PostgreSQL: blocks; then RC re-evaluates and deletes nothing, RR fails.
        let t2 = blocked(&db, 1, t2, |t2| delete_where(t2, |v| v == 20));
        t1.commit().unwrap();
        let (t2, deleted) = t2.join().unwrap();
        match level {
            RC => {
                assert_eq!(deleted.unwrap(), 0);
                t2.commit().unwrap();
            }
            _ => assert!(is_serialization(deleted), "{level:?}"),
        }
        assert_eq!(final_state(&db), [(1, 20), (2, 30)]);
    }
}

#[test]
fn p4_lost_update_is_prevented() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        assert_eq!(select_id(&mut t1, 1), Some(10));
        assert_eq!(select_id(&mut t2, 1), Some(10));
        update(&mut t1, 1, 11).unwrap();
        // PostgreSQL: blocks; RR then fails; RC proceeds (and loses T1's update: the
        // blind write read nothing).
        let t2 = blocked(&db, 1, t2, |t2| update(t2, 1, 11));
        t1.commit().unwrap();
        let (t2, second) = t2.join().unwrap();
        match level {
            RC => {
                second.unwrap();
                t2.commit().unwrap();
            }
            _ => assert!(is_serialization(second), "{level:?}"),
        }
        // A REPEATABLE READ writer that read before T3 committed and writes after it
        // fails, without waiting.
        let mut t3 = db.begin(level);
        assert_eq!(select_id(&mut t3, 1), Some(11));
        let mut t4 = db.begin(RR);
        assert_eq!(select_id(&mut t4, 1), Some(11));
        update(&mut t3, 1, 12).unwrap();
        t3.commit().unwrap();
        assert!(is_serialization(update(&mut t4, 1, 13)));
        assert_eq!(final_state(&db), [(1, 12), (2, 20)]);
    }
}

#[test]
fn g_single_read_skew() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        assert_eq!(select_id(&mut t1, 1), Some(10));
        assert_eq!(select_id(&mut t2, 1), Some(10));
        assert_eq!(select_id(&mut t2, 2), Some(20));
        update(&mut t2, 1, 12).unwrap();
        update(&mut t2, 2, 18).unwrap();
        t2.commit().unwrap();
        // PostgreSQL: READ COMMITTED shows the skew (18); REPEATABLE READ prevents it.
        let expected = if level == RC { 18 } else { 20 };
        assert_eq!(select_id(&mut t1, 2), Some(expected), "{level:?}");
        t1.commit().unwrap();
    }
}

#[test]
fn g_single_dependencies_predicate_read_skew() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        assert_eq!(select_where(&mut t1, |v| v % 5 == 0), [(1, 10), (2, 20)]);
        // update test set value = 12 where value = 10
        for (id, _) in select_where(&mut t2, |v| v == 10) {
            update(&mut t2, id, 12).unwrap();
        }
        t2.commit().unwrap();
        let seen = select_where(&mut t1, |v| v % 3 == 0);
        let expected: &[(i64, i64)] = if level == RC { &[(1, 12)] } else { &[] };
        assert_eq!(seen, expected, "{level:?}");
        t1.commit().unwrap();
    }
}

#[test]
fn g_single_write_1_predicate_read_skew_on_write() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        assert_eq!(select_id(&mut t1, 1), Some(10));
        assert_eq!(select(&mut t2), [(1, 10), (2, 20)]);
        update(&mut t2, 1, 12).unwrap();
        update(&mut t2, 2, 18).unwrap();
        t2.commit().unwrap();
        let deleted = delete_where(&mut t1, |v| v == 20);
        if level == RC {
            // PostgreSQL: DELETE 0, the statement sees 2 => 18.
            assert_eq!(deleted.unwrap(), 0);
            assert_eq!(select(&mut t1), [(1, 12), (2, 18)]);
            t1.commit().unwrap();
        } else {
            // PostgreSQL: could not serialize access due to concurrent update.
            assert!(is_serialization(deleted));
        }
        assert_eq!(final_state(&db), [(1, 12), (2, 18)]);
    }
}

#[test]
fn g_single_write_2_predicate_read_skew_on_write() {
    for level in [RC, RR, SER] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        assert_eq!(select_id(&mut t1, 1), Some(10));
        assert_eq!(select(&mut t2), [(1, 10), (2, 20)]);
        update(&mut t2, 1, 12).unwrap();
        assert_eq!(delete_where(&mut t1, |v| v == 20).unwrap(), 1);
        // PostgreSQL: T2 blocks on row 2 until T1 rolls back, then proceeds.
        let t2 = blocked(&db, 1, t2, |t2| update(t2, 2, 18));
        t1.rollback();
        let (t2, second) = t2.join().unwrap();
        second.unwrap();
        t2.commit().unwrap();
        assert_eq!(final_state(&db), [(1, 12), (2, 18)]);
    }
}

#[test]
fn g2_item_write_skew_is_allowed_as_in_postgresql() {
    for level in [RC, RR] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        assert_eq!(select(&mut t1), [(1, 10), (2, 20)]);
        assert_eq!(select(&mut t2), [(1, 10), (2, 20)]);
        update(&mut t1, 1, 11).unwrap();
        update(&mut t2, 2, 21).unwrap();
        t1.commit().unwrap();
        t2.commit().unwrap();
        assert_eq!(final_state(&db), [(1, 11), (2, 21)], "{level:?}");
    }
}

#[test]
fn g2_anti_dependency_cycles_are_allowed_as_in_postgresql() {
    for level in [RC, RR] {
        let db = setup();
        let (mut t1, mut t2) = (db.begin(level), db.begin(level));
        assert_eq!(select_where(&mut t1, |v| v % 3 == 0), []);
        assert_eq!(select_where(&mut t2, |v| v % 3 == 0), []);
        update(&mut t1, 3, 30).unwrap();
        update(&mut t2, 4, 42).unwrap();
        t1.commit().unwrap();
        t2.commit().unwrap();
        assert_eq!(final_state(&db), [(1, 10), (2, 20), (3, 30), (4, 42)]);
    }
}

#[test]
fn g2_item_write_skew_fails_under_serializable() {
    let db = setup();
    let (mut t1, mut t2) = (db.begin(SER), db.begin(SER));
    assert_eq!(select_id(&mut t1, 1), Some(10));
    assert_eq!(select_id(&mut t1, 2), Some(20));
    assert_eq!(select_id(&mut t2, 1), Some(10));
    assert_eq!(select_id(&mut t2, 2), Some(20));
    update(&mut t1, 1, 11).unwrap();
    update(&mut t2, 2, 21).unwrap();
    t1.commit().unwrap();
    // PostgreSQL: T2's commit fails with 40001.
    let failed = t2.commit();
    assert!(
        matches!(&failed, Err(Error::Serialization(_))),
        "{failed:?}"
    );
    assert!(failed.unwrap_err().is_retryable());
    assert_eq!(final_state(&db), [(1, 11), (2, 20)]);
    assert_eq!(db.ssi_records(), 0);
}

#[test]
fn g2_anti_dependency_cycles_with_predicates_fail_under_serializable() {
    let db = setup();
    let (mut t1, mut t2) = (db.begin(SER), db.begin(SER));
    assert_eq!(select_where(&mut t1, |v| v % 3 == 0), []);
    assert_eq!(select_where(&mut t2, |v| v % 3 == 0), []);
    // Inserts of keys neither read: the phantoms the scans' range locks catch.
    update(&mut t1, 3, 30).unwrap();
    update(&mut t2, 4, 42).unwrap();
    t1.commit().unwrap();
    // PostgreSQL: T2's commit fails with 40001.
    assert!(is_serialization(t2.commit()));
    assert_eq!(final_state(&db), [(1, 10), (2, 20), (3, 30)]);
}

#[test]
fn g2_two_edges_fail_under_serializable() {
    let db = setup();
    let mut t1 = db.begin(SER);
    assert_eq!(select(&mut t1), [(1, 10), (2, 20)]);
    let mut t2 = db.begin(SER);
    assert_eq!(select_id(&mut t2, 2), Some(20));
    update(&mut t2, 2, 25).unwrap();
    t2.commit().unwrap();
    let mut t3 = db.begin(SER);
    assert_eq!(select(&mut t3), [(1, 10), (2, 25)]);
    t3.commit().unwrap();
    // T3 -rw-> T1 -rw-> T2 with T2 first to commit, and T3 (read-only) saw T2: a
    // cycle. PostgreSQL fails T1's update; H finds the edge at T1's commit.
    update(&mut t1, 1, 0).unwrap();
    assert!(is_serialization(t1.commit()));
    assert_eq!(final_state(&db), [(1, 10), (2, 25)]);
    // Under REPEATABLE READ the same history commits.
    let db = setup();
    let mut t1 = db.begin(RR);
    assert_eq!(select(&mut t1), [(1, 10), (2, 20)]);
    let mut t2 = db.begin(RR);
    update(&mut t2, 2, 25).unwrap();
    t2.commit().unwrap();
    update(&mut t1, 1, 0).unwrap();
    t1.commit().unwrap();
}

#[test]
fn a_transaction_sees_its_own_writes_in_scans_both_ways() {
    let db = setup();
    let mut t1 = db.begin(RR);
    update(&mut t1, 3, 30).unwrap();
    t1.delete(TEST, &key(1)).unwrap();
    update(&mut t1, 2, 21).unwrap();
    assert_eq!(select(&mut t1), [(2, 21), (3, 30)]);
    let backwards: Vec<_> = t1
        .scan(TEST, Bound::Unbounded, Bound::Unbounded, true)
        .unwrap()
        .map(|e| i64::from_be_bytes(e.unwrap().0.try_into().unwrap()))
        .collect();
    assert_eq!(backwards, [3, 2]);
    let mut other = db.begin(RR);
    assert_eq!(select(&mut other), [(1, 10), (2, 20)]);
}

#[test]
fn a_statement_savepoint_undoes_only_that_statement() {
    let db = setup();
    let mut t1 = db.begin(RR);
    update(&mut t1, 1, 11).unwrap();
    let savepoint = t1.savepoint();
    update(&mut t1, 1, 111).unwrap();
    update(&mut t1, 3, 30).unwrap();
    t1.rollback_to(savepoint);
    assert_eq!(select(&mut t1), [(1, 11), (2, 20)]);
    t1.commit().unwrap();
    assert_eq!(final_state(&db), [(1, 11), (2, 20)]);
}
