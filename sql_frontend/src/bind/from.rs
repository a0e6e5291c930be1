//! Binding FROM: tables (with aliases), derived tables `(SELECT ...) AS d`, comma lists
//! and `[INNER] JOIN ... ON/USING`, `LEFT [OUTER] JOIN`, `CROSS JOIN`, parenthesised
//! joins.
//!
//! The result is a left-deep tree of `NestedLoopJoin` nodes in the order written, each
//! with its ON condition as predicate (a comma or CROSS JOIN has none), and the scope of
//! the joined row: the left input's columns, then the right's, each labelled with its
//! table's alias or name. Choosing the join order and method is the optimiser's job
//! ([`crate::join_planner`]); the binder only fixes what the query means.

use sqlparser::ast::{self, JoinConstraint, JoinOperator, TableFactor, TableWithJoins};

use super::expr::{Scope, ScopeColumn};
use super::query::table_scope;
use super::{Binder, ident, object_name, user_object_name};
use crate::catalog;
use crate::error::{Error, Result};
use crate::expr::{BinaryOp, Expr};
use crate::plan::{JoinKind, Node};

impl Binder<'_> {
    /// The FROM clause: its plan and the scope of its rows (one empty row without FROM).
    pub(super) fn from(&mut self, from: &[TableWithJoins]) -> Result<(Node, Scope)> {
        // The comma joins stand above every item: a level each.
        let joins = from.len().saturating_sub(1);
        self.nested(joins, 1, |binder| binder.bind_from_items(from))
    }

    fn bind_from_items(&mut self, from: &[TableWithJoins]) -> Result<(Node, Scope)> {
        let mut result: Option<(Node, Scope)> = None;
        for item in from {
            let right = self.table_with_joins(item)?;
            result = Some(match result {
                None => right,
                Some(left) => join(left, right, JoinKind::Inner, None),
            });
        }
        Ok(result.unwrap_or_else(|| {
            (
                Node::Values {
                    rows: vec![Vec::new()],
                    columns: Vec::new(),
                },
                Scope::default(),
            )
        }))
    }

    fn table_with_joins(&mut self, item: &TableWithJoins) -> Result<(Node, Scope)> {
        // The joins form a left-deep tree above every factor: a level each.
        self.nested(item.joins.len(), 1, |binder| binder.joined(item))
    }

    fn joined(&mut self, item: &TableWithJoins) -> Result<(Node, Scope)> {
        let mut left = self.table_factor(&item.relation)?;
        for j in &item.joins {
            let right = self.table_factor(&j.relation)?;
            let (kind, constraint) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) => (JoinKind::Inner, c),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinKind::Left, c),
                JoinOperator::CrossJoin(c) => (JoinKind::Inner, c),
                other => {
                    let text = format!("{other:?}");
                    let name = text.split('(').next().unwrap_or("this");
                    return Err(Error::unsupported(format!("{name} joins")));
                }
            };
            let mut scope = left.1.clone();
            scope.columns.extend(right.1.columns.iter().cloned());
            let predicate = match constraint {
                JoinConstraint::On(e) => {
                    let saved = self.aggregates.take();
                    let bound = self.expr(e, &scope);
                    self.aggregates = saved;
                    Some(bound?)
                }
                JoinConstraint::Using(names) => {
                    Some(self.nested(names.len(), 1, |_| using(&left.1, &right.1, names))?)
                }
                JoinConstraint::Natural => return Err(Error::unsupported("NATURAL JOIN")),
                JoinConstraint::UsingAlias(..) => return Err(Error::unsupported("USING ... AS")),
                JoinConstraint::None if kind == JoinKind::Left => {
                    return Err(Error::Parse("LEFT JOIN needs ON or USING".into()));
                }
                JoinConstraint::None => None,
            };
            left = join(left, right, kind, predicate);
        }
        Ok(left)
    }

    /// A table, derived table or parenthesised join in FROM.
    fn table_factor(&mut self, factor: &TableFactor) -> Result<(Node, Scope)> {
        match factor {
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                sample,
            } => {
                if *lateral || sample.is_some() {
                    return Err(Error::unsupported("LATERAL or TABLESAMPLE on a subquery"));
                }
                let saved = self.aggregates.take();
                let bound = self.query_bound(subquery);
                self.aggregates = saved;
                let bound = bound?;
                let Some(alias) = alias else {
                    return Err(Error::Parse("subquery in FROM must have an alias".into()));
                };
                let label = ident(&alias.name);
                let mut names = bound.names.clone();
                if alias.columns.len() > names.len() {
                    return Err(Error::Type(format!(
                        "table {label:?} has {} columns available but {} columns specified",
                        names.len(),
                        alias.columns.len()
                    )));
                }
                for (name, column) in names.iter_mut().zip(&alias.columns) {
                    *name = ident(&column.name);
                }
                let scope = Scope {
                    columns: names
                        .into_iter()
                        .zip(&bound.kinds)
                        .map(|(name, kind)| ScopeColumn {
                            table: Some(label.clone()),
                            name,
                            kind: *kind,
                            padded: false,
                        })
                        .collect(),
                };
                Ok((bound.plan, scope))
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let (plan, mut scope) = self.table_with_joins(table_with_joins)?;
                if let Some(alias) = alias {
                    let label = ident(&alias.name);
                    for column in &mut scope.columns {
                        column.table = Some(label.clone());
                    }
                }
                Ok((plan, scope))
            }
            other => self.named_table(other),
        }
    }

    /// A named table in FROM: its scan and the scope of its columns.
    fn named_table(&mut self, factor: &TableFactor) -> Result<(Node, Scope)> {
        let TableFactor::Table {
            name,
            alias,
            args,
            with_hints,
            version,
            with_ordinality,
            partitions,
            json_path,
            sample,
            index_directives,
            inheritance,
        } = factor
        else {
            return Err(Error::unsupported(format!("FROM {factor}")));
        };
        if let Some(args) = args {
            if object_name(name).is_ok_and(|n| n == super::series::GENERATE_SERIES) {
                return self.generate_series(args, alias.as_ref());
            }
            return self.table_function(name, args, alias.as_ref());
        }
        if !with_hints.is_empty()
            || version.is_some()
            || *with_ordinality
            || !partitions.is_empty()
            || json_path.is_some()
            || sample.is_some()
            || !index_directives.is_empty()
            || inheritance.is_some()
        {
            return Err(Error::unsupported(format!(
                "table options in FROM {factor}"
            )));
        }
        if let Ok(cte_name) = object_name(name)
            && let Some(cte) = self.cte_in_from(&cte_name, alias.as_ref())?
        {
            return Ok(cte);
        }
        let table_name = user_object_name(name)?;
        let Some(table) = catalog::find_table(self.txn, &table_name)? else {
            return match self.view_in_from(&table_name, alias.as_ref())? {
                Some(view) => {
                    self.note_relation(&table_name);
                    Ok(view)
                }
                None => Err(Error::UnknownTable(table_name)),
            };
        };
        self.note_relation(&table_name);
        let label = match alias {
            Some(alias) if !alias.columns.is_empty() => {
                return Err(Error::unsupported("column aliases on tables"));
            }
            Some(alias) => ident(&alias.name),
            None => table.name().to_string(),
        };
        let scope = table_scope(&table, &label);
        Ok((Node::SeqScan { table }, scope))
    }
}

