//! The catalog generation: a counter per database that every schema change bumps, so a
//! prepared statement can tell in one atomic load whether its plan may be stale.
//!
//! The engine's catalog is versioned by MVCC like any table, but asking it "did anything
//! change since this plan was made?" means reading it, which costs more than the point
//! lookup a prepared statement is usually for. So the SQL layer keeps, per open database,
//! one `AtomicU64` shared by all its sessions ([`CatalogGeneration::of`] finds it in the
//! database's shared SQL state, `shared.rs`).
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

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::shared::{self, PerDatabase};

/// One database's catalog generation counter (cheap to clone: all clones share it).
#[derive(Debug, Clone)]
pub struct CatalogGeneration {
    shared: Arc<PerDatabase>,
}

impl CatalogGeneration {
    /// The counter of `db` (every clone of the same database gets the same one).
    pub fn of(db: &engine::Database) -> CatalogGeneration {
        CatalogGeneration {
            shared: shared::of(db),
        }
    }

    /// The current value.
    pub fn current(&self) -> u64 {
        self.shared.generation.load(Ordering::SeqCst)
    }

    /// Records a schema change.
    pub fn bump(&self) {
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Whether both are the same database's counter.
    pub fn same_as(&self, other: &CatalogGeneration) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
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
