//! Views: `CREATE [OR REPLACE] VIEW name [(columns)] AS query`, `DROP VIEW` (in
//! `ddl.rs`), and a view named in FROM.
//!
//! ## Creating
//!
//! The query is bound when the view is created, as PostgreSQL analyses it then: it must
//! name tables and views that exist, have no `$n` parameters, and its column names (the
//! column list, then the query's own names for the columns the list leaves out) must be
//! distinct. What is stored (`view_catalog.rs`) is the column names and the query's text
//! as the parser prints it, with the tables and views the query names directly — the
//! dependencies that make DROP TABLE refuse, or CASCADE to the view. `OR REPLACE` keeps
//! PostgreSQL's rule that the new query may only add columns at the end: the existing
//! columns keep their names and types.
//!
//! ## Using
//!
//! A view in FROM is expanded at bind time, as PostgreSQL's rewriter does: its stored
//! query is parsed (once per statement, [`StoredView`]) and bound like a derived table
//! with the view's column names, labelled with the alias or the view's name, so the
//! optimiser sees through it (a filter on a view over a table's key becomes a key
//! lookup). The query is bound on its own: no columns of the enclosing query, no CTEs
//! of the statement that names the view (a CTE named like a table must not capture the
//! view's table). A view that names itself, through other views that `OR REPLACE`
//! redefined, is PostgreSQL's "infinite recursion detected" error; expansions nest at
//! most [`MAX_VIEW_DEPTH`] deep and count toward the statement's bound on inlined SQL
//! text (`routine.rs`). An error met while binding a view's query is
//! [`Error::InView`], naming the view.
//!
//! Views are read-only: INSERT, UPDATE, DELETE and COPY on a view are
//! [`Error::Unsupported`] naming the view (`query.rs`'s `table`).

use std::sync::Arc;

use sqlparser::ast::{self, CreateView, TableAlias};

use super::expr::{Scope, ScopeColumn};
use super::routine::MAX_INLINED_SQL_BYTES;
use super::{Binder, Parsed, ident, user_object_name};
use crate::error::{Error, Result};
use crate::plan::{Ddl, Node, Statement};
use crate::value::Kind;
use crate::view_catalog::{self, ViewInfo};

/// How deeply views may be expanded inside each other.
pub const MAX_VIEW_DEPTH: usize = 32;

/// A view as one statement uses it: its definition and its query, parsed, both read
/// once per statement.
#[derive(Debug)]
pub(super) struct StoredView {
    info: ViewInfo,
    body: Parsed,
}

/// The one query of a view's stored text.
fn parse_query(view: &ViewInfo) -> Result<Parsed> {
    let corrupt = || {
        Error::Engine(engine::Error::CorruptData(format!(
            "{}: the query of view {:?} is not one query",
            view_catalog::SQL_VIEWS_TABLE,
            view.name
        )))
    };
    let mut statements = super::parse(&view.query).map_err(|_| corrupt())?;
    match (statements.pop(), statements.is_empty()) {
        (Some(parsed), true) if matches!(&**parsed.statement, ast::Statement::Query(_)) => {
            Ok(parsed)
        }
        _ => Err(corrupt()),
    }
}

/// The names a view's columns get: the column list, then the query's own names.
fn view_columns(view: &str, listed: &[String], query_names: &[String]) -> Result<Vec<String>> {
    if listed.len() > query_names.len() {
        return Err(Error::Type(format!(
            "CREATE VIEW {view} specifies more column names than columns"
        )));
    }
    let mut names: Vec<String> = listed.to_vec();
    names.extend(query_names[listed.len()..].iter().cloned());
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(Error::Type(format!(
                "column \"{name}\" specified more than once"
            )));
        }
    }
    Ok(names)
}

