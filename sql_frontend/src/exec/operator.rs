//! The operator protocol: every row-producing plan node runs as an [`Operator`], a state
//! machine its parent pulls rows from with [`Operator::next`], passing down the
//! [`ExecContext`] — what evaluation may need beyond the current row:
//!
//! - the engine **transaction** (absent when folding constants at plan time): scans
//!   read through it, and a subquery inside an expression runs its own plan through it,
//!   once per evaluation;
//! - the statement's **parameter** values (`$1`, ...), already cast to their kinds;
//! - the statement's **subquery plans**, and the **builder** that turns a plan into
//!   operators ([`Builder`], the executor's `build`), so that evaluating a subquery can
//!   run its plan without the evaluator importing every operator (which all import
//!   the evaluator);
//! - the stack of **outer rows** of correlated subqueries: while a subquery runs for a
//!   row of its enclosing query, that row is on top of the stack, and
//!   [`crate::expr::Expr::OuterColumn`] with depth 0 reads it (depth 1 reads the row of
//!   the query enclosing that one, and so on).
//!
//! It also keeps the rows of uncorrelated subqueries, computed on first use, so such a
//! subquery runs once per statement rather than once per row.
//!
//! An operator borrows its plan node (expressions are evaluated in place, never cloned)
//! but not the transaction: scans hold the engine's owned cursors and borrow the
//! transaction from the context only inside `next`. That is what lets an expression in
//! a Filter run a correlated subquery's plan in the same transaction, once per row.

use std::borrow::Cow;
use std::sync::Arc;

use engine::Transaction;

pub use super::batch::KeyedRow;
use super::batch::RowBatch;
use super::interrupt::{CHECK_EVERY, Interrupt};
use super::profile::Profile;
use super::shared_rows::SharedRows;
use crate::error::{Error, Result};
use crate::expr::SubqueryId;
use crate::plan::{Node, PlanNeeds};
use crate::sequence::SequenceValues;
use crate::system::Snapshot;
use crate::value::Value;

/// A pull-based row source, pulled a row or a batch at a time (the two may be mixed).
pub trait Operator {
    /// The next row, or `None` when the source is exhausted (and stays so).
    fn next(&mut self, ctx: &mut ExecContext<'_>) -> Result<Option<KeyedRow>>;

    /// Replaces `batch`'s rows with the next ones, at most
    /// [`BATCH_ROWS`](super::batch::BATCH_ROWS); an empty
    /// batch when the source is exhausted (and stays so), never before. Operators that
    /// can produce batches cheaper than rows override it (scans, filters, projections,
    /// joins); this default pulls rows one by one.
    fn next_batch(&mut self, ctx: &mut ExecContext<'_>, batch: &mut RowBatch) -> Result<()> {
        batch.clear();
        while !batch.is_full() {
            match self.next(ctx)? {
                Some(row) => batch.push(row),
                None => break,
            }
        }
        Ok(())
    }
}

/// An operator tree borrowing the plan it was built from.
pub type BoxedOperator<'p> = Box<dyn Operator + 'p>;

/// Turns an operator tree's plan into its operators (the executor's `build`).
pub type Builder = for<'p> fn(&'p Node, &mut ExecContext<'_>) -> Result<BoxedOperator<'p>>;

/// The builder of a context that runs no plans: constants have no subqueries.
fn no_plans<'p>(_: &'p Node, _: &mut ExecContext<'_>) -> Result<BoxedOperator<'p>> {
    Err(Error::unsupported("a subquery in a constant expression"))
}

/// What running a plan or evaluating an expression needs besides the current row.
pub struct ExecContext<'a> {
    txn: Txn<'a>,
    /// The statement's parameter values.
    params: Cow<'a, [Value]>,
    /// The statement's subqueries' operator trees, by [`SubqueryId`].
    subqueries: &'a [Node],
    build: Builder,
    outer: Vec<Vec<Value>>,
    /// First-column values of uncorrelated subqueries already run, by [`SubqueryId`].
    subquery_rows: Vec<Option<Vec<Value>>>,
    /// The statement's time (microseconds since the epoch), read from the clock the
    /// first time `now()` or CURRENT_* asks, so they agree across all rows.
    statement_time: Option<i64>,
    /// Rows the statement's scans have read from tables and indexes so far.
    rows_read: u64,
    /// What may stop the statement, looked at every [`CHECK_EVERY`] ticks.
    interrupt: Interrupt,
    ticks: u32,
    /// Rows of WITH queries and recursive queries' working tables (`cte.rs`).
    shared_rows: SharedRows,
    /// EXPLAIN ANALYZE's counters, when the run is profiled (`instrument.rs`).
    profile: Option<Profile>,
    /// The session's sequences, for nextval and the other sequence functions.
    sequences: Option<SequenceValues>,
    /// The column-needs analysis kept with the plan, when the caller has one
    /// (`plan/needs.rs`): the builder reads it instead of redoing it.
    plan_needs: Option<&'a PlanNeeds>,
    /// The catalog as the system relations and catalog functions show it, read
    /// through the transaction the first time the statement asks (`system/`).
    catalog: Option<Arc<Snapshot>>,
}

