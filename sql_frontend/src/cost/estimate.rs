//! Estimates for whole operator trees: rows and cost of every node, bottom-up (the
//! rules are in the module header, `mod.rs`). EXPLAIN prints them; the join-order pass
//! sizes its relations with them.

use std::collections::HashMap;
use std::ops::Bound;

use super::selectivity::{Origin, distinct, selectivity};
use super::{
    DEFAULT_NUM_DISTINCT, DEFAULT_ROWS, DESCENT, FILTER_CONJUNCT, HASH_BUILD, HASH_PROBE,
    INDEX_ENTRY, KEY_LOOKUP, NESTED_PAIR, PARALLEL_SETUP, ROW_LOOKUP, SCAN_ROW, SORT_COMPARE,
    index_only_scan_cost, index_scan_cost, key_lookup_cost, key_range_cost, seq_scan_cost,
    table_origins, table_size,
};
use crate::catalog::TableInfo;
use crate::expr::{BinaryOp, Expr};
use crate::plan::{JoinKind, Node, ScanRange, SetOperator};
use crate::value::Value;

/// Rows a recursive query's recursive term is assumed to add, as a multiple of its base
/// rows (PostgreSQL assumes 10 rounds).
const RECURSION_FACTOR: f64 = 10.0;

/// A node's estimate.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// Rows it returns.
    pub rows: f64,
    /// Microseconds to return them all, its inputs included.
    pub cost: f64,
    /// Where each of its columns comes from, where known.
    pub origins: Vec<Option<Origin>>,
}

/// Rows, startup cost (before the first row) and total cost of each node of a tree, by
/// the node's address (valid while the tree is borrowed).
pub type Estimates = HashMap<*const Node, (f64, f64, f64)>;

/// The estimate of a tree's root.
pub fn estimate(node: &Node) -> Estimate {
    estimate_tree(node, &mut Estimates::new())
}

/// The estimate of a tree's root, recording every node's in `out`.
pub fn estimate_tree(node: &Node, out: &mut Estimates) -> Estimate {
    let e = node_estimate(node, out);
    let startup = startup(node, &e, out);
    out.insert(node as *const Node, (e.rows, startup, e.cost));
    e
}

/// The cost before a node's first row: what it must read whole first (a sort's or an
/// aggregate's input, a hash join's build side), or its input's startup.
fn startup(node: &Node, e: &Estimate, out: &Estimates) -> f64 {
    let of = |n: &Node| out.get(&(n as *const Node)).copied().unwrap_or_default();
    let first = |n: &Node| of(n).1;
    let total = |n: &Node| of(n).2;
    match node {
        Node::SeqScan { .. } | Node::KeyLookup { .. } | Node::Values { .. } => 0.0,
        Node::IndexScan { .. } => DESCENT.min(e.cost),
        Node::GenerateSeries { .. }
        | Node::CteScan { .. }
        | Node::WorkTableScan { .. }
        | Node::SystemScan { .. } => 0.0,
        Node::Sort { .. } | Node::Aggregate { .. } | Node::Window { .. } => e.cost,
        Node::Filter { source, .. }
        | Node::Project { source, .. }
        | Node::Limit { source, .. }
        | Node::Distinct { source } => first(source),
        Node::Gather { .. } => e.cost,
        Node::DistinctOn { .. } => e.cost,
        Node::IndexNestedLoopJoin { left, .. } | Node::LateralJoin { left, .. } => first(left),
        Node::NestedLoopJoin { left, right, .. } => first(left) + total(right),
        Node::HashJoin { left, right, .. } => first(left) + total(right) + of(right).0 * HASH_BUILD,
        Node::SetOperation {
            op, left, right, ..
        } => match op {
            SetOperator::Union => first(left),
            SetOperator::Except | SetOperator::Intersect => first(left) + total(right),
        },
        Node::RecursiveUnion { base, .. } => first(base),
    }
}

fn unknown(width: usize) -> Vec<Option<Origin>> {
    vec![None; width]
}

fn conjuncts(e: &Expr) -> f64 {
    match e {
        Expr::Binary(BinaryOp::And, l, r) => conjuncts(l) + conjuncts(r),
        _ => 1.0,
    }
}

