//! D's documents as of one log position, held in the log's own bytes.
//!
//! A migration needs every document of D at once: to cut them into batches in the
//! table's key order, and to verify. Replaying D's log into a map of owned documents
//! costs an allocation for every key, field name and text value — and as many frees
//! when the map is dropped — for documents that are read once or twice. So the snapshot
//! borrows instead:
//!
//! - [`DLog`] owns what was read: every record's payload, checksums checked, one after
//!   another in one buffer (`kv_legacy::log::read_records`).
//! - [`DSnapshot`] borrows it: each live key with the fields of its *last* put, both
//!   slices of that buffer ([`kv_legacy::DocRef`], decoded in place and checked once),
//!   in a vector in the order of the keys' first puts, and a hash table from key to
//!   place. Replaying is last-write-wins — a put replaces the key's entry, a delete
//!   empties it — so the log's superseded records stay in the buffer, unreferenced, and
//!   nothing per document is allocated. The log's order is kept because it is often
//!   the key order already (a store loaded in order), which makes the load's sort by
//!   primary key nearly free.
//! - Changes applied after the log was read (following D's log, a resynchronisation
//!   after a compaction) are kept beside it, owned, in `changed`: `Some(document)` for a
//!   put, `None` for a delete. They win over the logged entry of the same key. They are
//!   few next to the snapshot, and their records are not in the buffer.
//!
//! A document is seen through a [`DocView`], the same for both kinds: its fields in
//! strictly ascending name order (a D document is a `BTreeMap`, and its log record keeps
//! that order, which `kv_legacy::record` checks), which is what the converter relies on
//! to match fields to columns in one merge pass.

use std::collections::HashMap;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use kv_legacy::log::{RawRecord, RawRecords};
use kv_legacy::record::{DocFields, DocRef, OpRef, decode_payload_ref};
use kv_legacy::{Document, LogPosition, Op, ScalarRef};

/// Logs shorter than this are decoded on the calling thread alone.
const PARALLEL_DECODE_RECORDS: usize = 1 << 14;

/// What was read of D's log: the records' payloads, and where the read ended.
#[derive(Debug)]
pub struct DLog {
    pub raw: RawRecords,
    /// The records before this position were read, none after it.
    pub position: LogPosition,
}

impl DLog {
    /// No records, read up to `position`.
    pub fn empty(position: LogPosition) -> DLog {
        DLog {
            raw: RawRecords::default(),
            position,
        }
    }
}

/// A document of the snapshot: in place in the log's bytes, or owned.
#[derive(Debug, Clone, Copy)]
pub enum DocView<'a> {
    Logged(DocRef<'a>),
    Owned(&'a Document),
}

impl<'a> From<&'a Document> for DocView<'a> {
    fn from(doc: &'a Document) -> DocView<'a> {
        DocView::Owned(doc)
    }
}

impl<'a> DocView<'a> {
    /// How many fields the document has.
    pub fn len(self) -> usize {
        match self {
            DocView::Logged(doc) => doc.len(),
            DocView::Owned(doc) => doc.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The fields, in strictly ascending name order.
    pub fn fields(self) -> ViewFields<'a> {
        match self {
            DocView::Logged(doc) => ViewFields::Logged(doc.fields()),
            DocView::Owned(doc) => ViewFields::Owned(doc.iter()),
        }
    }

    /// The owned document.
    pub fn to_document(self) -> Document {
        match self {
            DocView::Logged(doc) => doc.to_document(),
            DocView::Owned(doc) => doc.clone(),
        }
    }
}

/// The fields of a [`DocView`].
#[derive(Debug, Clone)]
pub enum ViewFields<'a> {
    Logged(DocFields<'a>),
    Owned(std::collections::btree_map::Iter<'a, String, kv_legacy::Scalar>),
}

impl<'a> Iterator for ViewFields<'a> {
    type Item = (&'a str, ScalarRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            ViewFields::Logged(fields) => fields.next(),
            ViewFields::Owned(fields) => fields
                .next()
                .map(|(name, value)| (name.as_str(), value.borrowed())),
        }
    }
}

/// D's documents as of [`DSnapshot::position`] (see the module header).
pub struct DSnapshot<'a> {
    /// Each key of the log and its last put's fields, in the order of first puts;
    /// `None` once deleted.
    logged: Vec<Option<(&'a str, DocRef<'a>)>>,
    /// Each live key's place in `logged` (only places that hold `Some`).
    places: HashTable<usize>,
    hasher: foldhash::fast::RandomState,
    /// Changes since the log was read; they hide `logged`'s entry of the same key.
    changed: HashMap<String, Option<Document>>,
    /// The log records before this position are applied, none after it.
    pub position: LogPosition,
    /// How many log records were read.
    pub records: u64,
}

impl std::fmt::Debug for DSnapshot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DSnapshot")
            .field("logged", &self.places.len())
            .field("changed", &self.changed.len())
            .field("position", &self.position)
            .field("records", &self.records)
            .finish()
    }
}

