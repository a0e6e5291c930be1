//! The `hdb` binary's errors for files that are missing, cut short or copied without
//! their log, and for a comparison too large to generate: each names what is wrong,
//! exits non-zero, and neither aborts nor creates anything.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn hdb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hdb"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails with an exit status (not a signal) and a message.
fn failed(output: &Output) -> String {
    assert!(!output.status.success(), "succeeded: {output:?}");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    stderr(output)
}

fn sql(path: &Path, statements: &str) -> Output {
    hdb(&["sql", path.to_str().unwrap(), "-c", statements])
}

#[test]
fn a_database_in_a_missing_directory_names_the_path_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nonexistent/dir/x.db");
    let message = failed(&sql(&path, "SELECT 1"));
    let shown = path.to_str().unwrap();
    assert_eq!(message.matches(shown).count(), 1, "{message}");
    assert_eq!(message.matches("I/O error").count(), 1, "{message}");
    assert!(!dir.path().join("nonexistent").exists());
}

#[test]
fn a_data_file_cut_to_one_page_says_it_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let rows: Vec<String> = (1..500)
        .map(|i| format!("({i}, '{}')", "x".repeat(200)))
        .collect();
    let created = sql(
        &path,
        &format!(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT); INSERT INTO t VALUES {}",
            rows.join(", ")
        ),
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(4096).unwrap();
    drop(file);
    let message = failed(&sql(&path, "SELECT count(*) FROM t"));
    assert!(
        message.contains("truncated")
            && message.contains(path.to_str().unwrap())
            && message.contains("4096 bytes"),
        "{message}"
    );
    assert!(!message.contains("fill whole buffer"), "{message}");
}

#[test]
fn a_file_copied_without_the_log_it_needs_names_the_log_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let created = sql(&path, "CREATE TABLE t (id INTEGER PRIMARY KEY)");
    assert!(created.status.success(), "{}", stderr(&created));
    // A clean close leaves a file that stands alone: the copy opens without its log.
    let copy_dir = dir.path().join("copy");
    fs::create_dir(&copy_dir).unwrap();
    let copy = copy_dir.join("h.db");
    fs::copy(&path, &copy).unwrap();
    let opened = sql(&copy, "SELECT count(*) FROM t");
    assert!(opened.status.success(), "{}", stderr(&opened));
}

#[test]
fn a_comparison_too_large_to_generate_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let output = hdb(&[
        "compare",
        "--scale",
        "5000000000",
        "--out",
        dir.path().to_str().unwrap(),
        "--no-progress",
    ]);
    assert!(!output.status.success());
    // A usage error from the argument parser (exit 2), not an abort by a signal.
    assert!(output.status.code().is_some(), "{output:?}");
    let message = stderr(&output);
    assert!(message.contains("at most"), "{message}");
}
