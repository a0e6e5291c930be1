//! The catalog queries of psql 15 (`\d`, `\dt`, `\di`, `\l`, `\d NAME`) and pgbench
//! 15, recognised by what they read and answered from [`Relations`].
//!
//! Each recogniser matches the relations a query reads and the columns it selects
//! (the text as psql builds it, whitespace normalised); each answer has exactly the
//! columns the query asks for, since psql reads them by position. The queries for
//! objects H does not have (row-level security policies, extended statistics,
//! publications, inheritance) are answered with no rows, which is the truth for an H
//! table. `\d+`-style verbose variants and anything else are refused with 0A000.

use hdb::{Kind, Value};
use regex::Regex;

use super::{Answer, Client, Relation, Relations, pg_type_name};
use crate::errors::ProtocolError;

/// Schema of every H relation.
const SCHEMA: &str = "public";

pub(super) fn answer(
    sql: &str,
    db: &hdb::Database,
    client: &Client,
) -> Result<Answer, ProtocolError> {
    let has = |part: &str| sql.contains(part);
    let verbose = [
        "as \"Size\"",
        "as \"Description\"",
        "a.attstorage",
        "\"Access method\"",
    ];
    if verbose.iter().any(|v| has(v)) {
        return Err(unsupported(
            sql,
            "verbose (+) variants of psql's describe commands",
        ));
    }
    if has("FROM pg_catalog.pg_database d") && has("as \"Name\"") {
        return databases(sql, client);
    }
    if has("pg_catalog.pg_partitioned_table") {
        return pgbench_partitions(sql, db);
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
        ("WHERE c.oid = i.inhparent AND i.inhrelid", &["oid"]),
        (
            "WHERE c.oid = i.inhrelid AND i.inhparent",
            &["oid", "relkind", "inhdetachpending", "pg_get_expr"],
        ),
    ];
    for (marker, columns) in nothing {
        if has(marker) {
            let columns: Vec<(&str, Kind)> = columns.iter().map(|c| (*c, Kind::Text)).collect();
            return Ok(Answer::select(&columns, Vec::new()));
        }
    }
    let relations = Relations::read(db)?;
    if has("FROM pg_catalog.pg_class c") && has("as \"Schema\"") && has("c.relkind IN (") {
        return list(sql, &relations, client);
    }
    if sql.starts_with("SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c") {
        return lookup(sql, &relations);
    }
    if sql.starts_with("SELECT c.relchecks, c.relkind, c.relhasindex,") {
        return table_flags(sql, &relations);
    }
    if has("FROM pg_catalog.pg_attribute a WHERE a.attrelid = ") {
        return columns(sql, &relations);
    }
    if has("FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i") {
        return indexes(sql, &relations);
    }
    Err(unsupported(sql, "this catalog query"))
}

