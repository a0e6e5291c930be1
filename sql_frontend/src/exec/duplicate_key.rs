//! A repeated key named in SQL's words.
//!
//! The engine names the key of a primary-key or UNIQUE violation in its error's
//! detail, `Key (id)=(...)`, by its stored values: for a UUID that is a byte string
//! (`\x0000...`), for an INTERVAL the engine's own text, neither what PostgreSQL
//! prints. For tables with such columns, [`with_sql_key`] writes the detail again from
//! the row's SQL values, as PostgreSQL does (its detail shows the new row's values).
//! This file imports nothing else of the executor, so every writer may use it.

use engine::Constraint;

use crate::catalog::TableInfo;
use crate::error::Error;
use crate::value::{Kind, Value};

/// Whether the engine's text of some value of `table` differs from SQL's (a UUID, an
/// INTERVAL), so that a uniqueness error must name its key again ([`with_sql_key`]).
pub(super) fn keys_print_differently(table: &TableInfo) -> bool {
    table
        .columns
        .iter()
        .any(|c| matches!(c.sql_type.kind(), Kind::Uuid | Kind::Interval))
}

/// `error`, met writing `row` into `table`, with the key of a primary-key or UNIQUE
/// violation written from the row's SQL values (see the module header).
pub(super) fn with_sql_key(mut error: engine::Error, table: &TableInfo, row: &[Value]) -> Error {
    let (positions, key) = match &mut error {
        engine::Error::Constraint(Constraint::PrimaryKey { key, .. }) => {
            (table.schema.primary_key.as_slice(), key)
        }
        engine::Error::Constraint(Constraint::Unique { index, key, .. }) => {
            match table.schema.indexes.iter().find(|i| i.name == *index) {
                Some(index) => (index.columns.as_slice(), key),
                None => return error.into(),
            }
        }
        _ => return error.into(),
    };
    let names: Vec<&str> = positions
        .iter()
        .filter_map(|&p| table.columns.get(p).map(|c| c.name.as_str()))
        .collect();
    let values: Vec<String> = positions
        .iter()
        .filter_map(|&p| row.get(p).map(ToString::to_string))
        .collect();
    *key = format!("({})=({})", names.join(", "), values.join(", "));
    error.into()
}
