//! `\d`, `\di`, `\df`, `\l`, `\conninfo` and `\d TABLE`: the catalog, described for
//! people.
//!
//! `\dt` lists the tables (hdb's own `__hdb_` tables left out) with their
//! column count, primary key and indexes; `\dv` the views with their columns and
//! query; `\d` both; `\d VIEW` a view's columns and query; `\di` lists the indexes, primary keys among
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
use sql_frontend::catalog::{
    ColumnDefault, RESERVED_PREFIX, SQL_FUNCTIONS_TABLE, TableInfo, find_table,
};
use sql_frontend::view_catalog::{self, ViewInfo};

use super::format::{aligned_table, row_count};

/// Lists the tables, then the views (`\d`).
pub fn list_relations(db: &Database) -> hdb::Result<String> {
    let views = view_rows(db)?;
    let tables = list_tables(db)?;
    if views.is_empty() {
        return Ok(tables);
    }
    let views = render_views(&views);
    Ok(match tables.starts_with("Did not find") {
        true => views,
        false => tables + &views,
    })
}

/// Lists the views (`\dv`): each view's name, columns and query.
pub fn list_views(db: &Database) -> hdb::Result<String> {
    let views = view_rows(db)?;
    Ok(match views.is_empty() {
        true => "Did not find any relations.\n".to_string(),
        false => render_views(&views),
    })
}

/// The committed views, by name.
fn view_rows(db: &Database) -> hdb::Result<Vec<ViewInfo>> {
    let mut txn = db.engine().begin(engine::IsolationLevel::RepeatableRead);
    txn.begin_statement()?;
    let views = view_catalog::views(&mut txn);
    txn.rollback();
    Ok(views?)
}

fn render_views(views: &[ViewInfo]) -> String {
    let columns = ["Name", "Columns", "Query"].map(String::from);
    let rows: Vec<Vec<Value>> = views
        .iter()
        .map(|view| {
            vec![
                Value::Text(view.name.clone()),
                Value::Text(view.columns.join(", ")),
                Value::Text(view.query.clone()),
            ]
        })
        .collect();
    let row_refs: Vec<&[Value]> = rows.iter().map(Vec::as_slice).collect();
    format!(
        "List of views\n{}{}\n\n",
        aligned_table(&columns, &row_refs),
        row_count(rows.len())
    )
}

/// Lists the tables (`\dt`).
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

/// Lists the functions made by CREATE FUNCTION (`\df`), as psql's columns: the result
/// and argument types as the definition writes them.
pub fn list_functions(db: &Database) -> hdb::Result<String> {
    let mut txn = db.engine().begin(engine::IsolationLevel::RepeatableRead);
    txn.begin_statement()?;
    let definitions = function_definitions(&mut txn);
    txn.rollback();
    let rows: Vec<Vec<Value>> = definitions?
        .into_iter()
        .map(|(name, definition)| {
            let (arguments, result) = signature(&definition);
            vec![
                Value::Text(name),
                Value::Text(result),
                Value::Text(arguments),
                Value::Text("func".into()),
            ]
        })
        .collect();
    let columns = ["Name", "Result data type", "Argument data types", "Type"].map(String::from);
    let row_refs: Vec<&[Value]> = rows.iter().map(Vec::as_slice).collect();
    Ok(format!(
        "List of functions\n{}{}\n\n",
        aligned_table(&columns, &row_refs),
        row_count(rows.len())
    ))
}

/// Each function's name and CREATE FUNCTION text, by name.
fn function_definitions(txn: &mut engine::Transaction) -> hdb::Result<Vec<(String, String)>> {
    use engine::keycode::KeyValue;
    use std::ops::Bound;
    let Some(schema) = catalog::find_table(txn, SQL_FUNCTIONS_TABLE)? else {
        return Ok(Vec::new());
    };
    let mut functions = Vec::new();
    for row in engine::table::ops::scan(txn, &schema, Bound::Unbounded, Bound::Unbounded, false)? {
        let (_, row) = row?;
        if let [KeyValue::Text(name), KeyValue::Text(definition), ..] = row.as_slice() {
            functions.push((name.clone(), definition.clone()));
        }
    }
    Ok(functions)
}

