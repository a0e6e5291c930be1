//! CREATE INDEX on a populated table (the bulk path, `table/index_build.rs`: one pass,
//! one sort, a tree built bottom-up at commit) against the incremental path as its
//! model: the same rows inserted one at a time into a table whose indexes existed from
//! the start. For random rows (NULLs and duplicate values included), built in the
//! transaction that wrote the rows or in a later one, the two must agree on whether a
//! UNIQUE index can be built, and, where it can, hold exactly the same index entries —
//! in the writing transaction, after the commit, and after reopening the file, which
//! must pass `check_integrity`. A failed build must leave its transaction as it was.
//!
//! The build runs under a memory budget drawn per case: the default (every build fits
//! in memory), a few hundred bytes (a dozen spilled runs), or a few dozen bytes (more
//! runs than one merge reads, so runs are merged in passes). A build that the
//! transaction does not read or write again before it commits, in memory or spilled,
//! is logged as a marker and replayed from the table; one it uses again is logged as
//! its entries. Every case reopens after a crash-like close, so that recovery rebuilds
//! the index from the log, and checks that no run file is left.
//!
//! `HDB_INDEX_BUILD_CASES` sets the number of cases (default [`DEFAULT_CASES`]).
#![allow(clippy::unwrap_used)]

mod support;

use std::ops::Bound;
use std::path::Path;

use engine::Constraint;
use engine::keycode::KeyValue as V;
use engine::table::{Column, ColumnType, Row, TableDef, TableSchema, catalog, ops};
use engine::wal::Durability;
use engine::{Database, DatabaseOptions, Error, IsolationLevel, Transaction};
use proptest::prelude::*;
use support::run_files;

const CASES_VAR: &str = "HDB_INDEX_BUILD_CASES";
const DEFAULT_CASES: u32 = 24;

fn options() -> DatabaseOptions {
    DatabaseOptions {
        // Small pages, so a few hundred entries make trees of several levels.
        page_size: 1024,
        durability: Durability::Off,
        ..DatabaseOptions::default()
    }
}

/// The bulk database's options: `budget` bytes for a build, if given, read on up to
/// `threads` threads.
fn bulk_options(budget: Option<usize>, threads: usize) -> DatabaseOptions {
    DatabaseOptions {
        build_memory_bytes: budget.unwrap_or(options().build_memory_bytes),
        build_threads: threads,
        ..options()
    }
}

