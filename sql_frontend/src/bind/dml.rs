//! Binding INSERT, UPDATE and DELETE.
//!
//! UPDATE and DELETE read their rows through the same plan as a SELECT of the whole row
//! (`Filter(SeqScan)`, which the optimiser may turn into a key or index lookup) and then
//! write by primary key. Values on their way into a column are cast by the column's SQL
//! type at execution (`SqlType::assign`), which also checks ranges and lengths; the rows
//! of `INSERT ... VALUES` are not unified to one type per column first (see
//! [`Binder::insert_values`]).
//! RETURNING binds like a select list over the table's columns (under the table's alias,
//! if it has one) and is evaluated by the executor on each row written.

use sqlparser::ast::{
    self, AssignmentTarget, Delete, FromTable, Insert, InsertOverriding, TableObject, Update,
};

use super::expr::Scope;
use super::query::table_scope;
use super::sequence::is_default_keyword;
use super::{Binder, ident, object_name};
use crate::catalog::{ColumnDefault, TableInfo};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{Node, Returning, Statement};
use crate::stack;

impl Binder<'_> {
    pub(super) fn insert(&mut self, insert: &Insert) -> Result<Statement> {
        let unsupported = [
            (insert.or.is_some(), "INSERT OR ..."),
            (insert.ignore, "INSERT IGNORE"),
            (insert.overwrite, "INSERT OVERWRITE"),
            (insert.partitioned.is_some(), "PARTITION"),
            (!insert.after_columns.is_empty(), "PARTITION columns"),
            (insert.output.is_some(), "OUTPUT"),
            (insert.replace_into, "REPLACE INTO"),
            (!insert.assignments.is_empty(), "INSERT ... SET"),
            (insert.table_alias.is_some(), "table alias in INSERT"),
            (insert.insert_alias.is_some(), "INSERT aliases"),
            (insert.settings.is_some(), "SETTINGS"),
            (insert.format_clause.is_some(), "FORMAT"),
            (insert.by_name, "INSERT BY NAME"),
            (insert.priority.is_some(), "INSERT priority"),
            (!insert.optimizer_hints.is_empty(), "optimizer hints"),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        let TableObject::TableName(name) = &insert.table else {
            return Err(Error::unsupported("INSERT INTO a table function"));
        };
        self.refuse_system_write(name, "insert into")?;
        let table = self.table(name)?;
        let mut targets: Vec<usize> = match insert.columns.is_empty() {
            true => (0..table.columns.len()).collect(),
            false => insert
                .columns
                .iter()
                .map(|c| {
                    let name = object_name(c)?;
                    table
                        .column_index(&name)
                        .ok_or_else(|| Error::UnknownColumn(format!("{}.{name}", table.name())))
                })
                .collect::<Result<_>>()?,
        };
        for (i, t) in targets.iter().enumerate() {
            if targets[..i].contains(t) {
                return Err(Error::Type(format!(
                    "column {:?} specified more than once",
                    table.columns[*t].name
                )));
            }
        }
        let overriding = insert.overriding;
        let source = match &insert.source {
            // `DEFAULT VALUES`: one row, every column its default.
            None => {
                targets.clear();
                Node::Values {
                    rows: vec![Vec::new()],
                    columns: Vec::new(),
                }
            }
            Some(source) => match plain_values(source) {
                // Each row's values go to their columns on their own: nothing to unify.
                Some(values) => self.nested(1, stack::QUERY_UNITS, |binder| {
                    binder.insert_values(values, &table, &targets, overriding)
                })?,
                None => {
                    if let Some(&t) = targets.iter().find(|&&t| identity(&table, t).is_some()) {
                        identity_target(&table, t, overriding, false)?;
                    }
                    self.query(source)?
                }
            },
        };
        // Without a column list, a source of N columns fills the table's first N.
        if insert.columns.is_empty() && source.columns().len() < targets.len() {
            targets.truncate(source.columns().len());
        }
        if let Node::Values { rows, .. } = &source {
            for row in rows {
                if row.len() > targets.len() {
                    return Err(Error::Type(
                        "INSERT has more expressions than target columns".into(),
                    ));
                }
                if row.len() < targets.len() {
                    return Err(Error::Type(
                        "INSERT has more target columns than expressions".into(),
                    ));
                }
                for (e, t) in row.iter().zip(&targets) {
                    if let Expr::Param(i) = e {
                        self.infer_param(*i, table.columns[*t].sql_type.kind());
                    }
                }
            }
        } else if source.columns().len() != targets.len() {
            return Err(Error::Type(
                "INSERT ... SELECT must produce one value per target column".into(),
            ));
        }
        let defaults = self.computed_defaults(&table, &targets)?;
        let scope = table_scope(&table, table.name());
        let returning = self.returning(insert.returning.as_deref(), &scope)?;
        let checks = self.table_checks(&table)?;
        let on_conflict = self.on_conflict(insert.on.as_ref(), &table)?;
        Ok(Statement::Insert {
            table,
            targets,
            source,
            defaults,
            checks,
            on_conflict,
            returning,
        })
    }

    /// The rows of `INSERT ... VALUES`: each value bound on its own, as PostgreSQL
    /// coerces each to its target column rather than unifying the rows' types first (so
    /// `VALUES (1234567890123456789), (0.0)` into a BIGINT stores both exactly). A
    /// decimal literal for an integer column is rounded as PostgreSQL rounds NUMERIC
    /// (`scalar.rs`); the column's type is assigned when the row is written.
    ///
    /// `DEFAULT` in a row is the target column's default. A value for an identity
    /// column GENERATED ALWAYS needs `OVERRIDING SYSTEM VALUE`; with `OVERRIDING USER
    /// VALUE`, values given for identity columns are replaced by their defaults.
    fn insert_values(
        &mut self,
        values: &ast::Values,
        table: &TableInfo,
        targets: &[usize],
        overriding: Option<InsertOverriding>,
    ) -> Result<Node> {
        if values.explicit_row || values.value_keyword {
            return Err(Error::unsupported("VALUES ROW(...)"));
        }
        let width = values.rows.first().map_or(0, |r| r.content.len());
        let mut rows = Vec::with_capacity(values.rows.len());
        for row in &values.rows {
            if row.content.len() != width {
                return Err(Error::Type(
                    "VALUES lists must all be the same length".into(),
                ));
            }
            let mut bound = Vec::with_capacity(width);
            for (i, written) in row.content.iter().enumerate() {
                let target = targets.get(i).copied();
                let default = is_default_keyword(written)
                    || target.is_some_and(|t| {
                        identity(table, t).is_some() && overriding == Some(InsertOverriding::User)
                    });
                if let Some(t) = target.filter(|_| !default) {
                    identity_target(table, t, overriding, true)?;
                }
                bound.push(match target {
                    Some(t) if default => self.column_default(table, t)?,
                    None if is_default_keyword(written) => {
                        return Err(Error::Type(
                            "INSERT has more expressions than target columns".into(),
                        ));
                    }
                    Some(_) | None => self.constant(written)?,
                });
            }
            rows.push(bound);
        }
        Ok(Node::Values {
            rows,
            columns: (1..=width).map(|i| format!("column{i}")).collect(),
        })
    }

    /// A RETURNING list, bound over the table's row (`scope`); aggregates are not
    /// allowed in it (the binder has no aggregate context here).
    fn returning(
        &mut self,
        items: Option<&[ast::SelectItem]>,
        scope: &Scope,
    ) -> Result<Option<Returning>> {
        let Some(items) = items else {
            return Ok(None);
        };
        let (exprs, names) = self.select_list(items, scope)?;
        Ok(Some(Returning { exprs, names }))
    }

    /// SET's assignments: each column's position and its value bound over `scope`.
    pub(super) fn assignments(
        &mut self,
        table: &TableInfo,
        assignments: &[ast::Assignment],
        scope: &Scope,
    ) -> Result<Vec<(usize, Expr)>> {
        let mut bound = Vec::with_capacity(assignments.len());
        for assignment in assignments {
            let AssignmentTarget::ColumnName(column) = &assignment.target else {
                return Err(Error::unsupported("UPDATE SET (a, b) = ..."));
            };
            let name = match column.0.as_slice() {
                [ast::ObjectNamePart::Identifier(id)] => ident(id),
                _ => return Err(Error::unsupported(format!("SET {column}"))),
            };
            let index = table
                .column_index(&name)
                .ok_or_else(|| Error::UnknownColumn(format!("{}.{name}", table.name())))?;
            if bound.iter().any(|(i, _)| *i == index) {
                return Err(Error::Type(format!(
                    "multiple assignments to column {name:?}"
                )));
            }
            if is_default_keyword(&assignment.value) {
                bound.push((index, self.column_default(table, index)?));
                continue;
            }
            if identity(table, index) == Some(true) {
                return Err(Error::Type(format!(
                    "column \"{name}\" can only be updated to DEFAULT (column \"{name}\" is an identity column defined as GENERATED ALWAYS)"
                )));
            }
            let value = self.expr(&assignment.value, scope)?;
            if let Expr::Param(i) = value {
                self.infer_param(i, table.columns[index].sql_type.kind());
            }
            bound.push((index, value));
        }
        Ok(bound)
    }

    /// The scan of a DML statement's table with its WHERE clause, the table's scope, and
    /// the WHERE condition alone (for the re-check of a row changed concurrently).
    pub(super) fn dml_source(
        &mut self,
        relation: &ast::TableFactor,
        selection: Option<&ast::Expr>,
    ) -> Result<(TableInfo, Node, Scope, Option<Expr>)> {
        let ast::TableFactor::Table {
            name, alias, args, ..
        } = relation
        else {
            return Err(Error::unsupported(format!("{relation} as a DML target")));
        };
        if args.is_some() {
            return Err(Error::unsupported("table functions"));
        }
        let table = self.table(name)?;
        let table = crate::catalog::with_statistics(self.txn, table)?;
        let label = match alias {
            Some(alias) => ident(&alias.name),
            None => table.name().to_string(),
        };
        let scope = table_scope(&table, &label);
        let mut plan = Node::SeqScan {
            table: table.clone(),
        };
        let mut recheck = None;
        if let Some(selection) = selection {
            let predicate = self.expr(selection, &scope)?;
            recheck = Some(predicate.clone());
            plan = Node::Filter {
                source: Box::new(plan),
                predicate,
            };
        }
        Ok((table, plan, scope, recheck))
    }

    pub(super) fn update(&mut self, update: &Update) -> Result<Statement> {
        let unsupported = [
            (!update.table.joins.is_empty(), "UPDATE with JOIN"),
            (update.from.is_some(), "UPDATE ... FROM"),
            (update.output.is_some(), "OUTPUT"),
            (update.or.is_some(), "UPDATE OR ..."),
            (!update.order_by.is_empty(), "UPDATE ... ORDER BY"),
            (update.limit.is_some(), "UPDATE ... LIMIT"),
            (update.on_cluster.is_some(), "ON CLUSTER"),
            (update.settings.is_some(), "SETTINGS"),
            (!update.optimizer_hints.is_empty(), "optimizer hints"),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        if let ast::TableFactor::Table { name, .. } = &update.table.relation {
            self.refuse_system_write(name, "update")?;
        }
        let (table, source, scope, recheck) =
            self.dml_source(&update.table.relation, update.selection.as_ref())?;
        let assignments = self.assignments(&table, &update.assignments, &scope)?;
        let returning = self.returning(update.returning.as_deref(), &scope)?;
        let checks = self.table_checks(&table)?;
        Ok(Statement::Update {
            table,
            source,
            assignments,
            checks,
            returning,
            recheck,
        })
    }

    pub(super) fn delete(&mut self, delete: &Delete) -> Result<Statement> {
        let unsupported = [
            (!delete.tables.is_empty(), "multi-table DELETE"),
            (delete.using.is_some(), "DELETE ... USING"),
            (delete.output.is_some(), "OUTPUT"),
            (!delete.order_by.is_empty(), "DELETE ... ORDER BY"),
            (delete.limit.is_some(), "DELETE ... LIMIT"),
            (delete.on_cluster.is_some(), "ON CLUSTER"),
            (delete.settings.is_some(), "SETTINGS"),
            (!delete.optimizer_hints.is_empty(), "optimizer hints"),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
        let [from] = from.as_slice() else {
            return Err(Error::unsupported("DELETE from several tables"));
        };
        if !from.joins.is_empty() {
            return Err(Error::unsupported("DELETE with JOIN"));
        }
        if let ast::TableFactor::Table { name, .. } = &from.relation {
            self.refuse_system_write(name, "delete from")?;
        }
        let (table, source, scope, recheck) =
            self.dml_source(&from.relation, delete.selection.as_ref())?;
        let returning = self.returning(delete.returning.as_deref(), &scope)?;
        Ok(Statement::Delete {
            table,
            source,
            returning,
            recheck,
        })
    }
}

/// The VALUES list of `query` when that is all it is (no WITH, ORDER BY, LIMIT ...).
fn plain_values(query: &ast::Query) -> Option<&ast::Values> {
    let ast::SetExpr::Values(values) = query.body.as_ref() else {
        return None;
    };
    let plain = query.with.is_none()
        && query.order_by.is_none()
        && query.limit_clause.is_none()
        && query.fetch.is_none()
        && query.locks.is_empty()
        && query.for_clause.is_none()
        && query.settings.is_none()
        && query.format_clause.is_none()
        && query.pipe_operators.is_empty();
    plain.then_some(values)
}

/// Whether column `position` of `table` is an identity column, and if so whether it is
/// GENERATED ALWAYS.
fn identity(table: &TableInfo, position: usize) -> Option<bool> {
    match table.columns[position].default {
        Some(ColumnDefault::Identity { always, .. }) => Some(always),
        _ => None,
    }
}

/// Checks that an INSERT may give identity column `position` a value of its own: a
/// column GENERATED ALWAYS takes one only with `OVERRIDING SYSTEM VALUE` (PostgreSQL's
/// error otherwise, SQLSTATE 428C9). `values`: the value comes from VALUES, where
/// `OVERRIDING USER VALUE` replaces it; from a query, that is not supported.
fn identity_target(
    table: &TableInfo,
    position: usize,
    overriding: Option<InsertOverriding>,
    values: bool,
) -> Result<()> {
    let Some(always) = identity(table, position) else {
        return Ok(());
    };
    match overriding {
        Some(InsertOverriding::System) => Ok(()),
        Some(InsertOverriding::User) if !values => Err(Error::unsupported(
            "OVERRIDING USER VALUE with INSERT ... SELECT",
        )),
        Some(InsertOverriding::User) => Ok(()),
        None if always => Err(Error::Type(format!(
            "cannot insert a non-DEFAULT value into column \"{}\" (column \"{}\" is an identity column defined as GENERATED ALWAYS; use OVERRIDING SYSTEM VALUE to override)",
            table.columns[position].name, table.columns[position].name
        ))),
        None => Ok(()),
    }
}
