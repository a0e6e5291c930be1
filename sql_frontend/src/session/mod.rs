//! # session — transaction state and the statement loop
//!
//! A [`Session`] is one connection's worth of state: at most one open transaction. It
//! runs in one of two modes:
//!
//! - **autocommit** (no BEGIN): each statement is its own READ COMMITTED transaction,
//!   committed when the statement succeeds and rolled back when it fails;
//! - **explicit**: `BEGIN [ISOLATION LEVEL READ COMMITTED | REPEATABLE READ |
//!   SERIALIZABLE] [READ ONLY | READ WRITE] [[NOT] DEFERRABLE]` (or START TRANSACTION)
//!   opens a transaction that spans statements until COMMIT or ROLLBACK. A READ ONLY
//!   transaction refuses every statement that writes (INSERT, UPDATE, DELETE, DDL) with
//!   [`Error::ReadOnlyTransaction`], an error like any other. `SET TRANSACTION` changes
//!   the open transaction's modes before its first query (after it, only to READ ONLY,
//!   as in PostgreSQL); `SET SESSION CHARACTERISTICS AS TRANSACTION` and
//!   `SET default_transaction_isolation` set the modes of later transactions, autocommit
//!   statements included (READ COMMITTED unless set, as in PostgreSQL). A SERIALIZABLE
//!   READ ONLY DEFERRABLE transaction waits at its first statement for a safe snapshot
//!   (see `engine::mvcc::ssi`); that wait is not cancellable.
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
//! ## Results stream
//!
//! [`Session::query_rows`] (and [`Session::execute_prepared_rows`]) start a statement
//! and return its [`Rows`]: a query's rows are produced as the caller pulls them, by the
//! operator tree, inside the statement's transaction; the statement ends when the rows
//! run out, fail, or the `Rows` is dropped half-read (see `rows.rs`). [`Session::query`]
//! and [`Session::execute`] are the same with the rows collected into an [`Output`].
//! While rows stream, the `Rows` holds the session mutably (it owns the statement's
//! transaction and borrows the plan the session keeps for it), so nothing else can run
//! in the session until it is done. The exception is a query nested too deep to run on
//! the caller's stack: it runs to completion on a thread with the stack it needs, and
//! its `Rows` hands out the collected rows (`stack.rs`, rule 4).
//!
//! ## Prepared statements
//!
//! [`Session::prepare`] parses, binds and optimises once and keeps the physical plan,
//! labelled with the database's catalog generation (`generation.rs`) read before the
//! planning snapshot. An execution reads the generation before its own snapshot and, if
//! it equals the label, runs the kept plan directly: no parsing, binding, planning or
//! catalog reads, one atomic load. Otherwise (some DDL ran since) it binds and plans
//! again from the kept parse tree and keeps the new plan for later executions (shared
//! by clones of the [`Prepared`]), so a plan never runs against a catalog it was not made
//! for. Plans made by a transaction with uncommitted DDL of its own are not kept, and
//! DDL statements are planned afresh on every execution.
//!
//! A kept plan also keeps what its executions would otherwise each work out again
//! ([`Reused`], made at its first execution): its result's column names, handed to
//! every [`Rows`] as one shared `Arc<[String]>`, and its column-needs analysis
//! (`plan/needs.rs`), which the executor's builder reads. For a point SELECT by primary
//! key these were a third of the statement's cost beside the lookup.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use engine::LockWait;
use engine::Savepoint;
use engine::{IsolationLevel, Transaction};

use crate::bind::{self, ClientCopy, Parsed, PlannerSwitch, Setting, SettingCommand};
use crate::cost::PlannerSettings;
use crate::error::{Error, Result};
use crate::exec::{self, CancelHandle, CopyStream, Interrupt, Output};
use crate::generation::CatalogGeneration;
use crate::optimize::{optimize_plan, param_sensitive};
use crate::plan::{Node, Plan, PlanNeeds, Statement, TransactionControl, TransactionModes};
use crate::sequence::SequenceValues;
use crate::shared;
use crate::stack::{self, DeepDrop};
use crate::statistics::changes::ChangeCounts;
use crate::system::ClientInfo;
use crate::types::SqlType;
use crate::value::{Kind, Value};

mod analyze;
mod rows;

use analyze::PendingChanges;

pub use rows::Rows;

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
    conn: Connection,
    /// The plan of the query whose rows are (or were last) streamed: kept here, so that
    /// the query's [`Rows`], which borrows the session, can borrow it.
    streaming: Option<Arc<Planned>>,
}

/// The session's transaction state and what decides whether a kept plan is valid.
#[derive(Debug)]
struct Connection {
    db: engine::Database,
    state: State,
    generation: CatalogGeneration,
    /// The open transaction ran DDL (bump the generation when it ends).
    ddl_in_transaction: bool,
    /// REPEATABLE READ: the generation read before the transaction's snapshot.
    snapshot_generation: Option<u64>,
    /// The open transaction is READ ONLY: statements that write are refused.
    read_only: bool,
    /// The open transaction is DEFERRABLE.
    deferrable: bool,
    /// The open transaction has run a statement: SET TRANSACTION may no longer change
    /// its isolation level.
    queried: bool,
    /// The session's settings (`SET statement_timeout = ...`).
    settings: Settings,
    /// The settings as they were at BEGIN, restored if the transaction rolls back
    /// (PostgreSQL undoes a SET with the transaction it ran in).
    settings_at_begin: Option<Settings>,
    /// The session's handle on the database's sequences (`currval` is per session).
    sequences: SequenceValues,
    /// Cancels the statement running now.
    cancel: CancelHandle,
    /// Rows changed per table by the open transaction (`analyze.rs`).
    pending_changes: PendingChanges,
    /// The database's rows changed per table since their last analyze.
    changes: ChangeCounts,
    /// Who is connected, and the settings pg_settings shows (`system/`).
    client: Arc<ClientInfo>,
}

/// What `SET` changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    /// How long a statement may run before it is cancelled; `None`: no limit.
    statement_timeout: Option<Duration>,
    /// How long one wait for a row lock may last; `None`: no limit.
    lock_timeout: Option<Duration>,
    /// How long a wait for a row lock lasts before the waiter looks for a deadlock.
    deadlock_timeout: Duration,
    /// Which plan types the planner may use (`enable_seqscan`, `enable_indexscan`,
    /// `enable_indexonlyscan`).
    planner: PlannerSettings,
    /// The modes of transactions that do not give their own
    /// (`default_transaction_isolation`, `SET SESSION CHARACTERISTICS`).
    default_isolation: IsolationLevel,
    default_read_only: bool,
    default_deferrable: bool,
}

impl Default for Settings {
    fn default() -> Self {
        let mut settings = Settings {
            statement_timeout: None,
            lock_timeout: None,
            deadlock_timeout: Duration::ZERO,
            planner: PlannerSettings::default(),
            default_isolation: DEFAULT_ISOLATION,
            default_read_only: false,
            default_deferrable: false,
        };
        for setting in Setting::ALL {
            settings.set(setting, setting.default_value());
        }
        settings
    }
}

