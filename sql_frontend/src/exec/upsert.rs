//! INSERT ... ON CONFLICT: each proposed row either goes in, or meets an existing row
//! with the same values in one of the arbiter keys and then is skipped (DO NOTHING) or
//! updates that row (DO UPDATE).
//!
//! The existing row is looked up by the arbiter's key before the insert (the primary
//! key by a point read, a unique index by a range over its values); NULLs never
//! conflict. A row this statement already inserted or updated conflicts like any other,
//! and DO UPDATE refuses to change it again (PostgreSQL's "cannot affect row a second
//! time"). The update goes through the same checks as UPDATE (NOT NULL, CHECK, keys).
//!
//! Concurrency: the look-up and the write run in the statement's transaction, so a
//! rival transaction that inserts the same key and commits first makes our insert fail
//! with a unique-key error (or a serialization error under REPEATABLE READ): two
//! sessions never both insert one key, but the loser gets an error where PostgreSQL's
//! speculative insertion would retry and update. Not yet: that retry.

use std::collections::HashSet;
use std::ops::Bound;

use engine::Transaction;
use engine::keycode::{KeyValue, encode};
use engine::table::ops;

use super::duplicate_key::with_sql_key;
use super::eval::eval;
use super::new_row::{check_row, insert_row};
use super::operator::{Builder, ExecContext};
use super::references;
use super::scan::convert;
use crate::catalog::TableInfo;
use crate::error::{Error, Result};
use crate::plan::{Arbiter, Check, ConflictAction, OnConflict};
use crate::sequence::SequenceValues;
use crate::value::Value;

/// One INSERT ... ON CONFLICT statement's state across its rows.
pub(super) struct Upsert<'a> {
    pub table: &'a TableInfo,
    pub checks: &'a [Check],
    pub on: &'a OnConflict,
    pub params: &'a [Value],
    pub subqueries: &'a [crate::plan::Node],
    pub build: Builder,
    pub sequences: Option<&'a SequenceValues>,
    /// Primary keys (encoded) of the rows this statement inserted or updated.
    pub touched: HashSet<Vec<u8>>,
}

impl Upsert<'_> {
    /// Writes one proposed row; returns the row as written (inserted or updated), or
    /// `None` when it was skipped.
    pub fn row(&mut self, txn: &mut Transaction, row: Vec<Value>) -> Result<Option<Vec<Value>>> {
        let Some((pk, existing)) = self.conflict(txn, &row)? else {
            let pk = insert_row(txn, self.build, self.table, self.checks, row.clone())?;
            self.touched.insert(encode(&pk));
            return Ok(Some(row));
        };
        let ConflictAction::Update {
            assignments,
            predicate,
        } = &self.on.action
        else {
            return Ok(None);
        };
        if !self.touched.insert(encode(&pk)) {
            return Err(Error::Data(
                "ON CONFLICT DO UPDATE command cannot affect row a second time".into(),
            ));
        }
        let both: Vec<Value> = existing.iter().chain(&row).cloned().collect();
        let mut ctx = ExecContext::new(txn, self.params, self.subqueries, self.build)
            .with_sequences(self.sequences);
        if let Some(predicate) = predicate
            && !matches!(eval(predicate, &both, &mut ctx)?, Value::Bool(true))
        {
            return Ok(None);
        }
        let old = existing.clone();
        let mut new = existing;
        for (column, e) in assignments {
            let value = eval(e, &both, &mut ctx)?;
            new[*column] = self.table.columns[*column].sql_type.assign(value)?;
        }
        check_row(txn, self.build, self.table, self.checks, &new)?;
        references::lock_key_change(txn, self.table, &pk, &old, &new)?;
        let keys = new.iter().map(Value::to_key).collect();
        ops::update(txn, &self.table.schema, &pk, keys)
            .map_err(|e| with_sql_key(e, self.table, &new))?;
        let mut no_action = Vec::new();
        references::row_updated(txn, self.table, &old, &new, &mut no_action)?;
        references::check_no_action(txn, no_action)?;
        Ok(Some(new))
    }

    /// The existing row (with its primary key) that `row` conflicts with on an arbiter.
    fn conflict(
        &self,
        txn: &mut Transaction,
        row: &[Value],
    ) -> Result<Option<(Vec<KeyValue>, Vec<Value>)>> {
        let schema = &self.table.schema;
        for arbiter in &self.on.arbiters {
            let columns = match arbiter {
                Arbiter::PrimaryKey => &schema.primary_key,
                Arbiter::Index(i) => &schema.indexes[*i].columns,
            };
            let key: Vec<KeyValue> = columns.iter().map(|&c| row[c].to_key()).collect();
            if key.iter().any(|k| matches!(k, KeyValue::Null)) {
                continue;
            }
            let found = match arbiter {
                Arbiter::PrimaryKey => ops::get(txn, schema, &key)?.map(|existing| (key, existing)),
                Arbiter::Index(i) => ops::index_scan(
                    txn,
                    schema,
                    &schema.indexes[*i],
                    Bound::Included(&key),
                    Bound::Included(&key),
                    false,
                )?
                .next()
                .transpose()?,
            };
            if let Some(entry) = found {
                return convert(self.table, Ok(entry)).map(Some);
            }
        }
        Ok(None)
    }
}
