//! FOREIGN KEY enforcement: every write of a referencing row finds and locks the row
//! it references; every delete or key change of a referenced row finds the rows that
//! reference it and refuses, deletes or changes them (`ON DELETE` / `ON UPDATE`).
//!
//! ## Why no concurrent transaction can orphan a row
//!
//! The engine's row locks (`engine/src/mvcc/locks.rs`) have PostgreSQL's four modes.
//! A transaction that writes a referencing row takes **KEY SHARE** on the referenced
//! row (its primary key in the referenced table's tree), as PostgreSQL's RI triggers
//! run `SELECT ... FOR KEY SHARE`; it keeps the lock until it ends. A DELETE takes
//! UPDATE on its row, and an UPDATE that changes a referenced key takes UPDATE too
//! (the engine moves a row whose primary key changes; a change of a referenced UNIQUE
//! column takes it explicitly, [`lock_key_change`]); only those conflict with KEY
//! SHARE, so ordinary updates of referenced rows never wait for referencing writers.
//! Two orders are possible:
//!
//! - **The referencing writer first.** It found the row and holds KEY SHARE; the
//!   deleter waits for it to end. If it committed, the deleter's check of referencing
//!   rows must see the new row, which its snapshot may not: so when its own snapshot
//!   shows none, it looks again in the newest committed state (a read-only transaction
//!   begun now, [`committed_since`]). A row found there is a violation at every
//!   isolation level, as in PostgreSQL (whose RI check reads with a new snapshot).
//! - **The deleter first.** The referencing writer's KEY SHARE waits for it. If it
//!   committed, the engine's lock reports the row changed: under READ COMMITTED the
//!   newest version is gone, a violation (`Key (a)=(1) is not present in table "y"`);
//!   under REPEATABLE READ a serialization failure. If it rolled back, the row is
//!   there.
//!
//! Every check runs while the statement writes, before any commit record (the commit
//! invariant). A referencing row is checked after it is written, so a row may reference
//! itself (PostgreSQL's check is an AFTER trigger). RESTRICT is checked at once for
//! each row; NO ACTION when the statement ends ([`check_no_action`]), so one DELETE may
//! remove a row and the rows of the same table that reference it, in any order, and
//! an UPDATE may move a key to another row, as in PostgreSQL.
//!
//! ## Actions
//!
//! CASCADE, SET NULL and SET DEFAULT write the referencing rows through the engine's
//! table API (locked, indexes kept, NOT NULL enforced), then their foreign keys act in
//! turn: a row set to its DEFAULT must reference a row that exists, and a row deleted
//! by CASCADE may be referenced itself. Not yet: the referencing table's CHECK
//! constraints on a row SET NULL or SET DEFAULT (the binder has not bound them for a
//! statement on another table), and a DEFAULT computed per row there. A referencing row committed after the snapshot of a transaction that would
//! have to change it is a serialization failure at every level. MATCH SIMPLE: a row
//! with a NULL in any referencing column references nothing.
//!
//! Cost: each checked row reads the referenced table's catalog entry and does a point
//! read (by primary key or unique index); finding referencing rows scans the
//! referencing table through an index whose leading columns are the referencing
//! columns if there is one, else the whole table (index the referencing columns).

use std::ops::Bound;

use engine::keycode::{KeyValue, describe_key, encode};
use engine::table::TableSchema;
use engine::table::catalog as engine_catalog;
use engine::table::ops::{self, LockedRow};
use engine::{Constraint, IsolationLevel, LockMode, Transaction, WaitPolicy};

use crate::catalog::{self, ColumnDefault, TableInfo};
use crate::error::{Error, Result};
use crate::foreign_key::{Action, ForeignKey};
use crate::value::Value;

/// How deep CASCADE may go (a chain of tables, or a table referencing itself).
const MAX_CASCADE_DEPTH: usize = 64;

