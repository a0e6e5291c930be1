//! Running sqllogictest files against hdb (`hdb slt`, and the tests that run our own
//! `tests/slt/*.slt` and SQLite's `select1.test` … `select5.test`).
//!
//! The `sqllogictest` crate parses the files and checks each record; this module adds
//! what the crate leaves to its caller:
//!
//! - **A fresh database per file.** Each file runs against a new database in a
//!   temporary directory (removed afterwards), with durability off: nothing here needs
//!   to survive a crash, and a commit that waits for fsync would make the SQLite files,
//!   with their thousands of autocommit statements, slow for nothing. `connection NAME`
//!   records get their own [`Session`](hdb::Session) on that database, made the
//!   first time the name appears (connection.rs).
//! - **Two file formats.** A file named `*.test` is taken to be in SQLite's classic
//!   format: its expected results list one value per line (the crate's `valuewise`
//!   result mode) and results of more than 8 values are hashed unless the file says
//!   otherwise (the original runner's default `hash-threshold`), and each value is
//!   rendered by the type letter its record declares for the column, as SQLite's runner
//!   does (`I` an integer, `R` with three decimals, `T` text: sqlite_render.rs), before
//!   sorting, comparing or hashing. Any other file (our `.slt`) uses the crate's
//!   defaults: one row per line, never hashed, values rendered exactly as the column's
//!   type says (connection.rs). [`Format`] overrides the guess.
//! - **Conditions and comments the crate does not handle** (script.rs): trailing
//!   `# comments` on directive lines, and a `halt` that only applies to some engines.
//! - **Going on after a failure.** Records run one by one; a failing record is counted
//!   and kept in the [`FileReport`] (file:line, SQL, expected and actual, or the error),
//!   and the next record runs. A record is a `statement` or a `query`; one skipped by
//!   `skipif` / `onlyif` counts as skipped, neither passed nor failed. A record that
//!   makes the engine panic is caught and counted as failed too (the engine's locks
//!   do not poison, so the records after it still run; their results say whether the
//!   panic left damage), so one bug does not hide the rest of a file's results.
//! - **In-process or over the wire.** [`run_file`] runs a file through an
//!   [`hdb::Session`]; [`run_file_over_wire`] runs the same file through PostgreSQL's
//!   wire protocol against a server (`hdb serve`, or PostgreSQL), on the simple or the
//!   extended protocol (wire.rs), rendering values the same way, so a file gives the
//!   same results both ways.
//! - **No includes, no shell.** `include` and `system` records (which the crate would
//!   follow or run through bash) fail with a message instead: a test file for hdb is
//!   self-contained SQL.

mod connection;
mod script;
mod sqlite_render;
mod wire;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use engine::DatabaseOptions;
use engine::Durability;
use sqllogictest::{
    Control, DefaultColumnType, QueryExpect, Record, RecordOutput, ResultMode, Runner,
};

pub use connection::{SltConnection, StatementError, render};
pub use script::prepare;
pub use sqlite_render::render_as;
pub use wire::{Protocol, WireConnection, WireError};

use hdb::Database;

/// The label a runner answers to in `skipif` / `onlyif` unless told otherwise.
pub const DEFAULT_LABEL: &str = "hdb";

/// How a file writes its expected results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// SQLite's classic files: one value per line, hash threshold 8 by default.
    Sqlite,
    /// The `sqllogictest` crate's defaults: one row per line, never hashed by default.
    Slt,
}

impl Format {
    /// The format a file's name suggests: `*.test` is SQLite's, anything else ours.
    pub fn of_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("test") => Format::Sqlite,
            _ => Format::Slt,
        }
    }

    /// The hash threshold in force until a file sets its own (0: never hash).
    pub fn default_hash_threshold(self) -> usize {
        match self {
            Format::Sqlite => 8,
            Format::Slt => 0,
        }
    }
}

/// How to run files.
#[derive(Debug, Clone)]
pub struct Options {
    /// Names for `skipif` / `onlyif` (the engine name `hdb` always answers too).
    pub labels: Vec<String>,
    /// The result format; `None` guesses from the file name ([`Format::of_path`]).
    pub format: Option<Format>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            labels: vec![DEFAULT_LABEL.to_string()],
            format: None,
        }
    }
}

/// One failed record.
#[derive(Debug, Clone)]
pub struct Failure {
    /// `file:line` of the record.
    pub location: String,
    /// What went wrong: the SQL, expected and actual results, or the error.
    pub message: String,
}

/// What became of one record.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// It ran and gave what the file expects.
    Passed,
    /// It ran and did not.
    Failed(Failure),
    /// A `skipif` / `onlyif` condition excluded it.
    Skipped,
}

/// The records of one file, counted.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    /// Records that passed.
    pub passed: usize,
    /// Records that failed (each is in `failures`).
    pub failed: usize,
    /// Records skipped by their conditions.
    pub skipped: usize,
    /// The failed records, in file order.
    pub failures: Vec<Failure>,
}