impl Settings {
    fn set(&mut self, setting: Setting, value: Option<Duration>) {
        match setting {
            Setting::StatementTimeout => self.statement_timeout = value,
            Setting::LockTimeout => self.lock_timeout = value,
            Setting::DeadlockTimeout => {
                self.deadlock_timeout = value
                    .or(setting.default_value())
                    .unwrap_or(engine::DEFAULT_DEADLOCK_TIMEOUT)
            }
        }
    }

    fn get(&self, setting: Setting) -> Option<Duration> {
        match setting {
            Setting::StatementTimeout => self.statement_timeout,
            Setting::LockTimeout => self.lock_timeout,
            Setting::DeadlockTimeout => Some(self.deadlock_timeout),
        }
    }

    /// What bounds a statement's waits for row locks, `interrupt` being the
    /// statement's own.
    fn lock_wait(&self, interrupt: &Interrupt) -> LockWait {
        LockWait {
            lock_timeout: self.lock_timeout,
            deadlock_timeout: self.deadlock_timeout,
            cancel: interrupt.cancel_flag(),
            deadline: interrupt.deadline(),
        }
    }
}

/// A statement begun: the transaction it runs in and how to end it.
#[derive(Debug)]
struct Begun {
    txn: Transaction,
    /// Inside BEGIN ... COMMIT (else autocommit: the transaction is the statement's own).
    explicit: bool,
    /// Undoes the statement's writes if it fails.
    savepoint: Savepoint,
    /// What stops it early: the session's cancel handle, its statement_timeout.
    interrupt: Interrupt,
}

/// A statement parsed, bound and planned once, to execute many times.
#[derive(Debug, Clone)]
pub struct Prepared {
    parsed: Parsed,
    /// The transaction-control meaning, if it is BEGIN/COMMIT/ROLLBACK.
    control: Option<TransactionControl>,
    /// The latest plan, shared by clones (an execution that re-plans replaces it).
    cache: Arc<Mutex<Option<Arc<Planned>>>>,
    /// Parameter kinds and result columns as of preparation (what Describe reports).
    description: Arc<Description>,
}

/// What a prepared statement takes and returns, fixed when it is prepared (as
/// PostgreSQL fixes a prepared statement's parameter and result types at Parse).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Description {
    /// The kind inferred for each `$n` parameter (`Unknown` where nothing constrains it).
    pub params: Vec<Kind>,
    /// The names and kinds of the columns returned (empty: the statement returns no rows).
    pub columns: Vec<(String, Kind)>,
    /// For a COPY, the number of fields in each record it reads or writes (what a
    /// wire-protocol server's CopyInResponse / CopyOutResponse reports); 0 otherwise.
    pub copy_fields: usize,
}

/// Where a session stands with respect to transactions (the wire protocol's
/// ReadyForQuery status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionState {
    /// Autocommit: no transaction open.
    Idle,
    /// Inside BEGIN ... COMMIT.
    Active,
    /// Inside BEGIN ... after a failed statement, until ROLLBACK.
    Aborted,
}

/// A bound and optimised statement, labelled with the catalog it was made for.
#[derive(Debug)]
struct Planned {
    /// Run and dropped with the stack its depth asks for (`stack.rs`), wherever the last
    /// clone of a [`Prepared`] goes.
    plan: DeepDrop<Plan>,
    /// The counter and its value read before the planning snapshot; `None` when the
    /// plan must not be reused (made next to uncommitted DDL, or DDL itself).
    label: Option<(CatalogGeneration, u64)>,
    /// The planner settings it was made with (`SET enable_seqscan ...`).
    settings: PlannerSettings,
    /// The bound plan before optimising, kept when the access paths depend on the
    /// parameters' values (`optimize::param_sensitive`): each execution then gets a
    /// custom plan for its values.
    bound: Option<DeepDrop<Plan>>,
    /// What every execution of a query plan would otherwise recompute.
    reused: Reused,
}

/// What each execution of a kept query plan would otherwise work out again, made at
/// its first execution: the result's column names, shared, and the column-needs
/// analysis of the plan (which is keyed by node address, so it is made only once the
/// plan sits in its `Arc`).
#[derive(Debug, Default)]
pub(crate) struct Reused {
    names: OnceLock<Arc<[String]>>,
    needs: OnceLock<PlanNeeds>,
}

impl Reused {
    /// The names of the columns `root` returns.
    pub(crate) fn names(&self, root: &Node) -> Arc<[String]> {
        Arc::clone(self.names.get_or_init(|| root.columns().into()))
    }

    /// The column-needs analysis of `plan` (whose statement's tree is `root`).
    pub(crate) fn needs(&self, plan: &Plan, root: &Node) -> &PlanNeeds {
        self.needs
            .get_or_init(|| PlanNeeds::of(std::iter::once(root).chain(&plan.subqueries)))
    }
}

impl Planned {
    /// Whether this plan is valid for a snapshot taken after reading `observed`, under
    /// planner `settings`.
    fn valid_for(
        &self,
        generation: &CatalogGeneration,
        observed: u64,
        settings: PlannerSettings,
    ) -> bool {
        self.settings == settings
            && self
                .label
                .as_ref()
                .is_some_and(|(counter, value)| counter.same_as(generation) && *value == observed)
    }
}

impl Prepared {
    /// The number of `$n` parameters the statement takes (as of its preparation).
    pub fn param_count(&self) -> usize {
        self.description.params.len()
    }

    /// Its parameter kinds and result columns, as of its preparation.
    pub fn description(&self) -> &Description {
        &self.description
    }

    /// Whether it is BEGIN, COMMIT or ROLLBACK.
    pub fn control(&self) -> Option<TransactionControl> {
        self.control
    }

    /// Whether it is a COPY that reads or writes the client's stream, so it runs through
    /// [`Session::copy_in_prepared`] or [`Session::copy_out_prepared`].
    pub fn client_copy(&self) -> Option<ClientCopy> {
        bind::client_copy(&self.parsed)
    }

    fn cached(&self) -> Option<Arc<Planned>> {
        // The cache holds a complete plan or none, whatever panicked while it was locked.
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn keep(&self, planned: &Arc<Planned>) {
        if planned.label.is_some() {
            *self.cache.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(planned));
        }
    }
}

impl Session {
    /// A session on `db`, in autocommit mode.
    pub fn new(db: engine::Database) -> Session {
        let generation = CatalogGeneration::of(&db);
        let shared = shared::of(&db);
        let changes = shared.changes.clone();
        let sequences = SequenceValues::new(db.clone(), Arc::clone(&shared.sequences));
        let session = Session {
            conn: Connection {
                db,
                state: State::Idle,
                generation,
                ddl_in_transaction: false,
                snapshot_generation: None,
                read_only: false,
                deferrable: false,
                queried: false,
                settings: Settings::default(),
                settings_at_begin: None,
                sequences,
                cancel: CancelHandle::new(),
                pending_changes: PendingChanges::default(),
                changes,
                client: Arc::new(ClientInfo::default()),
            },
            streaming: None,
        };
        session.conn.publish_settings();
        session
    }

