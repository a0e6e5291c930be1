//! Binding what names the system catalog (`crate::system`): pg_catalog's and
//! information_schema's relations in FROM (a `SystemScan`), writes to them refused,
//! the functions clients call about the catalog and the session (`version()`,
//! `current_user`, `current_database()`, `current_schema()`, `pg_get_userbyid`,
//! `pg_table_is_visible`, `pg_get_indexdef`, `pg_get_constraintdef`, `pg_get_expr`,
//! `format_type`, `pg_encoding_to_char`, `pg_partition_ancestors`, `obj_description`),
//! the casts to `regclass`, `oid`, `regtype` and `name` and to types qualified by
//! `pg_catalog.`, and `COLLATE` of the collations hdb's byte order is (`default`, `C`,
//! `POSIX`).
//!
//! The session's identity is bound as literals (a plan is the session's own); the
//! functions that read the catalog become `Expr::Catalog`, evaluated over the catalog
//! the statement's transaction sees. `pg_get_userbyid(oid)` is the connected user for
//! its OID (10), `pg_database_owner` for that role's (public's owner) and PostgreSQL's
//! `unknown (OID=n)` otherwise; hdb keeps no comments, so `obj_description` and
//! `col_description` are NULL; a relation of hdb is never a partition, so
//! `pg_partition_ancestors(r)` is `r` alone.

use std::sync::Arc;

use sqlparser::ast::{self, DataType, ObjectName, ObjectNamePart, TableAlias};

use super::expr::{Scope, ScopeColumn};
use super::{Binder, ident};
use crate::error::{Error, Result};
use crate::expr::{BinaryOp, Expr};
use crate::functions::Function;
use crate::plan::Node;
use crate::system::{
    CatalogFunction, DATABASE_OWNER, DATABASE_OWNER_OID, PG_CATALOG, PUBLIC, SystemRelation,
    USER_OID, UTF8_ENCODING,
};
use crate::types::SqlType;
use crate::value::{Kind, Value};

/// The parts of a name, folded as identifiers are.
fn parts(name: &ObjectName) -> Option<Vec<String>> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(id) => Some(ident(id)),
            _ => None,
        })
        .collect()
}

/// The system relation `name` names, if it names one: `pg_catalog.x`,
/// `information_schema.x` (42P01 where there is no such relation) or an unqualified
/// pg_catalog relation (pg_catalog is searched first, as in PostgreSQL).
pub(super) fn system_relation(name: &ObjectName) -> Result<Option<SystemRelation>> {
    match parts(name).as_deref() {
        Some([name]) => Ok(SystemRelation::lookup(None, name)),
        Some([schema, name]) if SystemRelation::is_system_schema(schema) => {
            SystemRelation::lookup(Some(schema), name)
                .map(Some)
                .ok_or_else(|| Error::UnknownTable(format!("{schema}.{name}")))
        }
        _ => Ok(None),
    }
}

/// A function's name without `pg_catalog.`, where it is one a plain name can call.
pub(super) fn function_name(name: &ObjectName) -> Option<String> {
    match parts(name)?.as_slice() {
        [name] => Some(name.clone()),
        [schema, name] if schema == PG_CATALOG => Some(name.clone()),
        _ => None,
    }
}

/// What `version()` returns: PostgreSQL's form, so tools that read the major version
/// from it find 15, then hdb's own.
fn version() -> String {
    format!(
        "PostgreSQL 15.0 (hdb {}) on {}-{}, 64-bit",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS
    )
}

/// A cast target of the catalog's types.
enum CatalogType {
    Regclass,
    Regtype,
    /// `oid` and `name`: INTEGER and TEXT here.
    Plain(SqlType),
}