/// The argument list and the RETURNS clause of a CREATE FUNCTION text: what is inside
/// the parentheses after the name, and what follows RETURNS up to AS or LANGUAGE.
fn signature(definition: &str) -> (String, String) {
    let Some(open) = definition.find('(') else {
        return (String::new(), String::new());
    };
    let mut depth = 0;
    let mut close = definition.len();
    for (i, c) in definition[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    close = open + i;
                    break;
                }
            }
            _ => {}
        }
    }
    let arguments = definition[open + 1..close.max(open + 1)].trim().to_string();
    let rest = definition.get(close + 1..).unwrap_or("");
    let upper = rest.to_ascii_uppercase();
    let result = match upper.find("RETURNS ") {
        Some(start) => {
            let start = start + "RETURNS ".len();
            let end = [" AS ", " LANGUAGE "]
                .iter()
                .filter_map(|word| upper[start..].find(word))
                .min()
                .map_or(rest.len(), |end| start + end);
            rest[start..end].trim().to_string()
        }
        None => String::new(),
    };
    (arguments, result)
}

/// Lists the databases (`\l`): the one this session has open.
pub fn list_databases(path: Option<&std::path::Path>) -> String {
    let (name, file, size) = match path {
        Some(path) => (
            path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            path.display().to_string(),
            std::fs::metadata(path).map_or_else(|_| String::new(), |m| pretty_size(m.len())),
        ),
        None => ("(memory)".to_string(), String::new(), String::new()),
    };
    let columns = ["Name", "Encoding", "File", "Size"].map(String::from);
    let row = [
        Value::Text(name),
        Value::Text("UTF8".into()),
        Value::Text(file),
        Value::Text(size),
    ];
    format!(
        "List of databases\n{}{}\n\n",
        aligned_table(&columns, &[&row[..]]),
        row_count(1)
    )
}

/// A size as PostgreSQL's pg_size_pretty writes it: bytes under 10 kB, then kB, MB, GB.
fn pretty_size(bytes: u64) -> String {
    let mut size = bytes;
    if size < 10 * 1024 {
        return format!("{size} bytes");
    }
    // Each step halves-and-rounds as pg_size_pretty does.
    for unit in ["kB", "MB"] {
        size = (size / 512).div_ceil(2);
        if size < 10 * 1024 {
            return format!("{size} {unit}");
        }
    }
    format!("{} GB", (size / 512).div_ceil(2))
}

/// `\conninfo`: which database this session has open.
pub fn conninfo(path: Option<&std::path::Path>) -> String {
    match path {
        Some(path) => format!(
            "You are connected to database \"{}\" in file \"{}\".\n",
            path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            ),
            std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.to_path_buf())
                .display()
        ),
        None => {
            "You are connected to a database in memory (gone when hdb sql exits).\n".to_string()
        }
    }
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
    let view = view_catalog::find_view(&mut txn, name);
    txn.rollback();
    if let Some(view) = view? {
        let columns = ["Column"].map(String::from);
        let rows: Vec<[Value; 1]> = view
            .columns
            .iter()
            .map(|c| [Value::Text(c.clone())])
            .collect();
        let row_refs: Vec<&[Value]> = rows.iter().map(|r| &r[..]).collect();
        return Ok(format!(
            "View \"{}\"\n{}View definition:\n {};\n",
            view.name,
            aligned_table(&columns, &row_refs),
            view.query
        ));
    }
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
                        .map(ColumnDefault::describe)
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
    #[test]
    fn signatures_and_sizes() {
        assert_eq!(
            super::signature(
                "CREATE FUNCTION f(p TEXT, n INT) RETURNS TABLE(a INT, b TEXT) LANGUAGE sql AS 'SELECT 1, p'"
            ),
            (
                "p TEXT, n INT".to_string(),
                "TABLE(a INT, b TEXT)".to_string()
            )
        );
        assert_eq!(super::pretty_size(8192), "8192 bytes");
        assert_eq!(super::pretty_size(10 * 1024), "10 kB");
        assert_eq!(super::pretty_size(7_631_000), "7452 kB");
        assert_eq!(super::pretty_size(20 * 1024 * 1024), "20 MB");
    }

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
