//! COPY end to end: `Session::copy_in` / `copy_out` in text and CSV with their options,
//! server-side files, data following the statement, errors naming the line and column
//! of a bad value with nothing of a failed COPY loaded; `hdb sql` with `COPY ... FROM
//! STDIN;` data in scripts, `\copy` to and from client files, `--format csv` and TSV's
//! `\N`; and a property test: COPY TO then COPY FROM of random tables (NULLs, empty
//! strings, quotes, delimiters, backslashes, line breaks, unicode) gives the same rows,
//! in both formats with random delimiters and NULL strings.
//!
//! Expected outputs were checked against PostgreSQL 15.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use hdb::{Database, Error, Value};
use proptest::prelude::*;

fn open() -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("copy.db")).unwrap();
    (dir, db)
}

fn rows(session: &mut hdb::Session, sql: &str) -> Vec<Vec<Value>> {
    session
        .execute(sql)
        .unwrap()
        .rows()
        .iter()
        .map(|r| r.values().to_vec())
        .collect()
}

fn copy_out(session: &mut hdb::Session, sql: &str) -> String {
    let mut out = Vec::new();
    session.copy_out(sql, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

#[test]
fn text_and_csv_in_and_out() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c DATE DEFAULT '2000-01-01')")
        .unwrap();
    let loaded = s
        .copy_in(
            "COPY t (a, b) FROM STDIN",
            "1\tx\\ty\n2\t\\N\n3\t\n\\.\nignored".as_bytes(),
        )
        .unwrap();
    assert_eq!(loaded.tag(), "COPY 3");
    let loaded = s
        .copy_in(
            "COPY t FROM STDIN WITH (FORMAT csv, HEADER, NULL 'NULL')",
            "a,b,c\n4,\"multi\nline, \"\"quoted\"\"\",2024-02-29\n5,,NULL\n".as_bytes(),
        )
        .unwrap();
    assert_eq!(loaded.tag(), "COPY 2");
    assert_eq!(
        rows(&mut s, "SELECT a, b FROM t ORDER BY a"),
        vec![
            vec![Value::Int(1), text("x\ty")],
            vec![Value::Int(2), Value::Null],
            vec![Value::Int(3), text("")],
            vec![Value::Int(4), text("multi\nline, \"quoted\"")],
            vec![Value::Int(5), text("")],
        ]
    );
    assert_eq!(
        copy_out(&mut s, "COPY t TO STDOUT"),
        "1\tx\\ty\t2000-01-01\n2\t\\N\t2000-01-01\n3\t\t2000-01-01\n\
         4\tmulti\\nline, \"quoted\"\t2024-02-29\n5\t\t\\N\n"
    );
    assert_eq!(
        copy_out(
            &mut s,
            "COPY (SELECT a, b FROM t WHERE a > 2 ORDER BY a DESC) TO STDOUT (FORMAT csv, HEADER, DELIMITER ';')"
        ),
        "a;b\n5;\"\"\n4;\"multi\nline, \"\"quoted\"\"\"\n3;\"\"\n"
    );
    assert_eq!(
        copy_out(
            &mut s,
            "COPY t (b, a) TO STDOUT WITH CSV QUOTE '''' ESCAPE '\\'"
        ),
        "x\ty,1\n,2\n'',3\n'multi\nline, \"quoted\"',4\n'',5\n"
    );
}

#[test]
fn a_bad_value_names_its_line_and_column_and_loads_nothing() {
    let (_dir, db) = open();
    let mut s = db.session();
    s.execute("CREATE TABLE t (a INTEGER PRIMARY KEY, b SMALLINT)")
        .unwrap();
    let bad = s.copy_in("COPY t FROM STDIN", "1\t2\n2\t3\n3\tabc\n".as_bytes());
    let Err(Error::Data(message)) = bad else {
        panic!("{bad:?}")
    };
    assert!(
        message.contains("invalid input syntax for type SMALLINT"),
        "{message}"
    );
    assert!(
        message.contains("COPY t, line 3, column b: \"abc\""),
        "{message}"
    );
    let too_big = s.copy_in(
        "COPY t FROM STDIN (FORMAT csv)",
        "1,2\n2,70000\n".as_bytes(),
    );
    assert!(
        matches!(&too_big, Err(Error::Data(m)) if m.contains("line 2, column b")),
        "{too_big:?}"
    );
    let extra = s.copy_in("COPY t FROM STDIN", "1\t2\t3\n".as_bytes());
    assert!(
        matches!(&extra, Err(Error::Data(m)) if m.contains("extra data after last expected column"))
    );
    let missing = s.copy_in("COPY t FROM STDIN", "1\n".as_bytes());
    assert!(matches!(&missing, Err(Error::Data(m)) if m.contains("missing data for column \"b\"")));
    let duplicate = s.copy_in("COPY t FROM STDIN", "1\t1\n1\t2\n".as_bytes());
    assert!(
        matches!(duplicate, Err(Error::Constraint(_))),
        "{duplicate:?}"
    );
    assert_eq!(
        rows(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int(0)]]
    );
    // Inside a transaction the failed COPY aborts it, as any failed statement does.
    s.execute("BEGIN").unwrap();
    s.copy_in("COPY t FROM STDIN", "7\t7\n".as_bytes()).unwrap();
    assert!(s.copy_in("COPY t FROM STDIN", "8\tx\n".as_bytes()).is_err());
    s.execute("ROLLBACK").unwrap();
    assert_eq!(
        rows(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int(0)]]
    );
}

