//! `hdb sql` end to end: statements from `-c` and from stdin, TSV / table / JSON output,
//! psql command tags, errors on stderr with a non-zero exit, `--bail`, backslash commands
//! in scripts, and the interactive shell driven under a pseudo-terminal
//! (tests/sql_shell_pty.py; skipped with a message where no pty or python3 exists).
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn hdb_sql(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    hdb_sql_with(&[db.as_os_str()], args, stdin)
}

/// `hdb sql` with `before` (the path, or nothing) and then `args`.
fn hdb_sql_with(before: &[&std::ffi::OsStr], args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hdb"))
        .arg("sql")
        .args(before)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A command that fails before reading its input (a bad flag) closes the pipe early.
    match input.write_all(stdin.unwrap_or("").as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.unwrap(),
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn returning_prints_rows_then_the_tag_as_psql_does() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let out = hdb_sql(
        &db,
        &[],
        Some(
            "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT);
             INSERT INTO t VALUES (1, 'x'), (2, NULL) RETURNING a, b;
             DELETE FROM t WHERE a = 1 RETURNING *;",
        ),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "CREATE TABLE\na\tb\n1\tx\n2\t\\N\nINSERT 0 2\na\tb\n1\tx\nDELETE 1\n"
    );
    let out = hdb_sql(
        &db,
        &[
            "--format",
            "table",
            "-c",
            "UPDATE t SET b = 'y' RETURNING b",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), " b\n---\n y\n(1 row)\n\nUPDATE 1\n");
}

#[test]
fn scripts_print_tags_and_tsv() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let out = hdb_sql(
        &db,
        &[],
        Some(
            "CREATE TABLE users (user_id VARCHAR PRIMARY KEY, name VARCHAR, status VARCHAR);
             INSERT INTO users VALUES ('u1', 'Alice', 'active');
             BEGIN ISOLATION LEVEL REPEATABLE READ;
             INSERT INTO users VALUES ('u2', 'Bob', NULL), ('u3', 'Carol', 'active');
             COMMIT;
             UPDATE users SET status = 'inactive' WHERE status = 'active';
             DELETE FROM users WHERE user_id = 'u3';
             SELECT user_id, name, status FROM users ORDER BY user_id;",
        ),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "CREATE TABLE\nINSERT 0 1\nBEGIN\nINSERT 0 2\nCOMMIT\nUPDATE 2\nDELETE 1\n\
         user_id\tname\tstatus\nu1\tAlice\tinactive\nu2\tBob\t\\N\n"
    );
    // The data is in the file: a second run sees it.
    let out = hdb_sql(&db, &["-c", "SELECT count_me FROM users"], None);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("ERROR:"),
        "{}",
        text(&out.stderr)
    );
    let out = hdb_sql(
        &db,
        &["-c", "SELECT name FROM users WHERE user_id = 'u1'"],
        None,
    );
    assert_eq!(text(&out.stdout), "name\nAlice\n");
}

#[test]
fn errors_continue_unless_bail() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let script = "CREATE TABLE t (a INTEGER PRIMARY KEY); INSERT INTO t VALUES (1); \
                  INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);";
    let out = hdb_sql(&db, &["-c", script], None);
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "CREATE TABLE\nINSERT 0 1\nINSERT 0 1\n");
    assert!(
        text(&out.stderr).contains("duplicate key"),
        "{}",
        text(&out.stderr)
    );
    let out = hdb_sql(
        &db,
        &[
            "--bail",
            "-c",
            "INSERT INTO t VALUES (2); INSERT INTO t VALUES (3)",
        ],
        None,
    );
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "");
    let out = hdb_sql(&db, &["-c", "SELECT a FROM t ORDER BY a"], None);
    assert_eq!(text(&out.stdout), "a\n1\n2\n");
}

