//! Binding FOREIGN KEY constraints: `REFERENCES` on a column and `FOREIGN KEY (...)
//! REFERENCES` on a table, in CREATE TABLE and ALTER TABLE ... ADD CONSTRAINT.
//!
//! As in PostgreSQL: the referenced columns default to the referenced table's primary
//! key and must be exactly its primary key or a UNIQUE constraint's columns (`there is
//! no unique constraint matching given keys for referenced table "y"`); each pair of
//! columns must be of comparable types; an unnamed constraint is
//! `{table}_{columns}_fkey`, with `1`, `2`, ... appended while the name is taken;
//! MATCH SIMPLE only, and not DEFERRABLE. A table may reference itself, in CREATE TABLE
//! too. What the constraint does at run time is in `exec/references.rs`.

use sqlparser::ast;

use super::check::free_name;
use super::{Binder, ident, user_object_name};
use crate::catalog::constraint_name;
use crate::catalog::{ColumnInfo, TableInfo};
use crate::error::{Error, Result};
use crate::foreign_key::{Action, ForeignKey};

/// The table being created, when a constraint of CREATE TABLE references it.
pub(super) struct NewTable<'a> {
    pub name: &'a str,
    pub columns: &'a [ColumnInfo],
    pub primary_key: &'a [String],
    pub unique: &'a [Vec<String>],
}

fn action(action: Option<ast::ReferentialAction>) -> Action {
    match action {
        None | Some(ast::ReferentialAction::NoAction) => Action::NoAction,
        Some(ast::ReferentialAction::Restrict) => Action::Restrict,
        Some(ast::ReferentialAction::Cascade) => Action::Cascade,
        Some(ast::ReferentialAction::SetNull) => Action::SetNull,
        Some(ast::ReferentialAction::SetDefault) => Action::SetDefault,
    }
}

impl Binder<'_> {
    /// A FOREIGN KEY of table `table` (whose columns are `columns`) on `local` (the
    /// column of a column constraint, else the constraint's own list); `new` is the
    /// table being created, if any; `taken` the constraint names already used.
    pub(super) fn foreign_key(
        &mut self,
        table: &str,
        columns: &[ColumnInfo],
        local: Option<&str>,
        fk: &ast::ForeignKeyConstraint,
        new: Option<&NewTable<'_>>,
        taken: &[String],
    ) -> Result<ForeignKey> {
        if fk.characteristics.is_some() || fk.index_name.is_some() {
            return Err(Error::unsupported(
                "DEFERRABLE foreign keys and MySQL's index names",
            ));
        }
        if !matches!(
            fk.match_kind,
            None | Some(ast::ConstraintReferenceMatchKind::Simple)
        ) {
            return Err(Error::unsupported("MATCH FULL and MATCH PARTIAL"));
        }
        let local: Vec<String> = match local {
            Some(column) => vec![column.to_string()],
            None => fk.columns.iter().map(ident).collect(),
        };
        for column in &local {
            if !columns.iter().any(|c| &c.name == column) {
                return Err(Error::Type(format!(
                    "column \"{column}\" referenced in foreign key constraint does not exist"
                )));
            }
        }
        let referenced = user_object_name(&fk.foreign_table)?;
        // The referenced table's columns, primary key and unique column sets.
        let (ref_columns, ref_pk, ref_unique): (Vec<ColumnInfo>, Vec<String>, Vec<Vec<String>>) =
            match new.filter(|n| n.name == referenced) {
                Some(n) => (
                    n.columns.to_vec(),
                    n.primary_key.to_vec(),
                    n.unique.to_vec(),
                ),
                None => {
                    let info: TableInfo = crate::catalog::find_table(self.txn, &referenced)?
                        .ok_or_else(|| Error::UnknownTable(referenced.clone()))?;
                    let name = |p: &usize| info.columns[*p].name.clone();
                    let pk = info.schema.primary_key.iter().map(name).collect();
                    let unique = info
                        .schema
                        .indexes
                        .iter()
                        .filter(|i| i.unique)
                        .map(|i| i.columns.iter().map(name).collect())
                        .collect();
                    (info.columns, pk, unique)
                }
            };
        let referenced_columns: Vec<String> = match fk.referred_columns.is_empty() {
            true if ref_pk.is_empty() => {
                return Err(Error::Type(format!(
                    "there is no primary key for referenced table \"{referenced}\""
                )));
            }
            true => ref_pk.clone(),
            false => fk.referred_columns.iter().map(ident).collect(),
        };
        for column in &referenced_columns {
            if !ref_columns.iter().any(|c| &c.name == column) {
                return Err(Error::Type(format!(
                    "column \"{column}\" referenced in foreign key constraint does not exist"
                )));
            }
        }
        if referenced_columns.len() != local.len() {
            return Err(Error::Type(
                "number of referencing and referenced columns for foreign key disagree".into(),
            ));
        }
        let same_set = |set: &[String]| {
            set.len() == referenced_columns.len()
                && set.iter().all(|c| referenced_columns.contains(c))
        };
        if !same_set(&ref_pk) && !ref_unique.iter().any(|u| same_set(u)) {
            return Err(Error::Type(format!(
                "there is no unique constraint matching given keys for referenced table \
                 \"{referenced}\""
            )));
        }
        let name = match &fk.name {
            Some(name) => ident(name),
            None => free_name(&constraint_name(table, &local, "fkey"), taken),
        };
        for (column, referenced_column) in local.iter().zip(&referenced_columns) {
            let kind = |columns: &[ColumnInfo], name: &str| {
                columns.iter().find(|c| c.name == name).map(|c| c.sql_type)
            };
            let (Some(a), Some(b)) = (kind(columns, column), kind(&ref_columns, referenced_column))
            else {
                continue;
            };
            if a.kind() != b.kind() {
                return Err(Error::Type(format!(
                    "foreign key constraint \"{name}\" cannot be implemented\n\
                     DETAIL:  Key columns \"{column}\" and \"{referenced_column}\" are of \
                     incompatible types: {} and {}.",
                    a.to_string().to_lowercase(),
                    b.to_string().to_lowercase()
                )));
            }
        }
        Ok(ForeignKey {
            name,
            table: table.to_string(),
            columns: local,
            referenced,
            referenced_columns,
            on_delete: action(fk.on_delete),
            on_update: action(fk.on_update),
        })
    }
}
