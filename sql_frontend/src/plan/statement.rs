//! Statements: what a bound SQL statement does, above the operator tree.
//!
//! A [`Statement`] is a query (an operator tree whose rows are the result), a write
//! (INSERT, UPDATE, DELETE: an operator tree producing the rows to write, and what to
//! write), DDL ([`Ddl`]), or EXPLAIN of another statement. A [`Plan`] is a statement with
//! the plans of the subqueries its expressions use ([`crate::expr::SubqueryId`] indexes
//! them, as PostgreSQL's SubPlan nodes index their statement's list of subplans) and the
//! kinds the binder inferred for its `$n` parameters.
//!
//! Transaction control (BEGIN, COMMIT, ROLLBACK: [`TransactionControl`]) is not a
//! `Statement`: it decides which transaction the other statements are bound and run in,
//! so the session recognises it before choosing one (as toyDB's session does) and it is
//! never bound against a catalog.

use engine::IsolationLevel;

use crate::catalog::{CheckInfo, ColumnDefault, ColumnInfo, TableInfo};
use crate::copy_format::CopyFormat;
use crate::expr::Expr;
use crate::plan::node::Node;
use crate::sequence::SequenceDef;
use crate::value::Kind;
use crate::view_catalog::ViewInfo;

/// A bound statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// The rows of an operator tree.
    Query(Node),
    /// Inserts the source's rows; source column `i` goes to table column `targets[i]`,
    /// other columns get their DEFAULT or NULL.
    Insert {
        table: TableInfo,
        targets: Vec<usize>,
        source: Node,
        /// The columns not in `targets` whose DEFAULT is evaluated for each row (a
        /// sequence's next value, the clock), with the bound expression; the other
        /// columns not in `targets` get their constant default or NULL.
        defaults: Vec<(usize, Expr)>,
        /// The table's CHECK constraints, which every new row must pass.
        checks: Vec<Check>,
        /// `ON CONFLICT ...` (`exec/upsert.rs`).
        on_conflict: Option<OnConflict>,
        returning: Option<Returning>,
    },
    /// Sets columns of the source's rows (which are whole table rows, read with their
    /// primary keys).
    Update {
        table: TableInfo,
        source: Node,
        assignments: Vec<(usize, Expr)>,
        /// The table's CHECK constraints, which every updated row must pass.
        checks: Vec<Check>,
        returning: Option<Returning>,
        /// The WHERE condition over the table's row, re-checked on a row that a
        /// concurrent transaction changed (READ COMMITTED's EvalPlanQual,
        /// `exec/write.rs`).
        recheck: Option<Expr>,
    },
    /// Deletes the source's rows (read with their primary keys).
    Delete {
        table: TableInfo,
        source: Node,
        returning: Option<Returning>,
        /// As for UPDATE.
        recheck: Option<Expr>,
    },
    /// A query that locks the rows it returns (`SELECT ... FOR UPDATE`).
    LockRows(LockRows),
    /// Changes the schema.
    Ddl(Ddl),
    /// Moves rows between a table (or a query) and COPY data (`exec/copy.rs`).
    Copy(Copy),
    /// Prints the plan of a statement with its estimates, and with ANALYZE runs it
    /// (a query only) and prints what each node did (`exec/explain.rs`).
    Explain(Box<Statement>, ExplainOptions),
    /// `VACUUM [ANALYZE] [table, ...]`: the MVCC garbage pass and a checkpoint, run
    /// by the session outside any transaction (see `session/mod.rs`); `ANALYZE [table
    /// [(column, ...)], ...]`, the same statement without the garbage pass, gathers
    /// statistics in the statement's transaction (`exec/analyze.rs`).
    Vacuum(Vacuum),
}

/// EXPLAIN's options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExplainOptions {
    /// Run the statement and show each node's actual rows, loops and time.
    pub analyze: bool,
    /// Show each node's estimated cost and rows (`COSTS OFF` hides them).
    pub costs: bool,
    /// One JSON document instead of text lines (`FORMAT JSON`).
    pub json: bool,
}

impl Default for ExplainOptions {
    fn default() -> ExplainOptions {
        ExplainOptions {
            analyze: false,
            costs: true,
            json: false,
        }
    }
}

