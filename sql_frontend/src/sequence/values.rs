//! Handing out sequence values: blocks reserved by transactions of their own, shared by
//! every session of a database; each session's `currval` and `lastval`. The module
//! header (`mod.rs`) says why values are reserved this way and what it promises.
//!
//! Locking: [`ReservedValues`] maps (name, incarnation) to one block behind its own
//! mutex, so sessions taking values of different sequences never wait for each other,
//! and a reservation (a commit, which may wait for the disk) holds only its sequence's
//! block. The map's own lock is held only to find or add a block.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use engine::keycode::KeyValue;
use engine::table::ops::{self, LockedRow};
use engine::{IsolationLevel, LockMode, Transaction, WaitPolicy};

use super::{SequenceDef, StoredSequence, find, key, row_of, sequence_of_row, sequences_table};
use crate::error::{Error, Result};

/// The first block a sequence reserves, and the one after a pause: PostgreSQL logs
/// this many values ahead.
const FIRST_BLOCK: u32 = 32;
/// The largest block: what a crash may skip at most.
const LARGEST_BLOCK: u32 = 8192;
/// A block used up sooner than this after its reservation makes the next one larger.
const BUSY: Duration = Duration::from_secs(1);

/// A run of reserved values not handed out yet.
#[derive(Debug)]
struct Block {
    /// The next value and how many are left (from it on, following the definition).
    next: i64,
    remaining: u32,
    def: Option<SequenceDef>,
    /// The size of the last reservation, and when it was made.
    size: u32,
    reserved_at: Option<Instant>,
}

impl Default for Block {
    fn default() -> Block {
        Block {
            next: 0,
            remaining: 0,
            def: None,
            size: FIRST_BLOCK,
            reserved_at: None,
        }
    }
}

impl Block {
    fn take(&mut self) -> Option<i64> {
        if self.remaining == 0 {
            return None;
        }
        let value = self.next;
        self.remaining -= 1;
        if self.remaining > 0 {
            match self.def.as_ref().and_then(|def| def.after(value)) {
                Some(next) => self.next = next,
                None => self.remaining = 0,
            }
        }
        Some(value)
    }

    /// The size of the next reservation: twice the last one if that was used up
    /// within [`BUSY`], else the first size again (or the sequence's CACHE if larger).
    fn next_size(&self, cache: i64) -> u32 {
        let busy = self.reserved_at.is_some_and(|at| at.elapsed() < BUSY);
        let size = match busy {
            true => self.size.saturating_mul(2).min(LARGEST_BLOCK),
            false => FIRST_BLOCK,
        };
        size.max(
            u32::try_from(cache)
                .unwrap_or(LARGEST_BLOCK)
                .min(LARGEST_BLOCK),
        )
    }

    fn forget(&mut self) {
        *self = Block::default();
    }
}

/// A sequence's name and incarnation.
type BlockKey = (String, i64);

/// The blocks of one database's sequences (kept in its shared SQL state, `shared.rs`).
#[derive(Debug, Default)]
pub struct ReservedValues {
    blocks: Mutex<HashMap<BlockKey, Arc<Mutex<Block>>>>,
}

impl ReservedValues {
    fn block(&self, name: &str, incarnation: i64) -> Arc<Mutex<Block>> {
        let mut blocks = lock(&self.blocks);
        Arc::clone(blocks.entry((name.to_string(), incarnation)).or_default())
    }
}

/// One session's handle on its database's sequences: takes values, and remembers the
/// session's `currval` of each sequence and its `lastval`. Cheap to clone (clones share
/// the session's state).
#[derive(Clone)]
pub struct SequenceValues {
    db: engine::Database,
    shared: Arc<ReservedValues>,
    session: Arc<Mutex<SessionState>>,
    /// The session's transaction is READ ONLY: nextval and setval are refused, as
    /// PostgreSQL refuses them, though they change nothing the transaction owns.
    read_only: bool,
}

impl std::fmt::Debug for SequenceValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceValues").finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct SessionState {
    current: HashMap<String, i64>,
    /// The last nextval's sequence (name and incarnation) and value.
    last: Option<(String, i64, i64)>,
    /// Blocks reserved inside the session's open transaction, of sequences that
    /// transaction created: never shared, forgotten when it ends.
    private: HashMap<BlockKey, Block>,
}

