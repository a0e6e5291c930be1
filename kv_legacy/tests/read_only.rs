//! Opening a store read-only writes nothing: a missing store is an error (nothing is
//! created), a torn tail is reported but stays in the file, every write is refused, and
//! a writer is kept out while a reader has the store open.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

use kv_legacy::store::{LOCK_FILE, LOG_FILE};
use kv_legacy::{Document, Durability, Error, LegacyStore, LogPosition, Scalar};

fn doc(name: &str) -> Document {
    [("name".to_string(), Scalar::Text(name.to_string()))]
        .into_iter()
        .collect()
}

/// A store with two documents, closed; returns the log's length.
fn two_documents(dir: &Path) -> u64 {
    let store = LegacyStore::open(dir, Durability::Full).unwrap();
    store.put("a", doc("Alice")).unwrap();
    store.put("b", doc("Bob")).unwrap();
    store.position().offset
}

/// Every entry of a directory, with each file's bytes.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = fs::read(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    entries.sort();
    entries
}

#[test]
fn a_missing_store_is_not_found_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo");
    let err = LegacyStore::open_read_only(&typo).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("typo"), "names the path: {err}");
    assert!(
        !typo.exists(),
        "a read-only open created {}",
        typo.display()
    );

    // A directory without a log is not a store either, and gains no files.
    fs::create_dir(&typo).unwrap();
    let err = LegacyStore::open_read_only(&typo).unwrap_err();
    assert!(err.to_string().contains(LOG_FILE), "{err}");
    assert!(contents(&typo).is_empty());

    // A file is not a store.
    let file = dir.path().join("file");
    fs::write(&file, b"x").unwrap();
    assert!(matches!(
        LegacyStore::open_read_only(&file),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn a_torn_tail_is_reported_and_left_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let end = two_documents(dir.path());
    let log = dir.path().join(LOG_FILE);
    // Half of a third record: a write a crash cut short.
    let mut bytes = fs::read(&log).unwrap();
    let whole = {
        let other = tempfile::tempdir().unwrap();
        let store = LegacyStore::open(other.path(), Durability::Full).unwrap();
        let start = store.position().offset as usize;
        store.put("c", doc("Carol")).unwrap();
        fs::read(other.path().join(LOG_FILE)).unwrap()[start..].to_vec()
    };
    bytes.extend_from_slice(&whole[..whole.len() / 2]);
    fs::write(&log, &bytes).unwrap();
    let before = contents(dir.path());

    let store = LegacyStore::open_read_only(dir.path()).unwrap();
    let tail = store.recovery().torn_tail.unwrap();
    assert_eq!(tail.offset, end);
    assert_eq!(tail.bytes, (whole.len() / 2) as u64);
    assert_eq!(store.recovery().records, 2);
    assert_eq!(store.get("a"), Some(doc("Alice")));
    assert_eq!(store.len(), 2);
    // The change stream ends before the torn record rather than calling it corruption.
    let from = LogPosition {
        generation: store.position().generation,
        offset: kv_legacy::record::FILE_HEADER_LEN,
    };
    let batch = store.changes_since(from, 100).unwrap();
    assert_eq!(batch.changes.len(), 2);
    assert_eq!(batch.next.offset, end);
    drop(store);
    assert_eq!(
        contents(dir.path()),
        before,
        "a read-only open changed the store"
    );

    // The next writable open cuts it, as before.
    let store = LegacyStore::open(dir.path(), Durability::Full).unwrap();
    assert_eq!(store.recovery().torn_tail, Some(tail));
    drop(store);
    assert_eq!(fs::metadata(&log).unwrap().len(), end);
}

#[test]
fn a_read_only_store_refuses_every_write_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    two_documents(dir.path());
    // A temporary log of an interrupted compaction is left alone too.
    fs::write(dir.path().join(kv_legacy::store::TEMP_LOG_FILE), b"partial").unwrap();
    let before = contents(dir.path());
    let store = LegacyStore::open_read_only(dir.path()).unwrap();
    assert!(store.is_read_only());
    let read_only = |result: Result<(), Error>| {
        assert!(matches!(result, Err(Error::ReadOnly { .. })), "{result:?}")
    };
    read_only(store.put("c", doc("Carol")));
    read_only(store.delete("a").map(drop));
    read_only(store.sync());
    read_only(store.compact().map(drop));
    assert_eq!(store.get("a"), Some(doc("Alice")));
    drop(store);
    assert_eq!(contents(dir.path()), before);
}

#[test]
fn readers_share_the_store_and_keep_a_writer_out() {
    let dir = tempfile::tempdir().unwrap();
    two_documents(dir.path());
    assert!(dir.path().join(LOCK_FILE).exists());
    let first = LegacyStore::open_read_only(dir.path()).unwrap();
    let second = LegacyStore::open_read_only(dir.path()).unwrap();
    assert!(matches!(
        LegacyStore::open(dir.path(), Durability::Full),
        Err(Error::Locked { .. })
    ));
    drop((first, second));
    let writer = LegacyStore::open(dir.path(), Durability::Full).unwrap();
    assert!(matches!(
        LegacyStore::open_read_only(dir.path()),
        Err(Error::Locked { .. })
    ));
    drop(writer);
}
