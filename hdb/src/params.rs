//! [`params!`](crate::params): a statement's `$1`, `$2`, ... values from Rust values.

/// A slice of [`Value`](crate::Value)s for a statement's `$1`, `$2`, ... parameters,
/// each converted with `Value::from`: integers, floats, `bool`, `&str`, `String`,
/// `Option<T>` of those (`None` is NULL), [`Value`](crate::Value) itself, and with the
/// `chrono` feature `NaiveDate`, `NaiveDateTime` and `DateTime<Utc>`.
///
/// ```
/// # fn main() -> hdb::Result<()> {
/// let db = hdb::Database::open_in_memory()?;
/// let mut session = db.session();
/// session.execute("CREATE TABLE users (id INT PRIMARY KEY, name TEXT, score DOUBLE PRECISION)")?;
/// let nickname: Option<&str> = None;
/// session.query("INSERT INTO users VALUES ($1, $2, $3)", hdb::params![1, "Alice", 9.5])?;
/// session.query("INSERT INTO users VALUES ($1, $2, $3)", hdb::params![2, nickname, None::<f64>])?;
/// let nulls: i64 = session.query_row("SELECT count(*) FROM users WHERE name IS NULL", hdb::params![], |row| row.get(0))?;
/// assert_eq!(nulls, 1);
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[$crate::Value]
    };
    ($($param:expr),+ $(,)?) => {
        &[$($crate::Value::from($param)),+] as &[$crate::Value]
    };
}
