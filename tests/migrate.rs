#![allow(clippy::unwrap_used)]
//! `hdb_tools::migrate`: a generated D store migrated into H verifies, and H's rows are checked
//! against D's documents independently of the migration's own checksum (read back through
//! SQL); a migration stopped after N batches resumes and verifies; bad documents are
//! reported with their keys, and the command fails on them unless allowed; fields the
//! schema leaves out; the inferred schema on mixed documents.
//!
//! Sizes are small so the file runs in seconds in a debug build; `HDB_MIGRATE_TEST_DOCS`
//! raises the document count of the main test.

use std::collections::HashMap;
use std::path::Path;

use hdb::kv_legacy::{Document, Durability, LegacyStore, Scalar, Timestamp};
use hdb::{Database, Value};
use hdb_tools::migrate::{MigrateError, MigrateOptions, OnBadDocument, SchemaSource, migrate};

fn doc(fields: &[(&str, Scalar)]) -> Document {
    fields
        .iter()
        .map(|(name, value)| (name.to_string(), value.clone()))
        .collect()
}

/// A user document like the seed's, with every scalar type D has.
fn user(i: u64) -> Document {
    let status = ["active", "inactive", "banned"][(i % 3) as usize];
    let mut d = doc(&[
        ("name", Scalar::Text(format!("User {i}"))),
        ("status", Scalar::Text(status.to_string())),
        ("age", Scalar::Int((i * 7 % 80) as i64 + 18)),
        ("verified", Scalar::Bool(i.is_multiple_of(2))),
        (
            "joined",
            Scalar::Timestamp(Timestamp(1_700_000_000_000_000 + i as i64 * 1_000_003)),
        ),
    ]);
    // Some documents lack the score: the column must come out nullable.
    if !i.is_multiple_of(5) {
        d.insert("score".into(), Scalar::Float(i as f64 / 8.0));
    }
    d
}

fn make_store(dir: &Path, docs: impl IntoIterator<Item = (String, Document)>) {
    let store = LegacyStore::open(dir, Durability::Off).unwrap();
    store.put_many(docs).unwrap();
    store.sync().unwrap();
}

fn store_contents(dir: &Path) -> HashMap<String, Document> {
    let store = LegacyStore::open(dir, Durability::Off).unwrap();
    store.snapshot().0.into_iter().collect()
}

/// The value H should hold for a document field, as SQL returns it.
fn expected_value(value: Option<&Scalar>) -> Value {
    match value {
        None | Some(Scalar::Null) => Value::Null,
        Some(Scalar::Bool(b)) => Value::Bool(*b),
        Some(Scalar::Int(i)) => Value::Int(*i),
        Some(Scalar::Float(f)) => Value::Float(*f),
        Some(Scalar::Text(s)) => Value::Text(s.clone()),
        Some(Scalar::Timestamp(t)) => Value::Timestamp(t.0),
    }
}

/// Reads the table back through SQL and checks it holds exactly `expected` (key column
/// `key_column`, one column per field), independently of the migration's checksum.
fn assert_table_equals(
    h: &Path,
    table: &str,
    key_column: &str,
    expected: &HashMap<String, Document>,
) {
    let db = Database::open(h).unwrap();
    let mut session = db.session();
    let result = session.execute(&format!("SELECT * FROM {table}")).unwrap();
    let columns: Vec<String> = result.columns().to_vec();
    let key_at = columns.iter().position(|c| c == key_column).unwrap();
    let mut seen = 0;
    for row in result.rows() {
        let values = row.values();
        let Value::Text(key) = &values[key_at] else {
            panic!("key column holds {:?}", values[key_at]);
        };
        let doc = expected
            .get(key)
            .unwrap_or_else(|| panic!("H has a row for {key:?}, D does not"));
        for (column, value) in columns.iter().zip(values) {
            if column == key_column {
                continue;
            }
            assert_eq!(*value, expected_value(doc.get(column)), "{key:?}.{column}");
        }
        seen += 1;
    }
    assert_eq!(seen, expected.len(), "H's row count");
    db.close().unwrap();
}

