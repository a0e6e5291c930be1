//! The rows of pg_catalog's relations (see the module comment of `system` for what
//! each holds and leaves out).

use super::constraints::{action_letter, constraints};
use super::pg_type::{self, TYPES};
use super::{
    BTREE_OID, ClientInfo, DATABASE_OID, DATABASE_OWNER_OID, DEFAULT_COLLATION_OID, HEAP_OID,
    INFORMATION_SCHEMA, INFORMATION_SCHEMA_OID, PG_CATALOG, PG_CATALOG_OID, PG_TOAST_OID, PUBLIC,
    PUBLIC_OID, Relation, RelationKind, Snapshot, SystemColumn, SystemRelation, USER_OID,
    UTF8_ENCODING, int, snapshot::index_definition, text,
};
use crate::catalog::{ColumnDefault, ColumnInfo};
use crate::types::SqlType;
use crate::value::Value;

const OID: SqlType = SqlType::Integer;
const NAME: SqlType = SqlType::Text;
const CHAR: SqlType = SqlType::Text;
const BOOL: SqlType = SqlType::Boolean;
const INT2: SqlType = SqlType::SmallInt;
const INT4: SqlType = SqlType::Integer;
const TEXT: SqlType = SqlType::Text;

pub(super) fn columns(relation: SystemRelation) -> &'static [SystemColumn] {
    match relation {
        SystemRelation::PgNamespace => &[("oid", OID), ("nspname", NAME), ("nspowner", OID)],
        SystemRelation::PgClass => &[
            ("oid", OID),
            ("relname", NAME),
            ("relnamespace", OID),
            ("reltype", OID),
            ("reloftype", OID),
            ("relowner", OID),
            ("relam", OID),
            ("relfilenode", OID),
            ("reltablespace", OID),
            ("relpages", INT4),
            ("reltuples", SqlType::Real),
            ("relallvisible", INT4),
            ("reltoastrelid", OID),
            ("relhasindex", BOOL),
            ("relisshared", BOOL),
            ("relpersistence", CHAR),
            ("relkind", CHAR),
            ("relnatts", INT2),
            ("relchecks", INT2),
            ("relhasrules", BOOL),
            ("relhastriggers", BOOL),
            ("relhassubclass", BOOL),
            ("relrowsecurity", BOOL),
            ("relforcerowsecurity", BOOL),
            ("relispopulated", BOOL),
            ("relreplident", CHAR),
            ("relispartition", BOOL),
        ],
        SystemRelation::PgAttribute => &[
            ("attrelid", OID),
            ("attname", NAME),
            ("atttypid", OID),
            ("attlen", INT2),
            ("attnum", INT2),
            ("attndims", INT4),
            ("atttypmod", INT4),
            ("attnotnull", BOOL),
            ("atthasdef", BOOL),
            ("attidentity", CHAR),
            ("attgenerated", CHAR),
            ("attisdropped", BOOL),
            ("attislocal", BOOL),
            ("attcollation", OID),
        ],
        SystemRelation::PgType => &[
            ("oid", OID),
            ("typname", NAME),
            ("typnamespace", OID),
            ("typowner", OID),
            ("typlen", INT2),
            ("typbyval", BOOL),
            ("typtype", CHAR),
            ("typcategory", CHAR),
            ("typisdefined", BOOL),
            ("typdelim", CHAR),
            ("typrelid", OID),
            ("typelem", OID),
            ("typarray", OID),
            ("typnotnull", BOOL),
            ("typbasetype", OID),
            ("typtypmod", INT4),
            ("typndims", INT4),
            ("typcollation", OID),
        ],
        SystemRelation::PgIndex => &[
            ("indexrelid", OID),
            ("indrelid", OID),
            ("indnatts", INT2),
            ("indnkeyatts", INT2),
            ("indisunique", BOOL),
            ("indnullsnotdistinct", BOOL),
            ("indisprimary", BOOL),
            ("indisexclusion", BOOL),
            ("indimmediate", BOOL),
            ("indisclustered", BOOL),
            ("indisvalid", BOOL),
            ("indcheckxmin", BOOL),
            ("indisready", BOOL),
            ("indislive", BOOL),
            ("indisreplident", BOOL),
            ("indkey", TEXT),
            ("indexprs", TEXT),
            ("indpred", TEXT),
        ],
        SystemRelation::PgAm => &[("oid", OID), ("amname", NAME), ("amtype", CHAR)],
        SystemRelation::PgDatabase => &[
            ("oid", OID),
            ("datname", NAME),
            ("datdba", OID),
            ("encoding", INT4),
            ("datlocprovider", CHAR),
            ("datistemplate", BOOL),
            ("datallowconn", BOOL),
            ("datconnlimit", INT4),
            ("datcollate", TEXT),
            ("datctype", TEXT),
            ("daticulocale", TEXT),
        ],
        SystemRelation::PgRoles => &[
            ("oid", OID),
            ("rolname", NAME),
            ("rolsuper", BOOL),
            ("rolinherit", BOOL),
            ("rolcreaterole", BOOL),
            ("rolcreatedb", BOOL),
            ("rolcanlogin", BOOL),
            ("rolreplication", BOOL),
            ("rolconnlimit", INT4),
            ("rolbypassrls", BOOL),
        ],
        SystemRelation::PgSettings => &[("name", TEXT), ("setting", TEXT)],
        SystemRelation::PgAttrdef => &[
            ("oid", OID),
            ("adrelid", OID),
            ("adnum", INT2),
            ("adbin", TEXT),
        ],
        SystemRelation::PgCollation => &[
            ("oid", OID),
            ("collname", NAME),
            ("collnamespace", OID),
            ("collprovider", CHAR),
        ],
        SystemRelation::PgConstraint => &[
            ("oid", OID),
            ("conname", NAME),
            ("connamespace", OID),
            ("contype", CHAR),
            ("condeferrable", BOOL),
            ("condeferred", BOOL),
            ("convalidated", BOOL),
            ("conrelid", OID),
            ("conindid", OID),
            ("confrelid", OID),
            ("confupdtype", CHAR),
            ("confdeltype", CHAR),
            ("confmatchtype", CHAR),
            ("conkey", TEXT),
            ("confkey", TEXT),
            ("conparentid", OID),
        ],
        SystemRelation::PgDescription => &[
            ("objoid", OID),
            ("classoid", OID),
            ("objsubid", INT4),
            ("description", TEXT),
        ],
        SystemRelation::PgTables => &[
            ("schemaname", NAME),
            ("tablename", NAME),
            ("tableowner", NAME),
            ("tablespace", NAME),
            ("hasindexes", BOOL),
            ("hasrules", BOOL),
            ("hastriggers", BOOL),
            ("rowsecurity", BOOL),
        ],
        SystemRelation::PgIndexes => &[
            ("schemaname", NAME),
            ("tablename", NAME),
            ("indexname", NAME),
            ("tablespace", NAME),
            ("indexdef", TEXT),
        ],
        SystemRelation::PgViews => &[
            ("schemaname", NAME),
            ("viewname", NAME),
            ("viewowner", NAME),
            ("definition", TEXT),
        ],
        SystemRelation::Schemata
        | SystemRelation::Tables
        | SystemRelation::Columns
        | SystemRelation::TableConstraints
        | SystemRelation::KeyColumnUsage => &[],
    }
}

