//! The migration rate, D -> H: documents per second to copy D's users into H's `users`
//! table and verify the copy (row count and an order-independent checksum over key and
//! fields on both sides).
//!
//! The project's migration (`hdb::migrate`, issue 6) is being built beside this module.
//! Until it is available here, this module copies with its own straightforward loader
//! (a snapshot of D, prepared INSERTs in transactions of [`LOAD_BATCH`] rows with
//! durability off, one sync, then a full read-back for verification) and the report marks
//! the figure as **pending**: it is this loader's rate, not the migration tool's, and the
//! target is not judged on it.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::time::Instant;

use kv_legacy::{Document, LegacyStore, Scalar};
use serde::Serialize;
use sql_frontend::Value;

use super::stores::LOAD_BATCH;
use super::{CompareError, Result};
use crate::Database;

/// The migration figure.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationReport {
    /// What copied the documents: `hdb::migrate` or this module's own loader.
    pub tool: String,
    /// True while the figure is not the migration tool's.
    pub pending: bool,
    pub documents: usize,
    pub copy_secs: f64,
    pub verify_secs: f64,
    /// Documents per second, copy and verification together.
    pub documents_per_sec: f64,
    pub verified: bool,
}

/// Copies `source` (D's users) into a new H database under `dir` and verifies it.
pub fn measure(source: &LegacyStore, dir: &Path) -> Result<MigrationReport> {
    let h = Database::open_with(
        dir.join("h.db"),
        engine::DatabaseOptions {
            durability: engine::wal::Durability::Off,
            ..Default::default()
        },
    )?;
    let started = Instant::now();
    let (documents, _) = source.snapshot();
    let mut session = h.session();
    session.execute(
        "CREATE TABLE users (user_id VARCHAR PRIMARY KEY, name VARCHAR, status VARCHAR)",
    )?;
    let insert = session.prepare("INSERT INTO users VALUES ($1, $2, $3)")?;
    session.execute("BEGIN")?;
    for (i, (key, doc)) in documents.iter().enumerate() {
        let row = [
            Value::Text(key.clone()),
            text_field(doc, "name"),
            text_field(doc, "status"),
        ];
        session.execute_prepared(&insert, &row)?;
        if (i + 1) % LOAD_BATCH == 0 {
            session.execute("COMMIT; BEGIN")?;
        }
    }
    session.execute("COMMIT")?;
    h.engine().sync()?;
    let copy_secs = started.elapsed().as_secs_f64();

    let verify_started = Instant::now();
    let mut source_sum = Checksum::default();
    source.for_each(|key, doc| {
        source_sum.add(key, &text_field(doc, "name"), &text_field(doc, "status"))
    });
    let mut copy_sum = Checksum::default();
    let rows = session.execute("SELECT user_id, name, status FROM users")?;
    for row in rows.rows() {
        let values = row.values();
        if let [Value::Text(key), name, status] = values {
            copy_sum.add(key, name, status);
        } else {
            return Err(CompareError::Check(format!(
                "migration: unexpected row {values:?}"
            )));
        }
    }
    let verify_secs = verify_started.elapsed().as_secs_f64();
    let verified = source_sum == copy_sum;
    if !verified {
        return Err(CompareError::Check(format!(
            "migration: D has {} documents (checksum {:x}), H {} rows (checksum {:x})",
            source_sum.count, source_sum.sum, copy_sum.count, copy_sum.sum
        )));
    }
    h.close()?;
    let total = copy_secs + verify_secs;
    Ok(MigrationReport {
        tool: "compare's own loader (hdb::migrate not yet available)".into(),
        pending: true,
        documents: documents.len(),
        copy_secs,
        verify_secs,
        documents_per_sec: documents.len() as f64 / total,
        verified,
    })
}

fn text_field(doc: &Document, field: &str) -> Value {
    match doc.get(field) {
        Some(Scalar::Text(s)) => Value::Text(s.clone()),
        _ => Value::Null,
    }
}

/// Row count and the wrapping sum of a hash per row: equal for equal multisets of rows,
/// whatever their order.
#[derive(Debug, Default, PartialEq, Eq)]
struct Checksum {
    count: u64,
    sum: u64,
}

impl Checksum {
    fn add(&mut self, key: &str, name: &Value, status: &Value) {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        format!("{name:?}").hash(&mut hasher);
        format!("{status:?}").hash(&mut hasher);
        self.count += 1;
        self.sum = self.sum.wrapping_add(hasher.finish());
    }
}