/// The predicate a range of an index scan stands for, over the table's row.
pub fn range_predicate(table: &TableInfo, columns: &[usize], range: &ScanRange) -> Expr {
    let column = |i: usize| Expr::Column {
        index: i,
        name: table
            .columns
            .get(i)
            .map_or_else(String::new, |c| c.name.clone()),
    };
    let mut parts: Vec<Expr> = range
        .prefix
        .iter()
        .zip(columns)
        .map(|(value, c)| Expr::binary(BinaryOp::Eq, column(*c), value.clone()))
        .collect();
    if let Some(next) = columns.get(range.prefix.len()) {
        let bound = |b: &Bound<Expr>, inclusive, exclusive| match b {
            Bound::Included(v) => Some(Expr::binary(inclusive, column(*next), v.clone())),
            Bound::Excluded(v) => Some(Expr::binary(exclusive, column(*next), v.clone())),
            Bound::Unbounded => None,
        };
        parts.extend(bound(&range.lower, BinaryOp::GtEq, BinaryOp::Gt));
        parts.extend(bound(&range.upper, BinaryOp::LtEq, BinaryOp::Lt));
    }
    parts
        .into_iter()
        .reduce(|a, b| Expr::binary(BinaryOp::And, a, b))
        .unwrap_or(Expr::Literal(Value::Bool(true)))
}

/// The fraction of `table`'s rows that the ranges of an index scan read.
fn ranges_selectivity(table: &TableInfo, columns: &[usize], ranges: &[ScanRange]) -> f64 {
    let origins = table_origins(table);
    ranges
        .iter()
        .map(|r| selectivity(&range_predicate(table, columns, r), &origins))
        .sum::<f64>()
        .min(1.0)
}

/// Rows an index scan (or key range scan) of `ranges` reads.
fn index_rows(table: &TableInfo, columns: &[usize], ranges: &[ScanRange]) -> f64 {
    table_size(table).rows * ranges_selectivity(table, columns, ranges)
}

/// The distinct values of `e`, or the default for a column without statistics.
fn distinct_or_default(origins: &[Option<Origin>], e: &Expr) -> f64 {
    distinct(origins, e).unwrap_or(DEFAULT_NUM_DISTINCT)
}

fn limit_value(e: &Option<Expr>) -> Option<f64> {
    match e {
        Some(Expr::Literal(Value::Int(n))) => Some((*n).max(0) as f64),
        _ => None,
    }
}

fn sort_cost(rows: f64) -> f64 {
    rows * rows.max(2.0).log2() * SORT_COMPARE
}

