//! # session — transaction state and the statement loop
//!
//! A [`Session`] is one connection's worth of state: at most one open transaction. It
//! runs in one of two modes:
//!
//! - **autocommit** (no BEGIN): each statement is its own READ COMMITTED transaction,
//!   committed when the statement succeeds and rolled back when it fails;
//! - **explicit**: `BEGIN [ISOLATION LEVEL READ COMMITTED | REPEATABLE READ]` (or START
//!   TRANSACTION; the default level is READ COMMITTED, as in PostgreSQL) opens a
//!   transaction that spans statements until COMMIT or ROLLBACK.
//!
//! Every statement runs between `txn.begin_statement()` and `txn.end_statement()` (a
//! fresh snapshot per statement under READ COMMITTED) and under a savepoint, so a
//! failed statement's own writes are undone first. Then, **PostgreSQL's rule**
//! ([`ABORT_TRANSACTION_ON_ERROR`]): after an error inside an explicit transaction the
//! whole transaction is aborted — it is rolled back at once (releasing its locks early,
//! which PostgreSQL does only at ROLLBACK), and every later statement fails with
//! [`Error::TransactionAborted`] until ROLLBACK (or COMMIT, which reports ROLLBACK).
//! Setting the policy to `false` would give statement-level rollback instead (the failed
//! statement is undone and the transaction goes on), as in Oracle or MySQL.
//!
//! ## Prepared statements
//!
//! [`Session::prepare`] parses, binds and optimises once and keeps the physical plan
//! with the [`TableInfo`] of every table it reads or writes. Each execution first reads
//! those tables' catalog entries through its transaction (a point read each) and, if
//! any differs — the table was altered, dropped, got an index — binds and plans the
//! statement again from the kept parse tree, so a plan never runs against a catalog it
//! was not made for. DDL statements are bound afresh on every execution.

use engine::{IsolationLevel, Transaction};

use crate::bind::{self, Bound, BoundStatement, Control, Parsed};
use crate::catalog::{self, TableInfo};
use crate::error::{Error, Result};
use crate::exec::{self, Output};
use crate::optimize::optimize;
use crate::plan::Plan;
use crate::types::SqlType;
use crate::value::Value;

/// After an error in an explicit transaction, abort the whole transaction (PostgreSQL)
/// rather than undo only the failed statement.
pub const ABORT_TRANSACTION_ON_ERROR: bool = true;

/// The isolation level of autocommit statements and of BEGIN without a level.
pub const DEFAULT_ISOLATION: IsolationLevel = IsolationLevel::ReadCommitted;

#[derive(Debug, Default)]
enum State {
    /// Autocommit: no transaction open between statements.
    #[default]
    Idle,
    /// Inside BEGIN ... COMMIT.
    Active(Transaction),
    /// Inside BEGIN ... after a failed statement: only ROLLBACK/COMMIT are accepted.
    Aborted,
}

/// One connection to a database: runs statements, holds the open transaction.
#[derive(Debug)]
pub struct Session {
    db: engine::Database,
    state: State,
}

/// A statement parsed, bound and planned once, to execute many times.
#[derive(Debug, Clone)]
pub struct Prepared {
    parsed: Parsed,
    planned: Option<Planned>,
}

#[derive(Debug, Clone)]
struct Planned {
    statement: BoundStatement,
    tables: Vec<TableInfo>,
}

impl Prepared {
    /// The number of `$n` parameters the statement takes (as of its last planning).
    pub fn param_count(&self) -> usize {
        self.planned
            .as_ref()
            .map_or(0, |p| p.statement.params.len())
    }
}

impl Session {
    /// A session on `db`, in autocommit mode.
    pub fn new(db: engine::Database) -> Session {
        Session {
            db,
            state: State::Idle,
        }
    }

