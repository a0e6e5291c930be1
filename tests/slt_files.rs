//! Every `tests/slt/*.slt` file through `hdb_tools::slt`, one test per file (so nextest runs
//! them in parallel), each against its own fresh database. A file passes when every
//! record in it passes; a failure prints each failed record (file:line, SQL, expected
//! against actual, or the error).
//!
//! The tests are found at run time (a `libtest-mimic` harness, re-exported by the
//! `sqllogictest` crate): a new file under tests/slt/ is a new test, with no list to
//! keep in step.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use hdb_tools::slt::{self, Options};
use sqllogictest::harness::{Arguments, Failed, Trial, run};

fn slt_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    slt::slt_files_in(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn run_one(path: &Path) -> Result<(), Failed> {
    let report = slt::run_file(path, &Options::default()).map_err(|e| e.to_string())?;
    println!(
        "{}: {} passed, {} failed, {} skipped",
        path.display(),
        report.passed,
        report.failed,
        report.skipped
    );
    report
        .check(&path.display().to_string())
        .map_err(Failed::from)
}

fn main() {
    let files = slt_files();
    assert!(!files.is_empty(), "no .slt files under tests/slt");
    let tests = files
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            Trial::test(name, move || run_one(&path))
        })
        .collect();
    run(&Arguments::from_args(), tests).exit();
}
