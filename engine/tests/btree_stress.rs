//! Concurrency stress: eight threads on one tree at once — four writers on disjoint key
//! ranges, two writers sharing one range (interleaved keys, so they contend for the same
//! leaves and each other's splits and merges), and two readers running bounded cursors in
//! both directions and point reads — while the main thread flushes now and then. Stable
//! keys, inserted before the threads start and never touched, are interleaved with every
//! writer's keys; readers check that every scan sees exactly the stable keys of its range,
//! in order. At the end the tree equals the merged models of all writers, passes the
//! integrity check, and does so again after a reopen. A deadlock fails the test by
//! timeout.
//!
//! `HDB_STRESS_OPS` sets the operations per writer (default 2000); `HDB_STRESS_PAGE_SIZE`
//! the page size (default 1024; 512 makes splits and merges more frequent).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use engine::btree::{BTree, Direction, check_file_integrity};
use engine::pager::{Pager, PagerOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const STABLE_OWNER: u8 = 255;
const KEYS_PER_GROUP: u32 = 1500;
const SHARED_GROUP: u8 = 9;
/// Writers 0..4 own groups 0..4; writers 4 and 5 share group 9.
const WRITERS: usize = 6;
const READERS: usize = 2;

fn key(group: u8, n: u32, owner: u8) -> Vec<u8> {
    let mut k = vec![group];
    k.extend_from_slice(&n.to_be_bytes());
    k.push(owner);
    k
}

fn value(rng: &mut StdRng) -> Vec<u8> {
    let len = if rng.random_bool(0.05) {
        rng.random_range(300..3000)
    } else {
        rng.random_range(0..60)
    };
    let seed: u8 = rng.random();
    (0..len).map(|i| seed.wrapping_add(i as u8)).collect()
}

fn stable_value(k: &[u8]) -> Vec<u8> {
    k.iter().rev().copied().collect()
}

fn ops() -> usize {
    std::env::var("HDB_STRESS_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

fn groups() -> Vec<u8> {
    vec![0, 1, 2, 3, SHARED_GROUP]
}

#[test]
fn eight_threads_writers_and_cursors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stress.db");
    let page_size = std::env::var("HDB_STRESS_PAGE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let pager = Arc::new(Pager::create(&path, PagerOptions { page_size }).unwrap());
    let tree = BTree::create(&pager, "stress").unwrap();
    let mut stable = BTreeMap::new();
    for g in groups() {
        for n in (0..KEYS_PER_GROUP).step_by(7) {
            let k = key(g, n, STABLE_OWNER);
            tree.insert(&k, &stable_value(&k)).unwrap();
            stable.insert(k.clone(), stable_value(&k));
        }
    }
    let stable = Arc::new(stable);
    let stop = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = mpsc::channel::<Result<BTreeMap<Vec<u8>, Vec<u8>>, String>>();
    let mut handles = Vec::new();

    for w in 0..WRITERS {
        let (tree, tx) = (tree.clone(), done_tx.clone());
        handles.push(std::thread::spawn(move || {
            let mut rng = StdRng::seed_from_u64(w as u64 + 1);
            let (group, owner) = if w < 4 {
                (w as u8, 0)
            } else {
                (SHARED_GROUP, w as u8)
            };
            let mut model = BTreeMap::new();
            let result = (|| {
                for _ in 0..ops() {
                    let k = key(group, rng.random_range(0..KEYS_PER_GROUP), owner);
                    if rng.random_bool(0.6) {
                        let v = value(&mut rng);
                        let replaced = tree.insert(&k, &v).map_err(|e| e.to_string())?;
                        if replaced != model.insert(k.clone(), v).is_some() {
                            return Err(format!(
                                "writer {w}: insert reported the wrong prior state"
                            ));
                        }
                    } else {
                        let deleted = tree.delete(&k).map_err(|e| e.to_string())?;
                        if deleted != model.remove(&k).is_some() {
                            return Err(format!(
                                "writer {w}: delete reported the wrong prior state"
                            ));
                        }
                    }
                    if rng.random_bool(0.05) {
                        let got = tree.get(&k).map_err(|e| e.to_string())?;
                        if got.as_ref() != model.get(&k) {
                            return Err(format!("writer {w}: read its own key wrong"));
                        }
                    }
                }
                Ok(model)
            })();
            tx.send(result).unwrap();
        }));
    }

    for r in 0..READERS {
        let (tree, stable, stop, tx) =
            (tree.clone(), stable.clone(), stop.clone(), done_tx.clone());
        handles.push(std::thread::spawn(move || {
            let mut rng = StdRng::seed_from_u64(100 + r as u64);
            let result = (|| {
                let mut scans = 0u64;
                while !stop.load(Ordering::Relaxed) || scans < 20 {
                    let g = groups()[rng.random_range(0..groups().len())];
                    let a = rng.random_range(0..KEYS_PER_GROUP);
                    let b = (a + rng.random_range(1..400)).min(KEYS_PER_GROUP);
                    let (lo, hi) = (key(g, a, 0), key(g, b, 0));
                    let dir = if rng.random_bool(0.5) {
                        Direction::Forward
                    } else {
                        Direction::Reverse
                    };
                    let mut seen = Vec::new();
                    for e in tree.range(lo.as_slice()..hi.as_slice(), dir) {
                        let (k, v) = e.map_err(|e| e.to_string())?;
                        if k < lo || k >= hi {
                            return Err(format!("reader {r}: key outside the range"));
                        }
                        // Writers' values are runs `s, s+1, s+2, ...`: a torn or misplaced
                        // value would break the run.
                        let intact = v
                            .iter()
                            .enumerate()
                            .all(|(i, b)| *b == v[0].wrapping_add(i as u8));
                        if k.last() != Some(&STABLE_OWNER) && !intact {
                            return Err(format!("reader {r}: torn value"));
                        }
                        if k.last() == Some(&STABLE_OWNER) {
                            if v != stable_value(&k) {
                                return Err(format!("reader {r}: stable key with a wrong value"));
                            }
                            seen.push(k);
                        }
                    }
                    if dir == Direction::Reverse {
                        seen.reverse();
                    }
                    let want: Vec<Vec<u8>> = stable
                        .range(lo.clone()..hi.clone())
                        .map(|(k, _)| k.clone())
                        .collect();
                    if seen != want {
                        return Err(format!(
                            "reader {r}: saw {} stable keys of {}",
                            seen.len(),
                            want.len()
                        ));
                    }
                    let probe = key(g, a - a % 7, STABLE_OWNER);
                    if tree.get(&probe).map_err(|e| e.to_string())?.as_ref() != stable.get(&probe) {
                        return Err(format!("reader {r}: point read of a stable key failed"));
                    }
                    scans += 1;
                }
                Ok(BTreeMap::new())
            })();
            tx.send(result).unwrap();
        }));
    }
    drop(done_tx);

    // Writers finish first; then readers are told to stop. Flush in between.
    let deadline = Duration::from_secs(
        std::env::var("HDB_STRESS_TIMEOUT_S")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(120),
    );
    let start = std::time::Instant::now();
    let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = (*stable).clone();
    let mut finished = 0;
    while finished < WRITERS + READERS {
        match done_rx.recv_timeout(Duration::from_millis(5)) {
            Ok(result) => {
                merged.extend(result.unwrap_or_else(|e| panic!("{e}")));
                finished += 1;
                if finished == WRITERS {
                    stop.store(true, Ordering::Relaxed);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                assert!(
                    start.elapsed() < deadline,
                    "no progress for {deadline:?}: deadlock?"
                );
                pager.flush().unwrap();
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("a thread panicked"),
        }
    }
    for h in handles {
        h.join().unwrap();
    }

    let all: Vec<(Vec<u8>, Vec<u8>)> = tree.iter().map(|e| e.unwrap()).collect();
    let want: Vec<(Vec<u8>, Vec<u8>)> = merged.into_iter().collect();
    assert_eq!(all.len(), want.len());
    assert!(all == want, "final tree differs from the merged model");
    let report = check_file_integrity(&pager, &[]).unwrap();
    assert!(
        report.trees[0].1.depth >= 2,
        "the tree should have grown: {report:?}"
    );

    drop(tree);
    Arc::try_unwrap(pager).unwrap().close().unwrap();
    let pager = Arc::new(Pager::open(&path).unwrap());
    let tree = BTree::open(&pager, "stress").unwrap();
    let again: Vec<(Vec<u8>, Vec<u8>)> = tree.iter().map(|e| e.unwrap()).collect();
    assert!(again == want, "reopened tree differs");
    check_file_integrity(&pager, &[]).unwrap();
}
