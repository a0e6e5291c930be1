//! DDL: tables and indexes go to the SQL catalog (`catalog.rs`) and the engine's
//! catalog, functions to the SQL catalog, all in the statement's transaction (so DDL
//! rolls back like any write).

use engine::Transaction;
use engine::table::catalog as engine_catalog;

use super::output::Output;
use crate::catalog;
use crate::error::{Error, Result};
use crate::plan::Ddl;

/// The name of the index behind a UNIQUE constraint: `<table>_<columns>_key`, as
/// PostgreSQL names it, shortened (at a character boundary) to fit the catalog's name
/// limit as PostgreSQL shortens it.
fn unique_index_name(table: &str, columns: &[String]) -> String {
    const SUFFIX: &str = "_key";
    let mut stem = format!("{table}_{}", columns.join("_"));
    let room = engine_catalog::MAX_NAME_LEN - SUFFIX.len();
    if stem.len() > room {
        let cut = (0..=room)
            .rev()
            .find(|&i| stem.is_char_boundary(i))
            .unwrap_or(0);
        stem.truncate(cut);
    }
    stem + SUFFIX
}

/// Runs a schema change.
pub(super) fn ddl(txn: &mut Transaction, ddl: &Ddl) -> Result<Output> {
    match ddl {
        Ddl::CreateTable {
            name,
            columns,
            primary_key,
            unique,
            checks,
            fillfactor,
            if_not_exists,
        } => {
            if *if_not_exists && engine_catalog::find_table(txn, name)?.is_some() {
                return Ok(Output::tag("CREATE TABLE"));
            }
            catalog::create_table(txn, name, columns, primary_key, checks)?;
            if let Some(fillfactor) = fillfactor {
                catalog::set_fillfactor(txn, name, *fillfactor)?;
            }
            for columns in unique {
                let names: Vec<&str> = columns.iter().map(String::as_str).collect();
                engine_catalog::create_index(
                    txn,
                    name,
                    &unique_index_name(name, columns),
                    &names,
                    true,
                )?;
            }
            Ok(Output::tag("CREATE TABLE"))
        }
        Ddl::DropTable { names, if_exists } => {
            for name in names {
                if engine_catalog::find_table(txn, name)?.is_none() {
                    match if_exists {
                        true => continue,
                        false => return Err(Error::UnknownTable(name.clone())),
                    }
                }
                catalog::drop_table(txn, name)?;
            }
            Ok(Output::tag("DROP TABLE"))
        }
        Ddl::CreateIndex {
            name,
            table,
            columns,
            unique,
            if_not_exists,
        } => {
            let names: Vec<&str> = columns.iter().map(String::as_str).collect();
            match engine_catalog::create_index(txn, table, name, &names, *unique) {
                Ok(_) => Ok(Output::tag("CREATE INDEX")),
                Err(engine::Error::AlreadyExists { .. }) if *if_not_exists => {
                    Ok(Output::tag("CREATE INDEX"))
                }
                Err(e) => Err(e.into()),
            }
        }
        Ddl::DropIndex { names, if_exists } => {
            for name in names {
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
                    return Err(Error::UnknownFunction(name.clone()));
                }
            }
            Ok(Output::tag("DROP FUNCTION"))
        }
        Ddl::Truncate { names } => {
            for name in names {
                engine_catalog::truncate_table(txn, name)?;
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
            catalog::rename_table(txn, table, new_name)?;
            Ok(Output::tag("ALTER TABLE"))
        }
        Ddl::RenameColumn {
            table,
            column,
            new_name,
        } => {
            engine::table::alter::rename_column(txn, table, column, new_name)?;
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
    }
}
