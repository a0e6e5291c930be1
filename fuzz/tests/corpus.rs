//! Replays every committed corpus file through its fuzz target: the fuzzers' findings
//! and their coverage stay checked on stable Rust, in every test run.
//!
//! `fuzz/corpus/<target>/` holds the inputs (seeds, and what the fuzzers kept as new
//! coverage); each must return normally: no panic, and no run longer than
//! [`HANG_LIMIT`] (a debug build on a loaded machine, so generous). An abort ends the
//! test process, which fails the run as well.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// How long one input may run before it counts as a hang.
const HANG_LIMIT: Duration = Duration::from_secs(60);

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    files
}

/// Runs `target` over every file of its corpus, each on its own thread so that a hang is
/// reported with the file's name.
fn replay(name: &str, target: fn(&[u8])) {
    for file in corpus(name) {
        let data = std::fs::read(&file).unwrap();
        let (done, finished) = mpsc::channel();
        let runner = std::thread::spawn(move || {
            target(&data);
            let _ = done.send(());
        });
        match finished.recv_timeout(HANG_LIMIT) {
            Ok(()) => runner.join().unwrap(),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // The sender dropped without sending: the target panicked.
                let panic = runner.join().unwrap_err();
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                panic!("{name} panicked on {}: {message}", file.display());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{name} ran over {HANG_LIMIT:?} on {}", file.display())
            }
        }
    }
}

#[test]
fn sql_corpus() {
    replay("sql", hdb_fuzz::sql);
}

#[test]
fn wal_corpus() {
    replay("wal", hdb_fuzz::wal);
}

#[test]
fn page_corpus() {
    replay("page", hdb_fuzz::page);
}

#[test]
fn d_log_corpus() {
    replay("d_log", hdb_fuzz::d_log);
}