impl FileReport {
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Failed(failure) => {
                self.failed += 1;
                self.failures.push(failure.clone());
            }
        }
    }
}

impl FileReport {
    /// `Ok` when at least one record ran and none failed; otherwise what a test
    /// prints: every failed record (file:line, SQL, expected against actual).
    pub fn check(&self, file: &str) -> Result<(), String> {
        if self.passed == 0 {
            return Err(format!("{file}: no record ran"));
        }
        if self.failed == 0 {
            return Ok(());
        }
        let failures: Vec<String> = self
            .failures
            .iter()
            .map(|f| format!("FAILED {}\n{}", f.location, f.message))
            .collect();
        Err(format!(
            "{} of {} records failed:\n{}",
            self.failed,
            self.passed + self.failed,
            failures.join("\n")
        ))
    }
}

/// Why a file could not be run at all (as opposed to records failing).
#[derive(Debug, thiserror::Error)]
pub enum SltError {
    /// The file could not be read, or the temporary database not be made.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not valid sqllogictest.
    #[error("{0}")]
    Parse(#[from] sqllogictest::ParseError),
    /// The database could not be opened or closed.
    #[error("{0}")]
    Database(#[from] hdb::Error),
}

/// The `*.slt` files directly in `dir`, sorted by name (the test harnesses' list).
pub fn slt_files_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "slt") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Runs the file at `path` against a fresh database.
pub fn run_file(path: &Path, options: &Options) -> Result<FileReport, SltError> {
    run_file_with(path, options, |_| {})
}

/// Runs the file at `path` against a fresh database, telling `on_record` the outcome
/// of each record as it happens (for progress, or for a caller that must stop early).
pub fn run_file_with(
    path: &Path,
    options: &Options,
    on_record: impl FnMut(&Outcome),
) -> Result<FileReport, SltError> {
    let io_error = |source| SltError::Io {
        path: path.to_path_buf(),
        source,
    };
    let source = std::fs::read_to_string(path).map_err(io_error)?;
    let format = options.format.unwrap_or_else(|| Format::of_path(path));
    let name = path.display().to_string();
    let dir = tempfile::tempdir().map_err(io_error)?;
    run_script(
        &source,
        &name,
        format,
        &options.labels,
        dir.path(),
        on_record,
    )
}

/// Runs sqllogictest text `source` (named `name` in failure locations) against a new
/// database in the directory `dir`.
pub fn run_script(
    source: &str,
    name: &str,
    format: Format,
    labels: &[String],
    dir: &Path,
    on_record: impl FnMut(&Outcome),
) -> Result<FileReport, SltError> {
    let options = DatabaseOptions {
        durability: Durability::Off,
        ..DatabaseOptions::default()
    };
    let db = Database::open_with(dir.join("slt.db"), options)?;
    let connections = db.clone();
    let runner = Runner::new(move || {
        std::future::ready(Ok::<_, StatementError>(SltConnection::new(
            connections.session(),
        )))
    });
    let report = run_records(runner, source, name, format, labels, on_record)?;
    db.close()?;
    Ok(report)
}

/// Runs the file at `path` against the server at `url` (a libpq-style connection
/// string) over PostgreSQL's wire protocol, each `connection NAME` a connection of its
/// own. The server's database should be fresh: the file creates its tables.
pub fn run_file_over_wire(
    path: &Path,
    options: &Options,
    url: &str,
    protocol: Protocol,
    on_record: impl FnMut(&Outcome),
) -> Result<FileReport, SltError> {
    let source = std::fs::read_to_string(path).map_err(|source| SltError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let format = options.format.unwrap_or_else(|| Format::of_path(path));
    let name = path.display().to_string();
    let url = url.to_string();
    let runner = Runner::new(move || std::future::ready(WireConnection::connect(&url, protocol)));
    run_records(runner, &source, &name, format, &options.labels, on_record)
}

/// Runs the records of `source` one by one through `runner` (see the module
/// documentation: conditions, formats, going on after a failure).
fn run_records<D, M>(
    mut runner: Runner<D, M>,
    source: &str,
    name: &str,
    format: Format,
    labels: &[String],
    mut on_record: impl FnMut(&Outcome),
) -> Result<FileReport, SltError>
where
    D: sqllogictest::AsyncDB<ColumnType = DefaultColumnType>,
    M: sqllogictest::MakeConnection<Conn = D>,
{
    let text = prepare(source, labels);
    let records =
        sqllogictest::parse_with_name::<DefaultColumnType>(&text, Arc::<str>::from(name))?;
    for label in labels {
        runner.add_label(label);
    }
    runner.with_hash_threshold(format.default_hash_threshold());
    if format == Format::Sqlite {
        // A control record cannot fail.
        let _ = runner.run(Record::Control(Control::ResultMode(ResultMode::ValueWise)));
    }

    let mut report = FileReport::default();
    for record in records {
        let counted = matches!(record, Record::Statement { .. } | Record::Query { .. });
        if let Record::Halt { .. } = record {
            break;
        }
        let location = match &record {
            Record::Statement { loc, .. }
            | Record::Query { loc, .. }
            | Record::Include { loc, .. }
            | Record::System { loc, .. } => Some(loc.to_string()),
            _ => None,
        };
        let failed = |message: String, location: Option<String>| {
            Outcome::Failed(Failure {
                location: location.unwrap_or_else(|| name.to_string()),
                message,
            })
        };
        let outcome = match record {
            Record::Include { filename, .. } => failed(
                format!("include {filename}: not supported by hdb slt"),
                location,
            ),
            Record::System { command, .. } => failed(
                format!("system {command}: shell commands are not run by hdb slt"),
                location,
            ),
            record => {
                // SQLite's files: values rendered by the record's type letters.
                let letters = match (&record, format) {
                    (
                        Record::Query {
                            expected: QueryExpect::Results { types, .. },
                            ..
                        },
                        Format::Sqlite,
                    ) => Some(types.clone()),
                    _ => None,
                };
                let _declared = sqlite_render::declare(letters);
                match catch_unwind(AssertUnwindSafe(|| runner.run(record))) {
                    Ok(Ok(RecordOutput::Nothing)) => Outcome::Skipped,
                    Ok(Ok(_)) => Outcome::Passed,
                    Ok(Err(error)) => Outcome::Failed(Failure {
                        location: location.unwrap_or_else(|| error.location().to_string()),
                        message: error.display(false).to_string(),
                    }),
                    Err(panic) => failed(format!("panicked: {}", panic_message(&*panic)), location),
                }
            }
        };
        if counted || matches!(outcome, Outcome::Failed(_)) {
            on_record(&outcome);
            report.count(&outcome);
        }
    }
    runner.shutdown();
    Ok(report)
}

/// The text of a panic's payload (a `&str` or `String` for `panic!` with a message).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(message), _) => (*message).to_string(),
        (None, Some(message)) => message.clone(),
        (None, None) => "(no message)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(source: &str, format: Format) -> FileReport {
        let dir = tempfile::tempdir().unwrap();
        let labels = [DEFAULT_LABEL.to_string()];
        run_script(source, "t.slt", format, &labels, dir.path(), |_| {}).unwrap()
    }

