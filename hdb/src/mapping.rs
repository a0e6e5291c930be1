//! Rows into Rust values: [`Session::query_row`], [`Session::query_map`],
//! [`Session::query_as`], the [`FromRow`] trait and the [`from_row!`](crate::from_row)
//! macro.
//!
//! A closure maps one [`Row`] at a time (`|row| row.get("name")`), as with rusqlite; or a
//! type says how it is read from a row by implementing [`FromRow`]: tuples of
//! [`FromValue`](crate::FromValue) types read the columns by position (the row must have
//! exactly as many columns), and `hdb::from_row!(User { id, name })` implements it for a
//! struct by reading each field from the column of the same name.
//!
//! [`MappedRows`] is an iterator over the mapped rows as the query produces them (it
//! wraps [`Rows`]): each row is mapped when it is pulled, so a large result is never
//! held in memory, and dropping the iterator half-read ends the query there.
//! [`Session::query_row`] reads only the first row.

use sql_frontend::Value;

use crate::database::Session;
use crate::error::{Error, Result};
use crate::result::{FromValue, Row, Rows};

/// A type that can be read from a whole result row.
///
/// ```
/// # fn main() -> hdb::Result<()> {
/// use hdb::FromRow;
/// let db = hdb::Database::open_in_memory()?;
/// let mut session = db.session();
/// let result = session.execute("SELECT 1, 'one', NULL")?;
/// let (n, name, nothing) = <(i64, String, Option<f64>)>::from_row(&result.rows()[0])?;
/// assert_eq!((n, name.as_str(), nothing), (1, "one", None));
/// # Ok(()) }
/// ```
pub trait FromRow: Sized {
    /// Reads `row`, or fails with [`Error::Type`] (a value of the wrong type, a column
    /// count that does not fit) or [`Error::UnknownName`] (a missing column).
    fn from_row(row: &Row) -> Result<Self>;
}

impl FromRow for Row {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(row.clone())
    }
}

/// Fails unless `row` has exactly `expected` columns.
fn check_width(row: &Row, expected: usize) -> Result<()> {
    match row.values().len() == expected {
        true => Ok(()),
        false => Err(Error::Type(format!(
            "a tuple of {expected} cannot be read from a row of {} columns",
            row.values().len()
        ))),
    }
}

macro_rules! tuple_from_row {
    ($count:expr; $($name:ident $index:tt),+) => {
        impl<$($name: FromValue),+> FromRow for ($($name,)+) {
            fn from_row(row: &Row) -> Result<Self> {
                check_width(row, $count)?;
                Ok(($(row.get::<$name>($index)?,)+))
            }
        }
    };
}

tuple_from_row!(1; A 0);
tuple_from_row!(2; A 0, B 1);
tuple_from_row!(3; A 0, B 1, C 2);
tuple_from_row!(4; A 0, B 1, C 2, D 3);
tuple_from_row!(5; A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_from_row!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_from_row!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_from_row!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_from_row!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// Implements [`FromRow`] for a struct: each named field is read from the column of
/// the same name (or the one given with `field = "column"`), so the query's column
/// order does not matter.
///
/// ```
/// # fn main() -> hdb::Result<()> {
/// #[derive(Debug, PartialEq)]
/// struct User {
///     id: String,
///     name: String,
///     age: Option<i64>,
/// }
/// hdb::from_row!(User { id = "user_id", name, age });
///
/// let db = hdb::Database::open_in_memory()?;
/// let mut session = db.session();
/// session.execute("CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT, age INT)")?;
/// session.execute("INSERT INTO users VALUES ('u1', 'Alice', NULL)")?;
/// let users: Vec<User> = session.query_as("SELECT age, name, user_id FROM users", hdb::params![])?;
/// assert_eq!(users, [User { id: "u1".into(), name: "Alice".into(), age: None }]);
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! from_row {
    ($type:ident { $($field:ident $(= $column:literal)?),+ $(,)? }) => {
        impl $crate::FromRow for $type {
            fn from_row(row: &$crate::Row) -> $crate::Result<Self> {
                Ok($type {
                    $($field: row.get($crate::from_row!(@column $field $($column)?))?,)+
                })
            }
        }
    };
    (@column $field:ident $column:literal) => { $column };
    (@column $field:ident) => { stringify!($field) };
}

/// The rows of a query, each mapped by a closure as it is pulled: see
/// [`Session::query_map`]. Holds the session until dropped.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    map: F,
}

impl<F> std::fmt::Debug for MappedRows<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedRows")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<'s, F> MappedRows<'s, F> {
    /// The query's column names.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let rows = session.query_map("SELECT 1 AS one", hdb::params![], |row| row.get::<i64>(0))?;
    /// assert_eq!(rows.columns(), ["one"]);
    /// # Ok(()) }
    /// ```
    pub fn columns(&self) -> &[String] {
        self.rows.columns()
    }
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row) -> Result<T>,
{
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.rows.next()?.and_then(|row| (self.map)(&row)))
    }
}

impl Session {
    /// Runs a query and maps its first row with `f`; [`Error::NoRows`] if it returned
    /// none (later rows are ignored).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE users (id INT PRIMARY KEY, name TEXT)")?;
    /// session.execute("INSERT INTO users VALUES (1, 'Alice')")?;
    /// let name: String = session.query_row("SELECT name FROM users WHERE id = $1", hdb::params![1], |row| row.get("name"))?;
    /// assert_eq!(name, "Alice");
    /// let missing = session.query_row("SELECT name FROM users WHERE id = $1", hdb::params![2], |row| row.get::<String>(0));
    /// assert!(matches!(missing, Err(hdb::Error::NoRows)));
    /// # Ok(()) }
    /// ```
    pub fn query_row<T>(
        &mut self,
        sql: &str,
        params: &[Value],
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        let row = self
            .query_iter(sql, params)?
            .next()
            .ok_or(Error::NoRows)??;
        f(&row)
    }

    /// Runs a query and returns an iterator over its rows, each mapped with `f` as the
    /// query produces it.
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// session.execute("CREATE TABLE t (x INT, label TEXT)")?;
    /// session.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, NULL)")?;
    /// let labels = session
    ///     .query_map("SELECT label FROM t WHERE x >= $1 ORDER BY x", hdb::params![2], |row| row.get::<Option<String>>(0))?
    ///     .collect::<hdb::Result<Vec<_>>>()?;
    /// assert_eq!(labels, [Some("b".to_string()), None]);
    /// # Ok(()) }
    /// ```
    pub fn query_map<T, F>(
        &mut self,
        sql: &str,
        params: &[Value],
        f: F,
    ) -> Result<MappedRows<'_, F>>
    where
        F: FnMut(&Row) -> Result<T>,
    {
        Ok(MappedRows {
            rows: self.query_iter(sql, params)?,
            map: f,
        })
    }

    /// Runs a query and reads every row as `T` ([`FromRow`]: a tuple, or a struct
    /// given [`from_row!`](crate::from_row)).
    ///
    /// ```
    /// # fn main() -> hdb::Result<()> {
    /// let db = hdb::Database::open_in_memory()?;
    /// let mut session = db.session();
    /// let rows: Vec<(i64, String)> =
    ///     session.query_as("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v (n, s)", hdb::params![])?;
    /// assert_eq!(rows, [(1, "a".to_string()), (2, "b".to_string())]);
    /// # Ok(()) }
    /// ```
    pub fn query_as<T: FromRow>(&mut self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        self.query_iter(sql, params)?
            .map(|row| T::from_row(&row?))
            .collect()
    }
}