#[test]
fn scripts_go_on_after_syntax_errors_and_split_outside_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let out = hdb_sql(
        &db,
        &[],
        Some(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n\
             INSERT INTO notes VALUES (1, 'semi;colon'), (2, 'it''s -- not a comment');\n\
             SELEC oops;\n\
             INSERT INTO notes VALUES (3, 'multi\nline');\n\
             /* a comment; with a semicolon */ SELECT id, body FROM notes ORDER BY id",
        ),
    );
    assert!(!out.status.success());
    assert_eq!(
        text(&out.stdout),
        "CREATE TABLE\nINSERT 0 2\nINSERT 0 1\nid\tbody\n1\tsemi;colon\n\
         2\tit's -- not a comment\n3\tmulti\\nline\n"
    );
    let stderr = text(&out.stderr);
    assert_eq!(stderr.matches("ERROR:").count(), 1, "{stderr}");
}

#[test]
fn table_and_json_formats() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let setup = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score DOUBLE PRECISION);
                 INSERT INTO t VALUES (1, 'Alice', 2.5), (22, NULL, NULL);";
    let out = hdb_sql(&db, &["--format", "table", "-c", setup], None);
    assert_eq!(text(&out.stdout), "CREATE TABLE\nINSERT 0 2\n");
    let query =
        "SELECT id, name, score FROM t ORDER BY id; UPDATE t SET score = score * 1 WHERE id = 1";
    let out = hdb_sql(&db, &["--format", "table", "-c", query], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        " id | name  | score\n\
         ----+-------+-------\n\
         \x20 1 | Alice |   2.5\n\
         \x2022 |       |\n\
         (2 rows)\n\nUPDATE 1\n"
    );
    let out = hdb_sql(&db, &["--format", "json"], Some(query));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            serde_json::json!({"columns": ["id", "name", "score"],
                               "rows": [[1, "Alice", 2.5], [22, null, null]]}),
            serde_json::json!({"command": "UPDATE 1", "rows_affected": 1}),
        ]
    );
    let out = hdb_sql(&db, &["--format", "xml", "-c", "SELECT 1"], None);
    assert!(!out.status.success());
}

#[test]
fn backslash_commands_work_in_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let out = hdb_sql(
        &db,
        &[],
        Some(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR(5) DEFAULT 'x');\n\
             \\d t\n\
             \\nonsense\n\
             \\q\n\
             INSERT INTO t VALUES (1);\n",
        ),
    );
    assert!(!out.status.success(), "the unknown command failed");
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("CREATE TABLE\nTable \"t\"\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(" v      | VARCHAR(5) |          | 'x'"),
        "{stdout}"
    );
    assert!(!stdout.contains("INSERT"), "\\q ends the script: {stdout}");
    assert!(text(&out.stderr).contains("invalid command \\nonsense"));
}

/// Runs the shell under a pseudo-terminal (tests/sql_shell_pty.py), typing `lines`;
/// `None` when this machine cannot provide one (no python3 or no pty).
fn shell_session(db: &Path, history: &Path, lines: &[&str]) -> Option<(i32, String)> {
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql_shell_pty.py");
    let output = match Command::new("python3")
        .arg(driver)
        .arg(env!("CARGO_BIN_EXE_hdb"))
        .arg(db)
        .arg(history)
        .args(lines)
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            eprintln!("SKIPPED: cannot run python3 to drive a pty: {e}");
            return None;
        }
    };
    let code = output.status.code().unwrap_or(-1);
    if code == 77 {
        eprintln!("SKIPPED: no pseudo-terminal available");
        return None;
    }
    Some((code, text(&output.stdout)))
}

