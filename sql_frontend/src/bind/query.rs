//! Binding queries: SELECT (with FROM, WHERE, GROUP BY, HAVING, aggregates, DISTINCT),
//! VALUES, UNION/EXCEPT/INTERSECT [ALL], ORDER BY, LIMIT/OFFSET.
//!
//! The plan of a SELECT is built bottom-up as
//! `Limit(Project(Sort(Filter(Aggregate(Filter(FROM))))))`: WHERE filters the FROM rows;
//! with aggregation, the Aggregate node outputs the group values then the aggregates,
//! HAVING filters those, and the select list and ORDER BY are rewritten to read them
//! ([`super::aggregate`]). ORDER BY is evaluated on the rows below the projection (so
//! it can use columns that are not selected), with an output alias or a 1-based ordinal
//! standing for the selected expression, as in PostgreSQL. With DISTINCT the order is
//! `Sort(Distinct(Project(...)))` and ORDER BY must name selected expressions. With
//! `DISTINCT ON (e, ...)` it is `Project(DistinctOn(Sort(...)))`: the rows are sorted
//! by the ON expressions first (PostgreSQL's rule: they must match the leading ORDER
//! BY items, and any not in ORDER BY are sorted on after those), then by the rest of
//! ORDER BY, and the first row of each run of equal ON values is kept.
//!
//! A set operation binds both sides as queries of the same width; its ORDER BY names
//! output columns (by name or ordinal), and the output kinds are the left side's (or
//! the right's where the left's is unknown, as for a NULL literal).

use sqlparser::ast::{
    self, GroupByExpr, LimitClause, OrderByExpr, OrderByKind, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, SetQuantifier,
};

use super::aggregate::over_groups;
use super::column_name::column_name;
use super::expr::{Scope, ScopeColumn};
use super::scalar::{promote, promote_columns, promoted_kind};
use super::window::over_windows;
use super::{Binder, ident, object_name, user_object_name};
use crate::catalog::{self, TableInfo};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{Node, SetOperator, SortKey};
use crate::stack;
use crate::value::Kind;

/// A bound query: its plan and the names and static kinds of its output columns.
pub(super) struct BoundQuery {
    pub plan: Node,
    pub names: Vec<String>,
    pub kinds: Vec<Kind>,
}

