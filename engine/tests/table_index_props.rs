//! Index consistency as a property: after random inserts, updates and deletes on a table
//! with a unique and a non-unique multi-column index, and indexes built on the populated
//! table in between (CREATE INDEX's bulk path, unique ones failing over repeated values),
//! every index scan equals a filter over a full scan, in the writing transaction and in
//! an older snapshot alike. Builds run under the default memory budget or one so small
//! that they spill sorted runs; after a build the writing transaction sometimes goes on
//! without reading the index, so that the next write reads the runs into its write set
//! or the commit merges them into the tree.
#![allow(clippy::unwrap_used)]

mod support;

use std::ops::Bound;
use std::sync::Arc;

use engine::keycode::KeyValue as V;
use engine::mvcc::{CommitTs, MemoryTreeStore, Mvcc, NoCommitLog, Transaction};
use engine::table::{ColumnType, Row, TableSchema, catalog, ops};
use engine::{Error, IsolationLevel};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Insert(i64, Option<i64>, i64),
    Update(i64, Option<i64>, i64),
    Delete(i64),
    Commit,
    /// CREATE INDEX on the populated table: UNIQUE on (code, grp), or on (grp).
    CreateIndex(bool),
}

fn op() -> impl Strategy<Value = Op> {
    let id = 0i64..12;
    let code = proptest::option::weighted(0.8, 0i64..6);
    let group = 0i64..3;
    prop_oneof![
        4 => (id.clone(), code.clone(), group.clone()).prop_map(|(i, c, g)| Op::Insert(i, c, g)),
        3 => (id.clone(), code, group).prop_map(|(i, c, g)| Op::Update(i, c, g)),
        2 => id.prop_map(Op::Delete),
        1 => Just(Op::Commit),
        1 => any::<bool>().prop_map(Op::CreateIndex),
    ]
}

fn row(id: i64, code: Option<i64>, group: i64) -> Row {
    vec![
        V::Int(id),
        code.map_or(V::Null, V::Int),
        V::Int(group),
        V::Text(format!("n{id}")),
    ]
}

fn setup(mvcc: &Arc<Mvcc>) -> TableSchema {
    let mut txn = mvcc.begin(IsolationLevel::RepeatableRead);
    support::table::create_table(
        &mut txn,
        "t",
        &[
            ("id", ColumnType::Int),
            ("code", ColumnType::Int),
            ("grp", ColumnType::Int),
            ("name", ColumnType::Text),
        ],
        &["id"],
    );
    catalog::create_index(&mut txn, "t", "t_code", &["code"], true).unwrap();
    catalog::create_index(&mut txn, "t", "t_grp_code", &["grp", "code"], false).unwrap();
    let schema = catalog::table(&mut txn, "t").unwrap();
    txn.commit().unwrap();
    schema
}

/// Checks every index against a filter over the full scan, for a few prefixes.
fn check_indexes(txn: &mut Transaction, schema: &TableSchema) -> Result<(), TestCaseError> {
    let all: Vec<(Row, Row)> = ops::scan(txn, schema, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for index in &schema.indexes {
        let mut prefixes: Vec<Vec<V>> = vec![vec![]];
        for value in [V::Null, V::Int(0), V::Int(1), V::Int(2), V::Int(5)] {
            prefixes.push(vec![value.clone()]);
            if index.columns.len() > 1 {
                prefixes.push(vec![V::Int(1), value]);
            }
        }
        for prefix in prefixes {
            for reverse in [false, true] {
                let mut got: Vec<Row> = ops::index_scan(
                    txn,
                    schema,
                    index,
                    Bound::Included(&prefix),
                    Bound::Included(&prefix),
                    reverse,
                )
                .unwrap()
                .map(|r| r.unwrap().1)
                .collect();
                let mut expected: Vec<Row> = all
                    .iter()
                    .filter(|(_, row)| {
                        index
                            .columns
                            .iter()
                            .zip(&prefix)
                            .all(|(c, v)| &row[*c] == v)
                    })
                    .map(|(_, row)| row.clone())
                    .collect();
                got.sort_by(|a, b| a.partial_cmp(b).unwrap());
                expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
                prop_assert_eq!(got, expected, "index {} prefix {:?}", &index.name, &prefix);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn index_scans_equal_filtered_full_scans(
        ops_list in prop::collection::vec(op(), 1..40),
        spill: bool,
        look_after_build: bool,
    ) {
        let store = Arc::new(MemoryTreeStore::new());
        let mvcc = match spill {
            true => Mvcc::with_build_memory(store, Arc::new(NoCommitLog), CommitTs(0), 64),
            false => Mvcc::new(store, Arc::new(NoCommitLog), CommitTs(0)),
        };
        let mut schema = setup(&mvcc);
        let mut built = 0;
        let mut old_snapshot = mvcc.begin(IsolationLevel::RepeatableRead);
        check_indexes(&mut old_snapshot, &schema)?;
        let mut txn = mvcc.begin(IsolationLevel::RepeatableRead);
        for op in ops_list {
            let build = matches!(op, Op::CreateIndex(_));
            let result = match op {
                Op::Insert(id, code, group) => ops::insert(&mut txn, &schema, row(id, code, group)).map(drop),
                Op::Update(id, code, group) => ops::update(&mut txn, &schema, &[V::Int(id)], row(id, code, group)).map(drop),
                Op::Delete(id) => ops::delete(&mut txn, &schema, &[V::Int(id)]).map(drop),
                Op::Commit => {
                    let finished = std::mem::replace(&mut txn, mvcc.begin(IsolationLevel::RepeatableRead));
                    finished.commit().map(drop)
                }
                Op::CreateIndex(unique) => {
                    built += 1;
                    let name = format!("t_built_{built}");
                    let columns: &[&str] = if unique { &["code", "grp"] } else { &["grp"] };
                    let created = catalog::create_index(&mut txn, "t", &name, columns, unique).map(drop);
                    if created.is_ok() {
                        schema = catalog::table(&mut txn, "t").unwrap();
                    }
                    created
                }
            };
            match result {
                Ok(()) | Err(Error::Constraint(_)) => {}
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
            if !build || look_after_build {
                check_indexes(&mut txn, &schema)?;
            }
        }
        txn.commit().unwrap();
        // The snapshot taken before any row existed still sees an empty, consistent table.
        check_indexes(&mut old_snapshot, &schema)?;
        prop_assert_eq!(ops::scan(&mut old_snapshot, &schema, Bound::Unbounded, Bound::Unbounded, false).unwrap().count(), 0);
        let mut latest = mvcc.begin(IsolationLevel::RepeatableRead);
        check_indexes(&mut latest, &schema)?;
    }
}
