//! A load into an empty table (the bulk path, `table/load.rs`: rows appended to one
//! arena, sorted, spilled past a memory budget, handed to the commit whole) against the
//! row path as its model: the same rows inserted one at a time into a twin table, both
//! with no index, an index on `name`, or a UNIQUE one. For random rows (repeated
//! primary keys and names included), the two must agree on whether the load succeeds —
//! a repeated key fails it with the duplicate-key error, naming the least repeated
//! primary key, else the least repeated name — and, where it does, hold exactly the
//! same rows and index entries: in the loading
//! transaction (which reads the loaded rows back into its write set), after the commit,
//! and after a crash-like close and reopening, which must pass `check_integrity` and
//! leave no run file behind.
//!
//! The budget is drawn per case: the default (the load fits in memory), a few hundred
//! bytes (many spilled runs), or a few dozen (more runs than one merge reads). The log's
//! part size is drawn too, so that large commits stream their rows from the runs into
//! many parts. `HDB_TABLE_LOAD_CASES` sets the number of cases (default
//! [`DEFAULT_CASES`]).
#![allow(clippy::unwrap_used)]

mod support;

use std::ops::Bound;

use engine::keycode::KeyValue as V;
use engine::table::{Column, ColumnType, Row, TableDef, TableLoad, TableSchema, catalog, ops};
use engine::wal::Durability;
use engine::{Constraint, Database, DatabaseOptions, Error, IsolationLevel, Transaction};
use proptest::prelude::*;
use support::run_files;

const CASES_VAR: &str = "HDB_TABLE_LOAD_CASES";
const DEFAULT_CASES: u32 = 24;

fn options(budget: Option<usize>, part_bytes: usize) -> DatabaseOptions {
    DatabaseOptions {
        page_size: 1024,
        durability: Durability::Off,
        build_memory_bytes: budget.unwrap_or(DatabaseOptions::default().build_memory_bytes),
        wal_part_bytes: part_bytes,
        ..DatabaseOptions::default()
    }
}

