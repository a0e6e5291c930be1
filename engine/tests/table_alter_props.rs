//! ALTER TABLE's row-format rule as a property: ADD COLUMN without a rewrite (rows
//! shorter than the column list read the recorded missing value), ADD COLUMN and DROP
//! COLUMN by a rewrite, and CREATE INDEX over added columns, interleaved at random
//! with inserts, updates, deletes and commits, against a model (a map from key to the
//! row as it should read). After every step the table's full scan and every index
//! scan equal the model; every snapshot taken at a commit still reads the table as it
//! was then, in its own shape, at the end.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use engine::keycode::KeyValue as V;
use engine::mvcc::{CommitTs, MemoryTreeStore, Mvcc, NoCommitLog, Transaction};
use engine::table::{Column, ColumnType, TableDef, alter, catalog, ops};
use engine::{Error, IsolationLevel};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Insert(i64, i64),
    Update(i64, i64),
    Delete(i64),
    Commit,
    /// ADD COLUMN recording a missing value (no rewrite); `None`: NULL.
    AddColumn(Option<i64>),
    /// ADD COLUMN by a rewrite, each row getting `value + id`.
    AddColumnRewriting(i64),
    /// DROP COLUMN of the n-th non-key column (modulo their number).
    DropColumn(usize),
    /// CREATE INDEX over the last column.
    CreateIndex,
}

fn op() -> impl Strategy<Value = Op> {
    let id = 0i64..10;
    prop_oneof![
        5 => (id.clone(), 0i64..100).prop_map(|(i, s)| Op::Insert(i, s)),
        3 => (id.clone(), 0i64..100).prop_map(|(i, s)| Op::Update(i, s)),
        2 => id.prop_map(Op::Delete),
        2 => Just(Op::Commit),
        2 => proptest::option::of(0i64..5).prop_map(Op::AddColumn),
        1 => (0i64..5).prop_map(Op::AddColumnRewriting),
        2 => (0usize..8).prop_map(Op::DropColumn),
        1 => Just(Op::CreateIndex),
    ]
}

/// The model: the columns' names (the key `id` first) and each row as it reads.
#[derive(Debug, Clone, PartialEq)]
struct Model {
    columns: Vec<String>,
    rows: BTreeMap<i64, Vec<V>>,
}

impl Model {
    /// A full row for `id`: each non-key column a value derived from `seed`.
    fn row(&self, id: i64, seed: i64) -> Vec<V> {
        let mut row = vec![V::Int(id)];
        for i in 1..self.columns.len() {
            row.push(match (seed + i as i64) % 4 {
                0 => V::Null,
                _ => V::Int(seed * 10 + i as i64),
            });
        }
        row
    }
}

fn column(name: &str) -> Column {
    Column {
        name: name.into(),
        ty: ColumnType::Int,
        nullable: true,
    }
}

