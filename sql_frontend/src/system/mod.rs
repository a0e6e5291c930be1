//! # system — PostgreSQL's catalog relations, computed from H's catalog
//!
//! Clients learn what a database holds by querying PostgreSQL's system catalogs:
//! psql's `\d` joins pg_class, pg_namespace and pg_index, JDBC and ORMs read
//! `information_schema.columns`, people type `SELECT relname FROM pg_class WHERE
//! relkind = 'r'`. hdb has no such tables; its catalog is the engine's table schemas
//! and the SQL layer's tables beside them (`catalog.rs`, `view_catalog.rs`). This
//! module makes the common ones *system relations*: read-only relations whose rows
//! are computed, when a statement scans them, from the catalog as that statement's
//! transaction sees it — its own uncommitted DDL included, as in PostgreSQL.
//!
//! ## How they run
//!
//! The binder resolves a relation name to a [`SystemRelation`] (`bind/from.rs`, by
//! [`SystemRelation::lookup`]) and plans a `SystemScan` node for it, whose columns are
//! [`SystemRelation::columns`], named and typed as PostgreSQL 15's. The executor's
//! scan asks [`SystemRelation::rows`] for the rows (`exec/system_scan.rs`), reading a
//! [`Snapshot`] of the catalog once per statement. Everything above the scan — joins,
//! WHERE, ORDER BY, aggregates, `$n` parameters, subqueries — is the ordinary planner
//! and executor's. The relations are small, so the planner sees a fixed row estimate
//! and no indexes on them.
//!
//! Name resolution follows PostgreSQL: `pg_catalog.x` and `information_schema.x` name
//! only system relations (an unknown one is 42P01, `relation "pg_catalog.x" does not
//! exist`); an unqualified name finds pg_catalog's relation first, since pg_catalog is
//! implicitly searched before the search path (so a user table called `pg_class` is
//! reached only as `public.pg_class`); information_schema is not on the search path,
//! so its relations are reached only qualified. INSERT, UPDATE and DELETE of a catalog
//! table fail with 42501 (`permission denied for table pg_class`, what PostgreSQL says
//! to a user who is not a superuser), of a view (pg_tables, information_schema's) with
//! 55000 (`cannot delete from view "pg_tables"`); DDL on them is refused with 42501.
//!
//! ## What each holds
//!
//! One database, [`ClientInfo::database`], owned by the connected user
//! ([`ClientInfo::user`], the only role, OID 10 as PostgreSQL's bootstrap superuser);
//! every relation lives in schema `public` (OID 2200). OIDs are in `snapshot.rs`;
//! type OIDs are PostgreSQL's own (`pg_type.rs`).
//!
//! - `pg_namespace` (oid, nspname, nspowner): pg_catalog, pg_toast, public,
//!   information_schema, with PostgreSQL's OIDs; public is owned by
//!   `pg_database_owner`, as in PostgreSQL 15.
//! - `pg_class`: every table (`r`), index (`i`, a table's primary key as `<table>_pkey`)
//!   and view (`v`) — oid, relname, relnamespace, reltype, reloftype, relowner, relam,
//!   relfilenode, reltablespace, relpages, reltuples, relallvisible, reltoastrelid,
//!   relhasindex, relisshared, relpersistence, relkind, relnatts, relchecks,
//!   relhasrules, relhastriggers, relhassubclass, relrowsecurity, relforcerowsecurity,
//!   relispopulated, relreplident, relispartition.
//! - `pg_attribute`: the columns of tables and indexes (attnum from 1) — attrelid,
//!   attname, atttypid, attlen, attnum, attndims, atttypmod, attnotnull, atthasdef,
//!   attidentity, attgenerated, attisdropped, attislocal, attcollation.
//! - `pg_type`: the types hdb has (oid, typname, typnamespace, typowner, typlen,
//!   typbyval, typtype, typcategory, typisdefined, typdelim, typrelid, typelem,
//!   typarray, typnotnull, typbasetype, typtypmod, typndims, typcollation).
//! - `pg_index` (indexrelid, indrelid, indnatts, indnkeyatts, indisunique,
//!   indnullsnotdistinct, indisprimary, indisexclusion, indimmediate, indisclustered,
//!   indisvalid, indcheckxmin, indisready, indislive, indisreplident, indkey,
//!   indexprs, indpred: NULL, hdb has neither expression nor partial indexes).
//! - `pg_am` (oid, amname, amtype): heap and btree, the only access methods.
//! - `pg_database` (oid, datname, datdba, encoding, datlocprovider, datistemplate,
//!   datallowconn, datconnlimit, datcollate, datctype, daticulocale): the one database,
//!   UTF8 with C order, OID 5 (that of PostgreSQL's `postgres` database).
//! - `pg_roles` (oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb,
//!   rolcanlogin, rolreplication, rolconnlimit, rolbypassrls): the connected user.
//! - `pg_settings` (name, setting): the session's settings ([`ClientInfo::settings`]),
//!   each as SHOW prints it.
//! - `pg_attrdef` (oid, adrelid, adnum, adbin): each column DEFAULT, `adbin` the
//!   expression's text (what `pg_get_expr` gives back), not a parse tree.
//! - `pg_collation` (oid, collname, collnamespace, collprovider): default, C, POSIX.
//! - `pg_constraint` (oid, conname, connamespace, contype, condeferrable,
//!   condeferred, convalidated, conrelid, conindid, confrelid, confupdtype,
//!   confdeltype, confmatchtype, conkey, confkey, conparentid): primary keys and UNIQUE constraints
//!   (`p`, `u`, with their index's OID), foreign keys (`f`) and CHECK constraints
//!   (`c`); `conkey` and `confkey` as text (`{1,2}`), as PostgreSQL prints them.
//!   `pg_get_constraintdef(oid)` prints one (`PRIMARY KEY (id)`, `FOREIGN KEY (a)
//!   REFERENCES t(id)`, `CHECK (...)` with the expression as hdb keeps it).
//! - `pg_description` (objoid, classoid, objsubid, description): empty, since hdb
//!   keeps no comments.
//! - `pg_tables`, `pg_indexes` and `pg_views`, PostgreSQL's views of the above.
//! - `information_schema.schemata`, `tables`, `columns`, `table_constraints` (primary
//!   keys, UNIQUE constraints, foreign keys, CHECK constraints, and NOT NULL columns as
//!   CHECK constraints named `<namespace oid>_<table oid>_<attnum>_not_null`, as
//!   PostgreSQL 15 lists them) and `key_column_usage`.
//!
//! ## What is not there
//!
//! The system relations do not list themselves (pg_class has no row for pg_class, nor
//! information_schema.tables for it), though each has PostgreSQL 15's OID for
//! `'pg_class'::regclass` and its inverse; no other catalog (pg_proc, pg_description,
//! pg_inherits, pg_policy ...) exists, nor array types. Columns PostgreSQL types as
//! arrays, ACLs or expression trees (relacl, reloptions, indclass, indexprs ...) are
//! left out, and `indkey` is the text PostgreSQL prints for it (`1 2`), not an
//! `int2vector`. Sequences are not in pg_class. Views have no rows in pg_attribute
//! or information_schema.columns (their columns' types are known only by binding their
//! query). OIDs are INTEGER (hdb has no `oid` type), `name` and `"char"` columns TEXT.
//! A UNIQUE index counts as a UNIQUE constraint when it has the name the constraint
//! would have given it (`<table>_<columns>_key`), which is all H records of it.

