//! Views in the SQL catalog: their definitions, and what each view depends on.
//!
//! A view made by `CREATE VIEW` lives in the engine table [`SQL_VIEWS_TABLE`]:
//!
//! ```text
//! __hdb_sql_views (name TEXT PRIMARY KEY, columns BYTES, query TEXT)
//! ```
//!
//! `columns` is the keycode encoding of the tuple of the view's column names (its
//! column list, or the names its query gave when it was created), `query` the query's
//! text as the parser prints it. The binder parses and binds the query again at each
//! use (`bind/view.rs`): a view is expanded into the statement that names it, as
//! PostgreSQL's rewriter does, so the optimiser sees through it.
//!
//! What a view names — tables and other views, directly in its query — is recorded in
//! [`SQL_DEPENDS_TABLE`]:
//!
//! ```text
//! __hdb_sql_depends (referenced TEXT, dependent TEXT, PRIMARY KEY (referenced, dependent))
//! ```
//!
//! keyed by the referenced name, so the views that depend on a table come back from one
//! prefix scan. DROP TABLE and DROP VIEW read it to refuse dropping what a view still
//! needs (PostgreSQL's rule), or, with CASCADE, to drop those views too. Both tables are
//! created by the first CREATE VIEW, in its transaction, and read and written through
//! the statement's transaction like every catalog table, so views are as transactional
//! as any DDL: a rolled-back CREATE VIEW leaves nothing, and views survive reopening.
//!
//! Views and tables share one namespace, as PostgreSQL's relations do: `catalog.rs`
//! refuses a table named like a view, and [`create_view`] a view named like a table.

use std::collections::BTreeSet;
use std::ops::Bound;

use engine::Transaction;
use engine::keycode::{KeyValue, decode, encode};
use engine::table::{Column, ColumnType, TableDef, TableSchema, catalog, ops};

use crate::error::{Error, Result};

/// The engine table holding view definitions.
pub const SQL_VIEWS_TABLE: &str = "__hdb_sql_views";
/// The engine table holding which view depends on which table or view.
pub const SQL_DEPENDS_TABLE: &str = "__hdb_sql_depends";

/// A view as stored: its name, column names and query text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewInfo {
    pub name: String,
    pub columns: Vec<String>,
    pub query: String,
}

fn text_column(name: &str, ty: ColumnType) -> Column {
    Column {
        name: name.to_string(),
        ty,
        nullable: false,
    }
}

fn views_def() -> TableDef {
    TableDef {
        name: SQL_VIEWS_TABLE.to_string(),
        columns: vec![
            text_column("name", ColumnType::Text),
            text_column("columns", ColumnType::Bytes),
            text_column("query", ColumnType::Text),
        ],
        primary_key: vec!["name".to_string()],
    }
}

fn depends_def() -> TableDef {
    TableDef {
        name: SQL_DEPENDS_TABLE.to_string(),
        columns: vec![
            text_column("referenced", ColumnType::Text),
            text_column("dependent", ColumnType::Text),
        ],
        primary_key: vec!["referenced".to_string(), "dependent".to_string()],
    }
}

fn corrupt(table: &str, what: &str) -> Error {
    Error::Engine(engine::Error::CorruptData(format!(
        "{table}: bad row for {what:?}"
    )))
}