impl SequenceValues {
    /// A session's handle on the sequences of `db`, whose blocks `shared` keeps.
    pub fn new(db: engine::Database, shared: Arc<ReservedValues>) -> SequenceValues {
        SequenceValues {
            db,
            shared,
            session: Arc::default(),
            read_only: false,
        }
    }

    /// Whether the session's transaction is READ ONLY (a statement's context takes a
    /// clone, with the flag as it is when the statement starts).
    pub fn set_read_only(&mut self, read_only: bool) {
        self.read_only = read_only;
    }

    fn check_writable(&self, function: &'static str) -> Result<()> {
        match self.read_only {
            true => Err(Error::ReadOnlyTransaction(function)),
            false => Ok(()),
        }
    }

    /// The session's transaction ended: blocks reserved inside it are gone with it
    /// (committed, they are simply skipped; rolled back, so is their sequence).
    pub fn transaction_ended(&self) {
        lock(&self.session).private.clear();
    }

    /// `nextval(name)`: the next value of the sequence the statement bound (its
    /// `incarnation`), taken in `txn`'s session.
    pub fn next(&self, txn: &mut Transaction, name: &str, incarnation: i64) -> Result<i64> {
        self.check_writable("nextval()")?;
        let block = self.shared.block(name, incarnation);
        let mut block = lock(&block);
        let value = match block.take() {
            Some(value) => value,
            None => match self.reserve(&mut block, name, incarnation)? {
                Some(value) => value,
                None => {
                    // Created or restarted by this session's uncommitted transaction.
                    drop(block);
                    return self.next_private(txn, name, incarnation);
                }
            },
        };
        lock(&self.session).remember(name, incarnation, value);
        Ok(value)
    }

    /// Reserves a new block for `name` in a transaction of its own and takes its first
    /// value; `None` if that transaction does not see the incarnation the statement
    /// bound (the caller's own transaction created or restarted the sequence).
    fn reserve(&self, block: &mut Block, name: &str, incarnation: i64) -> Result<Option<i64>> {
        let mut txn = self.db.begin(IsolationLevel::ReadCommitted);
        let Some(sequence) = own_incarnation(&mut txn, name, incarnation)? else {
            return Ok(None);
        };
        let first = reserve_in(&mut txn, block, sequence)?;
        txn.commit()?;
        Ok(Some(first))
    }

    fn next_private(&self, txn: &mut Transaction, name: &str, incarnation: i64) -> Result<i64> {
        let mut session = lock(&self.session);
        let block = session
            .private
            .entry((name.to_string(), incarnation))
            .or_default();
        let value = match block.take() {
            Some(value) => value,
            None => {
                let sequence = own_incarnation(txn, name, incarnation)?
                    .ok_or_else(|| changed_concurrently(name))?;
                reserve_in(txn, block, sequence)?
            }
        };
        session.remember(name, incarnation, value);
        Ok(value)
    }

    /// `currval(name)`: the value this session's last `nextval(name)` gave.
    pub fn current(&self, name: &str) -> Result<i64> {
        lock(&self.session)
            .current
            .get(name)
            .copied()
            .ok_or_else(|| {
                Error::Data(format!(
                    "currval of sequence \"{name}\" is not yet defined in this session"
                ))
            })
    }

    /// `lastval()`: the value this session's last `nextval` gave, of any sequence —
    /// while that sequence still exists, as `txn` sees it.
    pub fn last(&self, txn: &mut Transaction) -> Result<i64> {
        let last = lock(&self.session).last.clone();
        let undefined = || Error::Data("lastval is not yet defined in this session".into());
        let (name, incarnation, value) = last.ok_or_else(undefined)?;
        match find(txn, &name)? {
            Some(sequence) if sequence.incarnation == incarnation => Ok(value),
            _ => Err(undefined()),
        }
    }

    /// `setval(name, value, is_called)`: the sequence goes on after `value` (or, with
    /// `is_called` false, at it), at once and for every session, whatever becomes of
    /// `txn` — as PostgreSQL's setval, which is not transactional either.
    pub fn set(
        &self,
        txn: &mut Transaction,
        name: &str,
        incarnation: i64,
        value: i64,
        is_called: bool,
    ) -> Result<i64> {
        self.check_writable("setval()")?;
        let block = self.shared.block(name, incarnation);
        let mut block = lock(&block);
        let mut own = self.db.begin(IsolationLevel::ReadCommitted);
        match own_incarnation(&mut own, name, incarnation)? {
            Some(sequence) => {
                set_in(&mut own, sequence, value, is_called)?;
                own.commit()?;
                block.forget();
            }
            None => {
                drop(own);
                let sequence = own_incarnation(txn, name, incarnation)?
                    .ok_or_else(|| changed_concurrently(name))?;
                set_in(txn, sequence, value, is_called)?;
                let mut session = lock(&self.session);
                session.private.remove(&(name.to_string(), incarnation));
            }
        }
        if is_called {
            lock(&self.session).current.insert(name.to_string(), value);
        }
        Ok(value)
    }
}