mod constraints;
mod functions;
mod information_schema;
mod pg_catalog;
pub mod pg_type;
mod snapshot;

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::error::Result;
use crate::types::SqlType;
use crate::value::Value;

pub use constraints::{Constraint, constraints};
pub use functions::CatalogFunction;
pub use snapshot::{FIRST_OID, IndexOf, Relation, RelationKind, Snapshot, index_definition};

/// The schemas a system relation lives in.
pub const PG_CATALOG: &str = "pg_catalog";
pub const INFORMATION_SCHEMA: &str = "information_schema";
/// Where every relation of hdb lives.
pub const PUBLIC: &str = "public";

/// The OIDs of the schemas, PostgreSQL 15's.
pub const PG_CATALOG_OID: i64 = 11;
pub const PG_TOAST_OID: i64 = 99;
pub const PUBLIC_OID: i64 = 2200;
pub const INFORMATION_SCHEMA_OID: i64 = 13_207;
/// The connected user's OID (PostgreSQL's bootstrap superuser's).
pub const USER_OID: i64 = 10;
/// The owner of schema public: PostgreSQL 15's role `pg_database_owner`.
pub const DATABASE_OWNER_OID: i64 = 6171;
pub const DATABASE_OWNER: &str = "pg_database_owner";
/// The database's OID.
pub const DATABASE_OID: i64 = 5;
/// The access methods' OIDs.
pub const HEAP_OID: i64 = 2;
pub const BTREE_OID: i64 = 403;
/// PostgreSQL's number for the UTF8 encoding (`pg_encoding_to_char(6)`).
pub const UTF8_ENCODING: i64 = 6;
/// PostgreSQL's default collation.
pub const DEFAULT_COLLATION_OID: i64 = 100;