#[test]
fn files_inline_data_and_misuse() {
    let (dir, db) = open();
    let mut s = db.session();
    s.execute("CREATE TABLE t (a INTEGER, b TEXT)").unwrap();
    // psql's script form: the data follows the statement in the same text.
    let inline = s
        .execute("COPY t FROM STDIN;\n1\tone\n2\ttwo\n\\.\n")
        .unwrap();
    assert_eq!(inline.tag(), "COPY 2");
    let path = dir.path().join("out.csv");
    let path = path.to_str().unwrap();
    let written = s
        .execute(&format!("COPY t TO '{path}' (FORMAT csv, HEADER)"))
        .unwrap();
    assert_eq!(written.tag(), "COPY 2");
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        "a,b\n1,one\n2,two\n"
    );
    s.execute(&format!("COPY t FROM '{path}' (FORMAT csv, HEADER)"))
        .unwrap();
    assert_eq!(
        rows(&mut s, "SELECT count(*) FROM t"),
        vec![vec![Value::Int(4)]]
    );
    let missing = s.execute("COPY t FROM '/nonexistent/x.csv'");
    assert!(
        matches!(&missing, Err(Error::Io(m)) if m.contains("/nonexistent/x.csv")),
        "{missing:?}"
    );
    // The client's stream needs the stream API.
    assert!(matches!(
        s.execute("COPY t FROM STDIN"),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(
        s.execute("COPY t TO STDOUT"),
        Err(Error::Unsupported(_))
    ));
    assert!(matches!(
        s.copy_in("SELECT 1", &b""[..]),
        Err(Error::Parameter(_))
    ));
    assert!(
        s.copy_in("COPY t FROM STDIN (FORMAT binary)", &b""[..])
            .is_err()
    );
    assert!(
        s.copy_in("COPY t FROM STDIN (FORMAT csv, DELIMITER '\"')", &b""[..])
            .is_err()
    );
    assert!(
        s.copy_in("COPY t FROM STDIN (QUOTE '''')", &b""[..])
            .is_err()
    );
    assert!(s.copy_in("COPY t (nope) FROM STDIN", &b""[..]).is_err());
    assert_eq!(
        hdb::Session::copy_direction("copy t from stdin"),
        Some(hdb::CopyDirection::FromClient)
    );
    assert_eq!(
        hdb::Session::copy_direction("COPY (SELECT 1) TO STDOUT"),
        Some(hdb::CopyDirection::ToClient)
    );
    assert_eq!(hdb::Session::copy_direction("COPY t TO '/tmp/x'"), None);
}

