//! The SQL view of the catalog: engine table schemas plus each column's SQL type and
//! DEFAULT, which the engine does not store.
//!
//! SQL metadata lives in an ordinary engine table, [`SQL_COLUMNS_TABLE`]:
//!
//! ```text
//! __hdb_sql_columns (table_name TEXT, position INT, sql_type TEXT, default_value BYTES,
//!                    PRIMARY KEY (table_name, position))
//! ```
//!
//! `sql_type` is the type's printed name (`VARCHAR(20)`, see `types.rs`), `default_value`
//! the keycode encoding of a tuple ([`ColumnDefault`]): `(value)` for a constant,
//! `('expression', sql)` for a default evaluated per row, `('identity', sequence,
//! always)` for an identity column; NULL when the column has no DEFAULT. The table is created, through the engine API, by the first CREATE TABLE,
//! in that statement's transaction; it is written and read through the same transaction
//! as the engine's catalog, so SQL metadata is as transactional as DDL itself (a rolled
//! back CREATE TABLE leaves neither behind). Tables without rows here (made through the
//! engine API) get the widest SQL type of their engine column types and no defaults.
//!
//! CHECK constraints live the same way in [`SQL_CHECKS_TABLE`] (`table_name TEXT, name
//! TEXT, definition TEXT, PRIMARY KEY (table_name, name)`), created by the first CREATE
//! TABLE with a CHECK: `definition` is the expression's text as the parser prints it,
//! which the binder parses and binds again for each statement that writes the table
//! (`bind/check.rs`). Key order makes a table's constraints come back sorted by name,
//! the order PostgreSQL checks them in.
//!
//! Functions made by `CREATE FUNCTION` live the same way in [`SQL_FUNCTIONS_TABLE`]
//! (`name TEXT PRIMARY KEY, definition TEXT`), created by the first CREATE FUNCTION;
//! `definition` is the statement's text as the parser prints it, which the binder
//! parses again at each call (see `bind/routine.rs`), so creating, replacing and
//! dropping a function is transactional like any other DDL.
//!
//! Storage parameters (`CREATE TABLE ... WITH (fillfactor = n)`) live the same way in
//! [`SQL_OPTIONS_TABLE`] (`table_name TEXT, name TEXT, value TEXT, PRIMARY KEY
//! (table_name, name)`), created by the first CREATE TABLE that gives one. They are
//! remembered, not used: H's B+trees fill pages by their own policy (the bulk
//! builder's fill target, splits in half), whatever a table's fillfactor says.
//!
//! FOREIGN KEY constraints live the same way (`foreign_key.rs`), keyed by the
//! referencing table; [`TableInfo`] carries a table's constraints and those that
//! reference it, read with the table.
//!
//! Statistics gathered by ANALYZE live the same way (`statistics/store.rs`), and go
//! with DROP TABLE and RENAME like the tables above.
//!
//! Views live the same way in their own tables (`view_catalog.rs`), and share one
//! namespace with tables: [`create_table`] refuses the name of a view.
//!
//! Names starting with [`RESERVED_PREFIX`] belong to hdb; the binder refuses them.

use std::ops::Bound;
use std::sync::Arc;

use engine::Transaction;
use engine::keycode::{KeyValue, decode, encode};
use engine::table::{Column, ColumnType, TableDef, TableSchema, alter, catalog, ops};

use crate::error::{Error, Result};
use crate::foreign_key::{self, ForeignKey, SQL_FOREIGN_KEYS_TABLE};
use crate::statistics::{self, TableStats, store::SQL_STATISTICS_TABLE};
use crate::types::SqlType;
use crate::value::{Kind, Value};

/// The engine table holding SQL column metadata.
pub const SQL_COLUMNS_TABLE: &str = "__hdb_sql_columns";
/// Table and index names with this prefix are hdb's own.
pub const RESERVED_PREFIX: &str = "__hdb_";

/// A column as SQL sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub sql_type: SqlType,
    pub nullable: bool,
    /// The column's DEFAULT, if it has one.
    pub default: Option<ColumnDefault>,
}