fn check(txn: &mut Transaction, model: &Model) -> Result<(), TestCaseError> {
    let schema = catalog::table(txn, "t").unwrap();
    let names: Vec<String> = schema.columns.iter().map(|c| c.name.clone()).collect();
    prop_assert_eq!(&names, &model.columns);
    let all: BTreeMap<i64, Vec<V>> =
        ops::scan(txn, &schema, Bound::Unbounded, Bound::Unbounded, false)
            .unwrap()
            .map(|r| {
                let (key, row) = r.unwrap();
                match key.as_slice() {
                    [V::Int(id)] => (*id, row),
                    other => panic!("key {other:?}"),
                }
            })
            .collect();
    prop_assert_eq!(&all, &model.rows);
    for index in &schema.indexes {
        for value in [V::Null, V::Int(0), V::Int(1), V::Int(2), V::Int(11)] {
            let prefix = [value.clone()];
            let mut got: Vec<i64> = ops::index_scan(
                txn,
                &schema,
                index,
                Bound::Included(&prefix),
                Bound::Included(&prefix),
                false,
            )
            .unwrap()
            .map(|r| match r.unwrap().0.as_slice() {
                [V::Int(id)] => *id,
                other => panic!("key {other:?}"),
            })
            .collect();
            got.sort_unstable();
            let expected: Vec<i64> = model
                .rows
                .iter()
                .filter(|(_, row)| row[index.columns[0]] == value)
                .map(|(id, _)| *id)
                .collect();
            prop_assert_eq!(got, expected, "index {} value {:?}", &index.name, value);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        if std::env::var_os("CI").is_some() { 64 } else { 256 }
    ))]

    #[test]
    fn added_and_dropped_columns_read_as_the_model(ops_list in prop::collection::vec(op(), 1..40)) {
        let mvcc = Mvcc::new(Arc::new(MemoryTreeStore::new()), Arc::new(NoCommitLog), CommitTs(0));
        let mut setup = mvcc.begin(IsolationLevel::RepeatableRead);
        catalog::create_table(&mut setup, TableDef {
            name: "t".into(),
            columns: vec![column("id"), column("a")],
            primary_key: vec!["id".into()],
        }).unwrap();
        setup.commit().unwrap();
        let mut model = Model { columns: vec!["id".into(), "a".into()], rows: BTreeMap::new() };
        let mut committed = model.clone();
        let mut snapshots: Vec<(Transaction, Model)> = Vec::new();
        let mut added = 0;
        let mut txn = mvcc.begin(IsolationLevel::RepeatableRead);
        for op in ops_list {
            let schema = catalog::table(&mut txn, "t").unwrap();
            let before = model.clone();
            let result = match op {
                Op::Insert(id, seed) => {
                    let row = model.row(id, seed);
                    let inserted = ops::insert(&mut txn, &schema, row.clone()).map(drop);
                    if inserted.is_ok() {
                        model.rows.insert(id, row);
                    }
                    inserted
                }
                Op::Update(id, seed) => {
                    let row = model.row(id, seed);
                    let updated = ops::update(&mut txn, &schema, &[V::Int(id)], row.clone());
                    if matches!(updated, Ok(Some(_))) {
                        model.rows.insert(id, row);
                    }
                    updated.map(drop)
                }
                Op::Delete(id) => {
                    model.rows.remove(&id);
                    ops::delete(&mut txn, &schema, &[V::Int(id)]).map(drop)
                }
                Op::Commit => {
                    // A snapshot is taken at its first read: each is read at once.
                    let mut before_commit = mvcc.begin(IsolationLevel::RepeatableRead);
                    check(&mut before_commit, &committed)?;
                    snapshots.push((before_commit, committed.clone()));
                    let finished = std::mem::replace(&mut txn, mvcc.begin(IsolationLevel::RepeatableRead));
                    finished.commit().unwrap();
                    committed = model.clone();
                    let mut after_commit = mvcc.begin(IsolationLevel::RepeatableRead);
                    check(&mut after_commit, &committed)?;
                    snapshots.push((after_commit, committed.clone()));
                    Ok(())
                }
                Op::AddColumn(default) => {
                    added += 1;
                    let name = format!("c{added}");
                    let missing = default.map_or(V::Null, V::Int);
                    alter::add_column(&mut txn, "t", column(&name), missing.clone()).map(|_| {
                        model.columns.push(name);
                        for row in model.rows.values_mut() {
                            row.push(missing.clone());
                        }
                    })
                }
                Op::AddColumnRewriting(value) => {
                    added += 1;
                    let name = format!("c{added}");
                    let mut columns: Vec<(Column, Option<usize>)> = schema
                        .columns
                        .iter()
                        .cloned()
                        .enumerate()
                        .map(|(i, c)| (c, Some(i)))
                        .collect();
                    columns.push((column(&name), None));
                    let mut append = |mut row: Vec<V>| {
                        let id = match row[0] { V::Int(id) => id, _ => 0 };
                        row.push(V::Int(value + id));
                        Ok(row)
                    };
                    alter::rewrite_table(&mut txn, "t", columns, &mut append).map(|_| {
                        model.columns.push(name);
                        for (id, row) in model.rows.iter_mut() {
                            row.push(V::Int(value + id));
                        }
                    })
                }
                Op::DropColumn(n) if model.columns.len() > 2 => {
                    let position = 1 + n % (model.columns.len() - 1);
                    let mut columns: Vec<(Column, Option<usize>)> = schema
                        .columns
                        .iter()
                        .cloned()
                        .enumerate()
                        .map(|(i, c)| (c, Some(i)))
                        .collect();
                    columns.remove(position);
                    let mut remove = |mut row: Vec<V>| {
                        row.remove(position);
                        Ok(row)
                    };
                    alter::rewrite_table(&mut txn, "t", columns, &mut remove).map(|_| {
                        model.columns.remove(position);
                        for row in model.rows.values_mut() {
                            row.remove(position);
                        }
                    })
                }
                Op::DropColumn(_) => Ok(()),
                Op::CreateIndex => {
                    let last = model.columns.last().unwrap().clone();
                    added += 1;
                    let name = format!("t_{last}_{added}");
                    catalog::create_index(&mut txn, "t", &name, &[last.as_str()], false).map(drop)
                }
            };
            match result {
                Ok(()) => {}
                // A repeated key leaves the model as it was.
                Err(Error::Constraint(_)) => prop_assert_eq!(&model, &before),
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
            check(&mut txn, &model)?;
        }
        txn.commit().unwrap();
        for (mut snapshot, seen) in snapshots {
            check(&mut snapshot, &seen)?;
        }
        let mut latest = mvcc.begin(IsolationLevel::RepeatableRead);
        check(&mut latest, &model)?;
    }
}
