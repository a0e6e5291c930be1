//! Verification: does H hold exactly what D holds, after conversion?
//!
//! Both sides are reduced to the same multiset of canonical rows — the engine's stored
//! encoding of the primary key (keycode) and of the row (`engine::table::row`), both
//! deterministic — and compared by count and by an order-independent checksum: the
//! wrapping sum and the XOR of a 64-bit SipHash of each (key, row) pair. D's side is
//! computed from D's documents (converted again, independently of what the loader did);
//! H's side from the bytes H actually stores, read back by a full scan of the table in
//! one snapshot. Documents that do not convert are counted on D's side and compared with
//! the rejections recorded in H, so a skipped document is accounted for, not lost.
//!
//! The two sides run on two threads.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::ops::Bound;

use engine::IsolationLevel;
use engine::keycode::encode;
use engine::table::row::encode_row;
use kv_legacy::Document;

use crate::migrate::convert::RowConverter;
use crate::migrate::error::MigrateError;
use crate::migrate::progress;
use crate::migrate::target::Target;

/// An order-independent digest of a multiset of (key, row) pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    pub count: u64,
    pub sum: u64,
    pub xor: u64,
}

impl Checksum {
    /// Adds one (encoded key, encoded row) pair.
    pub fn add(&mut self, key: &[u8], row: &[u8]) {
        let mut hasher = DefaultHasher::new();
        hasher.write_usize(key.len());
        hasher.write(key);
        hasher.write(row);
        let hash = hasher.finish();
        self.count += 1;
        self.sum = self.sum.wrapping_add(hash);
        self.xor ^= hash;
    }
}

impl std::fmt::Display for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}{:016x}", self.sum, self.xor)
    }
}

/// Both sides' digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    /// D's documents that convert to rows.
    pub d_rows: Checksum,
    /// D's documents that do not convert.
    pub d_rejected: u64,
    /// H's rows.
    pub h_rows: Checksum,
    /// Rejections recorded in H.
    pub h_rejected: u64,
}

impl Verification {
    /// Whether H holds exactly D's convertible documents and records every other one.
    pub fn matches(&self) -> bool {
        self.d_rows == self.h_rows && self.d_rejected == self.h_rejected
    }
}

/// D's side: the digest of every document that converts, and how many do not.
pub fn digest_documents(
    converter: &RowConverter,
    docs: &HashMap<String, Document>,
) -> (Checksum, u64) {
    let mut checksum = Checksum::default();
    let mut rejected = 0;
    for (key, doc) in docs {
        match converter.convert(key, doc) {
            Ok(row) => match encode_row(converter.engine_schema(), &row) {
                Ok(bytes) => {
                    let pk = encode(std::slice::from_ref(&row[converter.key_index()]));
                    checksum.add(&pk, &bytes);
                }
                Err(_) => rejected += 1,
            },
            Err(_) => rejected += 1,
        }
    }
    (checksum, rejected)
}

/// H's side: the digest of every stored row of the table, and the rejections recorded.
pub fn digest_table(target: &Target) -> Result<(Checksum, u64), MigrateError> {
    let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
    let mut checksum = Checksum::default();
    for entry in txn.scan(
        target.schema.tree,
        Bound::Unbounded,
        Bound::Unbounded,
        false,
    )? {
        let (key, row) = entry?;
        checksum.add(&key, &row);
    }
    let rejected = progress::rejected(&mut txn, &target.tables, &target.name)?.len() as u64;
    txn.commit()?;
    Ok((checksum, rejected))
}

/// Computes both sides, D's and H's in parallel.
pub fn verify(
    target: &Target,
    docs: &HashMap<String, Document>,
) -> Result<Verification, MigrateError> {
    let (d_side, h_side) = std::thread::scope(|scope| {
        let d_side = scope.spawn(|| digest_documents(&target.converter, docs));
        let h_side = digest_table(target);
        (d_side.join(), h_side)
    });
    let (d_rows, d_rejected) = d_side.map_err(|_| {
        MigrateError::Io(std::io::Error::other(
            "the verification thread for D panicked",
        ))
    })?;
    let (h_rows, h_rejected) = h_side?;
    Ok(Verification {
        d_rows,
        d_rejected,
        h_rows,
        h_rejected,
    })
}
