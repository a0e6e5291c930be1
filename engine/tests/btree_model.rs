//! The B-tree against `std::collections::BTreeMap`: random sequences of inserts,
//! overwrites, deletes, point reads, and bounded scans in both directions (with `prev` and
//! `seek`), over two trees in one file, with flushes and close/reopen in the middle.
//! After every case the whole file passes its integrity check and every tree equals its
//! model.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use engine::Error;
use engine::btree::{BTree, Direction, check_file_integrity};
use engine::pager::{Pager, PagerOptions, SimStorage};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum KeySel {
    New(Vec<u8>),
    Existing(usize),
}

#[derive(Debug, Clone)]
enum Op {
    Put {
        tree: usize,
        key: KeySel,
        len: usize,
        seed: u8,
    },
    Delete {
        tree: usize,
        key: KeySel,
    },
    Get {
        tree: usize,
        key: KeySel,
    },
    /// Inserts `count` keys `prefix ++ (i * step) as big-endian u32`.
    Bulk {
        tree: usize,
        prefix: Vec<u8>,
        count: u32,
        step: u32,
        len: usize,
        seed: u8,
    },
    /// Deletes up to `count` consecutive model keys starting at `from`.
    DeleteRun {
        tree: usize,
        from: KeySel,
        count: usize,
    },
    Scan {
        tree: usize,
        lo: Option<(KeySel, bool)>,
        hi: Option<(KeySel, bool)>,
        reverse: bool,
        limit: usize,
        seek: Option<KeySel>,
    },
    Flush,
    Reopen,
}

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..=8),
        2 => prop::collection::vec(0u8..3, 0..=40),
        1 => prop::collection::vec(0u8..2, 0..=200),
    ]
}

fn sel() -> impl Strategy<Value = KeySel> {
    prop_oneof![2 => key_strategy().prop_map(KeySel::New), 1 => any::<usize>().prop_map(KeySel::Existing)]
}

fn value_len() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0usize..40, 2 => 40usize..400, 1 => 400usize..10_000]
}

fn op() -> impl Strategy<Value = Op> {
    let tree = 0usize..2;
    prop_oneof![
        10 => (tree.clone(), sel(), value_len(), any::<u8>()).prop_map(|(tree, key, len, seed)| Op::Put { tree, key, len, seed }),
        3 => (tree.clone(), sel()).prop_map(|(tree, key)| Op::Delete { tree, key }),
        1 => (tree.clone(), prop::collection::vec(any::<u8>(), 0..20), 1u32..300, 1u32..1000, prop_oneof![4 => 0usize..40, 1 => 0usize..3000], any::<u8>())
            .prop_map(|(tree, prefix, count, step, len, seed)| Op::Bulk { tree, prefix, count, step, len, seed }),
        1 => (tree.clone(), sel(), 1usize..300).prop_map(|(tree, from, count)| Op::DeleteRun { tree, from, count }),
        2 => (tree.clone(), sel()).prop_map(|(tree, key)| Op::Get { tree, key }),
        2 => (tree, prop::option::of((sel(), any::<bool>())), prop::option::of((sel(), any::<bool>())), any::<bool>(), 0usize..30, prop::option::of(sel()))
            .prop_map(|(tree, lo, hi, reverse, limit, seek)| Op::Scan { tree, lo, hi, reverse, limit, seek }),
        1 => Just(Op::Flush),
        1 => Just(Op::Reopen),
    ]
}

