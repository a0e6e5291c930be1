//! Crash seam: with the simulated storage, a crash at the Nth sync of a flush leaves a
//! file that opens to exactly the previous flushed state (crash before the commit point)
//! or exactly the new one (after it), and passes the integrity check either way. Dropping
//! a pager without flushing is a crash too.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use engine::btree::{BTree, check_file_integrity};
use engine::pager::{Pager, PagerOptions, SimStorage};
use proptest::prelude::*;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn apply(tree: &BTree, model: &mut Model, ops: &[(u16, u16, bool)]) {
    for (k, len, delete) in ops {
        let key = format!("k{k:04}").into_bytes();
        if *delete {
            tree.delete(&key).unwrap();
            model.remove(&key);
        } else {
            let v = vec![*k as u8; *len as usize];
            tree.insert(&key, &v).unwrap();
            model.insert(key, v);
        }
    }
}

fn contents(pager: &Arc<Pager>) -> Model {
    check_file_integrity(pager, &[]).unwrap();
    BTree::open(pager, "t")
        .unwrap()
        .iter()
        .map(|e| e.unwrap())
        .collect()
}

fn op() -> impl Strategy<Value = (u16, u16, bool)> {
    (
        0u16..600,
        prop_oneof![4 => 0u16..50, 1 => 50u16..2000],
        prop::bool::weighted(0.3),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn crash_at_any_sync_of_a_flush_opens_to_one_flushed_state(
        before in prop::collection::vec(op(), 1..400),
        after in prop::collection::vec(op(), 1..400),
        crash_at in 1u64..=5,
    ) {
        let sim = SimStorage::new();
        let pager = Arc::new(Pager::create_with(Box::new(sim.clone()), PagerOptions { page_size: 512 }).unwrap());
        let tree = BTree::create(&pager, "t").unwrap();
        let mut old = Model::new();
        apply(&tree, &mut old, &before);
        pager.flush().unwrap();
        let mut new = old.clone();
        apply(&tree, &mut new, &after);
        sim.crash_at_sync(crash_at);
        let flushed = pager.flush();
        prop_assert_eq!(flushed.is_ok(), crash_at > 4);
        drop(tree);
        drop(pager);

        let reopened = Arc::new(Pager::open_with(Box::new(SimStorage::from_image(sim.durable_image()))).unwrap());
        let got = contents(&reopened);
        let want = if crash_at >= 3 { &new } else { &old };
        prop_assert!(&got == want, "crash at sync {}: {} keys, want {}", crash_at, got.len(), want.len());
    }
}

#[test]
fn dropping_without_flush_loses_only_unflushed_changes() {
    let sim = SimStorage::new();
    let pager = Arc::new(
        Pager::create_with(Box::new(sim.clone()), PagerOptions { page_size: 1024 }).unwrap(),
    );
    let tree = BTree::create(&pager, "t").unwrap();
    let mut model = Model::new();
    let ops: Vec<(u16, u16, bool)> = (0..500).map(|i| (i * 7 % 600, i % 90, false)).collect();
    apply(&tree, &mut model, &ops);
    pager.flush().unwrap();
    let deletes: Vec<(u16, u16, bool)> = (0..300).map(|i| (i, 0, true)).collect();
    apply(&tree, &mut Model::new(), &deletes);
    drop(tree);
    drop(pager);
    let reopened =
        Arc::new(Pager::open_with(Box::new(SimStorage::from_image(sim.durable_image()))).unwrap());
    assert_eq!(contents(&reopened), model);
}
