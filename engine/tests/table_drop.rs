//! DROP TABLE, DROP INDEX and TRUNCATE drop trees whole (DROPPED TREES in `mvcc`): the
//! commit logs one write per tree, not a delete per key; a snapshot from before the drop
//! still reads every row; the pages return to the free list once the last such snapshot
//! has ended — or, if the process stops first, when the database is next opened, after
//! a clean close or a crash alike. A drop rolled back (whole, or to a savepoint) leaves
//! every row. Every state is checked with `check_integrity`, which also proves that no
//! page is both free and in a tree.
#![allow(clippy::unwrap_used)]

mod support;

use std::ops::Bound;

use engine::keycode::KeyValue as V;
use engine::table::{Column, ColumnType, Row, TableDef, TableSchema, catalog, ops};
use engine::wal::Durability;
use engine::{Database, DatabaseOptions, IsolationLevel, Transaction};

const ROWS: i64 = 4000;

fn options() -> DatabaseOptions {
    DatabaseOptions {
        page_size: 1024,
        durability: Durability::Off,
        ..DatabaseOptions::default()
    }
}

fn row(id: i64) -> Row {
    vec![
        V::Int(id),
        V::Int(id % 97),
        V::Text(format!("row number {id}, with some text to fill the pages")),
    ]
}

/// Creates `t (id, code, name)` with an index on `code`, and `ROWS` rows; returns the
/// file's free page count before.
fn populate(db: &Database) -> u64 {
    let free = db.check_integrity().unwrap().free_pages;
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    support::table::create_table(
        &mut txn,
        "t",
        &[
            ("id", ColumnType::Int),
            ("code", ColumnType::Int),
            ("name", ColumnType::Text),
        ],
        &["id"],
    );
    catalog::create_index(&mut txn, "t", "t_code", &["code"], false).unwrap();
    let schema = catalog::table(&mut txn, "t").unwrap();
    for id in 0..ROWS {
        ops::insert(&mut txn, &schema, row(id)).unwrap();
    }
    txn.commit().unwrap();
    free
}

/// Rows of the table and entries of each index that `txn` sees through `schema`.
fn counts(txn: &mut Transaction, schema: &TableSchema) -> Vec<usize> {
    std::iter::once(schema.tree)
        .chain(schema.indexes.iter().map(|i| i.tree))
        .map(|tree| {
            txn.scan(tree, Bound::Unbounded, Bound::Unbounded, false)
                .unwrap()
                .count()
        })
        .collect()
}

/// Commits a write to another table: a commit is what collects garbage.
fn unrelated_commit(db: &Database) {
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    if catalog::find_table(&mut txn, "other").unwrap().is_none() {
        catalog::create_table(
            &mut txn,
            TableDef {
                name: "other".into(),
                columns: vec![Column {
                    name: "id".into(),
                    ty: ColumnType::Int,
                    nullable: false,
                }],
                primary_key: vec!["id".into()],
            },
        )
        .unwrap();
    }
    txn.commit().unwrap();
    db.vacuum().unwrap();
}

#[test]
fn a_dropped_table_is_read_by_older_snapshots_then_freed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drop.db");
    let db = Database::open(&path, options()).unwrap();
    let free_before = populate(&db);
    let full = db.check_integrity().unwrap().free_pages;
    let mut old = db.begin(IsolationLevel::RepeatableRead);
    let schema = catalog::table(&mut old, "t").unwrap();
    assert_eq!(counts(&mut old, &schema), [ROWS as usize, ROWS as usize]);

    let logged_before = db.wal().end_lsn().0;
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    catalog::drop_table(&mut txn, "t").unwrap();
    txn.commit().unwrap();
    let logged = db.wal().end_lsn().0 - logged_before;
    assert!(
        logged < 512,
        "DROP TABLE of {ROWS} rows logged {logged} bytes"
    );

    // The snapshot from before the drop still reads every row and entry, also after
    // other commits ran the garbage collector.
    unrelated_commit(&db);
    assert_eq!(counts(&mut old, &schema), [ROWS as usize, ROWS as usize]);
    let mut new = db.begin(IsolationLevel::RepeatableRead);
    assert!(catalog::find_table(&mut new, "t").unwrap().is_none());
    drop(new);
    assert_eq!(db.check_integrity().unwrap().free_pages, full);

    // Once it ends, the next collection frees both trees.
    drop(old);
    unrelated_commit(&db);
    let report = db.check_integrity().unwrap();
    assert!(
        report.free_pages > free_before + 20,
        "free pages: {} before the load, {} after the drop",
        free_before,
        report.free_pages
    );
    drop(db);
    let db = Database::open(&path, options()).unwrap();
    db.check_integrity().unwrap();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    assert!(catalog::find_table(&mut txn, "t").unwrap().is_none());
}