/// The positions of `names` in `table`.
fn positions(table: &TableInfo, names: &[String]) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|n| {
            table
                .column_index(n)
                .ok_or_else(|| Error::UnknownColumn(format!("{}.{n}", table.name())))
        })
        .collect()
}

fn keys(row: &[Value], positions: &[usize]) -> Vec<KeyValue> {
    positions.iter().map(|&p| row[p].to_key()).collect()
}

/// `(a, b)=(1, x)`: a key of `table`'s columns at `positions`, called `names`, each
/// value written as SQL writes its column's type (a UUID hyphenated, not as the bytes
/// the engine stores).
fn key_text(names: &[String], key: &[KeyValue], table: &TableInfo, positions: &[usize]) -> String {
    let values: Option<Vec<String>> = key
        .iter()
        .zip(positions)
        .map(|(value, &p)| {
            let kind = table.columns.get(p)?.sql_type.kind();
            Value::from_key(value.clone(), kind)
                .ok()
                .map(|v| v.to_string())
        })
        .collect();
    match values {
        Some(values) if values.len() == key.len() => {
            format!("({})=({})", names.join(", "), values.join(", "))
        }
        _ => {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            describe_key(&names, key)
        }
    }
}

/// The table `fk` references (its engine schema: all a lookup needs, one catalog read)
/// and the positions of the referenced columns in it.
fn referenced_table(txn: &mut Transaction, fk: &ForeignKey) -> Result<(TableSchema, Vec<usize>)> {
    let parent = engine_catalog::table(txn, &fk.referenced)?;
    let columns = fk
        .referenced_columns
        .iter()
        .map(|c| parent.column_index(c))
        .collect::<engine::Result<Vec<_>>>()?;
    Ok((parent, columns))
}

/// The primary key of the row of `parent` whose columns `columns` hold `key`, as the
/// transaction sees it: through the primary key or a unique index over exactly them.
fn find_referenced(
    txn: &mut Transaction,
    schema: &TableSchema,
    columns: &[usize],
    key: &[KeyValue],
) -> Result<Option<Vec<KeyValue>>> {
    let same = |a: &[usize]| a.len() == columns.len() && a.iter().all(|c| columns.contains(c));
    if same(&schema.primary_key) {
        let pk: Vec<KeyValue> = schema
            .primary_key
            .iter()
            .map(|c| key[columns.iter().position(|x| x == c).unwrap_or(0)].clone())
            .collect();
        return Ok(ops::get(txn, schema, &pk)?.map(|_| pk));
    }
    let Some(index) = schema.indexes.iter().find(|i| i.unique && same(&i.columns)) else {
        return Err(Error::Type(format!(
            "there is no unique constraint matching given keys for referenced table \"{}\"",
            schema.name
        )));
    };
    let prefix: Vec<KeyValue> = index
        .columns
        .iter()
        .map(|c| key[columns.iter().position(|x| x == c).unwrap_or(0)].clone())
        .collect();
    let mut scan = ops::index_scan(
        txn,
        schema,
        index,
        Bound::Included(&prefix),
        Bound::Included(&prefix),
        false,
    )?;
    Ok(scan.next().transpose()?.map(|(pk, _)| pk))
}

/// Checks the references of a row of `table` just written (`row`, its new values):
/// each constraint's referenced row exists, and is locked KEY SHARE.
pub(super) fn check_references(
    txn: &mut Transaction,
    table: &TableInfo,
    row: &[Value],
) -> Result<()> {
    for fk in &table.foreign_keys {
        let columns = positions(table, &fk.columns)?;
        let key = keys(row, &columns);
        if key.iter().any(KeyValue::is_null) {
            continue;
        }
        // The engine's schema is all a lookup needs: one catalog read per row.
        let (parent, parent_columns) = referenced_table(txn, fk)?;
        let missing = || {
            Error::Constraint(Constraint::ForeignKey {
                table: table.name().to_string(),
                constraint: fk.name.clone(),
                key: key_text(&fk.columns, &key, table, &columns),
                referenced: fk.referenced.clone(),
            })
        };
        let Some(pk) = find_referenced(txn, &parent, &parent_columns, &key)? else {
            return Err(missing());
        };
        match ops::lock_row(txn, &parent, &pk, LockMode::KeyShare, WaitPolicy::Block)? {
            LockedRow::Unchanged | LockedRow::Skipped => {}
            LockedRow::Changed(None) => return Err(missing()),
            LockedRow::Changed(Some(newest)) => {
                let still: Vec<&KeyValue> = parent_columns.iter().map(|&c| &newest[c]).collect();
                if still.iter().zip(&key).any(|(a, b)| *a != b) {
                    return Err(missing());
                }
            }
        }
    }
    Ok(())
}

