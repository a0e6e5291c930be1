//! Binding `INSERT ... ON CONFLICT`: which unique keys arbitrate a conflict, and what
//! to do about one.
//!
//! The arbiters are the primary key and unique indexes whose column set equals the
//! target's columns (`ON CONFLICT (a, b)`), the one named (`ON CONSTRAINT name`, with
//! the primary key called `{table}_pkey` as in PostgreSQL), or, for DO NOTHING without a
//! target, all of them. DO UPDATE's SET and WHERE are bound over the existing row (the
//! table's columns) followed by the proposed one (`excluded.*`), so an unqualified
//! name that both have is ambiguous, as in PostgreSQL.

use sqlparser::ast::{ConflictTarget, OnConflictAction, OnInsert};

use super::expr::Scope;
use super::query::table_scope;
use super::{Binder, ident, object_name};
use crate::catalog::TableInfo;
use crate::error::{Error, Result};
use crate::plan::{Arbiter, ConflictAction, OnConflict};

/// The arbiters a table offers: its primary key (if declared) and unique indexes.
fn arbiters_of(table: &TableInfo) -> Vec<(Arbiter, Vec<usize>)> {
    let schema = &table.schema;
    let primary =
        (!schema.has_hidden_row_id()).then(|| (Arbiter::PrimaryKey, schema.primary_key.clone()));
    primary
        .into_iter()
        .chain(
            schema
                .indexes
                .iter()
                .enumerate()
                .filter(|(_, index)| index.unique)
                .map(|(i, index)| (Arbiter::Index(i), index.columns.clone())),
        )
        .collect()
}

fn sorted(mut columns: Vec<usize>) -> Vec<usize> {
    columns.sort_unstable();
    columns.dedup();
    columns
}

impl Binder<'_> {
    /// The ON CONFLICT clause of an INSERT into `table`, if it has one.
    pub(super) fn on_conflict(
        &mut self,
        on: Option<&OnInsert>,
        table: &TableInfo,
    ) -> Result<Option<OnConflict>> {
        let Some(on) = on else {
            return Ok(None);
        };
        let OnInsert::OnConflict(on) = on else {
            return Err(Error::unsupported("ON DUPLICATE KEY UPDATE"));
        };
        let offered = arbiters_of(table);
        let no_match = || {
            Error::Type(
                "there is no unique or exclusion constraint matching the ON CONFLICT specification"
                    .into(),
            )
        };
        let arbiters =
            match &on.conflict_target {
                None => offered.into_iter().map(|(arbiter, _)| arbiter).collect(),
                Some(ConflictTarget::Columns { columns, predicate }) => {
                    if predicate.is_some() {
                        return Err(Error::unsupported("ON CONFLICT (...) WHERE"));
                    }
                    let mut positions = Vec::with_capacity(columns.len());
                    for column in columns {
                        let name = ident(column);
                        positions.push(table.column_index(&name).ok_or_else(|| {
                            Error::UnknownColumn(format!("{}.{name}", table.name()))
                        })?);
                    }
                    let positions = sorted(positions);
                    let matching: Vec<Arbiter> = offered
                        .into_iter()
                        .filter(|(_, columns)| sorted(columns.clone()) == positions)
                        .map(|(arbiter, _)| arbiter)
                        .collect();
                    if matching.is_empty() {
                        return Err(no_match());
                    }
                    matching
                }
                Some(ConflictTarget::OnConstraint(name)) => {
                    let name = object_name(name)?;
                    let found = offered.into_iter().find(|(arbiter, _)| match arbiter {
                        Arbiter::PrimaryKey => name == format!("{}_pkey", table.name()),
                        Arbiter::Index(i) => table.schema.indexes[*i].name == name,
                    });
                    match found {
                        Some((arbiter, _)) => vec![arbiter],
                        None => return Err(Error::UnknownIndex(name)),
                    }
                }
            };
        let action = match &on.action {
            OnConflictAction::DoNothing => ConflictAction::Nothing,
            OnConflictAction::DoUpdate(update) => {
                if on.conflict_target.is_none() {
                    return Err(Error::Parse(
                        "ON CONFLICT DO UPDATE requires inference specification or constraint name"
                            .into(),
                    ));
                }
                let scope = excluded_scope(table);
                let assignments = self.assignments(table, &update.assignments, &scope)?;
                let predicate = match &update.selection {
                    Some(e) => Some(self.expr(e, &scope)?),
                    None => None,
                };
                ConflictAction::Update {
                    assignments,
                    predicate,
                }
            }
        };
        Ok(Some(OnConflict { arbiters, action }))
    }
}

/// The scope of DO UPDATE: the existing row under the table's name, then the proposed
/// row under `excluded`.
fn excluded_scope(table: &TableInfo) -> Scope {
    let mut scope = table_scope(table, table.name());
    scope.columns.extend(table_scope(table, "excluded").columns);
    scope
}
