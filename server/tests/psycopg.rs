//! psycopg 3 against `hdb serve`: `tests/psycopg/basics.py` connects, runs
//! parameterised queries in text and binary, transactions and failing statements.
//!
//! psycopg comes from PyPI (`pip install "psycopg[binary]"`), which `.ci/run` installs.
//! Without it the test fails under CI (CI=true) and is skipped, with a message,
//! elsewhere.

mod support;

use std::path::Path;
use std::process::Command;

use support::TestServer;

fn psycopg_available() -> bool {
    Command::new("python3")
        .args(["-c", "import psycopg"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn psycopg_connects_and_runs_parameterised_queries() {
    if !psycopg_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "psycopg is missing (pip install \"psycopg[binary]\")"
        );
        eprintln!("skipped: psycopg is not installed");
        return;
    }
    let server = TestServer::start();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/psycopg/basics.py");
    let output = Command::new("python3")
        .arg(&script)
        .env("HDB_DSN", server.url("tester"))
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