fn cases() -> u32 {
    std::env::var(CASES_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

fn row(id: i64, code: Option<i64>, group: i64, name: &str) -> Row {
    vec![
        V::Int(id),
        code.map_or(V::Null, V::Int),
        V::Int(group),
        V::Text(name.to_string()),
    ]
}

fn create_table(txn: &mut Transaction) {
    let column = |name: &str, ty| Column {
        name: name.into(),
        ty,
        nullable: true,
    };
    catalog::create_table(
        txn,
        TableDef {
            name: "t".into(),
            columns: vec![
                column("id", ColumnType::Int),
                column("code", ColumnType::Int),
                column("grp", ColumnType::Int),
                column("name", ColumnType::Text),
            ],
            primary_key: vec!["id".into()],
        },
    )
    .unwrap();
}

/// Creates the two indexes: `t_code` on (code), UNIQUE if `unique`, and `t_grp_code`
/// on (grp, code). `Err` if the first cannot be built.
fn create_indexes(txn: &mut Transaction, unique: bool) -> Result<(), Error> {
    catalog::create_index(txn, "t", "t_code", &["code"], unique)?;
    catalog::create_index(txn, "t", "t_grp_code", &["grp", "code"], false)?;
    Ok(())
}

fn is_unique_violation(e: &Error) -> bool {
    matches!(e, Error::Constraint(Constraint::Unique { .. }))
}

fn is_unique_build_violation(e: &Error) -> bool {
    matches!(
        e,
        Error::Constraint(Constraint::UniqueIndexBuild { index, key, .. })
            if index == "t_code" && key.starts_with("(code)=(")
    )
}

/// Every entry of every index of `t`, by index name: the raw keys and values.
type Entries = Vec<(String, Vec<(Vec<u8>, Vec<u8>)>)>;

fn index_entries(txn: &mut Transaction) -> Entries {
    let schema: TableSchema = catalog::table(txn, "t").unwrap();
    let mut all = Vec::new();
    for index in &schema.indexes {
        let entries = txn
            .scan(index.tree, Bound::Unbounded, Bound::Unbounded, false)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        all.push((index.name.clone(), entries));
    }
    all.sort();
    all
}

fn table_rows(txn: &mut Transaction) -> Vec<Row> {
    let schema = catalog::table(txn, "t").unwrap();
    ops::scan(txn, &schema, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(|r| r.unwrap().1)
        .collect()
}

/// The model: a table whose indexes exist before its rows, filled one row at a time.
/// Returns its index entries, or `None` if a row broke the UNIQUE index.
fn incremental(dir: &Path, name: &str, rows: &[Row], unique: bool) -> Option<Entries> {
    let db = Database::open(dir.join(name), options()).unwrap();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    create_table(&mut txn);
    create_indexes(&mut txn, unique).unwrap();
    let schema = catalog::table(&mut txn, "t").unwrap();
    for row in rows {
        match ops::insert(&mut txn, &schema, row.clone()) {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return None,
            Err(e) => panic!("model insert failed: {e}"),
        }
    }
    Some(index_entries(&mut txn))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn a_bulk_built_index_equals_an_incrementally_built_one(
        rows in prop::collection::vec(
            (0i64..400, proptest::option::weighted(0.85, 0i64..300), 0i64..4, "[a-z]{0,12}"),
            0..300,
        ),
        same_txn: bool,
        unique: bool,
        // After a successful build, in the same transaction: insert (`true`) rows with
        // ids 400.. and fresh codes, or delete (`false`) rows by id.
        then in prop::collection::vec((any::<bool>(), 0i64..500), 0..40),
        budget in prop::sample::select(vec![None, Some(400), Some(40)]),
        // Threads reading the table: parts sorted apart and merged, or spilled together.
        threads in prop::sample::select(vec![1usize, 2, 4]),
        // Read the index in the building transaction before the writes that follow.
        look: bool,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bulk.db");
        let db = Database::open(&path, bulk_options(budget, threads)).unwrap();
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        create_table(&mut txn);
        let schema = catalog::table(&mut txn, "t").unwrap();
        for (id, code, group, name) in &rows {
            match ops::insert(&mut txn, &schema, row(*id, *code, *group, name)) {
                Ok(_) | Err(Error::Constraint(Constraint::PrimaryKey { .. })) => {}
                Err(e) => panic!("insert failed: {e}"),
            }
        }
        if !same_txn {
            txn.commit().unwrap();
            txn = db.begin(IsolationLevel::RepeatableRead);
        }
        let stored = table_rows(&mut txn);
        let model = incremental(dir.path(), "model.db", &stored, unique);
        let built = create_indexes(&mut txn, unique);
        match (&built, &model) {
            (Ok(()), Some(expected)) => {
                if look {
                    prop_assert_eq!(&index_entries(&mut txn), expected, "in the building transaction");
                }
                // Writes after the build reach the bulk-loaded entries: found without a
                // hash index, overwritten, merged with later runs.
                let schema = catalog::table(&mut txn, "t").unwrap();
                for (insert, id) in &then {
                    if *insert {
                        let id = 400 + id % 100;
                        match ops::insert(&mut txn, &schema, row(id, Some(1000 + id), id % 4, "x")) {
                            Ok(_) | Err(Error::Constraint(Constraint::PrimaryKey { .. })) => {}
                            Err(e) => panic!("insert after the build failed: {e}"),
                        }
                    } else {
                        ops::delete(&mut txn, &schema, &[V::Int(*id)]).unwrap();
                    }
                }
                let stored = table_rows(&mut txn);
                let expected = &incremental(dir.path(), "model_after.db", &stored, unique)
                    .expect("fresh codes cannot break UNIQUE");
                if look {
                    prop_assert_eq!(&index_entries(&mut txn), expected, "after writes in the building transaction");
                }
                txn.commit().unwrap();
                prop_assert_eq!(run_files(&path), 0, "run files left after the commit");
                let mut reader = db.begin(IsolationLevel::RepeatableRead);
                prop_assert_eq!(&index_entries(&mut reader), expected, "after the commit");
                drop(reader);
                // Recovery replays the build from the log: its marker, or its entries.
                db.close_as_if_crashed();
                let db = Database::open(&path, bulk_options(budget, threads)).unwrap();
                db.check_integrity().unwrap();
                let mut reader = db.begin(IsolationLevel::RepeatableRead);
                prop_assert_eq!(&index_entries(&mut reader), expected, "after reopening");
            }
            (Err(e), None) => {
                prop_assert!(is_unique_build_violation(e), "unexpected error {}", e);
                // The failed build left the transaction as it was: no index, same rows.
                prop_assert!(catalog::table(&mut txn, "t").unwrap().indexes.is_empty());
                prop_assert_eq!(table_rows(&mut txn), stored);
                prop_assert_eq!(run_files(&path), 0, "run files left by a failed build");
                txn.commit().unwrap();
                db.check_integrity().unwrap();
            }
            (built, model) => prop_assert!(
                false,
                "the bulk build gave {:?} but the model {}",
                built,
                if model.is_some() { "built the index" } else { "broke UNIQUE" }
            ),
        }
    }
}

/// Every entry of `t_code` equals the entry its row makes, and every row has one.
fn index_matches_table(txn: &mut Transaction) {
    let schema = catalog::table(txn, "t").unwrap();
    let rows = table_rows(txn);
    let index = schema.index("t_code").unwrap().clone();
    let entries: Vec<_> = ops::index_scan(
        txn,
        &schema,
        &index,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
    )
    .unwrap()
    .map(|r| r.unwrap())
    .collect();
    let mut from_rows: Vec<Row> = rows;
    from_rows.sort_by(|a, b| (&a[1], &a[0]).cmp(&(&b[1], &b[0])));
    let from_index: Vec<Row> = entries.into_iter().map(|(_, row)| row).collect();
    assert_eq!(
        from_index, from_rows,
        "the index holds exactly the table's rows"
    );
}

fn is_conflict<T>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::Serialization(_)))
}

