//! Table set-up shared by the table-layer tests.

use engine::mvcc::Transaction;
use engine::table::{Column, ColumnType, TableDef, catalog};

/// Creates table `name` with the nullable `columns` and the primary key `primary_key`.
pub fn create_table(
    txn: &mut Transaction,
    name: &str,
    columns: &[(&str, ColumnType)],
    primary_key: &[&str],
) {
    let columns = columns
        .iter()
        .map(|(name, ty)| Column {
            name: (*name).into(),
            ty: *ty,
            nullable: true,
        })
        .collect();
    let primary_key = primary_key.iter().map(|c| (*c).into()).collect();
    catalog::create_table(
        txn,
        TableDef {
            name: name.into(),
            columns,
            primary_key,
        },
    )
    .unwrap();
}
