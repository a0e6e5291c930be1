//! Corruption: random byte flips in a closed database file. Whatever is flipped, opening
//! the file and reading every key, scanning, and checking integrity either give the
//! correct answer or fail with `Error::Corrupted` — never a panic, never a wrong value,
//! never a key that silently went missing.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use engine::Error;
use engine::btree::{BTree, check_file_integrity};
use engine::pager::{Pager, PagerOptions, SimStorage};
use proptest::prelude::*;

const PAGE_SIZE: u32 = 512;
/// An upper bound on the fixture's page count (asserted below).
const PAGES_IN_USE: usize = 200;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// A closed file with two trees, overflow values, free pages; built once.
fn fixture() -> &'static (Vec<u8>, Model, Model) {
    static FIXTURE: OnceLock<(Vec<u8>, Model, Model)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let sim = SimStorage::new();
        let pager = Arc::new(
            Pager::create_with(
                Box::new(sim.clone()),
                PagerOptions {
                    page_size: PAGE_SIZE,
                },
            )
            .unwrap(),
        );
        let a = BTree::create(&pager, "a").unwrap();
        let b = BTree::create(&pager, "b").unwrap();
        let (mut ma, mut mb) = (Model::new(), Model::new());
        for i in 0u32..400 {
            let k = format!("key{:05}", i * 7 % 401).into_bytes();
            let v = vec![i as u8; (i as usize * 13) % 90 + if i % 37 == 0 { 1500 } else { 0 }];
            a.insert(&k, &v).unwrap();
            ma.insert(k.clone(), v.clone());
            if i % 3 == 0 {
                b.insert(&k, &k).unwrap();
                mb.insert(k.clone(), k.clone());
            }
        }
        for i in (0u32..400).step_by(5) {
            let k = format!("key{i:05}").into_bytes();
            a.delete(&k).unwrap();
            ma.remove(&k);
        }
        drop((a, b));
        Arc::try_unwrap(pager).unwrap().close().unwrap();
        (sim.live_image(), ma, mb)
    })
}

fn corrupted_or<T>(r: Result<T, Error>) -> Result<Option<T>, TestCaseError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::Corrupted { .. }) => Ok(None),
        Err(e) => Err(TestCaseError::fail(format!("unexpected error kind: {e:?}"))),
    }
}

fn check(image: Vec<u8>) -> Result<(), TestCaseError> {
    let (_, ma, mb) = fixture();
    let Some(pager) = corrupted_or(Pager::open_with(Box::new(SimStorage::from_image(image))))?
    else {
        return Ok(());
    };
    let pager = Arc::new(pager);
    for (name, model) in [("a", ma), ("b", mb)] {
        let Ok(tree) = BTree::open(&pager, name) else {
            return Err(TestCaseError::fail(
                "named root lost without a Corrupted error",
            ));
        };
        for (k, v) in model {
            if let Some(got) = corrupted_or(tree.get(k))? {
                prop_assert_eq!(got.as_ref(), Some(v), "wrong answer for {:?}", k);
            }
        }
        let mut expected = model.iter();
        for entry in tree.iter() {
            match corrupted_or(entry)? {
                Some((k, v)) => {
                    // Entries may be skipped only by an error, so compare in order until one.
                    let (ek, ev) = expected.next().unwrap();
                    prop_assert_eq!((&k, &v), (ek, ev));
                }
                None => break,
            }
        }
    }
    corrupted_or(check_file_integrity(&pager, &[]))?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn flipped_bytes_give_correct_data_or_corrupted(
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let (image, _, _) = fixture();
        let mut image = image.clone();
        // Flip only within the pages the meta knows and the double-write area after them
        // (the rest of the file is growth slack that nothing reads).
        let used = image.len().min(2 * PAGES_IN_USE * PAGE_SIZE as usize);
        for (at, mask) in flips {
            image[at.index(used)] ^= mask;
        }
        check(image)?;
    }

    #[test]
    fn a_flip_in_any_used_page_gives_correct_data_or_corrupted(page in 0usize..PAGES_IN_USE, offset in 0usize..PAGE_SIZE as usize, mask in 1u8..=255) {
        let (image, _, _) = fixture();
        let mut image = image.clone();
        image[page * PAGE_SIZE as usize + offset] ^= mask;
        check(image)?;
    }
}

#[test]
fn the_uncorrupted_fixture_reads_back_fully() {
    let (image, ma, _) = fixture();
    let pager =
        Arc::new(Pager::open_with(Box::new(SimStorage::from_image(image.clone()))).unwrap());
    let a = BTree::open(&pager, "a").unwrap();
    assert_eq!(a.iter().count(), ma.len());
    let report = check_file_integrity(&pager, &[]).unwrap();
    assert!(report.trees[0].1.depth >= 2 && report.trees[0].1.overflow_pages > 0);
    assert!(
        report.page_count <= PAGES_IN_USE as u64 && report.page_count > PAGES_IN_USE as u64 / 2
    );
}
