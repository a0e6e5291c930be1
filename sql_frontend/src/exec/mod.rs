//! # exec — running a plan inside one engine transaction
//!
//! [`build`] turns an operator tree ([`Node`]) into pull-based operators, one file per
//! operator (RisingLight's shape): it builds a node's inputs first and hands them to the
//! node's operator, so operators depend on the [`Operator`] protocol, never on each
//! other or on the builder. Each operator is a state machine whose `next` takes the
//! [`ExecContext`] (transaction, parameters, subquery plans, outer rows of correlated
//! subqueries), and the caller pulls. Expressions are evaluated by [`eval`] (`eval.rs`);
//! a subquery in an expression runs its plan through the builder the context carries,
//! which is how the evaluator runs plans without importing the operators that import it.
//!
//! Operators by file: `scan.rs` (SeqScan, KeyLookup, IndexScan, over `table_rows.rs`), `filter.rs`,
//! `project.rs`, `sort.rs`, `limit.rs`, `values.rs`, `join.rs` (nested loop, hash, index
//! nested loop: one driver, three ways to find the right rows; LEFT and FULL joins),
//! `lateral.rs` (LATERAL joins: the right side re-run per left row), `aggregate.rs`
//! (HashAggregate), `gather.rs` (an aggregate run on several threads, a part of its
//! table at a time, `hashed_rows.rs` the hash join tables they share), `distinct.rs`, `set_operation.rs` (UNION/EXCEPT/INTERSECT),
//! `cte.rs` (WITH queries computed once, WITH RECURSIVE; `shared_rows.rs` keeps
//! their rows in the context), `series.rs` (generate_series in FROM),
//! `system_scan.rs` (a system relation's rows, from the catalog: `crate::system`),
//! `window.rs`
//! (window functions by sort-then-scan);
//! `keys.rs` is the hash-key form they share, `buffered.rs` rows already computed.
//!
//! Statements: a query is its root operator, which the session pulls rows from as its
//! caller asks for them; INSERT, UPDATE and DELETE ([`write`], `write.rs`) first collect
//! the rows to change, then write them through the engine's table API; DDL ([`ddl()`],
//! `ddl.rs`) goes to the SQL and engine catalogs; COPY ([`copy()`], `copy.rs`) moves
//! rows between a table or query and text or CSV data; [`explain`] prints a plan.
//!
//! Sort, HashAggregate, Window and the build sides of joins and EXCEPT/INTERSECT materialise
//! their input; everything else streams (a secondary-index scan reads one range at a
//! time into memory).
//!
//! ## Column pruning
//!
//! The builder walks the tree top-down knowing which of each node's output columns are
//! read above it (`plan/needs.rs`; the root's are all read). SeqScans and primary-key
//! range scans decode only the columns read above them, and joins copy only those into
//! the rows they produce (a join under an aggregate carries only the columns the
//! aggregate reads); a column nobody reads keeps its place in the row and holds NULL, so no
//! expression's column index changes. A context may carry the analysis already done
//! for the whole plan ([`ExecContext::with_plan_needs`]: the session keeps one per plan
//! it reuses), which the builder reads where it holds the node and flags at hand.
//!
//! ## Rows and batches
//!
//! An operator can be pulled a row at a time ([`Operator::next`]) or a batch of up to
//! [`BATCH_ROWS`] rows at a time ([`Operator::next_batch`], `batch.rs`). Operators that
//! consume their whole input pull batches: HashAggregate, Sort, the build side of a
//! join, and a join's left (probe) input when the join is itself pulled by batches; so
//! do INSERT/UPDATE/DELETE and COPY collecting their rows. The batch-native operators —
//! SeqScan and primary-key range scans (`table_rows.rs`: decoded straight from the
//! engine's lent leaf chunks into the batch's reused rows), Filter (compacts the batch
//! in place), Project (assigns into reused rows) and the joins — produce them without
//! an allocation per row; the others get a default that collects their rows. Rows are
//! batched as rows, not as columns: see `batch.rs` for why.
//!
//! Whatever is pulled a row at a time stays row at a time below, as far as a batch
//! consumer: the rows a query returns to its caller, and above all LIMIT, so a LIMIT
//! stops its scan after the rows it needs (the scan decodes a row per pull from the
//! leaf the engine last lent), and a row that a LIMIT never reaches is never evaluated
//! (no error from it, as in PostgreSQL). Cancellation is looked at every
//! `CHECK_EVERY` row steps, or once per scanned batch.