/// Who is connected, to which database, with which settings: what the system
/// relations and the functions `current_user`, `current_database()` report. The
/// embedder says (the server: the user and database the client named); an embedded
/// session is user `hdb` on database `hdb`.
#[derive(Debug)]
pub struct ClientInfo {
    pub user: String,
    pub database: String,
    /// The session's run-time parameters as SHOW prints them, by name as PostgreSQL
    /// spells it (`DateStyle`, `statement_timeout`), kept current by the session (its own settings) and the embedder (the ones it
    /// answers, such as the server's `application_name`).
    pub settings: Mutex<BTreeMap<String, String>>,
}

impl ClientInfo {
    pub fn new(user: &str, database: &str) -> ClientInfo {
        ClientInfo {
            user: user.to_string(),
            database: database.to_string(),
            settings: Mutex::new(BTreeMap::new()),
        }
    }

    /// Records a setting's value as SHOW prints it.
    pub fn set_setting(&self, name: &str, value: &str) {
        let mut settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        settings.insert(name.to_string(), value.to_string());
    }

    /// The settings recorded, by name.
    pub fn settings(&self) -> Vec<(String, String)> {
        let settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        settings
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect()
    }
}

impl Default for ClientInfo {
    fn default() -> Self {
        ClientInfo::new("hdb", "hdb")
    }
}

/// Two plans bound for the same user and database are the same plan.
impl PartialEq for ClientInfo {
    fn eq(&self, other: &Self) -> bool {
        self.user == other.user && self.database == other.database
    }
}

/// A system relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SystemRelation {
    PgNamespace,
    PgClass,
    PgAttribute,
    PgType,
    PgIndex,
    PgAm,
    PgDatabase,
    PgRoles,
    PgSettings,
    PgAttrdef,
    PgCollation,
    PgConstraint,
    PgDescription,
    PgTables,
    PgIndexes,
    PgViews,
    Schemata,
    Tables,
    Columns,
    TableConstraints,
    KeyColumnUsage,
}

use SystemRelation::*;

const ALL: &[SystemRelation] = &[
    PgNamespace,
    PgClass,
    PgAttribute,
    PgType,
    PgIndex,
    PgAm,
    PgDatabase,
    PgRoles,
    PgSettings,
    PgAttrdef,
    PgCollation,
    PgConstraint,
    PgDescription,
    PgTables,
    PgIndexes,
    PgViews,
    Schemata,
    Tables,
    Columns,
    TableConstraints,
    KeyColumnUsage,
];