    /// Says who is connected, to which database: what `current_user`,
    /// `current_database()` and the system relations report (an embedded session is
    /// user `hdb` on database `hdb`). Statements prepared before keep the old answer.
    pub fn set_client(&mut self, user: &str, database: &str) {
        let client = ClientInfo::new(user, database);
        for (name, value) in self.conn.client.settings() {
            client.set_setting(&name, &value);
        }
        self.conn.client = Arc::new(client);
    }

    /// The run-time parameters pg_settings shows, which the embedder may add to (the
    /// server's `application_name` ...): [`ClientInfo::set_setting`].
    pub fn client(&self) -> &ClientInfo {
        &self.conn.client
    }

    /// A handle that cancels the statement this session is running, from any thread:
    /// the statement fails with "canceling statement due to user request" (SQLSTATE
    /// 57014) and ends like any failed statement. A cancel while no statement runs has
    /// no effect.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.conn.cancel.clone()
    }

    /// Whether a transaction is open (or aborted and waiting for ROLLBACK).
    pub fn in_transaction(&self) -> bool {
        !matches!(self.conn.state, State::Idle)
    }

    /// Whether no transaction is open, one is, or one failed and waits for ROLLBACK.
    pub fn transaction_state(&self) -> TransactionState {
        match self.conn.state {
            State::Idle => TransactionState::Idle,
            State::Active(_) => TransactionState::Active,
            State::Aborted => TransactionState::Aborted,
        }
    }

    /// Runs every statement in `sql` in order; returns the last one's output.
    pub fn execute(&mut self, sql: &str) -> Result<Output> {
        self.query(sql, &[])
    }

    /// Runs the statements in `sql` with parameter values for `$1`, `$2`, ...; returns
    /// the last one's output, its rows collected.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Output> {
        self.query_rows(sql, params)?.into_output()
    }

    /// Runs the statements in `sql` with parameter values for `$1`, `$2`, ...: all but
    /// the last to completion, and the last until its first row; its [`Rows`] produce
    /// the rest as they are pulled.
    pub fn query_rows(&mut self, sql: &str, params: &[Value]) -> Result<Rows<'_>> {
        let statements = match bind::parse(sql) {
            Ok(statements) => statements,
            Err(e) => {
                self.conn.fail_transaction();
                return Err(e);
            }
        };
        let Some((last, earlier)) = statements.split_last() else {
            return Ok(Rows::done(Output::default()));
        };
        for parsed in earlier {
            let control = self.control_of(parsed)?;
            self.start(parsed, control, None, params, CopyStream::None)?
                .into_output()?;
        }
        let control = self.control_of(last)?;
        self.start(last, control, None, params, CopyStream::None)
    }

    /// Runs one `COPY ... FROM STDIN` statement, reading its data (text or CSV, as the
    /// statement says) from `data` until the end or a `\.` line. The rows are loaded
    /// all or none, like any statement.
    pub fn copy_in(&mut self, sql: &str, data: &mut dyn std::io::BufRead) -> Result<Output> {
        let parsed = self.one_client_copy(sql, ClientCopy::In)?;
        self.start(&parsed, None, None, &[], CopyStream::In(data))?
            .into_output()
    }

    /// Runs one `COPY ... TO STDOUT` statement, writing its data to `out`.
    pub fn copy_out(&mut self, sql: &str, out: &mut dyn std::io::Write) -> Result<Output> {
        let parsed = self.one_client_copy(sql, ClientCopy::Out)?;
        self.start(&parsed, None, None, &[], CopyStream::Out(out))?
            .into_output()
    }

    /// Runs a prepared `COPY ... FROM STDIN` statement (see [`Session::copy_in`]); for a
    /// wire-protocol server's extended protocol, which prepares the COPY at Parse and
    /// runs it at Execute.
    pub fn copy_in_prepared(
        &mut self,
        prepared: &Prepared,
        data: &mut dyn std::io::BufRead,
    ) -> Result<Output> {
        self.check_client_copy(prepared, ClientCopy::In)?;
        self.start(
            &prepared.parsed,
            None,
            Some(prepared),
            &[],
            CopyStream::In(data),
        )?
        .into_output()
    }

    /// Runs a prepared `COPY ... TO STDOUT` statement (see [`Session::copy_out`]).
    pub fn copy_out_prepared(
        &mut self,
        prepared: &Prepared,
        out: &mut dyn std::io::Write,
    ) -> Result<Output> {
        self.check_client_copy(prepared, ClientCopy::Out)?;
        self.start(
            &prepared.parsed,
            None,
            Some(prepared),
            &[],
            CopyStream::Out(out),
        )?
        .into_output()
    }

    fn check_client_copy(&self, prepared: &Prepared, direction: ClientCopy) -> Result<()> {
        match prepared.client_copy() == Some(direction) {
            true => Ok(()),
            false => Err(Error::Parameter(match direction {
                ClientCopy::In => "copy_in_prepared takes a COPY ... FROM STDIN statement".into(),
                ClientCopy::Out => "copy_out_prepared takes a COPY ... TO STDOUT statement".into(),
            })),
        }
    }

    /// Parses `sql` as one COPY statement using the client's stream in `direction`.
    fn one_client_copy(&mut self, sql: &str, direction: ClientCopy) -> Result<Parsed> {
        let mut statements = match bind::parse(sql) {
            Ok(statements) => statements,
            Err(e) => {
                self.conn.fail_transaction();
                return Err(e);
            }
        };
        match (statements.pop(), statements.is_empty()) {
            (Some(parsed), true) if bind::client_copy(&parsed) == Some(direction) => Ok(parsed),
            _ => Err(Error::Parameter(match direction {
                ClientCopy::In => "copy_in takes one COPY ... FROM STDIN statement".into(),
                ClientCopy::Out => "copy_out takes one COPY ... TO STDOUT statement".into(),
            })),
        }
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
        self.prepare_one(parsed)
    }

    /// Binds and plans one statement already parsed (one of [`bind::parse`]'s), for
    /// callers that run a script's statements one by one and describe each first. As in
    /// PostgreSQL (and unlike [`Session::prepare`]), a failure here aborts an open
    /// transaction.
    pub fn prepare_parsed(&mut self, parsed: Parsed) -> Result<Prepared> {
        let prepared = self.prepare_one(parsed);
        if prepared.is_err() {
            self.conn.fail_transaction();
        }
        prepared
    }

    /// Marks an open transaction failed, as an error outside any statement does: it is
    /// rolled back, and later statements fail until ROLLBACK. For callers that detect
    /// such errors themselves (a protocol server's malformed parameters).
    pub fn abort_transaction(&mut self) {
        self.conn.fail_transaction();
    }

    fn prepare_one(&mut self, parsed: Parsed) -> Result<Prepared> {
        let control = bind::control(&parsed)?;
        let setting = bind::setting(&parsed)?;
        let mut prepared = Prepared {
            parsed,
            control,
            cache: Arc::new(Mutex::new(None)),
            description: Arc::default(),
        };
        if control.is_none() && setting.is_none() {
            let conn = &mut self.conn;
            let planned = match std::mem::take(&mut conn.state) {
                State::Active(mut txn) => {
                    let observed = conn.observe_generation(&txn);
                    let label =
                        (!conn.ddl_in_transaction).then(|| (conn.generation.clone(), observed));
                    let planned = plan(
                        &mut txn,
                        &prepared.parsed,
                        label,
                        conn.settings.planner,
                        &conn.client,
                    );
                    conn.state = State::Active(txn);
                    planned?
                }
                State::Aborted => {
                    conn.state = State::Aborted;
                    return Err(Error::TransactionAborted);
                }
                State::Idle => {
                    let observed = conn.generation.current();
                    let mut txn = conn.db.begin(DEFAULT_ISOLATION);
                    txn.begin_statement()?;
                    let planned = plan(
                        &mut txn,
                        &prepared.parsed,
                        Some((conn.generation.clone(), observed)),
                        conn.settings.planner,
                        &conn.client,
                    );
                    txn.rollback();
                    planned?
                }
            };
            prepared.description = Arc::new(Description {
                params: planned.plan.params.clone(),
                columns: planned.plan.columns.clone(),
                copy_fields: planned.plan.statement.copy_fields(),
            });
            prepared.keep(&Arc::new(planned));
        }
        let shown = match setting {
            Some(SettingCommand::Show(setting)) => Some(setting.name()),
            Some(SettingCommand::ShowPlanner(switch)) => Some(switch.name()),
            Some(SettingCommand::ShowIsolation { current }) => {
                Some(bind::isolation_setting_name(current))
            }
            _ => None,
        };
        if let Some(name) = shown {
            prepared.description = Arc::new(Description {
                params: Vec::new(),
                columns: vec![(name.to_string(), Kind::Text)],
                copy_fields: 0,
            });
        }
        Ok(prepared)
    }

    /// Executes a prepared statement with parameter values; its rows collected.
    pub fn execute_prepared(&mut self, prepared: &Prepared, params: &[Value]) -> Result<Output> {
        self.execute_prepared_rows(prepared, params)?.into_output()
    }

    /// Executes a prepared statement with parameter values; its [`Rows`] produce its
    /// rows as they are pulled.
    pub fn execute_prepared_rows(
        &mut self,
        prepared: &Prepared,
        params: &[Value],
    ) -> Result<Rows<'_>> {
        self.start(
            &prepared.parsed,
            prepared.control,
            Some(prepared),
            params,
            CopyStream::None,
        )
    }

    /// The transaction-control meaning of `parsed`; a failure to tell aborts an explicit
    /// transaction like any failed statement.
    fn control_of(&mut self, parsed: &Parsed) -> Result<Option<TransactionControl>> {
        bind::control(parsed).inspect_err(|_| self.conn.fail_transaction())
    }

    /// Starts one statement: transaction control at once; anything else in the open
    /// transaction (or a new autocommit one), planned (or its kept plan reused), then run
    /// to completion — except a query, whose rows stream. `stream` is the client's data
    /// for a `COPY ... FROM STDIN` / `TO STDOUT`.
    fn start(
        &mut self,
        parsed: &Parsed,
        control: Option<TransactionControl>,
        prepared: Option<&Prepared>,
        params: &[Value],
        stream: CopyStream<'_>,
    ) -> Result<Rows<'_>> {
        let Session { conn, streaming } = self;
        if let Some(control) = control {
            return conn.control(control).map(Rows::done);
        }
        if let Some(setting) = bind::setting(parsed).inspect_err(|_| conn.fail_transaction())? {
            let reset = parsed.is_reset();
            return conn.setting(setting).map(|mut output| {
                if reset {
                    // RESET x is SET x TO DEFAULT, tagged as PostgreSQL tags it.
                    output.tag = "RESET".into();
                }
                Rows::done(output)
            });
        }
        let (mut begun, observed) = conn.begin_statement()?;
        let planned = match conn.planned(&mut begun.txn, parsed, prepared, observed) {
            Ok(planned) => planned,
            Err(e) => return conn.end_statement(begun, Err(e)),
        };
        let planned = match &planned.bound {
            Some(bound) if !params.is_empty() => {
                let custom = cast_params(&bound.params, params)
                    .and_then(|values| custom_plan(bound, &values, conn.settings.planner));
                match custom {
                    Ok(custom) => Arc::new(custom),
                    Err(e) => return conn.end_statement(begun, Err(e)),
                }
            }
            _ => planned,
        };
        let plan = &*planned.plan;
        if let Statement::Vacuum(vacuum) = &plan.statement
            && vacuum.vacuum
        {
            // Refused in a transaction block (25001) whatever its access mode: PostgreSQL
            // checks that before READ ONLY.
            if begun.explicit {
                return conn.end_statement(begun, Err(Error::ActiveTransaction("VACUUM")));
            }
        } else if conn.read_only
            && let Some(name) = plan.statement.write_name()
        {
            return conn.end_statement(begun, Err(Error::ReadOnlyTransaction(name)));
        }
        let params = match &plan.statement {
            // EXPLAIN prints `$n` without values.
            Statement::Explain(..) => Cow::Borrowed(&[][..]),
            _ => match cast_params(&plan.params, params) {
                Ok(params) => params,
                Err(e) => return conn.end_statement(begun, Err(e)),
            },
        };
        // Running (or printing) the plan recurses as deep as the plan is (`stack.rs`).
        let stack = planned.plan.stack();
        let result = match &plan.statement {
            Statement::Vacuum(vacuum) => {
                // ANALYZE runs in the statement's transaction, so its statistics commit
                // or roll back with it (`exec/analyze.rs`).
                if vacuum.analyze {
                    let targets: Vec<(String, Vec<usize>)> = vacuum
                        .tables
                        .iter()
                        .cloned()
                        .zip(vacuum.columns.iter().cloned())
                        .collect();
                    match exec::analyze(&mut begun.txn, &targets) {
                        Ok(analyzed) => conn.note_analyzed(&analyzed),
                        Err(e) => return conn.end_statement(begun, Err(e)),
                    }
                }
                if !vacuum.vacuum {
                    return conn
                        .end_statement(begun, Ok(Output::tag("ANALYZE")))
                        .map(Rows::done);
                }
                // The statement's own transaction (which checked the tables' names)
                // ends first, so that its snapshot keeps no version alive.
                conn.end_statement(begun, Ok(()))?;
                return conn.vacuum().map(Rows::done);
            }
            Statement::Query(_) if stack <= stack::INLINE_STACK => {
                let params = params.into_owned();
                // A plan kept for later executions keeps what they would recompute.
                let kept = prepared.is_some() && planned.label.is_some();
                let planned: &Planned = streaming.insert(planned);
                let reused = kept.then_some(&planned.reused);
                return Rows::start(conn, begun, &planned.plan, params, reused);
            }
            Statement::Query(_) => {
                // Too deep for the caller's stack, which pulls the rows: the rows are
                // produced (and the statement ended) on a thread with the stack.
                let params = params.into_owned();
                let mut slot = Some(begun);
                let collected = stack::on_thread(stack, || match slot.take() {
                    Some(begun) => Rows::start(conn, begun, plan, params, None)?.into_collected(),
                    None => Err(Error::TooComplex("the statement did not start".into())),
                });
                return match slot {
                    // No thread for it: the statement never started.
                    Some(begun) => conn.end_statement(begun, collected).map(Rows::collected),
                    None => collected.map(Rows::collected),
                };
            }
            Statement::Insert { .. }
            | Statement::Update { .. }
            | Statement::Delete { .. }
            | Statement::LockRows(_) => {
                let (txn, interrupt) = (&mut begun.txn, &begun.interrupt);
                let sequences = Some(&conn.sequences);
                let written = stack::with_stack(stack, || {
                    exec::write(txn, plan, &params, interrupt, sequences)
                });
                if let Ok(output) = &written {
                    conn.note_written(&plan.statement, output.rows_affected);
                }
                written
            }
            Statement::Ddl(ddl) => {
                conn.ddl_in_transaction = true;
                let (txn, sequences) = (&mut begun.txn, Some(&conn.sequences));
                let result = stack::with_stack(stack, || exec::ddl(txn, ddl, sequences));
                conn.generation.bump();
                result
            }
            Statement::Copy(copy) => match stream {
                CopyStream::None => {
                    let (txn, sequences) = (&mut begun.txn, Some(&conn.sequences));
                    stack::with_stack(stack, || {
                        exec::copy(txn, plan, copy, &params, CopyStream::None, sequences)
                    })
                }
                // The client's reader or writer cannot move to another thread.
                stream if stack <= stack::INLINE_STACK => {
                    let sequences = Some(&conn.sequences);
                    exec::copy(&mut begun.txn, plan, copy, &params, stream, sequences)
                }
                _ => Err(stack::too_deep_for_client_copy()),
            }
            .inspect(|output| conn.note_written(&plan.statement, output.rows_affected)),
            Statement::Explain(..) => {
                let (txn, interrupt) = (&mut begun.txn, &begun.interrupt);
                let sequences = Some(&conn.sequences);
                stack::with_stack(stack, || exec::explain(txn, plan, interrupt, sequences))
            }
        };
        conn.end_statement(begun, result).map(Rows::done)
    }
}