fn hdb_sql(db: &Path, args: &[&str], stdin: &str, cwd: &Path) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hdb"))
        .current_dir(cwd)
        .arg("sql")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn hdb_sql_copy_and_client_copy() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    std::fs::write(
        dir.path().join("people.csv"),
        "id,name\n1,Alice\n2,\n3,\"\"\n",
    )
    .unwrap();
    let (ok, out, err) = hdb_sql(
        &db,
        &[],
        "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);\n\
         \\copy people from 'people.csv' with (format csv, header)\n\
         COPY people FROM STDIN; SELECT count(*) AS count FROM people;\n\
         4\tDan\n\
         \\.\n\
         \\copy people to 'back.tsv'\n\
         \\copy (SELECT name FROM people WHERE id > 2) to stdout with csv\n\
         COPY people TO STDOUT (FORMAT csv);\n\
         SELECT * FROM people WHERE id < 4 ORDER BY id;\n",
        dir.path(),
    );
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "CREATE TABLE\nCOPY 3\nCOPY 1\ncount\n4\nCOPY 4\n\"\"\nDan\n\
         1,Alice\n2,\n3,\"\"\n4,Dan\n\
         id\tname\n1\tAlice\n2\t\\N\n3\t\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("back.tsv")).unwrap(),
        "1\tAlice\n2\t\\N\n3\t\n4\tDan\n"
    );
    let (ok, out, err) = hdb_sql(
        &db,
        &[
            "--format",
            "csv",
            "-c",
            "SELECT id, name, 'a,b' AS \"x y\" FROM people ORDER BY id LIMIT 3",
        ],
        "",
        dir.path(),
    );
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "id,name,x y\n1,Alice,\"a,b\"\n2,,\"a,b\"\n3,\"\",\"a,b\"\n"
    );
    let (ok, _, err) = hdb_sql(&db, &[], "\\copy people from 'missing.csv'\n", dir.path());
    assert!(!ok);
    assert!(err.contains("missing.csv"), "{err}");
    let (ok, _, err) = hdb_sql(
        &db,
        &[],
        "COPY people FROM STDIN;\n9\tx\n9\ty\n\\.\n",
        dir.path(),
    );
    assert!(!ok);
    assert!(err.contains("duplicate key"), "{err}");
}

/// A text value drawn to stress the formats.
fn nasty_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\\N".to_string()),
        Just("\\.".to_string()),
        Just("NULL".to_string()),
        "[a-z,;|\"'\\\\\t\n\r é√🦀]{0,12}",
    ]
}

fn nullable<T: std::fmt::Debug + Clone + 'static>(
    inner: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    prop_oneof![1 => Just(None), 3 => inner.prop_map(Some)]
}

type TestRow = (Option<String>, Option<i64>, Option<String>, Option<f64>);

fn cases() -> u32 {
    std::env::var("HDB_COPY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn copy_to_then_copy_from_gives_the_same_rows(
        rows in prop::collection::vec(
            (nullable(nasty_text()), nullable(any::<i64>()), nullable(nasty_text()),
             nullable(prop_oneof![any::<f64>(), Just(0.1), Just(-0.0)])),
            0..20,
        ),
        csv in any::<bool>(),
        delimiter in prop::sample::select(vec!['\t', ',', ';', '|', 'x']),
        null in prop::sample::select(vec!["", "\\N", "NULL", "n"]),
    ) {
        let (_dir, db) = open();
        let mut s = db.session();
        s.execute("CREATE TABLE a (k INTEGER PRIMARY KEY, t TEXT, i BIGINT, u VARCHAR, f DOUBLE PRECISION)").unwrap();
        s.execute("CREATE TABLE b (k INTEGER PRIMARY KEY, t TEXT, i BIGINT, u VARCHAR, f DOUBLE PRECISION)").unwrap();
        let insert = s.prepare("INSERT INTO a VALUES ($1, $2, $3, $4, $5)").unwrap();
        for (k, (t, i, u, f)) in rows.iter().enumerate() {
            let row: &TestRow = &(t.clone(), *i, u.clone(), *f);
            s.execute_prepared(&insert, &[
                Value::Int(k as i64), row.0.clone().into(), row.1.into(), row.2.clone().into(), row.3.into(),
            ]).unwrap();
        }
        let format = if csv { "csv" } else { "text" };
        // In text format a value equal to the NULL string reads back as NULL, in
        // PostgreSQL too; only `\N` (whose backslash values escape) cannot collide.
        let null = if csv { null } else { "\\N" };
        // A text-format delimiter may not be a character its escapes use.
        let delimiter = if !csv && "bfnrtvx".contains(delimiter) { '|' } else { delimiter };
        let options = format!("(FORMAT {format}, DELIMITER '{delimiter}', NULL '{null}')");
        let mut data = Vec::new();
        s.copy_out(&format!("COPY a TO STDOUT {options}"), &mut data).unwrap();
        s.copy_in(&format!("COPY b FROM STDIN {options}"), data.as_slice()).unwrap();
        let a = rows_of(&mut s, "SELECT * FROM a ORDER BY k");
        let b = rows_of(&mut s, "SELECT * FROM b ORDER BY k");
        prop_assert_eq!(a, b, "data: {:?}", String::from_utf8_lossy(&data));
    }
}

fn rows_of(s: &mut hdb::Session, sql: &str) -> Vec<Vec<String>> {
    // Compared as text, so NaN equals NaN and NULL stays apart from 'NULL'.
    rows(s, sql)
        .into_iter()
        .map(|r| r.iter().map(|v| format!("{v:?}")).collect())
        .collect()
}