#[test]
fn interactive_shell_under_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shell.db");
    let history = dir.path().join("history");
    let Some((code, transcript)) = shell_session(
        &db,
        &history,
        &[
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT 'x');",
            "CREATE INDEX users_name ON users (name);",
            "INSERT INTO users VALUES (1, 'Alice'), (2, 'Bob');",
            "SELECT id,",
            "  name FROM users",
            "ORDER BY id;",
            "\\d",
            "\\d users",
            "\\timing",
            "BEGIN;",
            "UPDATE users SET name = 'Eve' WHERE id = 2;",
            "SELECT no_such_column FROM users;",
            "ROLLBACK;",
            "SELECT name FROM users WHERE id = 2",
            "<ctrl-c>",
            "\\timing off",
            "SELECT name FROM users WHERE id = 1;",
        ],
    ) else {
        return;
    };
    assert_eq!(code, 0, "{transcript}");
    let expect = |chunk: &str| assert!(transcript.contains(chunk), "{chunk:?} in\n{transcript}");
    expect("hdb=> CREATE TABLE users");
    expect("\nCREATE TABLE\nhdb=> CREATE INDEX");
    expect("\nINSERT 0 2\n");
    // A statement over three lines, the continuation prompt, an aligned table.
    expect(
        "hdb=> SELECT id,\nhdb->   name FROM users\nhdb-> ORDER BY id;\n \
         id | name\n----+-------\n  1 | Alice\n  2 | Bob\n(2 rows)\n",
    );
    expect(" users |       2 | id          | users_name\n(1 row)\n");
    expect("Table \"users\"\n");
    expect(" name   | TEXT    | not null | 'x'\n");
    expect("Primary key: (id)\nIndexes:\n    \"users_name\" (name)\n");
    expect("Timing is on.\n");
    // In a transaction the prompt says so; an error is shown and the shell goes on.
    expect("BEGIN\n");
    expect("hdb=*> UPDATE users SET name = 'Eve' WHERE id = 2;\nUPDATE 1\n");
    expect("ERROR: ");
    // After the error the transaction has failed, and the prompt says that too.
    expect("hdb=!> ROLLBACK;\nROLLBACK\n");
    let times: Vec<f64> = transcript
        .lines()
        .filter_map(|l| l.strip_prefix("Time: ")?.strip_suffix(" ms")?.parse().ok())
        .collect();
    assert_eq!(
        times.len(),
        4,
        "BEGIN, UPDATE, the error, ROLLBACK: {transcript}"
    );
    // Ctrl-C dropped the unfinished statement: it never ran.
    expect("hdb-> \nhdb=> \\timing off\nTiming is off.\n");
    expect("SELECT name FROM users WHERE id = 1;\n name\n-------\n Alice\n(1 row)\n");
    assert!(!transcript.contains("Eve\n"), "{transcript}");
    assert_eq!(transcript.matches("Time: ").count(), 4, "{transcript}");
    // The session's lines are in the history file.
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("ORDER BY id;"), "{saved}");
    assert!(saved.contains("\\\\d users"), "{saved}");
}

#[test]
fn rows_stream_and_a_closed_stdout_ends_the_query_quietly() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pipe.db");
    let setup = hdb_sql(
        &db,
        &[],
        Some(
            "CREATE TABLE d (i INTEGER);
             INSERT INTO d VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);",
        ),
    );
    assert!(setup.status.success(), "{}", text(&setup.stderr));
    // A million rows: far more than the reader takes, or than a pipe holds.
    let mut child = Command::new(env!("CARGO_BIN_EXE_hdb"))
        .arg("sql")
        .arg(&db)
        .args(["-c", "SELECT * FROM d a, d b, d c, d e, d f, d g"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "i\ti\ti\ti\ti\ti");
    assert_eq!(lines.next().unwrap().unwrap(), "0\t0\t0\t0\t0\t0");
    drop(lines);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}", out.status);
    assert_eq!(text(&out.stderr), "");
}

/// A statement long enough to be running when Ctrl-C comes (it would take minutes).
const LONG_STATEMENT: &str = "SELECT count(*) FROM d a, d b, d c, d e, d f, d g, d h, d i, d j";

fn digits_table(db: &Path) {
    let setup = hdb_sql(
        db,
        &[],
        Some(
            "CREATE TABLE d (i INTEGER);
             INSERT INTO d VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);",
        ),
    );
    assert!(setup.status.success(), "{}", text(&setup.stderr));
}

