//! D against a `HashMap` model: random puts, deletes, gets and field queries, with the
//! store closed and reopened in the middle, must always agree with the model.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use kv_legacy::{Document, Durability, LegacyStore, Scalar, Timestamp};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Action {
    Put(String, Document),
    Delete(String),
    Get(String),
    FindBy(String, Scalar),
    Reopen,
    Compact,
}

fn key() -> impl Strategy<Value = String> {
    // A small key space so overwrites and deletes hit existing keys.
    prop_oneof![(0u8..24).prop_map(|i| format!("user_{i}")), "\\PC{0,12}"]
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        Just(Scalar::Null),
        any::<bool>().prop_map(Scalar::Bool),
        (-3i64..3).prop_map(Scalar::Int),
        any::<i64>().prop_map(Scalar::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Scalar::Float),
        prop_oneof![
            Just("active".to_string()),
            Just("inactive".to_string()),
            "\\PC{0,20}"
        ]
        .prop_map(Scalar::Text),
        any::<i64>().prop_map(|t| Scalar::Timestamp(Timestamp(t))),
    ]
}

fn document() -> impl Strategy<Value = Document> {
    prop::collection::btree_map(
        prop_oneof![
            Just("status".to_string()),
            Just("name".to_string()),
            "[a-z]{1,6}"
        ],
        scalar(),
        0..5,
    )
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (key(), document()).prop_map(|(k, d)| Action::Put(k, d)),
        2 => key().prop_map(Action::Delete),
        2 => key().prop_map(Action::Get),
        2 => (prop_oneof![Just("status".to_string()), "[a-z]{1,6}"], scalar())
            .prop_map(|(f, v)| Action::FindBy(f, v)),
        1 => Just(Action::Reopen),
        1 => Just(Action::Compact),
    ]
}

fn sorted(mut entries: Vec<(String, Document)>) -> Vec<(String, Document)> {
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn store_matches_hashmap_model(actions in prop::collection::vec(action(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LegacyStore::open(dir.path(), Durability::Off).unwrap();
        let mut model: HashMap<String, Document> = HashMap::new();
        for action in actions {
            match action {
                Action::Put(key, doc) => {
                    store.put(&key, doc.clone()).unwrap();
                    model.insert(key, doc);
                }
                Action::Delete(key) => {
                    prop_assert_eq!(store.delete(&key).unwrap(), model.remove(&key).is_some());
                }
                Action::Get(key) => prop_assert_eq!(store.get(&key), model.get(&key).cloned()),
                Action::FindBy(field, value) => {
                    let expected: Vec<_> = model
                        .iter()
                        .filter(|(_, doc)| doc.get(&field) == Some(&value))
                        .map(|(k, d)| (k.clone(), d.clone()))
                        .collect();
                    prop_assert_eq!(sorted(store.find_by(&field, &value)), sorted(expected));
                }
                Action::Reopen => {
                    drop(store);
                    store = LegacyStore::open(dir.path(), Durability::Off).unwrap();
                    prop_assert_eq!(store.recovery().torn_tail, None);
                }
                Action::Compact => {
                    store.compact().unwrap();
                }
            }
            prop_assert_eq!(store.len(), model.len());
        }
        drop(store);
        let store = LegacyStore::open(dir.path(), Durability::Off).unwrap();
        let (entries, _) = store.snapshot();
        let mut expected: Vec<_> = model.into_iter().collect();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        prop_assert_eq!(sorted(entries), expected);
    }
}
