#![allow(clippy::unwrap_used)]
//! `hdb_tools::migrate` on the bulk path: batches cut in the table's key order (an
//! integer key column, whose order is not D's string order), non-unique indexes set
//! aside during the load and built after it — also when the run stops in between and a
//! later run resumes — and UNIQUE indexes kept during the load (a duplicate must be
//! rejected as its document is loaded). Every table and index is checked through SQL,
//! against D's documents, and by the database's integrity check.

use std::collections::BTreeMap;
use std::path::Path;

use hdb::Database;
use hdb::kv_legacy::{Document, Durability, LegacyStore, Scalar};
use hdb_tools::migrate::{MigrateError, MigrateOptions, SchemaSource, migrate};

fn doc(i: u64) -> Document {
    let mut d = Document::new();
    d.insert("name".into(), Scalar::Text(format!("n{i:05}")));
    d.insert(
        "status".into(),
        Scalar::Text(["a", "b", "c", "d"][(i % 4) as usize].into()),
    );
    d
}

fn make_store(dir: &Path, n: u64) {
    let store = LegacyStore::open(dir, Durability::Off).unwrap();
    store
        .put_many((0..n).map(|i| (i.to_string(), doc(i))))
        .unwrap();
    store.sync().unwrap();
}

/// `SELECT id FROM t WHERE status = $s ORDER BY id` for each status, and the plan.
fn by_status(h: &Path) -> (BTreeMap<String, Vec<i64>>, String) {
    let db = Database::open(h).unwrap();
    let mut session = db.session();
    let mut out = BTreeMap::new();
    for status in ["a", "b", "c", "d"] {
        let rows = session
            .execute(&format!(
                "SELECT id FROM t WHERE status = '{status}' ORDER BY id"
            ))
            .unwrap();
        let ids: Vec<i64> = rows.rows().iter().map(|r| r.get(0).unwrap()).collect();
        out.insert(status.to_string(), ids);
    }
    let plan = session
        .execute("EXPLAIN SELECT id FROM t WHERE status = 'a'")
        .unwrap();
    let plan: Vec<String> = plan.rows().iter().map(|r| r.get(0).unwrap()).collect();
    db.engine().check_integrity().unwrap();
    db.close().unwrap();
    (out, plan.join("\n"))
}

fn expected_by_status(n: u64) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for i in 0..n {
        let Some(Scalar::Text(status)) = doc(i).get("status").cloned() else {
            unreachable!()
        };
        out.entry(status).or_default().push(i as i64);
    }
    out
}

#[test]
fn an_index_is_built_after_the_load_even_when_the_run_stops_between() {
    let dir = tempfile::tempdir().unwrap();
    let (d, h) = (dir.path().join("d"), dir.path().join("h.db"));
    let n = 3_000;
    make_store(&d, n);
    let schema = "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, status TEXT); \
                  CREATE INDEX t_status ON t (status)";
    let mut options = MigrateOptions::new(&d, &h);
    options.schema = SchemaSource::Sql(schema.into());
    options.key_column = "id".into();
    options.batch_size = 500;
    options.stop_after_batches = Some(2);
    match migrate(&options) {
        Err(MigrateError::Interrupted { batches: 2 }) => {}
        other => panic!("expected a stop after 2 batches, got {other:?}"),
    }
    {
        // The first two batches of the *numeric* order, and no index yet.
        let db = Database::open(&h).unwrap();
        let rows = db
            .session()
            .execute("SELECT id FROM t ORDER BY id")
            .unwrap();
        let ids: Vec<i64> = rows.rows().iter().map(|r| r.get(0).unwrap()).collect();
        assert_eq!(ids, (0..1_000).collect::<Vec<i64>>());
        let mut txn = db.engine().begin(engine::IsolationLevel::RepeatableRead);
        let table = engine::table::catalog::table(&mut txn, "t").unwrap();
        assert!(table.indexes.is_empty(), "{:?}", table.indexes);
        drop(txn);
        db.close().unwrap();
    }
    options.stop_after_batches = None;
    let report = migrate(&options).unwrap();
    assert!(report.resumed);
    assert!(report.verification.matches(), "{}", report.summary());
    assert_eq!(report.total_loaded, n);
    let (found, plan) = by_status(&h);
    assert_eq!(found, expected_by_status(n));
    assert!(plan.contains("t_status"), "{plan}");

    // A run that finds the migration done builds nothing again.
    let again = migrate(&options).unwrap();
    assert!(again.verification.matches(), "{}", again.summary());
    assert_eq!(by_status(&h).0, expected_by_status(n));
}

#[test]
fn a_unique_index_stays_during_the_load_while_another_is_deferred() {
    let dir = tempfile::tempdir().unwrap();
    let (d, h) = (dir.path().join("d"), dir.path().join("h.db"));
    let n = 2_000;
    make_store(&d, n);
    let schema = "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT, status TEXT); \
                  CREATE UNIQUE INDEX t_name ON t (name); CREATE INDEX t_status ON t (status)";
    let mut options = MigrateOptions::new(&d, &h);
    options.schema = SchemaSource::Sql(schema.into());
    options.key_column = "id".into();
    options.batch_size = 300;
    options.workers = 1;
    let report = migrate(&options).unwrap();
    assert!(report.verification.matches(), "{}", report.summary());
    assert_eq!(report.total_loaded, n, "{}", report.summary());
    let (found, plan) = by_status(&h);
    assert_eq!(found, expected_by_status(n));
    assert!(plan.contains("t_status"), "{plan}");
    let db = Database::open(&h).unwrap();
    let mut txn = db.engine().begin(engine::IsolationLevel::RepeatableRead);
    let table = engine::table::catalog::table(&mut txn, "t").unwrap();
    let mut names: Vec<&str> = table.indexes.iter().map(|i| i.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["t_name", "t_status"]);
    let rows = db
        .session()
        .execute("SELECT id FROM t WHERE name = 'n01234'")
        .unwrap();
    let ids: Vec<i64> = rows.rows().iter().map(|r| r.get(0).unwrap()).collect();
    assert_eq!(ids, [1_234]);
}