#[test]
fn ctrl_c_cancels_the_statement_and_the_shell_stays() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cancel.db");
    let history = dir.path().join("history");
    digits_table(&db);
    let long = format!("<cancel>{LONG_STATEMENT};");
    let Some((code, transcript)) = shell_session(
        &db,
        &history,
        &[
            &long,
            "SELECT 1 AS one;",
            "BEGIN;",
            &long,
            "SELECT 2;",
            "ROLLBACK;",
            "SELECT 3 AS three;",
        ],
    ) else {
        return;
    };
    assert_eq!(code, 0, "{transcript}");
    let expect = |chunk: &str| assert!(transcript.contains(chunk), "{chunk:?} in\n{transcript}");
    assert_eq!(
        transcript
            .matches("ERROR: canceling statement due to user request\n")
            .count(),
        2,
        "{transcript}"
    );
    expect("hdb=> SELECT 1 AS one;\n one\n-----\n   1\n(1 row)\n");
    // Inside a transaction, the cancelled statement aborts it, as in PostgreSQL.
    expect("SELECT 2;\nERROR: current transaction is aborted");
    expect("ROLLBACK\n");
    expect("hdb=> SELECT 3 AS three;\n three\n-------\n     3\n(1 row)\n");
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_script_with_status_130() {
    use std::io::{BufRead, BufReader};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cancel.db");
    digits_table(&db);
    let script = format!("SELECT 1 AS ready; {LONG_STATEMENT}; SELECT 2 AS after");
    let mut child = Command::new(env!("CARGO_BIN_EXE_hdb"))
        .arg("sql")
        .arg(&db)
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Once the first statement's result is out, the handler is in place and the long
    // statement is starting.
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    assert_eq!(lines.next().unwrap().unwrap(), "1");
    std::thread::sleep(Duration::from_millis(200));
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "ERROR: canceling statement due to user request\n"
    );
    // The script stopped there: the statement after the cancelled one never ran.
    assert!(!rest.iter().any(|l| l == "after"), "{rest:?}");
}

