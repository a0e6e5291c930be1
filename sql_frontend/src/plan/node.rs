//! The operator tree: [`Node`], the row-producing part of a plan.
//!
//! Every node produces rows (scans, Filter, Project, Sort, Limit, joins, aggregates,
//! set operations, Values) from its inputs; DML and DDL are statements above the tree
//! (`statement.rs`). The tree is walked in exactly two ways, each naming every variant,
//! so a new node cannot be walked wrongly: [`Node::parts`] lends a node's inputs and
//! its own expressions, and [`Node::map_parts`] rebuilds a node from rewritten ones.
//! Everything else (the optimiser's passes, the checks below) is built on those two.

use std::ops::Bound;
use std::sync::Arc;

use crate::catalog::TableInfo;
use crate::expr::{Expr, SubqueryId};
use crate::plan::calls::{AggregateCall, SortKey};
use crate::plan::window::WindowCall;
use crate::system::{ClientInfo, SystemRelation};

/// One range of an index (or primary key) scan: the rows whose first index columns equal
/// `prefix`, and whose next column lies within `lower`..`upper`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRange {
    pub prefix: Vec<Expr>,
    pub lower: Bound<Expr>,
    pub upper: Bound<Expr>,
}

/// Which rows a join returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinKind {
    /// Pairs for which the predicate is true.
    Inner,
    /// Those, plus each left row that has no such pair, padded with NULLs.
    Left,
    /// Those of a LEFT join, plus each right row that has no such pair, after NULLs
    /// for the left columns. Never an `IndexNestedLoopJoin`: the executor marks the
    /// right rows it has stored.
    Full,
}

/// UNION, EXCEPT or INTERSECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOperator {
    Union,
    Except,
    Intersect,
}

