//! Which columns a plan reads: the analysis behind column pruning.
//!
//! A node's output is a row of fixed width (its [`Node::columns`]); the operators above
//! it may read only some of those columns. [`Node::input_needs`] answers, for one node,
//! "given the columns of my output that are read above, which columns of each of my
//! inputs do I read?", and [`Node::join_output_needs`] which columns of its output a
//! join must fill in. The executor's builder walks the tree top-down with these answers
//! ([`crate::exec::build`]): a scan decodes only the columns some operator above reads,
//! and a join copies only those into the rows it produces. A column nobody reads keeps
//! its position in the row and holds NULL, so no expression's column index changes:
//! pruning needs no rewrite of the plan, and a mistake here can only make a column
//! NULL, never shift one into another's place.
//!
//! The rules, conservative where evaluation is not local to the row:
//!
//! - The root of every tree the executor builds (a query's, a subquery's, the source of
//!   an INSERT, UPDATE, DELETE or COPY) has every output column read.
//! - A node reads the columns its own expressions read, whatever is read above:
//!   Project computes every expression even where its value is not read (an error in
//!   it is still an error), Filter and Sort their predicate and keys, a join its keys
//!   and predicate, Aggregate its GROUP BY and arguments.
//! - An expression holding a subquery reads every column of its row, since a
//!   correlated subquery sees the row it is evaluated over as its outer row.
//! - Operators that compare whole rows (Distinct, the set operations) read every column.
//! - A join's output is its left row then its right row; it reads from each side what
//!   is read of that side's part of the output, plus its keys and predicate.
//!
//! `tests/sql_column_pruning.rs` checks pruning against running the same queries with
//! every column decoded.
//!
//! ## Kept with the plan
//!
//! A prepared statement's operators are built per execution, and for a point SELECT
//! the analysis (a few small vectors per node) cost as much as the lookup itself.
//! [`PlanNeeds`] is the analysis of a whole plan done once, kept beside it (the
//! session keeps one per plan it reuses) and read by the builder. It is a memo, not a
//! second source of truth: each entry is keyed by the node's address *and* the flags
//! it was computed for, and an entry whose flags differ from the builder's (or a node
//! it does not hold) makes the builder compute the answer afresh, so a memo that walked
//! the tree differently from the builder could only cost time, never change a result.

use std::collections::HashMap;

use super::node::Node;
use crate::expr::Expr;

/// One flag per column of a row: whether the column is read.
pub type ColumnNeeds = Vec<bool>;

/// Every column of a row of `width` columns read.
pub fn all_needed(width: usize) -> ColumnNeeds {
    vec![true; width]
}

/// Marks in `needs` the columns `e` reads (all of them if it holds a subquery), in one
/// walk that allocates nothing (a point SELECT's operators are built per execution, so
/// this runs on the OLTP path too).
fn mark(needs: &mut [bool], e: &Expr) {
    match e {
        Expr::Column { index, .. } => {
            if let Some(flag) = needs.get_mut(*index) {
                *flag = true;
            }
        }
        Expr::Subquery(_) => needs.fill(true),
        _ => {}
    }
    e.for_each_child(&mut |child| mark(needs, child));
}

/// Marks the columns every expression in `exprs` reads.
fn mark_all<'e>(needs: &mut [bool], exprs: impl IntoIterator<Item = &'e Expr>) {
    for e in exprs {
        mark(needs, e);
    }
}

/// `needed` (of a pass-through node's output) widened by the columns `exprs` read.
fn passed_through<'e>(needed: &[bool], exprs: impl IntoIterator<Item = &'e Expr>) -> ColumnNeeds {
    let mut needs = needed.to_vec();
    mark_all(&mut needs, exprs);
    needs
}

/// The column-needs analysis of every node of a plan, computed once: see the module
/// header. Valid only while the plan it was made from stays where it is (it is keyed by
/// node addresses): the session makes it for a plan it holds in an `Arc`.
#[derive(Debug, Default)]
pub struct PlanNeeds {
    nodes: HashMap<usize, NodeNeeds, foldhash::fast::RandomState>,
}

/// One node's entry: the flags of its output read above, and what it reads of each
/// input given those.
#[derive(Debug)]
struct NodeNeeds {
    needed: ColumnNeeds,
    inputs: Vec<ColumnNeeds>,
}

