//! # hdb-fuzz — the bodies of hdb's fuzz targets
//!
//! Each function here takes arbitrary bytes and feeds them to one of hdb's front doors
//! for untrusted input. The rule every target checks is the same: **bad input gets an
//! error, never a panic, an abort or a hang**. A target returns normally for every input;
//! a panic (or an abort, or a run past the fuzzer's time limit) is a finding.
//!
//! - [`sql`]: SQL text through parse, bind, plan and execute, on an in-memory database
//!   that already holds two small tables and an index.
//! - [`wal`]: bytes as a write-ahead log segment, replayed by the log's recovery.
//! - [`page`]: bytes over one page of a real database file, resealed so the checksum
//!   passes and the bytes reach the B+tree's page decoder; then the database is opened,
//!   checked, read through every access path, written and closed.
//! - [`d_log`]: bytes as D's log file, replayed by a read-only open and by the change
//!   stream reader, and as one record payload.
//!
//! The same functions run in two places: the coverage-guided fuzzers under
//! `fuzz/libfuzzer/` (cargo-fuzz, nightly), and `tests/corpus.rs`, which replays every
//! committed corpus file through its target on stable Rust as part of the test suite.
//! `fuzz/README.md` says how to run the fuzzers for longer.
#![forbid(unsafe_code)]

use std::sync::Arc;

use engine::pager::SimStorage;
use engine::wal::{Lsn, SimWalStorage, Wal, WalOptions, WalStorage};
use engine::{Database, DatabaseOptions};
use sql_frontend::Session;

/// Inputs are cut to this many bytes: longer ones add time, not coverage.
pub const MAX_INPUT: usize = 4096;
/// The most statements one SQL input runs.
const MAX_STATEMENTS: usize = 16;

/// The tables every SQL input starts from (and the page target's database).
const SCHEMA: &str = "\
    CREATE TABLE fz_t (id INTEGER PRIMARY KEY, a TEXT, b DOUBLE PRECISION, c BIGINT); \
    CREATE INDEX fz_t_a ON fz_t (a); \
    CREATE TABLE fz_u (x INTEGER NOT NULL, y TEXT UNIQUE, z BOOLEAN); \
    INSERT INTO fz_t VALUES (1, 'one', 1.5, 10), (2, 'two', -2.25, NULL), (3, NULL, 0, 30); \
    INSERT INTO fz_u VALUES (1, 'a', true), (2, 'b', NULL)";

fn options() -> DatabaseOptions {
    DatabaseOptions {
        page_size: 512,
        durability: engine::wal::Durability::Off,
        ..DatabaseOptions::default()
    }
}

fn open(pager: SimStorage, log: Arc<dyn WalStorage>) -> engine::Result<Database> {
    Database::open_with(Box::new(pager), log, options())
}

fn cut(data: &[u8]) -> &[u8] {
    &data[..data.len().min(MAX_INPUT)]
}

/// SQL text (lossily decoded as UTF-8), split at each `;`, each piece run in one session
/// on a fresh in-memory database.
pub fn sql(data: &[u8]) {
    let text = String::from_utf8_lossy(cut(data));
    let Ok(db) = open(SimStorage::new(), Arc::new(SimWalStorage::new())) else {
        return;
    };
    let mut session = Session::new(db.clone());
    session
        .execute(SCHEMA)
        .unwrap_or_else(|e| panic!("the fuzz schema failed: {e}"));
    for statement in text.split(';').take(MAX_STATEMENTS) {
        let _ = session.execute(statement);
    }
    drop(session);
    let _ = db.close();
}