fn test_docs() -> u64 {
    std::env::var("HDB_MIGRATE_TEST_DOCS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn a_generated_store_migrates_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (d, h) = (dir.path().join("d"), dir.path().join("h.db"));
    let n = test_docs();
    make_store(&d, (0..n).map(|i| (format!("user_{i}"), user(i))));

    let mut options = MigrateOptions::new(&d, &h);
    options.table = Some("users".into());
    options.key_column = "user_id".into();
    options.batch_size = 3_000;
    let report = migrate(&options).unwrap();

    assert!(report.verification.matches(), "{}", report.summary());
    assert_eq!(report.documents_read, n);
    assert_eq!(report.documents_loaded, n);
    assert_eq!(report.documents_rejected, 0);
    assert_eq!(report.verification.h_rows.count, n);
    assert!(!report.resumed);
    let created = report.created_table.as_deref().unwrap();
    assert!(created.contains("\"score\" DOUBLE PRECISION,"), "{created}");
    assert!(created.contains("\"age\" BIGINT NOT NULL"), "{created}");
    assert!(
        created.contains("\"joined\" TIMESTAMP NOT NULL"),
        "{created}"
    );
    assert!(
        created.contains("\"verified\" BOOLEAN NOT NULL"),
        "{created}"
    );
    assert_table_equals(&h, "users", "user_id", &store_contents(&d));

    // A second run finds the migration done: nothing loaded again, still verified. Its
    // D side converts the documents anew; the first run's was taken by the load as it
    // converted them: the two must be the same digest.
    let again = migrate(&options).unwrap();
    assert!(again.resumed);
    assert_eq!(again.documents_loaded, 0);
    assert!(again.verification.matches(), "{}", again.summary());
    assert_eq!(again.verification, report.verification);

    // H changed behind the migration's back: one value altered, then one row gone.
    for change in [
        "UPDATE users SET age = age + 1 WHERE user_id = 'user_7'",
        "DELETE FROM users WHERE user_id = 'user_8'",
    ] {
        Database::open(&h)
            .unwrap()
            .session()
            .execute(change)
            .unwrap();
        let tampered = migrate(&options).unwrap();
        assert!(
            !tampered.verification.matches(),
            "{change}: {}",
            tampered.summary()
        );
        assert_eq!(tampered.verification.d_rows, report.verification.d_rows);
    }
}

#[test]
fn the_store_may_be_open_by_its_writer_while_migrating() {
    let dir = tempfile::tempdir().unwrap();
    let (d, h) = (dir.path().join("d"), dir.path().join("h.db"));
    let store = LegacyStore::open(&d, Durability::Full).unwrap();
    store
        .put_many((0..500).map(|i| (format!("u{i:04}"), user(i))))
        .unwrap();
    store.delete("u0007").unwrap();
    store.put("u0008", user(9999)).unwrap();
    // D holds its LOCK file; the migration reads the log without it.
    let report = migrate(&MigrateOptions::new(&d, &h)).unwrap();
    assert!(report.verification.matches(), "{}", report.summary());
    assert_eq!(report.documents_read, 499);
    let expected: HashMap<_, _> = store.snapshot().0.into_iter().collect();
    drop(store);
    assert_table_equals(&h, "documents", "key", &expected);
}

#[test]
fn a_migration_stopped_after_some_batches_resumes_without_loading_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (d, h) = (dir.path().join("d"), dir.path().join("h.db"));
    make_store(&d, (0..2_500).map(|i| (format!("k{i:05}"), user(i))));
    // Two documents that will be rejected, one on each side of the stop.
    let store = LegacyStore::open(&d, Durability::Off).unwrap();
    store
        .put("k00010", doc(&[("age", Scalar::Text("ten".into()))]))
        .unwrap();
    store
        .put("k02000", doc(&[("age", Scalar::Text("old".into()))]))
        .unwrap();
    drop(store);
    let schema = "CREATE TABLE people (k TEXT PRIMARY KEY, name TEXT, status TEXT, age BIGINT, \
                  verified BOOLEAN, joined TIMESTAMP, score DOUBLE PRECISION)";

    let mut options = MigrateOptions::new(&d, &h);
    options.schema = SchemaSource::Sql(schema.into());
    options.key_column = "k".into();
    options.batch_size = 400;
    // Three converting threads take turns with the seven batches; they still commit in
    // key order, so the stop leaves exactly the first two.
    options.workers = 3;
    options.stop_after_batches = Some(2);
    match migrate(&options) {
        Err(MigrateError::Interrupted { batches: 2 }) => {}
        other => panic!("expected a stop after 2 batches, got {other:?}"),
    }
    // Exactly the first two batches are in H: keys k00000..k00799 but the rejected one.
    {
        let db = Database::open(&h).unwrap();
        let rows = db.session().execute("SELECT k FROM people").unwrap();
        let keys: Vec<String> = rows.rows().iter().map(|r| r.get(0).unwrap()).collect();
        let expected: Vec<String> = (0..800)
            .filter(|i| *i != 10)
            .map(|i| format!("k{i:05}"))
            .collect();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, expected);
        db.close().unwrap();
    }

    options.stop_after_batches = None;
    let report = migrate(&options).unwrap();
    assert!(report.resumed);
    assert!(report.verification.matches(), "{}", report.summary());
    assert_eq!(report.documents_loaded, 2_500 - 800 - 1);
    assert_eq!(report.total_loaded, 2_498);
    assert_eq!(report.total_rejected, 2);
    assert_eq!(report.verification.d_rejected, 2);
    let rejected: Vec<&str> = report.rejected.iter().map(|b| b.key.as_str()).collect();
    assert_eq!(rejected, ["k02000"], "this run's rejections");
    let mut expected = store_contents(&d);
    expected.remove("k00010");
    expected.remove("k02000");
    assert_table_equals(&h, "people", "k", &expected);
}

