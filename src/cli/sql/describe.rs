//! `\d`, `\di` and `\d TABLE`: the catalog, described for people.
//!
//! `\d` (and `\dt`) lists the tables (hdb's own `__hdb_` tables left out) with their
//! column count, primary key and indexes; `\di` lists the indexes, primary keys among
//! them; `\d TABLE` shows each column's SQL type, nullability and DEFAULT, then the
//! primary key and the secondary indexes:
//!
//! ```text
//! Table "users"
//!  Column  |    Type     | Nullable | Default
//! ---------+-------------+----------+----------
//!  user_id | VARCHAR     | not null |
//!  status  | VARCHAR(10) |          | 'active'
//! Primary key: (user_id)
//! Indexes:
//!     "users_status" (status)
//! ```
//!
//! The catalog is read through the public APIs underneath the facade: the engine's
//! catalog (`engine::table::catalog`) for the table list and the indexes, and the SQL
//! layer's (`sql_frontend::catalog`) for SQL types and defaults, in a read-only
//! transaction of its own that is rolled back afterwards. So `\d` shows committed DDL:
//! a table created inside the shell's still-open transaction is not listed until COMMIT.
//! The output is always the aligned table format, whatever `--format` says: it is
//! meant for reading, not for parsing (query the data itself for that).

use engine::table::catalog;
use hdb::{Database, Value};
use sql_frontend::catalog::{RESERVED_PREFIX, TableInfo, find_table};

use super::format::{aligned_table, row_count};