/// After an UPDATE of a row of `table` from `old` to `new`: the rows it references
/// (if a referencing column changed) and the rows that reference it (if a referenced
/// key changed).
pub(super) fn row_updated(
    txn: &mut Transaction,
    table: &TableInfo,
    old: &[Value],
    new: &[Value],
    pending: &mut Vec<NoAction>,
) -> Result<()> {
    let mut referencing_changed = false;
    for fk in &table.foreign_keys {
        let columns = positions(table, &fk.columns)?;
        referencing_changed |= columns.iter().any(|&c| old[c] != new[c]);
    }
    if referencing_changed {
        check_references(txn, table, new)?;
    }
    referenced_row_changed(txn, table, old, Some(new), pending)
}

/// Before an UPDATE of a row of `table` that changes a column a foreign key references
/// but not its primary key: the row locked UPDATE, as a delete would lock it, so that
/// it waits for (and conflicts with) referencing writers' KEY SHARE.
pub(super) fn lock_key_change(
    txn: &mut Transaction,
    table: &TableInfo,
    pk: &[KeyValue],
    old: &[Value],
    new: &[Value],
) -> Result<()> {
    for fk in &table.referenced_by {
        let columns = positions(table, &fk.referenced_columns)?;
        if columns.iter().any(|&c| old[c] != new[c]) {
            ops::lock_row(txn, &table.schema, pk, LockMode::Update, WaitPolicy::Block)?;
            return Ok(());
        }
    }
    Ok(())
}

/// The rows of `child` whose `columns` hold `key`, as `txn` sees them: through an
/// index led by those columns, else a full scan.
fn find_referencing(
    txn: &mut Transaction,
    child: &TableInfo,
    columns: &[usize],
    key: &[KeyValue],
) -> Result<Vec<(Vec<KeyValue>, Vec<KeyValue>)>> {
    let schema = &child.schema;
    let matches = |row: &[KeyValue]| columns.iter().zip(key).all(|(&c, k)| &row[c] == k);
    let led = schema
        .indexes
        .iter()
        .find(|i| i.columns.len() >= columns.len() && i.columns[..columns.len()] == *columns);
    let rows: Vec<_> = match led {
        Some(index) => ops::index_scan(
            txn,
            schema,
            index,
            Bound::Included(key),
            Bound::Included(key),
            false,
        )?
        .collect::<engine::Result<_>>()?,
        None => ops::scan(txn, schema, Bound::Unbounded, Bound::Unbounded, false)?
            .filter(|r| r.as_ref().map_or(true, |(_, row)| matches(row)))
            .collect::<engine::Result<_>>()?,
    };
    Ok(rows.into_iter().filter(|(_, row)| matches(row)).collect())
}

/// Whether a row of `child` holding `key` was committed after `txn`'s snapshot (the
/// caller found none visible to it): read in the newest committed state, leaving out
/// the rows `txn` itself wrote (deleted or changed).
fn committed_since(
    txn: &Transaction,
    child: &TableInfo,
    columns: &[usize],
    key: &[KeyValue],
) -> Result<bool> {
    let mut latest = txn.mvcc().begin(IsolationLevel::ReadCommitted);
    let found = find_referencing(&mut latest, child, columns, key);
    latest.rollback();
    Ok(found?
        .iter()
        .any(|(pk, _)| !txn.has_written(child.schema.tree, &encode(pk))))
}

