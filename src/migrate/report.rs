//! What a migration run did, and the summary `hdb migrate` prints.

use std::fmt::Write as _;
use std::time::Duration;

use crate::migrate::convert::BadDocument;
use crate::migrate::follow::FollowReport;
use crate::migrate::schema::FieldReport;
use crate::migrate::verify::Verification;

/// Where the run's time went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Replaying D's log into memory.
    pub read_d: Duration,
    /// Creating or finding the table (and inferring the schema).
    pub schema: Duration,
    /// The bulk load (or the resync after a compaction), wall time.
    pub bulk_load: Duration,
    /// Of the bulk load: converting documents to rows, summed over the converting
    /// threads (one per worker when there is more than one, so it overlaps `write_h`
    /// and may exceed the load's wall time).
    pub convert: Duration,
    /// Of the bulk load: writing rows to H and committing.
    pub write_h: Duration,
    /// Building the indexes the bulk load deferred.
    pub indexes: Duration,
    /// Following D's log.
    pub follow: Duration,
    /// Verifying both sides.
    pub verify: Duration,
    /// Syncing H at the end.
    pub sync: Duration,
    /// The whole run.
    pub total: Duration,
}

/// The outcome of one run of [`crate::migrate::migrate`].
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationReport {
    pub table: String,
    /// Whether this run continued a migration recorded in H.
    pub resumed: bool,
    /// Whether D's log was compacted since the recorded position, so this run made H
    /// equal to D's new log key by key instead of continuing from the position.
    pub resynced: bool,
    /// The CREATE TABLE statement this run executed, if it created the table.
    pub created_table: Option<String>,
    /// Inference findings, when this run inferred the schema.
    pub fields: Vec<FieldReport>,
    /// Documents in D's snapshot (the state the bulk load copies).
    pub documents_read: u64,
    /// Log records read to build it.
    pub log_records_read: u64,
    /// Documents loaded and rejected by this run's bulk load.
    pub documents_loaded: u64,
    pub documents_rejected: u64,
    /// Documents loaded and rejected over every run of this migration.
    pub total_loaded: u64,
    pub total_rejected: u64,
    /// Every rejection this run made, in order.
    pub rejected: Vec<BadDocument>,
    /// Following D's log, if asked.
    pub follow: Option<FollowReport>,
    pub verification: Verification,
    pub timings: Timings,
}

impl MigrationReport {
    /// Documents of D's snapshot per second of the whole run, verification included.
    pub fn documents_per_second(&self) -> f64 {
        self.documents_read as f64 / self.timings.total.as_secs_f64().max(1e-9)
    }

    /// The summary printed by `hdb migrate`.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let secs = |d: Duration| d.as_secs_f64();
        let _ = writeln!(
            out,
            "migrated D -> table {:?}{}",
            self.table,
            if self.resumed { " (resumed)" } else { "" }
        );
        if self.resynced {
            let _ = writeln!(
                out,
                "D's log was compacted since the recorded position: H was resynchronised with it"
            );
        }
        if let Some(sql) = &self.created_table {
            let _ = writeln!(out, "created: {sql}");
        }
        for field in self.fields.iter().filter(|f| f.note.is_some()) {
            let _ = writeln!(
                out,
                "field {:?}: {}",
                field.field,
                field.note.as_deref().unwrap_or_default()
            );
        }
        let _ = writeln!(
            out,
            "documents: {} read ({} log records), {} loaded, {} rejected in this run \
             ({} loaded, {} rejected over all runs)",
            self.documents_read,
            self.log_records_read,
            self.documents_loaded,
            self.documents_rejected,
            self.total_loaded,
            self.total_rejected
        );
        for bad in self.rejected.iter().take(20) {
            let key = crate::migrate::progress::rejection_key(&bad.key);
            let _ = writeln!(out, "  rejected {key:?}: {}", bad.reason);
        }
        if self.rejected.len() > 20 {
            let _ = writeln!(out, "  ... and {} more", self.rejected.len() - 20,);
        }
        if self.total_rejected > 0 {
            let _ = writeln!(
                out,
                "  every rejected document is in H's table {table}: \
                 SELECT doc_key, reason FROM {table}",
                table = crate::migrate::REJECTED_TABLE
            );
        }
        if let Some(follow) = &self.follow {
            let _ = writeln!(
                out,
                "follow: {} changes applied ({} rejected, {} resyncs after compaction), {}, \
                 lag {} bytes (~{:.2} s), max lag {} bytes, {:.2} s",
                follow.changes_applied,
                follow.rejected,
                follow.resyncs,
                if follow.caught_up {
                    "caught up"
                } else {
                    "stopped before catching up"
                },
                follow.lag_bytes,
                follow.lag_seconds,
                follow.max_lag_bytes,
                secs(follow.elapsed)
            );
        }
        let v = &self.verification;
        let _ = writeln!(
            out,
            "verify: D {} rows checksum {} + {} rejected; H {} rows checksum {} + {} rejected: {}",
            v.d_rows.count,
            v.d_rows,
            v.d_rejected,
            v.h_rows.count,
            v.h_rows,
            v.h_rejected,
            if v.matches() { "MATCH" } else { "MISMATCH" }
        );
        let t = &self.timings;
        let _ = writeln!(
            out,
            "time: {:.3} s total = read D {:.3} + schema {:.3} + load H {:.3} (of which: \
             convert {:.3}, write {:.3}) + indexes {:.3} + follow {:.3} + verify {:.3} + \
             sync {:.3}; {:.0} documents/s",
            secs(t.total),
            secs(t.read_d),
            secs(t.schema),
            secs(t.bulk_load),
            secs(t.convert),
            secs(t.write_h),
            secs(t.indexes),
            secs(t.follow),
            secs(t.verify),
            secs(t.sync),
            self.documents_per_second()
        );
        out
    }
}
