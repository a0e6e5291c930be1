//! Merging projections: a `Project` of plain column references (such as the one
//! restoring column order above a reordered join) under a node that computes its own
//! output from expressions — an Aggregate or another Project — is removed by
//! substituting the referenced columns into that node's expressions, saving a copy of
//! every row.

use crate::expr::Expr;
use crate::plan::Node;

/// The pass (it needs no parameter kinds).
pub(super) fn merge_projections(plan: Node, _cx: &super::context::Context<'_>) -> Node {
    merge(plan)
}

fn merge(plan: Node) -> Node {
    let plan = plan.map_inputs(&mut merge);
    let columns_only = |exprs: &[Expr]| exprs.iter().all(|e| matches!(e, Expr::Column { .. }));
    // A subquery's correlated references address the row layout it was bound over.
    let subquery = |e: &Expr| e.any(&|e| matches!(e, Expr::Subquery(_)));
    if plan.parts().exprs.into_iter().any(subquery) {
        return plan;
    }
    match plan {
        Node::Aggregate {
            source,
            group_by,
            aggregates,
        } => match *source {
            Node::Project {
                source: inner,
                exprs: projected,
                ..
            } if columns_only(&projected) => {
                let through = |e: Expr| substitute(e, &projected);
                Node::Aggregate {
                    source: inner,
                    group_by: group_by.into_iter().map(through).collect(),
                    aggregates: aggregates
                        .into_iter()
                        .map(|mut a| {
                            a.arg = a.arg.map(through);
                            a
                        })
                        .collect(),
                }
            }
            other => Node::Aggregate {
                source: Box::new(other),
                group_by,
                aggregates,
            },
        },
        Node::Project {
            source,
            exprs,
            names,
        } => match *source {
            Node::Project {
                source: inner,
                exprs: projected,
                ..
            } if columns_only(&projected) => Node::Project {
                source: inner,
                exprs: exprs
                    .into_iter()
                    .map(|e| substitute(e, &projected))
                    .collect(),
                names,
            },
            other => Node::Project {
                source: Box::new(other),
                exprs,
                names,
            },
        },
        other => other,
    }
}

/// `e` over a projection's output, rewritten over the projection's input.
fn substitute(e: Expr, projected: &[Expr]) -> Expr {
    e.transform(&mut |e| match e {
        Expr::Column { index, name } => projected
            .get(index)
            .cloned()
            .unwrap_or(Expr::Column { index, name }),
        other => other,
    })
}
