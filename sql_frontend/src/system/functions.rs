//! The functions that read the catalog: `pg_get_indexdef(oid)`,
//! `pg_table_is_visible(oid)` and the `regclass` casts (`'accounts'::regclass` is
//! the relation's OID, `oid::regclass` its name). The binder makes a call of one an
//! `Expr::Catalog`; the executor evaluates it over the statement's [`Snapshot`], so,
//! like the system relations, it sees the catalog as the statement's transaction does.

use super::{
    PG_CATALOG, PUBLIC, Snapshot, SystemRelation, constraint_def, index_def, table_is_visible,
};
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
            // A number is an OID, as regclass input reads it.
            (CatalogFunction::RelationOid, Value::Text(text))
                if text.trim().parse::<u32>().is_ok() =>
            {
                Ok(Value::Int(text.trim().parse::<i64>().unwrap_or_default()))
            }
            (CatalogFunction::RelationOid, Value::Text(text)) => {
                let (schema, name) = relation_name(text);
                let user = match schema.as_deref() {
                    None | Some(PUBLIC) => catalog.by_name(&name).map(|r| r.oid),
                    Some(_) => None,
                };
                user.or_else(|| SystemRelation::lookup(schema.as_deref(), &name).map(|r| r.oid()))
                    .map(Value::Int)
                    .ok_or_else(|| Error::UnknownTable(text.trim().to_string()))
            }
            (CatalogFunction::RelationName, Value::Int(oid)) => {
                let system = SystemRelation::by_oid(*oid).map(|r| match r.schema() {
                    PG_CATALOG => r.name().to_string(),
                    _ => r.to_string(),
                });
                let user = catalog.by_oid(*oid).map(|r| r.name.clone());
                Ok(Value::Text(
                    user.or(system).unwrap_or_else(|| oid.to_string()),
                ))
            }
            (CatalogFunction::IndexDef, Value::Int(oid)) => {
                let column = match args.get(1) {
                    Some(Value::Int(n)) => *n,
                    _ => 0,
                };
                Ok(index_def(catalog, *oid, column))
            }
            (CatalogFunction::ConstraintDef, Value::Int(oid)) => {
                let pretty = matches!(args.get(1), Some(Value::Bool(true)));
                Ok(constraint_def(catalog, *oid, pretty))
            }
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

/// A relation name as regclass input reads it: its schema, if given, and its name,
/// each unquoted (`"A"` stays `A`) or folded to lower case.
fn relation_name(text: &str) -> (Option<String>, String) {
    let part = |p: &str| match p.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\"\"", "\""),
        None => p.to_lowercase(),
    };
    let text = text.trim();
    match text.split_once('.') {
        Some((schema, name)) if !schema.starts_with('"') || schema.ends_with('"') => {
            (Some(part(schema)), part(name))
        }
        _ => (None, part(text)),
    }
}