/// Lists the tables (`\d`).
pub fn list_tables(db: &Database) -> hdb::Result<String> {
    let mut txn = db.engine().begin(engine::IsolationLevel::RepeatableRead);
    txn.begin_statement()?;
    let tables = catalog::tables(&mut txn);
    txn.rollback();
    let mut tables = tables?;
    tables.retain(|t| !t.name.starts_with(RESERVED_PREFIX));
    if tables.is_empty() {
        return Ok("Did not find any tables.\n".to_string());
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let columns = ["Name", "Columns", "Primary key", "Indexes"].map(String::from);
    let rows: Vec<Vec<Value>> = tables
        .iter()
        .map(|table| {
            let names = |positions: &[usize]| -> String {
                positions
                    .iter()
                    .filter_map(|&p| table.columns.get(p).map(|c| c.name.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let indexes: Vec<&str> = table.indexes.iter().map(|i| i.name.as_str()).collect();
            vec![
                Value::Text(table.name.clone()),
                Value::Int(table.columns.len() as i64),
                Value::Text(names(&table.primary_key)),
                Value::Text(indexes.join(", ")),
            ]
        })
        .collect();
    let row_refs: Vec<&[Value]> = rows.iter().map(Vec::as_slice).collect();
    Ok(format!(
        "List of tables\n{}{}\n\n",
        aligned_table(&columns, &row_refs),
        row_count(rows.len())
    ))
}

/// Lists the indexes (`\di`): each table's primary key (named `{table}_pkey`, as
/// PostgreSQL names it and hdb's constraint errors do) and its secondary indexes.
pub fn list_indexes(db: &Database) -> hdb::Result<String> {
    let mut rows: Vec<Vec<Value>> = Vec::new();
    for table in db.describe_tables()? {
        if !table.primary_key.is_empty() {
            rows.push(vec![
                Value::Text(format!("{}_pkey", table.name)),
                Value::Text(table.name.clone()),
                Value::Text("primary key".into()),
                Value::Text(table.primary_key.join(", ")),
            ]);
        }
        for index in &table.indexes {
            let kind = if index.unique { "unique" } else { "" };
            rows.push(vec![
                Value::Text(index.name.clone()),
                Value::Text(table.name.clone()),
                Value::Text(kind.into()),
                Value::Text(index.columns.join(", ")),
            ]);
        }
    }
    if rows.is_empty() {
        return Ok("Did not find any relations.\n".to_string());
    }
    rows.sort_by(|a, b| a[0].to_string().cmp(&b[0].to_string()));
    let columns = ["Name", "Table", "Kind", "Columns"].map(String::from);
    let row_refs: Vec<&[Value]> = rows.iter().map(Vec::as_slice).collect();
    Ok(format!(
        "List of indexes\n{}{}\n\n",
        aligned_table(&columns, &row_refs),
        row_count(rows.len())
    ))
}

/// Describes one table (`\d NAME`), or says it does not exist.
pub fn describe_table(db: &Database, name: &str) -> hdb::Result<String> {
    let missing = format!("Did not find any table named \"{name}\".\n");
    if name.starts_with(RESERVED_PREFIX) {
        return Ok(missing);
    }
    let mut txn = db.engine().begin(engine::IsolationLevel::RepeatableRead);
    txn.begin_statement()?;
    let table = find_table(&mut txn, name);
    txn.rollback();
    Ok(table?.map_or(missing, |table| render_table(&table)))
}

/// The text of `\d NAME` for `table`.
fn render_table(table: &TableInfo) -> String {
    let columns = ["Column", "Type", "Nullable", "Default"].map(String::from);
    let rows: Vec<Vec<Value>> = table
        .columns
        .iter()
        .map(|column| {
            vec![
                Value::Text(column.name.clone()),
                Value::Text(column.sql_type.to_string()),
                Value::Text(if column.nullable { "" } else { "not null" }.to_string()),
                Value::Text(
                    column
                        .default
                        .as_ref()
                        .map(Value::to_literal)
                        .unwrap_or_default(),
                ),
            ]
        })
        .collect();
    let row_refs: Vec<&[Value]> = rows.iter().map(Vec::as_slice).collect();
    let column_names = |positions: &[usize]| -> String {
        let names: Vec<&str> = positions
            .iter()
            .filter_map(|&p| table.columns.get(p).map(|c| c.name.as_str()))
            .collect();
        format!("({})", names.join(", "))
    };
    let mut text = format!(
        "Table \"{}\"\n{}",
        table.name(),
        aligned_table(&columns, &row_refs)
    );
    match table.schema.primary_key.is_empty() {
        true => text.push_str("Primary key: none (rows have a hidden row id)\n"),
        false => text.push_str(&format!(
            "Primary key: {}\n",
            column_names(&table.schema.primary_key)
        )),
    }
    if !table.schema.indexes.is_empty() {
        text.push_str("Indexes:\n");
        for index in &table.schema.indexes {
            let unique = if index.unique { " UNIQUE" } else { "" };
            text.push_str(&format!(
                "    \"{}\"{unique} {}\n",
                index.name,
                column_names(&index.columns)
            ));
        }
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(sql: &str) -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path().join("d.db")).unwrap();
        db.session().execute(sql).unwrap();
        (dir, db)
    }

    #[test]
    fn describes_types_nullability_defaults_keys_and_indexes() {
        let (_dir, db) = database(
            "CREATE TABLE users (user_id VARCHAR PRIMARY KEY, email TEXT UNIQUE NOT NULL, \
             status VARCHAR(10) DEFAULT 'active', score DOUBLE PRECISION, born DATE DEFAULT DATE '2000-01-02');
             CREATE INDEX users_status_score ON users (status, score);",
        );
        let text = describe_table(&db, "users").unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("Table \"users\""));
        assert_eq!(
            lines.next(),
            Some(" Column  |       Type       | Nullable |      Default")
        );
        lines.next();
        assert_eq!(
            lines.next(),
            Some(" user_id | VARCHAR          | not null |")
        );
        assert_eq!(
            lines.next(),
            Some(" email   | TEXT             | not null |")
        );
        assert_eq!(
            lines.next(),
            Some(" status  | VARCHAR(10)      |          | 'active'")
        );
        assert_eq!(
            lines.next(),
            Some(" score   | DOUBLE PRECISION |          |")
        );
        assert_eq!(
            lines.next(),
            Some(" born    | DATE             |          | DATE '2000-01-02'")
        );
        assert_eq!(lines.next(), Some("Primary key: (user_id)"));
        assert_eq!(lines.next(), Some("Indexes:"));
        let indexes: Vec<&str> = lines.by_ref().take(2).collect();
        assert!(
            indexes.contains(&"    \"users_status_score\" (status, score)"),
            "{text}"
        );
        assert!(
            indexes.iter().any(|line| line.contains("UNIQUE (email)")),
            "{text}"
        );
    }

    #[test]
    fn lists_tables_but_not_hdb_internal_ones() {
        let (_dir, db) = database(
            "CREATE TABLE b (x INTEGER); CREATE TABLE a (k INTEGER, j TEXT, PRIMARY KEY (k, j));
             CREATE INDEX a_j ON a (j);",
        );
        let text = list_tables(&db).unwrap();
        assert_eq!(
            text,
            "List of tables\n\
             \x20Name | Columns | Primary key | Indexes\n\
             ------+---------+-------------+---------\n\
             \x20a    |       2 | k, j        | a_j\n\
             \x20b    |       1 |             |\n\
             (2 rows)\n\n"
        );
        assert!(describe_table(&db, "b").unwrap().contains("hidden row id"));
    }

    #[test]
    fn missing_tables_are_reported_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path().join("d.db")).unwrap();
        assert_eq!(list_tables(&db).unwrap(), "Did not find any tables.\n");
        assert_eq!(
            describe_table(&db, "nope").unwrap(),
            "Did not find any table named \"nope\".\n"
        );
        db.session().execute("CREATE TABLE t (a INTEGER)").unwrap();
        assert!(
            describe_table(&db, "__hdb_sql_columns")
                .unwrap()
                .starts_with("Did not find")
        );
    }
}
