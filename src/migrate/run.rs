//! One migration run, start to end (the steps are described in `mod.rs`).

use std::collections::HashSet;
use std::ops::Bound;
use std::time::Instant;

use engine::table::{catalog, ops};
use engine::{DatabaseOptions, IsolationLevel};

use crate::migrate::control::Control;
use crate::migrate::convert::RowConverter;
use crate::migrate::error::MigrateError;
use crate::migrate::progress::{self, Phase, Progress};
use crate::migrate::report::{MigrationReport, Timings};
use crate::migrate::schema::{self, FieldReport};
use crate::migrate::snapshot::{DLog, DSnapshot};
use crate::migrate::source;
use crate::migrate::target::Target;
use crate::migrate::{MigrateOptions, SchemaSource, follow, indexes, load, verify};

/// The table a run writes when none is named and the schema does not create one.
const DEFAULT_TABLE: &str = "documents";

/// Migrates D's documents into H as `options` says; resumes a migration recorded in H.
pub fn migrate(options: &MigrateOptions) -> Result<MigrationReport, MigrateError> {
    let started = Instant::now();
    let mut timings = Timings::default();
    let schema_statements = match &options.schema {
        SchemaSource::Sql(sql) => hdb::split_statements(sql)?,
        SchemaSource::Infer => Vec::new(),
    };
    let table_name = match (&options.table, &options.schema) {
        (Some(name), _) => name.clone(),
        (None, SchemaSource::Sql(_)) => {
            schema::created_table_name(&schema_statements).ok_or_else(|| {
                MigrateError::Schema("the schema file has no CREATE TABLE statement".into())
            })?
        }
        (None, SchemaSource::Infer) => DEFAULT_TABLE.to_string(),
    };

    // D must exist before H is touched: a mistyped source path creates nothing.
    source::current_generation(&options.from)?;
    let db = hdb::Database::open_with(
        &options.to,
        DatabaseOptions {
            durability: options.durability,
            // Fewer checkpoints during the load; the final sync and close make it durable.
            checkpoint_bytes: 512 << 20,
            ..DatabaseOptions::default()
        },
    )?;
    let engine = db.engine().clone();
    let mut txn = engine.begin(IsolationLevel::RepeatableRead);
    let tables = progress::ensure_tables(&mut txn)?;
    let recorded = progress::read(&mut txn, &tables, &table_name)?;
    txn.commit()?;

    // 1. D's snapshot: where the recorded migration was, or D's current end.
    let phase_start = Instant::now();
    let mut needs_resync = false;
    let log = match &recorded {
        None => source::replay(&options.from, None)?,
        Some(progress) => match source::replay(&options.from, Some(progress.position)) {
            Ok(log) => log,
            Err(MigrateError::Compacted { .. }) => {
                needs_resync = true;
                DLog::empty(progress.position)
            }
            Err(e) => return Err(e),
        },
    };
    // The documents borrow `log`'s bytes (`snapshot.rs`).
    let mut snapshot =
        DSnapshot::replay(&log).map_err(|e| source::source_error(&options.from, e))?;
    timings.read_d = phase_start.elapsed();

    // 2. The table.
    let phase_start = Instant::now();
    let mut created_table = None;
    let mut fields: Vec<FieldReport> = Vec::new();
    if recorded.is_none() {
        let existing = {
            let mut txn = engine.begin(IsolationLevel::RepeatableRead);
            let found = catalog::find_table(&mut txn, &table_name)?;
            let has_rows = match &found {
                Some(table) => {
                    ops::scan(&mut txn, table, Bound::Unbounded, Bound::Unbounded, false)?
                        .next()
                        .is_some()
                }
                None => false,
            };
            txn.commit()?;
            (found.is_some(), has_rows)
        };
        match existing {
            (true, true) => {
                return Err(MigrateError::Schema(format!(
                    "table {table_name:?} already has rows and no migration progress; \
                     migrate into a new table or database"
                )));
            }
            // An empty table of that name (a run that stopped right after creating it,
            // or one made by hand for this migration): load into it.
            (true, false) => {}
            (false, _) => {
                let sql = match &options.schema {
                    SchemaSource::Sql(sql) => sql.clone(),
                    SchemaSource::Infer => {
                        let inferred = schema::infer(
                            snapshot.iter().map(|(_, doc)| doc),
                            &table_name,
                            &options.key_column,
                        );
                        fields = inferred.fields;
                        inferred.create_table
                    }
                };
                let mut session = db.session();
                session.execute("BEGIN")?;
                session.execute(&sql)?;
                session.execute("COMMIT")?;
                created_table = Some(sql);
            }
        }
    }
    let mut progress = recorded
        .clone()
        .unwrap_or_else(|| Progress::start(snapshot.position, options.batch_size as u64));
    if recorded.is_none() {
        // From here on the migration is recorded: a rerun resumes it (same snapshot,
        // same batches) instead of starting over. The table is empty: its non-unique
        // indexes step aside until the bulk load is done (`indexes.rs`). A table whose
        // key column does not suit the migration is refused first, with nothing changed.
        let mut txn = engine.begin(IsolationLevel::RepeatableRead);
        let info = sql_frontend::catalog::table(&mut txn, &table_name)?;
        RowConverter::new(&info, &options.key_column, engine.max_stored_key_len())?;
        indexes::defer(&mut txn, &tables, &info.schema)?;
        progress::write(&mut txn, &tables, &table_name, &progress)?;
        txn.commit()?;
    }
    let (table_info, rejected_keys, deferred) = {
        let mut txn = engine.begin(IsolationLevel::RepeatableRead);
        let info = sql_frontend::catalog::table(&mut txn, &table_name)?;
        let rejected: HashSet<String> = progress::rejected(&mut txn, &tables, &table_name)?
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        let deferred = indexes::deferred(&mut txn, &tables, &info.schema)?;
        txn.commit()?;
        (info, rejected, deferred)
    };
    let converter = RowConverter::new(
        &table_info,
        &options.key_column,
        engine.max_stored_key_len(),
    )?
    .with_extra_fields(options.extra_fields)
    .with_deferred_indexes(deferred);
    let mut target = Target {
        db: engine.clone(),
        name: table_name.clone(),
        schema: table_info.schema.clone(),
        tables,
        converter,
        policy: options.on_bad_document,
        rejected_keys,
        rejected_now: Vec::new(),
    };
    timings.schema = phase_start.elapsed();

    let mut control = Control::new(
        options.progress,
        options.stop.clone(),
        options.stop_after_batches,
    );
    // 3. Bulk load (or a resync, if D was compacted under a recorded migration).
    let mut load_stats = load::LoadStats::default();
    if needs_resync {
        let phase_start = Instant::now();
        // A resync writes through the table's schema: the indexes first.
        build_deferred_indexes(&mut target)?;
        follow::resync(
            &options.from,
            &mut target,
            &mut snapshot,
            &mut progress,
            options.batch_size,
            &mut control,
        )?;
        timings.bulk_load += phase_start.elapsed();
    } else if progress.phase == Phase::Bulk {
        let phase_start = Instant::now();
        load_stats = load::load(
            &mut target,
            &snapshot,
            &mut progress,
            options.workers,
            &mut control,
        )?;
        timings.bulk_load = phase_start.elapsed();
        timings.convert = load_stats.convert;
        timings.write_h = load_stats.write;
    }
    // The indexes the bulk load deferred (also those of a run that stopped after it).
    let phase_start = Instant::now();
    build_deferred_indexes(&mut target)?;
    timings.indexes = phase_start.elapsed();
    let documents_read = snapshot.len() as u64;

    // 4. Follow D's log.
    let follow_report = match options.follow {
        Some(follow_options) => {
            let phase_start = Instant::now();
            let report = follow::follow(
                &options.from,
                &mut target,
                &mut snapshot,
                &mut progress,
                options.batch_size,
                follow_options,
                &mut control,
            )?;
            timings.follow = phase_start.elapsed();
            // A resync at start-up also served the follow: count it there too.
            let resyncs = report.resyncs + u64::from(needs_resync);
            Some(follow::FollowReport { resyncs, ..report })
        }
        None => None,
    };

    // 5. Verify, then make everything durable.
    let phase_start = Instant::now();
    // D's side as the load took it, if the load converted the whole snapshot and
    // nothing has changed H since (see `verify.rs`).
    let d_side = match (load_stats.converted_all, &follow_report, needs_resync) {
        (true, None, false) => verify::DSide::Loaded {
            rows: load_stats.d_rows,
            rejected: load_stats.d_rejected,
        },
        _ => verify::DSide::Documents(&snapshot),
    };
    let verification = verify::verify(&target, d_side)?;
    timings.verify = phase_start.elapsed();
    let phase_start = Instant::now();
    engine.sync()?;
    let rejected = std::mem::take(&mut target.rejected_now);
    drop(target);
    drop(engine);
    db.close()?;
    timings.sync = phase_start.elapsed();
    timings.total = started.elapsed();

    Ok(MigrationReport {
        table: table_name,
        resumed: recorded.is_some(),
        resynced: needs_resync,
        created_table,
        fields,
        documents_read,
        log_records_read: snapshot.records,
        documents_loaded: load_stats.loaded,
        documents_rejected: load_stats.rejected.len() as u64,
        total_loaded: progress.loaded,
        total_rejected: progress.rejected,
        rejected,
        follow: follow_report,
        verification,
        timings,
    })
}

/// Builds the indexes deferred for the bulk load, if any are left, and has `target`
/// write through the table's schema with them from then on.
fn build_deferred_indexes(target: &mut Target) -> Result<(), MigrateError> {
    if indexes::build(&target.db, &target.tables, &target.name)? > 0 {
        let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
        target.schema = catalog::table(&mut txn, &target.name)?;
        txn.commit()?;
    }
    Ok(())
}
