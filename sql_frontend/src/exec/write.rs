//! INSERT, UPDATE and DELETE.
//!
//! Each first collects the rows to change, then writes them (so an UPDATE never sees its
//! own new rows — the "Halloween problem"), each write going through the engine's table
//! API, which keeps indexes in step and enforces constraints atomically per row.
//!
//! RETURNING is evaluated on each row just before it is written (INSERT, UPDATE: the
//! new row; DELETE: the old one), and its rows are the statement's result, beside the
//! usual command tag.
//!
//! Each statement evaluates everything in one context: an uncorrelated subquery in a
//! SET, a DEFAULT or RETURNING runs once, before the first row is written, so it sees
//! the table as the statement found it (as PostgreSQL's InitPlan does); a correlated
//! one runs per row and sees the rows written earlier by the same statement
//! (PostgreSQL hides them). An INSERT's VALUES list is evaluated directly, as the
//! Values operator would evaluate it, with no operator built for it; a one-row list (a
//! prepared INSERT's shape, executed once per row of a load) is evaluated into the new
//! row itself, in the same order, and — when its values are parameters or constants
//! and nothing needs the row's SQL values (RETURNING, CHECK, foreign keys) — made
//! straight into the engine's values (`new_row.rs`).
//!
//! ## Concurrent writers (EvalPlanQual)
//!
//! UPDATE and DELETE lock each row they found before writing it (`locking.rs`),
//! which waits while another transaction holds the row. If a transaction that
//! committed after the statement's snapshot changed the row, REPEATABLE READ fails
//! with a serialization error (the engine's), and READ COMMITTED does what
//! PostgreSQL's EvalPlanQual does: it re-checks the statement's WHERE condition on the
//! row's newest version and, if it still holds, updates (or deletes) that version —
//! the SET expressions see its values — and otherwise leaves the row alone. A row
//! deleted meanwhile is skipped. (PostgreSQL follows a row whose key an UPDATE
//! changed to its new version; H's rows are keyed by their primary key, so such a
//! row counts as deleted and is skipped.)

use std::borrow::Cow;

use engine::Transaction;
use engine::table::load::LOAD_AFTER_ROWS;
use engine::table::{TableLoad, ops};
use engine::{LockMode, WaitPolicy};

use super::batch::RowBatch;
use super::buffered::collect;
use super::duplicate_key::{keys_print_differently, with_sql_key};
use super::eval::eval;
use super::interrupt::Interrupt;
use super::locking::{lock_for_write, rows_of};
use super::new_row::{
    check_row, insert_row, source_row, to_keys, values_keys, values_row, writes_keys_directly,
};
use super::operator::{Builder, ExecContext};
use super::output::{Output, counted_tag};
use super::references;
use super::upsert::Upsert;
use super::values;
use crate::catalog::TableInfo;
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{Check, Node, Plan, Returning, Statement};
use crate::sequence::SequenceValues;
use crate::value::Value;

/// Collects RETURNING's rows, if the statement has a RETURNING list.
struct Returned<'r> {
    returning: Option<&'r Returning>,
    rows: Vec<Vec<Value>>,
}

impl<'r> Returned<'r> {
    fn new(returning: Option<&'r Returning>) -> Returned<'r> {
        Returned {
            returning,
            rows: Vec::new(),
        }
    }

    /// The RETURNING list evaluated on `row` (a whole table row), before the row is
    /// written, so its subqueries see the table as the statement found it.
    fn eval(&self, row: &[Value], ctx: &mut ExecContext<'_>) -> Result<Option<Vec<Value>>> {
        let Some(returning) = self.returning else {
            return Ok(None);
        };
        let values = returning
            .exprs
            .iter()
            .map(|e| eval(e, row, ctx))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(values))
    }

    /// Keeps a row from [`Returned::eval`] once its write has happened.
    fn keep(&mut self, values: Option<Vec<Value>>) {
        self.rows.extend(values);
    }

    /// The statement's output: the returned rows (if any) and the command tag.
    fn output(self, rows_affected: u64, tag: Cow<'static, str>) -> Output {
        Output {
            columns: self.returning.map(|r| r.names.clone()).unwrap_or_default(),
            rows: self.rows,
            rows_affected,
            tag,
        }
    }
}