/// A drop whose trees a snapshot still held when the process stopped is freed by the
/// next open: after a crash (recovery replays the drop) and after a clean close.
#[test]
fn a_drop_not_yet_freed_is_freed_when_the_database_opens() {
    for crash in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drop.db");
        let db = Database::open(&path, options()).unwrap();
        let free_before = populate(&db);
        let mut old = db.begin(IsolationLevel::RepeatableRead);
        let schema = catalog::table(&mut old, "t").unwrap();
        assert_eq!(counts(&mut old, &schema)[0], ROWS as usize);
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        catalog::drop_table(&mut txn, "t").unwrap();
        txn.commit().unwrap();
        // A checkpoint while the trees are retired but not freed.
        db.checkpoint().unwrap();
        match crash {
            true => {
                db.close_as_if_crashed();
                // (The transaction holds the file until it ends.)
                drop(old);
            }
            false => {
                drop(old);
                db.close().unwrap();
            }
        }
        let db = Database::open(&path, options()).unwrap();
        let report = db.check_integrity().unwrap();
        assert!(
            report.free_pages > free_before + 20,
            "crash {crash}: free pages {} before the load, {} after reopening",
            free_before,
            report.free_pages
        );
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        assert!(catalog::find_table(&mut txn, "t").unwrap().is_none());
        // The space is used again.
        drop(txn);
        populate(&db);
        db.check_integrity().unwrap();
    }
}

#[test]
fn a_drop_rolled_back_keeps_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("drop.db"), options()).unwrap();
    populate(&db);
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    catalog::drop_table(&mut txn, "t").unwrap();
    txn.rollback();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let savepoint = txn.savepoint();
    catalog::drop_index(&mut txn, "t_code").unwrap();
    catalog::truncate_table(&mut txn, "t").unwrap();
    txn.rollback_to(savepoint);
    txn.commit().unwrap();
    unrelated_commit(&db);
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let schema = catalog::table(&mut txn, "t").unwrap();
    assert_eq!(counts(&mut txn, &schema), [ROWS as usize, ROWS as usize]);
    drop(txn);
    db.check_integrity().unwrap();
}

#[test]
fn truncate_and_drop_index_free_the_old_trees() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drop.db");
    let db = Database::open(&path, options()).unwrap();
    let free_before = populate(&db);
    let full = db.check_integrity().unwrap().free_pages;
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    catalog::drop_index(&mut txn, "t_code").unwrap();
    txn.commit().unwrap();
    unrelated_commit(&db);
    let after_index = db.check_integrity().unwrap().free_pages;
    assert!(after_index > full, "DROP INDEX freed no page");
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    catalog::truncate_table(&mut txn, "t").unwrap();
    let schema = catalog::table(&mut txn, "t").unwrap();
    ops::insert(&mut txn, &schema, row(1)).unwrap();
    txn.commit().unwrap();
    unrelated_commit(&db);
    assert!(db.check_integrity().unwrap().free_pages > free_before + 20);
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let schema = catalog::table(&mut txn, "t").unwrap();
    assert_eq!(counts(&mut txn, &schema), [1]);
    drop(txn);
    db.close_as_if_crashed();
    let db = Database::open(&path, options()).unwrap();
    db.check_integrity().unwrap();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let schema = catalog::table(&mut txn, "t").unwrap();
    assert_eq!(counts(&mut txn, &schema), [1]);
}

#[test]
fn reserved_trees_cannot_be_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("drop.db"), options()).unwrap();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    for tree in [
        engine::mvcc::DROP_MARKER_TREE,
        engine::mvcc::BUILD_MARKER_TREE,
    ] {
        assert!(txn.drop_tree(tree).is_err());
    }
}