/// A bound VACUUM or ANALYZE: the tables it names (each checked to exist; the garbage
/// pass covers the whole database either way), whether ANALYZE was asked for, and
/// whether this is a VACUUM at all (`false`: a plain ANALYZE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vacuum {
    pub tables: Vec<String>,
    /// Per table (same order), the positions of the columns named for ANALYZE; empty
    /// for every column.
    pub columns: Vec<Vec<usize>>,
    pub analyze: bool,
    pub vacuum: bool,
}

/// An INSERT's `ON CONFLICT` clause.
#[derive(Debug, Clone, PartialEq)]
pub struct OnConflict {
    /// The unique keys a proposed row is looked up by.
    pub arbiters: Vec<Arbiter>,
    pub action: ConflictAction,
}

/// A unique key that arbitrates ON CONFLICT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arbiter {
    /// The declared primary key.
    PrimaryKey,
    /// The unique index at this position of the table's `schema.indexes`.
    Index(usize),
}

/// What ON CONFLICT does with a row that conflicts.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictAction {
    Nothing,
    /// SET and WHERE over the existing row followed by the proposed one (`excluded`).
    Update {
        assignments: Vec<(usize, Expr)>,
        predicate: Option<Expr>,
    },
}

impl ConflictAction {
    fn map_exprs(self, expr: &mut dyn FnMut(Expr) -> Expr) -> ConflictAction {
        match self {
            ConflictAction::Nothing => ConflictAction::Nothing,
            ConflictAction::Update {
                assignments,
                predicate,
            } => ConflictAction::Update {
                assignments: assignments.into_iter().map(|(i, e)| (i, expr(e))).collect(),
                predicate: predicate.map(expr),
            },
        }
    }
}

/// `SELECT <exprs> FROM table WHERE ... ORDER BY ... LIMIT ... OFFSET ... FOR <mode>
/// [NOWAIT | SKIP LOCKED]` (`bind/locking.rs`, run by `exec/locking.rs`): the source
/// reads the table's rows in order with their keys; each is locked (waiting as
/// `policy` says), re-checked against `recheck` if a concurrent commit changed it
/// (READ COMMITTED), counted against OFFSET and LIMIT, and returned as `exprs`.
#[derive(Debug, Clone, PartialEq)]
pub struct LockRows {
    pub table: TableInfo,
    /// The table's rows (whole, with their primary keys), filtered and ordered.
    pub source: Node,
    /// The WHERE condition over the table's row.
    pub recheck: Option<Expr>,
    pub mode: engine::LockMode,
    pub policy: engine::WaitPolicy,
    /// The SELECT list over the table's row, and its names.
    pub exprs: Vec<Expr>,
    pub names: Vec<String>,
    pub limit: Option<Expr>,
    pub offset: Option<Expr>,
}

impl LockRows {
    /// PostgreSQL's name for the statement (a read-only transaction refuses it).
    pub fn name(&self) -> &'static str {
        match self.mode {
            engine::LockMode::Update => "SELECT FOR UPDATE",
            engine::LockMode::NoKeyUpdate => "SELECT FOR NO KEY UPDATE",
            engine::LockMode::Share => "SELECT FOR SHARE",
            engine::LockMode::KeyShare => "SELECT FOR KEY SHARE",
        }
    }
}

/// A CHECK constraint bound over the table's row (its columns in order): a row passes
/// unless the expression is false (NULL passes, as in SQL).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    pub expr: Expr,
}

/// A write's RETURNING list: expressions over the row as written (INSERT, UPDATE) or
/// as it was (DELETE) — the table's columns in order — and their output names.
#[derive(Debug, Clone, PartialEq)]
pub struct Returning {
    pub exprs: Vec<Expr>,
    pub names: Vec<String>,
}

fn map_checks(checks: Vec<Check>, expr: &mut dyn FnMut(Expr) -> Expr) -> Vec<Check> {
    checks
        .into_iter()
        .map(|check| Check {
            name: check.name,
            expr: expr(check.expr),
        })
        .collect()
}

impl Returning {
    fn map_exprs(self, expr: &mut dyn FnMut(Expr) -> Expr) -> Returning {
        Returning {
            exprs: self.exprs.into_iter().map(expr).collect(),
            names: self.names,
        }
    }
}

impl Statement {
    /// For a COPY, the number of fields in each record it reads or writes; 0 otherwise.
    pub fn copy_fields(&self) -> usize {
        match self {
            Statement::Copy(Copy::From { targets, .. }) => targets.len(),
            Statement::Copy(Copy::To { columns, .. }) => columns.len(),
            _ => 0,
        }
    }

