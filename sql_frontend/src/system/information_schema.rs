//! The rows of information_schema's relations (see the module comment of `system`).
//! PostgreSQL types their columns with domains (`sql_identifier`, `character_data`,
//! `cardinal_number`, `yes_or_no`); here they are TEXT and INTEGER, which print the
//! same.

use super::pg_type;
use super::{
    ClientInfo, DATABASE_OWNER, INFORMATION_SCHEMA, PG_CATALOG, PUBLIC, PUBLIC_OID, Relation,
    RelationKind, Snapshot, SystemColumn, SystemRelation, int, opt_int, text, yes_no,
};
use crate::catalog::{ColumnDefault, TableInfo};
use crate::types::SqlType;
use crate::value::Value;

const ID: SqlType = SqlType::Text;
const DATA: SqlType = SqlType::Text;
const NUMBER: SqlType = SqlType::Integer;
const YES_NO: SqlType = SqlType::Text;

pub(super) fn columns(relation: SystemRelation) -> &'static [SystemColumn] {
    match relation {
        SystemRelation::Schemata => &[
            ("catalog_name", ID),
            ("schema_name", ID),
            ("schema_owner", ID),
            ("default_character_set_catalog", ID),
            ("default_character_set_schema", ID),
            ("default_character_set_name", ID),
            ("sql_path", DATA),
        ],
        SystemRelation::Tables => &[
            ("table_catalog", ID),
            ("table_schema", ID),
            ("table_name", ID),
            ("table_type", DATA),
            ("self_referencing_column_name", ID),
            ("reference_generation", DATA),
            ("user_defined_type_catalog", ID),
            ("user_defined_type_schema", ID),
            ("user_defined_type_name", ID),
            ("is_insertable_into", YES_NO),
            ("is_typed", YES_NO),
            ("commit_action", DATA),
        ],
        SystemRelation::Columns => &[
            ("table_catalog", ID),
            ("table_schema", ID),
            ("table_name", ID),
            ("column_name", ID),
            ("ordinal_position", NUMBER),
            ("column_default", DATA),
            ("is_nullable", YES_NO),
            ("data_type", DATA),
            ("character_maximum_length", NUMBER),
            ("character_octet_length", NUMBER),
            ("numeric_precision", NUMBER),
            ("numeric_precision_radix", NUMBER),
            ("numeric_scale", NUMBER),
            ("datetime_precision", NUMBER),
            ("udt_catalog", ID),
            ("udt_schema", ID),
            ("udt_name", ID),
            ("is_identity", YES_NO),
            ("identity_generation", DATA),
            ("is_generated", DATA),
            ("is_updatable", YES_NO),
        ],
        SystemRelation::TableConstraints => &[
            ("constraint_catalog", ID),
            ("constraint_schema", ID),
            ("constraint_name", ID),
            ("table_catalog", ID),
            ("table_schema", ID),
            ("table_name", ID),
            ("constraint_type", DATA),
            ("is_deferrable", YES_NO),
            ("initially_deferred", YES_NO),
            ("enforced", YES_NO),
            ("nulls_distinct", YES_NO),
        ],
        SystemRelation::KeyColumnUsage => &[
            ("constraint_catalog", ID),
            ("constraint_schema", ID),
            ("constraint_name", ID),
            ("table_catalog", ID),
            ("table_schema", ID),
            ("table_name", ID),
            ("column_name", ID),
            ("ordinal_position", NUMBER),
            ("position_in_unique_constraint", NUMBER),
        ],
        SystemRelation::PgNamespace
        | SystemRelation::PgClass
        | SystemRelation::PgAttribute
        | SystemRelation::PgType
        | SystemRelation::PgIndex
        | SystemRelation::PgAm
        | SystemRelation::PgDatabase
        | SystemRelation::PgRoles
        | SystemRelation::PgSettings
        | SystemRelation::PgAttrdef
        | SystemRelation::PgCollation
        | SystemRelation::PgConstraint
        | SystemRelation::PgDescription
        | SystemRelation::PgTables
        | SystemRelation::PgIndexes
        | SystemRelation::PgViews => &[],
    }
}