/// What fills a column that an INSERT does not give a value.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnDefault {
    /// A constant, evaluated once when the default was declared and already cast to
    /// the column's type.
    Value(Value),
    /// An expression evaluated for each row that takes it — one that reads the clock
    /// (`now()`), calls a volatile function (`random()`) or takes a sequence's next
    /// value (`nextval('t_id_seq')`, what SERIAL declares) — kept as the SQL text the
    /// parser prints and bound again by each statement that writes the table, as CHECK
    /// constraints are.
    Expression(String),
    /// An identity column (`GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY`): the next
    /// value of its sequence. `always`: an INSERT may give the column a value only
    /// with `OVERRIDING SYSTEM VALUE`, and an UPDATE may set it only to DEFAULT.
    Identity { sequence: String, always: bool },
}

impl ColumnDefault {
    /// The default as `\d` shows it (PostgreSQL's `Default` column).
    pub fn describe(&self) -> String {
        match self {
            ColumnDefault::Value(value) => value.to_literal(),
            ColumnDefault::Expression(sql) => sql.clone(),
            ColumnDefault::Identity { always: true, .. } => "generated always as identity".into(),
            ColumnDefault::Identity { always: false, .. } => {
                "generated by default as identity".into()
            }
        }
    }

    /// The constant, if the default is one.
    pub fn constant(&self) -> Option<&Value> {
        match self {
            ColumnDefault::Value(value) => Some(value),
            _ => None,
        }
    }

    /// The sequence the default takes values from: an identity column's, or the one a
    /// SERIAL column's `nextval('name')` names.
    pub fn sequence(&self) -> Option<&str> {
        match self {
            ColumnDefault::Identity { sequence, .. } => Some(sequence),
            ColumnDefault::Expression(sql) => sequence_named_by(sql),
            ColumnDefault::Value(_) => None,
        }
    }

    /// The stored form: the keycode encoding of a tuple — `(value)` for a constant,
    /// `('expression', sql)`, or `('identity', sequence, always)`.
    fn encode(&self) -> Vec<u8> {
        match self {
            ColumnDefault::Value(value) => encode(&[value.to_key()]),
            ColumnDefault::Expression(sql) => encode(&[
                KeyValue::Text(EXPRESSION_TAG.into()),
                KeyValue::Text(sql.clone()),
            ]),
            ColumnDefault::Identity { sequence, always } => encode(&[
                KeyValue::Text(IDENTITY_TAG.into()),
                KeyValue::Text(sequence.clone()),
                KeyValue::Bool(*always),
            ]),
        }
    }

    /// Reads back [`ColumnDefault::encode`]'s bytes, a constant as `kind` (its column's).
    fn decode(bytes: &[u8], kind: Kind) -> Result<Option<ColumnDefault>> {
        let mut tuple = decode(bytes)?;
        Ok(match tuple.as_mut_slice() {
            [value] => Some(ColumnDefault::Value(Value::from_key(
                std::mem::replace(value, KeyValue::Null),
                kind,
            )?)),
            [KeyValue::Text(tag), KeyValue::Text(sql)] if tag == EXPRESSION_TAG => {
                Some(ColumnDefault::Expression(std::mem::take(sql)))
            }
            [
                KeyValue::Text(tag),
                KeyValue::Text(sequence),
                KeyValue::Bool(always),
            ] if tag == IDENTITY_TAG => Some(ColumnDefault::Identity {
                sequence: std::mem::take(sequence),
                always: *always,
            }),
            _ => None,
        })
    }
}

/// The sequence `sql` takes its value from, if it is just `nextval('name')` (what
/// SERIAL declares, and the usual hand-written form).
fn sequence_named_by(sql: &str) -> Option<&str> {
    let rest = sql.trim().strip_prefix("nextval('")?;
    let (name, tail) = rest.split_once('\'')?;
    matches!(tail, ")" | "::regclass)").then_some(name)
}

const EXPRESSION_TAG: &str = "expression";
const IDENTITY_TAG: &str = "identity";

