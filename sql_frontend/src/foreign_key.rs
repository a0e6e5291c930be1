//! FOREIGN KEY constraints as the SQL catalog stores them.
//!
//! A constraint lives in the engine table [`SQL_FOREIGN_KEYS_TABLE`]:
//!
//! ```text
//! __hdb_sql_foreign_keys (table_name TEXT, name TEXT, definition BYTES,
//!                         PRIMARY KEY (table_name, name))
//! ```
//!
//! keyed by the referencing table, so its rows go with DROP TABLE of that table like
//! the other metadata tables (`catalog.rs`). `definition` is the keycode encoding of
//! the tuple `(referenced table, on delete, on update, n, column 1 .. n, referenced
//! column 1 .. n)`, columns by name. The table is written and read through the
//! statement's transaction, so adding and dropping a constraint rolls back like any
//! DDL. The referenced side is found by reading every constraint (a small table): the
//! tables that reference `t` are [`referencing`]`(t)`.
//!
//! How the constraints are enforced, under concurrency too, is in
//! `exec/references.rs`.

use std::ops::Bound;

use engine::Transaction;
use engine::keycode::{KeyValue, decode, encode};
use engine::table::{Column, ColumnType, TableDef, TableSchema, catalog, ops};

use crate::error::{Error, Result};

/// The engine table holding FOREIGN KEY constraints.
pub const SQL_FOREIGN_KEYS_TABLE: &str = "__hdb_sql_foreign_keys";

/// What a FOREIGN KEY does to referencing rows when the referenced key goes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The default: an error if a referencing row is left (checked when the key goes).
    NoAction,
    /// An error if a referencing row is left.
    Restrict,
    /// The referencing rows are deleted (ON DELETE) or get the new key (ON UPDATE).
    Cascade,
    SetNull,
    SetDefault,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }

    fn parse(name: &str) -> Option<Action> {
        [
            Action::NoAction,
            Action::Restrict,
            Action::Cascade,
            Action::SetNull,
            Action::SetDefault,
        ]
        .into_iter()
        .find(|a| a.name() == name)
    }
}

/// A FOREIGN KEY constraint: `table (columns) REFERENCES referenced (referenced_columns)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    /// The referencing table.
    pub table: String,
    pub columns: Vec<String>,
    pub referenced: String,
    pub referenced_columns: Vec<String>,
    pub on_delete: Action,
    pub on_update: Action,
}

impl ForeignKey {
    fn definition(&self) -> Vec<u8> {
        let mut tuple = vec![
            KeyValue::Text(self.referenced.clone()),
            KeyValue::Text(self.on_delete.name().into()),
            KeyValue::Text(self.on_update.name().into()),
            KeyValue::Int(self.columns.len() as i64),
        ];
        tuple.extend(self.columns.iter().cloned().map(KeyValue::Text));
        tuple.extend(self.referenced_columns.iter().cloned().map(KeyValue::Text));
        encode(&tuple)
    }

    fn from_row(row: &[KeyValue]) -> Option<ForeignKey> {
        let [
            KeyValue::Text(table),
            KeyValue::Text(name),
            KeyValue::Bytes(definition),
        ] = row
        else {
            return None;
        };
        let tuple = decode(definition).ok()?;
        let text = |v: &KeyValue| match v {
            KeyValue::Text(s) => Some(s.clone()),
            _ => None,
        };
        let (head, columns) = tuple.split_at_checked(4)?;
        let n = match head[3] {
            KeyValue::Int(n) => usize::try_from(n).ok()?,
            _ => return None,
        };
        if columns.len() != 2 * n || n == 0 {
            return None;
        }
        let columns: Vec<String> = columns.iter().map(text).collect::<Option<_>>()?;
        Some(ForeignKey {
            name: name.clone(),
            table: table.clone(),
            referenced: text(&head[0])?,
            on_delete: Action::parse(&text(&head[1])?)?,
            on_update: Action::parse(&text(&head[2])?)?,
            referenced_columns: columns[n..].to_vec(),
            columns: columns[..n].to_vec(),
        })
    }
}