/// The catalog type `ty` names, if it names one.
fn catalog_type(ty: &DataType) -> Option<CatalogType> {
    let name = match ty {
        DataType::Regclass => return Some(CatalogType::Regclass),
        DataType::Custom(name, modifiers) if modifiers.is_empty() => function_name(name)?,
        _ => return None,
    };
    match name.as_str() {
        "regclass" => Some(CatalogType::Regclass),
        "regtype" => Some(CatalogType::Regtype),
        "oid" => Some(CatalogType::Plain(SqlType::Integer)),
        "name" => Some(CatalogType::Plain(SqlType::Text)),
        _ => None,
    }
}

/// A type written `pg_catalog.text` and the like, without its schema.
pub(super) fn unqualified_type(ty: &DataType) -> Result<Option<DataType>> {
    let DataType::Custom(name, modifiers) = ty else {
        return Ok(None);
    };
    match parts(name).as_deref() {
        Some([schema, name]) if schema == PG_CATALOG && modifiers.is_empty() => {
            let dialect = sqlparser::dialect::PostgreSqlDialect {};
            sqlparser::parser::Parser::new(&dialect)
                .try_with_sql(name)
                .and_then(|mut parser| parser.parse_data_type())
                .map(Some)
                .map_err(|e| Error::Parse(e.to_string()))
        }
        _ => Ok(None),
    }
}

/// Whether `collation` is one hdb's text comparison already is: hdb compares text by
/// its bytes, which is PostgreSQL's `C` (and `POSIX`) collation and the database's
/// default (pg_database says `C`).
pub(super) fn byte_order_collation(collation: &ObjectName) -> bool {
    let Some(name) = function_name(collation) else {
        return false;
    };
    matches!(name.as_str(), "default" | "C" | "POSIX" | "c" | "posix")
}

/// The regular expression operators: `~`, `~*`, `!~`, `!~*`, also as
/// `OPERATOR(pg_catalog.~)`; (case-insensitive, negated).
pub(super) fn regex_operator(op: &ast::BinaryOperator) -> Option<(bool, bool)> {
    let symbol = match op {
        ast::BinaryOperator::PGRegexMatch => "~",
        ast::BinaryOperator::PGRegexIMatch => "~*",
        ast::BinaryOperator::PGRegexNotMatch => "!~",
        ast::BinaryOperator::PGRegexNotIMatch => "!~*",
        ast::BinaryOperator::PGCustomBinaryOperator(parts) => match parts.as_slice() {
            [schema, symbol] if schema == PG_CATALOG => symbol.as_str(),
            [symbol] => symbol.as_str(),
            _ => return None,
        },
        _ => return None,
    };
    match symbol {
        "~" => Some((false, false)),
        "~*" => Some((true, false)),
        "!~" => Some((false, true)),
        "!~*" => Some((true, true)),
        _ => None,
    }
}

