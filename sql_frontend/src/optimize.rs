//! # optimize — from the bound plan to the physical plan
//!
//! Two passes, each a plain function over the [`Plan`] tree:
//!
//! 1. **Constant folding** ([`fold`]): every subexpression that reads no column and no
//!    parameter is evaluated once, here. One that fails (say `1/0`) is left as it is, so
//!    the error is reported when (and only if) the statement runs, as for any other row.
//! 2. **Access paths** ([`access_path`]): a `Filter` directly over a `SeqScan` is split
//!    into conjuncts, and those of the form `column op constant` (`=`, `<`, `<=`, `>`,
//!    `>=`, or `column IN (constants)`), where the constant's type is exactly the
//!    column's, become candidates:
//!    - equality (or IN) on every primary-key column gives a `KeyLookup`;
//!    - otherwise each secondary index, and the primary key as an index, is scored by
//!      how many of its leading columns have equality, then whether the next column has
//!      a range; the best scoring one (at least one column used) gives an `IndexScan`
//!      (a `KeyRangeScan` for the primary key), ties going to the primary key, then to a
//!      unique index.
//!
//!    The `Filter` stays above the new scan with the whole predicate: the scan only has
//!    to return a superset of the matching rows, which keeps this pass simple and its
//!    mistakes harmless to correctness. (Removing the conjuncts the scan already
//!    guarantees is a later refinement.)
//!
//! The "constant" may contain parameters, so `WHERE user_id = $1` in a prepared
//! statement is a key lookup too: the binder gave `$1` the column's type, and the
//! session casts the parameter's value to it before execution.
//!
//! Between the two, [`crate::join_planner`] orders and plans joins and pushes WHERE and
//! ON conjuncts down to the tables they read, where this pass then finds access paths;
//! subquery plans inside expressions are optimised the same way.
//!
//! Not yet: statistics, removal of conjuncts implied by the access path, ORDER BY
//! satisfied by index order.

use std::ops::Bound;

use crate::catalog::TableInfo;
use crate::exec::eval::eval_constant;
use crate::expr::{BinaryOp, Expr};
use crate::plan::{Node, Plan, ScanRange};
use crate::value::Kind;

/// At most this many keys or ranges are produced from IN lists (their product); beyond,
/// the column is not used for the access path.
const MAX_LOOKUP_KEYS: usize = 1024;

/// Optimises a bound plan: its statement's operator trees and its subqueries'.
pub fn optimize_plan(plan: Plan) -> Plan {
    let params = plan.params;
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
    }
}

/// Optimises an operator tree, given the kinds of the statement's parameters.
pub fn optimize(plan: Node, params: &[Kind]) -> Node {
    let plan = plan.map_all_exprs(&mut fold);
    let plan = crate::join_planner::plan_joins(plan, params);
    let plan = merge_projections(plan);
    access_paths(plan, params)
}

/// Folds constant subexpressions.
pub fn fold(expr: Expr) -> Expr {
    expr.transform(&mut |e| {
        if !matches!(e, Expr::Literal(_))
            && e.is_constant()
            && !e.has_params()
            && !e.reads_outer()
            && let Ok(value) = eval_constant(&e)
        {
            return Expr::Literal(value);
        }
        e
    })
}

