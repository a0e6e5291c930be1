//! Waiting for row locks (`engine::mvcc::locks`), checked against a model and by its
//! guarantees: a waiter wakes when the holder ends (no lost wakeup: every thread
//! finishes), never while a conflicting holder still holds (the model's mutual
//! exclusion), nothing is left in the lock table once every transaction has ended,
//! `lock_timeout`, cancellation and a statement deadline end a wait with their errors,
//! and a cycle of waiters loses exactly one victim (SQLSTATE 40P01 in SQL) while the
//! others finish.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use engine::Error;
use engine::mvcc::{
    CommitTs, IsolationLevel, LockMode, LockWait, MemoryTreeStore, Mvcc, NoCommitLog, RowLock,
    Transaction, TreeId, WaitPolicy,
};
use proptest::prelude::*;

const TREE: TreeId = TreeId(3);

fn mvcc() -> Arc<Mvcc> {
    Mvcc::new(
        Arc::new(MemoryTreeStore::new()),
        Arc::new(NoCommitLog),
        CommitTs(0),
    )
}

/// Limits for tests: deadlocks are looked for after a few milliseconds.
fn quick() -> LockWait {
    LockWait {
        deadlock_timeout: Duration::from_millis(20),
        ..LockWait::default()
    }
}

fn begin(db: &Arc<Mvcc>, wait: LockWait) -> Transaction {
    let mut txn = db.begin(IsolationLevel::ReadCommitted);
    txn.set_lock_wait(wait);
    txn
}

