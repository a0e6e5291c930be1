//! Reading and writing rows, keeping every secondary index in step.
//!
//! A row lives in its table's tree under the keycode encoding of its primary-key values
//! (or of a hidden row id), with the row itself as the value (row.rs). Each secondary
//! index is a tree of entries pointing back at rows:
//!
//! ```text
//! non-unique index, or unique with a NULL among the indexed values:
//!     key = encode(indexed values ‖ primary key)       value = encode(included values)
//! unique index, no NULL among the indexed values:
//!     key = encode(indexed values)                      value = encode(primary key ‖
//!                                                               included values)
//! ```
//!
//! (The included values are those of the index's INCLUDE columns; without any, the
//! first form's value is empty.)
//!
//! Index entries are written in the same transaction as the row, as versions like any
//! other key, so an index scan at a snapshot returns exactly the rows visible at that
//! snapshot.
//!
//! ## Index-only scans: why an entry alone is never stale or phantom
//!
//! An entry holds its indexed values, its row's primary key and its included values,
//! so a query that reads only those columns can be answered from the entries alone
//! ([`index_entries`]), never reading the table. PostgreSQL must consult a visibility
//! map for that, because its index entries carry no visibility of their own and are
//! removed only by VACUUM. Here they need nothing: an entry is an MVCC version in the
//! same store as the row, written, superseded and deleted only by the transaction that
//! writes the row, in the same commit. Every write of a row keeps its entries equal to
//! what [`index_entry`] makes of the new row: an insert writes them; a delete deletes
//! them; an update rewrites an entry whenever its key *or its value* changes (a changed
//! included value, a changed primary key) and leaves it alone only when the entry
//! would be byte-for-byte the same. So at every snapshot, the visible entries of an
//! index are exactly the entries of the visible rows (plus the reading transaction's
//! own writes, merged the same way for both trees): an entry cannot show a value its
//! row no longer has at that snapshot (stale), nor a row that the snapshot cannot see,
//! deleted or uncommitted (phantom). Garbage collection removes old versions of both
//! trees by the same rule, the oldest snapshot still open. Under SERIALIZABLE the scan's
//! read of the index range is recorded like any scan's, and a writer that changes a
//! column the entries carry writes the entry's key, so the conflict is seen there. The second form gives each non-null unique value exactly one key, which is
//! what makes uniqueness hold under concurrency: two transactions inserting the same
//! value write the same key, and the second one fails with a serialization error (first
//! updater wins), while a value already committed is found by a point read and fails
//! with a unique-constraint error. NULLs never collide (SQL's rule: NULL is not equal to
//! NULL), which the first form gives them.
//!
//! Every write operation is atomic: it runs under a transaction savepoint and undoes its
//! own partial writes if a later step fails (say, the second of two unique indexes).
//!
//! ## Checks come before the commit record
//!
//! Every check a row can fail runs here, while the row is written, never when its commit
//! is applied (the commit invariant of the `mvcc` layer): arity, types and NOT NULL
//! (`validate`), the primary key and UNIQUE, and key sizes. A primary key or index
//! entry whose stored key would exceed the trees' limit fails with
//! [`Limit::PrimaryKey`] or [`Limit::IndexRow`], naming the table, the index and its
//! columns, the size and the limit (the model is PostgreSQL's "index row size ...
//! exceeds maximum ... for index"). The MVCC layer would refuse such a key too, but only
//! by tree number; this layer knows the names.

use std::ops::Bound;

use crate::btree::EntryChunk;
use crate::error::{Constraint, Error, Limit, Result};
use crate::keycode::{
    ColumnOrder, KeyDecoder, KeyValue, decode, describe_key, encode, encode_value_into, prefix_end,
};
use crate::mvcc::{
    LockMode, RowLock, Transaction, TreeId, TxnChunks, TxnScan, WaitPolicy, version_key,
};
use crate::table::row::{decode_row, encode_row, encode_row_into, encoded_room};
use crate::table::schema::{ColumnType, IndexSchema, TableSchema};

/// A row's values, in column order.
pub type Row = Vec<KeyValue>;

