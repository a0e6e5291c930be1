//! Deep statements end in an answer or an error, never an abort (issue 10, item 3).
//!
//! For every recursive rule of the grammar — AND/OR chains, arithmetic and `||` chains,
//! parentheses, NOT and unary-minus chains, CASE nesting, nested subqueries, nested
//! function calls, UNION chains, nested derived tables, IN lists, long VALUES lists and
//! chains of SQL functions — a statement 10, 100, 10,000 and 100,000 levels deep is run
//! (parsed, split as the CLI does, bound, optimised, executed, and dropped; every SELECT
//! also under EXPLAIN; deep WHEREs also with their rows streamed one at a time) in a
//! **child process**, on a thread with the default main-thread stack (8 MiB) or a
//! spawned thread's (2 MiB). Rust aborts a process whose stack overflows,
//! so a regression shows here as a child killed by a signal — a failed test, not a
//! crashed test binary.
//!
//! What each depth must give is written beside each rule, as PostgreSQL 15 would answer
//! where hdb answers: shallow statements must answer correctly; deep ones may answer or
//! fail with [`hdb::Error::TooComplex`] (PostgreSQL's `stack depth limit exceeded`), and
//! nothing else. The child is this test binary itself, run with
//! `HDB_DEEP_NESTING_CHILD` naming a file that holds the case.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

/// The environment variable that turns this binary into a child running one case.
const CHILD_VAR: &str = "HDB_DEEP_NESTING_CHILD";
/// The name of the test that runs the child's case.
const CHILD_TEST: &str = "child_runs_one_case";
/// The main thread's default stack on Linux (`ulimit -s`), and a spawned thread's.
const MAIN_STACK: usize = 8 << 20;
const SPAWNED_STACK: usize = 2 << 20;

/// What a case must give.
#[derive(Debug, Clone)]
enum Expect {
    /// This first cell of the last statement's first row.
    Answer(String),
    /// That answer, or a `TooComplex` error.
    AnswerOrTooComplex(String),
    /// A `TooComplex` error.
    TooComplex,
    /// A `TooComplex` error, or a syntax error: past its recursion limit, sqlparser
    /// reports some nesting (NOT, CASE) as a syntax error at the token where it stopped.
    TooComplexOrSyntax,
    /// Any answer (EXPLAIN's plan of a statement that answers).
    Plan,
    /// Any answer, or a `TooComplex` error.
    PlanOrTooComplex,
}

impl Expect {
    /// What EXPLAIN of a statement that must give `self` must give.
    fn explained(self) -> Expect {
        match self {
            Expect::Answer(_) | Expect::Plan => Expect::Plan,
            Expect::AnswerOrTooComplex(_) | Expect::PlanOrTooComplex => Expect::PlanOrTooComplex,
            other => other,
        }
    }

    /// Whether the child's `report` is what `self` asks for.
    fn accepts(&self, report: &str) -> bool {
        match (self, report.split_once(' ')) {
            (Expect::Answer(v) | Expect::AnswerOrTooComplex(v), Some(("ANSWER", got))) => got == v,
            (Expect::Plan | Expect::PlanOrTooComplex, Some(("ANSWER", _))) => true,
            (
                Expect::AnswerOrTooComplex(_)
                | Expect::PlanOrTooComplex
                | Expect::TooComplex
                | Expect::TooComplexOrSyntax,
                Some(("TOOCOMPLEX", _)),
            ) => true,
            (Expect::TooComplexOrSyntax, Some(("SYNTAX", _))) => true,
            _ => false,
        }
    }
}

/// One case: statements to set up, the statement under test, how to run it.
struct Case {
    setup: String,
    sql: String,
    stack: usize,
    /// Pull the rows one at a time through `Session::query_iter` (else collect them).
    stream: bool,
}

/// The depths every rule is tried at.
const DEPTHS: [usize; 4] = [10, 100, 10_000, 100_000];

/// Runs `case` in a child process and returns its report line.
fn run_child(case: &Case) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("case.sql");
    let text = format!(
        "{}\n\u{1}\n{}\n\u{1}\n{}\n\u{1}\n{}",
        case.setup, case.sql, case.stack, case.stream
    );
    std::fs::write(&file, text).unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_VAR, &file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the child died ({}) on {}...: {stderr}",
        output.status,
        &case.sql[..case.sql.len().min(120)]
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("REPORT ").map(|(_, report)| report))
        .unwrap_or_else(|| panic!("no report from the child: {stdout} {stderr}"))
        .to_string()
}