impl Binder<'_> {
    pub(super) fn query(&mut self, query: &Query) -> Result<Node> {
        Ok(self.query_bound(query)?.plan)
    }

    /// Binds a query with its ORDER BY and LIMIT.
    pub(super) fn query_bound(&mut self, query: &Query) -> Result<BoundQuery> {
        self.nested(1, stack::QUERY_UNITS, |binder| binder.query_level(query))
    }

    /// One level of [`Binder::query_bound`].
    fn query_level(&mut self, query: &Query) -> Result<BoundQuery> {
        let unsupported = [
            (query.fetch.is_some(), "FETCH"),
            (
                !query.locks.is_empty(),
                "FOR UPDATE/SHARE in a subquery, CTE or view",
            ),
            (query.for_clause.is_some(), "FOR clauses"),
            (query.settings.is_some(), "SETTINGS"),
            (query.format_clause.is_some(), "FORMAT"),
            (!query.pipe_operators.is_empty(), "pipe operators"),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        let order_items: &[OrderByExpr] = match &query.order_by {
            None => &[],
            Some(order_by) => {
                if order_by.interpolate.is_some() {
                    return Err(Error::unsupported("INTERPOLATE"));
                }
                match &order_by.kind {
                    OrderByKind::Expressions(items) => items,
                    OrderByKind::All(_) => return Err(Error::unsupported("ORDER BY ALL")),
                }
            }
        };
        let Some(with) = &query.with else {
            return self.query_body(query, order_items);
        };
        let mark = self.ctes.len();
        let bound = self
            .begin_with(with)
            .and_then(|()| self.query_body(query, order_items));
        match bound {
            Ok(mut bound) => match self.end_with(mark, bound.plan) {
                Ok(plan) => {
                    bound.plan = plan;
                    Ok(bound)
                }
                Err(e) => {
                    self.ctes.truncate(mark);
                    Err(e)
                }
            },
            Err(e) => {
                self.ctes.truncate(mark);
                Err(e)
            }
        }
    }

    /// A query's body with its ORDER BY and LIMIT, its WITH names in scope.
    fn query_body(&mut self, query: &Query, order_items: &[OrderByExpr]) -> Result<BoundQuery> {
        let mut bound = match query.body.as_ref() {
            SetExpr::Select(select) => self.select(select, order_items)?,
            body => {
                let mut bound = self.set_expr(body)?;
                if !order_items.is_empty() {
                    bound.plan =
                        self.sort_output(bound.plan, &bound.names, &bound.kinds, order_items)?;
                }
                bound
            }
        };
        if let Some(limit_clause) = &query.limit_clause {
            let (limit, offset) = match limit_clause {
                LimitClause::LimitOffset {
                    limit,
                    offset,
                    limit_by,
                } => {
                    if !limit_by.is_empty() {
                        return Err(Error::unsupported("LIMIT BY"));
                    }
                    (limit.as_ref(), offset.as_ref().map(|o| &o.value))
                }
                LimitClause::OffsetCommaLimit { .. } => {
                    return Err(Error::unsupported("LIMIT offset, count"));
                }
            };
            let limit = limit.map(|e| self.count_expr(e)).transpose()?;
            let offset = offset.map(|e| self.count_expr(e)).transpose()?;
            bound.plan = Node::Limit {
                source: Box::new(bound.plan),
                limit,
                offset,
            };
        }
        Ok(bound)
    }

    /// A query body without the enclosing query's ORDER BY and LIMIT.
    pub(super) fn set_expr(&mut self, body: &SetExpr) -> Result<BoundQuery> {
        self.nested(1, stack::SET_OPERATION_UNITS, |binder| {
            binder.set_expr_level(body)
        })
    }

    /// One level of [`Binder::set_expr`].
    fn set_expr_level(&mut self, body: &SetExpr) -> Result<BoundQuery> {
        match body {
            SetExpr::Select(select) => self.select(select, &[]),
            SetExpr::Values(values) => self.values(values),
            SetExpr::Query(inner) => self.query_bound(inner),
            SetExpr::SetOperation {
                op,
                set_quantifier,
                left,
                right,
            } => {
                let op = match op {
                    ast::SetOperator::Union => SetOperator::Union,
                    ast::SetOperator::Except | ast::SetOperator::Minus => SetOperator::Except,
                    ast::SetOperator::Intersect => SetOperator::Intersect,
                };
                let all = match set_quantifier {
                    SetQuantifier::All => true,
                    SetQuantifier::Distinct | SetQuantifier::None => false,
                    other => return Err(Error::unsupported(format!("{other} in set operations"))),
                };
                let left = self.set_expr(left)?;
                let right = self.set_expr(right)?;
                if left.kinds.len() != right.kinds.len() {
                    return Err(Error::Type(
                        "each side of a set operation must have the same number of columns".into(),
                    ));
                }
                let kinds: Vec<Kind> = left
                    .kinds
                    .iter()
                    .zip(&right.kinds)
                    .map(|(l, r)| promoted_kind(*l, *r))
                    .collect();
                let left_plan = promote_columns(left.plan, &left.names, &left.kinds, &kinds);
                let right_plan = promote_columns(right.plan, &right.names, &right.kinds, &kinds);
                Ok(BoundQuery {
                    plan: Node::SetOperation {
                        op,
                        all,
                        left: Box::new(left_plan),
                        right: Box::new(right_plan),
                    },
                    names: left.names,
                    kinds,
                })
            }
            other => Err(Error::unsupported(format!("query body {other}"))),
        }
    }

    /// ORDER BY over a query's output columns (set operations, VALUES).
    fn sort_output(
        &mut self,
        plan: Node,
        names: &[String],
        kinds: &[Kind],
        items: &[OrderByExpr],
    ) -> Result<Node> {
        let scope = output_scope(names, kinds);
        let exprs: Vec<Expr> = (0..names.len())
            .map(|index| Expr::Column {
                index,
                name: names[index].clone(),
            })
            .collect();
        let mut keys = Vec::with_capacity(items.len());
        for item in items {
            let (descending, nulls_first) = sort_options(item)?;
            let expr = self.sort_expr(&item.expr, &scope, &exprs, names)?;
            keys.push(SortKey {
                expr,
                descending,
                nulls_first,
            });
        }
        Ok(Node::Sort {
            source: Box::new(plan),
            keys,
        })
    }

    /// A LIMIT or OFFSET count: a constant; a parameter is an integer.
    pub(super) fn count_expr(&mut self, e: &ast::Expr) -> Result<Expr> {
        let bound = self.constant(e)?;
        if let Expr::Param(i) = bound {
            self.infer_param(i, Kind::Int);
        }
        Ok(bound)
    }

    /// An ORDER BY key: an output column name, an ordinal, or an expression over input.
    pub(super) fn sort_expr(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
        exprs: &[Expr],
        names: &[String],
    ) -> Result<Expr> {
        if let ast::Expr::Identifier(id) = e {
            let name = ident(id);
            let mut found = names.iter().enumerate().filter(|(_, n)| **n == name);
            if let (Some((i, _)), None) = (found.next(), found.next()) {
                return Ok(exprs[i].clone());
            }
        }
        if let ast::Expr::Value(v) = e
            && let ast::Value::Number(text, _) = &v.value
        {
            let ordinal: usize = text
                .parse()
                .map_err(|_| Error::Type(format!("non-integer constant in ORDER BY: {text}")))?;
            return match ordinal.checked_sub(1).and_then(|i| exprs.get(i)) {
                Some(expr) => Ok(expr.clone()),
                None => Err(Error::Type(format!(
                    "ORDER BY position {ordinal} is not in select list"
                ))),
            };
        }
        self.expr(e, scope)
    }

    fn select(&mut self, select: &Select, order_items: &[OrderByExpr]) -> Result<BoundQuery> {
        let group_items: &[ast::Expr] = match &select.group_by {
            GroupByExpr::All(_) => return Err(Error::unsupported("GROUP BY ALL")),
            GroupByExpr::Expressions(exprs, modifiers) => {
                if !modifiers.is_empty() {
                    return Err(Error::unsupported("GROUP BY modifiers"));
                }
                exprs
            }
        };
        let distinct = match &select.distinct {
            None | Some(ast::Distinct::All) => DistinctClause::None,
            Some(ast::Distinct::Distinct) => DistinctClause::Rows,
            Some(ast::Distinct::On(on)) => DistinctClause::On(on),
        };
        refuse_other_dialects(select)?;
        // Aggregates and window functions are not allowed in FROM, WHERE or GROUP BY:
        // bind those with none.
        let saved = (self.aggregates.take(), self.windows.take());
        let named = self.set_named_windows(&select.named_window);
        let result = named.and_then(|named| {
            let result = self.select_body(select, group_items, distinct, order_items);
            self.named_windows = named;
            result
        });
        (self.aggregates, self.windows) = saved;
        result
    }

    fn select_body(
        &mut self,
        select: &Select,
        group_items: &[ast::Expr],
        distinct: DistinctClause<'_>,
        order_items: &[OrderByExpr],
    ) -> Result<BoundQuery> {
        let (mut source, scope) = self.from(&select.from)?;
        if let Some(selection) = &select.selection {
            let predicate = self.expr(selection, &scope)?;
            source = Node::Filter {
                source: Box::new(source),
                predicate,
            };
        }
        let mut group_by = Vec::with_capacity(group_items.len());
        for item in group_items {
            group_by.push(self.group_expr(item, &scope, &select.projection)?);
        }
        self.aggregates = Some(Vec::new());
        self.windows = Some(Vec::new());
        let (mut exprs, names) = self.select_list(&select.projection, &scope)?;
        let windows = self.windows.take();
        let having = match &select.having {
            Some(h) => Some(self.expr(h, &scope)?),
            None => None,
        };
        self.windows = windows;
        let mut keys = Vec::with_capacity(order_items.len());
        for item in order_items {
            let (descending, nulls_first) = sort_options(item)?;
            let expr = self.sort_expr(&item.expr, &scope, &exprs, &names)?;
            keys.push(SortKey {
                expr,
                descending,
                nulls_first,
            });
        }
        let mut on = Vec::new();
        if let DistinctClause::On(items) = distinct {
            for item in items {
                on.push(self.sort_expr(item, &scope, &exprs, &names)?);
            }
        }
        let calls = self.aggregates.take().unwrap_or_default();
        let mut windows = self.windows.take().unwrap_or_default();
        let mut row_kinds = scope.kinds();
        if !group_by.is_empty() || !calls.is_empty() || having.is_some() {
            exprs = exprs
                .into_iter()
                .map(|e| over_groups(super::expr::as_group_key(e, &scope), &group_by))
                .collect::<Result<_>>()?;
            for key in &mut keys {
                let expr =
                    std::mem::replace(&mut key.expr, Expr::Literal(crate::value::Value::Null));
                key.expr = over_groups(super::expr::as_group_key(expr, &scope), &group_by)?;
            }
            on = on
                .into_iter()
                .map(|e| over_groups(super::expr::as_group_key(e, &scope), &group_by))
                .collect::<Result<_>>()?;
            let having = having.map(|h| over_groups(h, &group_by)).transpose()?;
            let mut error = None;
            for (call, _) in &mut windows {
                let taken = std::mem::replace(call, empty_call());
                *call = taken.map_exprs(&mut |e| match over_groups(
                    super::expr::as_group_key(e, &scope),
                    &group_by,
                ) {
                    Ok(e) => e,
                    Err(e) => {
                        error.get_or_insert(e);
                        Expr::Literal(crate::value::Value::Null)
                    }
                });
            }
            if let Some(error) = error {
                return Err(error);
            }
            row_kinds = group_by
                .iter()
                .map(|g| g.kind(&row_kinds, &self.params))
                .chain(calls.iter().map(|(_, kind)| *kind))
                .collect();
            source = Node::Aggregate {
                source: Box::new(source),
                group_by,
                aggregates: calls.into_iter().map(|(call, _)| call).collect(),
            };
            if let Some(predicate) = having {
                source = Node::Filter {
                    source: Box::new(source),
                    predicate,
                };
            }
        }
        if !windows.is_empty() {
            // Window functions see the rows after WHERE, GROUP BY and HAVING.
            let width = row_kinds.len();
            row_kinds.extend(windows.iter().map(|(_, kind)| *kind));
            exprs = exprs.into_iter().map(|e| over_windows(e, width)).collect();
            for key in &mut keys {
                let expr =
                    std::mem::replace(&mut key.expr, Expr::Literal(crate::value::Value::Null));
                key.expr = over_windows(expr, width);
            }
            on = on.into_iter().map(|e| over_windows(e, width)).collect();
            source = Node::Window {
                source: Box::new(source),
                calls: windows.into_iter().map(|(call, _)| call).collect(),
            };
        }
        let kinds: Vec<Kind> = exprs
            .iter()
            .map(|e| e.kind(&row_kinds, &self.params))
            .collect();
        // Without a projection the output is the source's columns under the source's
        // own names, which an alias list (`AS v (x)`) may have changed in the scope.
        let identity = exprs.len() == row_kinds.len()
            && exprs
                .iter()
                .enumerate()
                .all(|(i, e)| matches!(e, Expr::Column { index, .. } if *index == i))
            && names.iter().zip(&scope.columns).all(|(n, c)| *n == c.name)
            && names == source.columns();
        let plan = if let DistinctClause::On(_) = distinct {
            let keys = distinct_on_order(&on, keys)?;
            let first_of_each = Node::DistinctOn {
                source: Box::new(sorted(source, keys)),
                on,
            };
            match identity {
                true => first_of_each,
                false => Node::Project {
                    source: Box::new(first_of_each),
                    exprs,
                    names: names.clone(),
                },
            }
        } else if let DistinctClause::Rows = distinct {
            let projected = Node::Distinct {
                source: Box::new(Node::Project {
                    source: Box::new(source),
                    exprs: exprs.clone(),
                    names: names.clone(),
                }),
            };
            let keys = keys
                .into_iter()
                .map(|mut key| match exprs.iter().position(|e| *e == key.expr) {
                    Some(index) => {
                        key.expr = Expr::Column {
                            index,
                            name: names[index].clone(),
                        };
                        Ok(key)
                    }
                    None => Err(Error::Type(
                        "for SELECT DISTINCT, ORDER BY expressions must appear in select list"
                            .into(),
                    )),
                })
                .collect::<Result<Vec<_>>>()?;
            sorted(projected, keys)
        } else {
            let plan = sorted(source, keys);
            match identity {
                true => plan,
                false => Node::Project {
                    source: Box::new(plan),
                    exprs,
                    names: names.clone(),
                },
            }
        };
        Ok(BoundQuery { plan, names, kinds })
    }

    /// A GROUP BY item: an expression over the input, or an output ordinal or alias.
    fn group_expr(
        &mut self,
        item: &ast::Expr,
        scope: &Scope,
        projection: &[SelectItem],
    ) -> Result<Expr> {
        if let ast::Expr::Value(v) = item
            && let ast::Value::Number(text, _) = &v.value
            && let Ok(ordinal) = text.parse::<usize>()
        {
            let target = ordinal.checked_sub(1).and_then(|i| projection.get(i));
            return match target {
                Some(SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. }) => {
                    self.expr(e, scope)
                }
                _ => Err(Error::Type(format!(
                    "GROUP BY position {ordinal} is not in select list"
                ))),
            };
        }
        match self.expr(item, scope) {
            Err(Error::UnknownColumn(name)) => {
                let alias = projection.iter().find_map(|p| match p {
                    SelectItem::ExprWithAlias { expr, alias } if ident(alias) == name => Some(expr),
                    _ => None,
                });
                match alias {
                    Some(expr) => self.expr(expr, scope),
                    None => Err(Error::UnknownColumn(name)),
                }
            }
            other => other,
        }
    }

    /// The select list: bound expressions and output names.
    pub(super) fn select_list(
        &mut self,
        projection: &[SelectItem],
        scope: &Scope,
    ) -> Result<(Vec<Expr>, Vec<String>)> {
        let mut exprs = Vec::new();
        let mut names = Vec::new();
        for item in projection {
            match item {
                SelectItem::Wildcard(options) => {
                    reject_wildcard_options(options)?;
                    if scope.columns.is_empty() {
                        return Err(Error::Type(
                            "SELECT * with no tables specified is not valid".into(),
                        ));
                    }
                    push_all(scope, None, &mut exprs, &mut names);
                }
                SelectItem::QualifiedWildcard(kind, options) => {
                    reject_wildcard_options(options)?;
                    let SelectItemQualifiedWildcardKind::ObjectName(name) = kind else {
                        return Err(Error::unsupported(format!("{kind}.*")));
                    };
                    let table = object_name(name)?;
                    if !scope
                        .columns
                        .iter()
                        .any(|c| c.table.as_deref() == Some(&table))
                    {
                        return Err(Error::UnknownTable(table));
                    }
                    push_all(scope, Some(&table), &mut exprs, &mut names);
                }
                SelectItem::UnnamedExpr(e) => {
                    exprs.push(self.select_item(e, scope)?);
                    names.push(column_name(e));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    exprs.push(self.select_item(expr, scope)?);
                    names.push(ident(alias));
                }
                SelectItem::ExprWithAliases { .. } => {
                    return Err(Error::unsupported("multiple aliases"));
                }
            }
        }
        Ok((exprs, names))
    }

    /// One expression of a SELECT list: a bare column reference returns the column's
    /// stored value (a CHAR(n) value blank-padded, see `expr.rs`).
    fn select_item(&mut self, e: &ast::Expr, scope: &Scope) -> Result<Expr> {
        let bound = self.expr(e, scope)?;
        Ok(match e {
            ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_) => {
                super::expr::unpadded(bound)
            }
            _ => bound,
        })
    }

    /// The table called `name`, as the transaction sees it, to write or copy (a view
    /// is read-only: see `view.rs`).
    pub(super) fn table(&mut self, name: &ast::ObjectName) -> Result<TableInfo> {
        self.refuse_system_write(name, "copy")?;
        let name = user_object_name(name)?;
        match catalog::find_table(self.txn, &name)? {
            Some(table) => Ok(table),
            None if crate::view_catalog::find_view(self.txn, &name)?.is_some() => {
                Err(Error::unsupported(format!(
                    "INSERT, UPDATE, DELETE and COPY on view \"{name}\" (views are \
                     read-only; COPY (SELECT ...) TO reads one)"
                )))
            }
            None => Err(Error::UnknownTable(name)),
        }
    }

    fn values(&mut self, values: &ast::Values) -> Result<BoundQuery> {
        if values.explicit_row || values.value_keyword {
            return Err(Error::unsupported("VALUES ROW(...)"));
        }
        let mut rows = Vec::with_capacity(values.rows.len());
        let width = values.rows.first().map_or(0, |r| r.content.len());
        for row in &values.rows {
            if row.content.len() != width {
                return Err(Error::Type(
                    "VALUES lists must all be the same length".into(),
                ));
            }
            let bound = row
                .content
                .iter()
                .map(|e| self.constant(e))
                .collect::<Result<Vec<_>>>()?;
            rows.push(bound);
        }
        let names: Vec<String> = (1..=width).map(|i| format!("column{i}")).collect();
        let mut kinds = vec![Kind::Unknown; width];
        for row in &rows {
            for (kind, e) in kinds.iter_mut().zip(row) {
                *kind = promoted_kind(*kind, e.kind(&[], &self.params));
            }
        }
        let rows = rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .zip(&kinds)
                    .map(|(e, to)| {
                        let from = e.kind(&[], &self.params);
                        promote(e, from, *to)
                    })
                    .collect()
            })
            .collect();
        Ok(BoundQuery {
            plan: Node::Values {
                rows,
                columns: names.clone(),
            },
            names,
            kinds,
        })
    }
}