pub(super) fn rows(
    relation: SystemRelation,
    catalog: &Snapshot,
    client: &ClientInfo,
) -> Vec<Vec<Value>> {
    match relation {
        SystemRelation::PgNamespace => [
            (PG_TOAST_OID, "pg_toast"),
            (PG_CATALOG_OID, PG_CATALOG),
            (PUBLIC_OID, PUBLIC),
            (INFORMATION_SCHEMA_OID, INFORMATION_SCHEMA),
        ]
        .iter()
        .map(|(oid, name)| {
            let owner = match *oid {
                PUBLIC_OID => DATABASE_OWNER_OID,
                _ => USER_OID,
            };
            vec![int(*oid), text(name), int(owner)]
        })
        .collect(),
        SystemRelation::PgClass => catalog.relations.iter().map(pg_class_row).collect(),
        SystemRelation::PgAttribute => pg_attribute(catalog),
        SystemRelation::PgType => TYPES.iter().map(pg_type_row).collect(),
        SystemRelation::PgIndex => catalog
            .indexes()
            .map(|(relation, index)| {
                let keys: Vec<String> = index
                    .columns
                    .iter()
                    .chain(&index.include)
                    .map(|c| (c + 1).to_string())
                    .collect();
                vec![
                    int(relation.oid),
                    int(index.table_oid),
                    int((index.columns.len() + index.include.len()) as i64),
                    int(index.columns.len() as i64),
                    Value::Bool(index.unique),
                    Value::Bool(false),
                    Value::Bool(index.primary),
                    Value::Bool(false),
                    Value::Bool(true),
                    Value::Bool(false),
                    Value::Bool(true),
                    Value::Bool(false),
                    Value::Bool(true),
                    Value::Bool(true),
                    Value::Bool(false),
                    text(&keys.join(" ")),
                    Value::Null,
                    Value::Null,
                ]
            })
            .collect(),
        SystemRelation::PgAm => vec![
            vec![int(HEAP_OID), text("heap"), text("t")],
            vec![int(BTREE_OID), text("btree"), text("i")],
        ],
        SystemRelation::PgDatabase => vec![vec![
            int(DATABASE_OID),
            text(&client.database),
            int(USER_OID),
            int(UTF8_ENCODING),
            text("c"),
            Value::Bool(false),
            Value::Bool(true),
            int(-1),
            text("C"),
            text("C"),
            Value::Null,
        ]],
        SystemRelation::PgRoles => vec![vec![
            int(USER_OID),
            text(&client.user),
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(true),
            int(-1),
            Value::Bool(true),
        ]],
        SystemRelation::PgSettings => client
            .settings()
            .into_iter()
            .map(|(name, value)| vec![Value::Text(name), Value::Text(value)])
            .collect(),
        SystemRelation::PgAttrdef => pg_attrdef(catalog),
        SystemRelation::PgDescription => Vec::new(),
        SystemRelation::PgCollation => [
            (DEFAULT_COLLATION_OID, "default", "d"),
            (C_COLLATION_OID, "C", "c"),
            (POSIX_COLLATION_OID, "POSIX", "c"),
        ]
        .iter()
        .map(|(oid, name, provider)| {
            vec![int(*oid), text(name), int(PG_CATALOG_OID), text(provider)]
        })
        .collect(),
        SystemRelation::PgConstraint => constraints(catalog)
            .into_iter()
            .map(|c| {
                let keys = |positions: &[usize]| {
                    let numbers: Vec<String> =
                        positions.iter().map(|p| (p + 1).to_string()).collect();
                    format!("{{{}}}", numbers.join(","))
                };
                let (confrelid, confkey) = match &c.referenced {
                    Some((oid, columns)) => (*oid, text(&keys(columns))),
                    None => (0, Value::Null),
                };
                let action = |a: Option<crate::foreign_key::Action>| {
                    a.map_or_else(|| text(" "), |a| text(action_letter(a)))
                };
                vec![
                    int(c.oid),
                    text(&c.name),
                    int(PUBLIC_OID),
                    text(c.contype),
                    Value::Bool(false),
                    Value::Bool(false),
                    Value::Bool(true),
                    int(c.table_oid),
                    int(c.index_oid),
                    int(confrelid),
                    action(c.foreign_key.as_ref().map(|f| f.on_update)),
                    action(c.foreign_key.as_ref().map(|f| f.on_delete)),
                    text(if c.contype == "f" { "s" } else { " " }),
                    match c.contype {
                        "c" => Value::Null,
                        _ => text(&keys(&c.columns)),
                    },
                    confkey,
                    int(0),
                ]
            })
            .collect(),
        SystemRelation::PgTables => catalog
            .tables()
            .map(|(relation, _)| {
                vec![
                    text(PUBLIC),
                    text(&relation.name),
                    text(&client.user),
                    Value::Null,
                    Value::Bool(has_index(relation)),
                    Value::Bool(false),
                    Value::Bool(has_triggers(relation)),
                    Value::Bool(false),
                ]
            })
            .collect(),
        SystemRelation::PgIndexes => catalog
            .indexes()
            .filter_map(|(relation, index)| {
                let table = catalog.by_oid(index.table_oid)?.table()?;
                Some(vec![
                    text(PUBLIC),
                    text(&index.table),
                    text(&relation.name),
                    Value::Null,
                    Value::Text(index_definition(&relation.name, index, table)),
                ])
            })
            .collect(),
        SystemRelation::PgViews => catalog
            .relations
            .iter()
            .filter_map(|relation| match &relation.kind {
                RelationKind::View(view) => Some(vec![
                    text(PUBLIC),
                    text(&view.name),
                    text(&client.user),
                    text(&view.query),
                ]),
                _ => None,
            })
            .collect(),
        SystemRelation::Schemata
        | SystemRelation::Tables
        | SystemRelation::Columns
        | SystemRelation::TableConstraints
        | SystemRelation::KeyColumnUsage => Vec::new(),
    }
}

