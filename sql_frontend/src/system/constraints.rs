//! The constraints of every table, as pg_constraint lists them and
//! `pg_get_constraintdef` prints them: primary keys and UNIQUE constraints (their OID
//! is their index's, as each has one), foreign keys and CHECK constraints (numbered
//! from [`FIRST_CONSTRAINT_OID`] in table and name order: stable while no constraint
//! sorting before them comes or goes).

use super::snapshot::{Relation, Snapshot, quote_ident};
use crate::foreign_key::{Action, ForeignKey};

/// Foreign keys and CHECK constraints are numbered from here.
pub const FIRST_CONSTRAINT_OID: i64 = 1 << 29;

/// One constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    pub oid: i64,
    pub name: String,
    pub table_oid: i64,
    pub table: String,
    /// pg_constraint's `contype`: `p`, `u`, `f` or `c`.
    pub contype: &'static str,
    /// The key columns' positions in the table (from 0), for `p`, `u` and `f`.
    pub columns: Vec<usize>,
    /// `conindid`: the index behind a key, or the referenced key's for a foreign key.
    pub index_oid: i64,
    /// A foreign key: the referenced table's OID and its columns' positions.
    pub referenced: Option<(i64, Vec<usize>)>,
    pub foreign_key: Option<ForeignKey>,
    /// A CHECK constraint's expression, as hdb keeps it.
    pub check: Option<String>,
}

impl Constraint {
    /// What `pg_get_constraintdef` prints (`pretty`: a CHECK's expression without the
    /// parentheses PostgreSQL otherwise puts around it).
    pub fn definition(&self, catalog: &Snapshot, pretty: bool) -> String {
        let names = |oid: i64, positions: &[usize]| -> String {
            let table = catalog.by_oid(oid).and_then(Relation::table);
            let names: Vec<String> = positions
                .iter()
                .map(|p| {
                    table
                        .and_then(|t| t.columns.get(*p))
                        .map_or_else(|| "?".to_string(), |c| quote_ident(&c.name))
                })
                .collect();
            names.join(", ")
        };
        match self.contype {
            "p" => format!("PRIMARY KEY ({})", names(self.table_oid, &self.columns)),
            "u" => format!("UNIQUE ({})", names(self.table_oid, &self.columns)),
            "f" => {
                let (referenced_oid, referenced_columns) =
                    self.referenced.clone().unwrap_or_default();
                let referenced_name = catalog
                    .by_oid(referenced_oid)
                    .map_or_else(String::new, |r| quote_ident(&r.name));
                let mut text = format!(
                    "FOREIGN KEY ({}) REFERENCES {referenced_name}({})",
                    names(self.table_oid, &self.columns),
                    names(referenced_oid, &referenced_columns)
                );
                if let Some(fk) = &self.foreign_key {
                    for (event, action) in [("UPDATE", fk.on_update), ("DELETE", fk.on_delete)] {
                        if action != Action::NoAction {
                            text.push_str(&format!(" ON {event} {}", action.name()));
                        }
                    }
                }
                text
            }
            _ => {
                let check = self.check.as_deref().unwrap_or_default();
                match pretty {
                    true => format!("CHECK ({check})"),
                    false => format!("CHECK (({check}))"),
                }
            }
        }
    }
}

/// pg_constraint's letter for a foreign key action.
pub fn action_letter(action: Action) -> &'static str {
    match action {
        Action::NoAction => "a",
        Action::Restrict => "r",
        Action::Cascade => "c",
        Action::SetNull => "n",
        Action::SetDefault => "d",
    }
}

/// Every constraint of every table, by table then name.
pub fn constraints(catalog: &Snapshot) -> Vec<Constraint> {
    let mut keys = Vec::new();
    let mut others = Vec::new();
    for (relation, table) in catalog.tables() {
        let position = |name: &String, of: &crate::catalog::TableInfo| of.column_index(name);
        for (index_relation, index) in catalog.indexes() {
            if index.table_oid != relation.oid || !index.constraint {
                continue;
            }
            keys.push(Constraint {
                oid: index_relation.oid,
                name: index_relation.name.clone(),
                table_oid: relation.oid,
                table: relation.name.clone(),
                contype: if index.primary { "p" } else { "u" },
                columns: index.columns.clone(),
                index_oid: index_relation.oid,
                referenced: None,
                foreign_key: None,
                check: None,
            });
        }
        for fk in &table.foreign_keys {
            let referenced = catalog.by_name(&fk.referenced);
            let referenced_table = referenced.and_then(Relation::table);
            let referenced_columns: Vec<usize> = referenced_table
                .map(|t| {
                    fk.referenced_columns
                        .iter()
                        .filter_map(|c| position(c, t))
                        .collect()
                })
                .unwrap_or_default();
            let index_oid = catalog
                .indexes()
                .find(|(_, i)| {
                    referenced.is_some_and(|r| r.oid == i.table_oid)
                        && i.unique
                        && i.columns.len() == referenced_columns.len()
                        && referenced_columns.iter().all(|c| i.columns.contains(c))
                })
                .map_or(0, |(r, _)| r.oid);
            others.push(Constraint {
                oid: 0,
                name: fk.name.clone(),
                table_oid: relation.oid,
                table: relation.name.clone(),
                contype: "f",
                columns: fk
                    .columns
                    .iter()
                    .filter_map(|c| position(c, table))
                    .collect(),
                index_oid,
                referenced: referenced.map(|r| (r.oid, referenced_columns)),
                foreign_key: Some(fk.clone()),
                check: None,
            });
        }
        for check in &table.checks {
            others.push(Constraint {
                oid: 0,
                name: check.name.clone(),
                table_oid: relation.oid,
                table: relation.name.clone(),
                contype: "c",
                columns: Vec::new(),
                index_oid: 0,
                referenced: None,
                foreign_key: None,
                check: Some(check.definition.clone()),
            });
        }
    }
    others.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    for (i, constraint) in others.iter_mut().enumerate() {
        constraint.oid = FIRST_CONSTRAINT_OID + i as i64;
    }
    keys.extend(others);
    keys.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    keys
}
