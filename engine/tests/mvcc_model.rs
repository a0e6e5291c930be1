//! MVCC against a model: random interleavings of up to three concurrent transactions
//! (gets, puts, deletes, scans both ways, commits, rollbacks) must behave exactly as the
//! rules in `engine::mvcc` say, computed here the plainest way: every snapshot is a full
//! copy of the committed map. Also: a bank that never loses money under concurrent
//! transfers, and garbage collection that keeps a hot row's versions bounded.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use engine::Error;
use engine::mvcc::{
    CommitTs, IsolationLevel, LockWait, MemoryTreeStore, Mvcc, NoCommitLog, Transaction, TreeId,
};
use proptest::prelude::*;

const TREE: TreeId = TreeId(7);
const SLOTS: usize = 3;
type Map = BTreeMap<u8, u8>;

#[derive(Debug, Clone)]
enum Op {
    Begin(usize, bool),
    Get(usize, u8),
    Put(usize, u8, u8),
    Delete(usize, u8),
    Scan(usize, Option<u8>, Option<u8>, bool),
    Commit(usize),
    Rollback(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    let key = 0u8..6;
    prop_oneof![
        2 => (slot.clone(), any::<bool>()).prop_map(|(s, rc)| Op::Begin(s, rc)),
        3 => (slot.clone(), key.clone()).prop_map(|(s, k)| Op::Get(s, k)),
        4 => (slot.clone(), key.clone(), any::<u8>()).prop_map(|(s, k, v)| Op::Put(s, k, v)),
        2 => (slot.clone(), key.clone()).prop_map(|(s, k)| Op::Delete(s, k)),
        2 => (slot.clone(), proptest::option::of(key.clone()), proptest::option::of(key), any::<bool>())
            .prop_map(|(s, lo, hi, rev)| Op::Scan(s, lo, hi, rev)),
        2 => slot.clone().prop_map(Op::Commit),
        1 => slot.prop_map(Op::Rollback),
    ]
}

/// The model of one transaction.
struct ModelTxn {
    read_committed: bool,
    /// REPEATABLE READ: index into the history, fixed at the first operation.
    snapshot: Option<usize>,
    writes: BTreeMap<u8, Option<u8>>,
    aborted: bool,
}

struct Model {
    /// `history[i]` is the committed state after the i-th commit; `writer[k]` the index of
    /// the commit that last wrote k.
    history: Vec<Map>,
    last_writer: BTreeMap<u8, usize>,
    txns: [Option<ModelTxn>; SLOTS],
}

impl Model {
    fn latest(&self) -> usize {
        self.history.len() - 1
    }

    fn snapshot(&mut self, slot: usize) -> usize {
        let latest = self.latest();
        let txn = self.txns[slot].as_mut().unwrap();
        if txn.read_committed {
            latest
        } else {
            *txn.snapshot.get_or_insert(latest)
        }
    }

    fn view(&mut self, slot: usize) -> Map {
        let snapshot = self.snapshot(slot);
        let mut view = self.history[snapshot].clone();
        for (k, v) in &self.txns[slot].as_ref().unwrap().writes {
            match v {
                Some(v) => view.insert(*k, *v),
                None => view.remove(k),
            };
        }
        view
    }

    /// `Ok` if the write is allowed; `Err(true)` if it would wait for another active
    /// transaction (which fails at once here), `Err(false)` if it is a serialization
    /// failure.
    fn write(&mut self, slot: usize, key: u8, value: Option<u8>) -> Result<(), bool> {
        if !self.txns[slot].as_ref().unwrap().writes.contains_key(&key) {
            let snapshot = self.snapshot(slot);
            let locked_by_other = self.txns.iter().enumerate().any(|(other, txn)| {
                other != slot
                    && txn
                        .as_ref()
                        .is_some_and(|t| !t.aborted && t.writes.contains_key(&key))
            });
            let newer = self.last_writer.get(&key).is_some_and(|w| *w > snapshot);
            if locked_by_other || newer {
                self.txns[slot] = None;
                return Err(locked_by_other);
            }
        }
        self.txns[slot].as_mut().unwrap().writes.insert(key, value);
        Ok(())
    }