impl Connection {
    /// Marks an explicit transaction failed (after an error outside any statement).
    /// (An aborted transaction stays aborted; autocommit stays autocommit.)
    fn fail_transaction(&mut self) {
        match std::mem::take(&mut self.state) {
            State::Active(txn) => {
                txn.rollback();
                self.transaction_ended();
                self.state = State::Aborted;
            }
            other => self.state = other,
        }
    }

    /// Bookkeeping after a transaction committed or rolled back: its DDL (committed or
    /// undone) changes what plans are valid.
    fn transaction_ended(&mut self) {
        if std::mem::take(&mut self.ddl_in_transaction) {
            self.generation.bump();
        }
        self.pending_changes.clear();
        self.snapshot_generation = None;
        self.read_only = false;
        self.sequences.set_read_only(false);
        self.deferrable = false;
        self.queried = false;
        self.sequences.transaction_ended();
    }

    /// Starts a transaction at `isolation` with these access modes. The engine hears of
    /// READ ONLY and DEFERRABLE only under SERIALIZABLE, where they change what it does
    /// (the session refuses writing statements itself).
    fn begin_transaction(&mut self, isolation: IsolationLevel, read_only: bool, deferrable: bool) {
        let mode = engine::AccessMode {
            read_only: read_only && isolation == IsolationLevel::Serializable,
            deferrable,
        };
        self.state = State::Active(self.db.begin_with(isolation, mode));
        self.read_only = read_only;
        self.sequences.set_read_only(read_only);
        self.deferrable = deferrable;
        self.queried = false;
    }