impl PlanNeeds {
    /// The analysis of the trees `roots` (a statement's tree and its subqueries'),
    /// each with every output column read, as the executor builds them. Recurses as
    /// deep as the trees are.
    pub fn of<'n>(roots: impl IntoIterator<Item = &'n Node>) -> PlanNeeds {
        let mut needs = PlanNeeds::default();
        for root in roots {
            needs.record(root, all_needed(root.width()));
        }
        needs
    }

    fn record(&mut self, node: &Node, needed: ColumnNeeds) {
        let inputs = node.input_needs(&needed);
        for (input, input_needed) in node.inputs().into_iter().zip(&inputs) {
            self.record(input, input_needed.clone());
        }
        self.nodes
            .insert(address(node), NodeNeeds { needed, inputs });
    }

    /// `node.input_needs(needed)`, if this memo holds it.
    pub fn inputs(&self, node: &Node, needed: &[bool]) -> Option<&[ColumnNeeds]> {
        let entry = self.nodes.get(&address(node))?;
        (entry.needed == needed).then_some(entry.inputs.as_slice())
    }

    /// Every column of `node`'s output read (what the root of a built tree gets), if
    /// this memo holds `node` with those flags.
    pub fn all_read(&self, node: &Node) -> Option<&[bool]> {
        let entry = self.nodes.get(&address(node))?;
        (entry.needed.len() == node.width() && entry.needed.iter().all(|&read| read))
            .then_some(entry.needed.as_slice())
    }
}

fn address(node: &Node) -> usize {
    std::ptr::from_ref(node) as usize
}

impl Node {
    /// The number of columns the node produces.
    pub fn width(&self) -> usize {
        match self {
            Node::SeqScan { table }
            | Node::KeyLookup { table, .. }
            | Node::IndexScan { table, .. } => table.columns.len(),
            Node::SystemScan { relation, .. } => relation.columns().len(),
            Node::Filter { source, .. }
            | Node::Sort { source, .. }
            | Node::Limit { source, .. }
            | Node::Distinct { source }
            | Node::Gather { source, .. }
            | Node::DistinctOn { source, .. } => source.width(),
            Node::SetOperation { left, .. } => left.width(),
            Node::NestedLoopJoin { left, right, .. } | Node::HashJoin { left, right, .. } => {
                left.width() + right.width()
            }
            Node::IndexNestedLoopJoin { left, table, .. } => left.width() + table.columns.len(),
            Node::Aggregate {
                group_by,
                aggregates,
                ..
            } => group_by.len() + aggregates.len(),
            Node::Project { exprs, .. } => exprs.len(),
            Node::Values { columns, .. } => columns.len(),
            Node::CteScan { columns, .. } | Node::WorkTableScan { columns, .. } => columns.len(),
            Node::RecursiveUnion { base, .. } => base.width(),
            Node::LateralJoin {
                left,
                right_columns,
                ..
            } => left.width() + right_columns.len(),
            Node::GenerateSeries { .. } => 1,
            Node::Window { source, calls } => source.width() + calls.len(),
        }
    }