/// A node of the operator tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Every row of a table, in primary-key order.
    SeqScan { table: TableInfo },
    /// Every row of a system relation (`pg_class`, `information_schema.columns` ...:
    /// `system/`), computed from the catalog as the statement's transaction sees it
    /// when the scan starts, for `client`.
    SystemScan {
        relation: SystemRelation,
        client: Arc<ClientInfo>,
    },
    /// The rows with these exact primary keys (each a full key).
    KeyLookup {
        table: TableInfo,
        keys: Vec<Vec<Expr>>,
    },
    /// Rows through a secondary index (`index: Some`) or a primary-key range (`None`);
    /// `columns` are the positions of the index's columns in the table. Ranges are
    /// scanned in order and may overlap only if the planner's input had duplicates.
    /// `index_only`: the rows are made from the secondary index's entries alone (its
    /// indexed, included and primary-key columns; every other column NULL), never read
    /// from the table: the planner sets it only where nothing above reads another
    /// column (`optimize/index_only.rs`).
    IndexScan {
        table: TableInfo,
        index: Option<String>,
        columns: Vec<usize>,
        ranges: Vec<ScanRange>,
        index_only: bool,
    },
    /// The source's rows for which `predicate` is true.
    Filter { source: Box<Node>, predicate: Expr },
    /// One output row per source row, computed by `exprs`, named `names`.
    Project {
        source: Box<Node>,
        exprs: Vec<Expr>,
        names: Vec<String>,
    },
    /// The source's rows ordered by `keys`.
    Sort {
        source: Box<Node>,
        keys: Vec<SortKey>,
    },
    /// Skips `offset` rows, then returns at most `limit`.
    Limit {
        source: Box<Node>,
        limit: Option<Expr>,
        offset: Option<Expr>,
    },
    /// For each left row, every right row (read once, kept in memory); output rows are
    /// the left row's values followed by the right row's.
    NestedLoopJoin {
        left: Box<Node>,
        right: Box<Node>,
        kind: JoinKind,
        predicate: Option<Expr>,
    },
    /// An equi-join: the right side is read into a hash table on `right_keys`, then each
    /// left row probes it with `left_keys` (NULL keys never match); `predicate`, over the
    /// joined row, filters the pairs.
    HashJoin {
        left: Box<Node>,
        right: Box<Node>,
        kind: JoinKind,
        left_keys: Vec<Expr>,
        right_keys: Vec<Expr>,
        predicate: Option<Expr>,
    },
    /// For each left row, the rows of `table` whose first `keys.len()` primary-key
    /// (`index: None`) or index `columns` equal `keys` evaluated over the left row.
    IndexNestedLoopJoin {
        left: Box<Node>,
        table: TableInfo,
        index: Option<String>,
        columns: Vec<usize>,
        keys: Vec<Expr>,
        kind: JoinKind,
        predicate: Option<Expr>,
    },
    /// Groups the source's rows by `group_by` (one group for all rows, even none, when
    /// empty) and outputs per group its key values followed by the aggregates.
    Aggregate {
        source: Box<Node>,
        group_by: Vec<Expr>,
        aggregates: Vec<AggregateCall>,
    },
    /// The source's rows without duplicates (NULLs equal each other).
    Distinct { source: Box<Node> },
    /// The source, an [`Node::Aggregate`], computed by the statement's thread and
    /// `workers` more threads at once: each runs the aggregate's input over its share of
    /// the input's driving table scan, a part of the table at a time, and groups what it
    /// reads; the groups are then merged into one result. Made by the parallel pass
    /// (`optimize/parallel.rs`), which says which sources qualify; run by
    /// `exec/gather.rs`.
    Gather { source: Box<Node>, workers: usize },
    /// `DISTINCT ON (on...)`: the first row of each run of source rows that agree on
    /// the `on` expressions (NULLs equal each other). The source is sorted so that rows
    /// agreeing on them are adjacent (the binder puts a Sort below), so this streams.
    DistinctOn { source: Box<Node>, on: Vec<Expr> },
    /// `left op [ALL] right`; rows compare as in DISTINCT.
    SetOperation {
        op: SetOperator,
        all: bool,
        left: Box<Node>,
        right: Box<Node>,
    },
    /// Literal rows (`VALUES`, or the one empty row of a SELECT without FROM).
    Values {
        rows: Vec<Vec<Expr>>,
        columns: Vec<String>,
    },
    /// The source's rows, each followed by the value of every window function call
    /// (`exec/window.rs`).
    Window {
        source: Box<Node>,
        calls: Vec<WindowCall>,
    },
    /// `generate_series(start, stop[, step])` in FROM: one column, `column`, of
    /// integers (or timestamps, by an interval `step`), evaluated over no row.
    GenerateSeries {
        start: Expr,
        stop: Expr,
        step: Option<Expr>,
        column: String,
    },
    /// The rows of WITH query `name`, computed once per statement by subquery `id`'s
    /// plan and shared by every reference (see `bind/cte.rs`).
    CteScan {
        id: SubqueryId,
        name: String,
        columns: Vec<String>,
    },
    /// Inside the recursive term of the recursive query `name`: the rows the previous
    /// iteration produced (its working table `id`).
    WorkTableScan {
        id: usize,
        name: String,
        columns: Vec<String>,
    },
    /// `left JOIN LATERAL right`: for each left row, the rows of subquery `right` (whose
    /// plan reads the left row as its outer row, [`Expr::OuterColumn`] depth 0), run
    /// afresh per left row; output rows are the left row's values followed by the right
    /// row's, kept where `predicate` is true (`kind` Inner or Left).
    LateralJoin {
        left: Box<Node>,
        right: SubqueryId,
        /// The names of the right rows' columns.
        right_columns: Vec<String>,
        kind: JoinKind,
        predicate: Option<Expr>,
    },
    /// `WITH RECURSIVE name AS (base UNION [ALL] recursive)`: the base rows, then the
    /// recursive term run again and again over the rows of the previous round (working
    /// table `id`) until it adds none; without ALL, rows seen before are dropped.
    RecursiveUnion {
        id: usize,
        name: String,
        all: bool,
        base: Box<Node>,
        recursive: Box<Node>,
    },
}

/// A node's inputs and its own expressions (not its inputs'), lent by [`Node::parts`].
#[derive(Debug, Default)]
pub struct Parts<'a> {
    pub inputs: Vec<&'a Node>,
    pub exprs: Vec<&'a Expr>,
}

fn bound_expr(b: &Bound<Expr>) -> Option<&Expr> {
    match b {
        Bound::Included(e) | Bound::Excluded(e) => Some(e),
        Bound::Unbounded => None,
    }
}