    /// SET TRANSACTION in the open transaction `txn`: before its first query, starts it
    /// again with the new modes (it has done nothing yet); after it, only READ ONLY may
    /// change (to on), with PostgreSQL's errors otherwise.
    fn set_transaction(&mut self, txn: Transaction, modes: TransactionModes) -> Result<()> {
        let isolation = modes.isolation.unwrap_or(txn.isolation());
        let read_only = modes.read_only.unwrap_or(self.read_only);
        let deferrable = modes.deferrable.unwrap_or(self.deferrable);
        if !self.queried {
            txn.rollback();
            self.begin_transaction(isolation, read_only, deferrable);
            return Ok(());
        }
        self.state = State::Active(txn);
        let refusal = if modes
            .isolation
            .is_some_and(|level| Some(level) != self.isolation())
        {
            Some("SET TRANSACTION ISOLATION LEVEL must be called before any query")
        } else if self.read_only && !read_only {
            Some("transaction read-write mode must be set before any query")
        } else if deferrable != self.deferrable {
            Some("SET TRANSACTION [NOT] DEFERRABLE must be called before any query")
        } else {
            None
        };
        if let Some(message) = refusal {
            self.fail_transaction();
            return Err(Error::AfterFirstQuery(message));
        }
        self.read_only = read_only;
        self.sequences.set_read_only(read_only);
        Ok(())
    }

    /// The open transaction's isolation level, if one is open.
    fn isolation(&self) -> Option<IsolationLevel> {
        match &self.state {
            State::Active(txn) => Some(txn.isolation()),
            State::Idle | State::Aborted => None,
        }
    }

    /// The generation the next statement's snapshot will include (read before it is
    /// taken): now, except under REPEATABLE READ after the transaction's first
    /// statement, whose snapshot is kept.
    fn observe_generation(&mut self, txn: &Transaction) -> u64 {
        let now = self.generation.current();
        match txn.isolation() {
            IsolationLevel::ReadCommitted => now,
            IsolationLevel::RepeatableRead | IsolationLevel::Serializable => {
                *self.snapshot_generation.get_or_insert(now)
            }
        }
    }

    /// Begins a statement in the open transaction, or in a new autocommit one: its
    /// snapshot taken, a savepoint set; also returns the catalog generation read before
    /// the snapshot. While the statement runs, the session's state is what it will be
    /// should the statement never end (its `Rows` leaked): aborted inside BEGIN, idle in
    /// autocommit.
    fn begin_statement(&mut self) -> Result<(Begun, u64)> {
        let (mut txn, explicit, observed) = match std::mem::take(&mut self.state) {
            State::Aborted => {
                self.state = State::Aborted;
                return Err(Error::TransactionAborted);
            }
            State::Active(txn) => {
                let observed = self.observe_generation(&txn);
                self.state = State::Aborted;
                self.queried = true;
                (txn, true, observed)
            }
            State::Idle => (
                self.db.begin(self.settings.default_isolation),
                false,
                self.generation.current(),
            ),
        };
        if let Err(e) = txn.begin_statement() {
            match explicit {
                true => {
                    txn.rollback();
                    self.transaction_ended();
                }
                false => txn.rollback(),
            }
            return Err(e.into());
        }
        let savepoint = txn.savepoint();
        self.cancel.reset();
        let interrupt = Interrupt::new(&self.cancel, self.settings.statement_timeout);
        txn.set_lock_wait(self.settings.lock_wait(&interrupt));
        let begun = Begun {
            txn,
            explicit,
            savepoint,
            interrupt,
        };
        Ok((begun, observed))
    }

