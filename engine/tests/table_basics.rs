//! Tables and indexes through the engine's embedding API: the seed's Users table, every
//! constraint, DDL that rolls back, statements that fail leaving nothing behind, and the
//! same behaviour on a real database file after reopening.
#![allow(clippy::unwrap_used)]

use std::ops::Bound;
use std::sync::Arc;

use engine::keycode::KeyValue as V;
use engine::mvcc::{CommitTs, MemoryTreeStore, Mvcc, NoCommitLog};
use engine::table::{Column, ColumnType, TableDef, catalog, ops};
use engine::{Constraint, Database, DatabaseOptions, Error, IsolationLevel};

const RR: IsolationLevel = IsolationLevel::RepeatableRead;

fn memory() -> Arc<Mvcc> {
    Mvcc::new(
        Arc::new(MemoryTreeStore::new()),
        Arc::new(NoCommitLog),
        CommitTs(0),
    )
}

fn column(name: &str, ty: ColumnType, nullable: bool) -> Column {
    Column {
        name: name.into(),
        ty,
        nullable,
    }
}

/// `Users (user_id VARCHAR PRIMARY KEY, name VARCHAR, status VARCHAR)`, from the seed.
fn users_def() -> TableDef {
    TableDef {
        name: "users".into(),
        columns: vec![
            column("user_id", ColumnType::Text, true),
            column("name", ColumnType::Text, true),
            column("status", ColumnType::Text, true),
        ],
        primary_key: vec!["user_id".into()],
    }
}

fn user(id: &str, name: &str, status: &str) -> Vec<V> {
    vec![
        V::Text(id.into()),
        V::Text(name.into()),
        V::Text(status.into()),
    ]
}

fn text(s: &str) -> V {
    V::Text(s.into())
}

