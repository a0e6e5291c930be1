//! # sql_frontend — SQL over H
//!
//! This crate runs SQL statements against the engine (H). The life of a statement, and
//! where to read next:
//!
//! 1. **Parse** ([`bind::parse`]): the `sqlparser` crate, PostgreSQL dialect, turns the
//!    text into an AST, wrapped as an opaque [`bind::Parsed`]. Transaction control
//!    (BEGIN, COMMIT, ROLLBACK) is recognised here ([`bind::control`] gives a
//!    [`plan::TransactionControl`]) and handled by the session before anything is bound,
//!    since it decides which transaction the other statements run in.
//! 2. **Bind** ([`bind`], the only module that imports `sqlparser`): names are resolved
//!    against the catalog read through the current transaction (so DDL is transactional
//!    and a transaction sees its own new tables), types are checked, PostgreSQL's
//!    implicit casts applied (a string literal takes the type of the column it meets).
//!    The result is a [`plan::Plan`]: a [`plan::Statement`] — a query, INSERT, UPDATE,
//!    DELETE, DDL ([`plan::Ddl`]) or EXPLAIN — above logical operator trees of
//!    [`plan::Node`]s (reads as `SeqScan` + `Filter`, joins as written), the trees of
//!    the subqueries its expressions name by [`expr::SubqueryId`], and the kinds of its
//!    `$n` parameters. Expressions ([`expr::Expr`]) and plans are data: nothing in
//!    `plan` or `expr` evaluates. Anything unsupported is [`Error::Unsupported`] naming
//!    the clause — never silently ignored. Names in pg_catalog and information_schema
//!    resolve to system relations ([`system`]), read-only and computed when scanned.
//! 3. **Optimise** ([`optimize`]): an ordered list of named passes
//!    ([`optimize::PASSES`]: fold constants, join order, merge projections, access
//!    paths, eager aggregation, index-only scans, parallel aggregation), each a function
//!    from operator tree to operator tree, run over every tree
//!    of the plan. Their choices follow the cost model ([`cost`]: selectivity and cost
//!    estimates from the statistics ANALYZE keeps, [`statistics`], which the binder
//!    attaches to each table it reads). `EXPLAIN` prints the result with the estimates
//!    (`plan/display.rs`, `exec/explain.rs`); `EXPLAIN ANALYZE` runs it too.
//! 4. **Execute** ([`exec`]): [`exec::build`] turns an operator tree into pull-based
//!    operators (one file per operator; inputs built first and handed in), pulled a
//!    row or a batch of rows at a time ([`exec::RowBatch`]) with
//!    an [`exec::ExecContext`] carrying the transaction, the parameters, the subquery
//!    plans with the builder to run them, the outer rows of correlated subqueries, and
//!    the session's sequences (for nextval and its kin, `exec/sequence.rs`);
//!    [`exec::eval`] evaluates expressions, with SQL's operators in [`operators`].
//!    A Gather runs its aggregate on several threads at once, each over parts of the
//!    driving table, and merges their groups (`exec/gather.rs`).
//!    INSERT, UPDATE and DELETE collect their rows, then write through the engine's
//!    table API, which keeps indexes in step and enforces NOT NULL, UNIQUE and PRIMARY
//!    KEY; CHECK is evaluated here, and FOREIGN KEY enforced here with row locks
//!    (`exec/references.rs`: KEY SHARE on the referenced row). DDL goes to the SQL and
//!    engine catalogs; ALTER TABLE's actions that reach rows (ADD / DROP COLUMN, TYPE,
//!    ADD CHECK) are in `exec/alter.rs` over `engine::table::alter`.
//! 5. **Session** ([`session`]): owns the transaction state — autocommit (each
//!    statement its own READ COMMITTED transaction) or `BEGIN [ISOLATION LEVEL ...]` …
//!    `COMMIT`/`ROLLBACK`, with PostgreSQL's rule that an error aborts an explicit
//!    transaction until ROLLBACK; prepared statements with `$n` parameters, their plans
//!    kept until the catalog changes. A query's result is a [`Rows`] that pulls the
//!    operator tree as the caller asks for rows, inside the statement's transaction,
//!    and ends the statement when the rows run out, fail, or it is dropped. `SET`,
//!    `RESET` and `SHOW` of the session's settings (`statement_timeout`,
//!    `lock_timeout`, `deadlock_timeout`, and the planner's `enable_seqscan` /
//!    `enable_indexscan` / `enable_indexonlyscan`) are carried out by the session too (`bind/setting.rs`); it
//!    counts the rows its transactions change and analyses a table that changed enough
//!    after the commit (`session/analyze.rs`); each statement's
//!    [`exec::ExecContext`] carries an interrupt (the session's [`CancelHandle`] and
//!    the timeout's deadline, `exec/interrupt.rs`) that the operators' loops look at,
//!    so a statement can be cancelled from another thread or time out with SQLSTATE
//!    57014 and end like any failed statement.
//!
//! ## Imports point one way
//!
//! `session -> bind -> optimize -> exec -> cost -> plan -> expr`, and all of them down
//! to the value-level modules: [`operators`], [`functions`], [`cast`], [`like`],
//! [`types`], [`value`], [`numeric`], [`interval`], [`datetime`], [`bytea`], [`uuid`],
//! [`catalog`], [`system`], [`statistics`], [`error`]. No module imports one
//! above it, and inside `exec/`, `optimize/` and `plan/` no file imports another that
//! imports it back (the module roots — the executor's builder, the optimiser's pass
//! list — import their files, never the reverse). `tests/module_graph.rs` checks this:
//! it reads `src/`, resolves every `crate::`, `super::` and `self::` path to its module
//! and fails on a cycle, printing it with file and line (`cargo test -p sql_frontend
//! --test module_graph`, run by CI; `HDB_PRINT_MODULE_GRAPH=1` prints the graph).
//! Where a lower layer must run something from a higher one — evaluating a subquery
//! runs a plan — the higher layer passes it down as a function ([`exec::Builder`]).
//!
//! Supporting modules: [`types`] (SQL types over engine column types, assignment
//! casts), [`value`] (SQL values and three-valued logic), [`operators`] (SQL's operators
//! on values), [`catalog`] (SQL types and defaults kept beside the engine's catalog),
//! [`numeric`] (NUMERIC arithmetic with PostgreSQL's scales, rounding, conversions),
//! [`datetime`] (DATE and TIMESTAMP text), [`interval`] (INTERVAL and date arithmetic),
//! [`bytea`] (BYTEA text forms), [`uuid`] (UUID text forms and `gen_random_uuid`),
//! [`cast`] (CAST and `::`), [`like`] (LIKE/ILIKE), [`functions`] (scalar functions),
//! [`generation`] (the catalog generation prepared plans are labelled with),
//! [`system`] (PostgreSQL's catalog relations, computed from H's catalog),
//! [`view_catalog`] (views and what they depend on), [`sequence`] (sequences: values
//! that never roll back), [`shared`] (what sessions of one database share),
//! [`statistics`] (ANALYZE's
//! statistics, kept in the catalog), [`cost`] (the cost model),
//! [`stack`] (statements of any depth without a stack overflow: depth limits, and the
//! stack each stage needs), [`error`].
//!
//! ## Supported now
//!
//! CREATE TABLE (BOOLEAN, SMALLINT, INTEGER, BIGINT, REAL, DOUBLE PRECISION, TEXT,
//! VARCHAR(n), CHAR(n), DATE, TIMESTAMP, INTERVAL, BYTEA ([`bytea`]), UUID ([`uuid`]);
//! PRIMARY KEY inline or composite; NOT NULL; UNIQUE as a
//! unique index; DEFAULT, a constant or an expression computed per row such as now()
//! or nextval(); SERIAL, BIGSERIAL, SMALLSERIAL; GENERATED {ALWAYS | BY DEFAULT} AS
//! IDENTITY), DEFAULT and DEFAULT VALUES in INSERT, `SET c = DEFAULT`, OVERRIDING
//! {SYSTEM | USER} VALUE, CREATE SEQUENCE, DROP SEQUENCE, nextval, currval, setval,
//! lastval ([`sequence`]), DROP TABLE [IF EXISTS], CREATE [UNIQUE] INDEX,
//! DROP INDEX, INSERT ... VALUES / SELECT, SELECT with WHERE; FROM with tables,
//! aliases, derived tables, comma lists, [INNER] JOIN, LEFT / RIGHT / FULL [OUTER] JOIN
//! (ON, USING, NATURAL; a FULL JOIN's ON needs an equality between its sides, as in
//! PostgreSQL), CROSS JOIN, LATERAL subqueries and function calls in FROM (reading the
//! comma items before them or their join's left side: `bind/from.rs`,
//! `exec/lateral.rs`); GROUP BY (expressions, ordinals, aliases), HAVING, count(*), count,
//! count(DISTINCT), sum, avg, min, max; SELECT DISTINCT [ON (...)]; UNION / EXCEPT / INTERSECT
//! [ALL]; scalar, EXISTS and [NOT] IN subqueries, correlated or not; ORDER BY (ASC/DESC, NULLS FIRST/LAST, alias, ordinal), LIMIT/OFFSET, UPDATE, DELETE,
//! BEGIN/START TRANSACTION [ISOLATION LEVEL READ COMMITTED | REPEATABLE READ], COMMIT,
//! ROLLBACK, EXPLAIN [ANALYZE] [(FORMAT JSON, COSTS OFF)], ANALYZE, SET/RESET/SHOW
//! statement_timeout, lock_timeout, deadlock_timeout, enable_seqscan,
//! enable_indexscan and enable_indexonlyscan, SELECT ... FOR UPDATE | NO KEY UPDATE | SHARE | KEY SHARE [NOWAIT |
//! SKIP LOCKED] over one table (`bind/locking.rs`). Expressions: arithmetic, comparisons, AND/OR/NOT, IS [NOT] NULL,
//! [NOT] BETWEEN, [NOT] IN (list), `||`, `$n` parameters, DATE '...' literals, CASE
//! (simple and searched), CAST and `::`, [NOT] LIKE / ILIKE [ESCAPE], COALESCE, NULLIF,
//! lower, upper, length, substr/substring, trim/btrim/ltrim/rtrim, abs, round, now(),
//! CURRENT_DATE, CURRENT_TIMESTAMP, INTERVAL literals and date/timestamp ± interval.
//! CREATE [OR REPLACE] FUNCTION ... RETURNS TABLE(...) (plpgsql `BEGIN RETURN QUERY
//! <select>; END;` or a SQL SELECT), DROP FUNCTION, calls in FROM (`bind/routine.rs`).
//! CREATE [OR REPLACE] VIEW [(columns)], DROP VIEW [IF EXISTS] [CASCADE | RESTRICT]
//! (views stored in [`view_catalog`], expanded at bind time: `bind/view.rs`; DROP
//! TABLE refuses a table a view needs unless CASCADE). WITH and WITH RECURSIVE
//! (`bind/cte.rs`, `exec/cte.rs`), `generate_series` in FROM (`bind/series.rs`,
//! `exec/series.rs`), window functions with PARTITION BY, ORDER BY, frames (with
//! EXCLUDE: `bind/frame_exclusion.rs`) and WINDOW clauses (`bind/window.rs`,
//! `exec/window.rs`). PostgreSQL's catalog as read-only system relations
//! ([`system`]: pg_class, pg_namespace, pg_attribute, pg_type, pg_index, pg_constraint,
//! pg_database, pg_settings, pg_tables, pg_indexes, information_schema's tables,
//! columns, table_constraints ...; planned as a `SystemScan`, `exec/system_scan.rs`)
//! with the catalog functions (`pg_get_indexdef`, `pg_get_constraintdef`,
//! `format_type`, `pg_table_is_visible`, `::regclass`), the session's identity
//! (`current_user`, `current_database()`, `current_schema`, `version()`:
//! `bind/system.rs`), the `~`, `~*`, `!~`, `!~*` operators (also as
//! `OPERATOR(pg_catalog.~)`) and `COLLATE` of the byte-order collations (`default`,
//! `C`, `POSIX`).
//!
//! ## Not yet (each returns `Unsupported`)
//!
//! Functions other than RETURNS TABLE(...) with one query as body,
//! USING/NATURAL with a LATERAL join, WITH ORDINALITY, writes to views,
//! materialized or temporary views, DISTINCT on window calls, a view whose query has
//! an EXCLUDE in a window frame, a WITH query that reads an enclosing query's columns named inside a
//! deeper subquery. (A LATERAL item inside a join tree that names the comma items
//! before that tree is an unknown-column error, not `Unsupported`.)
#![forbid(unsafe_code)]

pub mod bind;
pub mod bytea;
pub mod cast;
pub mod catalog;
#[cfg(feature = "chrono")]
pub mod chrono;
pub mod copy_format;
pub mod cost;
pub mod datetime;
pub mod error;
pub mod exec;
pub mod expr;
pub mod foreign_key;
pub mod functions;
pub mod generation;
pub mod interval;
pub mod like;
pub mod numeric;
pub mod operators;
pub mod optimize;
pub mod plan;
pub mod sequence;
pub mod session;
pub mod shared;
pub mod stack;
pub mod statistics;
pub mod system;
pub mod types;
pub mod uuid;
pub mod value;
pub mod view_catalog;

pub use error::{Cancel, Error, Result};
pub use exec::{CancelHandle, Output};
pub use session::{Description, Prepared, Rows, Session, TransactionState};
pub use types::SqlType;
pub use value::Value;

/// The highest parameter number (`$n`) a statement may use.
pub const MAX_PARAMS: usize = 65_535;