    /// Ends a statement with its result: its writes kept (`Ok`) or undone (`Err`); then
    /// an autocommit transaction commits or rolls back, and an explicit one goes on or,
    /// after an error, is aborted (PostgreSQL's rule).
    fn end_statement<T>(&mut self, begun: Begun, result: Result<T>) -> Result<T> {
        let Begun {
            mut txn,
            explicit,
            savepoint,
            ..
        } = begun;
        txn.end_statement();
        match &result {
            Ok(_) => txn.release(savepoint),
            Err(_) => txn.rollback_to(savepoint),
        }
        if explicit {
            self.state = match (&result, ABORT_TRANSACTION_ON_ERROR) {
                (Err(_), true) => {
                    txn.rollback();
                    self.transaction_ended();
                    State::Aborted
                }
                _ => State::Active(txn),
            };
            return result;
        }
        let result = match result {
            Ok(value) => txn.commit().map(|_| value).map_err(Error::from),
            Err(e) => {
                txn.rollback();
                Err(e)
            }
        };
        if result.is_ok() {
            self.committed_changes();
        }
        self.transaction_ended();
        result
    }

    /// Ends a statement its caller stopped reading before its end (a query's `Rows`
    /// dropped half-read): its transaction goes on inside BEGIN; an autocommit one is
    /// rolled back (a query wrote nothing, so that loses nothing and releases it).
    fn abandon_statement(&mut self, begun: Begun) {
        let Begun {
            mut txn,
            explicit,
            savepoint,
            ..
        } = begun;
        txn.end_statement();
        txn.release(savepoint);
        match explicit {
            true => self.state = State::Active(txn),
            false => {
                txn.rollback();
                self.transaction_ended();
            }
        }
    }

    /// The plan for `parsed`: a prepared statement's kept plan if still valid for a
    /// snapshot taken after reading generation `observed`, else a new one (kept for
    /// the prepared statement's later executions).
    fn planned(
        &mut self,
        txn: &mut Transaction,
        parsed: &Parsed,
        prepared: Option<&Prepared>,
        observed: u64,
    ) -> Result<Arc<Planned>> {
        if let Some(planned) = prepared.and_then(Prepared::cached)
            && planned.valid_for(&self.generation, observed, self.settings.planner)
        {
            return Ok(planned);
        }
        let label = (!self.ddl_in_transaction).then(|| (self.generation.clone(), observed));
        let planned = Arc::new(plan(
            txn,
            parsed,
            label,
            self.settings.planner,
            &self.client,
        )?);
        if let Some(prepared) = prepared {
            prepared.keep(&planned);
        }
        Ok(planned)
    }

    /// Carries out VACUUM, outside any transaction: H's VACUUM is the MVCC garbage
    /// pass over every key written since the last one (old row versions no snapshot
    /// can see are removed, their pages' space reused), for the whole database whatever
    /// tables it names, then a checkpoint, which writes the pages it changed to the
    /// database file and lets the log be trimmed. (VACUUM ANALYZE gathered its
    /// statistics before, in the statement's transaction.)
    fn vacuum(&mut self) -> Result<Output> {
        self.db.vacuum()?;
        self.db.checkpoint()?;
        Ok(Output::tag("VACUUM"))
    }

    /// Carries out BEGIN, COMMIT or ROLLBACK.
    fn control(&mut self, control: TransactionControl) -> Result<Output> {
        match (control, std::mem::take(&mut self.state)) {
            (TransactionControl::Begin { .. }, State::Active(txn)) => {
                // PostgreSQL warns "there is already a transaction in progress" and goes on.
                self.state = State::Active(txn);
                Ok(Output::tag("BEGIN"))
            }
            (TransactionControl::Begin { .. }, State::Aborted) => {
                self.state = State::Aborted;
                Err(Error::TransactionAborted)
            }
            (TransactionControl::Begin(modes), State::Idle) => {
                let defaults = self.settings;
                self.begin_transaction(
                    modes.isolation.unwrap_or(defaults.default_isolation),
                    modes.read_only.unwrap_or(defaults.default_read_only),
                    modes.deferrable.unwrap_or(defaults.default_deferrable),
                );
                self.settings_at_begin = Some(self.settings);
                Ok(Output::tag("BEGIN"))
            }
            (TransactionControl::SetTransaction(modes), State::Active(txn)) => {
                self.set_transaction(txn, modes)?;
                Ok(Output::tag("SET"))
            }
            (
                TransactionControl::SetTransaction(_)
                | TransactionControl::SetSessionCharacteristics(_),
                State::Aborted,
            ) => {
                self.state = State::Aborted;
                Err(Error::TransactionAborted)
            }
            // PostgreSQL warns that SET TRANSACTION outside a transaction block does
            // nothing.
            (TransactionControl::SetTransaction(_), State::Idle) => Ok(Output::tag("SET")),
            (TransactionControl::SetSessionCharacteristics(modes), state) => {
                self.state = state;
                let settings = &mut self.settings;
                settings.default_isolation = modes.isolation.unwrap_or(settings.default_isolation);
                settings.default_read_only = modes.read_only.unwrap_or(settings.default_read_only);
                settings.default_deferrable =
                    modes.deferrable.unwrap_or(settings.default_deferrable);
                self.publish_settings();
                Ok(Output::tag("SET"))
            }
            (TransactionControl::Commit, State::Active(txn)) => {
                let committed = txn.commit();
                if committed.is_ok() {
                    self.committed_changes();
                }
                self.transaction_ended();
                match committed {
                    Ok(_) => self.settings_at_begin = None,
                    Err(_) => self.restore_settings(),
                }
                committed?;
                Ok(Output::tag("COMMIT"))
            }
            (TransactionControl::Commit, State::Aborted) => {
                self.restore_settings();
                Ok(Output::tag("ROLLBACK"))
            }
            (TransactionControl::Commit, State::Idle) => Ok(Output::tag("COMMIT")),
            (TransactionControl::Rollback, State::Active(txn)) => {
                txn.rollback();
                self.transaction_ended();
                self.restore_settings();
                Ok(Output::tag("ROLLBACK"))
            }
            (TransactionControl::Rollback, state) => {
                if matches!(state, State::Aborted) {
                    self.restore_settings();
                }
                Ok(Output::tag("ROLLBACK"))
            }
        }
    }

    /// Puts back the settings of before BEGIN (the transaction rolled back).
    fn restore_settings(&mut self) {
        if let Some(settings) = self.settings_at_begin.take() {
            self.settings = settings;
        }
        self.publish_settings();
    }