/// The known defect this guards against: CREATE INDEX reads the table at its snapshot,
/// so a row committed by a transaction it cannot see, or written afterwards by a
/// transaction whose snapshot predates the index, would have no entry. The tree lock
/// refuses both with a retryable serialization error (see `mvcc/tree_locks.rs`).
#[test]
fn create_index_never_misses_a_concurrent_commit() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("db"), options()).unwrap();
    let rr = IsolationLevel::RepeatableRead;
    let mut setup = db.begin(rr);
    create_table(&mut setup);
    let schema = catalog::table(&mut setup, "t").unwrap();
    for id in 0..50 {
        ops::insert(&mut setup, &schema, row(id, Some(id), 0, "a")).unwrap();
    }
    setup.commit().unwrap();

    // A writer that has not finished: the build is refused.
    let mut writer = db.begin(rr);
    ops::insert(&mut writer, &schema, row(100, Some(100), 0, "w")).unwrap();
    let mut builder = db.begin(rr);
    assert!(is_conflict(catalog::create_index(
        &mut builder,
        "t",
        "t_code",
        &["code"],
        false
    )));

    // It commits after the next builder's snapshot: that build is refused too.
    let mut builder = db.begin(rr);
    assert_eq!(table_rows(&mut builder).len(), 50);
    writer.commit().unwrap();
    assert!(is_conflict(catalog::create_index(
        &mut builder,
        "t",
        "t_code",
        &["code"],
        false
    )));

    // A snapshot that sees it builds; meanwhile writers are refused, and so are those
    // whose snapshot predates the index once it has committed.
    let mut stale = db.begin(rr);
    assert_eq!(table_rows(&mut stale).len(), 51);
    let mut builder = db.begin(rr);
    catalog::create_index(&mut builder, "t", "t_code", &["code"], false).unwrap();
    let mut during = db.begin(rr);
    assert!(is_conflict(ops::insert(
        &mut during,
        &schema,
        row(101, Some(101), 0, "d")
    )));
    builder.commit().unwrap();
    assert!(is_conflict(ops::insert(
        &mut stale,
        &schema,
        row(102, Some(102), 0, "s")
    )));

    // A writer that sees the index maintains it.
    let mut after = db.begin(rr);
    let schema = catalog::table(&mut after, "t").unwrap();
    ops::insert(&mut after, &schema, row(103, Some(103), 0, "n")).unwrap();
    after.commit().unwrap();
    let mut check = db.begin(rr);
    assert_eq!(table_rows(&mut check).len(), 52);
    index_matches_table(&mut check);
    drop(check);
    db.check_integrity().unwrap();

    // DROP INDEX takes the same lock: no stale writer adds entries to the dropped tree.
    let mut stale = db.begin(rr);
    assert_eq!(table_rows(&mut stale).len(), 52);
    let mut dropper = db.begin(rr);
    catalog::drop_index(&mut dropper, "t_code").unwrap();
    dropper.commit().unwrap();
    assert!(is_conflict(ops::insert(
        &mut stale,
        &schema,
        row(104, Some(104), 0, "s")
    )));
}