/// The row of sequence `name` as `txn` sees it, locked, if it is the incarnation
/// `incarnation`. The row is looked at before it is locked, so a transaction never
/// waits here for the caller's own lock on it.
fn own_incarnation(
    txn: &mut Transaction,
    name: &str,
    incarnation: i64,
) -> Result<Option<StoredSequence>> {
    match find(txn, name)? {
        Some(seen) if seen.incarnation == incarnation => {}
        _ => return Ok(None),
    }
    match locked(txn, name)? {
        Some(sequence) if sequence.incarnation == incarnation => Ok(Some(sequence)),
        _ => Err(changed_concurrently(name)),
    }
}

fn changed_concurrently(name: &str) -> Error {
    Error::Serialization(format!(
        "sequence \"{name}\" was dropped, created or restarted by a concurrent transaction"
    ))
}

/// The row of sequence `name`, locked in `txn` (its newest version under READ
/// COMMITTED); `None` if `txn` does not see it.
fn locked(txn: &mut Transaction, name: &str) -> Result<Option<StoredSequence>> {
    let Some(seen) = find(txn, name)? else {
        return Ok(None);
    };
    let meta = sequences_table(txn)?;
    let mode = LockMode::NoKeyUpdate;
    let row = match ops::lock_row(txn, &meta, &key(name), mode, WaitPolicy::Block)? {
        LockedRow::Unchanged | LockedRow::Skipped => return Ok(Some(seen)),
        LockedRow::Changed(None) => return Err(Error::UnknownTable(name.to_string())),
        LockedRow::Changed(Some(row)) => row,
    };
    sequence_of_row(&row).map(Some)
}

/// Advances `sequence` (locked in `txn`) past a new block, which `block` then holds,
/// and takes the block's first value.
fn reserve_in(
    txn: &mut Transaction,
    block: &mut Block,
    mut sequence: StoredSequence,
) -> Result<i64> {
    let first = sequence
        .next_value()
        .ok_or_else(|| sequence.def.exhausted())?;
    let size = block.next_size(sequence.def.cache);
    let mut last = first;
    let mut count = 1;
    while count < size {
        match sequence.def.after(last) {
            Some(next) => last = next,
            None => break,
        }
        count += 1;
    }
    sequence.last_value = last;
    sequence.is_called = true;
    write(txn, &sequence)?;
    *block = Block {
        next: first,
        remaining: count,
        def: Some(sequence.def),
        size,
        reserved_at: Some(Instant::now()),
    };
    Ok(block.take().unwrap_or(first))
}

fn set_in(
    txn: &mut Transaction,
    mut sequence: StoredSequence,
    value: i64,
    is_called: bool,
) -> Result<()> {
    let def = &sequence.def;
    if !(def.min..=def.max).contains(&value) {
        return Err(Error::Data(format!(
            "setval: value {value} is out of bounds for sequence \"{}\" ({}..{})",
            def.name, def.min, def.max
        )));
    }
    sequence.last_value = value;
    sequence.is_called = is_called;
    write(txn, &sequence)
}

/// Writes the state of `sequence`, whose row `txn` holds locked.
fn write(txn: &mut Transaction, sequence: &StoredSequence) -> Result<()> {
    let meta = sequences_table(txn)?;
    let pk: [KeyValue; 1] = key(&sequence.def.name);
    let old =
        ops::get(txn, &meta, &pk)?.ok_or_else(|| Error::UnknownTable(sequence.def.name.clone()))?;
    ops::update_row(txn, &meta, &pk, &old, row_of(sequence))?;
    Ok(())
}

impl SessionState {
    fn remember(&mut self, name: &str, incarnation: i64, value: i64) {
        self.current.insert(name.to_string(), value);
        self.last = Some((name.to_string(), incarnation, value));
    }
}

/// Locks `mutex`; a panic while it was held leaves no half-done state here (each
/// change is one assignment), so a poisoned lock is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A new sequence's incarnation: a random number (see the module header).
pub(super) fn new_incarnation() -> i64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.finish() as i64
}
