//! Loads against a model: random interleavings of up to three transactions in which
//! some write more than `AUTO_LOAD_CLAIM_WRITES` keys (so they may claim the tree by
//! themselves, when it is empty), some take the tree for a load explicitly
//! (`Transaction::lock_tree_for_load`), and the rest get, put, delete and scan a few
//! keys. Every read must see exactly what the plain model of `mvcc_model.rs` says, and
//! every write must succeed or fail with a serialization error exactly when the model
//! says: the model adds the tree lock's rules (a load excludes every other writer, and
//! is refused beside one) to the key rules.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use engine::Error;
use engine::mvcc::transaction::AUTO_LOAD_CLAIM_WRITES;
use engine::mvcc::{
    CommitTs, IsolationLevel, LockWait, MemoryTreeStore, Mvcc, NoCommitLog, Transaction, TreeId,
    TreeStore,
};
use proptest::prelude::*;

const TREE: TreeId = TreeId(7);
const SLOTS: usize = 3;
/// Keys of a bulk write: this many past its base, so bulk writes of neighbouring bases
/// overlap and can conflict.
const BULK: u16 = AUTO_LOAD_CLAIM_WRITES as u16 + 40;
type Map = BTreeMap<u16, u8>;

#[derive(Debug, Clone)]
enum Op {
    Begin(usize, bool),
    Get(usize, u16),
    Put(usize, u16, u8),
    Delete(usize, u16),
    /// Puts keys `base..base + BULK` (base a multiple of 500 past 1000), value `v`.
    Bulk(usize, u16, u8),
    /// `lock_tree_for_load`.
    Load(usize),
    Scan(usize, bool),
    Commit(usize),
    Rollback(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    let key = 0u16..6;
    prop_oneof![
        3 => (slot.clone(), any::<bool>()).prop_map(|(s, rc)| Op::Begin(s, rc)),
        2 => (slot.clone(), prop_oneof![key.clone(), 1000u16..4000]).prop_map(|(s, k)| Op::Get(s, k)),
        3 => (slot.clone(), key.clone(), any::<u8>()).prop_map(|(s, k, v)| Op::Put(s, k, v)),
        1 => (slot.clone(), key).prop_map(|(s, k)| Op::Delete(s, k)),
        2 => (slot.clone(), 0u16..4, any::<u8>()).prop_map(|(s, b, v)| Op::Bulk(s, 1000 + 500 * b, v)),
        1 => slot.clone().prop_map(Op::Load),
        1 => (slot.clone(), any::<bool>()).prop_map(|(s, rev)| Op::Scan(s, rev)),
        3 => slot.clone().prop_map(Op::Commit),
        1 => slot.prop_map(Op::Rollback),
    ]
}

/// The model of one transaction.
struct ModelTxn {
    read_committed: bool,
    snapshot: Option<usize>,
    writes: BTreeMap<u16, Option<u8>>,
    /// Holds the tree for a load (explicitly or by itself).
    loading: bool,
    /// Has tried to claim the tree by itself.
    claim_tried: bool,
}

struct Model {
    history: Vec<Map>,
    last_writer: BTreeMap<u16, usize>,
    txns: [Option<ModelTxn>; SLOTS],
}

impl Model {
    fn latest(&self) -> usize {
        self.history.len() - 1
    }

