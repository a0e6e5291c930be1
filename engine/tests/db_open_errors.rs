//! What opening a damaged or misplaced database file says: a file cut short is
//! `Error::Truncated` naming the path, the size its header needs and the size it has
//! (never a failed read from somewhere inside it); a file that cannot be created or
//! opened is `Error::File` naming the path once.
#![allow(clippy::unwrap_used)]

use std::fs::OpenOptions;
use std::path::Path;

use engine::{Database, DatabaseOptions, Error, IsolationLevel, TreeId};

const PAGE_SIZE: u64 = 4096;

fn open(path: &Path) -> engine::Result<Database> {
    Database::open(
        path,
        DatabaseOptions {
            page_size: PAGE_SIZE as u32,
            ..DatabaseOptions::default()
        },
    )
}

/// A closed database holding a few hundred rows (several pages).
fn database_with_rows(path: &Path) {
    let db = open(path).unwrap();
    for i in 0u32..300 {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        txn.put(TreeId(1), &i.to_be_bytes(), &[7u8; 100]).unwrap();
        txn.commit().unwrap();
    }
    db.close().unwrap();
}

fn cut(path: &Path, len: u64) {
    OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

#[test]
fn a_file_cut_short_is_truncated_naming_path_and_sizes() {
    for len in [PAGE_SIZE, PAGE_SIZE + 100, 3 * PAGE_SIZE, 1000, 0] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        database_with_rows(&path);
        cut(&path, len);
        let err = open(&path).unwrap_err();
        let Error::Truncated {
            path: named,
            expected,
            actual,
        } = &err
        else {
            panic!("cut to {len} bytes: {err}");
        };
        assert_eq!(named, &path.display().to_string());
        assert_eq!(*actual, len);
        assert!(*expected > len, "cut to {len}: expected {expected}");
        let message = err.to_string();
        assert!(
            message.contains("truncated") && message.contains(named.as_str()),
            "{message}"
        );
        // Refused without writing: the file is as it was cut.
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
    }
}

#[test]
fn a_file_in_a_missing_directory_is_an_error_naming_the_path_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/h.db");
    let err = open(&path).unwrap_err();
    assert!(matches!(err, Error::File { .. }), "{err:?}");
    let message = err.to_string();
    let shown = path.display().to_string();
    assert_eq!(message.matches(shown.as_str()).count(), 1, "{message}");
    assert!(!message.contains("I/O error"), "{message}");
    assert!(!dir.path().join("no").exists());
}