/// Checks one rule at every depth on both stack sizes, and EXPLAIN of it (a SELECT) on
/// the smaller.
fn check(
    rule: &str,
    setup: &str,
    statement: impl Fn(usize) -> String,
    expect: impl Fn(usize) -> Expect,
) {
    for depth in DEPTHS {
        let sql = statement(depth);
        // The deepest statements are the slow ones: try them on the smaller stack only.
        let stacks: &[usize] = match depth {
            100_000 => &[SPAWNED_STACK],
            _ => &[MAIN_STACK, SPAWNED_STACK],
        };
        let mut runs: Vec<(String, usize, Expect)> = stacks
            .iter()
            .map(|&stack| (sql.clone(), stack, expect(depth)))
            .collect();
        if sql.starts_with("SELECT") {
            runs.push((
                format!("EXPLAIN {sql}"),
                SPAWNED_STACK,
                expect(depth).explained(),
            ));
        }
        for (sql, stack, expected) in runs {
            let report = run_child(&Case {
                setup: setup.to_string(),
                sql: sql.clone(),
                stack,
                stream: false,
            });
            assert!(
                expected.accepts(&report),
                "{rule} at depth {depth} on a {stack}-byte stack ({}...): expected \
                 {expected:?}, got {report}",
                &sql[..sql.len().min(40)]
            );
        }
    }
}

/// Answers shallow, may refuse from 10,000 levels on.
fn answer_unless_deep(answer: impl Fn(usize) -> String) -> impl Fn(usize) -> Expect {
    move |depth| match depth {
        d if d < 10_000 => Expect::Answer(answer(d)),
        d => Expect::AnswerOrTooComplex(answer(d)),
    }
}

/// Nesting the parser refuses past its recursion limit (64): answers at 10 levels.
fn answer_at_ten(answer: &'static str) -> impl Fn(usize) -> Expect {
    move |depth| match depth {
        10 => Expect::Answer(answer.to_string()),
        _ => Expect::TooComplex,
    }
}

/// As [`answer_at_ten`], where sqlparser may call the refusal a syntax error.
fn answer_at_ten_else_refused(answer: &'static str) -> impl Fn(usize) -> Expect {
    move |depth| match depth {
        10 => Expect::Answer(answer.to_string()),
        _ => Expect::TooComplexOrSyntax,
    }
}

fn repeat(n: usize, item: &str, separator: &str) -> String {
    vec![item; n].join(separator)
}

const TABLE: &str =
    "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a')";

#[test]
fn and_chains() {
    check(
        "AND chain",
        TABLE,
        |n| {
            format!(
                "SELECT count(*) FROM t WHERE {}",
                repeat(n, "id = 1", " AND ")
            )
        },
        answer_unless_deep(|_| "1".into()),
    );
}

#[test]
fn or_chains() {
    check(
        "OR chain",
        TABLE,
        |n| {
            format!(
                "SELECT count(*) FROM t WHERE {} OR id = 1",
                repeat(n, "id = 2", " OR ")
            )
        },
        answer_unless_deep(|_| "1".into()),
    );
}

#[test]
fn arithmetic_chains() {
    check(
        "+ chain",
        TABLE,
        |n| format!("SELECT {} FROM t", repeat(n, "id", " + ")),
        answer_unless_deep(|n| n.to_string()),
    );
    check(
        "EXPLAIN of a - chain",
        TABLE,
        |n| format!("EXPLAIN SELECT 0 {} FROM t", "- id ".repeat(n)),
        |n| match n {
            d if d < 10_000 => Expect::Answer("Project".into()),
            _ => Expect::TooComplex,
        },
    );
}

#[test]
fn concatenation_chains() {
    check(
        "|| chain",
        TABLE,
        |n| format!("SELECT length({}) FROM t", repeat(n, "v", " || ")),
        answer_unless_deep(|n| n.to_string()),
    );
}

