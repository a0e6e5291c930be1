//! The migration D -> H by the project's migration ([`crate::migrate`], the library
//! behind `hdb migrate`), which is also how the comparison loads H: the base data's two D
//! stores (users, then events) go into one new H database, each with the seed's CREATE
//! TABLE plus the index H's queries use (the migration sets it aside during the load
//! and builds it afterwards in one pass, see `migrate/indexes.rs`), and D's key as the
//! primary key (`user_id`, `event_id`); the migration's defaults otherwise (batches of
//! 20,000 committed in key order on the bulk path, H's durability off and one sync at
//! the end, no follow).
//!
//! The figure is documents per second over the migrations' whole runs — reading D's
//! log, schema, load, sync and verification (row count and order-independent checksum
//! on both sides) — as the migration itself times them. A migration that does not verify,
//! or that rejects a document, is an error: the generated data all fits the schema.

use std::path::Path;

use serde::Serialize;

use super::{CompareError, Result, stores};
use crate::migrate::{MigrateOptions, SchemaSource, migrate};

/// One store's migration.
#[derive(Debug, Clone, Serialize)]
pub struct TableMigration {
    pub table: String,
    pub documents: u64,
    /// The migration's own timings (`hdb_tools::migrate::Timings`); converting (summed
    /// over the converting threads) and writing overlap, so the parts need not add up
    /// to the total.
    pub read_d_secs: f64,
    pub convert_secs: f64,
    pub write_h_secs: f64,
    /// Building the indexes the migration set aside during the load.
    pub indexes_secs: f64,
    pub sync_secs: f64,
    pub verify_secs: f64,
    pub total_secs: f64,
}

/// The migration figure.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationReport {
    /// What copied the documents.
    pub tool: String,
    /// True while the figure is not the migration tool's (kept for readers of older
    /// reports; always false now that `hdb_tools::migrate` is used).
    pub pending: bool,
    pub tables: Vec<TableMigration>,
    pub documents: u64,
    pub total_secs: f64,
    /// Documents per second, everything included.
    pub documents_per_sec: f64,
    pub verified: bool,
}

/// Migrates D's users (`d_users`) and events (`d_events`) store directories into a new
/// H database at `target`.
pub fn migrate_base(d_users: &Path, d_events: &Path, target: &Path) -> Result<MigrationReport> {
    let users_schema = format!("{}; {}", stores::H_USERS_TABLE, stores::H_USERS_INDEX);
    let events_schema = format!("{}; {}", stores::H_EVENTS_TABLE, stores::H_EVENTS_INDEX);
    let jobs = [
        (d_users, "users", "user_id", users_schema),
        (d_events, "user_events", "event_id", events_schema),
    ];
    let mut tables = Vec::new();
    for (source, table, key_column, create) in jobs {
        let mut options = MigrateOptions::new(source, target);
        options.table = Some(table.to_string());
        options.schema = SchemaSource::Sql(create);
        options.key_column = key_column.to_string();
        let report = migrate(&options)
            .map_err(|e| CompareError::Check(format!("migration of {table}: {e}")))?;
        if !report.verification.matches() || report.documents_rejected > 0 {
            return Err(CompareError::Check(format!(
                "migration of {table} did not verify: {}",
                report.summary()
            )));
        }
        let t = report.timings;
        tables.push(TableMigration {
            table: table.to_string(),
            documents: report.documents_read,
            read_d_secs: t.read_d.as_secs_f64(),
            convert_secs: t.convert.as_secs_f64(),
            write_h_secs: t.write_h.as_secs_f64(),
            indexes_secs: t.indexes.as_secs_f64(),
            sync_secs: t.sync.as_secs_f64(),
            verify_secs: t.verify.as_secs_f64(),
            total_secs: t.total.as_secs_f64(),
        });
    }
    let documents = tables.iter().map(|t| t.documents).sum();
    let total_secs: f64 = tables.iter().map(|t| t.total_secs).sum();
    Ok(MigrationReport {
        tool: "hdb_tools::migrate".into(),
        pending: false,
        tables,
        documents,
        total_secs,
        documents_per_sec: documents as f64 / total_secs.max(1e-9),
        verified: true,
    })
}
