//! H without SQL: the engine's embedding API on the seed's `Users` table.
//!
//! Opens a database file, creates `users (user_id TEXT PRIMARY KEY, name TEXT, status
//! TEXT)` with a secondary index on `status`, and then does what D could only do with a
//! full scan: finds the users with a given status through the index. It also shows a
//! rolled-back transaction leaving nothing behind, and a typed constraint error.
//!
//! Run with `cargo run --example engine_tables`.

use std::error::Error;
use std::ops::Bound;

use hdb::engine::keycode::KeyValue;
use hdb::engine::table::{Column, ColumnType, TableDef, catalog, ops};
use hdb::engine::{Database, DatabaseOptions, IsolationLevel};

fn text(s: &str) -> KeyValue {
    KeyValue::Text(s.to_string())
}

fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    // A database is one file of pages plus a log directory beside it (`users.db.wal/`).
    let db = Database::open(dir.path().join("users.db"), DatabaseOptions::default())?;

    // DDL and data in one transaction: both commit, or neither.
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    let column = |name: &str| Column {
        name: name.to_string(),
        ty: ColumnType::Text,
        nullable: true,
    };
    catalog::create_table(
        &mut txn,
        TableDef {
            name: "users".to_string(),
            columns: vec![column("user_id"), column("name"), column("status")],
            primary_key: vec!["user_id".to_string()],
        },
    )?;
    catalog::create_index(&mut txn, "users", "users_status", &["status"], false)?;
    let users = catalog::table(&mut txn, "users")?;
    for (id, name, status) in [
        ("user_1", "Alice", "active"),
        ("user_2", "Bob", "inactive"),
        ("user_3", "Carol", "active"),
    ] {
        ops::insert(&mut txn, &users, vec![text(id), text(name), text(status)])?;
    }
    txn.commit()?; // durable when it returns (Durability::Full)

    // A point lookup by primary key, and a query by attribute through the index.
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    if let Some(row) = ops::get(&mut txn, &users, &[text("user_1")])? {
        println!("user_1: {row:?}");
    }
    let index = users.index("users_status")?.clone();
    let active = [text("active")];
    for found in ops::index_scan(
        &mut txn,
        &users,
        &index,
        Bound::Included(&active),
        Bound::Included(&active),
        false,
    )? {
        let (key, row) = found?;
        println!("active: {key:?} -> {row:?}");
    }
    txn.commit()?;

    // A transaction that rolls back leaves nothing behind.
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    ops::insert(
        &mut txn,
        &users,
        vec![text("user_4"), text("Dave"), text("active")],
    )?;
    txn.rollback();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    println!(
        "user_4 after rollback: {:?}",
        ops::get(&mut txn, &users, &[text("user_4")])?
    );

    // Constraint violations are typed errors, and the failed statement changes nothing.
    match ops::insert(
        &mut txn,
        &users,
        vec![text("user_1"), text("Eve"), text("active")],
    ) {
        Err(e) => println!("duplicate key: {e}"),
        Ok(_) => println!("unexpected: duplicate key accepted"),
    }
    txn.commit()?;
    db.close()?;
    Ok(())
}