/// Waits until `n` transactions wait for locks (the test's way to know a thread has
/// blocked, without sleeping for a guessed time).
fn until_waiters(db: &Arc<Mvcc>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while db.lock_waiters() < n {
        assert!(Instant::now() < deadline, "never {n} waiters");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn conflicts(a: LockMode, b: LockMode) -> bool {
    a.conflicts_with(b)
}

/// One lock a transaction takes: the key, the mode, and whether it writes the key
/// (a write takes `NoKeyUpdate`) rather than locking it.
type Step = (u8, LockMode, bool);

/// One transaction: its steps in order, and whether it commits.
type Txn = (Vec<Step>, bool);

#[derive(Debug, Clone)]
struct Plan {
    /// Per thread, its transactions in order.
    threads: Vec<Vec<Txn>>,
}

fn mode() -> impl Strategy<Value = LockMode> {
    prop_oneof![
        Just(LockMode::KeyShare),
        Just(LockMode::Share),
        Just(LockMode::NoKeyUpdate),
        Just(LockMode::Update),
    ]
}

fn plan() -> impl Strategy<Value = Plan> {
    let step = (0u8..4, mode(), any::<bool>());
    let txn = (proptest::collection::vec(step, 1..4), any::<bool>());
    proptest::collection::vec(proptest::collection::vec(txn, 1..6), 2..5)
        .prop_map(|threads| Plan { threads })
}

/// Who holds what, as the model says, registered after a lock is granted and removed
/// before the transaction ends, so two conflicting entries at once mean the lock table
/// granted a lock that a live holder's mode forbids.
///
/// One end comes earlier than the model can learn it: a call that fails its wait (a
/// deadlock victim) aborts its transaction, releasing its locks, *inside* the call, so
/// a waiter may take one of them before the failed call returns and the victim leaves
/// the model. A conflict with a holder whose call is in progress is therefore only
/// suspected until that call returns: if it failed (its transaction ended during the
/// call, after the suspicion's grant may have followed the release) the suspicion is
/// dropped; if it succeeded (a successful call releases nothing) it is a violation.
#[derive(Default)]
struct Model {
    holders: HashMap<u8, Vec<(usize, LockMode)>>,
    /// Transactions in the middle of a step.
    in_call: Vec<usize>,
    /// Conflicts with a holder whose step was in progress: (holder, description).
    suspected: Vec<(usize, String)>,
}

type Holders = Mutex<Model>;

fn begin_step(model: &Holders, who: usize) {
    model.lock().unwrap().in_call.push(who);
}

/// Records that `who`'s step has returned: granted `mode` on `key` (`Some`), or failed
/// and ended the transaction (`None`, which also removes it from the model).
fn end_step(model: &Holders, who: usize, granted: Option<(u8, LockMode)>) -> Result<(), String> {
    let mut model = model.lock().unwrap();
    model.in_call.retain(|other| *other != who);
    let suspected = std::mem::take(&mut model.suspected);
    let (mine, others): (Vec<_>, Vec<_>) = suspected
        .into_iter()
        .partition(|(holder, _)| *holder == who);
    model.suspected = others;
    let Some((key, mode)) = granted else {
        // The failed call released `who`'s locks: a grant while it ran may have
        // followed that release.
        for holders in model.holders.values_mut() {
            holders.retain(|(other, _)| *other != who);
        }
        return Ok(());
    };
    if let Some((_, violation)) = mine.into_iter().next() {
        return Err(violation);
    }
    let in_call = model.in_call.clone();
    let holders = model.holders.entry(key).or_default();
    let conflicting: Vec<(usize, LockMode)> = holders
        .iter()
        .filter(|(other, held)| *other != who && conflicts(*held, mode))
        .copied()
        .collect();
    holders.push((who, mode));
    for (other, held) in conflicting {
        let violation =
            format!("key {key}: granted {mode:?} to {who} while {other} holds {held:?}");
        match in_call.contains(&other) {
            true => model.suspected.push((other, violation)),
            false => return Err(violation),
        }
    }
    Ok(())
}

fn unregister(model: &Holders, who: usize) {
    for holders in model.lock().unwrap().holders.values_mut() {
        holders.retain(|(other, _)| *other != who);
    }
}

/// Runs the plan's threads at once; returns each transaction's outcome.
fn run(plan: &Plan) -> Result<Vec<String>, String> {
    let db = mvcc();
    let model = Arc::new(Holders::default());
    let start = Arc::new(Barrier::new(plan.threads.len()));
    let handles: Vec<JoinHandle<Result<Vec<String>, String>>> = plan
        .threads
        .iter()
        .enumerate()
        .map(|(thread, txns)| {
            let (db, model, start, txns) = (db.clone(), model.clone(), start.clone(), txns.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut outcomes = Vec::new();
                for (i, (steps, commit)) in txns.into_iter().enumerate() {
                    let who = thread * 100 + i;
                    let mut txn = begin(&db, quick());
                    let mut failed = None;
                    for (key, mode, write) in steps {
                        begin_step(&model, who);
                        let result = match write {
                            true => txn
                                .put(TREE, &[key], &[who as u8])
                                .map(|()| RowLock::Unchanged),
                            false => txn.lock_row(TREE, &[key], mode, WaitPolicy::Block),
                        };
                        let granted = match write {
                            true => LockMode::NoKeyUpdate,
                            false => mode,
                        };
                        match result {
                            Ok(RowLock::Skipped) => return Err("skipped while blocking".into()),
                            Ok(_) => end_step(&model, who, Some((key, granted)))?,
                            Err(e) => {
                                end_step(&model, who, None)?;
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    unregister(&model, who);
                    outcomes.push(match failed {
                        Some(Error::Deadlock(_)) => "deadlock".to_string(),
                        Some(other) => return Err(format!("unexpected error {other}")),
                        None if commit => txn
                            .commit()
                            .map(|_| "commit".to_string())
                            .map_err(|e| e.to_string())?,
                        None => {
                            txn.rollback();
                            "rollback".to_string()
                        }
                    });
                }
                Ok(outcomes)
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !handles.iter().all(JoinHandle::is_finished) {
        if Instant::now() > deadline {
            return Err("a waiter never woke (lost wakeup or undetected deadlock)".into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.extend(
            handle
                .join()
                .map_err(|_| "a thread panicked".to_string())??,
        );
    }
    if let Some((_, violation)) = model.lock().unwrap().suspected.first() {
        return Err(format!("unresolved: {violation}"));
    }
    if (db.locked_keys(), db.lock_waiters()) != (0, 0) {
        return Err(format!(
            "left behind: {} locked keys, {} waiters",
            db.locked_keys(),
            db.lock_waiters()
        ));
    }
    Ok(outcomes)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if std::env::var_os("CI").is_some() { 24 } else { 96 },
        ..ProptestConfig::default()
    })]

    #[test]
    fn waiters_never_overlap_conflicting_holders_and_always_wake(plan in plan()) {
        let outcomes = run(&plan).map_err(TestCaseError::fail)?;
        let expected: usize = plan.threads.iter().map(Vec::len).sum();
        prop_assert_eq!(outcomes.len(), expected);
    }
}

/// The model itself: a conflict with a holder whose step is in progress is a violation
/// if that step then succeeds, and excused only if it fails (ending its transaction,
/// whose locks the lock table may have released before the step returned); a conflict
/// with a holder between steps is a violation at once.
#[test]
fn the_model_excuses_a_conflict_only_with_a_transaction_that_ended_during_its_step() {
    let grant = |model: &Holders, who, key, mode| {
        begin_step(model, who);
        end_step(model, who, Some((key, mode)))
    };
    for victim_fails in [true, false] {
        let model = Holders::default();
        grant(&model, 1, 0, LockMode::Update).unwrap();
        begin_step(&model, 1);
        assert_eq!(grant(&model, 2, 0, LockMode::KeyShare), Ok(()));
        let ended = end_step(&model, 1, (!victim_fails).then_some((1, LockMode::Share)));
        match victim_fails {
            true => assert_eq!(ended, Ok(())),
            false => assert_eq!(
                ended.unwrap_err(),
                "key 0: granted KeyShare to 2 while 1 holds Update"
            ),
        }
    }
    let model = Holders::default();
    grant(&model, 1, 0, LockMode::Share).unwrap();
    assert_eq!(grant(&model, 2, 0, LockMode::KeyShare), Ok(()));
    assert_eq!(
        grant(&model, 3, 0, LockMode::NoKeyUpdate).unwrap_err(),
        "key 0: granted NoKeyUpdate to 3 while 1 holds Share"
    );
    unregister(&model, 1);
    assert_eq!(grant(&model, 4, 0, LockMode::KeyShare), Ok(()));
}

#[test]
fn a_waiter_proceeds_when_the_holder_rolls_back_and_sees_the_commit_when_it_commits() {
    for commit in [false, true] {
        let db = mvcc();
        let mut holder = begin(&db, quick());
        holder.put(TREE, b"k", b"holder").unwrap();
        let waiter = {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut txn = begin(&db, quick());
                let lock = txn.lock_row(TREE, b"k", LockMode::Update, WaitPolicy::Block);
                (lock, txn.commit())
            })
        };
        until_waiters(&db, 1);
        match commit {
            true => drop(holder.commit().unwrap()),
            false => holder.rollback(),
        }
        let (lock, _) = waiter.join().unwrap();
        let expected = match commit {
            true => RowLock::Changed(Some(b"holder".to_vec())),
            false => RowLock::Unchanged,
        };
        assert_eq!(lock.unwrap(), expected);
        assert_eq!((db.locked_keys(), db.lock_waiters()), (0, 0));
    }
}

#[test]
fn lock_timeout_ends_a_wait_with_lock_not_available() {
    let db = mvcc();
    let mut holder = begin(&db, quick());
    holder.put(TREE, b"k", b"1").unwrap();
    let timeout = Duration::from_millis(50);
    let mut waiter = begin(
        &db,
        LockWait {
            lock_timeout: Some(timeout),
            ..quick()
        },
    );
    let started = Instant::now();
    let error = waiter.put(TREE, b"k", b"2").unwrap_err();
    assert!(started.elapsed() >= timeout);
    assert_eq!(
        error,
        Error::LockNotAvailable("canceling statement due to lock timeout".into())
    );
    // The failed wait aborted the waiter, which holds nothing.
    assert!(matches!(
        waiter.put(TREE, b"j", b"2"),
        Err(Error::TransactionClosed(_))
    ));
    holder.commit().unwrap();
    assert_eq!((db.locked_keys(), db.lock_waiters()), (0, 0));
}

#[test]
fn nowait_and_skip_locked_do_not_wait() {
    let db = mvcc();
    let mut holder = begin(&db, quick());
    holder
        .lock_row(TREE, b"k", LockMode::Share, WaitPolicy::Block)
        .unwrap();
    let mut other = begin(&db, quick());
    // A share lock admits another share lock, and a key share lock.
    assert_eq!(
        other
            .lock_row(TREE, b"k", LockMode::Share, WaitPolicy::NoWait)
            .unwrap(),
        RowLock::Unchanged
    );
    let mut third = begin(&db, quick());
    assert_eq!(
        third
            .lock_row(TREE, b"k", LockMode::Update, WaitPolicy::SkipLocked)
            .unwrap(),
        RowLock::Skipped
    );
    assert!(matches!(
        third.lock_row(TREE, b"k", LockMode::NoKeyUpdate, WaitPolicy::NoWait),
        Err(Error::LockNotAvailable(_))
    ));
    holder.rollback();
    other.rollback();
    assert_eq!((db.locked_keys(), db.lock_waiters()), (0, 0));
}

#[test]
fn a_cancelled_or_timed_out_statement_stops_waiting() {
    let db = mvcc();
    let mut holder = begin(&db, quick());
    holder.put(TREE, b"k", b"1").unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    let waiter = {
        let (db, flag) = (db.clone(), flag.clone());
        std::thread::spawn(move || {
            let mut txn = begin(
                &db,
                LockWait {
                    cancel: Some(flag),
                    ..quick()
                },
            );
            txn.put(TREE, b"k", b"2")
        })
    };
    until_waiters(&db, 1);
    flag.store(true, Ordering::SeqCst);
    assert_eq!(
        waiter.join().unwrap(),
        Err(Error::Interrupted(engine::Interruption::Cancel))
    );
    let mut late = begin(
        &db,
        LockWait {
            deadline: Some(Instant::now() + Duration::from_millis(30)),
            ..quick()
        },
    );
    assert_eq!(
        late.put(TREE, b"k", b"3"),
        Err(Error::Interrupted(engine::Interruption::StatementTimeout))
    );
    holder.commit().unwrap();
    assert_eq!((db.locked_keys(), db.lock_waiters()), (0, 0));
}

/// `n` transactions each lock key i, then key i+1 (mod n): a cycle. Exactly one fails
/// with a deadlock; the others finish once it has rolled back.
fn cycle_of(n: u8) {
    let db = mvcc();
    let mut txns: Vec<Transaction> = (0..n).map(|_| begin(&db, quick())).collect();
    for (i, txn) in txns.iter_mut().enumerate() {
        txn.put(TREE, &[i as u8], b"first").unwrap();
    }
    let handles: Vec<_> = txns
        .into_iter()
        .enumerate()
        .map(|(i, mut txn)| {
            std::thread::spawn(move || {
                let next = (i as u8 + 1) % n;
                match txn.put(TREE, &[next], b"second") {
                    Ok(()) => txn.commit().map(drop),
                    Err(e) => Err(e),
                }
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let victims = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Deadlock(_))))
        .count();
    let finished = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!((victims, finished), (1, usize::from(n) - 1), "{results:?}");
    assert!(results.iter().flatten().count() == usize::from(n) - 1);
    assert!(
        results
            .iter()
            .any(|r| matches!(r, Err(e) if e.is_retryable()))
    );
    assert_eq!((db.locked_keys(), db.lock_waiters()), (0, 0));
}

#[test]
fn a_deadlock_of_two_loses_one_victim() {
    cycle_of(2);
}

#[test]
fn a_deadlock_of_three_loses_one_victim() {
    cycle_of(3);
}