/// What a SELECT's DISTINCT clause asks for.
#[derive(Clone, Copy)]
enum DistinctClause<'q> {
    /// No DISTINCT (or `ALL`).
    None,
    /// `DISTINCT`: no two rows equal.
    Rows,
    /// `DISTINCT ON (...)`: one row per value of these expressions.
    On(&'q [ast::Expr]),
}

/// The sort below a `DISTINCT ON (on)`: the ORDER BY `keys` that are ON expressions,
/// then the ON expressions ORDER BY leaves out (ascending), then the rest of ORDER BY.
/// An ON expression after an ORDER BY item that is not one is PostgreSQL's error.
fn distinct_on_order(on: &[Expr], keys: Vec<SortKey>) -> Result<Vec<SortKey>> {
    let mismatch = || {
        Error::Type("SELECT DISTINCT ON expressions must match initial ORDER BY expressions".into())
    };
    let (mut order, mut rest) = (Vec::new(), Vec::new());
    for key in keys {
        match on.contains(&key.expr) {
            true if !rest.is_empty() => return Err(mismatch()),
            true => order.push(key),
            false => rest.push(key),
        }
    }
    for e in on {
        if !order.iter().any(|key| key.expr == *e) {
            if !rest.is_empty() {
                return Err(mismatch());
            }
            order.push(SortKey {
                expr: e.clone(),
                descending: false,
                nulls_first: false,
            });
        }
    }
    order.extend(rest);
    Ok(order)
}