/// Runs an INSERT, UPDATE or DELETE; `build` builds its source's operators; reading
/// the rows to change stops early if `interrupt` says so.
pub(super) fn dml(
    txn: &mut Transaction,
    plan: &Plan,
    params: &[Value],
    build: Builder,
    interrupt: &Interrupt,
    sequences: Option<&SequenceValues>,
) -> Result<Output> {
    let subqueries = &plan.subqueries;
    match &plan.statement {
        Statement::Insert {
            table,
            targets,
            source,
            defaults,
            checks,
            on_conflict,
            returning,
        } => {
            // One context for the whole statement: its sequences, clock and the rows
            // of its uncorrelated subqueries serve every row. A VALUES list is
            // evaluated as the Values operator would, without building one.
            let mut ctx = ExecContext::for_statement(
                txn,
                params,
                subqueries,
                build,
                sequences,
                interrupt.clone(),
            );
            let mut returned = Returned::new(returning.as_ref());
            if let Node::Values { rows, .. } = source
                && let [values] = rows.as_slice()
                && on_conflict.is_none()
            {
                // One row (a prepared INSERT's shape): its values go straight into the
                // new row, with no list of rows around it — into the engine's values
                // when nothing needs the SQL ones.
                if writes_keys_directly(table, checks, values, returning.is_some()) {
                    let row = values_keys(table, targets, defaults, values, &mut ctx)?;
                    ops::insert_row(ctx.txn()?, &table.schema, row)?;
                    return Ok(returned.output(1, counted_tag("INSERT 0 ", 1)));
                }
                let row = values_row(table, targets, defaults, values, &mut ctx)?;
                let values = returned.eval(&row, &mut ctx)?;
                insert_row(ctx.txn()?, build, table, checks, row)?;
                returned.keep(values);
                return Ok(returned.output(1, counted_tag("INSERT 0 ", 1)));
            }
            // INSERT ... SELECT (or a VALUES list of many rows) into an empty table: one
            // sorted load, streamed from the source and spilled past the memory budget,
            // where the table can take one (see `LoadTarget::insert`).
            if on_conflict.is_none()
                && returning.is_none()
                && table.foreign_keys.is_empty()
                && !keys_print_differently(table)
            {
                let target = LoadTarget {
                    table,
                    targets,
                    defaults,
                    checks,
                    build,
                };
                let written = target.insert(source, &mut ctx)?;
                return Ok(returned.output(written, counted_tag("INSERT 0 ", written)));
            }
            let rows = match source {
                Node::Values { rows, .. } => values::evaluate(rows, &mut ctx)?,
                _ => {
                    let mut op = ctx.open(source)?;
                    let rows = collect(op.as_mut(), &mut ctx)?;
                    drop(op);
                    rows.into_iter().map(|(_, values)| values).collect()
                }
            };
            let mut upsert = on_conflict.as_ref().map(|on| Upsert {
                table,
                checks,
                on,
                params,
                subqueries,
                build,
                sequences,
                touched: Default::default(),
            });
            let mut written = 0u64;
            for values in rows {
                let row = source_row(table, targets, defaults, values, &mut ctx)?;
                let row = match &mut upsert {
                    None => row,
                    Some(upsert) => match upsert.row(ctx.txn()?, row)? {
                        Some(written) => written,
                        None => continue,
                    },
                };
                let values = returned.eval(&row, &mut ctx)?;
                if upsert.is_none() {
                    insert_row(ctx.txn()?, build, table, checks, row)?;
                }
                returned.keep(values);
                written += 1;
            }
            Ok(returned.output(written, counted_tag("INSERT 0 ", written)))
        }
        Statement::Update {
            table,
            source,
            assignments,
            checks,
            returning,
            recheck,
        } => {
            let rows = rows_of(source, txn, params, plan, build, interrupt, sequences)?;
            let mut ctx = ExecContext::for_statement(
                txn,
                params,
                subqueries,
                build,
                sequences,
                interrupt.clone(),
            );
            let mut returned = Returned::new(returning.as_ref());
            let mut updated = 0u64;
            let mut no_action = Vec::new();
            // A changed key moves the row: the old key is deleted (PostgreSQL's FOR
            // UPDATE); otherwise FOR NO KEY UPDATE, as PostgreSQL's UPDATE takes.
            let moves_key = assignments
                .iter()
                .any(|(column, _)| table.schema.primary_key.contains(column));
            let mode = match moves_key {
                true => LockMode::Update,
                false => LockMode::NoKeyUpdate,
            };
            let (recheck, policy) = (recheck.as_ref(), WaitPolicy::Block);
            for (key, found) in &rows {
                let Some(old) = lock_for_write(&mut ctx, table, key, found, mode, policy, recheck)?
                else {
                    continue;
                };
                let mut new = old.clone();
                for (column, e) in assignments {
                    let value = eval(e, &old, &mut ctx)?;
                    new[*column] = table.columns[*column].sql_type.assign(value)?;
                }
                let values = returned.eval(&new, &mut ctx)?;
                let txn = ctx.txn()?;
                check_row(txn, build, table, checks, &new)?;
                if !table.referenced_by.is_empty() {
                    references::lock_key_change(txn, table, key, &old, &new)?;
                }
                let constrained =
                    !(table.foreign_keys.is_empty() && table.referenced_by.is_empty());
                let kept = constrained.then(|| (old.clone(), new.clone()));
                let shown = keys_print_differently(table).then(|| new.clone());
                ops::update_row(txn, &table.schema, key, &to_keys(old), to_keys(new)).map_err(
                    |e| match &shown {
                        Some(new) => with_sql_key(e, table, new),
                        None => e.into(),
                    },
                )?;
                if let Some((old, new)) = kept {
                    references::row_updated(txn, table, &old, &new, &mut no_action)?;
                }
                returned.keep(values);
                updated += 1;
            }
            references::check_no_action(ctx.txn()?, no_action)?;
            Ok(returned.output(updated, counted_tag("UPDATE ", updated)))
        }
        Statement::Delete {
            table,
            source,
            returning,
            recheck,
        } => {
            let rows = rows_of(source, txn, params, plan, build, interrupt, sequences)?;
            let mut ctx = ExecContext::for_statement(
                txn,
                params,
                subqueries,
                build,
                sequences,
                interrupt.clone(),
            );
            let mut returned = Returned::new(returning.as_ref());
            let mut deleted = 0u64;
            let mut no_action = Vec::new();
            let (recheck, mode, policy) = (recheck.as_ref(), LockMode::Update, WaitPolicy::Block);
            for (key, found) in &rows {
                let Some(old) = lock_for_write(&mut ctx, table, key, found, mode, policy, recheck)?
                else {
                    continue;
                };
                let values = returned.eval(&old, &mut ctx)?;
                let txn = ctx.txn()?;
                match table.referenced_by.is_empty() {
                    true => ops::delete_row(txn, &table.schema, key, &to_keys(old))?,
                    false => {
                        ops::delete_row(txn, &table.schema, key, &to_keys(old.clone()))?;
                        references::referenced_row_changed(txn, table, &old, None, &mut no_action)?;
                    }
                }
                deleted += 1;
                returned.keep(values);
            }
            references::check_no_action(ctx.txn()?, no_action)?;
            Ok(returned.output(deleted, counted_tag("DELETE ", deleted)))
        }
        Statement::Query(_)
        | Statement::LockRows(_)
        | Statement::Ddl(_)
        | Statement::Copy(_)
        | Statement::Explain(..)
        | Statement::Vacuum(_) => Err(Error::unsupported(format!("{} as DML", plan.statement))),
    }
}