#[test]
fn a_killed_migration_process_resumes_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (d, h) = (dir.path().join("d"), dir.path().join("h.db"));
    make_store(&d, (0..6_000).map(|i| (format!("user_{i}"), user(i))));
    let run = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hdb"));
        command
            .args(["migrate", "--no-progress", "--batch-size", "200", "--from"])
            .arg(&d)
            .arg("--to")
            .arg(&h);
        command
    };
    let mut child = run().stdout(std::process::Stdio::null()).spawn().unwrap();
    // Kill it once H exists (an H file whose creation was cut short must be removed by
    // hand, an engine limitation this test is not about), somewhere in the migration.
    let wal = dir.path().join("h.db.wal");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !(h.exists() && wal.exists()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();

    let output = run().output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("MATCH"), "{stdout}");
    assert_table_equals(&h, "documents", "key", &store_contents(&d));
}

#[test]
fn bad_documents_are_reported_with_their_keys_and_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (d, h) = (dir.path().join("d"), dir.path().join("h.db"));
    let good = |i: i64| {
        doc(&[
            ("name", Scalar::Text(format!("n{i}"))),
            ("n", Scalar::Int(i)),
        ])
    };
    let mut docs: Vec<(String, Document)> =
        (0..50).map(|i| (format!("g{i:02}"), good(i))).collect();
    let bad = [
        (
            "b_type",
            doc(&[
                ("name", Scalar::Text("x".into())),
                ("n", Scalar::Text("1".into())),
            ]),
        ),
        ("b_missing", doc(&[("n", Scalar::Int(1))])),
        (
            "b_null",
            doc(&[("name", Scalar::Null), ("n", Scalar::Int(1))]),
        ),
        (
            "b_extra",
            doc(&[
                ("name", Scalar::Text("x".into())),
                ("other", Scalar::Int(1)),
            ]),
        ),
        ("b_long", doc(&[("name", Scalar::Text("x".repeat(11)))])),
        (
            "b_range",
            doc(&[
                ("name", Scalar::Text("x".into())),
                ("n", Scalar::Int(1 << 40)),
            ]),
        ),
        (
            "b_float",
            doc(&[
                ("name", Scalar::Text("x".into())),
                ("n", Scalar::Float(1.5)),
            ]),
        ),
    ];
    docs.extend(bad.iter().map(|(k, v)| (k.to_string(), v.clone())));
    let long_key = format!("b_key{}", "k".repeat(600));
    docs.push((long_key.clone(), good(1)));
    make_store(&d, docs);
    let schema = "CREATE TABLE t (id TEXT PRIMARY KEY, name VARCHAR(10) NOT NULL, n INTEGER)";

    let mut options = MigrateOptions::new(&d, &h);
    options.schema = SchemaSource::Sql(schema.into());
    options.key_column = "id".into();
    options.on_bad_document = OnBadDocument::Abort;
    match migrate(&options) {
        // Keys load in order, so the first bad one met is the smallest.
        Err(MigrateError::BadDocument(bad)) => assert_eq!(bad.key, "b_extra"),
        other => panic!("expected an abort on a bad document, got {other:?}"),
    }

    options.on_bad_document = OnBadDocument::Skip;
    let report = migrate(&options).unwrap();
    assert!(report.verification.matches(), "{}", report.summary());
    let mut rejected: Vec<(String, String)> = report
        .rejected
        .iter()
        .map(|b| (b.key.clone(), b.reason.clone()))
        .collect();
    rejected.sort();
    let keys: Vec<&str> = rejected.iter().map(|(k, _)| k.as_str()).collect();
    let mut expected_keys: Vec<&str> = bad.iter().map(|(k, _)| *k).collect();
    expected_keys.push(&long_key);
    expected_keys.sort();
    assert_eq!(keys, expected_keys);
    let reason = |key: &str| &rejected.iter().find(|(k, _)| k == key).unwrap().1;
    assert!(
        reason("b_type").contains("does not fit"),
        "{}",
        reason("b_type")
    );
    assert!(
        reason("b_missing").contains("NOT NULL"),
        "{}",
        reason("b_missing")
    );
    assert!(reason("b_extra").contains("other"), "{}", reason("b_extra"));
    assert!(
        reason("b_long").contains("too long"),
        "{}",
        reason("b_long")
    );
    assert!(
        reason("b_range").contains("out of range"),
        "{}",
        reason("b_range")
    );
    assert!(
        reason(&long_key).contains("too large"),
        "{}",
        reason(&long_key)
    );
    assert_eq!(report.verification.d_rejected, 8);
    assert_eq!(report.verification.h_rejected, 8);
    assert_eq!(report.verification.h_rows.count, 50);
    assert!(report.summary().contains("rejected \"b_null\""));
}