/// Removes a `Project` of plain column references (such as the one restoring column
/// order above a reordered join) from under a node that computes its own output from
/// expressions — an Aggregate or another Project — by substituting the referenced
/// columns into that node's expressions, saving a copy of every row.
fn merge_projections(plan: Node) -> Node {
    let plan = plan.map_inputs(&mut merge_projections);
    let columns_only = |exprs: &[Expr]| exprs.iter().all(|e| matches!(e, Expr::Column { .. }));
    // A subquery's correlated references address the row layout it was bound over.
    let subquery = |e: &Expr| e.any(&|e| matches!(e, Expr::Subquery(_)));
    if plan_has_subquery(&plan, &subquery) {
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

/// Whether the node's own expressions contain a subquery.
fn plan_has_subquery(plan: &Node, subquery: &dyn Fn(&Expr) -> bool) -> bool {
    match plan {
        Node::Project { exprs, .. } => exprs.iter().any(subquery),
        Node::Aggregate {
            group_by,
            aggregates,
            ..
        } => {
            group_by.iter().any(subquery)
                || aggregates
                    .iter()
                    .filter_map(|a| a.arg.as_ref())
                    .any(subquery)
        }
        _ => false,
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

/// Rewrites every `Filter(SeqScan)` in the tree with an access path where one applies.
fn access_paths(plan: Node, params: &[Kind]) -> Node {
    match plan {
        Node::Filter { source, predicate } => match *source {
            Node::SeqScan { table } => {
                let scan = access_path(table, &predicate, params);
                Node::Filter {
                    source: Box::new(scan),
                    predicate,
                }
            }
            other => Node::Filter {
                source: Box::new(access_paths(other, params)),
                predicate,
            },
        },
        other => other.map_inputs(&mut |child| access_paths(child, params)),
    }
}

/// A usable conjunct: `column op value` or `column IN (values)`.
#[derive(Debug, Clone)]
enum Condition {
    Equal(Vec<Expr>),
    Lower(Bound<Expr>),
    Upper(Bound<Expr>),
}

fn conjuncts(predicate: &Expr) -> Vec<&Expr> {
    match predicate {
        Expr::Binary(BinaryOp::And, l, r) => {
            let mut out = conjuncts(l);
            out.extend(conjuncts(r));
            out
        }
        other => vec![other],
    }
}

/// The conditions each column of `table` has in `predicate`.
fn conditions(table: &TableInfo, predicate: &Expr, params: &[Kind]) -> Vec<Vec<Condition>> {
    let kinds = table.kinds();
    let mut out = vec![Vec::new(); kinds.len()];
    let usable = |column: usize, e: &Expr| {
        e.is_constant()
            && kinds
                .get(column)
                .is_some_and(|k| *k != Kind::Unknown && e.kind(&[], params) == *k)
    };
    for conjunct in conjuncts(predicate) {
        match conjunct {
            Expr::Binary(op, l, r) if op.is_comparison() && *op != BinaryOp::NotEq => {
                let (column, value, op) = match (l.as_ref(), r.as_ref()) {
                    (Expr::Column { index, .. }, value) => (*index, value, *op),
                    (value, Expr::Column { index, .. }) => (*index, value, op.flipped()),
                    _ => continue,
                };
                if !usable(column, value) {
                    continue;
                }
                let value = value.clone();
                out[column].push(match op {
                    BinaryOp::Eq => Condition::Equal(vec![value]),
                    BinaryOp::Gt => Condition::Lower(Bound::Excluded(value)),
                    BinaryOp::GtEq => Condition::Lower(Bound::Included(value)),
                    BinaryOp::Lt => Condition::Upper(Bound::Excluded(value)),
                    _ => Condition::Upper(Bound::Included(value)),
                });
            }
            Expr::InList {
                expr,
                list,
                negated: false,
            } => {
                if let Expr::Column { index, .. } = expr.as_ref()
                    && !list.is_empty()
                    && list.iter().all(|e| usable(*index, e))
                {
                    out[*index].push(Condition::Equal(list.clone()));
                }
            }
            _ => {}
        }
    }
    out
}

/// What an index can do for a predicate.
#[derive(Debug, Clone)]
struct Candidate {
    /// Per leading column with equality: the values it may take.
    prefix: Vec<Vec<Expr>>,
    lower: Bound<Expr>,
    upper: Bound<Expr>,
}

impl Candidate {
    fn score(&self) -> (usize, bool) {
        let ranged = !matches!(
            (&self.lower, &self.upper),
            (Bound::Unbounded, Bound::Unbounded)
        );
        (self.prefix.len(), ranged)
    }

    fn is_useful(&self) -> bool {
        self.score() != (0, false)
    }

    fn ranges(&self) -> Vec<ScanRange> {
        product(&self.prefix)
            .into_iter()
            .map(|prefix| ScanRange {
                prefix,
                lower: self.lower.clone(),
                upper: self.upper.clone(),
            })
            .collect()
    }
}

/// Every combination of one value per position.
fn product(choices: &[Vec<Expr>]) -> Vec<Vec<Expr>> {
    let mut out = vec![Vec::new()];
    for options in choices {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                options.iter().map(move |o| {
                    let mut next = prefix.clone();
                    next.push(o.clone());
                    next
                })
            })
            .collect();
    }
    out
}

fn candidate(columns: &[usize], conditions: &[Vec<Condition>]) -> Candidate {
    let mut candidate = Candidate {
        prefix: Vec::new(),
        lower: Bound::Unbounded,
        upper: Bound::Unbounded,
    };
    let mut combinations = 1usize;
    for column in columns {
        let conds = &conditions[*column];
        let equal = conds.iter().find_map(|c| match c {
            Condition::Equal(values) => Some(values),
            _ => None,
        });
        if let Some(values) = equal {
            combinations = combinations.saturating_mul(values.len());
            if combinations <= MAX_LOOKUP_KEYS {
                candidate.prefix.push(values.clone());
                continue;
            }
        }
        for cond in conds {
            match cond {
                Condition::Lower(b) if matches!(candidate.lower, Bound::Unbounded) => {
                    candidate.lower = b.clone();
                }
                Condition::Upper(b) if matches!(candidate.upper, Bound::Unbounded) => {
                    candidate.upper = b.clone();
                }
                _ => {}
            }
        }
        break;
    }
    candidate
}

/// The cheapest way to read the rows of `table` that may satisfy `predicate`.
pub fn access_path(table: TableInfo, predicate: &Expr, params: &[Kind]) -> Node {
    let conditions = conditions(&table, predicate, params);
    let primary_key = table.schema.primary_key.clone();
    let mut best: Option<(Candidate, Option<String>, Vec<usize>)> = None;
    if !primary_key.is_empty() {
        let pk = candidate(&primary_key, &conditions);
        if pk.prefix.len() == primary_key.len() {
            let keys = product(&pk.prefix);
            return Node::KeyLookup { table, keys };
        }
        if pk.is_useful() {
            best = Some((pk, None, primary_key));
        }
    }
    let mut indexes: Vec<_> = table.schema.indexes.iter().collect();
    indexes.sort_by_key(|i| !i.unique);
    for index in indexes {
        let c = candidate(&index.columns, &conditions);
        if c.is_useful() && best.as_ref().is_none_or(|(b, _, _)| c.score() > b.score()) {
            best = Some((c, Some(index.name.clone()), index.columns.clone()));
        }
    }
    match best {
        Some((c, index, columns)) => Node::IndexScan {
            ranges: c.ranges(),
            table,
            index,
            columns,
        },
        None => Node::SeqScan { table },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::{column, users};
    use crate::value::Value;

    fn text(s: &str) -> Expr {
        Expr::Literal(Value::Text(s.into()))
    }

    fn filtered(predicate: Expr) -> Node {
        optimize(
            Node::Filter {
                source: Box::new(Node::SeqScan { table: users() }),
                predicate,
            },
            &[Kind::Text],
        )
    }

    fn leaf(plan: &Node) -> String {
        plan.to_string()
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    #[test]
    fn primary_key_equality_is_a_key_lookup() {
        let plan = filtered(Expr::binary(BinaryOp::Eq, column(0, "user_id"), text("u1")));
        assert_eq!(leaf(&plan), "KeyLookup: users (user_id) = ('u1')");
        let plan = filtered(Expr::binary(
            BinaryOp::Eq,
            Expr::Param(0),
            column(0, "user_id"),
        ));
        assert_eq!(leaf(&plan), "KeyLookup: users (user_id) = ($1)");
    }

    #[test]
    fn index_prefix_equality_is_an_index_scan() {
        let plan = filtered(Expr::binary(
            BinaryOp::And,
            Expr::binary(BinaryOp::Eq, column(2, "status"), text("active")),
            Expr::binary(BinaryOp::Gt, column(1, "name"), text("b")),
        ));
        assert_eq!(
            leaf(&plan),
            "IndexScan: users using users_status (status = 'active')"
        );
    }

    #[test]
    fn unusable_predicates_stay_sequential_scans() {
        // A disjunction, an inequality, a column compared with a column: no access path.
        for predicate in [
            Expr::binary(
                BinaryOp::Or,
                Expr::binary(BinaryOp::Eq, column(0, "user_id"), text("u1")),
                Expr::binary(BinaryOp::Eq, column(2, "status"), text("x")),
            ),
            Expr::binary(BinaryOp::NotEq, column(0, "user_id"), text("u1")),
            Expr::binary(BinaryOp::Eq, column(1, "name"), column(2, "status")),
            // An integer literal against a text key: kinds differ, so no key is built.
            Expr::binary(
                BinaryOp::Eq,
                column(0, "user_id"),
                Expr::Literal(Value::Int(1)),
            ),
        ] {
            assert_eq!(leaf(&filtered(predicate)), "SeqScan: users");
        }
    }

    #[test]
    fn constants_fold_but_errors_wait_for_execution() {
        let sum = Expr::binary(
            BinaryOp::Add,
            Expr::Literal(Value::Int(1)),
            Expr::Literal(Value::Int(2)),
        );
        assert_eq!(fold(sum), Expr::Literal(Value::Int(3)));
        let div = Expr::binary(
            BinaryOp::Div,
            Expr::Literal(Value::Int(1)),
            Expr::Literal(Value::Int(0)),
        );
        assert_eq!(fold(div.clone()), div);
    }
}
