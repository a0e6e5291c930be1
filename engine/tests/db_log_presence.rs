//! The log a database file needs, and what happens without it (issue 10, defect 5).
//!
//! After a clean close the `.hdb` file stands alone: it opens without its `.wal/`
//! directory, also copied elsewhere. A file that was not closed cleanly refuses to open
//! without its log (the directory removed, or emptied) with `Error::LogMissing` naming the
//! directory, and creates nothing; a log shortened to before the file's checkpoint is
//! `WalCorrupted` naming both LSNs; a torn tail is still cut and reported; a log left
//! behind by a deleted file is not applied to a new one.
#![allow(clippy::unwrap_used)]

use std::ops::Bound;
use std::path::{Path, PathBuf};

use engine::{Database, DatabaseOptions, Error, IsolationLevel, TreeId};

const TREE: TreeId = TreeId(1);

fn open(path: &Path) -> engine::Result<Database> {
    Database::open(path, DatabaseOptions::default())
}

fn wal_dir(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.wal", path.display()))
}

fn commit(db: &Database, range: std::ops::Range<u32>) {
    for i in range {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        txn.put(TREE, &i.to_be_bytes(), format!("row {i}").as_bytes())
            .unwrap();
        txn.commit().unwrap();
    }
}

fn count(db: &Database) -> usize {
    db.begin(IsolationLevel::RepeatableRead)
        .scan(TREE, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .count()
}

/// The log's segment files, largest name (newest) last.
fn segments(path: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(wal_dir(path))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
}

#[test]
fn a_cleanly_closed_file_stands_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let db = open(&path).unwrap();
    commit(&db, 0..50);
    drop(db);
    // Only the file, elsewhere.
    let copy = dir.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    let db = open(&copy).unwrap();
    assert!(db.recovery().new_log, "{:?}", db.recovery());
    assert_eq!(count(&db), 50);
    commit(&db, 50..60);
    db.close().unwrap();
    let db = open(&copy).unwrap();
    assert_eq!(count(&db), 60);
    assert!(!db.recovery().new_log);
    db.check_integrity().unwrap();
    // The original without its log directory.
    std::fs::remove_dir_all(wal_dir(&path)).unwrap();
    let db = open(&path).unwrap();
    assert_eq!(count(&db), 50);
}

#[test]
fn a_missing_or_emptied_log_of_a_file_in_use_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let db = open(&path).unwrap();
    // Never checkpointed but at open: every commit is in the log only.
    commit(&db, 0..20);
    db.close_as_if_crashed();
    let log = wal_dir(&path);
    let saved = dir.path().join("saved.wal");
    std::fs::rename(&log, &saved).unwrap();
    match open(&path) {
        Err(Error::LogMissing {
            path: named,
            reason,
        }) => {
            assert_eq!(named, log.display().to_string());
            assert!(reason.contains("not closed cleanly"), "{reason}");
        }
        other => panic!("expected LogMissing, got {other:?}"),
    }
    assert!(!log.exists(), "a refused open created the log directory");
    // An empty directory in its place is refused too.
    std::fs::create_dir(&log).unwrap();
    assert!(matches!(open(&path), Err(Error::LogMissing { .. })));
    std::fs::remove_dir_all(&log).unwrap();
    // With the log back, everything is there.
    std::fs::rename(&saved, &log).unwrap();
    let db = open(&path).unwrap();
    assert_eq!(db.recovery().replayed_commits, 20);
    assert_eq!(count(&db), 20);
}

#[test]
fn a_log_shortened_below_the_checkpoint_is_refused_naming_both_lsns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let db = open(&path).unwrap();
    commit(&db, 0..30);
    let checkpoint = db.checkpoint().unwrap();
    commit(&db, 30..40);
    db.close_as_if_crashed();
    let last = segments(&path).pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
    file.set_len(len / 4).unwrap();
    drop(file);
    match open(&path) {
        Err(Error::WalCorrupted { lsn, reason }) => {
            assert_eq!(lsn, checkpoint.0, "{reason}");
            assert!(reason.contains("lost records"), "{reason}");
        }
        other => panic!("expected WalCorrupted, got {other:?}"),
    }
}

#[test]
fn a_torn_tail_is_cut_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let db = open(&path).unwrap();
    commit(&db, 0..10);
    db.close_as_if_crashed();
    let last = segments(&path).pop().unwrap();
    let mut bytes = std::fs::read(&last).unwrap();
    bytes.extend_from_slice(&[0x5a; 100]);
    std::fs::write(&last, bytes).unwrap();
    let db = open(&path).unwrap();
    assert_eq!(db.recovery().torn_log_bytes, 100);
    assert_eq!(count(&db), 10);
}

#[test]
fn a_log_left_by_a_deleted_file_is_not_applied_to_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let db = open(&path).unwrap();
    commit(&db, 0..10);
    db.close_as_if_crashed();
    std::fs::remove_file(&path).unwrap();
    match open(&path) {
        Err(Error::LogMissing { reason, .. }) => {
            assert!(reason.contains("does not"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!path.exists());
}