#[test]
fn inference_types_each_field_and_reports_the_ones_that_do_not_fit() {
    let docs = [
        doc(&[
            ("a", Scalar::Int(1)),
            ("mixed", Scalar::Int(1)),
            ("num", Scalar::Int(2)),
            ("nulls", Scalar::Null),
        ]),
        doc(&[
            ("a", Scalar::Int(2)),
            ("mixed", Scalar::Int(2)),
            ("num", Scalar::Float(2.5)),
            ("t", Scalar::Timestamp(Timestamp(0))),
        ]),
        doc(&[
            ("a", Scalar::Int(3)),
            ("mixed", Scalar::Text("three".into())),
            ("num", Scalar::Int(4)),
            ("key", Scalar::Text("x".into())),
        ]),
    ];
    let inferred = hdb_tools::migrate::infer(docs.iter(), "t1", "key");
    let field = |name: &str| inferred.fields.iter().find(|f| f.field == name).unwrap();
    assert_eq!(field("a").sql_type, hdb_tools::migrate::SqlType::BigInt);
    assert!(!field("a").nullable && field("a").note.is_none());
    assert_eq!(field("num").sql_type, hdb_tools::migrate::SqlType::Double);
    assert_eq!(field("num").misfits, 0);
    assert_eq!(field("mixed").sql_type, hdb_tools::migrate::SqlType::BigInt);
    assert_eq!(field("mixed").misfits, 1);
    assert!(field("mixed").note.as_deref().unwrap().contains("rejected"));
    assert_eq!(field("nulls").sql_type, hdb_tools::migrate::SqlType::Text);
    assert!(field("nulls").nullable);
    assert_eq!(field("t").sql_type, hdb_tools::migrate::SqlType::Timestamp);
    assert!(field("t").nullable);
    assert!(field("key").note.as_deref().unwrap().contains("key column"));
    assert_eq!(
        inferred.create_table,
        "CREATE TABLE \"t1\" (\"key\" TEXT PRIMARY KEY, \"a\" BIGINT NOT NULL, \
         \"mixed\" BIGINT NOT NULL, \"nulls\" TEXT, \"num\" DOUBLE PRECISION NOT NULL, \
         \"t\" TIMESTAMP)"
    );
}

