//! The lending scan (`Transaction::scan_chunks`, chunks of one B+tree leaf each) against
//! a model: a `BTreeMap` per committed state, on small pages so that scans cross many
//! leaves, with several versions per key, deletes, keys holding 0x00 bytes (escaped in
//! versioned keys), values long enough to live in overflow chains, snapshots of every
//! age, and transactions scanning over writes of their own (the merged form). Then the
//! same scan while another thread commits and checkpoints: every scan must see exactly
//! one committed state. Every scan is also taken with its entries handed over in place
//! (`TxnChunks::next_chunk_with`, as CREATE INDEX reads a table), which must give the
//! same entries, and read cut into parts
//! (`Transaction::scan_chunk_parts`, each part on its own thread), which must lend the
//! same entries in the same order.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, Ordering};

use engine::mvcc::TreeId;
use engine::mvcc::chunks::LentKey;
use engine::table::EntryChunk;
use engine::{Database, DatabaseOptions, IsolationLevel, Transaction};
use proptest::prelude::*;

const TREE: TreeId = TreeId(9);
type Map = BTreeMap<Vec<u8>, Vec<u8>>;

fn small_pages() -> Database {
    Database::open_in_memory(DatabaseOptions {
        page_size: 512,
        ..DatabaseOptions::default()
    })
    .unwrap()
}

/// A key: big-endian, so byte order is numeric order, and with 0x00 bytes in it.
fn key(k: u16) -> Vec<u8> {
    k.to_be_bytes().to_vec()
}

/// Every entry of a chunked scan, chunk by chunk (no chunk may be empty); checks that
/// the same scan without keys lends the same rows.
fn scan_all(
    txn: &mut Transaction,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut scan = txn.scan_chunks(TREE, lower, upper).unwrap();
    let mut chunk = EntryChunk::new();
    let mut out = Vec::new();
    while scan.next_chunk(&mut chunk).unwrap() {
        assert!(!chunk.is_empty());
        out.extend(chunk.iter().map(|(k, v)| (k.to_vec(), v.to_vec())));
    }
    assert!(chunk.is_empty());
    assert!(
        !scan.next_chunk(&mut chunk).unwrap(),
        "a finished scan stays finished"
    );
    // Without keys: the same values, every key empty.
    let mut scan = txn.scan_chunks(TREE, lower, upper).unwrap().without_keys();
    let mut values = Vec::new();
    while scan.next_chunk(&mut chunk).unwrap() {
        assert!(chunk.iter().all(|(k, _)| k.is_empty()));
        values.extend(chunk.iter().map(|(_, v)| v.to_vec()));
    }
    assert_eq!(
        values,
        out.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        "a scan without keys lends the same rows"
    );
    // Handed over in place (`TxnChunks::next_chunk_with`, keys lent escaped): the same
    // entries.
    let mut scan = txn.scan_chunks(TREE, lower, upper).unwrap();
    let mut lent = Vec::new();
    let mut visit = |key: LentKey<'_>, row: &[u8]| {
        let mut user_key = Vec::new();
        key.append_to(&mut user_key)?;
        lent.push((user_key, row.to_vec()));
        Ok(())
    };
    while scan.next_chunk_with(&mut chunk, &mut visit).unwrap() {}
    assert!(!scan.next_chunk_with(&mut chunk, &mut visit).unwrap());
    assert_eq!(
        lent, out,
        "entries handed over in place are the entries lent"
    );
    for parts in [2, 7] {
        assert_eq!(
            scan_parts(txn, lower, upper, parts),
            out,
            "the scan cut into at most {parts} parts lends the same entries, in order"
        );
    }
    out
}