fn unsupported(sql: &str, what: &str) -> ProtocolError {
    let start: String = sql.chars().take(80).collect();
    ProtocolError::new(
        "0A000",
        format!(
            "hdb serve does not answer {what} (pg_catalog is emulated for psql's \\d, \\dt, \\di, \\l): {start}..."
        ),
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

/// The OID a query compares `column` with (`c.oid = '16384'`).
fn oid_in(sql: &str, column: &str) -> Result<i64, ProtocolError> {
    let finder = Regex::new(&format!(r"{} = '(\d+)'", regex::escape(column))).expect("valid");
    finder
        .captures(sql)
        .and_then(|c| c[1].parse().ok())
        .ok_or_else(|| unsupported(sql, "this catalog query (no OID)"))
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn kind_name(kind: char) -> &'static str {
    match kind {
        'i' => "index",
        _ => "table",
    }
}

/// `\d`, `\dt`, `\di` (and `\dv`, `\ds` ..., which find nothing): Schema, Name, Type,
/// Owner, and for indexes their Table.
fn list(sql: &str, relations: &Relations, client: &Client) -> Result<Answer, ProtocolError> {
    let after = &sql[sql.find("c.relkind IN (").unwrap_or(0) + "c.relkind IN (".len()..];
    let kinds: Vec<char> = after[..after.find(')').unwrap_or(0)]
        .split(',')
        .filter_map(|k| k.trim().trim_matches('\'').chars().next())
        .collect();
    let names = patterns(sql, "c.relname")?;
    let schemas = patterns(sql, "n.nspname")?;
    let with_table = sql.contains("as \"Table\"");
    let rows = relations
        .all
        .iter()
        .filter(|r| kinds.contains(&r.kind))
        .filter(|r| matches_all(&names, &r.name) && matches_all(&schemas, SCHEMA))
        .map(|r| {
            let mut row = vec![
                text(SCHEMA),
                text(&r.name),
                text(kind_name(r.kind)),
                text(&client.user),
            ];
            if with_table {
                row.push(r.index.as_ref().map_or(Value::Null, |i| text(&i.table)));
            }
            row
        })
        .collect();
    let mut columns = vec![
        ("Schema", Kind::Text),
        ("Name", Kind::Text),
        ("Type", Kind::Text),
        ("Owner", Kind::Text),
    ];
    if with_table {
        columns.push(("Table", Kind::Text));
    }
    Ok(Answer::select(&columns, rows))
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

/// `\d NAME`'s first step: the relations whose name matches.
fn lookup(sql: &str, relations: &Relations) -> Result<Answer, ProtocolError> {
    let names = patterns(sql, "c.relname")?;
    let schemas = patterns(sql, "n.nspname")?;
    let rows = relations
        .all
        .iter()
        .filter(|r| matches_all(&names, &r.name) && matches_all(&schemas, SCHEMA))
        .map(|r| vec![Value::Int(r.oid), text(SCHEMA), text(&r.name)])
        .collect();
    let columns = [
        ("oid", Kind::Int),
        ("nspname", Kind::Text),
        ("relname", Kind::Text),
    ];
    Ok(Answer::select(&columns, rows))
}

fn relation<'r>(
    sql: &str,
    relations: &'r Relations,
    column: &str,
) -> Result<&'r Relation, ProtocolError> {
    let oid = oid_in(sql, column)?;
    relations.by_oid(oid).ok_or_else(|| {
        ProtocolError::new("42P01", format!("relation with OID {oid} does not exist"))
    })
}

/// `\d NAME`'s second step: the table's flags (psql 15 reads 15 columns by position).
fn table_flags(sql: &str, relations: &Relations) -> Result<Answer, ProtocolError> {
    let relation = relation(sql, relations, "c.oid")?;
    let Some(table) = &relation.table else {
        return Err(unsupported(sql, "\\d of an index (\\di lists indexes)"));
    };
    let has_index = !table.primary_key.is_empty() || !table.indexes.is_empty();
    let no = Value::Bool(false);
    let row = vec![
        Value::Int(0),
        text("r"),
        Value::Bool(has_index),
        no.clone(),
        no.clone(),
        no.clone(),
        no.clone(),
        no.clone(),
        no,
        text(""),
        Value::Int(0),
        text(""),
        text("p"),
        text("d"),
        text("heap"),
    ];
    let columns = [
        ("relchecks", Kind::Int),
        ("relkind", Kind::Text),
        ("relhasindex", Kind::Bool),
        ("relhasrules", Kind::Bool),
        ("relhastriggers", Kind::Bool),
        ("relrowsecurity", Kind::Bool),
        ("relforcerowsecurity", Kind::Bool),
        ("relhasoids", Kind::Bool),
        ("relispartition", Kind::Bool),
        ("?column?", Kind::Text),
        ("reltablespace", Kind::Int),
        ("reloftype", Kind::Text),
        ("relpersistence", Kind::Text),
        ("relreplident", Kind::Text),
        ("amname", Kind::Text),
    ];
    Ok(Answer::select(&columns, vec![row]))
}

/// `\d NAME`'s columns: name, type, default, NOT NULL, collation, identity, generated.
fn columns(sql: &str, relations: &Relations) -> Result<Answer, ProtocolError> {
    let relation = relation(sql, relations, "a.attrelid")?;
    let Some(table) = &relation.table else {
        return Err(unsupported(sql, "\\d of an index (\\di lists indexes)"));
    };
    let rows = table
        .columns
        .iter()
        .map(|c| {
            vec![
                text(&c.name),
                text(&pg_type_name(&c.sql_type)),
                c.default.as_deref().map_or(Value::Null, text),
                Value::Bool(!c.nullable),
                Value::Null,
                text(""),
                text(""),
            ]
        })
        .collect();
    let columns = [
        ("attname", Kind::Text),
        ("format_type", Kind::Text),
        ("pg_get_expr", Kind::Text),
        ("attnotnull", Kind::Bool),
        ("attcollation", Kind::Text),
        ("attidentity", Kind::Text),
        ("attgenerated", Kind::Text),
    ];
    Ok(Answer::select(&columns, rows))
}

/// `\d NAME`'s indexes, the primary key first, as psql prints them
/// (`"t_pkey" PRIMARY KEY, btree (id)`).
fn indexes(sql: &str, relations: &Relations) -> Result<Answer, ProtocolError> {
    let table = relation(sql, relations, "c.oid")?;
    let mut of_table: Vec<&Relation> = relations
        .all
        .iter()
        .filter(|r| r.index.as_ref().is_some_and(|i| i.table == table.name))
        .collect();
    of_table.sort_by_key(|r| (!r.index.as_ref().is_some_and(|i| i.primary), r.name.clone()));
    let rows = of_table
        .into_iter()
        .map(|r| {
            let index = r.index.as_ref().expect("an index");
            let columns = index.columns.join(", ");
            let definition = format!(
                "CREATE {}INDEX {} ON {SCHEMA}.{} USING btree ({columns})",
                if index.unique { "UNIQUE " } else { "" },
                r.name,
                index.table,
            );
            let (constraint, contype) = match index.primary {
                true => (text(&format!("PRIMARY KEY ({columns})")), text("p")),
                false => (Value::Null, Value::Null),
            };
            let deferrable = match index.primary {
                true => Value::Bool(false),
                false => Value::Null,
            };
            vec![
                text(&r.name),
                Value::Bool(index.primary),
                Value::Bool(index.unique),
                Value::Bool(false),
                Value::Bool(true),
                text(&definition),
                constraint,
                contype,
                deferrable.clone(),
                deferrable,
                Value::Bool(false),
                Value::Int(0),
            ]
        })
        .collect();
    let columns = [
        ("relname", Kind::Text),
        ("indisprimary", Kind::Bool),
        ("indisunique", Kind::Bool),
        ("indisclustered", Kind::Bool),
        ("indisvalid", Kind::Bool),
        ("pg_get_indexdef", Kind::Text),
        ("pg_get_constraintdef", Kind::Text),
        ("contype", Kind::Text),
        ("condeferrable", Kind::Bool),
        ("condeferred", Kind::Bool),
        ("indisreplident", Kind::Bool),
        ("reltablespace", Kind::Int),
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
        assert_eq!(oid_in("WHERE c.oid = '16390'", "c.oid").unwrap(), 16390);
    }
}