    /// PostgreSQL's name for a statement that writes (`INSERT`, `CREATE TABLE`, ...), as
    /// a read-only transaction's refusal names it; `None` for one that only reads.
    pub fn write_name(&self) -> Option<&'static str> {
        match self {
            Statement::Query(_) | Statement::Explain(..) => None,
            Statement::Vacuum(v) if v.vacuum => Some("VACUUM"),
            Statement::Vacuum(_) => Some("ANALYZE"),
            Statement::Insert { .. } => Some("INSERT"),
            Statement::Update { .. } => Some("UPDATE"),
            Statement::LockRows(lock) => Some(lock.name()),
            Statement::Delete { .. } => Some("DELETE"),
            Statement::Copy(Copy::From { .. }) => Some("COPY FROM"),
            Statement::Copy(Copy::To { .. }) => None,
            Statement::Ddl(ddl) => Some(match ddl {
                Ddl::CreateTable { .. } => "CREATE TABLE",
                Ddl::DropTable { .. } => "DROP TABLE",
                Ddl::CreateIndex { .. } => "CREATE INDEX",
                Ddl::DropIndex { .. } => "DROP INDEX",
                Ddl::CreateFunction { .. } => "CREATE FUNCTION",
                Ddl::DropFunction { .. } => "DROP FUNCTION",
                Ddl::CreateView { .. } => "CREATE VIEW",
                Ddl::DropView { .. } => "DROP VIEW",
                Ddl::Truncate { .. } => "TRUNCATE TABLE",
                Ddl::AddPrimaryKey { .. }
                | Ddl::RenameTable { .. }
                | Ddl::RenameColumn { .. }
                | Ddl::SetNotNull { .. }
                | Ddl::SetDefault { .. }
                | Ddl::AlterTable { .. }
                | Ddl::AddColumn(_)
                | Ddl::DropColumn { .. }
                | Ddl::AlterColumnType(_)
                | Ddl::AddCheck { .. }
                | Ddl::AddUnique { .. }
                | Ddl::AddForeignKey { .. }
                | Ddl::DropConstraint { .. } => "ALTER TABLE",
                Ddl::CreateSequence { .. } => "CREATE SEQUENCE",
                Ddl::DropSequence { .. } => "DROP SEQUENCE",
            }),
        }
    }
}

