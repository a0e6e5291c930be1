//! Every `tests/slt/*.slt` file over PostgreSQL's wire protocol: each file runs against
//! its own `hdb serve` (in this process, on a free loopback port, with a fresh
//! database) through tokio-postgres, once on the simple query protocol and once on the
//! extended one, and must give the same results as in-process (`slt_files.rs`): the
//! values are rendered the same way (`hdb_tools::slt`'s wire.rs), so any difference is
//! in what the server sent — a type described wrongly, a value encoded wrongly, a
//! count or an error lost on the way.
//!
//! Found at run time like `slt_files.rs`: one test per file and protocol,
//! `extended::joins`, `simple::joins`, ...
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../server/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use hdb_tools::slt::{self, Options, Protocol};
use sqllogictest::harness::{Arguments, Failed, Trial, run};
use support::TestServer;

fn slt_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    slt::slt_files_in(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

fn run_one(path: &Path, protocol: Protocol) -> Result<(), Failed> {
    let server = TestServer::start();
    let url = server.url("slt");
    let report = slt::run_file_over_wire(path, &Options::default(), &url, protocol, |_| {})
        .map_err(|e| e.to_string())?;
    server.stop()?;
    report
        .check(&path.display().to_string())
        .map_err(Failed::from)
}

fn main() {
    let files = slt_files();
    assert!(!files.is_empty(), "no .slt files under tests/slt");
    let mut tests = Vec::new();
    for (protocol, label) in [
        (Protocol::Simple, "simple"),
        (Protocol::Extended, "extended"),
    ] {
        for path in &files {
            let name = path.file_stem().unwrap().to_string_lossy();
            let path = path.clone();
            tests.push(Trial::test(format!("{label}::{name}"), move || {
                run_one(&path, protocol)
            }));
        }
    }
    run(&Arguments::from_args(), tests).exit();
}