/// Puts and deletes through D's own API, the way the legacy application writes.
fn write_changes(store: &LegacyStore, round: u64, per_round: u64) {
    let docs = (0..per_round).map(|j| {
        let i = (round * 7919 + j * 104_729) % 3_000;
        (format!("user_{i}"), user(i + round))
    });
    store.put_many(docs).unwrap();
    store
        .delete(&format!("user_{}", round * 13 % 3_000))
        .unwrap();
}

#[test]
fn follow_applies_puts_deletes_and_a_compaction_after_the_bulk_load() {
    let dir = tempfile::tempdir().unwrap();
    let (d, h) = (dir.path().join("d"), dir.path().join("h.db"));
    let store = LegacyStore::open(&d, Durability::Off).unwrap();
    store
        .put_many((0..1_000).map(|i| (format!("user_{i}"), user(i))))
        .unwrap();
    let mut options = MigrateOptions::new(&d, &h);
    options.batch_size = 64;
    let bulk = migrate(&options).unwrap();
    assert!(bulk.verification.matches(), "{}", bulk.summary());

    // The application keeps writing; the follower applies exactly those records.
    let before = store.position();
    for round in 0..10 {
        write_changes(&store, round, 20);
    }
    let written = store
        .changes_since(before, usize::MAX)
        .unwrap()
        .changes
        .len() as u64;
    options.follow = Some(hdb_tools::migrate::FollowOptions {
        until_caught_up: true,
        ..Default::default()
    });
    let tail = migrate(&options).unwrap();
    let follow = tail.follow.unwrap();
    assert!(tail.verification.matches(), "{}", tail.summary());
    assert_eq!(follow.changes_applied, written);
    assert!(follow.caught_up);
    assert_eq!(follow.resyncs, 0);
    assert_table_equals(
        &h,
        "documents",
        "key",
        &store.snapshot().0.into_iter().collect(),
    );

    // A compaction replaces D's log: the follower resynchronises from the new one.
    for round in 10..15 {
        write_changes(&store, round, 20);
    }
    store.compact().unwrap();
    write_changes(&store, 15, 20);
    let resynced = migrate(&options).unwrap();
    assert!(resynced.verification.matches(), "{}", resynced.summary());
    assert_eq!(resynced.follow.unwrap().resyncs, 1);
    assert_table_equals(
        &h,
        "documents",
        "key",
        &store.snapshot().0.into_iter().collect(),
    );
}

