//! Replay after damage: a torn final record is cut off and reported; damage anywhere
//! earlier is an error that names its offset. Also the lock file and the durability of
//! concurrent acknowledged writes.
#![allow(clippy::unwrap_used)]

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use kv_legacy::store::LOG_FILE;
use kv_legacy::{Document, Durability, Error, LegacyStore, Scalar};

fn doc(name: &str, status: &str) -> Document {
    [
        ("name".to_string(), Scalar::Text(name.to_string())),
        ("status".to_string(), Scalar::Text(status.to_string())),
    ]
    .into_iter()
    .collect()
}

/// Writes three records and returns the log offsets where each one starts, plus the end.
fn three_records(dir: &Path) -> Vec<u64> {
    let store = LegacyStore::open(dir, Durability::Full).unwrap();
    let mut offsets = vec![store.position().offset];
    store.put("user_1", doc("Alice", "active")).unwrap();
    offsets.push(store.position().offset);
    store.put("user_2", doc("Bob", "inactive")).unwrap();
    offsets.push(store.position().offset);
    store.delete("user_1").unwrap();
    offsets.push(store.position().offset);
    offsets
}

#[test]
fn a_torn_last_record_is_cut_off_at_every_length() {
    let template = tempfile::tempdir().unwrap();
    let offsets = three_records(template.path());
    let original = fs::read(template.path().join(LOG_FILE)).unwrap();
    let (last_start, end) = (offsets[2], offsets[3]);
    for cut in last_start..end {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(LOG_FILE), &original[..cut as usize]).unwrap();
        let store = LegacyStore::open(dir.path(), Durability::Full).unwrap();
        // The state before the delete: both users present.
        assert_eq!(
            store.get("user_1"),
            Some(doc("Alice", "active")),
            "cut at {cut}"
        );
        assert_eq!(
            store.get("user_2"),
            Some(doc("Bob", "inactive")),
            "cut at {cut}"
        );
        let torn = store.recovery().torn_tail;
        if cut == last_start {
            assert_eq!(torn, None, "a cut on a record boundary is a clean log");
        } else {
            let torn = torn.unwrap();
            assert_eq!((torn.offset, torn.bytes), (last_start, cut - last_start));
        }
        // The torn bytes are gone, and new writes land after the last good record.
        store.put("user_3", doc("Carol", "active")).unwrap();
        drop(store);
        let store = LegacyStore::open(dir.path(), Durability::Full).unwrap();
        assert_eq!(store.recovery().torn_tail, None);
        assert_eq!(store.len(), 3);
    }
}

#[test]
fn garbage_appended_after_the_last_record_is_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = three_records(dir.path());
    let log = dir.path().join(LOG_FILE);
    let file = OpenOptions::new().write(true).open(&log).unwrap();
    file.write_all_at(&[0u8; 700], offsets[3]).unwrap();
    let store = LegacyStore::open(dir.path(), Durability::Full).unwrap();
    assert_eq!(store.len(), 1);
    assert_eq!(store.recovery().torn_tail.map(|t| t.bytes), Some(700));
}

#[test]
fn a_flipped_byte_in_an_earlier_record_is_an_error_naming_its_offset() {
    let template = tempfile::tempdir().unwrap();
    let offsets = three_records(template.path());
    let original = fs::read(template.path().join(LOG_FILE)).unwrap();
    // Every byte of the first two records, header and payload alike.
    for position in offsets[0]..offsets[2] {
        let record_start = if position < offsets[1] {
            offsets[0]
        } else {
            offsets[1]
        };
        let dir = tempfile::tempdir().unwrap();
        let mut damaged = original.clone();
        damaged[position as usize] ^= 0x5a;
        fs::write(dir.path().join(LOG_FILE), &damaged).unwrap();
        match LegacyStore::open(dir.path(), Durability::Full) {
            Err(Error::Corrupted { offset, .. }) => {
                assert_eq!(offset, record_start, "flip at byte {position}");
            }
            other => panic!("flip at byte {position}: expected corruption, got {other:?}"),
        }
    }
}

#[test]
fn a_damaged_file_header_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    three_records(dir.path());
    let log = dir.path().join(LOG_FILE);
    let mut bytes = fs::read(&log).unwrap();
    bytes[3] ^= 1;
    fs::write(&log, &bytes).unwrap();
    assert!(matches!(
        LegacyStore::open(dir.path(), Durability::Full),
        Err(Error::Corrupted { offset: 0, .. })
    ));
}

#[test]
fn a_second_open_is_refused_while_the_store_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = LegacyStore::open(dir.path(), Durability::Full).unwrap();
    assert!(matches!(
        LegacyStore::open(dir.path(), Durability::Full),
        Err(Error::Locked { .. })
    ));
    drop(store);
    LegacyStore::open(dir.path(), Durability::Full).unwrap();
}

#[test]
fn bad_values_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = LegacyStore::open(dir.path(), Durability::Full).unwrap();
    let before = store.position();
    let nan: Document = [("x".to_string(), Scalar::Float(f64::NAN))]
        .into_iter()
        .collect();
    assert!(matches!(store.put("k", nan), Err(Error::InvalidValue(_))));
    let huge_key = "k".repeat(kv_legacy::store::MAX_KEY_LEN + 1);
    assert!(matches!(
        store.put(&huge_key, Document::new()),
        Err(Error::InvalidValue(_))
    ));
    let huge_value: Document = [("x".to_string(), Scalar::Text("v".repeat(65 << 20)))]
        .into_iter()
        .collect();
    assert!(matches!(
        store.put("k", huge_value),
        Err(Error::InvalidValue(_))
    ));
    assert_eq!(store.position(), before);
    assert!(store.is_empty());
}

#[test]
fn concurrent_acknowledged_writes_all_survive_reopen() {
    const THREADS: usize = 8;
    let writes_per_thread: usize = std::env::var("HDB_D_WRITES_PER_THREAD")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LegacyStore::open(dir.path(), Durability::Full).unwrap());
    let handles: Vec<_> = (0..THREADS)
        .map(|thread| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for i in 0..writes_per_thread {
                    let key = format!("t{thread}-{i}");
                    let value: Document = [("n".to_string(), Scalar::Int(i as i64))]
                        .into_iter()
                        .collect();
                    store.put(&key, value).unwrap();
                    acknowledged.push((key, i as i64));
                }
                acknowledged
            })
        })
        .collect();
    let acknowledged: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    drop(store);
    let store = LegacyStore::open(dir.path(), Durability::Full).unwrap();
    assert_eq!(store.len(), THREADS * writes_per_thread);
    for (key, n) in acknowledged {
        assert_eq!(
            store.get(&key).and_then(|d| d.get("n").cloned()),
            Some(Scalar::Int(n))
        );
    }
}