fn node_estimate(node: &Node, out: &mut Estimates) -> Estimate {
    match node {
        Node::SeqScan { table } => Estimate {
            rows: table_size(table).rows,
            cost: seq_scan_cost(table_size(table)),
            origins: table_origins(table),
        },
        Node::KeyLookup { table, keys } => {
            let keys = keys.len() as f64;
            Estimate {
                rows: keys.min(table_size(table).rows.max(1.0)),
                cost: key_lookup_cost(keys),
                origins: table_origins(table),
            }
        }
        Node::IndexScan {
            table,
            index,
            columns,
            ranges,
            index_only,
        } => {
            let rows = index_rows(table, columns, ranges);
            let count = ranges.len() as f64;
            let cost = match (index, index_only) {
                (None, _) => key_range_cost(table_size(table), count, rows),
                (Some(_), false) => index_scan_cost(count, rows),
                (Some(_), true) => index_only_scan_cost(count, rows),
            };
            Estimate {
                rows,
                cost,
                origins: table_origins(table),
            }
        }
        Node::Filter { source, predicate } => {
            let s = estimate_tree(source, out);
            let kept = selectivity(predicate, &s.origins);
            // Over a scan, the filter repeats what the scan's ranges already applied:
            // its rows are the table's times the whole predicate's selectivity.
            let rows = match source.as_ref() {
                Node::SeqScan { table }
                | Node::IndexScan { table, .. }
                | Node::KeyLookup { table, .. } => s.rows.min(table_size(table).rows * kept),
                _ => s.rows * kept,
            };
            Estimate {
                rows,
                cost: s.cost + s.rows * FILTER_CONJUNCT * conjuncts(predicate),
                origins: s.origins,
            }
        }
        Node::Project { source, exprs, .. } => {
            let s = estimate_tree(source, out);
            let origins = exprs
                .iter()
                .map(|e| match e {
                    Expr::Column { index, .. } => s.origins.get(*index).cloned().flatten(),
                    _ => None,
                })
                .collect();
            Estimate {
                rows: s.rows,
                cost: s.cost,
                origins,
            }
        }
        Node::Sort { source, .. } => {
            let s = estimate_tree(source, out);
            Estimate {
                cost: s.cost + sort_cost(s.rows),
                ..s
            }
        }
        Node::Limit {
            source,
            limit,
            offset,
        } => {
            let s = estimate_tree(source, out);
            let after_offset = (s.rows - limit_value(offset).unwrap_or(0.0)).max(0.0);
            let rows = limit_value(limit).map_or(after_offset, |l| l.min(after_offset));
            // A limit stops its input early: its share of the input's cost.
            let share = match s.rows > 0.0 {
                true => ((rows + s.rows - after_offset) / s.rows).min(1.0),
                false => 1.0,
            };
            Estimate {
                rows,
                cost: s.cost * share,
                origins: s.origins,
            }
        }
        Node::NestedLoopJoin {
            left,
            right,
            kind,
            predicate,
        } => {
            let (l, r) = (estimate_tree(left, out), estimate_tree(right, out));
            let mut origins = l.origins;
            origins.extend(r.origins);
            let kept = predicate.as_ref().map_or(1.0, |p| selectivity(p, &origins));
            let rows = outer(*kind, l.rows, l.rows * r.rows * kept);
            Estimate {
                rows,
                cost: l.cost + r.cost + l.rows * r.rows * NESTED_PAIR,
                origins,
            }
        }
        Node::HashJoin {
            left,
            right,
            kind,
            left_keys,
            right_keys,
            predicate,
        } => {
            let (l, r) = (estimate_tree(left, out), estimate_tree(right, out));
            let mut matched = l.rows * r.rows;
            for (lk, rk) in left_keys.iter().zip(right_keys) {
                let nd =
                    distinct_or_default(&l.origins, lk).max(distinct_or_default(&r.origins, rk));
                matched /= nd.max(1.0);
            }
            let cost = l.cost + r.cost + r.rows * HASH_BUILD + l.rows * HASH_PROBE;
            let mut origins = l.origins;
            origins.extend(r.origins);
            let kept = predicate.as_ref().map_or(1.0, |p| selectivity(p, &origins));
            Estimate {
                rows: outer(*kind, l.rows, matched * kept),
                cost,
                origins,
            }
        }
        Node::IndexNestedLoopJoin {
            left,
            table,
            index,
            columns,
            keys,
            kind,
            predicate,
        } => {
            let l = estimate_tree(left, out);
            let inner = table_origins(table);
            let per_row = rows_per_key(table, columns, keys.len());
            let lookup = index_join_lookup_cost(table, index.is_some(), columns, keys.len());
            let mut origins = l.origins;
            origins.extend(inner);
            let kept = predicate.as_ref().map_or(1.0, |p| selectivity(p, &origins));
            Estimate {
                rows: outer(*kind, l.rows, l.rows * per_row * kept),
                cost: l.cost + l.rows * lookup,
                origins,
            }
        }
        Node::Aggregate {
            source,
            group_by,
            aggregates,
        } => {
            let s = estimate_tree(source, out);
            let groups = match group_by.is_empty() {
                true => 1.0,
                false => group_by
                    .iter()
                    .map(|g| distinct_or_default(&s.origins, g))
                    .product::<f64>()
                    .min(s.rows)
                    .max(1.0),
            };
            let mut origins: Vec<Option<Origin>> = group_by
                .iter()
                .map(|g| match g {
                    Expr::Column { index, .. } => s.origins.get(*index).cloned().flatten(),
                    _ => None,
                })
                .collect();
            origins.extend(unknown(aggregates.len()));
            Estimate {
                rows: groups,
                cost: s.cost + s.rows * HASH_BUILD,
                origins,
            }
        }
        Node::Distinct { source } => {
            let s = estimate_tree(source, out);
            Estimate {
                cost: s.cost + s.rows * HASH_BUILD,
                ..s
            }
        }
        Node::Gather { source, workers } => {
            let s = estimate_tree(source, out);
            let threads = (*workers + 1) as f64;
            Estimate {
                cost: s.cost / threads + *workers as f64 * (PARALLEL_SETUP + s.rows * HASH_BUILD),
                ..s
            }
        }
        Node::DistinctOn { source, on } => {
            let s = estimate_tree(source, out);
            let groups = on
                .iter()
                .map(|e| distinct_or_default(&s.origins, e))
                .product::<f64>()
                .min(s.rows)
                .max(1.0);
            Estimate {
                rows: groups,
                cost: s.cost + sort_cost(s.rows),
                origins: s.origins,
            }
        }
        Node::SetOperation {
            op, left, right, ..
        } => {
            let (l, r) = (estimate_tree(left, out), estimate_tree(right, out));
            let rows = match op {
                SetOperator::Union => l.rows + r.rows,
                SetOperator::Except => l.rows,
                SetOperator::Intersect => l.rows.min(r.rows),
            };
            Estimate {
                rows,
                cost: l.cost + r.cost + (l.rows + r.rows) * HASH_BUILD,
                origins: unknown(l.origins.len()),
            }
        }
        Node::Values { rows, columns } => Estimate {
            rows: rows.len() as f64,
            cost: 0.0,
            origins: unknown(columns.len()),
        },
        Node::Window { source, calls } => {
            let s = estimate_tree(source, out);
            let mut origins = s.origins;
            origins.extend(unknown(calls.len()));
            Estimate {
                rows: s.rows,
                cost: s.cost + sort_cost(s.rows),
                origins,
            }
        }
        Node::GenerateSeries {
            start, stop, step, ..
        } => {
            let step = match step {
                None => Some(1.0),
                Some(Expr::Literal(Value::Int(s))) if *s != 0 => Some(*s as f64),
                _ => None,
            };
            let rows = match (start, stop, step) {
                (Expr::Literal(Value::Int(a)), Expr::Literal(Value::Int(b)), Some(s)) => {
                    ((*b as f64 - *a as f64) / s + 1.0).floor().max(0.0)
                }
                _ => DEFAULT_ROWS,
            };
            Estimate {
                rows,
                cost: rows * SCAN_ROW,
                origins: unknown(1),
            }
        }
        Node::CteScan { columns, .. } | Node::WorkTableScan { columns, .. } => Estimate {
            rows: DEFAULT_ROWS,
            cost: DEFAULT_ROWS * SCAN_ROW,
            origins: unknown(columns.len()),
        },
        // A system relation holds a row per table, index or column: a guess.
        Node::SystemScan { relation, .. } => Estimate {
            rows: DEFAULT_ROWS,
            cost: DEFAULT_ROWS * SCAN_ROW,
            origins: unknown(relation.columns().len()),
        },
        Node::LateralJoin {
            left,
            right_columns,
            kind,
            ..
        } => {
            // The right side's plan is not at hand here: a guess per left row.
            let l = estimate_tree(left, out);
            let mut origins = l.origins;
            origins.extend(unknown(right_columns.len()));
            Estimate {
                rows: outer(*kind, l.rows, l.rows * LATERAL_ROWS),
                cost: l.cost + l.rows * LATERAL_ROWS * SCAN_ROW,
                origins,
            }
        }
        Node::RecursiveUnion {
            base, recursive, ..
        } => {
            let (b, r) = (estimate_tree(base, out), estimate_tree(recursive, out));
            Estimate {
                rows: b.rows * RECURSION_FACTOR,
                cost: b.cost + r.cost * RECURSION_FACTOR,
                origins: unknown(b.origins.len()),
            }
        }
    }
}

