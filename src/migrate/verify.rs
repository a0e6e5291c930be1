//! Verification: does H hold exactly what D holds, after conversion?
//!
//! Both sides are reduced to the same multiset of canonical rows — the engine's stored
//! encoding of the primary key (keycode) and of the row (`engine::table::row`), both
//! deterministic — and compared by count and by an order-independent checksum: the
//! wrapping sum and the XOR of a 64-bit SipHash of each (key, row) pair. Documents that
//! do not convert are counted on D's side and compared with the rejections recorded in
//! H, so a skipped document is accounted for, not lost.
//!
//! **D's side** is what was read from D's log, converted: every document of the
//! snapshot (and, after following, every change applied since), as the rows the
//! converter makes of them. A bulk load that converted every batch of the snapshot in
//! this run took that digest as it went — of exactly the bytes it handed to H for each
//! row, and a count of the documents that did not convert ([`DSide::Loaded`]) — so the
//! documents are not converted a second time. Otherwise (a resumed load, a follow, a
//! resync: H's rows then come from more than this run's conversions) D's side converts
//! the snapshot's documents here ([`DSide::Documents`]). Converting twice ran the same
//! code on the same documents, so the second conversion could only have caught a
//! converter that is not deterministic; the comparison that matters — what H returns
//! against what was read from D — is the same either way.
//!
//! **H's side** is only ever what H returns: the table's rows read back from its tree by
//! a full scan in one snapshot, and the rejection rows recorded beside them. Never the
//! loader's own record of what it wrote.
//!
//! **What a match proves**: H's table holds one row for every document of D's snapshot
//! that converts, with exactly the converted key and values, and no other row (a lost,
//! duplicated, altered or extra row changes the count or the checksum, up to a 64-bit
//! hash collision); and H records as many rejections as D has documents that do not
//! convert. What it does not prove: that the converter's rules are right (that is
//! `convert.rs`'s tests' job), nor anything about the secondary indexes (they are built
//! from the table by the engine's CREATE INDEX path).
//!
//! H's side is scanned in two key ranges on two threads when D's side is already known;
//! when D's side has to be computed, that runs on a thread of its own beside one scan.

use std::hash::{DefaultHasher, Hasher};
use std::ops::Bound;

use engine::IsolationLevel;
use engine::keycode::encode;
use engine::table::row::encode_row;
use engine::table::{EntryChunk, RowChunks, ops};

use crate::migrate::convert::RowConverter;
use crate::migrate::error::MigrateError;
use crate::migrate::progress;
use crate::migrate::snapshot::DSnapshot;
use crate::migrate::target::Target;

/// Key ranges H's table is scanned in, on as many threads, when D's side is already
/// known: the two cores of the machines this is measured on.
const H_SCAN_PARTS: usize = 2;

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

    /// Adds every pair `other` digested: the digest of the two multisets together.
    pub fn merge(&mut self, other: Checksum) {
        self.count += other.count;
        self.sum = self.sum.wrapping_add(other.sum);
        self.xor ^= other.xor;
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

/// Where D's side of the verification comes from (see the module header).
#[derive(Debug, Clone, Copy)]
pub enum DSide<'a> {
    /// Taken by a bulk load that converted every document of the snapshot in this run:
    /// the digest of the rows it handed to H and how many documents did not convert.
    Loaded { rows: Checksum, rejected: u64 },
    /// D's documents, to convert here.
    Documents(&'a DSnapshot<'a>),
}

/// D's side, one pair: the digest of a converted row (its stored key and bytes), or
/// `false` if the row cannot be stored (it is then a rejected document).
pub fn digest_row(
    converter: &RowConverter,
    row: &[engine::keycode::KeyValue],
    checksum: &mut Checksum,
) -> bool {
    match encode_row(converter.engine_schema(), row) {
        Ok(bytes) => {
            let pk = encode(std::slice::from_ref(&row[converter.key_index()]));
            checksum.add(&pk, &bytes);
            true
        }
        Err(_) => false,
    }
}

/// D's side from documents: the digest of every document that converts, and how many
/// do not.
pub fn digest_documents(converter: &RowConverter, docs: &DSnapshot) -> (Checksum, u64) {
    let mut checksum = Checksum::default();
    let mut rejected = 0;
    for (key, doc) in docs.iter() {
        let stored = match converter.convert(key, doc) {
            Ok(row) => digest_row(converter, &row, &mut checksum),
            Err(_) => false,
        };
        rejected += u64::from(!stored);
    }
    (checksum, rejected)
}

/// H's side: the digest of every stored row of the table, read in at most `parts` key
/// ranges on as many threads, and the rejections recorded.
pub fn digest_table(target: &Target, parts: usize) -> Result<(Checksum, u64), MigrateError> {
    let mut txn = target.db.begin(IsolationLevel::RepeatableRead);
    let scans = ops::scan_chunk_parts(
        &mut txn,
        &target.schema,
        Bound::Unbounded,
        Bound::Unbounded,
        parts,
    )?;
    let digests: Vec<engine::Result<Checksum>> = std::thread::scope(|scope| {
        let mut scans = scans.into_iter();
        let first = scans.next();
        let others: Vec<_> = scans
            .map(|mut scan| scope.spawn(move || digest_chunks(&mut scan)))
            .collect();
        let mut digests: Vec<engine::Result<Checksum>> = first
            .into_iter()
            .map(|mut scan| digest_chunks(&mut scan))
            .collect();
        for other in others {
            digests.push(other.join().unwrap_or_else(|_| {
                Err(engine::Error::Io(std::io::Error::other(
                    "a verification thread scanning H panicked",
                )))
            }));
        }
        digests
    });
    let mut checksum = Checksum::default();
    for digest in digests {
        checksum.merge(digest?);
    }
    let rejected = progress::rejected(&mut txn, &target.tables, &target.name)?.len() as u64;
    txn.commit()?;
    Ok((checksum, rejected))
}

/// The digest of every (key, row) one scan lends.
fn digest_chunks(scan: &mut RowChunks) -> engine::Result<Checksum> {
    let mut checksum = Checksum::default();
    let mut chunk = EntryChunk::new();
    while scan.next_chunk(&mut chunk)? {
        for (key, row) in chunk.iter() {
            checksum.add(key, row);
        }
    }
    Ok(checksum)
}

/// Computes both sides: D's (unless the load took it) on a thread beside H's.
pub fn verify(target: &Target, d_side: DSide) -> Result<Verification, MigrateError> {
    let ((d_rows, d_rejected), h_side) = match d_side {
        DSide::Loaded { rows, rejected } => ((rows, rejected), digest_table(target, H_SCAN_PARTS)),
        DSide::Documents(docs) => {
            let (d_side, h_side) = std::thread::scope(|scope| {
                let d_side = scope.spawn(|| digest_documents(&target.converter, docs));
                let h_side = digest_table(target, 1);
                (d_side.join(), h_side)
            });
            let d_side = d_side.map_err(|_| {
                MigrateError::Io(std::io::Error::other(
                    "the verification thread for D panicked",
                ))
            })?;
            (d_side, h_side)
        }
    };
    let (h_rows, h_rejected) = h_side?;
    Ok(Verification {
        d_rows,
        d_rejected,
        h_rows,
        h_rejected,
    })
}