/// A schema change.
#[derive(Debug, Clone, PartialEq)]
pub enum Ddl {
    CreateTable {
        name: String,
        columns: Vec<ColumnInfo>,
        primary_key: Vec<String>,
        /// Column lists of UNIQUE constraints, each becoming a unique index.
        unique: Vec<Vec<String>>,
        /// CHECK constraints, named and with their expressions' text.
        checks: Vec<CheckInfo>,
        /// FOREIGN KEY constraints (`foreign_key.rs`).
        foreign_keys: Vec<crate::foreign_key::ForeignKey>,
        /// `WITH (fillfactor = n)`: validated and recorded (`catalog.rs`), not used.
        fillfactor: Option<u32>,
        /// The sequences of its SERIAL and identity columns, created with it.
        sequences: Vec<SequenceDef>,
        if_not_exists: bool,
    },
    /// `DROP TABLE`: with `cascade`, the views that depend on the tables too; without,
    /// an error if there are any (`view_catalog.rs`).
    DropTable {
        names: Vec<String>,
        if_exists: bool,
        cascade: bool,
    },
    CreateIndex {
        name: String,
        table: String,
        columns: Vec<String>,
        /// `INCLUDE (...)`: columns every entry carries, for index-only scans.
        include: Vec<String>,
        unique: bool,
        if_not_exists: bool,
    },
    DropIndex {
        names: Vec<String>,
        if_exists: bool,
    },
    /// `CREATE [OR REPLACE] FUNCTION` (see `bind/routine.rs`).
    CreateFunction {
        name: String,
        /// The CREATE statement's text, stored as the definition.
        definition: String,
        or_replace: bool,
    },
    DropFunction {
        names: Vec<String>,
        if_exists: bool,
    },
    /// `CREATE [OR REPLACE] VIEW` (see `bind/view.rs`): the view's column names, its
    /// query's text, and the tables and views the query names.
    CreateView {
        view: ViewInfo,
        depends_on: Vec<String>,
        or_replace: bool,
    },
    /// `DROP VIEW`: as [`Ddl::DropTable`], for views.
    DropView {
        names: Vec<String>,
        if_exists: bool,
        cascade: bool,
    },
    /// `TRUNCATE [TABLE] t [, ...] [RESTART IDENTITY]`: every named table emptied, in
    /// the transaction (and with RESTART IDENTITY, the sequences its columns own
    /// restarted, in it too).
    Truncate {
        names: Vec<String>,
        restart_identity: bool,
    },
    /// `ALTER TABLE t ADD [CONSTRAINT name] PRIMARY KEY (columns)`: the table's rows
    /// rekeyed into a new tree (`engine::table::rekey`).
    AddPrimaryKey {
        table: String,
        columns: Vec<String>,
        /// The constraint's name (PostgreSQL's `<table>_pkey` when not given), which
        /// names it in a duplicate-key error.
        constraint: String,
    },
    /// `ALTER TABLE t RENAME TO new`: the catalog entries and SQL metadata renamed.
    RenameTable {
        table: String,
        new_name: String,
    },
    /// `ALTER TABLE t RENAME [COLUMN] c TO new`: the column renamed in the catalog.
    RenameColumn {
        table: String,
        column: String,
        new_name: String,
    },
    /// `ALTER TABLE t ALTER [COLUMN] c {SET | DROP} NOT NULL`; SET checks every row.
    SetNotNull {
        table: String,
        column: String,
        not_null: bool,
    },
    /// `ALTER TABLE t ALTER [COLUMN] c {SET DEFAULT value | DROP DEFAULT}`.
    SetDefault {
        table: String,
        column: usize,
        default: Option<ColumnDefault>,
    },
    /// `ALTER TABLE t action, action ...`: several actions (or none, for `ALTER TABLE
    /// IF EXISTS` of a missing table), run in order in the statement's transaction,
    /// each bound against the table as the ones before it leave it.
    AlterTable {
        table: String,
        actions: Vec<Ddl>,
    },
    /// `ALTER TABLE t ADD [COLUMN] c type [DEFAULT ...] [constraints]` (`exec/alter.rs`).
    AddColumn(Box<AddColumn>),
    /// `ALTER TABLE t DROP [COLUMN] c`: the table rewritten without it; the CHECK
    /// constraints `drop_checks` that read it, and its indexes, go with it.
    DropColumn {
        table: String,
        position: usize,
        drop_checks: Vec<String>,
        /// FOREIGN KEY constraints (table, name) over the column, dropped with it.
        drop_foreign_keys: Vec<(String, String)>,
        /// Sequences the column owns (SERIAL, identity), dropped with it.
        drop_sequences: Vec<String>,
    },
    /// `ALTER TABLE t ALTER [COLUMN] c [SET DATA] TYPE type [USING expr]`.
    AlterColumnType(Box<AlterColumnType>),
    /// `ALTER TABLE t ADD [CONSTRAINT name] CHECK (expr) [NOT VALID]`: `expr` bound
    /// over the table's row checks every row, unless NOT VALID (`None`).
    AddCheck {
        table: String,
        check: CheckInfo,
        expr: Option<Expr>,
    },
    /// `ALTER TABLE t ADD [CONSTRAINT name] UNIQUE (columns)`: a unique index `index`.
    AddUnique {
        table: String,
        index: String,
        columns: Vec<String>,
    },
    /// `ALTER TABLE t ADD [CONSTRAINT name] FOREIGN KEY (columns) REFERENCES ...`: every
    /// row of the table checked (`exec/references.rs`), then the constraint recorded.
    AddForeignKey {
        fk: crate::foreign_key::ForeignKey,
    },
    /// `ALTER TABLE t DROP CONSTRAINT name`: a CHECK, or the unique index of a UNIQUE.
    DropConstraint {
        table: String,
        name: String,
        kind: ConstraintKind,
    },
    /// `CREATE SEQUENCE` (`sequence/`).
    CreateSequence {
        def: SequenceDef,
        if_not_exists: bool,
    },
    /// `DROP SEQUENCE`: with `cascade`, the column defaults that take its values are
    /// dropped too; without, an error if there are any.
    DropSequence {
        names: Vec<String>,
        if_exists: bool,
        cascade: bool,
    },
}