/// A CHECK constraint as stored: its name and its expression's SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInfo {
    pub name: String,
    pub definition: String,
}

/// A table as SQL sees it: the engine schema and the SQL columns, in the same order.
#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    pub schema: TableSchema,
    pub columns: Vec<ColumnInfo>,
    /// CHECK constraints, sorted by name.
    pub checks: Vec<CheckInfo>,
    /// The table's FOREIGN KEY constraints (`foreign_key.rs`), sorted by name.
    pub foreign_keys: Vec<ForeignKey>,
    /// The FOREIGN KEY constraints of any table (this one too) that reference it.
    pub referenced_by: Vec<ForeignKey>,
    /// What ANALYZE last learned about the table (`statistics.rs`), where the binder
    /// loaded it for the planner ([`with_statistics`]); `None` otherwise.
    pub stats: Option<Arc<TableStats>>,
}

impl TableInfo {
    /// The table's name.
    pub fn name(&self) -> &str {
        &self.schema.name
    }

    /// The position of the column called `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// A stored row of this table as SQL values, each read as its column's kind (which
    /// tells a UUID from a BYTEA, see `value.rs`).
    pub fn values(&self, row: Vec<KeyValue>) -> Result<Vec<Value>> {
        row.into_iter()
            .zip(&self.columns)
            .map(|(value, column)| Value::from_key(value, column.sql_type.kind()))
            .collect()
    }

    /// The kinds of the table's columns, in order.
    pub fn kinds(&self) -> Vec<Kind> {
        self.columns.iter().map(|c| c.sql_type.kind()).collect()
    }
}

fn sql_columns_def() -> TableDef {
    let column = |name: &str, ty, nullable| Column {
        name: name.to_string(),
        ty,
        nullable,
    };
    TableDef {
        name: SQL_COLUMNS_TABLE.to_string(),
        columns: vec![
            column("table_name", ColumnType::Text, false),
            column("position", ColumnType::Int, false),
            column("sql_type", ColumnType::Text, false),
            column("default_value", ColumnType::Bytes, true),
        ],
        primary_key: vec!["table_name".to_string(), "position".to_string()],
    }
}

/// The table called `name` with its SQL metadata, as `txn` sees the catalog.
pub fn find_table(txn: &mut Transaction, name: &str) -> Result<Option<TableInfo>> {
    let Some(schema) = catalog::find_table(txn, name)? else {
        return Ok(None);
    };
    let stored = match catalog::find_table(txn, SQL_COLUMNS_TABLE)? {
        Some(meta) => read_meta(txn, &meta, name)?,
        None => Vec::new(),
    };
    let mut columns = Vec::with_capacity(schema.columns.len());
    for (i, column) in schema.columns.iter().enumerate() {
        let (sql_type, default) = match stored.get(i) {
            Some((ty, default)) if stored.len() == schema.columns.len() => (*ty, default.clone()),
            _ => (SqlType::from_column_type(column.ty)?, None),
        };
        columns.push(ColumnInfo {
            name: column.name.clone(),
            sql_type,
            nullable: column.nullable,
            default,
        });
    }
    let checks = match catalog::find_table(txn, SQL_CHECKS_TABLE)? {
        Some(meta) => read_checks(txn, &meta, name)?,
        None => Vec::new(),
    };
    Ok(Some(TableInfo {
        schema,
        columns,
        checks,
        foreign_keys: foreign_key::of_table(txn, name)?,
        referenced_by: foreign_key::referencing(txn, name)?,
        stats: None,
    }))
}

/// `info` with its table's statistics, as `txn` sees them, for the planner: the binder
/// calls this for the tables a statement reads rows from. Statistics of a table that
/// was empty when analysed are left out: they say nothing of the rows loaded since (an
/// index is often made before the load), so the planner treats the table as never
/// analysed, as PostgreSQL does a table it never saw rows in.
pub fn with_statistics(txn: &mut Transaction, mut info: TableInfo) -> Result<TableInfo> {
    info.stats = statistics::store::load(txn, info.name())?
        .filter(|stats| stats.rows > 0.0)
        .map(Arc::new);
    Ok(info)
}

