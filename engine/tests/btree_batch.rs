//! Sorted batches against `std::collections::BTreeMap`: `BTree::apply_sorted` into empty
//! trees (the bottom-up build) and into populated ones (the leaf cursor), with puts,
//! overwrites, removes, values that need overflow chains and keys of every length, on
//! small pages so that builds reach several levels. After every batch the file passes
//! its integrity check and the tree equals its model; built trees are then changed by
//! single inserts and deletes, which must find them well formed. A build that loses the
//! race for the root to a concurrent writer must still leave every entry of both.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use engine::btree::{BTree, SliceBatch, check_file_integrity};
use engine::pager::{Pager, PagerOptions, SimStorage};
use proptest::prelude::*;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;
type Ops = Vec<(Vec<u8>, Option<Vec<u8>>)>;

fn pager(page_size: u32) -> Arc<Pager> {
    Arc::new(Pager::create_with(Box::new(SimStorage::new()), PagerOptions { page_size }).unwrap())
}

fn value(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

/// A batch: sorted distinct keys, each a put (of `len` bytes) or a remove.
fn batch() -> impl Strategy<Value = Ops> {
    prop::collection::btree_map(
        prop::collection::vec(any::<u8>(), 0..24),
        prop_oneof![
            6 => (0usize..60, any::<u8>()).prop_map(|(len, seed)| Some(value(len, seed))),
            1 => (200usize..1500, any::<u8>()).prop_map(|(len, seed)| Some(value(len, seed))),
            2 => Just(None),
        ],
        0..400,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn apply_model(model: &mut Model, ops: &Ops) {
    for (key, value) in ops {
        match value {
            Some(v) => model.insert(key.clone(), v.clone()),
            None => model.remove(key),
        };
    }
}

fn check(pager: &Arc<Pager>, tree: &BTree, model: &Model) {
    let got: Vec<(Vec<u8>, Vec<u8>)> = {
        let mut out = Vec::new();
        let mut cursor = tree.iter();
        while let Some(entry) = cursor.next().unwrap() {
            out.push(entry);
        }
        out
    };
    let want: Vec<(Vec<u8>, Vec<u8>)> = model.clone().into_iter().collect();
    assert_eq!(got, want);
    check_file_integrity(pager, &[tree.root()]).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("HDB_BATCH_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48)
    ))]

    #[test]
    fn batches_match_the_model(
        page_size in prop_oneof![Just(512u32), Just(1024), Just(4096)],
        batches in prop::collection::vec(batch(), 1..5),
        singles in prop::collection::vec((prop::collection::vec(any::<u8>(), 0..12), any::<bool>()), 0..60),
    ) {
        let pager = pager(page_size);
        let tree = BTree::create_unnamed(&pager).unwrap();
        let mut model = Model::new();
        for ops in &batches {
            tree.apply_sorted(&mut SliceBatch::new(ops)).unwrap();
            apply_model(&mut model, ops);
            check(&pager, &tree, &model);
        }
        // Single changes on top of a built tree.
        for (key, put) in &singles {
            if *put {
                tree.insert(key, b"single").unwrap();
                model.insert(key.clone(), b"single".to_vec());
            } else {
                tree.delete(key).unwrap();
                model.remove(key);
            }
        }
        check(&pager, &tree, &model);
        pager.flush().unwrap();
    }
}

#[test]
fn a_large_build_fills_its_leaves_and_survives_deleting_everything() {
    let pager = pager(1024);
    let tree = BTree::create_unnamed(&pager).unwrap();
    let ops: Ops = (0u32..20_000)
        .map(|i| (i.to_be_bytes().to_vec(), Some(value(20, i as u8))))
        .collect();
    tree.apply_sorted(&mut SliceBatch::new(&ops)).unwrap();
    let report = tree.check_integrity().unwrap();
    assert_eq!(report.entries, 20_000);
    assert_eq!(report.underfull_nodes, 0, "{report:?}");
    // 20,000 cells of 33 bytes (+2 slot) at 90% of 984 usable bytes: 25 per leaf.
    assert!(report.leaves <= 20_000 / 24, "{} leaves", report.leaves);
    let mut model: Model = ops
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().unwrap()))
        .collect();
    check(&pager, &tree, &model);
    let removes: Ops = ops.iter().map(|(k, _)| (k.clone(), None)).collect();
    tree.apply_sorted(&mut SliceBatch::new(&removes)).unwrap();
    model.clear();
    check(&pager, &tree, &model);
    let report = check_file_integrity(&pager, &[tree.root()]).unwrap();
    assert!(
        report.free_pages > 700,
        "deleting everything gives the pages back: {report:?}"
    );
}

