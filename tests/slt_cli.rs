//! `hdb slt` end to end: one summary line per file and the totals last, `-v` printing
//! each failed record with its file:line, the exit status, `--label` for
//! skipif/onlyif, `--format` overriding the guess from the file name, and a file that
//! is not sqllogictest reported without stopping the others.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hdb_slt(args: &[&str], files: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hdb"))
        .arg("slt")
        .args(args)
        .args(files)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn write(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

const PASSING: &str = "\
statement ok
CREATE TABLE t (a INTEGER, b TEXT)

statement count 2
INSERT INTO t VALUES (1, 'x'), (2, '')

query IT
SELECT a, b FROM t ORDER BY a
----
1 x
2 (empty)
";

const FAILING: &str = "\
statement ok
CREATE TABLE t (a INTEGER)

query I
SELECT 41 + 1
----
41

statement error
SELECT a FROM t

onlyif special
statement ok
DROP TABLE t

statement ok
INSERT INTO t VALUES (1)
";

#[test]
fn passing_and_failing_files_are_summed() {
    let dir = tempfile::tempdir().unwrap();
    let passing = write(dir.path(), "passing.slt", PASSING);
    let failing = write(dir.path(), "failing.slt", FAILING);

    let out = hdb_slt(&[], &[&passing]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        text(&out.stdout),
        "passing.slt: 3 passed, 0 failed\n3 passed, 0 failed\n"
    );

    let out = hdb_slt(&[], &[&passing, &failing]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "passing.slt: 3 passed, 0 failed\n\
         failing.slt: 2 passed, 2 failed, 1 skipped\n\
         5 passed, 2 failed\n"
    );
}

#[test]
fn verbose_prints_each_failed_record() {
    let dir = tempfile::tempdir().unwrap();
    let failing = write(dir.path(), "failing.slt", FAILING);
    let out = hdb_slt(&["-v"], &[&failing]);
    let stdout = text(&out.stdout);
    let location = format!("FAILED {}:4", failing.display());
    assert!(stdout.contains(&location), "{stdout}");
    assert!(stdout.contains("SELECT 41 + 1"), "{stdout}");
    assert!(
        stdout.contains("-   41") && stdout.contains("+   42"),
        "{stdout}"
    );
    let location = format!("FAILED {}:9", failing.display());
    assert!(stdout.contains(&location), "{stdout}");
}

#[test]
fn labels_choose_conditional_records() {
    let dir = tempfile::tempdir().unwrap();
    let failing = write(dir.path(), "failing.slt", FAILING);
    // Answering to `special` runs the DROP, so the INSERT after it fails too.
    let out = hdb_slt(&["--label", "special"], &[&failing]);
    assert_eq!(
        text(&out.stdout).lines().next().unwrap(),
        "failing.slt: 2 passed, 3 failed"
    );
}

#[test]
fn format_decides_how_results_are_read() {
    let dir = tempfile::tempdir().unwrap();
    // One value per line: SQLite's format, guessed from `.test`, forced on `.slt`.
    let valuewise = PASSING.replace("1 x\n2 (empty)", "1\nx\n2\n(empty)");
    let as_test = write(dir.path(), "values.test", &valuewise);
    let as_slt = write(dir.path(), "values.slt", &valuewise);
    assert!(hdb_slt(&[], &[&as_test]).status.success());
    assert!(!hdb_slt(&[], &[&as_slt]).status.success());
    assert!(
        hdb_slt(&["--format", "sqlite"], &[&as_slt])
            .status
            .success()
    );
    assert!(!hdb_slt(&["--format", "slt"], &[&as_test]).status.success());
}

#[test]
fn a_bad_file_is_reported_and_the_rest_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.slt", "this is not sqllogictest\n");
    let missing = dir.path().join("missing.slt");
    let passing = write(dir.path(), "passing.slt", PASSING);
    let out = hdb_slt(&[], &[&bad, &missing, &passing]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "bad.slt: could not be run\n\
         missing.slt: could not be run\n\
         passing.slt: 3 passed, 0 failed\n\
         3 passed, 2 failed\n"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.slt"), "{stderr}");
    assert!(stderr.contains("missing.slt"), "{stderr}");
}

#[test]
fn sqlite_files_render_values_by_the_records_type_letters() {
    let dir = tempfile::tempdir().unwrap();
    // `I` truncates a float and reads text by its leading integer, `R` prints three
    // decimals, `T` prints the text; a `.slt` file keeps each value's own rendering.
    let script = "\
query IRT
SELECT 7.9::float8, 2, ''
----
7
2.000
(empty)

query I
SELECT 'abc'
----
0

query IIR
SELECT '12x', true, 1.5::float8 * 2
----
12
1
3.000
";
    let as_test = write(dir.path(), "letters.test", script);
    let out = hdb_slt(&["-v"], &[&as_test]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let as_slt = write(dir.path(), "letters.slt", script);
    let out = hdb_slt(&["--format", "sqlite"], &[&as_slt]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = hdb_slt(&[], &[&as_slt]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn label_postgresql_skips_records_marked_skipif_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let script = "\
skipif postgresql
query I
SELECT 1
----
2

onlyif postgresql
query I
SELECT 1
----
1
";
    let file = write(dir.path(), "pg.slt", script);
    let out = hdb_slt(&["--label", "postgresql"], &[&file]);
    assert_eq!(
        text(&out.stdout).lines().next().unwrap(),
        "pg.slt: 1 passed, 0 failed, 1 skipped"
    );
    let out = hdb_slt(&[], &[&file]);
    assert_eq!(
        text(&out.stdout).lines().next().unwrap(),
        "pg.slt: 0 passed, 1 failed, 1 skipped"
    );
}