/// The view of a stored row.
fn view_of_row(row: &[KeyValue]) -> Result<ViewInfo> {
    let [
        KeyValue::Text(name),
        KeyValue::Bytes(columns),
        KeyValue::Text(query),
    ] = row
    else {
        return Err(corrupt(SQL_VIEWS_TABLE, "a view"));
    };
    let columns = decode(columns)?
        .into_iter()
        .map(|c| match c {
            KeyValue::Text(c) => Ok(c),
            _ => Err(corrupt(SQL_VIEWS_TABLE, name)),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ViewInfo {
        name: name.clone(),
        columns,
        query: query.clone(),
    })
}

/// The view called `name`, as `txn` sees the catalog.
pub fn find_view(txn: &mut Transaction, name: &str) -> Result<Option<ViewInfo>> {
    let Some(meta) = catalog::find_table(txn, SQL_VIEWS_TABLE)? else {
        return Ok(None);
    };
    match ops::get(txn, &meta, &[KeyValue::Text(name.to_string())])? {
        None => Ok(None),
        Some(row) => view_of_row(&row).map(Some),
    }
}

/// Every view, sorted by name.
pub fn views(txn: &mut Transaction) -> Result<Vec<ViewInfo>> {
    let Some(meta) = catalog::find_table(txn, SQL_VIEWS_TABLE)? else {
        return Ok(Vec::new());
    };
    let rows: Vec<_> = ops::scan(txn, &meta, Bound::Unbounded, Bound::Unbounded, false)?
        .collect::<engine::Result<_>>()?;
    rows.iter().map(|(_, row)| view_of_row(row)).collect()
}

/// Records a view (replacing the one of that name if `or_replace`) and the tables and
/// views its query names.
pub fn create_view(
    txn: &mut Transaction,
    view: &ViewInfo,
    depends_on: &[String],
    or_replace: bool,
) -> Result<()> {
    catalog::check_name("view", &view.name)?;
    if catalog::find_table(txn, &view.name)?.is_some() {
        return Err(match or_replace {
            true => Error::Type(format!("\"{}\" is not a view", view.name)),
            false => Error::AlreadyExists {
                kind: "relation".into(),
                name: view.name.clone(),
            },
        });
    }
    if find_view(txn, &view.name)?.is_some() {
        if !or_replace {
            return Err(Error::AlreadyExists {
                kind: "relation".into(),
                name: view.name.clone(),
            });
        }
        drop_view(txn, &view.name)?;
    }
    let meta = match catalog::find_table(txn, SQL_VIEWS_TABLE)? {
        Some(meta) => meta,
        None => catalog::create_table(txn, views_def())?,
    };
    let columns: Vec<KeyValue> = view
        .columns
        .iter()
        .map(|c| KeyValue::Text(c.clone()))
        .collect();
    let row = vec![
        KeyValue::Text(view.name.clone()),
        KeyValue::Bytes(encode(&columns)),
        KeyValue::Text(view.query.clone()),
    ];
    ops::insert(txn, &meta, row)?;
    let depends = match catalog::find_table(txn, SQL_DEPENDS_TABLE)? {
        Some(meta) => meta,
        None => catalog::create_table(txn, depends_def())?,
    };
    let referenced: BTreeSet<&String> = depends_on.iter().collect();
    for name in referenced {
        let row = vec![
            KeyValue::Text(name.clone()),
            KeyValue::Text(view.name.clone()),
        ];
        ops::insert(txn, &depends, row)?;
    }
    Ok(())
}

/// Removes a view and the record of what it depends on; whether there was one. What
/// depends on the view is the caller's to check first ([`dependents`]).
pub fn drop_view(txn: &mut Transaction, name: &str) -> Result<bool> {
    let Some(meta) = catalog::find_table(txn, SQL_VIEWS_TABLE)? else {
        return Ok(false);
    };
    let key = [KeyValue::Text(name.to_string())];
    if ops::get(txn, &meta, &key)?.is_none() {
        return Ok(false);
    }
    ops::delete(txn, &meta, &key)?;
    if let Some(depends) = catalog::find_table(txn, SQL_DEPENDS_TABLE)? {
        // Few rows: a scan of all of them finds the view's own.
        let rows = all_rows(txn, &depends)?;
        for key in rows {
            if matches!(key.get(1), Some(KeyValue::Text(dependent)) if dependent == name) {
                ops::delete(txn, &depends, &key)?;
            }
        }
    }
    Ok(true)
}

fn all_rows(txn: &mut Transaction, meta: &TableSchema) -> Result<Vec<Vec<KeyValue>>> {
    Ok(
        ops::scan(txn, meta, Bound::Unbounded, Bound::Unbounded, false)?
            .map(|entry| entry.map(|(_, row)| row))
            .collect::<engine::Result<_>>()?,
    )
}

/// The views that name `name` (a table or view) directly in their query, sorted.
pub fn dependents(txn: &mut Transaction, name: &str) -> Result<Vec<String>> {
    let Some(depends) = catalog::find_table(txn, SQL_DEPENDS_TABLE)? else {
        return Ok(Vec::new());
    };
    let prefix = [KeyValue::Text(name.to_string())];
    let mut out = Vec::new();
    for entry in ops::scan(
        txn,
        &depends,
        Bound::Included(&prefix),
        Bound::Included(&prefix),
        false,
    )? {
        let (_, row) = entry?;
        match row.get(1) {
            Some(KeyValue::Text(dependent)) => out.push(dependent.clone()),
            _ => return Err(corrupt(SQL_DEPENDS_TABLE, name)),
        }
    }
    Ok(out)
}

/// One view that depends on a relation being dropped: `dependent` depends on
/// `referenced` (a table or view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub dependent: String,
    pub referenced: String,
}

/// Every view that depends, directly or through other views, on one of `names`, in the
/// order found (breadth first), each once.
pub fn dependents_closure(txn: &mut Transaction, names: &[String]) -> Result<Vec<Dependency>> {
    let mut seen: BTreeSet<String> = names.iter().cloned().collect();
    let mut queue: std::collections::VecDeque<String> = names.iter().cloned().collect();
    let mut out = Vec::new();
    while let Some(referenced) = queue.pop_front() {
        for dependent in dependents(txn, &referenced)? {
            if seen.insert(dependent.clone()) {
                queue.push_back(dependent.clone());
                out.push(Dependency {
                    dependent,
                    referenced: referenced.clone(),
                });
            }
        }
    }
    Ok(out)
}