#[test]
fn the_seed_users_table_with_an_index_on_status() {
    let mvcc = memory();
    let mut txn = mvcc.begin(RR);
    let users = catalog::create_table(&mut txn, users_def()).unwrap();
    assert!(
        !users.columns[0].nullable,
        "primary-key columns are NOT NULL"
    );
    ops::insert(&mut txn, &users, user("user_1", "Alice", "active")).unwrap();
    ops::insert(&mut txn, &users, user("user_2", "Bob", "inactive")).unwrap();
    ops::insert(&mut txn, &users, user("user_3", "Carol", "active")).unwrap();
    catalog::create_index(&mut txn, "users", "users_status", &["status"], false).unwrap();
    txn.commit().unwrap();

    let mut txn = mvcc.begin(RR);
    let users = catalog::table(&mut txn, "users").unwrap();
    assert_eq!(
        ops::get(&mut txn, &users, &[text("user_1")]).unwrap(),
        Some(user("user_1", "Alice", "active"))
    );
    let index = users.index("users_status").unwrap().clone();
    let active = [text("active")];
    let ids: Vec<_> = ops::index_scan(
        &mut txn,
        &users,
        &index,
        Bound::Included(&active),
        Bound::Included(&active),
        false,
    )
    .unwrap()
    .map(|r| r.unwrap().0)
    .collect();
    assert_eq!(ids, [vec![text("user_1")], vec![text("user_3")]]);

    // Updating the indexed column moves the row in the index.
    ops::update(
        &mut txn,
        &users,
        &[text("user_1")],
        user("user_1", "Alice", "inactive"),
    )
    .unwrap();
    let active_now = ops::index_scan(
        &mut txn,
        &users,
        &index,
        Bound::Included(&active),
        Bound::Included(&active),
        false,
    )
    .unwrap()
    .count();
    assert_eq!(active_now, 1);
    // Updating the primary key moves the row itself.
    ops::update(
        &mut txn,
        &users,
        &[text("user_3")],
        user("user_9", "Carol", "active"),
    )
    .unwrap();
    assert_eq!(ops::get(&mut txn, &users, &[text("user_3")]).unwrap(), None);
    let moved = ops::index_scan(
        &mut txn,
        &users,
        &index,
        Bound::Included(&active),
        Bound::Included(&active),
        false,
    )
    .unwrap()
    .map(|r| r.unwrap().0)
    .collect::<Vec<_>>();
    assert_eq!(moved, [vec![text("user_9")]]);
    assert!(ops::delete(&mut txn, &users, &[text("user_2")]).unwrap());
    assert!(!ops::delete(&mut txn, &users, &[text("user_2")]).unwrap());
    let all: Vec<_> = ops::scan(&mut txn, &users, Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(|r| r.unwrap().1)
        .collect();
    assert_eq!(
        all,
        [
            user("user_1", "Alice", "inactive"),
            user("user_9", "Carol", "active")
        ]
    );
}

#[test]
fn constraints_are_typed_errors_and_leave_nothing_behind() {
    let mvcc = memory();
    let mut txn = mvcc.begin(RR);
    catalog::create_table(&mut txn, users_def()).unwrap();
    catalog::create_index(&mut txn, "users", "users_name", &["name"], true).unwrap();
    let users = catalog::table(&mut txn, "users").unwrap();
    ops::insert(&mut txn, &users, user("user_1", "Alice", "active")).unwrap();

    assert_eq!(
        ops::insert(&mut txn, &users, user("user_1", "Other", "active")).unwrap_err(),
        Error::Constraint(Constraint::PrimaryKey {
            table: "users".into(),
            key: "(user_id)=(user_1)".into(),
        })
    );
    // The row write succeeds, then the unique index refuses: the row must be undone.
    assert_eq!(
        ops::insert(&mut txn, &users, user("user_2", "Alice", "active")).unwrap_err(),
        Error::Constraint(Constraint::Unique {
            table: "users".into(),
            index: "users_name".into(),
            key: "(name)=(Alice)".into(),
        })
    );
    assert_eq!(ops::get(&mut txn, &users, &[text("user_2")]).unwrap(), None);
    assert_eq!(
        ops::insert(&mut txn, &users, vec![V::Null, text("x"), text("y")]).unwrap_err(),
        Error::Constraint(Constraint::NotNull {
            table: "users".into(),
            column: "user_id".into()
        })
    );
    assert!(matches!(
        ops::insert(&mut txn, &users, vec![V::Int(1), text("x"), text("y")]),
        Err(Error::TypeMismatch(_))
    ));
    assert!(matches!(
        ops::insert(&mut txn, &users, vec![text("a")]),
        Err(Error::InvalidArgument(_))
    ));
    // NULLs never collide in a unique index.
    ops::insert(&mut txn, &users, vec![text("n1"), V::Null, text("a")]).unwrap();
    ops::insert(&mut txn, &users, vec![text("n2"), V::Null, text("a")]).unwrap();
    // A unique index over values that already repeat cannot be created.
    ops::insert(&mut txn, &users, user("user_3", "Bob", "active")).unwrap();
    // The error names the first repeated key, as PostgreSQL's detail does.
    match catalog::create_index(&mut txn, "users", "users_status_u", &["status"], true) {
        Err(Error::Constraint(c)) => assert_eq!(
            c,
            Constraint::UniqueIndexBuild {
                table: "users".into(),
                index: "users_status_u".into(),
                key: "(status)=(a)".into(),
            }
        ),
        other => panic!("expected a unique violation, got {other:?}"),
    }
    let users = catalog::table(&mut txn, "users").unwrap();
    assert_eq!(users.indexes.len(), 1);
    assert_eq!(
        ops::scan(&mut txn, &users, Bound::Unbounded, Bound::Unbounded, false)
            .unwrap()
            .count(),
        4
    );
    txn.commit().unwrap();
}

#[test]
fn concurrent_inserts_of_one_unique_value_conflict() {
    let mvcc = memory();
    let mut setup = mvcc.begin(RR);
    catalog::create_table(&mut setup, users_def()).unwrap();
    catalog::create_index(&mut setup, "users", "users_name", &["name"], true).unwrap();
    setup.commit().unwrap();
    let (mut t1, mut t2) = (mvcc.begin(RR), mvcc.begin(RR));
    let users = catalog::table(&mut t1, "users").unwrap();
    ops::insert(&mut t1, &users, user("a", "Alice", "active")).unwrap();
    // As in PostgreSQL, the second inserter waits for the first; once that commits,
    // the value exists and the second fails with a unique violation.
    let second = {
        let users = users.clone();
        std::thread::spawn(move || ops::insert(&mut t2, &users, user("b", "Alice", "active")))
    };
    while mvcc.lock_waiters() == 0 {
        assert!(!second.is_finished(), "the second insert did not wait");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    t1.commit().unwrap();
    assert!(matches!(
        second.join().unwrap(),
        Err(Error::Constraint(Constraint::Unique { .. }))
    ));
    let mut t3 = mvcc.begin(RR);
    assert!(matches!(
        ops::insert(&mut t3, &users, user("c", "Alice", "active")),
        Err(Error::Constraint(Constraint::Unique { .. }))
    ));
}

#[test]
fn ddl_rolls_back() {
    let mvcc = memory();
    let mut txn = mvcc.begin(RR);
    let users = catalog::create_table(&mut txn, users_def()).unwrap();
    ops::insert(&mut txn, &users, user("user_1", "Alice", "active")).unwrap();
    assert_eq!(
        catalog::tables(&mut txn).unwrap().len(),
        1,
        "a transaction sees its own DDL"
    );
    txn.rollback();
    let mut txn = mvcc.begin(RR);
    assert_eq!(catalog::find_table(&mut txn, "users").unwrap(), None);
    assert!(matches!(
        catalog::table(&mut txn, "users"),
        Err(Error::NotFound { kind: "table", .. })
    ));

    let users = catalog::create_table(&mut txn, users_def()).unwrap();
    assert!(matches!(
        catalog::create_table(&mut txn, users_def()),
        Err(Error::AlreadyExists { .. })
    ));
    ops::insert(&mut txn, &users, user("user_1", "Alice", "active")).unwrap();
    catalog::create_index(&mut txn, "users", "users_status", &["status"], false).unwrap();
    txn.commit().unwrap();

    let mut txn = mvcc.begin(RR);
    catalog::drop_table(&mut txn, "users").unwrap();
    assert_eq!(catalog::find_table(&mut txn, "users").unwrap(), None);
    txn.rollback();
    let mut txn = mvcc.begin(RR);
    let users = catalog::table(&mut txn, "users").unwrap();
    assert_eq!(
        ops::get(&mut txn, &users, &[text("user_1")]).unwrap(),
        Some(user("user_1", "Alice", "active"))
    );
    catalog::drop_index(&mut txn, "users_status").unwrap();
    assert!(matches!(
        catalog::drop_index(&mut txn, "users_status"),
        Err(Error::NotFound { .. })
    ));
    catalog::drop_table(&mut txn, "users").unwrap();
    txn.commit().unwrap();
    let mut txn = mvcc.begin(RR);
    assert!(catalog::tables(&mut txn).unwrap().is_empty());
}

#[test]
fn hidden_row_ids_and_a_real_file_that_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    // User_Events has no declared key here, so rows get hidden row ids.
    let events = TableDef {
        name: "user_events".into(),
        columns: vec![
            column("user_id", ColumnType::Text, false),
            column("event_type", ColumnType::Text, true),
            column("event_timestamp", ColumnType::Timestamp, true),
        ],
        primary_key: vec![],
    };
    {
        let db = Database::open(&path, DatabaseOptions::default()).unwrap();
        let mut txn = db.begin(RR);
        let schema = catalog::create_table(&mut txn, events.clone()).unwrap();
        catalog::create_index(
            &mut txn,
            "user_events",
            "events_by_user",
            &["user_id", "event_timestamp"],
            false,
        )
        .unwrap();
        let schema = catalog::table(&mut txn, &schema.name).unwrap();
        for i in 0..100 {
            let id = ops::insert(
                &mut txn,
                &schema,
                vec![
                    text(&format!("user_{}", i % 7)),
                    text("login"),
                    V::Timestamp(i),
                ],
            )
            .unwrap();
            assert_eq!(id, vec![V::Int(i + 1)]);
        }
        txn.commit().unwrap();
    }
    let db = Database::open(&path, DatabaseOptions::default()).unwrap();
    let mut txn = db.begin(RR);
    let schema = catalog::table(&mut txn, "user_events").unwrap();
    // Row ids continue after reopening.
    let id = ops::insert(
        &mut txn,
        &schema,
        vec![text("user_0"), text("logout"), V::Timestamp(500)],
    )
    .unwrap();
    assert_eq!(id, vec![V::Int(101)]);
    let index = schema.index("events_by_user").unwrap().clone();
    let user_0 = [text("user_0")];
    let newest_first: Vec<_> = ops::index_scan(
        &mut txn,
        &schema,
        &index,
        Bound::Included(&user_0),
        Bound::Included(&user_0),
        true,
    )
    .unwrap()
    .map(|r| r.unwrap().1[2].clone())
    .collect();
    assert_eq!(newest_first.len(), 16);
    assert_eq!(newest_first[0], V::Timestamp(500));
    assert_eq!(newest_first[15], V::Timestamp(0));
    txn.commit().unwrap();
    db.check_integrity().unwrap();
}

/// `insert_row` (no primary key returned; one write and no savepoint for a table with a
/// declared key and no index) stores what `insert` stores and fails as it fails, and
/// takes `insert`'s path for tables with indexes or a hidden row id.
#[test]
fn insert_row_writes_and_refuses_what_insert_does() {
    let mvcc = memory();
    let mut txn = mvcc.begin(RR);
    catalog::create_table(&mut txn, users_def()).unwrap();
    let mut twin = users_def();
    twin.name = "twin".into();
    catalog::create_table(&mut txn, twin).unwrap();
    let users = catalog::table(&mut txn, "users").unwrap();
    let twin = catalog::table(&mut txn, "twin").unwrap();
    let rows = [
        user("user_1", "Alice", "active"),
        vec![text("with\0nul and ünïcode"), V::Null, text("x")],
        user("", "", ""),
    ];
    for row in rows.iter().cloned() {
        ops::insert(&mut txn, &users, row.clone()).unwrap();
        ops::insert_row(&mut txn, &twin, row).unwrap();
    }
    let scan = |txn: &mut engine::Transaction, table| {
        ops::scan(txn, table, Bound::Unbounded, Bound::Unbounded, false)
            .unwrap()
            .map(|row| row.unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(scan(&mut txn, &users), scan(&mut txn, &twin));
    assert_eq!(scan(&mut txn, &twin).len(), 3);
    let bad = [
        user("user_1", "Other", "active"),
        vec![V::Null, text("x"), text("y")],
        vec![V::Int(1), text("x"), text("y")],
        vec![text("a")],
        user(&"k".repeat(5000), "long", "key"),
    ];
    for row in bad {
        let expected = ops::insert(&mut txn, &users, row.clone()).unwrap_err();
        let got = ops::insert_row(&mut txn, &twin, row).unwrap_err();
        match expected {
            Error::Constraint(_) => {
                let renamed = format!("{expected:?}").replace("\"users\"", "\"twin\"");
                assert_eq!(format!("{got:?}"), renamed);
            }
            _ => assert_eq!(
                std::mem::discriminant(&got),
                std::mem::discriminant(&expected),
                "{got:?} vs {expected:?}"
            ),
        }
    }
    assert_eq!(scan(&mut txn, &users), scan(&mut txn, &twin));
    // With an index, the same path as insert: the index refuses and the row is undone.
    catalog::create_index(&mut txn, "twin", "twin_name", &["name"], true).unwrap();
    let twin = catalog::table(&mut txn, "twin").unwrap();
    assert!(matches!(
        ops::insert_row(&mut txn, &twin, user("user_9", "Alice", "new")),
        Err(Error::Constraint(Constraint::Unique { .. }))
    ));
    assert_eq!(ops::get(&mut txn, &twin, &[text("user_9")]).unwrap(), None);
    txn.commit().unwrap();
}