/// What kind of constraint `DROP CONSTRAINT` drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Check,
    /// A UNIQUE constraint: its index, named as the constraint.
    Unique,
    ForeignKey,
}

/// `ALTER TABLE t ADD COLUMN`, bound.
#[derive(Debug, Clone, PartialEq)]
pub struct AddColumn {
    pub table: String,
    pub column: ColumnInfo,
    /// What every existing row reads in the column: its DEFAULT, evaluated once
    /// (already cast to the column's type), or NULL. Recorded in the catalog, no row
    /// rewritten (`engine::table::alter::add_column`).
    pub missing: crate::value::Value,
    /// A DEFAULT evaluated for each row (`random()`, `nextval`, the clock): the table
    /// is rewritten with a value per existing row.
    pub per_row: Option<Expr>,
    /// The index of a UNIQUE or PRIMARY KEY on the column: (name, primary key?).
    pub unique: Option<(String, bool)>,
    /// CHECK constraints declared on the column, each with its expression bound over
    /// the table's row with the new column, which every row must pass.
    pub checks: Vec<(CheckInfo, Expr)>,
}

/// `ALTER TABLE t ALTER COLUMN c TYPE type [USING expr]`, bound.
#[derive(Debug, Clone, PartialEq)]
pub struct AlterColumnType {
    pub table: String,
    pub position: usize,
    pub sql_type: crate::types::SqlType,
    /// Each row's new value, over the row as it was (the column itself without
    /// USING), then assigned to `sql_type`.
    pub using: Expr,
    /// The column's DEFAULT, converted to the new type.
    pub default: Option<ColumnDefault>,
    /// The table's CHECK constraints bound over the new row, which every row must pass.
    pub checks: Vec<Check>,
}

/// Where COPY data comes from or goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyEndpoint {
    /// `STDIN` / `STDOUT`: the client's stream (`Session::copy_in` / `copy_out`).
    Client,
    /// `'file'`: a file the database process reads or writes.
    File(String),
    /// `STDIN` whose data followed the statement in the SQL text (psql's script form).
    Inline(String),
}

/// A bound COPY statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Copy {
    /// `COPY table [(columns)] FROM ...`: field `i` of each record goes to table column
    /// `targets[i]`; other columns get their DEFAULT or NULL, as with INSERT.
    From {
        table: TableInfo,
        targets: Vec<usize>,
        /// The columns not in `targets` whose DEFAULT is computed for each row, as
        /// INSERT's.
        defaults: Vec<(usize, Expr)>,
        /// The table's CHECK constraints, which every loaded row must pass.
        checks: Vec<Check>,
        source: CopyEndpoint,
        format: CopyFormat,
    },
    /// `COPY {table [(columns)] | (query)} TO ...`: the rows of `query`.
    To {
        query: Node,
        /// The column names (the header line of CSV with HEADER).
        columns: Vec<String>,
        target: CopyEndpoint,
        format: CopyFormat,
    },
}

/// BEGIN, SET TRANSACTION, SET SESSION CHARACTERISTICS, COMMIT or ROLLBACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionControl {
    /// BEGIN / START TRANSACTION, with the modes it gave (the others are the session's
    /// defaults).
    Begin(TransactionModes),
    /// SET TRANSACTION: the open transaction's modes, before its first query.
    SetTransaction(TransactionModes),
    /// SET SESSION CHARACTERISTICS AS TRANSACTION: the defaults of later transactions.
    SetSessionCharacteristics(TransactionModes),
    Commit,
    Rollback,
}

/// The transaction modes a statement gave; `None`: not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransactionModes {
    pub isolation: Option<IsolationLevel>,
    /// `READ ONLY` (`true`) or `READ WRITE`.
    pub read_only: Option<bool>,
    /// `DEFERRABLE` (`true`) or `NOT DEFERRABLE`.
    pub deferrable: Option<bool>,
}

/// A statement with the plans of its subqueries and its parameters' kinds.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub statement: Statement,
    /// The subqueries' operator trees, indexed by [`crate::expr::SubqueryId`].
    pub subqueries: Vec<Node>,
    /// The kinds inferred for `$1`, `$2`, ... (index 0 is `$1`).
    pub params: Vec<Kind>,
    /// The names and kinds of the columns it returns (empty for a statement that returns
    /// no rows): what a client is told before it runs it (the wire protocol's Describe).
    pub columns: Vec<(String, Kind)>,
}