pub(super) fn rows(
    relation: SystemRelation,
    catalog: &Snapshot,
    client: &ClientInfo,
) -> Vec<Vec<Value>> {
    let database = text(&client.database);
    match relation {
        SystemRelation::Schemata => [
            (INFORMATION_SCHEMA, client.user.as_str()),
            (PG_CATALOG, client.user.as_str()),
            ("pg_toast", client.user.as_str()),
            (PUBLIC, DATABASE_OWNER),
        ]
        .iter()
        .map(|(schema, owner)| {
            let mut row = vec![database.clone(), text(schema), text(owner)];
            row.resize(7, Value::Null);
            row
        })
        .collect(),
        SystemRelation::Tables => catalog
            .relations
            .iter()
            .filter_map(|relation| {
                let (kind, insertable) = match relation.kind {
                    RelationKind::Table(_) => ("BASE TABLE", true),
                    RelationKind::View(_) => ("VIEW", false),
                    RelationKind::Index(_) => return None,
                };
                let mut row = vec![
                    database.clone(),
                    text(PUBLIC),
                    text(&relation.name),
                    text(kind),
                ];
                row.resize(9, Value::Null);
                row.extend([yes_no(insertable), yes_no(false), Value::Null]);
                Some(row)
            })
            .collect(),
        SystemRelation::Columns => {
            let mut rows = Vec::new();
            for (relation, table) in catalog.tables() {
                rows.extend(table_columns(&database, relation, table));
            }
            rows
        }
        SystemRelation::TableConstraints => constraints(catalog)
            .into_iter()
            .map(|c| {
                vec![
                    database.clone(),
                    text(PUBLIC),
                    Value::Text(c.name),
                    database.clone(),
                    text(PUBLIC),
                    Value::Text(c.table),
                    text(c.kind),
                    yes_no(false),
                    yes_no(false),
                    yes_no(true),
                    match c.kind {
                        "UNIQUE" => yes_no(true),
                        _ => Value::Null,
                    },
                ]
            })
            .collect(),
        SystemRelation::KeyColumnUsage => {
            let mut rows = Vec::new();
            for c in constraints(catalog) {
                for (i, column) in c.columns.iter().enumerate() {
                    rows.push(vec![
                        database.clone(),
                        text(PUBLIC),
                        text(&c.name),
                        database.clone(),
                        text(PUBLIC),
                        text(&c.table),
                        text(column),
                        int(i as i64 + 1),
                        opt_int(c.referenced_positions.get(i).copied()),
                    ]);
                }
            }
            rows
        }
        SystemRelation::PgNamespace
        | SystemRelation::PgClass
        | SystemRelation::PgAttribute
        | SystemRelation::PgType
        | SystemRelation::PgIndex
        | SystemRelation::PgAm
        | SystemRelation::PgDatabase
        | SystemRelation::PgRoles
        | SystemRelation::PgSettings
        | SystemRelation::PgAttrdef
        | SystemRelation::PgCollation
        | SystemRelation::PgConstraint
        | SystemRelation::PgDescription
        | SystemRelation::PgTables
        | SystemRelation::PgIndexes
        | SystemRelation::PgViews => Vec::new(),
    }
}

fn table_columns(database: &Value, relation: &Relation, table: &TableInfo) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    for (i, column) in table.columns.iter().enumerate() {
        let ty = pg_type::of(column.sql_type);
        let (max_length, octet_length) = pg_type::character_facts(column.sql_type);
        let (precision, radix, scale) = pg_type::numeric_facts(column.sql_type);
        let identity = match &column.default {
            Some(ColumnDefault::Identity { always, .. }) => {
                Some(if *always { "ALWAYS" } else { "BY DEFAULT" })
            }
            _ => None,
        };
        let default = match (&column.default, identity) {
            (Some(default), None) => Value::Text(pg_type::default_text(default, column.sql_type)),
            _ => Value::Null,
        };
        rows.push(vec![
            database.clone(),
            text(PUBLIC),
            text(&relation.name),
            text(&column.name),
            int(i as i64 + 1),
            default,
            yes_no(column.nullable),
            text(ty.display),
            opt_int(max_length),
            opt_int(octet_length),
            opt_int(precision),
            opt_int(radix),
            opt_int(scale),
            opt_int(pg_type::datetime_precision(column.sql_type)),
            database.clone(),
            text(PG_CATALOG),
            text(ty.name),
            yes_no(identity.is_some()),
            identity.map_or(Value::Null, text),
            text("NEVER"),
            yes_no(true),
        ]);
    }
    rows
}

/// One constraint as information_schema lists it.
struct Constraint {
    name: String,
    table: String,
    kind: &'static str,
    /// Its key columns (none for a CHECK).
    columns: Vec<String>,
    /// A foreign key's: the position of each referenced column in the referenced key.
    referenced_positions: Vec<i64>,
}

/// Every table's constraints (`constraints.rs`), and its NOT NULL columns as PostgreSQL
/// 15 lists them: CHECK constraints named `<namespace oid>_<table oid>_<attnum>_not_null`.
fn constraints(catalog: &Snapshot) -> Vec<Constraint> {
    let column_names = |table_oid: i64, positions: &[usize]| -> Vec<String> {
        let table = catalog.by_oid(table_oid).and_then(Relation::table);
        positions
            .iter()
            .filter_map(|p| {
                table
                    .and_then(|t| t.columns.get(*p))
                    .map(|c| c.name.clone())
            })
            .collect()
    };
    let mut all: Vec<Constraint> = super::constraints::constraints(catalog)
        .into_iter()
        .map(|c| {
            let referenced_positions = match &c.referenced {
                // The referenced key's columns, in its own order.
                Some((referenced_oid, referenced_columns)) => {
                    let key = catalog
                        .by_oid(c.index_oid)
                        .and_then(Relation::index)
                        .map(|i| i.columns.clone())
                        .or_else(|| {
                            let table = catalog.by_oid(*referenced_oid)?.table()?;
                            Some(table.schema.primary_key.clone())
                        })
                        .unwrap_or_default();
                    referenced_columns
                        .iter()
                        .map(|c| key.iter().position(|k| k == c).map_or(0, |p| p as i64 + 1))
                        .collect()
                }
                None => Vec::new(),
            };
            Constraint {
                name: c.name.clone(),
                table: c.table.clone(),
                kind: match c.contype {
                    "p" => "PRIMARY KEY",
                    "u" => "UNIQUE",
                    "f" => "FOREIGN KEY",
                    _ => "CHECK",
                },
                columns: column_names(c.table_oid, &c.columns),
                referenced_positions,
            }
        })
        .collect();
    for (relation, table) in catalog.tables() {
        for (i, column) in table.columns.iter().enumerate() {
            if !column.nullable {
                all.push(Constraint {
                    name: format!("{PUBLIC_OID}_{}_{}_not_null", relation.oid, i + 1),
                    table: relation.name.clone(),
                    kind: "CHECK",
                    columns: Vec::new(),
                    referenced_positions: Vec::new(),
                });
            }
        }
    }
    all.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    all
}
