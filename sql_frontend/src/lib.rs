//! # sql_frontend — SQL over H
//!
//! This crate runs SQL statements against the engine (H). The life of a statement, and
//! where to read next:
//!
//! 1. **Parse** ([`bind::parse`]): the `sqlparser` crate, PostgreSQL dialect, turns the
//!    text into an AST, wrapped as an opaque [`bind::Parsed`].
//! 2. **Bind** ([`bind`], the only module that imports `sqlparser`): names are resolved
//!    against the catalog read through the current transaction (so DDL is transactional
//!    and a transaction sees its own new tables), types are checked, PostgreSQL's
//!    implicit casts applied (a string literal takes the type of the column it meets),
//!    and a [`plan::Plan`] is built: a [`plan::Statement`] (query, INSERT, UPDATE,
//!    DELETE, DDL, EXPLAIN) above logical operator trees of [`plan::Node`]s, plus the
//!    trees of the subqueries its expressions name by id. Transaction control (BEGIN,
//!    COMMIT, ROLLBACK) is recognised before binding ([`bind::control`]). Anything
//!    unsupported is [`Error::Unsupported`] naming the clause — never silently ignored.
//! 3. **Optimise** ([`optimize`]): constant folding, then join planning
//!    ([`join_planner`]: predicate pushdown, greedy join order over the relations the
//!    equalities connect, hash / index nested-loop / nested-loop joins), then
//!    access-path selection: a conjunct `col = constant`, `col IN (...)` or a range on
//!    the primary key or on a prefix of a secondary index turns `Filter(SeqScan)` into
//!    `Filter(KeyLookup)` or `Filter(IndexScan)`. `EXPLAIN` prints the result
//!    ([`plan`]'s `Display`).
//! 4. **Execute** ([`exec`]): pull-based operators (state machines pulled with an
//!    [`exec::ExecContext`] carrying the transaction, the parameters and the outer rows
//!    of correlated subqueries) inside one engine `Transaction`; writes go through the engine's table API, which keeps indexes in
//!    step and enforces NOT NULL, UNIQUE and PRIMARY KEY.
//! 5. **Session** ([`session`]): owns the transaction state — autocommit (each
//!    statement its own READ COMMITTED transaction) or `BEGIN [ISOLATION LEVEL ...]` …
//!    `COMMIT`/`ROLLBACK`, with PostgreSQL's rule that an error aborts an explicit
//!    transaction until ROLLBACK; prepared statements with `$n` parameters.
//!
//! Supporting modules: [`types`] (SQL types over engine column types, assignment
//! casts), [`value`] (SQL values and three-valued logic), [`expr`] (bound expressions and
//! their evaluation), [`catalog`] (SQL types and defaults kept beside the engine's
//! catalog), [`datetime`] (DATE and TIMESTAMP text), [`interval`] (INTERVAL and date
//! arithmetic), [`cast`] (CAST and `::`), [`like`] (LIKE/ILIKE), [`functions`] (scalar
//! functions), [`error`].
//!
//! ## Supported now
//!
//! CREATE TABLE (BOOLEAN, SMALLINT, INTEGER, BIGINT, REAL, DOUBLE PRECISION, TEXT,
//! VARCHAR(n), DATE, TIMESTAMP; PRIMARY KEY inline or composite; NOT NULL; UNIQUE as a
//! unique index; DEFAULT constant), DROP TABLE [IF EXISTS], CREATE [UNIQUE] INDEX,
//! DROP INDEX, INSERT ... VALUES / SELECT, SELECT with WHERE; FROM with tables,
//! aliases, derived tables, comma lists, [INNER] JOIN ... ON/USING, LEFT [OUTER] JOIN,
//! CROSS JOIN; GROUP BY (expressions, ordinals, aliases), HAVING, count(*), count,
//! count(DISTINCT), sum, avg, min, max; SELECT DISTINCT; UNION / EXCEPT / INTERSECT
//! [ALL]; scalar, EXISTS and [NOT] IN subqueries, correlated or not; ORDER BY (ASC/DESC, NULLS FIRST/LAST, alias, ordinal), LIMIT/OFFSET, UPDATE, DELETE,
//! BEGIN/START TRANSACTION [ISOLATION LEVEL READ COMMITTED | REPEATABLE READ], COMMIT,
//! ROLLBACK, EXPLAIN. Expressions: arithmetic, comparisons, AND/OR/NOT, IS [NOT] NULL,
//! [NOT] BETWEEN, [NOT] IN (list), `||`, `$n` parameters, DATE '...' literals, CASE
//! (simple and searched), CAST and `::`, [NOT] LIKE / ILIKE [ESCAPE], COALESCE, NULLIF,
//! lower, upper, length, substr/substring, trim/btrim/ltrim/rtrim, abs, round, now(),
//! CURRENT_DATE, CURRENT_TIMESTAMP, INTERVAL literals and date/timestamp ± interval.
//! CREATE [OR REPLACE] FUNCTION ... RETURNS TABLE(...) (plpgsql `BEGIN RETURN QUERY
//! <select>; END;` or a SQL SELECT), DROP FUNCTION, calls in FROM (`bind/routine.rs`).
//!
//! ## Not yet (each returns `Unsupported`)
//!
//! INTERVAL columns, functions other than RETURNS TABLE(...) with one query as body,
//! SERIALIZABLE, RIGHT/FULL/NATURAL joins, LATERAL, WITH, window functions, DISTINCT ON.
#![forbid(unsafe_code)]

pub mod bind;
pub mod cast;
pub mod catalog;
pub mod datetime;
pub mod error;
pub mod exec;
pub mod expr;
pub mod functions;
pub mod generation;
pub mod interval;
pub mod join_planner;
pub mod like;
pub mod operators;
pub mod optimize;
pub mod plan;
pub mod session;
pub mod types;
pub mod value;

pub use error::{Error, Result};
pub use exec::Output;
pub use session::{Prepared, Session};
pub use types::SqlType;
pub use value::Value;

/// The highest parameter number (`$n`) a statement may use.
pub const MAX_PARAMS: usize = 65_535;