impl Binder<'_> {
    /// `CREATE [OR REPLACE] VIEW name [(columns)] AS query`.
    pub(super) fn create_view(&mut self, create: &CreateView) -> Result<Statement> {
        let unsupported = [
            (create.materialized, "materialized views"),
            (create.or_alter, "CREATE OR ALTER VIEW"),
            (create.secure, "SECURE views"),
            (create.if_not_exists, "CREATE VIEW IF NOT EXISTS"),
            (create.temporary, "temporary views"),
            (create.to.is_some(), "CREATE VIEW ... TO"),
            (create.params.is_some(), "view parameters"),
            (create.comment.is_some(), "view comments"),
            (!create.cluster_by.is_empty(), "CLUSTER BY"),
            (create.with_no_schema_binding, "WITH NO SCHEMA BINDING"),
            (create.copy_grants, "COPY GRANTS"),
            (
                !matches!(create.options, ast::CreateTableOptions::None),
                "view options",
            ),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        let name = user_object_name(&create.name)?;
        let mut listed = Vec::with_capacity(create.columns.len());
        for column in &create.columns {
            if column.data_type.is_some() || column.options.is_some() {
                return Err(Error::unsupported(
                    "types or options in a view's column list",
                ));
            }
            listed.push(ident(&column.name));
        }
        if !self.frame_exclusions.is_empty() {
            // The stored text is the query printed back, which cannot say EXCLUDE.
            return Err(Error::unsupported("EXCLUDE in a window frame of a view"));
        }
        let referenced_before = std::mem::take(&mut self.referenced);
        // The query will be expanded one level down wherever the view is named.
        self.creating_view = true;
        let bound = self.query_bound(&create.query);
        self.creating_view = false;
        let referenced = std::mem::replace(&mut self.referenced, referenced_before);
        let bound = bound?;
        if let Some(n) = self.params.iter().position(|_| true) {
            return Err(Error::Parameter(format!(
                "there is no parameter ${}",
                n + 1
            )));
        }
        let columns = view_columns(&name, &listed, &bound.names)?;
        if create.or_replace {
            self.check_replacement(&name, &columns, &bound.kinds)?;
        }
        Ok(Statement::Ddl(Ddl::CreateView {
            view: ViewInfo {
                name,
                columns,
                query: create.query.to_string(),
            },
            depends_on: referenced,
            or_replace: create.or_replace,
        }))
    }

    /// `CREATE OR REPLACE VIEW` over an existing view: the new query keeps the old
    /// columns' names and types, and may add columns only after them.
    fn check_replacement(&mut self, name: &str, columns: &[String], kinds: &[Kind]) -> Result<()> {
        if view_catalog::find_view(self.txn, name)?.is_none() {
            return Ok(());
        }
        // The old definition, bound as it is used (a broken one may be replaced freely).
        let Ok(Some((_, old))) = self.view_in_from(name, None) else {
            return Ok(());
        };
        if old.columns.len() > columns.len() {
            return Err(Error::Type("cannot drop columns from view".into()));
        }
        for ((old, new), kind) in old.columns.iter().zip(columns).zip(kinds) {
            if old.name != *new {
                return Err(Error::Type(format!(
                    "cannot change name of view column \"{}\" to \"{new}\"",
                    old.name
                )));
            }
            if old.kind != *kind && old.kind != Kind::Unknown && *kind != Kind::Unknown {
                return Err(Error::Type(format!(
                    "cannot change data type of view column \"{new}\" from {} to {kind}",
                    old.kind
                )));
            }
        }
        Ok(())
    }

    /// Notes that the statement names the table or view `name` directly (not inside a
    /// view's or function's stored query): what a view being created depends on.
    pub(super) fn note_relation(&mut self, name: &str) {
        if self.view_stack.is_empty() && self.routine.is_none() {
            self.referenced.push(name.to_string());
        }
    }

    /// The view `name` expanded in FROM, if there is a view of that name: its plan and
    /// the scope of its columns, labelled with `alias` or the view's name.
    pub(super) fn view_in_from(
        &mut self,
        name: &str,
        alias: Option<&TableAlias>,
    ) -> Result<Option<(Node, Scope)>> {
        let Some(stored) = self.stored_view(name)? else {
            return Ok(None);
        };
        if self.view_stack.iter().any(|v| v == name) {
            return Err(Error::Type(format!(
                "infinite recursion detected in rules for relation \"{name}\""
            )));
        }
        if self.view_stack.len() + usize::from(self.creating_view) >= MAX_VIEW_DEPTH {
            return Err(Error::TooComplex(format!(
                "views nested more than {MAX_VIEW_DEPTH} deep (while expanding {name})"
            )));
        }
        self.inlined_bytes = self.inlined_bytes.saturating_add(stored.info.query.len());
        if self.inlined_bytes > MAX_INLINED_SQL_BYTES {
            return Err(Error::TooComplex(format!(
                "statement too complex: its views and function calls inline more than \
                 {MAX_INLINED_SQL_BYTES} bytes of stored queries (while expanding {name})"
            )));
        }
        // The view's query is bound on its own: nothing of the statement naming it is
        // in scope.
        let saved_outer = std::mem::take(&mut self.outer);
        let saved_aggregates = self.aggregates.take();
        let saved_routine = self.routine.take();
        let saved_ctes = std::mem::take(&mut self.ctes);
        self.view_stack.push(name.to_string());
        let body = self.body(&stored.body);
        self.view_stack.pop();
        self.outer = saved_outer;
        self.aggregates = saved_aggregates;
        self.routine = saved_routine;
        self.ctes = saved_ctes;
        let body = body.map_err(|source| Error::InView {
            view: name.to_string(),
            source: Box::new(source),
        })?;
        let columns = &stored.info.columns;
        if body.kinds.len() != columns.len() {
            return Err(Error::InView {
                view: name.to_string(),
                source: Box::new(Error::Type(format!(
                    "its query now has {} columns, the view {}",
                    body.kinds.len(),
                    columns.len()
                ))),
            });
        }
        let label = alias.map_or_else(|| name.to_string(), |a| ident(&a.name));
        let mut names = columns.clone();
        if let Some(alias) = alias {
            if alias.columns.len() > names.len() {
                return Err(Error::Type(format!(
                    "table \"{label}\" has {} columns available but {} columns specified",
                    names.len(),
                    alias.columns.len()
                )));
            }
            for (name, column) in names.iter_mut().zip(&alias.columns) {
                *name = ident(&column.name);
            }
        }
        let narrow = super::int_width::narrow_outputs(&body.plan);
        let scope = Scope {
            columns: names
                .into_iter()
                .zip(&body.kinds)
                .enumerate()
                .map(|(i, (name, kind))| ScopeColumn {
                    table: Some(label.clone()),
                    name,
                    kind: *kind,
                    padded: false,
                    narrow_int: narrow.get(i).copied().unwrap_or(false),
                    qualified_only: false,
                })
                .collect(),
        };
        Ok(Some((body.plan, scope)))
    }

    /// The view `name` for this statement: read and parsed at its first use, then kept.
    fn stored_view(&mut self, name: &str) -> Result<Option<Arc<StoredView>>> {
        if let Some(stored) = self.views.get(name) {
            return Ok(Some(Arc::clone(stored)));
        }
        let Some(info) = view_catalog::find_view(self.txn, name)? else {
            return Ok(None);
        };
        let body = parse_query(&info)?;
        let stored = Arc::new(StoredView { info, body });
        self.views.insert(name.to_string(), Arc::clone(&stored));
        Ok(Some(stored))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_columns_take_the_list_then_the_query_names() {
        let q = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            view_columns("v", &q(&["x"]), &q(&["a", "b"])).unwrap(),
            q(&["x", "b"])
        );
        assert!(matches!(
            view_columns("v", &q(&["x", "y", "z"]), &q(&["a", "b"])),
            Err(Error::Type(_))
        ));
        assert!(matches!(
            view_columns("v", &q(&["b"]), &q(&["a", "b"])),
            Err(Error::Type(m)) if m.contains("more than once")
        ));
    }
}