/// After the row `old` of `parent` was deleted (`new` None) or updated to `new`: each
/// constraint that references a changed key acts on the referencing rows.
/// NO ACTION checks are left in `pending`, for [`check_no_action`] at the end of the
/// statement.
pub(super) fn referenced_row_changed(
    txn: &mut Transaction,
    parent: &TableInfo,
    old: &[Value],
    new: Option<&[Value]>,
    pending: &mut Vec<NoAction>,
) -> Result<()> {
    changed(txn, parent, old, new, 0, pending)
}

/// A key of a referenced table that a statement deleted or changed, under a NO ACTION
/// constraint: checked when the statement ends ([`check_no_action`]).
#[derive(Debug)]
pub(super) struct NoAction {
    fk: ForeignKey,
    key: Vec<KeyValue>,
}

/// At the end of a statement: each key a NO ACTION constraint saw go must be back in
/// the referenced table (another row took it) or referenced by no row, as the
/// transaction sees them and as committed meanwhile (PostgreSQL checks NO ACTION when
/// the statement ends, RESTRICT at once).
pub(super) fn check_no_action(txn: &mut Transaction, pending: Vec<NoAction>) -> Result<()> {
    for NoAction { fk, key } in pending {
        let (parent, parent_columns) = referenced_table(txn, &fk)?;
        if find_referenced(txn, &parent, &parent_columns, &key)?.is_some() {
            continue;
        }
        let child = catalog::table(txn, &fk.table)?;
        let columns = positions(&child, &fk.columns)?;
        if !find_referencing(txn, &child, &columns, &key)?.is_empty()
            || committed_since(txn, &child, &columns, &key)?
        {
            return Err(Error::Constraint(Constraint::ForeignKeyReferenced {
                table: fk.referenced.clone(),
                constraint: fk.name.clone(),
                key: key_text(&fk.referenced_columns, &key, &child, &columns),
                referencing: fk.table.clone(),
            }));
        }
    }
    Ok(())
}