/// Bytes as the log: the first byte picks the layout (a valid segment header followed by
/// the rest, or the rest as the whole segment file, optionally split in two segments at a
/// position the second byte picks); then recovery replays it from LSN 0.
pub fn wal(data: &[u8]) {
    use engine::wal::format::{encode_segment_header, segment_name};
    let data = cut(data);
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let storage = SimWalStorage::new();
    let mut segments: Vec<(Lsn, Vec<u8>)> = Vec::new();
    match mode % 3 {
        0 => segments.push((Lsn::ZERO, rest.to_vec())),
        1 => {
            let mut file = encode_segment_header(Lsn::ZERO).to_vec();
            file.extend_from_slice(rest);
            segments.push((Lsn::ZERO, file));
        }
        _ => {
            let (split, rest) = rest.split_first().unwrap_or((&0, &[]));
            let at = (*split as usize * 8).min(rest.len());
            let mut first = encode_segment_header(Lsn::ZERO).to_vec();
            first.extend_from_slice(&rest[..at]);
            let second_start = Lsn(at as u64);
            let mut second = encode_segment_header(second_start).to_vec();
            second.extend_from_slice(&rest[at..]);
            segments.push((Lsn::ZERO, first));
            segments.push((second_start, second));
        }
    }
    for (start, bytes) in &segments {
        let Ok(file) = storage.create(&segment_name(*start)) else {
            return;
        };
        if file.write_at(bytes, 0).is_err() {
            return;
        }
    }
    let options = WalOptions {
        durability: engine::wal::Durability::Off,
        ..WalOptions::default()
    };
    let mut records = 0u64;
    let storage = Arc::new(storage);
    let parts_from = Arc::clone(&storage);
    let recovered = Wal::recover(storage, options, Lsn::ZERO, |_, record| {
        records += 1;
        // The parts a commit names are read as recovery reads them: an error, never a
        // panic, whatever those LSNs hold.
        if let engine::wal::Record::Commit(commit) = record {
            for part in commit.parts {
                let _ = Wal::read_part_in(&*parts_from, part);
            }
        }
        Ok(())
    });
    if let Ok(wal) = recovered {
        assert_eq!(wal.recovery().records, records, "recovery miscounted");
        let _ = wal.close();
    }
}

/// A small database image made once: the fuzz schema, closed cleanly.
fn page_template() -> &'static (Vec<u8>, u64) {
    static TEMPLATE: std::sync::OnceLock<(Vec<u8>, u64)> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let pager = SimStorage::new();
        let db = open(pager.clone(), Arc::new(SimWalStorage::new()))
            .unwrap_or_else(|e| panic!("creating the template database failed: {e}"));
        let mut session = Session::new(db.clone());
        session
            .execute(SCHEMA)
            .unwrap_or_else(|e| panic!("the fuzz schema failed: {e}"));
        let mut fill = vec!["CREATE TABLE fz_w (k INTEGER PRIMARY KEY, body TEXT)".to_string()];
        for i in 4..60 {
            let a = format!("v{i}").repeat(i % 5 * 4);
            fill.push(format!(
                "INSERT INTO fz_t VALUES ({i}, '{a}', {i}.5, {})",
                i * 1000
            ));
        }
        for k in 0..4 {
            // Values longer than a page: overflow pages.
            let body = format!("w{k}").repeat(200 * (k + 1));
            fill.push(format!("INSERT INTO fz_w VALUES ({k}, '{body}')"));
        }
        for statement in fill {
            session
                .execute(&statement)
                .unwrap_or_else(|e| panic!("filling the template failed: {e}"));
        }
        drop(session);
        db.close()
            .unwrap_or_else(|e| panic!("closing the template failed: {e}"));
        let image = pager.live_image();
        // The file grows in large steps: count the pages up to the last one written.
        let page_size = options().page_size as usize;
        let pages = image
            .chunks(page_size)
            .rposition(|page| page.iter().any(|b| *b != 0))
            .map_or(0, |last| last as u64 + 1);
        (image, pages)
    })
}

