//! # exec — running a physical plan inside one engine transaction
//!
//! Row-producing nodes are pull-based operators: [`rows::open`] turns a plan node into
//! an iterator of rows, opening its source first, and the caller pulls. Each row carries
//! the primary key it was read under (empty once projected), which is how UPDATE and
//! DELETE find the rows to change. Scans read through the transaction, so they see its
//! snapshot and its own writes; only the leaf scan borrows the transaction.
//!
//! DML ([`write`]) first collects the rows to change, then writes them (so an UPDATE
//! never sees its own new rows — the "Halloween problem"), each write going through the
//! engine's table API, which keeps indexes in step and enforces constraints atomically
//! per row. DDL goes to the SQL catalog (`catalog.rs`) and the engine's catalog.
//!
//! Sort materialises its input; everything else streams (an index scan over several
//! ranges, from an IN list, reads its ranges one after another into memory).

mod rows;
mod write;

use engine::Transaction;

use crate::error::Result;
use crate::plan::Plan;
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
    match plan {
        Plan::Insert { .. } | Plan::Update { .. } | Plan::Delete { .. } => {
            write::dml(txn, plan, params)
        }
        Plan::CreateTable { .. }
        | Plan::DropTable { .. }
        | Plan::CreateIndex { .. }
        | Plan::DropIndex { .. } => write::ddl(txn, plan),
        query => {
            let columns = query.columns();
            let rows = open(txn, query, params)?
                .map(|row| row.map(|(_, values)| values))
                .collect::<Result<Vec<_>>>()?;
            let count = rows.len() as u64;
            Ok(Output {
                columns,
                rows,
                rows_affected: count,
                tag: format!("SELECT {count}"),
            })
        }
    }
}

/// The lines EXPLAIN returns for `plan`.
pub fn explain(plan: &Plan) -> Output {
    let rows: Vec<Vec<Value>> = plan
        .to_string()
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