/// Checks a row against the schema: arity, types and NOT NULL.
pub(crate) fn validate(schema: &TableSchema, row: &[KeyValue]) -> Result<()> {
    if row.len() != schema.columns.len() {
        return Err(Error::InvalidArgument(format!(
            "table {:?} has {} columns, but the row has {} values",
            schema.name,
            schema.columns.len(),
            row.len()
        )));
    }
    for (column, value) in schema.columns.iter().zip(row) {
        match value {
            KeyValue::Null if !column.nullable => {
                return Err(Error::Constraint(Constraint::NotNull {
                    table: schema.name.clone(),
                    column: column.name.clone(),
                }));
            }
            KeyValue::Null => {}
            value if !column.ty.admits(value) => {
                return Err(Error::TypeMismatch(format!(
                    "column {:?} of table {:?} is {:?}, but the value is {value:?}",
                    column.name, schema.name, column.ty
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The primary-key values of `row` (declared key columns only).
fn declared_key(schema: &TableSchema, row: &[KeyValue]) -> Row {
    schema.primary_key.iter().map(|i| row[*i].clone()).collect()
}

fn indexed_values(index: &IndexSchema, row: &[KeyValue]) -> Row {
    index.columns.iter().map(|i| row[*i].clone()).collect()
}

/// The key and value of `row`'s entry in `index`, for the row whose key is `pk`.
fn index_entry(index: &IndexSchema, row: &[KeyValue], pk: &[KeyValue]) -> (Vec<u8>, Vec<u8>) {
    let mut values = indexed_values(index, row);
    let included = index.include.iter().map(|i| &row[*i]);
    if index.unique && !values.iter().any(KeyValue::is_null) {
        let mut value = pk.to_vec();
        value.extend(included.cloned());
        (encode(&values), encode(&value))
    } else {
        values.extend_from_slice(pk);
        let included: Row = included.cloned().collect();
        (encode(&values), encode(&included))
    }
}

/// The values of the primary key of a table's rows: one (the hidden row id) where
/// none is declared.
fn key_width(schema: &TableSchema) -> usize {
    schema.primary_key.len().max(1)
}

/// An index entry's parts: the indexed values, the primary key it points at, the
/// included values.
struct EntryParts {
    indexed: Row,
    pk: Row,
    included: Row,
}

/// Decodes an entry of `index` (of a table whose keys have `key_width` values).
fn entry_parts(
    index: &IndexSchema,
    key_width: usize,
    key: &[u8],
    value: &[u8],
) -> Result<EntryParts> {
    let corrupt = |what: &str| Error::CorruptData(format!("index {:?}: {what}", index.name));
    let mut decoder = KeyDecoder::new(key, &[]);
    let mut indexed = Vec::with_capacity(index.columns.len());
    for _ in 0..index.columns.len() {
        let value = decoder
            .next_value()?
            .ok_or_else(|| corrupt("an entry shorter than its columns"))?;
        indexed.push(value);
    }
    let (pk, included) = match index.unique && !indexed.iter().any(KeyValue::is_null) {
        true => {
            let mut pk = decode(value)?;
            if pk.len() < key_width {
                return Err(corrupt("an entry's value shorter than its row's key"));
            }
            let included = pk.split_off(key_width);
            (pk, included)
        }
        false => (decode(decoder.remaining())?, decode(value)?),
    };
    if pk.len() != key_width || included.len() != index.include.len() {
        return Err(corrupt("an entry of the wrong width"));
    }
    Ok(EntryParts {
        indexed,
        pk,
        included,
    })
}

/// The primary key an index entry points at.
fn entry_target(index: &IndexSchema, key_width: usize, key: &[u8], value: &[u8]) -> Result<Row> {
    if index.include.is_empty() && !value.is_empty() {
        // The unique form without included values: the value is the key.
        return decode(value);
    }
    entry_parts(index, key_width, key, value).map(|parts| parts.pk)
}

/// `(a, b)=(1, x)`: the columns at `positions` and their `values`, as a uniqueness
/// error's detail names a key.
fn key_description(schema: &TableSchema, positions: &[usize], values: &[KeyValue]) -> String {
    let names: Vec<&str> = positions
        .iter()
        .map(|&i| schema.columns[i].name.as_str())
        .collect();
    describe_key(&names, values)
}

/// The error for a row whose primary key `pk` another row of the table holds.
pub(super) fn duplicate_primary_key(schema: &TableSchema, pk: &[KeyValue]) -> Error {
    Error::Constraint(Constraint::PrimaryKey {
        table: schema.name.clone(),
        key: key_description(schema, &schema.primary_key, pk),
    })
}

/// The names of the columns at `positions`.
fn column_names(schema: &TableSchema, positions: &[usize]) -> Vec<String> {
    positions
        .iter()
        .map(|&i| schema.columns[i].name.clone())
        .collect()
}

/// `Some((size, max))` when `key` is too long for trees whose stored keys may take
/// `max` bytes: its stored size and the limit.
fn oversized(key: &[u8], max: usize) -> Option<(usize, usize)> {
    let size = version_key::encoded_len(key);
    (size > max).then_some((size, max))
}

/// Refuses a row key (an encoded primary key) the table's tree cannot hold.
pub(super) fn check_row_key(schema: &TableSchema, key: &[u8], max: usize) -> Result<()> {
    match oversized(key, max) {
        None => Ok(()),
        Some((size, max)) => Err(Error::TooLarge(Limit::PrimaryKey {
            table: schema.name.clone(),
            columns: column_names(schema, &schema.primary_key),
            size,
            max,
        })),
    }
}

/// Refuses an index entry key the index's tree cannot hold.
pub(super) fn check_index_key(
    schema: &TableSchema,
    index: &IndexSchema,
    key: &[u8],
    max: usize,
) -> Result<()> {
    match oversized(key, max) {
        None => Ok(()),
        Some((size, max)) => Err(Error::TooLarge(Limit::IndexRow {
            table: schema.name.clone(),
            index: index.name.clone(),
            columns: column_names(schema, &index.columns),
            size,
            max,
        })),
    }
}

/// Checks that `row` (already valid for `schema`) makes keys that trees whose stored
/// keys may take `max_stored_key_len` bytes ([`crate::Database::max_stored_key_len`])
/// can hold: its primary key and its entry in every index. [`insert`] makes the same
/// checks; this is for callers that must know before writing (a migration counting the
/// documents H cannot take).
pub fn check_key_sizes(
    schema: &TableSchema,
    row: &[KeyValue],
    max_stored_key_len: usize,
) -> Result<()> {
    validate(schema, row)?;
    let pk = match schema.has_hidden_row_id() {
        // Every row id encodes to the same length.
        true => vec![KeyValue::Int(0)],
        false => declared_key(schema, row),
    };
    check_row_key(schema, &encode(&pk), max_stored_key_len)?;
    schema.indexes.iter().try_for_each(|index| {
        let (key, _) = index_entry(index, row, &pk);
        check_index_key(schema, index, &key, max_stored_key_len)
    })
}

fn insert_index_entry(
    txn: &mut Transaction,
    schema: &TableSchema,
    index: &IndexSchema,
    row: &[KeyValue],
    pk: &[KeyValue],
) -> Result<()> {
    let (key, value) = index_entry(index, row, pk);
    check_index_key(schema, index, &key, txn.mvcc().max_stored_key_len())?;
    if value.is_empty() {
        return txn.put(index.tree, &key, &value);
    }
    match txn.insert(index.tree, &key, &value)? {
        true => Ok(()),
        false => Err(Error::Constraint(Constraint::Unique {
            table: schema.name.clone(),
            index: index.name.clone(),
            key: key_description(schema, &index.columns, &indexed_values(index, row)),
        })),
    }
}

/// Runs `write` under a savepoint, undoing its partial writes if it fails.
fn atomically<T>(
    txn: &mut Transaction,
    write: impl FnOnce(&mut Transaction) -> Result<T>,
) -> Result<T> {
    let savepoint = txn.savepoint();
    match write(txn) {
        Ok(value) => {
            txn.release(savepoint);
            Ok(value)
        }
        Err(e) => {
            txn.rollback_to(savepoint);
            Err(e)
        }
    }
}

/// Inserts `row`; returns its primary key (the hidden row id, for tables without one).
pub fn insert(txn: &mut Transaction, schema: &TableSchema, row: Row) -> Result<Row> {
    validate(schema, &row)?;
    let pk = match schema.has_hidden_row_id() {
        true => vec![KeyValue::Int(next_row_id(txn, schema.tree)?)],
        false => declared_key(schema, &row),
    };
    let key = encode(&pk);
    check_row_key(schema, &key, txn.mvcc().max_stored_key_len())?;
    let stored = encode_row(schema, &row)?;
    atomically(txn, |txn| {
        if !txn.insert(schema.tree, &key, &stored)? {
            return Err(duplicate_primary_key(schema, &pk));
        }
        schema
            .indexes
            .iter()
            .try_for_each(|index| insert_index_entry(txn, schema, index, &row, &pk))
    })?;
    Ok(pk)
}

/// [`insert`] for a caller that does not need the primary key back (an INSERT without
/// RETURNING). A table with a declared primary key and no index is the common case of a
/// load, and its row is one write: the key is encoded straight from the row's columns
/// (no key row is built, returned and dropped), and no savepoint is set around the
/// write (one write happens whole or not at all). Other tables take [`insert`]'s path.
pub fn insert_row(txn: &mut Transaction, schema: &TableSchema, row: Row) -> Result<()> {
    if schema.has_hidden_row_id() || !schema.indexes.is_empty() {
        return insert(txn, schema, row).map(drop);
    }
    validate(schema, &row)?;
    // The key, then the row, in one buffer.
    let key_room: usize = schema
        .primary_key
        .iter()
        .map(|&column| match &row[column] {
            KeyValue::Text(s) => s.len() + 3,
            KeyValue::Bytes(b) => b.len() + 3,
            _ => 17,
        })
        .sum();
    let mut bytes = Vec::with_capacity(key_room + encoded_room(schema, &row));
    encode_declared_key_into(&mut bytes, schema, &row);
    let key_len = bytes.len();
    check_row_key(schema, &bytes, txn.mvcc().max_stored_key_len())?;
    encode_row_into(&mut bytes, schema, &row)?;
    let (key, stored) = bytes.split_at(key_len);
    match txn.insert(schema.tree, key, stored)? {
        true => Ok(()),
        false => Err(duplicate_primary_key(schema, &declared_key(schema, &row))),
    }
}

/// Appends the key of `row` under its table's declared primary key to `out`: what
/// `encode(&declared_key(..))` makes, column by column, with no key row built.
pub(super) fn encode_declared_key_into(out: &mut Vec<u8>, schema: &TableSchema, row: &[KeyValue]) {
    for &column in &schema.primary_key {
        encode_value_into(out, &row[column], ColumnOrder::ASC);
    }
}

pub(super) fn next_row_id(txn: &mut Transaction, tree: TreeId) -> Result<i64> {
    txn.mvcc()
        .clone()
        .next_in_sequence(tree, |last| match last {
            None => Ok(0),
            Some(key) => match decode(key)?.as_slice() {
                [KeyValue::Int(id)] => Ok(*id),
                other => Err(Error::CorruptData(format!("hidden row id key {other:?}"))),
            },
        })
}

/// The row whose primary key is `pk`.
pub fn get(txn: &mut Transaction, schema: &TableSchema, pk: &[KeyValue]) -> Result<Option<Row>> {
    match txn.get(schema.tree, &encode(pk))? {
        Some(bytes) => decode_row(schema, &bytes).map(Some),
        None => Ok(None),
    }
}

/// What [`lock_row`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum LockedRow {
    /// Locked; unchanged since the transaction's snapshot.
    Unchanged,
    /// READ COMMITTED: locked, and changed by a commit after the statement's snapshot:
    /// the row as that commit left it (`None`: deleted).
    Changed(Option<Row>),
    /// `SKIP LOCKED`, and another transaction holds it.
    Skipped,
}

/// Locks the row whose primary key is `pk` (see [`Transaction::lock_row`]: waits for a
/// conflicting holder; under REPEATABLE READ fails on a row changed since the snapshot;
/// under READ COMMITTED returns the newest row for the caller to re-check).
pub fn lock_row(
    txn: &mut Transaction,
    schema: &TableSchema,
    pk: &[KeyValue],
    mode: LockMode,
    policy: WaitPolicy,
) -> Result<LockedRow> {
    Ok(
        match txn.lock_row(schema.tree, &encode(pk), mode, policy)? {
            RowLock::Unchanged => LockedRow::Unchanged,
            RowLock::Skipped => LockedRow::Skipped,
            RowLock::Changed(None) => LockedRow::Changed(None),
            RowLock::Changed(Some(bytes)) => LockedRow::Changed(Some(decode_row(schema, &bytes)?)),
        },
    )
}

/// The row `pk`, which this transaction sees as `seen`, locked in `mode` for a write
/// over it: `seen`, or under READ COMMITTED the row's newest version if a commit changed
/// it after the snapshot (`None`: deleted meanwhile). Writing over the newest version is
/// what keeps the indexes right: the entries a write removes are the row's current ones.
fn lock_for_write(
    txn: &mut Transaction,
    schema: &TableSchema,
    pk: &[KeyValue],
    seen: Row,
    mode: LockMode,
) -> Result<Option<Row>> {
    match lock_row(txn, schema, pk, mode, WaitPolicy::Block)? {
        LockedRow::Unchanged | LockedRow::Skipped => Ok(Some(seen)),
        LockedRow::Changed(newest) => Ok(newest),
    }
}

/// Deletes the row whose primary key is `pk` (waiting for a transaction that holds it;
/// see [`lock_row`]); returns whether it existed.
pub fn delete(txn: &mut Transaction, schema: &TableSchema, pk: &[KeyValue]) -> Result<bool> {
    let Some(seen) = get(txn, schema, pk)? else {
        return Ok(false);
    };
    let Some(old) = lock_for_write(txn, schema, pk, seen, LockMode::Update)? else {
        return Ok(false);
    };
    delete_row(txn, schema, pk, &old)?;
    Ok(true)
}

/// Deletes the row whose primary key is `pk` and whose values the caller read as `old`
/// (from a row it locked, so they are the row's newest).
pub fn delete_row(
    txn: &mut Transaction,
    schema: &TableSchema,
    pk: &[KeyValue],
    old: &[KeyValue],
) -> Result<()> {
    atomically(txn, |txn| {
        txn.delete(schema.tree, &encode(pk))?;
        for index in &schema.indexes {
            txn.delete(index.tree, &index_entry(index, old, pk).0)?;
        }
        Ok(())
    })
}

/// Replaces the row whose primary key is `pk` with `row` (whose key may differ: the row
/// then moves), after locking it as [`lock_row`] does (under READ COMMITTED the write
/// goes over the row's newest version); returns whether the row existed. Returns the row's new key through
/// `Ok(Some(..))`.
pub fn update(
    txn: &mut Transaction,
    schema: &TableSchema,
    pk: &[KeyValue],
    row: Row,
) -> Result<Option<Row>> {
    validate(schema, &row)?;
    let Some(seen) = get(txn, schema, pk)? else {
        return Ok(None);
    };
    let Some(old) = lock_for_write(txn, schema, pk, seen, LockMode::Update)? else {
        return Ok(None);
    };
    update_row(txn, schema, pk, &old, row).map(Some)
}

/// Replaces the row whose primary key is `pk` and whose values the caller read as
/// `old` (from a row it locked, so they are the row's newest) with `row`; returns the
/// row's new key.
pub fn update_row(
    txn: &mut Transaction,
    schema: &TableSchema,
    pk: &[KeyValue],
    old: &[KeyValue],
    row: Row,
) -> Result<Row> {
    validate(schema, &row)?;
    let new_pk = match schema.has_hidden_row_id() {
        true => pk.to_vec(),
        false => declared_key(schema, &row),
    };
    let stored = encode_row(schema, &row)?;
    atomically(txn, |txn| {
        let (old_key, new_key) = (encode(pk), encode(&new_pk));
        check_row_key(schema, &new_key, txn.mvcc().max_stored_key_len())?;
        if new_key != old_key {
            if txn.get(schema.tree, &new_key)?.is_some() {
                return Err(duplicate_primary_key(schema, &new_pk));
            }
            txn.delete(schema.tree, &old_key)?;
        }
        txn.put(schema.tree, &new_key, &stored)?;
        for index in &schema.indexes {
            let old_entry = index_entry(index, old, pk);
            let new_entry = index_entry(index, &row, &new_pk);
            if old_entry != new_entry {
                txn.delete(index.tree, &old_entry.0)?;
                insert_index_entry(txn, schema, index, &row, &new_pk)?;
            }
        }
        Ok(new_pk.clone())
    })
}

/// Maps bounds over tuple prefixes to bounds over encoded keys: `Included(p)` as a lower
/// bound starts at the first key with prefix `p`, `Excluded(p)` after the last one, and
/// mirrored for upper bounds.
fn key_bounds(
    lower: Bound<&[KeyValue]>,
    upper: Bound<&[KeyValue]>,
) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let after_prefix = |p: &[KeyValue]| match prefix_end(&encode(p)) {
        Some(end) => Bound::Excluded(end),
        None => Bound::Unbounded,
    };
    let lower = match lower {
        Bound::Included(p) => Bound::Included(encode(p)),
        Bound::Excluded(p) => match after_prefix(p) {
            Bound::Excluded(end) => Bound::Included(end),
            other => other,
        },
        Bound::Unbounded => Bound::Unbounded,
    };
    let upper = match upper {
        Bound::Included(p) => after_prefix(p),
        Bound::Excluded(p) => Bound::Excluded(encode(p)),
        Bound::Unbounded => Bound::Unbounded,
    };
    (lower, upper)
}

fn as_slice_bound(bound: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match bound {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// Rows in primary-key order (or reverse), with their keys; bounds are primary-key
/// prefixes.
pub struct RowScan {
    scan: TxnScan,
    schema: TableSchema,
}

impl std::fmt::Debug for RowScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowScan")
            .field("table", &self.schema.name)
            .finish_non_exhaustive()
    }
}

impl Iterator for RowScan {
    type Item = Result<(Row, Row)>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.scan.next()?;
        Some(entry.and_then(|(key, value)| Ok((decode(&key)?, decode_row(&self.schema, &value)?))))
    }
}

/// Scans the table's rows within primary-key prefix bounds.
pub fn scan(
    txn: &mut Transaction,
    schema: &TableSchema,
    lower: Bound<&[KeyValue]>,
    upper: Bound<&[KeyValue]>,
    reverse: bool,
) -> Result<RowScan> {
    let (lower, upper) = key_bounds(lower, upper);
    let scan = txn.scan(
        schema.tree,
        as_slice_bound(&lower),
        as_slice_bound(&upper),
        reverse,
    )?;
    Ok(RowScan {
        scan,
        schema: schema.clone(),
    })
}

/// A forward scan of a table's stored rows, lent a chunk at a time (about a leaf's worth):
/// each entry is an encoded primary key ([`KeyDecoder`] reads it) and a stored row
/// ([`crate::table::row::decode_row_with`] reads it without copying). Sees what
/// [`scan`] sees, without allocating per row.
#[derive(Debug)]
pub struct RowChunks {
    scan: TxnChunks,
}

impl RowChunks {
    /// Replaces `out`'s contents with the next rows, at least one; `false` (and an empty
    /// `out`) when the scan is over.
    pub fn next_chunk(&mut self, out: &mut EntryChunk) -> Result<bool> {
        self.scan.next_chunk(out)
    }

    /// The same scan, lending its rows with empty primary keys, for a caller that
    /// never reads them (the keys are then neither decoded nor copied).
    pub fn without_keys(self) -> RowChunks {
        RowChunks {
            scan: self.scan.without_keys(),
        }
    }
}

/// Scans the table's stored rows within primary-key prefix bounds, in key order, a chunk
/// at a time ([`RowChunks`]).
pub fn scan_chunks(
    txn: &mut Transaction,
    schema: &TableSchema,
    lower: Bound<&[KeyValue]>,
    upper: Bound<&[KeyValue]>,
) -> Result<RowChunks> {
    let (lower, upper) = key_bounds(lower, upper);
    let scan = txn.scan_chunks(schema.tree, as_slice_bound(&lower), as_slice_bound(&upper))?;
    Ok(RowChunks { scan })
}

/// [`scan_chunks`] cut into at most `parts` scans of consecutive primary-key ranges, in
/// key order, for several threads to read at once: see
/// [`Transaction::scan_chunk_parts`].
pub fn scan_chunk_parts(
    txn: &mut Transaction,
    schema: &TableSchema,
    lower: Bound<&[KeyValue]>,
    upper: Bound<&[KeyValue]>,
    parts: usize,
) -> Result<Vec<RowChunks>> {
    let (lower, upper) = key_bounds(lower, upper);
    let scans = txn.scan_chunk_parts(
        schema.tree,
        as_slice_bound(&lower),
        as_slice_bound(&upper),
        parts,
    )?;
    Ok(scans.into_iter().map(|scan| RowChunks { scan }).collect())
}

/// Rows in index order within bounds over prefixes of the indexed columns, with their
/// primary keys. Each entry's row is read from the table at the same snapshot.
pub struct IndexScan<'t> {
    txn: &'t mut Transaction,
    entries: TxnScan,
    schema: TableSchema,
    index: IndexSchema,
}

impl std::fmt::Debug for IndexScan<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexScan")
            .field("index", &self.index.name)
            .finish_non_exhaustive()
    }
}

impl Iterator for IndexScan<'_> {
    type Item = Result<(Row, Row)>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.entries.next()?;
        Some(entry.and_then(|(key, value)| {
            let pk = entry_target(&self.index, key_width(&self.schema), &key, &value)?;
            match get(self.txn, &self.schema, &pk)? {
                Some(row) => Ok((pk, row)),
                None => Err(Error::CorruptData(format!(
                    "index {:?} points at a row of {:?} that does not exist",
                    self.index.name, self.schema.name
                ))),
            }
        }))
    }
}

