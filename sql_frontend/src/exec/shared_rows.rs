//! Rows that operators of one statement share through the [`super::ExecContext`]: the
//! rows of WITH queries computed once, and the working tables of recursive queries
//! (`cte.rs` explains both).

use std::sync::Arc;

use crate::expr::SubqueryId;
use crate::value::Value;

/// A set of rows shared by the operators that read it.
pub type SharedRowSet = Arc<[Vec<Value>]>;

/// The rows of WITH queries computed so far, by subquery id, and the current working
/// table of each recursive query, by its id.
#[derive(Debug, Default)]
pub struct SharedRows {
    ctes: Vec<Option<SharedRowSet>>,
    work_tables: Vec<Option<SharedRowSet>>,
}

fn slot(slots: &mut Vec<Option<SharedRowSet>>, index: usize) -> &mut Option<SharedRowSet> {
    if slots.len() <= index {
        slots.resize(index + 1, None);
    }
    &mut slots[index]
}

impl SharedRows {
    /// The rows of WITH query `id`, if computed.
    pub fn cte(&self, id: SubqueryId) -> Option<SharedRowSet> {
        self.ctes.get(id.0).cloned().flatten()
    }

    /// Keeps the rows of WITH query `id`.
    pub fn set_cte(&mut self, id: SubqueryId, rows: SharedRowSet) {
        *slot(&mut self.ctes, id.0) = Some(rows);
    }

    /// The current working table of recursive query `id`, if it has one.
    pub fn work_table(&self, id: usize) -> Option<SharedRowSet> {
        self.work_tables.get(id).cloned().flatten()
    }

    /// Makes `rows` the working table of recursive query `id`.
    pub fn set_work_table(&mut self, id: usize, rows: SharedRowSet) {
        *slot(&mut self.work_tables, id) = Some(rows);
    }
}