fn foreign_keys_def() -> TableDef {
    let column = |name: &str, ty| Column {
        name: name.to_string(),
        ty,
        nullable: false,
    };
    TableDef {
        name: SQL_FOREIGN_KEYS_TABLE.to_string(),
        columns: vec![
            column("table_name", ColumnType::Text),
            column("name", ColumnType::Text),
            column("definition", ColumnType::Bytes),
        ],
        primary_key: vec!["table_name".to_string(), "name".to_string()],
    }
}

fn corrupt(meta: &TableSchema) -> Error {
    Error::Engine(engine::Error::CorruptData(format!(
        "{}: a constraint that does not decode",
        meta.name
    )))
}

fn read(
    txn: &mut Transaction,
    lower: Bound<&[KeyValue]>,
    upper: Bound<&[KeyValue]>,
) -> Result<Vec<ForeignKey>> {
    let Some(meta) = catalog::find_table(txn, SQL_FOREIGN_KEYS_TABLE)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in ops::scan(txn, &meta, lower, upper, false)? {
        let (_, row) = entry?;
        out.push(ForeignKey::from_row(&row).ok_or_else(|| corrupt(&meta))?);
    }
    Ok(out)
}

/// The constraints of table `table` (it references other tables through them).
pub fn of_table(txn: &mut Transaction, table: &str) -> Result<Vec<ForeignKey>> {
    let prefix = [KeyValue::Text(table.to_string())];
    read(txn, Bound::Included(&prefix), Bound::Included(&prefix))
}

/// The constraints that reference table `table` (from any table, itself included).
pub fn referencing(txn: &mut Transaction, table: &str) -> Result<Vec<ForeignKey>> {
    Ok(read(txn, Bound::Unbounded, Bound::Unbounded)?
        .into_iter()
        .filter(|fk| fk.referenced == table)
        .collect())
}

/// Whether a constraint of any kind-free name `name` is a foreign key of `table`.
pub fn find(txn: &mut Transaction, table: &str, name: &str) -> Result<Option<ForeignKey>> {
    Ok(of_table(txn, table)?.into_iter().find(|fk| fk.name == name))
}

/// Records `fk` (its name is free: the caller checked).
pub fn create(txn: &mut Transaction, fk: &ForeignKey) -> Result<()> {
    let meta = match catalog::find_table(txn, SQL_FOREIGN_KEYS_TABLE)? {
        Some(meta) => meta,
        None => catalog::create_table(txn, foreign_keys_def())?,
    };
    let row = vec![
        KeyValue::Text(fk.table.clone()),
        KeyValue::Text(fk.name.clone()),
        KeyValue::Bytes(fk.definition()),
    ];
    ops::insert(txn, &meta, row)?;
    Ok(())
}

/// Removes the constraint `name` of `table`; whether there was one.
pub fn drop(txn: &mut Transaction, table: &str, name: &str) -> Result<bool> {
    let Some(meta) = catalog::find_table(txn, SQL_FOREIGN_KEYS_TABLE)? else {
        return Ok(false);
    };
    let key = [
        KeyValue::Text(table.to_string()),
        KeyValue::Text(name.to_string()),
    ];
    Ok(ops::delete(txn, &meta, &key)?)
}

/// After RENAME of table `old` to `new` (whose own constraints have moved with it,
/// `catalog::rename_table`): every constraint that references it names the new name.
pub fn rename_referenced(txn: &mut Transaction, old: &str, new: &str) -> Result<()> {
    for mut fk in referencing(txn, old)? {
        drop(txn, &fk.table, &fk.name)?;
        fk.referenced = new.to_string();
        create(txn, &fk)?;
    }
    Ok(())
}

/// After RENAME COLUMN `old` to `new` of table `table`: every constraint that names
/// the column, on either side, names the new name.
pub fn rename_column(txn: &mut Transaction, table: &str, old: &str, new: &str) -> Result<()> {
    let rename = |columns: &mut Vec<String>| {
        let mut renamed = false;
        for column in columns.iter_mut().filter(|c| *c == old) {
            *column = new.to_string();
            renamed = true;
        }
        renamed
    };
    for mut fk in read(txn, Bound::Unbounded, Bound::Unbounded)? {
        let mut renamed = false;
        if fk.table == table {
            renamed |= rename(&mut fk.columns);
        }
        if fk.referenced == table {
            renamed |= rename(&mut fk.referenced_columns);
        }
        if renamed {
            drop(txn, &fk.table, &fk.name)?;
            create(txn, &fk)?;
        }
    }
    Ok(())
}
