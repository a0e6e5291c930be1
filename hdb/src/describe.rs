//! What a database holds, described for tools: its tables, their columns (SQL types as
//! declared, nullability, defaults), primary keys and indexes, as of the latest commit.
//!
//! The SQL shell's `\d` and `hdb serve`'s answer to pgbench's partition check read
//! this; an embedder can list its schema the same way. (SQL clients query
//! PostgreSQL's catalog relations instead: `sql_frontend`'s `system` module.) hdb's own tables (names starting with
//! `__hdb_`) are left out. The description is read in a transaction of its own, so it
//! never sees another session's uncommitted DDL.

use engine::IsolationLevel;
use sql_frontend::catalog::{self, RESERVED_PREFIX};

use crate::database::Database;
use crate::error::Result;

/// One table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDescription {
    pub name: String,
    pub columns: Vec<ColumnDescription>,
    /// The primary key's columns, in key order (empty: the table has none).
    pub primary_key: Vec<String>,
    /// Its secondary indexes, by name.
    pub indexes: Vec<IndexDescription>,
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDescription {
    pub name: String,
    /// The SQL type as hdb prints it: `INTEGER`, `VARCHAR(20)`, `DOUBLE PRECISION` ...
    pub sql_type: String,
    pub nullable: bool,
    /// The DEFAULT as a SQL literal (`0`, `'none'`, `DATE '2024-01-01'`), if declared.
    pub default: Option<String>,
}

/// One secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDescription {
    pub name: String,
    pub unique: bool,
    /// The indexed columns, in index order.
    pub columns: Vec<String>,
}

impl Database {
    /// Every table (hdb's own left out), sorted by name, as of the latest commit.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// db.session().execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v)")?;
    /// let tables = db.describe_tables()?;
    /// assert_eq!(tables[0].name, "t");
    /// assert_eq!(tables[0].primary_key, ["id"]);
    /// assert_eq!(tables[0].indexes[0].columns, ["v"]);
    /// # Ok(()) }
    /// ```
    pub fn describe_tables(&self) -> Result<Vec<TableDescription>> {
        let mut txn = self.engine().begin(IsolationLevel::RepeatableRead);
        let described = describe(&mut txn);
        txn.rollback();
        described
    }
}

fn describe(txn: &mut engine::Transaction) -> Result<Vec<TableDescription>> {
    let mut tables = Vec::new();
    for schema in engine::table::catalog::tables(txn)? {
        if schema.name.starts_with(RESERVED_PREFIX) {
            continue;
        }
        let Some(info) = catalog::find_table(txn, &schema.name)? else {
            continue;
        };
        let column_name = |i: &usize| schema.columns[*i].name.clone();
        tables.push(TableDescription {
            name: schema.name.clone(),
            columns: info
                .columns
                .iter()
                .map(|c| ColumnDescription {
                    name: c.name.clone(),
                    sql_type: c.sql_type.to_string(),
                    nullable: c.nullable,
                    default: c.default.as_ref().map(|d| d.describe()),
                })
                .collect(),
            primary_key: schema.primary_key.iter().map(column_name).collect(),
            indexes: schema
                .indexes
                .iter()
                .map(|index| IndexDescription {
                    name: index.name.clone(),
                    unique: index.unique,
                    columns: index.columns.iter().map(column_name).collect(),
                })
                .collect(),
        });
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_columns_keys_and_indexes_are_described() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path().join("d.db")).unwrap();
        assert!(db.describe_tables().unwrap().is_empty());
        let mut s = db.session();
        s.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR(20) NOT NULL DEFAULT 'x', \
             d DATE); CREATE UNIQUE INDEX t_v ON t (v, d); CREATE TABLE a (n BIGINT)",
        )
        .unwrap();
        // Uncommitted DDL of a session is not described.
        s.execute("BEGIN; CREATE TABLE hidden (x INTEGER)").unwrap();
        let tables = db.describe_tables().unwrap();
        s.execute("ROLLBACK").unwrap();
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "t"]);
        let t = &tables[1];
        assert_eq!(t.primary_key, ["id"]);
        assert_eq!(
            t.columns[1],
            ColumnDescription {
                name: "v".into(),
                sql_type: "VARCHAR(20)".into(),
                nullable: false,
                default: Some("'x'".into()),
            }
        );
        assert!(t.columns[2].nullable && t.columns[2].default.is_none());
        assert_eq!(
            t.indexes,
            [IndexDescription {
                name: "t_v".into(),
                unique: true,
                columns: vec!["v".into(), "d".into()],
            }]
        );
        assert!(tables[0].primary_key.is_empty());
    }
}