#[test]
fn parentheses() {
    check(
        "parentheses",
        "",
        |n| format!("SELECT {}1{}", "(".repeat(n), ")".repeat(n)),
        answer_at_ten("1"),
    );
}

#[test]
fn not_chains() {
    check(
        "NOT chain",
        "",
        |n| format!("SELECT {}true", "NOT ".repeat(n)),
        answer_at_ten_else_refused("t"),
    );
}

#[test]
fn unary_minus_chains() {
    check(
        "unary minus chain",
        "",
        |n| format!("SELECT {}1", "- ".repeat(n)),
        answer_at_ten("1"),
    );
}

#[test]
fn case_nesting() {
    check(
        "CASE nesting",
        "",
        |n| {
            format!(
                "SELECT {}1{}",
                "CASE WHEN true THEN ".repeat(n),
                " END".repeat(n)
            )
        },
        answer_at_ten_else_refused("1"),
    );
}

#[test]
fn nested_subqueries() {
    check(
        "nested scalar subqueries",
        "",
        |n| format!("SELECT {}1{}", "(SELECT ".repeat(n), ")".repeat(n)),
        answer_at_ten("1"),
    );
}

#[test]
fn nested_function_calls() {
    check(
        "nested function calls",
        "",
        |n| format!("SELECT {}-1{}", "abs(".repeat(n), ")".repeat(n)),
        answer_at_ten("1"),
    );
}

#[test]
fn nested_derived_tables() {
    check(
        "nested derived tables",
        "",
        |n| {
            format!(
                "SELECT * FROM {}(SELECT 1 AS a) t0{}",
                "(SELECT * FROM ".repeat(n),
                ") t".repeat(n)
            )
        },
        answer_at_ten("1"),
    );
}

#[test]
fn union_chains() {
    check(
        "UNION ALL chain",
        "",
        |n| {
            format!(
                "SELECT count(*) FROM ({}) u",
                repeat(n, "SELECT 1", " UNION ALL ")
            )
        },
        answer_unless_deep(|n| n.to_string()),
    );
    check(
        "EXPLAIN of a UNION chain",
        "",
        |n| format!("EXPLAIN {}", repeat(n, "SELECT 1", " UNION ")),
        |n| match n {
            d if d < 10_000 => Expect::Answer("Union".into()),
            _ => Expect::AnswerOrTooComplex("Union".into()),
        },
    );
}

#[test]
fn in_lists() {
    check(
        "IN list",
        "",
        |n| {
            let items: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
            format!("SELECT {n} IN ({})", items.join(", "))
        },
        |_| Expect::Answer("t".into()),
    );
}

#[test]
fn long_values_lists() {
    check(
        "VALUES list",
        "",
        |n| {
            let rows: Vec<String> = (1..=n).map(|i| format!("({i}, -{i})")).collect();
            format!("SELECT count(*) FROM (VALUES {}) v", rows.join(", "))
        },
        |n| Expect::Answer(n.to_string()),
    );
}

#[test]
fn function_chains() {
    // Calls nest at most 16 deep (bind/routine.rs), so chains of 10 and 100 functions
    // say what the call depth gives; 10,000 and 100,000 levels are reached in one
    // function's body instead.
    for n in [10, 100] {
        let mut setup = String::from(
            "CREATE FUNCTION f0() RETURNS TABLE(x INTEGER) LANGUAGE sql AS $$ SELECT 1 $$;",
        );
        for i in 1..=n {
            setup.push_str(&format!(
                "CREATE FUNCTION f{i}() RETURNS TABLE(x INTEGER) LANGUAGE sql \
                 AS $$ SELECT x FROM f{}() $$;",
                i - 1
            ));
        }
        let report = run_child(&Case {
            setup,
            sql: format!("SELECT x FROM f{n}()"),
            stack: SPAWNED_STACK,
            stream: false,
        });
        let expected = match n {
            10 => "ANSWER 1",
            _ => "UNSUPPORTED",
        };
        assert!(report.starts_with(expected), "{n} functions: {report}");
    }
    check(
        "function body",
        "",
        |n| {
            format!(
                "CREATE FUNCTION deep() RETURNS TABLE(x BIGINT) LANGUAGE sql AS $$ SELECT {} $$; \
                 SELECT x FROM deep()",
                repeat(n, "1", " + ")
            )
        },
        answer_unless_deep(|n| n.to_string()),
    );
}