#[test]
fn follow_with_a_concurrent_writer_catches_up_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (d, h) = (dir.path().join("d"), dir.path().join("h.db"));
    let store = LegacyStore::open(&d, Durability::Off).unwrap();
    store
        .put_many((0..2_000).map(|i| (format!("user_{i}"), user(i))))
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut options = MigrateOptions::new(&d, &h);
    options.batch_size = 100;
    options.follow = Some(hdb_tools::migrate::FollowOptions::default());
    options.stop = Some(stop.clone());

    let concurrent = std::thread::scope(|scope| {
        let migrator = scope.spawn(|| migrate(&options));
        for round in 0..40 {
            write_changes(&store, round, 25);
            if round == 20 {
                store.compact().unwrap();
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        migrator.join().unwrap()
    })
    .unwrap();
    // Stopped on request, wherever it was: H matches D as of the position it reached.
    assert!(
        concurrent.verification.matches(),
        "{}",
        concurrent.summary()
    );

    // With the writer done, the next run catches up completely.
    options.stop = None;
    options.follow = Some(hdb_tools::migrate::FollowOptions {
        until_caught_up: true,
        ..Default::default()
    });
    let last = migrate(&options).unwrap();
    assert!(last.verification.matches(), "{}", last.summary());
    assert!(last.follow.unwrap().caught_up);
    assert_table_equals(
        &h,
        "documents",
        "key",
        &store.snapshot().0.into_iter().collect(),
    );
}

/// Issue 10: documents whose key (or an indexed value) is too long for H are rejected
/// and recorded like any bad document — also when the key is too long for the rejection
/// record itself — and the migration stops, resumes, follows and resynchronises.
#[test]
fn documents_too_long_for_h_are_rejected_and_the_migration_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (d, h) = (dir.path().join("d"), dir.path().join("h.db"));
    let named = |name: String| doc(&[("name", Scalar::Text(name))]);
    let store = LegacyStore::open(&d, Durability::Off).unwrap();
    store
        .put_many((0..600).map(|i| (format!("k{i:04}"), named(format!("n{i}")))))
        .unwrap();
    let (key_1000, key_5000) = (format!("k0100{}", "x".repeat(995)), "k0400".repeat(1000));
    store.put(&key_1000, named("a".into())).unwrap();
    store.put(&key_5000, named("b".into())).unwrap();
    // Its key fits; its indexed name does not fit the index.
    store.put("k0500long", named("n".repeat(1200))).unwrap();
    let schema = "CREATE TABLE t (k TEXT PRIMARY KEY, name TEXT); CREATE INDEX t_name ON t (name)";
    let mut options = MigrateOptions::new(&d, &h);
    options.schema = SchemaSource::Sql(schema.into());
    options.key_column = "k".into();
    options.batch_size = 200;
    options.on_bad_document = OnBadDocument::Skip;
    options.stop_after_batches = Some(1);
    match migrate(&options) {
        Err(MigrateError::Interrupted { batches: 1 }) => {}
        other => panic!("expected a stop after 1 batch, got {other:?}"),
    }
    options.stop_after_batches = None;
    let report = migrate(&options).unwrap();
    assert!(report.resumed);
    assert!(report.verification.matches(), "{}", report.summary());
    assert_eq!(report.total_rejected, 3, "{}", report.summary());
    assert_eq!(report.verification.h_rejected, 3);
    let reason = |key: &str| {
        let bad = report.rejected.iter().find(|b| b.key == key);
        bad.map_or_else(
            || "not rejected by this run".to_string(),
            |b| b.reason.clone(),
        )
    };
    assert!(
        reason(&key_5000).contains("too large"),
        "{}",
        reason(&key_5000)
    );
    assert!(
        reason("k0500long").contains("index row size"),
        "{}",
        reason("k0500long")
    );
    let mut expected: HashMap<_, _> = store.snapshot().0.into_iter().collect();
    for bad in [key_1000.as_str(), &key_5000, "k0500long"] {
        expected.remove(bad);
    }
    assert_table_equals(&h, "t", "k", &expected);

    // Follow: a long key deleted, another written, then a compaction: the resync keeps
    // the rejections of long keys D still has and drops the deleted one's.
    store.delete(&key_1000).unwrap();
    let key_2000 = "z".repeat(2000);
    store.put(&key_2000, named("c".into())).unwrap();
    store.compact().unwrap();
    options.follow = Some(hdb_tools::migrate::FollowOptions {
        until_caught_up: true,
        ..Default::default()
    });
    let followed = migrate(&options).unwrap();
    assert!(followed.verification.matches(), "{}", followed.summary());
    assert_eq!(
        followed.verification.h_rejected,
        3,
        "{}",
        followed.summary()
    );
    assert!(followed.follow.unwrap().resyncs >= 1);
    assert_table_equals(&h, "t", "k", &expected);
}

