//! `SELECT ... FOR UPDATE` and kin ([`LockRows`]): the rows the source finds are locked
//! one by one, in the source's order, through the same path UPDATE and DELETE take
//! ([`lock_for_write`]: wait, or with NOWAIT fail, or with SKIP LOCKED pass
//! over a row another transaction holds; under READ COMMITTED re-check a row a
//! concurrent commit changed). OFFSET then skips, and LIMIT stops after, rows that
//! were locked — so a row skipped as locked does not count toward LIMIT, and a job
//! queue's `LIMIT 1 FOR UPDATE SKIP LOCKED` hands each caller a different row, as in
//! PostgreSQL. The locks are held until the transaction ends.

use engine::Transaction;
use engine::keycode::KeyValue;
use engine::table::ops::{self, LockedRow};
use engine::{LockMode, WaitPolicy};

use super::buffered::collect;
use super::eval::eval;
use super::interrupt::Interrupt;
use super::limit::count;
use super::operator::{Builder, ExecContext, KeyedRow};
use super::output::{Output, counted_tag};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{LockRows, Node, Plan};
use crate::sequence::SequenceValues;
use crate::value::Value;

/// The rows `source` produces, with their primary keys.
pub(super) fn rows_of(
    source: &Node,
    txn: &mut Transaction,
    params: &[Value],
    plan: &Plan,
    build: Builder,
    interrupt: &Interrupt,
    sequences: Option<&SequenceValues>,
) -> Result<Vec<KeyedRow>> {
    let mut ctx = ExecContext::new(txn, params, &plan.subqueries, build)
        .interruptible(interrupt.clone())
        .with_sequences(sequences);
    let mut op = ctx.open(source)?;
    collect(op.as_mut(), &mut ctx)
}

/// Locks the row `key` of `table` found by an UPDATE, DELETE or SELECT ... FOR UPDATE
/// (whose WHERE condition is `recheck`), waiting as `policy` says, and returns the row
/// to go on with — `found` itself, or under READ COMMITTED the row's newest version if
/// a later commit changed it and it still passes `recheck` — or `None` to leave the
/// row alone (see the module header; also `None` for a row SKIP LOCKED passes over).
pub(super) fn lock_for_write(
    ctx: &mut ExecContext<'_>,
    table: &crate::catalog::TableInfo,
    key: &[KeyValue],
    found: &[Value],
    mode: LockMode,
    policy: WaitPolicy,
    recheck: Option<&Expr>,
) -> Result<Option<Vec<Value>>> {
    let locked = match ops::lock_row(ctx.txn()?, &table.schema, key, mode, policy) {
        Ok(locked) => locked,
        // PostgreSQL's words for NOWAIT, naming the table.
        Err(engine::Error::LockNotAvailable(_)) if policy == WaitPolicy::NoWait => {
            return Err(Error::LockNotAvailable(format!(
                "could not obtain lock on row in relation \"{}\"",
                table.name()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let newest = match locked {
        LockedRow::Unchanged => return Ok(Some(found.to_vec())),
        LockedRow::Changed(None) | LockedRow::Skipped => return Ok(None),
        LockedRow::Changed(Some(row)) => table.values(row)?,
    };
    let passes = match recheck {
        None => true,
        Some(condition) => matches!(eval(condition, &newest, ctx)?, Value::Bool(true)),
    };
    Ok(passes.then_some(newest))
}

/// Runs `lock` (the statement of `plan`).
pub(super) fn lock_rows(
    txn: &mut Transaction,
    plan: &Plan,
    lock: &LockRows,
    params: &[Value],
    build: Builder,
    interrupt: &Interrupt,
    sequences: Option<&SequenceValues>,
) -> Result<Output> {
    let subqueries = &plan.subqueries;
    let (mut offset, limit) = {
        let mut ctx = ExecContext::new(txn, params, subqueries, build).with_sequences(sequences);
        let offset = count(lock.offset.as_ref(), &mut ctx, "OFFSET")?.unwrap_or(0);
        (offset, count(lock.limit.as_ref(), &mut ctx, "LIMIT")?)
    };
    let candidates = match limit {
        Some(0) => Vec::new(),
        _ => rows_of(&lock.source, txn, params, plan, build, interrupt, sequences)?,
    };
    let mut rows = Vec::new();
    for (key, found) in &candidates {
        if limit.is_some_and(|limit| rows.len() >= limit) {
            break;
        }
        interrupt.check()?;
        let mut ctx = ExecContext::new(txn, params, subqueries, build).with_sequences(sequences);
        let recheck = lock.recheck.as_ref();
        let Some(row) = lock_for_write(
            &mut ctx,
            &lock.table,
            key,
            found,
            lock.mode,
            lock.policy,
            recheck,
        )?
        else {
            continue;
        };
        if offset > 0 {
            offset -= 1;
            continue;
        }
        let values = lock
            .exprs
            .iter()
            .map(|e| eval(e, &row, &mut ctx))
            .collect::<Result<Vec<_>>>()?;
        rows.push(values);
    }
    let n = rows.len();
    Ok(Output {
        columns: lock.names.clone(),
        rows,
        rows_affected: n as u64,
        tag: counted_tag("SELECT ", n as u64),
    })
}