/// Bytes over one page of a real database: the first two bytes pick the page (any page
/// but the two meta pages), the rest replace its body from the header on, and the page is
/// resealed so its checksum passes. The database is then opened, checked, read by a scan
/// and through its index, written and closed.
pub fn page(data: &[u8]) {
    let data = cut(data);
    let Some((pick, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let (image, pages) = page_template();
    let data_pages = pages.saturating_sub(2).max(1);
    let page = 2 + u64::from(u16::from_le_bytes(*pick)) % data_pages;
    let pager = SimStorage::from_image(image.clone());
    pager.overwrite_page_body(page, options().page_size as usize, body);
    let Ok(db) = open(pager, Arc::new(SimWalStorage::new())) else {
        return;
    };
    let _ = db.check_integrity();
    let mut session = Session::new(db.clone());
    for statement in [
        "SELECT * FROM fz_t ORDER BY id",
        "SELECT count(*), sum(c) FROM fz_t",
        "SELECT id FROM fz_t WHERE a = 'one'",
        "SELECT a FROM fz_t WHERE a > 'v' ORDER BY a DESC",
        "SELECT * FROM fz_u WHERE y = 'b'",
        "INSERT INTO fz_t VALUES (1000, 'new', 1, 1)",
        "UPDATE fz_t SET a = 'changed' WHERE id < 30",
        "DELETE FROM fz_t WHERE id % 2 = 0",
        "CREATE INDEX fz_t_c ON fz_t (c)",
        "SELECT * FROM fz_t WHERE c > 5000",
        "SELECT k, length(body) FROM fz_w",
        "UPDATE fz_w SET body = 'short' WHERE k = 1",
    ] {
        let _ = session.execute(statement);
    }
    drop(session);
    let _ = db.check_integrity();
    let _ = db.close();
}

/// D's log reader: the first byte picks whether the bytes follow a valid file header or
/// are the whole file; the file is replayed by a read-only open and read by the change
/// stream reader (as a finished log and as one a writer may still be appending to). The
/// bytes after the first also go to the record payload decoder alone.
pub fn d_log(data: &[u8]) {
    use kv_legacy::log::read_changes;
    use kv_legacy::record::{FILE_HEADER_LEN, decode_payload, encode_file_header};
    use kv_legacy::store::LOG_FILE;
    use kv_legacy::{LegacyStore, LogPosition};

    let data = cut(data);
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let _ = decode_payload(rest, 0);
    let mut file = Vec::new();
    if mode % 2 == 0 {
        file.extend_from_slice(&encode_file_header(1));
    }
    file.extend_from_slice(rest);
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let path = dir.path().join(LOG_FILE);
    if std::fs::write(&path, &file).is_err() {
        return;
    }
    if let Ok(store) = LegacyStore::open_read_only(dir.path()) {
        let mut seen = 0usize;
        store.for_each(|_, _| seen += 1);
        assert_eq!(seen, store.len());
    }
    for live_writer in [false, true] {
        let from = LogPosition {
            generation: 1,
            offset: FILE_HEADER_LEN,
        };
        let _ = read_changes(&path, from, 1 << 16, live_writer);
    }
}

/// Starting inputs for the binary targets, made by hdb itself so that they are valid (the
/// fuzzers mutate from there): `cargo run -p hdb-fuzz --example write_seeds` writes them
/// under `fuzz/corpus/`. The SQL seeds are statements of the test suite's `.slt` files.
pub mod seeds {
    use super::*;
    use engine::wal::{CommitRecord, Write};
    use kv_legacy::{Document, Durability, LegacyStore, Scalar, Timestamp};

    /// A real log segment: a few commits of puts and deletes, one of them in parts, one
    /// segment.
    fn wal_segment() -> Vec<u8> {
        let storage = Arc::new(SimWalStorage::new());
        let options = WalOptions {
            part_size: 24,
            ..WalOptions::default()
        };
        let wal = Wal::open(storage.clone(), options)
            .unwrap_or_else(|e| panic!("opening a log failed: {e}"));
        for ts in 1..6u64 {
            let parts = match ts {
                3 => {
                    let writes: Vec<Write> = (0..4u8)
                        .map(|i| Write::put(1, vec![b'p', i], vec![i; 9]))
                        .collect();
                    wal.append_parts(&mut writes.iter().map(Write::borrowed))
                        .unwrap_or_else(|e| panic!("logging parts failed: {e}"))
                }
                _ => Vec::new(),
            };
            let record = CommitRecord {
                commit_ts: ts,
                parts,
                writes: vec![
                    Write::put(
                        1,
                        ts.to_be_bytes().to_vec(),
                        vec![ts as u8; ts as usize * 7],
                    ),
                    Write::delete(2, b"gone".to_vec()),
                ],
            };
            wal.commit(&record)
                .unwrap_or_else(|e| panic!("logging a commit failed: {e}"));
        }
        wal.close()
            .unwrap_or_else(|e| panic!("closing the log failed: {e}"));
        let name = storage
            .names()
            .into_iter()
            .find(|n| n.ends_with(".log"))
            .unwrap_or_else(|| panic!("the log wrote no segment"));
        storage
            .contents(&name)
            .unwrap_or_else(|| panic!("segment {name} vanished"))
    }

    /// Seeds for [`super::wal`]: the segment whole (mode 0), after a header the target
    /// writes (mode 1), and split in two (mode 2).
    pub fn wal() -> Vec<Vec<u8>> {
        use engine::wal::format::SEGMENT_HEADER_LEN;
        let segment = wal_segment();
        let frames = &segment[SEGMENT_HEADER_LEN as usize..];
        let with_mode = |mode: u8, bytes: &[u8]| [&[mode][..], bytes].concat();
        vec![
            with_mode(0, &segment),
            with_mode(1, frames),
            with_mode(2, &[&[4u8][..], frames].concat()),
        ]
    }

    /// Seeds for [`super::page`]: every data page of the template database unchanged, so
    /// the fuzzer starts from leaves, branches, overflow pages and the catalog's pages.
    pub fn page() -> Vec<Vec<u8>> {
        let (image, pages) = page_template();
        let page_size = options().page_size as usize;
        let header = engine::pager::PAGE_HEADER_SIZE;
        (2..*pages)
            .map(|page| {
                let start = page as usize * page_size;
                let pick = ((page - 2) as u16).to_le_bytes();
                [&pick[..], &image[start + header..start + page_size]].concat()
            })
            .collect()
    }

    /// Seeds for [`super::d_log`]: a real log with every scalar type, puts and deletes,
    /// with its header (mode 1) and without (mode 0).
    pub fn d_log() -> Vec<Vec<u8>> {
        use kv_legacy::record::FILE_HEADER_LEN;
        let Ok(dir) = tempfile::tempdir() else {
            return Vec::new();
        };
        let store = LegacyStore::open(dir.path(), Durability::Off)
            .unwrap_or_else(|e| panic!("creating a D store failed: {e}"));
        let doc: Document = [
            ("null".to_string(), Scalar::Null),
            ("bool".to_string(), Scalar::Bool(true)),
            ("int".to_string(), Scalar::Int(-42)),
            ("float".to_string(), Scalar::Float(2.5)),
            ("text".to_string(), Scalar::Text("héllo".to_string())),
            (
                "time".to_string(),
                Scalar::Timestamp(Timestamp(1_700_000_000_000_000)),
            ),
        ]
        .into_iter()
        .collect();
        for key in ["a", "b", "c"] {
            store
                .put(key, doc.clone())
                .unwrap_or_else(|e| panic!("writing to D failed: {e}"));
        }
        store
            .delete("b")
            .unwrap_or_else(|e| panic!("deleting from D failed: {e}"));
        drop(store);
        let log = std::fs::read(dir.path().join(kv_legacy::store::LOG_FILE))
            .unwrap_or_else(|e| panic!("reading D's log failed: {e}"));
        vec![
            [&[1u8][..], &log].concat(),
            [&[0u8][..], &log[FILE_HEADER_LEN as usize..]].concat(),
        ]
    }
}