    /// Writes the session's own settings, as SHOW prints them, where pg_settings reads
    /// them.
    fn publish_settings(&self) {
        for setting in Setting::ALL {
            let shown = bind::show_timeout(self.settings.get(setting));
            self.client.set_setting(setting.name(), &shown);
        }
        let planner = self.settings.planner;
        for switch in [
            PlannerSwitch::SeqScan,
            PlannerSwitch::IndexScan,
            PlannerSwitch::IndexOnlyScan,
        ] {
            let on = match switch {
                PlannerSwitch::SeqScan => planner.enable_seqscan,
                PlannerSwitch::IndexScan => planner.enable_indexscan,
                PlannerSwitch::IndexOnlyScan => planner.enable_indexonlyscan,
            };
            self.client
                .set_setting(switch.name(), if on { "on" } else { "off" });
        }
        self.client.set_setting(
            bind::PARALLEL_WORKERS,
            &planner.max_parallel_workers_per_gather.to_string(),
        );
        self.client.set_setting(
            bind::isolation_setting_name(false),
            bind::isolation_name(self.settings.default_isolation),
        );
    }

    /// Carries out SET, RESET or SHOW of a setting (and keeps pg_settings in step).
    fn setting(&mut self, command: SettingCommand) -> Result<Output> {
        let output = self.setting_command(command);
        self.publish_settings();
        output
    }

    /// [`Connection::setting`]; inside an aborted transaction, fails as any statement
    /// does.
    fn setting_command(&mut self, command: SettingCommand) -> Result<Output> {
        if matches!(self.state, State::Aborted) {
            return Err(Error::TransactionAborted);
        }
        match command {
            SettingCommand::Set(setting, value) => {
                self.settings.set(setting, value);
                Ok(Output::tag("SET"))
            }
            SettingCommand::ResetAll => {
                self.settings = Settings::default();
                Ok(Output::tag("RESET"))
            }
            SettingCommand::Show(setting) => {
                let shown = bind::show_timeout(self.settings.get(setting));
                Ok(Output {
                    columns: vec![setting.name().into()],
                    rows: vec![vec![Value::Text(shown)]],
                    rows_affected: 1,
                    tag: "SHOW".into(),
                })
            }
            SettingCommand::SetPlanner(switch, on) => {
                let planner = &mut self.settings.planner;
                match switch {
                    PlannerSwitch::SeqScan => planner.enable_seqscan = on,
                    PlannerSwitch::IndexScan => planner.enable_indexscan = on,
                    PlannerSwitch::IndexOnlyScan => planner.enable_indexonlyscan = on,
                }
                Ok(Output::tag("SET"))
            }
            SettingCommand::SetDefaultIsolation(level) => {
                self.settings.default_isolation = level;
                Ok(Output::tag("SET"))
            }
            SettingCommand::ShowIsolation { current } => {
                let level = match current {
                    true => self.isolation().unwrap_or(self.settings.default_isolation),
                    false => self.settings.default_isolation,
                };
                let name = bind::isolation_setting_name(current);
                Ok(Output {
                    columns: vec![name.into()],
                    rows: vec![vec![Value::Text(bind::isolation_name(level).into())]],
                    rows_affected: 1,
                    tag: "SHOW".into(),
                })
            }
            SettingCommand::SetParallelWorkers(workers) => {
                self.settings.planner.max_parallel_workers_per_gather =
                    workers.unwrap_or_else(crate::cost::default_parallel_workers);
                Ok(Output::tag("SET"))
            }
            SettingCommand::ShowParallelWorkers => Ok(Output {
                columns: vec![bind::PARALLEL_WORKERS.into()],
                rows: vec![vec![Value::Text(
                    self.settings
                        .planner
                        .max_parallel_workers_per_gather
                        .to_string(),
                )]],
                rows_affected: 1,
                tag: "SHOW".into(),
            }),
            SettingCommand::ShowPlanner(switch) => {
                let planner = self.settings.planner;
                let on = match switch {
                    PlannerSwitch::SeqScan => planner.enable_seqscan,
                    PlannerSwitch::IndexScan => planner.enable_indexscan,
                    PlannerSwitch::IndexOnlyScan => planner.enable_indexonlyscan,
                };
                Ok(Output {
                    columns: vec![switch.name().into()],
                    rows: vec![vec![Value::Text(if on { "on" } else { "off" }.into())]],
                    rows_affected: 1,
                    tag: "SHOW".into(),
                })
            }
        }
    }
}
impl Drop for Session {
    fn drop(&mut self) {
        // An open transaction is rolled back with the session; its DDL goes with it.
        if self.conn.ddl_in_transaction {
            self.conn.generation.bump();
        }
    }
}

/// Binds and optimises `parsed` in `txn`; `label` is the generation to label the plan
/// with (`None`: not reusable). DDL plans are never reused.
fn plan(
    txn: &mut Transaction,
    parsed: &Parsed,
    label: Option<(CatalogGeneration, u64)>,
    settings: PlannerSettings,
    client: &Arc<ClientInfo>,
) -> Result<Planned> {
    let (plan, stack) = bind::bind(txn, parsed, client)?;
    // A statement with parameters keeps its bound plan in case its access paths depend
    // on their values (cloning recurses as deep as the plan is).
    let bound = match plan.params.is_empty() {
        true => None,
        false => Some(DeepDrop::new(
            stack::with_stack(stack, || Ok(plan.clone()))?,
            stack,
        )),
    };
    // Optimising recurses as deep as the plan is. A thread that failed to start leaves
    // the plan in the slot, to be dropped with the stack it needs.
    let mut slot = Some(plan);
    let optimised = stack::with_stack(stack, || {
        Ok(slot.take().map(|plan| optimize_plan(plan, settings, None)))
    });
    drop(slot.map(|plan| DeepDrop::new(plan, stack)));
    let Some(plan) = optimised? else {
        return Err(Error::TooComplex("the optimiser did not run".into()));
    };
    let label = match plan.statement.is_ddl() {
        true => None,
        false => label,
    };
    let bound = bound.filter(|_| param_sensitive(&plan));
    Ok(Planned {
        plan: DeepDrop::new(plan, stack),
        label,
        settings,
        bound,
        reused: Reused::default(),
    })
}

/// A plan for one execution of a prepared statement whose access paths depend on its
/// parameters: `bound` optimised with the estimates reading `values`.
fn custom_plan(
    bound: &DeepDrop<Plan>,
    values: &[Value],
    settings: PlannerSettings,
) -> Result<Planned> {
    let stack = bound.stack();
    let plan = stack::with_stack(stack, || {
        Ok(optimize_plan((**bound).clone(), settings, Some(values)))
    })?;
    Ok(Planned {
        plan: DeepDrop::new(plan, stack),
        label: None,
        settings,
        bound: None,
        reused: Reused::default(),
    })
}

