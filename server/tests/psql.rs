//! psql scripts against `hdb serve`: each `tests/psql/NAME.sql` is run with
//! `psql -X -a -v ON_ERROR_STOP=1` and its whole output (statements, results, errors
//! with their SQLSTATE) must equal `NAME.out`, which is what PostgreSQL 15 printed for
//! the same script.
//!
//! psql comes from Debian's postgresql-client, which `.ci/run` installs. Without it the
//! test fails under CI (CI=true) and is skipped, with a message, elsewhere.

mod support;

use std::path::Path;
use std::process::Command;

use support::TestServer;

fn psql_available() -> bool {
    Command::new("psql").arg("--version").output().is_ok()
}

#[test]
fn psql_scripts_print_what_postgresql_prints() {
    if !psql_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "psql is missing (apt-get install postgresql-client)"
        );
        eprintln!("skipped: psql is not installed");
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/psql");
    let mut scripts: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    let mut failures = Vec::new();
    for script in scripts {
        let server = TestServer::start();
        let name = script.file_name().unwrap().to_str().unwrap().to_string();
        // Both streams into one file, as `2>&1` interleaves them for the golden file.
        let log_path = server.path.with_extension("psql.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let status = Command::new("psql")
            .current_dir(&dir)
            .args(["-X", "-a", "-v", "ON_ERROR_STOP=1", "-f", &name])
            .args(["-h", &server.addr.ip().to_string()])
            .args(["-p", &server.addr.port().to_string()])
            .args(["-U", "tester", "-d", "hdb"])
            .env("PGCONNECT_TIMEOUT", "10")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .status()
            .expect("psql runs");
        let actual = std::fs::read_to_string(&log_path).unwrap();
        let expected = std::fs::read_to_string(script.with_extension("out")).unwrap();
        if actual != expected || !status.success() {
            failures.push(format!(
                "{name}: status {:?}\n--- expected\n{expected}\n--- actual\n{actual}",
                status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn psql_lists_the_served_database() {
    if !psql_available() {
        assert!(std::env::var_os("CI").is_none(), "psql is missing");
        eprintln!("skipped: psql is not installed");
        return;
    }
    let server = TestServer::start();
    let output = Command::new("psql")
        .args(["-X", "-l", "-A", "-t"])
        .args(["-h", &server.addr.ip().to_string()])
        .args(["-p", &server.addr.port().to_string()])
        .args(["-U", "tester", "-d", "shop"])
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // One database: the name the client asked for, owned by the user, UTF-8, C order.
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "shop|tester|UTF8|C|C||libc|\n"
    );
}
