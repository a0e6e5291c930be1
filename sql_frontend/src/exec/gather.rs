//! Gather: an aggregate computed by the statement's thread and its workers at once.
//!
//! The plan (`optimize/parallel.rs`, where the rules for what qualifies are) is a
//! Gather over an Aggregate over a *pipeline*: Filters, Projects and hash joins above
//! one SeqScan, the joins keeping the scan on their probe (left) side. On the first pull
//! the Gather, on the statement's thread:
//!
//! 1. builds each join's hash table once, from its right input run in the statement's
//!    transaction ([`HashedRows`]), to be lent to every thread;
//! 2. cuts the driving table into parts (`ops::scan_chunk_parts`: about four per
//!    thread, at the B+tree's upper separators) and queues them;
//! 3. runs the pipeline on `workers` scoped threads and on itself, each thread with an
//!    operator tree of its own built from the same plan nodes: its scan takes the next
//!    queued part whenever it has read the last (morsel-driven: a thread slowed by other
//!    load simply takes fewer parts), its joins probe the lent tables, and its
//!    HashAggregate groups what reaches it ([`group_rows`]);
//! 4. merges the threads' groups ([`Groups::merge`]) and returns the rows.
//!
//! The threads share only what is read-only (the plan, the hash tables, the parameter
//! values) and the queue (a mutex taken once per part). An error on any thread stops
//! the others at their next part, and the first error is the statement's. Cancellation
//! and `statement_timeout` reach every thread, each holding a clone of the statement's
//! interrupt; the clock is read once, before the threads start, so `now()` agrees.
//!
//! Where the threads cannot help, it runs the same code on the statement's thread alone:
//! a table the engine did not cut (too small, or written by this transaction, whose
//! own writes are merged into one scan), or EXPLAIN ANALYZE (one thread keeps each
//! node's counters exact). Groups come out in no particular order, as from any
//! HashAggregate; only ORDER BY orders them.

use std::collections::VecDeque;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};

use engine::table::{RowChunks, ops};
use parking_lot::Mutex;

use super::aggregate::{Groups, group_rows};
use super::batch::RowBatch;
use super::buffered::Buffered;
use super::filter::Filter;
use super::hashed_rows::HashedRows;
use super::join;
use super::operator::{BoxedOperator, ExecContext, KeyedRow, Operator};
use super::project::Project;
use super::table_rows::TableRows;
use crate::catalog::TableInfo;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{AggregateCall, Node, all_needed};

/// Parts of the driving table per thread: enough that the threads finish close
/// together even when one is slowed, few enough that taking a part costs nothing.
const PARTS_PER_THREAD: usize = 4;

/// The Gather over `aggregate` (a [`Node::Aggregate`]) with `workers` threads besides
/// the statement's.
pub(super) fn gather(aggregate: &Node, workers: usize) -> BoxedOperator<'_> {
    Box::new(Gather {
        aggregate,
        workers,
        output: None,
    })
}

struct Gather<'p> {
    aggregate: &'p Node,
    workers: usize,
    output: Option<Buffered>,
}

impl Operator for Gather<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        if self.output.is_none() {
            let rows = match ctx.profile() {
                Some(_) => {
                    let mut one = ctx.open(self.aggregate)?;
                    super::buffered::collect(one.as_mut(), ctx)?
                }
                None => self.run(ctx)?,
            };
            self.output = Some(Buffered::new(rows));
        }
        match &mut self.output {
            Some(output) => output.next(ctx),
            None => Ok(None),
        }
    }
}

/// The aggregate's parts, and the pipeline below it.
struct Pipeline<'p> {
    group_by: &'p [Expr],
    aggregates: &'p [AggregateCall],
    source: &'p Node,
    /// Which of the source's columns the aggregate reads.
    needed: Vec<bool>,
}

