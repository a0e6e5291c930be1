//! `hdb legacy` and `hdb migrate` against wrong paths and damaged logs: a mistyped store
//! is an error that names it and creates nothing, the read-only commands never write (not
//! even to cut a torn tail) and say when they skipped one, and no command puts a D store
//! inside an H database's log directory.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn hdb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hdb"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeded(output: &Output) -> String {
    assert!(output.status.success(), "hdb failed: {}", stderr(output));
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn import(store: &Path, lines: &str) {
    let input = store.with_extension("jsonl");
    fs::write(&input, lines).unwrap();
    succeeded(&hdb(&[
        "legacy",
        "import",
        input.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]));
}

const TWO_USERS: &str = concat!(
    r#"{"key":"u1","doc":{"status":"banned"}}"#,
    "\n",
    r#"{"key":"u2","doc":{"status":"active"}}"#,
    "\n"
);

#[test]
fn read_commands_on_a_mistyped_store_fail_naming_it_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo");
    let typo_arg = typo.to_str().unwrap();
    let commands: [&[&str]; 4] = [
        &[
            "legacy", "find", "status", "banned", "--store", typo_arg, "--count",
        ],
        &["legacy", "find", "status", "banned", "--store", typo_arg],
        &["legacy", "get", "u1", "--store", typo_arg],
        &["legacy", "export", "--store", typo_arg],
    ];
    for args in commands {
        let output = hdb(args);
        assert!(!output.status.success(), "{args:?} succeeded");
        assert!(output.stdout.is_empty(), "{args:?} printed an answer");
        let message = stderr(&output);
        assert!(
            message.contains("no D store") && message.contains(typo_arg),
            "{args:?}: {message}"
        );
        assert!(!typo.exists(), "{args:?} created {typo_arg}");
    }
}

#[test]
fn migrating_from_a_mistyped_store_fails_and_creates_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo");
    let target = dir.path().join("h.hdb");
    let output = hdb(&[
        "migrate",
        "--from",
        typo.to_str().unwrap(),
        "--to",
        target.to_str().unwrap(),
        "--no-progress",
    ]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("no D store") && message.contains(typo.to_str().unwrap()),
        "{message}"
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("MATCH"));
    assert!(!typo.exists());
    assert!(!target.exists(), "the H database was created");
}

#[test]
fn export_of_a_log_with_a_torn_tail_reports_it_and_leaves_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("d");
    import(&store, TWO_USERS);
    let log = store.join("d.log");
    let whole = fs::read(&log).unwrap();
    // A third record cut short by a crash: 7 bytes of garbage after the last record.
    let mut torn = whole.clone();
    torn.extend_from_slice(&[9, 0, 0, 0, 1, 2, 3]);
    fs::write(&log, &torn).unwrap();
    let store_arg = store.to_str().unwrap();

    for args in [
        &["legacy", "export", "--store", store_arg][..],
        &["legacy", "get", "u1", "--store", store_arg],
        &[
            "legacy", "find", "status", "banned", "--store", store_arg, "--count",
        ],
    ] {
        let output = hdb(args);
        let out = succeeded(&output);
        assert!(!out.is_empty(), "{args:?}");
        let message = stderr(&output);
        assert!(
            message.contains("torn record of 7 bytes")
                && message.contains(&format!("offset {}", whole.len()))
                && message.contains("left the file as it is"),
            "{args:?}: {message}"
        );
        assert_eq!(fs::read(&log).unwrap(), torn, "{args:?} wrote to the log");
    }
    let exported = succeeded(&hdb(&["legacy", "export", "--store", store_arg]));
    assert_eq!(exported.lines().count(), 2);

    // A command that writes cuts the tail off, and says so.
    let input = dir.path().join("more.jsonl");
    fs::write(&input, "{\"key\":\"u3\",\"doc\":{\"status\":\"new\"}}\n").unwrap();
    let output = hdb(&[
        "legacy",
        "import",
        input.to_str().unwrap(),
        "--store",
        store_arg,
    ]);
    succeeded(&output);
    assert!(
        stderr(&output).contains("cut it off"),
        "{}",
        stderr(&output)
    );
    let after = fs::read(&log).unwrap();
    assert_eq!(&after[..whole.len()], &whole[..]);
    let message = stderr(&hdb(&["legacy", "export", "--store", store_arg]));
    assert!(!message.contains("torn"), "{message}");
}

#[test]
fn no_command_puts_a_store_inside_an_h_log_directory() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("h.hdb");
    succeeded(&hdb(&[
        "sql",
        database.to_str().unwrap(),
        "-c",
        "CREATE TABLE t (id INTEGER PRIMARY KEY)",
    ]));
    let log_dir = dir.path().join("h.hdb.wal");
    assert!(log_dir.is_dir());
    let before: Vec<_> = fs::read_dir(&log_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let input = dir.path().join("in.jsonl");
    fs::write(&input, TWO_USERS).unwrap();
    for store in [log_dir.clone(), log_dir.join("d")] {
        let store_arg = store.to_str().unwrap();
        for args in [
            &[
                "legacy", "find", "status", "banned", "--store", store_arg, "--count",
            ][..],
            &["legacy", "get", "u1", "--store", store_arg],
            &["legacy", "export", "--store", store_arg],
            &[
                "legacy",
                "import",
                input.to_str().unwrap(),
                "--store",
                store_arg,
            ],
        ] {
            let output = hdb(args);
            assert!(!output.status.success(), "{args:?} succeeded");
            assert!(
                stderr(&output).contains("log directory of the H database"),
                "{args:?}: {}",
                stderr(&output)
            );
        }
    }
    let after: Vec<_> = fs::read_dir(&log_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before, after);
    // The database still opens with its table.
    succeeded(&hdb(&[
        "sql",
        database.to_str().unwrap(),
        "-c",
        "SELECT * FROM t",
    ]));
}