/// Builds `t_code` (UNIQUE) and `t_grp_code` over `rows` rows under `budget` and
/// commits — after reading the new indexes in the building transaction if `use_them` —
/// then reopens after a crash-like close; returns the bytes the build's commit logged
/// and the index entries.
fn build_and_log(path: &Path, budget: Option<usize>, rows: i64, use_them: bool) -> (u64, Entries) {
    let db = Database::open(path, bulk_options(budget, 1)).unwrap();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    create_table(&mut txn);
    let schema = catalog::table(&mut txn, "t").unwrap();
    for id in 0..rows {
        let code = (id * 7919) % rows;
        ops::insert(&mut txn, &schema, row(id, Some(code), id % 4, "some name")).unwrap();
    }
    txn.commit().unwrap();
    let before = db.wal().end_lsn().0;
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    create_indexes(&mut txn, true).unwrap();
    if use_them {
        assert_eq!(index_entries(&mut txn)[0].1.len(), rows as usize);
    }
    txn.commit().unwrap();
    let logged = db.wal().end_lsn().0 - before;
    assert_eq!(run_files(path), 0, "run files left after the commit");
    let mut reader = db.begin(IsolationLevel::RepeatableRead);
    let entries = index_entries(&mut reader);
    drop(reader);
    // Recovery replays the build from the log: the marker, or the entries.
    db.close_as_if_crashed();
    let db = Database::open(path, bulk_options(budget, 1)).unwrap();
    db.check_integrity().unwrap();
    let mut reader = db.begin(IsolationLevel::RepeatableRead);
    assert_eq!(index_entries(&mut reader), entries, "after recovery");
    index_matches_table(&mut reader);
    (logged, entries)
}

/// A build its transaction does not use again logs a marker of a few hundred bytes,
/// in memory or spilled, and recovery rebuilds the same index from it; one the
/// transaction reads before committing logs its entries.
#[test]
fn a_build_logs_a_marker_unless_its_transaction_uses_it_and_recovery_rebuilds_the_same_index() {
    let dir = tempfile::tempdir().unwrap();
    let rows = 3000;
    let path = |name: &str| dir.path().join(name);
    let (memory_bytes, memory) = build_and_log(&path("memory.db"), None, rows, false);
    let (spilled_bytes, spilled) = build_and_log(&path("spilled.db"), Some(2048), rows, false);
    let (used_bytes, used) = build_and_log(&path("used.db"), None, rows, true);
    let (used_spilled_bytes, used_spilled) =
        build_and_log(&path("used_spilled.db"), Some(2048), rows, true);
    assert_eq!(memory[0].1.len(), rows as usize);
    for other in [&spilled, &used, &used_spilled] {
        assert_eq!(other, &memory);
    }
    for marker in [memory_bytes, spilled_bytes] {
        for entries in [used_bytes, used_spilled_bytes] {
            assert!(
                marker * 20 < entries,
                "a build logged as a marker took {marker} bytes, one logged as entries {entries}"
            );
        }
    }
}

