//! # optimize — from the bound plan to the physical plan
//!
//! The optimiser is an ordered list of named passes ([`PASSES`]), each a function from
//! an operator tree to an operator tree, applied in order to every tree of a plan (the
//! statement's and each subquery's):
//!
//! 1. **fold constants** (`fold.rs`): subexpressions that read no column, parameter,
//!    outer row or clock are evaluated once, at plan time;
//! 2. **join order** (`join_order.rs`, with `join_relations.rs` and `join_search.rs`):
//!    every region of inner joins is flattened, its WHERE and ON conjuncts pushed down
//!    to the relations they read, the relations ordered by estimated cost (dynamic
//!    programming up to 8 relations, greedy beyond), and each join given the cheapest
//!    method (index nested loop, hash, nested loop); LEFT joins keep their sides;
//! 3. **merge projections** (`merge_projections.rs`): a Project of plain columns under
//!    an Aggregate or Project is merged into it;
//! 4. **access paths** (`access_path.rs`): a Filter over a SeqScan becomes a Filter over
//!    a KeyLookup or an IndexScan where its conjuncts allow and the cost model
//!    (`cost/`) finds it cheaper than the sequential scan;
//! 5. **eager aggregation** (`eager_aggregate.rs`): an Aggregate over a join whose
//!    GROUP BY names the primary key of a joined table groups the other side first;
//! 6. **index-only scans** (`index_only.rs`): walking the finished tree with the
//!    columns each node must provide, a scan whose columns read above all lie in an
//!    index (indexed, INCLUDE or primary-key columns) reads that index alone where the
//!    cost model finds it cheaper;
//! 7. **parallel aggregation** (`parallel.rs`): an Aggregate over a pipeline of
//!    filters, projections and hash joins that drives one large table's SeqScan gets a
//!    Gather above it, so that several threads read the table a part at a time and
//!    merge their groups.
//!
//! The order matters: join order pushes filters down onto the scans where access paths
//! then find keys and ranges. Passes do not call each other; what two passes share (the
//! join order pass asks how selective a relation's filters are) lives in the module the
//! later pass owns and is imported one way (`join_order` -> `access_path`).
//!
//! Estimates come from the cost model (`crate::cost`), over the statistics the binder
//! attached to each table (`TableInfo::stats`, gathered by ANALYZE).
//!
//! Not yet: removal of conjuncts implied by the access path, ORDER BY satisfied by index
//! order, bushy join trees (the join search keeps to left-deep ones).

mod access_path;
mod context;
mod eager_aggregate;
mod fold;
mod index_only;
mod join_order;
mod join_relations;
mod join_search;
mod merge_projections;
mod parallel;

pub use access_path::access_path;
pub use context::Context;
pub use fold::fold;

use crate::cost::PlannerSettings;
use crate::expr::Expr;
use crate::plan::{Node, Plan};
use crate::value::Value;

/// One rewrite of an operator tree.
#[derive(Debug, Clone, Copy)]
pub struct Pass {
    pub name: &'static str,
    pub run: fn(Node, &Context<'_>) -> Node,
}

/// The passes, in the order they run.
pub const PASSES: [Pass; 7] = [
    Pass {
        name: "fold constants",
        run: fold::fold_constants,
    },
    Pass {
        name: "join order",
        run: join_order::plan_joins,
    },
    Pass {
        name: "merge projections",
        run: merge_projections::merge_projections,
    },
    Pass {
        name: "access paths",
        run: access_path::access_paths,
    },
    Pass {
        name: "eager aggregation",
        run: eager_aggregate::eager_aggregate,
    },
    Pass {
        name: "index-only scans",
        run: index_only::index_only_scans,
    },
    Pass {
        name: "parallel aggregation",
        run: parallel::parallel_aggregates,
    },
];

/// Optimises a bound plan: its statement's operator trees and its subqueries'. With
/// `values` (a custom plan for one execution), estimates read the parameters' values.
pub fn optimize_plan(plan: Plan, settings: PlannerSettings, values: Option<&[Value]>) -> Plan {
    let params = plan.params;
    let columns = plan.columns;
    let cx = Context {
        params: &params,
        settings,
        values,
    };
    let statement = plan
        .statement
        .map_parts(&mut |node| optimize(node, &cx), &mut fold);
    let subqueries = plan
        .subqueries
        .into_iter()
        .map(|node| optimize(node, &cx))
        .collect();
    Plan {
        statement,
        subqueries,
        params,
        columns,
    }
}

/// Whether the access paths of an optimised plan may depend on its parameters' values:
/// a filter over a scan of a table with statistics and a secondary index reads a
/// parameter. Such a prepared statement is planned again for each execution's values
/// (a custom plan, as PostgreSQL makes), since one plan cannot suit both a rare and a
/// common value of a skewed column; any other keeps its one plan.
pub fn param_sensitive(plan: &Plan) -> bool {
    fn sensitive(node: &Node) -> bool {
        let here = match node {
            Node::Filter { source, predicate } => match source.as_ref() {
                Node::SeqScan { table } | Node::IndexScan { table, .. } => {
                    table.stats.is_some()
                        && !table.schema.indexes.is_empty()
                        && predicate.any(&|e| matches!(e, Expr::Param(_)))
                }
                _ => false,
            },
            _ => false,
        };
        here || node.inputs().into_iter().any(sensitive)
    }
    if plan.params.is_empty() {
        return false;
    }
    plan.statement.tree().is_some_and(sensitive) || plan.subqueries.iter().any(sensitive)
}

/// Runs every pass over an operator tree, in order.
pub fn optimize(node: Node, cx: &Context<'_>) -> Node {
    PASSES.iter().fold(node, |node, pass| (pass.run)(node, cx))
}
