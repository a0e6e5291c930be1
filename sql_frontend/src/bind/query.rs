//! Binding queries: SELECT over one table (or none), VALUES, ORDER BY, LIMIT/OFFSET.
//!
//! The plan of a query is built bottom-up as
//! `Limit(Project(Sort(Filter(SeqScan))))`: ORDER BY is evaluated on the input rows
//! (so it can use columns that are not selected), with an output alias or a 1-based
//! ordinal standing for the selected expression, as in PostgreSQL.

use sqlparser::ast::{
    self, GroupByExpr, LimitClause, OrderByKind, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, TableFactor,
};

use super::expr::{Scope, ScopeColumn};
use super::{Binder, ident, object_name, user_object_name};
use crate::catalog::{self, TableInfo};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{Plan, SortKey};
use crate::value::Kind;

/// The name PostgreSQL gives an output column that is not a plain column reference.
const ANONYMOUS_COLUMN: &str = "?column?";

/// A bound SELECT body before ORDER BY and LIMIT are applied.
struct SelectParts {
    source: Plan,
    scope: Scope,
    exprs: Vec<Expr>,
    names: Vec<String>,
    /// The projection is exactly the input columns, in order (`SELECT *`).
    identity: bool,
}

impl Binder<'_> {
    pub(super) fn query(&mut self, query: &Query) -> Result<Plan> {
        let unsupported = [
            (query.with.is_some(), "WITH"),
            (query.fetch.is_some(), "FETCH"),
            (!query.locks.is_empty(), "FOR UPDATE/SHARE"),
            (query.for_clause.is_some(), "FOR clauses"),
            (query.settings.is_some(), "SETTINGS"),
            (query.format_clause.is_some(), "FORMAT"),
            (!query.pipe_operators.is_empty(), "pipe operators"),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        let parts = match query.body.as_ref() {
            SetExpr::Select(select) => self.select(select)?,
            SetExpr::Values(values) => self.values(values)?,
            SetExpr::Query(inner) if query.order_by.is_none() && query.limit_clause.is_none() => {
                return self.query(inner);
            }
            SetExpr::SetOperation { op, .. } => {
                return Err(Error::unsupported(format!("{op} of queries")));
            }
            other => return Err(Error::unsupported(format!("query body {other}"))),
        };
        let mut plan = parts.source;
        if let Some(order_by) = &query.order_by {
            if order_by.interpolate.is_some() {
                return Err(Error::unsupported("INTERPOLATE"));
            }
            let OrderByKind::Expressions(items) = &order_by.kind else {
                return Err(Error::unsupported("ORDER BY ALL"));
            };
            let mut keys = Vec::with_capacity(items.len());
            for item in items {
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
                let expr = self.sort_expr(&item.expr, &parts.scope, &parts.exprs, &parts.names)?;
                // PostgreSQL: NULL is larger than every value, so NULLS LAST when ascending.
                let nulls_first = item.options.nulls_first.unwrap_or(descending);
                keys.push(SortKey {
                    expr,
                    descending,
                    nulls_first,
                });
            }
            plan = Plan::Sort {
                source: Box::new(plan),
                keys,
            };
        }
        if !parts.identity {
            plan = Plan::Project {
                source: Box::new(plan),
                exprs: parts.exprs,
                names: parts.names,
            };
        }
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
            plan = Plan::Limit {
                source: Box::new(plan),
                limit,
                offset,
            };
        }
        Ok(plan)
    }

    /// A LIMIT or OFFSET count: a constant; a parameter is an integer.
    fn count_expr(&mut self, e: &ast::Expr) -> Result<Expr> {
        let bound = self.constant(e)?;
        if let Expr::Param(i) = bound {
            self.infer_param(i, Kind::Int);
        }
        Ok(bound)
    }

    /// An ORDER BY key: an output column name, an ordinal, or an expression over input.
    fn sort_expr(
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

    fn select(&mut self, select: &Select) -> Result<SelectParts> {
        let group_by = match &select.group_by {
            GroupByExpr::All(_) => true,
            GroupByExpr::Expressions(exprs, modifiers) => {
                !exprs.is_empty() || !modifiers.is_empty()
            }
        };
        let unsupported = [
            (select.distinct.is_some(), "DISTINCT"),
            (select.top.is_some(), "TOP"),
            (select.into.is_some(), "SELECT INTO"),
            (select.from.len() > 1, "joins (several tables in FROM)"),
            (select.from.iter().any(|t| !t.joins.is_empty()), "JOIN"),
            (!select.lateral_views.is_empty(), "LATERAL VIEW"),
            (select.prewhere.is_some(), "PREWHERE"),
            (!select.connect_by.is_empty(), "CONNECT BY"),
            (group_by, "GROUP BY"),
            (select.having.is_some(), "HAVING"),
            (!select.cluster_by.is_empty(), "CLUSTER BY"),
            (!select.distribute_by.is_empty(), "DISTRIBUTE BY"),
            (!select.sort_by.is_empty(), "SORT BY"),
            (!select.named_window.is_empty(), "WINDOW"),
            (select.qualify.is_some(), "QUALIFY"),
            (select.exclude.is_some(), "EXCLUDE"),
            (select.value_table_mode.is_some(), "SELECT AS VALUE"),
            (!select.optimizer_hints.is_empty(), "optimizer hints"),
            (select.select_modifiers.is_some(), "select modifiers"),
        ];
        if let Some((_, clause)) = unsupported.iter().find(|(present, _)| *present) {
            return Err(Error::unsupported(*clause));
        }
        let (mut source, scope) = match select.from.first() {
            None => (
                Plan::Values {
                    rows: vec![Vec::new()],
                    columns: Vec::new(),
                },
                Scope::default(),
            ),
            Some(from) => self.table_factor(&from.relation)?,
        };
        if let Some(selection) = &select.selection {
            let predicate = self.expr(selection, &scope)?;
            source = Plan::Filter {
                source: Box::new(source),
                predicate,
            };
        }
        let mut exprs = Vec::new();
        let mut names = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::Wildcard(options) => {
                    reject_wildcard_options(options)?;
                    if scope.columns.is_empty() {
                        return Err(Error::Type(
                            "SELECT * with no tables specified is not valid".into(),
                        ));
                    }
                    push_all(&scope, None, &mut exprs, &mut names);
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
                    push_all(&scope, Some(&table), &mut exprs, &mut names);
                }
                SelectItem::UnnamedExpr(e) => {
                    let bound = self.expr(e, &scope)?;
                    names.push(match &bound {
                        Expr::Column { name, .. } => name.clone(),
                        _ => ANONYMOUS_COLUMN.to_string(),
                    });
                    exprs.push(bound);
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    exprs.push(self.expr(expr, &scope)?);
                    names.push(ident(alias));
                }
                SelectItem::ExprWithAliases { .. } => {
                    return Err(Error::unsupported("multiple aliases"));
                }
            }
        }
        let identity = exprs.len() == scope.columns.len()
            && exprs
                .iter()
                .enumerate()
                .all(|(i, e)| matches!(e, Expr::Column { index, .. } if *index == i))
            && names.iter().zip(&scope.columns).all(|(n, c)| *n == c.name);
        Ok(SelectParts {
            source,
            scope,
            exprs,
            names,
            identity,
        })
    }

    /// A table in FROM: its scan and the scope of its columns.
    fn table_factor(&mut self, factor: &TableFactor) -> Result<(Plan, Scope)> {
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
            return Err(Error::unsupported(format!(
                "FROM {factor} (subqueries, functions)"
            )));
        };
        if args.is_some() {
            return Err(Error::unsupported("table functions"));
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
        let table = self.table(name)?;
        let label = match alias {
            Some(alias) if !alias.columns.is_empty() => {
                return Err(Error::unsupported("column aliases on tables"));
            }
            Some(alias) => ident(&alias.name),
            None => table.name().to_string(),
        };
        let scope = table_scope(&table, &label);
        Ok((Plan::SeqScan { table }, scope))
    }

    /// The table called `name`, as the transaction sees it.
    pub(super) fn table(&mut self, name: &ast::ObjectName) -> Result<TableInfo> {
        let name = user_object_name(name)?;
        catalog::table(self.txn, &name)
    }

    fn values(&mut self, values: &ast::Values) -> Result<SelectParts> {
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
        let kinds: Vec<Kind> = match rows.first() {
            Some(first) => first.iter().map(|e| e.kind(&[], &self.params)).collect(),
            None => Vec::new(),
        };
        let scope = Scope {
            columns: names
                .iter()
                .zip(kinds)
                .map(|(name, kind)| ScopeColumn {
                    table: None,
                    name: name.clone(),
                    kind,
                })
                .collect(),
        };
        let exprs = (0..width)
            .map(|index| Expr::Column {
                index,
                name: names[index].clone(),
            })
            .collect();
        Ok(SelectParts {
            source: Plan::Values {
                rows,
                columns: names.clone(),
            },
            scope,
            exprs,
            names,
            identity: true,
        })
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
            })
            .collect(),
    }
}

fn push_all(scope: &Scope, table: Option<&str>, exprs: &mut Vec<Expr>, names: &mut Vec<String>) {
    for (index, column) in scope.columns.iter().enumerate() {
        if table.is_none_or(|t| column.table.as_deref() == Some(t)) {
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