/// Every entry of `Transaction::scan_chunk_parts`, part after part, each part read on a
/// thread of its own (the parts are `Send`).
fn scan_parts(
    txn: &mut Transaction,
    lower: Bound<&[u8]>,
    upper: Bound<&[u8]>,
    parts: usize,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    let scans = txn.scan_chunk_parts(TREE, lower, upper, parts).unwrap();
    assert!(!scans.is_empty() && scans.len() <= parts);
    let read: Vec<Vec<(Vec<u8>, Vec<u8>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = scans
            .into_iter()
            .map(|mut scan| {
                s.spawn(move || {
                    let mut chunk = EntryChunk::new();
                    let mut out = Vec::new();
                    while scan.next_chunk(&mut chunk).unwrap() {
                        out.extend(chunk.iter().map(|(k, v)| (k.to_vec(), v.to_vec())));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    read.concat()
}

fn in_range(k: &[u8], lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> bool {
    (match lower {
        Bound::Included(l) => k >= l,
        Bound::Excluded(l) => k > l,
        Bound::Unbounded => true,
    }) && (match upper {
        Bound::Included(u) => k <= u,
        Bound::Excluded(u) => k < u,
        Bound::Unbounded => true,
    })
}

fn expected(map: &Map, lower: Bound<&[u8]>, upper: Bound<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
    map.iter()
        .filter(|(k, _)| in_range(k, lower, upper))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// One committed transaction: keys to put (value length) or delete.
type Commit = Vec<(u16, Option<usize>)>;

fn commit_strategy() -> impl Strategy<Value = Commit> {
    prop::collection::vec(
        (
            0u16..600,
            prop_oneof![3 => (0usize..40).prop_map(Some), 1 => Just(None), 1 => (300usize..900).prop_map(Some)],
        ),
        0..80,
    )
}

fn bound(b: (u8, u16)) -> Bound<Vec<u8>> {
    match b.0 % 3 {
        0 => Bound::Unbounded,
        1 => Bound::Included(key(b.1)),
        _ => Bound::Excluded(key(b.1)),
    }
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k),
        Bound::Excluded(k) => Bound::Excluded(k),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn run(
    commits: Vec<Commit>,
    own: Commit,
    ranges: Vec<((u8, u16), (u8, u16))>,
) -> Result<(), TestCaseError> {
    let db = small_pages();
    let mut history = vec![Map::new()];
    // A snapshot taken before each commit, kept open while later commits land.
    let mut snapshots: Vec<Transaction> = Vec::new();
    for (n, commit) in commits.iter().enumerate() {
        let mut reader = db.begin(IsolationLevel::RepeatableRead);
        // Fixes the snapshot now (its first operation).
        reader.get(TREE, b"").unwrap();
        snapshots.push(reader);
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        let mut state = history.last().unwrap().clone();
        for &(k, value) in commit {
            match value {
                Some(len) => {
                    let value = vec![n as u8; len];
                    txn.put(TREE, &key(k), &value).unwrap();
                    state.insert(key(k), value);
                }
                None => {
                    txn.delete(TREE, &key(k)).unwrap();
                    state.remove(&key(k));
                }
            }
        }
        txn.commit().unwrap();
        history.push(state);
    }
    let mut latest = db.begin(IsolationLevel::RepeatableRead);
    latest.get(TREE, b"").unwrap();
    snapshots.push(latest);
    for (lo, hi) in &ranges {
        let (lower, upper) = (bound(*lo), bound(*hi));
        for (i, reader) in snapshots.iter_mut().enumerate() {
            let got = scan_all(reader, as_ref(&lower), as_ref(&upper));
            prop_assert_eq!(
                &got,
                &expected(&history[i], as_ref(&lower), as_ref(&upper)),
                "snapshot {}",
                i
            );
            let per_entry: Vec<_> = reader
                .scan(TREE, as_ref(&lower), as_ref(&upper), false)
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            prop_assert_eq!(&got, &per_entry);
        }
    }
    // A transaction's own writes are merged over its snapshot.
    let mut writer = db.begin(IsolationLevel::RepeatableRead);
    let mut view = history.last().unwrap().clone();
    for &(k, value) in &own {
        match value {
            Some(len) => {
                writer.put(TREE, &key(k), &vec![0xEE; len]).unwrap();
                view.insert(key(k), vec![0xEE; len]);
            }
            None => {
                writer.delete(TREE, &key(k)).unwrap();
                view.remove(&key(k));
            }
        }
    }
    for (lo, hi) in &ranges {
        let (lower, upper) = (bound(*lo), bound(*hi));
        let got = scan_all(&mut writer, as_ref(&lower), as_ref(&upper));
        prop_assert_eq!(got, expected(&view, as_ref(&lower), as_ref(&upper)));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if std::env::var_os("CI").is_some() { 24 } else { 64 }))]

    #[test]
    fn chunked_scans_match_the_model_at_every_snapshot(
        commits in prop::collection::vec(commit_strategy(), 0..8),
        own in commit_strategy(),
        ranges in prop::collection::vec(((0u8..3, 0u16..620), (0u8..3, 0u16..620)), 1..4),
    ) {
        run(commits, own, ranges)?;
    }
}

#[test]
fn an_empty_or_missing_tree_scans_to_nothing() {
    let db = small_pages();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    assert!(scan_all(&mut txn, Bound::Unbounded, Bound::Unbounded).is_empty());
    let mut writer = db.begin(IsolationLevel::RepeatableRead);
    writer.put(TREE, b"k", b"v").unwrap();
    writer.delete(TREE, b"k").unwrap();
    writer.commit().unwrap();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    assert!(scan_all(&mut txn, Bound::Unbounded, Bound::Unbounded).is_empty());
}

/// Generation `g` holds key `k` (with value `g`) exactly when `(k + g) % 3 != 0`.
fn holds(k: u16, g: u32) -> bool {
    !(u32::from(k) + g).is_multiple_of(3)
}

#[test]
fn chunked_scans_see_one_committed_state_while_others_commit_and_checkpoint() {
    const KEYS: u16 = 800;
    let generations: u32 = if std::env::var_os("CI").is_some() {
        30
    } else {
        120
    };
    let db = small_pages();
    let write = |g: u32| {
        let mut txn = db.begin(IsolationLevel::RepeatableRead);
        for k in 0..KEYS {
            match holds(k, g) {
                // Values of varying length move entries between leaves as they change.
                true => txn
                    .put(
                        TREE,
                        &key(k),
                        &[
                            &g.to_be_bytes()[..],
                            &vec![7; (k as usize * g as usize) % 50],
                        ]
                        .concat(),
                    )
                    .unwrap(),
                false => txn.delete(TREE, &key(k)).unwrap(),
            }
        }
        txn.commit().unwrap();
    };
    write(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            for g in 1..=generations {
                write(g);
                if g.is_multiple_of(7) {
                    db.checkpoint().unwrap();
                }
            }
            stop.store(true, Ordering::SeqCst);
        });
        let mut scans = 0;
        while !stop.load(Ordering::SeqCst) || scans < 3 {
            let mut txn = db.begin(IsolationLevel::RepeatableRead);
            let rows = scan_all(&mut txn, Bound::Unbounded, Bound::Unbounded);
            let g = u32::from_be_bytes(rows[0].1[..4].try_into().unwrap());
            let keys: Vec<u16> = rows
                .iter()
                .map(|(k, v)| {
                    assert_eq!(
                        u32::from_be_bytes(v[..4].try_into().unwrap()),
                        g,
                        "one generation"
                    );
                    u16::from_be_bytes(k[..].try_into().unwrap())
                })
                .collect();
            let want: Vec<u16> = (0..KEYS).filter(|k| holds(*k, g)).collect();
            assert_eq!(keys, want, "generation {g}");
            scans += 1;
        }
    });
}

#[test]
fn a_large_tree_is_cut_into_parts_and_a_range_with_own_writes_is_not() {
    let db = small_pages();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    for k in 0..3000u16 {
        // Several versions per key, so a cut could fall among a key's versions.
        txn.put(TREE, &key(k), &[1; 20]).unwrap();
    }
    txn.commit().unwrap();
    let mut txn = db.begin(IsolationLevel::RepeatableRead);
    for k in (0..3000u16).step_by(2) {
        txn.put(TREE, &key(k), &[2; 20]).unwrap();
    }
    txn.commit().unwrap();
    let mut reader = db.begin(IsolationLevel::RepeatableRead);
    let parts = reader
        .scan_chunk_parts(TREE, Bound::Unbounded, Bound::Unbounded, 8)
        .unwrap();
    assert!(parts.len() > 1 && parts.len() <= 8, "{} parts", parts.len());
    let all = scan_all(&mut reader, Bound::Unbounded, Bound::Unbounded);
    assert_eq!(all.len(), 3000);
    let mut writer = db.begin(IsolationLevel::RepeatableRead);
    writer.put(TREE, &key(10), &[3]).unwrap();
    let parts = writer
        .scan_chunk_parts(TREE, Bound::Unbounded, Bound::Unbounded, 8)
        .unwrap();
    assert_eq!(
        parts.len(),
        1,
        "the transaction's own writes are merged in one part"
    );
    assert_eq!(
        scan_all(&mut writer, Bound::Unbounded, Bound::Unbounded).len(),
        3000
    );
}
