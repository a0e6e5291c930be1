//! Index-only scans (`CREATE INDEX ... INCLUDE`), end to end through `hdb::Database`:
//!
//! - **the property**: under random interleavings of three sessions inserting,
//!   updating and deleting rows in open, committed and rolled-back transactions, every
//!   query that the planner answers from an index alone (EXPLAIN shows
//!   `IndexOnlyScan`) returns what the same query returns from the table (index scans
//!   switched off), in the same session at the same moment: its own uncommitted
//!   writes included, other sessions' uncommitted writes excluded, nothing deleted or
//!   superseded. Index entries are versions in the same MVCC store as rows, written by
//!   the row's own transaction (`engine/src/table/ops.rs`), which is why this holds;
//!   the test is what shows it. The case count is `HDB_INDEX_ONLY_CASES` (small under
//!   `CI=true`).
//! - INCLUDE's rules and errors follow PostgreSQL 15: a unique index is unique on its
//!   key columns only; an unknown column is an error naming it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hdb::{Database, Session};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

fn lines(session: &mut Session, sql: &str) -> Vec<String> {
    session
        .execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .rows()
        .iter()
        .map(|row| {
            row.values()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Rows' ids are `0..IDS`; session `s` writes only ids with `id % SESSIONS == s`, so
/// no write ever waits for another session's lock (the test runs on one thread).
const IDS: i64 = 24;
const SESSIONS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Begin,
    Commit,
    Rollback,
    /// Insert (or, if it exists, overwrite) row `id` with `a`, `b` and `c`.
    Upsert {
        id: i64,
        a: i64,
        b: u8,
        c: bool,
    },
    /// Change only `b` (an INCLUDE column): the index entry's key stays, its value not.
    SetB {
        id: i64,
        b: u8,
    },
    /// Change only `a` (the key column): the entry moves.
    SetA {
        id: i64,
        a: i64,
    },
    Delete {
        id: i64,
    },
    /// Compare index-only and table answers for `a` in `lo..=hi`, `c` above `lo`.
    Check {
        lo: i64,
        hi: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Begin),
        1 => Just(Op::Commit),
        1 => Just(Op::Rollback),
        4 => (0..IDS, 0..8i64, any::<u8>(), any::<bool>())
            .prop_map(|(id, a, b, c)| Op::Upsert { id, a, b, c }),
        2 => (0..IDS, any::<u8>()).prop_map(|(id, b)| Op::SetB { id, b }),
        2 => (0..IDS, 0..8i64).prop_map(|(id, a)| Op::SetA { id, a }),
        2 => (0..IDS).prop_map(|id| Op::Delete { id }),
        3 => (0..8i64, 0..8i64).prop_map(|(x, y)| Op::Check { lo: x.min(y), hi: x.max(y) }),
    ]
}

/// Both answers of `query` in `session`: the planner's (which must be index-only) and
/// the table's.
fn check(session: &mut Session, query: &str) {
    let plan = lines(session, &format!("EXPLAIN (COSTS OFF) {query}")).join("\n");
    assert!(plan.contains("IndexOnlyScan"), "{query}\n{plan}");
    let from_index = lines(session, query);
    lines(session, "SET enable_indexscan = off");
    lines(session, "SET enable_indexonlyscan = off");
    let plan = lines(session, &format!("EXPLAIN (COSTS OFF) {query}")).join("\n");
    assert!(!plan.contains("IndexOnlyScan"), "{query}\n{plan}");
    let from_table = lines(session, query);
    lines(session, "RESET enable_indexscan");
    lines(session, "RESET enable_indexonlyscan");
    assert_eq!(from_index, from_table, "{query}");
}

fn run_case(ops: &[(usize, Op)]) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("index_only.db")).unwrap();
    let mut sessions: Vec<Session> = (0..SESSIONS).map(|_| db.session()).collect();
    lines(
        &mut sessions[0],
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c INTEGER)",
    );
    lines(&mut sessions[0], "CREATE INDEX t_a ON t (a) INCLUDE (b)");
    lines(
        &mut sessions[0],
        "CREATE UNIQUE INDEX t_c ON t (c) INCLUDE (b, a)",
    );
    let mut open = [false; SESSIONS];
    for (s, op) in ops {
        let own = |id: &i64| id - id % SESSIONS as i64 + *s as i64;
        let session = &mut sessions[*s];
        match op {
            Op::Begin if !open[*s] => {
                lines(session, "BEGIN");
                open[*s] = true;
            }
            Op::Commit | Op::Rollback if open[*s] => {
                let word = if matches!(op, Op::Commit) {
                    "COMMIT"
                } else {
                    "ROLLBACK"
                };
                lines(session, word);
                open[*s] = false;
            }
            Op::Begin | Op::Commit | Op::Rollback => {}
            Op::Upsert { id, a, b, c } => {
                let id = own(id);
                // c is unique per row (or NULL), so no two sessions write one c.
                let c = if *c {
                    (id * 7).to_string()
                } else {
                    "NULL".into()
                };
                lines(
                    session,
                    &format!(
                        "INSERT INTO t VALUES ({id}, {a}, 'b{b}', {c}) \
                         ON CONFLICT (id) DO UPDATE SET a = {a}, b = 'b{b}', c = {c}"
                    ),
                );
            }
            Op::SetB { id, b } => {
                lines(
                    session,
                    &format!("UPDATE t SET b = 'b{b}' WHERE id = {}", own(id)),
                );
            }
            Op::SetA { id, a } => {
                lines(
                    session,
                    &format!("UPDATE t SET a = {a} WHERE id = {}", own(id)),
                );
            }
            Op::Delete { id } => {
                lines(session, &format!("DELETE FROM t WHERE id = {}", own(id)));
            }
            Op::Check { lo, hi } => {
                check(
                    session,
                    &format!("SELECT id, a, b FROM t WHERE a BETWEEN {lo} AND {hi} ORDER BY id"),
                );
                check(
                    session,
                    &format!("SELECT count(*), max(b) FROM t WHERE a = {lo}"),
                );
                check(
                    session,
                    &format!(
                        "SELECT c, a, b FROM t WHERE c > {} ORDER BY c",
                        lo * 7 * SESSIONS as i64
                    ),
                );
            }
        }
    }
}

