//! `hdb sql` end to end: statements from `-c` and from stdin, TSV results with a header,
//! psql command tags, errors on stderr with a non-zero exit, `--bail`.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn hdb_sql(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hdb"))
        .arg("sql")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
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
         user_id\tname\tstatus\nu1\tAlice\tinactive\nu2\tBob\t\n"
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