/// The one column EXPLAIN returns, as PostgreSQL names it.
pub const EXPLAIN_COLUMN: &str = "QUERY PLAN";

impl Statement {
    /// Whether running the statement changes the schema (so plans made before it may
    /// no longer be valid).
    pub fn is_ddl(&self) -> bool {
        match self {
            Statement::Ddl(_) => true,
            Statement::Query(_)
            | Statement::Insert { .. }
            | Statement::Update { .. }
            | Statement::Delete { .. }
            | Statement::LockRows(_)
            | Statement::Copy(_)
            | Statement::Explain(..)
            | Statement::Vacuum(_) => false,
        }
    }

    /// The operator tree directly under the statement, if it has one (an EXPLAIN's is
    /// the explained statement's): the read-only counterpart of [`Statement::map_parts`]
    /// for trees.
    pub fn tree(&self) -> Option<&Node> {
        match self {
            Statement::Query(root)
            | Statement::Insert { source: root, .. }
            | Statement::Update { source: root, .. }
            | Statement::Delete { source: root, .. }
            | Statement::Copy(Copy::To { query: root, .. }) => Some(root),
            Statement::LockRows(lock) => Some(&lock.source),
            Statement::Explain(inner, _) => inner.tree(),
            Statement::Copy(Copy::From { .. }) | Statement::Ddl(_) | Statement::Vacuum(_) => None,
        }
    }

    /// The statement rebuilt with `node` applied to each operator tree directly under it
    /// and `expr` to each of its own expressions: the one rewriting walk of a statement.
    pub fn map_parts(
        self,
        node: &mut dyn FnMut(Node) -> Node,
        expr: &mut dyn FnMut(Expr) -> Expr,
    ) -> Statement {
        match self {
            Statement::Query(root) => Statement::Query(node(root)),
            Statement::Insert {
                table,
                targets,
                source,
                defaults,
                checks,
                on_conflict,
                returning,
            } => Statement::Insert {
                table,
                targets,
                source: node(source),
                defaults: defaults.into_iter().map(|(i, e)| (i, expr(e))).collect(),
                checks: map_checks(checks, expr),
                on_conflict: on_conflict.map(|on| OnConflict {
                    arbiters: on.arbiters,
                    action: on.action.map_exprs(expr),
                }),
                returning: returning.map(|r| r.map_exprs(expr)),
            },
            Statement::Update {
                table,
                source,
                assignments,
                checks,
                returning,
                recheck,
            } => Statement::Update {
                table,
                source: node(source),
                assignments: assignments.into_iter().map(|(i, e)| (i, expr(e))).collect(),
                checks: map_checks(checks, expr),
                returning: returning.map(|r| r.map_exprs(expr)),
                recheck: recheck.map(&mut *expr),
            },
            Statement::Delete {
                table,
                source,
                returning,
                recheck,
            } => Statement::Delete {
                table,
                source: node(source),
                returning: returning.map(|r| r.map_exprs(expr)),
                recheck: recheck.map(&mut *expr),
            },
            Statement::LockRows(lock) => Statement::LockRows(LockRows {
                source: node(lock.source),
                recheck: lock.recheck.map(&mut *expr),
                exprs: lock.exprs.into_iter().map(&mut *expr).collect(),
                limit: lock.limit.map(&mut *expr),
                offset: lock.offset.map(&mut *expr),
                ..lock
            }),
            Statement::Ddl(ddl) => Statement::Ddl(ddl),
            Statement::Vacuum(vacuum) => Statement::Vacuum(vacuum),
            Statement::Copy(Copy::To {
                query,
                columns,
                target,
                format,
            }) => Statement::Copy(Copy::To {
                query: node(query),
                columns,
                target,
                format,
            }),
            Statement::Copy(Copy::From {
                table,
                targets,
                defaults,
                checks,
                source,
                format,
            }) => Statement::Copy(Copy::From {
                table,
                targets,
                defaults: defaults.into_iter().map(|(i, e)| (i, expr(e))).collect(),
                checks: map_checks(checks, expr),
                source,
                format,
            }),
            Statement::Explain(inner, options) => {
                Statement::Explain(Box::new(inner.map_parts(node, expr)), options)
            }
        }
    }
}
