//! One sqllogictest connection: an [`hdb::Session`](hdb::Session) behind the
//! `sqllogictest` crate's [`DB`] trait, and the rendering of values as the test files
//! expect them.
//!
//! A statement that returns columns (a query, EXPLAIN) is reported as rows; anything
//! else as "statement complete" with its rows affected, so `statement count N` checks
//! INSERT / UPDATE / DELETE counts.
//!
//! An error reads as psql prints it: the message, then `DETAIL:  ...` on a line of its
//! own where there is one (the key of a uniqueness error), so a file can check both
//! (`statement error (?s)duplicate key value.*Key \(id\)=\(1\)`); the runner also sees
//! its SQLSTATE (`statement error (23505)`).
//!
//! Rendering (the database never sees the expected type letters, so it is ours to do;
//! a SQLite-format file's values are rendered by its records' letters instead, see
//! `sqlite_render.rs`): NULL is `NULL`; the empty string is `(empty)`; integers in decimal; floating-point
//! values with three decimals (`2.500`), as SQLite's runner prints `R` columns; NUMERIC
//! exactly as PostgreSQL prints it, scale included (`2.5000000000000000`);
//! booleans as PostgreSQL prints them, `t` and `f`; dates `YYYY-MM-DD`; timestamps
//! `YYYY-MM-DD HH:MM:SS[.ffffff]`; other text as is.
//!
//! Each result column gets one type letter (needed because hashing counts
//! `rows × columns`): from the first non-NULL value in the column, `I` for integers,
//! `R` for floating point, `T` for text, `?` for anything else or an all-NULL column.
//! The runner does not compare these letters with the file's (the crate's default),
//! since the SQL layer does not yet report static result types.

use sqllogictest::{DB, DBOutput, DefaultColumnType};

use std::fmt;

use hdb::{Session, Value};

/// A statement's error as a script sees it (see the module documentation).
#[derive(Debug)]
pub struct StatementError(pub hdb::Error);

impl fmt::Display for StatementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        match self.0.detail() {
            Some(detail) => write!(f, "\nDETAIL:  {detail}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for StatementError {}

/// A session seen by the sqllogictest runner.
#[derive(Debug)]
pub struct SltConnection {
    session: Session,
}

impl SltConnection {
    /// Wraps a session.
    pub fn new(session: Session) -> SltConnection {
        SltConnection { session }
    }
}

impl DB for SltConnection {
    type Error = StatementError;
    type ColumnType = DefaultColumnType;

    fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, StatementError> {
        let result = self.session.execute(sql).map_err(StatementError)?;
        if result.columns().is_empty() {
            return Ok(DBOutput::StatementComplete(result.rows_affected()));
        }
        let rows: Vec<&[Value]> = result.rows().iter().map(|row| row.values()).collect();
        Ok(output(result.columns().len(), &rows))
    }

    fn engine_name(&self) -> &str {
        "hdb"
    }

    fn error_sql_state(err: &StatementError) -> Option<String> {
        Some(err.0.sqlstate().to_owned())
    }
}

/// `rows` of `width` columns as the runner sees them: rendered, with a type letter per
/// column (the wire connections in `wire.rs` report their rows through this too).
pub(super) fn output<R: AsRef<[Value]>>(width: usize, rows: &[R]) -> DBOutput<DefaultColumnType> {
    let types = (0..width)
        .map(|column| column_type(rows.iter().filter_map(|row| row.as_ref().get(column))))
        .collect();
    let rows = rows
        .iter()
        .map(|row| super::sqlite_render::render_row(row.as_ref()))
        .collect();
    DBOutput::Rows { types, rows }
}

/// The type letter of a column holding `values`.
fn column_type<'a>(mut values: impl Iterator<Item = &'a Value>) -> DefaultColumnType {
    match values.find(|v| !matches!(v, Value::Null)) {
        Some(Value::Int(_)) => DefaultColumnType::Integer,
        Some(Value::Float(_) | Value::Numeric(_)) => DefaultColumnType::FloatingPoint,
        Some(Value::Text(_)) => DefaultColumnType::Text,
        _ => DefaultColumnType::Any,
    }
}

/// A value as sqllogictest files spell it (see the module documentation).
pub fn render(value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_string(),
        Value::Text(s) if s.is_empty() => "(empty)".to_string(),
        Value::Float(x) if x.is_finite() => format!("{x:.3}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_as_sqllogictest_expects() {
        assert_eq!(render(&Value::Null), "NULL");
        assert_eq!(render(&Value::Text(String::new())), "(empty)");
        assert_eq!(render(&Value::Text("a b".into())), "a b");
        assert_eq!(render(&Value::Int(-42)), "-42");
        assert_eq!(render(&Value::Float(2.5)), "2.500");
        assert_eq!(render(&Value::Float(1.0 / 3.0)), "0.333");
        assert_eq!(render(&Value::Float(f64::INFINITY)), "Infinity");
        assert_eq!(render(&Value::Bool(true)), "t");
        assert_eq!(render(&Value::Bool(false)), "f");
        assert_eq!(render(&Value::Date(0)), "1970-01-01");
    }

    #[test]
    fn column_type_from_first_non_null() {
        let values = [Value::Null, Value::Float(1.0), Value::Int(2)];
        assert_eq!(column_type(values.iter()), DefaultColumnType::FloatingPoint);
        assert_eq!(column_type([Value::Null].iter()), DefaultColumnType::Any);
        assert_eq!(column_type([].iter()), DefaultColumnType::Any);
    }
}