    fn snapshot(&mut self, slot: usize) -> usize {
        let latest = self.latest();
        let txn = self.txns[slot].as_mut().unwrap();
        match txn.read_committed {
            true => latest,
            false => *txn.snapshot.get_or_insert(latest),
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

    fn others(&self, slot: usize) -> impl Iterator<Item = &ModelTxn> {
        self.txns
            .iter()
            .enumerate()
            .filter(move |(other, _)| *other != slot)
            .filter_map(|(_, t)| t.as_ref())
    }

    /// Whether `slot`'s first write of the tree may join it: no other transaction
    /// holds it for a load.
    fn may_join(&self, slot: usize) -> bool {
        !self.others(slot).any(|t| t.loading)
    }

    /// The tree lock in exclusive mode for `slot`: nobody else writes the tree, and no
    /// commit that wrote it is newer than the snapshot.
    fn may_take_exclusively(&mut self, slot: usize) -> bool {
        let snapshot = self.snapshot(slot);
        let newest_commit = self.last_writer.values().max().copied().unwrap_or(0);
        !self.others(slot).any(|t| t.loading || !t.writes.is_empty()) && newest_commit <= snapshot
    }

    /// `Ok` if the write is allowed; `Err` if it is a serialization failure (the
    /// transaction is gone). `tree_empty`: whether the store holds no entry of the tree.
    fn write(
        &mut self,
        slot: usize,
        key: u16,
        value: Option<u8>,
        tree_empty: bool,
    ) -> Result<(), ()> {
        let txn = self.txns[slot].as_ref().unwrap();
        if txn.writes.is_empty() && !self.may_join(slot) {
            self.txns[slot] = None;
            return Err(());
        }
        let txn = self.txns[slot].as_ref().unwrap();
        if !txn.writes.contains_key(&key) {
            // The automatic claim, tried once, before the write of a new key that
            // finds the transaction with `AUTO_LOAD_CLAIM_WRITES` keys written.
            if !txn.loading && !txn.claim_tried && txn.writes.len() >= AUTO_LOAD_CLAIM_WRITES {
                let claim = tree_empty && self.may_take_exclusively(slot);
                let txn = self.txns[slot].as_mut().unwrap();
                txn.claim_tried = true;
                txn.loading = claim;
            }
            let txn = self.txns[slot].as_ref().unwrap();
            if !txn.loading {
                let snapshot = self.snapshot(slot);
                let locked_by_other = self.others(slot).any(|t| t.writes.contains_key(&key));
                let newer = self.last_writer.get(&key).is_some_and(|w| *w > snapshot);
                if locked_by_other || newer {
                    self.txns[slot] = None;
                    return Err(());
                }
            }
        }
        self.txns[slot].as_mut().unwrap().writes.insert(key, value);
        Ok(())
    }

    /// `lock_tree_for_load`: `Err` if refused (the transaction is gone).
    fn load(&mut self, slot: usize) -> Result<(), ()> {
        let txn = self.txns[slot].as_ref().unwrap();
        if txn.loading {
            return Ok(());
        }
        let joins = txn.writes.is_empty();
        if (joins && !self.may_join(slot)) || !self.may_take_exclusively(slot) {
            self.txns[slot] = None;
            return Err(());
        }
        let txn = self.txns[slot].as_mut().unwrap();
        txn.loading = true;
        txn.claim_tried = true;
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

fn key(k: u16) -> [u8; 2] {
    k.to_be_bytes()
}

fn decode(entry: Result<(Vec<u8>, Vec<u8>), Error>) -> (u16, u8) {
    let (k, v) = entry.unwrap();
    (u16::from_be_bytes([k[0], k[1]]), v[0])
}

fn tree_is_empty(store: &MemoryTreeStore) -> bool {
    store
        .seek_first(TREE, Bound::Unbounded, Bound::Unbounded)
        .unwrap()
        .is_none()
}

/// Does `op` on the real transaction in `real[slot]` and on the model; `Err` is a
/// mismatch.
fn write_both(
    real: &mut [Option<Transaction>; SLOTS],
    model: &mut Model,
    store: &MemoryTreeStore,
    slot: usize,
    k: u16,
    value: Option<u8>,
) -> Result<bool, TestCaseError> {
    let txn = real[slot].as_mut().unwrap();
    let result = match value {
        Some(v) => txn.put(TREE, &key(k), &[v]),
        None => txn.delete(TREE, &key(k)),
    };
    let expected = model.write(slot, k, value, tree_is_empty(store));
    prop_assert_eq!(
        result.is_ok(),
        expected.is_ok(),
        "write of {} by slot {}: {:?}",
        k,
        slot,
        result
    );
    if let Err(e) = result {
        prop_assert!(
            matches!(e, Error::Serialization(_) | Error::LockNotAvailable(_)),
            "{:?}",
            e
        );
        real[slot] = None;
        return Ok(false);
    }
    Ok(true)
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let store = Arc::new(MemoryTreeStore::new());
    let mvcc = Mvcc::new(store.clone(), Arc::new(NoCommitLog), CommitTs(0));
    let mut real: [Option<Transaction>; SLOTS] = [None, None, None];
    let mut model = Model {
        history: vec![Map::new()],
        last_writer: BTreeMap::new(),
        txns: [None, None, None],
    };
    for op in ops {
        let slot = match &op {
            Op::Begin(s, _) | Op::Get(s, _) | Op::Put(s, ..) | Op::Delete(s, _) => *s,
            Op::Bulk(s, ..) | Op::Load(s) | Op::Scan(s, _) | Op::Commit(s) | Op::Rollback(s) => *s,
        };
        if let Op::Begin(_, rc) = op {
            if real[slot].is_none() {
                let level = match rc {
                    true => IsolationLevel::ReadCommitted,
                    false => IsolationLevel::RepeatableRead,
                };
                let mut txn = mvcc.begin(level);
                // One thread interleaves the transactions: a write that would wait for
                // another's key lock fails at once (with `lock_timeout`).
                txn.set_lock_wait(LockWait::fail_at_once());
                real[slot] = Some(txn);
                model.txns[slot] = Some(ModelTxn {
                    read_committed: rc,
                    snapshot: None,
                    writes: BTreeMap::new(),
                    loading: false,
                    claim_tried: false,
                });
            }
            continue;
        }
        if real[slot].is_none() || model.txns[slot].is_none() {
            prop_assert_eq!(real[slot].is_none(), model.txns[slot].is_none());
            continue;
        }
        match op {
            Op::Get(_, k) => {
                let got = real[slot]
                    .as_mut()
                    .unwrap()
                    .get(TREE, &key(k))
                    .unwrap()
                    .map(|v| v[0]);
                prop_assert_eq!(got, model.view(slot).get(&k).copied(), "{:?}", op);
            }
            Op::Put(_, k, v) => {
                write_both(&mut real, &mut model, &store, slot, k, Some(v))?;
            }
            Op::Delete(_, k) => {
                write_both(&mut real, &mut model, &store, slot, k, None)?;
            }
            Op::Bulk(_, base, v) => {
                for k in base..base + BULK {
                    if !write_both(&mut real, &mut model, &store, slot, k, Some(v))? {
                        break;
                    }
                }
            }
            Op::Load(_) => {
                let result = real[slot].as_mut().unwrap().lock_tree_for_load(TREE);
                let expected = model.load(slot);
                prop_assert_eq!(result.is_ok(), expected.is_ok(), "{:?}", result);
                if let Err(e) = result {
                    prop_assert!(matches!(e, Error::Serialization(_)), "{:?}", e);
                    real[slot] = None;
                }
            }
            Op::Scan(_, reverse) => {
                let got: Vec<_> = real[slot]
                    .as_mut()
                    .unwrap()
                    .scan(TREE, Bound::Unbounded, Bound::Unbounded, reverse)
                    .unwrap()
                    .map(decode)
                    .collect();
                let mut expected: Vec<_> = model.view(slot).into_iter().collect();
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

fn cases() -> u32 {
    match std::env::var("CI").is_ok_and(|v| v == "true") {
        true => 48,
        false => 128,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn loads_and_small_writers_match_the_model(ops in prop::collection::vec(op(), 1..40)) {
        run(ops)?;
    }
}

/// A large write into an empty tree claims it: a concurrent small writer is refused
/// while it runs and accepted after it commits, and every row is there.
#[test]
fn a_large_load_into_an_empty_tree_claims_it_until_it_ends() {
    let store = Arc::new(MemoryTreeStore::new());
    let mvcc = Mvcc::new(store, Arc::new(NoCommitLog), CommitTs(0));
    let mut small = mvcc.begin(IsolationLevel::ReadCommitted);
    let _ = small.get(TREE, &key(1)).unwrap();
    let mut load = mvcc.begin(IsolationLevel::RepeatableRead);
    for k in 100..100 + BULK {
        load.put(TREE, &key(k), &[1]).unwrap();
    }
    assert!(matches!(
        small.put(TREE, &key(1), &[2]),
        Err(Error::Serialization(_))
    ));
    load.commit().unwrap();
    let mut after = mvcc.begin(IsolationLevel::ReadCommitted);
    after.put(TREE, &key(1), &[2]).unwrap();
    // A key the load wrote: an ordinary conflict-free update.
    after.put(TREE, &key(100), &[3]).unwrap();
    after.commit().unwrap();
    let mut check = mvcc.begin(IsolationLevel::RepeatableRead);
    let rows: Vec<_> = check
        .scan(TREE, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(decode)
        .collect();
    assert_eq!(rows.len(), BULK as usize + 1);
    assert_eq!(rows[0], (1, 2));
    assert_eq!(rows[1], (100, 3));
}

/// A tree held for a load still probes keys at or below its greatest key: an insert of
/// an existing key is refused, an insert past it is fresh.
#[test]
fn a_load_into_a_populated_tree_still_sees_its_keys() {
    let store = Arc::new(MemoryTreeStore::new());
    let mvcc = Mvcc::new(store, Arc::new(NoCommitLog), CommitTs(0));
    let mut first = mvcc.begin(IsolationLevel::RepeatableRead);
    for k in [10, 20, 30] {
        first.put(TREE, &key(k), &[1]).unwrap();
    }
    first.commit().unwrap();
    let mut load = mvcc.begin(IsolationLevel::RepeatableRead);
    load.lock_tree_for_load(TREE).unwrap();
    assert!(!load.insert(TREE, &key(20), &[2]).unwrap());
    assert!(load.insert(TREE, &key(25), &[2]).unwrap());
    assert!(load.insert(TREE, &key(40), &[2]).unwrap());
    assert!(!load.insert(TREE, &key(40), &[3]).unwrap());
    load.delete(TREE, &key(10)).unwrap();
    load.commit().unwrap();
    let mut check = mvcc.begin(IsolationLevel::RepeatableRead);
    let rows: Vec<_> = check
        .scan(TREE, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(decode)
        .collect();
    assert_eq!(rows, vec![(20, 1), (25, 2), (30, 1), (40, 2)]);
}