/// What every thread reads: the queued parts of the driving table and the hash tables
/// of the pipeline's joins (by the join node's address in the plan every thread reads),
/// and the flag that stops them.
struct Shared<'p> {
    table: &'p TableInfo,
    parts: Mutex<VecDeque<RowChunks>>,
    tables: Vec<(usize, HashedRows)>,
    stop: AtomicBool,
}

/// A node's identity within the plan: its address.
fn address(node: &Node) -> usize {
    std::ptr::from_ref(node) as usize
}

impl<'p> Shared<'p> {
    /// The hash table built for `join`.
    fn table_of(&self, join: &Node) -> Result<&HashedRows> {
        self.tables
            .iter()
            .find(|(node, _)| *node == address(join))
            .map(|(_, rows)| rows)
            .ok_or_else(|| Error::unsupported("a hash join outside a Gather's pipeline"))
    }

    /// The next part of the driving table, unless the queue is empty or a thread failed.
    fn next_part(&self) -> Option<RowChunks> {
        if self.stop.load(Ordering::Relaxed) {
            return None;
        }
        self.parts.lock().pop_front()
    }
}

impl Gather<'_> {
    fn run(&self, ctx: &mut ExecContext<'_>) -> Result<Vec<KeyedRow>> {
        let Node::Aggregate {
            source,
            group_by,
            aggregates,
        } = self.aggregate
        else {
            return Err(Error::unsupported(
                "a Gather over anything but an aggregate",
            ));
        };
        let all = all_needed(self.aggregate.width());
        let pipeline = Pipeline {
            group_by,
            aggregates,
            source,
            needed: self.aggregate.input_needs(&all).swap_remove(0),
        };
        let mut tables = Vec::new();
        let table = prepare(source, &mut tables, ctx)?;
        let threads = self.workers + 1;
        let parts = ops::scan_chunk_parts(
            ctx.txn()?,
            &table.schema,
            Bound::Unbounded,
            Bound::Unbounded,
            threads * PARTS_PER_THREAD,
        )?;
        let helpers = self.workers.min(parts.len().saturating_sub(1));
        let shared = Shared {
            table,
            parts: Mutex::new(parts.into()),
            tables,
            stop: AtomicBool::new(false),
        };
        let statement_time = ctx.statement_time()?;
        let interrupt = ctx.interrupt().clone();
        let params = ctx.params();
        let results: Vec<Result<(Groups, u64)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..helpers)
                .map(|_| {
                    let (shared, pipeline, interrupt) = (&shared, &pipeline, interrupt.clone());
                    scope.spawn(move || {
                        let mut wctx = ExecContext::worker(params, statement_time, interrupt);
                        run_thread(pipeline, shared, &mut wctx)
                    })
                })
                .collect();
            let mut wctx = ExecContext::worker(params, statement_time, interrupt.clone());
            let mut results = vec![run_thread(&pipeline, &shared, &mut wctx)];
            results.extend(handles.into_iter().map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::unsupported("a Gather thread that panicked")))
            }));
            results
        });
        let width = group_by.len();
        let mut merged: Option<Groups> = None;
        for result in results {
            let (groups, rows_read) = result?;
            ctx.note_rows_read(rows_read as usize)?;
            match &mut merged {
                None => merged = Some(groups),
                Some(m) => m.merge(groups, width)?,
            }
        }
        merged.unwrap_or_default().into_rows(width)
    }
}

/// Walks the pipeline under a Gather on the statement's thread: builds each hash
/// join's table from its right input, and returns the driving scan's table.
fn prepare<'p>(
    node: &'p Node,
    tables: &mut Vec<(usize, HashedRows)>,
    ctx: &mut ExecContext<'_>,
) -> Result<&'p TableInfo> {
    match node {
        Node::SeqScan { table } => Ok(table),
        Node::Filter { source, .. } | Node::Project { source, .. } => prepare(source, tables, ctx),
        Node::HashJoin {
            left,
            right,
            right_keys,
            ..
        } => {
            let mut rows = HashedRows::new(right_keys);
            let mut input = ctx.open(right)?;
            rows.build(input.as_mut(), right_keys, false, ctx)?;
            tables.push((address(node), rows));
            prepare(left, tables, ctx)
        }
        _ => Err(Error::unsupported(
            "a Gather whose input is not a scan under filters, projections and hash joins",
        )),
    }
}