/// psql's flags and formatting commands; the expected texts are psql 15's output for the
/// same commands (trailing spaces aside, which hdb does not print).
#[test]
fn psql_flags_and_formatting_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("psql.db");
    let setup = hdb_sql(
        &db,
        &[],
        Some(
            "CREATE TABLE s (a INTEGER PRIMARY KEY, b TEXT);\n\
             CREATE INDEX s_b ON s (b);\n\
             INSERT INTO s VALUES (1, 'x'), (22, NULL);\n",
        ),
    );
    assert!(setup.status.success(), "{}", text(&setup.stderr));
    let select = ["-c", "SELECT * FROM s ORDER BY a"];
    let run = |args: &[&str]| text(&hdb_sql(&db, args, None).stdout);

    assert_eq!(
        run(&[&["-A"][..], &select].concat()),
        "a|b\n1|x\n22|\n(2 rows)\n"
    );
    assert_eq!(run(&[&["-t", "-A"][..], &select].concat()), "1|x\n22|\n");
    assert_eq!(
        run(&[&["-t", "--format", "table"][..], &select].concat()),
        "  1 | x\n 22 |\n\n"
    );
    assert_eq!(run(&[&["-t"][..], &select].concat()), "1\tx\n22\t\\N\n");
    assert_eq!(run(&["-q", "-c", "INSERT INTO s VALUES (3, 'y')"]), "");
    assert_eq!(
        run(&["-c", "INSERT INTO s VALUES (4, 'z')"]),
        "INSERT 0 1\n"
    );

    // \x, \pset null, \a, \t in a script.
    let formatted = hdb_sql(
        &db,
        &["--format", "table"],
        Some(
            "\\x\nSELECT * FROM s WHERE a IN (1, 22) ORDER BY a;\n\\x off\n\\pset null (null)\n\
             SELECT * FROM s WHERE a IN (1, 22) ORDER BY a;\n\\a\n\\t\nSELECT a FROM s ORDER BY a;\n",
        ),
    );
    assert_eq!(
        text(&formatted.stdout),
        "Expanded display is on.\n\
         -[ RECORD 1 ]\na | 1\nb | x\n-[ RECORD 2 ]\na | 22\nb |\n\n\
         Expanded display is off.\n\
         Null display is \"(null)\".\n\
         \x20a  |   b\n----+--------\n  1 | x\n 22 | (null)\n(2 rows)\n\n\
         Output format is unaligned.\n\
         Tuples only is on.\n\
         1\n3\n4\n22\n"
    );

    // \o sends results to a file, \o alone back to standard output.
    let file = dir.path().join("out.txt");
    let redirected = hdb_sql(
        &db,
        &[],
        Some(&format!(
            "\\o {}\nSELECT a FROM s WHERE a = 1;\n\\o\nSELECT a FROM s WHERE a = 3;\n",
            file.display()
        )),
    );
    assert_eq!(text(&redirected.stdout), "a\n3\n");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "a\n1\n");

    // \dt, \di, \dv.
    let listed = text(&hdb_sql(&db, &[], Some("\\dt\n\\di\n\\dv\n")).stdout);
    assert!(listed.starts_with("List of tables\n"), "{listed}");
    assert!(
        listed.contains(" s_b    | s     |             | b\n s_pkey | s     | primary key | a\n"),
        "{listed}"
    );
    assert!(
        listed.ends_with("Did not find any relations.\n"),
        "{listed}"
    );

    // -v ON_ERROR_STOP=1 stops at the first error, as --bail does.
    let stopped = hdb_sql(
        &db,
        &["-v", "ON_ERROR_STOP=1"],
        Some("SELECT 1 AS one;\nSELECT * FROM missing;\nSELECT 2 AS two;\n"),
    );
    assert_eq!(
        stopped.status.code(),
        Some(3),
        "psql's status for ON_ERROR_STOP"
    );
    assert_eq!(text(&stopped.stdout), "one\n1\n");
    let not_boolean = hdb_sql(&db, &["-v", "ON_ERROR_STOP=maybe"], Some("SELECT 1;\n"));
    assert!(!not_boolean.status.success());
    assert!(
        text(&not_boolean.stderr).contains("Boolean expected"),
        "{}",
        text(&not_boolean.stderr)
    );

    // A syntax error shows its line and a caret under the position.
    let caret = hdb_sql(&db, &[], Some("SELECT a\n  FROM s WHERE a = = 1;\n"));
    let stderr = text(&caret.stderr);
    assert!(
        stderr.contains("LINE 2:   FROM s WHERE a = = 1\n                           ^\n"),
        "{stderr}"
    );

    // -f FILE, and no path: a database in memory, gone afterwards.
    let script = dir.path().join("script.sql");
    std::fs::write(
        &script,
        "CREATE TABLE m (x INTEGER);\nINSERT INTO m VALUES (7);\nSELECT x FROM m;\n",
    )
    .unwrap();
    let in_memory = hdb_sql_with(&[], &["-f", script.to_str().unwrap()], None);
    assert!(in_memory.status.success(), "{}", text(&in_memory.stderr));
    assert_eq!(text(&in_memory.stdout), "CREATE TABLE\nINSERT 0 1\nx\n7\n");
    assert!(!dir.path().join(":memory:").exists());
}

/// `-v`, `\set`, `\unset` and `:name` interpolation, and errors in a `-f FILE` script
/// named by file and line; the expected texts are psql 15's for the same script.
#[test]
fn variables_and_file_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vars.db");
    let script = dir.path().join("v.sql");
    std::fs::write(
        &script,
        "\\set y 'it''s'\n\
         SELECT :x AS v, :'y' AS w, 1 AS :\"y\";\n\
         \\echo :x :'y' ':x'\n\
         \\set q 'SELECT 2 AS two;'\n\
         :q\n\
         \\unset x\n\
         SELECT :x;\n\
         \\set ON_ERROR_STOP on\n\
         SELECT 3 AS three;\n\
         SELECT nosuch;\n\
         SELECT 4;\n",
    )
    .unwrap();
    let file = script.to_str().unwrap();
    let out = hdb_sql(&db, &["-A", "-v", "x=5", "-f", file], None);
    assert_eq!(
        text(&out.stdout),
        "v|w|it's\n5|it's|1\n(1 row)\n5 'it''s' :x\ntwo\n2\n(1 row)\nthree\n3\n(1 row)\n"
    );
    let stderr = text(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert!(
        errors[0].starts_with(&format!("hdb:{file}:7: ERROR: ")),
        "{stderr}"
    );
    assert!(
        errors[1].starts_with(&format!("hdb:{file}:10: ERROR: ")),
        "{stderr}"
    );
    assert!(!out.status.success());

    // \set lists the variables; a boolean that is not one is refused.
    let listed = hdb_sql(
        &db,
        &["-v", "a=1"],
        Some("\\set b 'two words'\n\\set ON_ERROR_STOP maybe\n\\set\n"),
    );
    assert_eq!(text(&listed.stdout), "a = '1'\nb = 'two words'\n");
    assert!(
        text(&listed.stderr).contains("unrecognized value \"maybe\" for \"ON_ERROR_STOP\""),
        "{}",
        text(&listed.stderr)
    );
}

