//! The H side of a running migration: the table, its converter, the bookkeeping tables,
//! and the one operation everything else is built from — applying a document (or its
//! absence) to H inside a transaction, rejecting it if it does not convert.

use std::collections::HashSet;

use engine::Transaction;
use engine::table::{TableSchema, ops};

use crate::migrate::OnBadDocument;
use crate::migrate::convert::{BadDocument, RowConverter};
use crate::migrate::error::MigrateError;
use crate::migrate::progress::{self, ProgressTables};
use crate::migrate::snapshot::DocView;

/// Everything needed to write the target table.
#[derive(Debug)]
pub struct Target {
    pub db: engine::Database,
    pub name: String,
    pub schema: TableSchema,
    pub tables: ProgressTables,
    pub converter: RowConverter,
    pub policy: OnBadDocument,
    /// Keys rejected so far, as recorded in H (`progress::rejection_key`), so a later
    /// good version can clear them.
    pub rejected_keys: HashSet<String>,
    /// Rejections made by this run, in order, for the report.
    pub rejected_now: Vec<BadDocument>,
}

/// What applying one change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Written,
    Deleted,
    Rejected,
    Unchanged,
}

impl Target {
    /// Handles a document that does not convert: records it (skip) or fails (abort).
    pub fn reject(
        &mut self,
        txn: &mut Transaction,
        key: &str,
        reason: String,
    ) -> Result<(), MigrateError> {
        let bad = BadDocument {
            key: key.to_string(),
            reason,
        };
        if self.policy == OnBadDocument::Abort {
            return Err(MigrateError::BadDocument(bad));
        }
        progress::reject(txn, &self.tables, &self.name, &bad.key, &bad.reason)?;
        self.rejected_keys
            .insert(progress::rejection_key(&bad.key).into_owned());
        self.rejected_now.push(bad);
        Ok(())
    }

    fn clear_rejection(&mut self, txn: &mut Transaction, key: &str) -> Result<(), MigrateError> {
        if self.rejected_keys.remove(&*progress::rejection_key(key)) {
            progress::unreject(txn, &self.tables, &self.name, key)?;
        }
        Ok(())
    }

    /// Makes H's row for D's `key` match `doc` (`None`: the document was deleted),
    /// whatever H held before: insert, update, delete, or reject.
    pub fn apply(
        &mut self,
        txn: &mut Transaction,
        key: &str,
        doc: Option<DocView<'_>>,
    ) -> Result<Applied, MigrateError> {
        let pk = match self.converter.primary_key(key) {
            Ok(pk) => vec![pk],
            Err(reason) => {
                // No row can exist for a key H cannot hold.
                return match doc {
                    Some(_) => self.reject(txn, key, reason).map(|()| Applied::Rejected),
                    None => self.clear_rejection(txn, key).map(|()| Applied::Deleted),
                };
            }
        };
        let Some(doc) = doc else {
            self.clear_rejection(txn, key)?;
            ops::delete(txn, &self.schema, &pk)?;
            return Ok(Applied::Deleted);
        };
        match self.converter.convert(key, doc) {
            Ok(row) => {
                self.clear_rejection(txn, key)?;
                let written = match ops::get(txn, &self.schema, &pk)? {
                    Some(old) if old == row => return Ok(Applied::Unchanged),
                    Some(_) => ops::update(txn, &self.schema, &pk, row).map(drop),
                    None => ops::insert(txn, &self.schema, row).map(drop),
                };
                match written {
                    Ok(()) => Ok(Applied::Written),
                    // A UNIQUE index of a hand-written schema, or an indexed value too
                    // long for the index, say: this document cannot be loaded as it is
                    // (the failed write left nothing behind).
                    Err(e @ (engine::Error::Constraint(_) | engine::Error::TooLarge(_))) => {
                        ops::delete(txn, &self.schema, &pk)?;
                        self.reject(txn, key, e.to_string())
                            .map(|()| Applied::Rejected)
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Err(reason) => {
                // H must not keep an older version of a document D now holds differently.
                ops::delete(txn, &self.schema, &pk)?;
                self.reject(txn, key, reason).map(|()| Applied::Rejected)
            }
        }
    }
}
