//! SERIALIZABLE's particular rules, one history each: the victim rules (the pivot fails
//! at its commit; a reader that completes a structure whose pivot has committed fails at
//! its read), the read-only refinement and its anomaly, safe snapshots and `READ ONLY
//! DEFERRABLE`, and the release of tracking records. Hermitage's cases are in
//! `mvcc_hermitage.rs`; random histories in `mvcc_ssi_model.rs`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use engine::Error;
use engine::mvcc::{
    AccessMode, CommitTs, IsolationLevel, MemoryTreeStore, Mvcc, NoCommitLog, SsiLimits,
    Transaction, TreeId,
};

const T: TreeId = TreeId(1);
const SER: IsolationLevel = IsolationLevel::Serializable;
const X: &[u8] = b"x";
const Y: &[u8] = b"y";
const Z: &[u8] = b"z";

fn setup() -> Arc<Mvcc> {
    let mvcc = Mvcc::new(
        Arc::new(MemoryTreeStore::new()),
        Arc::new(NoCommitLog),
        CommitTs(0),
    );
    let mut txn = mvcc.begin(IsolationLevel::RepeatableRead);
    for k in [X, Y, Z] {
        txn.put(T, k, &0i64.to_le_bytes()).unwrap();
    }
    txn.commit().unwrap();
    mvcc
}

fn read(txn: &mut Transaction, key: &[u8]) -> Result<i64, Error> {
    Ok(i64::from_le_bytes(
        txn.get(T, key)?.unwrap().try_into().unwrap(),
    ))
}

fn write(txn: &mut Transaction, key: &[u8], value: i64) {
    txn.put(T, key, &value.to_le_bytes()).unwrap();
}

fn read_only(deferrable: bool) -> AccessMode {
    AccessMode {
        read_only: true,
        deferrable,
    }
}

#[test]
fn a_read_that_completes_a_structure_whose_pivot_committed_fails() {
    let db = setup();
    let mut t1 = db.begin(SER);
    read(&mut t1, Z).unwrap();
    let (mut t2, mut t3) = (db.begin(SER), db.begin(SER));
    read(&mut t2, X).unwrap();
    read(&mut t3, Z).unwrap();
    write(&mut t3, X, 3);
    t3.commit().unwrap(); // t2 -rw-> t3, t3 committed first
    write(&mut t2, Y, 2);
    t2.commit().unwrap(); // nobody has read Y yet: the pivot commits
    // t1 reads Y, missing t2's write: t1 -rw-> t2 -rw-> t3. t2 cannot be aborted any
    // more, so t1 fails (left alone it could write Z, which t3 read: a cycle).
    let failed = read(&mut t1, Y);
    assert!(matches!(failed, Err(Error::Serialization(_))), "{failed:?}");
    assert!(matches!(read(&mut t1, Z), Err(Error::TransactionClosed(_))));
    drop(t1);
    assert_eq!(db.ssi_records(), 0);
}

/// Fekete, O'Neil and O'Neil's read-only anomaly: the read-only T1 sees the deposit T3
/// but not the withdrawal T2 that ran before it in every serial order.
#[test]
fn the_read_only_anomaly_fails_the_pivot_at_its_commit() {
    for declared in [false, true] {
        let db = setup();
        let mut t2 = db.begin(SER); // withdraws from X, charging a fee if X + Y < 0
        read(&mut t2, X).unwrap();
        read(&mut t2, Y).unwrap();
        let mut t3 = db.begin(SER); // deposits 20 into Y
        read(&mut t3, Y).unwrap();
        write(&mut t3, Y, 20);
        t3.commit().unwrap();
        let mut t1 = match declared {
            true => db.begin_with(SER, read_only(false)),
            false => db.begin(SER),
        };
        assert_eq!(
            (read(&mut t1, X).unwrap(), read(&mut t1, Y).unwrap()),
            (0, 20)
        );
        t1.commit().unwrap();
        write(&mut t2, X, -11);
        assert!(
            matches!(t2.commit(), Err(Error::Serialization(_))),
            "declared {declared}"
        );
        assert_eq!(db.ssi_records(), 0);
    }
}

#[test]
fn a_read_only_transaction_whose_snapshot_precedes_t3_is_safe() {
    // As above, but T1 takes its snapshot before T3 commits: it saw neither, which the
    // serial order T1, T2, T3 explains, so T2 commits.
    let db = setup();
    let mut t2 = db.begin(SER);
    read(&mut t2, X).unwrap();
    read(&mut t2, Y).unwrap();
    let mut t1 = db.begin_with(SER, read_only(false));
    assert_eq!(read(&mut t1, X).unwrap(), 0);
    let mut t3 = db.begin(SER);
    read(&mut t3, Y).unwrap();
    write(&mut t3, Y, 20);
    t3.commit().unwrap();
    assert_eq!(read(&mut t1, Y).unwrap(), 0);
    t1.commit().unwrap();
    write(&mut t2, X, -11);
    t2.commit().unwrap();
    // Undeclared, the same T1 could still have written: T2 fails.
    let db = setup();
    let mut t2 = db.begin(SER);
    read(&mut t2, X).unwrap();
    read(&mut t2, Y).unwrap();
    let mut t1 = db.begin(SER);
    assert_eq!(read(&mut t1, X).unwrap(), 0);
    let mut t3 = db.begin(SER);
    read(&mut t3, Y).unwrap();
    write(&mut t3, Y, 20);
    t3.commit().unwrap();
    assert_eq!(read(&mut t1, Y).unwrap(), 0);
    write(&mut t2, X, -11);
    assert!(matches!(t2.commit(), Err(Error::Serialization(_))));
}

