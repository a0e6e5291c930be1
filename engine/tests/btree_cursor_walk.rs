//! Cursor walks against a model cursor over `std::collections::BTreeMap`: random trees
//! (several leaves deep on small pages), random ranges and directions, then random
//! sequences of `next`, `prev` and `seek` — to keys in the tree, between them, and
//! outside the range. Every step must return what the module header of
//! `btree/cursor.rs` promises, and never `Error::Corrupted`: a cursor refuses to go back
//! over keys it already returned (a damaged leaf with keys out of order would otherwise
//! loop it forever), and this checks that no legal walk — above all a step right after
//! a seek to a key that is in the tree — trips that check.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use engine::btree::{BTree, Direction};
use engine::pager::{Pager, PagerOptions, SimStorage};
use proptest::prelude::*;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// A key: one of the tree's keys by index, or any short byte string.
#[derive(Debug, Clone)]
enum KeySel {
    Existing(usize),
    Any(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Step {
    Next,
    Prev,
    Seek(KeySel),
}

/// What the cursor last did, as the module header defines positions.
#[derive(Debug, Clone)]
enum Position {
    Fresh,
    At(Vec<u8>),
    Sought(Vec<u8>),
}

/// The model cursor: the entries of `range` in the cursor's direction, and a position.
struct ModelCursor<'m> {
    entries: Vec<(&'m Vec<u8>, &'m Vec<u8>)>,
    /// Whether `entries` is in descending key order.
    reverse: bool,
    position: Position,
}

impl ModelCursor<'_> {
    /// `a` comes before `b` in the cursor's direction.
    fn before(&self, a: &[u8], b: &[u8]) -> bool {
        match self.reverse {
            false => a < b,
            true => a > b,
        }
    }

    /// `next` (`forward`) or `prev` (`!forward`), as the header says.
    fn step(&mut self, forward: bool) -> Option<(Vec<u8>, Vec<u8>)> {
        let found = match (forward, &self.position) {
            (true, Position::Fresh) => self.entries.first(),
            (false, Position::Fresh) => self.entries.last(),
            (true, Position::At(k)) => self.entries.iter().find(|(e, _)| self.before(k, e)),
            (false, Position::At(k)) => self.entries.iter().rev().find(|(e, _)| self.before(e, k)),
            (true, Position::Sought(k)) => self.entries.iter().find(|(e, _)| !self.before(e, k)),
            (false, Position::Sought(k)) => {
                self.entries.iter().rev().find(|(e, _)| self.before(e, k))
            }
        };
        let found = found.map(|(k, v)| ((*k).clone(), (*v).clone()));
        if let Some((k, _)) = &found {
            self.position = Position::At(k.clone());
        }
        found
    }
}

fn key_sel() -> impl Strategy<Value = KeySel> {
    prop_oneof![
        3 => any::<usize>().prop_map(KeySel::Existing),
        1 => prop::collection::vec(any::<u8>(), 0..4).prop_map(KeySel::Any),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => Just(Step::Next),
        2 => Just(Step::Prev),
        1 => key_sel().prop_map(Step::Seek),
    ]
}

fn bound() -> impl Strategy<Value = Option<(KeySel, bool)>> {
    prop::option::of((key_sel(), any::<bool>()))
}

fn resolve(sel: &KeySel, model: &Model) -> Vec<u8> {
    match sel {
        KeySel::Existing(i) if !model.is_empty() => {
            model.keys().nth(i % model.len()).unwrap().clone()
        }
        KeySel::Existing(i) => vec![*i as u8],
        KeySel::Any(k) => k.clone(),
    }
}

fn to_bound(b: &Option<(KeySel, bool)>, model: &Model) -> Bound<Vec<u8>> {
    match b {
        None => Bound::Unbounded,
        Some((sel, true)) => Bound::Included(resolve(sel, model)),
        Some((sel, false)) => Bound::Excluded(resolve(sel, model)),
    }
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
        .unwrap_or(300)
}

/// A tree of `keys` as big-endian u16s (multiples of 4, so that keys between them
/// exist) on 512-byte pages, values of `value_len` bytes (700: overflow values).
fn build(keys: &[u16], value_len: usize) -> (Arc<Pager>, BTree, Model) {
    let sim = SimStorage::new();
    let pager =
        Arc::new(Pager::create_with(Box::new(sim), PagerOptions { page_size: 512 }).unwrap());
    let tree = BTree::create(&pager, "t").unwrap();
    let mut model = Model::new();
    for (i, k) in keys.iter().enumerate() {
        let key = k.to_be_bytes().to_vec();
        let value = vec![i as u8; value_len];
        tree.insert(&key, &value).unwrap();
        model.insert(key, value);
    }
    (pager, tree, model)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn cursor_walks_match_the_model(
        keys in prop::collection::vec((0u16..2000).prop_map(|k| k * 4), 0..300),
        value_len in prop_oneof![Just(1usize), Just(40), Just(700)],
        lo in bound(),
        hi in bound(),
        reverse in any::<bool>(),
        steps in prop::collection::vec(step(), 1..120),
    ) {
        let (_pager, tree, model) = build(&keys, value_len);
        let (lo, hi) = (to_bound(&lo, &model), to_bound(&hi, &model));
        let in_range = |k: &[u8]| {
            (match &lo {
                Bound::Included(l) => k >= l.as_slice(),
                Bound::Excluded(l) => k > l.as_slice(),
                Bound::Unbounded => true,
            }) && match &hi {
                Bound::Included(h) => k <= h.as_slice(),
                Bound::Excluded(h) => k < h.as_slice(),
                Bound::Unbounded => true,
            }
        };
        let mut entries: Vec<_> = model.iter().filter(|(k, _)| in_range(k)).collect();
        if reverse {
            entries.reverse();
        }
        let mut expected = ModelCursor { entries, reverse, position: Position::Fresh };
        let direction = match reverse {
            true => Direction::Reverse,
            false => Direction::Forward,
        };
        let mut cursor = tree.range((as_ref(&lo), as_ref(&hi)), direction);
        for (i, step) in steps.iter().enumerate() {
            let (got, want) = match step {
                Step::Next => (cursor.next(), expected.step(true)),
                Step::Prev => (cursor.prev(), expected.step(false)),
                Step::Seek(sel) => {
                    let key = resolve(sel, &model);
                    cursor.seek(&key);
                    expected.position = Position::Sought(key);
                    continue;
                }
            };
            match got {
                Ok(got) => prop_assert_eq!(got, want, "step {} ({:?})", i, step),
                Err(e) => prop_assert!(false, "step {} ({:?}) failed: {}", i, step, e),
            }
        }
    }
}