#[test]
fn unsorted_input_to_an_empty_tree_is_an_error_that_changes_nothing() {
    let pager = pager(1024);
    let tree = BTree::create_unnamed(&pager).unwrap();
    let mut ops: Ops = (0u32..500)
        .map(|i| (i.to_be_bytes().to_vec(), Some(value(30, 1))))
        .collect();
    ops.swap(100, 400);
    assert!(tree.apply_sorted(&mut SliceBatch::new(&ops)).is_err());
    check(&pager, &tree, &Model::new());
}

#[test]
fn a_build_racing_single_writers_keeps_both() {
    let rounds: u32 = std::env::var("HDB_BATCH_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    for round in 0..rounds {
        let pager = pager(1024);
        let tree = BTree::create_unnamed(&pager).unwrap();
        let ops: Ops = (0u32..3_000)
            .map(|i| ((i * 2).to_be_bytes().to_vec(), Some(value(16, round as u8))))
            .collect();
        let writer = {
            let tree = tree.clone();
            std::thread::spawn(move || {
                for i in 0u32..50 {
                    tree.insert(&(i * 120 + 1).to_be_bytes(), b"odd").unwrap();
                }
            })
        };
        tree.apply_sorted(&mut SliceBatch::new(&ops)).unwrap();
        writer.join().unwrap();
        let mut model: Model = ops
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().unwrap()))
            .collect();
        for i in 0u32..50 {
            model.insert((i * 120 + 1).to_be_bytes().to_vec(), b"odd".to_vec());
        }
        check(&pager, &tree, &model);
    }
}

/// Keys appended in increasing order, one by one and in batches past the tree's last
/// key, split the last leaf at its end: the leaves they leave behind are full (the
/// split of an append moves no cell), every level stays well formed, and deleting
/// every key still gives all the space back.
#[test]
fn appends_past_the_last_key_leave_full_leaves() {
    let pager = pager(1024);
    let tree = BTree::create_unnamed(&pager).unwrap();
    let mut model = Model::new();
    for i in 0u32..6_000 {
        let (key, value) = (i.to_be_bytes().to_vec(), value(20, i as u8));
        tree.insert(&key, &value).unwrap();
        model.insert(key, value);
    }
    // Batches past the end go through the leaf cursor (the tree is not empty).
    for chunk in 0u32..4 {
        let ops: Ops = (6_000 + chunk * 3_500..6_000 + (chunk + 1) * 3_500)
            .map(|i| (i.to_be_bytes().to_vec(), Some(value(20, i as u8))))
            .collect();
        tree.apply_sorted(&mut SliceBatch::new(&ops)).unwrap();
        apply_model(&mut model, &ops);
    }
    check(&pager, &tree, &model);
    let report = tree.check_integrity().unwrap();
    assert_eq!(report.entries, 20_000);
    // 33-byte cells (+2 slot) in 984 usable bytes: 28 per full leaf. Splits in balance
    // would leave about 14.
    assert!(report.leaves <= 20_000 / 27 + 1, "{} leaves", report.leaves);
    // At most the last leaf is underfull.
    assert!(report.underfull_nodes <= 1, "{report:?}");
    // Increasing keys inside the range (below the last key) still split in balance.
    for i in 0u32..2_000 {
        let mut key = 100u32.to_be_bytes().to_vec();
        key.extend_from_slice(&i.to_be_bytes());
        tree.insert(&key, b"inside").unwrap();
        model.insert(key, b"inside".to_vec());
    }
    check(&pager, &tree, &model);
    let removes: Ops = model.keys().map(|k| (k.clone(), None)).collect();
    tree.apply_sorted(&mut SliceBatch::new(&removes)).unwrap();
    model.clear();
    check(&pager, &tree, &model);
}