fn value(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn resolve(sel: &KeySel, model: &Model) -> Vec<u8> {
    match sel {
        KeySel::New(k) => k.clone(),
        KeySel::Existing(i) if !model.is_empty() => {
            model.keys().nth(i % model.len()).unwrap().clone()
        }
        KeySel::Existing(i) => vec![*i as u8],
    }
}

fn bound(b: &Option<(KeySel, bool)>, model: &Model) -> Bound<Vec<u8>> {
    match b {
        None => Bound::Unbounded,
        Some((k, true)) => Bound::Included(resolve(k, model)),
        Some((k, false)) => Bound::Excluded(resolve(k, model)),
    }
}

fn in_bounds(k: &[u8], lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    let lo_ok = match lo {
        Bound::Included(l) => k >= l.as_slice(),
        Bound::Excluded(l) => k > l.as_slice(),
        Bound::Unbounded => true,
    };
    let hi_ok = match hi {
        Bound::Included(h) => k <= h.as_slice(),
        Bound::Excluded(h) => k < h.as_slice(),
        Bound::Unbounded => true,
    };
    lo_ok && hi_ok
}

struct Db {
    sim: SimStorage,
    pager: Arc<Pager>,
    trees: Vec<BTree>,
}

impl Db {
    fn open(sim: &SimStorage) -> Db {
        let pager = Arc::new(Pager::open_with(Box::new(sim.clone())).unwrap());
        let trees = ["t0", "t1"]
            .iter()
            .map(|n| BTree::open(&pager, n).unwrap())
            .collect();
        Db {
            sim: sim.clone(),
            pager,
            trees,
        }
    }
}

fn run_case(page_size: u32, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let sim = SimStorage::new();
    let pager =
        Arc::new(Pager::create_with(Box::new(sim.clone()), PagerOptions { page_size }).unwrap());
    for name in ["t0", "t1"] {
        BTree::create(&pager, name).unwrap();
    }
    pager.flush().unwrap();
    drop(pager);
    let mut db = Db::open(&sim);
    let mut models = vec![Model::new(), Model::new()];
    let max_key = db.trees[0].max_key_len();

    for op in ops {
        match op {
            Op::Put {
                tree,
                key,
                len,
                seed,
            } => {
                let k = resolve(&key, &models[tree]);
                let v = value(len, seed);
                let r = db.trees[tree].insert(&k, &v);
                if k.len() > max_key {
                    prop_assert!(matches!(r, Err(Error::InvalidArgument(_))));
                } else {
                    let replaced = models[tree].insert(k, v).is_some();
                    prop_assert_eq!(r.unwrap(), replaced);
                }
            }
            Op::Bulk {
                tree,
                prefix,
                count,
                step,
                len,
                seed,
            } => {
                for i in 0..count {
                    let mut k = prefix.clone();
                    k.extend_from_slice(&(i.wrapping_mul(step)).to_be_bytes());
                    let v = value(len, seed.wrapping_add(i as u8));
                    let r = db.trees[tree].insert(&k, &v);
                    if k.len() > max_key {
                        prop_assert!(r.is_err());
                    } else {
                        prop_assert_eq!(r.unwrap(), models[tree].insert(k, v).is_some());
                    }
                }
            }
            Op::DeleteRun { tree, from, count } => {
                let from = resolve(&from, &models[tree]);
                let doomed: Vec<Vec<u8>> = models[tree]
                    .range(from..)
                    .take(count)
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in doomed {
                    prop_assert!(db.trees[tree].delete(&k).unwrap());
                    models[tree].remove(&k);
                }
            }
            Op::Delete { tree, key } => {
                let k = resolve(&key, &models[tree]);
                prop_assert_eq!(
                    db.trees[tree].delete(&k).unwrap(),
                    models[tree].remove(&k).is_some()
                );
            }
            Op::Get { tree, key } => {
                let k = resolve(&key, &models[tree]);
                prop_assert_eq!(
                    db.trees[tree].get(&k).unwrap(),
                    models[tree].get(&k).cloned()
                );
            }
            Op::Scan {
                tree,
                lo,
                hi,
                reverse,
                limit,
                seek,
            } => {
                let model = &models[tree];
                let (lo, hi) = (bound(&lo, model), bound(&hi, model));
                let mut expected: Vec<(Vec<u8>, Vec<u8>)> = model
                    .iter()
                    .filter(|(k, _)| in_bounds(k, &lo, &hi))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if reverse {
                    expected.reverse();
                }
                let dir = if reverse {
                    Direction::Reverse
                } else {
                    Direction::Forward
                };
                let t = &db.trees[tree];
                let mut cursor = t.range((as_ref(&lo), as_ref(&hi)), dir);
                if let Some(s) = &seek {
                    let s = resolve(s, model);
                    cursor.seek(&s);
                    expected.retain(|(k, _)| if reverse { *k <= s } else { *k >= s });
                }
                let mut got = Vec::new();
                for _ in 0..limit {
                    match cursor.next().unwrap() {
                        Some(e) => got.push(e),
                        None => break,
                    }
                }
                let want: Vec<_> = expected.iter().take(limit).cloned().collect();
                prop_assert_eq!(&got, &want);
                if got.len() >= 2 && got.len() == limit {
                    // Step back once, then forward again.
                    let back = cursor.prev().unwrap();
                    prop_assert_eq!(back.as_ref(), Some(&want[want.len() - 2]));
                    let again = cursor.next().unwrap();
                    prop_assert_eq!(again.as_ref(), Some(&want[want.len() - 1]));
                }
                if limit == 0 && seek.is_none() {
                    // A fresh cursor's `prev` is the far end of the range.
                    let far = expected.last().cloned();
                    prop_assert_eq!(cursor.prev().unwrap(), far);
                }
            }
            Op::Flush => db.pager.flush().unwrap(),
            Op::Reopen => {
                db.pager.flush().unwrap();
                let sim = db.sim.clone();
                drop(db);
                db = Db::open(&sim);
            }
        }
    }
    check_file_integrity(&db.pager, &[]).unwrap();
    for (t, model) in db.trees.iter().zip(&models) {
        let all: Vec<_> = t.iter().map(|e| e.unwrap()).collect();
        let want: Vec<_> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        prop_assert_eq!(all, want);
        let back: Vec<_> = t
            .range(.., Direction::Reverse)
            .map(|e| e.unwrap())
            .collect();
        prop_assert_eq!(back.len(), model.len());
    }
    // And once more after a reopen.
    db.pager.flush().unwrap();
    let sim = db.sim.clone();
    drop(db);
    let db = Db::open(&sim);
    check_file_integrity(&db.pager, &[]).unwrap();
    for (t, model) in db.trees.iter().zip(&models) {
        prop_assert_eq!(t.iter().count(), model.len());
    }
    Ok(())
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn cases() -> u32 {
    std::env::var("HDB_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn btree_matches_btreemap(page_size in prop_oneof![Just(512u32), Just(1024), Just(4096)],
                              ops in prop::collection::vec(op(), 1..200)) {
        run_case(page_size, ops)?;
    }
}