/// Casts parameter values to the kinds the binder inferred for them (borrowing them
/// when they have those kinds already, as they usually do).
fn cast_params<'p>(kinds: &[Kind], params: &'p [Value]) -> Result<Cow<'p, [Value]>> {
    if params.len() != kinds.len() {
        return Err(Error::Parameter(format!(
            "the statement takes {} parameters, but {} were given",
            kinds.len(),
            params.len()
        )));
    }
    let fits = |(value, kind): (&Value, &Kind)| {
        value.is_null() || *kind == Kind::Unknown || value.kind() == *kind
    };
    if params.iter().zip(kinds).all(fits) {
        return Ok(Cow::Borrowed(params));
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
        .collect::<Result<Vec<_>>>()
        .map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (tempfile::TempDir, engine::Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = engine::Database::open(dir.path().join("t.db"), Default::default()).unwrap();
        (dir, db)
    }

    fn plan_of(prepared: &Prepared) -> Arc<Planned> {
        prepared.cached().expect("a kept plan")
    }

    fn cell(output: &Output) -> String {
        output.rows[0][0].to_string()
    }

    #[test]
    fn a_prepared_plan_is_reused_until_the_schema_changes() {
        let (_dir, db) = open();
        let mut s = Session::new(db.clone());
        s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a')")
            .unwrap();
        let p = s.prepare("SELECT v FROM t WHERE id = $1").unwrap();
        let first = plan_of(&p);
        for _ in 0..3 {
            assert_eq!(
                cell(&s.execute_prepared(&p, &[Value::Int(1)]).unwrap()),
                "a"
            );
        }
        assert!(
            Arc::ptr_eq(&first, &plan_of(&p)),
            "planned again without a change"
        );
        // DML does not change the schema.
        s.execute("INSERT INTO t VALUES (2, 'b')").unwrap();
        s.execute_prepared(&p, &[Value::Int(2)]).unwrap();
        assert!(Arc::ptr_eq(&first, &plan_of(&p)));
        // Another session's DDL does.
        let mut other = Session::new(db);
        other
            .execute("DROP TABLE t; CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER, v TEXT)")
            .unwrap();
        other
            .execute("INSERT INTO t VALUES (1, 10, 'new')")
            .unwrap();
        assert_eq!(
            cell(&s.execute_prepared(&p, &[Value::Int(1)]).unwrap()),
            "new"
        );
        let second = plan_of(&p);
        assert!(!Arc::ptr_eq(&first, &second));
        s.execute_prepared(&p, &[Value::Int(1)]).unwrap();
        assert!(Arc::ptr_eq(&second, &plan_of(&p)));
    }

    #[test]
    fn rolled_back_ddl_invalidates_plans_made_during_it() {
        let (_dir, db) = open();
        let mut s = Session::new(db);
        s.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'old')",
        )
        .unwrap();
        let p = s.prepare("SELECT * FROM t").unwrap();
        s.execute("BEGIN; DROP TABLE t; CREATE TABLE t (a TEXT, b TEXT, c TEXT)")
            .unwrap();
        s.execute("INSERT INTO t VALUES ('x', 'y', 'z')").unwrap();
        assert_eq!(
            s.execute_prepared(&p, &[]).unwrap().columns,
            ["a", "b", "c"]
        );
        s.execute("ROLLBACK").unwrap();
        let after = s.execute_prepared(&p, &[]).unwrap();
        assert_eq!(after.columns, ["id", "v"]);
        assert_eq!(after.rows, [[Value::Int(1), Value::Text("old".into())]]);
    }

    #[test]
    fn repeatable_read_does_not_reuse_a_plan_newer_than_its_snapshot() {
        let (_dir, db) = open();
        let mut reader = Session::new(db.clone());
        let mut writer = Session::new(db);
        reader
            .execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            .unwrap();
        reader.execute("SELECT 1").unwrap();
        writer
            .execute("CREATE TABLE late (id INTEGER PRIMARY KEY)")
            .unwrap();
        let p = writer.prepare("SELECT * FROM late").unwrap();
        // The reader's snapshot predates the table: the plan made for it is not valid.
        assert!(matches!(
            reader.execute_prepared(&p, &[]),
            Err(Error::UnknownTable(_))
        ));
        reader.execute("ROLLBACK").unwrap();
        assert!(reader.execute_prepared(&p, &[]).unwrap().rows.is_empty());
    }

    #[test]
    fn an_error_in_an_aborted_transaction_keeps_it_aborted() {
        let (_dir, db) = open();
        let mut s = Session::new(db);
        s.execute("BEGIN").unwrap();
        assert!(s.execute("SELECT * FROM nope").is_err());
        assert_eq!(s.transaction_state(), TransactionState::Aborted);
        // A parse error and a failed prepare, both outside any statement.
        assert!(s.execute("SELEC 1").is_err());
        let parsed = bind::parse("SELECT 1").unwrap().remove(0);
        assert!(matches!(
            s.prepare_parsed(parsed),
            Err(Error::TransactionAborted)
        ));
        assert_eq!(s.transaction_state(), TransactionState::Aborted);
        s.execute("ROLLBACK").unwrap();
        assert_eq!(s.transaction_state(), TransactionState::Idle);
    }

    #[test]
    fn prepared_statements_describe_their_parameters_and_columns() {
        let (_dir, db) = open();
        let mut s = Session::new(db);
        s.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        let p = s
            .prepare("SELECT v, id * 1.5 AS x FROM t WHERE id = $1")
            .unwrap();
        assert_eq!(p.description().params, [Kind::Int]);
        assert_eq!(
            p.description().columns,
            [
                ("v".to_string(), Kind::Text),
                ("x".to_string(), Kind::Numeric)
            ]
        );
        let insert = s.prepare("INSERT INTO t VALUES ($1, $2)").unwrap();
        assert_eq!(insert.description().params, [Kind::Int, Kind::Text]);
        assert!(insert.description().columns.is_empty());
        // Described even where the plan is not kept (after DDL in the transaction).
        s.execute("BEGIN; CREATE TABLE u (a DATE)").unwrap();
        let q = s.prepare("SELECT a FROM u WHERE a > $1").unwrap();
        assert_eq!(q.description().params, [Kind::Date]);
        assert_eq!(q.description().columns, [("a".to_string(), Kind::Date)]);
        s.execute("ROLLBACK").unwrap();
    }

    #[test]
    fn parameters_are_cast_or_borrowed() {
        let kinds = [Kind::Int, Kind::Float, Kind::Unknown];
        let same = [Value::Int(1), Value::Float(2.0), Value::Text("x".into())];
        assert!(matches!(cast_params(&kinds, &same), Ok(Cow::Borrowed(_))));
        let cast = cast_params(&kinds, &[Value::Int(1), Value::Int(2), Value::Null]).unwrap();
        assert_eq!(
            cast.as_ref(),
            [Value::Int(1), Value::Float(2.0), Value::Null]
        );
        assert!(matches!(
            cast_params(
                &kinds,
                &[Value::Text("x".into()), Value::Int(2), Value::Null]
            ),
            Err(Error::Parameter(_))
        ));
        assert!(matches!(cast_params(&kinds, &[]), Err(Error::Parameter(_))));
    }
}