#[test]
fn index_only_answers_equal_table_answers_under_concurrent_writes() {
    let cases = std::env::var("HDB_INDEX_ONLY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if ci() { 12 } else { 48 });
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let ops = prop::collection::vec((0..SESSIONS, op()), 20..120);
    runner
        .run(&ops, |ops| {
            run_case(&ops);
            Ok(())
        })
        .unwrap();
}

#[test]
fn include_follows_postgresql() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("include.db")).unwrap();
    let mut s = db.session();
    lines(
        &mut s,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c INTEGER)",
    );
    // An unknown INCLUDE column is an error naming it (42703), and creates nothing.
    let err = s
        .execute("CREATE INDEX t_bad ON t (a) INCLUDE (nope)")
        .unwrap_err();
    assert_eq!(err.sqlstate(), "42703", "{err}");
    assert!(err.to_string().contains("nope"), "{err}");
    // A column may be both a key and an INCLUDE column, or included twice (as in
    // PostgreSQL).
    lines(&mut s, "CREATE INDEX t_aa ON t (a) INCLUDE (a, b, b)");
    // A unique index is unique on its key columns only.
    lines(&mut s, "CREATE UNIQUE INDEX t_u ON t (a) INCLUDE (c)");
    lines(&mut s, "INSERT INTO t VALUES (1, 1, 'x', 1)");
    let err = s
        .execute("INSERT INTO t VALUES (2, 1, 'y', 2)")
        .unwrap_err();
    assert_eq!(err.sqlstate(), "23505", "{err}");
    lines(&mut s, "INSERT INTO t VALUES (2, 2, 'y', 1)");
    // The index answers alone, and survives reopening.
    let query = "SELECT a, c FROM t WHERE a > 0 ORDER BY a";
    assert_eq!(lines(&mut s, query), ["1|1", "2|1"]);
    drop(s);
    drop(db);
    let db = Database::open(dir.path().join("include.db")).unwrap();
    let mut s = db.session();
    let plan = lines(&mut s, &format!("EXPLAIN (COSTS OFF) {query}")).join("\n");
    assert!(plan.contains("IndexOnlyScan: t using t_u"), "{plan}");
    assert_eq!(lines(&mut s, query), ["1|1", "2|1"]);
}
