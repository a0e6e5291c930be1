//! Binding FROM: tables (with aliases), derived tables `(SELECT ...) AS d`, comma lists
//! and `[INNER] JOIN ... ON/USING`, `LEFT [OUTER] JOIN`, `RIGHT [OUTER] JOIN`, `NATURAL`
//! joins, `CROSS JOIN`, parenthesised joins.
//!
//! The result is a left-deep tree of `NestedLoopJoin` nodes in the order written, each
//! with its ON condition as predicate (a comma or CROSS JOIN has none), and the scope of
//! the joined row: the left input's columns, then the right's, each labelled with its
//! table's alias or name. Choosing the join order and method is the optimiser's job
//! (`crate::optimize::join_order`); the binder only fixes what the query means.
//!
//! Two joins add a projection above their `NestedLoopJoin`. A RIGHT JOIN is planned as
//! a LEFT JOIN with its sides swapped (the executor's outer joins keep the first
//! input's rows), and the projection restores the written column order. `USING (a)` and
//! NATURAL (USING every name both sides have) merge each named pair into one column,
//! first in the row, as PostgreSQL does: `*` shows it once, a bare `a` means it (the
//! preserved side's value), and `t.a` still reaches each side's own column (see
//! `ScopeColumn::qualified_only`). FULL joins are not supported yet.

