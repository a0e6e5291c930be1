//! Enough of PostgreSQL's catalog for real clients: psql's `\d`, `\dt`, `\di`, `\l`
//! and `\d NAME`, and pgbench's startup check, answered from H's own catalog.
//!
//! ## How
//!
//! H has no `pg_catalog` schema, and the queries psql sends to describe a database
//! (joins over pg_class, pg_namespace, pg_index ... with `OPERATOR(pg_catalog.~)`
//! regular expressions, `::regclass` casts and functions such as `pg_get_indexdef`)
//! are far outside the SQL H runs. So the server recognises those queries — psql 15's
//! and pgbench 15's, by the catalog relations they read and the columns they ask for
//! (`psql.rs`) — and answers each from a snapshot of H's catalog
//! ([`hdb::Database::describe_tables`]) laid out as pg_class would hold it
//! ([`Relations`]): one relation per table, one per index, and a `<table>_pkey` index
//! for each primary key, as PostgreSQL names it. A name pattern (`\dt acc*`) is the
//! regular expression psql sends, applied as PostgreSQL would.
//!
//! Relations have no owner in H; the connected user is reported as every relation's
//! and the database's owner. Everything lives in schema `public`. OIDs are numbered
//! from 16384 (PostgreSQL's first user OID) in name order, stable while the catalog is.
//!
//! Any other query that names a `pg_catalog.` relation is refused with
//! `0A000 feature_not_supported`, naming what was not understood, rather than answered
//! wrongly. The snapshot is of committed DDL only (a table created in the session's
//! open transaction is not listed until it commits).

mod psql;

use hdb::{Kind, Value};

use crate::errors::ProtocolError;

/// PostgreSQL's first OID for user objects.
pub const FIRST_OID: i64 = 16_384;

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

/// If `sql` is a catalog query, its answer (or why it cannot be answered).
pub fn answer(
    sql: &str,
    db: &hdb::Database,
    client: &Client,
) -> Option<Result<Answer, ProtocolError>> {
    if !sql.contains("pg_catalog.") {
        return None;
    }
    Some(psql::answer(&normalize(sql), db, client))
}

/// Whitespace runs collapsed to one space, so recognition ignores layout.
fn normalize(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A relation as pg_class would hold it.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub oid: i64,
    pub name: String,
    /// `r` table, `i` index.
    pub kind: char,
    /// For an index: its table's name, whether unique, whether the primary key, and
    /// its columns.
    pub index: Option<IndexOf>,
    /// For a table: its description.
    pub table: Option<hdb::TableDescription>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IndexOf {
    pub table: String,
    pub unique: bool,
    pub primary: bool,
    pub columns: Vec<String>,
}

/// pg_class, made from H's catalog: tables and their indexes, each with an OID.
#[derive(Debug, Clone, Default)]
pub struct Relations {
    pub all: Vec<Relation>,
}

impl Relations {
    pub fn read(db: &hdb::Database) -> Result<Relations, ProtocolError> {
        let tables = db.describe_tables()?;
        let mut all = Vec::new();
        for table in tables {
            let pkey = (!table.primary_key.is_empty()).then(|| {
                let of = IndexOf {
                    table: table.name.clone(),
                    unique: true,
                    primary: true,
                    columns: table.primary_key.clone(),
                };
                (format!("{}_pkey", table.name), of)
            });
            let secondary: Vec<(String, IndexOf)> = table
                .indexes
                .iter()
                .map(|i| {
                    let of = IndexOf {
                        table: table.name.clone(),
                        unique: i.unique,
                        primary: false,
                        columns: i.columns.clone(),
                    };
                    (i.name.clone(), of)
                })
                .collect();
            all.push(Relation {
                oid: 0,
                name: table.name.clone(),
                kind: 'r',
                index: None,
                table: Some(table),
            });
            for (name, of) in pkey.into_iter().chain(secondary) {
                all.push(Relation {
                    oid: 0,
                    name,
                    kind: 'i',
                    index: Some(of),
                    table: None,
                });
            }
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        for (i, relation) in all.iter_mut().enumerate() {
            relation.oid = FIRST_OID + i as i64;
        }
        Ok(Relations { all })
    }

    pub fn by_oid(&self, oid: i64) -> Option<&Relation> {
        self.all.iter().find(|r| r.oid == oid)
    }
}

/// PostgreSQL's name for an H type, as `format_type` prints it.
pub fn pg_type_name(sql_type: &str) -> String {
    match sql_type {
        "BOOLEAN" => "boolean".into(),
        "SMALLINT" => "smallint".into(),
        "INTEGER" => "integer".into(),
        "BIGINT" => "bigint".into(),
        "REAL" => "real".into(),
        "DOUBLE PRECISION" => "double precision".into(),
        "TEXT" => "text".into(),
        "VARCHAR" => "character varying".into(),
        "DATE" => "date".into(),
        "TIMESTAMP" => "timestamp without time zone".into(),
        "INTERVAL" => "interval".into(),
        "BPCHAR" => "bpchar".into(),
        other => {
            let length = |prefix: &str| other.strip_prefix(prefix)?.strip_suffix(')');
            match (length("VARCHAR("), length("CHAR(")) {
                (Some(n), _) => format!("character varying({n})"),
                (_, Some(n)) => format!("character({n})"),
                _ => other.to_ascii_lowercase(),
            }
        }
    }
}