/// A spilled UNIQUE build over a repeated value fails with the message that names the
/// first repeated key, as the in-memory build's does, and leaves no run file.
#[test]
fn a_spilled_unique_build_names_the_first_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    // With threads, the rows 120 and 499 are read by different parts.
    for (budget, threads) in [(None, 1), (Some(256), 1), (None, 3), (Some(256), 3)] {
        let path = dir.path().join(format!("{budget:?}-{threads}.db"));
        let db = Database::open(&path, bulk_options(budget, threads)).unwrap();
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        create_table(&mut txn);
        let schema = catalog::table(&mut txn, "t").unwrap();
        for id in 0..500 {
            // Codes 0..497, then 300 and 120 again: 120 is the first duplicate in order.
            let code = match id {
                498 => 300,
                499 => 120,
                id => id,
            };
            ops::insert(&mut txn, &schema, row(id, Some(code), 0, "n")).unwrap();
        }
        if threads > 1 {
            // Committed rows, so that the build cuts the table into parts.
            txn.commit().unwrap();
            txn = db.begin(IsolationLevel::RepeatableRead);
        }
        let e = catalog::create_index(&mut txn, "t", "t_code", &["code"], true).unwrap_err();
        assert!(
            matches!(&e, Error::Constraint(Constraint::UniqueIndexBuild { index, key, .. })
                if index == "t_code" && key == "(code)=(120)"),
            "budget {budget:?}: {e:?}"
        );
        assert_eq!(run_files(&path), 0);
        assert!(catalog::table(&mut txn, "t").unwrap().indexes.is_empty());
        txn.commit().unwrap();
    }
}

/// A run file that cannot be written (its name is taken by a directory, which stops
/// even a superuser) fails the build with an I/O error after earlier runs were written:
/// the transaction keeps its writes and can build again, and no run file is left.
#[test]
fn an_io_error_while_spilling_fails_the_build_and_leaves_no_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("io.db");
    let db = Database::open(&path, bulk_options(Some(512), 1)).unwrap();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    create_table(&mut txn);
    let schema = catalog::table(&mut txn, "t").unwrap();
    for id in 0..300 {
        ops::insert(&mut txn, &schema, row(id, Some(id % 50), 0, "n")).unwrap();
    }
    let stored = table_rows(&mut txn);
    let mut spill_dir = path.as_os_str().to_owned();
    spill_dir.push(".sort");
    let blocker = Path::new(&spill_dir).join("run-1.tmp");
    std::fs::create_dir_all(&blocker).unwrap();
    let e = catalog::create_index(&mut txn, "t", "t_code", &["code"], false).unwrap_err();
    assert!(matches!(e, Error::Io(_)), "{e:?}");
    assert_eq!(run_files(&path), 1, "only the blocker is left");
    assert!(catalog::table(&mut txn, "t").unwrap().indexes.is_empty());
    assert_eq!(table_rows(&mut txn), stored);
    std::fs::remove_dir(&blocker).unwrap();
    catalog::create_index(&mut txn, "t", "t_code", &["code"], false).unwrap();
    txn.commit().unwrap();
    assert_eq!(run_files(&path), 0);
    let mut reader = db.begin(IsolationLevel::RepeatableRead);
    index_matches_table(&mut reader);
}

/// A spilled build's run files live as long as its transaction: gone after a rollback,
/// after the transaction is dropped unfinished, and after a savepoint rolled back past
/// the build.
#[test]
fn a_spilled_build_leaves_no_run_after_rollback_or_drop() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.db");
    let db = Database::open(&path, bulk_options(Some(256), 1)).unwrap();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    create_table(&mut txn);
    let schema = catalog::table(&mut txn, "t").unwrap();
    for id in 0..200 {
        ops::insert(&mut txn, &schema, row(id, Some(id), 0, "n")).unwrap();
    }
    txn.commit().unwrap();
    let build = |txn: &mut Transaction| {
        catalog::create_index(txn, "t", "t_code", &["code"], true).unwrap();
        assert!(run_files(&path) > 0, "the build spilled");
    };
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    build(&mut txn);
    txn.rollback();
    assert_eq!(run_files(&path), 0, "after a rollback");
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    build(&mut txn);
    drop(txn);
    assert_eq!(run_files(&path), 0, "after a drop");
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let savepoint = txn.savepoint();
    build(&mut txn);
    txn.rollback_to(savepoint);
    assert_eq!(
        run_files(&path),
        0,
        "after a savepoint rolled back past the build"
    );
    assert!(catalog::table(&mut txn, "t").unwrap().indexes.is_empty());
    build(&mut txn);
    txn.commit().unwrap();
    assert_eq!(run_files(&path), 0, "after the commit");
    let mut reader = db.begin(IsolationLevel::RepeatableRead);
    index_matches_table(&mut reader);
}