/// The transaction a context runs in: borrowed for a statement run to completion, owned
/// by a query whose rows are streamed to the caller (who gets it back when the query
/// ends), absent for constants.
enum Txn<'a> {
    None,
    Borrowed(&'a mut Transaction),
    Owned(Transaction),
}

impl<'a> ExecContext<'a> {
    /// A context for running a statement in `txn`, with its parameter values, the
    /// operator trees of its subqueries and the builder that runs them.
    pub fn new(
        txn: &'a mut Transaction,
        params: &'a [Value],
        subqueries: &'a [Node],
        build: Builder,
    ) -> ExecContext<'a> {
        ExecContext::with(Txn::Borrowed(txn), Cow::Borrowed(params), subqueries, build)
    }

    /// [`ExecContext::new`] for a statement of a session, with the session's
    /// `sequences` and what may `interrupt` it, made in one go (the builder methods
    /// move the whole context, twice per statement for a write).
    pub fn for_statement(
        txn: &'a mut Transaction,
        params: &'a [Value],
        subqueries: &'a [Node],
        build: Builder,
        sequences: Option<&SequenceValues>,
        interrupt: Interrupt,
    ) -> ExecContext<'a> {
        let mut ctx =
            ExecContext::with(Txn::Borrowed(txn), Cow::Borrowed(params), subqueries, build);
        ctx.sequences = sequences.cloned();
        ctx.interrupt = interrupt;
        ctx
    }

    /// A context that owns its transaction and parameters, for a query whose rows are
    /// pulled after the call that started it returns; [`ExecContext::into_transaction`]
    /// gives the transaction back.
    pub fn owning(
        txn: Transaction,
        params: Vec<Value>,
        subqueries: &'a [Node],
        build: Builder,
    ) -> ExecContext<'a> {
        ExecContext::with(Txn::Owned(txn), Cow::Owned(params), subqueries, build)
    }

    /// A context without a transaction, for evaluating constants (subqueries fail).
    pub fn constant(params: &'a [Value]) -> ExecContext<'a> {
        ExecContext::with(Txn::None, Cow::Borrowed(params), &[], no_plans)
    }

    /// A context for one thread of a Gather (`gather.rs`): no transaction (its scan
    /// reads parts the statement's thread opened), the statement's parameters, clock
    /// reading and interrupt.
    pub(super) fn worker(
        params: &'a [Value],
        statement_time: i64,
        interrupt: Interrupt,
    ) -> ExecContext<'a> {
        let mut ctx = ExecContext::with(Txn::None, Cow::Borrowed(params), &[], no_plans);
        ctx.statement_time = Some(statement_time);
        ctx.interrupt = interrupt;
        ctx
    }

    /// The statement's parameter values.
    pub(super) fn params(&self) -> &[Value] {
        &self.params
    }

    fn with(
        txn: Txn<'a>,
        params: Cow<'a, [Value]>,
        subqueries: &'a [Node],
        build: Builder,
    ) -> ExecContext<'a> {
        ExecContext {
            txn,
            params,
            subqueries,
            build,
            outer: Vec::new(),
            subquery_rows: Vec::new(),
            statement_time: None,
            rows_read: 0,
            interrupt: Interrupt::none(),
            ticks: 0,
            shared_rows: SharedRows::default(),
            profile: None,
            sequences: None,
            plan_needs: None,
            catalog: None,
        }
    }

    /// The same context, its sequence functions taking values through `sequences`
    /// (the session's).
    pub fn with_sequences(mut self, sequences: Option<&SequenceValues>) -> ExecContext<'a> {
        self.sequences = sequences.cloned();
        self
    }

    /// The session's sequences, and the transaction, for a sequence function.
    pub fn sequences(&mut self) -> Result<(&SequenceValues, &mut Transaction)> {
        let sequences = self
            .sequences
            .as_ref()
            .ok_or_else(|| Error::unsupported("sequence functions outside a session"))?;
        let txn = match &mut self.txn {
            Txn::Borrowed(txn) => &mut **txn,
            Txn::Owned(txn) => txn,
            Txn::None => return Err(Error::unsupported("sequence functions in a constant")),
        };
        Ok((sequences, txn))
    }

    /// The same context, its builder reading `needs`, the analysis kept with the plan
    /// it runs.
    pub fn with_plan_needs(mut self, needs: Option<&'a PlanNeeds>) -> ExecContext<'a> {
        self.plan_needs = needs;
        self
    }

    /// The column-needs analysis kept with the plan, if the caller gave one.
    pub fn plan_needs(&self) -> Option<&'a PlanNeeds> {
        self.plan_needs
    }

    /// Counts what every operator built with this context does (EXPLAIN ANALYZE).
    pub fn profiled(mut self, profile: Profile) -> ExecContext<'a> {
        self.profile = Some(profile);
        self
    }

    /// The counters operators built with this context report to, if profiled.
    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// The same context, its statement stopped by `interrupt`.
    pub fn interruptible(mut self, interrupt: Interrupt) -> ExecContext<'a> {
        self.interrupt = interrupt;
        self
    }

    /// Marks a step of an operator's loop; every [`CHECK_EVERY`] steps, fails if the
    /// statement was cancelled or ran out of time.
    #[inline]
    pub fn tick(&mut self) -> Result<()> {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(CHECK_EVERY) {
            self.interrupt.check()?;
        }
        Ok(())
    }

    /// The rows of WITH queries and the working tables of recursive queries.
    pub fn shared_rows(&mut self) -> &mut SharedRows {
        &mut self.shared_rows
    }

    /// The statement's interrupt (for a context of its own, say a write's).
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// The transaction the context owns, if it owns one.
    pub fn into_transaction(self) -> Option<Transaction> {
        match self.txn {
            Txn::Owned(txn) => Some(txn),
            Txn::None | Txn::Borrowed(_) => None,
        }
    }

    /// The value of parameter `$index+1`.
    pub fn param(&self, index: usize) -> Option<&Value> {
        self.params.get(index)
    }

    /// Counts a row read by a scan: a step of the scan's loop (see [`Self::tick`]).
    pub fn note_row_read(&mut self) -> Result<()> {
        self.rows_read += 1;
        self.tick()
    }

    /// Counts `rows` rows read by a scan at once (a batch): one step of the scan's loop,
    /// at which the interrupt is looked at (a batch is about as much work as
    /// [`CHECK_EVERY`] single steps).
    pub fn note_rows_read(&mut self, rows: usize) -> Result<()> {
        self.rows_read += rows as u64;
        self.interrupt.check()
    }

    /// Rows the statement's scans have read from tables and indexes so far.
    pub fn rows_read(&self) -> u64 {
        self.rows_read
    }

    /// The statement's time: the clock read once, at the first call.
    pub fn statement_time(&mut self) -> Result<i64> {
        match self.statement_time {
            Some(t) => Ok(t),
            None => {
                let t = crate::functions::now_micros()?;
                self.statement_time = Some(t);
                Ok(t)
            }
        }
    }

    /// The transaction; an error when evaluating at plan time.
    pub fn txn(&mut self) -> Result<&mut Transaction> {
        match &mut self.txn {
            Txn::Borrowed(txn) => Ok(txn),
            Txn::Owned(txn) => Ok(txn),
            Txn::None => Err(Error::unsupported("a subquery in a constant expression")),
        }
    }

    /// The catalog as the transaction sees it, read once per statement (a statement
    /// cannot change the catalog while it reads it).
    pub fn catalog(&mut self) -> Result<Arc<Snapshot>> {
        if let Some(catalog) = &self.catalog {
            return Ok(Arc::clone(catalog));
        }
        let catalog = Arc::new(Snapshot::read(self.txn()?)?);
        self.catalog = Some(Arc::clone(&catalog));
        Ok(catalog)
    }

    /// Makes `row` the innermost outer row while a correlated subquery runs.
    pub fn push_outer(&mut self, row: Vec<Value>) {
        self.outer.push(row);
    }

    /// Removes the innermost outer row.
    pub fn pop_outer(&mut self) {
        self.outer.pop();
    }

    /// The operators of `plan` (a subquery's), built in this context.
    pub fn open<'p>(&mut self, plan: &'p Node) -> Result<BoxedOperator<'p>> {
        (self.build)(plan, self)
    }

    /// The operator tree of subquery `id`.
    pub fn subquery(&self, id: SubqueryId) -> Result<&'a Node> {
        self.subqueries
            .get(id.0)
            .ok_or_else(|| Error::unsupported("a subquery in a constant expression"))
    }

    /// The kept rows of the uncorrelated subquery `id`.
    pub(crate) fn cached_subquery(&self, id: SubqueryId) -> Option<&[Value]> {
        self.subquery_rows.get(id.0)?.as_deref()
    }

    /// Keeps the rows of the uncorrelated subquery `id`.
    pub(crate) fn cache_subquery(&mut self, id: SubqueryId, rows: Vec<Value>) {
        if self.subquery_rows.len() <= id.0 {
            self.subquery_rows.resize(id.0 + 1, None);
        }
        self.subquery_rows[id.0] = Some(rows);
    }

    /// Column `index` of the outer row `depth` levels out (0: the innermost).
    pub fn outer_column(&self, depth: usize, index: usize) -> Option<&Value> {
        let level = self.outer.len().checked_sub(depth + 1)?;
        self.outer.get(level)?.get(index)
    }
}

impl std::fmt::Debug for ExecContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecContext")
            .field("params", &self.params)
            .field("outer", &self.outer)
            .finish_non_exhaustive()
    }
}