fn sorted(plan: Node, keys: Vec<SortKey>) -> Node {
    match keys.is_empty() {
        true => plan,
        false => Node::Sort {
            source: Box::new(plan),
            keys,
        },
    }
}

/// A placeholder while a window call is rewritten in place.
fn empty_call() -> crate::plan::WindowCall {
    crate::plan::WindowCall {
        function: crate::plan::WindowFunction::RowNumber,
        args: Vec::new(),
        partition_by: Vec::new(),
        order_by: Vec::new(),
        frame: crate::plan::WindowFrame::default(),
        filter: None,
    }
}

/// (descending, nulls_first) of an ORDER BY item; PostgreSQL puts NULL last ascending.
pub(super) fn sort_options(item: &OrderByExpr) -> Result<(bool, bool)> {
    if item.with_fill.is_some() {
        return Err(Error::unsupported("WITH FILL"));
    }
    let descending = match &item.options.sort {
        None | Some(ast::OrderBySort::Asc) => false,
        Some(ast::OrderBySort::Desc) => true,
        Some(ast::OrderBySort::Using(_)) => {
            return Err(Error::unsupported("ORDER BY ... USING"));
        }
    };
    Ok((descending, item.options.nulls_first.unwrap_or(descending)))
}

/// A scope of a query's output columns (no table label).
fn output_scope(names: &[String], kinds: &[Kind]) -> Scope {
    Scope {
        columns: names
            .iter()
            .zip(kinds)
            .map(|(name, kind)| ScopeColumn {
                table: None,
                name: name.clone(),
                kind: *kind,
                padded: false,
                narrow_int: false,
                qualified_only: false,
            })
            .collect(),
    }
}

