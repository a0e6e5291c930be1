//! # plan — what a statement does, as data
//!
//! The binder builds a [`Plan`]: a [`Statement`] (a query, INSERT, UPDATE, DELETE, DDL or
//! EXPLAIN), the operator trees of the subqueries its expressions use, and the kinds of
//! its `$n` parameters. Below a statement, rows come from an operator tree of [`Node`]s
//! (scans, Filter, Project, Sort, Limit, joins, aggregates, set operations, Values). The
//! binder's trees are logical (reads are `SeqScan` + `Filter`, joins are nested loops as
//! written); the optimiser rewrites them into physical ones (key lookups, index scans,
//! hash joins, a join order); the executor runs them. Tables are carried as
//! [`crate::catalog::TableInfo`] as they were when bound, which is what lets a prepared
//! statement check that its plan is still valid.
//!
//! A plan is plain data: nothing here evaluates or runs anything. Files: `statement.rs`
//! (statements, DDL, transaction control, the plan), `node.rs` (the operator tree and its
//! two walks), `calls.rs` (sort keys, aggregate calls), `window.rs` (window calls),
//! `needs.rs` (which columns each node reads, for column pruning), `display.rs` (the
//! indented tree EXPLAIN prints, which tests compare with).

mod calls;
mod display;
mod needs;
mod node;
mod statement;
mod window;

pub use calls::{AggregateCall, AggregateFunction, SortKey};
pub use display::INDENT;
pub use needs::{ColumnNeeds, PlanNeeds, all_needed};
pub use node::{JoinKind, Node, Parts, ScanRange, SetOperator};
pub use statement::{
    AddColumn, AlterColumnType, Arbiter, Check, ConflictAction, ConstraintKind, Copy, CopyEndpoint,
    Ddl, EXPLAIN_COLUMN, ExplainOptions, LockRows, OnConflict, Plan, Returning, Statement,
    TransactionControl, TransactionModes, Vacuum,
};
pub use window::{FrameBound, FrameExclusion, FrameUnits, WindowCall, WindowFrame, WindowFunction};

#[cfg(test)]
pub(crate) use display::tests;
