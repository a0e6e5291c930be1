//! What the SQL layer keeps per open database, shared by all of that database's
//! sessions: the catalog generation (`generation.rs`), the rows changed since each
//! table's last ANALYZE (`statistics/changes.rs`) and the sequences' reserved values
//! (`sequence/values.rs`).
//!
//! The engine knows nothing of either, so the state lives here, found through a
//! process-wide registry keyed by the database (every clone of an `engine::Database`
//! shares one entry; [`engine::WeakDatabase`] tells when the database is gone, and gone
//! databases' entries are pruned whenever another is looked up).

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use engine::WeakDatabase;

use crate::sequence::ReservedValues;
use crate::statistics::changes::ChangeCounts;

/// One open database's shared SQL state.
#[derive(Debug, Default)]
pub struct PerDatabase {
    /// The catalog generation counter (`generation.rs`).
    pub generation: AtomicU64,
    /// Rows changed per table since its last ANALYZE.
    pub changes: ChangeCounts,
    /// The values each sequence has reserved and not handed out yet.
    pub sequences: Arc<ReservedValues>,
}

type Registry = Vec<(WeakDatabase, Arc<PerDatabase>)>;

static REGISTRY: Mutex<Registry> = Mutex::new(Vec::new());

/// The shared state of `db` (every clone of the same database gets the same one).
pub fn of(db: &engine::Database) -> Arc<PerDatabase> {
    let database = db.downgrade();
    // A panic while holding the lock cannot leave the registry inconsistent (each
    // change is one push or retain), so a poisoned lock is still usable.
    let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    registry.retain(|(db, _)| !db.is_closed());
    match registry.iter().find(|(db, _)| db.ptr_eq(&database)) {
        Some((_, shared)) => Arc::clone(shared),
        None => {
            let shared = Arc::new(PerDatabase::default());
            registry.push((database, Arc::clone(&shared)));
            shared
        }
    }
}
