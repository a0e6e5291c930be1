//! pgbench's built-in TPC-B-like script against `hdb serve`, at 4 clients on 4 threads,
//! 200 transactions per client (`HDB_PGBENCH_TRANSACTIONS`), in each of its three query
//! modes (`-M simple`, `extended`, `prepared`), then TPC-B's consistency check: every
//! transaction added the same delta to one account, one teller and one branch and
//! logged it in the history, so the sums of the three balances and of the history's
//! deltas agree, and the history holds one row per committed transaction.
//!
//! The tables are made and loaded by stock `pgbench -i -s 1` (its default steps
//! `dtgvp`: DROP TABLE, CREATE TABLE with CHAR(n) columns and `WITH (fillfactor)`,
//! TRUNCATE and `COPY ... FROM STDIN` in one transaction, VACUUM ANALYZE, ALTER TABLE
//! ... ADD PRIMARY KEY), unchanged, and checked (row counts, the keys in place)
//! before the run. As in PostgreSQL, a writer that meets a row a concurrent transaction
//! wrote waits for it and, under READ COMMITTED, goes on with the newer row; pgbench
//! may still retry a transaction that fails with a serialization error or a deadlock
//! (`--max-tries`), and none may fail in the end.
//!
//! pgbench is in Debian's postgresql-15 package (psql in postgresql-client), which
//! `.ci/run` installs; without them the test fails under CI (CI=true) and is skipped,
//! with a message, elsewhere.

mod support;

use std::process::{Command, Stdio};

use support::TestServer;

const CLIENTS: u32 = 4;

fn available(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// psql's common arguments for `server`.
fn connection_args(server: &TestServer) -> Vec<String> {
    vec![
        "-h".into(),
        server.addr.ip().to_string(),
        "-p".into(),
        server.addr.port().to_string(),
        "-U".into(),
        "tester".into(),
    ]
}

fn psql(server: &TestServer, args: &[&str], stdin: Option<Vec<u8>>) -> String {
    let mut child = Command::new("psql")
        .args(["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"])
        .args(connection_args(server))
        .args(args)
        .arg("hdb")
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql runs");
    let mut input = child.stdin.take().expect("psql's stdin");
    let writer = std::thread::spawn(move || {
        if let Some(bytes) = stdin {
            std::io::Write::write_all(&mut input, &bytes).expect("psql reads its input");
        }
    });
    let output = child.wait_with_output().expect("psql ends");
    writer.join().expect("the input was written");
    assert!(
        output.status.success(),
        "psql {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// One number from pgbench's report.
fn reported(report: &str, label: &str) -> String {
    report
        .lines()
        .find_map(|line| line.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} in pgbench's report:\n{report}"))
        .trim()
        .to_string()
}

#[test]
fn pgbench_tpcb_in_every_query_mode_keeps_the_balances_consistent() {
    if !(available("pgbench") && available("psql")) {
        assert!(
            std::env::var_os("CI").is_none(),
            "pgbench or psql is missing (apt-get install postgresql-client postgresql-15)"
        );
        eprintln!("skipped: pgbench or psql is not installed");
        return;
    }
    let transactions: u32 = std::env::var("HDB_PGBENCH_TRANSACTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let server = TestServer::start();
    let init = Command::new("pgbench")
        .args(["-i", "-s", "1"])
        .args(connection_args(&server))
        .arg("hdb")
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect("pgbench runs");
    assert!(
        init.status.success(),
        "pgbench -i:\n{}\n{}",
        String::from_utf8_lossy(&init.stdout),
        String::from_utf8_lossy(&init.stderr)
    );
    let counts = psql(
        &server,
        &[
            "-c",
            "SELECT (SELECT count(*) FROM pgbench_branches), \
                    (SELECT count(*) FROM pgbench_tellers), \
                    (SELECT count(*) FROM pgbench_accounts), \
                    (SELECT count(*) FROM pgbench_history), \
                    (SELECT octet_length(filler) FROM pgbench_accounts WHERE aid = 1)",
        ],
        None,
    );
    assert_eq!(
        counts.trim(),
        "1|10|100000|0|84",
        "what pgbench -i -s 1 loads"
    );
    // The primary keys are in place: a duplicate account is refused.
    let duplicate = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1"])
        .args(connection_args(&server))
        .args([
            "-c",
            "INSERT INTO pgbench_accounts (aid, bid, abalance) VALUES (1, 1, 0)",
        ])
        .arg("hdb")
        .output()
        .expect("psql runs");
    assert!(
        String::from_utf8_lossy(&duplicate.stderr).contains("duplicate key"),
        "{}",
        String::from_utf8_lossy(&duplicate.stderr)
    );

    let modes = ["simple", "extended", "prepared"];
    for mode in modes {
        let output = Command::new("pgbench")
            .args(["-n", "-c", &CLIENTS.to_string(), "-j", &CLIENTS.to_string()])
            .args(["-t", &transactions.to_string(), "-M", mode])
            .args(["--max-tries", "10000"])
            .args(connection_args(&server))
            .arg("hdb")
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .expect("pgbench runs");
        let report = String::from_utf8_lossy(&output.stdout).into_owned();
        let errors = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "pgbench -M {mode}:\n{report}\n{errors}"
        );
        let expected = CLIENTS * transactions;
        assert_eq!(
            reported(&report, "number of transactions actually processed:"),
            format!("{expected}/{expected}"),
            "-M {mode}"
        );
        assert_eq!(
            reported(&report, "number of failed transactions:")
                .split(' ')
                .next(),
            Some("0"),
            "-M {mode}:\n{report}"
        );
    }

    let sums = psql(
        &server,
        &[
            "-c",
            "SELECT (SELECT sum(abalance) FROM pgbench_accounts), \
                    (SELECT sum(tbalance) FROM pgbench_tellers), \
                    (SELECT sum(bbalance) FROM pgbench_branches), \
                    (SELECT sum(delta) FROM pgbench_history), \
                    (SELECT count(*) FROM pgbench_history)",
        ],
        None,
    );
    let sums: Vec<i64> = sums
        .trim()
        .split('|')
        .map(|s| s.parse().expect("a number"))
        .collect();
    let history_rows = i64::from(CLIENTS * transactions) * modes.len() as i64;
    assert_eq!(sums[4], history_rows, "one history row per transaction");
    assert!(
        sums[..4].iter().all(|s| *s == sums[0]),
        "accounts, tellers, branches and history disagree: {sums:?}"
    );
    // With deltas drawn from -5000..5000, all zero would mean nothing was applied.
    assert!(
        sums[0] != 0 || history_rows == 0,
        "no balance changed: {sums:?}"
    );
    server.stop().expect("the server shuts down cleanly");
}
