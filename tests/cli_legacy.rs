//! `hdb legacy` end to end: import a 100k-line JSON-lines file, query it by field, get a
//! document, export, and see bad input reported with a non-zero exit.
#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

const DOCUMENTS: usize = 100_000;

fn hdb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hdb"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "hdb failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Every third user is inactive, the rest active.
fn status_of(i: usize) -> &'static str {
    if i.is_multiple_of(3) {
        "inactive"
    } else {
        "active"
    }
}

fn write_users(path: &Path) {
    let mut text = String::with_capacity(DOCUMENTS * 80);
    for i in 0..DOCUMENTS {
        writeln!(
            text,
            r#"{{"key":"user_{i}","doc":{{"name":"name {i}","status":"{}","visits":{}}}}}"#,
            status_of(i),
            i % 17
        )
        .unwrap();
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn import_then_find_counts_the_right_documents() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("users.jsonl");
    let store = dir.path().join("d");
    write_users(&input);
    let store_arg = store.to_str().unwrap();

    stdout(&hdb(&[
        "legacy",
        "import",
        input.to_str().unwrap(),
        "--store",
        store_arg,
    ]));

    let active = (0..DOCUMENTS).filter(|i| status_of(*i) == "active").count();
    let counted = stdout(&hdb(&[
        "legacy", "find", "status", "active", "--store", store_arg, "--count",
    ]));
    assert_eq!(counted.trim(), active.to_string());

    let visits = (0..DOCUMENTS).filter(|i| i % 17 == 5).count();
    let listed = stdout(&hdb(&[
        "legacy", "find", "visits", "5", "--store", store_arg,
    ]));
    assert_eq!(listed.lines().count(), visits);

    let user = stdout(&hdb(&["legacy", "get", "user_42", "--store", store_arg]));
    assert_eq!(
        user.trim(),
        r#"{"doc":{"name":"name 42","status":"inactive","visits":8},"key":"user_42"}"#
    );
    assert!(
        !hdb(&["legacy", "get", "user_x", "--store", store_arg])
            .status
            .success()
    );

    let exported = stdout(&hdb(&["legacy", "export", "--store", store_arg]));
    assert_eq!(exported.lines().count(), DOCUMENTS);
}

#[test]
fn a_bad_line_fails_the_import_and_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.jsonl");
    std::fs::write(
        &input,
        "{\"key\":\"a\",\"doc\":{}}\n{\"key\":\"b\",\"doc\":\n",
    )
    .unwrap();
    let store = dir.path().join("d");
    let output = hdb(&[
        "legacy",
        "import",
        input.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
}