    /// Given which of this node's output columns are read above (`needed`, one flag
    /// per column), which columns of each input the node reads: one set per input, in
    /// the order of [`Node::inputs`]. See the module header for the rules.
    pub fn input_needs(&self, needed: &[bool]) -> Vec<ColumnNeeds> {
        match self {
            Node::SeqScan { .. }
            | Node::KeyLookup { .. }
            | Node::IndexScan { .. }
            | Node::SystemScan { .. }
            | Node::Values { .. }
            | Node::CteScan { .. }
            | Node::WorkTableScan { .. }
            | Node::GenerateSeries { .. } => Vec::new(),
            // Not pruned yet: a window reads its whole input (its calls' partitions and
            // orders included); a recursive query's two terms give the rows of a working
            // table every reference reads in full.
            Node::Window { source, calls: _ } => vec![all_needed(source.width())],
            Node::RecursiveUnion {
                base, recursive, ..
            } => vec![all_needed(base.width()), all_needed(recursive.width())],
            // The right side reads the left row as its outer row: all of it, as for a
            // subquery.
            Node::LateralJoin { left, .. } => vec![all_needed(left.width())],
            Node::Filter {
                source: _,
                predicate,
            } => vec![passed_through(needed, [predicate])],
            Node::Sort { source: _, keys } => {
                vec![passed_through(needed, keys.iter().map(|k| &k.expr))]
            }
            Node::Limit {
                source: _,
                limit,
                offset,
            } => vec![passed_through(needed, limit.iter().chain(offset))],
            Node::Project {
                source,
                exprs,
                names: _,
            } => {
                let mut needs = vec![false; source.width()];
                mark_all(&mut needs, exprs);
                vec![needs]
            }
            Node::Aggregate {
                source,
                group_by,
                aggregates,
            } => {
                let mut needs = vec![false; source.width()];
                mark_all(&mut needs, group_by);
                mark_all(
                    &mut needs,
                    aggregates
                        .iter()
                        .flat_map(|a| a.arg.iter().chain(a.filter.as_ref())),
                );
                vec![needs]
            }
            Node::Distinct { source } => vec![all_needed(source.width())],
            // The workers' aggregate computes every column; the ones read above are the
            // ones it must compute, as for the aggregate alone.
            Node::Gather {
                source: _,
                workers: _,
            } => vec![needed.to_vec()],
            Node::DistinctOn { source: _, on } => vec![passed_through(needed, on)],
            Node::SetOperation { left, right, .. } => {
                vec![all_needed(left.width()), all_needed(right.width())]
            }
            Node::NestedLoopJoin { left, right, .. } => {
                let joined = self.join_output_needs(needed);
                let (l, r) = joined.split_at(left.width());
                debug_assert_eq!(r.len(), right.width());
                vec![l.to_vec(), r.to_vec()]
            }
            Node::HashJoin {
                left,
                right,
                left_keys,
                right_keys,
                ..
            } => {
                let joined = self.join_output_needs(needed);
                let (l, r) = joined.split_at(left.width());
                let mut l = l.to_vec();
                let mut r = r.to_vec();
                debug_assert_eq!(r.len(), right.width());
                mark_all(&mut l, left_keys);
                mark_all(&mut r, right_keys);
                vec![l, r]
            }
            Node::IndexNestedLoopJoin { left, keys, .. } => {
                let joined = self.join_output_needs(needed);
                let mut l = joined[..left.width()].to_vec();
                mark_all(&mut l, keys);
                vec![l]
            }
        }
    }

    /// For a join, which columns of its output (left row then right row) it must fill
    /// in: those read above (`needed`) and those its predicate reads. `needed` itself
    /// for any other node.
    pub fn join_output_needs(&self, needed: &[bool]) -> ColumnNeeds {
        match self {
            Node::NestedLoopJoin { predicate, .. }
            | Node::HashJoin { predicate, .. }
            | Node::IndexNestedLoopJoin { predicate, .. } => {
                let mut needs = needed.to_vec();
                needs.resize(self.width(), false);
                mark_all(&mut needs, predicate);
                needs
            }
            _ => needed.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AggregateCall, AggregateFunction, JoinKind};

    fn column(index: usize) -> Expr {
        Expr::Column {
            index,
            name: format!("c{index}"),
        }
    }

    fn values(width: usize) -> Node {
        Node::Values {
            rows: Vec::new(),
            columns: (0..width).map(|i| format!("c{i}")).collect(),
        }
    }

    #[test]
    fn a_hash_join_reads_its_keys_predicate_and_what_is_read_above() {
        let join = Node::HashJoin {
            left: Box::new(values(3)),
            right: Box::new(values(2)),
            kind: JoinKind::Inner,
            left_keys: vec![column(1)],
            right_keys: vec![column(0)],
            predicate: Some(Expr::binary(
                crate::expr::BinaryOp::Lt,
                column(2),
                column(4),
            )),
        };
        let needed = [true, false, false, false, false];
        assert_eq!(
            join.join_output_needs(&needed),
            vec![true, false, true, false, true]
        );
        assert_eq!(
            join.input_needs(&needed),
            vec![vec![true, true, true], vec![true, true]]
        );
    }

    #[test]
    fn an_aggregate_reads_only_its_groups_and_arguments() {
        let aggregate = Node::Aggregate {
            source: Box::new(values(4)),
            group_by: vec![column(2)],
            aggregates: vec![AggregateCall {
                function: AggregateFunction::Sum,
                delimiter: None,
                arg: Some(column(3)),
                distinct: false,
                filter: None,
            }],
        };
        assert_eq!(aggregate.width(), 2);
        assert_eq!(
            aggregate.input_needs(&[false, true]),
            vec![vec![false, false, true, true]]
        );
        let distinct = Node::Distinct {
            source: Box::new(aggregate),
        };
        assert_eq!(
            distinct.input_needs(&[false, false]),
            vec![vec![true, true]]
        );
    }
}