use sqlparser::ast::{JoinConstraint, JoinOperator, TableFactor, TableWithJoins};

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
            let (kind, constraint, side) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) => (JoinKind::Inner, c, Side::Left),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => {
                    (JoinKind::Left, c, Side::Left)
                }
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => {
                    (JoinKind::Left, c, Side::Right)
                }
                JoinOperator::CrossJoin(c) => (JoinKind::Inner, c, Side::Left),
                JoinOperator::FullOuter(_) => return Err(Error::unsupported("FULL JOIN")),
                other => {
                    let text = format!("{other:?}");
                    let name = text.split('(').next().unwrap_or("this");
                    return Err(Error::unsupported(format!("{name} joins")));
                }
            };
            let merged = match constraint {
                JoinConstraint::Using(names) => names
                    .iter()
                    .map(object_name)
                    .collect::<Result<Vec<String>>>()?,
                JoinConstraint::Natural => common_columns(&left.1, &right.1),
                _ => Vec::new(),
            };
            // A RIGHT JOIN runs as a LEFT JOIN with the sides swapped: the row-preserving
            // side always goes first, and a projection puts the columns back in order.
            let (outer, inner) = match side {
                Side::Left => (&left, &right),
                Side::Right => (&right, &left),
            };
            let mut scope = outer.1.clone();
            scope.columns.extend(inner.1.columns.iter().cloned());
            let predicate = match constraint {
                JoinConstraint::On(e) => {
                    let saved = self.aggregates.take();
                    let bound = self.expr(e, &scope);
                    self.aggregates = saved;
                    Some(bound?)
                }
                JoinConstraint::Using(_) | JoinConstraint::Natural => {
                    self.nested(merged.len(), 1, |_| using(&outer.1, &inner.1, &merged))?
                }
                JoinConstraint::UsingAlias(..) => return Err(Error::unsupported("USING ... AS")),
                JoinConstraint::None if kind == JoinKind::Left => {
                    return Err(Error::Parse(
                        "LEFT and RIGHT JOIN need ON, USING or NATURAL".into(),
                    ));
                }
                JoinConstraint::None => None,
            };
            let (outer, inner) = match side {
                Side::Left => (left, right),
                Side::Right => (right, left),
            };
            left = join_in_order(outer, inner, side, kind, predicate, &merged)?;
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
                            qualified_only: false,
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
                    // The alias names the join's own columns; the ones USING merged
                    // away are no longer reachable at all.
                    let label = ident(&alias.name);
                    for column in &mut scope.columns {
                        column.table = match column.qualified_only {
                            true => None,
                            false => Some(label.clone()),
                        };
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
        let table = catalog::with_statistics(self.txn, table)?;
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

/// Which side of a join keeps its unmatched rows (for an inner join, `Left`: the sides
/// stay as written).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

/// `outer` joined with `inner` (bound in that order, the row-preserving side first),
/// with its columns as the query sees them: the left side's then the right side's as
/// written, after one merged column per `merged` name (USING, NATURAL). A merged column
/// is the preserved side's value; the two it merges stay reachable by qualified name
/// only. Without swapped sides or merged columns the join is returned as it is.
fn join_in_order(
    outer: (Node, Scope),
    inner: (Node, Scope),
    side: Side,
    kind: JoinKind,
    predicate: Option<Expr>,
    merged: &[String],
) -> Result<(Node, Scope)> {
    let (outer_width, inner_width) = (outer.1.columns.len(), inner.1.columns.len());
    let (joined, mut joined_scope) = join(outer, inner, kind, predicate);
    if side == Side::Left && merged.is_empty() {
        return Ok((joined, joined_scope));
    }
    // Positions in the joined row of the left and the right side's columns.
    let (left, right): (Vec<usize>, Vec<usize>) = match side {
        Side::Left => (
            (0..outer_width).collect(),
            (outer_width..outer_width + inner_width).collect(),
        ),
        Side::Right => (
            (inner_width..inner_width + outer_width).collect(),
            (0..inner_width).collect(),
        ),
    };
    let preserved = match side {
        Side::Left => &left,
        Side::Right => &right,
    };
    let mut positions = Vec::with_capacity(merged.len() + left.len() + right.len());
    let mut columns = Vec::with_capacity(positions.capacity());
    let preserved_scope = Scope {
        columns: preserved
            .iter()
            .map(|&i| joined_scope.columns[i].clone())
            .collect(),
    };
    for name in merged {
        let index = preserved_scope.position(None, name)?;
        let mut column = preserved_scope.columns[index].clone();
        column.table = None;
        positions.push(preserved[index]);
        columns.push(column);
    }
    for &i in left.iter().chain(&right) {
        let mut column = joined_scope.columns[i].clone();
        if merged.contains(&column.name) {
            column.qualified_only = true;
        }
        positions.push(i);
        columns.push(column);
    }
    joined_scope.columns = columns;
    let exprs = positions
        .iter()
        .zip(&joined_scope.columns)
        .map(|(&index, column)| Expr::Column {
            index,
            name: column.name.clone(),
        })
        .collect();
    let names = joined_scope
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let plan = Node::Project {
        source: Box::new(joined),
        exprs,
        names,
    };
    Ok((plan, joined_scope))
}

/// The column names NATURAL JOIN merges: those both sides have (by bare name), in the
/// left side's order.
fn common_columns(left: &Scope, right: &Scope) -> Vec<String> {
    let visible = |scope: &Scope, name: &str| {
        scope
            .columns
            .iter()
            .any(|c| !c.qualified_only && c.name == name)
    };
    let mut names: Vec<String> = Vec::new();
    for column in left.columns.iter().filter(|c| !c.qualified_only) {
        if visible(right, &column.name) && !names.contains(&column.name) {
            names.push(column.name.clone());
        }
    }
    names
}

/// `USING (a, b)`: `outer.a = inner.a AND outer.b = inner.b` over the joined row (the
/// outer side's columns first); `None` for a NATURAL join with no common column, which
/// is a cross join.
fn using(outer: &Scope, inner: &Scope, names: &[String]) -> Result<Option<Expr>> {
    let mut predicate: Option<Expr> = None;
    let width = outer.columns.len();
    for name in names {
        // Read as any reference reads them (a CHAR column through rtrim).
        let l = outer.resolve(None, name)?;
        let r = inner.resolve(None, name)?.remap_columns(&|i| width + i);
        let equal = Expr::binary(BinaryOp::Eq, l, r);
        predicate = Some(match predicate {
            None => equal,
            Some(p) => Expr::binary(BinaryOp::And, p, equal),
        });
    }
    Ok(predicate)
}