mod aggregate;
mod alter;
mod analyze;
mod batch;
mod buffered;
mod copy;
mod cte;
mod ddl;
mod distinct;
mod duplicate_key;
pub mod eval;
mod explain;
mod filter;
mod gather;
mod hashed_rows;
mod instrument;
mod interrupt;
mod join;
mod keys;
mod lateral;
mod limit;
mod locking;
mod new_row;
mod operator;
mod output;
mod profile;
mod project;
mod references;
mod scan;
mod sequence;
mod series;
mod set_operation;
mod shared_rows;
mod sort;
mod system_scan;
mod table_rows;
mod upsert;
mod values;
mod window;
mod write;

use std::sync::Arc;

use engine::Transaction;

pub use analyze::{Analyzed, analyze};
pub use batch::{BATCH_ROWS, RowBatch};
pub use copy::CopyStream;
pub use eval::eval;
pub use interrupt::{CancelHandle, Interrupt};
pub use operator::{BoxedOperator, Builder, ExecContext, KeyedRow, Operator};
pub use output::{Output, counted_tag};

use crate::error::Result;
use crate::plan::{Copy, Ddl, Node, Plan, all_needed};
use crate::sequence::SequenceValues;
use crate::value::Value;

/// Builds the operators of the tree rooted at `node`, its inputs first; every column
/// of its output is read.
pub fn build<'p>(node: &'p Node, ctx: &mut ExecContext<'_>) -> Result<BoxedOperator<'p>> {
    match ctx.plan_needs().and_then(|needs| needs.all_read(node)) {
        Some(needed) => build_pruned(node, needed, true, ctx),
        None => build_pruned(node, &all_needed(node.width()), true, ctx),
    }
}

/// Builds `node`'s operators, given which of its output columns are read above
/// (`needed`) and whether its rows' primary keys are (`keys`: by UPDATE and DELETE at
/// the root; nodes that make new rows — projections, joins, aggregates — drop them):
/// its inputs are built for the columns it reads of them, scans decode only those,
/// joins fill in only those (`plan/needs.rs`; the others hold NULL).
fn build_pruned<'p>(
    node: &'p Node,
    needed: &[bool],
    keys: bool,
    ctx: &mut ExecContext<'_>,
) -> Result<BoxedOperator<'p>> {
    let operator = build_operator(node, needed, keys, ctx)?;
    Ok(match ctx.profile() {
        Some(profile) => instrument::wrap(profile, node, operator),
        None => operator,
    })
}