/// Where an INSERT ... SELECT (with no RETURNING or ON CONFLICT, into a table without
/// foreign keys) writes its rows (see [`LoadTarget::insert`]).
struct LoadTarget<'a> {
    table: &'a TableInfo,
    targets: &'a [usize],
    defaults: &'a [(usize, Expr)],
    checks: &'a [Check],
    build: Builder,
}

impl LoadTarget<'_> {
    /// Writes the rows of `source`; returns how many. The source's first
    /// [`LOAD_AFTER_ROWS`] rows are read and held; if it has no more, they are inserted
    /// row by row (a small INSERT never takes the table for itself). Otherwise, if the
    /// table can take a load (`TableLoad::begin`: empty, and nobody else writing it),
    /// every row is made and checked as the row path makes and checks it (defaults,
    /// casts, NOT NULL, CHECK) and streamed into the load, which is then sorted and
    /// handed to the transaction whole: the source's rows are never all held, and
    /// none reaches the write set while the source is read, so a source that reads
    /// the table sees none of them. If it cannot, the rest of the source is read too
    /// and every row inserted after, as the row path always has (so that the source
    /// does not read the rows the statement writes).
    fn insert(&self, source: &Node, ctx: &mut ExecContext<'_>) -> Result<u64> {
        let mut op = ctx.open(source)?;
        let mut batch = RowBatch::new();
        let mut held: Vec<Vec<Value>> = Vec::new();
        let mut load: Option<TableLoad> = None;
        let mut load_tried = false;
        loop {
            op.next_batch(ctx, &mut batch)?;
            if batch.is_empty() {
                break;
            }
            for i in 0..batch.len() {
                let (_, values) = batch.take(i);
                match &mut load {
                    Some(load) => self.push(load, values, ctx)?,
                    None => held.push(values),
                }
            }
            if !load_tried && held.len() >= LOAD_AFTER_ROWS {
                load_tried = true;
                load = TableLoad::begin(ctx.txn()?, &self.table.schema)?;
                if let Some(load) = &mut load {
                    for values in std::mem::take(&mut held) {
                        self.push(load, values, ctx)?;
                    }
                }
            }
        }
        drop(op);
        let written = held.len() as u64;
        match load {
            Some(load) => Ok(load.finish(ctx.txn()?)?),
            None => {
                for values in held {
                    let row = source_row(self.table, self.targets, self.defaults, values, ctx)?;
                    insert_row(ctx.txn()?, self.build, self.table, self.checks, row)?;
                }
                Ok(written)
            }
        }
    }

    /// Makes and checks the row for `values` and adds it to `load`.
    fn push(
        &self,
        load: &mut TableLoad,
        values: Vec<Value>,
        ctx: &mut ExecContext<'_>,
    ) -> Result<()> {
        let row = source_row(self.table, self.targets, self.defaults, values, ctx)?;
        check_row(ctx.txn()?, self.build, self.table, self.checks, &row)?;
        load.push(ctx.txn()?, &to_keys(row))?;
        Ok(())
    }
}