/// `\i FILE` and `\ir FILE` read files as scripts; errors name the file and line they
/// come from, as psql 15 names them for the same files.
#[test]
fn include_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("include.db");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/mid.sql"),
        "SELECT 2 AS two;\n\\ir inner.sql\nSELECT bad2;\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("sub/inner.sql"), "SELECT 3 AS three;\n").unwrap();
    std::fs::write(
        dir.path().join("main.sql"),
        "SELECT 1 AS one;\n\nSELECT\n  nosuch;\n\\i sub/mid.sql\n\\i missing.sql\nSELECT 4 AS four;\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hdb"))
        .current_dir(dir.path())
        .args(["sql", db.to_str().unwrap(), "-A", "-f", "main.sql"])
        .output()
        .unwrap();
    assert_eq!(
        text(&out.stdout),
        "one\n1\n(1 row)\ntwo\n2\n(1 row)\nthree\n3\n(1 row)\nfour\n4\n(1 row)\n"
    );
    let stderr = text(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 3, "{stderr}");
    assert!(errors[0].starts_with("hdb:main.sql:4: ERROR: "), "{stderr}");
    assert!(
        errors[1].starts_with("hdb:sub/mid.sql:3: ERROR: "),
        "{stderr}"
    );
    assert_eq!(
        errors[2],
        "hdb:main.sql:6: ERROR: missing.sql: No such file or directory"
    );

    // A file that includes itself stops at the nesting limit instead of looping.
    std::fs::write(dir.path().join("self.sql"), "\\i self.sql\n").unwrap();
    let looped = Command::new(env!("CARGO_BIN_EXE_hdb"))
        .current_dir(dir.path())
        .args(["sql", db.to_str().unwrap(), "-f", "self.sql"])
        .output()
        .unwrap();
    assert!(
        text(&looped.stderr).contains("nested more than 16 files deep"),
        "{}",
        text(&looped.stderr)
    );
}

