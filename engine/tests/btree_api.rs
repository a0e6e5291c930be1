//! The B-tree's API, one behaviour per test: what callers can rely on.
#![allow(clippy::unwrap_used)]

use std::ops::Bound;
use std::sync::Arc;

use engine::Error;
use engine::btree::{BTree, Direction, check_file_integrity};
use engine::pager::{Pager, PagerOptions, SimStorage};

fn pager(page_size: u32) -> Arc<Pager> {
    Arc::new(Pager::create_with(Box::new(SimStorage::new()), PagerOptions { page_size }).unwrap())
}

fn k(i: u32) -> Vec<u8> {
    format!("{i:06}").into_bytes()
}

fn keys(c: engine::btree::Cursor<'_>) -> Vec<Vec<u8>> {
    c.map(|e| e.unwrap().0).collect()
}

#[test]
fn insert_get_overwrite_delete() {
    let p = pager(4096);
    let t = BTree::create(&p, "t").unwrap();
    assert_eq!(t.get(b"a").unwrap(), None);
    assert!(!t.insert(b"a", b"1").unwrap());
    assert!(
        t.insert(b"a", b"2").unwrap(),
        "overwrite reports the replaced value"
    );
    assert_eq!(t.get(b"a").unwrap(), Some(b"2".to_vec()));
    assert!(t.delete(b"a").unwrap());
    assert!(!t.delete(b"a").unwrap());
    assert_eq!(t.get(b"a").unwrap(), None);
    // Empty keys and empty values are ordinary.
    t.insert(b"", b"").unwrap();
    assert_eq!(t.get(b"").unwrap(), Some(Vec::new()));
}

#[test]
fn keys_longer_than_the_limit_are_rejected() {
    let p = pager(1024);
    let t = BTree::create(&p, "t").unwrap();
    assert_eq!(t.max_key_len(), 233);
    t.insert(&vec![1u8; 233], b"ok").unwrap();
    let err = t.insert(&vec![1u8; 234], b"no").unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    assert_eq!(t.get(&vec![1u8; 234]).unwrap(), None);
    assert!(!t.delete(&vec![1u8; 234]).unwrap());
}

#[test]
fn large_values_round_trip_through_overflow_pages() {
    let p = pager(512);
    let t = BTree::create(&p, "t").unwrap();
    let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    t.insert(b"big", &big).unwrap();
    t.insert(b"small", b"x").unwrap();
    assert_eq!(t.get(b"big").unwrap(), Some(big.clone()));
    let report = t.check_integrity().unwrap();
    assert!(report.overflow_pages >= 100_000 / 512);
    // Overwriting with a small value frees the chain.
    t.insert(b"big", b"tiny").unwrap();
    assert_eq!(t.check_integrity().unwrap().overflow_pages, 0);
    let file = check_file_integrity(&p, &[]).unwrap();
    assert!(file.free_pages >= report.overflow_pages);
}

#[test]
fn cursors_walk_bounded_ranges_both_ways_and_step_back() {
    let p = pager(512);
    let t = BTree::create(&p, "t").unwrap();
    for i in 0..500 {
        t.insert(&k(i), &i.to_le_bytes()).unwrap();
    }
    let (lo, hi) = (k(100), k(200));
    let fwd = keys(t.range(lo.as_slice()..hi.as_slice(), Direction::Forward));
    assert_eq!(fwd, (100..200).map(k).collect::<Vec<_>>());
    let rev = keys(t.range(lo.as_slice()..=hi.as_slice(), Direction::Reverse));
    assert_eq!(rev, (100..=200).rev().map(k).collect::<Vec<_>>());
    let excl = (Bound::Excluded(lo.as_slice()), Bound::Unbounded);
    assert_eq!(keys(t.range(excl, Direction::Forward)).len(), 399);

    let mut c = t.range(lo.as_slice()..hi.as_slice(), Direction::Forward);
    assert_eq!(
        c.prev().unwrap().unwrap().0,
        k(199),
        "a fresh cursor's prev is the far end"
    );
    c.seek(&k(150));
    assert_eq!(c.next().unwrap().unwrap().0, k(150));
    assert_eq!(c.next().unwrap().unwrap().0, k(151));
    assert_eq!(
        c.prev().unwrap().unwrap().0,
        k(150),
        "prev steps back from 151"
    );
    c.seek(&k(150));
    assert_eq!(
        c.prev().unwrap().unwrap().0,
        k(149),
        "prev after seek is the last key before it"
    );
    c.seek(&k(10));
    assert_eq!(
        c.next().unwrap().unwrap().0,
        k(100),
        "seeks are clamped to the range"
    );
    c.seek(&k(199));
    assert_eq!(c.next().unwrap().unwrap().0, k(199));
    assert_eq!(c.next().unwrap(), None, "the range ends before 200");

    let mut r = t.range(.., Direction::Reverse);
    r.seek(&k(300));
    assert_eq!(
        r.next().unwrap().unwrap().0,
        k(300),
        "reverse seek: first key <= target"
    );
    assert_eq!(r.next().unwrap().unwrap().0, k(299));
    assert_eq!(r.prev().unwrap().unwrap().0, k(300));
}

