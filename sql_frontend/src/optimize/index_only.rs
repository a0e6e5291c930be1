//! Index-only scans: reading a table's rows from one of its secondary indexes alone.
//!
//! An index entry holds the row's indexed values, its primary key and the values of
//! the index's INCLUDE columns (`engine/src/table/ops.rs`, whose header also explains
//! why an entry read at a snapshot is never stale or phantom: entries are MVCC
//! versions written by the row's own transaction). So where nothing above a scan reads
//! any other column of its table, the rows can be made from the entries, and the
//! second lookup per row that makes an index scan lose to a sequential scan beyond a
//! few percent of a table (see `cost/mod.rs`) is not needed.
//!
//! The pass runs last, on the finished tree, walking it from the root with the columns
//! each node's output must provide (`plan/needs.rs`, the same analysis the executor's
//! builder uses to prune columns; every column of a root). At each scan of a table —
//! a sequential scan or a (not index-only) scan of an index or of the primary key,
//! bare or under the Filter that holds its predicate — it considers every index of
//! the table that *covers* the columns read above the scan (each is indexed, included
//! or part of the primary key): the ranges the predicate gives on the index's leading
//! columns, or the whole index where it gives none, priced by the cost model's
//! index-only cost. The cheapest covering index replaces the scan if it costs less
//! than the scan the access-path pass chose (disabled plan types priced as there:
//! `enable_indexonlyscan`, `enable_seqscan`, `enable_indexscan`). The Filter stays
//! above with the whole predicate, as over any access path.
//!
//! The executor checks coverage again against the columns its builder finds read
//! (`exec/scan.rs`) and reads the table instead should they ever differ, so a mistake
//! here could cost time but never make a column NULL that is read.

use engine::table::ops::index_covers;

use super::access_path::index_ranges;
use super::context::Context;
use crate::cost::{self, DISABLED_COST};
use crate::expr::Expr;
use crate::plan::{Node, all_needed};

/// The pass: index-only scans wherever a covering index is the cheaper way to read.
pub(super) fn index_only_scans(plan: Node, cx: &Context<'_>) -> Node {
    let needed = all_needed(plan.width());
    rewrite(plan, &needed, cx)
}

fn is_scan(node: &Node) -> bool {
    matches!(
        node,
        Node::SeqScan { .. }
            | Node::IndexScan {
                index_only: false,
                ..
            }
    )
}

/// Rewrites `node`, whose output columns `needed` marks as read above it.
fn rewrite(node: Node, needed: &[bool], cx: &Context<'_>) -> Node {
    let needs = node.input_needs(needed);
    match node {
        Node::Filter { source, predicate } if is_scan(&source) => {
            let scan_needs = needs
                .into_iter()
                .next()
                .unwrap_or_else(|| all_needed(source.width()));
            Node::Filter {
                source: Box::new(cheaper(*source, Some(&predicate), &scan_needs, cx)),
                predicate,
            }
        }
        scan if is_scan(&scan) => cheaper(scan, None, needed, cx),
        other => {
            let mut needs = needs.into_iter();
            other.map_inputs(&mut |child| {
                let child_needs = needs.next().unwrap_or_else(|| all_needed(child.width()));
                rewrite(child, &child_needs, cx)
            })
        }
    }
}

/// `scan`, or an index-only scan of a covering index where that is cheaper.
fn cheaper(scan: Node, predicate: Option<&Expr>, needed: &[bool], cx: &Context<'_>) -> Node {
    let penalty = |enabled: bool| if enabled { 0.0 } else { DISABLED_COST };
    let (table, current) = match &scan {
        Node::SeqScan { table } => (table, penalty(cx.settings.enable_seqscan)),
        Node::IndexScan { table, .. } => (table, penalty(cx.settings.enable_indexscan)),
        _ => return scan,
    };
    let mut best_cost = cost::estimate(&scan).cost + current;
    let mut best = None;
    for index in &table.schema.indexes {
        if !index_covers(&table.schema, index, needed) {
            continue;
        }
        let (ranges, rows) = index_ranges(table, &index.columns, predicate, cx);
        let cost = cost::index_only_scan_cost(ranges.len() as f64, rows)
            + penalty(cx.settings.enable_indexonlyscan);
        if cost < best_cost {
            best_cost = cost;
            best = Some(Node::IndexScan {
                table: table.clone(),
                index: Some(index.name.clone()),
                columns: index.columns.clone(),
                ranges,
                index_only: true,
            });
        }
    }
    best.unwrap_or(scan)
}