    fn commit(&mut self, slot: usize) {
        let txn = self.txns[slot].take().unwrap();
        if txn.writes.is_empty() {
            return;
        }
        let mut next = self.history[self.latest()].clone();
        let index = self.history.len();
        for (k, v) in txn.writes {
            self.last_writer.insert(k, index);
            match v {
                Some(v) => next.insert(k, v),
                None => next.remove(&k),
            };
        }
        self.history.push(next);
    }
}

fn decode(entry: Result<(Vec<u8>, Vec<u8>), Error>) -> (u8, u8) {
    let (k, v) = entry.unwrap();
    (k[0], v[0])
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mvcc = Mvcc::new(
        Arc::new(MemoryTreeStore::new()),
        Arc::new(NoCommitLog),
        CommitTs(0),
    );
    let mut real: [Option<Transaction>; SLOTS] = [None, None, None];
    let mut model = Model {
        history: vec![Map::new()],
        last_writer: BTreeMap::new(),
        txns: [None, None, None],
    };
    for op in ops {
        let slot = match &op {
            Op::Begin(s, _) | Op::Get(s, _) | Op::Put(s, _, _) | Op::Delete(s, _) => *s,
            Op::Scan(s, ..) | Op::Commit(s) | Op::Rollback(s) => *s,
        };
        if let Op::Begin(_, rc) = op {
            if real[slot].is_none() {
                let level = if rc {
                    IsolationLevel::ReadCommitted
                } else {
                    IsolationLevel::RepeatableRead
                };
                let mut txn = mvcc.begin(level);
                // One thread interleaves the transactions: a write that would wait fails.
                txn.set_lock_wait(LockWait::fail_at_once());
                real[slot] = Some(txn);
                model.txns[slot] = Some(ModelTxn {
                    read_committed: rc,
                    snapshot: None,
                    writes: BTreeMap::new(),
                    aborted: false,
                });
            }
            continue;
        }
        let (Some(txn), true) = (real[slot].as_mut(), model.txns[slot].is_some()) else {
            continue;
        };
        match op {
            Op::Get(_, k) => {
                let got = txn.get(TREE, &[k]).unwrap().map(|v| v[0]);
                prop_assert_eq!(got, model.view(slot).get(&k).copied(), "{:?}", op);
            }
            Op::Put(_, k, _) | Op::Delete(_, k) => {
                let value = match op {
                    Op::Put(_, _, v) => Some(v),
                    _ => None,
                };
                let result = match value {
                    Some(v) => txn.put(TREE, &[k], &[v]),
                    None => txn.delete(TREE, &[k]),
                };
                let expected = model.write(slot, k, value);
                prop_assert_eq!(
                    result.is_ok(),
                    expected.is_ok(),
                    "{:?} gave {:?}",
                    op,
                    result
                );
                if let (Err(e), Err(waits)) = (result, expected) {
                    match waits {
                        true => prop_assert!(matches!(e, Error::LockNotAvailable(_)), "{:?}", e),
                        false => prop_assert!(matches!(e, Error::Serialization(_)), "{:?}", e),
                    }
                    real[slot] = None;
                }
            }
            Op::Scan(_, lo, hi, reverse) => {
                let lo_key = lo.map(|k| [k]);
                let hi_key = hi.map(|k| [k]);
                let lower = lo_key
                    .as_ref()
                    .map_or(Bound::Unbounded, |k| Bound::Included(&k[..]));
                let upper = hi_key
                    .as_ref()
                    .map_or(Bound::Unbounded, |k| Bound::Excluded(&k[..]));
                let got: Vec<_> = txn
                    .scan(TREE, lower, upper, reverse)
                    .unwrap()
                    .map(decode)
                    .collect();
                let view = model.view(slot);
                let mut expected: Vec<_> = view
                    .into_iter()
                    .filter(|(k, _)| lo.is_none_or(|lo| *k >= lo) && hi.is_none_or(|hi| *k < hi))
                    .collect();
                if reverse {
                    expected.reverse();
                }
                prop_assert_eq!(got, expected, "{:?}", op);
            }
            Op::Commit(_) => {
                real[slot].take().unwrap().commit().unwrap();
                model.commit(slot);
            }
            Op::Rollback(_) => {
                real[slot].take().unwrap().rollback();
                model.txns[slot] = None;
            }
            Op::Begin(..) => {}
        }
    }
    for (slot, txn) in real.iter_mut().enumerate() {
        if let Some(txn) = txn.take() {
            txn.commit().unwrap();
            model.commit(slot);
        }
    }
    let mut check = mvcc.begin(IsolationLevel::RepeatableRead);
    let state: Map = check
        .scan(TREE, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(decode)
        .collect();
    prop_assert_eq!(&state, &model.history[model.latest()]);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn interleaved_transactions_match_the_model(ops in prop::collection::vec(op(), 1..80)) {
        run(ops)?;
    }
}

#[test]
fn concurrent_transfers_never_create_or_destroy_money() {
    const ACCOUNTS: u32 = 100;
    const INITIAL: i64 = 1_000;
    let transfers_per_thread: usize = std::env::var("HDB_BANK_TRANSFERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mvcc = Mvcc::new(
        Arc::new(MemoryTreeStore::new()),
        Arc::new(NoCommitLog),
        CommitTs(0),
    );
    let mut setup = mvcc.begin(IsolationLevel::RepeatableRead);
    for account in 0..ACCOUNTS {
        setup
            .put(TREE, &account.to_be_bytes(), &INITIAL.to_le_bytes())
            .unwrap();
    }
    setup.commit().unwrap();
    let total = |txn: &mut Transaction| -> i64 {
        txn.scan(TREE, Bound::Unbounded, Bound::Unbounded, false)
            .unwrap()
            .map(|e| i64::from_le_bytes(e.unwrap().1.try_into().unwrap()))
            .sum()
    };
    let done = Arc::new(AtomicBool::new(false));
    let auditors: Vec<_> = (0..2)
        .map(|_| {
            let (mvcc, done) = (Arc::clone(&mvcc), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut audits = 0;
                while !done.load(Ordering::Relaxed) || audits == 0 {
                    let mut txn = mvcc.begin(IsolationLevel::RepeatableRead);
                    assert_eq!(total(&mut txn), i64::from(ACCOUNTS) * INITIAL);
                    txn.commit().unwrap();
                    audits += 1;
                }
                audits
            })
        })
        .collect();
    let tellers: Vec<_> = (0..8u64)
        .map(|seed| {
            let mvcc = Arc::clone(&mvcc);
            std::thread::spawn(move || {
                let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                let mut next = move || {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (state >> 33) as u32
                };
                let (mut committed, mut retried) = (0, 0);
                while committed < transfers_per_thread {
                    let (from, to) = (next() % ACCOUNTS, next() % ACCOUNTS);
                    let amount = i64::from(next() % 50);
                    let mut txn = mvcc.begin(IsolationLevel::RepeatableRead);
                    txn.set_lock_wait(LockWait {
                        deadlock_timeout: std::time::Duration::from_millis(10),
                        ..LockWait::default()
                    });
                    let result = (|| {
                        let balance = |txn: &mut Transaction, a: u32| -> Result<i64, Error> {
                            Ok(i64::from_le_bytes(
                                txn.get(TREE, &a.to_be_bytes())?
                                    .unwrap()
                                    .try_into()
                                    .unwrap(),
                            ))
                        };
                        let from_balance = balance(&mut txn, from)?;
                        txn.put(
                            TREE,
                            &from.to_be_bytes(),
                            &(from_balance - amount).to_le_bytes(),
                        )?;
                        let to_balance = balance(&mut txn, to)?;
                        txn.put(
                            TREE,
                            &to.to_be_bytes(),
                            &(to_balance + amount).to_le_bytes(),
                        )?;
                        Ok::<_, Error>(())
                    })();
                    match result {
                        Ok(()) => {
                            txn.commit().unwrap();
                            committed += 1;
                        }
                        // Two transfers that lock the same two accounts in opposite
                        // orders deadlock; one of them is the victim.
                        Err(Error::Serialization(_) | Error::Deadlock(_)) => retried += 1,
                        Err(other) => panic!("unexpected error {other}"),
                    }
                }
                retried
            })
        })
        .collect();
    let retries: usize = tellers.into_iter().map(|t| t.join().unwrap()).sum();
    done.store(true, Ordering::Relaxed);
    let audits: usize = auditors.into_iter().map(|a| a.join().unwrap()).sum();
    let mut txn = mvcc.begin(IsolationLevel::RepeatableRead);
    assert_eq!(total(&mut txn), i64::from(ACCOUNTS) * INITIAL);
    assert!(audits > 0);
    eprintln!(
        "{} transfers, {retries} serialization retries, {audits} audits",
        8 * transfers_per_thread
    );
}

#[test]
fn a_hot_row_keeps_only_the_versions_snapshots_need() {
    let updates: u64 = std::env::var("HDB_GC_UPDATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let store = Arc::new(MemoryTreeStore::new());
    let mvcc = Mvcc::new(store.clone(), Arc::new(NoCommitLog), CommitTs(0));
    let update = |n: u64| {
        let mut txn = mvcc.begin(IsolationLevel::ReadCommitted);
        txn.put(TREE, b"hot", &n.to_le_bytes()).unwrap();
        txn.commit().unwrap();
    };
    for n in 0..updates {
        update(n);
    }
    assert_eq!(
        store.entry_count(TREE),
        1,
        "no snapshot is open: one version suffices"
    );

    // A long-running snapshot pins the version it saw; newer ones pile up behind it...
    let mut reader = mvcc.begin(IsolationLevel::RepeatableRead);
    assert_eq!(
        reader.get(TREE, b"hot").unwrap(),
        Some((updates - 1).to_le_bytes().to_vec())
    );
    for n in 0..100 {
        update(updates + n);
    }
    assert_eq!(
        reader.get(TREE, b"hot").unwrap(),
        Some((updates - 1).to_le_bytes().to_vec())
    );
    assert!(store.entry_count(TREE) > 100);
    // ...and go as soon as it ends and the row is written again.
    reader.commit().unwrap();
    update(0);
    assert_eq!(store.entry_count(TREE), 1);

    // A delete leaves nothing behind once no snapshot needs the old row.
    let mut txn = mvcc.begin(IsolationLevel::ReadCommitted);
    txn.delete(TREE, b"hot").unwrap();
    txn.commit().unwrap();
    assert_eq!(store.entry_count(TREE), 0);
}
