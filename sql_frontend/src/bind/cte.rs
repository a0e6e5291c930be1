//! WITH: common table expressions, plain and RECURSIVE.
//!
//! ## Scope
//!
//! A query's WITH queries are bound in order, each seeing the ones before it, and pushed
//! on the binder's stack of WITH names ([`CteEntry`]); a name in FROM is looked up
//! there first (innermost and latest first), so a WITH query hides a table of the same
//! name, then among tables and views. The names go out of scope when the query that
//! holds the WITH ends. A view's or function's stored query sees none of them (`view.rs`
//! and `routine.rs` set the stack aside while binding one).
//!
//! ## Computed once, or inlined
//!
//! Each WITH query is bound once, where it is written, into a plan kept with its entry;
//! every reference becomes a [`Node::CteScan`] with a provisional id. When the query
//! holding the WITH is bound, each WITH query is placed (last first, so that one naming
//! an earlier one is placed before that one is), its scans rewritten:
//!
//! - named more than once (or `AS MATERIALIZED`): its plan becomes a subquery plan of
//!   the statement, which the scans name, and runs once per statement, its rows shared
//!   by the scans (`exec/cte.rs`) — "computed once";
//! - named once (or `AS NOT MATERIALIZED`): its plan replaces the scan, as PostgreSQL 12
//!   inlines such a query, so the optimiser sees through it and a LIMIT stops it early;
//! - reading a column of an enclosing query (or the working table of a recursive query
//!   it sits in): inlined at each reference, since rows computed once would be those of
//!   one outer row. Such a query may only be named where it could be written (at the
//!   same depth of subqueries): the columns its plan reads are counted in levels out
//!   from there. Elsewhere it is `Unsupported`.
//!
//! A WITH query never named is not run (it was still bound, so its errors are
//! reported, as PostgreSQL reports them). A WITH query's plan runs where it is named,
//! so each reference adds the levels and stack its body took to the statement's
//! (`stack.rs`): a chain of WITH queries each naming the one before is as deep as it is
//! long, and past [`stack::MAX_NESTING_DEPTH`] levels it is `TooComplex`. Copies of
//! plans inlined more than once are bounded by [`MAX_INLINED_NODES`]. A recursive
//! query named more than once always runs once (copies would share its working table).
//!
//! ## WITH RECURSIVE
//!
//! A query of the form `base UNION [ALL] recursive` that names itself in `recursive`
//! is a [`Node::RecursiveUnion`]: `base` is bound first (naming the query there is
//! PostgreSQL's "recursive reference ... must not appear within its non-recursive
//! term"), its columns give the query's names and types, then `recursive` is bound with
//! the query's name standing for the working table ([`Node::WorkTableScan`]), at most
//! once and not inside a subquery expression (an uncorrelated subquery runs once per
//! statement, which would freeze the working table), as PostgreSQL requires. The
//! recursive term's columns are cast to the base's types. A query of another form that
//! names itself is PostgreSQL's "does not have the form" error; one that does not name
//! itself is an ordinary WITH query. Running it (and the bound on its rounds) is
//! `exec/cte.rs`'s.

use sqlparser::ast::{self, CteAsMaterialized, Query, SetExpr, SetQuantifier, TableAlias, With};

use super::expr::{Scope, ScopeColumn};
use super::scalar::{promote_columns, promoted_kind};
use super::{Binder, ident};
use crate::error::{Error, Result};
use crate::expr::{Expr, SubqueryId};
use crate::plan::{Node, SetOperator};
use crate::stack;
use crate::value::Kind;

/// A WITH name in scope.
#[derive(Debug)]
pub(super) struct CteEntry {
    name: String,
    /// Levels of nesting and units of stack its plan adds where it is named (see
    /// [`Binder::cte_body`]).
    levels: usize,
    units: usize,
    /// Its column names (after the alias list) and static kinds.
    names: Vec<String>,
    kinds: Vec<Kind>,
    /// Which of its columns are int2/int4 (`int_width.rs`).
    narrow: Vec<bool>,
    kind: CteKind,
}