fn map_bound(b: Bound<Expr>, f: &mut dyn FnMut(Expr) -> Expr) -> Bound<Expr> {
    match b {
        Bound::Included(e) => Bound::Included(f(e)),
        Bound::Excluded(e) => Bound::Excluded(f(e)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl Node {
    /// An empty relation with no columns (a placeholder while a pass moves nodes).
    pub fn empty() -> Node {
        Node::Values {
            rows: Vec::new(),
            columns: Vec::new(),
        }
    }

    /// The names of the columns the node produces.
    pub fn columns(&self) -> Vec<String> {
        match self {
            Node::SeqScan { table }
            | Node::KeyLookup { table, .. }
            | Node::IndexScan { table, .. } => {
                table.columns.iter().map(|c| c.name.clone()).collect()
            }
            Node::SystemScan { relation, .. } => relation
                .columns()
                .iter()
                .map(|(name, _)| name.to_string())
                .collect(),
            Node::Filter { source, .. }
            | Node::Sort { source, .. }
            | Node::Limit { source, .. }
            | Node::Distinct { source }
            | Node::Gather { source, .. }
            | Node::DistinctOn { source, .. } => source.columns(),
            Node::SetOperation { left, .. } => left.columns(),
            Node::NestedLoopJoin { left, right, .. } | Node::HashJoin { left, right, .. } => {
                let mut columns = left.columns();
                columns.extend(right.columns());
                columns
            }
            Node::IndexNestedLoopJoin { left, table, .. } => {
                let mut columns = left.columns();
                columns.extend(table.columns.iter().map(|c| c.name.clone()));
                columns
            }
            Node::Aggregate {
                group_by,
                aggregates,
                ..
            } => group_by
                .iter()
                .map(ToString::to_string)
                .chain(aggregates.iter().map(ToString::to_string))
                .collect(),
            Node::Project { names, .. } => names.clone(),
            Node::Values { columns, .. }
            | Node::CteScan { columns, .. }
            | Node::WorkTableScan { columns, .. } => columns.clone(),
            Node::RecursiveUnion { base, .. } => base.columns(),
            Node::LateralJoin {
                left,
                right_columns,
                ..
            } => {
                let mut columns = left.columns();
                columns.extend(right_columns.iter().cloned());
                columns
            }
            Node::GenerateSeries { column, .. } => vec![column.clone()],
            Node::Window { source, calls } => {
                let mut columns = source.columns();
                columns.extend(calls.iter().map(ToString::to_string));
                columns
            }
        }
    }

    /// The node's inputs and its own expressions: the one read-only walk of a node.
    pub fn parts(&self) -> Parts<'_> {
        let mut parts = Parts::default();
        match self {
            Node::SeqScan { table: _ } => {}
            Node::SystemScan {
                relation: _,
                client: _,
            } => {}
            Node::KeyLookup { table: _, keys } => parts.exprs.extend(keys.iter().flatten()),
            Node::IndexScan {
                table: _,
                index: _,
                columns: _,
                ranges,
                index_only: _,
            } => {
                for range in ranges {
                    parts.exprs.extend(&range.prefix);
                    parts.exprs.extend(bound_expr(&range.lower));
                    parts.exprs.extend(bound_expr(&range.upper));
                }
            }
            Node::Filter { source, predicate } => {
                parts.inputs.push(source);
                parts.exprs.push(predicate);
            }
            Node::Project {
                source,
                exprs,
                names: _,
            } => {
                parts.inputs.push(source);
                parts.exprs.extend(exprs);
            }
            Node::Sort { source, keys } => {
                parts.inputs.push(source);
                parts.exprs.extend(keys.iter().map(|k| &k.expr));
            }
            Node::Limit {
                source,
                limit,
                offset,
            } => {
                parts.inputs.push(source);
                parts.exprs.extend(limit.iter().chain(offset));
            }
            Node::NestedLoopJoin {
                left,
                right,
                kind: _,
                predicate,
            } => {
                parts.inputs.extend([left.as_ref(), right.as_ref()]);
                parts.exprs.extend(predicate);
            }
            Node::HashJoin {
                left,
                right,
                kind: _,
                left_keys,
                right_keys,
                predicate,
            } => {
                parts.inputs.extend([left.as_ref(), right.as_ref()]);
                parts
                    .exprs
                    .extend(left_keys.iter().chain(right_keys).chain(predicate));
            }
            Node::IndexNestedLoopJoin {
                left,
                table: _,
                index: _,
                columns: _,
                keys,
                kind: _,
                predicate,
            } => {
                parts.inputs.push(left);
                parts.exprs.extend(keys.iter().chain(predicate));
            }
            Node::Aggregate {
                source,
                group_by,
                aggregates,
            } => {
                parts.inputs.push(source);
                parts.exprs.extend(group_by);
                parts.exprs.extend(
                    aggregates
                        .iter()
                        .flat_map(|a| a.arg.iter().chain(&a.filter)),
                );
            }
            Node::Distinct { source } | Node::Gather { source, workers: _ } => {
                parts.inputs.push(source)
            }
            Node::DistinctOn { source, on } => {
                parts.inputs.push(source);
                parts.exprs.extend(on);
            }
            Node::SetOperation {
                op: _,
                all: _,
                left,
                right,
            } => parts.inputs.extend([left.as_ref(), right.as_ref()]),
            Node::Values { rows, columns: _ } => parts.exprs.extend(rows.iter().flatten()),
            Node::CteScan {
                id: _,
                name: _,
                columns: _,
            }
            | Node::WorkTableScan {
                id: _,
                name: _,
                columns: _,
            } => {}
            Node::RecursiveUnion {
                id: _,
                name: _,
                all: _,
                base,
                recursive,
            } => parts.inputs.extend([base.as_ref(), recursive.as_ref()]),
            Node::LateralJoin {
                left,
                right: _,
                right_columns: _,
                kind: _,
                predicate,
            } => {
                parts.inputs.push(left);
                parts.exprs.extend(predicate);
            }
            Node::GenerateSeries {
                start,
                stop,
                step,
                column: _,
            } => parts.exprs.extend([start, stop].into_iter().chain(step)),
            Node::Window { source, calls } => {
                parts.inputs.push(source);
                parts.exprs.extend(calls.iter().flat_map(WindowCall::exprs));
            }
        }
        parts
    }

    /// The node rebuilt with `input` applied to each input and `expr` to each of its own
    /// expressions (the same ones [`Node::parts`] lends): the one rewriting walk.
    pub fn map_parts(
        self,
        input: &mut dyn FnMut(Node) -> Node,
        expr: &mut dyn FnMut(Expr) -> Expr,
    ) -> Node {
        let mut boxed = |n: Box<Node>| Box::new(input(*n));
        match self {
            Node::SeqScan { table } => Node::SeqScan { table },
            Node::KeyLookup { table, keys } => Node::KeyLookup {
                table,
                keys: keys
                    .into_iter()
                    .map(|key| key.into_iter().map(&mut *expr).collect())
                    .collect(),
            },
            Node::IndexScan {
                table,
                index,
                columns,
                ranges,
                index_only,
            } => Node::IndexScan {
                table,
                index,
                columns,
                index_only,
                ranges: ranges
                    .into_iter()
                    .map(|r| ScanRange {
                        prefix: r.prefix.into_iter().map(&mut *expr).collect(),
                        lower: map_bound(r.lower, expr),
                        upper: map_bound(r.upper, expr),
                    })
                    .collect(),
            },
            Node::Filter { source, predicate } => Node::Filter {
                source: boxed(source),
                predicate: expr(predicate),
            },
            Node::Project {
                source,
                exprs,
                names,
            } => Node::Project {
                source: boxed(source),
                exprs: exprs.into_iter().map(expr).collect(),
                names,
            },
            Node::Sort { source, keys } => Node::Sort {
                source: boxed(source),
                keys: keys
                    .into_iter()
                    .map(|k| SortKey {
                        expr: expr(k.expr),
                        ..k
                    })
                    .collect(),
            },
            Node::Limit {
                source,
                limit,
                offset,
            } => Node::Limit {
                source: boxed(source),
                limit: limit.map(&mut *expr),
                offset: offset.map(&mut *expr),
            },
            Node::NestedLoopJoin {
                left,
                right,
                kind,
                predicate,
            } => Node::NestedLoopJoin {
                left: boxed(left),
                right: boxed(right),
                kind,
                predicate: predicate.map(expr),
            },
            Node::HashJoin {
                left,
                right,
                kind,
                left_keys,
                right_keys,
                predicate,
            } => Node::HashJoin {
                left: boxed(left),
                right: boxed(right),
                kind,
                left_keys: left_keys.into_iter().map(&mut *expr).collect(),
                right_keys: right_keys.into_iter().map(&mut *expr).collect(),
                predicate: predicate.map(expr),
            },
            Node::IndexNestedLoopJoin {
                left,
                table,
                index,
                columns,
                keys,
                kind,
                predicate,
            } => Node::IndexNestedLoopJoin {
                left: boxed(left),
                table,
                index,
                columns,
                keys: keys.into_iter().map(&mut *expr).collect(),
                kind,
                predicate: predicate.map(expr),
            },
            Node::Aggregate {
                source,
                group_by,
                aggregates,
            } => Node::Aggregate {
                source: boxed(source),
                group_by: group_by.into_iter().map(&mut *expr).collect(),
                aggregates: aggregates
                    .into_iter()
                    .map(|a| AggregateCall {
                        arg: a.arg.map(&mut *expr),
                        filter: a.filter.map(&mut *expr),
                        ..a
                    })
                    .collect(),
            },
            Node::Distinct { source } => Node::Distinct {
                source: boxed(source),
            },
            Node::Gather { source, workers } => Node::Gather {
                source: boxed(source),
                workers,
            },
            Node::DistinctOn { source, on } => Node::DistinctOn {
                source: boxed(source),
                on: on.into_iter().map(&mut *expr).collect(),
            },
            Node::SetOperation {
                op,
                all,
                left,
                right,
            } => Node::SetOperation {
                op,
                all,
                left: boxed(left),
                right: boxed(right),
            },
            Node::Values { rows, columns } => Node::Values {
                rows: rows
                    .into_iter()
                    .map(|row| row.into_iter().map(&mut *expr).collect())
                    .collect(),
                columns,
            },
            Node::CteScan { id, name, columns } => Node::CteScan { id, name, columns },
            Node::SystemScan { relation, client } => Node::SystemScan { relation, client },
            Node::WorkTableScan { id, name, columns } => Node::WorkTableScan { id, name, columns },
            Node::RecursiveUnion {
                id,
                name,
                all,
                base,
                recursive,
            } => Node::RecursiveUnion {
                id,
                name,
                all,
                base: boxed(base),
                recursive: boxed(recursive),
            },
            Node::LateralJoin {
                left,
                right,
                right_columns,
                kind,
                predicate,
            } => Node::LateralJoin {
                left: boxed(left),
                right,
                right_columns,
                kind,
                predicate: predicate.map(expr),
            },
            Node::GenerateSeries {
                start,
                stop,
                step,
                column,
            } => Node::GenerateSeries {
                start: expr(start),
                stop: expr(stop),
                step: step.map(expr),
                column,
            },
            Node::Window { source, calls } => Node::Window {
                source: boxed(source),
                calls: calls.into_iter().map(|c| c.map_exprs(expr)).collect(),
            },
        }
    }

    /// The node's inputs.
    pub fn inputs(&self) -> Vec<&Node> {
        self.parts().inputs
    }

    /// The node with `f` applied to each input.
    pub fn map_inputs(self, f: &mut dyn FnMut(Node) -> Node) -> Node {
        self.map_parts(f, &mut |e| e)
    }

    /// The node with `f` applied to each of its own expressions.
    pub fn map_exprs(self, f: &mut dyn FnMut(Expr) -> Expr) -> Node {
        self.map_parts(&mut |n| n, f)
    }

    /// The whole tree with `f` applied to every expression of every node.
    pub fn map_all_exprs(self, f: &mut dyn FnMut(Expr) -> Expr) -> Node {
        self.map_inputs(&mut |n| n.map_all_exprs(f)).map_exprs(f)
    }

    /// Whether `test` holds for some expression (or subexpression) of some node of the
    /// tree.
    pub fn any_expr(&self, test: &dyn Fn(&Expr) -> bool) -> bool {
        let parts = self.parts();
        parts.exprs.iter().any(|e| e.any(test)) || parts.inputs.iter().any(|n| n.any_expr(test))
    }
}