/// The engine table holding CHECK constraints.
pub const SQL_CHECKS_TABLE: &str = "__hdb_sql_checks";

fn sql_checks_def() -> TableDef {
    let column = |name: &str| Column {
        name: name.to_string(),
        ty: ColumnType::Text,
        nullable: false,
    };
    TableDef {
        name: SQL_CHECKS_TABLE.to_string(),
        columns: vec![column("table_name"), column("name"), column("definition")],
        primary_key: vec!["table_name".to_string(), "name".to_string()],
    }
}

/// The rows of a metadata table whose first key column is `name`.
fn rows_of_table(
    txn: &mut Transaction,
    meta: &TableSchema,
    name: &str,
) -> Result<Vec<(Vec<KeyValue>, Vec<KeyValue>)>> {
    let prefix = [KeyValue::Text(name.to_string())];
    Ok(ops::scan(
        txn,
        meta,
        Bound::Included(&prefix),
        Bound::Included(&prefix),
        false,
    )?
    .collect::<engine::Result<_>>()?)
}

fn read_checks(txn: &mut Transaction, meta: &TableSchema, name: &str) -> Result<Vec<CheckInfo>> {
    rows_of_table(txn, meta, name)?
        .into_iter()
        .map(|(_, row)| match row.as_slice() {
            [_, KeyValue::Text(check), KeyValue::Text(definition)] => Ok(CheckInfo {
                name: check.clone(),
                definition: definition.clone(),
            }),
            _ => Err(Error::Engine(engine::Error::CorruptData(format!(
                "{SQL_CHECKS_TABLE}: bad row for {name:?}"
            )))),
        })
        .collect()
}

/// Records the CHECK constraints of table `name`, in `txn`.
fn create_checks(txn: &mut Transaction, name: &str, checks: &[CheckInfo]) -> Result<()> {
    if checks.is_empty() {
        return Ok(());
    }
    let meta = match catalog::find_table(txn, SQL_CHECKS_TABLE)? {
        Some(meta) => meta,
        None => catalog::create_table(txn, sql_checks_def())?,
    };
    for check in checks {
        let row = vec![
            KeyValue::Text(name.to_string()),
            KeyValue::Text(check.name.clone()),
            KeyValue::Text(check.definition.clone()),
        ];
        ops::insert(txn, &meta, row)?;
    }
    Ok(())
}

/// The table called `name`, or [`Error::UnknownTable`].
pub fn table(txn: &mut Transaction, name: &str) -> Result<TableInfo> {
    find_table(txn, name)?.ok_or_else(|| Error::UnknownTable(name.to_string()))
}

type StoredColumn = (SqlType, Option<ColumnDefault>);

fn read_meta(txn: &mut Transaction, meta: &TableSchema, name: &str) -> Result<Vec<StoredColumn>> {
    let prefix = [KeyValue::Text(name.to_string())];
    let mut out = Vec::new();
    for entry in ops::scan(
        txn,
        meta,
        Bound::Included(&prefix),
        Bound::Included(&prefix),
        false,
    )? {
        let (_, row) = entry?;
        let corrupt = || {
            Error::Engine(engine::Error::CorruptData(format!(
                "{SQL_COLUMNS_TABLE}: bad row for {name:?}"
            )))
        };
        let ty = match row.get(2) {
            Some(KeyValue::Text(t)) => SqlType::parse(t).ok_or_else(corrupt)?,
            _ => return Err(corrupt()),
        };
        let default = match row.get(3) {
            Some(KeyValue::Bytes(bytes)) => match ColumnDefault::decode(bytes, ty.kind())? {
                Some(default) => Some(default),
                None => return Err(corrupt()),
            },
            _ => None,
        };
        out.push((ty, default));
    }
    Ok(out)
}