#[derive(Debug)]
enum CteKind {
    /// A WITH query: its plan (placed when the query holding the WITH ends), the
    /// provisional id its scans carry until then, and the first of the subqueries
    /// bound after it (which may scan it).
    Query {
        id: SubqueryId,
        first_subquery: usize,
        plan: Box<Node>,
        references: usize,
        /// Whether its plan reads columns of an enclosing query (or a working table),
        /// and how many enclosing scopes there were where it was written.
        correlated: bool,
        outer_len: usize,
        materialized: Option<MaterializedHint>,
    },
    /// A recursive query's own name inside its recursive term.
    WorkTable {
        id: usize,
        outer_len: usize,
        references: usize,
    },
    /// A name that may not be used here; naming it is this error.
    Forbidden(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MaterializedHint {
    Materialized,
    NotMaterialized,
}

/// `names` with the first ones renamed by `aliases` (a WITH query's column list).
fn renamed(name: &str, mut names: Vec<String>, aliases: &[String]) -> Result<Vec<String>> {
    if aliases.len() > names.len() {
        return Err(Error::Type(format!(
            "WITH query \"{name}\" has {} columns available but {} columns specified",
            names.len(),
            aliases.len()
        )));
    }
    for (name, alias) in names.iter_mut().zip(aliases) {
        name.clone_from(alias);
    }
    Ok(names)
}

/// `node` with every scan of WITH query `id` replaced by `body` (named `names`).
fn inline(node: Node, id: SubqueryId, body: &Node, names: &[String]) -> Node {
    match node {
        Node::CteScan { id: scanned, .. } if scanned == id => {
            match body.columns().as_slice() == names {
                true => body.clone(),
                false => Node::Project {
                    source: Box::new(body.clone()),
                    exprs: names
                        .iter()
                        .enumerate()
                        .map(|(index, name)| Expr::Column {
                            index,
                            name: name.clone(),
                        })
                        .collect(),
                    names: names.to_vec(),
                },
            }
        }
        other => other.map_inputs(&mut |child| inline(child, id, body, names)),
    }
}

/// The most plan nodes that copying WITH queries into the places that name them may
/// add to one statement (see [`Binder::end_with`]).
pub const MAX_INLINED_NODES: usize = 100_000;

/// The number of nodes of an operator tree.
fn size(node: &Node) -> usize {
    node.inputs()
        .into_iter()
        .map(size)
        .fold(1, usize::saturating_add)
}

/// The provisional id of the `n`th WITH query of a statement: far from any subquery's,
/// replaced by a real one (or the query's plan) when the query holding it ends.
fn provisional(n: usize) -> SubqueryId {
    SubqueryId(usize::MAX - n)
}

impl Binder<'_> {
    /// Binds the WITH queries of a query and brings their names into scope; the caller
    /// binds the query's body, then calls [`Binder::end_with`] with the length the
    /// stack of names had before (or truncates it there on an error).
    pub(super) fn begin_with(&mut self, with: &With) -> Result<()> {
        let mark = self.ctes.len();
        for cte in &with.cte_tables {
            if cte.from.is_some() {
                return Err(Error::unsupported("FROM in a WITH query"));
            }
            let name = ident(&cte.alias.name);
            if self.ctes[mark..].iter().any(|e| e.name == name) {
                return Err(Error::Type(format!(
                    "WITH query name \"{name}\" specified more than once"
                )));
            }
            let aliases: Vec<String> = cte.alias.columns.iter().map(|c| ident(&c.name)).collect();
            let hint = cte.materialized.as_ref().map(|m| match m {
                CteAsMaterialized::Materialized => MaterializedHint::Materialized,
                CteAsMaterialized::NotMaterialized => MaterializedHint::NotMaterialized,
            });
            let entry = match with.recursive {
                true => self.recursive_cte(&name, &aliases, &cte.query, hint)?,
                false => self.plain_cte(&name, &aliases, &cte.query, hint)?,
            };
            self.ctes.push(entry);
        }
        Ok(())
    }

    /// Ends the scope of the WITH queries pushed since `mark`, placing each (see the
    /// module comment) into `plan`, the query that holds them, and the subqueries
    /// bound since.
    pub(super) fn end_with(&mut self, mark: usize, mut plan: Node) -> Result<Node> {
        let entries = self.ctes.split_off(mark.min(self.ctes.len()));
        for entry in entries.into_iter().rev() {
            let CteKind::Query {
                id,
                plan: body,
                references,
                correlated,
                materialized,
                first_subquery,
                ..
            } = entry.kind
            else {
                continue;
            };
            if references == 0 {
                continue;
            }
            let body = *body;
            // Two copies of one recursive query would share its working table.
            let recursive = matches!(body, Node::RecursiveUnion { .. });
            let inlined = correlated
                || match materialized {
                    Some(MaterializedHint::Materialized) => false,
                    Some(MaterializedHint::NotMaterialized) => !recursive || references == 1,
                    None => references == 1,
                };
            if inlined && references > 1 {
                // Copies of a plan that names other copied plans multiply: bound them.
                let copies = size(&body).saturating_mul(references);
                self.inlined_nodes = self.inlined_nodes.saturating_add(copies);
                if self.inlined_nodes > MAX_INLINED_NODES {
                    return Err(Error::TooComplex(format!(
                        "statement too complex: its WITH queries that read columns of an \
                         enclosing query are copied into each place that names them, \
                         more than {MAX_INLINED_NODES} plan nodes in all (while copying \
                         \"{}\")",
                        entry.name
                    )));
                }
            }
            // What replaces the scans: the plan itself, or a scan of its own slot.
            let (replacement, names) = match inlined {
                true => (body, entry.names),
                false => {
                    self.subqueries.push(body);
                    let scan = Node::CteScan {
                        id: SubqueryId(self.subqueries.len() - 1),
                        name: entry.name,
                        columns: entry.names.clone(),
                    };
                    (scan, entry.names)
                }
            };
            plan = inline(plan, id, &replacement, &names);
            for k in first_subquery..self.subqueries.len() {
                let tree = std::mem::replace(&mut self.subqueries[k], Node::empty());
                self.subqueries[k] = inline(tree, id, &replacement, &names);
            }
        }
        Ok(plan)
    }

    /// Binds a WITH query that is not recursive.
    fn plain_cte(
        &mut self,
        name: &str,
        aliases: &[String],
        query: &Query,
        materialized: Option<MaterializedHint>,
    ) -> Result<CteEntry> {
        let (bound, outer, work) = self.cte_body(|binder| binder.query_bound(query))?;
        let correlated = outer > 0 || work > 0;
        let (names, kinds) = (renamed(name, bound.names, aliases)?, bound.kinds);
        Ok(self.query_entry(name, names, kinds, bound.plan, correlated, materialized))
    }

    /// Runs `bind` for a WITH query's body; also says how many of the names in it read
    /// a column of an enclosing query, and how many a working table.
    ///
    /// It also measures the levels of nesting and units of stack the body's plan takes
    /// beyond where it is written (`self.measured`): a plan named elsewhere runs there
    /// (inlined, or through a scan that runs it on first pull), so each reference adds
    /// them to the statement's depth and stack budget (`stack.rs`), and a chain of WITH
    /// queries each naming the one before is as deep as it is long.
    fn cte_body<T>(
        &mut self,
        bind: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<(T, usize, usize)> {
        let escapes = self.cte_escapes.get();
        let work_references = self.work_table_references;
        let floor = self.cte_floor.replace(self.outer.len());
        let saved = (self.max_depth, self.max_units);
        (self.max_depth, self.max_units) = (self.depth, self.units);
        let bound = bind(self);
        self.measured = (self.max_depth - self.depth, self.max_units - self.units);
        (self.max_depth, self.max_units) =
            (saved.0.max(self.max_depth), saved.1.max(self.max_units));
        self.cte_floor.set(floor);
        let outer = self.cte_escapes.get() - escapes;
        let work = self.work_table_references - work_references;
        Ok((bound?, outer, work))
    }

    fn query_entry(
        &mut self,
        name: &str,
        names: Vec<String>,
        kinds: Vec<Kind>,
        plan: Node,
        correlated: bool,
        materialized: Option<MaterializedHint>,
    ) -> CteEntry {
        self.cte_count += 1;
        let (levels, units) = self.measured;
        CteEntry {
            name: name.to_string(),
            levels,
            units,
            names,
            kinds,
            narrow: super::int_width::narrow_outputs(&plan),
            kind: CteKind::Query {
                id: provisional(self.cte_count),
                first_subquery: self.subqueries.len(),
                plan: Box::new(plan),
                references: 0,
                correlated,
                outer_len: self.outer.len(),
                materialized,
            },
        }
    }

    /// Binds a query of WITH RECURSIVE (see the module comment).
    fn recursive_cte(
        &mut self,
        name: &str,
        aliases: &[String],
        query: &Query,
        materialized: Option<MaterializedHint>,
    ) -> Result<CteEntry> {
        let simple = query.with.is_none()
            && query.order_by.is_none()
            && query.limit_clause.is_none()
            && query.fetch.is_none();
        let (left, right, all) = match query.body.as_ref() {
            SetExpr::SetOperation {
                op: ast::SetOperator::Union,
                set_quantifier,
                left,
                right,
            } if simple => {
                let all = match set_quantifier {
                    SetQuantifier::All => true,
                    SetQuantifier::Distinct | SetQuantifier::None => false,
                    other => return Err(Error::unsupported(format!("{other} in set operations"))),
                };
                (left, right, all)
            }
            _ => {
                let message = format!(
                    "recursive query \"{name}\" does not have the form non-recursive-term \
                     UNION [ALL] recursive-term"
                );
                return self.with_name(name, CteKind::Forbidden(message), |binder| {
                    binder.plain_cte(name, aliases, query, materialized)
                });
            }
        };
        let message = format!(
            "recursive reference to query \"{name}\" must not appear within its \
             non-recursive term"
        );
        let ((base, recursive, references), outer, work) = self.cte_body(|binder| {
            let base = binder.with_name(name, CteKind::Forbidden(message), |binder| {
                binder.set_expr(left)
            })?;
            let names = renamed(name, base.names.clone(), aliases)?;
            let id = binder.work_tables;
            binder.work_tables += 1;
            binder.ctes.push(CteEntry {
                name: name.to_string(),
                levels: 0,
                units: 0,
                names,
                kinds: base.kinds.clone(),
                narrow: Vec::new(),
                kind: CteKind::WorkTable {
                    id,
                    outer_len: binder.outer.len(),
                    references: 0,
                },
            });
            let recursive = binder.set_expr(right);
            let references = match binder.ctes.pop().map(|e| e.kind) {
                Some(CteKind::WorkTable { references, .. }) => references,
                _ => 0,
            };
            Ok((base, recursive?, (id, references)))
        })?;
        if base.kinds.len() != recursive.kinds.len() {
            return Err(Error::Type(
                "each UNION query must have the same number of columns".into(),
            ));
        }
        let names = renamed(name, base.names.clone(), aliases)?;
        let (id, references) = references;
        if references == 0 {
            // It does not name itself: an ordinary UNION.
            let kinds: Vec<Kind> = base
                .kinds
                .iter()
                .zip(&recursive.kinds)
                .map(|(l, r)| promoted_kind(*l, *r))
                .collect();
            let left = promote_columns(base.plan, &base.names, &base.kinds, &kinds);
            let right = promote_columns(recursive.plan, &recursive.names, &recursive.kinds, &kinds);
            let plan = Node::SetOperation {
                op: SetOperator::Union,
                all,
                left: Box::new(left),
                right: Box::new(right),
            };
            let correlated = outer > 0 || work > 0;
            return Ok(self.query_entry(name, names, kinds, plan, correlated, materialized));
        }
        if outer > 0 || work > references {
            return Err(Error::unsupported(format!(
                "recursive query \"{name}\" reading columns of an enclosing query"
            )));
        }
        for (i, (b, r)) in base.kinds.iter().zip(&recursive.kinds).enumerate() {
            if *b != Kind::Unknown && *r != Kind::Unknown && promoted_kind(*b, *r) != *b {
                return Err(Error::Type(format!(
                    "recursive query \"{name}\" column {} has type {b} in non-recursive \
                     term but type {} overall",
                    i + 1,
                    promoted_kind(*b, *r)
                )));
            }
        }
        let right = promote_columns(
            recursive.plan,
            &recursive.names,
            &recursive.kinds,
            &base.kinds,
        );
        let plan = Node::RecursiveUnion {
            id,
            name: name.to_string(),
            all,
            base: Box::new(base.plan),
            recursive: Box::new(right),
        };
        Ok(self.query_entry(name, names, base.kinds, plan, false, materialized))
    }

    /// Runs `bind` with `name` in scope as `kind`.
    fn with_name<T>(
        &mut self,
        name: &str,
        kind: CteKind,
        bind: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.ctes.push(CteEntry {
            name: name.to_string(),
            levels: 0,
            units: 0,
            names: Vec::new(),
            kinds: Vec::new(),
            narrow: Vec::new(),
            kind,
        });
        let result = bind(self);
        self.ctes.pop();
        result
    }

    /// A WITH name in FROM, if `name` is one in scope: its plan and the scope of its
    /// columns, labelled with `alias` or the name.
    pub(super) fn cte_in_from(
        &mut self,
        name: &str,
        alias: Option<&TableAlias>,
    ) -> Result<Option<(Node, Scope)>> {
        let Some(index) = self.ctes.iter().rposition(|e| e.name == name) else {
            return Ok(None);
        };
        let outer_len = self.outer.len();
        let entry = &mut self.ctes[index];
        let plan = match &mut entry.kind {
            CteKind::Forbidden(message) => return Err(Error::Type(message.clone())),
            CteKind::WorkTable {
                id,
                outer_len: defined,
                references,
            } => {
                if outer_len != *defined {
                    return Err(Error::Type(format!(
                        "recursive reference to query \"{name}\" must not appear within a \
                         subquery"
                    )));
                }
                *references += 1;
                if *references > 1 {
                    return Err(Error::Type(format!(
                        "recursive reference to query \"{name}\" must not appear more than \
                         once"
                    )));
                }
                Node::WorkTableScan {
                    id: *id,
                    name: name.to_string(),
                    columns: entry.names.clone(),
                }
            }
            CteKind::Query {
                id,
                references,
                correlated,
                outer_len: defined,
                ..
            } => {
                if *correlated && outer_len != *defined {
                    return Err(Error::unsupported(format!(
                        "naming WITH query \"{name}\", which reads columns of an enclosing \
                         query, inside a subquery"
                    )));
                }
                *references += 1;
                Node::CteScan {
                    id: *id,
                    name: name.to_string(),
                    columns: entry.names.clone(),
                }
            }
        };
        if matches!(plan, Node::WorkTableScan { .. }) {
            self.work_table_references += 1;
        }
        let entry = &self.ctes[index];
        let depth = self.depth.saturating_add(entry.levels);
        if depth > stack::MAX_NESTING_DEPTH {
            return Err(stack::too_deep());
        }
        self.max_depth = self.max_depth.max(depth);
        self.max_units = self.max_units.max(self.units.saturating_add(entry.units));
        let label = alias.map_or_else(|| name.to_string(), |a| ident(&a.name));
        let mut names = entry.names.clone();
        if let Some(alias) = alias {
            names = renamed(
                &label,
                names,
                &alias
                    .columns
                    .iter()
                    .map(|c| ident(&c.name))
                    .collect::<Vec<_>>(),
            )?;
        }
        let scope = Scope {
            columns: names
                .into_iter()
                .zip(&entry.kinds)
                .enumerate()
                .map(|(i, (name, kind))| ScopeColumn {
                    table: Some(label.clone()),
                    name,
                    kind: *kind,
                    padded: false,
                    narrow_int: entry.narrow.get(i).copied().unwrap_or(false),
                    qualified_only: false,
                })
                .collect(),
        };
        Ok(Some((plan, scope)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inlining_replaces_only_the_named_scan() {
        let scan = |id| Node::CteScan {
            id: SubqueryId(id),
            name: "c".into(),
            columns: vec!["a".into()],
        };
        let tree = Node::SetOperation {
            op: SetOperator::Union,
            all: true,
            left: Box::new(scan(0)),
            right: Box::new(scan(1)),
        };
        let body = Node::Values {
            rows: Vec::new(),
            columns: vec!["a".into()],
        };
        let Node::SetOperation { left, right, .. } =
            inline(tree, SubqueryId(1), &body, &["a".to_string()])
        else {
            panic!("not a set operation");
        };
        assert_eq!(*left, scan(0));
        assert_eq!(*right, body);
        assert!(renamed("c", vec!["a".into()], &["x".into(), "y".into()]).is_err());
    }
}
