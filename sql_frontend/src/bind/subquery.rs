//! Binding subquery expressions and correlated names.
//!
//! A subquery is bound with its enclosing query's scope pushed on the binder's outer
//! stack. A name the subquery's own FROM does not provide is looked up in the enclosing
//! scopes, innermost first, and becomes [`Expr::OuterColumn`] with the number of query
//! levels between them (0: the directly enclosing query); at run time it reads the row
//! the subquery is evaluated for (see [`crate::exec::ExecContext`]).
//!
//! The subquery's operator tree goes to the statement's list of subqueries, and the
//! expression refers to it by its [`SubqueryId`], so expressions never hold plans.
//!
//! The subquery's own aggregates belong to it: its SELECT saves and restores the
//! binder's aggregate list, so `(SELECT avg(c) FROM t1)` inside an outer query is an
//! aggregate of the subquery, not of the outer query.

use sqlparser::ast;

use super::Binder;
use super::expr::Scope;
use super::query::BoundQuery;
use crate::error::{Error, Result};
use crate::expr::{Expr, Subquery, SubqueryId, SubqueryKind};
use crate::plan::Node;
use crate::value::Kind;

impl Binder<'_> {
    /// Resolves a column name in `scope`, then in the enclosing queries' scopes.
    pub(super) fn resolve(&self, scope: &Scope, table: Option<&str>, name: &str) -> Result<Expr> {
        let error = match scope.resolve(table, name) {
            Ok(e) => return Ok(e),
            Err(e @ Error::UnknownColumn(_)) => e,
            Err(other) => return Err(other),
        };
        for (depth, outer) in self.outer.iter().rev().enumerate() {
            match outer.resolve(table, name) {
                Ok(Expr::Column { index, name }) => {
                    self.outer_references.set(self.outer_references.get() + 1);
                    // A WITH query being bound reads a scope outside it (`cte.rs`).
                    if self.outer.len() - 1 - depth < self.cte_floor.get() {
                        self.cte_escapes.set(self.cte_escapes.get() + 1);
                    }
                    let kind = outer.columns.get(index).map_or(Kind::Unknown, |c| c.kind);
                    return Ok(Expr::OuterColumn {
                        depth,
                        index,
                        name,
                        kind,
                    });
                }
                Ok(_) | Err(Error::UnknownColumn(_)) => continue,
                Err(other) => return Err(other),
            }
        }
        Err(error)
    }

    /// Binds `query` as a subquery of an expression over `scope`; also says whether it
    /// is correlated (some name in it resolved to an enclosing query's column — possibly
    /// a column of this subquery's own scope read from a deeper subquery, which only
    /// makes the answer conservative).
    fn subquery(&mut self, query: &ast::Query, scope: &Scope) -> Result<(BoundQuery, bool)> {
        let before = self.outer_references.get();
        self.outer.push(scope.clone());
        let bound = self.query_bound(query);
        self.outer.pop();
        Ok((bound?, self.outer_references.get() != before))
    }

    /// Adds a subquery's operator tree to the statement's list; returns its id.
    pub(super) fn add_subquery(&mut self, plan: Node) -> SubqueryId {
        self.subqueries.push(plan);
        SubqueryId(self.subqueries.len() - 1)
    }

    pub(super) fn scalar_subquery(&mut self, query: &ast::Query, scope: &Scope) -> Result<Expr> {
        let (bound, correlated) = self.subquery(query, scope)?;
        let kind = single_column(&bound)?;
        Ok(Expr::Subquery(Box::new(Subquery {
            kind: SubqueryKind::Scalar { kind },
            id: self.add_subquery(bound.plan),
            correlated,
        })))
    }

    pub(super) fn exists(
        &mut self,
        query: &ast::Query,
        negated: bool,
        scope: &Scope,
    ) -> Result<Expr> {
        let (bound, correlated) = self.subquery(query, scope)?;
        Ok(Expr::Subquery(Box::new(Subquery {
            kind: SubqueryKind::Exists { negated },
            id: self.add_subquery(bound.plan),
            correlated,
        })))
    }

    pub(super) fn in_subquery(
        &mut self,
        expr: &ast::Expr,
        query: &ast::Query,
        negated: bool,
        scope: &Scope,
    ) -> Result<Expr> {
        let value = self.expr(expr, scope)?;
        let (bound, correlated) = self.subquery(query, scope)?;
        single_column(&bound)?;
        Ok(Expr::Subquery(Box::new(Subquery {
            kind: SubqueryKind::In {
                expr: Box::new(value),
                negated,
            },
            id: self.add_subquery(bound.plan),
            correlated,
        })))
    }
}

/// The kind of a subquery's only column; an error if it has several.
fn single_column(bound: &BoundQuery) -> Result<Kind> {
    match bound.kinds.as_slice() {
        [kind] => Ok(*kind),
        _ => Err(Error::Type("subquery must return only one column".into())),
    }
}