    #[test]
    fn counts_passed_failed_and_skipped_records_and_goes_on() {
        let source = "\
statement ok
CREATE TABLE t (a INTEGER)

statement count 2
INSERT INTO t VALUES (1), (2)

query I rowsort
SELECT a FROM t
----
1
3

skipif hdb
statement ok
DROP TABLE t

query I
SELECT a FROM t WHERE a = 2
----
2
";
        let report = run(source, Format::Slt);
        assert_eq!((report.passed, report.failed, report.skipped), (3, 1, 1));
        assert_eq!(report.failures[0].location, "t.slt:7");
        assert!(report.failures[0].message.contains("SELECT a FROM t"));
    }

    #[test]
    fn sqlite_format_is_valuewise_and_hashes_above_eight_values() {
        let source = "\
statement ok
CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER)

statement ok
INSERT INTO t VALUES (1, 2, 3), (4, 5, 6), (7, 8, 9)

query III nosort
SELECT a, b, c FROM t WHERE a < 5 ORDER BY a
----
1
2
3
4
5
6

query III nosort
SELECT a, b, c FROM t ORDER BY a
----
9 values hashing to 22e400a2ddbb013acf2a5852d6ab69fc
";
        let report = run(source, Format::Sqlite);
        assert_eq!((report.passed, report.failed), (4, 0), "{report:?}");
        // The same file read as ours (one row per line, no hashing) fails both queries.
        let report = run(source, Format::Slt);
        assert_eq!((report.passed, report.failed), (2, 2));
    }

    #[test]
    fn connections_are_separate_sessions_on_one_database() {
        let source = "\
statement ok
CREATE TABLE t (a INTEGER)

statement ok
BEGIN

statement ok
INSERT INTO t VALUES (1)

connection two
query I
SELECT a FROM t
----

statement ok
COMMIT

connection two
query I
SELECT a FROM t
----
1
";
        let report = run(source, Format::Slt);
        assert_eq!((report.passed, report.failed), (6, 0), "{report:?}");
    }

    #[test]
    fn include_and_system_records_fail_without_running() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let source = format!(
            "include other.slt\n\nsystem ok\ntouch {}\n\nstatement ok\nCREATE TABLE t (a INTEGER)\n",
            marker.display()
        );
        let report = run(&source, Format::Slt);
        assert_eq!((report.passed, report.failed), (1, 2), "{report:?}");
        assert_eq!(report.failures[0].location, "t.slt:1");
        assert!(report.failures[1].message.contains("shell commands"));
        assert!(!marker.exists());
    }

    #[test]
    fn a_file_that_is_not_sqllogictest_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let labels = [DEFAULT_LABEL.to_string()];
        let result = run_script(
            "frobnicate\n",
            "t.slt",
            Format::Slt,
            &labels,
            dir.path(),
            |_| {},
        );
        assert!(matches!(result, Err(SltError::Parse(_))));
    }
}
