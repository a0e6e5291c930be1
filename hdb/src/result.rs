//! Query results: column names, rows with typed getters, rows affected — all at once
//! ([`QueryResult`]) or as the query produces them ([`Rows`]).
//!
//! `row.get::<T>(column)` takes a position or a column name and converts the value with
//! [`FromValue`]: `i64`, `i32`, `f64`, `bool`, `String`, [`Value`], and `Option<T>` of
//! each (NULL is `None`; asking for a non-`Option` type when the value is NULL is a
//! [`Error::Type`]). An integer converts to `f64`; nothing else converts implicitly.

use std::borrow::Cow;
use std::sync::Arc;

use sql_frontend::Value;

use crate::error::{Error, Result};

/// What a statement returned.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    columns: Arc<[String]>,
    rows: Vec<Row>,
    rows_affected: u64,
    tag: Cow<'static, str>,
}

impl QueryResult {
    pub(crate) fn from_output(output: sql_frontend::Output) -> QueryResult {
        let columns: Arc<[String]> = output.columns.into();
        let rows = output
            .rows
            .into_iter()
            .map(|values| Row {
                columns: Arc::clone(&columns),
                values,
            })
            .collect();
        QueryResult {
            columns,
            rows,
            rows_affected: output.rows_affected,
            tag: output.tag,
        }
    }

    /// The whole result of `rows`, pulled to their end (its column names shared, as a
    /// prepared query's are with its kept plan).
    pub(crate) fn from_rows(mut rows: sql_frontend::Rows<'_>) -> Result<QueryResult> {
        let columns = rows.shared_columns();
        let mut collected = Vec::new();
        while let Some(values) = rows.next_row()? {
            collected.push(Row {
                columns: Arc::clone(&columns),
                values,
            });
        }
        Ok(QueryResult {
            columns,
            rows: collected,
            rows_affected: rows.rows_affected(),
            tag: rows.into_tag(),
        })
    }

    /// The result's column names (empty for statements that return no rows).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The rows.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Rows inserted, updated or deleted (for a query: rows returned).
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }

    /// PostgreSQL's command tag: `SELECT 2`, `INSERT 0 1`, `UPDATE 3`, `CREATE TABLE`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The rows, owned.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let rows = db.session().execute("SELECT 1 UNION ALL SELECT 2")?.into_rows();
    /// assert_eq!(rows.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn into_rows(self) -> Vec<Row> {
        self.rows
    }
}

impl IntoIterator for QueryResult {
    type Item = Row;
    type IntoIter = std::vec::IntoIter<Row>;

    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// for row in db.session().execute("SELECT 1 AS one")? {
    ///     assert_eq!(row.get::<i64>("one")?, 1);
    /// }
    /// # Ok(()) }
    /// ```
    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}

/// A statement's rows as the query produces them: an iterator of `Result<Row>` (see
/// [`crate::Session::query_iter`]). Holds the session until dropped.
#[derive(Debug)]
pub struct Rows<'s> {
    inner: sql_frontend::Rows<'s>,
    columns: Arc<[String]>,
}

impl<'s> Rows<'s> {
    pub(crate) fn new(inner: sql_frontend::Rows<'s>) -> Rows<'s> {
        let columns = inner.shared_columns();
        Rows { inner, columns }
    }

    /// The result's column names (empty for statements that return no rows).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Rows inserted, updated or deleted, or (for a query) returned so far.
    pub fn rows_affected(&self) -> u64 {
        self.inner.rows_affected()
    }

    /// PostgreSQL's command tag; for a query, of the rows returned so far.
    pub fn tag(&self) -> String {
        self.inner.tag()
    }

    /// Rows the statement read from tables and indexes so far: how much stored data it
    /// touched (a `LIMIT 10` over a large table reads a few, not all).
    pub fn rows_read(&self) -> u64 {
        self.inner.rows_read()
    }

    /// Pulls the remaining rows and returns the whole result.
    pub fn collect_result(mut self) -> Result<QueryResult> {
        let mut rows = Vec::new();
        for row in self.by_ref() {
            rows.push(row?);
        }
        Ok(QueryResult {
            columns: Arc::clone(&self.columns),
            rows,
            rows_affected: self.rows_affected(),
            tag: self.tag().into(),
        })
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.inner.next_row() {
            Ok(Some(values)) => Some(Ok(Row {
                columns: Arc::clone(&self.columns),
                values,
            })),
            Ok(None) => None,
            Err(e) => Some(Err(e.into())),
        }
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// The value of a column (by position or name) as `T`.
    pub fn get<T: FromValue>(&self, column: impl ColumnIndex) -> Result<T> {
        let index = column.index(&self.columns)?;
        let value = self
            .values
            .get(index)
            .ok_or_else(|| Error::UnknownColumn(format!("no column {index} in the row")))?;
        T::from_value(value)
    }

    /// The row's values.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The row's values, owned.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let row = db.session().execute("SELECT 1, 'a'")?.into_rows().remove(0);
    /// assert_eq!(row.into_values(), [hdb::Value::Int(1), hdb::Value::Text("a".into())]);
    /// # Ok(()) }
    /// ```
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The names of the row's columns (the result's).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let result = db.session().execute("SELECT 1 AS a, count(*) FROM (SELECT 1) AS t")?;
    /// assert_eq!(result.rows()[0].columns(), ["a", "count"]);
    /// # Ok(()) }
    /// ```
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
}

/// A way to name a column of a row: its position or its name.
pub trait ColumnIndex {
    /// The position this names among `columns`.
    fn index(&self, columns: &[String]) -> Result<usize>;
}

impl ColumnIndex for usize {
    fn index(&self, columns: &[String]) -> Result<usize> {
        match *self < columns.len() {
            true => Ok(*self),
            false => Err(Error::UnknownColumn(format!(
                "column {self} out of range ({} columns)",
                columns.len()
            ))),
        }
    }
}

impl ColumnIndex for &str {
    fn index(&self, columns: &[String]) -> Result<usize> {
        columns
            .iter()
            .position(|c| c == self)
            .ok_or_else(|| Error::UnknownColumn(format!("column {self:?} is not in the result")))
    }
}

/// Conversion from a SQL value.
pub trait FromValue: Sized {
    /// Converts `value`, or fails with [`Error::Type`].
    fn from_value(value: &Value) -> Result<Self>;
}

fn wrong(value: &Value, wanted: &str) -> Error {
    Error::Type(format!("cannot read {value:?} as {wanted}"))
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self> {
        Ok(value.clone())
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Int(i) => Ok(*i),
            other => Err(wrong(other, "i64")),
        }
    }
}

impl FromValue for i32 {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Int(i) => i32::try_from(*i).map_err(|_| wrong(value, "i32")),
            other => Err(wrong(other, "i32")),
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Float(f) => Ok(*f),
            Value::Int(i) => Ok(*i as f64),
            other => Err(wrong(other, "f64")),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Bool(b) => Ok(*b),
            other => Err(wrong(other, "bool")),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Null => Err(wrong(value, "String")),
            Value::Text(s) => Ok(s.clone()),
            other => Ok(other.to_string()),
        }
    }
}

/// A BYTEA's bytes.
impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Bytea(b) => Ok(b.clone()),
            other => Err(wrong(other, "Vec<u8>")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}