impl<'a> DSnapshot<'a> {
    /// No documents, as of `position`.
    pub fn empty(position: LogPosition) -> DSnapshot<'a> {
        DSnapshot {
            logged: Vec::new(),
            places: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            changed: HashMap::new(),
            position,
            records: 0,
        }
    }

    /// Replays `log`'s records in order, last write winning; a record that does not
    /// decode is corruption at its offset.
    /// Decoding (which checks every byte of every record) is most of the work; a long
    /// log is decoded in parts on threads of their own, then applied in order.
    pub fn replay(log: &'a DLog) -> kv_legacy::Result<DSnapshot<'a>> {
        let records = &log.raw.records;
        let decode = |part: &[RawRecord]| -> kv_legacy::Result<Vec<OpRef<'a>>> {
            part.iter()
                .map(|record| {
                    let payload = log.raw.bytes.get(record.payload.clone());
                    decode_payload_ref(payload.unwrap_or_default(), record.position.offset)
                })
                .collect()
        };
        let parts = match records.len() < PARALLEL_DECODE_RECORDS {
            true => 1,
            false => std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
        };
        let chunk = records.len().div_ceil(parts).max(1);
        let decoded: Vec<kv_legacy::Result<Vec<OpRef>>> = std::thread::scope(|scope| {
            let mut chunks = records.chunks(chunk);
            let first = chunks.next().unwrap_or_default();
            let others: Vec<_> = chunks
                .map(|part| scope.spawn(move || decode(part)))
                .collect();
            let mut decoded = vec![decode(first)];
            decoded.extend(others.into_iter().map(|other| {
                other.join().unwrap_or_else(|_| {
                    Err(kv_legacy::Error::Io(std::io::Error::other(
                        "a thread decoding D's log panicked",
                    )))
                })
            }));
            decoded
        });
        let mut snapshot = DSnapshot::empty(log.position);
        snapshot.records = records.len() as u64;
        snapshot.logged.reserve(records.len());
        snapshot.places.reserve(records.len(), |_| 0);
        // In log order, so the first damaged record is the one reported.
        for part in decoded {
            for op in part? {
                match op {
                    OpRef::Put { key, doc } => snapshot.put_logged(key, doc),
                    OpRef::Delete { key } => snapshot.delete_logged(key),
                }
            }
        }
        Ok(snapshot)
    }

    fn put_logged(&mut self, key: &'a str, doc: DocRef<'a>) {
        let DSnapshot {
            logged,
            places,
            hasher,
            ..
        } = self;
        let key_at = |place: usize| logged.get(place).copied().flatten().map(|(k, _)| k);
        let hash = hasher.hash_one(key);
        match places.entry(
            hash,
            |&place| key_at(place) == Some(key),
            |&place| key_at(place).map_or(0, |k| hasher.hash_one(k)),
        ) {
            hashbrown::hash_table::Entry::Occupied(entry) => {
                if let Some(slot) = logged.get_mut(*entry.get()) {
                    *slot = Some((key, doc));
                }
            }
            hashbrown::hash_table::Entry::Vacant(entry) => {
                entry.insert(logged.len());
                logged.push(Some((key, doc)));
            }
        }
    }

    fn delete_logged(&mut self, key: &str) {
        let hash = self.hasher.hash_one(key);
        let logged = &mut self.logged;
        let found = self.places.find_entry(hash, |&place| {
            logged.get(place).copied().flatten().map(|(k, _)| k) == Some(key)
        });
        if let Ok(entry) = found {
            let (place, _) = entry.remove();
            if let Some(slot) = logged.get_mut(place) {
                *slot = None;
            }
        }
    }

    fn find_logged(&self, key: &str) -> Option<DocRef<'a>> {
        let hash = self.hasher.hash_one(key);
        let entry_at = |place: usize| self.logged.get(place).copied().flatten();
        self.places
            .find(hash, |&place| entry_at(place).map(|(k, _)| k) == Some(key))
            .and_then(|&place| entry_at(place))
            .map(|(_, doc)| doc)
    }

    /// The document stored under `key`, if any.
    pub fn get(&self, key: &str) -> Option<DocView<'_>> {
        match self.changed.get(key) {
            Some(changed) => changed.as_ref().map(DocView::Owned),
            None => self.find_logged(key).map(DocView::Logged),
        }
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        let mut len = self.places.len();
        for (key, doc) in &self.changed {
            len -= usize::from(self.find_logged(key).is_some());
            len += usize::from(doc.is_some());
        }
        len
    }

    /// Every document with its key: the log's in the order of their first puts, then
    /// the changes since in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, DocView<'_>)> + '_ {
        let logged = self
            .logged
            .iter()
            .flatten()
            .filter(|(key, _)| self.changed.is_empty() || !self.changed.contains_key(*key))
            .map(|(key, doc)| (*key, DocView::Logged(*doc)));
        let changed = self
            .changed
            .iter()
            .filter_map(|(key, doc)| doc.as_ref().map(|doc| (key.as_str(), DocView::Owned(doc))));
        logged.chain(changed)
    }

    /// Applies one change read from D's log after the snapshot's.
    pub fn apply(&mut self, op: Op) {
        match op {
            Op::Put { key, doc } => self.changed.insert(key, Some(doc)),
            Op::Delete { key } => self.changed.insert(key, None),
        };
    }

    /// Becomes `other`'s documents as of its position (a resynchronisation after a
    /// compaction read a new log, which this snapshot cannot borrow), owned.
    pub fn replace_with(&mut self, other: &DSnapshot) {
        self.logged.clear();
        self.places.clear();
        self.changed = other
            .iter()
            .map(|(key, doc)| (key.to_string(), Some(doc.to_document())))
            .collect();
        self.position = other.position;
        self.records = other.records;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kv_legacy::Scalar;
    use kv_legacy::record::{RECORD_HEADER_LEN, encode_record};

    fn doc(value: i64) -> Document {
        [("a".to_string(), Scalar::Int(value))]
            .into_iter()
            .collect()
    }

    fn log_of(ops: &[Op]) -> DLog {
        let mut log = DLog::empty(LogPosition {
            generation: 1,
            offset: 0,
        });
        for (i, op) in ops.iter().enumerate() {
            let mut bytes = Vec::new();
            encode_record(op, &mut bytes).unwrap();
            let start = log.raw.bytes.len();
            log.raw.bytes.extend_from_slice(&bytes[RECORD_HEADER_LEN..]);
            log.raw.records.push(RawRecord {
                position: LogPosition {
                    generation: 1,
                    offset: i as u64,
                },
                payload: start..log.raw.bytes.len(),
            });
        }
        log
    }

    fn owned(snapshot: &DSnapshot) -> HashMap<String, Document> {
        snapshot
            .iter()
            .map(|(key, doc)| (key.to_string(), doc.to_document()))
            .collect()
    }

    #[test]
    fn the_last_write_wins_and_changes_hide_the_log() {
        let put = |key: &str, value| Op::Put {
            key: key.into(),
            doc: doc(value),
        };
        let delete = |key: &str| Op::Delete { key: key.into() };
        let log = log_of(&[
            put("x", 1),
            put("y", 2),
            put("x", 3),
            delete("y"),
            put("z", 4),
            delete("w"),
            delete("z"),
            put("z", 5),
        ]);
        let mut snapshot = DSnapshot::replay(&log).unwrap();
        assert_eq!(snapshot.records, 8);
        let expected: HashMap<String, Document> =
            [("x".to_string(), doc(3)), ("z".to_string(), doc(5))].into();
        assert_eq!(owned(&snapshot), expected);
        assert_eq!(snapshot.len(), 2);
        assert!(snapshot.get("y").is_none());
        // In the order of first puts ("z" put again after its delete counts anew).
        let order: Vec<&str> = snapshot.iter().map(|(key, _)| key).collect();
        assert_eq!(order, ["x", "z"]);

        snapshot.apply(delete("x"));
        snapshot.apply(put("y", 6));
        snapshot.apply(put("z", 7));
        snapshot.apply(delete("q"));
        let expected: HashMap<String, Document> =
            [("y".to_string(), doc(6)), ("z".to_string(), doc(7))].into();
        assert_eq!(owned(&snapshot), expected);
        assert_eq!(snapshot.len(), 2);
        assert!(!snapshot.contains_key("x"));
        assert_eq!(snapshot.get("z").map(DocView::to_document), Some(doc(7)));

        let other = DSnapshot::replay(&log).unwrap();
        snapshot.replace_with(&other);
        assert_eq!(owned(&snapshot), owned(&other));
        assert_eq!(snapshot.len(), 2);
    }

    #[test]
    fn a_long_log_decoded_in_parts_replays_as_a_map_would() {
        let mut ops = Vec::new();
        let mut model: HashMap<String, Document> = HashMap::new();
        for i in 0..(3 * PARALLEL_DECODE_RECORDS as i64) {
            let key = format!("k{}", i % 1000);
            let op = match i % 7 {
                3 => Op::Delete { key: key.clone() },
                _ => Op::Put {
                    key: key.clone(),
                    doc: doc(i),
                },
            };
            match &op {
                Op::Put { doc, .. } => model.insert(key, doc.clone()),
                Op::Delete { .. } => model.remove(&key),
            };
            ops.push(op);
        }
        let mut log = log_of(&ops);
        let snapshot = DSnapshot::replay(&log).unwrap();
        assert_eq!(owned(&snapshot), model);
        assert_eq!(snapshot.len(), model.len());
        drop(snapshot);

        // Two damaged records, in different parts: the first in the log is reported.
        let last = log.raw.records.len() - 1;
        for (record, offset) in [(last, 900), (last / 2, 800)] {
            let start = log.raw.records[record].payload.start;
            log.raw.bytes[start] = 9;
            log.raw.records[record].position.offset = offset;
        }
        assert!(matches!(
            DSnapshot::replay(&log),
            Err(kv_legacy::Error::Corrupted { offset: 800, .. })
        ));
    }

    #[test]
    fn a_record_that_does_not_decode_is_corruption_at_its_offset() {
        let mut log = log_of(&[Op::Delete { key: "k".into() }]);
        log.raw.bytes[0] = 9;
        log.raw.records[0].position.offset = 77;
        assert!(matches!(
            DSnapshot::replay(&log),
            Err(kv_legacy::Error::Corrupted { offset: 77, .. })
        ));
    }
}
