//! ALTER TABLE's catalog-only operations (RENAME TO, RENAME COLUMN, SET / DROP DEFAULT,
//! SET / DROP NOT NULL) survive closing and reopening the database, and take the
//! table's lock as other DDL does: one fails with a retryable error while another
//! transaction has written the table. (What each operation answers is in
//! tests/slt/alter_table.slt, checked against PostgreSQL.)

use hdb::{Database, params};

#[test]
fn renames_defaults_and_not_null_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alter.db");
    {
        let db = Database::open(&path).unwrap();
        let mut session = db.session();
        session
            .execute(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER DEFAULT 1);
                 CREATE INDEX t_name ON t (name);
                 INSERT INTO t VALUES (1, 'a', 5), (2, 'b', 7);
                 ALTER TABLE t RENAME TO items;
                 ALTER TABLE items RENAME COLUMN name TO label;
                 ALTER TABLE items ALTER COLUMN qty SET DEFAULT 42;
                 ALTER TABLE items ALTER COLUMN label SET NOT NULL",
            )
            .unwrap();
        db.close().unwrap();
    }
    let db = Database::open(&path).unwrap();
    let tables = db.describe_tables().unwrap();
    let items = tables.iter().find(|t| t.name == "items").expect("items");
    assert!(tables.iter().all(|t| t.name != "t"));
    let names: Vec<&str> = items.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "label", "qty"]);
    assert!(!items.columns[1].nullable);
    assert_eq!(items.columns[2].default.as_deref(), Some("42"));
    assert_eq!(items.indexes[0].name, "t_name");
    assert_eq!(items.indexes[0].columns, ["label"]);

    let mut session = db.session();
    session
        .execute("INSERT INTO items (id, label) VALUES (3, 'c')")
        .unwrap();
    let qty: i64 = session
        .query_row(
            "SELECT qty FROM items WHERE label = $1",
            params!["c"],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(qty, 42);
    let error = session
        .execute("INSERT INTO items (id) VALUES (4)")
        .unwrap_err();
    assert_eq!(error.sqlstate(), "23502", "{error}");
}

#[test]
fn a_rename_fails_retryably_while_another_transaction_has_written_the_table() {
    let db = Database::open_in_memory().unwrap();
    let mut writer = db.session();
    writer
        .execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .unwrap();
    writer.execute("BEGIN").unwrap();
    writer.execute("INSERT INTO t VALUES (1, 'x')").unwrap();

    let mut renamer = db.session();
    let error = renamer.execute("ALTER TABLE t RENAME TO u").unwrap_err();
    assert!(error.is_retryable(), "{error}");
    writer.execute("COMMIT").unwrap();

    renamer.execute("ALTER TABLE t RENAME TO u").unwrap();
    let error = writer.execute("INSERT INTO t VALUES (2, 'y')").unwrap_err();
    assert_eq!(error.sqlstate(), "42P01", "{error}");
    writer.execute("INSERT INTO u VALUES (2, 'y')").unwrap();
}