/// Creates a table and records its SQL metadata, in `txn`.
pub fn create_table(
    txn: &mut Transaction,
    name: &str,
    columns: &[ColumnInfo],
    primary_key: &[String],
    checks: &[CheckInfo],
) -> Result<TableSchema> {
    // Views and tables share one namespace (`view_catalog.rs`).
    if crate::view_catalog::find_view(txn, name)?.is_some() {
        return Err(Error::AlreadyExists {
            kind: "relation".into(),
            name: name.to_string(),
        });
    }
    let def = TableDef {
        name: name.to_string(),
        columns: columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                ty: c.sql_type.column_type(),
                nullable: c.nullable,
            })
            .collect(),
        primary_key: primary_key.to_vec(),
    };
    let schema = catalog::create_table(txn, def)?;
    let meta = match catalog::find_table(txn, SQL_COLUMNS_TABLE)? {
        Some(meta) => meta,
        None => catalog::create_table(txn, sql_columns_def())?,
    };
    insert_columns_meta(txn, &meta, name, columns)?;
    create_checks(txn, name, checks)?;
    Ok(schema)
}

/// The engine table holding tables' storage parameters.
pub const SQL_OPTIONS_TABLE: &str = "__hdb_sql_options";

/// The name under which a table's fillfactor is stored.
const FILLFACTOR: &str = "fillfactor";

fn sql_options_def() -> TableDef {
    let column = |name: &str| Column {
        name: name.to_string(),
        ty: ColumnType::Text,
        nullable: false,
    };
    TableDef {
        name: SQL_OPTIONS_TABLE.to_string(),
        columns: vec![column("table_name"), column("name"), column("value")],
        primary_key: vec!["table_name".to_string(), "name".to_string()],
    }
}

/// Records table `name`'s fillfactor (`WITH (fillfactor = n)`), in `txn`.
pub fn set_fillfactor(txn: &mut Transaction, name: &str, fillfactor: u32) -> Result<()> {
    let meta = match catalog::find_table(txn, SQL_OPTIONS_TABLE)? {
        Some(meta) => meta,
        None => catalog::create_table(txn, sql_options_def())?,
    };
    let row = vec![
        KeyValue::Text(name.to_string()),
        KeyValue::Text(FILLFACTOR.to_string()),
        KeyValue::Text(fillfactor.to_string()),
    ];
    ops::insert(txn, &meta, row)?;
    Ok(())
}

/// Table `name`'s fillfactor, if it was created with one.
pub fn fillfactor(txn: &mut Transaction, name: &str) -> Result<Option<u32>> {
    let Some(meta) = catalog::find_table(txn, SQL_OPTIONS_TABLE)? else {
        return Ok(None);
    };
    let key = [
        KeyValue::Text(name.to_string()),
        KeyValue::Text(FILLFACTOR.to_string()),
    ];
    match ops::get(txn, &meta, &key)? {
        None => Ok(None),
        Some(row) => match row.get(2) {
            Some(KeyValue::Text(value)) => value.parse().map(Some).map_err(|_| {
                Error::Engine(engine::Error::CorruptData(format!(
                    "{SQL_OPTIONS_TABLE}: bad fillfactor for {name:?}"
                )))
            }),
            _ => Err(Error::Engine(engine::Error::CorruptData(format!(
                "{SQL_OPTIONS_TABLE}: bad row for {name:?}"
            )))),
        },
    }
}

/// The metadata tables keyed by table name first: their rows go with DROP TABLE and
/// move with RENAME.
const METADATA_TABLES: [&str; 5] = [
    SQL_COLUMNS_TABLE,
    SQL_CHECKS_TABLE,
    SQL_OPTIONS_TABLE,
    SQL_STATISTICS_TABLE,
    SQL_FOREIGN_KEYS_TABLE,
];

/// Drops a table and its SQL metadata, in `txn`.
pub fn drop_table(txn: &mut Transaction, name: &str) -> Result<()> {
    catalog::drop_table(txn, name)?;
    for meta_name in METADATA_TABLES {
        let Some(meta) = catalog::find_table(txn, meta_name)? else {
            continue;
        };
        for (key, _) in rows_of_table(txn, &meta, name)? {
            ops::delete(txn, &meta, &key)?;
        }
    }
    Ok(())
}