/// Rows of `table` matching one value of the first `bound` of `columns` (an index's or
/// the primary key's): the table's rows over the product of their distinct counts.
pub fn rows_per_key(table: &TableInfo, columns: &[usize], bound: usize) -> f64 {
    let origins = table_origins(table);
    let mut per_key = table_size(table).rows;
    for column in columns.iter().take(bound) {
        let e = Expr::Column {
            index: *column,
            name: String::new(),
        };
        per_key /= distinct_or_default(&origins, &e).max(1.0);
    }
    per_key
}

/// Cost of one probe of an index nested-loop join: the rows of `table` whose first
/// `bound` columns of the primary key (`secondary` false) or of a secondary index
/// equal one left row's keys. A whole primary key is one point lookup; a prefix of it,
/// a descent and a range; a secondary index, a descent and a row lookup per entry.
pub fn index_join_lookup_cost(
    table: &TableInfo,
    secondary: bool,
    columns: &[usize],
    bound: usize,
) -> f64 {
    let per_key = rows_per_key(table, columns, bound);
    let full_key = !secondary && bound >= table.schema.primary_key.len();
    match (secondary, full_key) {
        (_, true) => KEY_LOOKUP,
        (false, false) => DESCENT + per_key * SCAN_ROW,
        (true, _) => DESCENT + per_key * (INDEX_ENTRY + ROW_LOOKUP),
    }
}

/// Rows guessed per left row of a LATERAL join (its right side's plan is a subquery's).
const LATERAL_ROWS: f64 = 10.0;

/// A join's rows: `matched`, but at least every left row for a LEFT or FULL join
/// (a FULL join's unmatched right rows are not estimated).
fn outer(kind: JoinKind, left: f64, matched: f64) -> f64 {
    match kind {
        JoinKind::Inner => matched,
        JoinKind::Left | JoinKind::Full => matched.max(left),
    }
}
