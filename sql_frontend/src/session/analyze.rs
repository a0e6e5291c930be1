//! The session's part in statistics: counting the rows its transactions change, and
//! the automatic analyze those counts call for (`statistics/changes.rs`).
//!
//! A write statement adds its rows to the open transaction's counts; a commit hands
//! them to the database's [`ChangeCounts`] and analyses, each in a transaction of its
//! own, the tables that became due. An automatic analyze that fails (the table was
//! dropped meanwhile, another transaction writes its statistics at the same time) is
//! given up: statistics are hints, and the next commit that finds the table due tries
//! again. Statistics that changed much make prepared plans stale, like DDL.

use std::collections::HashMap;

use engine::{IsolationLevel, Transaction};

use super::Connection;
use crate::error::Result;
use crate::exec::{self, Analyzed};
use crate::plan::{Copy, Statement};
use crate::statistics::changes::ChangeCounts;
use crate::statistics::store;

/// Rows changed per table by the open transaction. Hashed with foldhash: every write
/// statement looks its table up here, and SipHash cost a one-row INSERT more than the
/// rest of its bookkeeping.
pub(super) type PendingChanges = HashMap<String, u64, foldhash::fast::RandomState>;

/// The rows an automatic analyze is to look at: all of a table's columns.
fn all_columns(table: &str) -> Vec<(String, Vec<usize>)> {
    vec![(table.to_string(), Vec::new())]
}

impl Connection {
    /// Counts the rows a successful write `statement` changed, for the open
    /// transaction.
    pub(super) fn note_written(&mut self, statement: &Statement, rows: u64) {
        let table = match statement {
            Statement::Insert { table, .. }
            | Statement::Update { table, .. }
            | Statement::Delete { table, .. }
            | Statement::Copy(Copy::From { table, .. }) => table.name(),
            Statement::Query(_)
            | Statement::LockRows(_)
            | Statement::Copy(Copy::To { .. })
            | Statement::Ddl(_)
            | Statement::Explain(..)
            | Statement::Vacuum(_) => return,
        };
        if rows == 0 {
            return;
        }
        // Looked up by name first: a load's many one-row statements allocate nothing.
        match self.pending_changes.get_mut(table) {
            Some(count) => *count += rows,
            None => {
                self.pending_changes.insert(table.to_string(), rows);
            }
        }
    }

    /// Bookkeeping after an ANALYZE: its tables' counts restart, and statistics that
    /// changed much make prepared plans stale, like DDL (and, like DDL's, only once its
    /// transaction ends for others).
    pub(super) fn note_analyzed(&mut self, analyzed: &Analyzed) {
        for (table, rows) in &analyzed.tables {
            self.changes.analyzed(table, *rows);
        }
        if analyzed.replan {
            self.ddl_in_transaction = true;
            self.generation.bump();
        }
    }

    /// After a commit: the transaction's counts go to the database's, and the tables
    /// they make due are analysed.
    pub(super) fn committed_changes(&mut self) {
        if self.pending_changes.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending_changes);
        for (table, known) in self.changes.add(&pending) {
            self.auto_analyze(&table, known);
        }
    }

    /// Analyses `table` in a transaction of its own, if it is still due (`known`: its
    /// rows at the last analyze, if the counts know them).
    fn auto_analyze(&mut self, table: &str, known: Option<f64>) {
        let mut txn = self.db.begin(IsolationLevel::ReadCommitted);
        let outcome = analyze_if_due(&mut txn, &self.changes, table, known);
        txn.end_statement();
        let Ok(Some(analyzed)) = outcome else {
            txn.rollback();
            return;
        };
        if txn.commit().is_ok() {
            for (table, rows) in &analyzed.tables {
                self.changes.analyzed(table, *rows);
            }
            if analyzed.replan {
                self.generation.bump();
            }
        }
    }
}

fn analyze_if_due(
    txn: &mut Transaction,
    changes: &ChangeCounts,
    table: &str,
    known: Option<f64>,
) -> Result<Option<Analyzed>> {
    txn.begin_statement()?;
    if crate::catalog::find_table(txn, table)?.is_none() {
        return Ok(None);
    }
    if known.is_none()
        && let Some(stats) = store::load(txn, table)?
        && !changes.observed(table, stats.rows)
    {
        return Ok(None);
    }
    exec::analyze(txn, &all_columns(table)).map(Some)
}