fn cases() -> u32 {
    std::env::var(CASES_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// The index a case's tables get on `name`, if any.
#[derive(Debug, Clone, Copy, PartialEq)]
enum NameIndex {
    None,
    Plain,
    Unique,
}

fn create_indexed(txn: &mut Transaction, name: &str, index: NameIndex) -> TableSchema {
    create(txn, name, false);
    if index != NameIndex::None {
        let index_name = format!("{name}_name");
        catalog::create_index(
            txn,
            name,
            &index_name,
            &["name"],
            index == NameIndex::Unique,
        )
        .unwrap();
    }
    catalog::table(txn, name).unwrap()
}

/// Every entry of the table's index on `name`, in key order.
fn index_of(txn: &mut Transaction, name: &str) -> Vec<(Row, Row)> {
    let schema = catalog::table(txn, name).unwrap();
    let Some(index) = schema.indexes.first().cloned() else {
        return Vec::new();
    };
    ops::index_entries(txn, &schema, &index, Bound::Unbounded, Bound::Unbounded)
        .unwrap()
        .map(|entry| entry.unwrap())
        .collect()
}

fn create(txn: &mut Transaction, name: &str, hidden_key: bool) -> TableSchema {
    let column = |name: &str, ty, nullable| Column {
        name: name.into(),
        ty,
        nullable,
    };
    catalog::create_table(
        txn,
        TableDef {
            name: name.into(),
            columns: vec![
                column("id", ColumnType::Int, hidden_key),
                column("name", ColumnType::Text, false),
                column("score", ColumnType::Float, true),
            ],
            primary_key: match hidden_key {
                true => vec![],
                false => vec!["id".into()],
            },
        },
    )
    .unwrap()
}

fn rows_of(txn: &mut Transaction, name: &str) -> Vec<Row> {
    let schema = catalog::table(txn, name).unwrap();
    ops::scan(txn, &schema, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(|entry| entry.unwrap().1)
        .collect()
}

/// Rows with distinct primary keys in random order (so that most loads succeed and
/// large ones spill), one key repeated in a quarter of the cases; names from a small
/// alphabet half the time (so that a UNIQUE index meets repeats) or a large one.
fn arb_rows() -> impl Strategy<Value = Vec<Row>> {
    let name = prop_oneof!["[a-c]{0,2}", "[a-z]{0,40}"];
    let value = (name, proptest::option::of(-1e6f64..1e6));
    (
        proptest::collection::vec(value, 0..300),
        any::<u64>(),
        proptest::option::weighted(
            0.25,
            (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
        ),
    )
        .prop_map(|(values, seed, repeat)| {
            let n = values.len() as i64;
            // Distinct keys in a scrambled order: i * 7919 + c (mod a prime past n).
            let prime = 2_003i64;
            let mut ids: Vec<i64> = (0..n)
                .map(|i| (i * 7_919 + seed as i64 % 97) % prime)
                .collect();
            if let (Some((from, to)), true) = (repeat, n >= 2) {
                let from = from.index(ids.len());
                let to = to.index(ids.len());
                ids[to] = ids[from];
            }
            values
                .into_iter()
                .zip(ids)
                .map(|((name, score), id)| {
                    vec![V::Int(id), V::Text(name), score.map_or(V::Null, V::Float)]
                })
                .collect()
        })
}

/// The least name two rows share.
fn least_repeated_name(rows: &[Row]) -> Option<String> {
    let mut names: Vec<&str> = rows
        .iter()
        .map(|r| match &r[1] {
            V::Text(name) => name.as_str(),
            _ => unreachable!(),
        })
        .collect();
    names.sort_unstable();
    names
        .windows(2)
        .find(|w| w[0] == w[1])
        .map(|w| w[0].to_string())
}

/// The least primary key two rows share.
fn least_repeat(rows: &[Row]) -> Option<i64> {
    let mut ids: Vec<i64> = rows
        .iter()
        .map(|r| match r[0] {
            V::Int(id) => id,
            _ => unreachable!(),
        })
        .collect();
    ids.sort_unstable();
    ids.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
}

fn check_case(
    rows: Vec<Row>,
    index: NameIndex,
    budget: Option<usize>,
    part_bytes: usize,
    read_back: bool,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("load.db");
    let options = options(budget, part_bytes);
    let db = Database::open(&path, options).unwrap();
    let mut setup = db.begin(IsolationLevel::RepeatableRead);
    let loaded = create_indexed(&mut setup, "loaded", index);
    let model = create_indexed(&mut setup, "model", index);
    setup.commit().unwrap();

    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let mut load = TableLoad::begin(&mut txn, &loaded).unwrap().unwrap();
    for row in &rows {
        load.push(&mut txn, row).unwrap();
    }
    // The row path, one insert at a time: its first repeated key fails it.
    let model_result = rows
        .iter()
        .try_for_each(|row| ops::insert(&mut txn, &model, row.clone()).map(drop));
    // The load names the least repeated primary key, else the least repeated name of
    // a UNIQUE index.
    let expected = match (least_repeat(&rows), index) {
        (Some(id), _) => Some(Constraint::PrimaryKey {
            table: "loaded".into(),
            key: format!("(id)=({id})"),
        }),
        (None, NameIndex::Unique) => least_repeated_name(&rows).map(|name| Constraint::Unique {
            table: "loaded".into(),
            index: "loaded_name".into(),
            key: format!("(name)=({name})"),
        }),
        (None, _) => None,
    };
    match (load.finish(&mut txn), expected) {
        (Ok(count), None) => {
            model_result.unwrap();
            assert_eq!(count, rows.len() as u64);
        }
        (Err(Error::Constraint(got)), Some(expected)) => {
            assert!(model_result.is_err());
            assert_eq!(got, expected);
            // Nothing of the load reached the transaction; it goes on.
            assert!(rows_of(&mut txn, "loaded").is_empty());
            assert!(index_of(&mut txn, "loaded").is_empty());
            txn.commit().unwrap();
            drop(db);
            assert_eq!(run_files(&path), 0);
            return;
        }
        (other, expected) => panic!("load {other:?}, expected {expected:?}"),
    }
    if read_back {
        assert_eq!(rows_of(&mut txn, "loaded"), rows_of(&mut txn, "model"));
        assert_eq!(index_of(&mut txn, "loaded"), index_of(&mut txn, "model"));
    }
    txn.commit().unwrap();
    let mut check = db.begin(IsolationLevel::RepeatableRead);
    let expected = rows_of(&mut check, "model");
    let expected_index = index_of(&mut check, "model");
    assert_eq!(rows_of(&mut check, "loaded"), expected);
    assert_eq!(index_of(&mut check, "loaded"), expected_index);
    drop(check);
    db.close_as_if_crashed();
    assert_eq!(run_files(&path), 0, "a committed load leaves no run file");

    let db = Database::open(&path, options).unwrap();
    db.check_integrity().unwrap();
    let mut check = db.begin(IsolationLevel::RepeatableRead);
    assert_eq!(rows_of(&mut check, "loaded"), expected);
    assert_eq!(index_of(&mut check, "loaded"), expected_index);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn a_load_holds_what_the_row_path_holds(
        rows in arb_rows(),
        index in prop_oneof![Just(NameIndex::None), Just(NameIndex::Plain), Just(NameIndex::Unique)],
        budget in prop_oneof![Just(None), (200usize..800).prop_map(Some), (24usize..64).prop_map(Some)],
        part_bytes in prop_oneof![Just(engine::wal::DEFAULT_PART_SIZE), 256usize..4096],
        read_back in any::<bool>(),
    ) {
        check_case(rows, index, budget, part_bytes, read_back);
    }
}

/// Where a load cannot be taken, `begin` says so and changes nothing: the caller
/// inserts row by row.
#[test]
fn a_load_is_refused_where_the_row_path_must_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("refused.db"), options(None, 4096)).unwrap();
    let mut setup = db.begin(IsolationLevel::RepeatableRead);
    let full = create(&mut setup, "full", false);
    ops::insert(
        &mut setup,
        &full,
        vec![V::Int(1), V::Text("a".into()), V::Null],
    )
    .unwrap();
    create(&mut setup, "indexed", false);
    catalog::create_index(&mut setup, "indexed", "indexed_name", &["name"], false).unwrap();
    let empty = create(&mut setup, "empty", false);
    setup.commit().unwrap();
    let indexed = {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        catalog::table(&mut txn, "indexed").unwrap()
    };

    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    assert!(
        TableLoad::begin(&mut txn, &full).unwrap().is_none(),
        "not empty"
    );
    assert!(
        TableLoad::begin(&mut txn, &indexed).unwrap().is_some(),
        "an indexed table loads too"
    );
    let mut serializable = db.begin(IsolationLevel::Serializable);
    assert!(
        TableLoad::begin(&mut serializable, &empty)
            .unwrap()
            .is_none(),
        "serializable"
    );
    drop(serializable);
    // Written by this transaction already.
    ops::insert(
        &mut txn,
        &empty,
        vec![V::Int(1), V::Text("a".into()), V::Null],
    )
    .unwrap();
    assert!(
        TableLoad::begin(&mut txn, &empty).unwrap().is_none(),
        "written"
    );
    txn.commit().unwrap();

    // Another transaction's load holds the table: a second writer is refused with the
    // retryable serialization error the row path would meet too.
    let mut setup = db.begin(IsolationLevel::RepeatableRead);
    let other = create(&mut setup, "other", false);
    setup.commit().unwrap();
    let mut first = db.begin(IsolationLevel::RepeatableRead);
    let mut second = db.begin(IsolationLevel::RepeatableRead);
    assert!(TableLoad::begin(&mut first, &other).unwrap().is_some());
    assert!(matches!(
        TableLoad::begin(&mut second, &other),
        Err(Error::Serialization(_))
    ));
    let mut third = db.begin(IsolationLevel::RepeatableRead);
    assert!(matches!(
        ops::insert(
            &mut third,
            &other,
            vec![V::Int(1), V::Text("a".into()), V::Null]
        ),
        Err(Error::Serialization(_))
    ));
}

/// A failed row leaves the load as it was; a savepoint rolled back past a finished
/// load forgets it; a table without a declared key gets row ids in order.
#[test]
fn failed_rows_savepoints_and_hidden_row_ids() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("rows.db"), options(Some(100), 512)).unwrap();
    let mut setup = db.begin(IsolationLevel::RepeatableRead);
    let keyed = create(&mut setup, "keyed", false);
    let hidden = create(&mut setup, "hidden", true);
    setup.commit().unwrap();

    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let mut load = TableLoad::begin(&mut txn, &keyed).unwrap().unwrap();
    let good = |id: i64| vec![V::Int(id), V::Text(format!("row {id}")), V::Float(0.5)];
    for id in 0..50 {
        load.push(&mut txn, &good(id)).unwrap();
    }
    assert!(matches!(
        load.push(&mut txn, &[V::Int(99), V::Null, V::Null]),
        Err(Error::Constraint(Constraint::NotNull { .. }))
    ));
    assert!(matches!(
        load.push(
            &mut txn,
            &[V::Text("x".into()), V::Text("y".into()), V::Null]
        ),
        Err(Error::TypeMismatch(_))
    ));
    assert!(matches!(
        load.push(&mut txn, &[V::Int(1)]),
        Err(Error::InvalidArgument(_))
    ));
    let savepoint = txn.savepoint();
    assert_eq!(load.finish(&mut txn).unwrap(), 50);
    assert_eq!(rows_of(&mut txn, "keyed").len(), 50);
    txn.rollback_to(savepoint);
    assert!(rows_of(&mut txn, "keyed").is_empty());

    let mut load = TableLoad::begin(&mut txn, &hidden).unwrap().unwrap();
    for id in 0..30 {
        load.push(&mut txn, &[V::Null, V::Text(format!("h{id}")), V::Null])
            .unwrap();
    }
    load.finish(&mut txn).unwrap();
    txn.commit().unwrap();
    let mut check = db.begin(IsolationLevel::RepeatableRead);
    let names: Vec<V> = rows_of(&mut check, "hidden")
        .into_iter()
        .map(|r| r[1].clone())
        .collect();
    let expected: Vec<V> = (0..30).map(|id| V::Text(format!("h{id}"))).collect();
    assert_eq!(names, expected, "row ids in the order rows came");
}