/// `hdb migrate` exits non-zero when documents were rejected, unless `--allow-rejects`
/// covers them (over all runs); SQL reads the rejections; `--extra-fields ignore` loads
/// documents whose fields the schema leaves out.
#[test]
fn the_command_fails_on_rejects_unless_allowed_and_sql_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    let with_extra = |i: i64| {
        doc(&[
            ("name", Scalar::Text(format!("n{i}"))),
            ("extra", Scalar::Int(i)),
        ])
    };
    let mut docs: Vec<(String, Document)> = (0..5)
        .map(|i| {
            (
                format!("g{i}"),
                doc(&[("name", Scalar::Text(format!("n{i}")))]),
            )
        })
        .collect();
    docs.extend((0..2).map(|i| (format!("x{i}"), with_extra(i))));
    make_store(&d, docs);
    let schema = dir.path().join("schema.sql");
    std::fs::write(
        &schema,
        "CREATE TABLE t (id TEXT PRIMARY KEY, name TEXT NOT NULL)",
    )
    .unwrap();
    let run = |h: &str, extra: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_hdb"))
            .args(["migrate", "--no-progress", "--key-column", "id", "--schema"])
            .arg(&schema)
            .arg("--from")
            .arg(&d)
            .arg("--to")
            .arg(dir.path().join(h))
            .args(extra)
            .output()
            .unwrap();
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code(), text)
    };
    let query = |h: &str, sql: &str| -> Vec<Vec<Value>> {
        let db = Database::open(dir.path().join(h)).unwrap();
        let rows = db
            .session()
            .execute(sql)
            .unwrap()
            .rows()
            .iter()
            .map(|r| r.values().to_vec())
            .collect();
        db.close().unwrap();
        rows
    };

    let (code, text) = run("h.db", &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("2 documents were rejected"), "{text}");
    assert!(
        text.contains("MATCH"),
        "verification itself matched: {text}"
    );
    let rejected = query(
        "h.db",
        "SELECT target_table, doc_key, reason FROM hdb_migrate_rejected ORDER BY doc_key",
    );
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    for (row, key) in rejected.iter().zip(["x0", "x1"]) {
        assert_eq!(row[0], Value::Text("t".into()));
        assert_eq!(row[1], Value::Text(key.into()));
        let Value::Text(reason) = &row[2] else {
            panic!("{row:?}")
        };
        assert!(reason.contains("extra"), "{reason}");
    }
    // The same migration again (it resumes: nothing new to load) with the rejections
    // allowed: success, and the count is over all runs.
    let (code, text) = run("h.db", &["--allow-rejects", "2"]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = run("h.db", &["--allow-rejects", "1"]);
    assert_eq!(code, Some(1), "{text}");

    let (code, text) = run("ignore.db", &["--extra-fields", "ignore"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("7 loaded, 0 rejected"), "{text}");
    let names = query("ignore.db", "SELECT id, name FROM t ORDER BY id");
    assert_eq!(names.len(), 7, "{names:?}");
    assert_eq!(
        names[5],
        vec![Value::Text("x0".into()), Value::Text("n0".into())]
    );
    assert!(query("ignore.db", "SELECT * FROM hdb_migrate_rejected").is_empty());
}