/// Renames table `old` to `new` with its SQL metadata (ALTER TABLE ... RENAME TO), in
/// `txn`: the engine's catalog entries (`engine::table::alter`), then each metadata row
/// keyed by the table's name, moved to the new name.
pub fn rename_table(txn: &mut Transaction, old: &str, new: &str) -> Result<()> {
    alter::rename_table(txn, old, new)?;
    for meta_name in METADATA_TABLES {
        let Some(meta) = catalog::find_table(txn, meta_name)? else {
            continue;
        };
        for (key, mut row) in rows_of_table(txn, &meta, old)? {
            ops::delete(txn, &meta, &key)?;
            row[0] = KeyValue::Text(new.to_string());
            ops::insert(txn, &meta, row)?;
        }
    }
    foreign_key::rename_referenced(txn, old, new)
}

/// Sets (or, with `None`, drops) the DEFAULT of column `position` of `table` (ALTER
/// TABLE ... ALTER COLUMN ... SET / DROP DEFAULT).
pub fn set_default(
    txn: &mut Transaction,
    table_name: &str,
    position: usize,
    default: Option<ColumnDefault>,
) -> Result<()> {
    let mut info = table(txn, table_name)?;
    let column = info
        .columns
        .get_mut(position)
        .ok_or_else(|| Error::UnknownColumn(format!("{table_name} column {position}")))?;
    column.default = default;
    set_columns(txn, table_name, &info.columns)
}

/// Records `columns` as the SQL metadata of table `table_name`, whose engine schema
/// has the same columns in the same order (after ALTER TABLE changed them). Every
/// column's metadata row is written again, so a table made through the engine API
/// (which has none) gets them too.
pub fn set_columns(txn: &mut Transaction, table_name: &str, columns: &[ColumnInfo]) -> Result<()> {
    let meta = match catalog::find_table(txn, SQL_COLUMNS_TABLE)? {
        Some(meta) => meta,
        None => catalog::create_table(txn, sql_columns_def())?,
    };
    for (key, _) in rows_of_table(txn, &meta, table_name)? {
        ops::delete(txn, &meta, &key)?;
    }
    insert_columns_meta(txn, &meta, table_name, columns)
}

/// Adds a CHECK constraint to table `table_name` (ALTER TABLE ... ADD CHECK); the
/// caller has checked the name is free and the rows satisfy it.
pub fn add_check(txn: &mut Transaction, table_name: &str, check: &CheckInfo) -> Result<()> {
    create_checks(txn, table_name, std::slice::from_ref(check))
}

/// Removes the CHECK constraint `name` of table `table_name`; whether there was one.
pub fn drop_check(txn: &mut Transaction, table_name: &str, name: &str) -> Result<bool> {
    let Some(meta) = catalog::find_table(txn, SQL_CHECKS_TABLE)? else {
        return Ok(false);
    };
    let key = [
        KeyValue::Text(table_name.to_string()),
        KeyValue::Text(name.to_string()),
    ];
    if ops::get(txn, &meta, &key)?.is_none() {
        return Ok(false);
    }
    ops::delete(txn, &meta, &key)?;
    Ok(true)
}

/// Forgets what ANALYZE learned about table `table_name` (after a change that moves or
/// retypes its columns, which the statistics name by position).
pub fn drop_statistics(txn: &mut Transaction, table_name: &str) -> Result<()> {
    let Some(meta) = catalog::find_table(txn, SQL_STATISTICS_TABLE)? else {
        return Ok(());
    };
    for (key, _) in rows_of_table(txn, &meta, table_name)? {
        ops::delete(txn, &meta, &key)?;
    }
    Ok(())
}

/// Writes the metadata rows of table `name`'s `columns` into [`SQL_COLUMNS_TABLE`].
fn insert_columns_meta(
    txn: &mut Transaction,
    meta: &TableSchema,
    name: &str,
    columns: &[ColumnInfo],
) -> Result<()> {
    for (position, column) in columns.iter().enumerate() {
        let default = match &column.default {
            Some(default) => KeyValue::Bytes(default.encode()),
            None => KeyValue::Null,
        };
        let row = vec![
            KeyValue::Text(name.to_string()),
            KeyValue::Int(position as i64),
            KeyValue::Text(column.sql_type.to_string()),
            default,
        ];
        ops::insert(txn, meta, row)?;
    }
    Ok(())
}

