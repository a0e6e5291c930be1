//! DDL: tables and indexes go to the SQL catalog (`catalog.rs`) and the engine's
//! catalog, functions to the SQL catalog, sequences to theirs (`sequence/`), all in the
//! statement's transaction (so DDL rolls back like any write). Tables, views and
//! sequences share one namespace, as PostgreSQL's relations do; a sequence owned by a
//! column (SERIAL, identity) is created, renamed and dropped with its table.

use engine::Transaction;
use engine::table::catalog as engine_catalog;

use super::alter;
use super::operator::Builder;
use super::output::Output;
use super::references;
use crate::catalog;
use crate::error::{Error, Result};
use crate::foreign_key;
use crate::plan::Ddl;
use crate::sequence::{self, SequenceValues};
use crate::statistics;
use crate::view_catalog;

/// Before dropping the tables or views `names` (of `kind`): drops the views that depend
/// on them, directly or through other views, when `cascade`; otherwise fails naming
/// them, as PostgreSQL does (a view in `names` itself may depend on another).
fn drop_dependent_views(
    txn: &mut Transaction,
    kind: &str,
    names: &[String],
    cascade: bool,
) -> Result<()> {
    let dependents = view_catalog::dependents_closure(txn, names)?;
    let Some(first) = names
        .iter()
        .find(|name| dependents.iter().any(|d| d.referenced == **name))
    else {
        return Ok(());
    };
    if cascade {
        for dependency in &dependents {
            view_catalog::drop_view(txn, &dependency.dependent)?;
        }
        return Ok(());
    }
    let details: Vec<String> = dependents
        .iter()
        .map(|d| {
            let referenced_kind = match names.contains(&d.referenced) {
                true => kind,
                false => "view",
            };
            format!(
                "view {} depends on {referenced_kind} {}",
                d.dependent, d.referenced
            )
        })
        .collect();
    Err(Error::DependentObjects(format!(
        "cannot drop {kind} {first} because other objects depend on it\nDETAIL:  {}\n\
         HINT:  Use DROP ... CASCADE to drop the dependent objects too.",
        details.join("\n")
    )))
}

/// Renaming a table or its columns under a view would break the view's stored query
/// (PostgreSQL's views follow renames; hdb's keep their text): refused while views
/// depend on the table.
fn refuse_if_viewed(txn: &mut Transaction, table: &str) -> Result<()> {
    let views = view_catalog::dependents(txn, table)?;
    match views.is_empty() {
        true => Ok(()),
        false => Err(Error::unsupported(format!(
            "renaming table \"{table}\" or its columns while views depend on it ({}); \
             drop the views first",
            views.join(", ")
        ))),
    }
}