fn changed(
    txn: &mut Transaction,
    parent: &TableInfo,
    old: &[Value],
    new: Option<&[Value]>,
    depth: usize,
    pending: &mut Vec<NoAction>,
) -> Result<()> {
    if parent.referenced_by.is_empty() {
        return Ok(());
    }
    if depth > MAX_CASCADE_DEPTH {
        return Err(Error::TooComplex(format!(
            "foreign key actions nested more than {MAX_CASCADE_DEPTH} deep"
        )));
    }
    for fk in &parent.referenced_by {
        let parent_columns = positions(parent, &fk.referenced_columns)?;
        let key = keys(old, &parent_columns);
        if key.iter().any(KeyValue::is_null) {
            continue;
        }
        let new_key = new.map(|new| keys(new, &parent_columns));
        if new_key.as_ref() == Some(&key) {
            continue;
        }
        let action = match new {
            None => fk.on_delete,
            Some(_) => fk.on_update,
        };
        if action == Action::NoAction {
            pending.push(NoAction {
                fk: fk.clone(),
                key,
            });
            continue;
        }
        let child = catalog::table(txn, &fk.table)?;
        let columns = positions(&child, &fk.columns)?;
        let rows = find_referencing(txn, &child, &columns, &key)?;
        let still_referenced = || {
            Error::Constraint(Constraint::ForeignKeyReferenced {
                table: parent.name().to_string(),
                constraint: fk.name.clone(),
                key: key_text(&fk.referenced_columns, &key, &child, &columns),
                referencing: fk.table.clone(),
            })
        };
        if rows.is_empty() {
            if committed_since(txn, &child, &columns, &key)? {
                return Err(match action {
                    Action::NoAction | Action::Restrict => still_referenced(),
                    _ => Error::Serialization(
                        "could not serialize access due to concurrent update".into(),
                    ),
                });
            }
            continue;
        }
        match action {
            Action::NoAction | Action::Restrict => return Err(still_referenced()),
            Action::Cascade | Action::SetNull | Action::SetDefault => {
                for (pk, row) in rows {
                    act_on(
                        txn,
                        &child,
                        &columns,
                        action,
                        new_key.as_deref(),
                        pk,
                        row,
                        depth,
                        pending,
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// CASCADE, SET NULL or SET DEFAULT on one referencing row (`pk`, `row`) of `child`.
#[allow(clippy::too_many_arguments)]
fn act_on(
    txn: &mut Transaction,
    child: &TableInfo,
    columns: &[usize],
    action: Action,
    new_key: Option<&[KeyValue]>,
    pk: Vec<KeyValue>,
    row: Vec<KeyValue>,
    depth: usize,
    pending: &mut Vec<NoAction>,
) -> Result<()> {
    let delete = action == Action::Cascade && new_key.is_none();
    let mode = match delete {
        true => LockMode::Update,
        false => LockMode::NoKeyUpdate,
    };
    let row = match ops::lock_row(txn, &child.schema, &pk, mode, WaitPolicy::Block)? {
        LockedRow::Unchanged | LockedRow::Skipped => row,
        LockedRow::Changed(None) => return Ok(()),
        LockedRow::Changed(Some(newest)) => newest,
    };
    let old: Vec<Value> = child.values(row.clone())?;
    if delete {
        ops::delete_row(txn, &child.schema, &pk, &row)?;
        return changed(txn, child, &old, None, depth + 1, pending);
    }
    let mut new = old.clone();
    for (i, &c) in columns.iter().enumerate() {
        new[c] = match (action, new_key) {
            (Action::Cascade, Some(key)) => {
                Value::from_key(key[i].clone(), child.columns[c].sql_type.kind())?
            }
            (Action::SetDefault, _) => match &child.columns[c].default {
                None => Value::Null,
                Some(ColumnDefault::Value(value)) => value.clone(),
                Some(_) => {
                    return Err(Error::unsupported(format!(
                        "ON DELETE / UPDATE SET DEFAULT of column \"{}\", whose default is \
                         computed per row",
                        child.columns[c].name
                    )));
                }
            },
            _ => Value::Null,
        };
    }
    let keyed: Vec<KeyValue> = new.iter().map(Value::to_key).collect();
    ops::update_row(txn, &child.schema, &pk, &row, keyed)
        .map_err(|e| super::duplicate_key::with_sql_key(e, child, &new))?;
    if action == Action::SetDefault {
        check_references(txn, child, &new)?;
    }
    changed(txn, child, &old, Some(&new), depth + 1, pending)
}

/// `ALTER TABLE t ADD FOREIGN KEY ...`: every row of `t` (locked against concurrent
/// writers) must reference a row that exists, which is locked KEY SHARE; then the
/// constraint is recorded.
pub(super) fn add_foreign_key(txn: &mut Transaction, fk: &ForeignKey) -> Result<()> {
    let mut table = catalog::table(txn, &fk.table)?;
    if table.foreign_keys.iter().any(|f| f.name == fk.name) {
        return Err(Error::AlreadyExists {
            kind: "constraint".into(),
            name: fk.name.clone(),
        });
    }
    catalog::table(txn, &fk.referenced)?;
    txn.lock_tree(table.schema.tree)?;
    table.foreign_keys = vec![fk.clone()];
    let rows: Vec<_> = ops::scan(
        txn,
        &table.schema,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
    )?
    .collect::<engine::Result<_>>()?;
    for (_, row) in rows {
        let row: Vec<Value> = table.values(row)?;
        check_references(txn, &table, &row)?;
    }
    crate::foreign_key::create(txn, fk)
}