/// [`build_pruned`] without the profiling wrapper.
fn build_operator<'p>(
    node: &'p Node,
    needed: &[bool],
    keys: bool,
    ctx: &mut ExecContext<'_>,
) -> Result<BoxedOperator<'p>> {
    // The analysis kept with the plan when it holds this node and these flags, else
    // done here (`plan/needs.rs`).
    let computed;
    let needs = match ctx.plan_needs().and_then(|kept| kept.inputs(node, needed)) {
        Some(kept) => kept,
        None => {
            computed = node.input_needs(needed);
            computed.as_slice()
        }
    };
    let need = |i: usize| needs[i].as_slice();
    Ok(match node {
        Node::SeqScan { table } => scan::seq_scan(table, needed, keys, ctx)?,
        Node::SystemScan { relation, client } => {
            Box::new(system_scan::SystemScan::new(*relation, Arc::clone(client)))
        }
        Node::KeyLookup { table, keys } => scan::key_lookup(table, keys, ctx)?,
        Node::IndexScan {
            table,
            index,
            columns,
            ranges,
            index_only,
        } => Box::new(scan::IndexScan::open(
            table,
            index.as_deref(),
            columns,
            ranges,
            *index_only,
            needed,
            keys,
            ctx,
        )?),
        Node::Filter { source, predicate } => {
            let source = build_pruned(source, need(0), keys, ctx)?;
            Box::new(filter::Filter::new(source, predicate, ctx))
        }
        Node::Project {
            source,
            exprs,
            names: _,
        } => Box::new(project::Project::new(
            build_pruned(source, need(0), false, ctx)?,
            exprs,
        )),
        Node::Sort {
            source,
            keys: sort_keys,
        } => Box::new(sort::Sort::new(
            build_pruned(source, need(0), keys, ctx)?,
            sort_keys,
        )),
        Node::Limit {
            source,
            limit,
            offset,
        } => {
            let source = build_pruned(source, need(0), keys, ctx)?;
            Box::new(limit::Limit::new(
                source,
                limit.as_ref(),
                offset.as_ref(),
                ctx,
            )?)
        }
        Node::Values { rows, columns: _ } => values::values(rows, ctx)?,
        Node::NestedLoopJoin {
            left,
            right,
            kind: _,
            predicate: _,
        } => {
            let inner = join::all_rows(build_pruned(right, need(1), false, ctx)?);
            let spec = join::spec(node, inner, needed)?;
            join::join(build_pruned(left, need(0), false, ctx)?, spec)?
        }
        Node::HashJoin {
            left,
            right,
            kind: _,
            left_keys,
            right_keys,
            predicate: _,
        } => {
            let right = build_pruned(right, need(1), false, ctx)?;
            let inner = join::hashed(right, left_keys, right_keys);
            let spec = join::spec(node, inner, needed)?;
            join::join(build_pruned(left, need(0), false, ctx)?, spec)?
        }
        Node::IndexNestedLoopJoin {
            left,
            table,
            index,
            columns,
            keys,
            kind: _,
            predicate: _,
        } => {
            let inner = join::looked_up(table, index.as_deref(), columns, keys)?;
            let spec = join::spec(node, inner, needed)?;
            join::join(build_pruned(left, need(0), false, ctx)?, spec)?
        }
        Node::Aggregate {
            source,
            group_by,
            aggregates,
        } => aggregate::hash_aggregate(
            build_pruned(source, need(0), false, ctx)?,
            group_by,
            aggregates,
        ),
        Node::Gather { source, workers } => gather::gather(source, *workers),
        Node::Distinct { source } => distinct::distinct(build_pruned(source, need(0), keys, ctx)?),
        Node::DistinctOn { source, on } => {
            distinct::distinct_on(build_pruned(source, need(0), keys, ctx)?, on)
        }
        Node::SetOperation {
            op,
            all,
            left,
            right,
        } => {
            let left = build_pruned(left, need(0), keys, ctx)?;
            let right = build_pruned(right, need(1), keys, ctx)?;
            set_operation::set_operation(*op, *all, left, right)
        }
        Node::LateralJoin {
            left,
            right,
            right_columns,
            kind,
            predicate,
        } => Box::new(lateral::LateralJoin::new(
            build_pruned(left, need(0), false, ctx)?,
            *right,
            right_columns.len(),
            *kind,
            predicate.as_ref(),
        )),
        Node::GenerateSeries {
            start, stop, step, ..
        } => Box::new(series::GenerateSeries::new(start, stop, step.as_ref())),
        Node::Window { source, calls } => Box::new(window::Window::new(build(source, ctx)?, calls)),
        Node::CteScan { id, .. } => Box::new(cte::CteScan::new(*id)),
        Node::WorkTableScan { id, .. } => Box::new(cte::WorkTableScan::new(*id)),
        Node::RecursiveUnion {
            id,
            name,
            all,
            base,
            recursive,
        } => Box::new(cte::RecursiveUnion::new(
            *id,
            name,
            *all,
            build(base, ctx)?,
            recursive,
        )),
    })
}

/// Runs an INSERT, UPDATE, DELETE or SELECT ... FOR UPDATE `plan` in `txn` with parameter
/// values `params` (already cast to their kinds), stopped early by `interrupt`, its
/// sequence functions taking values through `sequences` (the session's).
pub fn write(
    txn: &mut Transaction,
    plan: &Plan,
    params: &[Value],
    interrupt: &Interrupt,
    sequences: Option<&SequenceValues>,
) -> Result<Output> {
    match &plan.statement {
        crate::plan::Statement::LockRows(lock) => {
            locking::lock_rows(txn, plan, lock, params, build, interrupt, sequences)
        }
        _ => write::dml(txn, plan, params, build, interrupt, sequences),
    }
}

/// Runs a schema change in `txn`, its sequence functions (an added column's DEFAULT)
/// taking values through `sequences` (the session's).
pub fn ddl(txn: &mut Transaction, ddl: &Ddl, sequences: Option<&SequenceValues>) -> Result<Output> {
    ddl::ddl(txn, ddl, sequences, build)
}

/// Runs a COPY `plan` in `txn`, with the client's stream for `FROM STDIN` / `TO STDOUT`.
pub fn copy(
    txn: &mut Transaction,
    plan: &Plan,
    statement: &Copy,
    params: &[Value],
    stream: CopyStream<'_>,
    sequences: Option<&SequenceValues>,
) -> Result<Output> {
    copy::copy(txn, plan, statement, params, build, stream, sequences)
}

/// What EXPLAIN returns for `plan` (of an `Explain` statement): the plan of the
/// statement it explains with its estimates and, for EXPLAIN ANALYZE, what running it
/// in `txn` did (`explain.rs`).
pub fn explain(
    txn: &mut Transaction,
    plan: &Plan,
    interrupt: &Interrupt,
    sequences: Option<&SequenceValues>,
) -> Result<Output> {
    explain::explain(txn, plan, interrupt, build, sequences)
}