/// The scope of a table's columns, labelled with `label` (its name or alias).
pub(super) fn table_scope(table: &TableInfo, label: &str) -> Scope {
    Scope {
        columns: table
            .columns
            .iter()
            .map(|c| ScopeColumn {
                table: Some(label.to_string()),
                name: c.name.clone(),
                kind: c.sql_type.kind(),
                padded: super::expr::blank_padded(c.sql_type),
                narrow_int: super::expr::narrow_int(c.sql_type),
                qualified_only: false,
            })
            .collect(),
    }
}

fn push_all(scope: &Scope, table: Option<&str>, exprs: &mut Vec<Expr>, names: &mut Vec<String>) {
    for (index, column) in scope.columns.iter().enumerate() {
        let wanted = match table {
            Some(t) => column.table.as_deref() == Some(t),
            None => !column.qualified_only,
        };
        if wanted {
            exprs.push(Expr::Column {
                index,
                name: column.name.clone(),
            });
            names.push(column.name.clone());
        }
    }
}

fn reject_wildcard_options(options: &ast::WildcardAdditionalOptions) -> Result<()> {
    if options.opt_ilike.is_some()
        || options.opt_exclude.is_some()
        || options.opt_except.is_some()
        || options.opt_replace.is_some()
        || options.opt_rename.is_some()
    {
        return Err(Error::unsupported("wildcard options"));
    }
    Ok(())
}