/// One thread's share: its own operators over the parts it takes, grouped. Returns the
/// groups and the rows it read; an error stops the other threads.
fn run_thread(
    pipeline: &Pipeline<'_>,
    shared: &Shared<'_>,
    ctx: &mut ExecContext<'_>,
) -> Result<(Groups, u64)> {
    let result = (|| {
        let mut source = build(pipeline.source, &pipeline.needed, shared, ctx)?;
        let groups = group_rows(source.as_mut(), pipeline.group_by, pipeline.aggregates, ctx)?;
        Ok((groups, ctx.rows_read()))
    })();
    if result.is_err() {
        shared.stop.store(true, Ordering::Relaxed);
    }
    result
}

/// One thread's operators for the pipeline `node`, `needed` of its columns read above:
/// the builder's work (`mod.rs`) for the few nodes a pipeline holds, with the driving
/// scan reading queued parts and each join probing its lent table.
fn build<'s>(
    node: &'s Node,
    needed: &[bool],
    shared: &'s Shared<'s>,
    ctx: &mut ExecContext<'_>,
) -> Result<BoxedOperator<'s>> {
    let needs = node.input_needs(needed);
    Ok(match node {
        Node::SeqScan { table: _ } => Box::new(PartScan {
            shared,
            wanted: needed.to_vec(),
            rows: None,
        }),
        Node::Filter { source, predicate } => {
            let source = build(source, &needs[0], shared, ctx)?;
            Box::new(Filter::new(source, predicate, ctx))
        }
        Node::Project {
            source,
            exprs,
            names: _,
        } => Box::new(Project::new(build(source, &needs[0], shared, ctx)?, exprs)),
        Node::HashJoin {
            left,
            right: _,
            kind: _,
            left_keys,
            right_keys,
            predicate: _,
        } => {
            let inner = join::hashed_lent(shared.table_of(node)?, left_keys, right_keys);
            let spec = join::spec(node, inner, needed)?;
            join::join(build(left, &needs[0], shared, ctx)?, spec)?
        }
        _ => {
            return Err(Error::unsupported(
                "a Gather whose input is not a scan under filters, projections and hash joins",
            ));
        }
    })
}

/// The driving scan of one thread: the rows of one queued part after another.
struct PartScan<'s> {
    shared: &'s Shared<'s>,
    wanted: Vec<bool>,
    rows: Option<TableRows<'s>>,
}

impl PartScan<'_> {
    /// Fills `batch` from the current part, taking the next while it has none left.
    fn fill(&mut self, batch: &mut RowBatch) -> Result<usize> {
        loop {
            if let Some(rows) = &mut self.rows {
                let read = rows.fill(batch)?;
                if read > 0 {
                    return Ok(read);
                }
            }
            match self.shared.next_part() {
                Some(part) => self.open(part),
                None => return Ok(0),
            }
        }
    }

    fn open(&mut self, part: RowChunks) {
        let table = self.shared.table;
        self.rows = Some(TableRows::from_chunks(table, &self.wanted, false, part));
    }
}

impl Operator for PartScan<'_> {
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>> {
        loop {
            if let Some(rows) = &mut self.rows {
                let mut row = KeyedRow::default();
                if rows.next_into(&mut row)? {
                    ctx.note_row_read()?;
                    return Ok(Some(row));
                }
            }
            match self.shared.next_part() {
                Some(part) => self.open(part),
                None => return Ok(None),
            }
        }
    }

    fn next_batch(&mut self, ctx: &mut ExecContext<'_>, batch: &mut RowBatch) -> Result<()> {
        batch.clear();
        let read = self.fill(batch)?;
        ctx.note_rows_read(read)
    }
}