#[test]
fn trees_are_named_and_independent() {
    let p = pager(1024);
    let a = BTree::create(&p, "a").unwrap();
    let b = BTree::create(&p, "b").unwrap();
    assert!(matches!(
        BTree::create(&p, "a"),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        BTree::open(&p, "c"),
        Err(Error::InvalidArgument(_))
    ));
    a.insert(b"k", b"from a").unwrap();
    b.insert(b"k", b"from b").unwrap();
    assert_eq!(
        BTree::open(&p, "a").unwrap().get(b"k").unwrap(),
        Some(b"from a".to_vec())
    );
    assert_eq!(b.get(b"k").unwrap(), Some(b"from b".to_vec()));
    let unnamed = BTree::create_unnamed(&p).unwrap();
    unnamed.insert(b"k", b"anon").unwrap();
    let again = BTree::open_root(&p, unnamed.root());
    assert_eq!(again.get(b"k").unwrap(), Some(b"anon".to_vec()));
    // The whole-file check must be told about trees the meta does not name.
    assert!(check_file_integrity(&p, &[]).is_err());
    check_file_integrity(&p, &[unnamed.root()]).unwrap();
}

#[test]
fn the_root_page_never_moves() {
    let p = pager(512);
    let t = BTree::create(&p, "t").unwrap();
    let root = t.root();
    for i in 0..2000 {
        t.insert(&k(i), &[0u8; 20]).unwrap();
    }
    assert!(t.check_integrity().unwrap().depth >= 3);
    for i in 0..2000 {
        t.delete(&k(i)).unwrap();
    }
    let report = t.check_integrity().unwrap();
    assert_eq!(
        (report.depth, report.entries, report.pages.len()),
        (1, 0, 1)
    );
    assert_eq!(t.root(), root);
    assert_eq!(p.root("t"), Some(root));
}

#[test]
fn destroying_a_tree_frees_all_its_pages() {
    let p = pager(512);
    let keep = BTree::create(&p, "keep").unwrap();
    let doomed = BTree::create(&p, "doomed").unwrap();
    for i in 0..800 {
        keep.insert(&k(i), b"v").unwrap();
        doomed
            .insert(&k(i), &vec![1u8; if i % 50 == 0 { 3000 } else { 30 }])
            .unwrap();
    }
    let before = check_file_integrity(&p, &[]).unwrap();
    let doomed_pages = before
        .trees
        .iter()
        .find(|(n, _)| n == "doomed")
        .unwrap()
        .1
        .pages
        .len() as u64;
    doomed.destroy().unwrap();
    assert_eq!(p.root("doomed"), None);
    let after = check_file_integrity(&p, &[]).unwrap();
    assert_eq!(after.free_pages, before.free_pages + doomed_pages);
    assert_eq!(keep.iter().count(), 800);
}

/// Asking for more split keys than the levels above the leaves hold gives every
/// separator of the level just above the leaves (the finest cut), not none.
#[test]
fn split_keys_asked_for_more_than_there_are_give_the_finest_cut() {
    let p = pager(512);
    let t = BTree::create(&p, "t").unwrap();
    for i in 0..5_000 {
        t.insert(&k(i), b"v").unwrap();
    }
    let few = t.split_keys(Bound::Unbounded, Bound::Unbounded, 4).unwrap();
    assert_eq!(few.len(), 4);
    let all = t
        .split_keys(Bound::Unbounded, Bound::Unbounded, 1_000_000)
        .unwrap();
    assert!(all.len() > few.len(), "{} separators", all.len());
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    // Each cut lies inside the range; between two cuts there are keys.
    let within = t.split_keys(
        Bound::Included(&k(1000)),
        Bound::Excluded(&k(2000)),
        1_000_000,
    );
    let within = within.unwrap();
    assert!(!within.is_empty());
    assert!(
        within
            .iter()
            .all(|c| c.as_slice() > k(1000).as_slice() && c.as_slice() < k(2000).as_slice())
    );
}