/// PostgreSQL's OIDs of the C and POSIX collations.
const C_COLLATION_OID: i64 = 950;
const POSIX_COLLATION_OID: i64 = 951;

/// Each column DEFAULT (not identity columns'), numbered from [`FIRST_ATTRDEF_OID`] in
/// table and column order.
fn pg_attrdef(catalog: &Snapshot) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for (relation, table) in catalog.tables() {
        for (i, column) in table.columns.iter().enumerate() {
            let Some(default @ (ColumnDefault::Value(_) | ColumnDefault::Expression(_))) =
                &column.default
            else {
                continue;
            };
            rows.push(vec![
                int(FIRST_ATTRDEF_OID + rows.len() as i64),
                int(relation.oid),
                int(i as i64 + 1),
                Value::Text(pg_type::default_text(default, column.sql_type)),
            ]);
        }
    }
    rows
}

/// Defaults are numbered from here (between constraints' and views' OIDs).
const FIRST_ATTRDEF_OID: i64 = 3 << 28;

fn has_index(relation: &Relation) -> bool {
    match &relation.kind {
        RelationKind::Table(table) => {
            !table.schema.primary_key.is_empty() || !table.schema.indexes.is_empty()
        }
        _ => false,
    }
}

/// PostgreSQL enforces foreign keys by triggers on both tables.
fn has_triggers(relation: &Relation) -> bool {
    relation
        .table()
        .is_some_and(|t| !t.foreign_keys.is_empty() || !t.referenced_by.is_empty())
}