/// A column of a system relation: its name and type.
pub type SystemColumn = (&'static str, SqlType);

impl SystemRelation {
    /// The relation `schema.name` names (`schema` `None`: unqualified, which finds
    /// pg_catalog's relations only, as the module comment says).
    pub fn lookup(schema: Option<&str>, name: &str) -> Option<SystemRelation> {
        let schema = schema.unwrap_or(PG_CATALOG);
        ALL.iter()
            .copied()
            .find(|r| r.schema() == schema && r.name() == name)
    }

    /// Whether `schema` holds system relations only.
    pub fn is_system_schema(schema: &str) -> bool {
        schema == PG_CATALOG || schema == INFORMATION_SCHEMA
    }

    pub fn schema(self) -> &'static str {
        match self {
            Schemata | Tables | Columns | TableConstraints | KeyColumnUsage => INFORMATION_SCHEMA,
            _ => PG_CATALOG,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PgNamespace => "pg_namespace",
            PgClass => "pg_class",
            PgAttribute => "pg_attribute",
            PgType => "pg_type",
            PgIndex => "pg_index",
            PgAm => "pg_am",
            PgDatabase => "pg_database",
            PgRoles => "pg_roles",
            PgSettings => "pg_settings",
            PgAttrdef => "pg_attrdef",
            PgCollation => "pg_collation",
            PgConstraint => "pg_constraint",
            PgDescription => "pg_description",
            PgTables => "pg_tables",
            PgIndexes => "pg_indexes",
            PgViews => "pg_views",
            Schemata => "schemata",
            Tables => "tables",
            Columns => "columns",
            TableConstraints => "table_constraints",
            KeyColumnUsage => "key_column_usage",
        }
    }

    /// Whether PostgreSQL's relation is a view (writes to it fail as to a view).
    pub fn is_view(self) -> bool {
        !matches!(
            self,
            PgNamespace
                | PgClass
                | PgAttribute
                | PgType
                | PgIndex
                | PgAm
                | PgDatabase
                | PgAttrdef
                | PgCollation
                | PgConstraint
                | PgDescription
        )
    }

    /// Its OID: PostgreSQL 15's for the same relation (what `'pg_class'::regclass`
    /// gives).
    pub fn oid(self) -> i64 {
        match self {
            PgType => 1247,
            PgAttribute => 1249,
            PgClass => 1259,
            PgDatabase => 1262,
            PgAm => 2601,
            PgAttrdef => 2604,
            PgConstraint => 2606,
            PgDescription => 2609,
            PgIndex => 2610,
            PgNamespace => 2615,
            PgCollation => 3456,
            PgRoles => 12_000,
            PgViews => 12_028,
            PgTables => 12_033,
            PgIndexes => 12_043,
            PgSettings => 12_104,
            Columns => 13_295,
            KeyColumnUsage => 13_329,
            Schemata => 13_382,
            TableConstraints => 13_411,
            Tables => 13_425,
        }
    }

    /// The system relation with OID `oid`.
    pub fn by_oid(oid: i64) -> Option<SystemRelation> {
        ALL.iter().copied().find(|r| r.oid() == oid)
    }

    /// Its columns, in order, named and typed as PostgreSQL 15's (see the module
    /// comment for the types).
    pub fn columns(self) -> &'static [SystemColumn] {
        match self {
            PgNamespace | PgClass | PgAttribute | PgType | PgIndex | PgAm | PgDatabase
            | PgRoles | PgSettings | PgAttrdef | PgCollation | PgConstraint | PgDescription
            | PgTables | PgIndexes | PgViews => pg_catalog::columns(self),
            Schemata | Tables | Columns | TableConstraints | KeyColumnUsage => {
                information_schema::columns(self)
            }
        }
    }

    /// Its rows, computed from `catalog` for `client`.
    pub fn rows(self, catalog: &Snapshot, client: &ClientInfo) -> Result<Vec<Vec<Value>>> {
        let rows = match self {
            PgNamespace | PgClass | PgAttribute | PgType | PgIndex | PgAm | PgDatabase
            | PgRoles | PgSettings | PgAttrdef | PgCollation | PgConstraint | PgDescription
            | PgTables | PgIndexes | PgViews => pg_catalog::rows(self, catalog, client),
            Schemata | Tables | Columns | TableConstraints | KeyColumnUsage => {
                information_schema::rows(self, catalog, client)
            }
        };
        debug_assert!(rows.iter().all(|r| r.len() == self.columns().len()));
        Ok(rows)
    }
}

impl std::fmt::Display for SystemRelation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema(), self.name())
    }
}

/// `pg_table_is_visible(oid)`: whether a relation with OID `oid` exists in a schema
/// on the search path (every relation of hdb is in `public`, and pg_catalog is always
/// searched).
pub fn table_is_visible(catalog: &Snapshot, oid: i64) -> bool {
    catalog.by_oid(oid).is_some()
        || SystemRelation::by_oid(oid).is_some_and(|r| r.schema() == PG_CATALOG)
}

/// `pg_get_constraintdef(oid, pretty)`: the constraint's definition; NULL for an OID
/// that is not a constraint's.
pub fn constraint_def(catalog: &Snapshot, oid: i64, pretty: bool) -> Value {
    constraints(catalog)
        .into_iter()
        .find(|c| c.oid == oid)
        .map_or(Value::Null, |c| Value::Text(c.definition(catalog, pretty)))
}

/// `pg_get_indexdef(oid, column)`: the index's CREATE INDEX text (`column` 0), or its
/// `column`-th column's name (from 1); NULL for an OID that is not an index or a
/// column it does not have, as in PostgreSQL.
pub fn index_def(catalog: &Snapshot, oid: i64, column: i64) -> Value {
    let Some(relation) = catalog.by_oid(oid) else {
        return Value::Null;
    };
    let Some(index) = relation.index() else {
        return Value::Null;
    };
    let Some(table) = catalog.by_oid(index.table_oid).and_then(Relation::table) else {
        return Value::Null;
    };
    if column == 0 {
        return Value::Text(index_definition(&relation.name, index, table));
    }
    let position = usize::try_from(column - 1).ok();
    position
        .and_then(|p| index.columns.iter().chain(&index.include).nth(p))
        .and_then(|c| table.columns.get(*c))
        .map_or(Value::Null, |c| Value::Text(snapshot::quote_ident(&c.name)))
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn int(n: i64) -> Value {
    Value::Int(n)
}

fn opt_int(n: Option<i64>) -> Value {
    n.map_or(Value::Null, Value::Int)
}

fn yes_no(b: bool) -> Value {
    text(if b { "YES" } else { "NO" })
}
