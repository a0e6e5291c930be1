//! Group commit: concurrent committers share syncs. These tests count syncs; they never
//! time anything.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use engine::wal::{CommitRecord, Durability, Lsn, Record, SimWalStorage, Wal, WalOptions, Write};

const THREADS: u64 = 8;
const COMMITS_PER_THREAD: u64 = 100;
/// A simulated flush latency, so that committers queue while the writer syncs.
const SYNC_DELAY: Duration = Duration::from_micros(500);

fn record(thread: u64, i: u64) -> CommitRecord {
    let key = format!("t{thread}-{i}").into_bytes();
    CommitRecord {
        parts: Vec::new(),
        commit_ts: thread * 1_000_000 + i,
        writes: vec![Write::put(1, key, vec![7u8; 40])],
    }
}

/// Runs `THREADS` committers, each committing `COMMITS_PER_THREAD` records durably, and
/// returns every (thread, i, lsn).
fn run_committers(wal: &Arc<Wal>) -> Vec<(u64, u64, Lsn)> {
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let wal = Arc::clone(wal);
            thread::spawn(move || {
                (0..COMMITS_PER_THREAD)
                    .map(|i| {
                        (
                            t,
                            i,
                            wal.append_commit(&record(t, i)).unwrap().wait().unwrap(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

#[test]
fn concurrent_commits_share_syncs() {
    let sim = SimWalStorage::new();
    sim.set_sync_delay(SYNC_DELAY);
    let wal = Arc::new(Wal::open(Arc::new(sim.clone()), WalOptions::default()).unwrap());
    let file_syncs_before = sim.file_syncs();
    let committed = run_committers(&wal);

    let appends = THREADS * COMMITS_PER_THREAD;
    let syncs = wal.syncs();
    println!(
        "group commit: {appends} durable commits from {THREADS} threads took {syncs} syncs \
         in {} batches ({:.1} commits per sync)",
        wal.batches(),
        appends as f64 / syncs as f64
    );
    assert_eq!(committed.len() as u64, appends);
    assert!(
        syncs < appends,
        "{syncs} syncs for {appends} commits: no batching"
    );
    assert_eq!(
        sim.file_syncs() - file_syncs_before,
        syncs,
        "the storage saw the same syncs"
    );
    assert_eq!(wal.durable_lsn(), wal.end_lsn());

    // LSNs are unique, and each thread's commits are in its own order.
    let mut lsns: Vec<Lsn> = committed.iter().map(|c| c.2).collect();
    lsns.sort();
    lsns.dedup();
    assert_eq!(lsns.len() as u64, appends);
    for t in 0..THREADS {
        let mine: Vec<Lsn> = committed.iter().filter(|c| c.0 == t).map(|c| c.2).collect();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "thread {t} out of order"
        );
    }

    // The log holds exactly those records, in LSN order.
    let wal = Arc::into_inner(wal).unwrap();
    drop(wal);
    let mut replayed = Vec::new();
    let _wal = Wal::recover(
        Arc::new(sim),
        WalOptions::default(),
        Lsn::ZERO,
        |lsn, record| {
            let Record::Commit(c) = record else {
                return Ok(()); // a part: read with the commit that names it
            };
            replayed.push((lsn, c));
            Ok(())
        },
    )
    .unwrap();
    let mut expected: Vec<(Lsn, CommitRecord)> = committed
        .iter()
        .map(|&(t, i, lsn)| (lsn, record(t, i)))
        .collect();
    expected.sort_by_key(|e| e.0);
    assert_eq!(replayed, expected);
}

#[test]
fn one_committer_syncs_once_per_commit() {
    let sim = SimWalStorage::new();
    let wal = Wal::open(Arc::new(sim), WalOptions::default()).unwrap();
    let before = wal.syncs();
    for i in 0..20 {
        wal.commit(&record(0, i)).unwrap();
    }
    assert_eq!(
        wal.syncs() - before,
        20,
        "Full durability syncs every lone commit"
    );
}

#[test]
fn tickets_can_be_waited_on_after_the_ordering_lock_is_released() {
    // The MVCC layer appends under its ordering lock and waits outside it: appends made
    // back to back, then waited on, are batched and resolve in LSN order.
    let sim = SimWalStorage::new();
    sim.set_sync_delay(SYNC_DELAY);
    let wal = Wal::open(Arc::new(sim), WalOptions::default()).unwrap();
    let before = wal.syncs();
    let tickets: Vec<_> = (0..50)
        .map(|i| wal.append_commit(&record(0, i)).unwrap())
        .collect();
    let lsns: Vec<Lsn> = tickets.iter().map(|t| t.lsn()).collect();
    assert!(lsns.windows(2).all(|w| w[0] < w[1]));
    let waited: Vec<Lsn> = tickets.into_iter().map(|t| t.wait().unwrap()).collect();
    assert_eq!(waited, lsns);
    assert!(wal.syncs() - before < 50);
}

#[test]
fn concurrent_commits_on_a_real_directory() {
    // The same workload against the file system: every ticket resolves, in order. The
    // sync count is printed, not asserted: on tmpfs a sync costs nothing and batching
    // depends on scheduling alone.
    let dir = tempfile::tempdir().unwrap();
    let wal = Arc::new(Wal::open_dir(&dir.path().join("wal"), WalOptions::default()).unwrap());
    let before = wal.syncs();
    let committed = run_committers(&wal);
    let syncs = wal.syncs() - before;
    println!(
        "group commit on {}: {} durable commits from {THREADS} threads took {syncs} syncs",
        dir.path().display(),
        committed.len()
    );
    assert!(syncs <= committed.len() as u64);
    let mut lsns: Vec<Lsn> = committed.iter().map(|c| c.2).collect();
    lsns.sort();
    lsns.dedup();
    assert_eq!(lsns.len(), committed.len());
    assert_eq!(wal.durable_lsn(), wal.end_lsn());
}

#[test]
fn records_nobody_waits_for_are_written_by_the_next_waiter_and_by_close() {
    // Appending only queues a record; whoever waits next writes the whole queue, and
    // closing the log writes and syncs what is still queued.
    let sim = SimWalStorage::new();
    let options = WalOptions {
        durability: Durability::Off,
        ..WalOptions::default()
    };
    let wal = Wal::open(Arc::new(sim.clone()), options).unwrap();
    let unwaited: Vec<Lsn> = (0..5)
        .map(|i| wal.append_commit(&record(0, i)).unwrap().lsn())
        .collect();
    assert_eq!(wal.written_lsn(), Lsn::ZERO, "appending writes nothing");
    let waited = wal.append_commit(&record(1, 0)).unwrap();
    let end = waited.end();
    waited.wait().unwrap();
    assert_eq!(
        wal.written_lsn(),
        end,
        "the waiter wrote the records before its own"
    );
    let last = wal.append_commit(&record(2, 0)).unwrap();
    drop(last);
    wal.close().unwrap();
    let mut lsns = Vec::new();
    let reopened = Wal::recover(Arc::new(sim), options, Lsn::ZERO, |lsn, record| {
        let Record::Commit(_) = record else {
            return Ok(()); // a part: read with the commit that names it
        };
        lsns.push(lsn);
        Ok(())
    })
    .unwrap();
    assert_eq!(lsns.len(), 7, "close wrote the record nobody waited for");
    assert_eq!(&lsns[..5], &unwaited[..]);
    drop(reopened);
}
