//! The catalog queries of psql 15 and pgbench 15 that H cannot run as sent,
//! recognised by what they read and answered by the server.
//!
//! Each recogniser matches the relations a query reads and the columns it selects
//! (the text as psql builds it, whitespace normalised); each answer has exactly the
//! columns the query asks for, since psql reads them by position:
//!
//! - `\l`: psql prints `pg_database.datacl` with `array_to_string`, and hdb has no
//!   arrays; the one database the server serves is listed.
//! - `\d NAME`'s queries about what H does not have — row-level security policies,
//!   extended statistics, publications, inheritance — read catalogs hdb lacks
//!   (pg_policy, pg_statistic_ext, pg_publication, pg_inherits) through arrays and
//!   `regclass` outputs; they are answered with no rows, which is the truth for an H
//!   table.
//! - pgbench's check of how pgbench_accounts is partitioned (pg_partitioned_table).
//!
//! Everything else goes to H, whose system relations run psql's `\d`, `\dt`, `\di`
//! and `\d NAME` lookups as sent.

use hdb::{Kind, Value};
use regex::Regex;

use super::{Answer, Client};
use crate::errors::ProtocolError;

/// The answer to `sql` if it is one of the queries above; `None` sends it to H.
pub(super) fn answer(
    sql: &str,
    db: &hdb::Database,
    client: &Client,
) -> Option<Result<Answer, ProtocolError>> {
    let has = |part: &str| sql.contains(part);
    if has("FROM pg_catalog.pg_database d") && has("as \"Name\"") {
        return Some(databases(sql, client));
    }
    if has("pg_catalog.pg_partitioned_table") {
        return Some(pgbench_partitions(sql, db));
    }
    // Queries about things H does not have: no rows.
    let nothing: &[(&str, &[&str])] = &[
        (
            "FROM pg_catalog.pg_policy pol",
            &[
                "polname",
                "polpermissive",
                "array_to_string",
                "pg_get_expr",
                "pg_get_expr",
                "cmd",
            ],
        ),
        (
            "FROM pg_catalog.pg_statistic_ext",
            &[
                "oid",
                "stxrelid",
                "nsp",
                "stxname",
                "columns",
                "ndist_enabled",
                "deps_enabled",
                "mcv_enabled",
                "stxstattarget",
            ],
        ),
        (
            "FROM pg_catalog.pg_publication p",
            &["pubname", "?column?", "?column?"],
        ),
        (
            "FROM pg_catalog.pg_trigger t",
            &[
                "tgname",
                "pg_get_triggerdef",
                "tgenabled",
                "tgisinternal",
                "parent",
            ],
        ),
        ("WHERE c.oid = i.inhparent AND i.inhrelid", &["oid"]),
        (
            "WHERE c.oid = i.inhrelid AND i.inhparent",
            &["oid", "relkind", "inhdetachpending", "pg_get_expr"],
        ),
    ];
    for (marker, columns) in nothing {
        if has(marker) {
            let columns: Vec<(&str, Kind)> = columns.iter().map(|c| (*c, Kind::Text)).collect();
            return Some(Ok(Answer::select(&columns, Vec::new())));
        }
    }
    None
}

fn unsupported(sql: &str, what: &str) -> ProtocolError {
    let start: String = sql.chars().take(80).collect();
    ProtocolError::new(
        "0A000",
        format!("hdb serve does not answer {what}: {start}..."),
    )
}

/// The regular expressions a query applies to `column` (`c.relname`, `n.nspname`,
/// `d.datname`) with `OPERATOR(pg_catalog.~)`, as psql writes name patterns.
fn patterns(sql: &str, column: &str) -> Result<Vec<Regex>, ProtocolError> {
    let finder = Regex::new(&format!(
        r"{} OPERATOR\(pg_catalog\.~\) '((?:[^']|'')*)'",
        regex::escape(column)
    ))
    .expect("a valid pattern");
    finder
        .captures_iter(sql)
        .map(|c| {
            let pattern = c[1].replace("''", "'");
            Regex::new(&pattern).map_err(|e| {
                ProtocolError::new("2201B", format!("invalid regular expression: {e}"))
            })
        })
        .collect()
}

fn matches_all(patterns: &[Regex], name: &str) -> bool {
    patterns.iter().all(|p| p.is_match(name))
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

/// `\l`: the one database a server serves.
fn databases(sql: &str, client: &Client) -> Result<Answer, ProtocolError> {
    let names = patterns(sql, "d.datname")?;
    let rows = match matches_all(&names, &client.database) {
        true => vec![vec![
            text(&client.database),
            text(&client.user),
            text("UTF8"),
            // H compares text byte by byte, as the C locale does.
            text("C"),
            text("C"),
            Value::Null,
            text("libc"),
            Value::Null,
        ]],
        false => Vec::new(),
    };
    let columns = [
        ("Name", Kind::Text),
        ("Owner", Kind::Text),
        ("Encoding", Kind::Text),
        ("Collate", Kind::Text),
        ("Ctype", Kind::Text),
        ("ICU Locale", Kind::Text),
        ("Locale Provider", Kind::Text),
        ("Access privileges", Kind::Text),
    ];
    Ok(Answer::select(&columns, rows))
}

/// pgbench's check, at startup, of how pgbench_accounts is partitioned: one row (its
/// place in the search path, no partitioning strategy, no partitions) if it exists.
fn pgbench_partitions(sql: &str, db: &hdb::Database) -> Result<Answer, ProtocolError> {
    let finder = Regex::new(r"c\.relname = '((?:[^']|'')*)'").expect("valid");
    let Some(name) = finder.captures(sql).map(|c| c[1].replace("''", "'")) else {
        return Err(unsupported(sql, "this catalog query"));
    };
    let exists = db.describe_tables()?.iter().any(|t| t.name == name);
    let rows = match exists {
        true => vec![vec![Value::Int(1), Value::Null, Value::Int(0)]],
        false => Vec::new(),
    };
    let columns = [
        ("n", Kind::Int),
        ("partstrat", Kind::Text),
        ("count", Kind::Int),
    ];
    Ok(Answer::select(&columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_patterns_are_read_as_psql_writes_them() {
        let sql = "WHERE c.relname OPERATOR(pg_catalog.~) '^(acc.*)$' COLLATE pg_catalog.default \
                   AND n.nspname OPERATOR(pg_catalog.~) '^(public)$'";
        let names = patterns(sql, "c.relname").unwrap();
        assert!(matches_all(&names, "accounts"));
        assert!(!matches_all(&names, "xaccounts"));
        assert!(matches_all(&patterns(sql, "n.nspname").unwrap(), "public"));
        assert!(patterns("c.relname OPERATOR(pg_catalog.~) '^(a['')$'", "c.relname").is_err());
    }
}