fn pg_class_row(relation: &Relation) -> Vec<Value> {
    let (natts, checks, am) = match &relation.kind {
        RelationKind::Table(table) => (table.columns.len(), table.checks.len(), HEAP_OID),
        RelationKind::Index(index) => (index.columns.len() + index.include.len(), 0, BTREE_OID),
        RelationKind::View(view) => (view.columns.len(), 0, 0),
    };
    let is_table = relation.table().is_some();
    vec![
        int(relation.oid),
        text(&relation.name),
        int(PUBLIC_OID),
        int(0),
        int(0),
        int(USER_OID),
        int(am),
        int(if relation.index().is_some() || is_table {
            relation.oid
        } else {
            0
        }),
        int(0),
        int(0),
        Value::Float(-1.0),
        int(0),
        int(0),
        Value::Bool(has_index(relation)),
        Value::Bool(false),
        text("p"),
        text(relation.relkind()),
        int(natts as i64),
        int(checks as i64),
        Value::Bool(matches!(relation.kind, RelationKind::View(_))),
        Value::Bool(has_triggers(relation)),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(true),
        text(if is_table { "d" } else { "n" }),
        Value::Bool(false),
    ]
}

fn pg_type_row(ty: &pg_type::PgType) -> Vec<Value> {
    let collatable = ty.category == "S";
    vec![
        int(ty.oid),
        text(ty.name),
        int(PG_CATALOG_OID),
        int(USER_OID),
        int(ty.len),
        Value::Bool(matches!(ty.len, 1 | 2 | 4 | 8)),
        text("b"),
        text(ty.category),
        Value::Bool(true),
        text(","),
        int(0),
        int(0),
        int(ty.array),
        Value::Bool(false),
        int(0),
        int(-1),
        int(0),
        int(if collatable { DEFAULT_COLLATION_OID } else { 0 }),
    ]
}

/// The columns of every table, then of every index (an index's columns are its
/// table's, numbered from 1 in the index).
fn pg_attribute(catalog: &Snapshot) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for relation in &catalog.relations {
        match &relation.kind {
            RelationKind::Table(table) => {
                for (i, column) in table.columns.iter().enumerate() {
                    rows.push(attribute(relation.oid, i + 1, column, true));
                }
            }
            RelationKind::Index(index) => {
                let Some(table) = catalog.by_oid(index.table_oid).and_then(Relation::table) else {
                    continue;
                };
                let positions = index.columns.iter().chain(&index.include);
                for (i, position) in positions.enumerate() {
                    if let Some(column) = table.columns.get(*position) {
                        rows.push(attribute(relation.oid, i + 1, column, false));
                    }
                }
            }
            RelationKind::View(_) => {}
        }
    }
    rows
}

fn attribute(relid: i64, number: usize, column: &ColumnInfo, of_table: bool) -> Vec<Value> {
    let ty = pg_type::of(column.sql_type);
    let identity = match &column.default {
        Some(ColumnDefault::Identity { always: true, .. }) if of_table => "a",
        Some(ColumnDefault::Identity { always: false, .. }) if of_table => "d",
        _ => "",
    };
    let has_default = of_table
        && matches!(
            column.default,
            Some(ColumnDefault::Value(_) | ColumnDefault::Expression(_))
        );
    vec![
        int(relid),
        text(&column.name),
        int(ty.oid),
        int(ty.len),
        int(number as i64),
        int(0),
        int(pg_type::typmod(column.sql_type)),
        Value::Bool(of_table && !column.nullable),
        Value::Bool(has_default),
        text(identity),
        text(""),
        Value::Bool(false),
        Value::Bool(true),
        int(if ty.category == "S" {
            DEFAULT_COLLATION_OID
        } else {
            0
        }),
    ]
}
