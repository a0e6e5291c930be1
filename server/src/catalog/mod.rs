//! Catalog queries the server answers itself, because H cannot run them as sent.
//!
//! H has PostgreSQL's catalog as system relations (`sql_frontend`'s `system`
//! module: pg_class, pg_namespace, pg_attribute, pg_index, information_schema ...,
//! computed from H's catalog as the querying transaction sees it), so psql's `\d`,
//! `\dt`, `\di` and `\d NAME` queries, drivers' type lookups and whatever a person
//! types about the catalog run in H like any query. A few queries that psql 15 and
//! pgbench 15 send still read what H lacks (arrays, catalogs of features H does not
//! have); `psql.rs` recognises those by their text and answers them here, from the
//! client's identity and H's description of its tables. Any other query goes to H,
//! which answers it or refuses it with PostgreSQL's error (42P01 for a catalog
//! relation it does not have, 42883 for a function).

mod psql;

use hdb::{Kind, Value};

use crate::errors::ProtocolError;

/// What the server answers, without H, to a statement it handles itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A result set.
    Rows {
        columns: Vec<(String, Kind)>,
        rows: Vec<Vec<Value>>,
        tag: String,
    },
    /// A command without rows (`SET`).
    Command(String),
}

impl Answer {
    pub fn rows(columns: &[(&str, Kind)], rows: Vec<Vec<Value>>, tag: &str) -> Answer {
        Answer::Rows {
            columns: columns.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
            rows,
            tag: tag.to_string(),
        }
    }

    /// A query's result, tagged `SELECT n`.
    pub fn select(columns: &[(&str, Kind)], rows: Vec<Vec<Value>>) -> Answer {
        let tag = format!("SELECT {}", rows.len());
        Answer::rows(columns, rows, &tag)
    }

    pub fn command(tag: &str) -> Answer {
        Answer::Command(tag.to_string())
    }
}

/// Who is asking, for the answers that name the user or the database.
#[derive(Debug, Clone)]
pub struct Client {
    pub user: String,
    pub database: String,
}

/// If `sql` is a catalog query the server answers itself, its answer (or why it
/// cannot be answered); `None` sends it to H.
pub fn answer(
    sql: &str,
    db: &hdb::Database,
    client: &Client,
) -> Option<Result<Answer, ProtocolError>> {
    if !sql.contains("pg_catalog.") {
        return None;
    }
    psql::answer(&normalize(sql), db, client)
}

/// Whitespace runs collapsed to one space, so recognition ignores layout.
fn normalize(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}