/// Runs a schema change; sequence functions (in an added column's DEFAULT) take
/// values through `sequences`.
pub(super) fn ddl(
    txn: &mut Transaction,
    ddl: &Ddl,
    sequences: Option<&SequenceValues>,
    build: Builder,
) -> Result<Output> {
    match ddl {
        Ddl::CreateTable {
            name,
            columns,
            primary_key,
            unique,
            checks,
            foreign_keys,
            fillfactor,
            sequences,
            if_not_exists,
        } => {
            if *if_not_exists
                && (engine_catalog::find_table(txn, name)?.is_some()
                    || view_catalog::find_view(txn, name)?.is_some())
            {
                return Ok(Output::tag("CREATE TABLE"));
            }
            refuse_sequence_name(txn, name)?;
            catalog::create_table(txn, name, columns, primary_key, checks)?;
            for def in sequences {
                refuse_relation_name(txn, &def.name)?;
                sequence::create(txn, def.clone())?;
            }
            if let Some(fillfactor) = fillfactor {
                catalog::set_fillfactor(txn, name, *fillfactor)?;
            }
            for columns in unique {
                let names: Vec<&str> = columns.iter().map(String::as_str).collect();
                engine_catalog::create_index(
                    txn,
                    name,
                    &catalog::unique_index_name(name, columns),
                    &names,
                    true,
                )?;
            }
            for fk in foreign_keys {
                // The referenced table must still be there (it may be this one).
                catalog::table(txn, &fk.referenced)?;
                foreign_key::create(txn, fk)?;
            }
            Ok(Output::tag("CREATE TABLE"))
        }
        Ddl::DropTable {
            names,
            if_exists,
            cascade,
        } => {
            let mut present = Vec::with_capacity(names.len());
            for name in names {
                if engine_catalog::find_table(txn, name)?.is_some() {
                    present.push(name.clone());
                } else if view_catalog::find_view(txn, name)?.is_some() {
                    return Err(Error::Type(format!(
                        "\"{name}\" is not a table (use DROP VIEW to remove a view)"
                    )));
                } else if !if_exists {
                    return Err(Error::UnknownTable(name.clone()));
                }
            }
            drop_dependent_views(txn, "table", &present, *cascade)?;
            drop_referencing_keys(txn, &present, *cascade)?;
            for name in &present {
                catalog::drop_table(txn, name)?;
                for owned in sequence::owned_by_table(txn, name)? {
                    sequence::drop(txn, &owned.def.name)?;
                }
            }
            Ok(Output::tag("DROP TABLE"))
        }
        Ddl::CreateView {
            view,
            depends_on,
            or_replace,
        } => {
            refuse_sequence_name(txn, &view.name)?;
            view_catalog::create_view(txn, view, depends_on, *or_replace)?;
            Ok(Output::tag("CREATE VIEW"))
        }
        Ddl::DropView {
            names,
            if_exists,
            cascade,
        } => {
            let mut present = Vec::with_capacity(names.len());
            for name in names {
                if view_catalog::find_view(txn, name)?.is_some() {
                    present.push(name.clone());
                } else if engine_catalog::find_table(txn, name)?.is_some() {
                    return Err(Error::Type(format!(
                        "\"{name}\" is not a view (use DROP TABLE to remove a table)"
                    )));
                } else if !if_exists {
                    return Err(Error::UnknownView(name.clone()));
                }
            }
            drop_dependent_views(txn, "view", &present, *cascade)?;
            for name in &present {
                view_catalog::drop_view(txn, name)?;
            }
            Ok(Output::tag("DROP VIEW"))
        }
        Ddl::CreateIndex {
            name,
            table,
            columns,
            include,
            unique,
            if_not_exists,
        } => {
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            let include: Vec<&str> = include.iter().map(String::as_str).collect();
            match engine_catalog::create_index_including(
                txn, table, name, &names, &include, *unique,
            ) {
                Ok(built) => {
                    // The build counted the rows: unless the table's statistics are
                    // current (taken at about as many rows, as the automatic analyze
                    // judges), gather them, so the planner can judge the new index.
                    if statistics_stale(txn, table, built.rows)? {
                        super::analyze(txn, &[(table.clone(), Vec::new())])?;
                    }
                    Ok(Output::tag("CREATE INDEX"))
                }
                Err(engine::Error::AlreadyExists { .. }) if *if_not_exists => {
                    Ok(Output::tag("CREATE INDEX"))
                }
                Err(e) => Err(e.into()),
            }
        }
        Ddl::DropIndex { names, if_exists } => {
            for name in names {
                refuse_if_index_referenced(txn, name)?;
                match engine_catalog::drop_index(txn, name) {
                    Ok(()) => {}
                    Err(engine::Error::NotFound { kind: "index", .. }) if *if_exists => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(Output::tag("DROP INDEX"))
        }
        Ddl::CreateFunction {
            name,
            definition,
            or_replace,
        } => {
            catalog::create_function(txn, name, definition, *or_replace)?;
            Ok(Output::tag("CREATE FUNCTION"))
        }
        Ddl::DropFunction { names, if_exists } => {
            for name in names {
                if !catalog::drop_function(txn, name)? && !if_exists {
                    return Err(Error::UnknownFunction(format!("{name}()")));
                }
            }
            Ok(Output::tag("DROP FUNCTION"))
        }
        Ddl::Truncate {
            names,
            restart_identity,
        } => {
            refuse_truncating_referenced(txn, names)?;
            for name in names {
                engine_catalog::truncate_table(txn, name)?;
                if *restart_identity {
                    for owned in sequence::owned_by_table(txn, name)? {
                        sequence::restart(txn, owned)?;
                    }
                }
            }
            Ok(Output::tag("TRUNCATE TABLE"))
        }
        Ddl::AddPrimaryKey {
            table,
            columns,
            constraint,
        } => {
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            engine_catalog::add_primary_key(txn, table, &names, constraint)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::RenameTable { table, new_name } => {
            refuse_if_viewed(txn, table)?;
            if view_catalog::find_view(txn, new_name)?.is_some() {
                return Err(Error::AlreadyExists {
                    kind: "relation".into(),
                    name: new_name.clone(),
                });
            }
            refuse_sequence_name(txn, new_name)?;
            catalog::rename_table(txn, table, new_name)?;
            sequence::rename_owner(txn, table, new_name, None)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::RenameColumn {
            table,
            column,
            new_name,
        } => {
            refuse_if_viewed(txn, table)?;
            engine::table::alter::rename_column(txn, table, column, new_name)?;
            sequence::rename_owner(txn, table, table, Some((column, new_name)))?;
            foreign_key::rename_column(txn, table, column, new_name)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::SetNotNull {
            table,
            column,
            not_null,
        } => {
            engine::table::alter::set_nullable(txn, table, column, !not_null)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::SetDefault {
            table,
            column,
            default,
        } => {
            catalog::set_default(txn, table, *column, default.clone())?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::AlterTable { actions, .. } => {
            for action in actions {
                self::ddl(txn, action, sequences, build)?;
            }
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::AddColumn(add) => {
            alter::add_column(txn, add, sequences, build)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::DropColumn {
            table,
            position,
            drop_checks,
            drop_foreign_keys,
            drop_sequences,
        } => {
            for (owner, name) in drop_foreign_keys {
                foreign_key::drop(txn, owner, name)?;
            }
            alter::drop_column(txn, table, *position, drop_checks, drop_sequences)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::AlterColumnType(change) => {
            alter::alter_column_type(txn, change)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::AddCheck { table, check, expr } => {
            alter::add_check(txn, table, check, expr.as_ref())?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::AddUnique {
            table,
            index,
            columns,
        } => {
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            engine_catalog::create_index(txn, table, index, &names, true)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::AddForeignKey { fk } => {
            references::add_foreign_key(txn, fk)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::DropConstraint { table, name, kind } => {
            alter::drop_constraint(txn, table, name, *kind)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::CreateSequence { def, if_not_exists } => {
            if *if_not_exists && sequence::find(txn, &def.name)?.is_some() {
                return Ok(Output::tag("CREATE SEQUENCE"));
            }
            refuse_relation_name(txn, &def.name)?;
            sequence::create(txn, def.clone())?;
            Ok(Output::tag("CREATE SEQUENCE"))
        }
        Ddl::DropSequence {
            names,
            if_exists,
            cascade,
        } => {
            for name in names {
                if sequence::find(txn, name)?.is_none() {
                    if engine_catalog::find_table(txn, name)?.is_some()
                        || view_catalog::find_view(txn, name)?.is_some()
                    {
                        return Err(Error::Type(format!("\"{name}\" is not a sequence")));
                    }
                    if *if_exists {
                        continue;
                    }
                    return Err(Error::UnknownSequence(name.clone()));
                }
                drop_sequence_users(txn, name, *cascade)?;
                sequence::drop(txn, name)?;
            }
            Ok(Output::tag("DROP SEQUENCE"))
        }
    }
}

/// Before dropping the tables `names`: the FOREIGN KEY constraints of other tables
/// that reference them are dropped with CASCADE, and are an error without.
fn drop_referencing_keys(txn: &mut Transaction, names: &[String], cascade: bool) -> Result<()> {
    for name in names {
        for fk in foreign_key::referencing(txn, name)? {
            if names.contains(&fk.table) {
                continue;
            }
            if !cascade {
                return Err(Error::DependentObjects(format!(
                    "cannot drop table {name} because other objects depend on it\n\
                     DETAIL:  constraint {} on table {} depends on table {name}\n\
                     HINT:  Use DROP ... CASCADE to drop the dependent objects too.",
                    fk.name, fk.table
                )));
            }
            foreign_key::drop(txn, &fk.table, &fk.name)?;
        }
    }
    Ok(())
}

/// TRUNCATE of a table that another table (not truncated with it) references would
/// orphan that table's rows: refused, as PostgreSQL refuses it.
fn refuse_truncating_referenced(txn: &mut Transaction, names: &[String]) -> Result<()> {
    for name in names {
        if let Some(fk) = foreign_key::referencing(txn, name)?
            .into_iter()
            .find(|fk| !names.contains(&fk.table))
        {
            return Err(Error::unsupported(format!(
                "cannot truncate a table referenced in a foreign key constraint\n\
                 DETAIL:  Table \"{}\" references \"{name}\".\n\
                 HINT:  Truncate table \"{}\" at the same time.",
                fk.table, fk.table
            )));
        }
    }
    Ok(())
}

/// Dropping the unique index a FOREIGN KEY relies on is refused.
fn refuse_if_index_referenced(txn: &mut Transaction, index: &str) -> Result<()> {
    for schema in engine_catalog::tables(txn)? {
        let Some(found) = schema.indexes.iter().find(|i| i.name == index) else {
            continue;
        };
        let columns = found.columns.clone();
        let info = catalog::table(txn, &schema.name)?;
        for fk in &info.referenced_by {
            let names: Vec<&str> = columns
                .iter()
                .map(|&c| info.columns[c].name.as_str())
                .collect();
            if found.unique
                && fk.referenced_columns.len() == names.len()
                && fk
                    .referenced_columns
                    .iter()
                    .all(|c| names.contains(&c.as_str()))
            {
                return Err(Error::DependentObjects(format!(
                    "cannot drop index {index} because constraint {} on table {} requires it",
                    fk.name, fk.table
                )));
            }
        }
        return Ok(());
    }
    Ok(())
}

/// Refuses `name` for a new table, view or sequence if a relation has it already.
fn refuse_relation_name(txn: &mut Transaction, name: &str) -> Result<()> {
    if engine_catalog::find_table(txn, name)?.is_some()
        || view_catalog::find_view(txn, name)?.is_some()
    {
        return Err(Error::AlreadyExists {
            kind: "relation".into(),
            name: name.to_string(),
        });
    }
    refuse_sequence_name(txn, name)
}

/// Refuses `name` for a new table or view if a sequence has it (the catalogs of tables
/// and views refuse each other's names themselves).
fn refuse_sequence_name(txn: &mut Transaction, name: &str) -> Result<()> {
    match sequence::find(txn, name)? {
        Some(_) => Err(Error::AlreadyExists {
            kind: "relation".into(),
            name: name.to_string(),
        }),
        None => Ok(()),
    }
}

/// Before DROP SEQUENCE `name`: the column defaults that take its values. An identity
/// column's sequence cannot be dropped at all (drop the column or its identity); a
/// default that calls `nextval` on it is dropped with CASCADE, and is an error without
/// (PostgreSQL's rules, SQLSTATE 2BP01).
fn drop_sequence_users(txn: &mut Transaction, name: &str, cascade: bool) -> Result<()> {
    for schema in engine_catalog::tables(txn)? {
        if schema.name.starts_with(catalog::RESERVED_PREFIX) {
            continue;
        }
        let Some(table) = catalog::find_table(txn, &schema.name)? else {
            continue;
        };
        for (position, column) in table.columns.iter().enumerate() {
            let Some(default) = &column.default else {
                continue;
            };
            if default.sequence() != Some(name) {
                continue;
            }
            if matches!(default, catalog::ColumnDefault::Identity { .. }) {
                return Err(Error::DependentObjects(format!(
                    "cannot drop sequence {name} because column {} of table {} requires it",
                    column.name,
                    table.name()
                )));
            }
            if !cascade {
                return Err(Error::DependentObjects(format!(
                    "cannot drop sequence {name} because other objects depend on it \
                     (default value for column {} of table {} depends on sequence {name}); \
                     use DROP ... CASCADE to drop the dependent objects too",
                    column.name,
                    table.name()
                )));
            }
            catalog::set_default(txn, table.name(), position, None)?;
        }
    }
    Ok(())
}

/// Whether `table`, found to hold `rows` rows, lacks statistics or has statistics taken
/// at a row count that differs from it by enough to make the automatic analyze due.
fn statistics_stale(txn: &mut Transaction, table: &str, rows: u64) -> Result<bool> {
    let Some(stats) = statistics::store::load(txn, table)? else {
        return Ok(true);
    };
    let changed = (rows as f64 - stats.rows).abs() as u64;
    Ok(statistics::changes::is_due(changed, stats.rows))
}
