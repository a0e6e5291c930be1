//! JDBC against `hdb serve`: `tests/jdbc/Basics.java`, run with PostgreSQL's JDBC driver
//! (Debian's libpostgresql-jdbc-java, `/usr/share/java/postgresql.jar`) as a single-file
//! source program, connects, creates a table, inserts and selects through
//! PreparedStatements with a parameter of each type JDBC maps plainly, past the
//! driver's switch to named server-side statements, rolls a transaction back, reads
//! SQLSTATEs and lists tables and columns through the driver's metadata (its queries
//! over pg_catalog); what it prints must equal `tests/jdbc/basics.out`, which is what
//! it prints against PostgreSQL 15.
//!
//! `.ci/run` installs a JDK and the driver. Without them the test fails under CI
//! (CI=true) and is skipped, with a message, elsewhere.

mod support;

use std::path::Path;
use std::process::Command;

use support::TestServer;

/// Where Debian's libpostgresql-jdbc-java puts the driver.
const DRIVER_JAR: &str = "/usr/share/java/postgresql.jar";

fn java_available() -> bool {
    Path::new(DRIVER_JAR).exists()
        && Command::new("java")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
}

#[test]
fn jdbc_connects_and_runs_prepared_statements() {
    if !java_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "java or {DRIVER_JAR} is missing (apt-get install default-jdk-headless \
             libpostgresql-jdbc-java)"
        );
        eprintln!("skipped: java or {DRIVER_JAR} is not installed");
        return;
    }
    let server = TestServer::start();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jdbc");
    let url = format!(
        "jdbc:postgresql://{}:{}/hdb",
        server.addr.ip(),
        server.addr.port()
    );
    let output = Command::new("java")
        .args(["-cp", DRIVER_JAR])
        .arg(dir.join("Basics.java"))
        .arg(&url)
        .output()
        .expect("java runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = std::fs::read_to_string(dir.join("basics.out")).expect("basics.out");
    assert_eq!(stdout, expected);
}