impl Binder<'_> {
    /// A system relation named in FROM: its scan and the scope of its columns.
    pub(super) fn system_scan(
        &mut self,
        relation: SystemRelation,
        alias: Option<&TableAlias>,
    ) -> Result<(Node, Scope)> {
        let label = match alias {
            Some(alias) if !alias.columns.is_empty() => {
                return Err(Error::unsupported("column aliases on tables"));
            }
            Some(alias) => ident(&alias.name),
            None => relation.name().to_string(),
        };
        let scope = Scope {
            columns: relation
                .columns()
                .iter()
                .map(|(name, ty)| ScopeColumn {
                    table: Some(label.clone()),
                    name: name.to_string(),
                    kind: ty.kind(),
                    padded: false,
                    narrow_int: super::expr::narrow_int(*ty),
                    qualified_only: false,
                })
                .collect(),
        };
        let scan = Node::SystemScan {
            relation,
            client: Arc::clone(&self.client),
        };
        Ok((scan, scope))
    }

    /// Refuses INSERT, UPDATE or DELETE (`verb`: "insert into", "update", "delete
    /// from") of a system relation as PostgreSQL does.
    pub(super) fn refuse_system_write(&self, name: &ObjectName, verb: &str) -> Result<()> {
        match system_relation(name)? {
            Some(relation) if relation.is_view() => Err(Error::NotUpdatableView(format!(
                "cannot {verb} view \"{}\"",
                relation.name()
            ))),
            Some(relation) => Err(Error::SystemCatalog(format!(
                "permission denied for table {}",
                relation.name()
            ))),
            None => Ok(()),
        }
    }

    /// A call of a catalog or session function (see the module comment), if `name`
    /// is one; `args` are the call's arguments (`None`: written without parentheses).
    pub(super) fn system_function(
        &mut self,
        name: &str,
        args: Option<&[&ast::Expr]>,
        scope: &Scope,
    ) -> Result<Option<Expr>> {
        let text = |s: &str| Expr::Literal(Value::Text(s.to_string()));
        let args = match (name, args) {
            ("current_user" | "session_user" | "user" | "current_role", None) => {
                return Ok(Some(text(&self.client.user)));
            }
            ("current_catalog", None) => return Ok(Some(text(&self.client.database))),
            ("current_schema", None) => return Ok(Some(text(PUBLIC))),
            (_, None) => return Ok(None),
            (_, Some(args)) => args,
        };
        let known = [
            ("version", 0, 0),
            ("current_database", 0, 0),
            ("current_schema", 0, 0),
            ("pg_get_userbyid", 1, 1),
            ("pg_table_is_visible", 1, 1),
            ("pg_get_indexdef", 1, 3),
            ("format_type", 2, 2),
            ("pg_encoding_to_char", 1, 1),
            ("pg_get_constraintdef", 1, 2),
            ("pg_partition_ancestors", 1, 1),
            ("pg_get_expr", 2, 3),
            ("obj_description", 1, 2),
            ("col_description", 2, 2),
        ];
        let Some((_, min, max)) = known.iter().find(|(n, _, _)| *n == name) else {
            return Ok(None);
        };
        if args.len() < *min || args.len() > *max {
            return Err(self.no_such_function(name, args, scope));
        }
        let mut bound = Vec::with_capacity(args.len());
        for arg in args {
            let arg = self.expr(arg, scope)?;
            bound.push(arg);
        }
        let int_args = |binder: &mut Self, bound: Vec<Expr>| -> Result<Vec<Expr>> {
            bound
                .into_iter()
                .map(|a| binder.integer_argument(name, a, scope))
                .collect()
        };
        let catalog = |function, args| Expr::Catalog { function, args };
        Ok(Some(match name {
            "version" => text(&version()),
            "current_database" => text(&self.client.database),
            "current_schema" => text(PUBLIC),
            "pg_get_userbyid" => {
                let oid = int_args(self, bound)?.remove(0);
                let unknown = Expr::Call {
                    function: Function::Concat,
                    args: vec![text("unknown (OID="), oid.clone(), text(")")],
                };
                let is = |oid: &Expr, role| {
                    Expr::binary(BinaryOp::Eq, oid.clone(), Expr::Literal(Value::Int(role)))
                };
                Expr::Case {
                    operand: None,
                    branches: vec![
                        (is(&oid, USER_OID), text(&self.client.user)),
                        (is(&oid, DATABASE_OWNER_OID), text(DATABASE_OWNER)),
                    ],
                    otherwise: Some(Box::new(unknown)),
                }
            }
            // A relation of hdb is never a partition: its only ancestor is itself.
            "pg_partition_ancestors" => int_args(self, bound)?.remove(0),
            "pg_encoding_to_char" => {
                let encoding = int_args(self, bound)?.remove(0);
                Expr::Case {
                    operand: None,
                    branches: vec![(
                        Expr::binary(
                            BinaryOp::Eq,
                            encoding,
                            Expr::Literal(Value::Int(UTF8_ENCODING)),
                        ),
                        text("UTF8"),
                    )],
                    otherwise: Some(Box::new(text(""))),
                }
            }
            "pg_table_is_visible" => {
                catalog(CatalogFunction::TableIsVisible, int_args(self, bound)?)
            }
            "format_type" => catalog(CatalogFunction::FormatType, int_args(self, bound)?),
            "pg_get_constraintdef" => {
                let mut args = bound.into_iter();
                let mut out = int_args(self, args.by_ref().take(1).collect())?;
                if let Some(pretty) = args.next() {
                    out.push(self.coerce(pretty, Kind::Bool, scope)?);
                }
                catalog(CatalogFunction::ConstraintDef, out)
            }
            // pg_attrdef's `adbin` is the expression's text already.
            "pg_get_expr" => {
                let mut args = bound.into_iter();
                let text_arg = args.next().unwrap_or(Expr::Literal(Value::Null));
                self.coerce(text_arg, Kind::Text, scope)?
            }
            "pg_get_indexdef" => {
                let mut args = bound.into_iter();
                let mut out = int_args(self, args.by_ref().take(2).collect())?;
                // The third argument, `pretty`, changes nothing hdb prints.
                if let Some(pretty) = args.next() {
                    self.coerce(pretty, Kind::Bool, scope)?;
                }
                out.truncate(2);
                catalog(CatalogFunction::IndexDef, out)
            }
            // obj_description, col_description: hdb keeps no comments.
            _ => Expr::Cast {
                expr: Box::new(Expr::Literal(Value::Null)),
                to: SqlType::Text,
            },
        }))
    }

    /// An argument that must be an integer (an OID, a typmod).
    fn integer_argument(&mut self, function: &str, arg: Expr, scope: &Scope) -> Result<Expr> {
        let arg = self.coerce(arg, Kind::Int, scope)?;
        match self.kind_of(&arg, scope) {
            Kind::Int | Kind::Unknown => Ok(arg),
            other => Err(Error::UnknownFunction(format!("{function}({other})"))),
        }
    }

    /// `inner::regclass`, `::regtype`, `::oid`, `::name`, if `ty` is one of them.
    pub(super) fn system_cast(
        &mut self,
        inner: &ast::Expr,
        ty: &DataType,
        scope: &Scope,
    ) -> Result<Option<Expr>> {
        let Some(target) = catalog_type(ty) else {
            // `x::regclass::text`: the relation's name, as a regclass prints.
            let regclass_inner = matches!(inner, ast::Expr::Cast { data_type, .. }
                if matches!(catalog_type(data_type), Some(CatalogType::Regclass)));
            let to_text = super::ddl::sql_type(ty).is_ok_and(|t| t.kind() == Kind::Text);
            if !(regclass_inner && to_text) {
                return Ok(None);
            }
            let regclass = self.expr(inner, scope)?;
            return Ok(Some(match self.kind_of(&regclass, scope) {
                Kind::Int => Expr::Catalog {
                    function: CatalogFunction::RelationName,
                    args: vec![regclass],
                },
                _ => regclass,
            }));
        };
        let bound = self.expr(inner, scope)?;
        let kind = self.kind_of(&bound, scope);
        let catalog = |function, arg| Expr::Catalog {
            function,
            args: vec![arg],
        };
        Ok(Some(match (target, kind) {
            (CatalogType::Plain(to), _) => {
                let bound = self.coerce(bound, to.kind(), scope)?;
                Expr::Cast {
                    expr: Box::new(bound),
                    to,
                }
            }
            (CatalogType::Regclass, Kind::Int) => catalog(CatalogFunction::RelationName, bound),
            (CatalogType::Regclass, Kind::Text | Kind::Unknown) => {
                let bound = self.coerce(bound, Kind::Text, scope)?;
                catalog(CatalogFunction::RelationOid, bound)
            }
            (CatalogType::Regtype, Kind::Int) => Expr::Catalog {
                function: CatalogFunction::FormatType,
                args: vec![bound, Expr::Literal(Value::Null)],
            },
            (_, kind) => {
                return Err(Error::Type(format!("cannot cast type {kind} to {ty}")));
            }
        }))
    }
}