/// `\pset border 0|2` in the table and expanded layouts: psql 15's output for the same
/// script, trailing spaces aside.
#[test]
fn borders_as_psql_draws_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("border.db");
    let setup = hdb_sql(
        &db,
        &[],
        Some(
            "CREATE TABLE s (a INTEGER, b TEXT);\n\
             INSERT INTO s VALUES (1, 'a much longer value here'), (22, NULL);\n",
        ),
    );
    assert!(setup.status.success(), "{}", text(&setup.stderr));
    let script = "\\pset border 0\nSELECT * FROM s ORDER BY a;\n\\x\nSELECT * FROM s ORDER BY a;\n\
                  \\t\nSELECT * FROM s ORDER BY a;\n\\pset border 2\nSELECT * FROM s ORDER BY a;\n\
                  \\t\nSELECT * FROM s ORDER BY a;\n\\x\nSELECT * FROM s ORDER BY a;\n\
                  \\t\nSELECT * FROM s ORDER BY a;\n\\t\nSELECT * FROM s WHERE a > 100;\n";
    let out = hdb_sql(&db, &["-q", "--format", "table"], Some(script));
    assert_eq!(
        text(&out.stdout),
        "a             b\n-- ------------------------\n 1 a much longer value here\n22\n(2 rows)\n\n\
         * Record 1\na 1\nb a much longer value here\n* Record 2\na 22\nb\n\n\
         a 1\nb a much longer value here\n\na 22\nb\n\n\
         +---+--------------------------+\n| a | 1                        |\n\
         | b | a much longer value here |\n+---+--------------------------+\n\
         | a | 22                       |\n| b |                          |\n\
         +---+--------------------------+\n\n\
         +-[ RECORD 1 ]-----------------+\n| a | 1                        |\n\
         | b | a much longer value here |\n+-[ RECORD 2 ]-----------------+\n\
         | a | 22                       |\n| b |                          |\n\
         +---+--------------------------+\n\n\
         +----+--------------------------+\n| a  |            b             |\n\
         +----+--------------------------+\n|  1 | a much longer value here |\n\
         | 22 |                          |\n+----+--------------------------+\n(2 rows)\n\n\
         |  1 | a much longer value here |\n| 22 |                          |\n\
         +----+--------------------------+\n\n\
         +---+---+\n| a | b |\n+---+---+\n+---+---+\n(0 rows)\n\n",
        "{}",
        text(&out.stderr)
    );
    let shown = hdb_sql(&db, &[], Some("\\pset border 2\n\\pset border\n"));
    assert_eq!(
        text(&shown.stdout),
        "Border style is 2.\nBorder style is 2.\n"
    );
}