#[test]
fn a_read_only_transaction_on_a_safe_snapshot_is_not_tracked() {
    let db = setup();
    let mut ro = db.begin_with(SER, read_only(false));
    read(&mut ro, X).unwrap();
    assert_eq!(
        db.ssi_records(),
        0,
        "no read-write transaction was active: safe"
    );
    // A writer of what it read never conflicts with it.
    let mut w = db.begin(SER);
    read(&mut w, Y).unwrap();
    write(&mut w, X, 1);
    w.commit().unwrap();
    assert_eq!(read(&mut ro, X).unwrap(), 0);
    ro.commit().unwrap();
    // Writes are refused.
    let mut ro = db.begin_with(SER, read_only(false));
    assert!(ro.put(T, X, b"").is_err());
}

#[test]
fn read_only_deferrable_waits_for_a_safe_snapshot() {
    let db = setup();
    let mut rw = db.begin(SER);
    read(&mut rw, X).unwrap();
    let reader = {
        let db = Arc::clone(&db);
        std::thread::spawn(move || {
            let mut ro = db.begin_with(SER, read_only(true));
            let seen = read(&mut ro, X).unwrap();
            ro.commit().unwrap();
            seen
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        !reader.is_finished(),
        "it waits while a read-write transaction is active"
    );
    write(&mut rw, X, 5);
    rw.commit().unwrap();
    // The writer had no out-edge, so the snapshot taken before its commit was safe.
    assert_eq!(reader.join().unwrap(), 0);
    assert_eq!(db.ssi_records(), 0);
}

#[test]
fn read_only_deferrable_retries_an_unsafe_snapshot() {
    let db = setup();
    // rw reads Y, then a committed writer of Y gives it an out-edge to a commit that the
    // deferrable reader's snapshot sees: that snapshot is unsafe.
    let mut rw = db.begin(SER);
    read(&mut rw, Y).unwrap();
    let mut w = db.begin(SER);
    write(&mut w, Y, 7);
    w.commit().unwrap();
    let reader = {
        let db = Arc::clone(&db);
        std::thread::spawn(move || {
            let mut ro = db.begin_with(SER, read_only(true));
            let seen = (read(&mut ro, X).unwrap(), read(&mut ro, Y).unwrap());
            ro.commit().unwrap();
            seen
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    assert!(!reader.is_finished());
    write(&mut rw, X, 5);
    rw.commit().unwrap();
    // The first snapshot (X = 0, Y = 7) would be the read-only anomaly; the reader took
    // a new one after rw committed.
    assert_eq!(reader.join().unwrap(), (5, 7));
}

#[test]
fn other_levels_are_not_tracked_and_records_are_released() {
    let db = setup();
    let mut rr = db.begin(IsolationLevel::RepeatableRead);
    read(&mut rr, X).unwrap();
    let mut rc = db.begin(IsolationLevel::ReadCommitted);
    read(&mut rc, X).unwrap();
    assert_eq!(db.ssi_records(), 0);
    let mut s1 = db.begin(SER);
    read(&mut s1, X).unwrap();
    let mut s2 = db.begin(SER);
    write(&mut s2, Y, 1);
    s2.commit().unwrap();
    // s2's record stays while s1, concurrent with it, is active.
    assert_eq!(db.ssi_records(), 2);
    s1.rollback();
    assert_eq!(db.ssi_records(), 0);
    drop((rr, rc));
}

/// t1 reads Z and writes three other keys; t2 reads X (which t1 does not write) and
/// writes Z, and commits first. No cycle: t1 commits. With a per-tree limit of two keys,
/// t1's write set is recorded as its whole tree, so it meets t2's read of X: t2 -rw-> t1
/// -rw-> t2, and t1 fails (a false positive, the price of the coarser lock).
#[test]
fn a_write_set_past_the_per_tree_limit_counts_as_the_whole_tree() {
    for per_tree in [SsiLimits::default().per_tree, 2] {
        let db = setup();
        db.set_ssi_limits(SsiLimits {
            per_tree,
            ..SsiLimits::default()
        });
        let (mut t1, mut t2) = (db.begin(SER), db.begin(SER));
        read(&mut t1, Z).unwrap();
        for k in [b"a", b"b", b"c"] {
            write(&mut t1, k, 1);
        }
        read(&mut t2, X).unwrap();
        write(&mut t2, Z, 1);
        t2.commit().unwrap();
        let committed = t1.commit();
        match per_tree {
            2 => assert!(matches!(committed, Err(Error::Serialization(_)))),
            _ => assert!(committed.is_ok(), "{committed:?}"),
        }
        assert_eq!(db.ssi_records(), 0);
    }
}