/// Scans `index` of the table within bounds over prefixes of its columns.
pub fn index_scan<'t>(
    txn: &'t mut Transaction,
    schema: &TableSchema,
    index: &IndexSchema,
    lower: Bound<&[KeyValue]>,
    upper: Bound<&[KeyValue]>,
    reverse: bool,
) -> Result<IndexScan<'t>> {
    let (lower, upper) = key_bounds(lower, upper);
    let entries = txn.scan(
        index.tree,
        as_slice_bound(&lower),
        as_slice_bound(&upper),
        reverse,
    )?;
    Ok(IndexScan {
        txn,
        entries,
        schema: schema.clone(),
        index: index.clone(),
    })
}

/// An index-only scan: per entry of an index within bounds, the primary key it points
/// at and a row of the table's width holding the indexed, primary-key and included
/// columns, NULL elsewhere. It reads the index alone (see the module header for why
/// that sees exactly the rows the transaction sees).
pub struct IndexEntries {
    entries: TxnScan,
    index: IndexSchema,
    primary_key: Vec<usize>,
    width: usize,
}

impl std::fmt::Debug for IndexEntries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexEntries")
            .field("index", &self.index.name)
            .finish_non_exhaustive()
    }
}

impl IndexEntries {
    fn row(&self, key: &[u8], value: &[u8]) -> Result<(Row, Row)> {
        let parts = entry_parts(&self.index, self.primary_key.len().max(1), key, value)?;
        let mut row = vec![KeyValue::Null; self.width];
        for (column, value) in self.index.columns.iter().zip(parts.indexed) {
            row[*column] = value;
        }
        for (column, value) in self.primary_key.iter().zip(&parts.pk) {
            row[*column] = value.clone();
        }
        for (column, value) in self.index.include.iter().zip(parts.included) {
            row[*column] = value;
        }
        Ok((parts.pk, row))
    }
}

