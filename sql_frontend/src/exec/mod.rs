//! # exec — running a physical plan inside one engine transaction
//!
//! Row-producing nodes are pull-based operators ([`operator`]): [`rows::open`] turns a
//! plan node into a state machine whose `next` takes the [`ExecContext`] (transaction,
//! parameters, outer rows of correlated subqueries), opening its sources first, and the
//! caller pulls. Each row carries the primary key it was read under (empty once
//! projected or joined), which is how UPDATE and DELETE find the rows to change. Scans
//! read through the transaction, so they see its snapshot and its own writes.
//!
//! Operators by file: [`rows`] (scans, Filter, Project, Sort, Limit, Values), [`join`]
//! (nested loop, hash, index nested loop), [`aggregate`] (HashAggregate, Distinct),
//! [`set_operation`] (UNION/EXCEPT/INTERSECT), [`subquery`] (subquery expressions).
//!
//! DML ([`write`]) first collects the rows to change, then writes them (so an UPDATE
//! never sees its own new rows — the "Halloween problem"), each write going through the
//! engine's table API, which keeps indexes in step and enforces constraints atomically
//! per row. DDL goes to the SQL catalog (`catalog.rs`) and the engine's catalog.
//!
//! Sort, HashAggregate and the build sides of joins and EXCEPT/INTERSECT materialise
//! their input; everything else streams (a secondary-index scan reads one range at a
//! time into memory).

mod aggregate;
mod context;
mod join;
mod operator;
mod rows;
mod set_operation;
pub mod subquery;
mod write;

use engine::Transaction;

pub use context::ExecContext;
pub use operator::{BoxedOperator, KeyedRow, Operator};

use crate::error::Result;
use crate::plan::{Plan, Statement};
use crate::value::Value;

pub use rows::open;

/// What running a statement produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Output {
    /// Names of the result columns (empty for statements that return no rows).
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// Rows inserted, updated or deleted (or returned, for a query).
    pub rows_affected: u64,
    /// PostgreSQL's command tag: `SELECT 2`, `INSERT 0 1`, `CREATE TABLE`, ...
    pub tag: String,
}

impl Output {
    /// An output with only a command tag.
    pub fn tag(tag: impl Into<String>) -> Output {
        Output {
            tag: tag.into(),
            ..Output::default()
        }
    }
}

/// Runs `plan` in `txn` with parameter values `params` (already cast to their kinds).
pub fn execute(txn: &mut Transaction, plan: &Plan, params: &[Value]) -> Result<Output> {
    match &plan.statement {
        Statement::Query(root) => {
            let columns = root.columns();
            let mut ctx = ExecContext::new(txn, params, &plan.subqueries);
            let mut op = open(root, &mut ctx)?;
            let mut rows = Vec::new();
            while let Some((_, values)) = op.next(&mut ctx)? {
                rows.push(values);
            }
            let count = rows.len() as u64;
            Ok(Output {
                columns,
                rows,
                rows_affected: count,
                tag: format!("SELECT {count}"),
            })
        }
        Statement::Insert { .. } | Statement::Update { .. } | Statement::Delete { .. } => {
            write::dml(txn, plan, params)
        }
        Statement::Ddl(ddl) => write::ddl(txn, ddl),
        Statement::Explain(_) => Ok(explain(plan)),
    }
}

/// The lines EXPLAIN returns for `plan` (of an `Explain` statement: the plan of the
/// statement it explains).
pub fn explain(plan: &Plan) -> Output {
    let rows: Vec<Vec<Value>> = plan
        .explain()
        .lines()
        .map(|line| vec![Value::Text(line.to_string())])
        .collect();
    Output {
        columns: vec!["QUERY PLAN".to_string()],
        rows_affected: rows.len() as u64,
        rows,
        tag: "EXPLAIN".to_string(),
    }
}