/// The engine table holding the definitions of SQL functions (`CREATE FUNCTION`).
pub const SQL_FUNCTIONS_TABLE: &str = "__hdb_sql_functions";

fn sql_functions_def() -> TableDef {
    TableDef {
        name: SQL_FUNCTIONS_TABLE.to_string(),
        columns: vec![
            Column {
                name: "name".to_string(),
                ty: ColumnType::Text,
                nullable: false,
            },
            Column {
                name: "definition".to_string(),
                ty: ColumnType::Text,
                nullable: false,
            },
        ],
        primary_key: vec!["name".to_string()],
    }
}

/// The stored definition (the `CREATE FUNCTION` text) of the function called `name`.
pub fn find_function(txn: &mut Transaction, name: &str) -> Result<Option<String>> {
    let Some(meta) = catalog::find_table(txn, SQL_FUNCTIONS_TABLE)? else {
        return Ok(None);
    };
    match ops::get(txn, &meta, &[KeyValue::Text(name.to_string())])? {
        None => Ok(None),
        Some(row) => match row.get(1) {
            Some(KeyValue::Text(definition)) => Ok(Some(definition.clone())),
            _ => Err(Error::Engine(engine::Error::CorruptData(format!(
                "{SQL_FUNCTIONS_TABLE}: bad row for {name:?}"
            )))),
        },
    }
}

/// Records a function's definition, replacing an existing one only if `or_replace`.
pub fn create_function(
    txn: &mut Transaction,
    name: &str,
    definition: &str,
    or_replace: bool,
) -> Result<()> {
    catalog::check_name("function", name)?;
    let meta = match catalog::find_table(txn, SQL_FUNCTIONS_TABLE)? {
        Some(meta) => meta,
        None => catalog::create_table(txn, sql_functions_def())?,
    };
    let key = [KeyValue::Text(name.to_string())];
    if ops::get(txn, &meta, &key)?.is_some() {
        if !or_replace {
            return Err(Error::AlreadyExists {
                kind: "function".into(),
                name: name.to_string(),
            });
        }
        ops::delete(txn, &meta, &key)?;
    }
    let row = vec![
        KeyValue::Text(name.to_string()),
        KeyValue::Text(definition.to_string()),
    ];
    ops::insert(txn, &meta, row)?;
    Ok(())
}

/// Removes a function's definition; whether there was one.
pub fn drop_function(txn: &mut Transaction, name: &str) -> Result<bool> {
    let Some(meta) = catalog::find_table(txn, SQL_FUNCTIONS_TABLE)? else {
        return Ok(false);
    };
    let key = [KeyValue::Text(name.to_string())];
    if ops::get(txn, &meta, &key)?.is_none() {
        return Ok(false);
    }
    ops::delete(txn, &meta, &key)?;
    Ok(true)
}

/// The name PostgreSQL gives a `kind` constraint (`pkey`, `key`) on `columns` of
/// `table` declared without one, shortened (at a character boundary) to the catalog's
/// name limit.
pub fn constraint_name(table: &str, columns: &[String], kind: &str) -> String {
    let suffix = format!("_{kind}");
    let mut stem = match kind {
        "pkey" => table.to_string(),
        _ => format!("{table}_{}", columns.join("_")),
    };
    let room = catalog::MAX_NAME_LEN - suffix.len();
    if stem.len() > room {
        let cut = (0..=room)
            .rev()
            .find(|&i| stem.is_char_boundary(i))
            .unwrap_or(0);
        stem.truncate(cut);
    }
    stem + &suffix
}

/// The name of the index behind a UNIQUE constraint: `<table>_<columns>_key`, as
/// PostgreSQL names it.
pub fn unique_index_name(table: &str, columns: &[String]) -> String {
    constraint_name(table, columns, "key")
}
