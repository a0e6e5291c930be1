//! Binding FROM: tables (with aliases), derived tables `(SELECT ...) AS d`, comma lists
//! and `[INNER] JOIN ... ON/USING`, `LEFT [OUTER] JOIN`, `RIGHT [OUTER] JOIN`, `FULL
//! [OUTER] JOIN`, `NATURAL` joins, `CROSS JOIN`, parenthesised joins.
//!
//! A LATERAL subquery, and a function call in FROM (LATERAL by nature, as in
//! PostgreSQL), may read the columns of the FROM items to its left: the comma items
//! before it when it opens an item, the left side of its INNER, LEFT or CROSS join.
//! It is bound with that scope as the innermost enclosing query's, so those names
//! become outer references; if it made any, its plan becomes a subquery and the join a
//! `LateralJoin`, which runs it once per left row with the row as its outer row.
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
//! preserved side's value; in a FULL join `COALESCE(left.a, right.a)`, as either side
//! may be the padded one), and `t.a` still reaches each side's own column (see
//! `ScopeColumn::qualified_only`). A FULL join's ON condition must have an equality
//! between the sides (or read no columns), as PostgreSQL requires.

use sqlparser::ast::{JoinConstraint, JoinOperator, TableFactor, TableWithJoins};

use super::expr::{Scope, ScopeColumn};
use super::query::table_scope;
use super::{Binder, ident, object_name, user_object_name};
use crate::catalog;
use crate::error::{Error, Result};
use crate::expr::{BinaryOp, Expr};
use crate::functions::Function;
use crate::plan::{JoinKind, Node};
use crate::types::SqlType;
use crate::value::Kind;

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
            let (right, lateral) = self.table_with_joins(item, result.as_ref().map(|r| &r.1))?;
            result = Some(match result {
                None => right,
                Some(left) if lateral => self.lateral_join(left, right, JoinKind::Inner, None),
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

    /// A FROM item: a factor and the joins after it. `before`: the scope of the items
    /// before it in a comma list, which a LATERAL first factor may read; then the item
    /// comes back with `true` (it must be joined to them as a LATERAL join).
    fn table_with_joins(
        &mut self,
        item: &TableWithJoins,
        before: Option<&Scope>,
    ) -> Result<((Node, Scope), bool)> {
        // The joins form a left-deep tree above every factor: a level each.
        self.nested(item.joins.len(), 1, |binder| binder.joined(item, before))
    }

    /// A factor that may read the columns of `before` (the FROM items to its left) when
    /// it is LATERAL — a subquery marked so, or a function call, LATERAL by nature, as
    /// in PostgreSQL: bound with `before` as the innermost enclosing scope, so that its
    /// names for those columns become outer references. Also says whether it made any
    /// (then it must run once per row of `before`: [`Node::LateralJoin`]).
    fn factor_after(
        &mut self,
        factor: &TableFactor,
        before: Option<&Scope>,
    ) -> Result<((Node, Scope), bool)> {
        let lateral = match factor {
            TableFactor::Derived { lateral, .. } => *lateral,
            TableFactor::Table { args, .. } => args.is_some(),
            TableFactor::Function { .. } => true,
            _ => false,
        };
        let Some(before) = before.filter(|_| lateral) else {
            return Ok((self.table_factor(factor)?, false));
        };
        let references = self.outer_references.get();
        self.outer.push(before.clone());
        let bound = self.table_factor(factor);
        self.outer.pop();
        Ok((bound?, self.outer_references.get() != references))
    }

    /// `left JOIN LATERAL right`: the right side's plan becomes a subquery run per left
    /// row (see [`Node::LateralJoin`]).
    fn lateral_join(
        &mut self,
        left: (Node, Scope),
        right: (Node, Scope),
        kind: JoinKind,
        predicate: Option<Expr>,
    ) -> (Node, Scope) {
        let right_columns = right.0.columns();
        let id = self.add_subquery(right.0);
        let mut scope = left.1;
        scope.columns.extend(right.1.columns);
        let plan = Node::LateralJoin {
            left: Box::new(left.0),
            right: id,
            right_columns,
            kind,
            predicate,
        };
        (plan, scope)
    }

    fn joined(
        &mut self,
        item: &TableWithJoins,
        before: Option<&Scope>,
    ) -> Result<((Node, Scope), bool)> {
        let (left, item_lateral) = self.factor_after(&item.relation, before)?;
        if !item_lateral {
            return Ok((self.joins_after(left, item)?, false));
        }
        // The item runs once per row of the items before it, as a subquery with that
        // row as its outer row: the rest of it is bound with a scope standing for that
        // row (empty: only the LATERAL first factor reads it), so that outer
        // references from its joins keep their depth.
        self.outer.push(Scope::default());
        let joined = self.joins_after(left, item);
        self.outer.pop();
        Ok((joined?, true))
    }

    /// The joins of `item` after its first factor, `left`.
    fn joins_after(
        &mut self,
        mut left: (Node, Scope),
        item: &TableWithJoins,
    ) -> Result<(Node, Scope)> {
        for j in &item.joins {
            // A LATERAL right side reads the left side's columns: only where the left
            // side's rows are the ones kept (INNER, LEFT, CROSS), as in PostgreSQL.
            let sees_left = matches!(
                j.join_operator,
                JoinOperator::Join(_)
                    | JoinOperator::Inner(_)
                    | JoinOperator::Left(_)
                    | JoinOperator::LeftOuter(_)
                    | JoinOperator::CrossJoin(_)
            );
            let (right, lateral) = self.factor_after(&j.relation, sees_left.then_some(&left.1))?;
            let (kind, constraint, side) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) => (JoinKind::Inner, c, Side::Left),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => {
                    (JoinKind::Left, c, Side::Left)
                }
                JoinOperator::Right(c) | JoinOperator::RightOuter(c) => {
                    (JoinKind::Left, c, Side::Right)
                }
                JoinOperator::CrossJoin(c) => (JoinKind::Inner, c, Side::Left),
                JoinOperator::FullOuter(c) => (JoinKind::Full, c, Side::Left),
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
                JoinConstraint::None if kind != JoinKind::Inner => {
                    return Err(Error::Parse(
                        "LEFT, RIGHT and FULL JOIN need ON, USING or NATURAL".into(),
                    ));
                }
                JoinConstraint::None => None,
            };
            if kind == JoinKind::Full {
                full_join_condition(predicate.as_ref(), outer.1.columns.len())?;
            }
            if lateral {
                if !merged.is_empty() {
                    return Err(Error::unsupported("USING or NATURAL with a LATERAL join"));
                }
                left = self.lateral_join(left, right, kind, predicate);
                continue;
            }
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
                lateral: _,
                subquery,
                alias,
                sample,
            } => {
                if sample.is_some() {
                    return Err(Error::unsupported("TABLESAMPLE on a subquery"));
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
                let narrow = super::int_width::narrow_outputs(&bound.plan);
                let scope = Scope {
                    columns: names
                        .into_iter()
                        .zip(&bound.kinds)
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
                Ok((bound.plan, scope))
            }
            TableFactor::Function {
                lateral: _,
                name,
                args,
                with_ordinality,
                alias,
            } => {
                if *with_ordinality {
                    return Err(Error::unsupported("WITH ORDINALITY"));
                }
                let call = TableFactor::Table {
                    name: name.clone(),
                    alias: alias.clone(),
                    args: Some(sqlparser::ast::TableFunctionArgs {
                        args: args.clone(),
                        settings: None,
                    }),
                    with_hints: Vec::new(),
                    version: None,
                    with_ordinality: false,
                    partitions: Vec::new(),
                    json_path: None,
                    sample: None,
                    index_directives: Vec::new(),
                    inheritance: None,
                };
                self.named_table(&call)
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                let ((plan, mut scope), _) = self.table_with_joins(table_with_joins, None)?;
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
        if let Some(relation) = super::system::system_relation(name)? {
            return self.system_scan(relation, alias.as_ref());
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
    let mut exprs = Vec::with_capacity(merged.len() + left.len() + right.len());
    let mut columns = Vec::with_capacity(exprs.capacity());
    let preserved_scope = Scope {
        columns: preserved
            .iter()
            .map(|&i| joined_scope.columns[i].clone())
            .collect(),
    };
    let at = |index: usize, column: &ScopeColumn| Expr::Column {
        index,
        name: column.name.clone(),
    };
    for name in merged {
        let index = preserved_scope.position(None, name)?;
        let mut column = preserved_scope.columns[index].clone();
        column.table = None;
        let preserved_value = at(preserved[index], &column);
        let value = match kind {
            JoinKind::Full => {
                // Either side may be the NULL-padded one: COALESCE(left, right).
                let scope_of = |positions: &[usize]| Scope {
                    columns: positions
                        .iter()
                        .map(|&i| joined_scope.columns[i].clone())
                        .collect(),
                };
                let r = scope_of(&right).position(None, name)?;
                let right_column = &joined_scope.columns[right[r]];
                let (l_kind, r_kind) = (column.kind, right_column.kind);
                column.kind = merged_kind(name, l_kind, r_kind)?;
                column.padded = false;
                let as_merged = |e: Expr, own: Kind| match SqlType::for_kind(column.kind) {
                    Some(to) if own != column.kind && own != Kind::Unknown => Expr::Cast {
                        expr: Box::new(e),
                        to,
                    },
                    _ => e,
                };
                Expr::Call {
                    function: Function::Coalesce,
                    args: vec![
                        as_merged(preserved_value, l_kind),
                        as_merged(at(right[r], right_column), r_kind),
                    ],
                }
            }
            _ => preserved_value,
        };
        exprs.push(value);
        columns.push(column);
    }
    for &i in left.iter().chain(&right) {
        let mut column = joined_scope.columns[i].clone();
        if merged.contains(&column.name) {
            column.qualified_only = true;
        }
        exprs.push(at(i, &column));
        columns.push(column);
    }
    joined_scope.columns = columns;
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

/// The kind of a column a FULL JOIN's USING merges from columns of kinds `l` and `r`
/// (PostgreSQL's `JOIN/USING types ... cannot be matched` when there is none).
fn merged_kind(name: &str, l: Kind, r: Kind) -> Result<Kind> {
    let numeric = |k| matches!(k, Kind::Int | Kind::Float | Kind::Numeric);
    let datetime = |k| matches!(k, Kind::Date | Kind::Timestamp);
    Ok(match (l, r) {
        _ if l == r || r == Kind::Unknown => l,
        (Kind::Unknown, _) => r,
        _ if numeric(l) && numeric(r) => super::scalar::promoted_kind(l, r),
        _ if datetime(l) && datetime(r) => Kind::Timestamp,
        _ => {
            return Err(Error::Type(format!(
                "JOIN/USING types {l} and {r} cannot be matched (column {name:?})"
            )));
        }
    })
}

/// Refuses a FULL JOIN condition PostgreSQL cannot run: one that reads columns but has
/// no conjunct `left expression = right expression` (each side reading columns of one
/// input only), PostgreSQL's merge- or hash-joinable condition. A condition reading no
/// columns (`ON true`, `ON false`) is accepted, as there.
fn full_join_condition(predicate: Option<&Expr>, left_width: usize) -> Result<()> {
    let Some(predicate) = predicate else {
        return Ok(());
    };
    let mut conjuncts = Vec::new();
    let mut stack = vec![predicate];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Binary(BinaryOp::And, l, r) => stack.extend([&**l, &**r]),
            other => conjuncts.push(other),
        }
    }
    let subquery = |e: &Expr| e.any(&|e| matches!(e, Expr::Subquery(_)));
    let columns = |e: &Expr| {
        let mut columns = Vec::new();
        e.columns_read(&mut columns);
        columns
    };
    let side = |e: &Expr| e.join_side(left_width);
    let constant = conjuncts
        .iter()
        .all(|c| columns(c).is_empty() && !subquery(c));
    let joinable = conjuncts.iter().any(|c| match c {
        Expr::Binary(BinaryOp::Eq, l, r) => {
            matches!((side(l), side(r)), (Some(a), Some(b)) if a != b)
        }
        _ => false,
    });
    match constant || joinable {
        true => Ok(()),
        false => Err(Error::unsupported(
            "FULL JOIN is only supported with merge-joinable or hash-joinable join conditions",
        )),
    }
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
