//! # The databases this process has open, one per file
//!
//! A database file is locked while open (see the pager), so that a second *process*
//! cannot write it. Within one process the lock would make a second
//! [`Database::open`] of the same file fail as if another process held it, although the
//! caller can simply share the open database. So every open of a file goes through this
//! registry, keyed by the file's canonical path: if that file is open in this process,
//! the open returns another handle to the same database (with the same options: asking
//! for different ones is an error naming both), and only otherwise opens the file.
//!
//! Each path's [`Slot`] moves through three states: **opening** (a [`Claim`] is running
//! recovery), **open** (weak references to the database's handles and shared state), and
//! **closing** (the last handle is closing it cleanly, see OPEN AND CLOSE in `mod.rs`).
//! An open that finds a slot opening or closing waits for it to go, up to [`CLOSE_WAIT`].
//!
//! **Invariants.**
//!
//! - A handle is only ever made from a slot under the registry's lock, and the last
//!   handle decides that it is the last under the same lock
//!   ([`Registration::close_if_last`]), marking the slot closing. So no open can share a
//!   database whose clean close has begun.
//! - The slot is removed when the database's shared state is dropped, *after* its file and
//!   log are released: the [`Registration`] is the last field of that state. Each slot has
//!   an id, and claims, registrations and removals act only on the slot with their id, so
//!   a late removal never removes a newer open's slot.
//! - No two recoveries of one file run at once: a claim holds the slot from the lookup
//!   until the database is registered or the open fails.
//!
//! Transactions hold the engine's layers, not the shared state, so a transaction that
//! outlives every handle keeps the file locked after its slot is gone; an open meanwhile
//! fails with [`Error::Locked`](crate::Error::Locked), as from another process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::{Database, Inner};

/// How long an open waits for a database of the same file to finish opening or closing.
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// One path's state.
enum State {
    /// A claim is opening it.
    Opening,
    /// Open: the handle count and the shared state of the database, if still alive.
    Open { handles: Weak<()>, inner: Weak<Inner> },
    /// Its last handle is closing it.
    Closing,
}

struct Slot {
    id: u64,
    state: State,
}

#[derive(Default)]
struct Slots {
    by_path: BTreeMap<PathBuf, Slot>,
    next_id: u64,
}

impl Slots {
    /// The slot of `path` if it is the one with `id`.
    fn mine(&mut self, path: &Path, id: u64) -> Option<&mut Slot> {
        self.by_path.get_mut(path).filter(|slot| slot.id == id)
    }
}

/// The registry of open database files.
pub(crate) struct Registry {
    slots: Mutex<Option<Slots>>,
    changed: Condvar,
}

/// The one registry of this process.
pub(crate) static OPEN: Registry = Registry {
    slots: parking_lot::const_mutex(None),
    changed: Condvar::new(),
};

/// What a lookup found.
pub(crate) enum Lookup {
    /// The database is open: another handle to it.
    Open(Database),
    /// Not open: the caller opens it, then calls [`Claim::register`] (dropping the claim
    /// without registering, e.g. after an error, frees the path again).
    Absent(Claim),
}

/// The right to open a path, held while its recovery runs.
pub(crate) struct Claim {
    path: PathBuf,
    id: u64,
    registered: bool,
}

/// Held by the database's shared state; dropping it frees the path.
pub(crate) struct Registration {
    path: PathBuf,
    id: u64,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Registration({}, {})", self.path.display(), self.id)
    }
}

/// The canonical path of `path`, which may not exist yet (its directory must).
pub(crate) fn canonical(path: &Path) -> std::io::Result<PathBuf> {
    if let Ok(path) = path.canonicalize() {
        return Ok(path);
    }
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    Ok(parent.canonicalize()?.join(name))
}

impl Registry {
    /// Finds the database open at `path` (canonical), waiting up to [`CLOSE_WAIT`] for
    /// one being opened or closed by another thread; else claims the path.
    pub(crate) fn lookup(&'static self, path: &Path) -> Lookup {
        let deadline = Instant::now() + CLOSE_WAIT;
        let mut guard = self.slots.lock();
        loop {
            let slots = guard.get_or_insert_with(Slots::default);
            let Some(slot) = slots.by_path.get(path) else {
                break;
            };
            if let State::Open { handles, inner } = &slot.state
                && let (Some(handles), Some(inner)) = (handles.upgrade(), inner.upgrade())
            {
                return Lookup::Open(Database { handles, inner });
            }
            // Opening, closing, or its last handle is being dropped: wait for it.
            if self.changed.wait_until(&mut guard, deadline).timed_out() {
                // Still there: take the path over, and let the file's lock report
                // whether the old database still holds it.
                break;
            }
        }
        let slots = guard.get_or_insert_with(Slots::default);
        let id = slots.next_id;
        slots.next_id += 1;
        let state = State::Opening;
        slots.by_path.insert(path.to_path_buf(), Slot { id, state });
        Lookup::Absent(Claim {
            path: path.to_path_buf(),
            id,
            registered: false,
        })
    }

    /// Runs `change` on the slots under the lock, then wakes the lookups waiting for a
    /// change.
    fn update<R>(&self, change: impl FnOnce(&mut Slots) -> R) -> R {
        let mut guard = self.slots.lock();
        let result = change(guard.get_or_insert_with(Slots::default));
        drop(guard);
        self.changed.notify_all();
        result
    }
}

impl Claim {
    /// Records the opened database under the claimed path.
    pub(crate) fn register(mut self, database: &Database) -> Registration {
        let (path, id) = (self.path.clone(), self.id);
        OPEN.update(|slots| {
            if let Some(slot) = slots.mine(&path, id) {
                slot.state = State::Open {
                    handles: Arc::downgrade(&database.handles),
                    inner: Arc::downgrade(&database.inner),
                };
            }
        });
        self.registered = true;
        Registration { path, id }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if !self.registered {
            remove(&self.path, self.id);
        }
    }
}

impl Registration {
    /// Whether `handles` is the database's last handle; if so the slot is marked
    /// closing (under the registry's lock, so no open shares it from now on).
    pub(crate) fn close_if_last(&self, handles: &Arc<()>) -> bool {
        OPEN.update(|slots| {
            let last = Arc::strong_count(handles) == 1;
            if last && let Some(slot) = slots.mine(&self.path, self.id) {
                slot.state = State::Closing;
            }
            last
        })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        remove(&self.path, self.id);
    }
}

/// Removes the slot of `path` with `id`, if it is still there.
fn remove(path: &Path, id: u64) {
    OPEN.update(|slots| {
        if slots.mine(path, id).is_some() {
            slots.by_path.remove(path);
        }
    });
}
