//! The catalog as the system relations show it: every table, index and view a
//! transaction sees, each with its OID, read once per statement.
//!
//! ## OIDs
//!
//! PostgreSQL gives each relation an OID from a counter; hdb has none, so OIDs are
//! derived from what identifies a relation in H, above [`FIRST_OID`] (PostgreSQL's
//! first user OID), so they never meet PostgreSQL's built-in ones:
//!
//! - a table: `FIRST_OID + 2 × tree` — its B-tree's id, which no other tree shares;
//! - its primary key (PostgreSQL's `<table>_pkey` index; in H the table's own tree is
//!   keyed by it): the table's OID + 1;
//! - a secondary index: `FIRST_OID + 2 × tree`, its own tree's id;
//! - a view (no tree): [`FIRST_VIEW_OID`] + its position among the views in name order.
//!
//! So a table's OID survives renames and other tables' DDL, as in PostgreSQL, but not
//! what gives it new trees (TRUNCATE, DROP COLUMN, ALTER COLUMN TYPE, ADD PRIMARY KEY),
//! where PostgreSQL keeps it; a view's changes when a view with an earlier name is
//! created or dropped. Within one statement OIDs are fixed, which is what clients rely
//! on when they join by them.

use engine::Transaction;

use crate::catalog::{self, RESERVED_PREFIX, TableInfo};
use crate::error::Result;
use crate::view_catalog::{self, ViewInfo};

/// PostgreSQL's first OID for user objects.
pub const FIRST_OID: i64 = 16_384;
/// Views are numbered from here (above any tree id H will reach).
pub const FIRST_VIEW_OID: i64 = 1 << 30;

/// One relation: a table, an index or a view.
#[derive(Debug, Clone)]
pub struct Relation {
    pub oid: i64,
    pub name: String,
    pub kind: RelationKind,
}

#[derive(Debug, Clone)]
pub enum RelationKind {
    Table(TableInfo),
    Index(IndexOf),
    View(ViewInfo),
}

/// An index, as pg_index describes it.
#[derive(Debug, Clone)]
pub struct IndexOf {
    pub table: String,
    pub table_oid: i64,
    pub unique: bool,
    pub primary: bool,
    /// Positions (from 0) of the key columns in the table, in index order.
    pub columns: Vec<usize>,
    /// Positions of the INCLUDE columns.
    pub include: Vec<usize>,
    /// Whether a UNIQUE constraint made it (its name is the one the constraint gives
    /// its index, `<table>_<columns>_key`; H does not record more).
    pub constraint: bool,
}

impl Relation {
    /// pg_class's `relkind`: `r` table, `i` index, `v` view.
    pub fn relkind(&self) -> &'static str {
        match self.kind {
            RelationKind::Table(_) => "r",
            RelationKind::Index(_) => "i",
            RelationKind::View(_) => "v",
        }
    }

    pub fn table(&self) -> Option<&TableInfo> {
        match &self.kind {
            RelationKind::Table(table) => Some(table),
            _ => None,
        }
    }

    pub fn index(&self) -> Option<&IndexOf> {
        match &self.kind {
            RelationKind::Index(index) => Some(index),
            _ => None,
        }
    }
}

/// Every relation a transaction sees, hdb's own (`__hdb_...`) left out, in name order.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub relations: Vec<Relation>,
}

impl Snapshot {
    /// The catalog as `txn` sees it (its own uncommitted DDL included).
    pub fn read(txn: &mut Transaction) -> Result<Snapshot> {
        let mut relations = Vec::new();
        for schema in engine::table::catalog::tables(txn)? {
            if schema.name.starts_with(RESERVED_PREFIX) {
                continue;
            }
            let Some(table) = catalog::find_table(txn, &schema.name)? else {
                continue;
            };
            let table_oid = FIRST_OID + 2 * i64::from(schema.tree.0);
            if !schema.primary_key.is_empty() {
                relations.push(Relation {
                    oid: table_oid + 1,
                    name: format!("{}_pkey", schema.name),
                    kind: RelationKind::Index(IndexOf {
                        table: schema.name.clone(),
                        table_oid,
                        unique: true,
                        primary: true,
                        columns: schema.primary_key.clone(),
                        include: Vec::new(),
                        constraint: true,
                    }),
                });
            }
            for index in &schema.indexes {
                let names: Vec<String> = index
                    .columns
                    .iter()
                    .map(|c| schema.columns[*c].name.clone())
                    .collect();
                relations.push(Relation {
                    oid: FIRST_OID + 2 * i64::from(index.tree.0),
                    name: index.name.clone(),
                    kind: RelationKind::Index(IndexOf {
                        table: schema.name.clone(),
                        table_oid,
                        unique: index.unique,
                        primary: false,
                        columns: index.columns.clone(),
                        include: index.include.clone(),
                        constraint: index.unique
                            && index.name == catalog::unique_index_name(&schema.name, &names),
                    }),
                });
            }
            relations.push(Relation {
                oid: table_oid,
                name: schema.name.clone(),
                kind: RelationKind::Table(table),
            });
        }
        let mut views = view_catalog::views(txn)?;
        views.sort_by(|a, b| a.name.cmp(&b.name));
        for (position, view) in views.into_iter().enumerate() {
            relations.push(Relation {
                oid: FIRST_VIEW_OID + position as i64,
                name: view.name.clone(),
                kind: RelationKind::View(view),
            });
        }
        relations.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Snapshot { relations })
    }

    pub fn by_oid(&self, oid: i64) -> Option<&Relation> {
        self.relations.iter().find(|r| r.oid == oid)
    }

    pub fn by_name(&self, name: &str) -> Option<&Relation> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The tables, in name order.
    pub fn tables(&self) -> impl Iterator<Item = (&Relation, &TableInfo)> {
        self.relations
            .iter()
            .filter_map(|r| r.table().map(|t| (r, t)))
    }

    /// The indexes, in name order.
    pub fn indexes(&self) -> impl Iterator<Item = (&Relation, &IndexOf)> {
        self.relations
            .iter()
            .filter_map(|r| r.index().map(|i| (r, i)))
    }
}

/// `CREATE [UNIQUE] INDEX` text of an index, as `pg_get_indexdef` and pg_indexes'
/// `indexdef` give it: `CREATE UNIQUE INDEX accounts_pkey ON public.accounts USING
/// btree (id)`.
pub fn index_definition(name: &str, index: &IndexOf, table: &TableInfo) -> String {
    let column = |c: &usize| {
        table
            .columns
            .get(*c)
            .map_or_else(|| "?".to_string(), |c| quote_ident(&c.name))
    };
    let columns: Vec<String> = index.columns.iter().map(column).collect();
    let include = match index.include.is_empty() {
        true => String::new(),
        false => {
            let included: Vec<String> = index.include.iter().map(column).collect();
            format!(" INCLUDE ({})", included.join(", "))
        }
    };
    format!(
        "CREATE {}INDEX {} ON public.{} USING btree ({}){include}",
        if index.unique { "UNIQUE " } else { "" },
        quote_ident(name),
        quote_ident(&index.table),
        columns.join(", ")
    )
}

/// An identifier as PostgreSQL's `quote_ident` prints it: bare when it is lower case
/// letters, digits and underscores not starting with a digit, else double-quoted.
pub fn quote_ident(name: &str) -> String {
    let bare = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    match bare {
        true => name.to_string(),
        false => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}