/// Several `-c` (or `-f`) run in order, each on its own, as in psql; ON_ERROR_STOP
/// stops the rest.
#[test]
fn several_commands_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("several.db");
    let out = hdb_sql(
        &db,
        &[
            "-At",
            "-c",
            "SELECT 1",
            "-c",
            "\\echo two",
            "-c",
            "SELECT 3",
        ],
        None,
    );
    assert_eq!(text(&out.stdout), "1\ntwo\n3\n", "{}", text(&out.stderr));
    let stopped = hdb_sql(
        &db,
        &[
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "SELECT nosuch",
            "-c",
            "SELECT 2",
        ],
        None,
    );
    assert_eq!(text(&stopped.stdout), "");
    assert!(!stopped.status.success());
    let first = dir.path().join("first.sql");
    let second = dir.path().join("second.sql");
    std::fs::write(&first, "SELECT 1 AS a").unwrap();
    std::fs::write(&second, "SELECT\n  nosuch;\n").unwrap();
    let files = hdb_sql(
        &db,
        &[
            "-At",
            "-f",
            first.to_str().unwrap(),
            "-f",
            second.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(text(&files.stdout), "1\n");
    assert!(
        text(&files.stderr).starts_with(&format!("hdb:{}:2: ERROR: ", second.display())),
        "{}",
        text(&files.stderr)
    );
}

/// `\conninfo`, `\l` and `\df` describe the database the session has open.
#[test]
fn conninfo_databases_and_functions() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("info.db");
    let out = hdb_sql(
        &db,
        &[],
        Some(
            "\\df\n\
             CREATE FUNCTION f(p TEXT) RETURNS TABLE(a INTEGER, b TEXT) AS $$ SELECT 1, p $$ LANGUAGE sql;\n\
             \\df\n\\conninfo\n\\l\n",
        ),
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.starts_with(
            "List of functions\n Name | Result data type | Argument data types | Type\n\
             ------+------------------+---------------------+------\n(0 rows)\n\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(" f    | TABLE(a INTEGER, b TEXT) | p TEXT              | func\n(1 row)\n"),
        "{stdout}"
    );
    let canonical = std::fs::canonicalize(&db).unwrap();
    assert!(
        stdout.contains(&format!(
            "You are connected to database \"info.db\" in file \"{}\".\n",
            canonical.display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("List of databases\n"), "{stdout}");
    assert!(stdout.contains(" info.db | UTF8     | "), "{stdout}");
    let memory = hdb_sql_with(&[], &[], Some("\\conninfo\n"));
    assert_eq!(
        text(&memory.stdout),
        "You are connected to a database in memory (gone when hdb sql exits).\n"
    );
}

/// `\e` opens the last statement (or a file) in `$EDITOR` and runs what the editor
/// leaves, as psql does; here the editor is a script that edits the file in place.
#[cfg(unix)]
#[test]
fn edit_runs_what_the_editor_leaves() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("edit.db");
    let editor = dir.path().join("editor.sh");
    let seen = dir.path().join("seen.sql");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ncp \"$1\" '{}'\nsed -i 's/1/2/' \"$1\"\n",
            seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.path().join("q.sql");
    std::fs::write(&file, "SELECT 10 AS ten;\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hdb"))
        .env("EDITOR", &editor)
        .env_remove("PSQL_EDITOR")
        .args(["sql", db.to_str().unwrap(), "-c"])
        .arg(format!(
            "SELECT 1 AS one;\n\\e\n\\e {}\nSELECT 3 AS three;",
            file.display()
        ))
        .output()
        .unwrap();
    assert_eq!(
        text(&out.stdout),
        "one\n1\none\n2\nten\n20\nthree\n3\n",
        "{}",
        text(&out.stderr)
    );
    // The editor was given the last statement with its semicolon, as psql gives it.
    assert_eq!(
        std::fs::read_to_string(&seen).unwrap(),
        "SELECT 10 AS ten;\n"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "SELECT 20 AS ten;\n"
    );
}

/// Under a terminal: tab completion of keywords, tables and columns; `\x`; `\copy` to
/// and from a file on the shell's side; a syntax error with its line and a caret.
#[test]
fn shell_completion_expanded_copy_and_caret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shell.db");
    let history = dir.path().join("history");
    let csv = dir.path().join("users.csv");
    let setup = hdb_sql(
        &db,
        &[],
        Some(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n\
             INSERT INTO users VALUES (1, 'Alice'), (2, 'Bob');\n\
             CREATE TABLE copied (id INTEGER, name TEXT);\n",
        ),
    );
    assert!(setup.status.success(), "{}", text(&setup.stderr));
    let bad = "SELECT id FROM users WHERE id = = 1;";
    let copy_to = format!("\\copy users TO '{}' WITH (FORMAT csv)", csv.display());
    let copy_from = format!("\\copy copied FROM '{}' WITH (FORMAT csv)", csv.display());
    let Some((code, transcript)) = shell_session(
        &db,
        &history,
        &[
            // Tab completes a keyword (in the case typed), a table after FROM, and a
            // column of the table the line names.
            "sel\t* FROM us\tWHERE nam\t= 'Alice';",
            "\\x",
            "SELECT * FROM users WHERE id = 2;",
            "\\x off",
            &copy_to,
            &copy_from,
            "SELECT count(*) AS n FROM copied;",
            bad,
            "help",
            ".tables",
            "quit",
            "SELECT 'after quit' AS never;",
        ],
    ) else {
        return;
    };
    assert_eq!(code, 0, "{transcript}");
    let expect = |chunk: &str| assert!(transcript.contains(chunk), "{chunk:?} in\n{transcript}");
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(
        saved.contains("select * FROM users WHERE name = 'Alice';"),
        "{saved}"
    );
    expect(" id | name\n----+-------\n  1 | Alice\n(1 row)\n");
    expect("Expanded display is on.\n");
    expect("-[ RECORD 1 ]\nid   | 2\nname | Bob\n");
    expect("COPY 2\n");
    assert_eq!(std::fs::read_to_string(&csv).unwrap(), "1,Alice\n2,Bob\n");
    expect(" n\n---\n 2\n(1 row)\n");
    expect("You are using hdb sql, the command-line interface to hdb.\n");
    expect(".tables is not a command here: hdb sql takes psql's backslash commands");
    // `quit` left the shell: the line after it was never read.
    assert!(!transcript.contains("never"), "{transcript}");
    let position = bad.find("= =").unwrap() + 2;
    expect(&format!(
        "LINE 1: {}\n{}^\n",
        bad.trim_end_matches(';'),
        " ".repeat("LINE 1: ".len() + position)
    ));
}