#[test]
fn a_deep_prepared_statement_drops_on_a_small_stack() {
    let dir = tempfile::tempdir().unwrap();
    let db = hdb::Database::open(dir.path().join("p.db")).unwrap();
    let sql = format!("SELECT {}", repeat(3_000, "$1", " + "));
    let statement = std::thread::Builder::new()
        .stack_size(MAIN_STACK)
        .spawn(move || {
            let mut session = db.session();
            let statement = session.prepare(&sql).unwrap();
            let result = session.execute_prepared(&statement, &[2.into()]).unwrap();
            assert_eq!(result.rows()[0].values()[0].to_string(), "6000");
            statement
        })
        .unwrap()
        .join()
        .unwrap();
    // The plan and the AST it holds are dropped where the last handle goes.
    std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || drop(statement))
        .unwrap()
        .join()
        .unwrap();
}

/// The child: runs the case named by [`CHILD_VAR`] and prints a report line; does
/// nothing in a normal test run.
#[test]
fn child_runs_one_case() {
    let Ok(file) = std::env::var(CHILD_VAR) else {
        return;
    };
    let text = std::fs::read_to_string(&file).unwrap();
    let mut parts = text.split("\n\u{1}\n");
    let (setup, sql, stack, stream) = (
        parts.next().unwrap().to_string(),
        parts.next().unwrap().to_string(),
        parts.next().unwrap().trim().parse::<usize>().unwrap(),
        parts.next().unwrap().trim().parse::<bool>().unwrap(),
    );
    let dir = Path::new(&file).parent().unwrap().to_path_buf();
    let report = std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || match stream {
            true => child_stream_report(&dir, &setup, &sql),
            false => child_report(&dir, &setup, &sql),
        })
        .unwrap()
        .join()
        .unwrap();
    println!("REPORT {report}");
}

fn child_report(dir: &Path, setup: &str, sql: &str) -> String {
    let db = hdb::Database::open(dir.join("deep.db")).unwrap();
    let mut session = db.session();
    if !setup.is_empty() {
        session.execute(setup).unwrap();
    }
    // The CLI splits a script into statements (parse, print back) before running them.
    let split = hdb::split_statements(sql);
    let result = session.execute(sql);
    let report = match result {
        Ok(result) => {
            // The first cell; of EXPLAIN's plan, the name of the top node.
            let cell = result
                .rows()
                .first()
                .and_then(|r| r.values().first().cloned());
            let text = cell.map(|v| v.to_string()).unwrap_or_default();
            let answer = match result.columns() == ["QUERY PLAN"] {
                true => text
                    .split([':', ' '])
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                false => text,
            };
            format!("ANSWER {answer}")
        }
        Err(hdb::Error::TooComplex(m)) => format!("TOOCOMPLEX {m}"),
        Err(hdb::Error::Unsupported(m)) => format!("UNSUPPORTED {m}"),
        Err(hdb::Error::Syntax(m)) => format!("SYNTAX {m}"),
        Err(e) => format!("ERROR {e:?}"),
    };
    // A statement that runs must split (only running binds, so not the converse).
    if let (Err(e), true) = (&split, report.starts_with("ANSWER")) {
        return format!("ERROR split failed: {e:?}");
    }
    report
}

/// The child's run of a streamed query: its rows pulled one at a time; the report is
/// the number of rows, or the error.
fn child_stream_report(dir: &Path, setup: &str, sql: &str) -> String {
    let db = hdb::Database::open(dir.join("deep.db")).unwrap();
    let mut session = db.session();
    session.execute(setup).unwrap();
    let rows = match session.query_iter(sql, &[]) {
        Ok(rows) => rows,
        Err(hdb::Error::TooComplex(m)) => return format!("TOOCOMPLEX {m}"),
        Err(e) => return format!("ERROR {e:?}"),
    };
    let mut count = 0;
    for row in rows {
        match row {
            Ok(_) => count += 1,
            Err(e) => return format!("ERROR while streaming: {e:?}"),
        }
    }
    // The session goes on after the statement.
    match session.execute("SELECT count(*) FROM t") {
        Ok(_) => format!("ANSWER {count}"),
        Err(e) => format!("ERROR after streaming: {e:?}"),
    }
}