/// Joins two bound FROM items.
fn join(
    left: (Node, Scope),
    right: (Node, Scope),
    kind: JoinKind,
    predicate: Option<Expr>,
) -> (Node, Scope) {
    let mut scope = left.1;
    scope.columns.extend(right.1.columns);
    let plan = Node::NestedLoopJoin {
        left: Box::new(left.0),
        right: Box::new(right.0),
        kind,
        predicate,
    };
    (plan, scope)
}

/// `USING (a, b)`: `left.a = right.a AND left.b = right.b` over the joined row.
fn using(left: &Scope, right: &Scope, names: &[ast::ObjectName]) -> Result<Expr> {
    let mut predicate: Option<Expr> = None;
    for name in names {
        let name = object_name(name)?;
        let Expr::Column { index: l, .. } = left.resolve(None, &name)? else {
            return Err(Error::UnknownColumn(name));
        };
        let Expr::Column { index: r, .. } = right.resolve(None, &name)? else {
            return Err(Error::UnknownColumn(name));
        };
        let equal = Expr::binary(
            BinaryOp::Eq,
            Expr::Column {
                index: l,
                name: name.clone(),
            },
            Expr::Column {
                index: left.columns.len() + r,
                name,
            },
        );
        predicate = Some(match predicate {
            None => equal,
            Some(p) => Expr::binary(BinaryOp::And, p, equal),
        });
    }
    predicate.ok_or_else(|| Error::Parse("USING needs at least one column".into()))
}
