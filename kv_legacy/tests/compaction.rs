//! Compaction keeps every live document through a crash at any step, and the change
//! stream follows the log across writes and refuses positions compaction replaced.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use kv_legacy::store::{LOG_FILE, TEMP_LOG_FILE};
use kv_legacy::{
    CompactionStep, Document, Durability, Error, LegacyStore, LogPosition, Op, Scalar,
};

fn numbered(n: i64) -> Document {
    [("n".to_string(), Scalar::Int(n))].into_iter().collect()
}

/// A store with overwritten and deleted keys, and the live state it should hold.
fn churned_store(dir: &std::path::Path) -> (LegacyStore, BTreeMap<String, Document>) {
    let store = LegacyStore::open(dir, Durability::Full).unwrap();
    let mut live = BTreeMap::new();
    for round in 0..3 {
        for i in 0..50 {
            let key = format!("k{i}");
            store.put(&key, numbered(round * 100 + i)).unwrap();
            live.insert(key, numbered(round * 100 + i));
        }
    }
    for i in (0..50).step_by(3) {
        store.delete(&format!("k{i}")).unwrap();
        live.remove(&format!("k{i}"));
    }
    (store, live)
}

fn contents(store: &LegacyStore) -> BTreeMap<String, Document> {
    store.snapshot().0.into_iter().collect()
}

#[test]
fn compaction_shrinks_the_log_and_keeps_live_data() {
    let dir = tempfile::tempdir().unwrap();
    let (store, live) = churned_store(dir.path());
    let report = store.compact().unwrap();
    assert_eq!(report.live_records, live.len() as u64);
    assert!(report.bytes_after < report.bytes_before / 2, "{report:?}");
    store.put("after", numbered(1)).unwrap();
    drop(store);
    let store = LegacyStore::open(dir.path(), Durability::Full).unwrap();
    let mut expected = live;
    expected.insert("after".to_string(), numbered(1));
    assert_eq!(contents(&store), expected);
}

#[test]
fn compaction_stopped_before_any_step_leaves_a_store_with_all_live_data() {
    for step in [
        CompactionStep::WriteTemp,
        CompactionStep::SyncTemp,
        CompactionStep::Rename,
        CompactionStep::SyncDir,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (store, live) = churned_store(dir.path());
        let generation_before = store.position().generation;
        store.set_compaction_failpoint(Some(step));
        assert_eq!(store.compact().unwrap_err(), Error::Failpoint(step));
        // The store stays usable after the interruption, and what it acknowledges now
        // must survive too.
        store.put("late", numbered(7)).unwrap();
        drop(store);

        let temp_left = dir.path().join(TEMP_LOG_FILE).exists();
        assert_eq!(
            temp_left,
            matches!(step, CompactionStep::SyncTemp | CompactionStep::Rename)
        );
        let store = LegacyStore::open(dir.path(), Durability::Full).unwrap();
        assert_eq!(store.recovery().removed_temp_log, temp_left, "{step:?}");
        assert!(!dir.path().join(TEMP_LOG_FILE).exists());
        let mut expected = live.clone();
        expected.insert("late".to_string(), numbered(7));
        assert_eq!(contents(&store), expected, "after stopping before {step:?}");
        let renamed = step == CompactionStep::SyncDir;
        assert_eq!(
            store.position().generation,
            generation_before + u64::from(renamed)
        );
        // And a full compaction still works afterwards.
        store.compact().unwrap();
        assert_eq!(contents(&store), expected);
    }
}

#[test]
fn the_change_stream_replays_every_write_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = LegacyStore::open(dir.path(), Durability::Off).unwrap();
    store.put("a", numbered(1)).unwrap();
    let start = store.position();
    store.put("b", numbered(2)).unwrap();
    store.delete("a").unwrap();
    store.put("b", numbered(3)).unwrap();

    let first = store.changes_since(start, 2).unwrap();
    let ops: Vec<_> = first.changes.iter().map(|c| c.op.clone()).collect();
    assert_eq!(
        ops,
        vec![
            Op::Put {
                key: "b".into(),
                doc: numbered(2)
            },
            Op::Delete { key: "a".into() },
        ]
    );
    let rest = store.changes_since(first.next, 100).unwrap();
    assert_eq!(rest.changes.len(), 1);
    assert_eq!(rest.next, store.position());
    assert!(
        store
            .changes_since(rest.next, 100)
            .unwrap()
            .changes
            .is_empty()
    );

    // A reader in another process uses the file directly, without the store's lock.
    let tail = kv_legacy::log::read_changes(&dir.path().join(LOG_FILE), start, 100, true).unwrap();
    assert_eq!(tail.changes.len(), 3);

    store.compact().unwrap();
    assert_eq!(
        store.changes_since(start, 10).unwrap_err(),
        Error::Compacted {
            requested: start.generation,
            current: start.generation + 1
        }
    );
    let past_end = LogPosition {
        offset: store.position().offset + 1,
        ..store.position()
    };
    assert!(matches!(
        store.changes_since(past_end, 10),
        Err(Error::InvalidValue(_))
    ));
}