    /// Whether a transaction is open (or aborted and waiting for ROLLBACK).
    pub fn in_transaction(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// Runs every statement in `sql` in order; returns the last one's output.
    pub fn execute(&mut self, sql: &str) -> Result<Output> {
        self.query(sql, &[])
    }

    /// Runs the statements in `sql` with parameter values for `$1`, `$2`, ...
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Output> {
        let statements = match bind::parse(sql) {
            Ok(statements) => statements,
            Err(e) => {
                self.fail_transaction();
                return Err(e);
            }
        };
        let mut last = Output::default();
        for parsed in &statements {
            last = self.run(parsed, None, params)?;
        }
        Ok(last)
    }

    /// Parses, binds and plans one statement for repeated execution.
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared> {
        let mut statements = bind::parse(sql)?;
        let parsed = match (statements.pop(), statements.is_empty()) {
            (Some(parsed), true) => parsed,
            (None, _) => return Err(Error::Parse("no statement to prepare".into())),
            (Some(_), false) => {
                return Err(Error::unsupported(
                    "several statements in one prepared statement",
                ));
            }
        };
        let control = bind::control(&parsed)?;
        let mut prepared = Prepared {
            parsed,
            planned: None,
        };
        if control.is_none() {
            let planned = match &mut self.state {
                State::Active(txn) => plan(txn, &prepared.parsed)?,
                State::Aborted => return Err(Error::TransactionAborted),
                State::Idle => {
                    let mut txn = self.db.begin(DEFAULT_ISOLATION);
                    txn.begin_statement()?;
                    let planned = plan(&mut txn, &prepared.parsed);
                    txn.rollback();
                    planned?
                }
            };
            prepared.planned = Some(planned);
        }
        Ok(prepared)
    }

    /// Executes a prepared statement with parameter values.
    pub fn execute_prepared(&mut self, prepared: &Prepared, params: &[Value]) -> Result<Output> {
        self.run(&prepared.parsed, prepared.planned.as_ref(), params)
    }

    /// Marks an explicit transaction failed (after an error outside any statement).
    fn fail_transaction(&mut self) {
        if let State::Active(txn) = std::mem::take(&mut self.state) {
            txn.rollback();
            self.state = State::Aborted;
        }
    }

    fn run(
        &mut self,
        parsed: &Parsed,
        planned: Option<&Planned>,
        params: &[Value],
    ) -> Result<Output> {
        let control = match bind::control(parsed) {
            Ok(control) => control,
            Err(e) => {
                self.fail_transaction();
                return Err(e);
            }
        };
        if let Some(control) = control {
            return self.control(control);
        }
        match std::mem::take(&mut self.state) {
            State::Aborted => {
                self.state = State::Aborted;
                Err(Error::TransactionAborted)
            }
            State::Active(mut txn) => {
                let result = run_statement(&mut txn, parsed, planned, params);
                self.state = match (&result, ABORT_TRANSACTION_ON_ERROR) {
                    (Err(_), true) => {
                        txn.rollback();
                        State::Aborted
                    }
                    _ => State::Active(txn),
                };
                result
            }
            State::Idle => {
                let mut txn = self.db.begin(DEFAULT_ISOLATION);
                let output = match run_statement(&mut txn, parsed, planned, params) {
                    Ok(output) => output,
                    Err(e) => {
                        txn.rollback();
                        return Err(e);
                    }
                };
                txn.commit()?;
                Ok(output)
            }
        }
    }

    fn control(&mut self, control: Control) -> Result<Output> {
        match (control, std::mem::take(&mut self.state)) {
            (Control::Begin(_), State::Active(txn)) => {
                // PostgreSQL warns "there is already a transaction in progress" and goes on.
                self.state = State::Active(txn);
                Ok(Output::tag("BEGIN"))
            }
            (Control::Begin(_), State::Aborted) => {
                self.state = State::Aborted;
                Err(Error::TransactionAborted)
            }
            (Control::Begin(level), State::Idle) => {
                self.state = State::Active(self.db.begin(level.unwrap_or(DEFAULT_ISOLATION)));
                Ok(Output::tag("BEGIN"))
            }
            (Control::Commit, State::Active(txn)) => {
                txn.commit()?;
                Ok(Output::tag("COMMIT"))
            }
            (Control::Commit, State::Aborted) => Ok(Output::tag("ROLLBACK")),
            (Control::Commit, State::Idle) => Ok(Output::tag("COMMIT")),
            (Control::Rollback, State::Active(txn)) => {
                txn.rollback();
                Ok(Output::tag("ROLLBACK"))
            }
            (Control::Rollback, _) => Ok(Output::tag("ROLLBACK")),
        }
    }
}

/// Binds and optimises `parsed` in `txn`, noting the tables the plan depends on.
fn plan(txn: &mut Transaction, parsed: &Parsed) -> Result<Planned> {
    let mut statement = bind::bind(txn, parsed)?;
    statement.bound = match statement.bound {
        Bound::Plan(p) => Bound::Plan(optimize(p, &statement.params)),
        Bound::Explain(p) => Bound::Explain(optimize(p, &statement.params)),
    };
    let mut tables = Vec::new();
    let (Bound::Plan(p) | Bound::Explain(p)) = &statement.bound;
    collect_tables(p, &mut tables);
    Ok(Planned { statement, tables })
}

fn collect_tables(plan: &Plan, out: &mut Vec<TableInfo>) {
    match plan {
        Plan::SeqScan { table } | Plan::KeyLookup { table, .. } | Plan::IndexScan { table, .. } => {
            out.push(table.clone())
        }
        Plan::Insert { table, source, .. }
        | Plan::Update { table, source, .. }
        | Plan::Delete { table, source } => {
            out.push(table.clone());
            collect_tables(source, out);
        }
        Plan::Filter { source, .. }
        | Plan::Project { source, .. }
        | Plan::Sort { source, .. }
        | Plan::Limit { source, .. } => collect_tables(source, out),
        _ => {}
    }
}

/// Whether a prepared plan still matches the catalog as `txn` sees it.
fn still_valid(txn: &mut Transaction, planned: &Planned) -> Result<bool> {
    if let Bound::Plan(
        Plan::CreateTable { .. }
        | Plan::DropTable { .. }
        | Plan::CreateIndex { .. }
        | Plan::DropIndex { .. },
    ) = planned.statement.bound
    {
        return Ok(false);
    }
    for table in &planned.tables {
        if catalog::find_table(txn, table.name())?.as_ref() != Some(table) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Casts parameter values to the kinds the binder inferred for them.
fn cast_params(kinds: &[crate::value::Kind], params: &[Value]) -> Result<Vec<Value>> {
    if params.len() != kinds.len() {
        return Err(Error::Parameter(format!(
            "the statement takes {} parameters, but {} were given",
            kinds.len(),
            params.len()
        )));
    }
    params
        .iter()
        .zip(kinds)
        .map(|(value, kind)| match SqlType::for_kind(*kind) {
            Some(ty) => ty.assign(value.clone()).map_err(|e| match e {
                Error::Type(m) | Error::Data(m) => Error::Parameter(m),
                other => other,
            }),
            None => Ok(value.clone()),
        })
        .collect()
}

/// Runs one statement inside `txn`, under a savepoint that undoes it if it fails.
fn run_statement(
    txn: &mut Transaction,
    parsed: &Parsed,
    planned: Option<&Planned>,
    params: &[Value],
) -> Result<Output> {
    txn.begin_statement()?;
    let savepoint = txn.savepoint();
    let result = plan_and_execute(txn, parsed, planned, params);
    txn.end_statement();
    match &result {
        Ok(_) => txn.release(savepoint),
        Err(_) => txn.rollback_to(savepoint),
    }
    result
}

fn plan_and_execute(
    txn: &mut Transaction,
    parsed: &Parsed,
    planned: Option<&Planned>,
    params: &[Value],
) -> Result<Output> {
    let fresh;
    let planned = match planned {
        Some(p) if still_valid(txn, p)? => p,
        _ => {
            fresh = plan(txn, parsed)?;
            &fresh
        }
    };
    match &planned.statement.bound {
        Bound::Plan(p) => {
            let params = cast_params(&planned.statement.params, params)?;
            exec::execute(txn, p, &params)
        }
        Bound::Explain(p) => Ok(exec::explain(p)),
    }
}
