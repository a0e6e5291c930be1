//! SQLite's sqllogictest files `select1.test` … `select5.test` (vendored in
//! `tests/sqlite_slt/`, public domain; see its SOURCE.txt) through `hdb_tools::slt`, one test
//! per file.
//!
//! The acceptance is every record passing, and all five files do: each test requires
//! that every record of its file ran and none failed. (While the SQL layer was being
//! built, each file had a ratchet, a floor of passing records raised as features
//! landed; it reached the record counts and was replaced by this.) Each test prints
//! its counts (`cargo nextest run --test slt_sqlite --no-capture`).
//!
//! A file runs on its own thread under a time budget (`HDB_SLT_BUDGET_SECS`, default
//! 240 s, below nextest's 300 s kill), so a query that runs away fails with the counts
//! so far instead of hanging CI; records not reached count as not passed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hdb_tools::slt::{self, FileReport, Options, Outcome};
use sqllogictest::harness::{Arguments, Failed, Trial, run};

/// (file, records in the file: statements and queries).
const FILES: [(&str, usize); 5] = [
    ("select1.test", 1031),
    ("select2.test", 1031),
    ("select3.test", 3351),
    ("select4.test", 3857),
    ("select5.test", 1436),
];

/// How many failed records a failing test prints in full.
const SHOWN_FAILURES: usize = 10;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sqlite_slt")
}

fn budget() -> Duration {
    let secs = std::env::var("HDB_SLT_BUDGET_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(240);
    Duration::from_secs(secs)
}

enum Message {
    Record(Outcome),
    Done(Result<FileReport, String>),
}

/// Runs `path` on a thread; returns the report, or the outcomes seen before the
/// budget ran out (the thread is abandoned; the test process ends soon after).
fn run_with_budget(path: PathBuf) -> Result<(FileReport, bool), String> {
    let (sender, receiver) = mpsc::channel();
    let records = sender.clone();
    std::thread::spawn(move || {
        let result = slt::run_file_with(&path, &Options::default(), |outcome| {
            let _ = records.send(Message::Record(outcome.clone()));
        });
        let _ = sender.send(Message::Done(result.map_err(|e| e.to_string())));
    });
    let deadline = Instant::now() + budget();
    let mut partial = FileReport::default();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match receiver.recv_timeout(left) {
            Ok(Message::Record(outcome)) => match outcome {
                Outcome::Passed => partial.passed += 1,
                Outcome::Skipped => partial.skipped += 1,
                Outcome::Failed(failure) => {
                    partial.failed += 1;
                    partial.failures.push(failure);
                }
            },
            Ok(Message::Done(result)) => return result.map(|report| (report, false)),
            Err(mpsc::RecvTimeoutError::Timeout) => return Ok((partial, true)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err("the runner thread panicked".to_string());
            }
        }
    }
}

fn check(file: &str, total: usize) -> Result<(), Failed> {
    let path = corpus_dir().join(file);
    if !path.is_file() {
        return Err(format!(
            "{} is missing: the vendored corpus belongs in tests/sqlite_slt/",
            path.display()
        )
        .into());
    }
    let started = Instant::now();
    let (report, timed_out) = run_with_budget(path)?;
    let ran = report.passed + report.failed + report.skipped;
    println!(
        "{file}: {} passed, {} failed, {} skipped of {total} records in {:.1?}{}",
        report.passed,
        report.failed,
        report.skipped,
        started.elapsed(),
        if timed_out { " (out of time)" } else { "" }
    );
    let shown: Vec<String> = report
        .failures
        .iter()
        .take(SHOWN_FAILURES)
        .map(|f| format!("FAILED {}\n{}", f.location, f.message))
        .collect();
    let problem = if timed_out {
        Some(format!("ran out of time after {ran} of {total} records"))
    } else if ran != total {
        Some(format!("ran {ran} records, the file has {total}"))
    } else if report.failed > 0 {
        Some(format!("{} records failed", report.failed))
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(format!("{file}: {problem}\n{}", shown.join("\n")).into()),
    }
}

fn main() {
    let tests = FILES
        .iter()
        .map(|&(file, total)| {
            let name = file.trim_end_matches(".test").to_string();
            Trial::test(name, move || check(file, total))
        })
        .collect();
    run(&Arguments::from_args(), tests).exit();
}
