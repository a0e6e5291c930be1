//! The functions that read the catalog: `pg_get_indexdef(oid)`,
//! `pg_table_is_visible(oid)` and the `regclass` casts (`'accounts'::regclass` is
//! the relation's OID, `oid::regclass` its name). The binder makes a call of one an
//! `Expr::Catalog`; the executor evaluates it over the statement's [`Snapshot`], so,
//! like the system relations, it sees the catalog as the statement's transaction does.

use super::{Snapshot, constraint_def, index_def, table_is_visible};
use crate::error::{Error, Result};
use crate::value::{Kind, Value};

/// A function of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CatalogFunction {
    /// `text::regclass`: the OID of the relation named (`public.` and double quotes
    /// allowed, unquoted names folded to lower case); 42P01 if there is none.
    RelationOid,
    /// `oid::regclass` (printed): the relation's name, or the number where no relation
    /// has that OID, as PostgreSQL prints it.
    RelationName,
    /// `pg_get_indexdef(oid)`.
    IndexDef,
    /// `pg_table_is_visible(oid)`.
    TableIsVisible,
    /// `pg_get_constraintdef(oid)`.
    ConstraintDef,
    /// `format_type(type oid, typmod)` (and `oid::regtype`), which needs no catalog but
    /// hdb's own types (`pg_type.rs`).
    FormatType,
}

impl CatalogFunction {
    pub fn name(self) -> &'static str {
        match self {
            CatalogFunction::RelationOid | CatalogFunction::RelationName => "regclass",
            CatalogFunction::IndexDef => "pg_get_indexdef",
            CatalogFunction::TableIsVisible => "pg_table_is_visible",
            CatalogFunction::ConstraintDef => "pg_get_constraintdef",
            CatalogFunction::FormatType => "format_type",
        }
    }

    pub fn result_kind(self) -> Kind {
        match self {
            CatalogFunction::RelationOid => Kind::Int,
            CatalogFunction::RelationName
            | CatalogFunction::IndexDef
            | CatalogFunction::ConstraintDef
            | CatalogFunction::FormatType => Kind::Text,
            CatalogFunction::TableIsVisible => Kind::Bool,
        }
    }

    /// The value of a call on `args` (NULL where the first argument is NULL).
    pub fn call(self, catalog: &Snapshot, args: &[Value]) -> Result<Value> {
        let Some(arg) = args.first() else {
            return Err(Error::Type(format!("{}() needs an argument", self.name())));
        };
        match (self, arg) {
            (_, Value::Null) => Ok(Value::Null),
            (CatalogFunction::RelationOid, Value::Text(name)) => {
                let name = relation_name(name);
                catalog
                    .by_name(&name)
                    .map(|r| Value::Int(r.oid))
                    .ok_or(Error::UnknownTable(name))
            }
            (CatalogFunction::RelationName, Value::Int(oid)) => Ok(Value::Text(
                catalog
                    .by_oid(*oid)
                    .map_or_else(|| oid.to_string(), |r| r.name.clone()),
            )),
            (CatalogFunction::IndexDef, Value::Int(oid)) => {
                let column = match args.get(1) {
                    Some(Value::Int(n)) => *n,
                    _ => 0,
                };
                Ok(index_def(catalog, *oid, column))
            }
            (CatalogFunction::ConstraintDef, Value::Int(oid)) => Ok(constraint_def(catalog, *oid)),
            (CatalogFunction::FormatType, Value::Int(oid)) => {
                let typmod = match args.get(1) {
                    Some(Value::Int(n)) => Some(*n),
                    _ => None,
                };
                Ok(Value::Text(super::pg_type::format_type(*oid, typmod)))
            }
            (CatalogFunction::TableIsVisible, Value::Int(oid)) => {
                Ok(Value::Bool(table_is_visible(catalog, *oid)))
            }
            (function, other) => Err(Error::Type(format!(
                "function {}({}) does not exist",
                function.name(),
                other.kind()
            ))),
        }
    }
}

/// A relation name as regclass input reads it: without `public.`, unquoted (`"A"`
/// stays `A`) or folded to lower case.
fn relation_name(text: &str) -> String {
    let text = text.trim();
    let text = text.strip_prefix("public.").unwrap_or(text);
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => text.to_lowercase(),
    }
}