impl Iterator for IndexEntries {
    type Item = Result<(Row, Row)>;

    fn next(&mut self) -> Option<Self::Item> {
        let entry = self.entries.next()?;
        Some(entry.and_then(|(key, value)| self.row(&key, &value)))
    }
}

/// Whether an index-only scan of `index` fills every column `needed` marks (the
/// indexed, included and primary-key columns). An interval or NUMERIC column never is:
/// an entry keeps an interval's length only, not its three fields, and a NUMERIC's
/// number but not its display scale (`1.50` reads back as `1.5`; `keycode`'s header),
/// so their values come from the row.
pub fn index_covers(schema: &TableSchema, index: &IndexSchema, needed: &[bool]) -> bool {
    needed.iter().enumerate().all(|(column, needed)| {
        let in_entry = index.columns.contains(&column)
            || index.include.contains(&column)
            || schema.primary_key.contains(&column);
        let read_back = schema
            .columns
            .get(column)
            .is_none_or(|c| !matches!(c.ty, ColumnType::Interval | ColumnType::Numeric));
        !needed || (in_entry && read_back)
    })
}

/// Scans the entries of `index` within bounds over prefixes of its columns, as an
/// index-only scan ([`IndexEntries`]).
pub fn index_entries(
    txn: &mut Transaction,
    schema: &TableSchema,
    index: &IndexSchema,
    lower: Bound<&[KeyValue]>,
    upper: Bound<&[KeyValue]>,
) -> Result<IndexEntries> {
    let (lower, upper) = key_bounds(lower, upper);
    let entries = txn.scan(
        index.tree,
        as_slice_bound(&lower),
        as_slice_bound(&upper),
        false,
    )?;
    Ok(IndexEntries {
        entries,
        index: index.clone(),
        primary_key: schema.primary_key.clone(),
        width: schema.columns.len(),
    })
}
