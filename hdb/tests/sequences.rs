//! Sequences never hand out a value twice: across sessions taking values at once
//! (some in transactions that roll back), across reopening the database, and after a
//! process is killed while it takes values (`sequence_kill`, a child process).
//! What they promise is in `sql_frontend/src/sequence/mod.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use hdb::Database;

fn next(session: &mut hdb::Session, sql: &str) -> i64 {
    session.execute(sql).unwrap().rows()[0]
        .get::<i64>(0)
        .unwrap()
}

/// Sessions on threads insert into one SERIAL table and take values of a sequence
/// directly, in autocommit and in transactions that commit or roll back: every value
/// handed out is distinct, and every committed row's id is one of them.
#[test]
fn concurrent_sessions_never_get_the_same_value() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 300;
    let db = Database::open_in_memory().unwrap();
    db.session()
        .execute("CREATE TABLE t (id SERIAL PRIMARY KEY, who INT); CREATE SEQUENCE s")
        .unwrap();
    let start = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|who| {
            let db = db.clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let mut session = db.session();
                let mut taken = Vec::new();
                start.wait();
                for round in 0..ROUNDS {
                    let explicit = round % 3 != 0;
                    if explicit {
                        session.execute("BEGIN").unwrap();
                    }
                    taken.push(next(&mut session, "SELECT nextval('s')"));
                    session
                        .execute(&format!("INSERT INTO t (who) VALUES ({who})"))
                        .unwrap();
                    if explicit {
                        let end = if round % 3 == 1 { "COMMIT" } else { "ROLLBACK" };
                        session.execute(end).unwrap();
                    }
                }
                taken
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for worker in workers {
        for value in worker.join().unwrap() {
            assert!(all.insert(value), "nextval('s') gave {value} twice");
        }
    }
    assert_eq!(all.len(), THREADS * ROUNDS);
    let ids = db.session().execute("SELECT id FROM t").unwrap();
    let ids: BTreeSet<i64> = ids.rows().iter().map(|r| r.get(0).unwrap()).collect();
    // Two thirds of the rounds committed their row (autocommit and COMMIT).
    assert_eq!(ids.len(), THREADS * ROUNDS * 2 / 3);
}

/// After the database is closed and opened again, a sequence goes on past every value
/// it handed out (a reservation's block may leave a gap), and its definition stays.
#[test]
fn values_continue_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seq.db");
    let mut handed_out = Vec::new();
    {
        let db = Database::open(&path).unwrap();
        let mut session = db.session();
        session
            .execute("CREATE SEQUENCE s INCREMENT BY 3 START WITH 7")
            .unwrap();
        for _ in 0..100 {
            handed_out.push(next(&mut session, "SELECT nextval('s')"));
        }
        session.execute("SELECT setval('s', 1000)").unwrap();
        handed_out.push(next(&mut session, "SELECT nextval('s')"));
    }
    assert_eq!(handed_out[..3], [7, 10, 13]);
    assert_eq!(handed_out.last(), Some(&1003));
    let db = Database::open(&path).unwrap();
    let mut session = db.session();
    let after = next(&mut session, "SELECT nextval('s')");
    assert!(after > 1003, "nextval after reopening gave {after}");
    assert_eq!((after - 7) % 3, 0, "{after} is not on the sequence's step");
}

/// A child process takes values in autocommit and prints each one it was given; it is
/// killed at a random moment. Every value it printed was durable: the reopened
/// database's next value is larger than all of them.
#[test]
fn sequence_kill() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    if let Ok(path) = std::env::var("HDB_SEQUENCE_CHILD") {
        let db = Database::open(&path).unwrap();
        let mut session = db.session();
        session.execute("CREATE SEQUENCE IF NOT EXISTS s").unwrap();
        loop {
            let value = next(&mut session, "SELECT nextval('s')");
            println!("{value}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kill.db");
    let rounds = if std::env::var_os("CI").is_some() {
        3
    } else {
        10
    };
    let mut printed = BTreeSet::new();
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "sequence_kill", "--nocapture"])
            .env("HDB_SEQUENCE_CHILD", &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        // Kill after a varying number of values: some within the first block, some
        // after several reservations.
        let wanted = 5 + round * 97;
        let mut lines = stdout.lines();
        let mut seen = 0;
        while seen < wanted {
            let Some(Ok(line)) = lines.next() else { break };
            if let Ok(value) = line.trim().parse::<i64>() {
                assert!(printed.insert(value), "value {value} handed out twice");
                seen += 1;
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Values printed between the last read and the kill count too.
        for line in lines.map_while(|l| l.ok()) {
            if let Ok(value) = line.trim().parse::<i64>() {
                assert!(printed.insert(value), "value {value} handed out twice");
            }
        }
    }
    let db = Database::open(&path).unwrap();
    let after = next(&mut db.session(), "SELECT nextval('s')");
    let largest = printed.last().copied().unwrap_or(0);
    assert!(
        after > largest,
        "nextval gave {after} after {largest} was handed out"
    );
}