#[test]
fn streaming_rows_through_a_deep_where() {
    // Rows stream as the caller pulls them, each evaluated then: a WHERE that is deep at
    // every level must not overflow the caller's stack either.
    let rows: Vec<String> = (1..=300).map(|i| format!("({i}, 'v')")).collect();
    let setup = format!(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES {}",
        rows.join(", ")
    );
    let rules = [
        (
            "AND chain",
            "SELECT id FROM t WHERE ",
            "id > 0",
            " AND ",
            "",
        ),
        ("+ chain", "SELECT id FROM t WHERE ", "id", " + ", " > 0"),
        ("|| chain", "SELECT id, ", "v", " || ", " FROM t"),
    ];
    for (rule, before, term, operator, after) in rules {
        // Depths under the binder's limit of 10,000 are the ones that run (deeper ones
        // are refused as the other tests show), on the smaller stack: with every row
        // evaluated on the caller's stack, 3,000 terms overflow it.
        for depth in [10, 100, 1_000, 3_000, 9_000] {
            let stack = SPAWNED_STACK;
            let report = run_child(&Case {
                setup: setup.clone(),
                sql: format!("{before}{}{after}", repeat(depth, term, operator)),
                stack,
                stream: true,
            });
            let expected = answer_unless_deep(|_| "300".into())(depth);
            assert!(
                expected.accepts(&report),
                "streaming a {rule} {depth} deep on a {stack}-byte stack: {report}"
            );
        }
    }
}

#[test]
fn deep_check_constraints() {
    // A CHECK is stored as text and bound again by every INSERT: a deep one must not
    // overflow the stack of a shallow INSERT.
    for n in [10, 100, 5_000] {
        let setup = format!(
            "CREATE TABLE c (id INTEGER PRIMARY KEY, v INTEGER CHECK ({} > 0))",
            repeat(n, "v", " + ")
        );
        for stack in [MAIN_STACK, SPAWNED_STACK] {
            let report = run_child(&Case {
                setup: setup.clone(),
                sql: "INSERT INTO c VALUES (1, 1); SELECT count(*) FROM c".into(),
                stack,
                stream: false,
            });
            assert_eq!(report, "ANSWER 1", "{n} terms on a {stack}-byte stack");
        }
    }
}

#[test]
fn nested_with_queries() {
    check(
        "WITH inside WITH",
        "",
        |n| {
            format!(
                "{}SELECT 1 AS a{}",
                "WITH c AS (".repeat(n),
                ") SELECT a FROM c".repeat(n)
            )
        },
        answer_at_ten_else_refused("1"),
    );
    // Each WITH query names the one before: the chain is as deep as it is long.
    check(
        "chain of WITH queries",
        "",
        |n| {
            let mut sql = String::from("WITH c0 AS (SELECT 1 AS a)");
            for i in 1..n {
                sql.push_str(&format!(", c{i} AS (SELECT a FROM c{})", i - 1));
            }
            format!("{sql} SELECT a FROM c{}", n - 1)
        },
        answer_unless_deep(|_| "1".to_string()),
    );
}

#[test]
fn view_chains() {
    // Views expand inside each other at most 32 deep (bind/view.rs): a chain of 32
    // views is the longest, and a 33rd cannot be created (it could not be expanded).
    for (views, sql, expected) in [
        (10, "SELECT x FROM v10", "ANSWER 1"),
        (31, "SELECT x FROM v31", "ANSWER 1"),
        (31, "CREATE VIEW v32 AS SELECT x FROM v31", "TOOCOMPLEX"),
    ] {
        let mut setup = String::from("CREATE VIEW v0 AS SELECT 1 AS x;");
        for i in 1..=views {
            setup.push_str(&format!("CREATE VIEW v{i} AS SELECT x FROM v{};", i - 1));
        }
        let report = run_child(&Case {
            setup,
            sql: sql.to_string(),
            stack: SPAWNED_STACK,
            stream: false,
        });
        assert!(report.starts_with(expected), "{sql}: {report}");
    }
}
