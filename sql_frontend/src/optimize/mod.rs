//! # optimize — from the bound plan to the physical plan
//!
//! The optimiser is an ordered list of named passes ([`PASSES`]), each a function from
//! an operator tree to an operator tree, applied in order to every tree of a plan (the
//! statement's and each subquery's):
//!
//! 1. **fold constants** (`fold.rs`): subexpressions that read no column, parameter,
//!    outer row or clock are evaluated once, at plan time;
//! 2. **join order** (`join_order.rs`): every region of inner joins is flattened, its
//!    WHERE and ON conjuncts pushed down to the relations they read, the relations
//!    ordered greedily, and each join given a method (index nested loop, hash, nested
//!    loop); LEFT joins keep their sides;
//! 3. **merge projections** (`merge_projections.rs`): a Project of plain columns under
//!    an Aggregate or Project is merged into it;
//! 4. **access paths** (`access_path.rs`): a Filter over a SeqScan becomes a Filter over
//!    a KeyLookup or an IndexScan where its conjuncts allow;
//! 5. **eager aggregation** (`eager_aggregate.rs`): an Aggregate over a join whose
//!    GROUP BY names the primary key of a joined table groups the other side first.
//!
//! The order matters: join order pushes filters down onto the scans where access paths
//! then find keys and ranges. Passes do not call each other; what two passes share (the
//! join order pass asks how selective a relation's filters are) lives in the module the
//! later pass owns and is imported one way (`join_order` -> `access_path`).
//!
//! Not yet: statistics (selectivity is guessed from the shape of filters), removal of
//! conjuncts implied by the access path, ORDER BY satisfied by index order.

mod access_path;
mod eager_aggregate;
mod fold;
mod join_order;
mod merge_projections;

pub use access_path::access_path;
pub use fold::fold;

use crate::plan::{Node, Plan};
use crate::value::Kind;

/// One rewrite of an operator tree, given the kinds of the statement's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Pass {
    pub name: &'static str,
    pub run: fn(Node, &[Kind]) -> Node,
}

/// The passes, in the order they run.
pub const PASSES: [Pass; 5] = [
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
];

/// Optimises a bound plan: its statement's operator trees and its subqueries'.
pub fn optimize_plan(plan: Plan) -> Plan {
    let params = plan.params;
    let columns = plan.columns;
    let statement = plan
        .statement
        .map_parts(&mut |node| optimize(node, &params), &mut fold);
    let subqueries = plan
        .subqueries
        .into_iter()
        .map(|node| optimize(node, &params))
        .collect();
    Plan {
        statement,
        subqueries,
        params,
        columns,
    }
}

/// Runs every pass over an operator tree, in order.
pub fn optimize(node: Node, params: &[Kind]) -> Node {
    PASSES
        .iter()
        .fold(node, |node, pass| (pass.run)(node, params))
}