/// Refuses, by name, the clauses of a SELECT that other SQL dialects have and H does
/// not (`TOP`, `SELECT INTO`, `QUALIFY`, ...): the one list plain and locking SELECTs
/// check.
pub(super) fn refuse_other_dialects(select: &ast::Select) -> Result<()> {
    let unsupported = [
        (select.top.is_some(), "TOP"),
        (select.into.is_some(), "SELECT INTO"),
        (!select.lateral_views.is_empty(), "LATERAL VIEW"),
        (select.prewhere.is_some(), "PREWHERE"),
        (!select.connect_by.is_empty(), "CONNECT BY"),
        (!select.cluster_by.is_empty(), "CLUSTER BY"),
        (!select.distribute_by.is_empty(), "DISTRIBUTE BY"),
        (!select.sort_by.is_empty(), "SORT BY"),
        (select.qualify.is_some(), "QUALIFY"),
        (select.exclude.is_some(), "EXCLUDE"),
        (select.value_table_mode.is_some(), "SELECT AS VALUE"),
        (!select.optimizer_hints.is_empty(), "optimizer hints"),
        (select.select_modifiers.is_some(), "select modifiers"),
    ];
    match unsupported.iter().find(|(present, _)| *present) {
        Some((_, clause)) => Err(Error::unsupported(*clause)),
        None => Ok(()),
    }
}
