//! Parallel aggregation: an Aggregate over a large table is computed by several threads.
//!
//! The pass puts a [`Node::Gather`] above each Aggregate whose input is a *pipeline*
//! over one large table — a SeqScan under any number of Filters, Projects and hash joins
//! that keep it on their probe side (left; inner or LEFT joins):
//!
//! ```text
//! Gather: 2 threads
//!   HashAggregate: count(*) group by #1
//!     HashJoin on #1 = #5           <- its build side (right) is read once, shared
//!       Filter: ...
//!         SeqScan: user_events      <- the driving scan, read a part at a time
//!       SeqScan: users
//! ```
//!
//! At run time (`exec/gather.rs`) the statement's thread builds the joins' hash tables
//! once, cuts the driving table into parts (`Transaction::scan_chunk_parts`: the
//! B+tree's upper separators give parts of about equal size), and it and the workers
//! each run the pipeline over one part after another, taken from a shared queue, into
//! groups of their own (HyPer's and DuckDB's *morsel-driven* parallelism: no thread is
//! given a fixed share, so one slowed down by another process's load takes fewer parts).
//! Each thread's groups are then merged into one result. Partial states must merge, so
//! the aggregates qualify only where they do: count, sum, avg, min, max, bool_and and
//! bool_or without DISTINCT (string_agg's order and DISTINCT's sets do not merge).
//!
//! Every expression the workers evaluate must give the same answer on any thread and
//! need nothing but its row: no subquery (it would need the transaction), no outer row,
//! no volatile function (`random()`, `nextval()`: their order of calls would change).
//! The clock is read once per statement, before the workers start, so `now()` agrees.
//!
//! **When**: `max_parallel_workers_per_gather` above 0, a driving table estimated at
//! [`PARALLEL_MIN_ROWS`] rows or more, and one worker per [`PARALLEL_MIN_ROWS`] rows
//! up to the setting. A table never analysed is estimated small, so it stays serial; so
//! does, at run time, a table too small to cut or one the transaction has written into
//! (its own writes are merged into one scan). EXPLAIN shows the Gather; EXPLAIN ANALYZE
//! runs it on the statement's thread alone, so that every node's counters stay exact.

use crate::cost::{PARALLEL_MIN_ROWS, table_size};
use crate::expr::Expr;
use crate::plan::{AggregateCall, AggregateFunction, JoinKind, Node};

/// The pass.
pub(super) fn parallel_aggregates(plan: Node, cx: &super::context::Context<'_>) -> Node {
    let most = cx.settings.max_parallel_workers_per_gather;
    if most == 0 {
        return plan;
    }
    gather(plan, most)
}

fn gather(plan: Node, most: usize) -> Node {
    let plan = plan.map_inputs(&mut |input| gather(input, most));
    let Node::Aggregate {
        source,
        group_by,
        aggregates,
    } = &plan
    else {
        return plan;
    };
    let qualifies = group_by.iter().all(parallel_safe)
        && aggregates.iter().all(mergeable)
        && driving_rows(source).is_some_and(|rows| rows >= PARALLEL_MIN_ROWS);
    if !qualifies {
        return plan;
    }
    let rows = driving_rows(source).unwrap_or_default();
    let workers = ((rows / PARALLEL_MIN_ROWS) as usize).clamp(1, most);
    Node::Gather {
        source: Box::new(plan),
        workers,
    }
}

/// The estimated rows of the table a pipeline reads part by part, if `node` is one.
fn driving_rows(node: &Node) -> Option<f64> {
    match node {
        Node::SeqScan { table } => Some(table_size(table).rows),
        Node::Filter { source, predicate } if parallel_safe(predicate) => driving_rows(source),
        Node::Project { source, exprs, .. } if exprs.iter().all(parallel_safe) => {
            driving_rows(source)
        }
        Node::HashJoin {
            left,
            right: _,
            kind: JoinKind::Inner | JoinKind::Left,
            left_keys,
            right_keys,
            predicate,
        } if left_keys
            .iter()
            .chain(right_keys)
            .chain(predicate)
            .all(parallel_safe) =>
        {
            driving_rows(left)
        }
        _ => None,
    }
}

/// Whether a worker may evaluate `expr`: see the module header.
pub(crate) fn parallel_safe(expr: &Expr) -> bool {
    !expr.is_volatile() && !expr.reads_outer() && !expr.any(&|e| matches!(e, Expr::Subquery(_)))
}

/// Whether the partial states of `call` on several threads merge into its state on one.
fn mergeable(call: &AggregateCall) -> bool {
    let function = matches!(
        call.function,
        AggregateFunction::CountRows
            | AggregateFunction::Count
            | AggregateFunction::Sum
            | AggregateFunction::Avg
            | AggregateFunction::Min
            | AggregateFunction::Max
            | AggregateFunction::BoolAnd
            | AggregateFunction::BoolOr
    );
    function && !call.distinct && call.arg.iter().chain(&call.filter).all(parallel_safe)
}
