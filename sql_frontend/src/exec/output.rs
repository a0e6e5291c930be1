//! What running a statement produced: [`Output`].

use crate::value::Value;

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
