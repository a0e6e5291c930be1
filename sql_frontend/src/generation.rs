//! The catalog generation: a counter per database that every schema change bumps, so a
//! prepared statement can tell in one atomic load whether its plan may be stale.
//!
//! The engine's catalog is versioned by MVCC like any table, but asking it "did anything
//! change since this plan was made?" means reading it, which costs more than the point
//! lookup a prepared statement is usually for. So the SQL layer keeps, per open database,
//! one `AtomicU64` shared by all its sessions ([`CatalogGeneration::of`] finds it through
//! a process-wide registry keyed by the database's MVCC state, which every clone of an
//! `engine::Database` shares).
//!
//! ## The protocol (see `session/mod.rs`)
//!
//! - A session bumps the counter after executing any DDL statement (CREATE/DROP TABLE,
//!   INDEX, FUNCTION), and again when the transaction that ran it commits or rolls back:
//!   the first bump invalidates plans made before the change, the second those made
//!   while it was uncommitted.
//! - Before a statement takes its snapshot, the session reads the counter: the snapshot
//!   then includes every schema change the value counts (changes bump only after they
//!   are visible). A plan is labelled with that value, unless its transaction has
//!   uncommitted DDL of its own, whose plans are never reused.
//! - An execution may reuse a plan without looking at the catalog only when the plan's
//!   label equals the value read before the execution's own snapshot; otherwise it
//!   plans again. A spurious bump costs one re-plan, never a wrong plan.
//!
//! Schema changes made through the engine's table API directly, bypassing SQL, do not
//! bump the counter; call [`note_catalog_change`] after making them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use engine::WeakDatabase;

/// One database's catalog generation counter (cheap to clone: all clones share it).
#[derive(Debug, Clone)]
pub struct CatalogGeneration {
    counter: Arc<AtomicU64>,
}

/// Open databases and their counters; entries whose database is gone are pruned.
type Registry = Vec<(WeakDatabase, Arc<AtomicU64>)>;

static REGISTRY: Mutex<Registry> = Mutex::new(Vec::new());

impl CatalogGeneration {
    /// The counter of `db` (every clone of the same database gets the same one).
    pub fn of(db: &engine::Database) -> CatalogGeneration {
        let database = db.downgrade();
        // A panic while holding the lock cannot leave the registry inconsistent (each
        // change is one push or retain), so a poisoned lock is still usable.
        let mut registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        registry.retain(|(db, _)| !db.is_closed());
        let counter = match registry.iter().find(|(db, _)| db.ptr_eq(&database)) {
            Some((_, counter)) => Arc::clone(counter),
            None => {
                let counter = Arc::new(AtomicU64::new(0));
                registry.push((database, Arc::clone(&counter)));
                counter
            }
        };
        CatalogGeneration { counter }
    }

    /// The current value.
    pub fn current(&self) -> u64 {
        self.counter.load(Ordering::SeqCst)
    }

    /// Records a schema change.
    pub fn bump(&self) {
        self.counter.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether both are the same database's counter.
    pub fn same_as(&self, other: &CatalogGeneration) -> bool {
        Arc::ptr_eq(&self.counter, &other.counter)
    }
}

/// Tells the SQL layer that the schema of `db` changed outside SQL (through the engine's
/// table API), so prepared statements plan again.
pub fn note_catalog_change(db: &engine::Database) {
    CatalogGeneration::of(db).bump();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_of_a_database_share_one_counter_and_databases_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let options = engine::DatabaseOptions::default();
        let a = engine::Database::open(dir.path().join("a.db"), options).unwrap();
        let b = engine::Database::open(dir.path().join("b.db"), options).unwrap();
        let ga = CatalogGeneration::of(&a);
        let ga2 = CatalogGeneration::of(&a.clone());
        let gb = CatalogGeneration::of(&b);
        assert!(ga.same_as(&ga2) && !ga.same_as(&gb));
        let before = gb.current();
        ga.bump();
        note_catalog_change(&a);
        assert_eq!(ga2.current(), 2);
        assert_eq!(gb.current(), before);
    }
}
